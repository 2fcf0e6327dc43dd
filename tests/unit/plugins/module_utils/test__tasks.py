"""Credentials task operations over a real client and mocked HTTP: read many, retry, cancel, failure reports."""

from __future__ import annotations

import json
import random

import pytest
import requests
from responses import matchers

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _tasks
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import (
    AmbiguousWriteError,
    RetryPolicy,
    SddcManagerClient,
    SddcManagerError,
)

BASE = "https://sddc.example.com:443"
TASKS = BASE + "/v1/credentials/tasks"
TASK_ID = "1f6a3c2e-0b7d-4e1a-9c3f-5d2e8a4b6c01"
TASK = TASKS + "/" + TASK_ID
RESOURCE_CREDENTIALS = TASK + "/resource-credentials"
DONE_AT = "2026-11-27T10:04:12.000Z"


@pytest.fixture(name="client")
def client_fixture(fake_time):
    return SddcManagerClient("sddc.example.com", access_token="AT", sleep=fake_time.sleep, clock=fake_time.clock,
                             retry_policy=RetryPolicy(attempts=2, rng=random.Random(1)))


@pytest.fixture(name="failed_rotate")
def failed_rotate_fixture(load_fixture):
    return load_fixture("credentials_task_failed_rotate")


@pytest.fixture(name="accepted")
def accepted_fixture(load_fixture):
    """The generic Task SDDC Manager answers a PATCH or DELETE with."""
    return load_fixture("task_in_progress")


def task(task_id=TASK_ID, status="FAILED", operation="ROTATE", completed=DONE_AT, **extra):
    out = {"id": task_id, "name": "Password operation", "type": operation, "status": status,
           "creationTimestamp": "2026-11-27T10:00:00.000Z"}
    if completed:
        out["completionTimestamp"] = completed
    out.update(extra)
    return out


def methods(rsps):
    return [(c.request.method, c.request.url.replace(BASE, "")) for c in rsps.calls]


def patches(rsps):
    return [c for c in rsps.calls if c.request.method == "PATCH"]


ROTATE_ELEMENTS = [{"resource_name": "esxi-01.example.com", "resource_id": None, "resource_type": "ESXI",
                    "credentials": [{"username": "root", "credential_type": "SSH", "account_type": "USER",
                                     "password": None}]}]
UPDATE_ELEMENTS = [{"resource_name": "esxi-01.example.com", "resource_id": None, "resource_type": "ESXI",
                    "credentials": [{"username": "root", "credential_type": "SSH", "account_type": None,
                                     "password": "N3w-Pa55!"}]}]


# --- fetch_tasks ------------------------------------------------------------------------------------

def test_fetch_nothing(rsps, client):
    assert _tasks.fetch_tasks(client, []) == {}
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("count", [1, 2])
def test_fetch_up_to_two_tasks_one_by_one(rsps, client, count):
    ids = ["t-%d" % i for i in range(count)]
    for task_id in ids:
        rsps.get(TASKS + "/" + task_id, json=task(task_id))
    found = _tasks.fetch_tasks(client, ids)
    assert sorted(found) == ids
    assert [m for m, _url in methods(rsps)] == ["GET"] * count
    assert all(found[i]["id"] == i for i in ids)


def test_fetch_more_than_two_tasks_with_one_list_call(rsps, client):
    ids = ["t-1", "t-2", "t-3", "t-4"]
    rsps.get(TASKS, json={"elements": [task(i) for i in reversed(ids)] + [task("other")]},
             match=[matchers.query_param_matcher({})])
    found = _tasks.fetch_tasks(client, ids)
    assert list(found) == ids
    assert methods(rsps) == [("GET", "/v1/credentials/tasks")]


def test_fetch_reads_the_tasks_missing_from_the_list(rsps, client):
    rsps.get(TASKS, json={"elements": [task("t-1"), task("t-3")]})
    rsps.get(TASKS + "/t-2", json=task("t-2", status="SUCCESSFUL"))
    found = _tasks.fetch_tasks(client, ["t-1", "t-2", "t-3"])
    assert found["t-2"]["status"] == "SUCCESSFUL"
    assert methods(rsps) == [("GET", "/v1/credentials/tasks"), ("GET", "/v1/credentials/tasks/t-2")]


def test_fetch_duplicate_ids_on_the_one_by_one_path(rsps, client):
    rsps.get(TASKS + "/t-1", json=task("t-1"))
    assert list(_tasks.fetch_tasks(client, ["t-1", "t-1"])) == ["t-1"]


@pytest.mark.parametrize("status, body", [
    (404, {"errorCode": "NOT_FOUND", "message": "Not found."}),
    (400, {"errorCode": "CREDENTIALS_TASK_NOT_FOUND", "message": "Task not found."}),
    (400, {"errorCode": "task.not_found", "message": "Task not found."}),
])
def test_unknown_task_id(rsps, client, status, body):
    rsps.get(TASKS + "/nope", status=status, json=body)
    with pytest.raises(SddcManagerError) as info:
        _tasks.get_task(client, "nope")
    exc = info.value
    assert exc.kind == "not_found"
    assert exc.status_code == status
    assert "No credentials task with id nope exists" in exc.message
    assert "credentials_task_info" in exc.message
    assert str(exc) is not None


def test_other_400_is_not_a_missing_task(rsps, client):
    rsps.get(TASKS + "/bad", status=400, json={"errorCode": "INVALID_INPUT", "message": "Bad id."})
    with pytest.raises(SddcManagerError) as info:
        _tasks.get_task(client, "bad")
    assert info.value.kind == "api"
    assert "Bad id" in info.value.message


def test_400_with_a_non_json_body_is_not_a_missing_task(rsps, client):
    rsps.get(TASKS + "/bad", status=400, body="Bad Request", content_type="text/plain")
    with pytest.raises(SddcManagerError) as info:
        _tasks.get_task(client, "bad")
    assert info.value.kind == "api"


# --- resources and failure reports ------------------------------------------------------------------

def test_resources_from_sub_tasks(failed_rotate):
    failed_rotate["subTasks"].append(dict(failed_rotate["subTasks"][0], username="vcf"))
    assert _tasks.resources_of(failed_rotate) == [
        {"resource_name": "esxi-01.example.com", "resource_type": "ESXI"},
        {"resource_name": "vcenter-01.example.com", "resource_type": "VCENTER"},
    ]


def test_resources_from_the_generic_task_view(accepted):
    assert _tasks.resources_of(accepted) == [
        {"resource_name": "esxi-01.example.com", "resource_type": "ESXI"},
        {"resource_name": "vcenter-01.example.com", "resource_type": "VCENTER"},
    ]


def test_resources_from_the_resources_list_when_there_are_no_sub_tasks(accepted):
    del accepted["subTasks"]
    assert _tasks.resources_of(accepted) == [
        {"resource_name": "esxi-01.example.com", "resource_type": "ESXI"},
        {"resource_name": "vcenter-01.example.com", "resource_type": "VCENTER"},  # no name: the FQDN
    ]


def test_resources_of_nothing():
    assert _tasks.resources_of({}) == []


def test_failure_report_of_a_failed_sub_task(failed_rotate):
    assert _tasks.failure_report(failed_rotate) == [{
        "task_id": TASK_ID,
        "resource_name": "esxi-01.example.com",
        "resource_type": "ESXI",
        "username": "root",
        "credential_type": "SSH",
        "subtask": "Rotate root on esxi-01",
        "error_code": "ESXI_PASSWORD_UPDATE_FAILED",
        "message": "Failed to update the password of root on esxi-01.example.com.",
        "status": "FAILED",
        "remediation": "Check that the host is reachable over SSH and retry.",
        "remediation_links": [],
        "notifications": [],
        "reference_token": "REF-7Q2X9A",
    }]


def test_failure_report_has_no_passwords(failed_rotate):
    assert "PLANTED" not in json.dumps(_tasks.failure_report(failed_rotate))


def test_failure_report_one_entry_per_error_and_per_failed_sub_task(failed_rotate):
    sub = failed_rotate["subTasks"][0]
    sub["errors"].append({"errorCode": "SECOND", "message": "Second error."})
    failed_rotate["subTasks"].append({"name": "silent", "status": "Failed", "resourceName": "esxi-02",
                                      "entityType": "ESXI"})
    report = _tasks.failure_report(failed_rotate)
    assert [(e["resource_name"], e["error_code"]) for e in report] == [
        ("esxi-01.example.com", "ESXI_PASSWORD_UPDATE_FAILED"), ("esxi-01.example.com", "SECOND"),
        ("esxi-02", None)]


def test_failure_report_falls_back_to_the_task_errors(failed_rotate):
    for sub in failed_rotate["subTasks"]:
        sub["status"] = "SUCCESSFUL"
    report = _tasks.failure_report(failed_rotate)
    assert len(report) == 1
    assert report[0]["error_code"] == "PASSWORD_MANAGER_OPERATION_FAILED"
    assert report[0]["resource_name"] is None
    assert report[0]["task_id"] == TASK_ID


def test_failure_report_of_a_failed_task_without_any_error():
    report = _tasks.failure_report(task(status="Failed"))
    assert report == [{"task_id": TASK_ID, "resource_name": None, "resource_type": None, "username": None,
                       "credential_type": None, "subtask": None, "status": "FAILED", "error_code": None,
                       "message": "It ended FAILED and SDDC Manager reported no error for it.",
                       "remediation": None, "remediation_links": [], "notifications": [], "reference_token": None}]


@pytest.mark.parametrize("status", ["SUCCESSFUL", "IN_PROGRESS", "Pending"])
def test_no_failure_report_for_success_or_running(failed_rotate, status):
    failed_rotate["status"] = status
    assert _tasks.failure_report(failed_rotate) == []


@pytest.mark.parametrize("status", ["USER_CANCELLED", "INCONSISTENT", "Cancelled", "SKIPPED", "TIMED_OUT"])
def test_every_other_end_has_a_report_with_what_to_do(failed_rotate, status):
    failed_rotate["status"] = status
    failed_rotate["subTasks"][0]["status"] = "SUCCESSFUL"
    report = _tasks.failure_report(failed_rotate)
    assert len(report) == 1 and report[0]["remediation"] and report[0]["message"]


def test_describe_failures(failed_rotate):
    lines = _tasks.describe_failures(_tasks.failure_report(failed_rotate))
    assert lines == ["task %s: ESXI esxi-01.example.com, sub-task 'Rotate root on esxi-01': Failed to update the "
                     "password of root on esxi-01.example.com. [ESXI_PASSWORD_UPDATE_FAILED] Remediation: Check that "
                     "the host is reachable over SSH and retry." % TASK_ID]
    bare = _tasks.describe_failures(_tasks.failure_report(task(status="FAILED")))
    assert bare == ["task %s: the task: It ended FAILED and SDDC Manager reported no error for it." % TASK_ID]
    coded = _tasks.describe_failures([{"task_id": "t", "error_code": "E1"}])
    assert coded == ["task t: the task: E1"]


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
    spec = _tasks.build_retry_spec(client, task(), {})
    assert spec == {"operationType": "ROTATE", "elements": [
        {"resourceType": "ESXI", "resourceName": "esxi-01.example.com", "resourceId": "r-esxi-01",
         "credentials": [{"username": "root", "credentialType": "SSH", "accountType": "USER"}]},
        {"resourceType": "VCENTER", "resourceName": "vcenter-01.example.com", "resourceId": "r-vc-01",
         "credentials": [{"username": "administrator@vsphere.local", "credentialType": "SSO",
                          "accountType": "SYSTEM"}]},
    ]}
    assert "PLANTED" not in json.dumps(spec)


def test_rebuild_with_no_resources_is_an_error(rsps, client):
    rsps.get(RESOURCE_CREDENTIALS, json=[])
    with pytest.raises(SddcManagerError) as info:
        _tasks.build_retry_spec(client, task(), {})
    assert "lists no resources" in info.value.message


def test_given_elements_are_used_as_they_are(rsps, client):
    spec = _tasks.build_retry_spec(client, task(operation="UPDATE"),
                                   {"operation_type": "UPDATE", "elements": UPDATE_ELEMENTS})
    assert spec["elements"][0]["credentials"] == [{"username": "root", "credentialType": "SSH",
                                                   "password": "N3w-Pa55!"}]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("operation", ["UPDATE", "REMEDIATE"])
def test_password_operations_cannot_be_rebuilt(rsps, client, operation):
    with pytest.raises(SddcManagerError) as info:
        _tasks.build_retry_spec(client, task(operation=operation), {})
    assert info.value.kind == "config"
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
    spec = _tasks.build_retry_spec(client, task(operation="UPDATE_AUTO_ROTATE_POLICY"), {
        "auto_rotate_policy": {"enable_auto_rotate_policy": True, "frequency_in_days": 30}})
    assert spec["operationType"] == "UPDATE_AUTO_ROTATE_POLICY"
    assert spec["autoRotatePolicy"] == {"enableAutoRotatePolicy": True, "frequencyInDays": 30}
    assert len(spec["elements"]) == 2


# --- retry ------------------------------------------------------------------------------------------

def test_retry_of_a_failed_task_sends_one_patch(rsps, client, failed_rotate, accepted, load_fixture):
    rsps.get(TASK, json=failed_rotate)
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    rsps.patch(TASK, status=202, json=accepted)
    result = _tasks.retry(client, TASK_ID, {})
    assert methods(rsps) == [("GET", "/v1/credentials/tasks/" + TASK_ID),
                             ("GET", "/v1/credentials/tasks/%s/resource-credentials" % TASK_ID),
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
    assert methods(rsps) == [("PATCH", "/v1/credentials/tasks/" + TASK_ID)]
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
    assert info.value.kind == "config"
    assert methods(rsps) == [("GET", "/v1/credentials/tasks/" + TASK_ID)]


@pytest.mark.parametrize("after", [
    task(status="IN_PROGRESS", completed=None),
    task(status="PENDING", completed=None),
    task(status="SUCCESSFUL", completed="2026-11-27T10:09:00.000Z"),
    task(status="FAILED", completed="2026-11-27T10:09:00.000Z"),  # ran again and failed again already
], ids=["in-progress", "pending", "succeeded", "failed-again"])
def test_lost_answer_then_the_task_shows_it_was_accepted(rsps, client, after):
    rsps.get(TASK, json=task())
    rsps.patch(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, json=after)
    result = _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert len(patches(rsps)) == 1
    assert [m for m, _url in methods(rsps)] == ["GET", "PATCH", "GET"]
    assert (result["changed"], result["retried"]) == (True, True)
    assert result["task"] == after
    assert "lost" in result["msg"] and "confirmed" in result["msg"]


def test_lost_answer_and_still_the_same_failure_is_a_clear_error(rsps, client, confirm_time):
    rsps.get(TASK, json=task())
    rsps.patch(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, json=task())  # same FAILED, same completionTimestamp
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    exc = info.value
    assert not isinstance(exc, AmbiguousWriteError)
    assert exc.kind == "ambiguous"
    assert "still FAILED, so the retry was not applied" in exc.message and "Run the retry again" in exc.message
    assert len(patches(rsps)) == 1
    # One read could be a stale one: reads go on, 2, 4, 8, 16 s apart, until the settle time is over.
    assert [m for m, _url in methods(rsps)] == ["GET", "PATCH"] + ["GET"] * 5
    assert confirm_time.sleeps == [2.0, 4.0, 8.0, 16.0] and confirm_time.now == _tasks.CONFIRM_SECONDS


def test_a_lost_answer_whose_first_read_still_shows_the_old_run_is_settled_by_the_next(rsps, client, confirm_time):
    """A stale read right after the accepted retry must not turn into "not applied; nothing changed"."""
    rsps.get(TASK, json=task())
    rsps.patch(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, json=task())  # stale: the run the retry replaced
    rsps.get(TASK, json=task(status="IN_PROGRESS", completed=None))
    result = _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert result["retried"] is True and "confirmed it was accepted" in result["msg"]
    assert confirm_time.sleeps == [2.0]
    assert len(patches(rsps)) == 1


def test_timed_out_retry_of_a_task_still_failed_may_still_be_applied(rsps, client):
    """No answer within request_timeout: SDDC Manager may still be working on the PATCH, so saying "not
    applied" could be false; the error says what is known and how to find out."""
    rsps.get(TASK, json=task())
    rsps.patch(TASK, body=requests.exceptions.ReadTimeout("Read timed out."))
    rsps.get(TASK, json=task())
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    exc = info.value
    assert exc.kind == "ambiguous"
    assert "may still apply it" in exc.message and "not applied" not in exc.message
    assert "credentials_task_info" in exc.message
    assert len(patches(rsps)) == 1


def test_lost_answer_and_the_task_was_cancelled_meanwhile(rsps, client):
    rsps.get(TASK, json=task())
    rsps.patch(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, json=task(status="USER_CANCELLED"))
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert info.value.kind == "ambiguous"
    assert len(patches(rsps)) == 1


@pytest.mark.parametrize("code", [400, 409])
@pytest.mark.parametrize("after_status", ["IN_PROGRESS", "SUCCESSFUL"])
def test_another_client_retried_first(rsps, client, code, after_status):
    rsps.get(TASK, json=task())
    rsps.patch(TASK, status=code, json={"errorCode": "TASK_NOT_FAILED", "message": "Only a failed task can be retried."})
    rsps.get(TASK, json=task(status=after_status, completed=None))
    result = _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert (result["changed"], result["retried"]) == (False, False)
    assert result["task"]["status"] == after_status
    assert "retried by another client" in result["msg"]
    assert len(patches(rsps)) == 1


@pytest.mark.parametrize("after", [
    task(status="INCONSISTENT", completed="2026-11-27T10:09:00.000Z"),
    task(status="ROLLED_BACK", completed="2026-11-27T10:09:00.000Z"),
    task(status="FAILED", completed="2026-11-27T10:09:00.000Z"),
], ids=["inconsistent", "unknown-word", "failed-again"])
def test_a_retry_by_another_client_that_already_ended_badly_is_an_error(rsps, client, after):
    rsps.get(TASK, json=task())
    rsps.patch(TASK, status=400, json={"errorCode": "TASK_NOT_FAILED", "message": "Only a failed task can be retried."})
    rsps.get(TASK, json=after)
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert "retried by another client just before this one, and " in info.value.message
    assert after["status"] in info.value.message and info.value.kind == "not_retryable"
    assert len(patches(rsps)) == 1


def test_400_while_still_failed_is_the_real_refusal(rsps, client, load_fixture):
    rsps.get(TASK, json=task())
    rsps.patch(TASK, status=400, json=load_fixture("error_full"))
    rsps.get(TASK, json=task())
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert info.value.status_code == 400
    assert "CREDENTIAL_TASK_NOT_RETRYABLE" in info.value.message
    assert len(patches(rsps)) == 1


def test_400_because_the_task_was_cancelled_meanwhile_is_not_a_success(rsps, client):
    """Nobody retried the task: it was cancelled between the read and the PATCH, so it will never run."""
    rsps.get(TASK, json=task())
    rsps.patch(TASK, status=400, json={"errorCode": "TASK_NOT_FAILED", "message": "Only a failed task can be retried."})
    rsps.get(TASK, json=task(status="USER_CANCELLED"))
    with pytest.raises(SddcManagerError):
        _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})


def test_500_on_patch_is_raised_after_a_read_shows_it_was_not_applied(rsps, client):
    rsps.get(TASK, json=task())
    rsps.patch(TASK, status=500, json={"message": "Internal error."})
    rsps.get(TASK, json=task())
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert info.value.status_code == 500
    assert "Internal error" in info.value.message and "so the retry was not applied" in info.value.message
    assert [m for m, _url in methods(rsps)] == ["GET", "PATCH"] + ["GET"] * 5  # read until the settle time is over


@pytest.mark.parametrize("code", [502, 504])
def test_gateway_error_after_the_server_accepted_the_retry_is_a_retry(rsps, client, code):
    """A proxy may time out and answer 502/504 after passing the PATCH on: the read tells the truth."""
    rsps.get(TASK, json=task())
    rsps.patch(TASK, status=code, body="<html><title>%d Gateway</title></html>" % code)
    rsps.get(TASK, json=task(status="IN_PROGRESS", completed=None))
    result = _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert (result["changed"], result["retried"]) == (True, True)
    assert "was HTTP %d" % code in result["msg"] and "confirmed" in result["msg"]
    assert len(patches(rsps)) == 1


# --- cancel -----------------------------------------------------------------------------------------

def test_cancel_a_failed_task(rsps, client, accepted):
    accepted["status"] = "Cancelled"
    rsps.get(TASK, json=task())
    rsps.delete(TASK, status=202, json=accepted)
    result = _tasks.cancel(client, TASK_ID)
    assert [m for m, _url in methods(rsps)] == ["GET", "DELETE"]
    assert result["changed"] is True
    assert result["task"]["status"] == "Cancelled"
    assert result["before"]["status"] == "FAILED"
    assert result["msg"] == "Task %s was cancelled." % TASK_ID


def test_cancel_in_check_mode_sends_no_delete(rsps, client):
    rsps.get(TASK, json=task())
    result = _tasks.cancel(client, TASK_ID, check_mode=True)
    assert [m for m, _url in methods(rsps)] == ["GET"]
    assert result["changed"] is True
    assert "would be cancelled (check mode)" in result["msg"]


@pytest.mark.parametrize("status", ["USER_CANCELLED", "CANCELLED", "Cancelled", "Canceled"])
def test_cancel_an_already_cancelled_task(rsps, client, status):
    rsps.get(TASK, json=task(status=status))
    result = _tasks.cancel(client, TASK_ID)
    assert result["changed"] is False
    assert "already cancelled" in result["msg"]
    assert len(rsps.calls) == 1


@pytest.mark.parametrize("status, hint", [("IN_PROGRESS", True), ("In Progress", True), ("PENDING", True),
                                          ("SUCCESSFUL", False), ("INCONSISTENT", False)])
def test_cancel_refuses_other_statuses(rsps, client, status, hint):
    rsps.get(TASK, json=task(status=status))
    with pytest.raises(SddcManagerError) as info:
        _tasks.cancel(client, TASK_ID)
    assert info.value.kind == "not_cancellable"
    assert "cancels only FAILED" in info.value.message
    assert ("credentials_task_wait" in info.value.message) is hint
    assert len(rsps.calls) == 1


def test_cancel_with_a_lost_answer_confirmed_by_a_read(rsps, client):
    rsps.get(TASK, json=task())
    rsps.delete(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, json=task(status="USER_CANCELLED"))
    result = _tasks.cancel(client, TASK_ID)
    assert result["changed"] is True
    assert result["task"]["status"] == "USER_CANCELLED"
    assert [m for m, _url in methods(rsps)] == ["GET", "DELETE", "GET"]


def test_cancel_with_a_lost_answer_and_still_failed(rsps, client):
    rsps.get(TASK, json=task())
    rsps.delete(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, json=task())
    with pytest.raises(SddcManagerError) as info:
        _tasks.cancel(client, TASK_ID)
    assert info.value.kind == "ambiguous"
    assert "still FAILED" in info.value.message
    assert [m for m, _url in methods(rsps)] == ["GET", "DELETE"] + ["GET"] * 5  # read until the settle time is over


# --- select_tasks (bulk retry) ----------------------------------------------------------------------

def _on(task_id, status, resource, entity="ESXI"):
    return task(task_id, status=status, subTasks=[{"resourceName": resource, "entityType": entity,
                                                   "status": status}])


def test_select_without_discovery_is_fetch(rsps, client):
    rsps.get(TASKS + "/a", json=task("a"))
    assert list(_tasks.select_tasks(client, ["a", "a"])) == ["a"]
    assert len(rsps.calls) == 1


def test_select_discovers_failed_tasks_with_one_list_read(rsps, client):
    rsps.get(TASKS, json={"elements": [
        _on("f-esxi", "FAILED", "esxi-01"), _on("f-vc", "FAILED", "vc-01", "VCENTER"),
        _on("ok-esxi", "SUCCESSFUL", "esxi-02"), _on("named", "IN_PROGRESS", "esxi-03")]})
    rsps.get(TASKS + "/old", json=task("old"))
    selected = _tasks.select_tasks(client, ["named", "old"], discover=True, resource_types=["esxi"])
    assert list(selected) == ["f-esxi", "named", "old"]
    assert [m for m, _url in methods(rsps)] == ["GET", "GET"]
    selected = _tasks.select_tasks(client, [], discover=True, resource_names=["vc-01"])
    assert list(selected) == ["f-vc"]


# --- every answer form of an accepted write ------------------------------------------------------------------

ELEMENTS = {"operation_type": "ROTATE", "elements": [
    {"resource_name": "esxi-01.example.com", "resource_type": "ESXI", "credentials": [{"username": "root"}]}]}


@pytest.mark.parametrize("answer", [
    dict(status=202, body=""), dict(status=204), dict(status=200, body=""),
    dict(status=202, json={"id": TASK_ID}),  # a Task without its status
])
def test_an_accepted_retry_without_the_task_in_its_answer_is_read(rsps, client, answer):
    rsps.patch(TASK, **answer)
    rsps.get(TASK, json=task(status="IN_PROGRESS", completed=None))
    result = _tasks.retry(client, TASK_ID, ELEMENTS, task=task())
    assert result["retried"] is True and result["changed"] is True
    assert result["task"]["status"] == "IN_PROGRESS" and result["task_id"] == TASK_ID
    assert [m for m, _u in methods(rsps)] == ["PATCH", "GET"]


def test_an_accepted_retry_whose_answer_cannot_be_read_is_still_reported_as_retried(rsps, client):
    rsps.patch(TASK, status=204)
    rsps.get(TASK, status=503, json={"message": "busy"})
    rsps.get(TASK, status=503, json={"message": "busy"})
    result = _tasks.retry(client, TASK_ID, ELEMENTS, task=task())
    assert result["retried"] is True and result["task"]["status"] is None
    assert "503" in result["read_error"]
    assert len(patches(rsps)) == 1


def test_a_read_that_still_shows_the_state_before_the_retry_is_not_taken_for_its_state(rsps, client):
    rsps.patch(TASK, status=204)
    rsps.get(TASK, json=task())  # a stale read: the FAILED run the retry replaced
    result = _tasks.retry(client, TASK_ID, ELEMENTS, task=task())
    assert result["retried"] is True and result["task"]["status"] is None and result["unseen"] is True
    assert "not known yet" in result["msg"]
    assert len(patches(rsps)) == 1


def test_an_answer_naming_another_task_is_followed(rsps, client):
    rsps.patch(TASK, status=202, json={"id": "new-task", "status": "In Progress"})
    rsps.get(TASKS + "/new-task", json=task("new-task", status="IN_PROGRESS", completed=None))
    result = _tasks.retry(client, TASK_ID, ELEMENTS, task=task())
    assert result["task_id"] == "new-task" and result["task"]["id"] == "new-task"


def test_an_answer_naming_a_task_that_is_no_credentials_task_keeps_the_original(rsps, client):
    rsps.patch(TASK, status=202, json={"id": "generic-task-7", "status": "In Progress"})
    rsps.get(TASKS + "/generic-task-7", status=404, json={"errorCode": "CREDENTIALS_TASK_NOT_FOUND"})
    rsps.get(TASK, json=task(status="IN_PROGRESS", completed=None))
    result = _tasks.retry(client, TASK_ID, ELEMENTS, task=task())
    assert result["task_id"] == TASK_ID and result["task"]["status"] == "IN_PROGRESS"


@pytest.mark.parametrize("answer", [dict(status=202, body=""), dict(status=204), dict(status=200)])
def test_an_accepted_cancel_without_a_body_is_read(rsps, client, answer):
    rsps.get(TASK, json=task())
    rsps.delete(TASK, **answer)
    rsps.get(TASK, json=task(status="USER_CANCELLED"))
    result = _tasks.cancel(client, TASK_ID)
    assert result["changed"] is True and result["task"]["status"] == "USER_CANCELLED"
    assert [m for m, _u in methods(rsps)] == ["GET", "DELETE", "GET"]


@pytest.mark.parametrize("names, found", [
    (["ESXI-01.EXAMPLE.COM"], True), (["esxi-01.example.com"], True), (["Esxi-01.Example.Com"], True),
    (["esxi-02.example.com"], False),
])
def test_resource_names_are_matched_without_case(names, found):
    listed = task(subTasks=[{"resourceName": "esxi-01.example.com", "entityType": "ESXI", "status": "FAILED"}])
    assert _tasks.matches_resources(listed, ["esxi"], names) is found


@pytest.mark.parametrize("text, epoch", [
    ("2026-11-20T10:00:00.000Z", 1795168800.0), ("2026-11-20T10:00:00Z", 1795168800.0),
    ("2026-11-20T11:00:00+01:00", 1795168800.0), ("2026-11-20T10:00:00", 1795168800.0),
    ("not a time", None), (None, None), ("", None),
])
def test_timestamps_of_every_form(text, epoch):
    assert _tasks.timestamp(text) == epoch
