"""Accounts (GET /v1/credentials) and starting password operations (PATCH /v1/credentials)."""

import copy
import datetime
import json

import pytest

from sddc_sim import SimControlError, Simulator
from sddc_sim.errors import ScenarioError
from sddc_sim.scenario import parse
from sim_helpers import ADMIN, BASE_SCENARIO, VIEWER, Client, retry_body

CREDENTIALS = "/v1/credentials"
TASKS = "/v1/credentials/tasks"


def cred(username="root", credential_type="SSH", password=None, **extra):
    entry = {"username": username, "credentialType": credential_type}
    if password is not None:
        entry["password"] = password
    entry.update(extra)
    return entry


def element(name, resource_type="ESXI", *credentials):
    return {"resourceName": name, "resourceType": resource_type, "credentials": list(credentials) or [cred()]}


def spec(operation, *elements, **extra):
    body = {"operationType": operation, "elements": list(elements)}
    body.update(extra)
    return body


def esxi(n):
    return "esxi-%d.vrack.vsphere.local" % n


def account(client, name, username="root", credential_type="SSH"):
    return next(a for a in client.ctl.accounts() if a["resource_name"] == name and a["username"] == username
                and a["credential_type"] == credential_type)


def listed(client, token, **query):
    answer = client.get(CREDENTIALS, token, params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()


def start(client, token, body, status=202):
    answer = client.patch(CREDENTIALS, token, body)
    assert answer.status_code == status, answer.text
    return answer.json()


EXTRA_RESOURCES = [
    {"name": "vc-2.example.local", "type": "VCENTER", "ip": "10.0.0.20", "domains": ["wld-01"],
     "credentials": [
         {"credential_type": "SSH", "username": "root", "password": "held-vc2", "real_password": "real-vc2"},
         {"credential_type": "SSO", "account_type": "SYSTEM", "username": "administrator@vsphere.local",
          "password": "held-vc2-sso", "auto_rotate_days": 30}]},
    {"name": "edge-1.example.local", "type": "NSXT_EDGE", "domains": ["wld-01", "mgmt"],
     "credentials": [{"credential_type": "API", "account_type": "SERVICE", "username": "audit"}]},
]


# -- GET /v1/credentials ----------------------------------------------------------

def test_list_is_a_page_of_credentials_with_the_held_passwords(client):
    token = client.token()
    page = listed(client, token)
    # Accounts derived from the scenario's tasks: esxi-1..8, vCenter root and SSO, NSX admin.
    assert page["pageMetadata"] == {"pageNumber": 0, "pageSize": 11, "totalElements": 11, "totalPages": 1}
    by_name = {(e["resource"]["resourceName"], e["username"]): e for e in page["elements"]}
    first = by_name[(esxi(1), "root")]
    assert set(first) == {"id", "credentialType", "accountType", "username", "password", "creationTimestamp",
                          "modificationTimestamp", "resource"}
    assert first["password"] == "old-esxi-1" and first["credentialType"] == "SSH"
    assert first["resource"]["resourceType"] == "ESXI" and first["resource"]["domainNames"] == ["sddc-mgmt-domain"]
    assert first["resource"]["resourceId"] == client.internal("rotate-failed")["resources"][0]["id"]
    # A task loaded SUCCESSFUL has set its new password: that is what SDDC Manager holds now.
    successful = client.internal("successful")["resources"][0]["credentials"][0]["password"]
    assert by_name[(esxi(4), "root")]["password"] == successful != "old-esxi-4"
    # INCONSISTENT: the rotation reached the host, SDDC Manager kept the old password.
    inconsistent = client.internal("inconsistent")
    held = account(client, esxi(8))
    assert held["password"] == "old-esxi-8" == by_name[(esxi(8), "root")]["password"]
    assert held["real_password"] == inconsistent["subtasks"][0]["newPassword"] and held["consistent"] is False


def test_filters_and_pages(load):
    client = load(resources=EXTRA_RESOURCES)
    token = client.token()
    assert listed(client, token)["pageMetadata"]["totalElements"] == 14

    def names(**query):
        return [(e["resource"]["resourceName"], e["username"]) for e in listed(client, token, **query)["elements"]]

    assert names(resourceName="VC-2.Example.Local") == [
        ("vc-2.example.local", "root"), ("vc-2.example.local", "administrator@vsphere.local")]
    assert names(resourceIp="10.0.0.20", accountType="SYSTEM") == [("vc-2.example.local",
                                                                    "administrator@vsphere.local")]
    assert names(resourceType="NSXT_EDGE") == [("edge-1.example.local", "audit")]
    assert names(domainName="MGMT") == [("edge-1.example.local", "audit")]
    assert len(names(domainName="wld-01")) == 3
    assert names(accountType="SERVICE") == [("edge-1.example.local", "audit")]
    assert names(resourceType="HCX_MANAGER") == [] and names(resourceName="nowhere") == []
    second = listed(client, token, pageSize=5, pageNumber=1)
    assert second["pageMetadata"] == {"pageNumber": 1, "pageSize": 5, "totalElements": 14, "totalPages": 3}
    everything = listed(client, token)["elements"]
    assert second["elements"] == everything[5:10]
    assert listed(client, token, pageSize=5, pageNumber=2)["pageMetadata"]["pageSize"] == 4
    assert listed(client, token, pageSize=5, pageNumber=9)["elements"] == []
    assert listed(client, token, pageNumber=1)["elements"] == []  # pageSize 0: all in page 0
    for query in ({"pageSize": "x"}, {"pageNumber": "-1"}):
        answer = client.get(CREDENTIALS, token, params=query)
        assert answer.status_code == 400 and answer.json()["errorCode"] == "INVALID_QUERY_PARAMETER"
        assert answer.json()["arguments"] == list(query)


def test_declared_accounts_hold_two_passwords(load):
    client = load(resources=EXTRA_RESOURCES)
    token = client.token()
    vc_root = listed(client, token, resourceName="vc-2.example.local", accountType="USER")["elements"][0]
    assert vc_root["password"] == "held-vc2" and vc_root["resource"]["resourceIp"] == "10.0.0.20"
    internal = account(client, "vc-2.example.local")
    assert (internal["password"], internal["real_password"], internal["consistent"]) == ("held-vc2", "real-vc2",
                                                                                         False)
    sso = account(client, "vc-2.example.local", "administrator@vsphere.local", "SSO")
    assert sso["real_password"] == sso["password"] == "held-vc2-sso" and sso["consistent"]
    edge = account(client, "edge-1.example.local", "audit", "API")
    assert len(edge["password"]) == 16 and edge["real_password"] == edge["password"]
    policy = listed(client, token, accountType="SYSTEM", resourceName="vc-2.example.local")["elements"][0]
    assert policy["autoRotatePolicy"]["frequencyInDays"] == 30 and policy["autoRotatePolicy"]["nextSchedule"]


def test_a_viewer_lists_accounts_without_passwords(client):
    assert all("password" in e for e in listed(client, client.token(ADMIN))["elements"])
    token = client.token(VIEWER)
    page = listed(client, token)
    assert page["elements"] and all("password" not in e for e in page["elements"])
    one = client.get(CREDENTIALS + "/" + page["elements"][0]["id"], token).json()
    assert "password" not in one


def test_get_one_credential(client):
    token = client.token()
    first = listed(client, token)["elements"][3]
    answer = client.get(CREDENTIALS + "/" + first["id"], token)
    assert answer.status_code == 200 and answer.json() == first
    missing = client.get(CREDENTIALS + "/no-such-id", token)
    assert missing.status_code == 404 and missing.json()["errorCode"] == "CREDENTIAL_NOT_FOUND"
    assert client.get(CREDENTIALS + "/expirations", token).json()["errorCode"] == "NOT_FOUND"
    wrong = client.call("POST", CREDENTIALS, token, json={})
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, PATCH"
    assert client.get(CREDENTIALS, None).status_code == 401
    assert client.ctl.counters()["by_route"]["GET /v1/credentials/{id}"] == 2


# -- PATCH /v1/credentials: starting ---------------------------------------------

def test_rotate_starts_a_credentials_task_that_runs_and_sets_the_password(client):
    token = client.token()
    before = account(client, esxi(4))
    answer = client.patch(CREDENTIALS, token, spec("ROTATE", element(esxi(4))))
    assert answer.status_code == 202
    task = answer.json()
    assert task["status"] == "In Progress" and task["type"] == "CREDENTIALS_ROTATE"
    assert task["name"] == "Password rotation" and task["isRetryable"] is False and "resolutionStatus" not in task
    assert task["resources"][0]["name"] == esxi(4) and task["resources"][0]["type"] == "ESXI"
    listing = client.get(TASKS, token).json()["elements"]
    assert listing[0]["id"] == task["id"] and listing[0]["status"] == "IN_PROGRESS"
    view = client.task(task["id"], token)
    assert view["type"] == "ROTATE" and view["isAutoRotate"] is False
    assert view["subTasks"][0]["oldPassword"] == before["password"]
    assert client.get("/v1/tasks/" + task["id"], token).json()["status"] == "In Progress"
    client.ctl.advance(1)
    done = client.task(task["id"], token)
    assert done["status"] == "SUCCESSFUL" and done["completionTimestamp"]
    new = done["subTasks"][0]["newPassword"]
    after = account(client, esxi(4))
    assert after["password"] == after["real_password"] == new != before["password"]
    shown = listed(client, token, resourceName=esxi(4))["elements"][0]
    assert shown["password"] == new and shown["modificationTimestamp"] != shown["creationTimestamp"]
    counters = client.ctl.counters()
    assert counters["operations_accepted"] == 1 and counters["patches_accepted"] == 0
    assert counters["by_route"]["PATCH /v1/credentials"] == 1


def test_update_needs_a_password_per_credential_and_sets_it(client):
    token = client.token()
    refused = client.patch(CREDENTIALS, token, spec("UPDATE", element(esxi(7))))
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "PASSWORD_MANAGER_PASSWORD_REQUIRED"
    assert refused.json()["arguments"] == ["elements[0].credentials[0].password"]
    task = start(client, token, spec("UPDATE", element(esxi(7), "ESXI", cred(password="Chosen-Esxi7-1!"))))
    assert client.task(task["id"], token)["subTasks"][0]["newPassword"] == "Chosen-Esxi7-1!"
    client.ctl.advance(1)
    assert client.task(task["id"], token)["status"] == "SUCCESSFUL"
    after = account(client, esxi(7))
    assert after["password"] == after["real_password"] == "Chosen-Esxi7-1!"


@pytest.mark.parametrize("body, code, field", [
    ("not json", "PASSWORD_MANAGER_INVALID_REQUEST_BODY", None),
    ({}, "PASSWORD_MANAGER_OPERATION_TYPE_REQUIRED", "operationType"),
    (spec("SPIN", element(esxi(4))), "PASSWORD_MANAGER_OPERATION_TYPE_INVALID", "operationType"),
    ({"operationType": "ROTATE"}, "PASSWORD_MANAGER_ELEMENTS_REQUIRED", "elements"),
    (spec("ROTATE", {"resourceName": esxi(4), "credentials": [cred()]}),
     "PASSWORD_MANAGER_RESOURCE_TYPE_REQUIRED", "elements[0].resourceType"),
    (spec("ROTATE", element(esxi(4), "NSX_EDGE")), "PASSWORD_MANAGER_RESOURCE_TYPE_INVALID",
     "elements[0].resourceType"),
    (spec("ROTATE", {"resourceType": "ESXI", "credentials": [cred()]}), "PASSWORD_MANAGER_RESOURCE_REQUIRED",
     "elements[0].resourceName"),
    (spec("ROTATE", element("esxi-99.vrack.vsphere.local")), "PASSWORD_MANAGER_RESOURCE_NOT_FOUND", "elements[0]"),
    (spec("ROTATE", element(esxi(4), "VCENTER")), "PASSWORD_MANAGER_RESOURCE_TYPE_MISMATCH",
     "elements[0].resourceType"),
    (spec("ROTATE", element(esxi(4), "ESXI", cred("admin", "API"))), "PASSWORD_MANAGER_CREDENTIAL_NOT_FOUND",
     "elements[0].credentials[0]"),
    (spec("ROTATE", element(esxi(4), "ESXI", cred("root", "TELNET"))), "PASSWORD_MANAGER_CREDENTIAL_TYPE_INVALID",
     "elements[0].credentials[0].credentialType"),
    (spec("ROTATE", element(esxi(4), "ESXI", cred(password="x"))), "PASSWORD_MANAGER_PASSWORD_NOT_ALLOWED",
     "elements[0].credentials[0].password"),
    (spec("ROTATE", element(esxi(4), "ESXI", cred(), cred())), "PASSWORD_MANAGER_CREDENTIALS_MISMATCH",
     "elements[0].credentials[1]"),
    (spec("UPDATE_AUTO_ROTATE_POLICY", element(esxi(4))), "PASSWORD_MANAGER_AUTO_ROTATE_POLICY_REQUIRED",
     "autoRotatePolicy"),
    (spec("REMEDIATE", element("vcenter-1.vrack.vsphere.local", "VCENTER", cred(password="a"),
                               cred("administrator@vsphere.local", "SSO", password="b"))),
     "PASSWORD_MANAGER_REMEDIATE_ONE_ACCOUNT", "elements"),
])
def test_a_bad_spec_is_refused_like_a_bad_retry_and_starts_nothing(client, body, code, field):
    token = client.token()
    tasks_before = len(client.ctl.tasks())
    if isinstance(body, str):
        answer = client.call("PATCH", CREDENTIALS, token, data=body, headers={"Content-Type": "application/json"})
    else:
        answer = client.patch(CREDENTIALS, token, body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["errorCode"] == code
    if field is not None:
        assert error["arguments"] == [field]
    assert len(client.ctl.tasks()) == tasks_before
    counters = client.ctl.counters()
    assert counters["operations_rejected"] == 1 and counters["operations_accepted"] == 0


def test_only_an_admin_may_start_an_operation(client):
    answer = client.patch(CREDENTIALS, client.token(VIEWER), spec("ROTATE", element(esxi(4))))
    assert answer.status_code == 403 and answer.json()["errorCode"] == "Forbidden"
    assert "password operations" in answer.json()["message"]
    assert client.patch(CREDENTIALS, None, spec("ROTATE", element(esxi(4)))).status_code == 401


def test_resource_by_id_and_several_resources_in_one_operation(client):
    token = client.token()
    esxi4 = listed(client, token, resourceName=esxi(4))["elements"][0]["resource"]["resourceId"]
    body = spec("ROTATE", {"resourceId": esxi4, "resourceType": "ESXI", "credentials": [cred()]},
                element(esxi(7)))
    task = start(client, token, body)
    view = client.task(task["id"], token)
    assert [s["resourceName"] for s in view["subTasks"]] == [esxi(4), esxi(7)]
    assert [r["resourceId"] for r in task["resources"]][0] == esxi4


# -- locks -------------------------------------------------------------------------

def test_a_running_task_locks_its_resource(client):
    token = client.token()
    refused = client.patch(CREDENTIALS, token, spec("ROTATE", element(esxi(5))))
    assert refused.status_code == 400
    error = refused.json()
    assert error["errorCode"] == "PASSWORD_MANAGER_RESOURCE_LOCKED"
    assert error["arguments"] == ["in-progress", esxi(5)] and "in-progress" in error["message"]
    assert error["context"] == {"taskId": "in-progress", "taskStatus": "IN_PROGRESS", "resourceName": esxi(5)}
    assert error["remediationMessage"]
    # An operation started here locks its resource too, until it ends.
    first = start(client, token, spec("ROTATE", element(esxi(4))))
    second = client.patch(CREDENTIALS, token, spec("UPDATE", element(esxi(4), "ESXI", cred(password="P-1!"))))
    assert second.status_code == 400 and second.json()["arguments"][0] == first["id"]
    client.ctl.advance(1)
    start(client, token, spec("UPDATE", element(esxi(4), "ESXI", cred(password="P-1!"))))


def test_a_failed_task_locks_its_resource_until_retried_or_cancelled(client):
    token = client.token()
    refused = client.patch(CREDENTIALS, token, spec("ROTATE", element(esxi(1))))
    assert refused.status_code == 400 and refused.json()["context"]["taskId"] == "rotate-failed"
    assert "retried or cancelled" in refused.json()["message"]
    # Several resources: the first locked one is named.
    several = client.patch(CREDENTIALS, token, spec("ROTATE", element(esxi(4)), element(esxi(3))))
    assert several.json()["arguments"] == ["policy-failed", esxi(3)]
    assert client.delete(TASKS + "/rotate-failed", token).status_code == 202
    start(client, token, spec("ROTATE", element(esxi(1))))
    # A FAILED task retried successfully unlocks as well.
    resources = client.get(TASKS + "/policy-failed/resource-credentials", token).json()
    retry = retry_body(resources, "UPDATE_AUTO_ROTATE_POLICY")
    retry["autoRotatePolicy"] = {"enableAutoRotatePolicy": False}
    assert client.patch(TASKS + "/policy-failed", token, retry).status_code == 202
    assert client.patch(CREDENTIALS, token, spec("ROTATE", element(esxi(3)))).status_code == 400  # running
    client.ctl.advance(1)
    start(client, token, spec("ROTATE", element(esxi(3))))


def test_an_inconsistent_resource_takes_only_a_remediation_with_the_real_password(client):
    token = client.token()
    refused = client.patch(CREDENTIALS, token, spec("ROTATE", element(esxi(8))))
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "PASSWORD_MANAGER_RESOURCE_INCONSISTENT"
    assert refused.json()["arguments"] == ["inconsistent", esxi(8)]
    real = account(client, esxi(8))["real_password"]

    wrong = start(client, token, spec("REMEDIATE", element(esxi(8), "ESXI", cred(password="old-esxi-8"))))
    assert wrong["type"] == "CREDENTIALS_REMEDIATE"
    client.ctl.advance(1)
    failed = client.task(wrong["id"], token)
    assert failed["status"] == "FAILED"
    error = failed["subTasks"][0]["errors"][0]
    assert error["errorCode"] == "PASSWORD_REMEDIATE_PASSWORD_MISMATCH"
    assert esxi(8) in error["message"] and esxi(8) in error["remediationMessage"]
    assert account(client, esxi(8))["password"] == "old-esxi-8"
    assert account(client, esxi(8))["real_password"] == real
    # The failed remediation now locks the resource: retry it, with the right password.
    locked = client.patch(CREDENTIALS, token, spec("REMEDIATE", element(esxi(8), "ESXI", cred(password=real))))
    assert locked.json()["errorCode"] == "PASSWORD_MANAGER_RESOURCE_LOCKED"
    assert locked.json()["arguments"][0] == wrong["id"]
    resources = client.get(TASKS + "/%s/resource-credentials" % wrong["id"], token).json()
    assert client.patch(TASKS + "/" + wrong["id"], token,
                        retry_body(resources, "REMEDIATE", {"root": real})).status_code == 202
    client.ctl.advance(1)
    assert client.task(wrong["id"], token)["status"] == "SUCCESSFUL"
    repaired = account(client, esxi(8))
    assert repaired["password"] == repaired["real_password"] == real and repaired["consistent"]
    assert listed(client, token, resourceName=esxi(8))["elements"][0]["password"] == real
    assert client.task("inconsistent", token)["status"] == "INCONSISTENT"  # history stays
    start(client, token, spec("ROTATE", element(esxi(8))))


def test_a_cancelled_task_does_not_hide_an_inconsistent_one(load):
    scenario_tasks = copy.deepcopy(BASE_SCENARIO["tasks"]) + [
        {"id": "cancelled-later", "type": "ROTATE", "status": "USER_CANCELLED", "created": "2026-11-21T10:00:00Z",
         "resources": [{"name": esxi(8), "type": "ESXI",
                        "credentials": [{"credential_type": "SSH", "username": "root"}]}]}]
    client = load(tasks=scenario_tasks)
    refused = client.patch(CREDENTIALS, client.token(), spec("UPDATE", element(esxi(8), "ESXI", cred(password="a"))))
    assert refused.json()["errorCode"] == "PASSWORD_MANAGER_RESOURCE_INCONSISTENT"
    assert refused.json()["arguments"][0] == "inconsistent"


def test_remediate_of_a_declared_inconsistent_account(load):
    client = load(resources=EXTRA_RESOURCES)
    token = client.token()
    task = start(client, token, spec("REMEDIATE", element("vc-2.example.local", "VCENTER",
                                                          cred(password="real-vc2"))))
    client.ctl.advance(1)
    assert client.task(task["id"], token)["status"] == "SUCCESSFUL"
    fixed = account(client, "vc-2.example.local")
    assert fixed["password"] == fixed["real_password"] == "real-vc2"


# -- how operations end ------------------------------------------------------------

def test_operation_rules_make_an_operation_fail_on_the_resources_they_name(load):
    client = load(operations={"run_seconds": 2, "rules": [
        {"match": {"resource": "ESXI-7*", "operation": ["ROTATE", "UPDATE"]}, "outcomes": ["FAILED", "SUCCESSFUL"],
         "run_seconds": 4}]})
    token = client.token()
    held4, held7 = account(client, esxi(4))["password"], account(client, esxi(7))["password"]
    unmatched = start(client, token, spec("ROTATE", element(esxi(4))))  # the rule does not name it
    client.ctl.advance(2)
    assert client.task(unmatched["id"], token)["status"] == "SUCCESSFUL"
    held4 = account(client, esxi(4))["password"]
    task = start(client, token, spec("ROTATE", element(esxi(4)), element(esxi(7))))
    client.ctl.advance(2)
    assert client.task(task["id"], token)["status"] == "IN_PROGRESS"  # the rule's run_seconds
    client.ctl.advance(2)
    failed = client.task(task["id"], token)
    assert failed["status"] == "FAILED"
    assert [s["status"] for s in failed["subTasks"]] == ["SUCCESSFUL", "FAILED"]
    assert failed["subTasks"][1]["errors"][0]["errorCode"] == "PASSWORD_ROTATE_FAILED"
    assert account(client, esxi(4))["password"] == failed["subTasks"][0]["newPassword"] != held4
    assert account(client, esxi(7))["password"] == held7
    generic = client.get("/v1/tasks/" + task["id"], token).json()
    assert generic["status"] == "Failed" and generic["isRetryable"] is True
    # Its second run takes the rule's second outcome.
    resources = client.get(TASKS + "/%s/resource-credentials" % task["id"], token).json()
    assert client.patch(TASKS + "/" + task["id"], token, retry_body(resources, "ROTATE")).status_code == 202
    client.ctl.advance(4)
    done = client.task(task["id"], token)
    assert done["status"] == "SUCCESSFUL"
    assert done["subTasks"][1]["oldPassword"] == held7
    assert account(client, esxi(7))["password"] == done["subTasks"][1]["newPassword"]


def test_an_inconsistent_end_sets_only_the_real_password(load):
    client = load(operations={"rules": [{"match": {"resource_type": "ESXI", "username": "ro*"},
                                         "outcomes": ["INCONSISTENT"]}]})
    token = client.token()
    held = account(client, esxi(7))["password"]
    task = start(client, token, spec("UPDATE", element(esxi(7), "ESXI", cred(password="Lost-Pw-1!"))))
    client.ctl.advance(1)
    assert client.task(task["id"], token)["status"] == "INCONSISTENT"
    state = account(client, esxi(7))
    assert state["password"] == held and state["real_password"] == "Lost-Pw-1!"
    refused = client.patch(CREDENTIALS, token, spec("ROTATE", element(esxi(7))))
    assert refused.json()["errorCode"] == "PASSWORD_MANAGER_RESOURCE_INCONSISTENT"
    assert refused.json()["arguments"][0] == task["id"]


def test_operation_rule_errors_and_failing_subtasks(load):
    client = load(operations={"rules": [
        {"match": {"resource": esxi(7)}, "outcomes": [
            {"status": "FAILED", "errors": [{"subtask": 0, "errorCode": "SSH_DISABLED", "message": "SSH is off"},
                                            {"subtask": 5}]}]}]})
    token = client.token()
    task = start(client, token, spec("ROTATE", element(esxi(7))))
    client.ctl.advance(1)
    failed = client.task(task["id"], token)
    assert failed["status"] == "FAILED"
    assert [e["errorCode"] for e in failed["subTasks"][0]["errors"]] == ["SSH_DISABLED"]


def test_auto_rotate_policy_operation(client):
    token = client.token()
    body = spec("UPDATE_AUTO_ROTATE_POLICY", element(esxi(4)),
                autoRotatePolicy={"enableAutoRotatePolicy": True, "frequencyInDays": 30})
    held = account(client, esxi(4))["password"]
    task = start(client, token, body)
    assert "newPassword" not in client.task(task["id"], token)["subTasks"][0]
    client.ctl.advance(1)
    shown = listed(client, token, resourceName=esxi(4))["elements"][0]
    assert shown["autoRotatePolicy"]["frequencyInDays"] == 30 and shown["password"] == held
    schedule = datetime.datetime.fromisoformat(shown["autoRotatePolicy"]["nextSchedule"].replace("Z", "+00:00"))
    modified = datetime.datetime.fromisoformat(shown["modificationTimestamp"].replace("Z", "+00:00"))
    assert schedule - modified == datetime.timedelta(days=30)
    start(client, token, spec("UPDATE_AUTO_ROTATE_POLICY", element(esxi(4)),
                              autoRotatePolicy={"enableAutoRotatePolicy": False}))
    client.ctl.advance(1)
    assert "autoRotatePolicy" not in listed(client, token, resourceName=esxi(4))["elements"][0]


def test_retrying_a_scenario_task_updates_its_accounts(client):
    token = client.token()
    resources = client.get(TASKS + "/rotate-failed/resource-credentials", token).json()
    assert client.patch(TASKS + "/rotate-failed", token, retry_body(resources, "ROTATE")).status_code == 202
    client.ctl.advance(1)
    task = client.task("rotate-failed", token)
    assert task["status"] == "SUCCESSFUL"
    for index, name in enumerate((esxi(1), esxi(2))):
        assert account(client, name)["password"] == task["subTasks"][index]["newPassword"]


# -- releases ----------------------------------------------------------------------

@pytest.mark.parametrize("release, status", [("4.5", 200), ("5.2", 200), ("9.0", 202), ("9.1", 202)])
def test_answer_status_per_release(load, release, status):
    client = load(release=release)
    answer = client.patch(CREDENTIALS, client.token(), spec("ROTATE", element(esxi(4))))
    assert answer.status_code == status and answer.json()["status"] == "In Progress"


def test_release_9_1_queues_a_pending_operation_and_sends_notifications(load):
    client = load(release="9.1", operations={"run_seconds": 10, "pending_seconds": 5})
    token = client.token()
    task = start(client, token, spec("ROTATE", element(esxi(4))))
    assert task["status"] == "Queued"
    refused = client.patch(CREDENTIALS, token, spec("ROTATE", element(esxi(4))))
    notification = refused.json()["notifications"][0]
    assert notification["severity"] == "ERROR" and notification["remediations"][0]["message"]
    assert start(client, token, spec("ROTATE", element(esxi(7))))["status"] == "Queued"
    nine = load(release="9.0", operations={"run_seconds": 10, "pending_seconds": 5})
    assert start(nine, nine.token(), spec("ROTATE", element(esxi(4))))["status"] == "Pending"


def test_release_9_1_accepts_its_own_resource_types(load):
    resources = [{"name": "hcx.example.local", "type": "HCX_MANAGER",
                  "credentials": [{"credential_type": "API", "username": "admin"}]}]
    client = load(release="9.1", resources=resources)
    start(client, client.token(), spec("ROTATE", element("hcx.example.local", "HCX_MANAGER", cred("admin", "API"))))
    nine = load(release="9.0", resources=resources)
    refused = nine.patch(CREDENTIALS, nine.token(), spec("ROTATE", element("hcx.example.local", "HCX_MANAGER",
                                                                           cred("admin", "API"))))
    assert refused.json()["errorCode"] == "PASSWORD_MANAGER_RESOURCE_TYPE_INVALID"


# -- secrets, determinism, control, schema ------------------------------------------

def test_the_log_never_holds_an_account_password(certs_dir, tmp_path):
    log_path = tmp_path / "requests.jsonl"
    scenario = copy.deepcopy(BASE_SCENARIO)
    scenario["resources"] = copy.deepcopy(EXTRA_RESOURCES)
    with Simulator(scenario, certs_dir=certs_dir, log_file=str(log_path)) as sim:
        client = Client(sim)
        token = client.token()
        page = listed(client, token)
        client.get(CREDENTIALS + "/" + page["elements"][0]["id"], token)
        start(client, token, spec("UPDATE", element(esxi(7), "ESXI", cred(password="Update-Secret-1!"))))
        client.patch(CREDENTIALS + "?password=Query-Secret-2!", token,
                     spec("REMEDIATE", element("vc-2.example.local", "VCENTER", cred(password="real-vc2"))))
        secrets = [e["password"] for e in page["elements"]] + ["Update-Secret-1!", "Query-Secret-2!", "real-vc2"]
        secrets += [a["real_password"] for a in client.ctl.accounts()]
        entries = client.ctl.log()
        client.session.close()
    assert len(entries) == 5
    for text in (json.dumps(entries), log_path.read_text()):
        for secret in secrets:
            assert secret not in text


def test_ids_are_seeded_and_operations_leave_later_ids_alone(client):
    token = client.token()
    accounts = [a["id"] for a in client.ctl.accounts()]
    first = start(client, token, spec("ROTATE", element(esxi(4))))["id"]
    added = client.ctl.add_tasks([{"type": "ROTATE", "resources": [
        {"name": "esxi-20.vrack.vsphere.local", "type": "ESXI",
         "credentials": [{"credential_type": "SSH", "username": "root"}]}]}])
    client.ctl.load(copy.deepcopy(BASE_SCENARIO))
    assert [a["id"] for a in client.ctl.accounts()] == accounts
    again = client.ctl.add_tasks([{"type": "ROTATE", "resources": [
        {"name": "esxi-20.vrack.vsphere.local", "type": "ESXI",
         "credentials": [{"credential_type": "SSH", "username": "root"}]}]}])
    assert again == added
    assert start(client, client.token(), spec("ROTATE", element(esxi(4))))["id"] == first


def test_accounts_from_added_tasks_and_the_control_endpoint(client):
    token = client.token()
    client.ctl.add_tasks([{"type": "ROTATE", "status": "SUCCESSFUL", "resources": [
        {"name": esxi(4), "type": "ESXI", "credentials": [
            {"credential_type": "SSH", "username": "root", "password": "ignored"}]},
        {"name": "esxi-30.vrack.vsphere.local", "type": "ESXI",
         "credentials": [{"credential_type": "SSH", "username": "root"}]}]}])
    assert account(client, esxi(4))["password"] != "ignored"  # an account that exists keeps its passwords
    assert listed(client, token, resourceName="esxi-30.vrack.vsphere.local")["pageMetadata"]["totalElements"] == 1
    ids = client.ctl.set_accounts([{"name": esxi(4), "type": "ESXI", "credentials": [
        {"credential_type": "SSH", "username": "root", "password": "held-now", "real_password": "real-now"}]}])
    state = account(client, esxi(4))
    assert ids == [state["id"]] and (state["password"], state["real_password"]) == ("held-now", "real-now")
    with pytest.raises(SimControlError) as caught:
        client.ctl.set_accounts([{"name": "x", "type": "ESXI", "credentials": [{"username": "root"}]}])
    assert "credential_type" in caught.value.payload["error"]


@pytest.mark.parametrize("overrides, message", [
    ({"resources": [{"name": "a", "type": "ESXI", "credentials": [{"credential_type": "SSH", "username": "r"}]},
                    {"name": "A", "type": "ESXI", "credentials": [{"credential_type": "SSH", "username": "r"}]}]},
     "listed twice"),
    ({"resources": [{"name": "a", "type": "ESXI", "credentials": [
        {"credential_type": "SSH", "username": "r", "real_password": 5}]}]}, "real_password"),
    ({"resources": [{"name": "a", "type": "ESXI", "credentials": [
        {"credential_type": "SSH", "username": "r", "auto_rotate_days": 91}]}]}, "auto_rotate_days"),
    ({"resources": [{"name": "a", "type": "ESXI", "ip": "1", "colour": "red", "credentials": []}]}, "colour"),
    ({"operations": {"rules": [{"match": {"operation": "SPIN"}, "outcomes": ["FAILED"]}]}}, "operation"),
    ({"operations": {"rules": [{"match": {}}]}}, "outcomes"),
    ({"operations": {"run_seconds": 1, "pending_seconds": 2}}, "pending_seconds"),
    ({"operations": {"rules": [{"outcomes": [{"status": "FAILED", "failing_subtasks": [-1]}]}]}},
     "failing_subtasks"),
])
def test_scenario_schema_refuses(overrides, message):
    scenario = copy.deepcopy(BASE_SCENARIO)
    scenario.update(overrides)
    with pytest.raises(ScenarioError, match=message):
        parse(scenario)


@pytest.mark.parametrize("release", ["4.5", "5.2", "9.0", "9.1"])
@pytest.mark.parametrize("body", [
    spec("REMEDIATE", element(esxi(4), "ESXI", cred(password="a")),
         element("vcenter-1.vrack.vsphere.local", "VCENTER", cred(password="b"))),
    spec("REMEDIATE", element("vcenter-1.vrack.vsphere.local", "VCENTER", cred(password="a"),
                              cred("administrator@vsphere.local", "SSO", password="b"))),
], ids=["two elements", "two credentials"])
def test_a_remediate_of_more_than_one_account_is_refused_in_every_release(load, release, body):
    # "You can remediate the password for only one account at a time" [doc 4.4/5.0]; the code is a guess.
    client = load(release=release)
    token = client.token()
    answer = client.patch(CREDENTIALS, token, body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["errorCode"] == "PASSWORD_MANAGER_REMEDIATE_ONE_ACCOUNT"
    assert "one account at a time" in error["message"] and error["remediationMessage"]
    assert "a" not in error["arguments"] and "b" not in error["arguments"]
    counters = client.ctl.counters()
    assert counters["operations_rejected"] == 1 and counters["operations_accepted"] == 0
    # the same account alone is not refused for its number
    one = spec("REMEDIATE", body["elements"][0] | {"credentials": body["elements"][0]["credentials"][:1]})
    alone = client.patch(CREDENTIALS, token, one)
    assert alone.status_code in (200, 202) or alone.json()["errorCode"] != "PASSWORD_MANAGER_REMEDIATE_ONE_ACCOUNT"
