"""The ``subtask_fields`` knob: sub-tasks with every field (9.x) or only what the spec requires of a
``CredentialsSubTask``, so that a client rebuilding a retry from them has to cope without ``entityType``,
``username`` and ``credentialType``."""

import pytest

from sddc_sim import ScenarioError, Simulator

OPTIONAL = ("entityType", "username", "credentialType")


def _subtasks(view):
    """Every sub-task of a task view, dependent ones included."""
    out = []
    stack = list(view.get("subTasks") or [])
    while stack:
        sub = stack.pop()
        out.append(sub)
        stack.extend(sub.get("dependentSubTasks") or [])
    return out


def _failed_vcenter(load, form):
    # A vCenter SSO rotation that failed on a dependent sub-task: sub-tasks at two levels.
    error = {"subtask": 0, "dependent": True, "errorCode": "SERVICE_UPDATE_FAILED", "message": "NSX refused"}
    task = {"id": "sso", "type": "ROTATE", "status": "FAILED", "errors": [error],
            "resources": [{"name": "vc-1.example.com", "type": "VCENTER", "credentials": [
                {"credential_type": "SSO", "username": "administrator@vsphere.local"}]}]}
    return load(tasks=[task], subtask_fields=form)


def test_full_by_default(load):
    client = _failed_vcenter(load, "full")
    view = client.get("/v1/credentials/tasks/sso", client.token()).json()
    subs = _subtasks(view)
    assert len(subs) >= 2 and all(all(key in sub for key in OPTIONAL) for sub in subs)


def test_sparse_leaves_the_optional_fields_out_of_every_read(load):
    client = _failed_vcenter(load, "sparse")
    token = client.token()
    single = client.get("/v1/credentials/tasks/sso", token).json()
    listed = client.get("/v1/credentials/tasks", token).json()["elements"][0]
    for view in (single, listed):
        subs = _subtasks(view)
        assert len(subs) >= 2  # the sub-task and its dependent
        for sub in subs:
            assert not any(key in sub for key in OPTIONAL)
            assert {"name", "description", "creationTimestamp", "status", "resourceName"} <= set(sub)
    # What the task works on is still there to read, and a retry rebuilt from it is accepted.
    resources = client.get("/v1/credentials/tasks/sso/resource-credentials", token).json()
    assert resources[0]["credentials"][0]["username"] == "administrator@vsphere.local"


def test_an_unknown_form_is_refused(certs_dir):
    with pytest.raises(ScenarioError) as info:
        with Simulator({"subtask_fields": "some"}, certs_dir=certs_dir):
            pass
    assert "subtask_fields" in str(info.value) and "full" in str(info.value)
