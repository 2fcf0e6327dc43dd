"""The role on every path, through the real ansible-playbook: a refused login says why and sends nothing else; once
a retry was sent, any failure still leaves the result fact and the report (saying what was left running and why)
and revokes the token before the play fails with one line; a rerun waits for the tasks the first run left running;
wrong options name themselves before the login.

The long wait (hundreds of progress intervals) is in test_role_wait.py.
"""

import json
import os
import re
import signal
import subprocess
import textwrap
import threading
import time
import types
import uuid

import pytest

import scenarios
from conftest import BIN, Run, Target, can_listen_on
from test_role import ROLE_PLAY, role_vars

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
PROGRESS = re.compile(r"^\[(?P<host>[^\]]+)\] credentials tasks: (?P<running>\d+) running, (?P<succeeded>\d+) succeeded, "
                      r"(?P<attention>\d+) did not succeed, (?P<elapsed>\d+) s elapsed$")
WAIT_TASK = "Wait for the retried and running tasks"


def progress_lines(stdout):
    return [m.groupdict() for m in (PROGRESS.match(line) for line in stdout.splitlines()) if m]


def final_failure(run):
    """The one line the play ends with: the msg of the last failed task."""
    failed = [r for r in run.results if r["outcome"] == "failed"]
    assert failed, run
    message = failed[-1]["result"]["msg"]
    assert "\n" not in message, message
    assert "Traceback" not in run.output
    return failed[-1]["task"], message


def no_secret(run, *extra):
    texts = [run.output] + [json.dumps(r["result"]) for r in run.results]
    for secret in set(scenarios.all_planted()) | set(extra):
        for text in texts:
            assert secret not in text, "a planted secret was shown"
    for text in texts:
        assert not JWT.search(text), "a token was shown"


def result_fact(run):
    return run.result("Summarise the outcome")["ansible_facts"]["retry_credentials_tasks_result"]


def report_of(tmp_path, host="localhost"):
    report = tmp_path / "report"
    data = json.loads((report / ("credentials-tasks-%s.json" % host)).read_text())
    return data, (report / ("credentials-tasks-%s.md" % host)).read_text()


def rerun_until_the_task_ends(ansible, target, extra_vars):
    """Run the role again; once it waits (its first progress line), move the simulator's clock 600 s on, so that
    the task it watches ends whatever this machine's speed; return the finished run."""
    live = LiveRun(ansible, ROLE_PLAY, extra_vars)
    try:
        live.until(lambda lines: progress_lines("".join(lines)), "the first progress line of the second run")
        target.ctl.advance(600)
        second = live.finish()
    finally:
        live.kill()
    print(second.stdout[-4000:])
    return second


class LiveRun:
    """ansible-playbook with its output read as it comes, so a test can act while the play waits."""

    def __init__(self, ansible, playbook, extra_vars, timeout=300):
        self.workdir = ansible.workdir
        path = self.workdir / ("play-%s.yml" % uuid.uuid4().hex[:8])
        path.write_text(textwrap.dedent(playbook))
        vars_file = self.workdir / ("vars-%s.json" % uuid.uuid4().hex[:8])
        vars_file.write_text(json.dumps(extra_vars))
        self.record = self.workdir / ("record-%s.jsonl" % uuid.uuid4().hex[:8])
        env = dict(ansible.base_env(), RECORD_RESULTS_FILE=str(self.record))
        self.lines = []
        self.timeout = timeout
        # Its own process group: on a timeout the workers and modules go too, not only ansible-playbook.
        self.proc = subprocess.Popen(
            [str(BIN / "ansible-playbook"), "-i", str(ansible.inventory), str(path), "-e", "@%s" % vars_file],
            cwd=str(self.workdir), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.started = time.monotonic()

    def until(self, condition, what):
        """Read output lines until ``condition(lines)`` holds; fails if the play ends or time runs out first."""
        while not condition(self.lines):
            line = self._next_line()
            if line is None:
                raise AssertionError("the play ended before %s:\n%s" % (what, "".join(self.lines[-60:])))
        return self.lines

    def _next_line(self):
        box = {}
        reader = threading.Thread(target=lambda: box.update(line=self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(max(0.0, self.started + self.timeout - time.monotonic()))
        if reader.is_alive():
            self.kill()
            raise AssertionError("the play did not end in %d s:\n%s" % (self.timeout, "".join(self.lines[-60:])))
        if not box["line"]:
            return None
        self.lines.append(box["line"])
        return box["line"]

    def finish(self):
        while self._next_line() is not None:
            pass
        self.proc.wait(timeout=30)
        self.wall = time.monotonic() - self.started
        proc = types.SimpleNamespace(returncode=self.proc.returncode, stdout="".join(self.lines), stderr="")
        return Run(proc, self.record)

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --- a refused login: its own reason, nothing else sent ---------------------------------------------------------

@pytest.fixture(scope="module")
def untrusted_sim(tmp_path_factory):
    from sddc_sim import Simulator

    with Simulator(scenarios.base(), certs_dir=str(tmp_path_factory.mktemp("untrusted-certs")),
                   untrusted_cert=True) as sim:
        yield sim


def _untrusted_target(sim):
    from sddc_sim.certs import make_untrusted_ca
    from sddc_sim.control import SimControl

    other = Target(sim)
    other.ctl = SimControl(sim.url, make_untrusted_ca(sim.certs_dir).ca_path)
    other.load(scenarios.base())
    return other


WRONG_PASSWORD = scenarios.planted("wrong-login")


@pytest.mark.parametrize("case", ["wrong password", "untrusted CA", "unknown host name", "certificate for another name"])
def test_a_refused_login_shows_its_own_reason_and_retries_nothing(ansible, target, untrusted_sim, tmp_path, case):
    sim_target = target
    extra = {"retry_credentials_tasks_discover": True, "retry_credentials_tasks_report_path": str(tmp_path / "report")}
    if case == "wrong password":
        extra["retry_credentials_tasks_password"] = WRONG_PASSWORD
        expected = ["refused the credentials", "check username and password"]
    elif case == "untrusted CA":
        sim_target = _untrusted_target(untrusted_sim)
        expected = ["certificate verify failed", "ca_path"]
    elif case == "unknown host name":
        extra["retry_credentials_tasks_hostname"] = "no-such-sddc-manager.invalid"
        expected = ["no-such-sddc-manager.invalid", "Check hostname"]
    else:
        if not can_listen_on("127.0.0.2"):
            pytest.skip("127.0.0.2 is not a local address here")
        # The simulator's certificate names 127.0.0.1, localhost and ::1: 127.0.0.2 reaches it under another name.
        extra["retry_credentials_tasks_hostname"] = "127.0.0.2"
        expected = ["not valid for '127.0.0.2'", "hostname"]
    if case == "certificate for another name":
        from sddc_sim import Simulator

        with Simulator(scenarios.base(), certs_dir=str(tmp_path / "certs"), host="127.0.0.2") as sim:
            run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(Target(sim), **extra))
            # Its control endpoint has the same certificate, which does not name 127.0.0.2: read the counters
            # in-process.
            counters = sim.state.metrics.counters()
    else:
        run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(sim_target, **extra))
        counters = sim_target.counters()
    print(run.stdout[-3000:])
    assert run.rc != 0
    task, message = final_failure(run)
    assert task.endswith("Stop when the login failed")
    assert message.startswith("Could not log in to SDDC Manager %s, so nothing was retried: "
                              % extra.get("retry_credentials_tasks_hostname", "127.0.0.1")), message
    for words in expected:
        assert words in message, message
    assert "censored" not in message and "no_log" not in message
    assert "FAILED! => {\"censored\"" not in run.stdout
    no_secret(run, WRONG_PASSWORD)
    # Nothing but the login reached SDDC Manager (no read, no retry), and nothing was written.
    assert counters["by_method"].get("PATCH", 0) == 0 and counters["by_method"].get("GET", 0) == 0
    assert counters["total"] == (1 if case == "wrong password" else 0)
    assert not (tmp_path / "report").exists()


# --- a failure after the retries were sent ----------------------------------------------------------------------

TASK_PATH = "/v1/credentials/tasks/rotate-failed"


def _long_task_scenario(run_seconds=60, **task_changes):
    tasks = scenarios.base_tasks()
    for task in tasks:
        if task["id"] == "rotate-failed":
            task.update(run_seconds=run_seconds, **task_changes)
    return scenarios.base(tasks=tasks)


@pytest.mark.parametrize("fault", ["500 on every read", "token refused"])
def test_a_fault_while_waiting_still_leaves_the_result_the_report_and_no_session(ansible, target, tmp_path, fault):
    """The fault comes once the wait is under way (after its first progress line) and never goes away."""
    target.load(_long_task_scenario())
    live = LiveRun(ansible, ROLE_PLAY, role_vars(
        target, retry_credentials_tasks_ids=["rotate-failed", "successful"], retry_credentials_tasks_progress_interval=2,
        retry_credentials_tasks_report_path=str(tmp_path / "report")))
    try:
        live.until(lambda lines: progress_lines("".join(lines)), "the first progress line")
        if fault == "500 on every read":
            rules = [dict(scenarios.fault("http_error", status=500, body="json"),
                          match={"method": "GET", "path": "/v1/credentials/tasks*"})]
        else:
            # Every read refused as unauthenticated, and the renewal of the token refused as well.
            rules = [dict(scenarios.fault("http_error", status=401, body="json"),
                          match={"method": "GET", "path": "/v1/credentials/tasks*"}),
                     dict(scenarios.fault("http_error", status=404, body="json"),
                          match={"method": "PATCH", "path": "/v1/tokens/access-token/refresh"}),
                     dict(scenarios.fault("http_error", status=401, body="json"),
                          match={"method": "POST", "path": "/v1/tokens"})]
        target.ctl.set_faults(rules)
        run = live.finish()
    finally:
        live.kill()
    print(run.stdout[-5000:])
    assert run.rc != 0
    task, message = final_failure(run)
    # One clear line, last: where it stopped, why, what is still running, where the report is.
    assert task.endswith("Fail when the run was stopped by an error"), task
    assert message.startswith("Stopped on SDDC Manager 127.0.0.1: %s failed: " % WAIT_TASK), message
    assert "Still running when it stopped" in message and "rotate-failed" in message
    assert "credentials-tasks-localhost.md" in message
    if fault == "500 on every read":
        assert "HTTP 500" in message
    # The result fact and the report: what ran, what was left running and why the run stopped.
    result = result_fact(run)
    assert result["retried"] == ["rotate-failed"]
    assert result["still_running"] == ["rotate-failed"] and result["succeeded"] == []
    assert result["stopped_because"].startswith("%s failed: " % WAIT_TASK)
    assert "Task rotate-failed was still running when the run stopped." in result["problems"]
    assert "The run stopped before every task ended: %s failed: " % WAIT_TASK in " ".join(result["problems"])
    data, markdown = report_of(tmp_path)
    assert data == result
    assert "**The run stopped before every task ended:** %s failed" % WAIT_TASK in markdown
    assert "Still running when the run stopped" in markdown and "rotate-failed" in markdown
    # The session was ended, and the retry was sent once.
    counters = target.counters()
    assert counters["revocations"] == 1
    assert counters["patches_accepted"] == 1 and counters["retries_by_task"] == {"rotate-failed": 1}
    no_secret(run)


def test_a_fault_in_the_retry_modules_own_first_wait(ansible, target, tmp_path):
    """The read right after the retry fails for good: the retry module stops, and the role still reports."""
    target.load(_long_task_scenario())
    # The first read of the task selects it for the retry; every read after the retry gets a 500.
    target.ctl.set_faults([dict(scenarios.fault("http_error", status=500, body="json"), after=1,
                                match={"method": "GET", "path": TASK_PATH})])
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        target, retry_credentials_tasks_ids=["rotate-failed"], retry_credentials_tasks_report_path=str(tmp_path / "report")))
    print(run.stdout[-4000:])
    assert run.rc != 0
    task, message = final_failure(run)
    assert task.endswith("Fail when the run was stopped by an error"), task
    assert message.startswith("Stopped on SDDC Manager 127.0.0.1: Retry the failed credentials tasks failed: "), message
    assert "rotate-failed" in message and "HTTP 500" in message
    result = result_fact(run)
    assert result["retried"] == ["rotate-failed"] and result["still_running"] == ["rotate-failed"]
    assert result["stopped_because"].startswith("Retry the failed credentials tasks failed: ")
    data, markdown = report_of(tmp_path)
    assert data["still_running"] == ["rotate-failed"] and "Still running when the run stopped" in markdown
    counters = target.counters()
    assert counters["revocations"] == 1 and counters["patches_accepted"] == 1
    no_secret(run)


def test_a_timeout_is_kept_to_within_one_interval_and_reported(ansible, target, tmp_path):
    target.load(_long_task_scenario(run_seconds=None))
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        target, retry_credentials_tasks_ids=["rotate-failed"], retry_credentials_tasks_wait_timeout=7,
        retry_credentials_tasks_progress_interval=3, retry_credentials_tasks_report_path=str(tmp_path / "report")))
    print(run.stdout[-3000:])
    assert run.rc != 0
    task, message = final_failure(run)
    assert task.endswith("Fail when a task did not succeed")
    assert "Task rotate-failed was still running when the wait timed out" in message
    result = result_fact(run)
    assert result["still_running"] == ["rotate-failed"]
    assert result["stopped_because"] == "retry_credentials_tasks_wait_timeout (7 s) ran out"
    # Never more than one interval past the timeout (the retry module's first wait and every interval counted),
    # and not cut short by more than the second that whole-second rounding takes off.
    assert 7 - 1 <= result["elapsed"] <= 7 + 3, result["elapsed"]
    lines = progress_lines(run.stdout)
    assert lines and all(line["running"] == "1" for line in lines)
    data, markdown = report_of(tmp_path)
    assert "**The run stopped before every task ended:** retry_credentials_tasks_wait_timeout (7 s) ran out" in markdown
    assert "Still running when the run stopped" in markdown
    assert target.counters()["revocations"] == 1


# --- a rerun while the first run's tasks still run --------------------------------------------------------------

@pytest.mark.parametrize("task_id, ends", [("rotate-failed", "SUCCESSFUL"), ("rotate-fails-again", "FAILED")])
def test_a_rerun_waits_for_what_the_first_run_left_running(ansible, target, tmp_path, task_id, ends):
    """The first run times out with its retried task still running; the second one finds it running, does not
    retry it, and waits for its real end. The task runs 600 s of simulator time: the test moves the simulator's
    clock once the second run waits, so that nothing depends on how fast this machine is."""
    tasks = scenarios.base_tasks()
    for task in tasks:
        if task["id"] == task_id:
            task["run_seconds"] = 600
    target.load(scenarios.base(tasks=tasks))
    extra = role_vars(target, retry_credentials_tasks_ids=[task_id], retry_credentials_tasks_progress_interval=2,
                      retry_credentials_tasks_report_path=str(tmp_path / "report"))
    first = ansible.playbook(ROLE_PLAY, extra_vars=dict(extra, retry_credentials_tasks_wait_timeout=3))
    assert first.rc != 0
    assert result_fact(first)["still_running"] == [task_id]
    assert next(t for t in target.ctl.tasks() if t["id"] == task_id)["status"] == "IN_PROGRESS"

    second = rerun_until_the_task_ends(ansible, target, extra)
    result = result_fact(second)
    # Not retried again: watched to its real end.
    assert result["retried"] == [] and result["watched"] == [task_id]
    assert result["still_running"] == [] and result["stopped_because"] is None
    assert [t["status_after"] for t in result["tasks"]] == [ends]
    lines = progress_lines(second.stdout)
    assert lines[0]["running"] == "1" and lines[-1]["running"] == "0"
    counters = target.counters()
    assert counters["retries_by_task"] == {task_id: 1} and counters["revocations"] == 2
    data, markdown = report_of(tmp_path)
    assert "0 retried, 1 already running and watched" in markdown and "| %s |" % task_id in markdown
    if ends == "SUCCESSFUL":
        assert second.rc == 0, second
        assert result["succeeded"] == [task_id] and result["problems"] == []
        assert lines[-1]["succeeded"] == "1"
    else:
        assert second.rc != 0
        assert [t["task_id"] for t in result["failed"]] == [task_id]
        assert lines[-1]["attention"] == "1"
        _task, message = final_failure(second)
        assert "Remediation: Reset the root password" in message


# --- options checked before the login ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, words", [
    ("retry_credentials_tasks_progress_interval", 0, "must be at least 1, got 0"),
    ("retry_credentials_tasks_wait_sleep", 0, "must be at least 1, got 0"),
    ("retry_credentials_tasks_wait_timeout", 0, "must be at least 1, got 0"),
    ("retry_credentials_tasks_progress_interval", -5, "must be at least 1, got -5"),
    ("retry_credentials_tasks_concurrency", 33, "must be at most 32, got 33"),
    ("retry_credentials_tasks_wait_sleep", "soon", "soon"),
])
def test_a_wrong_option_names_itself_before_the_login(ansible, target, name, value, words):
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(target, retry_credentials_tasks_discover=True,
                                                           **{name: value}))
    assert run.rc != 0
    failed = [r for r in run.results if r["outcome"] == "failed"]
    assert len(failed) == 1, run
    message = failed[0]["result"]["msg"]
    # Ansible's own type check (meta/argument_specs.yml) words a value that is not a number; the role's check the rest.
    assert name in message and words in message, message
    assert "Traceback" not in run.output
    assert target.counters()["total"] == 0
