"""Redaction: snake_case copies of API objects with every secret-keyed entry gone and its value collected."""

from __future__ import annotations

import copy
import json
import re
import string

import pytest
from hypothesis import given, settings, strategies as st

from helpers import keys_of

from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import is_secret_key, redact, secrets_in

PLANTED = {"PLANTED-old-9f3a", "PLANTED-new-9f3a", "PLANTED-old-b7c1", "PLANTED-new-b7c1"}


def test_credentials_task_is_snake_case_without_passwords(load_fixture):
    task = load_fixture("credentials_task_failed_rotate")
    pristine = copy.deepcopy(task)
    found = set()
    clean = redact(task, found)

    assert found == PLANTED
    text = json.dumps(clean)
    for secret in PLANTED:
        assert secret not in text
    keys = set(keys_of(clean))
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


# --- property-based, over task-shaped objects ----------------------------------------------------------------------
#
# SDDC Manager's own shapes (CredentialsTask, CredentialsSubTask, Error with causes and nestedErrors, the generic
# Task view, ResourceCredentials) with passwords where the API puts them (oldPassword/newPassword on sub-tasks,
# password on credentials) and where a careless server might (an error's context, a nested error, a dependent
# sub-task, anywhere in extra objects), and a password echoed in the free text of an error message.

import types  # noqa: E402

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _spec, _verdict  # noqa: E402
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule  # noqa: E402

task_secrets = st.builds("SECRET-{}-{}".format, st.integers(0, 10 ** 9), st.text(alphabet=LOWER, min_size=4, max_size=8))
words = st.text(alphabet=LOWER + " ", min_size=1, max_size=20)
statuses = st.sampled_from(["FAILED", "SUCCESSFUL", "IN_PROGRESS", "PENDING", "USER_CANCELLED", "INCONSISTENT",
                            "In Progress", "Failed", "Cancelled"])


@st.composite
def errors(draw, secret, depth=0):
    error = {"errorCode": draw(st.from_regex(r"[A-Z_]{3,20}", fullmatch=True)),
             "message": draw(words), "referenceToken": draw(st.from_regex(r"[A-Z0-9]{6}", fullmatch=True))}
    if draw(st.booleans()):
        error["remediationMessage"] = draw(words)
    if draw(st.booleans()):
        # a server that echoes the password it tried, in plain text
        error["message"] = "Password %s was refused: %s" % (secret, error["message"])
    if draw(st.booleans()):
        error["context"] = {draw(st.sampled_from(["password", "newPassword", "host", "detail"])): secret,
                            "host": draw(words)}
        error["context"]["currentPassword"] = secret
    if draw(st.booleans()):
        error["arguments"] = [draw(words), draw(words)]
    if depth < 2 and draw(st.booleans()):
        error["nestedErrors"] = draw(st.lists(errors(secret, depth + 1), max_size=2))
    if depth < 2 and draw(st.booleans()):
        error["causes"] = [{"type": "java.lang.Exception", "message": draw(words)}]
    return error


@st.composite
def sub_tasks(draw, depth=0):
    old, new = draw(task_secrets), draw(task_secrets)
    sub = {"id": draw(st.uuids()).hex, "resourceName": draw(st.from_regex(r"[a-z]{3,8}-\d\.example\.com", fullmatch=True)),
           "name": draw(words), "status": draw(statuses), "entityType": draw(st.sampled_from(_spec.RESOURCE_TYPES)),
           "username": draw(st.sampled_from(["root", "admin", "administrator@vsphere.local"])),
           "credentialType": draw(st.sampled_from(_spec.CREDENTIAL_TYPES)), "errors": []}
    if draw(st.booleans()):
        sub["oldPassword"] = old
    sub["newPassword"] = new
    if draw(st.booleans()):
        sub["errors"] = draw(st.lists(errors(new), min_size=1, max_size=2))
    if depth < 2 and draw(st.booleans()):
        sub["dependentSubTasks"] = draw(st.lists(sub_tasks(depth + 1), max_size=2))
    return sub


@st.composite
def credentials_tasks(draw):
    subs = draw(st.lists(sub_tasks(), min_size=1, max_size=4))
    task = {"id": draw(st.uuids()).hex, "name": draw(words),
            "type": draw(st.sampled_from(_spec.OPERATION_TYPES)), "status": draw(statuses),
            "creationTimestamp": "2026-11-27T10:00:00.000Z", "isAutoRotate": draw(st.booleans()),
            "errors": [], "subTasks": subs}
    if draw(st.booleans()):
        task["completionTimestamp"] = "2026-11-27T10:04:12.000Z"
    if draw(st.booleans()):
        task["errors"] = draw(st.lists(errors(subs[0]["newPassword"]), min_size=1, max_size=2))
    if draw(st.booleans()):
        # the generic Task view's resources, and whatever else a newer SDDC Manager may add
        task["resources"] = [{"resourceId": draw(st.uuids()).hex, "type": "ESXI", "name": draw(words)}]
    if draw(st.booleans()):
        task["extra"] = draw(trees)
    return task


def secret_values_of(task):
    return set(re.findall(r"SECRET-\d+-[a-z]+", json.dumps(task)))


@settings(max_examples=200, deadline=None)
@given(task=credentials_tasks())
def test_task_objects_lose_every_password_and_keep_the_rest(task):
    pristine = copy.deepcopy(task)
    found = set()
    clean = redact(task, found)
    text = json.dumps(clean)
    # every value under a secret key is collected, whatever its depth
    assert found == secrets_in(task)
    assert found >= {s["newPassword"] for s in task["subTasks"]}
    assert not {"old_password", "new_password", "password", "current_password"} & set(keys_of(clean))
    assert clean == expected_of_task(task)
    # a password is left only where the server echoed it in free text; it is among those collected
    assert secret_values_of(clean) <= found
    assert task == pristine
    assert "oldPassword" not in text and "newPassword" not in text


def expected_of_task(data):
    if isinstance(data, dict):
        return {snake(k): expected_of_task(v) for k, v in data.items() if not is_secret_key(k)}
    if isinstance(data, list):
        return [expected_of_task(item) for item in data]
    return data


@settings(max_examples=100, deadline=None)
@given(task=credentials_tasks())
def test_failure_report_of_any_task_holds_no_password(task):
    report = _verdict.failure_report(task)
    found = set()
    clean = redact(report, found)
    for entry in clean:
        assert set(entry) == {"task_id", "resource_name", "resource_type", "username", "credential_type", "subtask",
                              "status", "error_code", "message", "remediation", "remediation_links", "notifications",
                              "reference_token"}
    # only free text can still carry one, which the module masks (next test)
    assert secret_values_of(clean) <= secrets_in(task)


def _describe_and_return(module):
    task = module.params["payload"]
    described = module.describe_task(task)
    module.exit_json(changed=False, task=described, failed_subtasks=module.redact(_verdict.failure_report(task)),
                     lines=_verdict.describe_failures(_verdict.failure_report(task)))


@settings(max_examples=100, deadline=None)
@given(task=credentials_tasks())
def test_no_password_reaches_a_module_result(run_module, task):
    """The whole path a task takes to the controller: describe_task, the failure report and its sentences,
    exit_json with Ansible's no_log masking, and the invocation that echoes the arguments."""

    def main():
        module = SddcManagerModule(argument_spec=dict(payload=dict(type="raw")), supports_check_mode=True)
        _describe_and_return(module)

    result, failed = run_module(types.SimpleNamespace(main=main, __name__="describe"),
                                {"hostname": "sddc.example.com", "access_token": "AT-redact-1f2e", "payload": task})
    assert not failed, result
    out = json.dumps(result)
    assert not re.search(r"SECRET-\d+-[a-z]+", out), [s for s in secret_values_of(task) if s in out]


resource_credentials = st.lists(st.fixed_dictionaries({
    "resourceName": words, "resourceId": st.uuids().map(str), "resourceType": st.sampled_from(_spec.RESOURCE_TYPES),
    "credentials": st.lists(st.fixed_dictionaries({
        "credentialType": st.sampled_from(_spec.CREDENTIAL_TYPES), "accountType": st.sampled_from(_spec.ACCOUNT_TYPES),
        "username": words, "password": task_secrets}), min_size=1, max_size=3)}), min_size=1, max_size=3)


@settings(max_examples=100, deadline=None)
@given(resources=resource_credentials, operation=st.sampled_from(["ROTATE", "UPDATE_AUTO_ROTATE_POLICY"]))
def test_a_request_rebuilt_from_resource_credentials_carries_no_password(resources, operation):
    """GET .../resource-credentials answers with every password; a ROTATE retry built from it must drop them."""
    elements = _spec.elements_from_resource_credentials(resources)
    spec = _spec.build(operation, elements, {"enable_auto_rotate_policy": False})
    assert "SECRET-" not in json.dumps(elements) and "SECRET-" not in json.dumps(spec)
    assert [len(e["credentials"]) for e in spec["elements"]] == [len(r["credentials"]) for r in resources]
