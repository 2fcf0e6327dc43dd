"""Retrying (PATCH) and cancelling (DELETE) credentials tasks."""

import copy
import time

import pytest

from sim_helpers import retry_body

RUN = 0.3  # run_seconds of the FAILED tasks in BASE_SCENARIO


def _resources(client, token, task_id):
    return client.get("/v1/credentials/tasks/%s/resource-credentials" % task_id, token).json()


def _wait_terminal(client, token, task_id, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = client.task(task_id, token)
        if task["status"] not in ("PENDING", "IN_PROGRESS"):
            return task
        time.sleep(0.05)
    raise AssertionError("task %s still running" % task_id)


def test_rotate_retry_runs_then_succeeds(client):
    token = client.token()
    answer = client.patch("/v1/credentials/tasks/rotate-failed", token,
                          retry_body(_resources(client, token, "rotate-failed"), "ROTATE"))
    assert answer.status_code == 202
    accepted = answer.json()
    assert accepted["id"] == "rotate-failed"
    assert accepted["status"] == "In Progress"
    running = client.task("rotate-failed", token)
    assert running["status"] == "IN_PROGRESS"
    assert "completionTimestamp" not in running
    assert running["subTasks"][0]["status"] in ("IN_PROGRESS", "SUCCESSFUL")
    task = _wait_terminal(client, token, "rotate-failed")
    assert task["status"] == "SUCCESSFUL"
    assert task["completionTimestamp"].endswith("Z")
    assert all(s["status"] == "SUCCESSFUL" and not s["errors"] for s in task["subTasks"])
    first = task["subTasks"][0]
    assert first["oldPassword"] == "old-esxi-1"
    assert first["newPassword"] and first["newPassword"] != "old-esxi-1"
    # The rotated password is now the resource's password.
    internal = client.internal("rotate-failed")
    assert internal["resources"][0]["credentials"][0]["password"] == first["newPassword"]
    assert internal["retries"] == 1
    assert client.get("/v1/tasks/rotate-failed", token).json()["status"] == "Successful"
    counters = client.ctl.counters()
    assert counters["patches_accepted"] == 1
    assert counters["retries_by_task"] == {"rotate-failed": 1}


def test_outcomes_are_used_in_order_and_the_last_repeats(client):
    token = client.token()
    passwords = {"root": "N3w-Root-Pw!", "administrator@vsphere.local": "N3w-Sso-Pw!"}
    body = retry_body(_resources(client, token, "update-failed"), "UPDATE", passwords)
    assert client.patch("/v1/credentials/tasks/update-failed", token, body).status_code == 202
    task = _wait_terminal(client, token, "update-failed")
    assert task["status"] == "FAILED"
    root, sso = task["subTasks"]
    assert root["status"] == "SUCCESSFUL" and root["newPassword"] == "N3w-Root-Pw!"
    assert sso["status"] == "FAILED"
    assert sso["errors"][0]["errorCode"] == "SSO_PASSWORD_POLICY"
    assert sso["errors"][0]["remediationMessage"] == "Choose a longer password"
    assert sso["errors"][0]["referenceToken"] == "ABC123"
    # The second run uses the second outcome: SUCCESSFUL.
    assert client.patch("/v1/credentials/tasks/update-failed", token, body).status_code == 202
    assert _wait_terminal(client, token, "update-failed")["status"] == "SUCCESSFUL"
    assert client.internal("update-failed")["retries"] == 2
    assert client.ctl.counters()["retries_by_task"] == {"update-failed": 2}


def test_pending_phase_comes_first(load):
    client = load(tasks=[{"id": "slow-start", "type": "ROTATE", "status": "FAILED", "run_seconds": 0.6,
                          "pending_seconds": 0.3, "resources": [{"name": "h1", "type": "ESXI", "credentials": [
                              {"credential_type": "SSH", "username": "root"}]}]}])
    token = client.token()
    answer = client.patch("/v1/credentials/tasks/slow-start", token,
                          retry_body(_resources(client, token, "slow-start"), "ROTATE"))
    assert answer.json()["status"] == "Pending"
    assert client.task("slow-start", token)["subTasks"][0]["status"] == "PENDING"
    time.sleep(0.35)
    assert client.task("slow-start", token)["status"] == "IN_PROGRESS"
    assert _wait_terminal(client, token, "slow-start")["status"] == "SUCCESSFUL"


def test_advancing_the_clock_finishes_a_long_task(load):
    client = load(tasks=[{"id": "long", "type": "ROTATE", "status": "FAILED", "run_seconds": 3600,
                          "resources": [{"name": "h1", "type": "ESXI", "credentials": [
                              {"credential_type": "SSH", "username": "root"}]}]}])
    token = client.token()
    client.patch("/v1/credentials/tasks/long", token, retry_body(_resources(client, token, "long"), "ROTATE"))
    assert client.task("long", token)["status"] == "IN_PROGRESS"
    client.ctl.advance(3600)
    # The advance aged the token too.
    assert client.task("long", client.token())["status"] == "SUCCESSFUL"


@pytest.mark.parametrize("task_id", ["successful", "in-progress", "pending", "cancelled", "inconsistent"])
def test_only_failed_tasks_can_be_retried(client, task_id):
    token = client.token()
    body = retry_body(_resources(client, token, task_id), "ROTATE")
    answer = client.patch("/v1/credentials/tasks/" + task_id, token, body)
    assert answer.status_code == 400
    error = answer.json()
    assert error["errorCode"] == "PASSWORD_MANAGER_TASK_NOT_RETRYABLE"
    assert error["message"] and error["remediationMessage"]
    assert client.ctl.counters()["patches_rejected"] == 1


def test_a_running_retry_cannot_be_retried_again(client):
    token = client.token()
    body = retry_body(_resources(client, token, "rotate-failed"), "ROTATE")
    assert client.patch("/v1/credentials/tasks/rotate-failed", token, body).status_code == 202
    answer = client.patch("/v1/credentials/tasks/rotate-failed", token, body)
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "PASSWORD_MANAGER_TASK_NOT_RETRYABLE"


def test_retry_of_unknown_task_is_404(client):
    token = client.token()
    body = retry_body(_resources(client, token, "rotate-failed"), "ROTATE")
    assert client.patch("/v1/credentials/tasks/nope", token, body).status_code == 404


def _rotate_body(client, token):
    return retry_body(_resources(client, token, "rotate-failed"), "ROTATE")


def _drop(path):
    def mutate(body):
        *parents, last = path
        target = body
        for key in parents:
            target = target[key]
        del target[last]
    return mutate


def _set(path, value):
    def mutate(body):
        *parents, last = path
        target = body
        for key in parents:
            target = target[key]
        target[last] = value
    return mutate


VALIDATION_CASES = [
    ("operation-missing", _drop(["operationType"]), "OPERATION_TYPE_REQUIRED", "operationType"),
    ("operation-unknown", _set(["operationType"], "ROTATE_ALL"), "OPERATION_TYPE_INVALID", "operationType"),
    ("operation-other", _set(["operationType"], "REMEDIATE"), "OPERATION_TYPE_MISMATCH", "operationType"),
    ("elements-missing", _drop(["elements"]), "ELEMENTS_REQUIRED", "elements"),
    ("elements-empty", _set(["elements"], []), "ELEMENTS_REQUIRED", "elements"),
    ("resource-type-missing", _drop(["elements", 0, "resourceType"]), "RESOURCE_TYPE_REQUIRED",
     "elements[0].resourceType"),
    ("resource-type-unknown", _set(["elements", 0, "resourceType"], "TOASTER"), "RESOURCE_TYPE_INVALID",
     "elements[0].resourceType"),
    ("resource-type-wrong", _set(["elements", 0, "resourceType"], "VCENTER"), "CREDENTIALS_MISMATCH",
     "elements[0].resourceType"),
    ("resource-unnamed", _drop(["elements", 0, "resourceName"]), "RESOURCE_REQUIRED",
     "elements[0].resourceName"),
    ("resource-foreign", _set(["elements", 0, "resourceName"], "other.vrack.vsphere.local"),
     "CREDENTIALS_MISMATCH", "elements[0]"),
    ("credentials-missing", _drop(["elements", 0, "credentials"]), "CREDENTIALS_REQUIRED",
     "elements[0].credentials"),
    ("credentials-empty", _set(["elements", 0, "credentials"], []), "CREDENTIALS_REQUIRED",
     "elements[0].credentials"),
    ("username-missing", _drop(["elements", 0, "credentials", 0, "username"]), "USERNAME_REQUIRED",
     "elements[0].credentials[0].username"),
    ("credential-type-missing", _drop(["elements", 0, "credentials", 0, "credentialType"]),
     "CREDENTIAL_TYPE_REQUIRED", "elements[0].credentials[0].credentialType"),
    ("credential-type-unknown", _set(["elements", 0, "credentials", 0, "credentialType"], "RDP"),
     "CREDENTIAL_TYPE_INVALID", "elements[0].credentials[0].credentialType"),
    ("account-type-unknown", _set(["elements", 0, "credentials", 0, "accountType"], "ROBOT"),
     "ACCOUNT_TYPE_INVALID", "elements[0].credentials[0].accountType"),
    ("rotate-with-password", _set(["elements", 0, "credentials", 0, "password"], "x"), "PASSWORD_NOT_ALLOWED",
     "elements[0].credentials[0].password"),
    ("credential-foreign", _set(["elements", 0, "credentials", 0, "username"], "admin"), "CREDENTIALS_MISMATCH",
     "elements"),
    ("credential-left-out", lambda body: body["elements"].pop(), "CREDENTIALS_MISMATCH", "elements"),
    ("credential-repeated", lambda body: body["elements"][0]["credentials"].append(
        copy.deepcopy(body["elements"][0]["credentials"][0])), "CREDENTIALS_MISMATCH",
     "elements[0].credentials[1]"),
]


@pytest.mark.parametrize("mutate,code,field", [c[1:] for c in VALIDATION_CASES],
                         ids=[c[0] for c in VALIDATION_CASES])
def test_rotate_spec_validation(client, mutate, code, field):
    token = client.token()
    body = _rotate_body(client, token)
    mutate(body)
    answer = client.patch("/v1/credentials/tasks/rotate-failed", token, body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["errorCode"] == "PASSWORD_MANAGER_" + code
    assert error["arguments"] == [field]
    assert field.split("[")[0] in error["message"] or field == "elements"
    assert client.internal("rotate-failed")["retries"] == 0


@pytest.mark.parametrize("body", [[1, 2], "text", None], ids=["list", "string", "null"])
def test_body_must_be_an_object(client, body):
    answer = client.patch("/v1/credentials/tasks/rotate-failed", client.token(), body)
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "PASSWORD_MANAGER_INVALID_REQUEST_BODY"


def test_malformed_json_is_400(client):
    answer = client.call("PATCH", "/v1/credentials/tasks/rotate-failed", client.token(), data="{oops",
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "PASSWORD_MANAGER_INVALID_REQUEST_BODY"


def test_retry_by_resource_id_works(client):
    token = client.token()
    body = _rotate_body(client, token)
    resources = _resources(client, token, "rotate-failed")
    for element, resource in zip(body["elements"], resources):
        del element["resourceName"]
        element["resourceId"] = resource["resourceId"]
    assert client.patch("/v1/credentials/tasks/rotate-failed", token, body).status_code == 202


@pytest.mark.parametrize("task_id,operation", [("update-failed", "UPDATE"), ("remediate-failed", "REMEDIATE")])
@pytest.mark.parametrize("password", [None, ""], ids=["absent", "empty"])
def test_update_and_remediate_need_passwords(client, task_id, operation, password):
    token = client.token()
    body = retry_body(_resources(client, token, task_id), operation, {})
    credential = body["elements"][0]["credentials"][0]
    if password is None:
        del credential["password"]
    else:
        credential["password"] = password
    answer = client.patch("/v1/credentials/tasks/" + task_id, token, body)
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "PASSWORD_MANAGER_PASSWORD_REQUIRED"
    assert answer.json()["arguments"] == ["elements[0].credentials[0].password"]


def test_remediate_sets_the_given_password(client):
    token = client.token()
    body = retry_body(_resources(client, token, "remediate-failed"), "REMEDIATE", {"admin": "Set-By-Hand-1!"})
    assert client.patch("/v1/credentials/tasks/remediate-failed", token, body).status_code == 202
    task = _wait_terminal(client, token, "remediate-failed")
    assert task["subTasks"][0]["newPassword"] == "Set-By-Hand-1!"
    assert client.internal("remediate-failed")["resources"][0]["credentials"][0]["password"] == "Set-By-Hand-1!"


@pytest.mark.parametrize("policy,accepted", [
    (None, False),
    ({}, False),
    ({"enableAutoRotatePolicy": "yes"}, False),
    ({"enableAutoRotatePolicy": True}, False),
    ({"enableAutoRotatePolicy": True, "frequencyInDays": 0}, False),
    ({"enableAutoRotatePolicy": True, "frequencyInDays": 91}, False),
    ({"enableAutoRotatePolicy": True, "frequencyInDays": 30.5}, False),
    ({"enableAutoRotatePolicy": True, "frequencyInDays": 1}, True),
    ({"enableAutoRotatePolicy": True, "frequencyInDays": 90}, True),
    ({"enableAutoRotatePolicy": False}, True),
])
def test_auto_rotate_policy_validation(client, policy, accepted):
    token = client.token()
    body = retry_body(_resources(client, token, "policy-failed"), "UPDATE_AUTO_ROTATE_POLICY")
    if policy is not None:
        body["autoRotatePolicy"] = policy
    answer = client.patch("/v1/credentials/tasks/policy-failed", token, body)
    if accepted:
        assert answer.status_code == 202
        assert client.internal("policy-failed")["auto_rotate_policy"]["enableAutoRotatePolicy"] \
            is policy["enableAutoRotatePolicy"]
    else:
        assert answer.status_code == 400
        expected = "REQUIRED" if policy is None else "INVALID"
        assert answer.json()["errorCode"] == "PASSWORD_MANAGER_AUTO_ROTATE_POLICY_" + expected


def test_cancel_a_failed_task(client):
    token = client.token()
    answer = client.delete("/v1/credentials/tasks/rotate-failed", token)
    assert answer.status_code == 202
    assert answer.json()["status"] == "Cancelled"
    task = client.task("rotate-failed", token)
    assert task["status"] == "USER_CANCELLED"
    assert task["completionTimestamp"].endswith("Z")
    assert client.get("/v1/tasks/rotate-failed", token).json()["resolutionStatus"] == "RESOLVED"
    # Cancelled is final: neither retry nor cancel again.
    body = retry_body(_resources(client, token, "rotate-failed"), "ROTATE")
    assert client.patch("/v1/credentials/tasks/rotate-failed", token, body).status_code == 400
    assert client.delete("/v1/credentials/tasks/rotate-failed", token).status_code == 400
    counters = client.ctl.counters()
    assert counters["deletes_accepted"] == 1 and counters["deletes_rejected"] == 1


@pytest.mark.parametrize("task_id", ["successful", "in-progress", "pending", "inconsistent"])
def test_only_failed_tasks_can_be_cancelled(client, task_id):
    answer = client.delete("/v1/credentials/tasks/" + task_id, client.token())
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "PASSWORD_MANAGER_TASK_NOT_CANCELLABLE"


def test_cancel_unknown_task_is_404(client):
    assert client.delete("/v1/credentials/tasks/nope", client.token()).status_code == 404
