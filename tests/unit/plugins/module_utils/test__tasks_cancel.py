"""Cancelling a credentials task over a real client and mocked HTTP: only a FAILED one, check mode, lost and
empty answers."""

from __future__ import annotations

import pytest
import requests

from client_helpers import TASK, TASK_ID
from helpers import methods
from tasks_helpers import task

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _tasks
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError


# --- cancel -----------------------------------------------------------------------------------------

def test_cancel_a_failed_task(rsps, client, accepted):
    accepted["status"] = "Cancelled"
    rsps.get(TASK, json=task())
    rsps.delete(TASK, status=202, json=accepted)
    result = _tasks.cancel(client, TASK_ID)
    assert methods(rsps) == ["GET", "DELETE"]
    assert result["changed"] is True
    assert result["task"]["status"] == "Cancelled"
    assert result["before"]["status"] == "FAILED"
    assert result["msg"] == "Task %s was cancelled." % TASK_ID


def test_cancel_in_check_mode_sends_no_delete(rsps, client):
    rsps.get(TASK, json=task())
    result = _tasks.cancel(client, TASK_ID, check_mode=True)
    assert methods(rsps) == ["GET"]
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
    assert methods(rsps) == ["GET", "DELETE", "GET"]


def test_cancel_with_a_lost_answer_and_still_failed(rsps, client):
    rsps.get(TASK, json=task())
    rsps.delete(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, json=task())
    with pytest.raises(SddcManagerError) as info:
        _tasks.cancel(client, TASK_ID)
    assert info.value.kind == "ambiguous"
    assert "still FAILED" in info.value.message
    assert methods(rsps) == ["GET", "DELETE"] + ["GET"] * 5  # read until the settle time is over


@pytest.mark.parametrize("answer", [dict(status=202, body=""), dict(status=204), dict(status=200)])
def test_an_accepted_cancel_without_a_body_is_read(rsps, client, answer):
    rsps.get(TASK, json=task())
    rsps.delete(TASK, **answer)
    rsps.get(TASK, json=task(status="USER_CANCELLED"))
    result = _tasks.cancel(client, TASK_ID)
    assert result["changed"] is True and result["task"]["status"] == "USER_CANCELLED"
    assert methods(rsps) == ["GET", "DELETE", "GET"]
