"""Answer forms: empty write answers, bare-text refresh, stale reads after a retry, a retry under a new id."""

import pytest

from sddc_sim import ScenarioError, SimControlError
from sddc_sim.scenario import load as load_scenario
from sim_helpers import retry_body

TASKS = "/v1/credentials/tasks"


def _task(task_id, **fields):
    task = {"id": task_id, "type": "ROTATE", "status": "FAILED", "run_seconds": 0.2,
            "created": "2026-11-20T10:00:00Z",
            "resources": [{"name": "esxi-1.sim", "type": "ESXI", "credentials": [
                {"credential_type": "SSH", "username": "root", "password": "old-1"}]}]}
    task.update(fields)
    return task


def _retry(client, token, task_id):
    resources = client.get("%s/%s/resource-credentials" % (TASKS, task_id), token).json()
    return client.patch("%s/%s" % (TASKS, task_id), token, retry_body(resources, "ROTATE"))


@pytest.mark.parametrize("status", [200, 202, 204])
def test_empty_answer_runs_the_write_and_drops_the_body(load, status):
    client = load(tasks=[_task("retry-me"), _task("cancel-me")],
                  faults=[{"kind": "empty_answer", "status": status, "match": {"method": ["PATCH", "DELETE"]}}])
    token = client.token()
    retried = _retry(client, token, "retry-me")
    assert retried.status_code == status and retried.content == b""
    assert "Content-Type" not in retried.headers
    assert client.internal("retry-me")["retries"] == 1
    cancelled = client.delete(TASKS + "/cancel-me", token)
    assert cancelled.status_code == status and cancelled.content == b""
    assert client.task("cancel-me", token)["status"] == "USER_CANCELLED"
    counters = client.ctl.counters()
    assert counters["patches_accepted"] == 1 and counters["deletes_accepted"] == 1
    assert counters["faults_injected"] == 2
    assert [e["fault"] for e in client.ctl.log() if e["method"] in ("PATCH", "DELETE")] == ["empty_answer"] * 2


def test_empty_answer_leaves_a_refusal_as_it_is(load):
    client = load(tasks=[_task("ok", status="SUCCESSFUL")],
                  faults=[{"kind": "empty_answer", "status": 204, "match": {"method": "PATCH"}, "count": 1}])
    answer = _retry(client, client.token(), "ok")
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "PASSWORD_MANAGER_TASK_NOT_RETRYABLE"


def test_empty_answer_status_is_checked():
    with pytest.raises(ScenarioError) as caught:
        load_scenario({"faults": [{"kind": "empty_answer", "status": 201}]})
    assert "faults[0].status" in str(caught.value)


@pytest.mark.parametrize("form", ["json", "text"])
def test_refresh_answer_as_json_string_or_bare_text(load, form):
    client = load(tokens={"refresh_answer": form})
    refresh_id = client.login()["refreshToken"]["id"]
    answer = client.call("PATCH", "/v1/tokens/access-token/refresh", json=refresh_id)
    assert answer.status_code == 200
    if form == "json":
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.text.startswith('"')
        token = answer.json()
    else:
        assert answer.headers["Content-Type"] == "text/plain"
        assert not answer.text.startswith('"') and answer.text.count(".") == 2
        token = answer.text
    assert client.get(TASKS, token).status_code == 200


@pytest.mark.parametrize("status", [200, 201])
def test_login_status(load, status):
    client = load(tokens={"login_status": status})
    answer = client.call("POST", "/v1/tokens", json={"username": "administrator@vsphere.local",
                                                     "password": "S3cret!pw"})
    assert answer.status_code == status
    assert client.get(TASKS, answer.json()["accessToken"]).status_code == 200


def test_refresh_answer_is_checked():
    with pytest.raises(ScenarioError) as caught:
        load_scenario({"tokens": {"refresh_answer": "xml"}})
    assert "tokens.refresh_answer" in str(caught.value)


def test_stale_reads_show_the_state_before_the_retry(load):
    client = load(tasks=[_task("t", stale_reads=3, run_seconds=60)])
    token = client.token()
    before = client.task("t", token)
    assert before["status"] == "FAILED"
    answer = _retry(client, token, "t")
    assert answer.status_code == 202 and answer.json()["status"] == "In Progress"
    # Three reads, whichever endpoint, still see the failure; the fourth sees the run.
    assert client.task("t", token) == before
    listed = client.get(TASKS, token).json()["elements"][0]
    assert listed == before
    generic = client.get("/v1/tasks/t", token).json()
    assert generic["status"] == "Failed" and generic["errors"]
    assert client.internal("t")["stale_reads_left"] == 0
    assert client.task("t", token)["status"] == "IN_PROGRESS"


def test_stale_reads_from_the_scenario_and_a_task_override(load):
    client = load(stale_reads=1, tasks=[_task("default", run_seconds=60), _task("none", stale_reads=0,
                                                                                run_seconds=60)])
    token = client.token()
    for task_id in ("default", "none"):
        assert _retry(client, token, task_id).status_code == 202
    assert client.task("default", token)["status"] == "FAILED"
    assert client.task("default", token)["status"] == "IN_PROGRESS"
    assert client.task("none", token)["status"] == "IN_PROGRESS"


def test_stale_task_refuses_a_second_retry(load):
    client = load(tasks=[_task("t", stale_reads=2, run_seconds=60)])
    token = client.token()
    assert _retry(client, token, "t").status_code == 202
    # The read is stale, the task is not: a second retry is refused.
    assert client.task("t", token)["status"] == "FAILED"
    assert _retry(client, token, "t").status_code == 400
    assert client.ctl.counters()["patches_accepted"] == 1


def test_retry_new_id_moves_the_task(load):
    client = load(tasks=[_task("t", retry_new_id=True, run_seconds=60)])
    token = client.token()
    before = client.task("t", token)
    answer = _retry(client, token, "t")
    assert answer.status_code == 202
    new_id = answer.json()["id"]
    assert new_id != "t"
    moved = client.task(new_id, token)
    assert moved["id"] == new_id and moved["status"] == "IN_PROGRESS"
    assert moved["creationTimestamp"] == before["creationTimestamp"]
    assert client.get("/v1/tasks/" + new_id, token).json()["status"] == "In Progress"
    # The old id keeps its failed state for reads ...
    assert client.task("t", token) == before
    assert client.get("/v1/tasks/t", token).json()["status"] == "Failed"
    assert client.get(TASKS + "/t/resource-credentials", token).status_code == 200
    # ... and refuses another retry or a cancel, naming the new id.
    again = _retry(client, token, "t")
    assert again.status_code == 400 and new_id in again.json()["message"]
    assert client.delete(TASKS + "/t", token).status_code == 400
    listed = [t["id"] for t in client.get(TASKS, token).json()["elements"]]
    assert listed == [new_id, "t"]
    internal = client.internal(new_id)
    assert internal["former_ids"] == ["t"] and internal["retries"] == 1
    assert client.internal("t")["superseded_by"] == new_id
    assert client.ctl.counters()["retries_by_task"] == {"t": 1}
    client.ctl.advance(61)
    assert client.task(new_id, client.token())["status"] == "SUCCESSFUL"


def test_retry_new_id_is_seeded(load):
    ids = []
    for _attempt in range(2):
        client = load(tasks=[_task("t", retry_new_id=True)])
        ids.append(_retry(client, client.token(), "t").json()["id"])
    assert ids[0] == ids[1]


@pytest.mark.parametrize("fields,fragment", [
    ({"stale_reads": -1}, "stale_reads"),
    ({"stale_reads": True}, "stale_reads"),
    ({"retry_new_id": "yes"}, "retry_new_id"),
])
def test_bad_answer_options_are_refused(client, fields, fragment):
    with pytest.raises(SimControlError) as caught:
        client.ctl.add_tasks([_task("x", **fields)])
    assert fragment in caught.value.payload["error"]
