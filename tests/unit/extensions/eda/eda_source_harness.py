"""The harness of the event source tests (test_credentials_tasks_source_*.py): the plugin's ``main`` against an
asyncio queue, with SDDC Manager's HTTP mocked by ``responses``.

Each test scripts the answers to successive list reads; the source polls every few milliseconds and the test
stops it once the script has been read (and a few polls more, to catch a late duplicate).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import time

import responses

import helpers
from helpers import make_jwt, sub_task

PYROOT = next(p for p in sys.path if p.endswith(os.path.join("build", "pyroot")))
PLUGIN_PATH = os.path.join(PYROOT, "ansible_collections", "vcf", "sddc_manager", "extensions", "eda", "plugins",
                           "event_source", "credentials_tasks.py")


def _load_plugin():
    spec = importlib.util.spec_from_file_location("eda_credentials_tasks", PLUGIN_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


source = _load_plugin()

HOST = "sddc.example.com"
BASE = "https://%s:443" % HOST
LIST_URL = BASE + "/v1/credentials/tasks"
PASSWORD = "PLANTED-login-pw-7f3a!"
OLD_PW = "PLANTED-old-pw-19c2!"
NEW_PW = "PLANTED-new-pw-55d0!"
REFRESH_ID = "PLANTED-refresh-6b1e"
T0 = "2026-11-20T10:00:00.000Z"


def jwt(label, lifetime=3600):
    now = int(time.time())
    return make_jwt(now + lifetime, iat=now, jti=label, header={"alg": "HS256"},
                    signature=helpers.b64url({"sig": label}))


ACCESS = jwt("PLANTED-access-1")
ACCESS_2 = jwt("PLANTED-access-2")
SECRETS = [PASSWORD, OLD_PW, NEW_PW, REFRESH_ID, ACCESS, ACCESS_2]


def sub_error(resource):
    """The error of a failed sub-task, with the notifications of SDDC Manager 9.1."""
    return {
        "errorCode": "PASSWORD_ROTATE_SSH_AUTH_FAILED",
        "message": "SSH to %s refused the current root password" % resource,
        "remediationMessage": "Reset the root password on the host, then retry",
        "referenceToken": "K2F9QX",
        "notifications": [{"severity": "ERROR", "message": "Host unreachable", "impactMessage": "Rotation blocked",
                           "remediations": [{"message": "Check the host's SSH service",
                                             "link": "https://kb.example/1"}]}],
    }


def task(task_id, status, completion=None, task_type="ROTATE", auto=False,
         resources=(("esxi-1.rack.example.com", "ESXI"),), error=True):
    """A task of the list read; the sub-tasks of a FAILED or INCONSISTENT one failed (with ``sub_error``)."""
    failed = status in ("FAILED", "INCONSISTENT")
    subs = [sub_task(resource, status if failed else "SUCCESSFUL", kind=kind, name="Rotate root on %s" % resource,
                     old_password=OLD_PW, new_password=NEW_PW,
                     errors=[sub_error(resource)] if error and failed else None)
            for resource, kind in resources]
    return helpers.task(task_id, status, operation=task_type, name="Password rotation", created=T0,
                        completed=completion, sub_tasks=subs, isAutoRotate=auto)


def ts(seconds_ago=0):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - seconds_ago))


class FakeSddc:
    """Scripted answers to GET /v1/credentials/tasks; other endpoints answer like SDDC Manager."""

    def __init__(self, rsps, script):
        self.script = list(script)
        self.reads = 0
        self.logins = 0
        self.refreshes = 0
        self.revokes = 0
        self.auth_headers = []
        rsps.add_callback(responses.POST, BASE + "/v1/tokens", callback=self._login)
        rsps.add_callback(responses.PATCH, BASE + "/v1/tokens/access-token/refresh", callback=self._refresh)
        rsps.add_callback(responses.DELETE, BASE + "/v1/tokens/refresh-token", callback=self._revoke)
        rsps.add_callback(responses.GET, LIST_URL, callback=self._list)

    def _login(self, request):
        self.logins += 1
        body = json.loads(request.body)
        if body.get("password") != PASSWORD:
            return 401, {}, json.dumps({"errorCode": "IDENTITY_UNAUTHORIZED_ENTITY", "message": "Login failed"})
        return 200, {}, json.dumps({"accessToken": ACCESS, "refreshToken": {"id": REFRESH_ID}})

    def _refresh(self, _request):
        self.refreshes += 1
        return 200, {}, json.dumps(ACCESS_2)

    def _revoke(self, _request):
        self.revokes += 1
        return 204, {}, ""

    def _list(self, request):
        self.auth_headers.append(request.headers.get("Authorization"))
        index = min(self.reads, len(self.script) - 1)
        self.reads += 1
        step = self.script[index]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, int):
            return step, {}, json.dumps({"errorCode": "X", "message": "HTTP %d" % step})
        if isinstance(step, tuple):  # (status, body)
            return step[0], {}, json.dumps(step[1])
        return 200, {}, json.dumps({"elements": step, "pageMetadata": {"totalElements": len(step)}})

    @property
    def done(self):
        return self.reads >= len(self.script)


ARGS = {"hostname": HOST, "username": "administrator@vsphere.local", "password": PASSWORD, "interval": 0.005,
        "max_backoff": 0.02}


def run_source(script, extra_args=None, extra_polls=3, timeout=20, more=None):
    """Run ``main`` until the script is read plus ``extra_polls``; return (events, fake). ``more(rsps)`` adds answers
    to other requests."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeSddc(rsps, script)
        if more:
            more(rsps)

        async def scenario():
            queue = asyncio.Queue()
            runner = asyncio.create_task(source.main(queue, dict(ARGS, **(extra_args or {}))))
            deadline = time.monotonic() + timeout
            while fake.reads < len(fake.script) + extra_polls:
                if runner.done():
                    runner.result()  # raises what main raised
                    break
                assert time.monotonic() < deadline, "the source read the list %d times in %s s" % (fake.reads, timeout)
                await asyncio.sleep(0.002)
            runner.cancel()
            try:
                await runner
            except asyncio.CancelledError:
                pass
            events = []
            while not queue.empty():
                events.append(queue.get_nowait())
            return events

        return asyncio.run(scenario()), fake


def ids_of(events):
    return [(e["credentials_task"]["id"], e["credentials_task"]["status"], e["credentials_task"]["attempt"])
            for e in events]
