"""Fault injection and latency."""

import time

import pytest
import requests

from sddc_sim import SimControlError
from sim_helpers import retry_body

TASKS = "/v1/credentials/tasks"


def _statuses(client, token, n, path=TASKS):
    out = []
    for _attempt in range(n):
        try:
            out.append(client.get(path, token).status_code)
        except requests.ConnectionError:
            out.append("dropped")
    return out


def test_http_error_with_html_body_after_and_count(client):
    token = client.token()
    client.ctl.set_faults([{"match": {"method": "GET", "path": "/v1/credentials/tasks*"}, "kind": "http_error",
                            "status": 503, "body": "html", "count": 3, "after": 2, "retry_after": 1}])
    answers = [client.get(TASKS, token) for _attempt in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 503, 503, 503, 200]
    failed = answers[2]
    assert failed.headers["Content-Type"] == "text/html"
    assert failed.headers["Retry-After"] == "1"
    assert "<html>" in failed.text and "503" in failed.text
    counters = client.ctl.counters()
    assert counters["faults_injected"] == 3
    described = client.ctl.faults()[0]
    assert described["seen"] == 6 and described["fired"] == 3


def test_http_error_json_and_empty_bodies(client):
    token = client.token()
    client.ctl.set_faults([{"match": {}, "kind": "http_error", "status": 502, "count": 1},
                           {"match": {}, "kind": "http_error", "status": 500, "body": "empty", "count": 1}])
    first = client.get(TASKS, token)
    assert first.status_code == 502
    assert first.json()["errorCode"] == "BAD_GATEWAY"
    second = client.get(TASKS, token)
    assert second.status_code == 500 and second.content == b""
    assert client.get(TASKS, token).status_code == 200


def test_http_error_on_patch_does_not_apply_the_change(client):
    token = client.token()
    resources = client.get(TASKS + "/rotate-failed/resource-credentials", token).json()
    client.ctl.set_faults([{"match": {"method": "PATCH"}, "kind": "http_error", "status": 500, "count": 1}])
    body = retry_body(resources, "ROTATE")
    assert client.patch(TASKS + "/rotate-failed", token, body).status_code == 500
    assert client.internal("rotate-failed")["retries"] == 0
    assert client.task("rotate-failed", token)["status"] == "FAILED"
    assert client.patch(TASKS + "/rotate-failed", token, body).status_code == 202


def test_rate_limit_is_429_with_retry_after(client):
    token = client.token()
    client.ctl.set_faults([{"kind": "rate_limit", "status": 429, "retry_after": 2, "count": 2,
                            "match": {"method": "GET"}}])
    answers = [client.get(TASKS, token) for _attempt in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "2"
    assert answers[0].json()["errorCode"] == "TOO_MANY_REQUESTS"


@pytest.mark.parametrize("mode", ["rst", "fin"])
def test_reset_drops_the_connection_without_an_answer(client, mode):
    token = client.token()
    client.ctl.set_faults([{"match": {"method": "GET"}, "kind": "reset", "count": 2, "mode": mode}])
    assert _statuses(client, token, 3) == ["dropped", "dropped", 200]
    log = [e for e in client.ctl.log() if e["method"] == "GET"]
    assert [(e["status"], e["fault"]) for e in log] == [(None, "reset"), (None, "reset"), (200, None)]


def test_lost_reply_applies_the_change(client):
    token = client.token()
    resources = client.get(TASKS + "/rotate-failed/resource-credentials", token).json()
    client.ctl.set_faults([{"match": {"method": "PATCH", "path": "/v1/credentials/tasks/*"},
                            "kind": "lost_reply", "count": 1}])
    with pytest.raises(requests.ConnectionError):
        client.patch(TASKS + "/rotate-failed", token, retry_body(resources, "ROTATE"))
    assert client.internal("rotate-failed")["retries"] == 1
    assert client.task("rotate-failed", token)["status"] in ("IN_PROGRESS", "SUCCESSFUL")
    counters = client.ctl.counters()
    assert counters["patches_accepted"] == 1 and counters["faults_injected"] == 1
    # A client that retries blindly now finds the task running or done: not retryable.
    answer = client.patch(TASKS + "/rotate-failed", token, retry_body(resources, "ROTATE"))
    assert answer.status_code == 400


def test_lost_reply_on_login_still_issues_a_token(client):
    client.ctl.set_faults([{"match": {"method": "POST", "path": "/v1/tokens"}, "kind": "lost_reply", "count": 1}])
    with pytest.raises(requests.ConnectionError):
        client.login()
    assert client.ctl.counters()["logins"] == 1


def test_slow_delays_the_answer(client):
    token = client.token()
    client.ctl.set_faults([{"match": {}, "kind": "slow", "delay": 0.4, "count": 1}])
    started = time.monotonic()
    assert client.get(TASKS, token).status_code == 200
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    client.get(TASKS, token)
    assert time.monotonic() - started < 0.3


def test_latency_applies_per_request_kind(load):
    client = load(latency={"get": 0.25})
    started = time.monotonic()
    token = client.token()
    assert time.monotonic() - started < 0.2
    started = time.monotonic()
    client.get(TASKS, token)
    assert time.monotonic() - started >= 0.25


def test_first_matching_rule_wins(client):
    token = client.token()
    client.ctl.set_faults([{"match": {"path": "/v1/tasks/*"}, "kind": "http_error", "status": 500},
                           {"match": {"method": "GET"}, "kind": "rate_limit", "count": 1}])
    assert client.get("/v1/tasks/rotate-failed", token).status_code == 500
    assert client.get(TASKS, token).status_code == 429
    assert client.get("/v1/tasks/rotate-failed", token).status_code == 500
    assert client.get(TASKS, token).status_code == 200


def test_probability_is_seeded(client):
    token = client.token()
    rule = {"match": {"method": "GET"}, "kind": "http_error", "status": 503, "probability": 0.5}
    client.ctl.set_faults([rule])
    first = [client.get(TASKS, token).status_code for _attempt in range(20)]
    client.ctl.set_faults([rule])
    second = [client.get(TASKS, token).status_code for _attempt in range(20)]
    assert first == second
    assert 200 in first and 503 in first


def test_faults_from_the_scenario_and_control_errors(load):
    client = load(faults=[{"match": {"method": "GET"}, "kind": "http_error", "status": 500, "count": 1}])
    assert client.get(TASKS, client.token()).status_code == 500
    with pytest.raises(SimControlError) as caught:
        client.ctl.set_faults([{"kind": "explode"}])
    assert caught.value.status == 400 and "kind" in caught.value.payload["error"]
    with pytest.raises(SimControlError):
        client.ctl.set_faults([{"kind": "slow", "match": {}}])  # delay is required


def test_control_endpoints_are_never_faulted(client):
    client.ctl.set_faults([{"match": {}, "kind": "reset"}])
    assert client.ctl.counters()["total"] == 0
    assert client.ctl.health()["ok"] is True
