"""credentials_task_info: one task by id, or the list filtered by status and resource; never a password."""

from __future__ import annotations

import json

import pytest
from responses import matchers

import helpers
from helpers import methods, sub_task

from ansible_collections.vcf.sddc_manager.plugins.modules import credentials_task_info

BASE = "https://sddc.example.com:443"
TASKS = BASE + "/v1/credentials/tasks"
TASK_ID = "1f6a3c2e-0b7d-4e1a-9c3f-5d2e8a4b6c01"
CONN = {"hostname": "sddc.example.com", "access_token": "AT-info-31c7"}


def task(task_id, status, *resources, operation="ROTATE"):
    return helpers.task(task_id, status, operation=operation, name="op", created="2026-11-27T10:00:00.000Z",
                        sub_tasks=[sub_task(resource, status, kind=kind, name="s", credential_type=None)
                                   for resource, kind in resources])


@pytest.fixture(name="listing")
def listing_fixture(rsps, load_fixture):
    tasks = [
        load_fixture("credentials_task_failed_rotate"),
        task("t-running", "IN_PROGRESS", ("esxi-02.example.com", "ESXI")),
        task("t-generic", "In Progress", ("vcenter-01.example.com", "VCENTER")),
        task("t-ok", "SUCCESSFUL", ("esxi-01.example.com", "ESXI")),
        task("t-nsx", "FAILED", ("nsx-01.example.com", "NSXT_MANAGER"), operation="UPDATE"),
        task("t-cancelled", "USER_CANCELLED", ("esxi-03.example.com", "ESXI")),
    ]
    rsps.get(TASKS, json={"elements": tasks, "pageMetadata": {"totalElements": len(tasks)}})
    return tasks


def ids(result):
    return [t["id"] for t in result["tasks"]]


def test_one_task_by_id(run_module, rsps, load_fixture, assert_clean):
    rsps.get(TASKS + "/" + TASK_ID, json=load_fixture("credentials_task_failed_rotate"))
    result, failed = run_module(credentials_task_info, dict(CONN, task_id=TASK_ID, view="full"))
    assert not failed, result
    assert result["changed"] is False
    assert len(result["tasks"]) == 1
    one = result["tasks"][0]
    assert one["id"] == TASK_ID
    assert one["status"] == "FAILED"
    assert one["normalized_status"] == "FAILED"
    assert one["completion_timestamp"] == "2026-11-27T10:04:12.000Z"
    assert one["resources"] == [{"resource_name": "esxi-01.example.com", "resource_type": "ESXI"},
                                {"resource_name": "vcenter-01.example.com", "resource_type": "VCENTER"}]
    assert one["sub_tasks"][0]["username"] == "root"
    assert one["failed_subtasks"][0]["error_code"] == "ESXI_PASSWORD_UPDATE_FAILED"
    assert one["failed_subtasks"][0]["remediation"] == "Check that the host is reachable over SSH and retry."
    assert_clean(result["tasks"])
    assert "PLANTED" not in json.dumps(result)
    assert "AT-info-31c7" not in json.dumps(result)
    assert len(rsps.calls) == 1


def test_unknown_task_id(run_module, rsps):
    rsps.get(TASKS + "/nope", status=404, json={"errorCode": "NOT_FOUND", "message": "Task not found."})
    result, failed = run_module(credentials_task_info, dict(CONN, task_id="nope"))
    assert failed
    assert "No credentials task with id nope exists" in result["msg"]
    assert result["status_code"] == 404
    assert result["url"] == TASKS + "/nope"
    assert result["error"] == {"error_code": "NOT_FOUND", "message": "Task not found."}


def test_list_everything(run_module, listing, assert_clean):
    result, failed = run_module(credentials_task_info, CONN)
    assert not failed
    assert ids(result) == [t["id"] for t in listing]
    assert_clean(result["tasks"])
    assert "PLANTED" not in json.dumps(result)


@pytest.mark.parametrize("statuses, expected", [
    (["FAILED"], [TASK_ID, "t-nsx"]),
    (["failed"], [TASK_ID, "t-nsx"]),
    (["IN_PROGRESS"], ["t-running", "t-generic"]),
    (["In Progress"], ["t-running", "t-generic"]),
    (["in-progress", "Successful"], ["t-running", "t-generic", "t-ok"]),
    (["USER_CANCELED"], ["t-cancelled"]),
    (["INCONSISTENT"], []),
])
def test_status_filter(run_module, listing, statuses, expected):
    result, failed = run_module(credentials_task_info, dict(CONN, status=statuses))
    assert not failed
    assert ids(result) == expected


def test_status_filter_as_a_comma_separated_string(run_module, listing):
    result, _failed = run_module(credentials_task_info, dict(CONN, status="FAILED,SUCCESSFUL"))
    assert ids(result) == [TASK_ID, "t-ok", "t-nsx"]


@pytest.mark.parametrize("name, expected", [
    ("esxi-01.example.com", [TASK_ID, "t-ok"]),
    ("vcenter-01.example.com", [TASK_ID, "t-generic"]),
    ("nowhere.example.com", []),
])
def test_resource_name_filter(run_module, listing, name, expected):
    result, _failed = run_module(credentials_task_info, dict(CONN, resource_name=name))
    assert ids(result) == expected


@pytest.mark.parametrize("kind, expected", [
    ("ESXI", [TASK_ID, "t-running", "t-ok", "t-cancelled"]),
    ("esxi", [TASK_ID, "t-running", "t-ok", "t-cancelled"]),
    ("NSXT_MANAGER", ["t-nsx"]),
    ("BACKUP", []),
])
def test_resource_type_filter(run_module, listing, kind, expected):
    result, _failed = run_module(credentials_task_info, dict(CONN, resource_type=kind))
    assert ids(result) == expected


def test_filters_combine(run_module, listing):
    args = dict(CONN, status=["FAILED"], resource_type="ESXI", resource_name="esxi-01.example.com")
    result, _failed = run_module(credentials_task_info, args)
    assert ids(result) == [TASK_ID]


def test_limit_is_sent_to_sddc_manager(run_module, rsps):
    rsps.get(TASKS, json={"elements": [task("a", "FAILED", ("h", "ESXI"))]},
             match=[matchers.query_param_matcher({"limit": "5"})])
    result, failed = run_module(credentials_task_info, dict(CONN, limit=5))
    assert not failed, result
    assert ids(result) == ["a"]
    assert len(rsps.calls) == 1


@pytest.mark.parametrize("page", [{"elements": []}, {}, []])
def test_no_tasks_is_an_empty_list(run_module, rsps, page):
    rsps.get(TASKS, json=page)
    result, failed = run_module(credentials_task_info, dict(CONN, status=["FAILED"]))
    assert not failed
    assert result["tasks"] == []
    assert result["changed"] is False


def test_check_mode_reads_the_same(run_module, listing):
    result, failed = run_module(credentials_task_info, dict(CONN, status=["FAILED"]), check_mode=True)
    assert not failed
    assert ids(result) == [TASK_ID, "t-nsx"]


@pytest.mark.parametrize("args, words", [
    ({"limit": 0}, "limit must be a positive number of tasks, got 0"),
    ({"limit": -3}, "limit must be a positive number of tasks, got -3"),
    ({"task_id": "x", "status": ["FAILED"]}, "mutually exclusive: task_id|status"),
    ({"task_id": "x", "resource_name": "h"}, "mutually exclusive: task_id|resource_name"),
    ({"task_id": "x", "resource_type": "ESXI"}, "mutually exclusive: task_id|resource_type"),
    ({"task_id": "x", "limit": 3}, "mutually exclusive: task_id|limit"),
    ({"limit": "many"}, "limit"),
    ({"unknown_option": 1}, "Unsupported parameters"),
])
def test_invalid_options_fail_before_any_request(run_module, rsps, args, words):
    result, failed = run_module(credentials_task_info, dict(CONN, **args))
    assert failed
    assert words in result["msg"]
    assert len(rsps.calls) == 0


def test_api_errors_are_reported_with_details(run_module, rsps, load_fixture):
    rsps.get(TASKS, status=500, json=load_fixture("error_full"))
    result, failed = run_module(credentials_task_info, CONN)
    assert failed
    assert result["msg"].startswith("SDDC Manager answered HTTP 500")
    assert "Remediation: Cancel the task and start a new password operation." in result["msg"]
    assert result["status_code"] == 500
    assert result["error"]["reference_token"] == "REF-K3V8PZ"
    assert len(rsps.calls) == 1  # 500 is not retried


def test_busy_reads_are_retried(run_module, rsps, client_sleeps):
    rsps.get(TASKS, status=503, headers={"Retry-After": "2"}, json={})
    rsps.get(TASKS, json={"elements": []})
    result, failed = run_module(credentials_task_info, CONN)
    assert not failed
    assert client_sleeps == [2.0]
    assert len(rsps.calls) == 2


# --- authentication and environment -----------------------------------------------------------------

def test_login_with_username_and_password(run_module, rsps, listing):
    rsps.post(BASE + "/v1/tokens", status=201, json={"accessToken": "AT-login-e4c9",
                                                     "refreshToken": {"id": "RT-login-e4c9"}})
    result, failed = run_module(credentials_task_info, {"hostname": "sddc.example.com", "username": "admin@local",
                                                        "password": "Pa55-e4c9"})
    assert not failed, result
    assert methods(rsps) == ["POST", "GET"]
    assert json.loads(rsps.calls[0].request.body) == {"username": "admin@local", "password": "Pa55-e4c9"}
    assert rsps.calls[1].request.headers["Authorization"] == "Bearer AT-login-e4c9"
    text = json.dumps(result)
    assert "Pa55-e4c9" not in text and "AT-login-e4c9" not in text and "RT-login-e4c9" not in text


def test_tokens_met_on_the_way_are_masked_wherever_they_surface(run_module, rsps):
    rsps.post(BASE + "/v1/tokens", status=201, json={"accessToken": "AT-echo-0b3e", "refreshToken": {"id": "RT"}})
    rsps.get(TASKS, json={"elements": [{"id": "a", "status": "FAILED", "name": "made with AT-echo-0b3e"}]})
    result, failed = run_module(credentials_task_info, {"hostname": "sddc.example.com", "username": "u",
                                                        "password": "p-0b3e"})
    assert not failed
    assert "AT-echo-0b3e" not in json.dumps(result)


def test_expired_access_token_is_refreshed(run_module, rsps):
    rsps.get(TASKS, status=401, json={"message": "Token expired."})
    rsps.patch(BASE + "/v1/tokens/access-token/refresh", json="AT-new-6d1f")
    rsps.get(TASKS, json={"elements": []})
    result, failed = run_module(credentials_task_info, dict(CONN, refresh_token="RT-6d1f"))
    assert not failed, result
    assert methods(rsps) == ["GET", "PATCH", "GET"]
    assert rsps.calls[1].request.body == '"RT-6d1f"'
    assert "AT-new-6d1f" not in json.dumps(result)


def test_refused_token_without_a_way_to_renew(run_module, rsps):
    rsps.get(TASKS, status=401, json={"message": "Token expired."})
    result, failed = run_module(credentials_task_info, CONN)
    assert failed
    assert "cannot be renewed" in result["msg"]
    assert result["status_code"] == 401


def test_environment_fallbacks(run_module, rsps, monkeypatch):
    monkeypatch.setenv("SDDC_MANAGER_HOST", "sddc-env.example.com")
    monkeypatch.setenv("SDDC_MANAGER_PORT", "8443")
    monkeypatch.setenv("SDDC_MANAGER_USERNAME", "env-admin@local")
    monkeypatch.setenv("SDDC_MANAGER_PASSWORD", "Env-Pa55-8a2b")
    monkeypatch.setenv("SDDC_MANAGER_VALIDATE_CERTS", "false")
    base = "https://sddc-env.example.com:8443"
    rsps.post(base + "/v1/tokens", status=201, json={"accessToken": "AT-env", "refreshToken": {"id": "RT-env"}})
    rsps.get(base + "/v1/credentials/tasks", json={"elements": []})
    result, failed = run_module(credentials_task_info, {})
    assert not failed, result
    assert json.loads(rsps.calls[0].request.body) == {"username": "env-admin@local", "password": "Env-Pa55-8a2b"}
    assert any("validate_certs is false" in w for w in result["warnings"])
    assert "Env-Pa55-8a2b" not in json.dumps(result)


def test_environment_access_token_and_ca_path(run_module, rsps, monkeypatch):
    import certifi

    monkeypatch.setenv("SDDC_MANAGER_HOST", "sddc.example.com")
    monkeypatch.setenv("SDDC_MANAGER_ACCESS_TOKEN", "AT-env-91aa")
    monkeypatch.setenv("SDDC_MANAGER_REFRESH_TOKEN", "RT-env-91aa")
    monkeypatch.setenv("SDDC_MANAGER_CA_PATH", certifi.where())
    rsps.get(TASKS, json={"elements": []})
    result, failed = run_module(credentials_task_info, {})
    assert not failed, result
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer AT-env-91aa"
    assert "warnings" not in result
    text = json.dumps(result)
    assert "AT-env-91aa" not in text and "RT-env-91aa" not in text


def test_environment_ca_path_is_checked(run_module, rsps, monkeypatch):
    monkeypatch.setenv("SDDC_MANAGER_CA_PATH", "/nonexistent/env-ca.pem")
    result, failed = run_module(credentials_task_info, CONN)
    assert failed
    assert "ca_path /nonexistent/env-ca.pem does not exist" in result["msg"]
    assert len(rsps.calls) == 0


def test_arguments_win_over_the_environment(run_module, rsps, monkeypatch):
    monkeypatch.setenv("SDDC_MANAGER_HOST", "other.example.com")
    monkeypatch.setenv("SDDC_MANAGER_ACCESS_TOKEN", "AT-env")
    rsps.get(TASKS, json={"elements": []})
    result, failed = run_module(credentials_task_info, CONN)
    assert not failed
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer AT-info-31c7"


def test_the_list_is_newest_first_whatever_order_the_server_sends(run_module, rsps):
    def at(task_id, created):
        return dict(task(task_id, "FAILED", ("esxi-01.example.com", "ESXI")), creationTimestamp=created)

    rsps.get(TASKS, json={"elements": [
        at("mid", "2026-11-27T10:00:00.000Z"), at("none", None), at("new", "2026-11-27T12:30:00+01:00"),
        at("old", "2026-11-20T10:00:00Z")]})
    result, failed = run_module(credentials_task_info, CONN)
    assert not failed, result
    assert ids(result) == ["new", "mid", "old", "none"]


@pytest.mark.parametrize("name", ["ESXI-02.EXAMPLE.COM", "Esxi-02.example.com", "esxi-02.example.com"])
def test_resource_name_matches_without_case(run_module, listing, name):
    result, failed = run_module(credentials_task_info, dict(CONN, resource_name=name))
    assert not failed, result
    assert ids(result) == ["t-running"]


def test_every_task_carries_its_verdict(run_module, listing):
    result, failed = run_module(credentials_task_info, CONN)
    assert not failed, result
    verdicts = dict((t["id"], (t["verdict"], t["verdict_reason"])) for t in result["tasks"])
    assert verdicts["t-running"] == ("running", None) and verdicts["t-generic"] == ("running", None)
    assert verdicts["t-ok"] == ("succeeded", None) and verdicts["t-nsx"] == ("attention", "failed")
    assert verdicts["t-cancelled"] == ("attention", "cancelled")


def test_the_summary_view_leaves_out_the_sub_tasks_but_keeps_the_failure_report(run_module, rsps, load_fixture):
    rsps.get(TASKS + "/" + TASK_ID, json=load_fixture("credentials_task_failed_rotate"))
    result, failed = run_module(credentials_task_info, dict(CONN, task_id=TASK_ID))
    assert not failed, result
    one = result["tasks"][0]
    assert "sub_tasks" not in one and one["verdict"] == "attention" and one["resources"]
    assert one["failed_subtasks"][0]["error_code"] == "ESXI_PASSWORD_UPDATE_FAILED"
    full = run_module(credentials_task_info, dict(CONN, task_id=TASK_ID, view="full"))[0]["tasks"][0]
    assert len(json.dumps(one)) < len(json.dumps(full)) / 2
