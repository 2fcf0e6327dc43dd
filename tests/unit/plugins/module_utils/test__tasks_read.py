"""Reading credentials tasks over a real client and mocked HTTP: fetch many, select for a bulk retry, the resources
of a task, failure reports, resource names and timestamps."""

from __future__ import annotations

import json

import pytest
from responses import matchers

from client_helpers import TASK_ID, TASKS
from helpers import methods
from tasks_helpers import task

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _tasks, _time, _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError


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
    assert methods(rsps) == ["GET"] * count
    assert all(found[i]["id"] == i for i in ids)


def test_fetch_more_than_two_tasks_with_one_list_call_of_a_window_of_the_newest(rsps, client):
    ids = ["t-1", "t-2", "t-3", "t-4"]
    rsps.get(TASKS, json={"elements": [task(i) for i in reversed(ids)] + [task("other")]},
             match=[matchers.query_param_matcher({"limit": "40"})])
    found = _tasks.fetch_tasks(client, ids)
    assert list(found) == ids
    assert methods(rsps, paths=True) == [("GET", "/v1/credentials/tasks?limit=40")]


def test_fetch_reads_the_tasks_missing_from_the_list(rsps, client):
    rsps.get(TASKS, json={"elements": [task("t-1"), task("t-3")]})
    rsps.get(TASKS + "/t-2", json=task("t-2", status="SUCCESSFUL"))
    found = _tasks.fetch_tasks(client, ["t-1", "t-2", "t-3"])
    assert found["t-2"]["status"] == "SUCCESSFUL"
    assert methods(rsps, paths=True) == [("GET", "/v1/credentials/tasks?limit=30"), ("GET", "/v1/credentials/tasks/t-2")]


def test_the_reader_reads_by_id_once_a_window_missed_most_of_the_tasks(rsps, client):
    """Tasks older than the newest ones (a retry does not move a task up the list): one window read shows it, and
    the later reads cost one request per task, never the whole history."""
    ids = ["t-1", "t-2", "t-3"]
    rsps.get(TASKS, json={"elements": [task("new-%d" % i) for i in range(30)], "pageMetadata": {
        "totalElements": 20000}})
    for task_id in ids:
        rsps.get(TASKS + "/" + task_id, json=task(task_id))
    reader = _tasks.TaskReader(client)
    assert list(reader.read(ids)) == ids and list(reader.read(ids)) == ids
    calls = methods(rsps, paths=True)
    # Reads by id go side by side: their order is not fixed.
    assert calls[0] == ("GET", "/v1/credentials/tasks?limit=30")
    assert sorted(calls[1:]) == sorted([("GET", "/v1/credentials/tasks/" + i) for i in ids] * 2)


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


# --- select_tasks (bulk retry) ----------------------------------------------------------------------

def _on(task_id, status, resource, entity="ESXI"):
    return task(task_id, status=status, sub_tasks=[{"resourceName": resource, "entityType": entity,
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
    assert methods(rsps) == ["GET", "GET"]
    selected = _tasks.select_tasks(client, [], discover=True, resource_names=["vc-01"])
    assert list(selected) == ["f-vc"]


# --- resources and failure reports ------------------------------------------------------------------

def test_resources_from_sub_tasks(failed_task):
    failed_task["subTasks"].append(dict(failed_task["subTasks"][0], username="vcf"))
    assert _tasks.resources_of(failed_task) == [
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


def test_failure_report_of_a_failed_sub_task(failed_task):
    assert _verdict.failure_report(failed_task) == [{
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


def test_failure_report_has_no_passwords(failed_task):
    assert "PLANTED" not in json.dumps(_verdict.failure_report(failed_task))


def test_failure_report_one_entry_per_error_and_per_failed_sub_task(failed_task):
    sub = failed_task["subTasks"][0]
    sub["errors"].append({"errorCode": "SECOND", "message": "Second error."})
    failed_task["subTasks"].append({"name": "silent", "status": "Failed", "resourceName": "esxi-02",
                                    "entityType": "ESXI"})
    report = _verdict.failure_report(failed_task)
    assert [(e["resource_name"], e["error_code"]) for e in report] == [
        ("esxi-01.example.com", "ESXI_PASSWORD_UPDATE_FAILED"), ("esxi-01.example.com", "SECOND"),
        ("esxi-02", None)]


def test_failure_report_falls_back_to_the_task_errors(failed_task):
    for sub in failed_task["subTasks"]:
        sub["status"] = "SUCCESSFUL"
    report = _verdict.failure_report(failed_task)
    assert len(report) == 1
    assert report[0]["error_code"] == "PASSWORD_MANAGER_OPERATION_FAILED"
    assert report[0]["resource_name"] is None
    assert report[0]["task_id"] == TASK_ID


def test_failure_report_of_a_failed_task_without_any_error():
    report = _verdict.failure_report(task(status="Failed"))
    assert report == [{"task_id": TASK_ID, "resource_name": None, "resource_type": None, "username": None,
                       "credential_type": None, "subtask": None, "status": "FAILED", "error_code": None,
                       "message": "It ended FAILED and SDDC Manager reported no error for it.",
                       "remediation": None, "remediation_links": [], "notifications": [], "reference_token": None}]


@pytest.mark.parametrize("status", ["SUCCESSFUL", "IN_PROGRESS", "Pending"])
def test_no_failure_report_for_success_or_running(failed_task, status):
    failed_task["status"] = status
    assert _verdict.failure_report(failed_task) == []


@pytest.mark.parametrize("status", ["USER_CANCELLED", "INCONSISTENT", "Cancelled", "SKIPPED", "TIMED_OUT"])
def test_every_other_end_has_a_report_with_what_to_do(failed_task, status):
    failed_task["status"] = status
    failed_task["subTasks"][0]["status"] = "SUCCESSFUL"
    report = _verdict.failure_report(failed_task)
    assert len(report) == 1 and report[0]["remediation"] and report[0]["message"]


def test_describe_failures(failed_task):
    lines = _verdict.describe_failures(_verdict.failure_report(failed_task))
    assert lines == ["task %s: ESXI esxi-01.example.com, sub-task 'Rotate root on esxi-01': Failed to update the "
                     "password of root on esxi-01.example.com. [ESXI_PASSWORD_UPDATE_FAILED] Remediation: Check that "
                     "the host is reachable over SSH and retry." % TASK_ID]
    bare = _verdict.describe_failures(_verdict.failure_report(task(status="FAILED")))
    assert bare == ["task %s: the task: It ended FAILED and SDDC Manager reported no error for it." % TASK_ID]
    coded = _verdict.describe_failures([{"task_id": "t", "error_code": "E1"}])
    assert coded == ["task t: the task: E1"]


@pytest.mark.parametrize("names, found", [
    (["ESXI-01.EXAMPLE.COM"], True), (["esxi-01.example.com"], True), (["Esxi-01.Example.Com"], True),
    (["esxi-02.example.com"], False),
])
def test_resource_names_are_matched_without_case(names, found):
    listed = task(sub_tasks=[{"resourceName": "esxi-01.example.com", "entityType": "ESXI", "status": "FAILED"}])
    assert _tasks.matches_resources(listed, ["esxi"], names) is found


@pytest.mark.parametrize("text, epoch", [
    ("2026-11-20T10:00:00.000Z", 1795168800.0), ("2026-11-20T10:00:00Z", 1795168800.0),
    ("2026-11-20T11:00:00+01:00", 1795168800.0), ("2026-11-20T10:00:00", 1795168800.0),
    ("not a time", None), (None, None), ("", None),
])
def test_timestamps_of_every_form(text, epoch):
    assert _time.timestamp(text) == epoch


def test_select_tasks_puts_unknown_named_ids_aside_when_asked(rsps, client):
    rsps.get(TASKS + "/a", json={"id": "a", "status": "FAILED"})
    rsps.get(TASKS + "/nope", status=404, json={"errorCode": "CREDENTIALS_TASK_NOT_FOUND"})
    missing = {}
    assert list(_tasks.select_tasks(client, ["a", "nope"], missing=missing)) == ["a"]
    assert list(missing) == ["nope"] and "No credentials task with id nope exists" in missing["nope"].message
    with pytest.raises(SddcManagerError):
        _tasks.select_tasks(client, ["nope"])
