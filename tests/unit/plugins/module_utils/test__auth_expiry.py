"""Tokens (_auth.py): renewal before a JWT access token expires, a token near its expiry used while it
works, and jwt_expiry.

Every request goes to ``responses`` and time is a fake clock (see conftest.py), so every test is instant.
"""

from __future__ import annotations

import pytest

from client_helpers import REFRESH, TASK, TASK_ID, TOKENS, auth_header, token_pair
from helpers import methods

from ansible_collections.vcf.sddc_manager.plugins.module_utils._auth import jwt_expiry
from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import SddcManagerError


# --- renewal before expiry ---------------------------------------------------------------------------

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
        assert methods(rsps) == ["PATCH", "GET"]
        assert auth_header(rsps.calls[1]) == "Bearer AT-fresh"
    else:
        assert methods(rsps) == ["GET"]
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
    assert methods(rsps) == ["GET", "PATCH", "GET"]


def test_proactive_renewal_falls_back_to_login(rsps, make_client, make_jwt, fake_time):
    rsps.post(TOKENS, json=token_pair("AT-new"), status=201)
    rsps.get(TASK, json={"id": TASK_ID})
    client = make_client(username="u", password="p", access_token=make_jwt(exp=int(fake_time.now) + 5))
    client.get_credentials_task(TASK_ID)
    assert methods(rsps) == ["POST", "GET"]


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
    assert methods(rsps) == ["PATCH", "GET", "GET"]
    assert auth_header(rsps.calls[2]) == "Bearer " + token


def test_token_expires_at(make_client, make_jwt):
    assert make_client(access_token=make_jwt(exp=1_900_000_000)).token_expires_at() == 1_900_000_000.0
    assert make_client(access_token="opaque").token_expires_at() is None


# --- jwt_expiry --------------------------------------------------------------------------------------

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
