"""Seeded chaos runs of the retry logic against the SDDC Manager simulator over real HTTPS.

Every run loads a fresh scenario with one task, picks faults from a generator seeded with the run's
number, and drives the collection's own code in this process -- ``_tasks.retry`` and then the ``Waiter``,
as ``credentials_task_retry`` does -- with a fast ``RetryPolicy``. Then it compares what the code
claimed with what the simulator knows:

* a **double retry** is a task that the simulator accepted more than one retry PATCH for;
* a **wrong outcome** is a claim that does not match the simulator: "retried" when no retry was
  accepted (or the reverse), "not applied" when it was, a final status other than the task's real
  one, or a failure where the faults injected leave a way to succeed.

Faults: bursts of 502/503/504 (HTML and JSON bodies) and 429s, connection resets and closes on
reads, on the login and on the token refresh; the access token expiring in the middle of the wait
(the refresh token valid or expired, username/password known or not); the reply to the retry
PATCH lost after the server accepted it; a 500 or a proxy's 503 on the PATCH, or a reset before it
reached the server; a proxy's 504 after the server accepted the PATCH (injected in the client's
transport); a PATCH slower than ``request_timeout``; a second client retrying the same task at the
same moment; tasks already running; and SDDC Manager going away right after it accepted the retry (an outage:
refused or reset connections, or a proxy's 502/503/504 page with or without ``Retry-After``), ending in a
restart that voids every token or not.

Each run also draws a release profile (4.5, 5.2, 9.0, 9.1: write answers 200 or 202, generic-view words,
9.1 notifications), the end of the retried run (every end the simulator knows: SUCCESSFUL, FAILED,
INCONSISTENT, USER_CANCELLED, CANCELLED, SKIPPED, TIMED_OUT, COMPLETED_WITH_WARNING and a word the spec does
not have) and stale reads after the retry. A run whose retry ended in anything but success and that the code
did not report as needing attention is a wrong outcome too: the verdict is judged against the simulator's
record, not against the collection's own vocabulary.

**Password operations** (``PATCH /v1/credentials``, issue 20): a sixth as many runs again start ROTATE, UPDATE
or REMEDIATE on unlocked accounts (REMEDIATE on INCONSISTENT ones, sometimes two accounts: one request per account,
in turn) through ``_operations`` exactly as the ``credentials`` module does (``plan``, ``start_in_turn`` with the one
waiter, then the wait), with faults on the write: its answer lost (then sometimes a long outage), a reset before it
reached SDDC Manager, a 500, a proxy's 503, a proxy's 504 after it was accepted, an empty answer, an answer slower
than ``request_timeout``, or a second controller starting the same operation at the same moment; and read faults,
outages after it and the ends of the task (a wrong REMEDIATE password too). Judged by the simulator's record: no
account gets two operations from one call (**accepted twice**, from ``operations_accepted`` and the tasks), and a
**false outcome** is a claimed start the simulator has no task for, a claimed success whose task did not end
SUCCESSFUL, a status other than the task's, "not started" for a request SDDC Manager accepted, or an account
claimed remediated or not sent that is not.

Run it alone::

    PYTHONPATH=$(.venv/bin/python tests/utils/pyroot.py) .venv/bin/python tests/chaos/chaos_run.py --runs 240

``tests/integration/test_chaos.py`` runs it in ``make integration`` and prints the figures.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

REPO = Path(__file__).resolve().parents[2]
for extra in (REPO / "tests" / "simulator", REPO / "tests" / "integration", REPO / "tests" / "utils"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from pyroot import ensure_pyroot  # noqa: E402

if str(ensure_pyroot()) not in sys.path:
    sys.path.insert(0, str(ensure_pyroot()))

import scenarios  # noqa: E402
from ansible_collections.vcf.sddc_manager.plugins.module_utils import (  # noqa: E402
    _batch,
    _operations,
    _status,
    _tasks,
    _verdict,
    _waiter,
)
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import (  # noqa: E402
    RetryPolicy,
    SddcManagerClient,
    SddcManagerError,
)
from ansible_collections.vcf.sddc_manager.plugins.module_utils._waiter import Waiter  # noqa: E402

TASK_ID = "chaos-task"
TASK_PATH = "/v1/credentials/tasks/" + TASK_ID
REFRESH_PATH = "/v1/tokens/access-token/refresh"
ACCESS_LIFETIME = 3600
REQUEST_TIMEOUT = 2.0
SLOW_TIMEOUT = 0.4          # request_timeout of runs with a PATCH slower than it
SLOW_DELAY = 0.9            # how long that PATCH takes
WAIT_TIMEOUT = 20.0
WAIT_SLEEP = 0.05

# The ends a retried run may have (tests/simulator/README.md, "Ending a run"), with their weights; the oracle
# counts only SUCCESSFUL and COMPLETED_WITH_WARNING (every sub-task succeeded) as a success.
ENDS = {"SUCCESSFUL": 40, "FAILED": 20, "INCONSISTENT": 6, "USER_CANCELLED": 5, "CANCELLED": 3, "SKIPPED": 3,
        "TIMED_OUT": 5, "COMPLETED_WITH_WARNING": 4, "ROLLED_BACK": 3}
SUCCESS = {"SUCCESSFUL", "COMPLETED_WITH_WARNING"}
RELEASES = ["4.5", "5.2", "9.0", "9.1"]

READ_FAULTS = [scenarios.HTML_502, scenarios.HTML_503, scenarios.HTML_504, scenarios.JSON_503,
               scenarios.RATE_LIMIT, scenarios.RESET, scenarios.CLOSE, scenarios.fault("lost_reply", mode="fin")]
# What may go wrong with the retry PATCH, and whether the server applied it.
PATCH_FAULTS = {
    "lost_reply": (scenarios.LOST_REPLY, True),
    "lost_reply_fin": (scenarios.fault("lost_reply", mode="fin"), True),
    "reset_before": (scenarios.RESET, False),
    "http_500": (scenarios.fault("http_error", status=500, body="json"), False),
    "proxy_503": (scenarios.HTML_503, False),
    "proxy_504_after_accept": (None, True),   # client side: see ``_ProxyAfterAccept``
    "slow_past_timeout": (scenarios.fault("slow", delay=SLOW_DELAY), True),
}


# Password operation runs (``OpPlan``): the operation, the ends of its tasks, and what may go wrong with the write.
OP_TYPES = {"ROTATE": 35, "UPDATE": 30, "REMEDIATE": 35}
OP_ENDS = {"SUCCESSFUL": 60, "FAILED": 14, "COMPLETED_WITH_WARNING": 5, "TIMED_OUT": 5, "INCONSISTENT": 5,
           "ROLLED_BACK": 5}
OP_PATH = "/v1/credentials"
OP_ROUTE = "PATCH /v1/credentials"
OP_OUTAGE_SECONDS = 1.2     # longer than a read's retries (6 attempts) plus CONFIRM_SECONDS: no read answers
# fault: (simulator rule or None, whether SDDC Manager applied the write)
OP_FAULTS = {
    "lost_reply": (scenarios.LOST_REPLY, True),
    "lost_reply_fin": (scenarios.fault("lost_reply", mode="fin"), True),
    "lost_reply_then_outage": (scenarios.LOST_REPLY, True),   # plus a write-triggered outage: see ``op_scenario``
    "reset_before": (scenarios.RESET, False),
    "http_500": (scenarios.fault("http_error", status=500, body="json"), False),
    "proxy_503": (scenarios.HTML_503, False),
    "proxy_504_after_accept": (None, True),   # client side: ``_ProxyAfterAccept``
    "empty_answer": (scenarios.fault("empty_answer", status=202), True),
    "slow_past_timeout": (scenarios.fault("slow", delay=SLOW_DELAY), True),
}


def planted(label, seed):
    return scenarios.planted("chaos-%s-%d" % (label, seed))


class _ProxyAfterAccept(HTTPAdapter):
    """A load balancer that lets the retry PATCH through, then answers the client 504 itself."""

    def __init__(self, *args, path=TASK_PATH, **kwargs):
        self.armed = False
        self.fired = 0
        self.path = path
        super().__init__(*args, **kwargs)

    def send(self, request, *args, **kwargs):
        response = super().send(request, *args, **kwargs)
        if self.armed and self._matches(request):
            self.armed = False
            self.fired += 1
            fake = requests.Response()
            fake.status_code = 504
            fake.reason = "Gateway Time-out"
            fake._content = b"<html><head><title>504 Gateway Time-out</title></head><body>nginx</body></html>"
            fake.headers["Content-Type"] = "text/html"
            fake.url, fake.request = response.url, request
            return fake
        return response

    def _matches(self, request):
        path = request.path_url.split("?")[0]
        # /v1/credentials exactly: /v1/credentials/tasks/... starts with it too
        return request.method == "PATCH" and (path == self.path if self.path == OP_PATH else path.startswith(self.path))


def _meet(barrier):
    try:
        barrier.wait(timeout=30)
    except threading.BrokenBarrierError:
        pass


class Plan:
    """What one run does, drawn from its seed."""

    def __init__(self, seed):
        rng = random.Random("chaos:%d" % seed)
        self.seed = seed
        self.type = "ROTATE" if rng.random() < 0.7 else "UPDATE"
        self.outcome = rng.choices(sorted(ENDS), [ENDS[k] for k in sorted(ENDS)])[0]
        self.release = rng.choice(RELEASES)
        # A third of the runs list sub-tasks without their optional fields: the retry request is then rebuilt
        # from the task's resource credentials (one more read, which may meet the read faults too). Not drawn
        # from rng, so that every other draw of a seed stays what it was.
        self.subtask_fields = "sparse" if seed % 3 == 0 else "full"
        self.run_seconds = round(rng.uniform(0.05, 0.35), 3)
        self.initial = rng.choices(["FAILED", "IN_PROGRESS", "SUCCESSFUL"], [0.9, 0.05, 0.05])[0]
        self.concurrent = self.initial == "FAILED" and rng.random() < 0.12
        if self.concurrent:
            # SDDC Manager has no conditional write (no ETag, no If-Match): a client whose read is older than a
            # whole run of the task would retry it again, rightly, as FAILED again. A real run takes minutes, far
            # longer than a client's read-to-PATCH gap; so here too the run outlasts that gap, and the clock is
            # not jumped forward while the other client may be between its read and its PATCH.
            self.run_seconds = round(rng.uniform(0.6, 0.9), 3)
        # The PATCH faults; none with a concurrent retry: a lost answer to the losing PATCH cannot be told
        # apart from a won one by reading the task, by the collection or by anyone.
        self.patch_fault = None
        if self.initial == "FAILED" and not self.concurrent and rng.random() < 0.45:
            self.patch_fault = rng.choice(sorted(PATCH_FAULTS))
        # Two clients share one fault sequence and may each meet two bursts back to back: shorter bursts then,
        # so that no read meets more faults in a row than the retry policy's six attempts allow.
        self.read_faults = self._read_sequence(rng, 2 if self.concurrent else 4) if rng.random() < 0.75 else []
        self.login_faults = [rng.choice(READ_FAULTS) for _fault in range(rng.randint(1, 3))] if rng.random() < 0.2 else []
        # The access token expires before poll ``expire_at_poll`` (1-based); None: it does not.
        self.expire_at_poll = rng.randint(1, 3) if rng.random() < 0.3 and not self.concurrent else None
        self.refresh_expired = self.expire_at_poll is not None and rng.random() < 0.35
        self.with_password = rng.random() < 0.6
        self.refresh_faults = ([rng.choice(READ_FAULTS) for _fault in range(rng.randint(1, 3))]
                               if self.expire_at_poll is not None and rng.random() < 0.4 else [])
        # Reads right after the accepted retry that still show the run before it (FIELD-NOTES). Not with a second
        # client: its read of the old state would make it retry a task that runs, which SDDC Manager refuses.
        self.stale_reads = rng.choice([0, 0, 0, 1, 2]) if not self.concurrent else 0
        if not self.with_password:
            self.login_faults = []  # the harness logs in for the run; nothing of the client's own
        # SDDC Manager goes away right after it accepted the retry: the wait must read on through it (never an end),
        # and after a restart log in again, or, with tokens only, stop with one clear auth error. Short outages on
        # the simulator's (real-time) clock keep the run's time within a third more.
        self.outage = None
        if self.initial == "FAILED" and not self.concurrent and self.patch_fault is None and rng.random() < 0.1:
            self.outage = {"mode": rng.choice(["refuse", "reset", "proxy"]), "duration": round(rng.uniform(0.2, 0.6), 2),
                           "restart": rng.random() < 0.5}
            if self.outage["mode"] == "proxy":
                self.outage.update(status=rng.choice([502, 503, 504]), retry_after=rng.choice([None, 1]))

    @staticmethod
    def _read_sequence(rng, longest):
        """Bursts of 1 to ``longest`` faults on the task's reads, with at least one good answer between bursts."""
        sequence = []
        for _burst in range(rng.randint(1, 4)):
            sequence += [None] * rng.randint(0, 3)
            sequence += [rng.choice(READ_FAULTS) for _fault in range(rng.randint(1, longest))]
            sequence.append(None)
        return sequence

    def expected(self, expired=True):
        """``(claim, final status)``: what a correct run reports; ``expired``: the token did expire mid-wait
        (it cannot when the task ends before that poll)."""
        if self.initial == "IN_PROGRESS":
            return "running", None
        if self.initial == "SUCCESSFUL":
            return "done", None
        if self.patch_fault and not PATCH_FAULTS[self.patch_fault][1]:
            return "not_applied", None
        if self.patch_fault == "slow_past_timeout":
            return "unknown", None  # no answer in time and the task not yet changed: nobody can know yet
        if expired and self.expire_at_poll is not None and self.refresh_expired and not self.with_password:
            return "retried_then_auth_error", None
        if self.outage and self.outage["restart"] and not self.with_password:
            return "retried_then_auth_error", None  # the restart voided both tokens
        return "retried", self.outcome

    def describe(self):
        return {k: v for k, v in vars(self).items() if k != "read_faults"} | {
            "read_faults": [f and f["kind"] + ("_%s" % f.get("status") if "status" in f else "")
                            for f in self.read_faults]}


def scenario(plan):
    credentials = [{"credential_type": "SSH", "account_type": "USER", "username": "root",
                    "password": planted("old", plan.seed), "new_password": planted("want", plan.seed)}]
    outcome = plan.outcome
    if plan.outcome == "FAILED":
        outcome = {"status": "FAILED", "errors": [
            {"subtask": 0, "errorCode": "PASSWORD_SSH_AUTH_FAILED", "message": "SSH login refused",
             "remediationMessage": "Fix the root password on the host, then retry"}]}
    elif plan.outcome == "ROLLED_BACK":  # a word of no enum: the simulator sends it as status_word
        outcome = {"status_word": plan.outcome}
    task = {"id": TASK_ID, "type": plan.type, "status": plan.initial, "created": "2026-11-20T10:00:00Z",
            "run_seconds": plan.run_seconds if plan.initial != "IN_PROGRESS" else None,
            "stale_reads": plan.stale_reads, "outcomes": [outcome], "resources": [
                {"name": "esxi-chaos-%d.rack.example.com" % plan.seed, "type": "ESXI", "credentials": credentials}]}
    faults = []
    if plan.login_faults:
        faults += scenarios.fault_sequence("POST", "/v1/tokens", plan.login_faults + [None])
    if plan.refresh_faults:
        faults += scenarios.fault_sequence("PATCH", REFRESH_PATH, plan.refresh_faults + [None])
    if plan.read_faults:
        faults += scenarios.fault_sequence("GET", TASK_PATH + "*", plan.read_faults)
    if plan.patch_fault and PATCH_FAULTS[plan.patch_fault][0] is not None:
        faults += scenarios.fault_sequence("PATCH", TASK_PATH, [PATCH_FAULTS[plan.patch_fault][0]])
    if plan.outage:
        faults.append(dict(plan.outage, kind="outage", trigger="write", match={"method": "PATCH", "path": TASK_PATH}))
    return {"seed": plan.seed, "release": plan.release, "users": [scenarios.ADMIN],
            "subtask_fields": plan.subtask_fields,
            "tokens": {"access_lifetime": ACCESS_LIFETIME,
                       "refresh_lifetime": ACCESS_LIFETIME // 2 if plan.refresh_expired else 86400},
            "tasks": [task], "faults": faults}


def options(plan):
    if plan.type == "ROTATE":
        return {}
    return {"operation_type": "UPDATE", "elements": [{
        "resource_name": "esxi-chaos-%d.rack.example.com" % plan.seed, "resource_type": "ESXI",
        "credentials": [{"credential_type": "SSH", "username": "root", "password": planted("new", plan.seed)}]}]}


def _overlap(operations):
    """Whether two of the operations' tasks ran at the same time (ISO times of one form compare as text)."""
    runs = sorted((t["created"], t["completed"] or "9999") for t in operations)
    return any(later[0] < earlier[1] for earlier, later in zip(runs, runs[1:]))


class OpPlan:
    """One password operation run, drawn from its seed."""

    def __init__(self, seed):
        rng = random.Random("chaos-op:%d" % seed)
        self.seed = seed
        self.type = rng.choices(sorted(OP_TYPES), [OP_TYPES[k] for k in sorted(OP_TYPES)])[0]
        self.release = rng.choice(RELEASES)
        hosts = 2 if rng.random() < (0.4 if self.type == "REMEDIATE" else 0.25) else 1
        self.hosts = ["esxi-op-%d-%d.rack.example.com" % (seed, index) for index in range(hosts)]
        # Each account's operation ends as drawn; a REMEDIATE with the wrong password fails, whatever was drawn.
        self.ends = [rng.choices(sorted(OP_ENDS), [OP_ENDS[k] for k in sorted(OP_ENDS)])[0] for _host in self.hosts]
        self.wrong_password = [self.type == "REMEDIATE" and rng.random() < 0.1 for _host in self.hosts]
        # An UPDATE to the password SDDC Manager already holds starts nothing.
        self.held_already = self.type == "UPDATE" and rng.random() < 0.1
        self.run_seconds = round(rng.uniform(0.05, 0.25), 3)
        self.concurrent = not self.held_already and rng.random() < 0.12
        if self.concurrent:
            # As in the retry runs: the first task still runs when the other controller's request arrives.
            self.run_seconds = round(rng.uniform(0.6, 0.9), 3)
        # No fault with a second controller: a lost answer to the refused request cannot be told apart from an
        # accepted one by reading the tasks, by the collection or by anyone.
        self.fault = None
        if not self.concurrent and not self.held_already and rng.random() < 0.5:
            self.fault = rng.choice(sorted(OP_FAULTS))
        self.read_faults = Plan._read_sequence(rng, 3) if rng.random() < 0.5 else []
        self.wait = rng.random() < 0.8
        self.outage = None
        if self.fault is None and not self.concurrent and not self.held_already and rng.random() < 0.1:
            self.outage = {"mode": rng.choice(["refuse", "reset", "proxy"]),
                           "duration": round(rng.uniform(0.2, 0.5), 2), "restart": rng.random() < 0.5}
        elif self.fault == "lost_reply_then_outage":
            self.outage = {"mode": rng.choice(["refuse", "reset", "proxy"]), "duration": OP_OUTAGE_SECONDS,
                           "restart": False}
        if self.outage and self.outage["mode"] == "proxy":
            self.outage.update(status=rng.choice([502, 503, 504]), retry_after=None)

    def passwords(self, host_index):
        """``(held, real, given)``: what SDDC Manager holds, what is set on the host, what the call gives."""
        held = planted("op-held-%d" % host_index, self.seed)
        if self.type == "REMEDIATE":
            real = planted("op-real-%d" % host_index, self.seed)
            wrong = planted("op-wrong-%d" % host_index, self.seed)
            return held, real, wrong if self.wrong_password[host_index] else real
        if self.type == "UPDATE":
            return held, held, held if self.held_already else planted("op-new-%d" % host_index, self.seed)
        return held, held, None

    def requests(self):
        """How many requests a call sends when each ends well: one, or one per account for REMEDIATE."""
        return len(self.hosts) if self.type == "REMEDIATE" else 1

    def describe(self):
        return {k: v for k, v in vars(self).items() if k != "read_faults"} | {"read_faults": len(self.read_faults)}


def op_scenario(plan):
    resources, tasks, rules = [], [], []
    for index, host in enumerate(plan.hosts):
        held, real, _given = plan.passwords(index)
        account = {"credential_type": "SSH", "account_type": "USER", "username": "root", "password": held,
                   "real_password": real}
        resources.append({"name": host, "type": "ESXI", "credentials": [account]})
        # REMEDIATE repairs an INCONSISTENT account; the others start on accounts whose last task succeeded.
        tasks.append({"id": "op-before-%d" % index, "type": "ROTATE",
                      "status": "INCONSISTENT" if plan.type == "REMEDIATE" else "SUCCESSFUL",
                      "created": "2026-11-20T10:00:0%dZ" % index, "resources": [
                          {"name": host, "type": "ESXI", "credentials": [
                              {"credential_type": "SSH", "account_type": "USER", "username": "root",
                               "password": held}]}]})
        end = plan.ends[index]
        outcome = {"status_word": end} if end == "ROLLED_BACK" else {"status": end}
        rules.append({"match": {"operation": plan.type, "resource": host}, "outcomes": [outcome]})
    faults = []
    if plan.read_faults:
        faults += scenarios.fault_sequence("GET", "/v1/credentials/tasks*", plan.read_faults)
    if plan.fault and OP_FAULTS[plan.fault][0] is not None:
        faults += scenarios.fault_sequence("PATCH", OP_PATH, [OP_FAULTS[plan.fault][0]])
    if plan.outage:
        faults.append(dict(plan.outage, kind="outage", trigger="write", match={"method": "PATCH", "path": OP_PATH}))
    return {"seed": plan.seed, "release": plan.release, "users": [scenarios.ADMIN],
            "tokens": {"access_lifetime": ACCESS_LIFETIME, "refresh_lifetime": 86400},
            "tasks": tasks, "resources": resources, "faults": faults,
            "operations": {"run_seconds": plan.run_seconds, "rules": rules}}


def op_options(plan):
    elements = []
    for index, host in enumerate(plan.hosts):
        credential = {"credential_type": "SSH", "username": "root"}
        given = plan.passwords(index)[2]
        if given is not None:
            credential["password"] = given
        elements.append({"resource_name": host, "resource_type": "ESXI", "credentials": [credential]})
    return {"operation_type": plan.type, "elements": elements, "auto_rotate_policy": None}


class Chaos:
    def __init__(self, sim):
        self.sim = sim
        self.ctl = sim.control()
        self.totals = collections.Counter()
        self.faults = collections.Counter()
        self.failures = []

    # -- one run -------------------------------------------------------------------------------------------------

    def client(self, plan, tokens=None, adapter=None):
        policy = RetryPolicy(attempts=6, base=0.02, cap=0.1, budget=15.0, rng=random.Random(plan.seed))
        timeout = SLOW_TIMEOUT if plan.patch_fault == "slow_past_timeout" else REQUEST_TIMEOUT
        session = SddcManagerClient._new_session(self.sim.ca_path, None)
        session.trust_env = False
        if adapter is not None:
            session.mount("https://", adapter)
        kwargs = dict(hostname="127.0.0.1", port=self.sim.port, ca_path=self.sim.ca_path, request_timeout=timeout,
                      retry_policy=policy, session=session)
        if tokens:
            kwargs.update(access_token=tokens[0], refresh_token=tokens[1])
        if plan.with_password or not tokens:
            kwargs.update(username=scenarios.ADMIN["username"], password=scenarios.ADMIN["password"])
        return SddcManagerClient(**kwargs)

    def run(self, seed):
        plan = Plan(seed)
        self.ctl.load(scenario(plan))
        tokens = None
        if not plan.with_password:
            # The play logged in earlier (vcf.sddc_manager.token) and hands over only the tokens.
            tokens = SddcManagerClient(hostname="127.0.0.1", port=self.sim.port, ca_path=self.sim.ca_path,
                                       username=scenarios.ADMIN["username"],
                                       password=scenarios.ADMIN["password"]).login()
        if plan.concurrent:
            claims = self._concurrent(plan, tokens)
        else:
            claims = [self._one(plan, tokens)]
        self._settle(plan)
        self._judge(plan, claims)

    def _one(self, plan, tokens, barrier=None):
        adapter = _ProxyAfterAccept(pool_connections=1, pool_maxsize=4, max_retries=0)
        adapter.armed = plan.patch_fault == "proxy_504_after_accept"
        client = self.client(plan, tokens, adapter)
        claim = {"claim": None, "status": None, "error": None, "kind": None, "expired": False}
        try:
            if barrier is not None:
                client.get_task(TASK_ID)  # log in first, so that both retries start together
                _meet(barrier)
            result = _tasks.retry(client, TASK_ID, options(plan))
        except SddcManagerError as exc:
            if barrier is not None:
                barrier.abort()  # the other client goes on alone
            claim.update(claim="error", error=exc.message, kind=exc.kind)
            return claim
        finally:
            if adapter.fired:
                self.faults["proxy_504_after_accept"] += adapter.fired
        if not result["changed"]:
            status = _status.normalize(result["task"].get("status"))
            claim.update(claim="running" if status in _status.RUNNING else "done", status=status)
            if "another client" in result["msg"]:
                claim["claim"] = "other_client"
            return claim
        claim["claim"] = "retried"
        polls = [0]

        def fetch(ids):
            polls[0] += 1
            if polls[0] == plan.expire_at_poll:
                self.ctl.advance(ACCESS_LIFETIME + 5)
                claim["expired"] = True
                self.faults["token_expired_mid_wait"] += 1
                if plan.refresh_expired:
                    self.faults["refresh_token_expired"] += 1
            return _tasks.fetch_tasks(client, ids)

        waiter = Waiter(fetch, WAIT_TIMEOUT, WAIT_SLEEP)
        try:
            outcome = waiter.wait([TASK_ID], baselines={TASK_ID: result["baseline"]})
        except SddcManagerError as exc:
            claim.update(claim="retried_then_error", error=exc.message, kind=exc.kind)
            return claim
        if outcome.timed_out:
            claim["claim"] = "retried_timed_out"
        claim["status"] = _status.normalize(outcome.tasks[TASK_ID].get("status"))
        claim["verdict"] = outcome.verdicts[TASK_ID].state
        claim["logins"], claim["refreshes"] = client.logins, client.refreshes
        return claim

    def _concurrent(self, plan, tokens):
        barrier = threading.Barrier(2)
        claims = [None, None]

        def play(index):
            claims[index] = self._one(plan, tokens, barrier)

        threads = [threading.Thread(target=play, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.faults["concurrent_retry"] += 1
        return claims

    def _settle(self, plan):
        """Let a PATCH still sleeping in the simulator land before the truth is read."""
        if plan.patch_fault == "slow_past_timeout":
            deadline = time.monotonic() + SLOW_DELAY + 2
            while time.monotonic() < deadline:
                if any(e["method"] == "PATCH" and e["path"] == TASK_PATH for e in self.ctl.log()):
                    break
                time.sleep(0.05)

    # -- password operation runs ---------------------------------------------------------------------------------

    def run_operation(self, seed):
        plan = OpPlan(seed)
        self.ctl.load(op_scenario(plan))
        if plan.concurrent:
            barrier = threading.Barrier(2)
            claims = [None, None]

            def play(index):
                claims[index] = self._operate(plan, barrier)

            threads = [threading.Thread(target=play, args=(i,)) for i in (0, 1)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.faults["operation: a second controller starts it too"] += 1
        else:
            claims = [self._operate(plan)]
        self._settle_operation(plan)
        self._judge_operation(plan, claims)

    def _op_client(self, plan, adapter):
        policy = RetryPolicy(attempts=6, base=0.02, cap=0.1, budget=15.0, rng=random.Random(plan.seed))
        session = SddcManagerClient._new_session(self.sim.ca_path, None)
        session.trust_env = False
        session.mount("https://", adapter)
        return SddcManagerClient(hostname="127.0.0.1", port=self.sim.port, ca_path=self.sim.ca_path,
                                 request_timeout=SLOW_TIMEOUT if plan.fault == "slow_past_timeout" else REQUEST_TIMEOUT,
                                 retry_policy=policy, session=session, username=scenarios.ADMIN["username"],
                                 password=scenarios.ADMIN["password"])

    def _operate(self, plan, barrier=None):
        """What the credentials module does (plan, start_in_turn with the one waiter, the wait), and what it claims."""
        adapter = _ProxyAfterAccept(pool_connections=1, pool_maxsize=4, max_retries=0, path=OP_PATH)
        adapter.armed = plan.fault == "proxy_504_after_accept"
        client = self._op_client(plan, adapter)
        claim = {"claim": None, "error": None, "kind": None, "steps": [], "stopped": None, "not_done": [],
                 "final": None}

        def wait_for(task_id):
            return _batch.wait_after_writes(client, [task_id], None, None, WAIT_TIMEOUT, WAIT_SLEEP)

        try:
            try:
                operation = _operations.plan(client, op_options(plan), on_secret=lambda _secret: None)
            finally:
                if barrier is not None:
                    _meet(barrier)  # both controllers have read the tasks: now both send
            if not operation.changed:
                claim["claim"] = "unchanged"
                return claim
            run = _operations.start_in_turn(client, operation, wait_for)
            claim.update(claim="started", stopped=run.stopped, msg=run.msg,
                         not_done=[a["resource_name"] for a in run.not_done])
            for step in run.steps:
                found = _verdict.verdict(step["task"])
                claim["steps"].append({"task_id": step["task_id"], "status": found.status, "verdict": found.state,
                                       "hosts": [a["resource_name"] for a in step["accounts"]]})
            last = run.last
            if plan.wait and last["task_id"] and not run.stopped:
                waited = wait_for(last["task_id"])
                found = waited.verdicts[last["task_id"]]
                claim["final"] = {"task_id": last["task_id"], "status": found.status, "verdict": found.state,
                                  "timed_out": waited.timed_out}
        except SddcManagerError as exc:
            if claim["claim"] == "started":
                claim.update(claim="started_then_error", error=exc.message, kind=exc.kind)
            else:
                claim.update(claim="error", error=exc.message, kind=exc.kind)
        finally:
            if adapter.fired:
                self.faults["proxy_504_after_accept on operation"] += adapter.fired
        return claim

    def _settle_operation(self, plan):
        """Let a request still sleeping in the simulator, or an outage, end before the truth is read."""
        deadline = time.monotonic() + SLOW_DELAY + OP_OUTAGE_SECONDS + 2
        while time.monotonic() < deadline:
            landed = plan.fault != "slow_past_timeout" or any(
                e["method"] == "PATCH" and e["path"] == OP_PATH for e in self.ctl.log())
            if landed and (not plan.outage or not self.ctl.outage_status().get("active", False)):
                return
            time.sleep(0.05)

    def _judge_operation(self, plan, claims):
        counters = self.ctl.counters()
        operations = [t for t in self.ctl.tasks() if not t["id"].startswith("op-before-")]
        for entry in self.ctl.log():
            if entry["fault"] and entry["method"] == "PATCH":
                self.faults["operation: %s" % (plan.fault if entry["fault"] != "outage" else "outage")] += 1
        if plan.fault == "slow_past_timeout":
            self.faults["operation: slow_past_timeout"] += 1
        if counters.get("outages"):
            self.faults["operation: outage (%s) after the write" % plan.outage["mode"]] += counters["outages"]
        accepted = counters["operations_accepted"]
        sent = counters["by_route"].get(OP_ROUTE, 0)
        self.totals["op_runs"] += 1
        self.totals["op_type " + plan.type] += 1
        self.totals["op_sent"] += sent
        self.totals["op_accepted"] += accepted
        self.totals["op_claimed"] += sum(1 for c in claims for step in c["steps"] if step["task_id"])
        per_host = collections.Counter(r["name"] for t in operations for r in t["resources"])
        # One call sends at most one request per account. Two controllers are two calls: a second operation on an
        # account is theirs to start once the first ended (a run that slowed past the first's end), never during it.
        calls = 2 if plan.concurrent and not _overlap(operations) else 1
        twice = sorted(host for host, count in per_host.items() if count > calls)
        if twice:
            self.totals["op_accepted_twice"] += 1
        for task in operations:
            self.totals["op_end " + _status.normalize(task["status"])] += 1
        problems = ["accepted twice on %s" % ", ".join(twice)] if twice else []
        problems += self._op_problems(plan, claims, operations, accepted)
        secrets = [p for index in range(len(plan.hosts)) for p in plan.passwords(index) if p]
        if any(secret in json.dumps(claims) for secret in secrets):
            problems.append("a password in what the code claimed")
        if problems:
            self.totals["op_false_outcomes"] += 1
            self.failures.append({"seed": plan.seed, "operation": True, "plan": plan.describe(), "claims": claims,
                                  "truth": {"operations": [{"id": t["id"], "status": t["status"], "hosts": [
                                      r["name"] for r in t["resources"]]} for t in operations],
                                      "accepted": accepted, "sent": sent}, "problems": problems})

    def _op_problems(self, plan, claims, operations, accepted):
        truth = dict((t["id"], t) for t in operations)
        problems = []
        if accepted != len(operations):
            problems.append("%d operations accepted, %d tasks" % (accepted, len(operations)))
        if any(t["type"] == "REMEDIATE" and len(t["subtasks"]) != 1 for t in operations):
            problems.append("a REMEDIATE task of more than one account")
        claimed_ids = [step["task_id"] for c in claims for step in c["steps"] if step["task_id"]]
        if len(claimed_ids) != len(set(claimed_ids)):
            problems.append("two claims of one task: %s" % claimed_ids)
        for claim in claims:
            for step in claim["steps"]:
                task = truth.get(step["task_id"])
                if step["task_id"] and task is None:
                    problems.append("claimed task %s, which SDDC Manager never started" % step["task_id"])
                    continue
                if task is not None and sorted(r["name"] for r in task["resources"]) != sorted(step["hosts"]):
                    problems.append("task %s is not on %s" % (step["task_id"], step["hosts"]))
                if task is not None and step["verdict"] == _verdict.SUCCEEDED \
                        and _status.normalize(task["status"]) not in SUCCESS:
                    problems.append("claimed task %s succeeded; it is %s" % (step["task_id"], task["status"]))
            final = claim["final"]
            if final is not None and not final["timed_out"]:
                real = _status.normalize(truth[final["task_id"]]["status"])
                if final["status"] != real or (final["verdict"] == _verdict.SUCCEEDED) != (real in SUCCESS):
                    problems.append("the wait reported %s (%s), the task is %s" % (final["status"], final["verdict"],
                                                                                   real))
            for host in claim["not_done"]:
                if any(host in [r["name"] for r in t["resources"]] for t in operations):
                    problems.append("%s claimed not remediated, but an operation was accepted on it" % host)
            if claim["claim"] == "started" and not claim["stopped"] and not plan.concurrent:
                missing = [h for h in plan.hosts if not any(h in [r["name"] for r in t["resources"]]
                                                            for t in operations)]
                if missing:
                    problems.append("claimed every account done; nothing was accepted on %s" % missing)
            if claim["stopped"]:
                ended_well = [s for s in claim["steps"] if s["verdict"] == _verdict.SUCCEEDED]
                if len(ended_well) == len(claim["steps"]) and "failed" not in claim["stopped"] \
                        and "not known" not in claim["stopped"] and "locked" not in claim["stopped"]:
                    problems.append("stopped with every step a success: %s" % claim["stopped"])
            if claim["error"] is not None and ("\n" in claim["error"] or "Traceback" in claim["error"]):
                problems.append("the error is not one line: %r" % claim["error"])
            if claim["claim"] == "error" and "was not started" in claim["error"] and any(
                    plan.hosts[0] in [r["name"] for r in t["resources"]] for t in operations) and not plan.concurrent:
                problems.append("said not started, but SDDC Manager accepted it: %s" % claim["error"])
        problems += self._op_expected(plan, claims, operations)
        return problems

    @staticmethod
    def _op_expected(plan, claims, operations):
        """What the drawn fault leaves a correct call to claim."""
        if plan.held_already:
            return [] if [c["claim"] for c in claims] == ["unchanged"] and not operations else [
                "an UPDATE to the held password: expected nothing sent, got %s" % claims]
        if plan.concurrent:
            started = [c for c in claims if c["claim"].startswith("started")]
            refused = [c for c in claims if c["claim"] == "error"]
            if len(started) == 2 and len(operations) == 2 and not _overlap(operations):
                return []  # the second arrived after the first had ended: both rightly started
            if len(started) != 1 or len(refused) != 1:
                return ["two controllers: expected one start and one refusal, got %s" % [c["claim"] for c in claims]]
            if "locked" not in refused[0]["error"]:
                return ["the refused controller does not say the resource is locked: %s" % refused[0]["error"]]
            return []
        claim = claims[0]
        applied = OP_FAULTS[plan.fault][1] if plan.fault else True
        if not applied:
            if claim["claim"] != "error" or operations or "was not started" not in claim["error"]:
                return ["a write that never reached SDDC Manager: expected 'not started', got %s" % claim]
            return []
        if plan.fault in ("slow_past_timeout", "lost_reply_then_outage"):
            # Nobody can know yet: the task may be listed later.  Started (with the right task) or "not known".
            if claim["claim"].startswith("started"):
                return []
            if claim["claim"] != "error" or claim["kind"] != "ambiguous" or not any(
                    words in claim["error"] for words in ("may still", "not known")):
                return ["a write whose outcome nobody can know yet: expected 'not known', got %s" % claim]
            return []
        if not claim["claim"].startswith("started") or not claim["steps"] or not claim["steps"][0]["task_id"]:
            return ["an accepted operation: expected it started with its task, got %s" % claim]
        return []

    # -- judging ---------------------------------------------------------------------------------------------------

    def _judge(self, plan, claims):
        counters = self.ctl.counters()
        truth = next(t for t in self.ctl.tasks() if t["id"] == TASK_ID)
        for entry in self.ctl.log():
            if entry["fault"]:
                label = entry["fault"]
                if entry["fault"] in ("http_error", "rate_limit"):
                    label = "http_%s" % entry["status"]
                where = ("login" if entry["path"] == "/v1/tokens" else "refresh" if entry["path"] == REFRESH_PATH
                         else "patch" if entry["method"] == "PATCH" else "read")
                self.faults["%s on %s" % (label, where)] += 1
        for rule in self.ctl.faults():
            if rule["kind"] == "slow":
                # The client gave up on it, so the simulator could not answer, and its log shows no fault.
                self.faults["slow on patch"] += rule["fired"]
        if counters.get("outages"):
            self.faults["outage (%s) after the retry" % plan.outage["mode"]] += counters["outages"]
            self.faults["restart"] += counters["restarts"]
        accepted = truth["retries"]
        if accepted and plan.stale_reads:
            self.faults["stale_reads after retry"] += plan.stale_reads - truth["stale_reads_left"]
        sent = counters["by_route"].get("PATCH /v1/credentials/tasks/{id}", 0)
        self.totals["runs"] += 1
        self.totals["patches_sent"] += sent
        self.totals["patches_accepted"] += counters["patches_accepted"]
        self.totals["refreshes"] += counters["refreshes"]
        self.totals["logins"] += counters["logins"]
        if accepted > 1:
            self.totals["double_retries"] += 1
        problems = self._problems(plan, claims, truth, accepted)
        for claim in claims:
            if claim["error"] is not None and ("\n" in claim["error"] or "Traceback" in claim["error"]):
                problems.append("the error is not one line: %r" % claim["error"])
        if problems:
            self.totals["wrong_outcomes"] += 1
            self.failures.append({"seed": plan.seed, "plan": plan.describe(), "claims": claims,
                                  "truth": {"status": truth["status"], "retries": accepted, "patches_sent": sent},
                                  "problems": problems})
        expected_claim = plan.expected(any(c["expired"] for c in claims))[0]
        self.totals["expected " + expected_claim] += 1
        self.totals["release " + plan.release] += 1
        if expected_claim == "retried":
            self.totals["end " + _status.normalize(truth["status"])] += 1

    def _problems(self, plan, claims, truth, accepted):
        expected, final = plan.expected(any(c["expired"] for c in claims))
        real = _status.normalize(truth["status"])
        problems = []
        if accepted > 1:
            problems.append("%d retries accepted" % accepted)
        if plan.concurrent:
            # One of the two retries is accepted and claimed; the other client says it was not needed. When the
            # tokens expire with nothing to renew them, either client may stop with one clear auth error.
            auth_expected = expected == "retried_then_auth_error"
            won = [c for c in claims if c["claim"].startswith("retried")]
            lost = [c for c in claims if not c["claim"].startswith("retried")]
            if accepted != 1:
                problems.append("%d retries accepted for two clients" % accepted)
            if len(won) != 1:
                problems.append("%d clients claimed the retry" % len(won))
            for claim in won:
                if claim["claim"] == "retried" and (claim["status"] != real or real != final):
                    problems.append("the wait reported %s, the task is %s, its scripted outcome %s"
                                    % (claim["status"], real, final))
                elif claim["claim"] != "retried" and not (auth_expected and claim["kind"] == "auth"):
                    problems.append("the retrying client claimed %s" % claim)
            for claim in lost:
                if claim["claim"] not in ("other_client", "running", "done") and not (
                        auth_expected and claim["kind"] == "auth"):
                    problems.append("the other client claimed %s" % claim)
            return problems
        claim = claims[0]
        if expected in ("running", "done"):
            if claim["claim"] != expected or accepted:
                problems.append("expected %s and no retry, got %s with %d retries" % (expected, claim, accepted))
        elif expected == "not_applied":
            if claim["claim"] != "error" or accepted:
                problems.append("expected a failure and no retry, got %s with %d retries" % (claim, accepted))
            elif "not applied" not in claim["error"]:
                problems.append("the failure does not say that the retry was not applied: %s" % claim["error"])
        elif expected == "unknown":
            if claim["claim"] == "retried":
                if not accepted:
                    problems.append("claimed a retry that the server never accepted")
            elif claim["claim"] != "error" or "may still" not in claim["error"]:
                problems.append("expected a retry or an honest 'may still be applied', got %s" % claim)
        elif expected == "retried_then_auth_error":
            if claim["claim"] != "retried_then_error" or claim["kind"] != "auth" or accepted != 1:
                problems.append("expected a retry, then one clear auth error, got %s with %d retries" % (claim, accepted))
        else:
            if claim["claim"] != "retried" or accepted != 1:
                problems.append("expected one accepted retry, got %s with %d retries" % (claim, accepted))
            elif claim["status"] != real or real != final:
                problems.append("the wait reported %s, the task is %s, its scripted outcome %s"
                                % (claim["status"], real, final))
            elif (claim["verdict"] == _verdict.SUCCEEDED) != (real in SUCCESS):
                problems.append("the task ended %s and the verdict is %s" % (real, claim["verdict"]))
        return problems

    # -- report --------------------------------------------------------------------------------------------------

    def figures(self, started):
        return {
            "runs": self.totals["runs"],
            "double_retries": self.totals["double_retries"],
            "wrong_outcomes": self.totals["wrong_outcomes"],
            "patches_sent": self.totals["patches_sent"],
            "patches_accepted": self.totals["patches_accepted"],
            "logins": self.totals["logins"],
            "refreshes": self.totals["refreshes"],
            "expected_outcomes": {k[len("expected "):]: v for k, v in sorted(self.totals.items())
                                  if k.startswith("expected ")},
            "ends": {k[len("end "):]: v for k, v in sorted(self.totals.items()) if k.startswith("end ")},
            "releases": {k[len("release "):]: v for k, v in sorted(self.totals.items()) if k.startswith("release ")},
            "faults_injected": dict(sorted(self.faults.items())),
            "faults_total": sum(self.faults.values()),
            "operations": {
                "runs": self.totals["op_runs"],
                "sent": self.totals["op_sent"],
                "accepted": self.totals["op_accepted"],
                "claimed": self.totals["op_claimed"],
                "accepted_twice": self.totals["op_accepted_twice"],
                "false_outcomes": self.totals["op_false_outcomes"],
                "types": {k[len("op_type "):]: v for k, v in sorted(self.totals.items()) if k.startswith("op_type ")},
                "ends": {k[len("op_end "):]: v for k, v in sorted(self.totals.items()) if k.startswith("op_end ")},
            },
            "seconds": round(time.monotonic() - started, 1),
            "failures": self.failures[:20],
        }


# The reads that settle a write with a lost answer go on for the waiter's settle time (30 s) when the task does
# not change; the runs' tasks take under a second, so a second of such reads is as long, relative to them.
CONFIRM_SECONDS = 0.5
CONFIRM_FIRST_PAUSE = 0.05


# Two reads of a wait are never closer than ``_waiter.READ_FLOOR`` (1 s): against tasks that run for minutes. The
# runs' tasks take under a second, so the floor shrinks with them (as CONFIRM_SECONDS does); at 1 s every wait here
# would cost a second per read and the run twice its time. It is the default of ``Schedule``'s ``floor`` argument,
# bound when the class was defined, so the default itself is swapped for the run and put back after it.
READ_FLOOR = WAIT_SLEEP


def _swap_read_floor(seconds):
    """Set the default ``floor`` of ``_waiter.Schedule``; returns the defaults to put back."""
    init = _waiter.Schedule.__init__
    names = init.__code__.co_varnames[:init.__code__.co_argcount]
    saved = init.__defaults__
    defaults = list(saved)
    defaults[names.index("floor") - (len(names) - len(defaults))] = seconds
    init.__defaults__ = tuple(defaults)
    return saved


def run_chaos(sim, runs, first_seed=0, operation_runs=None):
    """``runs`` retry runs and ``operation_runs`` password operation runs (default: a sixth of ``runs``)."""
    chaos = Chaos(sim)
    started = time.monotonic()
    saved = _tasks.CONFIRM_SECONDS, _tasks.CONFIRM_FIRST_PAUSE
    _tasks.CONFIRM_SECONDS, _tasks.CONFIRM_FIRST_PAUSE = CONFIRM_SECONDS, CONFIRM_FIRST_PAUSE
    saved_floor = _swap_read_floor(READ_FLOOR)
    operation_runs = runs // 6 if operation_runs is None else operation_runs
    try:
        for seed in range(first_seed, first_seed + runs):
            chaos.run(seed)
        for seed in range(first_seed, first_seed + operation_runs):
            chaos.run_operation(seed)
    finally:
        _tasks.CONFIRM_SECONDS, _tasks.CONFIRM_FIRST_PAUSE = saved
        _waiter.Schedule.__init__.__defaults__ = saved_floor
    return chaos.figures(started)


def summary_lines(figures):
    faults = ", ".join("%s %d" % item for item in figures["faults_injected"].items())
    outcomes = ", ".join("%s %d" % item for item in figures["expected_outcomes"].items())
    return [
        "chaos: %(runs)d seeded runs in %(seconds)s s: %(double_retries)d double retries, "
        "%(wrong_outcomes)d wrong final outcomes" % figures,
        "chaos: PATCHes sent %(patches_sent)d, accepted %(patches_accepted)d; logins %(logins)d, "
        "token refreshes %(refreshes)d" % figures,
        "chaos: %d faults injected: %s" % (figures["faults_total"], faults),
        "chaos: expected outcomes: %s" % outcomes,
        "chaos: ends of retried runs: %s; releases: %s" % (
            ", ".join("%s %d" % item for item in figures["ends"].items()),
            ", ".join("%s %d" % item for item in figures["releases"].items())),
        "chaos: password operations drawn %(runs)d (%(kinds)s): requests sent %(sent)d, started %(accepted)d "
        "(claimed with their task %(claimed)d), accepted twice %(accepted_twice)d, false outcomes %(false_outcomes)d; "
        "ends: %(ends_text)s" % dict(figures["operations"], kinds=", ".join(
            "%s %d" % item for item in figures["operations"]["types"].items()), ends_text=", ".join(
            "%s %d" % item for item in figures["operations"]["ends"].items())),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=240)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--operation-runs", type=int, default=None, help="password operation runs (runs / 6)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    from sddc_sim import Simulator

    with tempfile.TemporaryDirectory() as certs, Simulator(None, certs_dir=certs, control_port=0) as sim:
        figures = run_chaos(sim, args.runs, args.first_seed, args.operation_runs)
    for line in summary_lines(figures):
        print(line)
    for failure in figures["failures"]:
        print(json.dumps(failure, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    operations = figures["operations"]
    return 1 if (figures["double_retries"] or figures["wrong_outcomes"] or operations["accepted_twice"]
                 or operations["false_outcomes"]) else 0


if __name__ == "__main__":
    sys.exit(main())
