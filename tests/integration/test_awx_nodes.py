"""AWX execution nodes: the role streamed to a worker and back, as AWX and Automation Controller run a job there.

On a controller node AWX prepares the job's private data folder and calls ansible-runner's transmit (Python API,
the job's parameters as keyword arguments: the credential's environment in ``envvars``, ``suppress_env_files``);
receptor carries that stream to the execution node, where ``ansible-runner worker --private-data-dir=... --delete``
unpacks it into its own folder and runs the job; the worker's stream (events, status lines, the artifacts folder
at the end) comes back and ``ansible-runner process`` turns it into the controller's artifacts and job events.
Here the three run as one pipeline of processes on this machine, with receptor replaced by pipes, each side with
its own private data folder, and both streams recorded on the way (tee).

ansible-runner keeps one record of the environment it gave the job: its ``command`` record (command line, working
folder, environment), written to ``artifacts/<ident>/command`` on the worker, sent back as the ``starting`` status
line and in the artifacts, and restored to ``artifacts/<ident>/command`` on the controller. The credential's
password is there, because the credential put it into the environment, and it travels in the transmit stream's
``envvars`` (the job's input). The test allows it in those places only, and only as ``SDDC_MANAGER_PASSWORD``;
no other password and no token may appear anywhere.
"""

import base64
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import scenarios
from sddc_sim import Simulator
from test_ecosystem import AWX, TokenSpy, awx_inject

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent
IDENT = "job-42"
# Any part of a JWT (the simulator's access tokens are JWTs): a header or payload segment, whole or cut.
JWT_PART = re.compile(r"eyJ[A-Za-z0-9_-]{8,}")

# AWX's transmit step: ansible_runner.interface.run(streamer='transmit', ...) with the job's parameters. They come
# in on stdin, so that the password is on no command line and in no file of this test.
TRANSMIT = (
    "import json, sys\n"
    "import ansible_runner\n"
    "params = json.load(sys.stdin)\n"
    "ansible_runner.interface.run(streamer='transmit', _output=sys.stdout.buffer, **params)\n"
)


def decode_stream(data):
    """The records of an ansible-runner stream: ``(json_line, None)`` or ``(zip_header, {name: bytes})``."""
    records, pos = [], 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        record = json.loads(data[pos:end])
        pos = end + 1
        if "zipfile" in record:
            encoded = 4 * math.ceil(record["zipfile"] / 3)
            with zipfile.ZipFile(io.BytesIO(base64.b64decode(data[pos:pos + encoded]))) as archive:
                files = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
            pos += encoded
            records.append((record, files))
        else:
            records.append((record, None))
    return records


class SecretSearch:
    """Finds the secrets of this job, whole or in part, in text, files and stream records."""

    def __init__(self, password, secrets, run_marker, ca_file):
        self.password = password
        self.ca_file = ca_file
        self.secrets = sorted(secrets)
        self.run_marker = run_marker  # in every planted value: catches a part of one, too
        self.searched = []

    def hits(self, where, data):
        self.searched.append(where)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        found = [s[:14] + "..." for s in self.secrets if s in text or json.dumps(s)[1:-1] in text]
        if self.run_marker in text or "PLANTED-" in text:
            found.append("a planted value (marker %s)" % self.run_marker)
        found += ["a JWT part " + m[:12] + "..." for m in JWT_PART.findall(text)]
        return [(where, f) for f in found]

    def command_record(self, where, record):
        """ansible-runner's record of the job's command: the password only as SDDC_MANAGER_PASSWORD of env."""
        record = json.loads(json.dumps(record))
        assert set(record) >= {"command", "cwd", "env"}, (where, sorted(record))
        assert record["env"].get("SDDC_MANAGER_PASSWORD") == self.password, where
        del record["env"]["SDDC_MANAGER_PASSWORD"]
        return self.hits(where + " (without env.SDDC_MANAGER_PASSWORD)", json.dumps(record))

    def folder(self, label, root):
        """Every file below root; the command record by its rule."""
        found = []
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            if rel == "artifacts/%s/command" % IDENT:
                found += self.command_record("%s:%s" % (label, rel), json.loads(path.read_text()))
            else:
                found += self.hits("%s:%s" % (label, rel), path.read_bytes())
        return found


def job_folders(tmp_path, target, ca_certs, host=None, port=None):
    """The controller's private data folder (the AWX project, the credential's CA file in env/) and the worker's
    folder-to-be, with the credential's environment as the job on the worker sees it."""
    controller, worker = tmp_path / "controller", tmp_path / "worker"
    shutil.copytree(AWX / "project", controller / "project")
    (controller / "inventory").mkdir()
    credential = awx_inject({"host": host or target.hostname, "port": port or str(target.port),
                             "username": target.username, "password": target.password,
                             "ca_cert": "".join(Path(p).read_text() for p in ca_certs)}, controller)
    # AWX gives a job its files by their path inside the job's folder as the job sees it (/runner/... in the
    # execution environment); the job here sees the worker's folder.
    ca_file = Path(credential["SDDC_MANAGER_CA_PATH"])
    assert ca_file.parent == controller / "env"
    credential["SDDC_MANAGER_CA_PATH"] = str(worker / "env" / ca_file.name)
    # The job's own environment is the credential's, nothing more.
    assert set(credential) == {"SDDC_MANAGER_HOST", "SDDC_MANAGER_PORT", "SDDC_MANAGER_USERNAME",
                               "SDDC_MANAGER_PASSWORD", "SDDC_MANAGER_CA_PATH", "SDDC_MANAGER_VALIDATE_CERTS"}
    return controller, worker, credential


def job_params(controller, worker, playbook, credential, **extra):
    """The job's parameters, as AWX hands them to transmit: the credential only in envvars."""
    extravars = {"retry_credentials_tasks_discover": True, "retry_credentials_tasks_wait_sleep": 1,
                 "retry_credentials_tasks_progress_interval": 2,
                 # into the job's artifacts folder as the job sees it on the worker: it comes back with them
                 "retry_credentials_tasks_report_path": str(worker / "artifacts" / IDENT / "report")}
    connection_words = ("hostname", "host", "port", "username", "password", "ca_path", "validate_certs")
    assert not [k for k in extravars if k.rsplit("_", 1)[-1] in connection_words or "password" in k]
    params = {"private_data_dir": str(controller), "ident": IDENT, "playbook": playbook, "envvars": credential,
              "suppress_env_files": True, "verbosity": 3, "timeout": 240, "extravars": extravars}
    params.update(extra)
    return params


class NodeRun:
    """One job through ``transmit | worker | process``: exit codes, both recorded streams, each process's output."""

    def __init__(self, tmp_path, worker, params, job_rc=0):
        # Each side's process environment: no connection setting and no Ansible setting of this test run. The
        # execution node holds ansible-core and the collection, as its execution environment would.
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SDDC_MANAGER_", "ANSIBLE_", "REQUESTS_", "SSL_CERT_")) and k != "PYTHONPATH"}
        controller_env = dict(base, PATH="%s:%s" % (BIN, base.get("PATH", "")))
        node_env = dict(controller_env, ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "pyroot"),
                        ANSIBLE_HOME=str(tmp_path / "node-ansible-home"),
                        ANSIBLE_LOCAL_TEMP=str(tmp_path / "node-tmp"))
        controller = params["private_data_dir"]
        transmit_stream, worker_stream = tmp_path / "transmit.stream", tmp_path / "worker.stream"
        logs = {name: open(tmp_path / ("%s.stderr" % name), "wb") for name in ("transmit", "worker", "process")}
        try:
            transmit = subprocess.Popen([sys.executable, "-c", TRANSMIT], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=logs["transmit"], env=controller_env,
                                        cwd=str(tmp_path))
            tee1 = subprocess.Popen(["tee", str(transmit_stream)], stdin=transmit.stdout, stdout=subprocess.PIPE)
            # Without --delete, which AWX adds on execution nodes (AWX_CLEANUP_PATHS): the worker's folder is searched.
            node = subprocess.Popen([str(BIN / "ansible-runner"), "worker", "--private-data-dir", str(worker)],
                                    stdin=tee1.stdout, stdout=subprocess.PIPE, stderr=logs["worker"], env=node_env,
                                    cwd=str(tmp_path))
            tee2 = subprocess.Popen(["tee", str(worker_stream)], stdin=node.stdout, stdout=subprocess.PIPE)
            process = subprocess.Popen([str(BIN / "ansible-runner"), "process", controller, "--ident", IDENT],
                                       stdin=tee2.stdout, stdout=subprocess.PIPE, stderr=logs["process"],
                                       env=controller_env, cwd=str(tmp_path))
            for pipe in (transmit.stdout, tee1.stdout, node.stdout, tee2.stdout):
                pipe.close()  # each belongs to the next process now
            transmit.stdin.write(json.dumps(params).encode())
            transmit.stdin.close()
            self.process_out = process.communicate(timeout=300)[0]
            self.codes = {name: p.wait(timeout=60) for name, p in (("transmit", transmit), ("tee1", tee1),
                                                                   ("worker", node), ("tee2", tee2),
                                                                   ("process", process))}
        finally:
            for log in logs.values():
                log.close()
        self.stderr = {name: (tmp_path / ("%s.stderr" % name)).read_text() for name in logs}
        self.transmit = decode_stream(transmit_stream.read_bytes())
        self.sent = decode_stream(worker_stream.read_bytes())
        self.job = Path(controller) / "artifacts" / IDENT
        # ansible-runner worker exits with the job's exit code; the others succeed whatever the job did.
        expected = {"transmit": 0, "tee1": 0, "worker": job_rc, "tee2": 0, "process": 0}
        assert self.codes == expected, (self.codes, self.stderr)

    def events(self, final_status):
        """Checks that every event came back to the controller, and returns them in order."""
        sent = self.sent
        events = [r for r, files in sent if files is None and "event" in r and r["event"] != "keepalive"]
        statuses = [r["status"] for r, files in sent if files is None and "status" in r]
        assert statuses == ["starting", "running", final_status], statuses
        assert sent[-1][0] == {"eof": True}
        assert [e["counter"] for e in events] == list(range(1, len(events) + 1)), "events lost or reordered"
        assert len({e["uuid"] for e in events}) == len(events)
        kinds = [e["event"] for e in events if e["event"] != "verbose"]  # at -vvv, ansible-playbook's preamble first
        assert kinds[0] == "playbook_on_start" and events[-1]["event"] == "playbook_on_stats", kinds
        received = {}
        for path in (self.job / "job_events").glob("*.json"):
            event = json.loads(path.read_text())
            assert path.name == "%s-%s.json" % (event["counter"], event["uuid"])
            received[event["uuid"]] = event
        assert sorted(received) == sorted(e["uuid"] for e in events), "the controller's job events differ"
        assert all(received[e["uuid"]] == e for e in events)
        # The job's output, line by line, is the events' output: nothing printed outside an event.
        out_lines = [line.rstrip("\r") for line in (self.job / "stdout").read_text().splitlines()]
        event_lines = [line.rstrip("\r") for e in events if e.get("stdout") for line in e["stdout"].splitlines()]
        assert out_lines == event_lines
        print("events streamed back: %d (%s ... %s); statuses %s" % (len(events), kinds[0], events[-1]["event"],
                                                                     statuses))
        return events

    def secret_hits(self, search, controller, worker):
        """Every secret outside the command record and the transmit stream's envvars.SDDC_MANAGER_PASSWORD."""
        hits = []
        for record, files in self.transmit:
            if files is not None:
                hits += [h for name, data in files.items() for h in search.hits("transmit stream: zip " + name, data)]
            elif "kwargs" in record:
                # The job's input: AWX hands the credential's environment to the worker in the transmit stream.
                kwargs = json.loads(json.dumps(record["kwargs"]))
                assert kwargs["envvars"].pop("SDDC_MANAGER_PASSWORD") == search.password
                hits += search.hits("transmit stream: kwargs (without envvars.SDDC_MANAGER_PASSWORD)",
                                    json.dumps(kwargs))
            else:
                hits += search.hits("transmit stream: %s" % sorted(record), json.dumps(record))
        for record, files in self.sent:
            if files is not None:
                for name, data in files.items():
                    where = "worker stream: zip " + name
                    hits += (search.command_record(where, json.loads(data)) if name == "command"
                             else search.hits(where, data))
            elif record.get("status") == "starting":
                hits += search.command_record("worker stream: status starting", record)
            else:
                hits += search.hits("worker stream: %s" % record.get("event", sorted(record)), json.dumps(record))
        hits += search.hits("ansible-runner process: stdout", self.process_out)
        for name, text in self.stderr.items():
            hits += search.hits("ansible-runner %s: stderr" % name, text)
        hits += search.folder("controller", controller)
        hits += search.folder("worker", worker)
        # The command record is on both sides (it is where the password is), and nothing else holds the
        # environment: no env/envvars, env/extravars or env/passwords (suppress_env_files, as AWX sets it).
        for side in (controller, worker):
            assert json.loads((side / "artifacts" / IDENT / "command").read_text())["env"]["SDDC_MANAGER_HOST"]
            assert [p.name for p in (side / "env").iterdir()] == [Path(search.ca_file).name]
        print("secrets searched: %d values (+ the planted marker and any JWT part) in %d places: both streams, the "
              "three processes' output, %d files of the controller's folder, %d of the worker's"
              % (len(search.secrets), len(search.searched), sum(1 for p in controller.rglob("*") if p.is_file()),
                 sum(1 for p in worker.rglob("*") if p.is_file())))
        return hits


def planted_in(tasks):
    return {c["password"] for t in tasks for r in t["resources"] for c in r["credentials"]}


def test_role_runs_on_an_execution_node_through_transmit_worker_process(tmp_path, target, simulator):
    """The project of the AWX guide on localhost, the connection from the credential's environment only."""
    target.need_sim()
    tasks = scenarios.failed_rotate_tasks(3, prefix="node")
    target.load(scenarios.base(tasks=tasks))
    spy = TokenSpy(simulator)
    controller, worker, credential = job_folders(tmp_path, target, [target.ca_path])
    (controller / "inventory" / "hosts").write_text("localhost\n")

    run = NodeRun(tmp_path, worker, job_params(controller, worker, "retry_credentials.yml", credential))

    # The job succeeded, on the simulator.
    assert (run.job / "status").read_text() == "successful", (run.job / "stdout").read_text()[-4000:]
    assert (run.job / "rc").read_text() == "0"
    counters = target.counters()
    assert counters["logins"] == 1 and counters["revocations"] == 1
    assert counters["retries_by_task"] == {"node-000": 1, "node-001": 1, "node-002": 1}
    summary = json.loads((run.job / "report" / "credentials-tasks-localhost.json").read_text())
    assert sorted(summary["succeeded"]) == ["node-000", "node-001", "node-002"] and summary["problems"] == []
    assert spy.values, "the simulator issued no token: the spy saw nothing"
    # The CA file reached the worker through the stream, where the job was told to find it.
    assert Path(credential["SDDC_MANAGER_CA_PATH"]).read_text() == Path(target.ca_path).read_text()

    events = run.events("successful")
    stats = events[-1]["event_data"]
    assert stats["ok"].get("localhost") and not stats["failures"] and not stats["dark"], stats
    assert [e for e in events if e["event"] == "runner_on_ok"
            and e["event_data"].get("task_action", "").endswith("credentials_task_bulk_retry")]

    secrets = scenarios.all_planted() | planted_in(tasks) | {target.password} | spy.values
    search = SecretSearch(target.password, secrets, scenarios._RUN, credential["SDDC_MANAGER_CA_PATH"])  # pylint: disable=protected-access
    assert run.secret_hits(search, controller, worker) == []


FLEET_PLAYBOOK = """\
- name: Retry failed SDDC Manager credentials tasks on every SDDC Manager
  hosts: sddc_managers
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: vcf.sddc_manager.retry_credentials_tasks
"""


def test_fleet_one_host_per_sddc_manager_on_an_execution_node(tmp_path, target, simulator):
    """The fleet layout of the AWX guide: one inventory host per SDDC Manager, two forks, one credential whose
    CA field holds both CAs; one SDDC Manager's task fails again and the other SDDC Manager is done anyway."""
    target.need_sim()
    fra_tasks = scenarios.failed_rotate_tasks(2, prefix="fra")
    ams_tasks = (scenarios.failed_rotate_tasks(1, prefix="ams")
                 + scenarios.failed_rotate_tasks(1, prefix="ams-bad", outcomes=[
                     {"status": "FAILED", "errors": [scenarios.SSH_AUTH_ERROR]}]))
    target.load(scenarios.base(tasks=fra_tasks))
    spy_fra = TokenSpy(simulator)
    with Simulator(scenarios.base(tasks=ams_tasks), certs_dir=str(tmp_path / "certs-ams")) as ams:
        spy_ams = TokenSpy(ams)
        assert Path(ams.ca_path).read_text() != Path(target.ca_path).read_text()
        # The credential's host is a name that resolves nowhere: the inventory's host variables must win.
        controller, worker, credential = job_folders(tmp_path, target, [target.ca_path, ams.ca_path],
                                                     host="sddc-manager.invalid", port="")
        (controller / "project" / "fleet.yml").write_text(FLEET_PLAYBOOK)
        (controller / "inventory" / "hosts").write_text(
            "[sddc_managers]\n"
            "sddc-fra retry_credentials_tasks_hostname=%s retry_credentials_tasks_port=%d\n"
            "sddc-ams retry_credentials_tasks_hostname=%s retry_credentials_tasks_port=%d\n"
            "[sddc_managers:vars]\nansible_connection=local\n"
            % (target.hostname, target.port, ams.host, ams.port))

        run = NodeRun(tmp_path, worker, job_params(controller, worker, "fleet.yml", credential, forks=2), job_rc=2)
        fra, ams_counters = target.counters(), ams.control().counters()

    assert (run.job / "status").read_text() == "failed" and (run.job / "rc").read_text() == "2"
    assert "--forks" in json.loads((run.job / "command").read_text())["command"]
    for counters, retried in ((fra, {"fra-000": 1, "fra-001": 1}), (ams_counters, {"ams-000": 1, "ams-bad-000": 1})):
        assert counters["logins"] == 1 and counters["revocations"] == 1
        assert counters["retries_by_task"] == retried
    reports = {host: json.loads((run.job / "report" / ("credentials-tasks-%s.json" % host)).read_text())
               for host in ("sddc-fra", "sddc-ams")}
    assert sorted(reports["sddc-fra"]["succeeded"]) == ["fra-000", "fra-001"] and not reports["sddc-fra"]["failed"]
    assert reports["sddc-ams"]["succeeded"] == ["ams-000"]
    assert [t["task_id"] for t in reports["sddc-ams"]["failed"]] == ["ams-bad-000"]

    events = run.events("failed")
    stats = events[-1]["event_data"]
    assert set(stats["ok"]) == {"sddc-fra", "sddc-ams"} and set(stats["failures"]) == {"sddc-ams"}, stats

    secrets = (scenarios.all_planted() | planted_in(fra_tasks) | planted_in(ams_tasks) | {target.password}
               | spy_fra.values | spy_ams.values)
    assert spy_fra.values and spy_ams.values
    search = SecretSearch(target.password, secrets, scenarios._RUN, credential["SDDC_MANAGER_CA_PATH"])  # pylint: disable=protected-access
    assert run.secret_hits(search, controller, worker) == []
