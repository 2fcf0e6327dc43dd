"""Everything the simulator knows: users, tokens, tasks, accounts, faults, outages, counters, log.

One lock guards the tasks and the accounts.  The generator seeded from the scenario's ``seed``
makes ids and passwords; it is drawn from in a fixed order while a scenario or
a task batch loads, so the same scenario yields the same ids every time.
"""

from __future__ import annotations

import collections
import json
import random
import threading
import time

from . import vocab
from .clock import Clock, iso
from .errors import ApiError, ScenarioError
from .faults import Faults
from .inventory import Inventory, rule_matches
from .model import CredentialsTask, SupersededTask, reference_token
from .outage import Outages
from .scenario import DEFAULT_DOMAINS, parse_resources, parse_tasks
from .tokens import TokenStore

LOG_LIMIT = 100000  # entries kept in memory; the log file keeps all of them
# [guess] What SDDC Manager answers to an operation on a locked resource: the codes are the simulator's own.
LOCKED_CODE = "PASSWORD_MANAGER_RESOURCE_LOCKED"
INCONSISTENT_CODE = "PASSWORD_MANAGER_RESOURCE_INCONSISTENT"


class Metrics:
    """Request counters and the request log (which never holds secrets)."""

    _SIMPLE = ("logins", "failed_logins", "refreshes", "revocations", "patches_accepted",
               "patches_rejected", "deletes_accepted", "deletes_rejected", "faults_injected",
               "operations_accepted", "operations_rejected", "outages", "outage_hits", "restarts")

    def __init__(self, log_path=None):
        self._lock = threading.Lock()
        # JSON lines, appended; kept open so each entry costs one write.
        self._log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self.reset()

    def close(self):
        with self._lock:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    def reset(self):
        with self._lock:
            self._counts = dict.fromkeys(self._SIMPLE, 0)
            self._total = 0
            self._by_route = collections.Counter()
            self._by_method = collections.Counter()
            self._retries = collections.Counter()
            self._log = collections.deque(maxlen=LOG_LIMIT)

    def request(self, method, route):
        with self._lock:
            self._total += 1
            self._by_route["%s %s" % (method, route)] += 1
            self._by_method[method] += 1

    def bump(self, name):
        with self._lock:
            self._counts[name] += 1

    def retried(self, task_id):
        with self._lock:
            self._retries[task_id] += 1

    def log(self, method, path, status, duration_ms, fault):
        """Record one request.  Only these fields, by design: no headers, no body, no query."""
        entry = {
            "ts": iso(time.time()),
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 2),
            "fault": fault,
        }
        with self._lock:
            self._log.append(entry)
            if self._log_file is not None:
                self._log_file.write(json.dumps(entry) + "\n")
                self._log_file.flush()

    def counters(self):
        with self._lock:
            data = {"total": self._total, "by_route": dict(self._by_route), "by_method": dict(self._by_method)}
            data.update(self._counts)
            data["retries_by_task"] = dict(self._retries)
            return data

    def entries(self):
        with self._lock:
            return list(self._log)


class SimState:
    def __init__(self, scenario, metrics):
        self.lock = threading.Lock()
        self.metrics = metrics
        # Whether the API port listens; the Simulator keeps it up to date (refuse outages).
        self.listening = True
        self.load(scenario)

    def load(self, scenario):
        """Replace users, tokens, tasks, accounts, faults, outages and the clock; counters and log restart."""
        with self.lock:
            self.scenario = scenario
            self.clock = Clock()
            self.rng = random.Random(scenario.seed)
            self.users = {u["username"]: u for u in scenario.users}
            self.tokens = TokenStore(self.clock, random.Random("%s:tokens" % scenario.seed),
                                     scenario.access_lifetime, scenario.refresh_lifetime)
            self.faults = Faults(scenario.faults, scenario.seed)
            self.outages = Outages(self.clock)
            # Error reference tokens get their own stream: how many errors were
            # answered must not change the ids of tasks added later.
            self._reference_rng = random.Random("%s:references" % scenario.seed)
            # Accounts and started operations get theirs too, for the same reason.
            self.inventory = Inventory(random.Random("%s:accounts" % scenario.seed), DEFAULT_DOMAINS)
            self._operations_rng = random.Random("%s:operations" % scenario.seed)
            self.tasks = {}
            now = self.clock.now()
            self.inventory.declare(scenario.resources, now)
            added = self._add(scenario.tasks)
            self._adopt(added, now, only_missing=False)
        self.metrics.reset()
        self._start_outage_rule()

    def add_tasks(self, items):
        """Add tasks given in the scenario ``tasks`` schema; return their ids."""
        specs = parse_tasks(items, release=self.scenario.release, stale_reads=self.scenario.stale_reads)
        with self.lock:
            clashes = [s["id"] for s in specs if s["id"] in self.tasks]
            if clashes:
                raise ScenarioError("task id(s) already exist: %s" % ", ".join(clashes))
            added = self._add(specs)
            self._adopt(added, self.clock.now(), only_missing=True)
            return added

    def _add(self, specs):
        now = self.clock.now()
        added = []
        for index, spec in enumerate(specs):
            # Without a ``created`` time, tasks are a second apart in list order
            # (later = newer), the last one a second before it was loaded.
            created = now - (len(specs) - index)
            task = CredentialsTask(spec, self.rng, self.scenario.seed, created, now, self.scenario)
            if task.id in self.tasks:
                raise ScenarioError("task id %s already exists" % task.id)
            task.seq = len(self.tasks)
            self.tasks[task.id] = task
            added.append(task.id)
        return added

    def _adopt(self, task_ids, now, only_missing):
        """Derive accounts from loaded tasks; from now on their runs update the accounts."""
        tasks = [self.tasks[task_id] for task_id in task_ids]
        self.inventory.derive(tasks, now, only_missing=only_missing)
        for task in tasks:
            task.inventory = self.inventory

    def declare_accounts(self, items):
        """Add or replace accounts given in the scenario ``resources`` schema; return their ids."""
        specs = parse_resources(items)
        with self.lock:
            return self.inventory.declare(specs, self.clock.now())

    # -- password operations (PATCH /v1/credentials) ----------------------

    def check_locks(self, targets, operation):
        """Refuse an operation on a resource that a credentials task locks; caller holds ``lock``.

        FIELD-NOTES: a FAILED or running task on a resource blocks every new
        operation on it; a resource whose newest task (cancelled ones aside) is
        INCONSISTENT takes only REMEDIATE.
        """
        tasks = [t for t in self.all_tasks() if isinstance(t, CredentialsTask)]
        for resource, _accounts in targets:
            on_resource = [t for t in tasks if any(r.name.lower() == resource.name.lower() and r.type == resource.type
                                                   for r in t.resources)]
            blocking = next((t for t in on_resource if t.status in vocab.RUNNING + ("FAILED",)), None)
            if blocking is not None:
                raise ApiError(
                    400, LOCKED_CODE,
                    "Resource %s is locked by credentials task %s (%s): no new password operation can start on it "
                    "until that task %s" % (resource.name, blocking.id, blocking.status,
                                            "ends" if blocking.status in vocab.RUNNING else "is retried or cancelled"),
                    "Wait for task %s to end, or retry or cancel it if it FAILED, then start the operation again"
                    % blocking.id,
                    arguments=[blocking.id, resource.name],
                    context={"taskId": blocking.id, "taskStatus": blocking.status, "resourceName": resource.name})
            newest = next((t for t in on_resource if t.status != "USER_CANCELLED"), None)
            if newest is not None and newest.status == "INCONSISTENT" and operation != "REMEDIATE":
                raise ApiError(
                    400, INCONSISTENT_CODE,
                    "Resource %s is INCONSISTENT after credentials task %s: only REMEDIATE can start on it"
                    % (resource.name, newest.id),
                    "Remediate the password of %s with the password that is set on it now" % resource.name,
                    arguments=[newest.id, resource.name],
                    context={"taskId": newest.id, "taskStatus": newest.status, "resourceName": resource.name})

    def start_operation(self, operation, targets, passwords, policy):
        """Create and start the credentials task of an accepted operation; caller holds ``lock``."""
        now = self.clock.now()
        settings = self.scenario.operations
        rule = self._operation_rule(operation, targets)
        resources = [{
            "name": resource.name, "id": resource.id, "type": resource.type, "fqdn": resource.fqdn,
            "credentials": [{
                "credential_type": a.credential_type, "account_type": a.account_type, "username": a.username,
                "password": a.password, "new_password": passwords.get((resource.id, a.username, a.credential_type)),
            } for a in accounts],
        } for resource, accounts in targets]
        accounts = [a for _resource, accounts in targets for a in accounts]
        if rule is None:
            outcomes, run_seconds, pending_seconds = ([{"status": "SUCCESSFUL", "errors": None}],
                                                      settings["run_seconds"], settings["pending_seconds"])
        else:
            matched = [i for i, a in enumerate(accounts) if rule_matches(rule["match"], a)]
            outcomes = [_concrete_outcome(o, matched, len(accounts)) for o in rule["outcomes"]]
            run_seconds, pending_seconds = rule["run_seconds"], rule["pending_seconds"]
        spec = {
            "id": None, "name": vocab.TASK_NAMES[operation], "type": operation, "status": "PENDING",
            "initial": None, "errors": None, "created": now, "run_seconds": run_seconds,
            "pending_seconds": pending_seconds, "outcomes": outcomes, "resources": resources,
            "auto_rotate": False, "stale_reads": self.scenario.stale_reads, "retry_new_id": False,
            "operation": True, "auto_rotate_policy": policy,
        }
        task = CredentialsTask(spec, self._operations_rng, self.scenario.seed, now, now, self.scenario,
                               inventory=self.inventory)
        if task.id in self.tasks:
            raise ApiError(500, "INTERNAL_SERVER_ERROR", "Task id %s already exists" % task.id)
        task.seq = max((t.seq for t in self.tasks.values()), default=-1) + 1
        self.tasks[task.id] = task
        task.advance(now)
        return task

    def _operation_rule(self, operation, targets):
        """The first ``operations.rules`` entry that names the operation and one of its accounts."""
        accounts = [a for _resource, accounts in targets for a in accounts]
        for rule in self.scenario.operations["rules"]:
            wanted = rule["match"]["operation"]
            if wanted is not None and operation not in wanted:
                continue
            if any(rule_matches(rule["match"], account) for account in accounts):
                return rule
        return None

    # -- outages ----------------------------------------------------------

    def begin_outage(self, spec, source):
        """Start an outage now; ``None`` if one is under way.  ``restart`` voids every token."""
        began = self.outages.begin(spec, source)
        if began is None:
            return None
        self.metrics.bump("outages")
        if spec["restart"]:
            # Nothing reaches the API until the outage ends, so voiding the
            # tokens now is the same, seen from a client, as at its end.
            self.tokens.void_all()
            self.metrics.bump("restarts")
        return began

    def _start_outage_rule(self):
        rule = self.faults.at_start()
        if rule is not None:
            self.begin_outage(rule, "faults (trigger: start)")

    def outage_status(self):
        status = self.outages.describe()
        counters = self.metrics.counters()
        status.update(listening=self.listening, outages=counters["outages"], hits=counters["outage_hits"],
                      restarts=counters["restarts"])
        return status

    def task(self, task_id):
        """The task brought up to date with the clock, or ``None``; caller holds ``lock``."""
        task = self.tasks.get(task_id)
        if task is not None:
            task.advance(self.clock.now())
        return task

    def all_tasks(self):
        """All tasks up to date, newest first; caller holds ``lock``."""
        now = self.clock.now()
        for task in self.tasks.values():
            task.advance(now)
        # Newest first; equal timestamps: the later-added task first.
        return sorted(self.tasks.values(), key=lambda t: (-t.created, -t.seq))

    def move_to_new_id(self, task):
        """``retry_new_id``: the task goes on under a new id; the old id keeps its last state.

        Caller holds ``lock`` and calls this before starting the new run.
        """
        new_id = task.new_id()
        self.tasks[task.id] = SupersededTask(task, new_id)
        task.former_ids.append(task.id)
        task.id = new_id
        # The moved task lists first among equal creation times.
        task.seq = max(t.seq for t in self.tasks.values()) + 1
        self.tasks[new_id] = task
        return new_id

    def set_faults(self, rules):
        self.faults = Faults(rules, self.scenario.seed)
        self._start_outage_rule()

    def reference_token(self):
        with self.lock:
            return reference_token(self._reference_rng)


def _concrete_outcome(outcome, matched, n_subtasks):
    """An ``operations.rules`` outcome made concrete for one operation's sub-tasks.

    Without ``errors`` and ``failing_subtasks``, a failing end puts a default
    error on every sub-task whose account the rule's ``match`` names; indexes
    the operation does not have are left out.
    """
    outcome = dict(outcome)
    if outcome["errors"] is None and not outcome["failing_subtasks"] \
            and outcome["status"] not in vocab.QUIET_END_STATUSES:
        outcome["errors"] = [{"subtask": index} for index in matched]
    elif outcome["errors"]:
        outcome["errors"] = [e for e in outcome["errors"] if e["subtask"] is None or e["subtask"] < n_subtasks]
    outcome["failing_subtasks"] = [i for i in outcome["failing_subtasks"] if i < n_subtasks]
    return outcome
