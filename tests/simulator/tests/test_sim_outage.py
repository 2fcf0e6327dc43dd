"""Outages: refused connections, resets and proxy pages for a while, optionally ending in a restart."""

import copy
import errno
import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from sddc_sim import ScenarioError, SimControl, SimControlError, Simulator
from sim_helpers import ADMIN, BASE_SCENARIO, Client, retry_body

TASKS = "/v1/credentials/tasks"
SIM_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _connect_errno(sim):
    """``None`` if a TCP connection to the API port succeeds, else its errno."""
    try:
        with socket.create_connection((sim.host, sim.port), timeout=2):
            return None
    except OSError as exc:
        return exc.errno


def _wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def own_sim(certs_dir):
    """A simulator of its own (outages close its port) with a control port."""
    with Simulator(copy.deepcopy(BASE_SCENARIO), certs_dir=certs_dir, control_port=0) as sim:
        client = Client(sim)
        yield sim, client
        client.session.close()


def test_refuse_really_stops_listening_and_listens_again_on_the_same_port(own_sim):
    sim, client = own_sim
    port = sim.port
    assert client.ctl.url == sim.control_url != sim.url
    token = client.token()
    status = client.ctl.outage(30, mode="refuse")
    assert status["active"] is True and status["listening"] is False
    assert status["current"]["mode"] == "refuse" and status["outages"] == 1
    assert _connect_errno(sim) == errno.ECONNREFUSED
    with pytest.raises(requests.ConnectionError) as caught:
        client.get(TASKS, token)
    assert "refused" in str(caught.value).lower()
    # The control port stays up: the clock moves, and the outage ends on it.
    assert client.ctl.health()["ok"] is True
    client.ctl.advance(29)
    assert _connect_errno(sim) == errno.ECONNREFUSED
    client.ctl.advance(1)
    assert sim.port == port and sim.listening
    assert _connect_errno(sim) is None
    # No restart: the token issued before still works.
    assert client.get(TASKS, token).status_code == 200
    status = client.ctl.outage_status()
    assert status["active"] is False and status["listening"] is True
    assert status["last"]["mode"] == "refuse" and status["restarts"] == 0


def test_refuse_ends_on_its_own_as_the_clock_runs(own_sim):
    sim, client = own_sim
    sim.begin_outage(0.4, mode="refuse")
    assert _connect_errno(sim) == errno.ECONNREFUSED
    started = time.monotonic()
    assert _wait_for(lambda: _connect_errno(sim) is None)
    assert time.monotonic() - started < 3
    assert client.get(TASKS, client.token()).status_code == 200


def test_refuse_cuts_open_keep_alive_connections(own_sim):
    sim, client = own_sim
    token = client.token()
    assert client.get(TASKS, token).status_code == 200  # the session now holds a kept-alive connection
    sim.begin_outage(30, mode="refuse")
    with pytest.raises(requests.ConnectionError):
        client.get(TASKS, token)
    sim.end_outage()
    assert client.get(TASKS, token).status_code == 200


def test_restart_voids_every_token_issued_before(own_sim):
    sim, client = own_sim
    pair = client.login()
    token, refresh_id = pair["accessToken"], pair["refreshToken"]["id"]
    client.ctl.outage(5, mode="refuse", restart=True)
    client.ctl.advance(5)
    assert _wait_for(lambda: sim.listening)
    answer = client.get(TASKS, token)
    assert answer.status_code == 401 and answer.json()["errorCode"] == "Unauthorized"
    refreshed = client.call("PATCH", "/v1/tokens/access-token/refresh", json=refresh_id)
    assert refreshed.status_code == 404 and refreshed.json()["errorCode"] == "REFRESH_TOKEN_NOT_FOUND"
    assert client.get(TASKS, client.token()).status_code == 200
    counters = client.ctl.counters()
    assert counters["logins"] == 2 and counters["outages"] == 1 and counters["restarts"] == 1


def test_in_process_control_without_a_control_port(certs_dir):
    with Simulator(copy.deepcopy(BASE_SCENARIO), certs_dir=certs_dir) as sim:
        assert sim.control_url is None and sim.control().url == sim.url
        status = sim.begin_outage(60, mode="refuse", restart=True)
        assert status["listening"] is False and status["restarts"] == 1
        assert _connect_errno(sim) == errno.ECONNREFUSED
        with pytest.raises(ScenarioError):
            sim.begin_outage(1)
        sim.advance(61)
        assert sim.listening and _connect_errno(sim) is None
        assert sim.outage_status()["active"] is False
        assert sim.end_outage() is False


def test_stop_during_a_refused_connections_outage(certs_dir):
    sim = Simulator(copy.deepcopy(BASE_SCENARIO), certs_dir=certs_dir).start()
    sim.begin_outage(600, mode="refuse")
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 5
    assert _connect_errno(sim) == errno.ECONNREFUSED


def test_a_scenario_can_start_refusing(certs_dir):
    scenario = copy.deepcopy(BASE_SCENARIO)
    scenario["faults"] = [{"kind": "outage", "trigger": "start", "mode": "refuse", "duration": 60}]
    with Simulator(scenario, certs_dir=certs_dir, control_port=0) as sim:
        assert not sim.listening and _connect_errno(sim) == errno.ECONNREFUSED
        assert sim.control().outage_status()["current"]["source"] == "faults (trigger: start)"
        sim.advance(60)
        assert Client(sim).login()["accessToken"]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_proxy_answers_an_nginx_page_to_every_api_request(client, status):
    token = client.token()
    client.ctl.outage(60, mode="proxy", status=status, retry_after=30)
    for method, path in (("GET", TASKS), ("GET", "/v1/tasks/rotate-failed"), ("POST", "/v1/tokens"),
                         ("PATCH", TASKS + "/rotate-failed"), ("GET", "/v1/unknown")):
        answer = client.call(method, path, token, json={})
        assert answer.status_code == status
        assert answer.headers["Content-Type"] == "text/html"
        assert answer.headers["Retry-After"] == "30"
        assert "<center>nginx</center>" in answer.text and str(status) in answer.text
    # /_sim is never part of an outage.
    counters = client.ctl.counters()
    assert counters["faults_injected"] == 5 and counters["outage_hits"] == 5
    assert counters["patches_rejected"] == 0 and counters["logins"] == 1
    assert client.ctl.outage_status()["current"]["hits"] == 5
    entries = client.ctl.log()[-5:]
    assert [(e["status"], e["fault"]) for e in entries] == [(status, "outage")] * 5
    assert client.internal("rotate-failed")["retries"] == 0
    client.ctl.advance(60)
    assert client.get(TASKS, token).status_code == 200


def test_proxy_without_retry_after_and_ended_early(client):
    token = client.token()
    client.ctl.outage(600)
    answer = client.get(TASKS, token)
    assert answer.status_code == 503 and "Retry-After" not in answer.headers
    assert client.ctl.end_outage()["ended"] is True
    assert client.ctl.end_outage()["ended"] is False
    assert client.get(TASKS, token).status_code == 200


def test_reset_drops_every_api_request(client):
    token = client.token()
    client.ctl.outage(60, mode="reset")
    for _attempt in range(3):
        with pytest.raises(requests.ConnectionError):
            client.get(TASKS, token)
    assert client.ctl.health()["ok"] is True  # /_sim on the same port still answers
    entries = client.ctl.log()[-3:]
    assert [(e["status"], e["fault"]) for e in entries] == [(None, "outage")] * 3
    client.ctl.advance(60)
    assert client.get(TASKS, token).status_code == 200


def test_trigger_write_starts_after_the_first_accepted_write(load):
    client = load(faults=[{"kind": "outage", "trigger": "write", "duration": 30, "status": 502,
                           "restart": True}])
    token = client.token()
    client.patch(TASKS + "/rotate-failed", token, {"operationType": "ROTATE"})  # refused (400): no outage
    assert client.get(TASKS, token).status_code == 200
    resources = client.get(TASKS + "/rotate-failed/resource-credentials", token).json()
    answer = client.patch(TASKS + "/rotate-failed", token, retry_body(resources, "ROTATE"))
    assert answer.status_code == 202 and client.internal("rotate-failed")["retries"] == 1
    assert client.get(TASKS, token).status_code == 502
    status = client.ctl.outage_status()
    assert status["current"]["source"] == "faults (trigger: write)" and status["restarts"] == 1
    assert client.ctl.faults()[0]["fired"] == 1
    client.ctl.advance(30)
    assert client.get(TASKS, token).status_code == 401  # the restart voided it
    assert client.get(TASKS, client.token()).status_code == 200
    # count 1 (the default): the next write starts no outage.
    assert client.delete(TASKS + "/update-failed", client.token()).status_code == 202
    assert client.get(TASKS, client.token()).status_code == 200


def test_trigger_write_in_refuse_mode_answers_the_write_then_closes_the_port(certs_dir):
    scenario = copy.deepcopy(BASE_SCENARIO)
    scenario["faults"] = [{"kind": "outage", "trigger": "write", "duration": 30, "mode": "refuse",
                           "match": {"path": "/v1/credentials/tasks/*"}}]
    with Simulator(scenario, certs_dir=certs_dir, control_port=0) as sim:
        client = Client(sim)
        token = client.token()
        # A token refresh is a PATCH but no write: it starts nothing.
        refresh_id = client.login()["refreshToken"]["id"]
        assert client.call("PATCH", "/v1/tokens/access-token/refresh", json=refresh_id).status_code == 200
        answer = client.delete(TASKS + "/rotate-failed", token)
        assert answer.status_code == 202 and answer.json()["status"] == "Cancelled"
        assert answer.headers["Connection"] == "close"
        assert _connect_errno(sim) == errno.ECONNREFUSED
        client.ctl.advance(30)
        assert client.get(TASKS, token).status_code == 200
        client.session.close()


def test_trigger_request_after_n_matching_requests(load):
    client = load(faults=[{"kind": "outage", "trigger": "request", "after": 2, "duration": 10,
                           "match": {"method": "GET", "path": "/v1/credentials/tasks*"}}])
    token = client.token()
    statuses = [client.get(TASKS, token).status_code for _attempt in range(2)]
    statuses.append(client.get("/v1/tasks/rotate-failed", token).status_code)  # not matching, not counted
    statuses.append(client.get(TASKS, token).status_code)  # the third matching one starts it
    statuses.append(client.get("/v1/tasks/rotate-failed", token).status_code)  # every request meets it
    assert statuses == [200, 200, 200, 503, 503]
    client.ctl.advance(10)
    assert [client.get(TASKS, token).status_code for _attempt in range(3)] == [200, 200, 200]
    described = client.ctl.faults()[0]
    assert described["fired"] == 1 and described["seen"] == 6


def test_trigger_request_in_refuse_mode_resets_the_first_victim(own_sim):
    sim, client = own_sim
    token = client.token()
    client.ctl.set_faults([{"kind": "outage", "trigger": "request", "mode": "refuse", "duration": 10,
                            "match": {"path": "/v1/tasks/*"}}])
    assert client.get(TASKS, token).status_code == 200
    with pytest.raises(requests.ConnectionError):
        client.get("/v1/tasks/rotate-failed", token)
    assert _connect_errno(sim) == errno.ECONNREFUSED
    client.ctl.advance(10)
    assert client.get("/v1/tasks/rotate-failed", token).status_code == 200


def test_trigger_start_and_count(load):
    client = load(faults=[{"kind": "outage", "trigger": "start", "duration": 5, "mode": "proxy", "status": 504}])
    assert client.call("POST", "/v1/tokens", json={"username": "x", "password": "y"}).status_code == 504
    client.ctl.advance(5)
    token = client.token()
    client.ctl.set_faults([{"kind": "outage", "trigger": "request", "duration": 1, "count": 2}])
    assert client.get(TASKS, token).status_code == 503
    client.ctl.advance(1)
    assert client.get(TASKS, token).status_code == 503
    client.ctl.advance(1)
    assert client.get(TASKS, token).status_code == 200
    assert client.ctl.counters()["outages"] == 3  # the one at load, then two
    assert client.ctl.faults()[0]["fired"] == 2


def test_tasks_run_on_through_an_outage(own_sim):
    sim, client = own_sim
    token = client.token()
    for task_id, operation, passwords in (("rotate-failed", "ROTATE", None),
                                          ("update-failed", "UPDATE", {})):
        resources = client.get(TASKS + "/%s/resource-credentials" % task_id, token).json()
        assert client.patch(TASKS + "/" + task_id, token,
                            retry_body(resources, operation, passwords)).status_code == 202
    # update-failed's next outcome is FAILED (its scenario), rotate-failed's SUCCESSFUL.
    sim.begin_outage(120, mode="refuse", restart=True)
    internal = {t["id"]: t for t in client.ctl.tasks()}
    assert internal["rotate-failed"]["running"] and internal["update-failed"]["running"]
    client.ctl.advance(60)
    internal = {t["id"]: t for t in client.ctl.tasks()}
    assert internal["rotate-failed"]["status"] == "SUCCESSFUL"
    assert internal["update-failed"]["status"] == "FAILED"
    client.ctl.advance(60)
    token = client.token()
    assert client.task("rotate-failed", token)["status"] == "SUCCESSFUL"
    failed = client.task("update-failed", token)
    assert failed["status"] == "FAILED" and failed["subTasks"][1]["errors"][0]["errorCode"] == "SSO_PASSWORD_POLICY"


def test_outage_validation():
    from sddc_sim.faults import parse_faults

    with pytest.raises(ScenarioError, match="trigger"):
        parse_faults([{"kind": "outage", "duration": 1}])
    with pytest.raises(ScenarioError, match="duration"):
        parse_faults([{"kind": "outage", "trigger": "start"}])
    with pytest.raises(ScenarioError, match="status"):
        parse_faults([{"kind": "outage", "trigger": "start", "duration": 1, "status": 500}])
    with pytest.raises(ScenarioError, match="only an outage in mode proxy"):
        parse_faults([{"kind": "outage", "trigger": "start", "duration": 1, "mode": "refuse", "status": 503}])
    with pytest.raises(ScenarioError, match="counts no requests"):
        parse_faults([{"kind": "outage", "trigger": "start", "duration": 1, "after": 2}])
    with pytest.raises(ScenarioError, match="probability"):
        parse_faults([{"kind": "outage", "trigger": "request", "duration": 1, "probability": 0.5}])
    rule = parse_faults([{"kind": "outage", "trigger": "write", "duration": 2}])[0]
    assert (rule["mode"], rule["status"], rule["count"], rule["restart"]) == ("proxy", 503, 1, False)


def test_control_endpoint_refusals(client):
    with pytest.raises(SimControlError) as caught:
        client.ctl.outage(0)
    assert caught.value.status == 400 and "duration" in caught.value.payload["error"]
    with pytest.raises(SimControlError):
        client.ctl.outage(5, mode="unplug")
    client.ctl.outage(5)
    with pytest.raises(SimControlError) as caught:
        client.ctl.outage(5)
    assert "already under way" in caught.value.payload["error"]
    # Loading a scenario ends the outage.
    client.ctl.load(copy.deepcopy(BASE_SCENARIO))
    assert client.ctl.outage_status()["active"] is False


def test_control_port_serves_only_control_endpoints(own_sim):
    sim, client = own_sim
    answer = requests.get(sim.control_url + "/v1/credentials/tasks", verify=sim.ca_path, timeout=10)
    assert answer.status_code == 404 and sim.url in answer.json()["error"]
    assert SimControl(sim.url, sim.ca_path).health()["ok"] is True  # the API port still has /_sim too
    assert client.ctl.counters()["total"] == 0


def test_cli_control_port_in_the_ready_file(tmp_path, certs_dir):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(BASE_SCENARIO))
    process = subprocess.Popen(
        [sys.executable, "-m", "sddc_sim", "--scenario", str(scenario), "--certs-dir", certs_dir,
         "--control-port", "0"], cwd=SIM_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(process.stdout.readline())
        assert info["control_url"] == "https://127.0.0.1:%d" % info["control_port"]
        assert info["control_port"] != info["port"]
        ctl = SimControl(info["control_url"], info["ca_path"])
        ctl.outage(30, mode="refuse")
        with pytest.raises(requests.ConnectionError):
            requests.post(info["url"] + "/v1/tokens", verify=info["ca_path"], timeout=5,
                          json={"username": ADMIN["username"], "password": ADMIN["password"]})
        ctl.end_outage()
        answer = requests.post(info["url"] + "/v1/tokens", verify=info["ca_path"], timeout=5,
                               json={"username": ADMIN["username"], "password": ADMIN["password"]})
        assert answer.status_code == 200
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
