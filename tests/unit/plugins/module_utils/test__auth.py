"""Tokens (_auth.py): login, refresh in either answer form, revoke, renewal before expiry and after a 401.

Every request goes to ``responses`` and time is a fake clock (see conftest.py), so every test is instant.
"""

from __future__ import annotations

import json

import pytest
import requests
import responses

from client_helpers import (
    REFRESH,
    REVOKE,
    TASK,
    TASK_ID,
    TOKENS,
    auth_header,
    body_of,
    connection_dropped,
    token_pair,
)

from ansible_collections.vcf.sddc_manager.plugins.module_utils._auth import jwt_expiry
from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import SddcManagerError


# --- login, bearer, renewal -------------------------------------------------------------------------

@pytest.mark.parametrize("status", [200, 201])
def test_login_accepts_200_and_201(rsps, make_client, status):
    rsps.post(TOKENS, json=token_pair(), status=status)
    client = make_client(username="admin@local", password="Pa55!")
    assert client.login() == ("AT-login-1", "RT-login-1")
    assert client.logins == 1
    call = rsps.calls[0]
    assert body_of(call) == {"username": "admin@local", "password": "Pa55!"}
    assert call.request.headers["Content-Type"] == "application/json"
    assert auth_header(call) is None


def test_login_with_a_bare_refresh_token_string(rsps, make_client):
    rsps.post(TOKENS, json={"accessToken": "AT", "refreshToken": "RT-bare"}, status=201)
    assert make_client(username="u", password="p").login() == ("AT", "RT-bare")


def test_login_answer_without_access_token_is_an_auth_error(rsps, make_client):
    rsps.post(TOKENS, json={"refreshToken": {"id": "RT"}}, status=201)
    with pytest.raises(SddcManagerError) as info:
        make_client(username="u", password="p").login()
    assert info.value.kind == "auth"
    assert info.value.url == TOKENS


def test_login_without_credentials_is_a_config_error(rsps, make_client):
    with pytest.raises(SddcManagerError) as info:
        make_client().get_credentials_task(TASK_ID)
    assert info.value.kind == "config"
    assert "username and password" in info.value.message
    assert len(rsps.calls) == 0


def test_login_refused(rsps, make_client):
    rsps.post(TOKENS, json={"errorCode": "BAD_CREDENTIALS", "message": "Invalid username or password."}, status=401)
    with pytest.raises(SddcManagerError) as info:
        make_client(username="u", password="wrong").login()
    assert info.value.kind == "auth"
    assert info.value.status_code == 401
    assert "Invalid username or password" in info.value.message
    assert "check username and password (SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD)" in info.value.message
    assert len(rsps.calls) == 1


def test_first_call_logs_in_then_sends_the_bearer_token(rsps, make_client):
    rsps.post(TOKENS, json=token_pair(), status=201)
    rsps.get(TASK, json={"id": TASK_ID, "status": "FAILED"})
    client = make_client(username="u", password="p")
    assert client.get_credentials_task(TASK_ID)["status"] == "FAILED"
    assert [c.request.method for c in rsps.calls] == ["POST", "GET"]
    get = rsps.calls[1].request
    assert get.headers["Authorization"] == "Bearer AT-login-1"
    assert get.headers["Accept"] == "application/json"
    assert get.headers["User-Agent"].startswith("vcf.sddc_manager-ansible-collection/")
    # the token is reused, no second login
    client.get_credentials_task(TASK_ID)
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "GET"]
    assert client.logins == 1


def test_given_access_token_is_used_without_login(rsps, make_client):
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(access_token="AT-given").get_credentials_task(TASK_ID)
    assert len(rsps.calls) == 1
    assert auth_header(rsps.calls[0]) == "Bearer AT-given"


def test_401_refreshes_once_and_repeats_the_call(rsps, make_client):
    rsps.get(TASK, status=401, json={"errorCode": "UNAUTHORIZED", "message": "Token expired."})
    rsps.patch(REFRESH, json="AT-refreshed")
    rsps.get(TASK, json={"id": TASK_ID, "status": "FAILED"})
    client = make_client(access_token="AT-old", refresh_token="RT-1")
    assert client.get_credentials_task(TASK_ID)["id"] == TASK_ID
    methods = [(c.request.method, c.request.url) for c in rsps.calls]
    assert methods == [("GET", TASK), ("PATCH", REFRESH), ("GET", TASK)]
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
    assert [c.request.method for c in rsps.calls] == ["PATCH", "PATCH", "PATCH"]


@pytest.mark.parametrize("refusal", [400, 401, 404])
def test_refused_refresh_falls_back_to_login(rsps, make_client, refusal):
    rsps.get(TASK, status=401, json={"message": "expired"})
    rsps.patch(REFRESH, status=refusal, json={"errorCode": "REFRESH_TOKEN_NOT_FOUND", "message": "Unknown."})
    rsps.post(TOKENS, json=token_pair("AT-new", "RT-new"), status=201)
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(username="u", password="p", access_token="AT-old", refresh_token="RT-old")
    client.get_credentials_task(TASK_ID)
    assert [c.request.method for c in rsps.calls] == ["GET", "PATCH", "POST", "GET"]
    assert auth_header(rsps.calls[3]) == "Bearer AT-new"
    assert (client.refresh_token, client.logins, client.refreshes) == ("RT-new", 1, 0)


def test_401_without_refresh_token_logs_in_again(rsps, make_client):
    rsps.get(TASK, status=401, json={"message": "expired"})
    rsps.post(TOKENS, json=token_pair("AT-new"), status=201)
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(username="u", password="p", access_token="AT-old").get_credentials_task(TASK_ID)
    assert [c.request.method for c in rsps.calls] == ["GET", "POST", "GET"]


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
    assert "The refresh token was refused too." in info.value.message
    assert [c.request.method for c in rsps.calls] == ["GET", "PATCH"]


def test_a_second_401_is_a_real_refusal(rsps, make_client):
    rsps.get(TASK, status=401, json={"message": "expired"})
    rsps.patch(REFRESH, json="AT-2")
    rsps.get(TASK, status=401, json={"message": "User has no role."})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT-1", refresh_token="RT").get_credentials_task(TASK_ID)
    assert info.value.status_code == 401
    assert "User has no role" in info.value.message
    assert [c.request.method for c in rsps.calls] == ["GET", "PATCH", "GET"]


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
    assert [c.request.method for c in rsps.calls] == ["GET", "PATCH"]


@pytest.mark.parametrize("seconds_left, refreshed", [(-10, True), (0, True), (30, True), (59, True), (61, False),
                                                     (3600, False)])
def test_proactive_refresh_when_the_token_expires_within_60_seconds(rsps, make_client, make_jwt, fake_time,
                                                                    seconds_left, refreshed):
    token = make_jwt(exp=int(fake_time.now) + seconds_left, sub="admin@local")
    rsps.patch(REFRESH, json="AT-fresh")
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(access_token=token, refresh_token="RT")
    client.get_credentials_task(TASK_ID)
    if refreshed:
        assert [c.request.method for c in rsps.calls] == ["PATCH", "GET"]
        assert auth_header(rsps.calls[1]) == "Bearer AT-fresh"
    else:
        assert [c.request.method for c in rsps.calls] == ["GET"]
        assert auth_header(rsps.calls[0]) == "Bearer " + token


def test_proactive_refresh_follows_the_clock(rsps, make_client, make_jwt, fake_time):
    rsps.patch(REFRESH, json="AT-fresh")
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(access_token=make_jwt(exp=int(fake_time.now) + 120), refresh_token="RT")
    client.get_credentials_task(TASK_ID)
    assert client.refreshes == 0
    fake_time.now += 61  # 59 s left
    client.get_credentials_task(TASK_ID)
    assert client.refreshes == 1
    assert [c.request.method for c in rsps.calls] == ["GET", "PATCH", "GET"]


def test_proactive_renewal_falls_back_to_login(rsps, make_client, make_jwt, fake_time):
    rsps.post(TOKENS, json=token_pair("AT-new"), status=201)
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(username="u", password="p", access_token=make_jwt(exp=int(fake_time.now) + 5))
    client.get_credentials_task(TASK_ID)
    assert [c.request.method for c in rsps.calls] == ["POST", "GET"]


def test_expired_token_with_nothing_to_renew_with(rsps, make_client, make_jwt, fake_time):
    rsps.get(TASK, status=401, json={"message": "Token expired."})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token=make_jwt(exp=int(fake_time.now) - 1)).get_credentials_task(TASK_ID)
    assert info.value.kind == "auth"
    assert "username" in info.value.message and "access_token" in info.value.message


def test_token_about_to_expire_is_still_used_when_it_cannot_be_renewed(rsps, make_client, make_jwt, fake_time):
    """With no refresh token and no password there is nothing to renew with, but the token still works for 30 s:
    the call must be made, not refused with "SDDC Manager refused the access token" (it refused nothing)."""
    token = make_jwt(exp=int(fake_time.now) + 30)
    rsps.get(TASK, json={"id": TASK_ID})
    assert make_client(access_token=token).get_credentials_task(TASK_ID) == {"id": TASK_ID}
    assert auth_header(rsps.calls[0]) == "Bearer " + token


def test_token_expires_at(make_client, make_jwt):
    assert make_client(access_token=make_jwt(exp=1_900_000_000)).token_expires_at() == 1_900_000_000.0
    assert make_client(access_token="opaque").token_expires_at() is None


def test_revoke_sends_the_refresh_token_id(rsps, make_client, secrets):
    rsps.delete(REVOKE, status=204)
    make_client(access_token="AT", refresh_token="RT-own").revoke("RT-to-revoke")
    call = rsps.calls[0].request
    assert call.body == '"RT-to-revoke"'
    assert "Authorization" not in call.headers
    assert "RT-to-revoke" in secrets


def test_revoke_defaults_to_the_client_refresh_token(rsps, make_client):
    rsps.delete(REVOKE, status=204)
    make_client(refresh_token="RT-own").revoke()
    assert rsps.calls[0].request.body == '"RT-own"'


# --- token requests are retried like reads; a failed refresh falls back to a login ------------------

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


def test_refresh_of_an_unreachable_server_is_not_called_refused(rsps, make_client, fake_time):
    """A refresh that cannot reach the server did not refuse the refresh token, and a login would meet the same
    unreachable server: no login, no 'refused too'."""
    rsps.get(TASK, status=401, json={"message": "expired"})
    for _attempt in range(6):
        rsps.patch(REFRESH, body=connection_dropped())
    with pytest.raises(SddcManagerError) as info:
        make_client(username="u", password="p", access_token="AT-1", refresh_token="RT").get_credentials_task(
            TASK_ID)
    assert "refused too" not in info.value.message and "Gave up after 6 attempts" in info.value.message
    assert [c.request.method for c in rsps.calls] == ["GET"] + ["PATCH"] * 6


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


def test_token_near_expiry_is_used_when_its_renewal_is_refused(rsps, make_client, make_jwt, fake_time):
    """The refresh token is refused and there is no password, but the access token still works for 30 s."""
    token = make_jwt(exp=int(fake_time.now) + 30)
    rsps.patch(REFRESH, status=404, json={"message": "Refresh token not found."})
    rsps.get(TASK, json={"id": TASK_ID})
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(access_token=token, refresh_token="RT-expired")
    assert client.get_credentials_task(TASK_ID) == {"id": TASK_ID}
    assert client.get_credentials_task(TASK_ID) == {"id": TASK_ID}
    # one refresh attempt, not one per request
    assert [c.request.method for c in rsps.calls] == ["PATCH", "GET", "GET"]
    assert auth_header(rsps.calls[2]) == "Bearer " + token


# --- own tokens are secrets unless the caller asked for them ----------------------------------------

def test_own_tokens_are_masked_by_default(rsps, make_client, secrets):
    rsps.post(TOKENS, json=token_pair("AT-own", "RT-own"), status=201)
    rsps.patch(REFRESH, json="AT-refreshed")
    client = make_client(username="u", password="p")
    client.login()
    client.refresh()
    assert {"p", "AT-own", "RT-own", "AT-refreshed"} <= set(secrets)


def test_mask_own_tokens_false_keeps_login_tokens_out_of_on_secret(rsps, make_client, secrets):
    """The token module returns the tokens it was asked for, so they must not be masked."""
    rsps.post(TOKENS, json=token_pair("AT-own", "RT-own"), status=201)
    rsps.patch(REFRESH, json="AT-refreshed")
    client = make_client(username="u", password="Pa55", mask_own_tokens=False)
    assert client.login() == ("AT-own", "RT-own")
    client.refresh()
    assert secrets == ["Pa55"]


# --- the refresh answer in either form, and the token each attempt carries --------------------------

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
    assert [c.request.method for c in rsps.calls] == ["GET", "GET"]
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


# --- jwt_expiry -------------------------------------------------------------------------------------

@pytest.mark.parametrize("token, expiry", [
    (None, None),
    ("", None),
    ("opaque-token", None),
    ("a.b", None),
    ("a.b.c.d", None),
    ("x.!!!.y", None),
    ("x.bm90IGpzb24.y", None),  # "not json"
    ("x.WzEsMl0.y", None),  # [1,2]
    ("x.eyJzdWIiOiJhIn0.y", None),  # no exp
    ("x.eyJleHAiOiJzb29uIn0.y", None),  # exp is a string
    ("x.eyJleHAiOjE5MDAwMDAwMDB9.y", 1_900_000_000.0),
    ("x.eyJleHAiOjE5MDAwMDAwMDAuNX0.y", 1_900_000_000.5),
    (12345, None),
])
def test_jwt_expiry(token, expiry):
    assert jwt_expiry(token) == expiry


def test_jwt_expiry_of_made_tokens(make_jwt):
    for exp in (0, 1, 1_800_000_123, 4_102_444_800):
        assert jwt_expiry(make_jwt(exp=exp, sub="administrator@vsphere.local", scope="x" * exp.bit_length())) == exp
    assert jwt_expiry(make_jwt()) is None
