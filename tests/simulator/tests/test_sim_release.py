"""``release``: answers, retry bodies, resource types and 9.1's generic words and notifications."""

import pytest

from sddc_sim import ScenarioError
from sddc_sim.scenario import load as load_scenario
from sim_helpers import retry_body

TASKS = "/v1/credentials/tasks"
KB = "https://knowledge.broadcom.com/external/article/000000"


def _task(task_id, resource_type="ESXI", **fields):
    task = {"id": task_id, "type": "ROTATE", "status": "FAILED", "run_seconds": 0.2,
            "resources": [{"name": "host-1.sim", "type": resource_type, "credentials": [
                {"credential_type": "SSH", "username": "root", "password": "old-1"}]}]}
    task.update(fields)
    return task


def _body(client, token, task_id, operation="ROTATE", passwords=None):
    resources = client.get("%s/%s/resource-credentials" % (TASKS, task_id), token).json()
    return retry_body(resources, operation, passwords)


@pytest.mark.parametrize("release,status", [("4.5", 200), ("5.2", 200), ("9.0", 202), ("9.1", 202), (None, 202)])
def test_writes_answer_200_before_9_and_202_after(load, release, status):
    extra = {} if release is None else {"release": release}
    client = load(tasks=[_task("retry-me"), _task("cancel-me")], **extra)
    token = client.token()
    retried = client.patch(TASKS + "/retry-me", token, _body(client, token, "retry-me"))
    assert retried.status_code == status
    assert retried.json()["id"] == "retry-me" and retried.json()["status"] == "In Progress"
    cancelled = client.delete(TASKS + "/cancel-me", token)
    assert cancelled.status_code == status and cancelled.json()["status"] == "Cancelled"


@pytest.mark.parametrize("release", ["4.5", "5.2"])
def test_old_releases_retry_without_a_body(load, release):
    client = load(release=release, tasks=[
        _task("rotate"),
        {"id": "update", "type": "UPDATE", "status": "FAILED", "run_seconds": 0.2,
         "resources": [{"name": "vc.sim", "type": "VCENTER", "credentials": [
             {"credential_type": "SSH", "username": "root", "password": "old", "new_password": "Wanted-1!"}]}]}])
    token = client.token()
    for task_id in ("rotate", "update"):
        answer = client.call("PATCH", "%s/%s" % (TASKS, task_id), token)
        assert answer.status_code == 200, answer.text
    client.ctl.advance(1)
    # An empty body retries with the task's own spec: the password the UPDATE task was set to.
    assert client.task("update", token)["subTasks"][0]["newPassword"] == "Wanted-1!"
    assert client.task("rotate", token)["status"] == "SUCCESSFUL"
    assert client.ctl.counters()["patches_accepted"] == 2
    # A body, when given, is still checked.
    broken = client.patch(TASKS + "/rotate", token, {"operationType": "ROTATE"})
    assert broken.status_code == 400


@pytest.mark.parametrize("release", ["9.0", "9.1"])
def test_9_x_requires_the_retry_body(load, release):
    client = load(release=release, tasks=[_task("rotate")])
    answer = client.call("PATCH", TASKS + "/rotate", client.token())
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "PASSWORD_MANAGER_INVALID_REQUEST_BODY"
    assert client.internal("rotate")["retries"] == 0


@pytest.mark.parametrize("release,resource_type,accepted", [
    ("9.0", "ESXI", True), ("9.0", "VROPS", True), ("9.0", "HCX_MANAGER", False), ("9.0", "NSX_EDGE", False),
    ("9.1", "HCX_MANAGER", True), ("9.1", "VSP", True), ("9.1", "NSX_CONTROLLER", False),
    ("4.5", "NSX_MANAGER", True), ("4.5", "NSX_CONTROLLER", True), ("5.2", "NSX_EDGE", True),
    ("5.2", "VSP", False),
])
def test_retries_accept_the_resource_types_of_the_release(load, release, resource_type, accepted):
    client = load(release=release, tasks=[_task("t", resource_type)])
    token = client.token()
    answer = client.patch(TASKS + "/t", token, _body(client, token, "t"))
    if accepted:
        assert answer.status_code in (200, 202), answer.text
    else:
        assert answer.status_code == 400
        assert answer.json()["errorCode"] == "PASSWORD_MANAGER_RESOURCE_TYPE_INVALID"
        assert answer.json()["arguments"] == ["elements[0].resourceType"]


def test_9_1_says_queued_and_timed_out_in_the_generic_view(load):
    client = load(release="9.1", tasks=[
        _task("pending", status="PENDING", run_seconds=None, pending_seconds=3600),
        _task("timed-out", status="TIMED_OUT")])
    token = client.token()
    assert client.task("pending", token)["status"] == "PENDING"
    assert client.get("/v1/tasks/pending", token).json()["status"] == "Queued"
    assert client.get("/v1/tasks/timed-out", token).json()["status"] == "Timed Out"


def test_a_retry_answer_can_say_queued(load):
    client = load(release="9.1", tasks=[_task("t", run_seconds=10, pending_seconds=5)])
    token = client.token()
    answer = client.patch(TASKS + "/t", token, _body(client, token, "t"))
    assert answer.status_code == 202 and answer.json()["status"] == "Queued"


@pytest.mark.parametrize("release,generic_status,expected", [
    ("9.0", {"case": "upper"}, {"pending": "PENDING", "cancelled": "CANCELLED", "timed-out": "FAILED",
                                "running": "IN_PROGRESS", "done": "SUCCESSFUL", "failed": "FAILED"}),
    ("9.0", {}, {"pending": "Pending", "cancelled": "Cancelled", "timed-out": "Failed",
                 "running": "In Progress", "done": "Successful", "failed": "Failed"}),
    ("9.1", {"case": "upper"}, {"pending": "QUEUED", "cancelled": "CANCELLED", "timed-out": "TIMED_OUT"}),
    ("9.1", {"queued": False}, {"pending": "Pending", "cancelled": "Cancelled", "timed-out": "Timed Out"}),
    ("9.0", {"queued": True}, {"pending": "Queued", "cancelled": "Cancelled", "timed-out": "Failed"}),
])
def test_generic_status_wording(load, release, generic_status, expected):
    client = load(release=release, generic_status=generic_status, tasks=[
        _task("pending", status="PENDING", run_seconds=None, pending_seconds=3600),
        _task("cancelled", status="USER_CANCELLED"),
        _task("timed-out", status="TIMED_OUT"),
        _task("running", status="IN_PROGRESS", run_seconds=None),
        _task("done", status="SUCCESSFUL"),
        _task("failed")])
    token = client.token()
    for task_id, word in expected.items():
        assert client.get("/v1/tasks/" + task_id, token).json()["status"] == word


def _notifications_ok(error):
    (notification,) = error["notifications"]
    assert notification["severity"] == "ERROR"
    assert notification["message"] == error["message"]
    assert notification["impactMessage"]
    assert notification["remediations"] == [{"message": error["remediationMessage"], "link": KB}]


def test_9_1_errors_carry_notifications(load):
    client = load(release="9.1", tasks=[_task("t", errors=[
        {"errorCode": "TASK_LEVEL", "message": "whole task"},
        {"subtask": 0, "errorCode": "SSH_AUTH_FAILED", "message": "ssh said no", "remediationMessage": "fix ssh"},
        {"subtask": 0, "dependent": True, "message": "service restart failed"}])])
    token = client.token()
    task = client.task("t", token)
    _notifications_ok(task["errors"][0])
    subtask = task["subTasks"][0]
    _notifications_ok(subtask["errors"][0])
    assert subtask["errors"][0]["notifications"][0]["remediations"][0]["message"] == "fix ssh"
    _notifications_ok(subtask["dependentSubTasks"][0]["errors"][0])
    assert all("notifications" in e for e in client.get("/v1/tasks/t", token).json()["errors"])
    # API errors carry them too (but not the two-key 401).
    refused = client.patch(TASKS + "/t", token, {"operationType": "ROTATE"})
    assert refused.status_code == 400
    assert refused.json()["notifications"][0]["message"] == refused.json()["message"]
    assert "notifications" not in client.get(TASKS, None).json()


def test_notifications_can_be_given_or_left_empty(load):
    given = [{"severity": "WARNING", "message": "Password expires soon", "impactMessage": "Logins may fail",
              "remediations": [{"message": "Rotate again", "link": "https://example.com/kb/1"}]},
             {"severity": "INFO", "message": "FYI"}]
    client = load(release="9.1", tasks=[_task("t", errors=[
        {"subtask": 0, "message": "one", "notifications": given}]), _task("u", errors=[
            {"subtask": 0, "message": "two", "notifications": []}])])
    token = client.token()
    first = client.task("t", token)["subTasks"][0]["errors"][0]["notifications"]
    assert first == [given[0], {"severity": "INFO", "message": "FYI", "remediations": []}]
    assert client.task("u", token)["subTasks"][0]["errors"][0]["notifications"] == []


@pytest.mark.parametrize("release", ["4.5", "5.2", "9.0"])
def test_other_releases_never_send_notifications(load, release):
    client = load(release=release, tasks=[_task("t")])
    token = client.token()
    assert "notifications" not in client.task("t", token)["subTasks"][0]["errors"][0]
    assert "notifications" not in client.patch(TASKS + "/t", token, {}).json()


@pytest.mark.parametrize("scenario,fragment", [
    ({"release": "9.2"}, "scenario.release"),
    ({"release": "latest"}, "scenario.release"),
    ({"tasks": [_task("t", errors=[{"subtask": 0, "notifications": []}])]}, "only release 9.1"),
    ({"release": "9.1", "tasks": [_task("t", errors=[{"subtask": 0, "notifications": [
        {"severity": "FATAL", "message": "x"}]}])]}, "notifications[0].severity"),
    ({"release": "9.1", "tasks": [_task("t", errors=[{"subtask": 0, "notifications": [
        {"message": "x", "remediations": [{"message": "y"}]}]}])]}, "remediations[0].link: required"),
    ({"generic_status": {"case": "lower"}}, "generic_status.case"),
    ({"tasks": [_task("t", "TOASTER")]}, "resources[0].type"),
])
def test_bad_release_options_are_refused(scenario, fragment):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario)
    assert fragment in str(caught.value)


def test_release_as_a_yaml_number(tmp_path):
    path = tmp_path / "s.yml"
    path.write_text("release: 9.1\n")
    assert load_scenario(str(path)).release == "9.1"
    path.write_text("release: 4.5\n")
    assert load_scenario(str(path)).release == "4.5"
