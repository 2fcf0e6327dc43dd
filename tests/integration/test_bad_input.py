"""Bad input, from the table in bad_input_cases.yml: every case gets one line naming the option or the cause and
what to do, no traceback, and -- when validation catches it -- no request reaches SDDC Manager.

The cases run as the tasks of two playbooks (one per stage) against the simulator, each run once per test
session; every case is then checked as its own test. Validation cases share a playbook, so the simulator's
request counter must read zero after all of them: a sum of request counts is zero only if each one is.
"""

import json
import os
import socket
import textwrap

import pytest
import yaml

import scenarios
from conftest import HERE, AnsibleRunner, Target, report_figures

CASES_FILE = HERE / "bad_input_cases.yml"
CASE_KEYS = {"id", "module", "args", "stage", "expect", "skip_if_root"}
CONNECTION = {
    "hostname": "{{ sddc_hostname }}",
    "port": "{{ sddc_port }}",
    "username": "{{ sddc_username }}",
    "password": "{{ sddc_password }}",
    "ca_path": "{{ sddc_ca_path }}",
}
WRONG_PASSWORD = scenarios.planted("wrong-login")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def load_cases():
    cases = yaml.safe_load(CASES_FILE.read_text())["cases"]
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids)), "case ids repeat"
    for case in cases:
        assert set(case) <= CASE_KEYS and {"id", "module", "args", "stage", "expect"} <= set(case), case
        assert case["stage"] in ("validation", "server"), case
        assert case["expect"] and all(isinstance(e, str) for e in case["expect"]), case
    return cases


CASES = load_cases()


def runnable(case):
    return not (case.get("skip_if_root") and IS_ROOT)


def module_args(case):
    args = dict(CONNECTION)
    for key, value in case["args"].items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return args


def playbook(cases):
    tasks = [{"name": case["id"], "vcf.sddc_manager.%s" % case["module"]: module_args(case), "ignore_errors": True}
             for case in cases if runnable(case)]
    # JSON is YAML: no quoting surprises in the arguments.
    return "- hosts: localhost\n  gather_facts: false\n  tasks: %s\n" % json.dumps(tasks)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from sddc_sim.certs import make_untrusted_ca

    folder = tmp_path_factory.mktemp("bad-input")
    garbage = folder / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    unreadable = folder / "unreadable.pem"
    unreadable.write_text(garbage.read_text())
    unreadable.chmod(0)
    return {
        "unsigned_ca_path": make_untrusted_ca(str(folder / "other-ca")).ca_path,
        "garbage_ca_path": str(garbage),
        "unreadable_ca_path": str(unreadable),
    }


@pytest.fixture(scope="module")
def runs(simulator, collections_path, tmp_path_factory, files):
    """``{stage: (Run, simulator counters after it)}``, each stage's playbook run once."""
    if simulator is None:
        pytest.skip("needs the simulator: it reads request counters")
    target = Target(simulator)
    target.load(scenarios.base())
    extra = dict(files, closed_port=closed_port(), viewer_username=scenarios.VIEWER["username"],
                 viewer_password=scenarios.VIEWER["password"], wrong_password=WRONG_PASSWORD)
    ansible = AnsibleRunner(tmp_path_factory.mktemp("bad-input-runs"), collections_path)
    out = {}
    for stage in ("validation", "server"):
        target.load(scenarios.base())
        run = ansible.playbook(playbook([c for c in CASES if c["stage"] == stage]), target=target, extra_vars=extra)
        out[stage] = (run, target.counters(), extra)
    return out


def test_the_table_has_at_least_40_cases(request):
    by_stage = {stage: sum(1 for c in CASES if c["stage"] == stage) for stage in ("validation", "server")}
    report_figures(request.config, ["bad input: %d cases (%d caught by validation, with zero requests; %d that "
                                    "need an answer from SDDC Manager)" % (len(CASES), by_stage["validation"],
                                                                           by_stage["server"])])
    assert len([c for c in CASES if not c.get("skip_if_root")]) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(runs, case):
    if not runnable(case):
        pytest.skip("root reads any file")
    run, counters, extra = runs[case["stage"]]
    entry = [r for r in run.results if r["task"] == case["id"]]
    assert len(entry) == 1 and entry[0]["outcome"] == "failed", entry
    result = entry[0]["result"]
    message = result.get("msg")
    assert isinstance(message, str) and message, result
    assert "\n" not in message.strip(), message
    # A module that crashed would leave its output and the Python traceback here.
    assert "module_stderr" not in result and "module_stdout" not in result, result
    assert result.get("exception", "(traceback unavailable)") == "(traceback unavailable)", result
    assert "Traceback" not in json.dumps(result)
    for wanted in case["expect"]:
        wanted = wanted.replace("{{ closed_port }}", str(extra["closed_port"]))
        assert wanted in message, "%r not in %r" % (wanted, message)
    if case["stage"] == "validation":
        assert counters["total"] == 0, "a validation case reached the server: %s" % counters["by_route"]
    else:
        assert counters["patches_accepted"] == 0 and counters["deletes_accepted"] == 0, counters
        assert counters["operations_accepted"] == 0, counters


@pytest.mark.parametrize("stage", ["validation", "server"])
def test_no_traceback_and_no_secret_anywhere_in_the_output(runs, stage):
    run, _counters, _extra = runs[stage]
    assert "Traceback" not in run.output
    text = run.output + json.dumps(run.results)
    for secret in scenarios.all_planted() | {WRONG_PASSWORD}:
        assert secret not in text, "a planted secret reached the output of the %s cases" % stage
    assert len(run.results) == sum(1 for c in CASES if c["stage"] == stage and runnable(c)), textwrap.shorten(
        run.output, 2000)
