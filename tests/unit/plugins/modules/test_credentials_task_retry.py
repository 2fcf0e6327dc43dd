"""credentials_task_retry: validation before any request, check mode, diff, idempotence, lost answers.
(Waiting for the retried task: test_credentials_task_retry_wait.py.)"""

from __future__ import annotations

import json

import pytest
import requests

from helpers import TASK_ID, methods, patches
from task_retry_helpers import CONN, RESOURCE_CREDENTIALS, TASK, args, as_task

from ansible_collections.vcf.sddc_manager.plugins.modules import credentials_task_retry

NEW_PASSWORD = "N3w-Pa55-c0de"


def esxi(password=None, **extra):
    credential = {"credential_type": "SSH", "username": "root"}
    if password is not None:
        credential["password"] = password
    element = {"resource_name": "esxi-01.example.com", "resource_type": "ESXI", "credentials": [credential]}
    element.update(extra)
    return element


# --- validation -------------------------------------------------------------------------------------

INVALID = [
    ({"operation_type": "UPDATE"}, "operation_type UPDATE needs elements with the new password"),
    ({"operation_type": "REMEDIATE"}, "operation_type REMEDIATE needs elements"),
    ({"elements": [esxi()]}, "elements requires operation_type"),
    ({"operation_type": "ROTATE", "elements": []}, "elements is empty"),
    ({"operation_type": "ROTATE", "elements": [dict(esxi(), credentials=[])]}, "elements[0].credentials is empty"),
    ({"operation_type": "UPDATE", "elements": [esxi()]},
     "elements[0].credentials[0].password is required for operation_type UPDATE (account root on esxi-01"),
    ({"operation_type": "ROTATE", "elements": [esxi(NEW_PASSWORD)]},
     "elements[0].credentials[0].password must not be set for operation_type ROTATE"),
    ({"operation_type": "UPDATE_AUTO_ROTATE_POLICY"}, "needs auto_rotate_policy"),
    ({"operation_type": "ROTATE", "auto_rotate_policy": {"enable_auto_rotate_policy": True, "frequency_in_days": 9}},
     "auto_rotate_policy only applies to operation_type UPDATE_AUTO_ROTATE_POLICY, not ROTATE"),
    ({"operation_type": "UPDATE_AUTO_ROTATE_POLICY",
      "auto_rotate_policy": {"enable_auto_rotate_policy": True, "frequency_in_days": 0}},
     "frequency_in_days must be between 1 and 90 days, got 0"),
    ({"operation_type": "UPDATE_AUTO_ROTATE_POLICY",
      "auto_rotate_policy": {"enable_auto_rotate_policy": True, "frequency_in_days": 91}}, "got 91"),
    ({"operation_type": "UPDATE_AUTO_ROTATE_POLICY", "auto_rotate_policy": {"enable_auto_rotate_policy": True}},
     "frequency_in_days is required when enable_auto_rotate_policy is true"),
    # argument spec of the elements
    ({"operation_type": "UPDATE", "elements": [{"resource_type": "ESXI",
                                                "credentials": [{"username": "root", "password": NEW_PASSWORD}]}]},
     "one of the following is required: resource_name, resource_id"),
    ({"operation_type": "UPDATE", "elements": [{"resource_name": "h",
                                                "credentials": [{"username": "root", "password": NEW_PASSWORD}]}]},
     "resource_type"),
    ({"operation_type": "UPDATE", "elements": [esxi(NEW_PASSWORD, resource_type="esx host")]}, "resource_type"),
    ({"operation_type": "UPDATE", "elements": [{"resource_name": "h", "resource_type": "ESXI"}]}, "credentials"),
    ({"operation_type": "UPDATE", "elements": [dict(esxi(), credentials=[{"password": NEW_PASSWORD}])]},
     "username"),
    ({"operation_type": "UPDATE", "elements": [dict(esxi(), credentials=[
        {"username": "root", "password": NEW_PASSWORD, "credential_type": "TELNET"}])]}, "credential_type"),
    ({"operation_type": "UPDATE_AUTO_ROTATE_POLICY", "auto_rotate_policy": {"frequency_in_days": 9}},
     "enable_auto_rotate_policy"),
    ({"operation_type": "RESET"}, "operation_type"),
    ({"wait_timeout": "soon"}, "wait_timeout"),
]


@pytest.mark.parametrize("options, words", INVALID)
def test_invalid_options_fail_before_any_request(run_module, rsps, options, words):
    result, failed = run_module(credentials_task_retry, args(**options))
    assert failed, result
    assert words in result["msg"]
    assert len(rsps.calls) == 0
    assert NEW_PASSWORD not in json.dumps(result)


def test_spec_problems_are_reported_together(run_module, rsps):
    result, failed = run_module(credentials_task_retry, args(
        operation_type="UPDATE", elements=[esxi(), esxi(resource_name="esxi-02.example.com")],
        auto_rotate_policy={"enable_auto_rotate_policy": True}))
    assert failed
    assert result["msg"].startswith("Invalid retry options: ")
    assert result["msg"].count("is required for operation_type UPDATE") == 2
    assert "auto_rotate_policy only applies" in result["msg"]
    assert len(rsps.calls) == 0


def test_task_id_is_required(run_module, rsps):
    result, failed = run_module(credentials_task_retry, CONN)
    assert failed
    assert "task_id" in result["msg"]
    assert len(rsps.calls) == 0


# --- check mode and diff ----------------------------------------------------------------------------

def test_check_mode_sends_no_patch(run_module, rotate_server, assert_clean):
    result, failed = run_module(credentials_task_retry, args(), check_mode=True, diff=True)
    assert not failed, result
    assert patches(rotate_server) == []
    assert result["changed"] is True
    assert result["retried"] is False
    assert result["status"] == "IN_PROGRESS"
    assert "would be retried (check mode)" in result["msg"]
    assert result["diff"] == {"before": {"task_id": TASK_ID, "status": "FAILED"},
                              "after": {"task_id": TASK_ID, "status": "IN_PROGRESS"}}
    assert result["task"]["normalized_status"] == "FAILED"
    assert_clean(result["task"])
    assert "PLANTED" not in json.dumps(result)


def test_check_mode_with_passwords(run_module, rsps):
    rsps.get(TASK, json={"id": TASK_ID, "type": "UPDATE", "status": "FAILED"})
    result, failed = run_module(credentials_task_retry, args(operation_type="UPDATE", elements=[esxi(NEW_PASSWORD)]),
                                check_mode=True)
    assert not failed, result
    assert methods(rsps) == ["GET"]
    assert result["changed"] is True
    assert NEW_PASSWORD not in json.dumps(result)


def test_no_diff_unless_asked(run_module, rotate_server):
    result, _failed = run_module(credentials_task_retry, args(), check_mode=True)
    assert "diff" not in result


# --- the retry --------------------------------------------------------------------------------------

def test_failed_rotate_task_is_retried_once(run_module, rotate_server, assert_clean):
    result, failed = run_module(credentials_task_retry, args(), diff=True)
    assert not failed, result
    assert methods(rotate_server) == ["GET", "PATCH"]  # the request rebuilt from the task's sub-tasks
    body = json.loads(patches(rotate_server)[0].request.body)
    assert body["operationType"] == "ROTATE"
    assert [e["resourceName"] for e in body["elements"]] == ["esxi-01.example.com", "vcenter-01.example.com"]
    assert "password" not in json.dumps(body).lower()
    assert result["changed"] is True
    assert result["retried"] is True
    # the generic task view says "In Progress"; the module reports the folded status
    assert result["status"] == "IN_PROGRESS"
    assert result["task"]["status"] == "In Progress"
    assert result["task"]["normalized_status"] == "IN_PROGRESS"
    assert result["msg"] == "Task %s was retried." % TASK_ID
    assert result["diff"]["after"] == {"task_id": TASK_ID, "status": "IN_PROGRESS"}
    assert "failed_subtasks" not in result
    assert "elapsed" not in result
    assert_clean(result["task"])
    text = json.dumps(result)
    assert "PLANTED" not in text and "AT-retry-2b8e" not in text


def test_retried_task_lists_its_resources(run_module, rotate_server):
    """The generic Task answering the PATCH has sub-tasks without owners; its resources are in ``resources``."""
    result, failed = run_module(credentials_task_retry, args())
    assert not failed
    assert result["task"]["resources"] == [{"resource_name": "esxi-01.example.com", "resource_type": "ESXI"},
                                           {"resource_name": "vcenter-01.example.com", "resource_type": "VCENTER"}]


def test_update_task_is_retried_with_the_given_passwords(run_module, rsps, accepted, assert_clean):
    rsps.get(TASK, json={"id": TASK_ID, "type": "UPDATE", "status": "FAILED", "subTasks": [
        {"resourceName": "esxi-01.example.com", "entityType": "ESXI", "status": "FAILED",
         "newPassword": "PLANTED-new-9f3a"}]})
    rsps.patch(TASK, status=202, json=accepted)
    result, failed = run_module(credentials_task_retry, args(operation_type="UPDATE", elements=[esxi(NEW_PASSWORD)]))
    assert not failed, result
    assert methods(rsps) == ["GET", "PATCH"]
    assert json.loads(patches(rsps)[0].request.body) == {
        "operationType": "UPDATE",
        "elements": [{"resourceType": "ESXI", "resourceName": "esxi-01.example.com",
                      "credentials": [{"username": "root", "credentialType": "SSH", "password": NEW_PASSWORD}]}]}
    text = json.dumps(result)
    assert NEW_PASSWORD not in text and "PLANTED" not in text
    assert_clean(result["task"])


@pytest.mark.parametrize("status, folded", [("IN_PROGRESS", "IN_PROGRESS"), ("PENDING", "PENDING"),
                                            ("SUCCESSFUL", "SUCCESSFUL"),
                                            ("COMPLETED_WITH_WARNING", "COMPLETED_WITH_WARNING")])
@pytest.mark.parametrize("check_mode", [False, True])
def test_running_or_succeeded_task_is_unchanged(run_module, rsps, failed_task, status, folded, check_mode):
    rsps.get(TASK, json=as_task(failed_task, status, sub_status=status))
    result, failed = run_module(credentials_task_retry, args(), check_mode=check_mode, diff=True)
    assert not failed, result
    assert methods(rsps) == ["GET"]
    assert result["changed"] is False
    assert result["retried"] is False
    assert result["status"] == folded
    assert result["diff"]["before"] == result["diff"]["after"] == {"task_id": TASK_ID, "status": folded}
    assert "PLANTED" not in json.dumps(result)


@pytest.mark.parametrize("status, words", [("USER_CANCELLED", "cancelled by a user"),
                                           ("INCONSISTENT", "REMEDIATE"), ("SKIPPED", "skipped")])
def test_task_that_cannot_be_retried(run_module, rsps, status, words):
    rsps.get(TASK, json={"id": TASK_ID, "type": "ROTATE", "status": status})
    result, failed = run_module(credentials_task_retry, args())
    assert failed
    assert words in result["msg"]
    assert result["task_id"] == TASK_ID
    assert methods(rsps) == ["GET"]


def test_update_task_without_passwords_fails_before_the_patch(run_module, rsps):
    rsps.get(TASK, json={"id": TASK_ID, "type": "UPDATE", "status": "FAILED"})
    result, failed = run_module(credentials_task_retry, args())
    assert failed
    assert "give operation_type and elements with the new password" in result["msg"]
    assert methods(rsps) == ["GET"]


def test_operation_type_must_be_the_task_s(run_module, rsps):
    rsps.get(TASK, json={"id": TASK_ID, "type": "ROTATE", "status": "FAILED"})
    result, failed = run_module(credentials_task_retry, args(operation_type="UPDATE",
                                                             elements=[esxi(NEW_PASSWORD)]))
    assert failed
    assert "is a ROTATE task but operation_type is UPDATE" in result["msg"]
    assert methods(rsps) == ["GET"]
    assert NEW_PASSWORD not in json.dumps(result)


def test_unknown_task(run_module, rsps):
    rsps.get(TASK, status=404, json={"errorCode": "NOT_FOUND", "message": "No such task."})
    result, failed = run_module(credentials_task_retry, args())
    assert failed
    assert "No credentials task with id %s exists" % TASK_ID in result["msg"]
    assert (result["status_code"], result["task_id"]) == (404, TASK_ID)


def test_lost_answer_confirmed_by_a_read(run_module, rsps, failed_task, load_fixture):
    rsps.get(TASK, json=failed_task)
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    rsps.patch(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, json=as_task(failed_task, "IN_PROGRESS"))
    result, failed = run_module(credentials_task_retry, args())
    assert not failed, result
    assert len(patches(rsps)) == 1
    assert (result["changed"], result["retried"], result["status"]) == (True, True, "IN_PROGRESS")
    assert "lost" in result["msg"]


def test_lost_answer_and_still_failed(run_module, rsps, failed_task, load_fixture):
    rsps.get(TASK, json=failed_task)
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    rsps.patch(TASK, body=requests.exceptions.ReadTimeout("Read timed out."))
    rsps.get(TASK, json=failed_task)
    result, failed = run_module(credentials_task_retry, args())
    assert failed
    assert "still FAILED" in result["msg"] and "may still apply it" in result["msg"]
    assert len(patches(rsps)) == 1


def test_another_client_retried_it_first(run_module, rsps, failed_task, load_fixture):
    rsps.get(TASK, json=failed_task)
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    rsps.patch(TASK, status=400, json={"errorCode": "TASK_NOT_FAILED", "message": "Task is not failed."})
    rsps.get(TASK, json=as_task(failed_task, "IN_PROGRESS"))
    result, failed = run_module(credentials_task_retry, args())
    assert not failed, result
    assert (result["changed"], result["retried"], result["status"]) == (False, False, "IN_PROGRESS")
    assert "another client" in result["msg"]
    assert len(patches(rsps)) == 1


def test_refused_retry_is_reported_with_the_api_error(run_module, rsps, failed_task, load_fixture):
    rsps.get(TASK, json=failed_task)
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    rsps.patch(TASK, status=400, json=load_fixture("error_full"))
    rsps.get(TASK, json=failed_task)
    result, failed = run_module(credentials_task_retry, args())
    assert failed
    assert "[CREDENTIAL_TASK_NOT_RETRYABLE]" in result["msg"]
    assert result["status_code"] == 400
    assert result["error"]["error_code"] == "CREDENTIAL_TASK_NOT_RETRYABLE"
    assert result["task_id"] == TASK_ID
