"""Shared test data and a small HTTPS client for the simulator's own tests."""

import base64
import json

import requests

ADMIN = {"username": "administrator@vsphere.local", "password": "S3cret!pw", "role": "ADMIN"}
VIEWER = {"username": "viewer@vsphere.local", "password": "V1ewer!pw", "role": "VIEWER"}
OPERATOR = {"username": "operator@vsphere.local", "password": "0perator!pw", "role": "OPERATOR"}


def _esxi(name, password):
    return {"name": name, "type": "ESXI",
            "credentials": [{"credential_type": "SSH", "account_type": "USER", "username": "root",
                             "password": password}]}


# Task ids are fixed so tests can name them; statuses cover every CredentialsTask status.
BASE_SCENARIO = {
    "seed": 7,
    "users": [ADMIN, VIEWER, OPERATOR],
    "tasks": [
        {"id": "rotate-failed", "name": "Rotate ESXi root", "type": "ROTATE", "status": "FAILED",
         "created": "2026-11-20T10:00:00Z", "run_seconds": 0.3, "outcomes": ["SUCCESSFUL"],
         "resources": [_esxi("esxi-1.vrack.vsphere.local", "old-esxi-1"),
                       _esxi("esxi-2.vrack.vsphere.local", "old-esxi-2")]},
        {"id": "update-failed", "type": "UPDATE", "status": "FAILED", "created": "2026-11-20T11:00:00Z",
         "run_seconds": 0.3,
         "outcomes": [{"status": "FAILED", "errors": [
             {"subtask": 1, "errorCode": "SSO_PASSWORD_POLICY", "message": "Password does not meet policy",
              "remediationMessage": "Choose a longer password", "referenceToken": "ABC123"}]},
             "SUCCESSFUL"],
         "resources": [{"name": "vcenter-1.vrack.vsphere.local", "type": "VCENTER", "credentials": [
             {"credential_type": "SSH", "account_type": "USER", "username": "root", "password": "old-vc-root"},
             {"credential_type": "SSO", "account_type": "SYSTEM", "username": "administrator@vsphere.local",
              "password": "old-vc-sso", "new_password": "Wanted-SSO-1!"}]}]},
        {"id": "remediate-failed", "type": "REMEDIATE", "status": "FAILED", "created": "2026-11-20T12:00:00Z",
         "run_seconds": 0.3,
         "resources": [{"name": "nsx-1.vrack.vsphere.local", "type": "NSXT_MANAGER", "credentials": [
             {"credential_type": "API", "account_type": "SYSTEM", "username": "admin"}]}]},
        {"id": "policy-failed", "type": "UPDATE_AUTO_ROTATE_POLICY", "status": "FAILED",
         "created": "2026-11-20T13:00:00Z", "run_seconds": 0.3,
         "resources": [_esxi("esxi-3.vrack.vsphere.local", "old-esxi-3")]},
        {"id": "successful", "type": "ROTATE", "status": "SUCCESSFUL", "created": "2026-11-19T10:00:00Z",
         "resources": [_esxi("esxi-4.vrack.vsphere.local", "old-esxi-4")]},
        {"id": "in-progress", "type": "ROTATE", "status": "IN_PROGRESS", "created": "2026-11-19T11:00:00Z",
         "run_seconds": None, "resources": [_esxi("esxi-5.vrack.vsphere.local", "old-esxi-5")]},
        {"id": "pending", "type": "ROTATE", "status": "PENDING", "created": "2026-11-19T12:00:00Z",
         "run_seconds": None, "pending_seconds": 3600,
         "resources": [_esxi("esxi-6.vrack.vsphere.local", "old-esxi-6")]},
        {"id": "cancelled", "type": "ROTATE", "status": "USER_CANCELLED", "created": "2026-11-18T10:00:00Z",
         "resources": [_esxi("esxi-7.vrack.vsphere.local", "old-esxi-7")]},
        {"id": "inconsistent", "type": "ROTATE", "status": "INCONSISTENT", "created": "2026-11-18T11:00:00Z",
         "resources": [_esxi("esxi-8.vrack.vsphere.local", "old-esxi-8")]},
    ],
}


class Client:
    """requests against the simulator, always verifying with its CA.

    ``verify`` goes on every call: a Session's ``verify`` loses to
    REQUESTS_CA_BUNDLE from the environment.
    """

    def __init__(self, sim):
        self.url = sim.url
        self.ca = sim.ca_path
        self.ctl = sim.control()
        self.session = requests.Session()

    def call(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.url + path, headers=headers, verify=self.ca, **kwargs)

    def login(self, user=None):
        user = user or ADMIN
        answer = self.call("POST", "/v1/tokens", json={"username": user["username"], "password": user["password"]})
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def token(self, user=None):
        return self.login(user)["accessToken"]

    def get(self, path, token, **kwargs):
        return self.call("GET", path, token, **kwargs)

    def patch(self, path, token, body, **kwargs):
        return self.call("PATCH", path, token, json=body, **kwargs)

    def delete(self, path, token, **kwargs):
        return self.call("DELETE", path, token, **kwargs)

    def task(self, task_id, token):
        answer = self.get("/v1/credentials/tasks/" + task_id, token)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def internal(self, task_id):
        return next(t for t in self.ctl.tasks() if t["id"] == task_id)


def retry_body(resources, operation, passwords=None):
    """A CredentialsUpdateSpec naming ``resources`` (as resource-credentials lists them).

    ``passwords`` (username -> password) adds a password to every credential.
    """
    elements = []
    for resource in resources:
        credentials = []
        for cred in resource["credentials"]:
            entry = {"credentialType": cred["credentialType"], "username": cred["username"],
                     "accountType": cred["accountType"]}
            if passwords is not None:
                entry["password"] = passwords.get(cred["username"], "N3w-Passw0rd!")
            credentials.append(entry)
        elements.append({"resourceType": resource["resourceType"], "resourceName": resource["resourceName"],
                         "credentials": credentials})
    return {"operationType": operation, "elements": elements}


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
