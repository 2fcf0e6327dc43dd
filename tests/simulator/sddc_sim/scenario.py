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
import re

import yaml

from . import vocab
from .clock import parse_iso
from .errors import ScenarioError
from .faults import parse_faults
from .schema import MAX_SECONDS, Fields

EARLIEST, LATEST = 0.0, parse_iso("2999-12-31T00:00:00Z")
MAX_GENERATED = 100000  # tasks per generate entry; each costs memory
SCENARIO_KEYS = ("seed", "users", "tokens", "latency", "not_found_status", "tasks", "faults",
                 "release", "stale_reads", "generic_status", "resources", "operations", "list_order",
                 "subtask_fields")
# domainNames of a resource that neither a resources entry nor anything else names.
DEFAULT_DOMAINS = ("sddc-mgmt-domain",)
MAX_AUTO_ROTATE_DAYS = 90
LATENCY_KINDS = ("login", "refresh", "revoke", "get", "patch", "delete")
OUTCOME_STATUSES = vocab.END_STATUSES
REFRESH_ANSWERS = ("json", "text")
# Keys of an error entry mirror the API's Error object (camelCase), plus
# ``subtask`` saying which sub-task carries it (absent: the task itself) and
# ``dependent`` (the error sits on a dependent sub-task of that sub-task).
ERROR_KEYS = ("subtask", "dependent", "errorCode", "errorType", "message", "remediationMessage",
              "referenceToken", "arguments", "context", "causes", "nestedErrors", "notifications",
              "label", "remediationUrl")
# Keys that describe how a run ends; an outcome has them, and so does a task
# for the state it is loaded in.
END_KEYS = ("status_word", "errors", "completion_timestamp", "subtask_status", "failing_subtasks")
# A status word a disagreeing server might send: letters, digits, "_" and spaces.
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]{0,63}$")
NO_ERRORS = "none"
# The order GET /v1/credentials/tasks answers in: SDDC Manager's (newest first), or one a client must not trust.
LIST_ORDERS = ("newest", "oldest", "shuffled")
# What a credentials sub-task carries: every field (what 9.x answers), or only those the spec requires (see api).
SUBTASK_FIELDS = ("full", "sparse")
MAX_STALE_READS = 1000


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
    release: str = vocab.DEFAULT_RELEASE
    stale_reads: int = 0
    refresh_answer: str = "json"
    login_status: int = 200
    generic_case: str = "title"
    generic_queued: bool = False
    resources: list = dataclasses.field(default_factory=list)
    operations: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_OPERATIONS))
    list_order: str = "newest"
    subtask_fields: str = "full"


DEFAULT_OPERATIONS = {"run_seconds": 1.0, "pending_seconds": 0.0, "rules": []}


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
    scenario.release = _parse_release(fields.raw("release", vocab.DEFAULT_RELEASE))
    scenario.stale_reads = fields.get("stale_reads", int, 0, non_negative=True, maximum=MAX_STALE_READS)
    generic = Fields(fields.get("generic_status", dict, {}), "generic_status", ("case", "queued"))
    scenario.generic_case = generic.get("case", str, "title", choices=vocab.GENERIC_CASES)
    # 9.1 added QUEUED/Queued to the generic enum; it then stands for a PENDING run.
    scenario.generic_queued = generic.get("queued", bool, scenario.release == "9.1")
    scenario.users = _parse_users(fields.get("users", list, [DEFAULT_USER]))
    tokens = Fields(fields.get("tokens", dict, {}), "tokens", ("access_lifetime", "refresh_lifetime",
                                                               "refresh_answer", "login_status"))
    scenario.refresh_answer = tokens.get("refresh_answer", str, "json", choices=REFRESH_ANSWERS)
    # Real servers answer a login 200; the spec says 201.
    scenario.login_status = tokens.get("login_status", int, 200, choices=(200, 201))
    scenario.access_lifetime = tokens.get("access_lifetime", "number", 3600.0, positive=True, maximum=MAX_SECONDS)
    scenario.refresh_lifetime = tokens.get("refresh_lifetime", "number", 86400.0, positive=True,
                                           maximum=MAX_SECONDS)
    latency = Fields(fields.get("latency", dict, {}), "latency", LATENCY_KINDS)
    scenario.latency = {kind: latency.get(kind, "number", 0.0, non_negative=True, maximum=MAX_SECONDS)
                        for kind in LATENCY_KINDS}
    scenario.not_found_status = fields.get("not_found_status", int, 404, choices=(400, 404))
    scenario.list_order = fields.get("list_order", str, "newest", choices=LIST_ORDERS)
    scenario.subtask_fields = fields.get("subtask_fields", str, "full", choices=SUBTASK_FIELDS)
    scenario.tasks = parse_tasks(fields.get("tasks", list, []), release=scenario.release,
                                 stale_reads=scenario.stale_reads)
    scenario.faults = parse_faults(fields.get("faults", list, []))
    scenario.resources = parse_resources(fields.get("resources", list, []))
    scenario.operations = _parse_operations(fields.get("operations", dict, {}), "operations",
                                            {"release": scenario.release, "stale_reads": scenario.stale_reads})
    return scenario


def _parse_release(value):
    # YAML reads an unquoted 9.1 as a number; accept it as the release it names.
    if isinstance(value, float):
        value = "%.1f" % value
    elif isinstance(value, int) and not isinstance(value, bool):
        value = "%d.0" % value
    if value not in vocab.RELEASES:
        raise ScenarioError("scenario.release: %r is not one of %s" % (value, ", ".join(vocab.RELEASES)))
    return value


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


def parse_tasks(items, where="tasks", release=vocab.DEFAULT_RELEASE, stale_reads=0):
    """Normalise a ``tasks`` list; ``generate`` entries expand into many tasks.

    ``release`` decides whether error entries may carry ``notifications``;
    ``stale_reads`` is the scenario's default for the tasks' own key.
    """
    if not isinstance(items, list):
        raise ScenarioError("%s: expected a list" % where)
    context = {"release": release, "stale_reads": stale_reads}
    tasks, names_used = [], {}
    for index, item in enumerate(items):
        here = "%s[%d]" % (where, index)
        if isinstance(item, dict) and "generate" in item:
            if len(item) != 1:
                raise ScenarioError("%s: a generate entry holds only the 'generate' key" % here)
            tasks.extend(_generate(item["generate"], here + ".generate", names_used, context))
        else:
            tasks.append(_parse_task(item, here, context))
    ids = [task["id"] for task in tasks if task["id"] is not None]
    if len(ids) != len(set(ids)):
        raise ScenarioError("%s: task ids must be unique" % where)
    return tasks


_TASK_KEYS = ("id", "name", "type", "status", "created", "run_seconds", "pending_seconds",
              "outcomes", "resources", "errors", "auto_rotate", "stale_reads", "retry_new_id") + END_KEYS


def _parse_task(item, where, context):
    fields = Fields(item, where, _TASK_KEYS)
    task_type = fields.get("type", str, choices=vocab.TASK_TYPES)
    resources = [_parse_resource(res, "%s.resources[%d]" % (where, i))
                 for i, res in enumerate(fields.get("resources", list, nonempty=True))]
    return _task_common(fields, where, task_type, resources, context, task_id=fields.get("id", str, None),
                        name=fields.get("name", str, None), created=fields.get("created", str, None))


def _task_common(fields, where, task_type, resources, context, task_id, name, created):
    """Fields shared by hand-written and generated tasks."""
    n_subtasks = sum(len(res["credentials"]) for res in resources)
    run_seconds = fields.get("run_seconds", "number", 1.0, non_negative=True, nullable=True,
                             maximum=MAX_SECONDS)
    pending_seconds = fields.get("pending_seconds", "number", 0.0, non_negative=True, maximum=MAX_SECONDS)
    if run_seconds is not None and pending_seconds > run_seconds:
        raise ScenarioError("%s: pending_seconds must not exceed run_seconds" % where)
    if created is not None:
        try:
            created = parse_iso(created)
        except ValueError as exc:
            raise ScenarioError("%s.created: not an ISO-8601 timestamp: %s" % (where, exc)) from exc
        if not EARLIEST <= created <= LATEST:
            raise ScenarioError("%s.created: must lie between 1970 and 2999" % where)
    # The state the task is loaded in: a running status, or how its last run ended.
    initial = _parse_end(fields, where, n_subtasks, context, "FAILED", vocab.RUNNING + OUTCOME_STATUSES)
    return {
        "id": task_id,
        "name": name or vocab.TASK_NAMES[task_type],
        "type": task_type,
        "status": initial["status"],
        "initial": initial,
        "created": created,
        "run_seconds": run_seconds,
        "pending_seconds": pending_seconds,
        "outcomes": _parse_outcomes(fields.get("outcomes", list, ["SUCCESSFUL"], nonempty=True),
                                    where + ".outcomes", n_subtasks, context),
        "resources": resources,
        "errors": initial["errors"],
        "auto_rotate": fields.get("auto_rotate", bool, False),
        "stale_reads": fields.get("stale_reads", int, context["stale_reads"], non_negative=True,
                                  maximum=MAX_STALE_READS),
        "retry_new_id": fields.get("retry_new_id", bool, False),
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
        "type": fields.get("type", str, choices=vocab.ALL_RESOURCE_TYPES),
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


def _parse_outcomes(items, where, n_subtasks, context):
    outcomes = []
    for index, item in enumerate(items):
        here = "%s[%d]" % (where, index)
        if isinstance(item, str):
            item = {"status": item}
        fields = Fields(item, here, ("status",) + END_KEYS)
        outcomes.append(_parse_end(fields, here, n_subtasks, context, None, OUTCOME_STATUSES))
    return outcomes


def _word(fields, key, where):
    word = fields.get(key, str, None)
    if word is not None and not _WORD.match(word):
        raise ScenarioError("%s.%s: %r is not a status word (letters, digits, '_' and spaces, at most 64)"
                            % (where, key, word))
    return word


def _parse_end(fields, where, n_subtasks, context, default_status, choices):
    """How a run ends: ``status`` (or any ``status_word``) and the options of END_KEYS.

    ``errors`` absent: a default error on sub-task 0 unless the end is quiet
    (SUCCESSFUL, COMPLETED_WITH_WARNING); ``errors: none`` or ``[]``: no
    error anywhere.
    """
    word = _word(fields, "status_word", where)
    if word is not None:
        if "status" in fields:
            raise ScenarioError("%s: give status or status_word, not both" % where)
        if word in vocab.RUNNING:
            raise ScenarioError("%s.status_word: %s does not end a run; use run_seconds: null for a run "
                                "that never ends" % (where, word))
        status = word
    else:
        status = fields.get("status", str, default_status, choices=choices)
    errors = fields.raw("errors")
    if errors == NO_ERRORS:
        errors = []
    elif errors is not None and not isinstance(errors, list):
        raise ScenarioError("%s.errors: expected a list or %r, got %r" % (where, NO_ERRORS, errors))
    elif errors is not None:
        errors = _parse_errors(errors, where + ".errors", n_subtasks, context)
    # A task loaded SUCCESSFUL has always ignored its errors; an outcome is stricter.
    if status == "SUCCESSFUL" and errors and default_status is None:
        raise ScenarioError("%s: a SUCCESSFUL outcome carries no errors" % where)
    failing = fields.get("failing_subtasks", list, [])
    for index, value in enumerate(failing):
        if n_subtasks is None:
            # Operation rules: the operation's sub-tasks are not known yet.
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ScenarioError("%s.failing_subtasks[%d]: expected a sub-task index (0 or more)"
                                    % (where, index))
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_subtasks:
            raise ScenarioError("%s.failing_subtasks[%d]: expected a sub-task index from 0 to %d"
                                % (where, index, n_subtasks - 1))
    return {
        "status": status,
        "errors": errors,
        "completion_timestamp": fields.get("completion_timestamp", bool, True),
        "subtask_status": _word(fields, "subtask_status", where),
        "failing_subtasks": sorted(set(failing)),
    }


def _parse_errors(items, where, n_subtasks, context):
    errors = []
    for index, item in enumerate(items):
        here = "%s[%d]" % (where, index)
        fields = Fields(item, here, ERROR_KEYS)
        subtask = fields.get("subtask", int, None, nullable=True)
        if subtask is not None and n_subtasks is None and subtask < 0:
            raise ScenarioError("%s.subtask: must not be negative" % here)
        if subtask is not None and n_subtasks is not None and not 0 <= subtask < n_subtasks:
            raise ScenarioError("%s.subtask: %d is out of range (task has %d sub-tasks)"
                                % (here, subtask, n_subtasks))
        dependent = fields.get("dependent", bool, False)
        if dependent and subtask is None:
            raise ScenarioError("%s.dependent: needs subtask (the sub-task the dependent one hangs under)" % here)
        notifications = fields.get("notifications", list, None)
        if notifications is not None:
            if context["release"] not in vocab.NOTIFICATION_RELEASES:
                raise ScenarioError("%s.notifications: only release %s sends notifications (this scenario is %s)"
                                    % (here, " and ".join(vocab.NOTIFICATION_RELEASES), context["release"]))
            notifications = [_parse_notification(n, "%s.notifications[%d]" % (here, i))
                             for i, n in enumerate(notifications)]
        errors.append({
            "subtask": subtask,
            "dependent": dependent,
            "notifications": notifications,
            "errorCode": fields.get("errorCode", str, None),
            "errorType": fields.get("errorType", str, None),
            "message": fields.get("message", str, None),
            "remediationMessage": fields.get("remediationMessage", str, None),
            "referenceToken": fields.get("referenceToken", str, None),
            "arguments": fields.get("arguments", list, []),
            "context": fields.get("context", dict, {}),
            "causes": fields.get("causes", list, []),
            "nestedErrors": fields.get("nestedErrors", list, []),
            "label": fields.get("label", str, None),
            "remediationUrl": fields.get("remediationUrl", str, None),
        })
    return errors


def _parse_notification(item, where):
    fields = Fields(item, where, ("severity", "message", "impactMessage", "remediations"))
    remediations = []
    for index, entry in enumerate(fields.get("remediations", list, [])):
        remedy = Fields(entry, "%s.remediations[%d]" % (where, index), ("message", "link"))
        remediations.append({"message": remedy.get("message", str), "link": remedy.get("link", str)})
    notification = {
        "severity": fields.get("severity", str, "ERROR", choices=vocab.NOTIFICATION_SEVERITIES),
        "message": fields.get("message", str),
        "remediations": remediations,
    }
    impact = fields.get("impactMessage", str, None)
    if impact is not None:
        notification["impactMessage"] = impact
    return notification


_GENERATE_KEYS = ("count", "type", "status", "run_seconds", "pending_seconds", "resource_type",
                  "resources_per_task", "outcomes", "errors", "auto_rotate", "stale_reads",
                  "retry_new_id") + END_KEYS


def _generate(item, where, names_used, context):
    """Expand a bulk-generation entry (for benchmarks) into ``count`` task specs."""
    fields = Fields(item, where, _GENERATE_KEYS)
    count = fields.get("count", int, positive=True, maximum=MAX_GENERATED)
    task_type = fields.get("type", str, "ROTATE", choices=vocab.TASK_TYPES)
    resource_type = fields.get("resource_type", str, "ESXI", choices=vocab.ALL_RESOURCE_TYPES)
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
        tasks.append(_task_common(fields, where, task_type, resources, context, None, None, None))
    return tasks


# -- accounts and password operations -------------------------------------------

_RESOURCE_KEYS = ("name", "id", "type", "fqdn", "ip", "domains", "credentials")
_ACCOUNT_KEYS = ("credential_type", "account_type", "username", "password", "real_password", "auto_rotate_days")


def parse_resources(items, where="resources"):
    """The scenario's ``resources``: accounts with the held and the real password."""
    if not isinstance(items, list):
        raise ScenarioError("%s: expected a list" % where)
    resources, seen = [], set()
    for index, item in enumerate(items):
        here = "%s[%d]" % (where, index)
        fields = Fields(item, here, _RESOURCE_KEYS)
        name = fields.get("name", str, nonempty=True)
        resource_type = fields.get("type", str, choices=vocab.ALL_RESOURCE_TYPES)
        if (name.lower(), resource_type) in seen:
            raise ScenarioError("%s: resource %s of type %s is listed twice" % (here, name, resource_type))
        seen.add((name.lower(), resource_type))
        domains = fields.get("domains", list, [])
        if any(not isinstance(d, str) or not d for d in domains):
            raise ScenarioError("%s.domains: expected a list of non-empty strings" % here)
        credentials = [_parse_account(c, "%s.credentials[%d]" % (here, i))
                       for i, c in enumerate(fields.get("credentials", list, nonempty=True))]
        keys = [(c["username"], c["credential_type"]) for c in credentials]
        if len(keys) != len(set(keys)):
            raise ScenarioError("%s: each (username, credential_type) may appear once" % here)
        resources.append({"name": name, "id": fields.get("id", str, None), "type": resource_type,
                          "fqdn": fields.get("fqdn", str, None), "ip": fields.get("ip", str, None),
                          "domains": domains, "credentials": credentials})
    return resources


def _parse_account(item, where):
    fields = Fields(item, where, _ACCOUNT_KEYS)
    return {
        "credential_type": fields.get("credential_type", str, choices=vocab.CREDENTIAL_TYPES),
        "account_type": fields.get("account_type", str, "USER", choices=vocab.ACCOUNT_TYPES),
        "username": fields.get("username", str, nonempty=True),
        # What SDDC Manager holds; generated when absent.
        "password": fields.get("password", str, None),
        # What is really set on the resource; default: the held one (a consistent account).
        "real_password": fields.get("real_password", str, None),
        "auto_rotate_days": fields.get("auto_rotate_days", int, None, positive=True,
                                       maximum=MAX_AUTO_ROTATE_DAYS),
    }


_OPERATION_KEYS = ("run_seconds", "pending_seconds", "rules")
_RULE_KEYS = ("match", "outcomes", "run_seconds", "pending_seconds")
_RULE_MATCH_KEYS = ("operation", "resource", "resource_type", "username")


def _parse_operations(item, where, context):
    """How tasks started by ``PATCH /v1/credentials`` run and end."""
    fields = Fields(item, where, _OPERATION_KEYS)
    run_seconds, pending_seconds = _durations(fields, where, DEFAULT_OPERATIONS["run_seconds"],
                                              DEFAULT_OPERATIONS["pending_seconds"])
    rules = []
    for index, entry in enumerate(fields.get("rules", list, [])):
        here = "%s.rules[%d]" % (where, index)
        rule_fields = Fields(entry, here, _RULE_KEYS)
        rule_run, rule_pending = _durations(rule_fields, here, run_seconds, pending_seconds)
        rules.append({
            "match": _parse_rule_match(rule_fields.get("match", dict, {}), here + ".match"),
            "outcomes": _parse_outcomes(rule_fields.get("outcomes", list, nonempty=True), here + ".outcomes",
                                        None, context),
            "run_seconds": rule_run,
            "pending_seconds": rule_pending,
        })
    return {"run_seconds": run_seconds, "pending_seconds": pending_seconds, "rules": rules}


def _durations(fields, where, run_default, pending_default):
    run_seconds = fields.get("run_seconds", "number", run_default, non_negative=True, nullable=True,
                             maximum=MAX_SECONDS)
    pending_seconds = fields.get("pending_seconds", "number", pending_default, non_negative=True,
                                 maximum=MAX_SECONDS)
    if run_seconds is not None and pending_seconds > run_seconds:
        raise ScenarioError("%s: pending_seconds must not exceed run_seconds" % where)
    return run_seconds, pending_seconds


def _parse_rule_match(item, where):
    fields = Fields(item, where, _RULE_MATCH_KEYS)
    return {
        "operation": _one_or_list(fields, "operation", where, vocab.TASK_TYPES),
        # fnmatch glob on the resource name, case-insensitive.
        "resource": fields.get("resource", str, None),
        "resource_type": _one_or_list(fields, "resource_type", where, vocab.ALL_RESOURCE_TYPES),
        "username": fields.get("username", str, None),
    }


def _one_or_list(fields, key, where, choices):
    value = fields.raw(key)
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or any(v not in choices for v in values):
        raise ScenarioError("%s.%s: expected one of %s, or a list of them" % (where, key, ", ".join(choices)))
    return list(values)
