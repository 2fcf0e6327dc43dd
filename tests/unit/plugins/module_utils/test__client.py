"""The client (_client.py): what it is built from, the API paths it calls, and its public face."""

from __future__ import annotations

import pytest
from responses import matchers

from client_helpers import (
    BASE,
    TASK,
    TASK_ID,
    TASKS,
    body_of,
)

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _auth, _client, _errors, _transport
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import (
    SddcManagerClient,
    SddcManagerError,
)


# --- construction -----------------------------------------------------------------------------------

def test_missing_requests_is_a_config_error(monkeypatch):
    monkeypatch.setattr(_client, "HAS_REQUESTS", False)
    with pytest.raises(SddcManagerError) as info:
        SddcManagerClient("h")
    assert info.value.kind == "config"


def test_constructor_secrets_are_registered(secrets, make_client):
    make_client(username="u", password="Pa55", access_token="AT", refresh_token="RT")
    assert secrets == ["Pa55", "AT", "RT"]


# --- API paths --------------------------------------------------------------------------------------

@pytest.mark.parametrize("task_id, segment", [
    ("../../v1/users", "..%2F..%2Fv1%2Fusers"),
    ("a b?c#d", "a%20b%3Fc%23d"),
    ("id/with/slashes", "id%2Fwith%2Fslashes"),
    (12345, "12345"),
])
def test_task_ids_are_one_quoted_path_segment(rsps, make_client, task_id, segment):
    client = make_client(access_token="AT")
    url = TASKS + "/" + segment
    rsps.get(url, json={})
    rsps.get(url + "/resource-credentials", json=[])
    rsps.patch(url, json={})
    rsps.delete(url, json={})
    rsps.get(BASE + "/v1/tasks/" + segment, json={})
    client.get_credentials_task(task_id)
    client.get_resource_credentials(task_id)
    client.retry_credentials_task(task_id, {})
    client.cancel_credentials_task(task_id)
    client.get_task(task_id)
    paths = [c.request.path_url for c in rsps.calls]
    assert paths == ["/v1/credentials/tasks/" + segment, "/v1/credentials/tasks/%s/resource-credentials" % segment,
                     "/v1/credentials/tasks/" + segment, "/v1/credentials/tasks/" + segment, "/v1/tasks/" + segment]


def test_retry_sends_the_spec(rsps, make_client):
    rsps.patch(TASK, status=202, json={"id": TASK_ID, "status": "In Progress"})
    spec = {"operationType": "ROTATE", "elements": [{"resourceType": "ESXI", "credentials": [{"username": "root"}]}]}
    make_client(access_token="AT").retry_credentials_task(TASK_ID, spec)
    assert body_of(rsps.calls[0]) == spec


def test_list_credentials_tasks(rsps, make_client):
    rsps.get(TASKS, json={"elements": [{"id": "a"}, {"id": "b"}], "pageMetadata": {"totalElements": 2}},
             match=[matchers.query_param_matcher({})])
    rsps.get(TASKS, json={"elements": [{"id": "a"}]}, match=[matchers.query_param_matcher({"limit": "1"})])
    client = make_client(access_token="AT")
    assert client.list_credentials_tasks() == [{"id": "a"}, {"id": "b"}]
    assert client.list_credentials_tasks(limit=1) == [{"id": "a"}]


@pytest.mark.parametrize("answer, tasks", [({"elements": []}, []), ({}, []), ([{"id": "a"}], [{"id": "a"}]),
                                           (None, [])])
def test_list_credentials_tasks_shapes(rsps, make_client, answer, tasks):
    if answer is None:
        rsps.get(TASKS, status=204)
    else:
        rsps.get(TASKS, json=answer)
    assert make_client(access_token="AT").list_credentials_tasks() == tasks


def test_resource_credentials_empty_answer(rsps, make_client):
    rsps.get(TASK + "/resource-credentials", status=204)
    assert make_client(access_token="AT").get_resource_credentials(TASK_ID) == []


# --- helpers ----------------------------------------------------------------------------------------

def test_iso_utc():
    from ansible_collections.vcf.sddc_manager.plugins.module_utils._time import iso_utc, timestamp

    assert iso_utc(None) is None
    assert iso_utc(0) == "1970-01-01T00:00:00.000000Z"
    assert iso_utc(1_800_000_000.5) == "2027-01-15T08:00:00.500000Z"
    assert timestamp(iso_utc(1_800_000_000.5)) == 1_800_000_000.5


# --- the public face --------------------------------------------------------------------------------

def test_the_names_callers_import_from_the_client_are_the_ones_defined_elsewhere():
    """Modules, plugins, tests/chaos and tests/integration import these from _client, wherever they live."""
    assert _client.SddcManagerError is _errors.SddcManagerError
    assert _client.AmbiguousWriteError is _errors.AmbiguousWriteError
    assert _client.RetryPolicy is _transport.RetryPolicy
    assert _client.HAS_REQUESTS is _transport.HAS_REQUESTS
    assert _client.REQUESTS_IMPORT_ERROR is _transport.REQUESTS_IMPORT_ERROR
    assert issubclass(_client.SddcManagerClient, (_auth.TokenAuth, _transport.Transport))
    assert _client.SddcManagerClient._new_session is _transport.Transport._new_session
