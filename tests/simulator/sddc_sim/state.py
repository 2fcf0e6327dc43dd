"""Everything the simulator knows: users, tokens, tasks, faults, counters, log.

One lock guards the tasks.  The generator seeded from the scenario's ``seed``
makes ids and passwords; it is drawn from in a fixed order while a scenario or
a task batch loads, so the same scenario yields the same ids every time.
"""

from __future__ import annotations

import collections
import json
import random
import threading
import time

from .clock import Clock, iso
from .errors import ScenarioError
from .faults import Faults
from .model import CredentialsTask, SupersededTask, reference_token
from .scenario import parse_tasks
from .tokens import TokenStore

LOG_LIMIT = 100000  # entries kept in memory; the log file keeps all of them


class Metrics:
    """Request counters and the request log (which never holds secrets)."""

    _SIMPLE = ("logins", "failed_logins", "refreshes", "revocations", "patches_accepted",
               "patches_rejected", "deletes_accepted", "deletes_rejected", "faults_injected")

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
        self.load(scenario)

    def load(self, scenario):
        """Replace users, tokens, tasks, faults and the clock; counters and log restart."""
        with self.lock:
            self.scenario = scenario
            self.clock = Clock()
            self.rng = random.Random(scenario.seed)
            self.users = {u["username"]: u for u in scenario.users}
            self.tokens = TokenStore(self.clock, random.Random("%s:tokens" % scenario.seed),
                                     scenario.access_lifetime, scenario.refresh_lifetime)
            self.faults = Faults(scenario.faults, scenario.seed)
            # Error reference tokens get their own stream: how many errors were
            # answered must not change the ids of tasks added later.
            self._reference_rng = random.Random("%s:references" % scenario.seed)
            self.tasks = {}
            self._add(scenario.tasks)
        self.metrics.reset()

    def add_tasks(self, items):
        """Add tasks given in the scenario ``tasks`` schema; return their ids."""
        specs = parse_tasks(items, release=self.scenario.release, stale_reads=self.scenario.stale_reads)
        with self.lock:
            clashes = [s["id"] for s in specs if s["id"] in self.tasks]
            if clashes:
                raise ScenarioError("task id(s) already exist: %s" % ", ".join(clashes))
            return self._add(specs)

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

    def reference_token(self):
        with self.lock:
            return reference_token(self._reference_rng)
