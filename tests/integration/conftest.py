"""Integration harness: a simulator over HTTPS, and the real ansible-playbook / ansible run against it.

Point the same tests at a real SDDC Manager by exporting SDDC_MANAGER_TEST_TARGET=real together with the
SDDC_MANAGER_* connection variables: tests that need to stage tasks or read the simulator's counters are
then skipped with the reason, and the read-only ones run against the real appliance.
"""

import copy
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "simulator"))
sys.path.insert(0, str(REPO / "tests" / "utils"))

from pyroot import ensure_pyroot  # noqa: E402
from sddc_sim import Simulator  # noqa: E402

import scenarios  # noqa: E402  (tests/integration/scenarios.py)

REAL = os.environ.get("SDDC_MANAGER_TEST_TARGET") == "real"
BIN = Path(sys.executable).parent


class Run:
    """One ansible-playbook or ansible run: exit code, output, and every recorded task result."""

    def __init__(self, proc, record_file):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = []
        if record_file.exists():
            self.results = [json.loads(line) for line in record_file.read_text().splitlines() if line]

    @property
    def output(self):
        return self.stdout + self.stderr

    def result(self, task_name, host=None):
        """The last recorded result of the task with this name."""
        found = [r for r in self.results
                 if (r["task"] == task_name or r["task"].endswith(" : " + task_name))  # role tasks are prefixed
                 and (host is None or r["host"] == host)]
        assert found, "no result for task %r; tasks run: %s\n%s" % (
            task_name, sorted(set(r["task"] for r in self.results)), self.output[-3000:])
        return found[-1]["result"]

    def __repr__(self):
        return "<Run rc=%s>\n%s" % (self.rc, self.output[-4000:])


class Target:
    """Where the tests point: the simulator (default) or a real SDDC Manager."""

    def __init__(self, sim=None):
        self.sim = sim
        self.ctl = sim.control() if sim else None
        if sim:
            self.hostname, self.port, self.ca_path = "127.0.0.1", sim.port, sim.ca_path
            self.username, self.password = scenarios.ADMIN["username"], scenarios.ADMIN["password"]
        else:
            self.hostname = os.environ["SDDC_MANAGER_HOST"]
            self.port = int(os.environ.get("SDDC_MANAGER_PORT", "443"))
            self.ca_path = os.environ.get("SDDC_MANAGER_CA_PATH")
            self.username = os.environ.get("SDDC_MANAGER_USERNAME")
            self.password = os.environ.get("SDDC_MANAGER_PASSWORD")

    def need_sim(self):
        if self.sim is None:
            pytest.skip("needs the simulator: it stages tasks and reads request counters")

    def load(self, scenario):
        self.need_sim()
        self.ctl.load(copy.deepcopy(scenario))

    def counters(self):
        self.need_sim()
        return self.ctl.counters()

    def env(self):
        """The connection as SDDC_MANAGER_* variables, the way AWX injects it."""
        env = {"SDDC_MANAGER_HOST": self.hostname, "SDDC_MANAGER_PORT": str(self.port),
               "SDDC_MANAGER_USERNAME": self.username or "", "SDDC_MANAGER_PASSWORD": self.password or ""}
        if self.ca_path:
            env["SDDC_MANAGER_CA_PATH"] = self.ca_path
        return env

    def vars(self):
        """The connection as play variables, for module_defaults in the test playbooks."""
        out = {"sddc_hostname": self.hostname, "sddc_port": self.port,
               "sddc_username": self.username, "sddc_password": self.password}
        if self.ca_path:
            out["sddc_ca_path"] = self.ca_path
        return out


@pytest.fixture(scope="session")
def collections_path():
    return str(ensure_pyroot())


@pytest.fixture(scope="session")
def simulator(tmp_path_factory):
    if REAL:
        yield None
        return
    with Simulator(scenarios.base(), certs_dir=str(tmp_path_factory.mktemp("certs"))) as sim:
        yield sim


def pytest_configure(config):
    config.addinivalue_line("markers", "real_ok: read-only test that may also run against a real SDDC Manager")


@pytest.fixture
def target(simulator, request):
    if simulator is None and request.node.get_closest_marker("real_ok") is None:
        pytest.skip("needs the simulator: it stages tasks and reads request counters")
    t = Target(simulator)
    if simulator is not None:
        t.load(scenarios.base())
    return t


@pytest.fixture
def ansible(tmp_path, collections_path):
    """Runs the real ansible-playbook / ansible with the collection from this checkout."""
    return AnsibleRunner(tmp_path, collections_path)


class AnsibleRunner:
    def __init__(self, workdir, collections_path):
        self.workdir = workdir
        self.collections_path = collections_path
        self.inventory = workdir / "inventory.ini"
        self.inventory.write_text(
            "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)

    def base_env(self, extra_env=None, connection_env=True, target=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SDDC_MANAGER_", "ANSIBLE_")) and k not in ("PYTHONPATH",)}
        env.update({
            "PATH": "%s:%s" % (BIN, env.get("PATH", "")),
            "ANSIBLE_COLLECTIONS_PATH": self.collections_path,
            "ANSIBLE_HOME": str(self.workdir / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(self.workdir / "ansible-tmp"),
            "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
        })
        if target is not None and connection_env:
            env.update(target.env())
        env.update(extra_env or {})
        return env

    def _run(self, argv, env, timeout):
        record = self.workdir / ("record-%s.jsonl" % uuid.uuid4().hex[:8])
        env = dict(env, RECORD_RESULTS_FILE=str(record))
        # The exit code is part of what the tests assert on, so a failing play must not raise here.
        proc = subprocess.run(argv, cwd=str(self.workdir), env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        return Run(proc, record)

    def playbook(self, playbook, target=None, extra_vars=None, check=False, diff=False, verbosity=0,
                 env=None, connection_env=False, timeout=300, forks=None, inventory=None):
        """Run a playbook given as YAML text or a path. Connection vars go in as extra vars by default."""
        if isinstance(playbook, str) and "\n" in playbook:
            path = self.workdir / ("play-%s.yml" % uuid.uuid4().hex[:8])
            path.write_text(textwrap.dedent(playbook))
        else:
            path = Path(playbook)
        all_vars = {}
        if target is not None and not connection_env:
            all_vars.update(target.vars())
        all_vars.update(extra_vars or {})
        vars_file = self.workdir / ("vars-%s.json" % uuid.uuid4().hex[:8])
        vars_file.write_text(json.dumps(all_vars))
        argv = [str(BIN / "ansible-playbook"), "-i", str(inventory or self.inventory), str(path),
                "-e", "@%s" % vars_file]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        if forks:
            argv += ["--forks", str(forks)]
        return self._run(argv, self.base_env(env, connection_env, target), timeout)

    def adhoc(self, module, args, target=None, check=False, diff=False, verbosity=0, env=None, timeout=120):
        """``ansible localhost -m MODULE -a ARGS`` with the connection in SDDC_MANAGER_* variables."""
        argv = [str(BIN / "ansible"), "-i", str(self.inventory), "localhost", "-m", module, "-a", args]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        return self._run(argv, self.base_env(env, True, target), timeout)


# --- figures printed at the end of the run (the chaos run's counts, the bad-input case count) -----------------

def report_figures(config, lines):
    """Lines to print in the "reliability figures" section at the end of the pytest output."""
    config.__dict__.setdefault("_sddc_manager_figures", []).extend(lines)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.__dict__.get("_sddc_manager_figures")
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
