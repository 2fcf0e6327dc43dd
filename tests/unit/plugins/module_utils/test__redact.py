"""Redaction: snake_case copies of API objects with every secret-keyed entry gone and its value collected."""

from __future__ import annotations

import copy
import json
import re
import string

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import is_secret_key, redact, secrets_in

PLANTED = {"PLANTED-old-9f3a", "PLANTED-new-9f3a", "PLANTED-old-b7c1", "PLANTED-new-b7c1"}


def all_keys(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from all_keys(value)
    elif isinstance(data, list):
        for item in data:
            yield from all_keys(item)


def test_credentials_task_is_snake_case_without_passwords(load_fixture):
    task = load_fixture("credentials_task_failed_rotate")
    pristine = copy.deepcopy(task)
    found = set()
    clean = redact(task, found)

    assert found == PLANTED
    text = json.dumps(clean)
    for secret in PLANTED:
        assert secret not in text
    keys = set(all_keys(clean))
    assert not {"old_password", "new_password", "oldPassword", "newPassword"} & keys
    assert all(key == key.lower() for key in keys), keys
    assert clean["completion_timestamp"] == "2026-11-27T10:04:12.000Z"
    assert clean["is_auto_rotate"] is False
    sub = clean["sub_tasks"][0]
    assert sub["resource_name"] == "esxi-01.example.com"
    assert sub["entity_type"] == "ESXI"
    assert sub["errors"][0] == {
        "error_code": "ESXI_PASSWORD_UPDATE_FAILED",
        "message": "Failed to update the password of root on esxi-01.example.com.",
        "remediation_message": "Check that the host is reachable over SSH and retry.",
        # a reference token correlates logs; it is not a credential and is kept
        "reference_token": "REF-7Q2X9A",
    }
    assert task == pristine, "redact must not change its input"


def test_secrets_in_agrees_with_redact(load_fixture):
    task = load_fixture("credentials_task_failed_rotate")
    assert secrets_in(task) == PLANTED


def test_found_defaults_to_a_fresh_set():
    assert redact({"password": "x", "a": 1}) == {"a": 1}


def test_secrets_at_any_depth():
    data = {"a": [{"b": {"c": [{"password": "deep-1"}, {"keep": "me", "NEW-PASSWORD": "deep-2"}]}}],
            "accessToken": "at", "refresh_token": {"id": "rt-id"}, "tokens": ["not", "secret", "key"]}
    found = set()
    assert redact(data, found) == {"a": [{"b": {"c": [{}, {"keep": "me"}]}}], "tokens": ["not", "secret", "key"]}
    assert found == {"deep-1", "deep-2", "at", "rt-id"}


@pytest.mark.parametrize("key", [
    "password", "Password", "PASSWORD", "oldPassword", "newPassword", "old_password", "new-password",
    "OLD PASSWORD", "currentPassword", "accessToken", "access_token", "refreshToken", "refresh-token", "token",
    "idToken", "apiKey", "api_key", "secret", "clientSecret", "privateKey", "passphrase",
])
def test_secret_keys(key):
    assert is_secret_key(key)
    found = set()
    assert redact({key: "s3cret-value", "username": "root"}, found) == {"username": "root"}
    assert found == {"s3cret-value"}


@pytest.mark.parametrize("key", [
    "username", "referenceToken", "tokenType", "passwordPolicy", "id", "name", "credentialType", "", 3, None,
])
def test_non_secret_keys(key):
    assert not is_secret_key(key)


def test_non_string_keys_and_tuples_are_kept():
    found = set()
    assert redact({1: ("a", {"password": "p"}), "camelCase": None}, found) == {1: ["a", {}], "camel_case": None}
    assert found == {"p"}


def test_empty_and_non_string_secret_values_are_removed_but_not_collected():
    found = set()
    assert redact({"password": "", "token": 12345, "secret": None, "ok": True}, found) == {"ok": True}
    assert found == set()


def test_scalars_pass_through():
    for value in (None, 1, 1.5, True, "text"):
        assert redact(value) == value
    assert secrets_in("password") == set()


# --- property-based ------------------------------------------------------------------------------

LOWER = string.ascii_lowercase
SECRET_KEY_SPELLINGS = [
    "password", "Password", "oldPassword", "newPassword", "old_password", "NEW-PASSWORD", "currentPassword",
    "accessToken", "access_token", "refreshToken", "token", "idToken", "apiKey", "clientSecret", "secret",
    "privateKey", "passphrase",
]

# camelCase keys as in the API; none is a secret key.
plain_keys = st.from_regex(r"[a-z]{1,8}([A-Z][a-z]{1,6}){0,2}", fullmatch=True).filter(lambda k: not is_secret_key(k))
secret_keys = st.sampled_from(SECRET_KEY_SPELLINGS)
# Every secret value is unique-looking and upper case, so no plain value or key can contain it.
secret_strings = st.builds("SECRET-{}-{}".format, st.integers(0, 10 ** 9), st.text(alphabet=LOWER, max_size=6))
secret_payloads = st.one_of(
    secret_strings,
    st.lists(secret_strings, min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(["id", "value", "nested"]), secret_strings, min_size=1),
)
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                   st.text(alphabet=LOWER + " .-_0123456789", max_size=12))


def _dicts(children):
    entry = st.one_of(st.tuples(plain_keys, children), st.tuples(secret_keys, secret_payloads))
    return st.lists(entry, max_size=5).map(dict)


trees = st.recursive(leaves, lambda children: st.one_of(st.lists(children, max_size=4), _dicts(children)),
                     max_leaves=40)


def snake(key):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def expected_of(data):
    """Reference: drop the planted entries, snake_case the rest."""
    if isinstance(data, dict):
        return {snake(k): expected_of(v) for k, v in data.items() if k not in SECRET_KEY_SPELLINGS}
    if isinstance(data, list):
        return [expected_of(item) for item in data]
    return data


def planted_in(data):
    """Every secret string actually present in ``data``."""
    text = json.dumps(data)
    return set(re.findall(r"SECRET-\d+-[a-z]*", text))


@settings(max_examples=300, deadline=None)
@given(data=trees)
def test_no_planted_secret_survives_and_the_rest_is_kept(data):
    pristine = copy.deepcopy(data)
    planted = planted_in(data)
    found = set()
    clean = redact(data, found)

    out = json.dumps(clean)
    assert "SECRET-" not in out
    assert found == planted
    assert secrets_in(data) == planted
    assert clean == expected_of(data)
    assert data == pristine


@settings(max_examples=100, deadline=None)
@given(data=trees)
def test_redact_is_idempotent(data):
    once = redact(data)
    assert redact(once) == once
    assert secrets_in(once) == set()
