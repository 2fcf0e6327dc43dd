"""credentials_task_cancel: only a FAILED task is cancelled; a cancelled one is left alone; check mode sends nothing."""

from __future__ import annotations

import json

import pytest
import requests

from helpers import methods, sub_task, task

from ansible_collections.vcf.sddc_manager.plugins.modules import credentials_task_cancel

BASE = "https://sddc.example.com:443"
TASK_ID = "1f6a3c2e-0b7d-4e1a-9c3f-5d2e8a4b6c01"
TASK = BASE + "/v1/credentials/tasks/" + TASK_ID
CONN = {"hostname": "sddc.example.com", "access_token": "AT-cancel-7f01"}
ARGS = dict(CONN, task_id=TASK_ID)


@pytest.fixture(name="cancelled_answer")
def cancelled_answer_fixture(load_fixture):
    answer = load_fixture("task_in_progress")
    answer["status"] = "Cancelled"
    answer["subTasks"][0]["status"] = "Cancelled"
    return answer


def test_failed_task_is_cancelled(run_module, rsps, failed_task, cancelled_answer, assert_clean):
    rsps.get(TASK, json=failed_task)
    rsps.delete(TASK, status=202, json=cancelled_answer)
    result, failed = run_module(credentials_task_cancel, ARGS, diff=True)
    assert not failed, result
    assert methods(rsps) == ["GET", "DELETE"]
    assert result["changed"] is True
    assert result["status"] == "USER_CANCELLED"
    assert result["msg"] == "Task %s was cancelled." % TASK_ID
    assert result["task"]["status"] == "Cancelled"
    assert result["diff"] == {"before": {"task_id": TASK_ID, "status": "FAILED"},
                              "after": {"task_id": TASK_ID, "status": "USER_CANCELLED"}}
    assert_clean(result["task"])
    assert "PLANTED" not in json.dumps(result)


def test_check_mode_sends_no_delete(run_module, rsps, failed_task, assert_clean):
    rsps.get(TASK, json=failed_task)
    result, failed = run_module(credentials_task_cancel, ARGS, check_mode=True, diff=True)
    assert not failed, result
    assert methods(rsps) == ["GET"]
    assert result["changed"] is True
    assert result["status"] == "USER_CANCELLED"
    assert "would be cancelled (check mode)" in result["msg"]
    assert result["diff"]["before"]["status"] == "FAILED"
    assert result["task"]["normalized_status"] == "FAILED"
    assert_clean(result["task"])
    assert "PLANTED" not in json.dumps(result)


@pytest.mark.parametrize("status, folded", [("USER_CANCELLED", "USER_CANCELLED"), ("Cancelled", "CANCELLED"),
                                            ("CANCELED", "CANCELLED")])
@pytest.mark.parametrize("check_mode", [False, True])
def test_cancelled_task_is_left_alone(run_module, rsps, failed_task, status, folded, check_mode):
    failed_task["status"] = status
    rsps.get(TASK, json=failed_task)
    result, failed = run_module(credentials_task_cancel, ARGS, check_mode=check_mode, diff=True)
    assert not failed, result
    assert methods(rsps) == ["GET"]
    assert result["changed"] is False
    assert result["status"] == folded
    assert "already cancelled" in result["msg"]
    assert result["diff"]["before"] == result["diff"]["after"]


@pytest.mark.parametrize("status, words", [
    ("IN_PROGRESS", "Wait for it to end with vcf.sddc_manager.credentials_task_wait"),
    ("In Progress", "is IN_PROGRESS"),
    ("SUCCESSFUL", "cancels only FAILED credentials tasks"),
    ("INCONSISTENT", "is INCONSISTENT"),
])
def test_other_statuses_cannot_be_cancelled(run_module, rsps, failed_task, status, words):
    failed_task["status"] = status
    rsps.get(TASK, json=failed_task)
    result, failed = run_module(credentials_task_cancel, ARGS)
    assert failed
    assert words in result["msg"]
    assert result["task_id"] == TASK_ID
    assert methods(rsps) == ["GET"]


def test_lost_answer_confirmed_by_a_read(run_module, rsps, failed_task):
    rsps.get(TASK, json=failed_task)
    rsps.delete(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    failed_task_after = dict(failed_task, status="USER_CANCELLED")
    rsps.get(TASK, json=failed_task_after)
    result, failed = run_module(credentials_task_cancel, ARGS)
    assert not failed, result
    assert methods(rsps) == ["GET", "DELETE", "GET"]
    assert result["changed"] is True
    assert result["task"]["status"] == "USER_CANCELLED"


def test_lost_answer_and_still_failed(run_module, rsps, failed_task):
    rsps.get(TASK, json=failed_task)
    rsps.delete(TASK, body=requests.exceptions.ConnectionError("Connection aborted."))
    rsps.get(TASK, json=failed_task)
    result, failed = run_module(credentials_task_cancel, ARGS)
    assert failed
    assert "the cancel was not applied" in result["msg"] and "Run the cancel again" in result["msg"]
    assert methods(rsps) == ["GET", "DELETE"] + ["GET"] * 5  # until the settle time is over


def test_busy_server_is_not_asked_twice_to_cancel(run_module, rsps, failed_task, client_sleeps):
    rsps.get(TASK, json=failed_task)
    rsps.delete(TASK, status=503, json={"message": "Busy."})
    rsps.get(TASK, json=failed_task)
    result, failed = run_module(credentials_task_cancel, ARGS)
    assert failed
    assert result["status_code"] == 503
    assert "the cancel was not applied" in result["msg"]
    # the task is read again to learn the truth, and the DELETE is not sent again
    assert methods(rsps) == ["GET", "DELETE"] + ["GET"] * 5  # until the settle time is over
    assert client_sleeps == []


def test_refused_cancel(run_module, rsps, failed_task, load_fixture):
    rsps.get(TASK, json=failed_task)
    rsps.delete(TASK, status=400, json=load_fixture("error_full"))
    result, failed = run_module(credentials_task_cancel, ARGS)
    assert failed
    assert "Remediation: Cancel the task and start a new password operation." in result["msg"]
    assert result["error"]["nested_errors"][0]["error_code"] == "RESOURCE_LOCKED"
    assert (result["status_code"], result["task_id"]) == (400, TASK_ID)


def test_unknown_task(run_module, rsps):
    rsps.get(TASK, status=404, json={"message": "Not found."})
    result, failed = run_module(credentials_task_cancel, ARGS)
    assert failed
    assert "No credentials task with id" in result["msg"]
    assert methods(rsps) == ["GET"]


def test_task_id_with_a_slash_stays_one_path_segment(run_module, rsps):
    rsps.get(BASE + "/v1/credentials/tasks/..%2Fx", json={"id": "../x", "status": "USER_CANCELLED"})
    result, failed = run_module(credentials_task_cancel, dict(CONN, task_id="../x"))
    assert not failed, result
    assert rsps.calls[0].request.path_url == "/v1/credentials/tasks/..%2Fx"


@pytest.mark.parametrize("extra, words", [({}, "task_id"), ({"task_id": "t", "wait": True}, "Unsupported")])
def test_invalid_options_fail_before_any_request(run_module, rsps, extra, words):
    result, failed = run_module(credentials_task_cancel, dict(CONN, **extra))
    assert failed
    assert words in result["msg"]
    assert len(rsps.calls) == 0


# --- many tasks in one run: task_ids and discover --------------------------------------------------------------

LIST = BASE + "/v1/credentials/tasks"


def listed(*tasks):
    return {"elements": list(tasks)}


def on_host(task_id, status, host):
    return task(task_id, status, sub_tasks=[sub_task(host, status)])


@pytest.fixture(name="many")
def many_fixture(rsps):
    tasks = [on_host("f1", "FAILED", "esxi-01.example.com"), on_host("f2", "FAILED", "esxi-02.example.com"),
             on_host("gone", "USER_CANCELLED", "esxi-03.example.com"), on_host("run", "IN_PROGRESS", "esxi-04.example.com"),
             on_host("lost", "INCONSISTENT", "esxi-05.example.com")]
    rsps.get(LIST, json=listed(*tasks))
    for item in tasks:
        rsps.get(LIST + "/" + item["id"], json=item)
        rsps.delete(LIST + "/" + item["id"], status=202, json={"id": item["id"], "status": "Cancelled"})
    rsps.get(LIST + "/nope", status=404, json={"message": "Not found."})
    return rsps


def test_task_ids_cancels_each_failed_one_and_reports_every_outcome(run_module, many):
    result, failed = run_module(credentials_task_cancel, dict(CONN, task_ids=["f1", "gone", "run", "nope"],
                                                              task_id="f2"), diff=True)
    assert failed  # 'run' cannot be cancelled and 'nope' does not exist: after the others were cancelled
    assert sorted(result["cancelled_ids"]) == ["f1", "f2"] and result["unchanged_ids"] == ["gone"]
    assert sorted(e["task_id"] for e in result["errors"]) == ["nope", "run"]
    assert [m for m, _p in methods(many, paths=True) if m == "DELETE"] == ["DELETE", "DELETE"]
    by_id = dict((line["task_id"], line) for line in result["results"])
    assert by_id["f1"]["action"] == "cancelled" and by_id["f1"]["status"] == "USER_CANCELLED"
    assert by_id["gone"]["action"] == "unchanged" and by_id["run"]["action"] == "error"
    assert "Wait for it to end" in by_id["run"]["msg"]
    assert result["diff"]["after"]["f1"] == "USER_CANCELLED" and result["diff"]["before"]["f1"] == "FAILED"
    assert result["changed"] is True and "2 cancelled, 1 already cancelled, 2 could not be cancelled" in result["msg"]


def test_discover_cancels_only_failed_tasks_matching_the_filters(run_module, many):
    result, failed = run_module(credentials_task_cancel, dict(CONN, discover=True,
                                                              resource_names=["ESXI-02.example.com"]))
    assert not failed, result
    assert result["cancelled_ids"] == ["f2"] and result["errors"] == []
    assert [p for m, p in methods(many, paths=True) if m == "DELETE"] == ["/v1/credentials/tasks/f2"]


def test_discover_in_check_mode_lists_what_it_would_cancel_and_sends_nothing(run_module, many):
    result, failed = run_module(credentials_task_cancel, dict(CONN, discover=True), check_mode=True, diff=True)
    assert not failed, result
    assert sorted(result["would_cancel_ids"]) == ["f1", "f2"] and result["cancelled_ids"] == []
    assert "DELETE" not in methods(many)
    assert result["changed"] is True and "2 would be cancelled (check mode)" in result["msg"]
    assert result["diff"]["after"] == {"f1": "USER_CANCELLED", "f2": "USER_CANCELLED"}


def test_a_second_run_changes_nothing(run_module, rsps):
    rsps.get(LIST, json=listed(on_host("gone", "USER_CANCELLED", "esxi-03.example.com")))
    result, failed = run_module(credentials_task_cancel, dict(CONN, discover=True))
    assert not failed and result["changed"] is False and result["results"] == []


@pytest.mark.parametrize("extra, words", [
    ({"resource_types": ["ESXI"], "task_ids": ["a"]}, "set discover: true"),
    ({"discover": True, "resource_types": ["ESX"]}, "did you mean ESXI?"),
    ({}, "Nothing to cancel: give task_id, task_ids, or discover: true."),
])
def test_bulk_options_are_checked_before_any_request(run_module, rsps, extra, words):
    result, failed = run_module(credentials_task_cancel, dict(CONN, **extra))
    assert failed and words in result["msg"], result["msg"]
    assert len(rsps.calls) == 0
