"""The event source's events: which task transitions are events, the attempt count and retry guardrail, the
filters, and what an event holds (no secret)."""

from __future__ import annotations

import json

import pytest

from eda_source_harness import ACCESS, HOST, OLD_PW, SECRETS, ids_of, run_source, source, task, ts
from helpers import keys_of

pytestmark = pytest.mark.usefixtures("no_real_sleep_in_client")


# --- transitions -----------------------------------------------------------------------------------------------

def test_failures_present_at_start_are_not_events_but_a_new_failure_is():
    events, fake = run_source([
        [task("old", "FAILED", ts(3600))],
        [task("old", "FAILED", ts(3600)), task("new", "IN_PROGRESS")],
        [task("old", "FAILED", ts(3600)), task("new", "FAILED", ts())],
    ])
    assert ids_of(events) == [("new", "FAILED", 1)]
    body = events[0]["credentials_task"]
    assert body["previous_status"] == "IN_PROGRESS"
    assert body["sddc_manager"] == HOST and body["port"] == 443
    assert body["auto_retry"] == {"allowed": True, "earlier_events_in_window": 0, "max_retries": 2,
                                  "window_seconds": 86400.0}
    assert fake.logins == 1


def test_the_task_of_each_event_is_followed_at_every_poll_and_no_other(monkeypatch):
    """A rulebook is likely to retry the task of an event: the feed reads it at every poll, wherever it lists."""
    followed = []
    monkeypatch.setattr(source._tasks.TaskFeed, "follow", lambda _feed, task_id, seconds=None: followed.append(task_id))
    events, _fake = run_source([
        [task("old", "FAILED", ts(3600))],
        [task("old", "FAILED", ts(3600)), task("new", "FAILED", ts())],
    ])
    assert ids_of(events) == [("new", "FAILED", 1)] and followed == ["new"]


def test_emit_existing_emits_the_failures_present_at_start_once():
    events, _fake = run_source([[task("old", "FAILED", ts(3600)), task("ok", "SUCCESSFUL", ts())]],
                               {"emit_existing": True}, extra_polls=5)
    assert ids_of(events) == [("old", "FAILED", 1)]


def test_a_task_that_fails_again_after_a_retry_is_a_new_event_with_its_attempt_count():
    t1, t2, t3 = ts(30), ts(20), ts(10)
    events, _fake = run_source([
        [task("b", "IN_PROGRESS")],
        [task("b", "FAILED", t1)],
        [task("b", "FAILED", t1)],
        [task("b", "IN_PROGRESS")],           # the retry, seen running
        [task("b", "FAILED", t2)],
        [task("b", "FAILED", t3)],            # a retry that ran between two polls: only the new end time shows it
        [task("b", "FAILED", t3)],
    ])
    assert ids_of(events) == [("b", "FAILED", 1), ("b", "FAILED", 2), ("b", "FAILED", 3)]
    budgets = [e["credentials_task"]["auto_retry"] for e in events]
    assert [b["allowed"] for b in budgets] == [True, True, False]
    assert [b["earlier_events_in_window"] for b in budgets] == [0, 1, 2]


def test_a_failure_present_at_start_that_fails_again_after_a_retry_is_attempt_two():
    events, _fake = run_source([
        [task("a", "FAILED", ts(600))],
        [task("a", "IN_PROGRESS")],
        [task("a", "FAILED", ts())],
    ])
    assert ids_of(events) == [("a", "FAILED", 2)]
    assert events[0]["credentials_task"]["auto_retry"]["allowed"] is True


def test_a_stale_read_of_an_earlier_failure_after_the_retry_started_is_no_new_event():
    t1, t2 = ts(20), ts(10)
    events, _fake = run_source([
        [task("s", "IN_PROGRESS")], [task("s", "FAILED", t1)],
        [task("s", "IN_PROGRESS")],           # the retry runs
        [task("s", "FAILED", t1)],            # a read from before the retry: same end time
        [task("s", "IN_PROGRESS")],
        [task("s", "FAILED", t2)],            # the retry failed: a new end time
    ])
    assert ids_of(events) == [("s", "FAILED", 1), ("s", "FAILED", 2)]


def test_failed_then_inconsistent_is_two_events_and_success_is_none():
    events, _fake = run_source([
        [task("x", "PENDING"), task("y", "IN_PROGRESS")],
        [task("x", "FAILED", ts()), task("y", "SUCCESSFUL", ts())],
        [task("x", "INCONSISTENT", ts()), task("y", "SUCCESSFUL", ts())],
    ])
    assert ids_of(events) == [("x", "FAILED", 1), ("x", "INCONSISTENT", 2)]
    assert [e["credentials_task"]["reason"] for e in events] == ["failed", "inconsistent"]


def test_task_without_completion_time_is_one_event_until_it_runs_again():
    events, _fake = run_source([
        [task("n", "IN_PROGRESS")], [task("n", "FAILED")], [task("n", "FAILED")],
        [task("n", "PENDING")], [task("n", "FAILED")],
    ])
    assert ids_of(events) == [("n", "FAILED", 1), ("n", "FAILED", 2)]


def test_retry_window_lets_old_events_expire():
    events, _fake = run_source([
        [task("w", "IN_PROGRESS")], [task("w", "FAILED", ts(3))], [task("w", "IN_PROGRESS")],
        [task("w", "FAILED", ts(2))], [task("w", "IN_PROGRESS")], [task("w", "FAILED", ts(1))],
    ], {"max_auto_retries": 1, "retry_window": 0.0001})
    assert [e["credentials_task"]["auto_retry"]["allowed"] for e in events] == [True, True, True]


def test_a_retry_that_continues_under_a_new_task_id_counts_against_the_same_guardrail():
    host = [("esxi-9.rack.example.com", "ESXI")]
    events, _fake = run_source([
        [task("first", "IN_PROGRESS", resources=host)],
        [task("first", "FAILED", ts(3), resources=host)],
        [task("first", "FAILED", ts(3), resources=host), task("second", "IN_PROGRESS", resources=host)],
        [task("first", "FAILED", ts(3), resources=host), task("second", "FAILED", ts(2), resources=host)],
        [task("first", "FAILED", ts(3), resources=host), task("second", "FAILED", ts(2), resources=host),
         task("third", "FAILED", ts(1), resources=host), task("other", "FAILED", ts(1))],
    ])
    assert ids_of(events) == [("first", "FAILED", 1), ("second", "FAILED", 1), ("third", "FAILED", 1),
                              ("other", "FAILED", 1)]
    assert [e["credentials_task"]["auto_retry"]["allowed"] for e in events] == [True, True, False, True]
    assert [e["credentials_task"]["auto_retry"]["earlier_events_in_window"] for e in events] == [0, 1, 2, 0]


def test_max_auto_retries_zero_never_allows_a_retry():
    events, _fake = run_source([[task("z", "IN_PROGRESS")], [task("z", "FAILED", ts())]], {"max_auto_retries": 0})
    assert events[0]["credentials_task"]["auto_retry"]["allowed"] is False


def test_an_empty_first_answer_does_not_turn_old_failures_into_new_events():
    events, _fake = run_source([
        [],
        [task("old", "FAILED", ts(7200)), task("fresh", "FAILED", ts(1))],
    ])
    assert ids_of(events) == [("fresh", "FAILED", 1)]


def test_a_task_missing_from_one_answer_is_not_a_new_event_when_it_is_back():
    events, _fake = run_source([
        [task("m", "IN_PROGRESS")], [task("m", "FAILED", ts())], (200, {}), [], [task("m", "FAILED", ts())],
    ])
    assert ids_of(events) == [("m", "FAILED", 1)]


# --- filters ---------------------------------------------------------------------------------------------------

FILTER_TASKS = [
    task("esxi-rotate", "FAILED", ts(), resources=[("ESXI-1.rack.example.com", "ESXI")], auto=True),
    task("vc-update", "FAILED", ts(), task_type="UPDATE", resources=[("vcenter-1.rack.example.com", "VCENTER")]),
    task("nsx-remediate", "INCONSISTENT", ts(), task_type="REMEDIATE",
         resources=[("nsx-1.rack.example.com", "NSXT_MANAGER")]),
]


@pytest.mark.parametrize("args, expected", [
    ({}, ["esxi-rotate", "vc-update", "nsx-remediate"]),
    ({"resource_types": ["esxi"]}, ["esxi-rotate"]),
    ({"resource_types": "VCENTER,NSXT_MANAGER"}, ["vc-update", "nsx-remediate"]),
    ({"resource_names": ["esxi-1.RACK.example.com"]}, ["esxi-rotate"]),
    ({"operation_types": ["update", "REMEDIATE"]}, ["vc-update", "nsx-remediate"]),
    ({"auto_rotate_only": True}, ["esxi-rotate"]),
    ({"statuses": ["INCONSISTENT"]}, ["nsx-remediate"]),
    ({"resource_types": ["ESXI"], "operation_types": ["UPDATE"]}, []),
])
def test_filters(args, expected):
    events, _fake = run_source([[], FILTER_TASKS], args)
    assert [e["credentials_task"]["id"] for e in events] == expected


# --- the content of an event, and no secret in it ----------------------------------------------------------------

def test_event_content_and_no_secret_anywhere():
    leaky = task("leaky", "FAILED", ts())
    # An error message that echoes a password must not carry it into the event.
    leaky["subTasks"][0]["errors"][0]["message"] = "Login with %s refused" % OLD_PW
    events, fake = run_source([[], [leaky]], extra_polls=2)
    body = events[0]["credentials_task"]
    assert body["type"] == "ROTATE" and body["status"] == "FAILED" and body["is_auto_rotate"] is False
    assert body["resources"] == [{"resource_name": "esxi-1.rack.example.com", "resource_type": "ESXI"}]
    assert body["accounts"] == [{"resource_name": "esxi-1.rack.example.com", "resource_type": "ESXI",
                                 "username": "root", "credential_type": "SSH"}]
    entry = body["failure_report"][0]
    assert entry["error_code"] == "PASSWORD_ROTATE_SSH_AUTH_FAILED"
    assert entry["reference_token"] == "K2F9QX"
    assert entry["remediation"] == "Reset the root password on the host, then retry"
    assert entry["subtask"] == "Rotate root on esxi-1.rack.example.com"
    assert "Reset the root password on the host, then retry" in body["remediation"]
    assert body["seen_at"].endswith("Z") and body["completion_timestamp"]
    assert body["message"].startswith("SDDC Manager %s: Task leaky failed" % HOST), body["message"]
    assert body["reason"] == "failed"
    text = json.dumps(events)
    for secret in SECRETS:
        assert secret not in text
    assert "********" in text  # the echoed password was masked, not dropped silently
    assert not [key for key in keys_of(events) if "password" in key.lower() or "token" in key.lower()
                and key != "reference_token"]
    assert fake.auth_headers[0] == "Bearer %s" % ACCESS


def test_notifications_of_sddc_manager_9_1_reach_the_event():
    events, _fake = run_source([[], [task("n91", "FAILED", ts())]])
    entry = events[0]["credentials_task"]["failure_report"][0]
    assert entry["notifications"][0]["remediations"][0]["link"] == "https://kb.example/1"
    assert entry["remediation_links"] == ["https://kb.example/1"]
    assert "Check the host's SSH service" in events[0]["credentials_task"]["remediation"]
