"""credentials_task_retry with wait: polls until the retried task ends, failures again, timeouts, and a task
already running."""

from __future__ import annotations

import json

import pytest

from helpers import TASK_ID, methods, patches
from task_retry_helpers import NEW, TASK, args, as_task

from ansible_collections.vcf.sddc_manager.plugins.modules import credentials_task_retry


# --- waiting ----------------------------------------------------------------------------------------

def test_wait_until_success(run_module, rotate_server, failed_task, fake_waiter):
    clock = fake_waiter(credentials_task_retry)
    # a read may still show the old failure before the new run is visible
    rotate_server.get(TASK, json=failed_task)
    rotate_server.get(TASK, json=as_task(failed_task, "IN_PROGRESS", sub_status="IN_PROGRESS"))
    rotate_server.get(TASK, json=as_task(failed_task, "SUCCESSFUL", NEW, sub_status="SUCCESSFUL"))
    result, failed = run_module(credentials_task_retry, args(wait=True))
    assert not failed, result
    assert len(patches(rotate_server)) == 1
    assert methods(rotate_server) == ["GET", "PATCH", "GET", "GET", "GET"]
    # The first read comes EARLY_READ (2 s) after the retry, then one every wait_sleep.
    assert clock.sleeps == [2, 10, 10]
    assert result["elapsed"] == 22.0
    assert result["status"] == "SUCCESSFUL"
    assert result["msg"] == "Task %s was retried and ended SUCCESSFUL." % TASK_ID
    assert "failed_subtasks" not in result
    assert "PLANTED" not in json.dumps(result)


def test_wait_and_it_failed_again(run_module, rotate_server, failed_task, fake_waiter, assert_clean):
    fake_waiter(credentials_task_retry)
    again = as_task(failed_task, "FAILED", NEW)
    again["subTasks"][0]["errors"][0]["message"] = "Host esxi-01.example.com is not reachable."
    rotate_server.get(TASK, json=again)
    result, failed = run_module(credentials_task_retry, args(wait=True, wait_sleep=5))
    assert failed
    assert result["status"] == "FAILED"
    assert result["retried"] is True and result["changed"] is True
    assert result["msg"].startswith("Task %s was retried and failed again: " % TASK_ID)
    assert "ESXI esxi-01.example.com" in result["msg"]
    assert "Host esxi-01.example.com is not reachable." in result["msg"]
    assert "Remediation: Check that the host is reachable over SSH and retry." in result["msg"]
    assert result["failed_subtasks"] == [{
        "task_id": TASK_ID, "resource_name": "esxi-01.example.com", "resource_type": "ESXI", "username": "root",
        "credential_type": "SSH", "subtask": "Rotate root on esxi-01", "status": "FAILED",
        "error_code": "ESXI_PASSWORD_UPDATE_FAILED", "message": "Host esxi-01.example.com is not reachable.",
        "remediation": "Check that the host is reachable over SSH and retry.", "remediation_links": [],
        "notifications": [], "reference_token": "REF-7Q2X9A"}]
    assert_clean(result["task"])
    assert "PLANTED" not in json.dumps(result)


def test_wait_that_fails_after_the_retry_still_reports_the_retry(run_module, rotate_server, fake_waiter):
    """The PATCH was accepted, then the wait could not go on (the token was refused and cannot be renewed):
    the result must say changed/retried, or the play would report a retry that happened as not done."""
    fake_waiter(credentials_task_retry)
    rotate_server.get(TASK, status=401, json={"message": "Token expired."})
    result, failed = run_module(credentials_task_retry, args(wait=True))
    assert failed
    assert result["changed"] is True and result["retried"] is True
    assert result["msg"].startswith("Task %s was retried, but waiting for it to end failed: " % TASK_ID)
    assert "cannot be renewed" in result["msg"]
    assert result["status"] == "IN_PROGRESS" and result["status_code"] == 401
    assert len(patches(rotate_server)) == 1


def test_wait_and_failed_again_without_failing(run_module, rotate_server, failed_task, fake_waiter):
    fake_waiter(credentials_task_retry)
    rotate_server.get(TASK, json=as_task(failed_task, "FAILED", NEW))
    result, failed = run_module(credentials_task_retry, args(wait=True, fail_on_failure=False))
    assert not failed, result
    assert result["msg"].startswith("Task %s was retried and failed again: ESXI esxi-01.example.com" % TASK_ID)
    assert len(result["failed_subtasks"]) == 1


def test_wait_times_out(run_module, rotate_server, failed_task, fake_waiter):
    clock = fake_waiter(credentials_task_retry)
    rotate_server.get(TASK, json=as_task(failed_task, "IN_PROGRESS"))
    result, failed = run_module(credentials_task_retry, args(wait=True, wait_timeout=25, wait_sleep=10))
    assert failed
    assert result["msg"] == "Task %s was retried but was still IN_PROGRESS after wait_timeout (25 s)." % TASK_ID
    assert clock.sleeps == [2, 10, 10, 3]  # the first read 2 s after the retry; the last on the deadline
    assert result["elapsed"] == 25.0
    assert result["retried"] is True
    assert len(patches(rotate_server)) == 1


def test_no_wait_in_check_mode(run_module, rotate_server, fake_waiter):
    clock = fake_waiter(credentials_task_retry)
    result, failed = run_module(credentials_task_retry, args(wait=True), check_mode=True)
    assert not failed
    assert clock.sleeps == []
    assert "elapsed" not in result
    assert patches(rotate_server) == []


def test_no_wait_when_nothing_was_retried_and_the_task_already_succeeded(run_module, rsps, failed_task, fake_waiter):
    clock = fake_waiter(credentials_task_retry)
    rsps.get(TASK, json=as_task(failed_task, "SUCCESSFUL", NEW, sub_status="SUCCESSFUL"))
    result, failed = run_module(credentials_task_retry, args(wait=True))
    assert not failed
    assert (result["changed"], clock.sleeps, methods(rsps)) == (False, [], ["GET"])
    assert "elapsed" not in result


@pytest.mark.parametrize("end, fails", [("SUCCESSFUL", False), ("FAILED", True), ("INCONSISTENT", True)])
def test_wait_on_a_task_already_running_reports_how_it_ends(run_module, rsps, failed_task, fake_waiter, end, fails):
    """The rerun after a wait that timed out: no retry is sent, but the task is followed to its end."""
    clock = fake_waiter(credentials_task_retry)
    rsps.get(TASK, json=as_task(failed_task, "IN_PROGRESS", sub_status="IN_PROGRESS"))
    rsps.get(TASK, json=as_task(failed_task, "IN_PROGRESS", sub_status="IN_PROGRESS"))
    rsps.get(TASK, json=as_task(failed_task, end, NEW, sub_status=end))
    result, failed = run_module(credentials_task_retry, args(wait=True))
    assert failed is fails, result
    assert (result["changed"], result["retried"], result["status"]) == (False, False, end)
    assert result["msg"].startswith("Task %s was already IN_PROGRESS when this run started and " % TASK_ID)
    assert clock.sleeps == [10] and "PATCH" not in methods(rsps)


@pytest.mark.parametrize("fail_on_failure", [True, False])
@pytest.mark.parametrize("end, reason", [
    ("INCONSISTENT", "REMEDIATE"), ("USER_CANCELLED", "cancelled"), ("SKIPPED", "skipped"), ("TIMED_OUT", "timed out"),
    ("ROLLED_BACK", "does not know"),
])
def test_a_retry_that_ends_in_anything_but_success_fails(run_module, rotate_server, failed_task, fake_waiter, end,
                                                         reason, fail_on_failure):
    fake_waiter(credentials_task_retry)
    rotate_server.get(TASK, json=as_task(failed_task, end, NEW, sub_status="SUCCESSFUL"))
    result, failed = run_module(credentials_task_retry, args(wait=True, fail_on_failure=fail_on_failure))
    assert failed is fail_on_failure, result
    assert result["changed"] is True and result["retried"] is True
    assert reason in result["msg"] and result["task"]["verdict"] in ("attention", "unknown")
    assert result["failed_subtasks"]
