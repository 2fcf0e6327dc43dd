"""Scenario files: parse, check and normalise them (schema in ../README.md).

Parsing is strict: an unknown key or a wrong type is a ``ScenarioError`` naming
its location, because a typo in a test scenario otherwise turns into a test
that silently checks the wrong thing.  Values that need randomness (ids,
passwords, default timestamps) are left as ``None`` here and filled in from the
seeded generator when the state is built.
"""

from __future__ import annotations

import dataclasses
import os

import yaml

from . import vocab
from .clock import parse_iso
from .errors import ScenarioError
from .faults import parse_faults
from .schema import MAX_SECONDS, Fields

EARLIEST, LATEST = 0.0, parse_iso("2999-12-31T00:00:00Z")
MAX_GENERATED = 100000  # tasks per generate entry; each costs memory
SCENARIO_KEYS = ("seed", "users", "tokens", "latency", "not_found_status", "tasks", "faults")
LATENCY_KINDS = ("login", "refresh", "revoke", "get", "patch", "delete")
OUTCOME_STATUSES = ("SUCCESSFUL", "FAILED", "INCONSISTENT")
# Keys of an error entry mirror the API's Error object (camelCase), plus
# ``subtask`` saying which sub-task carries it (absent: the task itself).
ERROR_KEYS = ("subtask", "errorCode", "errorType", "message", "remediationMessage",
              "referenceToken", "arguments", "context", "causes", "nestedErrors")


@dataclasses.dataclass
class Scenario:
    seed: int = 0
    users: list = dataclasses.field(default_factory=list)
    access_lifetime: float = 3600.0
    refresh_lifetime: float = 86400.0
    latency: dict = dataclasses.field(default_factory=dict)
    not_found_status: int = 404
    tasks: list = dataclasses.field(default_factory=list)
    faults: list = dataclasses.field(default_factory=list)


DEFAULT_USER = {"username": "administrator@vsphere.local", "password": "VMware1!VMware1!", "role": "ADMIN"}


def load(source):
    """Accept a ``Scenario``, a mapping, or a path to a YAML/JSON file."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
        try:
            # YAML 1.2 is a superset of JSON, so one loader serves both.
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScenarioError("%s: not valid YAML/JSON: %s" % (source, exc)) from exc
        return parse(data if data is not None else {})
    return parse(source)


def parse(data):
    fields = Fields(data, "scenario", SCENARIO_KEYS)
    scenario = Scenario()
    scenario.seed = fields.get("seed", int, 0)
    scenario.users = _parse_users(fields.get("users", list, [DEFAULT_USER]))
    tokens = Fields(fields.get("tokens", dict, {}), "tokens", ("access_lifetime", "refresh_lifetime"))
    scenario.access_lifetime = tokens.get("access_lifetime", "number", 3600.0, positive=True, maximum=MAX_SECONDS)
    scenario.refresh_lifetime = tokens.get("refresh_lifetime", "number", 86400.0, positive=True,
                                           maximum=MAX_SECONDS)
    latency = Fields(fields.get("latency", dict, {}), "latency", LATENCY_KINDS)
    scenario.latency = {kind: latency.get(kind, "number", 0.0, non_negative=True, maximum=MAX_SECONDS)
                        for kind in LATENCY_KINDS}
    scenario.not_found_status = fields.get("not_found_status", int, 404, choices=(400, 404))
    scenario.tasks = parse_tasks(fields.get("tasks", list, []))
    scenario.faults = parse_faults(fields.get("faults", list, []))
    return scenario


def _parse_users(items):
    users, seen = [], set()
    for index, item in enumerate(items):
        where = "users[%d]" % index
        user = Fields(item, where, ("username", "password", "role"))
        name = user.get("username", str)
        if name in seen:
            raise ScenarioError("%s: duplicate username %r" % (where, name))
        seen.add(name)
        users.append({
            "username": name,
            "password": user.get("password", str),
            "role": user.get("role", str, "ADMIN", choices=vocab.ROLES),
        })
    return users


def parse_tasks(items, where="tasks"):
    """Normalise a ``tasks`` list; ``generate`` entries expand into many tasks."""
    if not isinstance(items, list):
        raise ScenarioError("%s: expected a list" % where)
    tasks, names_used = [], {}
    for index, item in enumerate(items):
        here = "%s[%d]" % (where, index)
        if isinstance(item, dict) and "generate" in item:
            if len(item) != 1:
                raise ScenarioError("%s: a generate entry holds only the 'generate' key" % here)
            tasks.extend(_generate(item["generate"], here + ".generate", names_used))
        else:
            tasks.append(_parse_task(item, here))
    ids = [task["id"] for task in tasks if task["id"] is not None]
    if len(ids) != len(set(ids)):
        raise ScenarioError("%s: task ids must be unique" % where)
    return tasks


_TASK_KEYS = ("id", "name", "type", "status", "created", "run_seconds", "pending_seconds",
              "outcomes", "resources", "errors", "auto_rotate")


def _parse_task(item, where):
    fields = Fields(item, where, _TASK_KEYS)
    task_type = fields.get("type", str, choices=vocab.TASK_TYPES)
    resources = [_parse_resource(res, "%s.resources[%d]" % (where, i))
                 for i, res in enumerate(fields.get("resources", list, nonempty=True))]
    return _task_common(fields, where, task_type, resources, task_id=fields.get("id", str, None),
                        name=fields.get("name", str, None), created=fields.get("created", str, None))


def _task_common(fields, where, task_type, resources, task_id, name, created):
    """Fields shared by hand-written and generated tasks."""
    n_subtasks = sum(len(res["credentials"]) for res in resources)
    run_seconds = fields.get("run_seconds", "number", 1.0, non_negative=True, nullable=True,
                             maximum=MAX_SECONDS)
    pending_seconds = fields.get("pending_seconds", "number", 0.0, non_negative=True, maximum=MAX_SECONDS)
    if run_seconds is not None and pending_seconds > run_seconds:
        raise ScenarioError("%s: pending_seconds must not exceed run_seconds" % where)
    errors = fields.get("errors", list, None)
    if created is not None:
        try:
            created = parse_iso(created)
        except ValueError as exc:
            raise ScenarioError("%s.created: not an ISO-8601 timestamp: %s" % (where, exc)) from exc
        if not EARLIEST <= created <= LATEST:
            raise ScenarioError("%s.created: must lie between 1970 and 2999" % where)
    return {
        "id": task_id,
        "name": name or vocab.TASK_NAMES[task_type],
        "type": task_type,
        "status": fields.get("status", str, "FAILED", choices=vocab.TASK_STATUSES),
        "created": created,
        "run_seconds": run_seconds,
        "pending_seconds": pending_seconds,
        "outcomes": _parse_outcomes(fields.get("outcomes", list, ["SUCCESSFUL"], nonempty=True),
                                    where + ".outcomes", n_subtasks),
        "resources": resources,
        "errors": None if errors is None else _parse_errors(errors, where + ".errors", n_subtasks),
        "auto_rotate": fields.get("auto_rotate", bool, False),
    }


def _parse_resource(item, where):
    fields = Fields(item, where, ("name", "id", "type", "fqdn", "credentials"))
    name = fields.get("name", str)
    credentials = [_parse_credential(cred, "%s.credentials[%d]" % (where, i))
                   for i, cred in enumerate(fields.get("credentials", list, nonempty=True))]
    keys = [(c["username"], c["credential_type"]) for c in credentials]
    if len(keys) != len(set(keys)):
        raise ScenarioError("%s: each (username, credential_type) may appear once" % where)
    return {
        "name": name,
        "id": fields.get("id", str, None),
        "type": fields.get("type", str, choices=vocab.RESOURCE_TYPES),
        "fqdn": fields.get("fqdn", str, name),
        "credentials": credentials,
    }


def _parse_credential(item, where):
    fields = Fields(item, where, ("credential_type", "account_type", "username", "password", "new_password"))
    return {
        "credential_type": fields.get("credential_type", str, choices=vocab.CREDENTIAL_TYPES),
        "account_type": fields.get("account_type", str, "USER", choices=vocab.ACCOUNT_TYPES),
        "username": fields.get("username", str),
        # Password before the task's latest run; generated when absent.
        "password": fields.get("password", str, None),
        # Password an UPDATE/REMEDIATE task sets; generated when absent.
        "new_password": fields.get("new_password", str, None),
    }


def _parse_outcomes(items, where, n_subtasks):
    outcomes = []
    for index, item in enumerate(items):
        here = "%s[%d]" % (where, index)
        if isinstance(item, str):
            item = {"status": item}
        fields = Fields(item, here, ("status", "errors"))
        status = fields.get("status", str, choices=OUTCOME_STATUSES)
        errors = fields.get("errors", list, [])
        if status == "SUCCESSFUL" and errors:
            raise ScenarioError("%s: a SUCCESSFUL outcome carries no errors" % here)
        outcomes.append({"status": status, "errors": _parse_errors(errors, here + ".errors", n_subtasks)})
    return outcomes


def _parse_errors(items, where, n_subtasks):
    errors = []
    for index, item in enumerate(items):
        here = "%s[%d]" % (where, index)
        fields = Fields(item, here, ERROR_KEYS)
        subtask = fields.get("subtask", int, None, nullable=True)
        if subtask is not None and not 0 <= subtask < n_subtasks:
            raise ScenarioError("%s.subtask: %d is out of range (task has %d sub-tasks)"
                                % (here, subtask, n_subtasks))
        errors.append({
            "subtask": subtask,
            "errorCode": fields.get("errorCode", str, None),
            "errorType": fields.get("errorType", str, None),
            "message": fields.get("message", str, None),
            "remediationMessage": fields.get("remediationMessage", str, None),
            "referenceToken": fields.get("referenceToken", str, None),
            "arguments": fields.get("arguments", list, []),
            "context": fields.get("context", dict, {}),
            "causes": fields.get("causes", list, []),
            "nestedErrors": fields.get("nestedErrors", list, []),
        })
    return errors


_GENERATE_KEYS = ("count", "type", "status", "run_seconds", "pending_seconds", "resource_type",
                  "resources_per_task", "outcomes", "errors", "auto_rotate")


def _generate(item, where, names_used):
    """Expand a bulk-generation entry (for benchmarks) into ``count`` task specs."""
    fields = Fields(item, where, _GENERATE_KEYS)
    count = fields.get("count", int, positive=True, maximum=MAX_GENERATED)
    task_type = fields.get("type", str, "ROTATE", choices=vocab.TASK_TYPES)
    resource_type = fields.get("resource_type", str, "ESXI", choices=vocab.RESOURCE_TYPES)
    per_task = fields.get("resources_per_task", int, 1, positive=True)
    username, credential_type, account_type = vocab.DEFAULT_ACCOUNT[resource_type]
    prefix = resource_type.lower().replace("_", "-")
    tasks = []
    for _task_number in range(count):
        resources = []
        for _resource_number in range(per_task):
            # Numbered per resource type across the whole scenario, so names stay unique.
            names_used[prefix] = names_used.get(prefix, 0) + 1
            name = "%s-%04d.sim.vcf.local" % (prefix, names_used[prefix])
            resources.append({
                "name": name, "id": None, "type": resource_type, "fqdn": name,
                "credentials": [{"credential_type": credential_type, "account_type": account_type,
                                 "username": username, "password": None, "new_password": None}],
            })
        tasks.append(_task_common(fields, where, task_type, resources, None, None, None))
    return tasks
