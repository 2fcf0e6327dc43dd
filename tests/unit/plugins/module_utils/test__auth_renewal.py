"""Tokens (_auth.py): renewal after a 401, by a refresh in either answer form or a login; token requests
retried like reads; the token each attempt carries.

Every request goes to ``responses`` and time is a fake clock (see conftest.py), so every test is instant.
"""

from __future__ import annotations

import json

import pytest
import requests
import responses

from client_helpers import REFRESH, TASK, TASK_ID, TOKENS, auth_header, connection_dropped, token_pair
from helpers import methods

from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import SddcManagerError


# --- renewal after a 401 -----------------------------------------------------------------------------

def test_401_refreshes_once_and_repeats_the_call(rsps, make_client):
    rsps.get(TASK, status=401, json={"errorCode": "UNAUTHORIZED", "message": "Token expired."})
    rsps.patch(REFRESH, json="AT-refreshed")
    rsps.get(TASK, json={"id": TASK_ID, "status": "FAILED"})
    client = make_client(access_token="AT-old", refresh_token="RT-1")
    assert client.get_credentials_task(TASK_ID)["id"] == TASK_ID
    sent = [(c.request.method, c.request.url) for c in rsps.calls]
    assert sent == [("GET", TASK), ("PATCH", REFRESH), ("GET", TASK)]
    refresh = rsps.calls[1].request
    # the body is the JSON string of the refresh token id
    assert refresh.body == '"RT-1"'
    assert refresh.headers["Content-Type"] == "application/json"
    assert "Authorization" not in refresh.headers
    assert auth_header(rsps.calls[0]) == "Bearer AT-old"
    assert auth_header(rsps.calls[2]) == "Bearer AT-refreshed"
    assert (client.refreshes, client.logins) == (1, 0)
    assert client.access_token == "AT-refreshed"


def test_401_on_a_write_is_renewed_and_the_write_sent_again(rsps, make_client):
    # A 401 is an answer: the write was refused, not applied, so sending it again is safe.
    rsps.patch(TASK, status=401, json={"message": "expired"})
    rsps.patch(REFRESH, json="AT-2")
    rsps.patch(TASK, status=202, json={"id": TASK_ID, "status": "In Progress"})
    client = make_client(access_token="AT-1", refresh_token="RT")
    assert client.retry_credentials_task(TASK_ID, {"operationType": "ROTATE", "elements": []})["status"] == \
        "In Progress"
    assert methods(rsps) == ["PATCH", "PATCH", "PATCH"]


@pytest.mark.parametrize("refusal", [400, 401, 404])
def test_refused_refresh_falls_back_to_login(rsps, make_client, refusal):
    rsps.get(TASK, status=401, json={"message": "expired"})
    rsps.patch(REFRESH, status=refusal, json={"errorCode": "REFRESH_TOKEN_NOT_FOUND", "message": "Unknown."})
    rsps.post(TOKENS, json=token_pair("AT-new", "RT-new"), status=201)
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(username="u", password="p", access_token="AT-old", refresh_token="RT-old")
    client.get_credentials_task(TASK_ID)
    assert methods(rsps) == ["GET", "PATCH", "POST", "GET"]
    assert auth_header(rsps.calls[3]) == "Bearer AT-new"
    assert (client.refresh_token, client.logins, client.refreshes) == ("RT-new", 1, 0)


def test_401_without_refresh_token_logs_in_again(rsps, make_client):
    rsps.get(TASK, status=401, json={"message": "expired"})
    rsps.post(TOKENS, json=token_pair("AT-new"), status=201)
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(username="u", password="p", access_token="AT-old").get_credentials_task(TASK_ID)
    assert methods(rsps) == ["GET", "POST", "GET"]


def test_401_with_nothing_to_renew_with_is_a_clear_auth_error(rsps, make_client):
    rsps.get(TASK, status=401, json={"message": "expired"})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT-old").get_credentials_task(TASK_ID)
    exc = info.value
    assert exc.kind == "auth"
    assert exc.status_code == 401
    assert "cannot be renewed" in exc.message
    assert "username" in exc.message and "refresh_token" in exc.message
    assert "refused too" not in exc.message
    assert len(rsps.calls) == 1


def test_refused_refresh_without_credentials_says_so(rsps, make_client):
    rsps.get(TASK, status=401, json={"message": "expired"})
    rsps.patch(REFRESH, status=404, json={"message": "Refresh token not found."})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT-old", refresh_token="RT-revoked").get_credentials_task(TASK_ID)
    assert info.value.kind == "auth"
    assert "The refresh token was refused too: SDDC Manager's session ended (most likely SDDC Manager restarted" in (
        info.value.message)
    assert "Give username and password (SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD)" in info.value.message
    assert methods(rsps) == ["GET", "PATCH"]


def test_a_second_401_is_a_real_refusal(rsps, make_client):
    rsps.get(TASK, status=401, json={"message": "expired"})
    rsps.patch(REFRESH, json="AT-2")
    rsps.get(TASK, status=401, json={"message": "User has no role."})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT-1", refresh_token="RT").get_credentials_task(TASK_ID)
    assert info.value.status_code == 401
    assert "User has no role" in info.value.message
    assert methods(rsps) == ["GET", "PATCH", "GET"]


def test_refresh_answer_that_is_not_a_string_is_an_auth_error(rsps, make_client):
    rsps.patch(REFRESH, json={"accessToken": "AT"})
    with pytest.raises(SddcManagerError) as info:
        make_client(refresh_token="RT").refresh()
    assert info.value.kind == "auth"


def test_tls_failure_while_refreshing_is_not_hidden_by_a_login(rsps, make_client):
    rsps.get(TASK, status=401, json={"message": "expired"})
    rsps.patch(REFRESH, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(SddcManagerError) as info:
        make_client(username="u", password="p", access_token="AT", refresh_token="RT").get_credentials_task(TASK_ID)
    assert info.value.kind == "tls"
    assert methods(rsps) == ["GET", "PATCH"]


# --- token requests are retried like reads; a failed refresh falls back to a login -------------------

def test_login_is_retried_on_a_busy_server(rsps, make_client, fake_time):
    # A login changes nothing on SDDC Manager: a 503 burst (or a reset) is waited out like on a read.
    rsps.post(TOKENS, status=503, body="<html><title>503 Service Unavailable</title></html>")
    rsps.post(TOKENS, body=connection_dropped())
    rsps.post(TOKENS, json=token_pair(), status=200)
    client = make_client(username="u", password="p")
    assert client.login() == ("AT-login-1", "RT-login-1")
    assert len(rsps.calls) == 3 and len(fake_time.sleeps) == 2


def test_refused_login_is_not_retried(rsps, make_client, fake_time):
    rsps.post(TOKENS, status=401, json={"message": "Wrong password."})
    with pytest.raises(SddcManagerError):
        make_client(username="u", password="p").login()
    assert len(rsps.calls) == 1
    assert fake_time.sleeps == []


def test_refresh_is_retried_on_a_busy_server(rsps, make_client, fake_time):
    rsps.get(TASK, status=401, json={"message": "expired"})
    rsps.patch(REFRESH, status=502, body="<html><title>502 Bad Gateway</title></html>")
    rsps.patch(REFRESH, json="AT-2")
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(access_token="AT-1", refresh_token="RT")
    assert client.get_credentials_task(TASK_ID) == {"id": TASK_ID}
    assert (client.refreshes, client.logins) == (1, 0)


def client_logins_none(rsps):
    return not any(call.request.url.endswith("/v1/tokens") for call in rsps.calls)


def test_refresh_of_an_unreachable_server_is_not_called_refused(rsps, make_client, fake_time):
    """A refresh that cannot reach the server did not refuse the refresh token, and a login would meet the same
    unreachable server: no login, no 'refused too'."""
    rsps.get(TASK, status=401, json={"message": "expired"})
    for _attempt in range(6):
        rsps.patch(REFRESH, body=connection_dropped())
    with pytest.raises(SddcManagerError) as info:
        make_client(username="u", password="p", access_token="AT-1", refresh_token="RT").get_credentials_task(
            TASK_ID)
    # It answered the read (401), so the dropped connections are an outage: retried within read_retry_budget.
    assert "refused too" not in info.value.message and "(read_retry_budget)" in info.value.message
    assert "answered before but cannot be reached now" in info.value.message and info.value.unreachable
    assert set(methods(rsps)[1:]) == {"PATCH"} and client_logins_none(rsps)


@pytest.mark.parametrize("answer", [
    dict(status=503, body="<html><title>503 Service Unavailable</title></html>"),
    dict(status=500, json={"errorCode": "INTERNAL", "message": "boom"}),
    dict(status=200, body="<html>maintenance</html>"),
    dict(status=200, json={"accessToken": "AT-in-an-object"}),
    dict(status=204),
])
def test_any_failed_refresh_falls_back_to_a_login_when_credentials_are_known(rsps, make_client, fake_time, answer):
    rsps.get(TASK, status=401, json={"message": "expired"})
    for _attempt in range(6 if answer["status"] == 503 else 1):
        rsps.patch(REFRESH, **answer)
    rsps.post(TOKENS, json={"accessToken": "AT-login", "refreshToken": {"id": "RT-2"}})
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(username="u", password="p", access_token="AT-1", refresh_token="RT")
    assert client.get_credentials_task(TASK_ID) == {"id": TASK_ID}
    assert client.logins == 1
    assert auth_header(rsps.calls[-1]) == "Bearer AT-login"


# --- the refresh answer in either form, and the token each attempt carries ---------------------------

@pytest.mark.parametrize("answer", [
    dict(json="AT-json-form"),
    dict(body="AT-bare-form", content_type="text/plain"),
    dict(body="  AT-bare-form\n", content_type="application/json"),
])
def test_the_refreshed_token_is_taken_in_either_form(rsps, make_client, secrets, answer):
    rsps.get(TASK, status=401, json={"errorCode": "Unauthorized", "message": "expired"})
    rsps.patch(REFRESH, **answer)
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(access_token="AT-1", refresh_token="RT")
    assert client.get_credentials_task(TASK_ID) == {"id": TASK_ID}
    expected = "AT-json-form" if "json" in answer else "AT-bare-form"
    assert auth_header(rsps.calls[-1]) == "Bearer " + expected
    assert expected in secrets


@pytest.mark.parametrize("body", ['{"accessToken": "eyJ-SECRET-TOKEN-PART"}', "eyJ-SECRET TOKEN-PART with spaces"])
def test_an_unusable_refresh_answer_never_shows_its_body(rsps, make_client, body):
    rsps.patch(REFRESH, body=body, content_type="text/plain")
    with pytest.raises(SddcManagerError) as info:
        make_client(refresh_token="RT").refresh()
    assert info.value.kind == "auth"
    assert "SECRET" not in info.value.message and "TOKEN-PART" not in str(info.value.details())


def test_a_failed_refresh_answer_that_is_not_an_error_object_is_not_shown(rsps, make_client):
    rsps.patch(REFRESH, status=418, body="eyJ-SECRET-TOKEN-PART", content_type="text/plain")
    with pytest.raises(SddcManagerError) as info:
        make_client(refresh_token="RT").refresh()
    assert "SECRET" not in info.value.message and "SECRET" not in str(info.value.details())


def test_a_read_retried_after_a_backoff_carries_the_token_renewed_meanwhile(rsps, make_client, fake_time):
    """Another thread renews the session's token while this read sleeps between attempts."""
    client = make_client(access_token="AT-old", refresh_token="RT")
    rsps.get(TASK, status=503, json={"message": "busy"})
    rsps.get(TASK, json={"id": TASK_ID})
    real_sleep = fake_time.sleep

    def renew_while_sleeping(seconds):
        client.access_token = "AT-renewed-by-another-thread"
        real_sleep(seconds)

    client._sleep = renew_while_sleeping
    assert client.get_credentials_task(TASK_ID) == {"id": TASK_ID}
    assert [auth_header(c) for c in rsps.calls] == ["Bearer AT-old", "Bearer AT-renewed-by-another-thread"]


def test_a_401_to_a_token_already_replaced_is_not_renewed_again(rsps, make_client):
    """The rejected token is not the current one any more: send again with the current one, no second renewal."""
    client = make_client(access_token="AT-old", refresh_token="RT")

    def reject_then_renew(request):
        client.access_token = "AT-current"  # what another thread's renewal left
        return (401, {}, json.dumps({"errorCode": "Unauthorized", "message": "expired"}))

    rsps.add_callback(responses.GET, TASK, callback=reject_then_renew)
    rsps.get(TASK, json={"id": TASK_ID})
    assert client.get_credentials_task(TASK_ID) == {"id": TASK_ID}
    assert methods(rsps) == ["GET", "GET"]
    assert auth_header(rsps.calls[1]) == "Bearer AT-current"
    assert client.refreshes == 0


def test_parallel_reads_with_an_expiring_token_renew_once_and_all_succeed(rsps, make_client, make_jwt, fake_time):
    """Many threads share one session whose token is rejected: one renewal serves them all."""
    from concurrent.futures import ThreadPoolExecutor

    old = make_jwt(exp=int(fake_time.now) + 3600, sub="old")
    client = make_client(access_token=old, refresh_token="RT")

    def answer(request):
        if request.headers["Authorization"] == "Bearer " + old:
            return (401, {}, json.dumps({"errorCode": "Unauthorized", "message": "expired"}))
        return (200, {}, json.dumps({"id": TASK_ID}))

    rsps.add_callback(responses.GET, TASK, callback=answer)
    rsps.patch(REFRESH, json="AT-new")
    with ThreadPoolExecutor(max_workers=16) as pool:
        found = list(pool.map(lambda _i: client.get_credentials_task(TASK_ID), range(64)))
    assert found == [{"id": TASK_ID}] * 64
    assert client.refreshes == 1
