"""Scenarios the integration tests load into the simulator, with secrets unique to this test session.

Every password and the admin login are planted values: the secret tests search all output for them.
"""

import copy
import uuid

_RUN = uuid.uuid4().hex[:10]


def planted(label):
    """A unique secret-looking value that must never appear in any output."""
    return "PLANTED-%s-%s!Aa1" % (label, _RUN)


ADMIN = {"username": "administrator@vsphere.local", "password": planted("admin-login"), "role": "ADMIN"}
VIEWER = {"username": "viewer@vsphere.local", "password": planted("viewer-login"), "role": "VIEWER"}

RUN_SECONDS = 1.5

SSH_AUTH_ERROR = {
    "subtask": 0,
    "errorCode": "PASSWORD_ROTATE_SSH_AUTH_FAILED",
    "message": "Unable to connect to esxi-3.rack.example.com over SSH with the current root password",
    "remediationMessage": "Reset the root password on the host to the one SDDC Manager has, then retry",
    "referenceToken": "K2F9QX",
}


def _esxi(name, label):
    return {"name": name, "type": "ESXI", "credentials": [
        {"credential_type": "SSH", "account_type": "USER", "username": "root", "password": planted(label)}]}


def _task(task_id, task_type, status, created, resources, outcomes=("SUCCESSFUL",), run_seconds=RUN_SECONDS,
          **extra):
    task = {"id": task_id, "type": task_type, "status": status, "created": created, "resources": resources,
            "outcomes": list(outcomes), "run_seconds": run_seconds}
    task.update(extra)
    return task


def base_tasks():
    return [
        _task("rotate-failed", "ROTATE", "FAILED", "2026-11-20T10:00:00Z",
              [_esxi("esxi-1.rack.example.com", "esxi1-old"), _esxi("esxi-2.rack.example.com", "esxi2-old")]),
        _task("update-failed", "UPDATE", "FAILED", "2026-11-20T11:00:00Z",
              [{"name": "vcenter-1.rack.example.com", "type": "VCENTER", "credentials": [
                  {"credential_type": "SSH", "account_type": "USER", "username": "root",
                   "password": planted("vc-root-old")},
                  {"credential_type": "SSO", "account_type": "SYSTEM", "username": "administrator@vsphere.local",
                   "password": planted("vc-sso-old")}]}]),
        _task("rotate-fails-again", "ROTATE", "FAILED", "2026-11-20T12:00:00Z",
              [_esxi("esxi-3.rack.example.com", "esxi3-old")],
              outcomes=[{"status": "FAILED", "errors": [SSH_AUTH_ERROR]}], errors=[SSH_AUTH_ERROR]),
        _task("remediate-failed", "REMEDIATE", "FAILED", "2026-11-20T13:00:00Z",
              [{"name": "nsx-1.rack.example.com", "type": "NSXT_MANAGER", "credentials": [
                  {"credential_type": "API", "account_type": "SYSTEM", "username": "admin",
                   "password": planted("nsx-old")}]}]),
        _task("successful", "ROTATE", "SUCCESSFUL", "2026-11-19T10:00:00Z",
              [_esxi("esxi-4.rack.example.com", "esxi4-old")]),
        _task("in-progress", "ROTATE", "IN_PROGRESS", "2026-11-19T11:00:00Z",
              [_esxi("esxi-5.rack.example.com", "esxi5-old")], run_seconds=None),
        _task("cancelled", "ROTATE", "USER_CANCELLED", "2026-11-18T10:00:00Z",
              [_esxi("esxi-6.rack.example.com", "esxi6-old")]),
        _task("inconsistent", "ROTATE", "INCONSISTENT", "2026-11-18T11:00:00Z",
              [_esxi("esxi-7.rack.example.com", "esxi7-old")]),
    ]


def base(**overrides):
    scenario = {"seed": 11, "users": [ADMIN, VIEWER], "tasks": base_tasks()}
    scenario.update(copy.deepcopy(overrides))
    return scenario


def failed_rotate_tasks(count, run_seconds=RUN_SECONDS, outcomes=("SUCCESSFUL",), prefix="bulk"):
    """``count`` FAILED ROTATE tasks on distinct ESXi hosts, with fixed ids."""
    return [_task("%s-%03d" % (prefix, i), "ROTATE", "FAILED", "2026-11-21T10:%02d:%02dZ" % (i // 60, i % 60),
                  [_esxi("esxi-%s-%03d.rack.example.com" % (prefix, i), "%s%03d-old" % (prefix, i))],
                  outcomes=outcomes, run_seconds=run_seconds)
            for i in range(count)]


def all_planted():
    """Every planted secret of the base scenario and the admin logins."""
    values = {ADMIN["password"], VIEWER["password"]}
    for task in base_tasks():
        for resource in task["resources"]:
            for credential in resource["credentials"]:
                values.add(credential["password"])
    return values


# --- faults (appended for the reliability tests) ------------------------------------------------------------------

def fault(kind, **fields):
    """One fault (a rule without ``match``): ``fault("http_error", status=503, body="html")``."""
    return dict(fields, kind=kind)


HTML_502 = fault("http_error", status=502, body="html")
HTML_503 = fault("http_error", status=503, body="html")
HTML_504 = fault("http_error", status=504, body="html")
JSON_503 = fault("http_error", status=503, body="json")
RATE_LIMIT = fault("rate_limit", retry_after=0)
RESET = fault("reset", mode="rst")
CLOSE = fault("reset", mode="fin")
LOST_REPLY = fault("lost_reply", mode="rst")


def fault_sequence(method, path, sequence):
    """Rules that break exactly the requests ``sequence`` says, counting every request matching method and path.

    ``sequence[n]`` is ``None`` (answer the n-th matching request normally) or a fault (see ``fault``).
    Retries count as requests, so ``[None, HTML_502, HTML_503, None]`` lets the first read through and
    makes the second one fail twice before it succeeds. Each rule fires once: a rule sees every
    matching request except those an earlier rule fired on, so rule i (at position p) skips p - i.
    """
    rules = []
    for position, item in enumerate(sequence):
        if item is None:
            continue
        rules.append(dict(item, match={"method": method, "path": path}, count=1, after=position - len(rules)))
    return rules


def task_spec(task_id):
    """A fresh copy of one task of the base scenario, to load changed (longer run, other outcomes)."""
    return next(copy.deepcopy(t) for t in base_tasks() if t["id"] == task_id)


def token_ids(seed, count=400):
    """The ids the simulator's token store draws, in order, for a scenario with ``seed``: every refresh token id
    and every access token's ``jti``. The secret tests search all output for them (see test_secrets.py)."""
    import random

    rng = random.Random("%s:tokens" % seed)
    rng.getrandbits(256)  # the key that signs the access tokens
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _draw in range(count)]
