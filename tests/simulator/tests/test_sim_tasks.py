"""Reading credentials tasks, their resource credentials and the generic Task view."""

import pytest

from sim_helpers import BASE_SCENARIO

TASK_FIELDS = {"id", "name", "type", "status", "creationTimestamp", "isAutoRotate", "errors", "subTasks"}
SUBTASK_FIELDS = {"id", "resourceName", "name", "description", "creationTimestamp", "status", "errors",
                  "entityType", "username", "credentialType", "dependentSubTasks"}
ERROR_FIELDS = {"errorCode", "message", "remediationMessage", "referenceToken", "arguments", "context",
                "causes", "nestedErrors"}


def test_list_is_newest_first_with_page_metadata(client):
    answer = client.get("/v1/credentials/tasks", client.token())
    assert answer.status_code == 200
    page = answer.json()
    ids = [t["id"] for t in page["elements"]]
    by_created = sorted(BASE_SCENARIO["tasks"], key=lambda t: t["created"], reverse=True)
    assert ids == [t["id"] for t in by_created]
    total = len(BASE_SCENARIO["tasks"])
    assert page["pageMetadata"] == {"pageNumber": 0, "pageSize": total, "totalElements": total, "totalPages": 1}


def test_limit_caps_the_list(client):
    page = client.get("/v1/credentials/tasks?limit=2", client.token()).json()
    assert [t["id"] for t in page["elements"]] == ["policy-failed", "remediate-failed"]
    total = len(BASE_SCENARIO["tasks"])
    assert page["pageMetadata"] == {"pageNumber": 0, "pageSize": 2, "totalElements": total,
                                    "totalPages": (total + 1) // 2}


@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
def test_bad_limit_is_400(client, limit):
    answer = client.get("/v1/credentials/tasks?limit=" + limit, client.token())
    assert answer.status_code == 400
    assert answer.json()["arguments"] == ["limit"]


def test_tasks_without_created_are_ordered_by_listing(load):
    tasks = [{"type": "ROTATE", "resources": [{"name": "h%d" % i, "type": "ESXI", "credentials": [
        {"credential_type": "SSH", "username": "root"}]}]} for i in range(3)]
    client = load(tasks=tasks)
    names = [t["subTasks"][0]["resourceName"]
             for t in client.get("/v1/credentials/tasks", client.token()).json()["elements"]]
    assert names == ["h2", "h1", "h0"]


def test_get_task_has_the_spec_shape(client):
    task = client.task("update-failed", client.token())
    assert TASK_FIELDS <= set(task)
    assert task["status"] == "FAILED" and task["type"] == "UPDATE"
    assert task["creationTimestamp"] == "2026-11-20T11:00:00.000Z"
    assert task["completionTimestamp"].endswith("Z")
    assert len(task["subTasks"]) == 2
    for subtask in task["subTasks"]:
        assert SUBTASK_FIELDS <= set(subtask)
        assert subtask["entityType"] == "VCENTER"
    failed = [s for s in task["subTasks"] if s["status"] == "FAILED"]
    assert len(failed) == 1
    assert ERROR_FIELDS <= set(failed[0]["errors"][0])
    assert failed[0]["oldPassword"] == "old-vc-root"


def test_unknown_task_is_404_by_default(client):
    answer = client.get("/v1/credentials/tasks/no-such-task", client.token())
    assert answer.status_code == 404
    assert answer.json()["errorCode"] == "CREDENTIALS_TASK_NOT_FOUND"


def test_not_found_status_can_be_400(load):
    client = load(not_found_status=400)
    token = client.token()
    for path in ("/v1/credentials/tasks/nope", "/v1/credentials/tasks/nope/resource-credentials"):
        answer = client.get(path, token)
        assert answer.status_code == 400
        assert answer.json()["errorCode"] == "CREDENTIALS_TASK_NOT_FOUND"
    # The generic Task endpoint documents 404 and keeps it.
    assert client.get("/v1/tasks/nope", token).status_code == 404


def test_resource_credentials_include_passwords(client):
    token = client.token()
    rotate = client.get("/v1/credentials/tasks/rotate-failed/resource-credentials", token).json()
    assert [r["resourceName"] for r in rotate] == ["esxi-1.vrack.vsphere.local", "esxi-2.vrack.vsphere.local"]
    assert rotate[0]["resourceType"] == "ESXI" and rotate[0]["resourceId"]
    assert rotate[0]["credentials"] == [{"credentialType": "SSH", "accountType": "USER", "username": "root",
                                         "password": "old-esxi-1"}]
    # UPDATE shows the password the task sets.
    update = client.get("/v1/credentials/tasks/update-failed/resource-credentials", token).json()
    sso = [c for c in update[0]["credentials"] if c["credentialType"] == "SSO"][0]
    assert sso["password"] == "Wanted-SSO-1!"


@pytest.mark.parametrize("task_id,credentials_status,generic_status", [
    ("rotate-failed", "FAILED", "Failed"),
    ("successful", "SUCCESSFUL", "Successful"),
    ("in-progress", "IN_PROGRESS", "In Progress"),
    ("pending", "PENDING", "Pending"),
    ("cancelled", "USER_CANCELLED", "Cancelled"),
    ("inconsistent", "INCONSISTENT", "Failed"),
])
def test_generic_task_view_uses_title_case(client, task_id, credentials_status, generic_status):
    token = client.token()
    assert client.task(task_id, token)["status"] == credentials_status
    answer = client.get("/v1/tasks/" + task_id, token)
    assert answer.status_code == 200
    task = answer.json()
    assert task["status"] == generic_status
    assert task["type"] == "CREDENTIALS_ROTATE"
    assert task["isRetryable"] is (credentials_status == "FAILED")
    assert task["isCancellable"] is (credentials_status == "FAILED")
    assert task["resources"][0]["type"] == "ESXI" and task["resources"][0]["fqdn"]
    assert {"name", "description", "status", "creationTimestamp"} <= set(task["subTasks"][0])


def test_generic_view_of_a_failure_gathers_the_errors(client):
    task = client.get("/v1/tasks/rotate-failed", client.token()).json()
    assert task["resolutionStatus"] == "UNRESOLVED"
    assert task["errors"] and task["errors"][0]["errorCode"] == "PASSWORD_ROTATE_FAILED"


def test_unknown_generic_task_is_404(client):
    answer = client.get("/v1/tasks/nope", client.token())
    assert answer.status_code == 404
    assert answer.json()["errorCode"] == "TASK_NOT_FOUND"


def test_unknown_route_is_404_and_wrong_method_405(client):
    token = client.token()
    answer = client.get("/v1/nothing-here", token)
    assert answer.status_code == 404 and answer.json()["errorCode"] == "NOT_FOUND"
    answer = client.call("PUT", "/v1/credentials/tasks/rotate-failed", token, json={})
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "DELETE, GET, PATCH"
    assert client.call("GET", "/v1/tokens").status_code == 405
