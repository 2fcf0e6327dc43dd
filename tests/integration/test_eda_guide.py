"""The guide "Event-driven remediation" as written: its inventory, the sample guardrails file and its
ansible-rulebook command, on a machine whose first ``python3.X`` on the PATH is not the Python that runs
ansible-rulebook (issue 21 item 1).

The inventory and the command are read from ``docs/docsite/rst/guide_eda.rst`` and the guardrails from
``extensions/eda/guardrails.yml``; the only change is a poll interval and a wait sleep of one second instead of
60 and 10 (the test cannot wait a minute per poll). The connection is in the SDDC_MANAGER_* variables, as the guide
says. ansible-rulebook needs a JDK 17: see test_eda.py, whose check this test shares.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

import scenarios
from conftest import BIN, REPO
# rulebook_tool is a fixture: imported for pytest, not used by name.
from test_eda import rulebook_tool, running_task  # pylint: disable=unused-import

GUIDE = REPO / "docs" / "docsite" / "rst" / "guide_eda.rst"
GUARDRAILS = REPO / "extensions" / "eda" / "guardrails.yml"
RULEBOOKS = sorted((REPO / "extensions" / "eda" / "rulebooks").glob("*.yml"))
RETRY_PLAY = "PLAY [Retry a failed SDDC Manager credentials task reported by Event-Driven Ansible]"
REPORT_PLAY = "PLAY [Report an SDDC Manager credentials task that needs a person]"
PYTHONS = ["python3.14", "python3.13", "python3.12", "python3.11", "python3.10", "python3.9", "python3.8", "python3"]


def guide_console():
    """The console block of "Running the rulebook locally": the inventory after ``$ cat inventory.yml`` and the
    ansible-rulebook command."""
    text = GUIDE.read_text(encoding="utf-8")
    block = re.search(r"\$ cat inventory\.yml\n(.*?)\n\s*\$ (ansible-rulebook [^\n]+)", text, re.S)
    assert block, "guide_eda.rst no longer shows `cat inventory.yml` followed by the ansible-rulebook command"
    lines = block.group(1).splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines) + "\n", block.group(2).split()


@pytest.fixture(scope="module")
def other_python(tmp_path_factory):
    """A folder for the front of PATH whose python3.X are a Python without requests (a venv without packages),
    as on a machine where pyenv or the distribution puts another Python first."""
    folder = tmp_path_factory.mktemp("other-python")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], check=True, timeout=120)
    (folder / "bin").mkdir()
    for name in PYTHONS:  # scripts, not symlinks: a symlink outside the venv would run the venv's base Python
        script = folder / "bin" / name
        script.write_text('#!/bin/sh\nexec "%s" "$@"\n' % (folder / "venv" / "bin" / "python"))
        script.chmod(0o755)
    probe = subprocess.run([str(folder / "bin" / "python3.13"), "-c", "import requests"], capture_output=True,
                           check=False)
    assert probe.returncode != 0, "the venv must not see requests"
    return folder / "bin"


def with_other_python(env, folder):
    return dict(env, PATH="%s:%s" % (folder, env["PATH"]))


def test_without_the_guides_interpreter_line_the_modules_run_on_the_other_python(
        ansible, target, tmp_path, other_python):
    """The trap is real: the inventory without ansible_python_interpreter picks the Python without requests."""
    inventory, _command = guide_console()
    assert 'ansible_python_interpreter: "{{ ansible_playbook_python }}"' in inventory
    runs = {}
    for name, text in (("guide", inventory), ("without", inventory.replace(
            '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n', ""))):
        path = tmp_path / ("inventory-%s.yml" % name)
        path.write_text(text)
        argv = [str(BIN / "ansible"), "-i", str(path), "localhost", "-m", "vcf.sddc_manager.credentials_task_info",
                "-a", "status=FAILED"]
        runs[name] = ansible._run(argv, with_other_python(ansible.base_env(target=target), other_python), 120)
    assert runs["without"].rc != 0 and "requests" in runs["without"].output, runs["without"]
    assert runs["guide"].rc == 0, runs["guide"]


def test_the_guides_rulebook_run_retries_with_the_right_python_and_prints_each_failure_once(
        rulebook_tool, ansible, target, tmp_path, other_python):  # noqa: F811
    inventory, command = guide_console()
    assert command[:2] == ["ansible-rulebook", "-r"] and "--vars" in command, command
    (tmp_path / command[command.index("-i") + 1]).write_text(inventory)
    guardrails = yaml.safe_load(GUARDRAILS.read_text())
    guardrails.update(sddc_manager_eda_interval=1, sddc_manager_eda_wait_sleep=1)  # not 60 s per poll here
    (tmp_path / command[command.index("--vars") + 1]).write_text(yaml.safe_dump(guardrails))
    env = with_other_python(ansible.base_env(target=target), other_python)
    log = tmp_path / "ansible-rulebook.out"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(rulebook_tool)] + command[1:], cwd=str(tmp_path), env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def output():
        return log.read_text(errors="replace")

    def wait_for(condition, what, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert proc.poll() is None, "ansible-rulebook ended while waiting for %s:\n%s" % (what, output()[-6000:])
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError("timed out waiting for %s:\n%s" % (what, output()[-6000:]))

    try:
        # A rotation that starts after the first poll and fails on every retry: retried max_retries (2) times,
        # then reported.
        wait_for(lambda: target.ctl.counters()["by_route"].get("GET /v1/credentials/tasks", 0) >= 1, "the first poll")
        target.ctl.add_tasks([running_task("eda-guide", outcomes=["FAILED"], run_seconds=1.5)])
        wait_for(lambda: REPORT_PLAY in output() and output().count("PLAY RECAP") >= 3, "two retries and the report")
        time.sleep(3)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
    text = output()
    # The retries went out: the modules ran on the Python of ansible-rulebook, which has requests.
    assert target.ctl.counters()["retries_by_task"] == {"eda-guide": 2}, text[-6000:]
    assert "Module result deserialization failed" not in text
    # Each playbook's output once: two retry runs, one report, no copy of a failed run's output as an error.
    assert text.count(RETRY_PLAY) == 2 and text.count(REPORT_PLAY) == 1, text[-8000:]
    assert text.count("PLAY RECAP") == 3, text[-8000:]
    assert text.count("Not fixed by this retry: Task eda-guide ended FAILED after the retry.") == 2, text[-8000:]
    assert scenarios.SSH_AUTH_ERROR["remediationMessage"] in text
    assert " - ERROR - " not in text, text[-8000:]


def _referenced(text):
    """sddc_manager_eda_* variables a rulebook reads, with the default it gives each."""
    return {name: yaml.safe_load(default.replace("'", '"')) for name, default in
            re.findall(r"\{\{\s*(sddc_manager_eda_\w+)\s*\|\s*default\(([^)]*)\)", text)}


def test_the_sample_guardrails_file_holds_every_variable_the_rulebooks_read_with_their_defaults():
    guardrails = yaml.safe_load(GUARDRAILS.read_text())
    read = {}
    for rulebook in RULEBOOKS:
        read.update(_referenced(rulebook.read_text()))
    assert set(guardrails) == set(read), (sorted(guardrails), sorted(read))
    # A default of '' leaves the value to the event source's own default.
    differ = {k: (guardrails[k], v) for k, v in read.items() if v != "" and guardrails[k] != v}
    assert not differ, json.dumps(differ)
    guide = GUIDE.read_text(encoding="utf-8")
    assert "extensions/eda/guardrails.yml" in guide
    assert all(name in guide for name in guardrails), [n for n in guardrails if n not in guide]


@pytest.mark.parametrize("rulebook", RULEBOOKS, ids=[r.name for r in RULEBOOKS])
def test_the_rulebooks_pass_ansible_rulebooks_schema(rulebook):
    from ansible_rulebook.validators import Validate

    Validate.rulebook(yaml.safe_load(rulebook.read_text()))
