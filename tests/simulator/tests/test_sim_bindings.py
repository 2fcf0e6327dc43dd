"""Answers of the simulator read through Broadcom's own Python bindings (``vmware-sddc-manager``).

An independent client (FIELD-NOTES): every answer should deserialize into the
bindings' models, and every key the simulator sends should be a field the
model knows.  The package is not a dependency of this repository: without it
these tests are skipped.
"""

import json

import pytest

from sim_helpers import retry_body

model = pytest.importorskip("vmware.sddc_manager.model_client",
                            reason="vmware-sddc-manager (Broadcom's bindings) is not installed")
converter = pytest.importorskip("vmware.vapi.bindings.converter")
cleanjson = pytest.importorskip("vmware.vapi.data.serializers.cleanjson")


def _read(payload, model_class):
    """Deserialize a JSON answer the way the bindings' REST stubs do (SWAGGER_REST mode)."""
    data_value = cleanjson.DataValueConverter.convert_to_data_value(json.dumps(payload))
    return converter.TypeConverter.convert_to_python(data_value, model_class.get_binding_type(),
                                                     rest_converter_mode=converter.RestConverter.SWAGGER_REST)


def _unknown_keys(value, binding_type, path="$"):
    """Keys of ``value`` that the binding type has no field for (the converter keeps them silently)."""
    kind = type(binding_type).__name__
    if value is None:
        return []
    if kind == "OptionalType":
        return _unknown_keys(value, binding_type.element_type, path)
    if kind == "ReferenceType":
        return _unknown_keys(value, binding_type.resolved_type, path)
    if kind == "ListType":
        return [key for index, item in enumerate(value)
                for key in _unknown_keys(item, binding_type.element_type, "%s[%d]" % (path, index))]
    if kind in ("StructType", "ErrorType"):
        fields = set(binding_type.get_field_names())
        unknown = ["%s.%s" % (path, key) for key in value if key not in fields]
        for key in value:
            if key in fields:
                unknown += _unknown_keys(value[key], binding_type.get_field(key), "%s.%s" % (path, key))
        return unknown
    return []


def _check(payload, model_class):
    assert _unknown_keys(payload, model_class.get_binding_type()) == []
    return _read(payload, model_class)


def _esxi(name, password=None):
    credential = {"credential_type": "SSH", "username": "root"}
    if password:
        credential["auto_rotate_days"] = 30
    return {"name": name, "type": "ESXI", "ip": "10.0.0.9", "domains": ["wld-01"], "credentials": [credential]}


def test_credentials_page_and_one_credential(load):
    client = load(resources=[_esxi("esxi-40.example.local", password=True)])
    token = client.token()
    page = client.get("/v1/credentials", token).json()
    read = _check(page, model.PageOfCredential)
    assert read.page_metadata.total_elements == len(page["elements"]) == len(read.elements)
    found = next(c for c in read.elements if c.resource.resource_name == "esxi-40.example.local")
    assert found.resource.domain_names == ["wld-01"] and found.resource.resource_ip == "10.0.0.9"
    assert found.auto_rotate_policy.frequency_in_days == 30 and found.password
    one = client.get("/v1/credentials/" + found.id, token).json()
    assert _check(one, model.Credential).username == "root"


def test_started_operation_task_and_its_errors(load):
    client = load(release="9.1", operations={"rules": [{"match": {"resource": "esxi-7*"}, "outcomes": ["FAILED"]}]})
    token = client.token()
    body = {"operationType": "ROTATE", "elements": [
        {"resourceName": "esxi-7.vrack.vsphere.local", "resourceType": "ESXI",
         "credentials": [{"username": "root", "credentialType": "SSH"}]}]}
    started = client.patch("/v1/credentials", token, body).json()
    task = _check(started, model.Task)
    assert task.status == "In Progress" and task.resources[0].name == "esxi-7.vrack.vsphere.local"
    client.ctl.advance(1)
    view = client.get("/v1/credentials/tasks/" + task.id, token).json()
    read = _check(view, model.CredentialsTask)
    assert read.status == "FAILED" and read.sub_tasks[0].errors[0].notifications[0].severity == "ERROR"
    generic = _check(client.get("/v1/tasks/" + task.id, token).json(), model.Task)
    assert generic.is_retryable is True
    listing = _check(client.get("/v1/credentials/tasks", token).json(), model.PageOfCredentialsTask)
    assert listing.elements[0].id == task.id
    refused = client.patch("/v1/credentials", token, body).json()
    error = _check(refused, model.Error)
    assert error.error_code == "PASSWORD_MANAGER_RESOURCE_LOCKED" and error.context["taskId"] == task.id
    resources = client.get("/v1/credentials/tasks/%s/resource-credentials" % task.id, token).json()
    assert client.patch("/v1/credentials/tasks/" + task.id, token, retry_body(resources, "ROTATE")).status_code == 202
