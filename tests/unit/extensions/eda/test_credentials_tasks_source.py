"""The event source plugin's ``main`` against an asyncio queue, with SDDC Manager's HTTP mocked by ``responses``.

Each test scripts the answers to successive list reads; the source polls every few milliseconds and the test
stops it once the script has been read (and a few polls more, to catch a late duplicate).
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import logging
import os
import subprocess
import sys
import time

import pytest
import requests
import responses

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _transport

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


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def jwt(label, lifetime=3600):
    now = int(time.time())
    return "%s.%s.%s" % (_b64({"alg": "HS256"}), _b64({"exp": now + lifetime, "iat": now, "jti": label}),
                         _b64({"sig": label}))


ACCESS = jwt("PLANTED-access-1")
ACCESS_2 = jwt("PLANTED-access-2")
SECRETS = [PASSWORD, OLD_PW, NEW_PW, REFRESH_ID, ACCESS, ACCESS_2]


def task(task_id, status, completion=None, task_type="ROTATE", auto=False, resources=(("esxi-1.rack.example.com", "ESXI"),),
         error=True):
    subs = []
    for name, rtype in resources:
        sub = {"name": "Rotate root on %s" % name, "resourceName": name, "entityType": rtype, "username": "root",
               "credentialType": "SSH", "status": status if status in ("FAILED", "INCONSISTENT") else "SUCCESSFUL",
               "oldPassword": OLD_PW, "newPassword": NEW_PW}
        if error and status in ("FAILED", "INCONSISTENT"):
            sub["errors"] = [{
                "errorCode": "PASSWORD_ROTATE_SSH_AUTH_FAILED",
                "message": "SSH to %s refused the current root password" % name,
                "remediationMessage": "Reset the root password on the host, then retry",
                "referenceToken": "K2F9QX",
                "notifications": [{"severity": "ERROR", "message": "Host unreachable", "impactMessage": "Rotation blocked",
                                   "remediations": [{"message": "Check the host's SSH service", "link": "https://kb.example/1"}]}],
            }]
        subs.append(sub)
    out = {"id": task_id, "name": "Password rotation", "type": task_type, "status": status, "isAutoRotate": auto,
           "creationTimestamp": T0, "subTasks": subs}
    if completion:
        out["completionTimestamp"] = completion
    return out


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


def run_source(script, extra_args=None, extra_polls=3, timeout=20):
    """Run ``main`` until the script is read plus ``extra_polls``; return (events, fake)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeSddc(rsps, script)

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


def keys_of(data):
    if isinstance(data, dict):
        return list(data) + [k for v in data.values() for k in keys_of(v)]
    if isinstance(data, list):
        return [k for v in data for k in keys_of(v)]
    return []


def ids_of(events):
    return [(e["credentials_task"]["id"], e["credentials_task"]["status"], e["credentials_task"]["attempt"]) for e in events]


@pytest.fixture(autouse=True)
def no_real_sleep_in_client(monkeypatch):
    # The client's read retries sleep in its own thread; keep them short so a 5xx burst takes milliseconds.
    monkeypatch.setattr(_transport, "_sleep", lambda seconds: time.sleep(min(seconds, 0.01)))


# --- transitions -----------------------------------------------------------------------------------------------

def test_failures_present_at_start_are_not_events_but_a_new_failure_is():
    events, fake = run_source([
        [task("old", "FAILED", ts(3600))],
        [task("old", "FAILED", ts(3600)), task("new", "IN_PROGRESS")],
        [task("old", "FAILED", ts(3600)), task("new", "FAILED", ts())],
    ])
    assert ids_of(events) == [("new", "FAILED", 1)]
    body = events[0]["credentials_task"]
    assert body["previous_status"] == "IN_PROGRESS"
    assert body["sddc_manager"] == HOST and body["port"] == 443
    assert body["auto_retry"] == {"allowed": True, "earlier_events_in_window": 0, "max_retries": 2,
                                  "window_seconds": 86400.0}
    assert fake.logins == 1


def test_emit_existing_emits_the_failures_present_at_start_once():
    events, _fake = run_source([[task("old", "FAILED", ts(3600)), task("ok", "SUCCESSFUL", ts())]],
                               {"emit_existing": True}, extra_polls=5)
    assert ids_of(events) == [("old", "FAILED", 1)]


def test_a_task_that_fails_again_after_a_retry_is_a_new_event_with_its_attempt_count():
    t1, t2, t3 = ts(30), ts(20), ts(10)
    events, _fake = run_source([
        [task("b", "IN_PROGRESS")],
        [task("b", "FAILED", t1)],
        [task("b", "FAILED", t1)],
        [task("b", "IN_PROGRESS")],           # the retry, seen running
        [task("b", "FAILED", t2)],
        [task("b", "FAILED", t3)],            # a retry that ran between two polls: only the new end time shows it
        [task("b", "FAILED", t3)],
    ])
    assert ids_of(events) == [("b", "FAILED", 1), ("b", "FAILED", 2), ("b", "FAILED", 3)]
    budgets = [e["credentials_task"]["auto_retry"] for e in events]
    assert [b["allowed"] for b in budgets] == [True, True, False]
    assert [b["earlier_events_in_window"] for b in budgets] == [0, 1, 2]


def test_a_failure_present_at_start_that_fails_again_after_a_retry_is_attempt_two():
    events, _fake = run_source([
        [task("a", "FAILED", ts(600))],
        [task("a", "IN_PROGRESS")],
        [task("a", "FAILED", ts())],
    ])
    assert ids_of(events) == [("a", "FAILED", 2)]
    assert events[0]["credentials_task"]["auto_retry"]["allowed"] is True


def test_a_stale_read_of_an_earlier_failure_after_the_retry_started_is_no_new_event():
    t1, t2 = ts(20), ts(10)
    events, _fake = run_source([
        [task("s", "IN_PROGRESS")], [task("s", "FAILED", t1)],
        [task("s", "IN_PROGRESS")],           # the retry runs
        [task("s", "FAILED", t1)],            # a read from before the retry: same end time
        [task("s", "IN_PROGRESS")],
        [task("s", "FAILED", t2)],            # the retry failed: a new end time
    ])
    assert ids_of(events) == [("s", "FAILED", 1), ("s", "FAILED", 2)]


def test_failed_then_inconsistent_is_two_events_and_success_is_none():
    events, _fake = run_source([
        [task("x", "PENDING"), task("y", "IN_PROGRESS")],
        [task("x", "FAILED", ts()), task("y", "SUCCESSFUL", ts())],
        [task("x", "INCONSISTENT", ts()), task("y", "SUCCESSFUL", ts())],
    ])
    assert ids_of(events) == [("x", "FAILED", 1), ("x", "INCONSISTENT", 2)]
    assert [e["credentials_task"]["reason"] for e in events] == ["failed", "inconsistent"]


def test_task_without_completion_time_is_one_event_until_it_runs_again():
    events, _fake = run_source([
        [task("n", "IN_PROGRESS")], [task("n", "FAILED")], [task("n", "FAILED")],
        [task("n", "PENDING")], [task("n", "FAILED")],
    ])
    assert ids_of(events) == [("n", "FAILED", 1), ("n", "FAILED", 2)]


def test_retry_window_lets_old_events_expire():
    events, _fake = run_source([
        [task("w", "IN_PROGRESS")], [task("w", "FAILED", ts(3))], [task("w", "IN_PROGRESS")],
        [task("w", "FAILED", ts(2))], [task("w", "IN_PROGRESS")], [task("w", "FAILED", ts(1))],
    ], {"max_auto_retries": 1, "retry_window": 0.0001})
    assert [e["credentials_task"]["auto_retry"]["allowed"] for e in events] == [True, True, True]


def test_a_retry_that_continues_under_a_new_task_id_counts_against_the_same_guardrail():
    host = [("esxi-9.rack.example.com", "ESXI")]
    events, _fake = run_source([
        [task("first", "IN_PROGRESS", resources=host)],
        [task("first", "FAILED", ts(3), resources=host)],
        [task("first", "FAILED", ts(3), resources=host), task("second", "IN_PROGRESS", resources=host)],
        [task("first", "FAILED", ts(3), resources=host), task("second", "FAILED", ts(2), resources=host)],
        [task("first", "FAILED", ts(3), resources=host), task("second", "FAILED", ts(2), resources=host),
         task("third", "FAILED", ts(1), resources=host), task("other", "FAILED", ts(1))],
    ])
    assert ids_of(events) == [("first", "FAILED", 1), ("second", "FAILED", 1), ("third", "FAILED", 1),
                              ("other", "FAILED", 1)]
    assert [e["credentials_task"]["auto_retry"]["allowed"] for e in events] == [True, True, False, True]
    assert [e["credentials_task"]["auto_retry"]["earlier_events_in_window"] for e in events] == [0, 1, 2, 0]


def test_max_auto_retries_zero_never_allows_a_retry():
    events, _fake = run_source([[task("z", "IN_PROGRESS")], [task("z", "FAILED", ts())]], {"max_auto_retries": 0})
    assert events[0]["credentials_task"]["auto_retry"]["allowed"] is False


def test_an_empty_first_answer_does_not_turn_old_failures_into_new_events():
    events, _fake = run_source([
        [],
        [task("old", "FAILED", ts(7200)), task("fresh", "FAILED", ts(1))],
    ])
    assert ids_of(events) == [("fresh", "FAILED", 1)]


def test_a_task_missing_from_one_answer_is_not_a_new_event_when_it_is_back():
    events, _fake = run_source([
        [task("m", "IN_PROGRESS")], [task("m", "FAILED", ts())], (200, {}), [], [task("m", "FAILED", ts())],
    ])
    assert ids_of(events) == [("m", "FAILED", 1)]


# --- filters ---------------------------------------------------------------------------------------------------

FILTER_TASKS = [
    task("esxi-rotate", "FAILED", ts(), resources=[("ESXI-1.rack.example.com", "ESXI")], auto=True),
    task("vc-update", "FAILED", ts(), task_type="UPDATE", resources=[("vcenter-1.rack.example.com", "VCENTER")]),
    task("nsx-remediate", "INCONSISTENT", ts(), task_type="REMEDIATE", resources=[("nsx-1.rack.example.com", "NSXT_MANAGER")]),
]


@pytest.mark.parametrize("args, expected", [
    ({}, ["esxi-rotate", "vc-update", "nsx-remediate"]),
    ({"resource_types": ["esxi"]}, ["esxi-rotate"]),
    ({"resource_types": "VCENTER,NSXT_MANAGER"}, ["vc-update", "nsx-remediate"]),
    ({"resource_names": ["esxi-1.RACK.example.com"]}, ["esxi-rotate"]),
    ({"operation_types": ["update", "REMEDIATE"]}, ["vc-update", "nsx-remediate"]),
    ({"auto_rotate_only": True}, ["esxi-rotate"]),
    ({"statuses": ["INCONSISTENT"]}, ["nsx-remediate"]),
    ({"resource_types": ["ESXI"], "operation_types": ["UPDATE"]}, []),
])
def test_filters(args, expected):
    events, _fake = run_source([[], FILTER_TASKS], args)
    assert [e["credentials_task"]["id"] for e in events] == expected


# --- the content of an event, and no secret in it ----------------------------------------------------------------

def test_event_content_and_no_secret_anywhere():
    leaky = task("leaky", "FAILED", ts())
    # An error message that echoes a password must not carry it into the event.
    leaky["subTasks"][0]["errors"][0]["message"] = "Login with %s refused" % OLD_PW
    events, fake = run_source([[], [leaky]], extra_polls=2)
    body = events[0]["credentials_task"]
    assert body["type"] == "ROTATE" and body["status"] == "FAILED" and body["is_auto_rotate"] is False
    assert body["resources"] == [{"resource_name": "esxi-1.rack.example.com", "resource_type": "ESXI"}]
    assert body["accounts"] == [{"resource_name": "esxi-1.rack.example.com", "resource_type": "ESXI",
                                 "username": "root", "credential_type": "SSH"}]
    entry = body["failure_report"][0]
    assert entry["error_code"] == "PASSWORD_ROTATE_SSH_AUTH_FAILED"
    assert entry["reference_token"] == "K2F9QX"
    assert entry["remediation"] == "Reset the root password on the host, then retry"
    assert entry["subtask"] == "Rotate root on esxi-1.rack.example.com"
    assert "Reset the root password on the host, then retry" in body["remediation"]
    assert body["seen_at"].endswith("Z") and body["completion_timestamp"]
    assert body["message"].startswith("SDDC Manager %s: Task leaky failed" % HOST), body["message"]
    assert body["reason"] == "failed"
    text = json.dumps(events)
    for secret in SECRETS:
        assert secret not in text
    assert "********" in text  # the echoed password was masked, not dropped silently
    assert not [key for key in keys_of(events) if "password" in key.lower() or "token" in key.lower()
                and key != "reference_token"]
    assert fake.auth_headers[0] == "Bearer %s" % ACCESS


def test_notifications_of_sddc_manager_9_1_reach_the_event():
    events, _fake = run_source([[], [task("n91", "FAILED", ts())]])
    entry = events[0]["credentials_task"]["failure_report"][0]
    assert entry["notifications"][0]["remediations"][0]["link"] == "https://kb.example/1"
    assert entry["remediation_links"] == ["https://kb.example/1"]
    assert "Check the host's SSH service" in events[0]["credentials_task"]["remediation"]


# --- faults ----------------------------------------------------------------------------------------------------

def test_5xx_bursts_resets_and_an_outage_are_survived_with_one_log_line_each_way(caplog):
    caplog.set_level(logging.INFO, logger="vcf.sddc_manager.credentials_tasks")
    before = [task("f", "IN_PROGRESS")]
    after = [task("f", "FAILED", ts())]
    script = [before] + [503, 502, requests.exceptions.ConnectionError("Connection reset by peer")] * 6 + [after]
    events, fake = run_source(script)
    assert ids_of(events) == [("f", "FAILED", 1)]
    down = [r for r in caplog.records if "did not answer" in r.getMessage()]
    up = [r for r in caplog.records if "answers again after" in r.getMessage()]
    assert len(down) == 1 and len(up) == 1, [r.getMessage() for r in caplog.records]
    assert "tasks that entered a watched status meanwhile are events now" in up[0].getMessage()
    for record in caplog.records:
        for secret in SECRETS:
            assert secret not in record.getMessage()
    assert fake.logins == 1


def test_two_outages_are_two_pairs_of_lines(caplog):
    caplog.set_level(logging.INFO, logger="vcf.sddc_manager.credentials_tasks")
    ok = [task("g", "SUCCESSFUL", ts())]
    events, _fake = run_source([ok] + [503] * 8 + [ok, ok] + [requests.exceptions.ConnectionError("reset")] * 8 + [ok])
    assert events == []
    assert len([r for r in caplog.records if "did not answer" in r.getMessage()]) == 2
    assert len([r for r in caplog.records if "answers again after" in r.getMessage()]) == 2


def test_sddc_manager_down_at_start_is_waited_for():
    events, _fake = run_source([requests.exceptions.ConnectionError("refused")] * 10 + [[task("h", "IN_PROGRESS")]]
                               + [[task("h", "FAILED", ts())]])
    assert ids_of(events) == [("h", "FAILED", 1)]


def test_an_expired_token_is_renewed_without_a_lost_or_duplicate_event():
    script = [[task("e", "IN_PROGRESS")],
              (401, {"errorCode": "Unauthorized", "message": "Authorization Header is missing or not in correct format"}),
              [task("e", "FAILED", ts())], [task("e", "FAILED", ts())]]
    events, fake = run_source(script)
    assert ids_of(events) == [("e", "FAILED", 1)]
    assert fake.refreshes == 1
    assert "Bearer %s" % ACCESS_2 in fake.auth_headers


def test_a_body_of_another_shape_is_a_failed_poll_not_a_crash():
    events, _fake = run_source([[task("s", "IN_PROGRESS")], (200, {"elements": "not a list"}), (200, ["x", 3]),
                                [task("s", "FAILED", ts())]])
    assert ids_of(events) == [("s", "FAILED", 1)]


def test_a_task_of_an_unexpected_shape_still_gives_its_event(caplog):
    odd = {"id": "odd", "type": "ROTATE", "status": "FAILED", "completionTimestamp": ts(), "subTasks": "not a list"}
    events, _fake = run_source([[], [odd]], {"resource_types": ["ESXI"]}, extra_polls=1)
    assert events == []  # no resource can be read, so no resource filter matches
    events, _fake = run_source([[], [odd]])
    assert ids_of(events) == [("odd", "FAILED", 1)]
    assert events[0]["credentials_task"]["resources"] == []
    assert "could not be read" in caplog.text


def test_validate_certs_false_is_a_warning_at_start(caplog):
    caplog.set_level(logging.INFO, logger="vcf.sddc_manager.credentials_tasks")
    run_source([[]], {"validate_certs": False}, extra_polls=1)
    assert "validate_certs is false" in caplog.text


def test_the_session_is_revoked_when_the_source_stops():
    _events, fake = run_source([[]])
    assert fake.revokes == 1


# --- options ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    ({"hostname": "https://sddc.example.com"}, ["hostname"]),
    ({"hostname": None}, ["hostname is required"]),
    ({"port": 0}, ["port"]),
    ({"interval": -1}, ["interval"]),
    ({"interval": "soon"}, ["interval must be a number"]),
    ({"password": None}, ["username and password go together"]),
    ({"statuses": ["RUNNING"]}, ["statuses: RUNNING"]),
    ({"statuses": []}, ["statuses is empty"]),
    ({"operation_types": ["DELETE"]}, ["operation_types: DELETE"]),
    ({"validate_certs": "maybe"}, ["validate_certs must be true or false"]),
    ({"ca_path": "/nonexistent/ca.pem"}, ["ca_path /nonexistent/ca.pem does not exist"]),
    ({"proxy_url": "proxy:3128"}, ["proxy_url"]),
    ({"max_auto_retries": -1}, ["max_auto_retries"]),
    ({"pasword": "PLANTED-typo-secret"}, ["unknown option(s) pasword"]),
])
def test_bad_options_are_named_before_any_request(args, words):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeSddc(rsps, [[]])
        with pytest.raises(ValueError) as caught:
            asyncio.run(source.main(asyncio.Queue(), dict(ARGS, **args)))
        assert len(rsps.calls) == 0 and fake.logins == 0
    message = str(caught.value)
    assert message.startswith("Invalid options of vcf.sddc_manager.credentials_tasks")
    for word in words:
        assert word in message
    assert "PLANTED" not in message


def test_connection_options_come_from_the_sddc_manager_variables(monkeypatch):
    monkeypatch.setenv("SDDC_MANAGER_HOST", HOST)
    monkeypatch.setenv("SDDC_MANAGER_USERNAME", "administrator@vsphere.local")
    monkeypatch.setenv("SDDC_MANAGER_PASSWORD", PASSWORD)
    monkeypatch.setenv("SDDC_MANAGER_PORT", "8443")
    monkeypatch.setenv("SDDC_MANAGER_VALIDATE_CERTS", "false")
    settings = source.Settings.from_args({"interval": 5})
    assert (settings.hostname, settings.port, settings.password, settings.validate_certs) == (HOST, 8443, PASSWORD, False)
    assert source.Settings.from_args({"port": 443}).port == 443  # an option wins over the variable
    assert source.Settings.from_args({}).validate_certs is False
    monkeypatch.delenv("SDDC_MANAGER_VALIDATE_CERTS")
    assert source.Settings.from_args({}).validate_certs is True  # verified by default


def test_refused_login_on_the_first_poll_stops_the_source_with_the_reason():
    with pytest.raises(ValueError) as caught:
        run_source([[]], {"password": "PLANTED-wrong-password"})
    assert "check username and password" in str(caught.value)
    assert "PLANTED-wrong-password" not in str(caught.value)


def test_a_refused_login_later_is_an_outage_not_a_crash(caplog):
    caplog.set_level(logging.INFO, logger="vcf.sddc_manager.credentials_tasks")
    script = [[task("r", "IN_PROGRESS")], (403, {"errorCode": "Forbidden", "message": "role changed"}),
              (403, {"errorCode": "Forbidden", "message": "role changed"}), [task("r", "FAILED", ts())]]
    events, _fake = run_source(script)
    assert ids_of(events) == [("r", "FAILED", 1)]
    assert len([r for r in caplog.records if "did not answer" in r.getMessage()]) == 1


def test_the_plugin_imports_the_collection_itself_when_loaded_like_ansible_rulebook_does(tmp_path):
    """ansible-rulebook runs the file with runpy, without ``ansible_collections`` on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ANSIBLE_COLLECTIONS_PATH")}
    code = ("import runpy, sys; m = runpy.run_path(sys.argv[1]); "
            "import ansible_collections.vcf.sddc_manager.plugins.module_utils._client as c; "
            "print(callable(m['main']), c.__file__)")
    proc = subprocess.run([sys.executable, "-c", code, PLUGIN_PATH], env=env, cwd=str(tmp_path), capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("True ")
    assert os.path.join("build", "pyroot", "ansible_collections") in proc.stdout
