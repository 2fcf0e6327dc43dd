"""The server itself: CLI, TLS, keep-alive, chunked bodies and load."""

import concurrent.futures
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time

import pytest
import requests
import yaml

from sddc_sim import Simulator
from sddc_sim.certs import ensure_certs, make_untrusted_ca
from sim_helpers import ADMIN, BASE_SCENARIO, Client

SIM_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_writes_ready_file_serves_and_stops_cleanly(tmp_path, certs_dir, signum):
    scenario = tmp_path / "scenario.yml"
    scenario.write_text(yaml.safe_dump(BASE_SCENARIO))
    ready = tmp_path / "ready.json"
    log_file = tmp_path / "log.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "sddc_sim", "--scenario", str(scenario), "--certs-dir", certs_dir,
         "--ready-file", str(ready), "--log-file", str(log_file)],
        cwd=SIM_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        info = json.loads(first_line)
        assert json.loads(ready.read_text()) == info
        assert set(info) == {"url", "host", "port", "ca_path", "pid"}
        assert info["pid"] == process.pid and info["host"] == "127.0.0.1"
        assert info["url"] == "https://127.0.0.1:%d" % info["port"]
        assert info["ca_path"] == os.path.join(certs_dir, "ca.pem")
        answer = requests.post(info["url"] + "/v1/tokens", verify=info["ca_path"], timeout=10,
                               json={"username": ADMIN["username"], "password": ADMIN["password"]})
        assert answer.status_code == 200
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    assert json.loads(log_file.read_text())["path"] == "/v1/tokens"


def test_cli_refuses_a_bad_scenario(tmp_path, certs_dir):
    scenario = tmp_path / "bad.yml"
    scenario.write_text("seed: 1\nbogus: true\n")
    result = subprocess.run([sys.executable, "-m", "sddc_sim", "--scenario", str(scenario),
                             "--certs-dir", certs_dir], cwd=SIM_ROOT, capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 2
    assert "bogus" in result.stderr


def test_certificates_are_reused(certs_dir):
    first = ensure_certs(certs_dir)
    with open(first.ca_path, "rb") as handle:
        before = handle.read()
    assert ensure_certs(certs_dir) == first
    with open(first.ca_path, "rb") as handle:
        assert handle.read() == before


def test_untrusted_certificate_fails_verification(certs_dir):
    rogue = make_untrusted_ca(certs_dir)
    assert rogue.ca_path != os.path.join(certs_dir, "ca.pem")
    with Simulator(BASE_SCENARIO, certs_dir=certs_dir, untrusted_cert=True) as sim:
        assert sim.ca_path == os.path.join(certs_dir, "ca.pem")
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(sim.url + "/v1/credentials/tasks", verify=sim.ca_path, timeout=10)
        # Trusting the rogue CA instead works, so it is only the CA that differs.
        answer = requests.get(sim.url + "/v1/credentials/tasks", verify=rogue.ca_path, timeout=10)
        assert answer.status_code == 401


def test_keep_alive_reuses_one_connection(simulator, client):
    context = ssl.create_default_context(cafile=simulator.ca_path)
    connection = http.client.HTTPSConnection("127.0.0.1", simulator.port, context=context, timeout=10)
    try:
        body = json.dumps({"username": ADMIN["username"], "password": ADMIN["password"]})
        connection.request("POST", "/v1/tokens", body=body, headers={"Content-Type": "application/json"})
        token = json.loads(connection.getresponse().read())["accessToken"]
        sock = connection.sock
        for _attempt in range(3):
            connection.request("GET", "/v1/credentials/tasks?limit=1", headers={"Authorization": "Bearer " + token})
            answer = connection.getresponse()
            assert answer.status == 200
            answer.read()
            assert connection.sock is sock
    finally:
        connection.close()


def test_chunked_request_bodies_are_read(client):
    def chunks():
        yield b'{"username": "%s", ' % ADMIN["username"].encode()
        yield b'"password": "%s"}' % ADMIN["password"].encode()
    answer = client.call("POST", "/v1/tokens", data=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    assert answer.json()["accessToken"]


def test_200_concurrent_gets_over_20_threads(simulator, client):
    token = client.token()

    def worker(_thread_number):
        session = requests.Session()
        try:
            return [session.get(simulator.url + "/v1/credentials/tasks/rotate-failed", verify=simulator.ca_path,
                                headers={"Authorization": "Bearer " + token}, timeout=30).status_code
                    for _attempt in range(10)]
        finally:
            session.close()

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        statuses = [s for batch in pool.map(worker, range(20)) for s in batch]
    assert statuses == [200] * 200
    assert client.ctl.counters()["by_route"]["GET /v1/credentials/tasks/{id}"] == 200
    assert time.monotonic() - started < 30


def test_hundreds_of_open_connections_are_served(simulator, client):
    """250 keep-alive clients connected at once, each polling twice."""
    token = client.token()
    context = ssl.create_default_context(cafile=simulator.ca_path)
    headers = {"Authorization": "Bearer " + token}
    connections = []
    try:
        for _client in range(250):
            connection = http.client.HTTPSConnection("127.0.0.1", simulator.port, context=context, timeout=30)
            connection.request("GET", "/v1/tasks/rotate-failed", headers=headers)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
            connections.append(connection)
        for connection in connections:
            connection.request("GET", "/v1/tasks/rotate-failed", headers=headers)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
    finally:
        for connection in connections:
            connection.close()
    assert client.ctl.counters()["total"] == 501


def test_a_library_simulator_on_its_own_port(certs_dir):
    with Simulator({"seed": 3, "tasks": [{"generate": {"count": 5}}]}, certs_dir=certs_dir) as sim:
        client = Client(sim)
        page = client.get("/v1/credentials/tasks", client.token(
            {"username": "administrator@vsphere.local", "password": "VMware1!VMware1!"})).json()
        assert page["pageMetadata"]["totalElements"] == 5
    with pytest.raises(requests.ConnectionError):
        requests.get(sim.url + "/_sim/health", verify=sim.ca_path, timeout=2)


def test_unreadable_body_is_400_and_logged(simulator, client):
    context = ssl.create_default_context(cafile=simulator.ca_path)
    connection = http.client.HTTPSConnection("127.0.0.1", simulator.port, context=context, timeout=10)
    try:
        connection.putrequest("POST", "/v1/tokens")
        connection.putheader("Content-Length", "lots")
        connection.endheaders()
        answer = connection.getresponse()
        assert answer.status == 400
        assert answer.getheader("Connection") == "close"
        assert json.loads(answer.read())["errorCode"] == "INVALID_REQUEST"
    finally:
        connection.close()
    assert [(e["path"], e["status"]) for e in client.ctl.log()] == [("/v1/tokens", 400)]
