"""credentials: starts a password operation (PATCH /v1/credentials) once, only when nothing blocks it and it would
change something; check mode sends nothing; the passwords SDDC Manager holds never leave the module."""

from __future__ import annotations

import json
import re

import pytest
import requests

from helpers import BASE, methods, patches, sub_task, task

from ansible_collections.vcf.sddc_manager.plugins.modules import credentials

CONN = {"hostname": "sddc.example.com", "access_token": "AT-operation-5c21"}
LIST = BASE + "/v1/credentials/tasks"
ACCOUNTS = re.compile(re.escape(BASE + "/v1/credentials") + r"(\?.*)?$")
START = BASE + "/v1/credentials"
NEW_ID = "9e0b7c55-4a2d-4f1e-8c3b-2a1d0e9f8c77"
NEW = LIST + "/" + NEW_ID
HELD = "PLANTED-held-41d2"
GIVEN = "PLANTED-given-41d2"
ESXI = {"resource_name": "esxi-01.example.com", "resource_type": "ESXI"}


def element(password=None, **resource):
    credential = {"credential_type": "SSH", "username": "root"}
    if password is not None:
        credential["password"] = password
    return dict(ESXI, credentials=[credential], **resource)


def args(operation="ROTATE", *elements, **extra):
    return dict(CONN, operation_type=operation, elements=list(elements) or [element()], **extra)


def listing(*tasks):
    return {"elements": list(tasks), "pageMetadata": {"totalElements": len(tasks)}}


def on_esxi(task_id, status, created, operation="ROTATE", sub_tasks=None):
    return task(task_id, status, operation=operation, created=created,
                sub_tasks=sub_tasks or [sub_task("esxi-01.example.com", status)])


def account(password=HELD, resource="esxi-01.example.com", username="root", credential_type="SSH"):
    return {"id": "acc-1", "username": username, "credentialType": credential_type, "accountType": "USER",
            "password": password,
            "resource": {"resourceId": "r-esxi-01", "resourceName": resource, "resourceType": "ESXI"}}


def accepted(status="In Progress"):
    return {"id": NEW_ID, "name": "Password rotation", "type": "CREDENTIALS_ROTATE", "status": status,
            "resources": [{"resourceId": "r-esxi-01", "name": "esxi-01.example.com", "type": "ESXI"}]}


def started(status="IN_PROGRESS", operation="ROTATE", **fields):
    return on_esxi(NEW_ID, status, "2026-11-27T10:00:00.000Z", operation=operation, **fields)


@pytest.fixture(name="sddc")
def sddc_fixture(rsps):
    """SDDC Manager with one old, successful task on the host, that accepts an operation."""
    rsps.get(LIST, json=listing(on_esxi("old", "SUCCESSFUL", "2026-11-01T10:00:00.000Z")))
    rsps.patch(START, status=202, json=accepted())
    rsps.get(NEW, json=started())
    return rsps


def returned(result):
    """The result without ``invocation`` (which names the connection options, values masked)."""
    return {key: value for key, value in result.items() if key != "invocation"}


def sent_body(rsps):
    [call] = patches(rsps)
    return json.loads(call.request.body)


def test_rotate_starts_one_operation_and_returns_its_task(run_module, sddc, assert_clean):
    result, failed = run_module(credentials, args(), diff=True)
    assert not failed, result
    assert methods(sddc, paths=True) == [("GET", "/v1/credentials/tasks"), ("PATCH", "/v1/credentials"),
                                         ("GET", "/v1/credentials/tasks/" + NEW_ID)]
    assert sent_body(sddc) == {"operationType": "ROTATE", "elements": [{
        "resourceName": "esxi-01.example.com", "resourceType": "ESXI",
        "credentials": [{"username": "root", "credentialType": "SSH"}]}]}
    assert result["changed"] is True
    assert (result["task_id"], result["status"], result["verdict"]) == (NEW_ID, "IN_PROGRESS", "running")
    assert result["msg"] == "A ROTATE operation started on root (SSH) on esxi-01.example.com."
    assert result["diff"]["after"]["operation_started"]["operation_type"] == "ROTATE"
    assert result["diff"]["before"] == {"operation_started": None}
    assert_clean(returned(result))


def test_check_mode_sends_nothing_and_names_the_operation_and_accounts(run_module, sddc):
    result, failed = run_module(credentials, args("REMEDIATE", element(GIVEN)), check_mode=True, diff=True)
    assert not failed, result
    assert methods(sddc) == ["GET"]
    assert result["changed"] is True and result["task_id"] is None
    assert result["status"] == "IN_PROGRESS"
    assert result["msg"] == ("Check mode: a REMEDIATE would start on root (SSH) on esxi-01.example.com; nothing "
                             "was sent.")
    assert result["diff"]["after"]["operation_started"]["accounts"][0]["username"] == "root"
    assert GIVEN not in json.dumps(result)


@pytest.mark.parametrize("status, todo", [
    ("FAILED", "Retry it (vcf.sddc_manager.credentials_task_retry with task_id blocker) or cancel it"),
    ("IN_PROGRESS", "Wait for it to end (vcf.sddc_manager.credentials_task_wait with task_ids [blocker])"),
    ("PENDING", "Wait for it to end"),
])
@pytest.mark.parametrize("check_mode", [False, True])
def test_a_locked_resource_is_refused_naming_the_task(run_module, rsps, status, todo, check_mode):
    rsps.get(LIST, json=listing(on_esxi("blocker", status, "2026-11-20T10:00:00.000Z"),
                                on_esxi("old", "SUCCESSFUL", "2026-11-01T10:00:00.000Z")))
    result, failed = run_module(credentials, args(), check_mode=check_mode)
    assert failed
    assert ("Resource esxi-01.example.com (ESXI) is locked by credentials task blocker, which is %s" % status
            in result["msg"])
    assert todo in result["msg"] and "nothing was sent" in result["msg"]
    assert methods(rsps) == ["GET"]


def test_an_older_failed_task_locks_too(run_module, rsps):
    # A FAILED task locks its resources until it is retried or cancelled, whatever came after it.
    rsps.get(LIST, json=listing(on_esxi("newer", "SUCCESSFUL", "2026-11-21T10:00:00.000Z"),
                                on_esxi("blocker", "FAILED", "2026-11-20T10:00:00.000Z")))
    result, failed = run_module(credentials, args())
    assert failed and "locked by credentials task blocker" in result["msg"]


@pytest.mark.parametrize("operation, extra", [("ROTATE", {}), ("UPDATE", {"password": GIVEN})])
def test_an_inconsistent_resource_takes_only_remediate(run_module, rsps, operation, extra):
    rsps.get(LIST, json=listing(on_esxi("cancelled-later", "USER_CANCELLED", "2026-11-22T10:00:00.000Z"),
                                on_esxi("lost", "INCONSISTENT", "2026-11-20T10:00:00.000Z")))
    rsps.get(ACCOUNTS, json={"elements": [account()]})
    result, failed = run_module(credentials, args(operation, element(**extra)))
    assert failed, result
    assert "is INCONSISTENT since credentials task lost" in result["msg"]
    assert "operation_type REMEDIATE" in result["msg"] and "nothing was sent" in result["msg"]
    assert patches(rsps) == []


def test_remediate_starts_on_an_inconsistent_resource(run_module, rsps):
    rsps.get(LIST, json=listing(on_esxi("lost", "INCONSISTENT", "2026-11-20T10:00:00.000Z")))
    rsps.patch(START, status=202, json=accepted())
    rsps.get(NEW, json=started(operation="REMEDIATE"))
    result, failed = run_module(credentials, args("REMEDIATE", element(GIVEN)))
    assert not failed, result
    assert sent_body(rsps)["elements"][0]["credentials"][0]["password"] == GIVEN
    assert result["task_id"] == NEW_ID
    assert GIVEN not in json.dumps(result)


def test_a_newer_task_resolves_an_inconsistent_one(run_module, rsps):
    rsps.get(LIST, json=listing(on_esxi("remediation", "SUCCESSFUL", "2026-11-21T10:00:00.000Z", "REMEDIATE"),
                                on_esxi("lost", "INCONSISTENT", "2026-11-20T10:00:00.000Z")))
    rsps.patch(START, status=202, json=accepted())
    rsps.get(NEW, json=started())
    result, failed = run_module(credentials, args())
    assert not failed, result
    assert len(patches(rsps)) == 1


def test_update_to_the_held_password_sends_nothing(run_module, rsps, assert_clean):
    rsps.get(ACCOUNTS, json={"elements": [account(HELD), account("PLANTED-other-41d2", username="audit")]})
    rsps.get(LIST, json=listing())
    result, failed = run_module(credentials, args("UPDATE", element(HELD)), diff=True)
    assert not failed, result
    assert methods(rsps) == ["GET", "GET"]
    assert rsps.calls[0].request.params == {"resourceName": "esxi-01.example.com", "resourceType": "ESXI"}
    assert result["changed"] is False and result["task_id"] is None
    assert "already holds the given password of root (SSH) on esxi-01.example.com" in result["msg"]
    assert result["diff"]["before"] == result["diff"]["after"]
    assert_clean(returned(result), extra_secrets=(HELD, "PLANTED-other-41d2"))
    assert HELD not in json.dumps(result)


@pytest.mark.parametrize("held", ["PLANTED-older-41d2", None])
def test_update_to_another_password_is_sent(run_module, rsps, held):
    # None: SDDC Manager shows no password (a user that is not ADMIN): the update is sent and SDDC Manager decides.
    rsps.get(ACCOUNTS, json={"elements": [account(held)]})
    rsps.get(LIST, json=listing())
    rsps.patch(START, status=202, json=accepted())
    rsps.get(NEW, json=started(operation="UPDATE"))
    result, failed = run_module(credentials, args("UPDATE", element(GIVEN)))
    assert not failed, result
    assert result["changed"] is True and len(patches(rsps)) == 1
    assert GIVEN not in json.dumps(result) and "PLANTED-older-41d2" not in json.dumps(result)


def test_update_of_an_account_sddc_manager_does_not_list_is_sent(run_module, rsps):
    rsps.get(ACCOUNTS, json={"elements": [account(GIVEN, username="someone-else")]})
    rsps.get(LIST, json=listing())
    rsps.patch(START, status=400, json={"errorCode": "PASSWORD_MANAGER_CREDENTIAL_NOT_FOUND",
                                        "message": "No account root on esxi-01.example.com."})
    result, failed = run_module(credentials, args("UPDATE", element(GIVEN)))
    assert failed and "No account root" in result["msg"]
    assert len(patches(rsps)) == 1
    assert GIVEN not in json.dumps(result)


def test_a_resource_given_by_id_is_judged_by_its_name(run_module, rsps):
    rsps.get(ACCOUNTS, json={"elements": [account()]})
    rsps.get(LIST, json=listing(on_esxi("blocker", "FAILED", "2026-11-20T10:00:00.000Z")))
    given = dict(element(), resource_id="r-esxi-01")
    del given["resource_name"]
    result, failed = run_module(credentials, args("ROTATE", given))
    assert failed and "Resource esxi-01.example.com (ESXI) is locked by credentials task blocker" in result["msg"]
    assert HELD not in json.dumps(result)


def test_wait_reports_the_end_and_its_errors(run_module, rsps, fake_waiter, assert_clean):
    fake_waiter()
    error = {"errorCode": "PASSWORD_REMEDIATE_PASSWORD_MISMATCH", "message": "The password is not the one set.",
             "remediationMessage": "Give the password really set on the host."}
    rsps.get(LIST, json=listing())
    rsps.patch(START, status=202, json=accepted())
    rsps.get(NEW, json=started())
    rsps.get(NEW, json=started("FAILED", operation="REMEDIATE",
                               sub_tasks=[sub_task("esxi-01.example.com", "FAILED", errors=[error])]))
    result, failed = run_module(credentials, args("REMEDIATE", element(GIVEN), wait=True, wait_sleep=1))
    assert failed
    assert result["status"] == "FAILED" and result["verdict"] == "attention"
    assert result["failed_subtasks"][0]["error_code"] == "PASSWORD_REMEDIATE_PASSWORD_MISMATCH"
    assert "Give the password really set on the host." in result["msg"]
    assert_clean(result["failed_subtasks"]) and assert_clean(result["task"], extra_secrets=(GIVEN,))
    assert len(patches(rsps)) == 1

    result, failed = run_module(credentials, args("REMEDIATE", element(GIVEN), wait=True, fail_on_failure=False))
    assert not failed and result["verdict"] == "attention"


def test_wait_until_success(run_module, rsps, fake_waiter):
    fake_waiter()
    rsps.get(LIST, json=listing())
    rsps.patch(START, status=202, json=accepted())
    rsps.get(NEW, json=started())
    rsps.get(NEW, json=started("SUCCESSFUL"))
    result, failed = run_module(credentials, args(wait=True, wait_sleep=1))
    assert not failed, result
    assert (result["status"], result["verdict"]) == ("SUCCESSFUL", "succeeded")
    assert "elapsed" in result and "ended SUCCESSFUL" in result["msg"]


def test_wait_timeout_fails(run_module, rsps, fake_waiter):
    fake_waiter()
    rsps.get(LIST, json=listing())
    rsps.patch(START, status=202, json=accepted())
    rsps.get(NEW, json=started())
    result, failed = run_module(credentials, args(wait=True, wait_sleep=1, wait_timeout=3))
    assert failed and "was still IN_PROGRESS after wait_timeout (3 s)" in result["msg"]
    assert result["task_id"] == NEW_ID


def test_a_lost_answer_is_settled_from_the_task_list_and_never_sent_twice(run_module, rsps):
    rsps.get(LIST, json=listing(on_esxi("old", "SUCCESSFUL", "2026-11-01T10:00:00.000Z")))
    rsps.patch(START, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(LIST, json=listing(started(), on_esxi("old", "SUCCESSFUL", "2026-11-01T10:00:00.000Z")))
    result, failed = run_module(credentials, args())
    assert not failed, result
    assert len(patches(rsps)) == 1
    assert result["task_id"] == NEW_ID and result["changed"] is True
    assert "the answer to the request was lost" in result["msg"]


def test_a_lost_answer_without_a_new_task_says_nothing_started(run_module, rsps):
    rsps.get(LIST, json=listing(on_esxi("old", "SUCCESSFUL", "2026-11-01T10:00:00.000Z")))
    rsps.patch(START, body=requests.exceptions.ConnectionError("Connection aborted."))
    result, failed = run_module(credentials, args())
    assert failed
    assert "so it was not started; nothing changed" in result["msg"]
    assert len(patches(rsps)) == 1


def test_an_answer_without_a_body_is_followed_through_the_task_list(run_module, rsps):
    rsps.get(LIST, json=listing())
    rsps.patch(START, status=202, body="")
    rsps.get(LIST, json=listing(started()))
    rsps.get(NEW, json=started())
    result, failed = run_module(credentials, args())
    assert not failed, result
    assert result["task_id"] == NEW_ID and result["status"] == "IN_PROGRESS"


@pytest.mark.parametrize("extra, words", [
    ({"operation_type": None}, "operation_type is required: say which operation to start"),
    ({"elements": None}, "elements is required: list the resources and the accounts the ROTATE operation is for"),
    ({"elements": []}, "elements is empty"),
    ({"elements": [element(GIVEN)]}, "elements[0].credentials[0].password must not be set for operation_type ROTATE"),
    ({"operation_type": "UPDATE"}, "elements[0].credentials[0].password is required for operation_type UPDATE"),
    ({"operation_type": "UPDATE_AUTO_ROTATE_POLICY"}, "needs auto_rotate_policy"),
    ({"auto_rotate_policy": {"enable_auto_rotate_policy": True, "frequency_in_days": 91}}, "between 1 and 90"),
    ({"wait_sleep": 0}, "wait_sleep at least 1 second"),
])
def test_bad_input_is_refused_before_any_request(run_module, rsps, extra, words):
    given = args(**{k: v for k, v in extra.items() if k not in ("operation_type", "elements")})
    for key in ("operation_type", "elements"):
        if key in extra:
            given[key] = extra[key]
    given = {k: v for k, v in given.items() if v is not None}
    result, failed = run_module(credentials, given)
    assert failed
    assert words in result["msg"], result["msg"]
    assert len(rsps.calls) == 0
    assert GIVEN not in json.dumps(result)


def test_a_refusal_names_sddc_managers_reason(run_module, rsps):
    rsps.get(LIST, json=listing())
    rsps.patch(START, status=400, json={"errorCode": "PASSWORD_MANAGER_RESOURCE_LOCKED",
                                        "message": "The resource is locked by another password operation."})
    result, failed = run_module(credentials, args("ROTATE", element(**ESXI)))
    assert failed and "locked by another password operation" in result["msg"]
    assert result["operation_type"] == "ROTATE"
    assert len(rsps.calls) == 2  # the list read, the one refused start: nothing sent again
    assert GIVEN not in json.dumps(result)
