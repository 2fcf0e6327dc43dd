"""A stateful property run: the modules against random SDDC Manager profiles, judged by the simulator's record.

hypothesis draws a profile (release 4.5 / 5.2 / 9.0 / 9.1, generic-view wording, token lifetime, how the
refreshed token is sent, login status, username/password or tokens only), one to three credentials tasks (start
status, the outcome of each later run from every end the simulator knows, run length, stale reads, a retry that
answers a new id) and a fault schedule (5xx and 429 bursts, resets, empty write answers, and an outage - refused
connections, resets or proxy pages for 120 or 900 s, maybe ending in a restart that voids every token - from a
write or a request on). During an outage a module may fail, saying so, but never claim a false outcome or apply
a write twice. Then it takes random
steps: ``credentials_task_retry``, ``credentials_task_bulk_retry``, ``credentials_task_cancel``,
``credentials_task_wait``, and time passing. Every module runs in this process (tests/utils/module_runner.py,
with the real ``exit_json``/``fail_json`` and ``no_log`` masking) against the simulator over HTTPS with its CA;
nothing of HTTP is mocked. Waiting runs on the simulator's clock: the module's ``Waiter`` sleeps by moving that
clock forward, so an hour-long wait takes milliseconds.

After every step the simulator's own record (``/_sim``: each task's real status, the retries and cancels it
accepted) is compared with what the module said. The oracle is written from the spec and the simulator's
README, not from the collection: only SUCCESSFUL (and COMPLETED_WITH_WARNING, whose sub-tasks all succeed)
counts as success.

* at most one accepted retry per FAILED state: a step gets at most one accepted PATCH per task, and only for a
  task that really was FAILED when the step began;
* ``changed`` is true exactly when the simulator accepted this step's retry or cancel;
* a module that does not fail leaves every task it acted on succeeded (or, without ``wait``, running); with
  ``fail_on_failure: false`` every non-success end is in ``failed_ids``/``unknown_ids``/``errors``;
* a module fails exactly when the record says it should (not checked for a task with stale reads still to
  come: no client can tell those from the real state, see FIELD-NOTES);
* an ended status the module reports is the task's real one;
* no planted password, no token and no 20-character piece of a token is in any output.

``SDDC_PROPERTY_EXAMPLES`` (default 500) sets the number of examples. By default every run draws the same
examples, so that CI is repeatable; ``SDDC_PROPERTY_RANDOM=1`` draws new ones (a failure prints the blob that
replays it). The counts are printed under "reliability figures".
"""

import collections
import contextlib
import functools
import io
import json
import os
import sys
import time
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from requests.adapters import HTTPAdapter

from conftest import REAL, REPO, report_figures

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _client, _tasks, _waiter
from ansible_collections.vcf.sddc_manager.plugins.module_utils._waiter import Waiter
from ansible_collections.vcf.sddc_manager.plugins.modules import (
    credentials,
    credentials_task_bulk_retry,
    credentials_task_cancel,
    credentials_task_retry,
    credentials_task_wait,
)

sys.path.insert(0, str(REPO / "tests" / "utils"))
from module_runner import run_module  # noqa: E402  (tests/utils/module_runner.py)
from sddc_sim import Simulator  # noqa: E402

EXAMPLES = int(os.environ.get("SDDC_PROPERTY_EXAMPLES", "500"))
RANDOM = os.environ.get("SDDC_PROPERTY_RANDOM") == "1"

# What the spec and the simulator's README call success; everything else that has ended is not.
SUCCESS = {"SUCCESSFUL", "COMPLETED_WITH_WARNING"}
RUNNING = {"PENDING", "QUEUED", "IN_PROGRESS"}  # QUEUED: the generic view of 9.1
CANCELLED = {"USER_CANCELLED", "CANCELLED"}
# Words of the spec's two status enums. Another word (the simulator's status_word) may be a new word for
# "running" as far as any client can tell: a wait may report it as still running, never as a success.
SPEC_WORDS = SUCCESS | RUNNING | CANCELLED | {"FAILED", "INCONSISTENT", "SKIPPED", "TIMED_OUT", "QUEUED"}
ADMIN = {"username": "administrator@vsphere.local", "password": "PLANTED-prop-admin!Aa1", "role": "ADMIN"}

# Every end the simulator can give a run (tests/simulator/README.md, "Ending a run").
ENDS = [
    "SUCCESSFUL", "FAILED", "INCONSISTENT", "USER_CANCELLED", "SKIPPED", "CANCELLED", "TIMED_OUT",
    "COMPLETED_WITH_WARNING",
    {"status_word": "ROLLED_BACK"},
    {"status": "FAILED", "errors": "none", "failing_subtasks": [0]},
    {"status": "FAILED", "errors": [{"subtask": 0, "dependent": True, "errorCode": "SERVICE_RESTART_FAILED",
                                     "message": "The SSH service did not restart",
                                     "remediationMessage": "Restart the SSH service on the host"}]},
    {"status": "FAILED", "completion_timestamp": False},
    {"status": "TIMED_OUT", "subtask_status": "FAILED"},
    {"status_word": "ROLLED_BACK", "completion_timestamp": False},
]
START = ["FAILED"] * 6 + ["IN_PROGRESS", "PENDING", "SUCCESSFUL", "INCONSISTENT", "USER_CANCELLED", "TIMED_OUT",
                          "COMPLETED_WITH_WARNING"]
READ_FAULTS = [
    {"kind": "http_error", "status": 502, "body": "html"},
    {"kind": "http_error", "status": 503, "body": "json"},
    {"kind": "http_error", "status": 504, "body": "html"},
    {"kind": "rate_limit", "retry_after": 0},
    {"kind": "reset", "mode": "rst"},
    {"kind": "reset", "mode": "fin"},
]


def _passwords(data):
    """Every password value in the simulator's record of its tasks."""
    if isinstance(data, dict):
        for key, value in data.items():
            if "assword" in key and isinstance(value, str) and value:
                yield value
            else:
                yield from _passwords(value)
    elif isinstance(data, list):
        for item in data:
            yield from _passwords(item)


class Figures:
    def __init__(self):
        self.counts = collections.Counter()
        self.ends = collections.Counter()
        self.profiles = collections.Counter()
        self.started = None


FIGURES = Figures()


class Observer:
    """Keeps every token that crossed the wire (to look for it in the output); changes nothing."""

    def __init__(self):
        self.tokens = set()
        self._send = HTTPAdapter.send

    def send(self, adapter, request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            self.tokens.add(header[len("Bearer "):])
        response = self._send(adapter, request, *args, **kwargs)
        # Only an answer that gives tokens: a proxy's error page in an outage holds none.
        if "/v1/tokens" in request.url and response.content and response.status_code < 400:
            text = response.content.decode("utf-8", "replace")
            try:
                answer = json.loads(text)
            except ValueError:
                answer = text
            if isinstance(answer, dict):
                self.tokens.add(str(answer.get("accessToken") or ""))
                self.tokens.add(str((answer.get("refreshToken") or {}).get("id") or ""))
            else:
                self.tokens.add(str(answer).strip())
        return response

    def as_adapter_send(self):
        """``send`` to put on HTTPAdapter: it keeps the adapter, which a bound method of this object would not."""

        def send(adapter, request, *args, **kwargs):
            return self.send(adapter, request, *args, **kwargs)

        return send

    def pieces(self):
        for token in self.tokens:
            if len(token) < 20:
                continue
            for start in range(0, len(token) - 19):
                yield token[start:start + 20]


def profiles():
    return st.fixed_dictionaries({
        "release": st.sampled_from(["4.5", "5.2", "9.0", "9.1"]),
        "case": st.sampled_from(["title", "upper"]),
        "access_lifetime": st.sampled_from([30, 300, 3600]),
        "refresh_answer": st.sampled_from(["json", "text"]),
        "login_status": st.sampled_from([200, 201]),
        "auth": st.sampled_from(["password", "tokens"]),
        "subtask_fields": st.sampled_from(["full", "sparse"]),
    })


def tasks():
    one = st.fixed_dictionaries({
        "type": st.sampled_from(["ROTATE", "ROTATE", "UPDATE"]),
        "status": st.sampled_from(START),
        "outcomes": st.lists(st.sampled_from(range(len(ENDS))), min_size=1, max_size=3),
        "run_seconds": st.sampled_from([5, 30, 120, 900]),
        "pending": st.booleans(),
        "stale_reads": st.sampled_from([0, 0, 0, 1, 3]),
        "retry_new_id": st.sampled_from([False] * 9 + [True]),
    })
    return st.lists(one, min_size=1, max_size=3)


def fault_rules():
    read = st.fixed_dictionaries({
        "fault": st.sampled_from(range(len(READ_FAULTS))),
        "where": st.sampled_from(["GET /v1/credentials/tasks*", "POST /v1/tokens",
                                  "PATCH /v1/tokens/access-token/refresh", "GET /v1/credentials/tasks/*"]),
        "after": st.integers(0, 12),
        "count": st.integers(1, 2),
    })
    empty = st.fixed_dictionaries({
        "status": st.sampled_from([200, 202, 204]),
        "method": st.sampled_from(["PATCH", "DELETE"]),
        "probability": st.sampled_from([0.5, 1.0]),
    })
    # An outage (tests/simulator/README.md, "Outages"): from a write or a request on, for 120 or 900 s of the
    # simulator's clock, connections refused, reset or a proxy's 502/503/504 page, maybe ending in a restart that
    # voids every token.
    outage = st.fixed_dictionaries({
        "trigger": st.sampled_from(["write", "request"]),
        "after": st.integers(0, 8),
        "duration": st.sampled_from([120, 900]),  # far longer than a step takes: it ends as the clock is moved
        "mode": st.sampled_from(["proxy", "reset", "refuse"]),
        "status": st.sampled_from([502, 503, 504]),
        "restart": st.booleans(),
    })
    return st.tuples(st.lists(read, max_size=2), st.lists(empty, max_size=1),
                     st.one_of(st.none(), st.none(), outage))


class VirtualTime:
    """The modules' waits run on the simulator's clock: sleeping moves it forward."""

    def __init__(self, ctl):
        self.ctl = ctl
        self.offset = 0.0

    def clock(self):
        return time.monotonic() + self.offset

    def wall(self):
        # The controller's clock of a retry's time and of its settle time, moved by the same sleeps.
        return time.time() + self.offset

    def sleep(self, seconds):
        self.ctl.advance(seconds)
        self.offset += seconds


class SddcManagerModel(RuleBasedStateMachine):
    sim = None  # set by the test

    def __init__(self):
        super().__init__()
        self.ctl = self.sim.control()
        self.time = VirtualTime(self.ctl)
        self.ids = []
        self.specs = {}
        self.secrets = {ADMIN["password"]}
        self.observer = Observer()
        self.auth = {}
        self.outage = False

    # -- the profile ------------------------------------------------------------------------------------------------

    @initialize(profile=profiles(), task_list=tasks(), faults=fault_rules())
    def load(self, profile, task_list, faults):
        FIGURES.counts["examples"] += 1
        FIGURES.profiles["release %s" % profile["release"]] += 1
        FIGURES.profiles["auth %s" % profile["auth"]] += 1
        FIGURES.profiles["sub-tasks %s" % profile["subtask_fields"]] += 1
        scenario = {
            "seed": FIGURES.counts["examples"], "release": profile["release"],
            "generic_status": {"case": profile["case"]},
            "subtask_fields": profile["subtask_fields"],
            "users": [ADMIN],
            "tokens": {"access_lifetime": profile["access_lifetime"], "refresh_answer": profile["refresh_answer"],
                       "login_status": profile["login_status"], "refresh_lifetime": 10 * 86400},
            "tasks": [self._task(index, item) for index, item in enumerate(task_list)],
            "faults": self._faults(*faults),
        }
        self.ctl.end_outage()  # an outage of the last example may still be on: this one starts with it over
        self.ctl.load(scenario)
        self.time.offset = 0.0
        self.ids = [task["id"] for task in scenario["tasks"]]
        self.resources = len(scenario["tasks"])  # esxi-prop-0 ... one per task
        base = {"hostname": "127.0.0.1", "port": self.sim.port, "ca_path": self.sim.ca_path, "request_timeout": 10}
        if profile["auth"] == "password":
            self.auth = dict(base, username=ADMIN["username"], password=ADMIN["password"])
        else:
            client = _client.SddcManagerClient(hostname="127.0.0.1", port=self.sim.port, ca_path=self.sim.ca_path,
                                               username=ADMIN["username"], password=ADMIN["password"])
            access, refresh = client.login()
            self.secrets |= {access, refresh}
            self.auth = dict(base, access_token=access, refresh_token=refresh)

    def _task(self, index, item):
        task_id = "prop-%d" % index
        name = "esxi-prop-%d.rack.example.com" % index
        password = "PLANTED-prop-%d-%d!Aa1" % (FIGURES.counts["examples"], index)
        self.secrets.add(password)
        task = {"id": task_id, "type": item["type"], "status": item["status"],
                "run_seconds": item["run_seconds"], "pending_seconds": item["run_seconds"] / 5 if item["pending"] else 0,
                "outcomes": [ENDS[i] for i in item["outcomes"]], "stale_reads": item["stale_reads"],
                "retry_new_id": item["retry_new_id"],
                "resources": [{"name": name, "type": "ESXI", "credentials": [
                    {"credential_type": "SSH", "username": "root", "password": password}]}]}
        if item["type"] == "UPDATE":
            wanted = "PLANTED-prop-new-%d-%d!Aa1" % (FIGURES.counts["examples"], index)
            self.secrets.add(wanted)
            self.specs[task_id] = {"operation_type": "UPDATE", "elements": [{
                "resource_name": name, "resource_type": "ESXI",
                "credentials": [{"credential_type": "SSH", "username": "root", "password": wanted}]}]}
        return task

    @staticmethod
    def _faults(reads, empties, outage=None):
        rules = []
        if outage is not None:
            FIGURES.profiles["outage %s%s" % (outage["mode"], " + restart" if outage["restart"] else "")] += 1
            # Counted on the credentials calls only: the test's own login (tokens-only profiles) is not its victim.
            rule = dict(outage, kind="outage", match={"path": "/v1/credentials*"})
            if rule["mode"] != "proxy":
                del rule["status"]
            rules.append(rule)
        for item in reads:
            method, path = item["where"].split(" ")
            rules.append(dict(READ_FAULTS[item["fault"]], match={"method": method, "path": path},
                              after=item["after"], count=item["count"]))
        for item in empties:
            rules.append({"kind": "empty_answer", "status": item["status"], "probability": item["probability"],
                          "match": {"method": item["method"], "path": "/v1/credentials/tasks/*"}})
        return rules

    # -- running a module -------------------------------------------------------------------------------------------

    def _truth(self):
        """Each task id with the simulator's record of the task it leads to: an id that a retry replaced
        (``retry_new_id``) leads to the task that goes on under the new id."""
        tasks = dict((task["id"], task) for task in self.ctl.tasks())
        for task_id, task in list(tasks.items()):
            while task.get("superseded_by") in tasks:
                task = tasks[task["superseded_by"]]
            tasks[task_id] = task
        return tasks

    def _run(self, module, args):
        """Run ``module`` and return ``(result, failed, before, after, accepted, cancels)``."""
        before = self._truth()
        offset = self.time.offset
        counters = self.ctl.counters()
        away_before = self.ctl.outage_status()["active"]
        waiter = functools.partial(Waiter, clock=self.time.clock, sleeper=self.time.sleep, wall_clock=self.time.wall)
        printed = io.StringIO()
        real_client = _client.SddcManagerClient

        virtual, ctl = self.time, self.ctl

        def pause(seconds):
            # A pause between attempts takes no time, except while SDDC Manager is away: then it moves the
            # simulator's clock (and the client's), so that the outage ends as it would.
            if ctl.outage_status()["active"]:
                virtual.sleep(seconds)

        class InstantClient(real_client):
            def __init__(self, *a, **kw):
                kw.setdefault("sleep", pause)
                kw.setdefault("clock", virtual.clock)
                super().__init__(*a, **kw)

        with contextlib.ExitStack() as stack:
            stack.enter_context(mock.patch.object(_waiter, "Waiter", waiter))
            stack.enter_context(mock.patch.object(_tasks, "_wall_clock", self.time.wall))
            stack.enter_context(mock.patch.object(_client, "SddcManagerClient", InstantClient))
            stack.enter_context(mock.patch.object(_tasks, "_clock", self.time.clock))
            stack.enter_context(mock.patch.object(_tasks, "_sleep", self.time.sleep))
            stack.enter_context(mock.patch.object(HTTPAdapter, "send", self.observer.as_adapter_send()))
            stack.enter_context(contextlib.redirect_stdout(printed))
            result, failed = run_module(module, dict(self.auth, **args))
        after = self._truth()
        now = self.ctl.counters()
        # SDDC Manager was away during this step: a module may fail (a wait that could not read until its
        # deadline, a session that a restart ended), but never claim a false outcome or send a write twice.
        # Given tokens only, a restart ends the session for good: every later step may fail, saying so.
        # (A refused connection never reaches the simulator: an outage that was on, or began, counts too.)
        self.outage = away_before or now["outages"] > counters["outages"] or (
            now["outage_hits"] > counters["outage_hits"]) or ("access_token" in self.auth and now["restarts"] > 0)
        FIGURES.counts["steps through an outage"] += self.outage
        accepted = dict((i, n - counters["retries_by_task"].get(i, 0)) for i, n in now["retries_by_task"].items())
        cancels = now["deletes_accepted"] - counters["deletes_accepted"]
        FIGURES.counts["module runs"] += 1
        FIGURES.counts["%s %s" % (module.__name__.rsplit(".", 1)[-1], "failed" if failed else "ok")] += 1
        FIGURES.counts["retries accepted"] += sum(accepted.values())
        self._check_common(result, printed.getvalue(), before, accepted, self.time.offset != offset)
        for new_id in after:
            if new_id not in self.ids and not after[new_id].get("superseded_by"):
                self.ids.append(new_id)
        return result, failed, before, after, accepted, cancels

    def _check_common(self, result, printed, before, accepted, time_moved):
        for task_id, count in accepted.items():
            assert count <= 1, "task %s: %d retries accepted in one step" % (task_id, count)
            # A task running before the step may end FAILED during it only if the step took time: an outage moves
            # the clock (its pauses), and a read after it may rightly find the task FAILED and retry it.
            # (SDDC Manager, the simulator, accepts a retry of a FAILED task only.)
            if count and not time_moved:
                assert before[task_id]["status"] == "FAILED", (
                    "task %s was retried while %s" % (task_id, before[task_id]["status"]))
        text = json.dumps(result) + printed
        assert "Traceback" not in text, text
        for secret in self.secrets | set(_passwords(self.ctl.tasks())):
            assert secret not in text, "a password or token is in the output: %s" % text
        for piece in self.observer.pieces():
            assert piece not in text, "a 20-character piece of a token is in the output: %s" % text

    @staticmethod
    def _status(task):
        return task["status"].upper().replace(" ", "_") if task else None

    def _stale(self, before, *ids):
        return any(before.get(i, {}).get("stale_reads_left") or before.get(i, {}).get("superseded_by")
                   or before.get(i, {}).get("former_ids") for i in ids)

    @staticmethod
    def _replaced(after, task_id):
        """Whether the task went on under a new id that no answer named (an empty write answer): reads of the
        old id show the old run, so a client can only say that the retry's state is not known."""
        return task_id in (after.get(task_id) or {}).get("former_ids", ())

    @staticmethod
    def _not_known(result, task_id):
        """Whether the module says it could not read the task (no status): a wait whose reads did not go through
        in its time (``wait_timeout: 0`` on a busy machine) claims nothing about it."""
        return any(t.get("id") == task_id and t.get("status") is None for t in result.get("tasks") or [])

    def _count_end(self, after, task_id):
        status = self._status(after.get(task_id))
        if status and status not in RUNNING:
            FIGURES.ends[status] += 1

    # -- steps ------------------------------------------------------------------------------------------------------

    @rule(data=st.data(), wait=st.booleans(), sleep=st.sampled_from([1, 10, 60]), polls=st.integers(0, 40))
    def retry(self, data, wait, sleep, polls):
        task_id = data.draw(st.sampled_from(self.ids))
        args = dict(self.specs.get(task_id, {}), task_id=task_id, wait=wait, wait_sleep=sleep,
                    wait_timeout=sleep * polls)
        result, failed, before, after, accepted, _cancels = self._run(credentials_task_retry, args)
        followed = result.get("task_id") or task_id
        truth, start = self._status(after.get(followed)), self._status(before[task_id])
        self._count_end(after, followed)
        assert result.get("changed", False) == bool(accepted.get(task_id)), (result, accepted)
        if not failed:
            allowed = SUCCESS | (RUNNING if not wait else set())
            # Without wait, a task reported as running or not known is no claim of an end (see the bulk retry).
            unclaimed = not wait and (result.get("status") in RUNNING | {"UNKNOWN"})
            assert truth in allowed or unclaimed, "retry passed, the task is %s: %s" % (truth, result["msg"])
        reported = result.get("status")
        if reported and reported not in RUNNING and reported != "UNKNOWN" and not self._stale(before, task_id):
            assert reported == truth, "retry reported %s, the task is %s" % (reported, truth)
        if self._stale(before, task_id) or followed != task_id or self.outage:
            return
        if start in SUCCESS:
            expected = False
        elif start == "FAILED" or start in RUNNING:
            expected = wait and truth not in SUCCESS
        else:
            expected = True  # SDDC Manager retries only FAILED tasks: nothing was done about this one
        assert failed == expected, "retry of a %s task (now %s, wait %s) failed=%s: %s" % (
            start, truth, wait, failed, result["msg"])

    @rule(data=st.data(), wait=st.booleans(), discover=st.booleans(), fail_on_failure=st.booleans(),
          sleep=st.sampled_from([1, 10, 60]), polls=st.integers(0, 40))
    def bulk_retry(self, data, wait, discover, fail_on_failure, sleep, polls):
        named = data.draw(st.lists(st.sampled_from(self.ids), unique=True, min_size=0 if discover else 1))
        args = dict(task_ids=[i for i in named if i not in self.specs],
                    tasks=[dict(self.specs[i], task_id=i) for i in named if i in self.specs],
                    discover=discover, wait=wait, fail_on_failure=fail_on_failure, wait_sleep=sleep,
                    wait_timeout=sleep * polls)
        result, failed, before, after, accepted, _cancels = self._run(credentials_task_bulk_retry, args)
        assert result.get("changed", False) == bool(sum(accepted.values())), (result["msg"], accepted)
        if failed and "results" not in result:
            assert not sum(accepted.values()) or result.get("retried_ids"), result
            return
        assert len(result["retried_ids"]) == sum(accepted.values()), (result["retried_ids"], accepted)
        followed = dict((r["task_id"], r) for r in result["results"])
        not_ended = RUNNING if not wait else set()
        # A task found by discover that needs a person's input (passwords, a policy, a REMEDIATE) is named in
        # needs_input with what to give; the run goes on and passes (issue 21 item 4), and it is never a success.
        ids_said = set(result["failed_ids"]) | set(result["unknown_ids"]) | set(e["task_id"] for e in result["errors"])
        ids_said |= set(item["task_id"] for item in result.get("needs_input") or [])
        for task_id, entry in followed.items():
            judge = entry.get("judged_by")
            if judge:
                # An INCONSISTENT task that a newer task on its resources decides now: only while that one succeeded
                # or still runs (else the INCONSISTENT one is an error naming it), as the simulator's record shows.
                assert entry["action"] == "skipped" and entry["judged_by_status"] in SUCCESS | RUNNING, entry
                assert self._status(after.get(judge)) in SUCCESS | RUNNING or entry["judged_by_status"] in RUNNING, (
                    entry, after.get(judge))
                continue
            truth = self._status(after.get(task_id))
            self._count_end(after, task_id)
            if not failed:
                # Without wait, a task it retried or watched and reported as running or not known is no claim of an
                # end (an outage's pauses move the clock on, so it may have ended before the step was over).
                unclaimed = not wait and entry["action"] in ("retried", "watched") and entry["status"] in (
                    RUNNING | {"UNKNOWN"})
                good = truth in SUCCESS | not_ended or unclaimed or task_id in ids_said or task_id in result.get(
                    "pending_ids", ())
                assert good, "bulk retry passed, task %s is %s: %s %s" % (
                    task_id, truth, result["msg"], json.dumps(result["results"]))
            if not self._stale(before, task_id) and entry["status"] not in RUNNING and entry["status"] != "UNKNOWN":
                if entry["action"] in ("retried", "watched") and not wait:
                    continue
                assert entry["status"] == truth, "bulk retry reported %s for %s, the task is %s" % (
                    entry["status"], task_id, truth)
            # A run that SDDC Manager's absence stopped (it failed, saying so) need not name every task's end.
            if truth not in SUCCESS | RUNNING and not self._stale(before, task_id) and not (failed and self.outage) and (
                    wait or entry["action"] not in ("retried", "watched")):
                pending = task_id in result.get("pending_ids", ()) and (
                    truth not in SPEC_WORDS or self._replaced(after, task_id) or self.outage
                    or self._not_known(result, task_id))
                assert task_id in ids_said or pending, (
                    "task %s ended %s, the bulk retry does not say so: %s" % (task_id, truth, result["msg"]))
        if fail_on_failure and not self.outage and not any(self._stale(before, i) for i in followed):
            expected = bool(result["errors"] or result["failed_ids"] or result["unknown_ids"]
                            or result["pending_ids"])
            assert failed == expected, result["msg"]

    @rule(data=st.data())
    def cancel(self, data):
        task_id = data.draw(st.sampled_from(self.ids))
        result, failed, before, after, _accepted, cancels = self._run(credentials_task_cancel, {"task_id": task_id})
        truth, start = self._status(after.get(task_id)), self._status(before[task_id])
        assert result.get("changed", False) == bool(cancels), (result, cancels)
        if not failed:
            assert truth in CANCELLED, "cancel passed, the task is %s" % truth
            assert result["status"] == truth or result["status"] in CANCELLED and truth in CANCELLED
        if not self._stale(before, task_id) and not self.outage:
            assert failed == (start not in CANCELLED | {"FAILED"}), "cancel of a %s task failed=%s: %s" % (
                start, failed, result["msg"])

    @rule(data=st.data(), fail_on_failure=st.booleans(), sleep=st.sampled_from([1, 10, 60]),
          polls=st.integers(0, 40))
    def wait(self, data, fail_on_failure, sleep, polls):
        ids = data.draw(st.lists(st.sampled_from(self.ids), unique=True, min_size=1))
        args = {"task_ids": ids, "fail_on_failure": fail_on_failure, "fail_on_timeout": fail_on_failure,
                "wait_sleep": sleep, "wait_timeout": sleep * polls}
        result, failed, before, after, _accepted, _cancels = self._run(credentials_task_wait, args)
        assert not result.get("changed", False)
        if "pending_ids" not in result:
            # It could not read the tasks at all: only while SDDC Manager is away, and never as a success.
            assert failed and self.outage, result["msg"]
            return
        stale = self._stale(before, *ids)
        reported = dict((t["id"], t["status"]) for t in result.get("tasks", []))
        for task_id in ids:
            truth = self._status(after.get(task_id))
            self._count_end(after, task_id)
            if not failed:
                ok = truth in SUCCESS or not fail_on_failure and (
                    task_id in result["failed_ids"] + result["unknown_ids"] + result["pending_ids"])
                assert ok, "wait passed, task %s is %s: %s" % (task_id, truth, result["msg"])
            # None: never read (an outage, a stale read), so not known - never a claim about the task.
            if not stale and reported.get(task_id, "IN_PROGRESS") not in RUNNING | {"UNKNOWN", None}:
                assert reported[task_id] == truth, "wait reported %s for %s, the task is %s" % (
                    reported[task_id], task_id, truth)
            if not stale and truth not in SUCCESS | RUNNING:
                pending = task_id in result["pending_ids"] and (
                    truth not in SPEC_WORDS or self._replaced(after, task_id) or self.outage
                    or self._not_known(result, task_id))
                assert task_id in result["failed_ids"] + result["unknown_ids"] or pending, (
                    "task %s ended %s, the wait does not say so: %s" % (task_id, truth, result["msg"]))
        if not stale and not self.outage:
            expected = any(self._status(after.get(i)) not in SUCCESS for i in ids) and fail_on_failure
            assert failed == expected, result["msg"]

    @rule(index=st.integers(0, 2), operation=st.sampled_from(["ROTATE", "UPDATE", "REMEDIATE"]),
          wait=st.booleans(), sleep=st.sampled_from([1, 10, 60]), polls=st.integers(0, 40))
    def start_operation(self, index, operation, wait, sleep, polls):
        """A new password operation (vcf.sddc_manager.credentials) on the account of one task's resource. Its
        REMEDIATE password is a new one, most likely not the one really set: the remediation may fail."""
        name = "esxi-prop-%d.rack.example.com" % (index % self.resources)
        credential = {"credential_type": "SSH", "username": "root"}
        if operation != "ROTATE":
            credential["password"] = "PLANTED-prop-op-%d-%d!Aa1" % (FIGURES.counts["examples"], FIGURES.counts["steps"])
            self.secrets.add(credential["password"])
        args = {"operation_type": operation, "wait": wait, "wait_sleep": sleep, "wait_timeout": sleep * polls,
                "elements": [{"resource_name": name, "resource_type": "ESXI", "credentials": [credential]}]}
        FIGURES.counts["steps"] += 1
        counters = self.ctl.counters()
        result, failed, _before, after, _accepted, _cancels = self._run(credentials, args)
        now = self.ctl.counters()
        started = now["operations_accepted"] - counters["operations_accepted"]
        FIGURES.counts["operations started"] += started
        # Locks are checked before sending: SDDC Manager never has to refuse an operation this module sends.
        assert now["operations_rejected"] == counters["operations_rejected"], result["msg"]
        assert started <= 1, "%d operations started in one step" % started
        assert result.get("changed", False) == bool(started) or self.outage, (result["msg"], started)
        if failed or not started:
            return
        truth = self._status(after.get(result.get("task_id")))
        if truth is not None:
            self._count_end(after, result["task_id"])
        if wait:
            assert truth in SUCCESS, "the operation passed with wait, its task is %s: %s" % (truth, result["msg"])
        reported = result.get("status")
        if reported and reported not in RUNNING | {"UNKNOWN"} and truth is not None:
            assert reported == truth, "the operation reported %s, its task is %s" % (reported, truth)

    @rule(seconds=st.sampled_from([5, 60, 1000, 4000]))
    def time_passes(self, seconds):
        self.time.sleep(seconds)
        FIGURES.counts["clock moves"] += 1

    @invariant()
    def nothing_accepted_twice(self):
        # Between steps nobody writes: the accepted retries are those the steps counted.
        counters = self.ctl.counters()
        assert counters["patches_accepted"] == sum(counters["retries_by_task"].values())


@pytest.mark.skipif(REAL, reason="the property run loads random scenarios into the simulator")
def test_modules_agree_with_the_simulator_on_random_profiles(tmp_path_factory, request):
    FIGURES.started = time.monotonic()
    # The control port stays reachable while an outage closes the API port.
    with Simulator(None, certs_dir=str(tmp_path_factory.mktemp("property-certs")), control_port=0) as sim:
        SddcManagerModel.sim = sim
        options = dict(max_examples=EXAMPLES, stateful_step_count=6, deadline=None, database=None,
                       suppress_health_check=list(HealthCheck), derandomize=not RANDOM, print_blob=True,
                       report_multiple_bugs=False, phases=[Phase.explicit, Phase.reuse, Phase.generate])
        run_state_machine_as_test(SddcManagerModel, settings=settings(**options))
    seconds = round(time.monotonic() - FIGURES.started, 1)
    counts = FIGURES.counts
    lines = [
        "properties: %d examples, %d module runs, %d clock moves in %s s; %d retries accepted, 0 accepted twice, "
        "0 false outcomes" % (counts["examples"], counts["module runs"], counts["clock moves"], seconds,
                              counts["retries accepted"]),
        "properties: %d steps met an outage or a restart (and no false outcome); %d password operations started" % (
            counts["steps through an outage"], counts["operations started"]),
        "properties: module runs: %s" % ", ".join(
            "%s %d" % (k, v) for k, v in sorted(counts.items()) if k.startswith("credentials_task")),
        "properties: ends judged: %s" % ", ".join("%s %d" % item for item in sorted(FIGURES.ends.items())),
        "properties: profiles: %s" % ", ".join("%s %d" % item for item in sorted(FIGURES.profiles.items())),
    ]
    report_figures(request.config, lines)
    assert counts["examples"] >= min(EXAMPLES, 500)
