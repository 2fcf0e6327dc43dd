"""end_session: the run that ends the wait revokes the session's refresh token itself (best effort), so the play needs
no run of the token module; never a token in the result, and no revoke while tasks are left for a later wait."""

from __future__ import annotations

import json

import pytest

import helpers
from helpers import sub_task

from ansible_collections.vcf.sddc_manager.plugins.modules import credentials_task_bulk_retry, credentials_task_wait

BASE = "https://sddc.example.com:443"
TASKS = BASE + "/v1/credentials/tasks"
REVOKE = BASE + "/v1/tokens/refresh-token"
CONN = {"hostname": "sddc.example.com", "access_token": "AT-end-1f4b", "refresh_token": "RT-end-8c2d",
        "read_retry_budget": 0}


def task(task_id, status):
    return helpers.task(task_id, status, sub_tasks=[sub_task("esxi-01.example.com", status)])


@pytest.fixture(name="clock")
def clock_fixture(fake_waiter):
    return fake_waiter(credentials_task_wait)


def revokes(rsps):
    return [c for c in rsps.calls if c.request.method == "DELETE"]


# (mode, the task's reads, whether the run revokes)
WAIT_CASES = [
    ("never", ["SUCCESSFUL"], False),
    ("when_done", ["SUCCESSFUL"], True),
    ("when_done", ["IN_PROGRESS"], False),  # left for a later wait
    ("at_end", ["IN_PROGRESS"], True),  # wait_timeout ran out: this run ends the wait
    ("at_end", ["FAILED"], True),
]


@pytest.mark.parametrize("mode, reads, revoked", WAIT_CASES)
def test_the_wait_ends_the_session_when_asked(run_module, rsps, clock, mode, reads, revoked):
    for status in reads:
        rsps.get(TASKS + "/a", json=task("a", status))
    if revoked:
        rsps.delete(REVOKE, status=204)
    result, _failed = run_module(credentials_task_wait, dict(
        CONN, task_ids=["a"], wait_timeout=5, wait_sleep=5, fail_on_timeout=False, fail_on_failure=False,
        end_session=mode))
    assert result["session_ended"] is revoked and "session_end_msg" not in result
    assert len(revokes(rsps)) == int(revoked)
    if revoked:
        assert json.loads(revokes(rsps)[0].request.body) == "RT-end-8c2d"
    assert "RT-end-8c2d" not in json.dumps(result) and "AT-end-1f4b" not in json.dumps(result)


def test_a_failed_revoke_says_why_and_changes_no_outcome(run_module, rsps, clock):
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL"))
    rsps.delete(REVOKE, status=500, json={"message": "Internal error."})
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a"], end_session="at_end"))
    assert not failed, result
    assert result["succeeded_ids"] == ["a"]
    assert result["session_ended"] is False and result["session_end_msg"]
    assert "RT-end-8c2d" not in json.dumps(result)


def test_a_wait_that_stops_on_an_error_leaves_the_session_to_the_play(run_module, rsps, clock):
    rsps.get(TASKS + "/a", status=400, json={"message": "Bad request."})
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a"], end_session="at_end"))
    assert failed and "session_ended" not in result and revokes(rsps) == []


@pytest.mark.parametrize("mode, status, wait, revoked", [
    ("when_done", "SUCCESSFUL", True, True),
    ("when_done", "IN_PROGRESS", True, False),
    ("when_done", "IN_PROGRESS", False, False),  # watched, not waited for: still running
    ("at_end", "IN_PROGRESS", True, True),
    ("never", "SUCCESSFUL", True, False),
])
def test_the_bulk_retry_ends_the_session_when_asked(run_module, rsps, clock, mode, status, wait, revoked):
    rsps.get(TASKS + "/a", json=task("a", "IN_PROGRESS"))
    rsps.get(TASKS + "/a", json=task("a", status))
    if revoked:
        rsps.delete(REVOKE, status=204)
    result, failed = run_module(credentials_task_bulk_retry, dict(
        CONN, task_ids=["a"], wait=wait, wait_timeout=5, wait_sleep=5, fail_on_failure=False, end_session=mode))
    assert not failed, result
    assert result["watched_ids"] == ["a"]
    assert result["session_ended"] is revoked and len(revokes(rsps)) == int(revoked)
    assert "RT-end-8c2d" not in json.dumps(result)
