"""The one HTTP client: auth, token renewal, retries of reads, single-shot writes, TLS and error translation.

Every request goes to ``responses``; time is a fake clock whose sleeps are recorded, and the retry
policy's jitter comes from a seeded RNG, so every test is instant and its sleeps can be asserted.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import stat
import time

import certifi
import pytest
import requests
import responses
from responses import matchers
from urllib3.connection import HTTPSConnection
from urllib3.exceptions import MaxRetryError, NewConnectionError

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _client
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import (
    AmbiguousWriteError,
    RetryPolicy,
    SddcManagerClient,
    SddcManagerError,
    iso_utc,
)
from ansible_collections.vcf.sddc_manager.plugins.module_utils._auth import jwt_expiry
from ansible_collections.vcf.sddc_manager.plugins.module_utils._transport import (
    check_ca_path,
    parse_retry_after,
    validate_hostname,
)

BASE = "https://sddc.example.com:443"
TOKENS = BASE + "/v1/tokens"
REFRESH = BASE + "/v1/tokens/access-token/refresh"
REVOKE = BASE + "/v1/tokens/refresh-token"
TASK_ID = "1f6a3c2e-0b7d-4e1a-9c3f-5d2e8a4b6c01"
TASK = BASE + "/v1/credentials/tasks/" + TASK_ID
TASKS = BASE + "/v1/credentials/tasks"
SEED = 20261127


def policy(**kwargs):
    return RetryPolicy(rng=random.Random(SEED), **kwargs)


def expected_delays(count, **kwargs):
    twin = policy(**kwargs)
    return [twin.delay(attempt) for attempt in range(count)]


@pytest.fixture(name="secrets")
def secrets_fixture():
    return []


@pytest.fixture(name="make_client")
def make_client_fixture(fake_time, secrets):
    def make(**kwargs):
        kwargs.setdefault("retry_policy", policy())
        kwargs.setdefault("on_secret", secrets.append)
        return SddcManagerClient("sddc.example.com", sleep=fake_time.sleep, clock=fake_time.clock, **kwargs)

    return make


def token_pair(access="AT-login-1", refresh="RT-login-1"):
    return {"accessToken": access, "refreshToken": {"id": refresh}}


def auth_header(call):
    return call.request.headers.get("Authorization")


def body_of(call):
    return json.loads(call.request.body)


def connection_refused():
    """What requests raises when nothing listens: the request never left this host."""
    conn = HTTPSConnection("sddc.example.com", 443)
    reason = NewConnectionError(conn, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/v1/x", reason))


def connection_dropped():
    """The connection broke after the request went out."""
    return requests.exceptions.ConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))")


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


def test_request_timeout_is_passed_to_requests(rsps, make_client):
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(access_token="AT", request_timeout=12.5).get_credentials_task(TASK_ID)
    assert rsps.calls[0].request.req_kwargs["timeout"] == 12.5


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


# --- retries of reads -------------------------------------------------------------------------------

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


def test_403_names_the_role(rsps, make_client):
    # Only ADMIN may manage passwords in VCF; OPERATOR may not, so it must not be suggested.
    rsps.get(TASK, status=403, json={"message": "Access denied."})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert "ADMIN role" in info.value.message and "OPERATOR" not in info.value.message
    assert "GET /v1/credentials/tasks/" in info.value.message


# --- writes are sent once ---------------------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_writes_are_never_resent_on_retryable_statuses(rsps, make_client, fake_time, status, method):
    rsps.add(method, TASK, status=status, json={"message": "busy"})
    client = make_client(access_token="AT")
    with pytest.raises(SddcManagerError) as info:
        if method == "PATCH":
            client.retry_credentials_task(TASK_ID, {"operationType": "ROTATE", "elements": []})
        else:
            client.cancel_credentials_task(TASK_ID)
    assert len(rsps.calls) == 1
    assert fake_time.sleeps == []
    assert info.value.status_code == status
    assert not isinstance(info.value, AmbiguousWriteError)


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


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("error", [
    connection_dropped(),
    requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"),
], ids=["dropped", "read-timeout"])
def test_lost_answer_to_a_write_is_ambiguous(rsps, make_client, fake_time, method, error):
    rsps.add(method, TASK, body=error)
    client = make_client(access_token="AT")
    with pytest.raises(AmbiguousWriteError) as info:
        if method == "PATCH":
            client.retry_credentials_task(TASK_ID, {"operationType": "ROTATE", "elements": []})
        else:
            client.cancel_credentials_task(TASK_ID)
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


# --- TLS --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_tls_errors_name_ca_path_and_validate_certs(rsps, make_client, fake_time, method):
    rsps.add(method, TASK, body=requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='sddc.example.com', port=443): Max retries exceeded (Caused by "
        "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "self-signed certificate in certificate chain (_ssl.c:1006)')))"))
    client = make_client(access_token="AT")
    with pytest.raises(SddcManagerError) as info:
        client.request(method, "/v1/credentials/tasks/" + TASK_ID)
    exc = info.value
    assert exc.kind == "tls"
    assert "ca_path" in exc.message and "validate_certs" in exc.message
    assert "certificate verify failed" in exc.message
    assert "HTTPSConnectionPool" not in exc.message
    assert len(rsps.calls) == 1
    assert fake_time.sleeps == []


def test_tls_reason_is_openssl_s_own_words(rsps, make_client):
    rsps.get(TASK, body=requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='sddc.example.com', port=443): Max retries exceeded (Caused by "
        "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "unable to get local issuer certificate (_ssl.c:1006)')))"))
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert "failed (certificate verify failed: unable to get local issuer certificate). Give the CA" in \
        info.value.message
    assert "_ssl.c" not in info.value.message and "CERTIFICATE_VERIFY_FAILED]" not in info.value.message


def test_certificate_for_another_name_says_to_fix_the_hostname(rsps, make_client):
    """The right CA, but the certificate does not name the host: ca_path would not help."""
    rsps.get(TASK, body=requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='sddc.example.com', port=443): Max retries exceeded (Caused by SSLError("
        "SSLCertVerificationError(1, \"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname "
        "mismatch, certificate is not valid for 'sddc.example.com'. (_ssl.c:1006)\")))"))
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    message = info.value.message
    assert "(certificate verify failed: Hostname mismatch, certificate is not valid for 'sddc.example.com')" in \
        message
    assert "The certificate does not name sddc.example.com. Set hostname to a name the certificate holds" in message
    assert "validate_certs: false" in message and "ca_path" not in message


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


def test_missing_requests_is_a_config_error(monkeypatch):
    monkeypatch.setattr(_client, "HAS_REQUESTS", False)
    with pytest.raises(SddcManagerError) as info:
        SddcManagerClient("h")
    assert info.value.kind == "config"


# --- error translation ------------------------------------------------------------------------------

def test_full_error_object_becomes_one_sentence_and_snake_case_details(rsps, make_client, load_fixture):
    rsps.patch(TASK, status=400, json=load_fixture("error_full"))
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").retry_credentials_task(TASK_ID, {"operationType": "ROTATE", "elements": []})
    exc = info.value
    assert exc.message == (
        "SDDC Manager answered HTTP 400 Bad Request to PATCH /v1/credentials/tasks/%s: "
        "The credentials task cannot be retried [CREDENTIAL_TASK_NOT_RETRYABLE]; "
        "Resource esxi-01.example.com is locked by another task; "
        "cause: Task state is USER_CANCELLED. "
        "Remediation: Cancel the task and start a new password operation. "
        "(reference token REF-K3V8PZ)" % TASK_ID)
    assert "\n" not in exc.message
    assert exc.kind == "api"
    assert exc.details() == {
        "status_code": 400,
        "url": TASK,
        "error": {
            "error_code": "CREDENTIAL_TASK_NOT_RETRYABLE",
            "error_type": "VALIDATION",
            "arguments": ["1f6a3c2e"],
            "context": {"component": "operationsmanager"},
            "message": "The credentials task cannot be retried.",
            "remediation_message": "Cancel the task and start a new password operation.",
            "reference_token": "REF-K3V8PZ",
            "nested_errors": [{"error_code": "RESOURCE_LOCKED",
                               "message": "Resource esxi-01.example.com is locked by another task."}],
            "causes": [{"type": "java.lang.IllegalStateException", "message": "Task state is USER_CANCELLED."}],
        },
    }


@pytest.mark.parametrize("error, sentence", [
    ({"errorCode": "ONLY_CODE"}, "ONLY_CODE."),
    ({"errorCode": "SAME", "message": "SAME"}, "SAME."),
    ({"message": "No code here."}, "No code here."),
    ({}, "no message."),
    ({"message": "m", "nestedErrors": [{"errorCode": "N"}, "junk", {"message": "kept."}]}, "m; kept."),
    ({"message": "m", "cause": [{"message": "old spelling"}]}, "m; cause: old spelling."),
])
def test_error_sentence_variants(rsps, make_client, error, sentence):
    rsps.delete(TASK, status=409, json=error)
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").cancel_credentials_task(TASK_ID)
    assert info.value.message.endswith(": " + sentence)


def test_empty_details():
    assert SddcManagerError("m").details() == {}


@pytest.mark.parametrize("method", ["PATCH", "GET"])
def test_html_502_from_a_proxy(rsps, make_client, method):
    html = ("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
            "<hr><center>nginx</center></body></html>")
    rsps.add(method, TASK, status=502, body=html, content_type="text/html")
    with pytest.raises(SddcManagerError) as info:
        client = make_client(access_token="AT", retry_policy=policy(attempts=2))
        client.request(method, "/v1/credentials/tasks/" + TASK_ID)
    exc = info.value
    assert "HTTP 502" in exc.message
    assert "502 Bad Gateway (the body is not an SDDC Manager error; a proxy or load balancer may have answered)" \
        in exc.message
    assert "<" not in exc.message
    assert exc.status_code == 502
    assert exc.error == {"body": "502 Bad Gateway"}
    assert len(rsps.calls) == (1 if method == "PATCH" else 2)


def test_error_with_empty_body_uses_the_reason(rsps, make_client):
    rsps.delete(TASK, status=500, body="")
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").cancel_credentials_task(TASK_ID)
    assert "Internal Server Error (the body is not an SDDC Manager error" in info.value.message


def test_long_text_bodies_are_cut(rsps, make_client):
    rsps.delete(TASK, status=500, body="x" * 1000, content_type="text/plain")
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").cancel_credentials_task(TASK_ID)
    assert len(info.value.error["body"]) == 203
    assert info.value.error["body"].endswith("...")


def test_success_with_a_body_that_is_not_json(rsps, make_client):
    rsps.get(TASK, status=200, body="<html><title>Login</title></html>", content_type="text/html")
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert "not JSON: Login" in info.value.message
    assert info.value.status_code == 200


def test_no_content_is_none(rsps, make_client):
    rsps.delete(TASK, status=204)
    rsps.get(TASK, status=200, body="")
    client = make_client(access_token="AT")
    assert client.cancel_credentials_task(TASK_ID) is None
    assert client.get_credentials_task(TASK_ID) is None


# --- secrets ----------------------------------------------------------------------------------------

def test_constructor_secrets_are_registered(secrets, make_client):
    make_client(username="u", password="Pa55", access_token="AT", refresh_token="RT")
    assert secrets == ["Pa55", "AT", "RT"]


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


def test_no_on_secret_is_fine(rsps):
    rsps.get(TASK, json={"oldPassword": "x"})
    SddcManagerClient("sddc.example.com", access_token="AT").get_credentials_task(TASK_ID)


# --- API paths --------------------------------------------------------------------------------------

@pytest.mark.parametrize("task_id, segment", [
    ("../../v1/users", "..%2F..%2Fv1%2Fusers"),
    ("a b?c#d", "a%20b%3Fc%23d"),
    ("id/with/slashes", "id%2Fwith%2Fslashes"),
    (12345, "12345"),
])
def test_task_ids_are_one_quoted_path_segment(rsps, make_client, task_id, segment):
    client = make_client(access_token="AT")
    url = TASKS + "/" + segment
    rsps.get(url, json={})
    rsps.get(url + "/resource-credentials", json=[])
    rsps.patch(url, json={})
    rsps.delete(url, json={})
    rsps.get(BASE + "/v1/tasks/" + segment, json={})
    client.get_credentials_task(task_id)
    client.get_resource_credentials(task_id)
    client.retry_credentials_task(task_id, {})
    client.cancel_credentials_task(task_id)
    client.get_task(task_id)
    paths = [c.request.path_url for c in rsps.calls]
    assert paths == ["/v1/credentials/tasks/" + segment, "/v1/credentials/tasks/%s/resource-credentials" % segment,
                     "/v1/credentials/tasks/" + segment, "/v1/credentials/tasks/" + segment, "/v1/tasks/" + segment]


def test_retry_sends_the_spec(rsps, make_client):
    rsps.patch(TASK, status=202, json={"id": TASK_ID, "status": "In Progress"})
    spec = {"operationType": "ROTATE", "elements": [{"resourceType": "ESXI", "credentials": [{"username": "root"}]}]}
    make_client(access_token="AT").retry_credentials_task(TASK_ID, spec)
    assert body_of(rsps.calls[0]) == spec


def test_list_credentials_tasks(rsps, make_client):
    rsps.get(TASKS, json={"elements": [{"id": "a"}, {"id": "b"}], "pageMetadata": {"totalElements": 2}},
             match=[matchers.query_param_matcher({})])
    rsps.get(TASKS, json={"elements": [{"id": "a"}]}, match=[matchers.query_param_matcher({"limit": "1"})])
    client = make_client(access_token="AT")
    assert client.list_credentials_tasks() == [{"id": "a"}, {"id": "b"}]
    assert client.list_credentials_tasks(limit=1) == [{"id": "a"}]


@pytest.mark.parametrize("answer, tasks", [({"elements": []}, []), ({}, []), ([{"id": "a"}], [{"id": "a"}]),
                                           (None, [])])
def test_list_credentials_tasks_shapes(rsps, make_client, answer, tasks):
    if answer is None:
        rsps.get(TASKS, status=204)
    else:
        rsps.get(TASKS, json=answer)
    assert make_client(access_token="AT").list_credentials_tasks() == tasks


def test_resource_credentials_empty_answer(rsps, make_client):
    rsps.get(TASK + "/resource-credentials", status=204)
    assert make_client(access_token="AT").get_resource_credentials(TASK_ID) == []


# --- helpers ----------------------------------------------------------------------------------------

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


def test_iso_utc():
    assert iso_utc(None) is None
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
    assert iso_utc(1_800_000_000.9) == "2027-01-15T08:00:00Z"


# --- the refresh answer in either form, and the token each attempt carries ------------------------------------

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
