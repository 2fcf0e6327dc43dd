"""credentials_task_bulk_retry: selection, per-task outcomes, check mode, validation, partial failures."""

from __future__ import annotations

import json

import pytest
from requests.exceptions import ConnectionError as RequestsConnectionError

import helpers
from helpers import methods, patches, sub_task

from ansible_collections.vcf.sddc_manager.plugins.modules import credentials_task_bulk_retry

BASE = "https://sddc.example.com:443"
TASKS = BASE + "/v1/credentials/tasks"
CONN = {"hostname": "sddc.example.com", "access_token": "AT-bulk-7c2e"}


def task(task_id, status, task_type="ROTATE", resource="esxi-01.example.com", completed="2026-11-20T10:00:00.000Z"):
    return helpers.task(task_id, status, operation=task_type, completed=completed,
                        sub_tasks=[sub_task(resource, status)])


def resource_credentials(resource="esxi-01.example.com"):
    return [{"resourceName": resource, "resourceType": "ESXI", "credentials": [
        {"username": "root", "credentialType": "SSH", "accountType": "USER", "password": "PLANTED-rc-9f3a"}]}]


def accepted(task_id):
    """SDDC Manager 9.x's answer to an accepted retry: the generic Task view, title-case status."""
    return {"id": task_id, "status": "In Progress"}


@pytest.fixture(name="clock")
def clock_fixture(fake_waiter):
    return fake_waiter(credentials_task_bulk_retry)


def test_discover_retries_failed_tasks_of_the_type_and_skips_the_rest(run_module, rsps, assert_clean):
    rsps.get(TASKS, json={"elements": [task("a", "FAILED"), task("b", "SUCCESSFUL"),
                                       task("c", "FAILED", resource="vc-01.example.com"),
                                       task("d", "IN_PROGRESS")]})
    rsps.patch(TASKS + "/a", status=202, json=accepted("a"))
    result, failed = run_module(credentials_task_bulk_retry, dict(CONN, discover=True,
                                                                  resource_names=["esxi-01.example.com"]))
    assert not failed, result
    assert result["changed"] is True
    assert result["retried_ids"] == ["a"]
    # d is running and touches the resource too: watched, not retried (and not waited for without wait)
    assert result["skipped_ids"] == [] and result["watched_ids"] == ["d"]
    patch = patches(rsps)[0]
    # Rebuilt from the task's sub-task (a listed task carries them): no read of its resource credentials.
    assert json.loads(patch.request.body) == {"operationType": "ROTATE", "elements": [
        {"resourceType": "ESXI", "resourceName": "esxi-01.example.com",
         "credentials": [{"username": "root", "credentialType": "SSH"}]}]}
    assert [c.request.url for c in rsps.calls if "resource-credentials" in c.request.url] == []
    assert "PLANTED" not in json.dumps(result)
    assert_clean(result["results"])


def test_named_tasks_already_running_are_watched_and_done_ones_skipped_without_a_write(run_module, rsps):
    rsps.get(TASKS, json={"elements": [task("a", "SUCCESSFUL"), task("b", "IN_PROGRESS"), task("c", "PENDING")]})
    result, failed = run_module(credentials_task_bulk_retry, dict(CONN, task_ids=["a", "b", "c"]))
    assert not failed, result
    assert result["changed"] is False
    assert result["retried_ids"] == [] and result["skipped_ids"] == ["a"] and sorted(result["watched_ids"]) == ["b", "c"]
    assert sorted((r["task_id"], r["action"]) for r in result["results"]) == [
        ("a", "skipped"), ("b", "watched"), ("c", "watched")]
    assert methods(rsps) == ["GET"]


def test_with_wait_running_tasks_are_waited_for_and_their_real_end_reported(run_module, rsps, clock):
    """A rerun after a wait that timed out: nothing to retry, but the tasks still running must be followed."""
    rsps.get(TASKS, json={"elements": [task("a", "SUCCESSFUL"), task("b", "IN_PROGRESS"), task("c", "PENDING")]})
    # two tasks to follow: read one by one
    rsps.get(TASKS + "/b", json=task("b", "INCONSISTENT"))
    rsps.get(TASKS + "/c", json=task("c", "SUCCESSFUL"))
    result, failed = run_module(credentials_task_bulk_retry, dict(CONN, task_ids=["a", "b", "c"], wait=True))
    assert failed, "a watched task that ended INCONSISTENT fails the module"
    assert result["changed"] is False
    assert (result["succeeded_ids"], result["failed_ids"]) == (["c"], ["b"])
    assert "INCONSISTENT" in result["msg"] and "REMEDIATE" in result["msg"]
    assert methods(rsps) == ["GET", "GET", "GET"]


def test_check_mode_names_what_would_be_retried_and_writes_nothing(run_module, rsps):
    rsps.get(TASKS + "/a", json=task("a", "FAILED"))
    rsps.get(TASKS + "/a/resource-credentials", json=resource_credentials())
    result, failed = run_module(credentials_task_bulk_retry, dict(CONN, task_ids=["a"]), check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] is True
    assert result["retried_ids"] == [] and result["would_retry_ids"] == ["a"]
    assert result["diff"] == {"before": {"a": "FAILED"}, "after": {"a": "IN_PROGRESS"}}
    assert "PATCH" not in methods(rsps)


@pytest.mark.parametrize("args, message", [
    ({}, "Nothing to retry"),
    ({"task_ids": ["a"], "resource_types": ["ESXI"]}, "set discover: true"),
    ({"task_ids": ["a"], "concurrency": 0}, "concurrency must be between 1 and 32"),
    ({"tasks": [{"task_id": "u", "operation_type": "UPDATE"}]}, "tasks[0] (task u): operation_type UPDATE needs"),
    ({"tasks": [{"task_id": "r", "operation_type": "ROTATE", "elements": [
        {"resource_name": "h", "resource_type": "ESXI", "credentials": [{"username": "root", "password": "x1"}]}]}]},
     "must not be set for operation_type ROTATE"),
])
def test_bad_input_fails_before_any_request(run_module, rsps, args, message):
    result, failed = run_module(credentials_task_bulk_retry, dict(CONN, **args))
    assert failed
    assert message in result["msg"]
    assert len(rsps.calls) == 0


def test_a_task_that_cannot_be_retried_does_not_stop_the_others(run_module, rsps):
    rsps.get(TASKS, json={"elements": [task("a", "FAILED"), task("u", "FAILED", task_type="UPDATE"),
                                       task("x", "USER_CANCELLED")]})
    rsps.get(TASKS + "/a/resource-credentials", json=resource_credentials())
    rsps.patch(TASKS + "/a", status=202, json=accepted("a"))
    result, failed = run_module(credentials_task_bulk_retry, dict(CONN, task_ids=["a", "u", "x"]))
    assert failed
    assert result["retried_ids"] == ["a"]
    assert sorted(e["task_id"] for e in result["errors"]) == ["u", "x"]
    assert "give operation_type and elements" in result["msg"] and "cancelled by a user" in result["msg"]


def test_a_lost_server_after_some_retries_reports_them_as_changed(run_module, rsps):
    # Two tasks are read one by one (a list read pays off from three on).
    rsps.get(TASKS + "/a", json=task("a", "FAILED"))
    # b's sub-task leaves out its user (the spec allows it), so its request needs a read of its resource
    # credentials: the read that meets the outage.
    sparse = task("b", "FAILED", resource="esxi-02.example.com")
    del sparse["subTasks"][0]["username"]
    rsps.get(TASKS + "/b", json=sparse)
    rsps.get(TASKS + "/b/resource-credentials", body=RequestsConnectionError("[Errno 111] Connection refused"))
    rsps.patch(TASKS + "/a", status=202, json=accepted("a"))
    result, failed = run_module(credentials_task_bulk_retry, dict(CONN, task_ids=["a", "b"], concurrency=1))
    assert failed
    assert result["changed"] is True
    assert result["retried_ids"] == ["a"]
    # It answered the other reads: the refused connections are an outage, retried within read_retry_budget.
    assert "cannot be reached now" in result["msg"] and "read_retry_budget" in result["msg"]


def test_wait_reports_each_outcome_with_the_failure_report(run_module, rsps, clock):
    rsps.get(TASKS + "/a", json=task("a", "FAILED"))
    rsps.get(TASKS + "/b", json=task("b", "FAILED", resource="esxi-02.example.com"))
    for task_id, resource in (("a", "esxi-01.example.com"), ("b", "esxi-02.example.com")):
        rsps.get(TASKS + "/%s/resource-credentials" % task_id, json=resource_credentials(resource))
        rsps.patch(TASKS + "/" + task_id, status=202, json=accepted(task_id))
    again = task("b", "FAILED", resource="esxi-02.example.com", completed="2026-11-27T10:00:00.000Z")
    again["subTasks"][0]["errors"] = [{"errorCode": "SSH_AUTH", "message": "root login refused",
                                       "remediationMessage": "Reset the root password, then retry"}]
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL", completed="2026-11-27T10:00:00.000Z"))
    rsps.get(TASKS + "/b", json=again)
    result, failed = run_module(credentials_task_bulk_retry, dict(CONN, task_ids=["a", "b"], wait=True))
    assert failed
    assert result["changed"] is True
    assert result["succeeded_ids"] == ["a"] and result["failed_ids"] == ["b"]
    assert result["failed_subtasks"][0]["remediation"] == "Reset the root password, then retry"
    assert "esxi-02.example.com" in result["msg"] and "Reset the root password" in result["msg"]
