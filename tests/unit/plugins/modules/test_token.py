"""token: log in once and hand the tokens back, or revoke a refresh token."""

from __future__ import annotations

import json

import pytest

from ansible_collections.vcf.sddc_manager.plugins.modules import token

BASE = "https://sddc.example.com:443"
TOKENS = BASE + "/v1/tokens"
REVOKE = BASE + "/v1/tokens/refresh-token"
LOGIN = {"hostname": "sddc.example.com", "username": "administrator@vsphere.local", "password": "Pa55-tok-3e7a"}
EXP = 1_900_000_000  # 2030-03-17T17:46:40Z


@pytest.fixture(name="jwt")
def jwt_fixture(make_jwt):
    return make_jwt(exp=EXP, sub="administrator@vsphere.local")


@pytest.mark.parametrize("status", [200, 201])
def test_login_is_accepted_with_200_and_201(run_module, rsps, jwt, status):
    rsps.post(TOKENS, status=status, json={"accessToken": jwt, "refreshToken": {"id": "RT-tok-3e7a"}})
    result, failed = run_module(token, LOGIN)
    assert not failed, result
    assert json.loads(rsps.calls[0].request.body) == {"username": "administrator@vsphere.local",
                                                      "password": "Pa55-tok-3e7a"}
    assert result["changed"] is False
    assert result["expires_at"] == "2030-03-17T17:46:40.000000Z"
    assert {"access_token", "refresh_token"} <= set(result)
    assert "Pa55-tok-3e7a" not in json.dumps(result)
    assert len(rsps.calls) == 1


def test_login_returns_the_tokens_unmasked(run_module, rsps, jwt):
    """The module exists to hand the tokens over: Ansible must not mask them (the task uses no_log instead)."""
    rsps.post(TOKENS, status=201, json={"accessToken": jwt, "refreshToken": {"id": "RT-tok-3e7a"}})
    result, failed = run_module(token, LOGIN)
    assert not failed, result
    assert result["access_token"] == jwt
    assert result["refresh_token"] == "RT-tok-3e7a"


def test_opaque_access_token_has_no_expiry(run_module, rsps):
    rsps.post(TOKENS, status=201, json={"accessToken": "opaque-access-token-19c2",
                                        "refreshToken": {"id": "RT-19c2"}})
    result, failed = run_module(token, LOGIN)
    assert not failed, result
    assert result["expires_at"] is None


def test_check_mode_does_not_log_in(run_module, rsps):
    result, failed = run_module(token, LOGIN, check_mode=True)
    assert not failed, result
    assert len(rsps.calls) == 0
    assert result["changed"] is False
    assert "access_token" not in result and "refresh_token" not in result


def test_refused_login(run_module, rsps):
    rsps.post(TOKENS, status=401, json={"errorCode": "AUTHENTICATION_FAILED", "message": "Invalid credentials."})
    result, failed = run_module(token, LOGIN)
    assert failed
    assert "SDDC Manager refused the credentials (HTTP 401) on POST /v1/tokens" in result["msg"]
    assert "Invalid credentials" in result["msg"]
    assert result["status_code"] == 401
    assert result["url"] == TOKENS
    assert "Pa55-tok-3e7a" not in json.dumps(result)


def test_login_answer_without_token(run_module, rsps):
    rsps.post(TOKENS, status=201, json={})
    result, failed = run_module(token, LOGIN)
    assert failed
    assert "without an access token" in result["msg"]


def test_login_waits_out_a_busy_server(run_module, rsps, client_sleeps):
    rsps.post(TOKENS, status=503, json={"message": "Starting up."})
    rsps.post(TOKENS, json={"accessToken": "AT-after-503", "refreshToken": {"id": "RT-after-503"}})
    result, failed = run_module(token, LOGIN)
    assert not failed, result
    assert len(rsps.calls) == 2
    assert len(client_sleeps) == 1


def test_revoke(run_module, rsps):
    rsps.delete(REVOKE, status=204)
    result, failed = run_module(token, {"hostname": "sddc.example.com", "state": "absent",
                                        "refresh_token": "RT-revoke-55d0"})
    assert not failed, result
    assert result["changed"] is True
    assert result["msg"] == "The refresh token was revoked."
    call = rsps.calls[0].request
    assert call.method == "DELETE"
    assert call.body == '"RT-revoke-55d0"'
    assert "Authorization" not in call.headers
    assert "RT-revoke-55d0" not in json.dumps(result)


def test_revoke_in_check_mode_sends_nothing(run_module, rsps):
    result, failed = run_module(token, {"hostname": "sddc.example.com", "state": "absent", "refresh_token": "RT"},
                                check_mode=True)
    assert not failed, result
    assert result["changed"] is True
    assert len(rsps.calls) == 0


def test_revoke_refused(run_module, rsps):
    rsps.delete(REVOKE, status=404, json={"message": "Refresh token not found."})
    result, failed = run_module(token, {"hostname": "sddc.example.com", "state": "absent", "refresh_token": "RT-x"})
    assert failed
    assert "Refresh token not found" in result["msg"]
    assert result["status_code"] == 404


@pytest.mark.parametrize("args, words", [
    ({"hostname": "sddc.example.com"}, "state is present but all of the following are missing: username, password"),
    ({"hostname": "sddc.example.com", "access_token": "AT"}, "username, password"),
    ({"hostname": "sddc.example.com", "state": "absent"}, "state is absent but all of the following are missing: "
                                                          "refresh_token"),
    ({"hostname": "sddc.example.com", "username": "u"}, "required together: username, password"),
    ({"hostname": "sddc.example.com", "password": "Pa55-only-8c1d"}, "required together: username, password"),
    (dict(LOGIN, state="gone"), "state"),
])
def test_invalid_options_fail_before_any_request(run_module, rsps, args, words):
    result, failed = run_module(token, args)
    assert failed
    assert words in result["msg"]
    assert len(rsps.calls) == 0


def test_environment_fallbacks(run_module, rsps, monkeypatch, jwt):
    monkeypatch.setenv("SDDC_MANAGER_HOST", "sddc-env.example.com")
    monkeypatch.setenv("SDDC_MANAGER_USERNAME", "env-admin@local")
    monkeypatch.setenv("SDDC_MANAGER_PASSWORD", "Env-Pa55-tok")
    rsps.post("https://sddc-env.example.com:443/v1/tokens", status=201,
              json={"accessToken": jwt, "refreshToken": {"id": "RT-env"}})
    result, failed = run_module(token, {})
    assert not failed, result
    assert json.loads(rsps.calls[0].request.body) == {"username": "env-admin@local", "password": "Env-Pa55-tok"}
    assert "expires_at" in result
    assert "Env-Pa55-tok" not in json.dumps(result)


def test_revoke_with_the_environment(run_module, rsps, monkeypatch):
    monkeypatch.setenv("SDDC_MANAGER_HOST", "sddc.example.com")
    monkeypatch.setenv("SDDC_MANAGER_REFRESH_TOKEN", "RT-env-revoke")
    rsps.delete(REVOKE, status=204)
    result, failed = run_module(token, {"state": "absent"})
    assert not failed, result
    assert rsps.calls[0].request.body == '"RT-env-revoke"'
