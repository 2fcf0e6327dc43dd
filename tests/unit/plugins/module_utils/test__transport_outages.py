"""Outages in the transport (_transport.py, _errors.py, _auth.py): before SDDC Manager has answered once a wrong host,
port or name fails fast; once it has answered, a read rides out refused and reset connections, timeouts and
502/503/504 pages within read_retry_budget, and what is still unreachable then says so (``unreachable``)."""

from __future__ import annotations

import socket

import pytest
import requests
from urllib3.connection import HTTPSConnection
from urllib3.exceptions import MaxRetryError, NewConnectionError

from client_helpers import REFRESH, TASK, TASK_ID, TOKENS, connection_dropped, connection_refused, policy, token_pair
from helpers import methods

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _options
from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import SddcManagerError, not_known_yet
from ansible_collections.vcf.sddc_manager.plugins.module_utils._transport import FIRST_ATTEMPTS, READ_RETRY_BUDGET

PROXY_PAGE = "<html><head><title>503 Service Temporarily Unavailable</title></head><body>nginx</body></html>"


def name_not_resolved():
    """What requests raises for a host name that does not resolve."""
    conn = HTTPSConnection("sddc.example.invalid", 443)
    reason = NewConnectionError(conn, "Failed to resolve 'sddc.example.invalid' ([Errno -2] Name or service not known)")
    reason.__cause__ = socket.gaierror(-2, "Name or service not known")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/v1/x", reason))


# --- before the first answer: fail fast ---------------------------------------------------------------

def test_a_name_that_does_not_resolve_fails_at_once(rsps, make_client, fake_time):
    rsps.get(TASK, body=name_not_resolved())
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert len(rsps.calls) == 1 and fake_time.sleeps == []
    assert "does not resolve" in info.value.message and "Check hostname" in info.value.message
    assert not info.value.unreachable and not not_known_yet(info.value)


def test_a_refused_connection_before_any_answer_fails_after_a_few_attempts(rsps, make_client, fake_time):
    rsps.get(TASK, body=connection_refused())
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert len(rsps.calls) == FIRST_ATTEMPTS and sum(fake_time.sleeps) < 30
    assert info.value.message.startswith("Could not reach SDDC Manager at https://sddc.example.com:443")
    assert "Check hostname and port" in info.value.message
    assert not info.value.unreachable


# --- once it answered: an outage, ridden out within read_retry_budget ----------------------------------

@pytest.mark.parametrize("failure", [
    dict(body=connection_refused()), dict(body=connection_dropped()),
    dict(body=requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)")), dict(body=name_not_resolved()),
    dict(status=502, body=PROXY_PAGE), dict(status=503, body=PROXY_PAGE),
    dict(status=504, json={"errorCode": "GATEWAY_TIMEOUT", "message": "Gateway timeout"}),
], ids=["refused", "reset", "timeout", "name", "502-page", "503-page", "504-json"])
def test_after_an_answer_a_read_rides_out_an_outage(rsps, make_client, fake_time, failure):
    client = make_client(access_token="AT")
    rsps.get(TASK, json={"id": TASK_ID, "status": "IN_PROGRESS"})
    client.get_credentials_task(TASK_ID)
    rsps.replace("GET", TASK, **failure)
    # A 20-attempt outage (more than 6 attempts over 12 s), then SDDC Manager is back.
    for _attempt in range(19):
        rsps.add("GET", TASK, **failure)
    rsps.add("GET", TASK, json={"id": TASK_ID, "status": "SUCCESSFUL"})
    assert client.get_credentials_task(TASK_ID)["status"] == "SUCCESSFUL"
    assert len(rsps.calls) == 1 + 20 + 1 and len(fake_time.sleeps) == 20


def test_past_the_budget_the_error_says_unreachable(rsps, make_client, fake_time):
    client = make_client(access_token="AT", retry_policy=policy(budget=120.0))
    rsps.get(TASK, json={"id": TASK_ID})
    client.get_credentials_task(TASK_ID)
    rsps.replace("GET", TASK, body=connection_refused())
    with pytest.raises(SddcManagerError) as info:
        client.get_credentials_task(TASK_ID)
    exc = info.value
    assert exc.unreachable and not_known_yet(exc) and exc.details()["sddc_manager_unreachable"] is True
    assert 100 <= sum(fake_time.sleeps) <= 120
    assert "answered before but cannot be reached now (Connection refused): it is down or restarting" in exc.message
    assert "(read_retry_budget)" in exc.message


def test_a_proxy_page_sets_the_retry_after_and_counts_as_an_answer(rsps, make_client, fake_time):
    rsps.get(TASK, status=503, body=PROXY_PAGE, headers={"Retry-After": "20"})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT", retry_policy=policy(budget=90.0)).get_credentials_task(TASK_ID)
    exc = info.value
    assert exc.unreachable and exc.retry_after == 20.0 and exc.status_code == 503
    assert set(fake_time.sleeps) == {20.0}
    assert "503 Service Temporarily Unavailable" in exc.message


def test_time_limit_bounds_a_read_within_a_wait(rsps, make_client, fake_time):
    client = make_client(access_token="AT")
    client.answered = True
    rsps.get(TASK, body=connection_refused())
    with client.time_limit(30):
        with pytest.raises(SddcManagerError) as info:
            client.get_credentials_task(TASK_ID)
    assert sum(fake_time.sleeps) <= 30 and info.value.unreachable
    assert "(read_retry_budget)" not in info.value.message


def test_writes_are_still_sent_once_in_an_outage(rsps, make_client, fake_time):
    client = make_client(access_token="AT")
    client.answered = True
    rsps.patch(TASK, status=503, body=PROXY_PAGE)
    with pytest.raises(SddcManagerError):
        client.retry_credentials_task(TASK_ID, {"operationType": "ROTATE"})
    assert methods(rsps) == ["PATCH"]


def test_the_budget_is_an_option_with_a_variable(monkeypatch):
    assert _options.connection_spec()["read_retry_budget"]["default"] == READ_RETRY_BUDGET
    assert _options.ENVIRONMENT["read_retry_budget"] == "SDDC_MANAGER_READ_RETRY_BUDGET"
    values = dict(_options.defaults(), hostname="sddc.example.com", access_token="AT", read_retry_budget=42.0)
    assert _options.make_client(values).retry_policy.budget == 42.0
    assert "read_retry_budget must be 0 or more" in " ".join(_options.connection_problems(
        dict(values, read_retry_budget=-1.0)))


# --- a restart: every token void -----------------------------------------------------------------------

def test_after_a_restart_one_login_then_the_new_token(rsps, make_client):
    client = make_client(username="u", password="p", access_token="AT-old", refresh_token="RT-old")
    rsps.get(TASK, status=401, json={"errorCode": "Unauthorized", "message": "expired"})
    rsps.patch(REFRESH, status=404, json={"errorCode": "REFRESH_TOKEN_NOT_FOUND", "message": "not found"})
    rsps.post(TOKENS, json=token_pair("AT-new", "RT-new"))
    rsps.get(TASK, json={"id": TASK_ID})
    for _poll in range(5):
        client.get_credentials_task(TASK_ID)
    assert client.logins == 1
    assert methods(rsps) == ["GET", "PATCH", "POST"] + ["GET"] * 5


def test_after_a_restart_with_tokens_only_one_clear_line(rsps, make_client):
    client = make_client(access_token="AT-old", refresh_token="RT-old")
    rsps.get(TASK, status=401, json={"errorCode": "Unauthorized", "message": "expired"})
    rsps.patch(REFRESH, status=404, json={"errorCode": "REFRESH_TOKEN_NOT_FOUND", "message": "not found"})
    with pytest.raises(SddcManagerError) as info:
        client.get_credentials_task(TASK_ID)
    message = info.value.message
    assert "SDDC Manager's session ended (most likely SDDC Manager restarted" in message
    assert "Give username and password (SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD)" in message
    assert not info.value.unreachable and "AT-old" not in message and "RT-old" not in message
