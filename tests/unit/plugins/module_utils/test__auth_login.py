"""Tokens (_auth.py): login, the bearer token, revoke, and which tokens are secrets.

Every request goes to ``responses`` and time is a fake clock (see conftest.py), so every test is instant.
"""

from __future__ import annotations

import pytest

from client_helpers import REFRESH, REVOKE, TASK, TASK_ID, TOKENS, auth_header, body_of, token_pair
from helpers import methods

from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import SddcManagerError


# --- login and the bearer token ----------------------------------------------------------------------

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
    assert methods(rsps) == ["POST", "GET"]
    get = rsps.calls[1].request
    assert get.headers["Authorization"] == "Bearer AT-login-1"
    assert get.headers["Accept"] == "application/json"
    assert get.headers["User-Agent"].startswith("vcf.sddc_manager-ansible-collection/")
    # the token is reused, no second login
    client.get_credentials_task(TASK_ID)
    assert methods(rsps) == ["POST", "GET", "GET"]
    assert client.logins == 1


def test_given_access_token_is_used_without_login(rsps, make_client):
    rsps.get(TASK, json={"id": TASK_ID})
    make_client(access_token="AT-given").get_credentials_task(TASK_ID)
    assert len(rsps.calls) == 1
    assert auth_header(rsps.calls[0]) == "Bearer AT-given"


# --- revoke ------------------------------------------------------------------------------------------

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


# --- own tokens are secrets unless the caller asked for them -----------------------------------------

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
