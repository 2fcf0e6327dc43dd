"""A retry whose answer was lost, refused or of another form: the reads that tell whether SDDC Manager applied it,
and a retry by another client just before this one."""

from __future__ import annotations

import pytest
import requests

from client_helpers import TASK, TASK_ID, TASKS
from helpers import methods, patches
from tasks_helpers import ROTATE_ELEMENTS, task

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _tasks, _waiter
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import AmbiguousWriteError, SddcManagerError


# --- a lost or refused answer, and a retry by another client ----------------------------------------

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
    assert methods(rsps) == ["GET", "PATCH", "GET"]
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
    assert methods(rsps) == ["GET", "PATCH"] + ["GET"] * 5
    assert confirm_time.sleeps == [2.0, 4.0, 8.0, 16.0] and confirm_time.now == _waiter.SETTLE_SECONDS


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
    rsps.patch(TASK, status=code, json={"errorCode": "TASK_NOT_FAILED",
                                        "message": "Only a failed task can be retried."})
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
    assert methods(rsps) == ["GET", "PATCH"] + ["GET"] * 5  # read until the settle time is over


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
    assert methods(rsps) == ["PATCH", "GET"]


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


# --- a lost answer inside an outage ---------------------------------------------------------------------

def test_lost_answer_then_an_outage_then_the_read_confirms_it(rsps, make_client, fake_time):
    """The PATCH's answer is lost and SDDC Manager goes away for minutes: the confirming reads ride it out within
    read_retry_budget and the retry is never sent again."""
    client = make_client(access_token="AT")
    rsps.get(TASK, json=task())
    rsps.patch(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    for _attempt in range(25):
        rsps.get(TASK, status=503, body="<html><title>503 Service Unavailable</title></html>")
    rsps.get(TASK, json=task(status="IN_PROGRESS", completed=None))
    result = _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert len(patches(rsps)) == 1 and result["retried"] and result["task"]["status"] == "IN_PROGRESS"
    assert sum(fake_time.sleeps) > 60


def test_lost_answer_and_an_outage_past_the_budget_says_nothing_was_sent_again(rsps, make_client):
    from client_helpers import policy
    client = make_client(access_token="AT", retry_policy=policy(budget=60.0))
    rsps.get(TASK, json=task())
    rsps.patch(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, body=requests.exceptions.ConnectionError("Connection refused"))
    with pytest.raises(SddcManagerError) as info:
        _tasks.retry(client, TASK_ID, {"operation_type": "ROTATE", "elements": ROTATE_ELEMENTS})
    assert len(patches(rsps)) == 1
    assert "has not answered a read since" in info.value.message and "It was not sent again" in info.value.message
