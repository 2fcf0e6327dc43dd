"""Event-driven remediation with the real ansible-rulebook against the simulator.

ansible-rulebook (from PyPI, in .venv) runs the collection's rulebook ``vcf.sddc_manager.retry_failed_rotations``
with the event source ``vcf.sddc_manager.credentials_tasks`` and the playbooks it launches, at ``-vv``, with the
connection in SDDC_MANAGER_* variables only. Polls are one second apart, so each test takes seconds.

ansible-rulebook needs a JDK 17 or newer: without one these tests fail under CI=true (with how to install it)
and are skipped elsewhere, saying why.
"""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

import scenarios
from conftest import BIN, report_figures

INTERVAL = 1
RULEBOOK = "vcf.sddc_manager.retry_failed_rotations"
RETRY_PLAY = "PLAY [Retry a failed SDDC Manager credentials task reported by Event-Driven Ansible]"
REPORT_PLAY = "PLAY [Report an SDDC Manager credentials task that needs a person]"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
SEED = 11


def _java_major():
    """Major version of the java that ansible-rulebook would start (JAVA_HOME first, as it does), or None and why."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home and os.path.exists(os.path.join(home, "bin", "java")) \
        else shutil.which("java")
    if not java:
        return None, "no java on PATH and no JAVA_HOME"
    proc = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr + proc.stdout)
    if not found:
        return None, "java -version said: %s" % (proc.stderr + proc.stdout).strip()[:200]
    major = int(found.group(1))
    return (int(found.group(2)) if major == 1 else major), None


@pytest.fixture(scope="module")
def rulebook_tool(request):
    """The ansible-rulebook of .venv and a JDK 17+, or a skip (a failure under CI=true) that says what is missing."""
    problems = []
    major, why = _java_major()
    if major is None:
        problems.append("ansible-rulebook needs a JDK 17 or newer, and %s" % why)
    elif major < 17:
        problems.append("ansible-rulebook needs a JDK 17 or newer; java is version %d" % major)
    binary = BIN / "ansible-rulebook"
    if not binary.exists():
        problems.append("%s is missing (it comes from tests/requirements.txt: run make venv)" % binary)
    if problems:
        message = "; ".join(problems) + JDK_HINT
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("EDA integration tests cannot run: " + message, pytrace=False)
        # pytest -q shows no skip reasons: say it in the summary at the end too.
        report_figures(request.config, ["EDA integration tests SKIPPED: " + message])
        pytest.skip("EDA integration tests skipped: " + message)
    return binary


JDK_HINT = ("; install a JDK, for example `apt-get install -y openjdk-17-jre-headless` on Debian/Ubuntu or "
            "`dnf install -y java-17-openjdk-headless` (or set JAVA_HOME to one)")


def test_ansible_rulebook_starts_its_rule_engine_on_a_jdk_17(rulebook_tool):
    proc = subprocess.run([str(rulebook_tool), "--version"], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    version = re.search(r"Java version = (\d+)", proc.stdout)
    assert version and int(version.group(1)) >= 17, proc.stdout


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_missing_jdk_fails_under_ci_and_is_a_skip_that_says_why_elsewhere(ci, tmp_path):
    """The check itself, in a pytest run whose PATH holds no java."""
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "CI")}
    env["PATH"] = "%s:%s" % (BIN, "/nonexistent")
    if ci:
        env["CI"] = ci
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "%s::test_ansible_rulebook_starts_its_rule_engine_on_a_jdk_17" % __file__],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False, timeout=300)
    output = proc.stdout + proc.stderr
    assert "needs a JDK 17 or newer, and no java on PATH and no JAVA_HOME" in output, output[-3000:]
    assert "openjdk-17-jre-headless" in output
    if ci:
        assert proc.returncode == 1 and "1 error" in output and "EDA integration tests cannot run" in output
    else:
        assert proc.returncode == 0 and "1 skipped" in output and "EDA integration tests SKIPPED" in output


def _esxi(name, label):
    return {"name": name, "type": "ESXI", "credentials": [
        {"credential_type": "SSH", "account_type": "USER", "username": "root", "password": scenarios.planted(label)}]}


def running_task(task_id, task_type="ROTATE", outcomes=("SUCCESSFUL",), run_seconds=2.0, resource=None):
    """A task that is running when the rulebook starts and ends with ``outcomes[0]``; retries take the next ones."""
    outcomes = [o if not isinstance(o, str) or o == "SUCCESSFUL" else {"status": o, "errors": [scenarios.SSH_AUTH_ERROR]}
                for o in outcomes]
    return {"id": task_id, "type": task_type, "status": "IN_PROGRESS", "run_seconds": run_seconds,
            "outcomes": outcomes,
            "resources": [resource or _esxi("esxi-%s.rack.example.com" % task_id, "%s-old" % task_id)]}


LIST_ROUTE = "GET /v1/credentials/tasks"


def list_reads(target):
    return target.ctl.counters()["by_route"].get(LIST_ROUTE, 0)


def add_once_watching(run, target, tasks):
    """Add ``tasks`` once the source has read the list: they start running after its first poll, so their failure
    is a new one, not one present at start."""
    run.wait_for(lambda: list_reads(target) >= 1, "the first poll of the source", timeout=60)
    target.ctl.add_tasks(tasks)


class RulebookRun:
    """ansible-rulebook in the background, its output in a file."""

    def __init__(self, binary, ansible, target, tmp_path, variables):
        self.target = target
        self.tmp_path = tmp_path
        self.log = tmp_path / "ansible-rulebook.out"
        inventory = tmp_path / "eda-inventory.yml"
        inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                             "      ansible_python_interpreter: %s\n" % sys.executable)
        vars_file = tmp_path / "eda-vars.json"
        vars_file.write_text(json.dumps(dict({"sddc_manager_eda_interval": INTERVAL,
                                              "sddc_manager_eda_wait_sleep": 1}, **variables)))
        env = ansible.base_env(target=target)
        env["RECORD_RESULTS_FILE"] = str(tmp_path / "eda-record.jsonl")
        self.argv = [str(binary), "-r", RULEBOOK, "-i", str(inventory), "--vars", str(vars_file), "-vv"]
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(self.argv, cwd=str(tmp_path), env=env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.started = time.monotonic()

    @property
    def output(self):
        return self.log.read_text(errors="replace")

    def wait_for(self, condition, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "ansible-rulebook ended (rc %s) while waiting for %s:\n%s" % (
                self.proc.returncode, what, self.output[-6000:])
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError("timed out after %s s waiting for %s:\n%s" % (timeout, what, self.output[-6000:]))

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.output

    def count(self, text):
        return self.output.count(text)


@pytest.fixture
def rulebook(rulebook_tool, ansible, target, tmp_path):
    runs = []

    def start(**variables):
        run = RulebookRun(rulebook_tool, ansible, target, tmp_path, variables)
        runs.append(run)
        return run

    yield start
    for run in runs:
        output = run.stop()
        check_no_secret(target, output)


def check_no_secret(target, output):
    values = set(scenarios.all_planted()) | target.passwords_held()
    problems = ["a password (%s...)" % v[:12] for v in values if v in output]
    problems += ["a token id %s" % t for t in scenarios.token_ids(SEED) if t in output]
    if JWT.search(output):
        problems.append("an access token (JWT)")
    assert not problems, "in ansible-rulebook's output at -vv: %s" % problems


def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def task_state(target, task_id):
    return next(t for t in target.ctl.tasks() if t["id"] == task_id)


def retries(target):
    return target.ctl.counters()["retries_by_task"]


def patches(target):
    counters = target.ctl.counters()
    return counters["patches_accepted"] + counters["patches_rejected"]


def not_running(run, action_count):
    """``action_count`` playbooks of the rulebook have ended."""
    return run.count("Ansible runner rc:") >= action_count


def retry_runs(output, task_id):
    """Runs of the retry playbook for ``task_id``: each takes the task's lock once (a failed run's output is
    printed twice, so the play's title cannot be counted)."""
    return len(re.findall(r"Acquired lock: [^/\s]+/%s for action: run_playbook" % re.escape(task_id), output))


# --- a failure is retried -------------------------------------------------------------------------------------

@pytest.mark.parametrize("stale_reads", [0, 2], ids=["fresh-reads", "stale-reads-after-the-retry"])
def test_a_failed_rotation_is_retried_within_two_polls_and_succeeds_with_one_patch(
        rulebook, target, request, stale_reads):
    run = rulebook()
    # With stale_reads, the two reads after the accepted retry still show the failure: no second event, no second
    # retry.
    add_once_watching(run, target, [dict(running_task("eda-rotate", outcomes=["FAILED", "SUCCESSFUL"], run_seconds=2),
                                         stale_reads=stale_reads)])
    failed_at = run.wait_for(lambda: task_state(target, "eda-rotate")["status"] == "FAILED" and time.monotonic(),
                             "the task to fail")
    retried_at = run.wait_for(lambda: retries(target).get("eda-rotate") and time.monotonic(), "the retry", timeout=60)
    succeeded_at = run.wait_for(lambda: task_state(target, "eda-rotate")["status"] == "SUCCESSFUL" and time.monotonic(),
                                "the task to succeed", timeout=60)
    run.wait_for(lambda: not_running(run, 1), "the retry playbook to end")
    time.sleep(2 * INTERVAL + 0.5)  # two more polls: the SUCCESSFUL task is no event, so no second run
    output = run.stop()
    assert retries(target) == {"eda-rotate": 1}, "the failures present at start were not left alone"
    assert patches(target) == 1
    assert retry_runs(output, "eda-rotate") == 1 and REPORT_PLAY not in output
    assert "was retried and is SUCCESSFUL" in output
    # The event comes from the first or second poll after the failure. Judged by the source's list reads in the
    # simulator's log, not by seconds: on a loaded machine a poll may start late, and that is not the source's doing.
    event = re.search(r"'completion_timestamp': '([^']+)'.*?'id': 'eda-rotate'.*?'seen_at': '([^']+)'", output, re.S)
    assert event, output[-4000:]
    ended, seen = (when(event.group(i)) for i in (1, 2))
    detection = (seen - ended).total_seconds()
    polls = [when(entry["ts"]) for entry in target.ctl.log()
             if entry["method"] == "GET" and entry["path"] == "/v1/credentials/tasks" and when(entry["ts"]) >= ended]
    assert len(polls) >= 2 and seen <= polls[1] + datetime.timedelta(seconds=1), (
        "the event came %.1f s after the failure, after %d list reads" % (detection, len([p for p in polls if p < seen])))
    assert retried_at - failed_at < 2 * INTERVAL + 15, "the retry came %.1f s after the failure" % (retried_at - failed_at)
    if stale_reads:
        return
    report_figures(request.config, [
        "EDA: failure -> event %.1f s, -> retry accepted %.1f s, -> SUCCESSFUL %.1f s (poll interval %d s; "
        "ansible-rulebook starting the playbook and the retried task's 2 s run included)"
        % (detection, retried_at - failed_at, succeeded_at - failed_at, INTERVAL)])


def test_a_task_that_fails_on_every_retry_is_retried_at_most_n_times_then_reported(rulebook, target):
    run = rulebook(sddc_manager_eda_max_retries=2)
    add_once_watching(run, target, [running_task("eda-always", outcomes=["FAILED"], run_seconds=1.5)])
    run.wait_for(lambda: REPORT_PLAY in run.output, "the report after the retries", timeout=120)
    run.wait_for(lambda: not_running(run, 3), "the report playbook to end")
    time.sleep(3 * INTERVAL)
    output = run.stop()
    assert retries(target) == {"eda-always": 2}
    assert retry_runs(output, "eda-always") == 2 and output.count(REPORT_PLAY) == 1
    assert "the rulebook retries it no more" in output
    assert scenarios.SSH_AUTH_ERROR["remediationMessage"] in output
    assert task_state(target, "eda-always")["status"] == "FAILED"


def test_retries_that_continue_under_new_task_ids_are_counted_as_one_task(rulebook, target):
    """SDDC Manager may answer a retry with a new task id [guess, FIELD-NOTES]: the guardrail still holds."""
    run = rulebook(sddc_manager_eda_max_retries=2)
    add_once_watching(run, target, [dict(running_task("eda-new-id", outcomes=["FAILED"], run_seconds=1.5),
                                         retry_new_id=True)])
    run.wait_for(lambda: REPORT_PLAY in run.output, "the report after the retries", timeout=120)
    run.wait_for(lambda: not_running(run, 3), "the report playbook to end")
    time.sleep(3 * INTERVAL)
    output = run.stop()
    assert patches(target) == 2, target.ctl.counters()
    assert len(re.findall(r"Acquired lock: [^/\s]+/\S+ for action: run_playbook", output)) == 2
    assert output.count(REPORT_PLAY) == 1 and "the rulebook retries it no more" in output


def test_inconsistent_and_update_tasks_are_reported_with_their_remediation_and_never_retried(rulebook, target):
    vcenter = {"name": "vcenter-9.rack.example.com", "type": "VCENTER", "credentials": [
        {"credential_type": "SSO", "account_type": "SYSTEM", "username": "administrator@vsphere.local",
         "password": scenarios.planted("eda-vc-old"), "new_password": scenarios.planted("eda-vc-new")}]}
    target.load(scenarios.base(release="9.1"))  # SDDC Manager 9.1: errors carry notifications with links
    run = rulebook()
    add_once_watching(run, target, [
        running_task("eda-inconsistent", outcomes=["INCONSISTENT"], run_seconds=2),
        running_task("eda-update", task_type="UPDATE", outcomes=["FAILED"], run_seconds=2.5, resource=vcenter)])
    run.wait_for(lambda: run.count(REPORT_PLAY) >= 2, "two reports", timeout=90)
    run.wait_for(lambda: not_running(run, 2), "the report playbooks to end")
    time.sleep(2 * INTERVAL)
    output = run.stop()
    assert patches(target) == 0 and retries(target) == {}
    assert RETRY_PLAY not in output
    assert "NEEDS A PERSON" in output
    assert "then start a REMEDIATE operation with the password each account really has" in output
    assert "vcf.sddc_manager.credentials with operation_type REMEDIATE" in output
    assert "credentials_task_retry with operation_type REMEDIATE" not in output
    assert "retry it with vcf.sddc_manager.credentials_task_retry and elements" in output
    assert "eda-inconsistent" in output and "eda-update" in output
    assert "See https://knowledge.broadcom.com/external/article/000000" in output  # the 9.1 notification's link


# --- faults during the watch ------------------------------------------------------------------------------------

LIST = "/v1/credentials/tasks"


def test_bursts_resets_and_token_expiry_during_the_watch_lose_and_duplicate_nothing(rulebook, target):
    # Reads 3 to 16 of the list fail: a 5xx burst (HTML and JSON bodies), resets and closed connections, long
    # enough that whole polls fail (an outage), then the list answers again.
    burst = [scenarios.HTML_503, scenarios.HTML_502, scenarios.RESET, scenarios.JSON_503, scenarios.CLOSE,
             scenarios.HTML_504, scenarios.RESET] * 2
    target.ctl.set_faults(scenarios.fault_sequence("GET", LIST, [None, None] + burst))
    run = rulebook()
    add_once_watching(run, target, [running_task("eda-faults", outcomes=["FAILED", "SUCCESSFUL"], run_seconds=6)])
    run.wait_for(lambda: "answers again after" in run.output, "the source to see SDDC Manager back", timeout=90)
    # The access token expires on SDDC Manager (its clock moves on an hour): the source and the playbook renew it.
    target.ctl.advance(3700)
    run.wait_for(lambda: task_state(target, "eda-faults")["status"] == "SUCCESSFUL", "the retried task to succeed",
                 timeout=90)
    run.wait_for(lambda: not_running(run, 1), "the retry playbook to end")
    time.sleep(3 * INTERVAL)
    assert run.proc.poll() is None, "ansible-rulebook stopped"
    output = run.stop()
    assert retries(target) == {"eda-faults": 1} and patches(target) == 1
    assert retry_runs(output, "eda-faults") == 1
    assert output.count("did not answer the task list") == 1, "one line per outage"
    assert output.count("answers again after") == 1
    assert "Source error" not in output and "Traceback" not in output
    counters = target.ctl.counters()
    assert counters["faults_injected"] >= len(burst)
    assert counters["refreshes"] >= 1, counters  # the source renewed the token SDDC Manager let expire
