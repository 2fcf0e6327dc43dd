"""Tokens: login, expiry, refresh, revoke, roles."""

import time
import uuid

import pytest

from sim_helpers import ADMIN, OPERATOR, VIEWER, jwt_claims, retry_body

# The whole 401 body, as FIELD-NOTES records it.
UNAUTHORIZED = {"errorCode": "Unauthorized", "message": "Authorization Header is missing or not in correct format"}


def test_login_returns_a_token_pair_with_a_real_looking_jwt(client):
    pair = client.login()
    assert set(pair) == {"accessToken", "refreshToken"}
    uuid.UUID(pair["refreshToken"]["id"])
    assert pair["accessToken"].count(".") == 2
    claims = jwt_claims(pair["accessToken"])
    assert claims["sub"] == ADMIN["username"]
    assert claims["exp"] - claims["iat"] in (3599, 3600)
    uuid.UUID(claims["jti"])
    assert client.get("/v1/credentials/tasks", pair["accessToken"]).status_code == 200


@pytest.mark.parametrize("username,password", [
    (ADMIN["username"], "wrong"),
    ("nobody@vsphere.local", ADMIN["password"]),
])
def test_wrong_credentials_are_401_identity_unauthorized(client, username, password):
    answer = client.call("POST", "/v1/tokens", json={"username": username, "password": password})
    assert answer.status_code == 401
    error = answer.json()
    assert error["errorCode"] == "IDENTITY_UNAUTHORIZED_ENTITY"
    assert error["message"] and error["referenceToken"]
    assert client.ctl.counters()["failed_logins"] == 1


@pytest.mark.parametrize("kwargs", [
    {"json": {"username": ADMIN["username"]}},
    {"json": {"password": ADMIN["password"]}},
    {"json": ["not", "an", "object"]},
    {"data": "{not json", "headers": {"Content-Type": "application/json"}},
])
def test_login_without_both_fields_is_400(client, kwargs):
    answer = client.call("POST", "/v1/tokens", **kwargs)
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "IDENTITY_INVALID_REQUEST"
    assert client.ctl.counters()["failed_logins"] == 1


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic YWRtaW46YWRtaW4="])
def test_calls_without_a_valid_token_are_401(client, header):
    headers = {} if header is None else {"Authorization": header}
    answer = client.call("GET", "/v1/credentials/tasks", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED
    assert "Bearer" in answer.headers["WWW-Authenticate"]


def test_access_token_expires(load):
    client = load(tokens={"access_lifetime": 0.3, "refresh_lifetime": 60})
    token = client.token()
    assert client.get("/v1/credentials/tasks", token).status_code == 200
    time.sleep(0.4)
    answer = client.get("/v1/credentials/tasks", token)
    assert answer.status_code == 401
    # SDDC Manager says the same for an expired token as for a missing one.
    assert answer.json() == UNAUTHORIZED


def test_advancing_the_clock_expires_tokens(client):
    token = client.token()
    client.ctl.advance(3601)
    assert client.get("/v1/credentials/tasks", token).status_code == 401


@pytest.mark.parametrize("as_json", [True, False], ids=["json-string", "raw-text"])
def test_refresh_returns_a_new_access_token_as_a_json_string(client, as_json):
    pair = client.login()
    refresh_id = pair["refreshToken"]["id"]
    kwargs = {"json": refresh_id} if as_json else {"data": refresh_id}
    answer = client.call("PATCH", "/v1/tokens/access-token/refresh", **kwargs)
    assert answer.status_code == 200
    assert answer.text.startswith('"')
    new_token = answer.json()
    assert new_token != pair["accessToken"]
    assert client.get("/v1/credentials/tasks", new_token).status_code == 200
    assert client.ctl.counters()["refreshes"] == 1


def test_refresh_with_unknown_or_expired_token_is_404(client):
    answer = client.call("PATCH", "/v1/tokens/access-token/refresh", json=str(uuid.uuid4()))
    assert answer.status_code == 404
    assert answer.json()["errorCode"] == "REFRESH_TOKEN_NOT_FOUND"
    refresh_id = client.login()["refreshToken"]["id"]
    client.ctl.advance(86401)
    assert client.call("PATCH", "/v1/tokens/access-token/refresh", json=refresh_id).status_code == 404


def test_refresh_with_empty_body_is_400(client):
    assert client.call("PATCH", "/v1/tokens/access-token/refresh", data="").status_code == 400


def test_revoke_ends_the_refresh_token(client):
    refresh_id = client.login()["refreshToken"]["id"]
    answer = client.call("DELETE", "/v1/tokens/refresh-token", json=refresh_id)
    assert answer.status_code == 204
    assert answer.content == b""
    assert client.call("PATCH", "/v1/tokens/access-token/refresh", json=refresh_id).status_code == 404
    assert client.ctl.counters()["revocations"] == 1


@pytest.mark.parametrize("user", [VIEWER, OPERATOR], ids=["viewer", "operator"])
def test_only_admins_may_retry_or_cancel(client, user):
    token = client.token(user)
    assert client.get("/v1/credentials/tasks/rotate-failed", token).status_code == 200
    resources = client.get("/v1/credentials/tasks/rotate-failed/resource-credentials", token).json()
    patch = client.patch("/v1/credentials/tasks/rotate-failed", token, retry_body(resources, "ROTATE"))
    assert patch.status_code == 403
    assert patch.json()["errorCode"] == "Forbidden"
    delete = client.delete("/v1/credentials/tasks/rotate-failed", token)
    assert delete.status_code == 403
    assert client.internal("rotate-failed")["status"] == "FAILED"
    counters = client.ctl.counters()
    assert counters["patches_rejected"] == 1 and counters["deletes_rejected"] == 1
