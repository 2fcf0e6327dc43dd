"""Retrying a credentials task over a real client and mocked HTTP: the plan, the request rebuilt from the task,
and the retry with its refusals. (A write whose answer was lost or refused: test__tasks_retry_answers.py.)"""

from __future__ import annotations

import json

import pytest

from client_helpers import TASK, TASK_ID
from helpers import methods, patches, sub_task
from tasks_helpers import RESOURCE_CREDENTIALS, ROTATE_ELEMENTS, task

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _tasks
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError

UPDATE_ELEMENTS = [{"resource_name": "esxi-01.example.com", "resource_id": None, "resource_type": "ESXI",
                    "credentials": [{"username": "root", "credential_type": "SSH", "account_type": None,
                                     "password": "N3w-Pa55!"}]}]


# --- plan_retry -------------------------------------------------------------------------------------

@pytest.mark.parametrize("status, action", [
    ("FAILED", "retry"),
    ("Failed", "retry"),
    ("PENDING", "running"),
    ("IN_PROGRESS", "running"),
    ("In Progress", "running"),
    ("SUCCESSFUL", "done"),
    ("Successful", "done"),
    ("COMPLETED_WITH_WARNING", "done"),
])
def test_plan_retry(status, action):
    planned, message = _tasks.plan_retry(task(status=status))
    assert planned == action
    assert TASK_ID in message


@pytest.mark.parametrize("status, hint", [
    ("USER_CANCELLED", "cancelled by a user"),
    ("CANCELLED", "was cancelled"),
    ("Cancelled", "was cancelled"),
    ("INCONSISTENT", "REMEDIATE"),
    ("SKIPPED", "skipped"),
    ("NOT_APPLICABLE", "'NOT_APPLICABLE'"),
    (None, "None"),
])
def test_plan_retry_refuses(status, hint):
    with pytest.raises(SddcManagerError) as info:
        _tasks.plan_retry(task(status=status))
    assert info.value.kind == "not_retryable"
    assert hint in info.value.message
    assert TASK_ID in info.value.message


# --- build_retry_spec -------------------------------------------------------------------------------

def test_rotate_is_rebuilt_from_the_resource_credentials(rsps, client, load_fixture):
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    spec, rebuilt = _tasks.build_retry_spec(client, task(), {})
    assert rebuilt is False
    assert spec == {"operationType": "ROTATE", "elements": [
        {"resourceType": "ESXI", "resourceName": "esxi-01.example.com", "resourceId": "r-esxi-01",
         "credentials": [{"username": "root", "credentialType": "SSH", "accountType": "USER"}]},
        {"resourceType": "VCENTER", "resourceName": "vcenter-01.example.com", "resourceId": "r-vc-01",
         "credentials": [{"username": "administrator@vsphere.local", "credentialType": "SSO",
                          "accountType": "SYSTEM"}]},
    ]}
    assert "PLANTED" not in json.dumps(spec)


ESXI_ROOT = sub_task()
VC_SSO = sub_task("vcenter-01.example.com", kind="VCENTER", username="administrator@vsphere.local",
                  credential_type="SSO", name="Rotate SSO admin")


def test_rotate_is_rebuilt_from_its_sub_tasks_without_a_request(rsps, client):
    # Two accounts of one host, one of vCenter whose dependent sub-task applies it elsewhere, a repeated sub-task.
    ssh_admin = sub_task(username="admin", name="Rotate admin")
    dependent = sub_task("nsx-01.example.com", kind="NSXT_MANAGER", username="administrator@vsphere.local",
                         credential_type="SSO", name="Apply to NSX")
    spec, rebuilt = _tasks.build_retry_spec(client, task(sub_tasks=[
        ESXI_ROOT, ssh_admin, dict(VC_SSO, dependentSubTasks=[dependent]), dict(ESXI_ROOT)]), {})
    assert rebuilt is True and len(rsps.calls) == 0
    assert spec == {"operationType": "ROTATE", "elements": [
        {"resourceType": "ESXI", "resourceName": "esxi-01.example.com",
         "credentials": [{"username": "root", "credentialType": "SSH"}, {"username": "admin", "credentialType": "SSH"}]},
        {"resourceType": "VCENTER", "resourceName": "vcenter-01.example.com",
         "credentials": [{"username": "administrator@vsphere.local", "credentialType": "SSO"}]},
    ]}
    assert "PLANTED" not in json.dumps(spec)  # the sub-tasks' old and new passwords stay behind


@pytest.mark.parametrize("sparse", [
    pytest.param({"username": None}, id="no username"),
    pytest.param({"credentialType": None}, id="no credential type"),
    pytest.param({"entityType": None}, id="no entity type"),
    pytest.param({"resourceName": ""}, id="empty resource name"),
    pytest.param({"entityType": "HOST"}, id="entity type in another vocabulary"),
    pytest.param({"credentialType": "KEY"}, id="unknown credential type"),
])
def test_sub_tasks_that_leave_out_a_field_fall_back_to_the_resource_credentials(rsps, client, load_fixture, sparse):
    partial = dict(VC_SSO)
    for key, value in sparse.items():
        if value is None:
            partial.pop(key)
        else:
            partial[key] = value
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    spec, rebuilt = _tasks.build_retry_spec(client, task(sub_tasks=[ESXI_ROOT, partial]), {})
    assert rebuilt is False
    assert methods(rsps, paths=True) == [("GET", "/v1/credentials/tasks/%s/resource-credentials" % TASK_ID)]
    assert spec["elements"][0]["resourceId"] == "r-esxi-01"


def test_a_task_without_sub_tasks_falls_back_to_the_resource_credentials(rsps, client, load_fixture):
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    assert _tasks.build_retry_spec(client, task(sub_tasks=[]), {})[1] is False
    assert _tasks.build_retry_spec(client, task(sub_tasks=[ESXI_ROOT]), {}, from_subtasks=False)[1] is False
    assert len(rsps.calls) == 2


def test_rebuild_with_no_resources_is_an_error(rsps, client):
    rsps.get(RESOURCE_CREDENTIALS, json=[])
    with pytest.raises(SddcManagerError) as info:
        _tasks.build_retry_spec(client, task(), {})
    assert "lists no resources" in info.value.message


def test_given_elements_are_used_as_they_are(rsps, client):
    spec, _rebuilt = _tasks.build_retry_spec(client, task(operation="UPDATE"),
                                             {"operation_type": "UPDATE", "elements": UPDATE_ELEMENTS})
    assert spec["elements"][0]["credentials"] == [{"username": "root", "credentialType": "SSH",
                                                   "password": "N3w-Pa55!"}]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("operation", ["UPDATE", "REMEDIATE"])
def test_password_operations_cannot_be_rebuilt(rsps, client, operation):
    with pytest.raises(SddcManagerError) as info:
        _tasks.build_retry_spec(client, task(operation=operation), {})
    assert info.value.kind == "needs_input"
    assert "give operation_type and elements" in info.value.message
    assert len(rsps.calls) == 0


def test_operation_must_match_the_task(rsps, client):
    with pytest.raises(SddcManagerError) as info:
        _tasks.build_retry_spec(client, task(operation="ROTATE"), {"operation_type": "UPDATE",
                                                                   "elements": UPDATE_ELEMENTS})
    assert info.value.kind == "config"
    assert "is a ROTATE task but operation_type is UPDATE" in info.value.message
    assert len(rsps.calls) == 0


def test_policy_task_needs_a_policy(rsps, client):
    with pytest.raises(SddcManagerError) as info:
        _tasks.build_retry_spec(client, task(operation="UPDATE_AUTO_ROTATE_POLICY"), {})
    assert "give auto_rotate_policy" in info.value.message
    assert len(rsps.calls) == 0


def test_policy_task_is_rebuilt_with_the_policy(rsps, client, load_fixture):
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    spec, _rebuilt = _tasks.build_retry_spec(client, task(operation="UPDATE_AUTO_ROTATE_POLICY"), {
        "auto_rotate_policy": {"enable_auto_rotate_policy": True, "frequency_in_days": 30}})
    assert spec["operationType"] == "UPDATE_AUTO_ROTATE_POLICY"
    assert spec["autoRotatePolicy"] == {"enableAutoRotatePolicy": True, "frequencyInDays": 30}
    assert len(spec["elements"]) == 2


# --- retry ------------------------------------------------------------------------------------------

def test_retry_of_a_failed_task_sends_one_patch(rsps, client, failed_task, accepted, load_fixture):
    rsps.get(TASK, json=failed_task)
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    rsps.patch(TASK, status=202, json=accepted)
    result = _tasks.retry(client, TASK_ID, {})
    # The request is rebuilt from the task's own sub-tasks: no read of its resource credentials.
    assert methods(rsps, paths=True) == [
        ("GET", "/v1/credentials/tasks/" + TASK_ID),
        ("PATCH", "/v1/credentials/tasks/" + TASK_ID)]
    body = json.loads(patches(rsps)[0].request.body)
    assert body["operationType"] == "ROTATE"
    assert "password" not in json.dumps(body)
    assert result["changed"] is True
    assert result["retried"] is True
    assert result["task"]["status"] == "In Progress"
    assert result["before"] is not result["task"]
    assert result["before"]["status"] == "FAILED"
    assert result["msg"] == "Task %s was retried." % TASK_ID


def test_retry_with_given_elements(rsps, client, accepted):
    rsps.get(TASK, json=task(operation="UPDATE"))
    rsps.patch(TASK, status=202, json=accepted)
    _tasks.retry(client, TASK_ID, {"operation_type": "UPDATE", "elements": UPDATE_ELEMENTS})
    body = json.loads(patches(rsps)[0].request.body)
    assert body == {"operationType": "UPDATE", "elements": [{"resourceType": "ESXI",
                                                             "resourceName": "esxi-01.example.com",
                                                             "credentials": [{"username": "root",
                                                                              "credentialType": "SSH",
                                                                              "password": "N3w-Pa55!"}]}]}


def test_retry_uses_a_task_already_read(rsps, client, accepted):
    rsps.patch(TASK, status=202, json=accepted)
    result = _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS}, task=task())
    assert methods(rsps, paths=True) == [("PATCH", "/v1/credentials/tasks/" + TASK_ID)]
    assert result["retried"] is True


def test_retry_in_check_mode_sends_no_patch(rsps, client, load_fixture):
    rsps.get(TASK, json=task())
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    result = _tasks.retry(client, TASK_ID, {}, check_mode=True)
    assert patches(rsps) == []
    assert result["changed"] is True
    assert result["retried"] is False
    assert "would be retried (check mode)" in result["msg"]


@pytest.mark.parametrize("status, words", [("IN_PROGRESS", "already IN_PROGRESS"), ("In Progress", "already"),
                                           ("PENDING", "already PENDING"), ("SUCCESSFUL", "nothing to retry"),
                                           ("COMPLETED_WITH_WARNING", "nothing to retry")])
def test_running_or_succeeded_task_is_left_alone(rsps, client, status, words):
    rsps.get(TASK, json=task(status=status, operation="UPDATE"))
    result = _tasks.retry(client, TASK_ID, {})
    assert len(rsps.calls) == 1  # the read; no resource credentials, no PATCH
    assert (result["changed"], result["retried"]) == (False, False)
    assert words in result["msg"]


@pytest.mark.parametrize("status", ["USER_CANCELLED", "INCONSISTENT", "Cancelled", "SKIPPED"])
def test_not_retryable_task_fails_without_patch(rsps, client, status):
    rsps.get(TASK, json=task(status=status))
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {})
    assert info.value.kind == "not_retryable"
    assert len(rsps.calls) == 1


def test_update_without_elements_fails_before_any_patch(rsps, client):
    rsps.get(TASK, json=task(operation="UPDATE"))
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {})
    assert info.value.kind == "needs_input"
    assert methods(rsps, paths=True) == [("GET", "/v1/credentials/tasks/" + TASK_ID)]


# --- a request rebuilt from the sub-tasks that SDDC Manager refuses -----------------------------------

REFUSED = {"errorCode": "PASSWORD_MANAGER_CREDENTIALS_MISMATCH", "message": "The spec leaves out credentials"}


def test_a_refused_request_rebuilt_from_sub_tasks_is_rebuilt_from_the_resource_credentials_once(
        rsps, client, accepted, load_fixture):
    failed = task(sub_tasks=[ESXI_ROOT])
    rsps.get(TASK, json=failed)
    rsps.patch(TASK, status=400, json=REFUSED)
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    rsps.patch(TASK, status=202, json=accepted)
    result = _tasks.retry(client, TASK_ID, {}, task=failed)
    assert methods(rsps, paths=True) == [
        ("PATCH", "/v1/credentials/tasks/" + TASK_ID),
        ("GET", "/v1/credentials/tasks/" + TASK_ID),
        ("GET", "/v1/credentials/tasks/%s/resource-credentials" % TASK_ID),
        ("PATCH", "/v1/credentials/tasks/" + TASK_ID)]
    first, second = [json.loads(call.request.body) for call in patches(rsps)]
    assert len(first["elements"]) == 1 and len(second["elements"]) == 2
    assert result["retried"] is True and result["msg"] == "Task %s was retried." % TASK_ID


def test_a_request_refused_twice_reports_the_second_refusal(rsps, client, load_fixture):
    failed = task(sub_tasks=[ESXI_ROOT])
    rsps.get(TASK, json=failed)
    rsps.patch(TASK, status=400, json=REFUSED)
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {}, task=failed)
    assert info.value.status_code == 400 and "leaves out credentials" in info.value.message
    assert len(patches(rsps)) == 2


def test_a_refusal_because_another_client_retried_first_sends_nothing_more(rsps, client):
    failed = task(sub_tasks=[ESXI_ROOT])
    rsps.get(TASK, json=task(status="IN_PROGRESS", sub_tasks=[sub_task(status="IN_PROGRESS")]))
    rsps.patch(TASK, status=400, json=REFUSED)
    result = _tasks.retry(client, TASK_ID, {}, task=failed)
    assert len(patches(rsps)) == 1
    assert result["changed"] is False and "retried by another client" in result["msg"]


def test_a_given_spec_that_is_refused_is_not_rebuilt(rsps, client):
    failed = task(sub_tasks=[ESXI_ROOT])
    rsps.get(TASK, json=failed)
    rsps.patch(TASK, status=400, json=REFUSED)
    with pytest.raises(SddcManagerError):
        _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS}, task=failed)
    assert len(patches(rsps)) == 1
