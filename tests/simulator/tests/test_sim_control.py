"""Counters, the request log, control endpoints and scenario handling."""

import json

import pytest
import yaml

from sddc_sim import ScenarioError, SimControlError, Simulator
from sddc_sim.scenario import load as load_scenario
from sim_helpers import ADMIN, BASE_SCENARIO, Client, retry_body


def test_counters_template_routes_and_count_outcomes(client):
    token = client.token()
    client.call("POST", "/v1/tokens", json={"username": ADMIN["username"], "password": "nope"})
    client.get("/v1/credentials/tasks/rotate-failed", token)
    client.get("/v1/credentials/tasks/update-failed", token)
    client.get("/v1/credentials/tasks/rotate-failed/resource-credentials", token)
    client.get("/v1/tasks/rotate-failed", token)
    client.get("/v1/unknown", token)
    counters = client.ctl.counters()
    assert counters["total"] == 7
    assert counters["by_route"] == {
        "POST /v1/tokens": 2,
        "GET /v1/credentials/tasks/{id}": 2,
        "GET /v1/credentials/tasks/{id}/resource-credentials": 1,
        "GET /v1/tasks/{id}": 1,
        "GET <unmatched>": 1,
    }
    assert counters["by_method"] == {"POST": 2, "GET": 5}
    assert counters["logins"] == 1 and counters["failed_logins"] == 1
    assert counters["faults_injected"] == 0 and counters["retries_by_task"] == {}


def test_reset_clears_counters_and_log_but_keeps_tasks(client):
    token = client.token()
    resources = client.get("/v1/credentials/tasks/rotate-failed/resource-credentials", token).json()
    client.patch("/v1/credentials/tasks/rotate-failed", token, retry_body(resources, "ROTATE"))
    client.ctl.reset()
    assert client.ctl.counters()["total"] == 0
    assert client.ctl.log() == []
    assert client.internal("rotate-failed")["retries"] == 1
    assert client.get("/v1/credentials/tasks", token).status_code == 200  # tokens survive too


def test_log_and_log_file_hold_no_secrets(certs_dir, tmp_path):
    log_path = tmp_path / "requests.jsonl"
    scenario = json.loads(json.dumps(BASE_SCENARIO))
    with Simulator(scenario, certs_dir=certs_dir, log_file=str(log_path)) as sim:
        client = Client(sim)
        pair = client.login()
        token = pair["accessToken"]
        refresh_id = pair["refreshToken"]["id"]
        new_token = client.call("PATCH", "/v1/tokens/access-token/refresh", json=refresh_id).json()
        resources = client.get("/v1/credentials/tasks/update-failed/resource-credentials", token).json()
        body = retry_body(resources, "UPDATE", {"root": "Very-Secret-Root-1!", "administrator@vsphere.local":
                                                "Very-Secret-Sso-1!"})
        assert client.patch("/v1/credentials/tasks/update-failed?password=Query-Secret-1!", token,
                            body).status_code == 202
        client.call("POST", "/v1/tokens", json={"username": ADMIN["username"], "password": "Wrong-Secret-1!"})
        client.call("DELETE", "/v1/tokens/refresh-token", json=refresh_id)
        entries = client.ctl.log()
        internal = client.ctl.tasks()
    secrets = [ADMIN["password"], token, new_token, refresh_id, "Very-Secret-Root-1!", "Very-Secret-Sso-1!",
               "Query-Secret-1!", "Wrong-Secret-1!", "Bearer", "old-vc-root", "Wanted-SSO-1!"]
    secrets += [c["password"] for t in internal for r in t["resources"] for c in r["credentials"]]
    in_memory = json.dumps(entries)
    on_disk = log_path.read_text()
    for secret in secrets:
        assert secret not in in_memory
        assert secret not in on_disk
    assert len(entries) == 6
    assert set(entries[0]) == {"ts", "method", "path", "status", "duration_ms", "fault"}
    assert [json.loads(line) for line in on_disk.splitlines()] == entries
    assert entries[3]["path"] == "/v1/credentials/tasks/update-failed"


def test_internal_task_view_shows_secrets(client):
    task = client.internal("rotate-failed")
    assert task["resources"][0]["credentials"][0]["password"] == "old-esxi-1"
    assert task["status"] == "FAILED" and task["retries"] == 0 and task["next_outcome"] == "SUCCESSFUL"


def test_add_tasks_including_generated_ones(client):
    ids = client.ctl.add_tasks([
        {"id": "added", "type": "ROTATE", "resources": [{"name": "x", "type": "ESXI", "credentials": [
            {"credential_type": "SSH", "username": "root"}]}]},
        {"generate": {"count": 3, "type": "UPDATE", "resource_type": "VCENTER", "status": "SUCCESSFUL"}},
    ])
    assert ids[0] == "added" and len(ids) == 4
    token = client.token()
    listed = client.get("/v1/credentials/tasks", token).json()
    assert listed["pageMetadata"]["totalElements"] == len(BASE_SCENARIO["tasks"]) + 4
    generated = client.task(ids[1], token)
    assert generated["type"] == "UPDATE" and generated["status"] == "SUCCESSFUL"
    assert generated["subTasks"][0]["resourceName"] == "vcenter-0001.sim.vcf.local"
    with pytest.raises(SimControlError) as caught:
        client.ctl.add_tasks([{"id": "added", "type": "ROTATE", "resources": [
            {"name": "x", "type": "ESXI", "credentials": [{"credential_type": "SSH", "username": "root"}]}]}])
    assert "already exist" in caught.value.payload["error"]


def test_loading_a_scenario_replaces_everything(client):
    token = client.token()
    client.ctl.load({"seed": 1, "tasks": [{"generate": {"count": 2}}]})
    assert client.get("/v1/credentials/tasks", token).status_code == 401  # tokens are gone
    pair = client.call("POST", "/v1/tokens", json={"username": "administrator@vsphere.local",
                                                   "password": "VMware1!VMware1!"})
    assert pair.status_code == 200  # the default user
    tasks = client.get("/v1/credentials/tasks", pair.json()["accessToken"]).json()
    assert tasks["pageMetadata"]["totalElements"] == 2
    assert all(t["type"] == "ROTATE" and t["status"] == "FAILED" for t in tasks["elements"])


def test_same_seed_same_ids_and_passwords(client):
    scenario = {"seed": 42, "tasks": [{"generate": {"count": 3}}]}
    client.ctl.load(scenario)
    first = client.ctl.tasks()
    client.ctl.load(scenario)
    second = client.ctl.tasks()
    for a, b in zip(first, second):
        assert a["id"] == b["id"]
        assert a["resources"] == b["resources"]
        assert [s["newPassword"] for s in a["subtasks"]] == [s["newPassword"] for s in b["subtasks"]]
    client.ctl.load({"seed": 43, "tasks": [{"generate": {"count": 3}}]})
    assert client.ctl.tasks()[0]["id"] != first[0]["id"]


@pytest.mark.parametrize("scenario,fragment", [
    ({"sed": 1}, "unknown key"),
    ({"tasks": [{"type": "ROTATE"}]}, "tasks[0].resources: required"),
    ({"tasks": [{"type": "SPIN", "resources": []}]}, "tasks[0].type"),
    ({"users": [{"username": "a", "password": "b", "role": "ROOT"}]}, "users[0].role"),
    ({"not_found_status": 418}, "not_found_status"),
    ({"latency": {"get": -1}}, "latency.get"),
    ({"tasks": [{"type": "ROTATE", "outcomes": [{"status": "FAILED", "errors": [{"subtask": 5}]}],
                 "resources": [{"name": "h", "type": "ESXI", "credentials": [
                     {"credential_type": "SSH", "username": "root"}]}]}]}, "out of range"),
    ({"faults": [{"kind": "http_error", "status": 200}]}, "faults[0].status"),
    ({"tasks": [{"generate": {"count": 0}}]}, "count"),
])
def test_bad_scenarios_are_refused_with_their_location(client, scenario, fragment):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario)
    assert fragment in str(caught.value)
    with pytest.raises(SimControlError) as caught:
        client.ctl.load(scenario)
    assert caught.value.status == 400 and fragment in caught.value.payload["error"]


def test_scenario_files_in_yaml_or_json(tmp_path):
    yaml_path = tmp_path / "s.yml"
    yaml_path.write_text(yaml.safe_dump(BASE_SCENARIO))
    json_path = tmp_path / "s.json"
    json_path.write_text(json.dumps(BASE_SCENARIO))
    assert load_scenario(str(yaml_path)) == load_scenario(str(json_path)) == load_scenario(BASE_SCENARIO)


def test_unknown_control_endpoint(client):
    with pytest.raises(SimControlError) as caught:
        client.ctl._call("GET", "/_sim/nothing")
    assert caught.value.status == 404
