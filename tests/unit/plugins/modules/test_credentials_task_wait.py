"""credentials_task_wait: many tasks, one read per poll, id lists, the failure report, timeouts."""

from __future__ import annotations

import json

import pytest

from ansible_collections.vcf.sddc_manager.plugins.modules import credentials_task_wait

BASE = "https://sddc.example.com:443"
TASKS = BASE + "/v1/credentials/tasks"
CONN = {"hostname": "sddc.example.com", "access_token": "AT-wait-5a9d"}


def task(task_id, status, *, error=None, resource="esxi-01.example.com"):
    sub = {"name": "Rotate root", "status": status, "resourceName": resource, "entityType": "ESXI",
           "username": "root", "credentialType": "SSH", "oldPassword": "PLANTED-old-9f3a",
           "newPassword": "PLANTED-new-9f3a"}
    if error:
        sub["errors"] = [{"errorCode": "E_" + task_id.upper(), "message": error,
                          "remediationMessage": "Fix %s." % resource, "referenceToken": "REF-" + task_id}]
    return {"id": task_id, "type": "ROTATE", "status": status, "subTasks": [sub]}


@pytest.fixture(name="clock")
def clock_fixture(fake_waiter):
    return fake_waiter(credentials_task_wait)


def urls(rsps):
    return [c.request.url.replace(BASE, "") for c in rsps.calls]


def test_two_tasks_are_read_one_by_one_until_done(run_module, rsps, clock, assert_clean):
    rsps.get(TASKS + "/a", json=task("a", "IN_PROGRESS"))
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL"))
    rsps.get(TASKS + "/b", json=task("b", "PENDING"))
    rsps.get(TASKS + "/b", json=task("b", "COMPLETED_WITH_WARNING"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a", "b"]))
    assert not failed, result
    assert result["changed"] is False
    assert result["succeeded_ids"] == ["a", "b"]
    assert result["failed_ids"] == []
    assert result["pending_ids"] == []
    assert result["failed_subtasks"] == []
    assert result["polls"] == 2
    assert result["elapsed"] == 10.0
    assert clock.sleeps == [10]
    assert urls(rsps) == ["/v1/credentials/tasks/a", "/v1/credentials/tasks/b"] * 2
    assert result["msg"] == "2 succeeded, 0 did not succeed, 0 still running after 10 s."
    assert [t["id"] for t in result["tasks"]] == ["a", "b"]
    assert_clean(result["tasks"])
    assert "PLANTED" not in json.dumps(result)


def test_more_than_two_tasks_take_one_list_read_per_poll(run_module, rsps, clock):
    rsps.get(TASKS, json={"elements": [task("a", "IN_PROGRESS"), task("b", "PENDING"), task("c", "PENDING"),
                                       task("zz", "FAILED")]})
    rsps.get(TASKS, json={"elements": [task("a", "SUCCESSFUL"), task("b", "SUCCESSFUL"), task("c", "SUCCESSFUL")]})
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["c", "a", "b"], wait_sleep=3))
    assert not failed, result
    assert urls(rsps) == ["/v1/credentials/tasks", "/v1/credentials/tasks"]
    assert result["succeeded_ids"] == ["c", "a", "b"]  # in the order given
    assert [t["id"] for t in result["tasks"]] == ["c", "a", "b"]
    assert clock.sleeps == [3]


def test_the_poll_reads_only_the_pending_tasks(run_module, rsps, clock):
    rsps.get(TASKS, json={"elements": [task("a", "IN_PROGRESS"), task("b", "SUCCESSFUL"), task("c", "PENDING")]})
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL"))
    rsps.get(TASKS + "/c", json=task("c", "SUCCESSFUL"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a", "b", "c"]))
    assert not failed, result
    assert urls(rsps) == ["/v1/credentials/tasks", "/v1/credentials/tasks/a", "/v1/credentials/tasks/c"]
    assert result["polls"] == 2


def test_a_failed_task_fails_the_module_with_its_report(run_module, rsps, clock, assert_clean):
    rsps.get(TASKS + "/ok", json=task("ok", "SUCCESSFUL"))
    rsps.get(TASKS + "/bad", json=task("bad", "FAILED", error="SSH to esxi-01.example.com timed out."))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["ok", "bad"]))
    assert failed
    assert result["succeeded_ids"] == ["ok"]
    assert result["failed_ids"] == ["bad"]
    assert result["msg"] == ("1 of 2 tasks did not succeed: Task bad failed: ESXI esxi-01.example.com, sub-task "
                             "'Rotate root': SSH to esxi-01.example.com timed out. [E_BAD] Remediation: Fix "
                             "esxi-01.example.com.")
    assert result["failed_subtasks"] == [{
        "task_id": "bad", "resource_name": "esxi-01.example.com", "resource_type": "ESXI", "username": "root",
        "credential_type": "SSH", "subtask": "Rotate root", "status": "FAILED", "error_code": "E_BAD",
        "message": "SSH to esxi-01.example.com timed out.", "remediation": "Fix esxi-01.example.com.",
        "remediation_links": [], "notifications": [], "reference_token": "REF-bad"}]
    assert_clean(result["tasks"])
    assert "PLANTED" not in json.dumps(result)
    assert clock.sleeps == []


def test_failures_without_failing(run_module, rsps, clock):
    rsps.get(TASKS + "/bad", json=task("bad", "FAILED", error="Nope."))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["bad"], fail_on_failure=False))
    assert not failed, result
    assert result["failed_ids"] == ["bad"]
    assert len(result["failed_subtasks"]) == 1
    assert result["msg"] == "0 succeeded, 1 did not succeed, 0 still running after 0 s."


@pytest.mark.parametrize("status, words", [
    ("USER_CANCELLED", "cancelled by a user"), ("INCONSISTENT", "REMEDIATE"), ("Cancelled", "was cancelled"),
    ("SKIPPED", "skipped"), ("Timed Out", "timed out"), ("FAILED", "reported no error"),
])
def test_anything_but_success_without_an_error_is_named_with_what_to_do(run_module, rsps, clock, status, words):
    rsps.get(TASKS + "/x", json={"id": "x", "status": status})
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["x"]))
    assert failed
    assert result["failed_ids"] == ["x"]
    assert len(result["failed_subtasks"]) == 1
    assert "Task x " in result["msg"] and words in result["msg"]


def test_a_status_nobody_knows_is_never_a_success(run_module, rsps, clock):
    rsps.get(TASKS + "/x", json={"id": "x", "status": "ROLLED_BACK", "completionTimestamp": "2026-11-27T10:00:00Z"})
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["x"]))
    assert failed
    assert (result["succeeded_ids"], result["failed_ids"], result["unknown_ids"]) == ([], [], ["x"])
    assert "ROLLED_BACK" in result["msg"] and "not counted as a success" in result["msg"]
    assert result["tasks"][0]["verdict"] == "unknown"


def test_timeout_fails_and_names_the_pending_ids(run_module, rsps, clock):
    rsps.get(TASKS + "/slow", json=task("slow", "IN_PROGRESS"))
    rsps.get(TASKS + "/fast", json=task("fast", "SUCCESSFUL"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["slow", "fast"], wait_timeout=30,
                                                            wait_sleep=10))
    assert failed
    assert result["pending_ids"] == ["slow"]
    assert result["succeeded_ids"] == ["fast"]
    assert result["msg"] == "Timed out after wait_timeout (30 s): slow still running."
    assert clock.sleeps == [10, 10, 10]
    assert result["polls"] == 4
    # the finished task is not read again
    assert urls(rsps).count("/v1/credentials/tasks/fast") == 1


def test_timeout_without_failing_returns_the_pending_ids(run_module, rsps, clock):
    rsps.get(TASKS + "/slow", json=task("slow", "IN_PROGRESS"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["slow"], wait_timeout=60,
                                                            fail_on_timeout=False))
    assert not failed, result
    assert result["pending_ids"] == ["slow"]
    assert result["msg"] == "0 succeeded, 0 did not succeed, 1 still running after 60 s."


def test_an_unknown_status_is_waited_for_and_named_in_a_warning(run_module, rsps, clock):
    rsps.get(TASKS + "/odd", json=task("odd", "QUEUED_FOR_APPROVAL"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["odd"], wait_timeout=20,
                                                            fail_on_timeout=False))
    assert not failed, result
    assert result["pending_ids"] == ["odd"]
    assert any("Task odd has status 'QUEUED_FOR_APPROVAL'" in w for w in result["warnings"])


def test_known_statuses_give_no_warning(run_module, rsps, clock):
    rsps.get(TASKS + "/slow", json=task("slow", "IN_PROGRESS"))
    result, _failed = run_module(credentials_task_wait, dict(CONN, task_ids=["slow"], wait_timeout=20,
                                                             fail_on_timeout=False))
    assert not result.get("warnings")


def test_failure_wins_over_timeout(run_module, rsps, clock):
    rsps.get(TASKS + "/slow", json=task("slow", "IN_PROGRESS"))
    rsps.get(TASKS + "/bad", json=task("bad", "FAILED", error="Nope."))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["slow", "bad"], wait_timeout=0))
    assert failed
    assert result["msg"].startswith("1 of 2 tasks did not succeed")
    assert result["pending_ids"] == ["slow"]


def test_timeout_zero_reads_once(run_module, rsps, clock):
    rsps.get(TASKS + "/a", json=task("a", "IN_PROGRESS"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a"], wait_timeout=0,
                                                            fail_on_timeout=False))
    assert not failed
    assert result["polls"] == 1
    assert len(rsps.calls) == 1
    assert clock.sleeps == []


def test_duplicate_and_empty_ids_are_dropped(run_module, rsps, clock):
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a", "", "a"]))
    assert not failed, result
    assert result["succeeded_ids"] == ["a"]
    assert len(result["tasks"]) == 1
    assert len(rsps.calls) == 1


def test_check_mode_waits_the_same(run_module, rsps, clock):
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a"]), check_mode=True)
    assert not failed
    assert result["succeeded_ids"] == ["a"]


def test_unknown_task_id(run_module, rsps, clock):
    rsps.get(TASKS + "/nope", status=404, json={"message": "Not found."})
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["nope"]))
    assert failed
    assert "No credentials task with id nope exists" in result["msg"]
    assert result["status_code"] == 404


@pytest.mark.parametrize("extra, words", [
    ({"task_ids": []}, "task_ids is empty"),
    ({"task_ids": [""]}, "task_ids is empty"),
    ({"task_ids": ["a"], "wait_timeout": -1}, "wait_timeout must be 0 or more"),
    ({"task_ids": ["a"], "wait_sleep": 0}, "wait_sleep at least 1 second"),
    ({}, "task_ids"),
])
def test_invalid_options_fail_before_any_request(run_module, rsps, clock, extra, words):
    result, failed = run_module(credentials_task_wait, dict(CONN, **extra))
    assert failed
    assert words in result["msg"]
    assert len(rsps.calls) == 0
