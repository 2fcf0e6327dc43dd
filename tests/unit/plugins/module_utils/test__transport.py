"""HTTPS (_transport.py): reads retried with backoff, writes sent once, the session, option checks.

Every request goes to ``responses``; time is a fake clock whose sleeps are recorded, and the retry
policy's jitter comes from a seeded RNG, so every test is instant and its sleeps can be asserted.
"""

from __future__ import annotations

import email.utils
import json
import os
import stat
import time

import certifi
import pytest
import requests

from client_helpers import (
    TASK,
    TASK_ID,
    connection_dropped,
    connection_refused,
    expected_delays,
    policy,
)

from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerClient
from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import AmbiguousWriteError, SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._transport import (
    check_ca_path,
    parse_retry_after,
    validate_hostname,
)


# --- retries of reads -------------------------------------------------------------------------------

def test_request_timeout_is_passed_to_requests(rsps, make_client):
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(access_token="AT", request_timeout=12.5).get_credentials_task(TASK_ID)
    assert rsps.calls[0].request.req_kwargs["timeout"] == 12.5


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_reads_are_retried_on_retryable_statuses(rsps, make_client, fake_time, status):
    rsps.get(TASK, status=status, json={"message": "busy"})
    rsps.get(TASK, status=status, json={"message": "busy"})
    rsps.get(TASK, json={"id": TASK_ID})
    assert make_client(access_token="AT").get_credentials_task(TASK_ID) == {"id": TASK_ID}
    assert len(rsps.calls) == 3
    assert fake_time.sleeps == expected_delays(2)
    # equal jitter: half of the exponential ceiling is fixed
    assert 0.25 <= fake_time.sleeps[0] <= 0.5
    assert 0.5 <= fake_time.sleeps[1] <= 1.0


def test_reads_are_retried_on_connection_errors(rsps, make_client, fake_time):
    rsps.get(TASK, body=connection_dropped())
    rsps.get(TASK, body=connection_refused())
    rsps.get(TASK, json={"id": TASK_ID})
    assert make_client(access_token="AT").get_credentials_task(TASK_ID) == {"id": TASK_ID}
    assert len(rsps.calls) == 3
    assert fake_time.sleeps == expected_delays(2)


def test_read_timeouts_are_retried_then_reported(rsps, make_client, fake_time):
    rsps.get(TASK, body=requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"))
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT", retry_policy=policy(attempts=3)).get_credentials_task(TASK_ID)
    assert info.value.kind == "timeout"
    assert "request_timeout" in info.value.message
    assert "Gave up after 3 attempts" in info.value.message
    assert len(rsps.calls) == 3
    assert len(fake_time.sleeps) == 2


def test_retry_after_seconds_is_honoured(rsps, make_client, fake_time):
    rsps.get(TASK, status=429, headers={"Retry-After": "7"}, json={"message": "slow down"})
    rsps.get(TASK, status=503, headers={"Retry-After": "0"}, json={})
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert fake_time.sleeps == [7.0, 0.0]


def test_retry_after_http_date_is_honoured(rsps, make_client, fake_time):
    when = email.utils.formatdate(fake_time.now + 12, usegmt=True)
    rsps.get(TASK, status=503, headers={"Retry-After": when}, json={})
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert fake_time.sleeps == [pytest.approx(12.0, abs=1.0)]


def test_retry_after_is_capped(rsps, make_client, fake_time):
    rsps.get(TASK, status=503, headers={"Retry-After": "86400"}, json={})
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(access_token="AT", retry_policy=policy(max_retry_after=30.0, budget=1000)).get_credentials_task(
        TASK_ID)
    assert fake_time.sleeps == [30.0]


def test_retry_after_garbage_falls_back_to_backoff(rsps, make_client, fake_time):
    rsps.get(TASK, status=503, headers={"Retry-After": "soon"}, json={})
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert fake_time.sleeps == expected_delays(1)


def test_attempts_are_bounded(rsps, make_client, fake_time):
    rsps.get(TASK, status=503, json={"errorCode": "SERVICE_UNAVAILABLE", "message": "Service unavailable."})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT", retry_policy=policy(attempts=4)).get_credentials_task(TASK_ID)
    exc = info.value
    assert len(rsps.calls) == 4
    assert fake_time.sleeps == expected_delays(3, attempts=4)
    assert exc.status_code == 503
    assert "Gave up after 4 attempts" in exc.message
    assert str(exc) == exc.message


def test_default_policy_backoff_is_capped():
    delays = expected_delays(12)
    assert all(d <= 10.0 for d in delays)
    assert all(d >= 5.0 for d in delays[6:])  # ceiling reached: at least half of the cap


def test_time_budget_bounds_the_retries(rsps, make_client, fake_time):
    rsps.get(TASK, status=503, headers={"Retry-After": "3"}, json={})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT", retry_policy=policy(budget=5.0)).get_credentials_task(TASK_ID)
    # 3 s slept; another 3 s would pass the 5 s budget
    assert fake_time.sleeps == [3.0]
    assert len(rsps.calls) == 2
    assert "Gave up after 2 attempts over 3 seconds" in info.value.message


@pytest.mark.parametrize("status, kind", [(500, "api"), (400, "api"), (403, "forbidden"), (404, "not_found"),
                                          (409, "api")])
def test_other_errors_are_not_retried(rsps, make_client, fake_time, status, kind):
    rsps.get(TASK, status=status, json={"errorCode": "X", "message": "Nope."})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert len(rsps.calls) == 1
    assert fake_time.sleeps == []
    assert (info.value.status_code, info.value.kind) == (status, kind)


# --- writes are sent once ---------------------------------------------------------------------------

def write(client, method):
    """The client's PATCH (retry) or DELETE (cancel) of the task."""
    if method == "PATCH":
        return client.retry_credentials_task(TASK_ID, {"operationType": "ROTATE", "elements": []})
    return client.cancel_credentials_task(TASK_ID)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_writes_are_never_resent_on_retryable_statuses(rsps, make_client, fake_time, status, method):
    rsps.add(method, TASK, status=status, json={"message": "busy"})
    client = make_client(access_token="AT")
    with pytest.raises(SddcManagerError) as info:
        write(client, method)
    assert len(rsps.calls) == 1
    assert fake_time.sleeps == []
    assert info.value.status_code == status
    assert not isinstance(info.value, AmbiguousWriteError)


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("error", [
    connection_dropped(),
    requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"),
], ids=["dropped", "read-timeout"])
def test_lost_answer_to_a_write_is_ambiguous(rsps, make_client, fake_time, method, error):
    rsps.add(method, TASK, body=error)
    client = make_client(access_token="AT")
    with pytest.raises(AmbiguousWriteError) as info:
        write(client, method)
    exc = info.value
    assert exc.kind == "ambiguous"
    assert exc.url == TASK
    assert "may or may not have been applied" in exc.message
    assert len(rsps.calls) == 1
    assert fake_time.sleeps == []


def test_write_that_never_left_is_a_connection_error_not_ambiguous(rsps, make_client, fake_time):
    rsps.patch(TASK, body=connection_refused())
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").retry_credentials_task(TASK_ID, {})
    assert not isinstance(info.value, AmbiguousWriteError)
    assert info.value.kind == "connection"
    assert "Connection refused" in info.value.message
    assert "proxy_url" in info.value.message
    assert len(rsps.calls) == 1


def test_connect_timeout_on_a_write_is_a_timeout(rsps, make_client):
    rsps.delete(TASK, body=requests.exceptions.ConnectTimeout("connect timeout"))
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").cancel_credentials_task(TASK_ID)
    assert info.value.kind == "timeout"
    assert not isinstance(info.value, AmbiguousWriteError)
    assert len(rsps.calls) == 1


# --- session, answers and the secrets in them -------------------------------------------------------

def test_session_tls_settings(tmp_path):
    assert SddcManagerClient("h").session.verify is True
    assert SddcManagerClient("h", validate_certs=False).session.verify is False
    assert SddcManagerClient("h", ca_path="/etc/ca.pem").session.verify == "/etc/ca.pem"
    # validate_certs false wins over a ca_path
    assert SddcManagerClient("h", validate_certs=False, ca_path="/etc/ca.pem").session.verify is False
    proxied = SddcManagerClient("h", proxy_url="http://proxy:3128")
    assert proxied.session.proxies == {"https": "http://proxy:3128", "http": "http://proxy:3128"}


def test_base_url():
    assert SddcManagerClient("sddc.example.com").base_url == "https://sddc.example.com:443"
    assert SddcManagerClient("10.0.0.5", port=8443).base_url == "https://10.0.0.5:8443"
    assert SddcManagerClient("fd00::5").base_url == "https://[fd00::5]:443"
    assert SddcManagerClient("[fd00::5]").base_url == "https://[fd00::5]:443"


def test_no_content_is_none(rsps, make_client):
    rsps.delete(TASK, status=204)
    rsps.get(TASK, status=200, body="")
    client = make_client(access_token="AT")
    assert client.cancel_credentials_task(TASK_ID) is None
    assert client.get_credentials_task(TASK_ID) is None


def test_secrets_in_answers_go_to_on_secret(rsps, make_client, secrets, load_fixture):
    rsps.get(TASK, json=load_fixture("credentials_task_failed_rotate"))
    rsps.get(TASK + "/resource-credentials", json=load_fixture("resource_credentials"))
    client = make_client(access_token="AT")
    client.get_credentials_task(TASK_ID)
    client.get_resource_credentials(TASK_ID)
    assert {"PLANTED-old-9f3a", "PLANTED-new-9f3a", "PLANTED-old-b7c1", "PLANTED-new-b7c1", "PLANTED-rc-9f3a",
            "PLANTED-rc-b7c1"} <= set(secrets)


def test_secrets_in_error_bodies_go_to_on_secret(rsps, make_client, secrets):
    rsps.patch(TASK, status=400, json={"message": "Bad spec.", "context": {"password": "PLANTED-err-1"}})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").retry_credentials_task(TASK_ID, {})
    assert "PLANTED-err-1" in secrets
    assert "PLANTED-err-1" not in json.dumps(info.value.error)


def test_no_on_secret_is_fine(rsps):
    rsps.get(TASK, json={"oldPassword": "x"})
    SddcManagerClient("sddc.example.com", access_token="AT").get_credentials_task(TASK_ID)


# --- option checks and Retry-After ------------------------------------------------------------------

@pytest.mark.parametrize("hostname, problem", [
    ("sddc.example.com", None),
    ("sddc-01", None),
    ("10.0.0.5", None),
    ("fd00::5", None),
    ("[fd00::5]", None),
    ("", "hostname is required"),
    (None, "hostname is required"),
    ("https://sddc.example.com", "without scheme or path"),
    ("sddc.example.com/ui", "without scheme or path"),
    ("sddc_01.example.com", "is not a valid host name"),
    ("-sddc.example.com", "is not a valid host name"),
    ("sddc.example.com.", "is not a valid host name"),
    ("sddc example", "is not a valid host name"),
    # A port belongs in the port option; "host:port" is not an IPv6 literal.
    ("sddc.example.com:8443", "sddc.example.com:8443"),
])
def test_validate_hostname(hostname, problem):
    reason = validate_hostname(hostname)
    if problem is None:
        assert reason is None
    else:
        assert reason is not None and problem in reason


def test_check_ca_path(tmp_path):
    assert check_ca_path(None) is None
    assert check_ca_path("") is None
    assert "does not exist" in check_ca_path(str(tmp_path / "missing.pem"))
    assert check_ca_path(str(tmp_path)) is None  # a hashed certificate folder
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    assert "holds no usable PEM CA certificate" in check_ca_path(str(garbage))
    assert check_ca_path(certifi.where()) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_check_ca_path_unreadable(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text(open(certifi.where(), encoding="utf-8").read())
    bundle.chmod(0)
    try:
        assert "not readable" in check_ca_path(str(bundle))
    finally:
        bundle.chmod(stat.S_IRUSR | stat.S_IWUSR)


NOW = 1_800_000_000.0


@pytest.mark.parametrize("value, seconds", [
    (None, None),
    ("", None),
    ("0", 0.0),
    ("120", 120.0),
    (" 5 ", 5.0),
    ("-5", None),
    ("1.5", None),
    ("soon", None),
    (email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
    (email.utils.formatdate(NOW - 30, usegmt=True), 0.0),
    (email.utils.formatdate(NOW + 30, usegmt=True).replace(" GMT", " -0000"), 30.0),
])
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, now=NOW) == seconds


def test_parse_retry_after_defaults_to_the_wall_clock():
    when = email.utils.formatdate(time.time() + 100, usegmt=True)
    assert 90 <= parse_retry_after(when) <= 100
