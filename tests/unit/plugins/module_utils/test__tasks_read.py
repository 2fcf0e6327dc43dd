"""Reading credentials tasks over a real client and mocked HTTP: fetch many, select for a bulk retry, the resources
of a task, failure reports, resource names and timestamps."""

from __future__ import annotations

import json

import pytest
from responses import matchers

from client_helpers import TASK_ID, TASKS
import helpers
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


class _Types:
    """A ``types_of`` that records the tasks it was asked about."""

    def __init__(self, types):
        self.types = types
        self.asked = []

    def __call__(self, listed):
        self.asked.append(listed["id"])
        return self.types


UNTYPED = task(sub_tasks=[{"resourceName": "ESXi-01.example.com", "status": "FAILED"}])


@pytest.mark.parametrize("types, names, read, found, asked", [
    (["ESXI"], None, {"esxi-01.example.com": "ESXI"}, True, True),
    (["vcenter"], None, {"esxi-01.example.com": "ESXI"}, False, True),
    (["ESXI"], None, {}, False, True),  # SDDC Manager did not list the resource
    (["ESXI"], ["other.example.com"], {"esxi-01.example.com": "ESXI"}, False, False),  # the name decides first
    (None, ["esxi-01.example.com"], {}, True, False),
])
def test_a_resource_without_its_type_is_typed_from_its_resource_credentials_only_when_needed(
        types, names, read, found, asked):
    types_of = _Types(read)
    assert _tasks.matches_resources(UNTYPED, types, names, types_of) is found
    assert types_of.asked == ([TASK_ID] if asked else [])
    # Without types_of such a resource matches no type.
    assert _tasks.matches_resources(UNTYPED, ["ESXI"], None) is False


def test_resource_types_are_read_once_per_task(rsps, client):
    rsps.get(TASKS + "/%s/resource-credentials" % TASK_ID, json=[
        {"resourceName": "ESXi-01.example.com", "resourceType": "esxi", "credentials": []}])
    types_of = _tasks.ResourceTypes(client)
    assert types_of(UNTYPED) == {"esxi-01.example.com": "ESXI"}
    assert _tasks.matches_resources(UNTYPED, ["ESXI"], None, types_of) is True
    assert len(rsps.calls) == 1


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


# --- the order check of every list answer, and the fallback -------------------------------------------------------

def _created(task_id, created, status="SUCCESSFUL"):
    """A task created at ``created`` (None: no creation time)."""
    return helpers.task(task_id, status, created=created, completed=None if status != "SUCCESSFUL" else created)


def _at(task_id, minute, status="SUCCESSFUL"):
    """A task created at 10:<minute> UTC on 2026-11-27."""
    return _created(task_id, "2026-11-27T10:%02d:00.000Z" % minute, status)


def _reader(client):
    warnings = []
    return _tasks.TaskReader(client, warn=warnings.append), warnings


@pytest.mark.parametrize("created, pair", [
    (["10:05:00.000Z", "10:04:00.000Z", "10:04:00.000Z", "10:01:00.000Z"], None),     # newest first, a tie kept
    (["10:01:00.000Z", "10:04:00.000Z"], (0, 1)),                                       # oldest first
    (["10:05:00.000Z", None, "not a time", "10:04:00.000Z"], None),                    # unreadable ones left out
    (["10:05:00.000Z", None, "10:06:00.000Z"], (0, 2)),                                 # ... but not what is around them
    (["10:05:00.000Z", "10:05:30Z", "11:04:00+01:00", "10:03:59.5Z"], (0, 1)),        # other forms, by their time
    (["10:05:00.000Z", "11:04:00+01:00", "10:03:59.5Z"], None),
])
def test_the_order_check_wants_creation_times_newest_first(created, pair):
    listed = [_created("t-%d" % i, when if when in (None, "not a time") else "2026-11-27T" + when)
              for i, when in enumerate(created)]
    found = _tasks.out_of_order(listed + ["not a task"])
    assert (None if found is None else tuple(int(t["id"][2:]) for t in found)) == pair


def test_an_answer_out_of_order_warns_once_and_the_reader_reads_by_id_from_then_on(rsps, client):
    ids = ["t-1", "t-2", "t-3"]
    # Oldest first: the 30 asked for are the oldest tasks, which hold t-1 only.
    rsps.get(TASKS, json={"elements": [_at("t-1", 0)] + [_at("old-%d" % i, i + 1) for i in range(29)],
                          "pageMetadata": {"totalElements": 20000}})
    for task_id in ids:
        rsps.get(TASKS + "/" + task_id, json=task(task_id, status="IN_PROGRESS"))
    reader, warnings = _reader(client)
    first = reader.read(ids)
    assert first["t-1"]["status"] == "SUCCESSFUL"  # the window's own tasks are true reads of them
    assert first["t-2"]["status"] == first["t-3"]["status"] == "IN_PROGRESS"
    assert not reader.ordered and not reader.windows
    assert len(warnings) == 1
    assert "out of order: task old-0 (created 2026-11-27T10:01:00.000Z) came after task t-1" in warnings[0]
    assert "reads the whole list, or each task by id, from now on" in warnings[0]
    reader.read(ids)
    calls = methods(rsps, paths=True)
    assert calls[0] == ("GET", "/v1/credentials/tasks?limit=30")
    assert sorted(calls[1:]) == sorted([("GET", "/v1/credentials/tasks/t-2"), ("GET", "/v1/credentials/tasks/t-3")]
                                       + [("GET", "/v1/credentials/tasks/" + i) for i in ids])
    assert len(warnings) == 1


def test_an_answer_newest_first_is_no_warning(rsps, client):
    rsps.get(TASKS, json={"elements": [_at("t-%d" % i, 30 - i) for i in range(1, 4)]})
    reader, warnings = _reader(client)
    assert sorted(reader.read(["t-1", "t-2", "t-3"])) == ["t-1", "t-2", "t-3"]
    assert warnings == [] and reader.ordered and reader.windows


def test_without_a_warn_callback_the_warning_goes_to_the_modules_warnings(rsps, client, monkeypatch):
    from ansible.module_utils.common import warnings as module_warnings

    # Ansible's own warn(): a module returns what it recorded with its result (whether another test made this
    # process look like the controller, where it prints instead, does not matter here).
    assert _tasks._module_warn is module_warnings.warn  # pylint: disable=protected-access
    recorded = []
    monkeypatch.setattr(_tasks, "_module_warn", recorded.append)
    rsps.get(TASKS, json={"elements": [_at("a", 1), _at("b", 2)]})
    _tasks.TaskReader(client).list()
    assert len(recorded) == 1 and "listed its credentials tasks out of order: task b" in recorded[0]


def test_discover_reads_the_whole_list_once_and_checks_its_order(rsps, client):
    rsps.get(TASKS, json={"elements": [_at("ok", 1), _at("failed-old", 2, "FAILED"), _at("failed-new", 9, "FAILED")],
                          "pageMetadata": {"totalElements": 3}})
    reader, warnings = _reader(client)
    selected = _tasks.select_tasks(client, [], discover=True, reader=reader)
    assert sorted(selected) == ["failed-new", "failed-old"]  # a full list in any order holds every task
    assert methods(rsps, paths=True) == [("GET", "/v1/credentials/tasks")]
    assert len(warnings) == 1 and not reader.ordered


def test_named_tasks_after_an_answer_out_of_order_are_read_by_id(rsps, client):
    rsps.get(TASKS, json={"elements": [_at("a", 1), _at("b", 2)]})
    for task_id in "abc":
        rsps.get(TASKS + "/" + task_id, json=_at(task_id, 5, "IN_PROGRESS"))
    reader, warnings = _reader(client)
    reader.list()
    selected = _tasks.select_tasks(client, ["a", "b", "c"], reader=reader)
    assert [t["status"] for t in selected.values()] == ["IN_PROGRESS"] * 3
    assert [path for _method, path in methods(rsps, paths=True)][1:] == [
        "/v1/credentials/tasks/a", "/v1/credentials/tasks/b", "/v1/credentials/tasks/c"]
    assert len(warnings) == 1


def test_the_newest_tasks_of_a_list_out_of_order_come_from_the_whole_list(rsps, client):
    rsps.get(TASKS, json={"elements": [_at("t-0", 0), _at("t-1", 1)], "pageMetadata": {"totalElements": 5}},
             match=[matchers.query_param_matcher({"limit": "2"})])
    rsps.get(TASKS, json={"elements": [_at("t-%d" % i, i) for i in range(5)], "pageMetadata": {"totalElements": 5}},
             match=[matchers.query_param_matcher({})])
    reader, warnings = _reader(client)
    assert [t["id"] for t in reader.newest(limit=2)] == ["t-4", "t-3"]
    assert len(warnings) == 1
    paths = [path for _method, path in methods(rsps, paths=True)]
    assert paths == ["/v1/credentials/tasks?limit=2", "/v1/credentials/tasks"]


def test_the_newest_tasks_of_a_list_newest_first_take_one_read(rsps, client):
    rsps.get(TASKS, json={"elements": [_at("t-4", 4), _at("t-3", 3)], "pageMetadata": {"totalElements": 5}})
    reader, warnings = _reader(client)
    assert [t["id"] for t in reader.newest(limit=2)] == ["t-4", "t-3"]
    assert len(rsps.calls) == 1 and warnings == []


def test_after_an_answer_out_of_order_many_tasks_of_a_short_history_take_one_full_read(rsps, client):
    ids = ["t-%d" % i for i in range(12)]
    # Oldest first, 25 tasks in all: no window is trusted any more, and one read of all 25 moves less than 12 reads
    # by id would.
    rsps.get(TASKS, json={"elements": [_at("t-%d" % i, i) for i in range(25)], "pageMetadata": {"totalElements": 25}})
    reader, warnings = _reader(client)
    reader.list()
    found = reader.read(ids)
    assert list(found) == ids and all(found[i]["id"] == i for i in ids)
    assert methods(rsps, paths=True) == [("GET", "/v1/credentials/tasks")] * 2
    assert reader.requests == 2 and reader.elements == 50 and len(warnings) == 1


def test_a_full_read_is_dearer_than_a_few_reads_by_id_of_a_long_history(client):
    reader = _tasks.TaskReader(client, warn=lambda message: None)
    assert not reader.cheaper_in_full(3)  # nothing known of the history yet
    reader.total = 20000
    assert not reader.cheaper_in_full(100)
    assert reader.cheaper_in_full(20000)
    reader.total = 30
    assert reader.cheaper_in_full(30) and not reader.cheaper_in_full(1)


def test_elements_of_another_shape_are_an_error_not_an_empty_list(rsps, client):
    rsps.get(TASKS, json={"elements": "not a list", "pageMetadata": {"totalElements": 3}})
    with pytest.raises(SddcManagerError, match="elements of another shape") as info:
        client.list_credentials_tasks_page()
    assert info.value.kind == "api"


@pytest.mark.parametrize("page, total", [
    ({"elements": [], "pageMetadata": {"totalElements": 7}}, 7), ({"elements": []}, None), ([], None),
    ({"elements": [], "pageMetadata": {"totalElements": "7"}}, None), ({"elements": [], "pageMetadata": []}, None),
])
def test_the_page_read_gives_the_total_when_sddc_manager_says_it(rsps, client, page, total):
    rsps.get(TASKS, json=page)
    assert client.list_credentials_tasks_page(limit=5) == ([], total)
