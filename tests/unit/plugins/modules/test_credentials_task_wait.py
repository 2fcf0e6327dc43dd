"""credentials_task_wait: many tasks, one read per poll, id lists, the failure report, timeouts."""

from __future__ import annotations

import json

import pytest

import helpers
from helpers import sub_task

from ansible_collections.vcf.sddc_manager.plugins.modules import credentials_task_wait

BASE = "https://sddc.example.com:443"
TASKS = BASE + "/v1/credentials/tasks"
CONN = {"hostname": "sddc.example.com", "access_token": "AT-wait-5a9d"}


def task(task_id, status, *, error=None, resource="esxi-01.example.com"):
    errors = [{"errorCode": "E_" + task_id.upper(), "message": error, "remediationMessage": "Fix %s." % resource,
               "referenceToken": "REF-" + task_id}] if error else None
    return helpers.task(task_id, status, sub_tasks=[sub_task(resource, status, errors=errors)])


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
    assert urls(rsps) == ["/v1/credentials/tasks?limit=30", "/v1/credentials/tasks?limit=30"]
    assert result["succeeded_ids"] == ["c", "a", "b"]  # in the order given
    assert [t["id"] for t in result["tasks"]] == ["c", "a", "b"]
    assert clock.sleeps == [3]


def test_the_poll_reads_only_the_pending_tasks(run_module, rsps, clock):
    rsps.get(TASKS, json={"elements": [task("a", "IN_PROGRESS"), task("b", "SUCCESSFUL"), task("c", "PENDING")]})
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL"))
    rsps.get(TASKS + "/c", json=task("c", "SUCCESSFUL"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a", "b", "c"]))
    assert not failed, result
    asked = urls(rsps)
    assert asked[0] == "/v1/credentials/tasks?limit=30"
    assert sorted(asked[1:]) == ["/v1/credentials/tasks/a", "/v1/credentials/tasks/c"]  # side by side
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


# --- after_retry: a read that still shows the state from before the retry is not the end -------------------------

NOW = 1_800_000_000.0
OLD_END = "2026-11-20T10:00:02.000Z"


def failed_before(task_id, completion=OLD_END):
    """What a retried task looked like before its retry, and what a stale read still shows after it."""
    out = task(task_id, "FAILED", error="Old failure.")
    out["subTasks"][0]["id"] = "sub-" + task_id
    if completion:
        out["completionTimestamp"] = completion
        out["subTasks"][0]["completionTimestamp"] = completion
    return out


def after_retry(*entries, seconds_ago=2, state=True):
    """A credentials_task_bulk_retry result: ``entries`` are ``(task_id, action, the task before the retry)``."""
    from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import redact
    from ansible_collections.vcf.sddc_manager.plugins.module_utils._time import iso_utc

    results = []
    for task_id, action, before in entries:
        entry = {"task_id": task_id, "action": action, "status_before": "FAILED", "msg": "Task %s." % task_id}
        if action == "retried":
            entry["retried_at"] = iso_utc(NOW - seconds_ago)
            if state:
                entry["state_before"] = redact(before)  # snake_case, no passwords, as the module returns it
        results.append(entry)
    return {"results": results, "tasks": [], "pending_ids": [e[0] for e in entries], "changed": True}


@pytest.fixture(name="wall")
def wall_fixture(monkeypatch, clock):
    """The wall clock (the one retried_at is on): NOW when the module starts, then moving with the fake clock."""
    import functools
    import types

    from ansible_collections.vcf.sddc_manager.plugins.module_utils import _waiter

    start = clock.now

    def wall():
        return NOW + clock.now - start

    monkeypatch.setattr(credentials_task_wait, "time", types.SimpleNamespace(time=wall))
    monkeypatch.setattr(_waiter, "Waiter", functools.partial(_waiter.Waiter, wall_clock=wall))
    return NOW


def test_without_after_retry_a_stale_read_is_taken_for_the_end(run_module, rsps, clock):
    """What the role's wait did before after_retry: the old failure, read once more, ended the wait."""
    rsps.get(TASKS + "/a", json=failed_before("a"))
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL"))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a"]))
    assert failed and result["failed_ids"] == ["a"] and "Old failure." in result["msg"]


@pytest.mark.parametrize("completion", [OLD_END, None])
def test_after_retry_a_stale_read_is_not_the_end(run_module, rsps, clock, wall, completion):
    rsps.get(TASKS + "/a", json=failed_before("a", completion))
    rsps.get(TASKS + "/a", json=failed_before("a", completion))
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL"))
    result, failed = run_module(credentials_task_wait, dict(
        CONN, task_ids=["a"], wait_sleep=5, after_retry=after_retry(("a", "retried", failed_before("a", completion)))))
    assert not failed, result
    assert result["succeeded_ids"] == ["a"] and result["polls"] == 3 and clock.sleeps == [5, 5]
    assert not result.get("warnings")


def test_the_settle_time_goes_on_from_the_retry_not_from_this_run(run_module, rsps, clock, wall):
    """retried_at 25 s ago: a read like the state before the retry, without any completion time, is held back until
    30 s after the retry - 6 s more, not 30 s."""
    rsps.get(TASKS + "/a", json=failed_before("a", completion=None))
    result, failed = run_module(credentials_task_wait, dict(
        CONN, task_ids=["a"], wait_sleep=2,
        after_retry=after_retry(("a", "retried", failed_before("a", completion=None)), seconds_ago=25)))
    assert failed and result["failed_ids"] == ["a"]
    assert clock.sleeps == [2, 2, 2] and result["polls"] == 4  # reads at 0, 2, 4 held back, the one at 6 is the end


def test_after_the_settle_time_a_read_like_the_old_one_is_the_end(run_module, rsps, clock, wall):
    """A task can fail again without a completionTimestamp: after the settle time its read is its end."""
    rsps.get(TASKS + "/a", json=failed_before("a", completion=None))
    result, failed = run_module(credentials_task_wait, dict(
        CONN, task_ids=["a"], after_retry=after_retry(("a", "retried", failed_before("a", completion=None)),
                                                      seconds_ago=40)))
    assert failed and result["failed_ids"] == ["a"] and result["polls"] == 1 and clock.sleeps == []


def test_a_read_with_the_old_completion_time_is_never_the_end(run_module, rsps, clock, wall):
    """No later run ends with the old run's completion time: however late, such a read is a stale one."""
    rsps.get(TASKS + "/a", json=failed_before("a"))
    result, failed = run_module(credentials_task_wait, dict(
        CONN, task_ids=["a"], wait_sleep=5, wait_timeout=20,
        after_retry=after_retry(("a", "retried", failed_before("a")), seconds_ago=3600)))
    assert failed and result["failed_ids"] == [] and result["pending_ids"] == ["a"]
    assert "its reads still showed the state from before the retry" in result["msg"]


def test_a_new_failure_is_the_end_at_once(run_module, rsps, clock, wall):
    rsps.get(TASKS + "/a", json=failed_before("a", completion="2026-11-27T10:00:09.000Z"))
    result, failed = run_module(credentials_task_wait, dict(
        CONN, task_ids=["a"], after_retry=after_retry(("a", "retried", failed_before("a")))))
    assert failed and result["failed_ids"] == ["a"] and result["polls"] == 1


def test_a_watched_task_has_no_baseline(run_module, rsps, clock, wall):
    """A task the bulk retry did not retry (already running) has no state before a retry to be confused with."""
    rsps.get(TASKS + "/a", json=failed_before("a"))
    result, failed = run_module(credentials_task_wait, dict(
        CONN, task_ids=["a"], after_retry=after_retry(("a", "watched", failed_before("a")))))
    assert failed and result["failed_ids"] == ["a"] and result["polls"] == 1


def test_a_retried_task_without_state_before_is_named_in_a_warning(run_module, rsps, clock, wall):
    rsps.get(TASKS + "/a", json=task("a", "SUCCESSFUL"))
    result, failed = run_module(credentials_task_wait, dict(
        CONN, task_ids=["a"], after_retry=after_retry(("a", "retried", None), state=False)))
    assert not failed, result
    assert any("after_retry gives no state_before for a," in w for w in result["warnings"]), result["warnings"]


def test_after_retry_with_a_list_read_and_a_watched_task(run_module, rsps, clock, wall):
    """Three tasks (one list read per poll): two retried ones still read as before their retry, one watched."""
    rsps.get(TASKS, json={"elements": [failed_before("a"), failed_before("b", None), task("c", "IN_PROGRESS")]})
    rsps.get(TASKS, json={"elements": [task("a", "SUCCESSFUL"), task("b", "SUCCESSFUL"), task("c", "SUCCESSFUL")]})
    previous = after_retry(("a", "retried", failed_before("a")), ("b", "retried", failed_before("b", None)),
                           ("c", "watched", task("c", "IN_PROGRESS")))
    result, failed = run_module(credentials_task_wait, dict(CONN, task_ids=["a", "b", "c"], after_retry=previous))
    assert not failed, result
    assert result["succeeded_ids"] == ["a", "b", "c"] and result["polls"] == 2


def test_the_rule_is_the_waiters_own():
    """One rule: the baselines are the waiter's Baseline of the state before the retry, from the retry's time."""
    from ansible_collections.vcf.sddc_manager.plugins.module_utils import _waiter

    before = failed_before("a")
    baselines, problem = credentials_task_wait.baselines_after_retry(
        after_retry(("a", "retried", before), seconds_ago=7), ["a"], NOW)
    assert problem is None and isinstance(baselines["a"], _waiter.Baseline) and baselines["a"].sent_at == NOW - 7
    assert baselines["a"].is_stale(before) and not baselines["a"].is_stale(task("a", "IN_PROGRESS"))
    assert credentials_task_wait.baselines_after_retry(None, ["a"], NOW) == ({}, None)
    # a task of another wait is not this one's business
    assert credentials_task_wait.baselines_after_retry(after_retry(("a", "retried", before)), ["z"], NOW)[0] == {}
