"""Resolving what a retry cannot (issue 20), through the real ansible-playbook and ansible against the simulator:
the role remediates an INCONSISTENT task given in retry_credentials_tasks_specs (and names the variable when it is
not), the credentials module starts an operation only when nothing blocks it and it would change something, the
cancel module cancels many tasks in one run, and no password reaches any output at -vvvv."""

import json

import pytest

import scenarios
from plays import play
from test_role import ROLE_PLAY, role_vars
from test_role_paths import final_failure, no_secret

HELD = scenarios.planted("ops-held")  # what SDDC Manager holds for root on esxi-9 (INCONSISTENT)
REAL = scenarios.planted("ops-real")  # what is really set on esxi-9
WRONG = scenarios.planted("ops-wrong")
ESXI10 = scenarios.planted("ops-esxi10")  # held = real on esxi-10
NEW10 = scenarios.planted("ops-new10")
SECRETS = (HELD, REAL, WRONG, ESXI10, NEW10)
HOST9, HOST8, HOST10 = "esxi-9.rack.example.com", "esxi-8.rack.example.com", "esxi-10.rack.example.com"


def _root(password, real=None):
    credential = {"credential_type": "SSH", "account_type": "USER", "username": "root", "password": password}
    if real is not None:
        credential["real_password"] = real
    return credential


def scenario(**overrides):
    """inc-9: INCONSISTENT on esxi-9 (held HELD, real REAL); f-8 and f-7: FAILED on esxi-8 and esxi-7; esxi-10 has
    only a successful task."""
    tasks = [
        {"id": "ok-10", "type": "ROTATE", "status": "SUCCESSFUL", "created": "2026-11-19T10:00:00Z",
         "resources": [{"name": HOST10, "type": "ESXI", "credentials": [_root(ESXI10)]}]},
        {"id": "inc-9", "type": "ROTATE", "status": "INCONSISTENT", "created": "2026-11-20T10:00:00Z",
         "resources": [{"name": HOST9, "type": "ESXI", "credentials": [_root(HELD)]}]},
        {"id": "f-8", "type": "ROTATE", "status": "FAILED", "created": "2026-11-20T11:00:00Z", "run_seconds": 1,
         "resources": [{"name": HOST8, "type": "ESXI", "credentials": [_root(scenarios.planted("ops-esxi8"))]}]},
        {"id": "f-7", "type": "ROTATE", "status": "FAILED", "created": "2026-11-20T12:00:00Z", "run_seconds": 1,
         "resources": [{"name": "esxi-7.rack.example.com", "type": "ESXI",
                        "credentials": [_root(scenarios.planted("ops-esxi7"))]}]},
    ]
    resources = [{"name": HOST9, "type": "ESXI", "credentials": [_root(HELD, REAL)]},
                 {"name": HOST10, "type": "ESXI", "credentials": [_root(ESXI10)]}]
    return scenarios.base(tasks=tasks, resources=resources, operations={"run_seconds": 1}, **overrides)


@pytest.fixture(name="ops")
def ops_fixture(target):
    target.load(scenario())
    return target


def remediate_spec(password, host=HOST9):
    return {"operation_type": "REMEDIATE", "elements": [
        {"resource_name": host, "resource_type": "ESXI",
         "credentials": [{"credential_type": "SSH", "username": "root", "password": password}]}]}


def operations(target):
    counters = target.counters()
    return counters["by_route"].get("PATCH /v1/credentials", 0)


def account(target, host):
    return next(a for a in target.ctl.accounts() if a["resource_name"] == host)


def no_password(run, target, *extra):
    """No planted password, none the simulator holds (tasks and accounts), and no token in any output."""
    held = target.passwords_held() | set(a["password"] for a in target.ctl.accounts()) | set(
        a["real_password"] for a in target.ctl.accounts())
    no_secret(run, *(held | set(SECRETS) | set(extra)))


def summary(run):
    return run.result("Summarise the outcome")["ansible_facts"]["retry_credentials_tasks_result"]


# --- the role --------------------------------------------------------------------------------------------------

def test_the_role_remediates_an_inconsistent_task_with_the_right_password(ansible, ops, tmp_path):
    report = tmp_path / "report"
    run = ansible.playbook(ROLE_PLAY, verbosity=4, extra_vars=role_vars(
        ops, retry_credentials_tasks_specs={"inc-9": remediate_spec(REAL)},
        retry_credentials_tasks_report_path=str(report)))
    assert run.rc == 0, run
    result = summary(run)
    [item] = result["remediated"]
    assert item["task_id"] == "inc-9" and item["verdict"] == "succeeded"
    assert item["msg"] == "Task inc-9 was INCONSISTENT; remediated by task %s." % item["remediated_by"]
    assert item["remediated_by"] in result["succeeded"] or result["problems"] == []
    assert operations(ops) == 1 and ops.counters()["operations_accepted"] == 1
    assert account(ops, HOST9)["consistent"] is True
    markdown = (report / "credentials-tasks-localhost.md").read_text()
    assert "## INCONSISTENT tasks remediated" in markdown and "remediated by task" in markdown
    no_password(run, ops)
    for secret in SECRETS:
        assert secret not in markdown


def test_the_roles_check_mode_says_it_would_remediate_and_sends_nothing(ansible, ops):
    run = ansible.playbook(ROLE_PLAY, check=True, extra_vars=role_vars(
        ops, retry_credentials_tasks_specs={"inc-9": remediate_spec(REAL)}))
    assert run.rc == 0, run
    line = [r["result"]["msg"] for r in run.results if r["task"].endswith("Say what a real run would retry")]
    assert line and "remediate 1 INCONSISTENT: inc-9; nothing was sent." in line[0], line
    assert operations(ops) == 0 and ops.counters()["by_method"].get("PATCH", 0) == 0
    no_password(run, ops)


def test_a_wrong_password_is_reported_as_a_failed_remediation_with_sddc_managers_reason(ansible, ops):
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        ops, retry_credentials_tasks_specs={"inc-9": remediate_spec(WRONG)}))
    assert run.rc != 0, run
    _task, message = final_failure(run)
    assert "Task inc-9 (ROTATE %s) is INCONSISTENT and its remediation, task " % HOST9 in message, message
    assert "ended FAILED" in message and "PASSWORD_REMEDIATE_PASSWORD_MISMATCH" in message, message
    result = summary(run)
    assert result["remediated"][0]["verdict"] == "attention"
    assert "its remediation, task %s, ended FAILED" % result["remediated"][0]["remediated_by"] \
        in result["remediated"][0]["msg"]
    assert account(ops, HOST9)["consistent"] is False and operations(ops) == 1
    no_password(run, ops)


def test_without_a_spec_the_role_sends_nothing_and_names_the_variable(ansible, ops):
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(ops, retry_credentials_tasks_ids="inc-9"))
    assert run.rc != 0, run
    _task, message = final_failure(run)
    assert "Task inc-9 is INCONSISTENT" in message and "nothing was sent for it" in message, message
    assert "set retry_credentials_tasks_specs['inc-9'] with operation_type REMEDIATE" in message, message
    counters = ops.counters()
    assert operations(ops) == 0 and counters["by_route"].get("PATCH /v1/credentials/tasks/{id}", 0) == 0
    no_password(run, ops)


def test_discover_reports_the_inconsistent_task_and_retries_the_others(ansible, ops):
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        ops, retry_credentials_tasks_discover=True, retry_credentials_tasks_resource_names=[HOST9, HOST8]))
    assert run.rc == 0, run
    result = summary(run)
    assert result["retried"] == ["f-8"] and result["succeeded"] == ["f-8"]
    [item] = result["needs_input"]
    assert item["task_id"] == "inc-9"
    assert "set retry_credentials_tasks_specs['inc-9'] with operation_type REMEDIATE" in item["msg"], item
    assert "Task inc-9 is INCONSISTENT" in run.stdout and operations(ops) == 0


def test_discover_leaves_out_an_inconsistent_task_a_newer_one_resolved(ansible, ops):
    first = ansible.adhoc("vcf.sddc_manager.credentials", json.dumps(
        dict(remediate_spec(REAL), wait=True, wait_sleep=1)), target=ops)
    assert first.rc == 0, first
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_bulk_retry", "discover=true resource_names=%s" % HOST9,
                        target=ops, check=True)
    assert run.rc == 0, run
    result = run.result("vcf.sddc_manager.credentials_task_bulk_retry")
    assert result["needs_input"] == [] and result["errors"] == [] and result["results"] == []


# --- the credentials module ----------------------------------------------------------------------------------------

def _rotate(host):
    return {"operation_type": "ROTATE", "elements": [
        {"resource_name": host, "resource_type": "ESXI", "credentials": [{"credential_type": "SSH", "username": "root"}]}]}


def test_check_mode_sends_nothing_and_says_what_would_start(ansible, ops):
    run = ansible.adhoc("vcf.sddc_manager.credentials", json.dumps(remediate_spec(REAL)), target=ops, check=True,
                        diff=True)
    assert run.rc == 0, run
    result = run.result("vcf.sddc_manager.credentials")
    assert result["changed"] is True and result["task_id"] is None
    assert result["msg"] == ("Check mode: a REMEDIATE would start on root (SSH) on %s; nothing was sent." % HOST9)
    counters = ops.counters()
    assert operations(ops) == 0 and counters["by_method"].get("PATCH", 0) == 0
    no_password(run, ops)


@pytest.mark.parametrize("check", [False, True])
def test_a_locked_resource_is_refused_naming_the_task(ansible, ops, check):
    run = ansible.adhoc("vcf.sddc_manager.credentials", json.dumps(_rotate(HOST8)), target=ops, check=check)
    assert run.rc != 0, run
    message = run.result("vcf.sddc_manager.credentials")["msg"]
    assert "Resource %s (ESXI) is locked by credentials task f-8, which is FAILED" % HOST8 in message, message
    assert "vcf.sddc_manager.credentials_task_retry with task_id f-8" in message
    assert operations(ops) == 0


def test_an_inconsistent_resource_takes_only_remediate_and_then_anything(ansible, ops):
    refused = ansible.adhoc("vcf.sddc_manager.credentials", json.dumps(_rotate(HOST9)), target=ops)
    assert refused.rc != 0 and "is INCONSISTENT since credentials task inc-9" in refused.output, refused
    assert operations(ops) == 0
    run = ansible.playbook(play("""
- name: Remediate
  vcf.sddc_manager.credentials:
    operation_type: REMEDIATE
    elements:
      - resource_name: "{{ host }}"
        resource_type: ESXI
        credentials: [{credential_type: SSH, username: root, password: "{{ real }}"}]
    wait: true
    wait_sleep: 1
  register: remediated
- name: Rotate now
  vcf.sddc_manager.credentials:
    operation_type: ROTATE
    elements:
      - {resource_name: "{{ host }}", resource_type: ESXI, credentials: [{credential_type: SSH, username: root}]}
    wait: true
    wait_sleep: 1
"""), target=ops, extra_vars={"host": HOST9, "real": REAL}, verbosity=4)
    assert run.rc == 0, run
    remediated = run.result("Remediate")
    assert remediated["status"] == "SUCCESSFUL" and remediated["verdict"] == "succeeded" and remediated["changed"]
    assert run.result("Rotate now")["status"] == "SUCCESSFUL"
    assert operations(ops) == 2 and account(ops, HOST9)["consistent"] is True
    no_password(run, ops)


def test_update_to_the_held_password_sends_nothing(ansible, ops):
    tasks = """
- name: Update
  vcf.sddc_manager.credentials:
    operation_type: UPDATE
    elements:
      - resource_name: "{{ host }}"
        resource_type: ESXI
        credentials: [{credential_type: SSH, username: root, password: "{{ wanted }}"}]
    wait: true
    wait_sleep: 1
"""
    held = ansible.playbook(play(tasks), target=ops, extra_vars={"host": HOST10, "wanted": ESXI10}, verbosity=4)
    assert held.rc == 0, held
    assert held.result("Update")["changed"] is False and operations(ops) == 0
    assert "already holds the given password" in held.result("Update")["msg"]
    changed = ansible.playbook(play(tasks), target=ops, extra_vars={"host": HOST10, "wanted": NEW10}, diff=True)
    assert changed.rc == 0 and changed.result("Update")["changed"] is True, changed
    assert operations(ops) == 1 and account(ops, HOST10)["password"] == NEW10
    again = ansible.playbook(play(tasks), target=ops, extra_vars={"host": HOST10, "wanted": NEW10})
    assert again.rc == 0 and again.result("Update")["changed"] is False and operations(ops) == 1, again
    for run in (held, changed, again):
        no_password(run, ops)


# --- cancel in bulk ----------------------------------------------------------------------------------------------

def test_bulk_cancel_with_task_ids(ansible, ops):
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_cancel", "task_ids=f-8,f-7,ok-10", target=ops)
    assert run.rc != 0, run  # ok-10 succeeded: it cannot be cancelled, the others are
    result = run.result("vcf.sddc_manager.credentials_task_cancel")
    assert sorted(result["cancelled_ids"]) == ["f-7", "f-8"] and [e["task_id"] for e in result["errors"]] == ["ok-10"]
    assert ops.counters()["deletes_accepted"] == 2
    again = ansible.adhoc("vcf.sddc_manager.credentials_task_cancel", "task_ids=f-8,f-7", target=ops)
    assert again.rc == 0, again
    result = again.result("vcf.sddc_manager.credentials_task_cancel")
    assert result["changed"] is False and sorted(result["unchanged_ids"]) == ["f-7", "f-8"]
    assert ops.counters()["deletes_accepted"] == 2


def test_bulk_cancel_with_discover_and_in_check_mode(ansible, ops):
    preview = ansible.adhoc("vcf.sddc_manager.credentials_task_cancel", "discover=true resource_types=ESXI",
                            target=ops, check=True)
    assert preview.rc == 0, preview
    result = preview.result("vcf.sddc_manager.credentials_task_cancel")
    assert sorted(result["would_cancel_ids"]) == ["f-7", "f-8"] and result["cancelled_ids"] == []
    assert ops.counters()["by_method"].get("DELETE", 0) == 0
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_cancel", "discover=true resource_names=%s" % HOST8,
                        target=ops)
    assert run.rc == 0, run
    assert run.result("vcf.sddc_manager.credentials_task_cancel")["cancelled_ids"] == ["f-8"]
    assert ops.counters()["deletes_accepted"] == 1
    # the lock is gone: an operation starts on esxi-8 now
    started = ansible.adhoc("vcf.sddc_manager.credentials", json.dumps(_rotate(HOST8)), target=ops)
    assert started.rc == 0 and started.result("vcf.sddc_manager.credentials")["task_id"], started


# --- REMEDIATE, one account per operation --------------------------------------------------------------------------

HOST11, HOST12 = "esxi-11.rack.example.com", "esxi-12.rack.example.com"
HELD11, REAL11 = scenarios.planted("ops-held11"), scenarios.planted("ops-real11")
HELD12, REAL12 = scenarios.planted("ops-held12"), scenarios.planted("ops-real12")
TWO_SECRETS = (HELD11, REAL11, HELD12, REAL12)


@pytest.fixture(name="two")
def two_fixture(target):
    """inc-2: INCONSISTENT on esxi-11 and esxi-12 (two accounts), each with its own held and real password."""
    tasks = [{"id": "inc-2", "type": "ROTATE", "status": "INCONSISTENT", "created": "2026-11-20T10:00:00Z",
              "resources": [{"name": HOST11, "type": "ESXI", "credentials": [_root(HELD11)]},
                            {"name": HOST12, "type": "ESXI", "credentials": [_root(HELD12)]}]}]
    resources = [{"name": HOST11, "type": "ESXI", "credentials": [_root(HELD11, REAL11)]},
                 {"name": HOST12, "type": "ESXI", "credentials": [_root(HELD12, REAL12)]}]
    target.load(scenarios.base(tasks=tasks, resources=resources, operations={"run_seconds": 1}))
    return target


def _remediate_both(first, second):
    return {"operation_type": "REMEDIATE", "elements": [
        {"resource_name": host, "resource_type": "ESXI",
         "credentials": [{"credential_type": "SSH", "username": "root", "password": password}]}
        for host, password in ((HOST11, first), (HOST12, second))]}


def _remediate_tasks(target):
    return [t for t in target.ctl.tasks() if t["type"] == "REMEDIATE"]


def test_the_module_remediates_several_accounts_one_operation_each_in_turn(ansible, two):
    # The simulator answers a REMEDIATE of two accounts 400 REMEDIATE_ONE_ACCOUNT: this passes only one at a time.
    run = ansible.adhoc("vcf.sddc_manager.credentials", json.dumps(dict(_remediate_both(REAL11, REAL12), wait=False,
                                                                        wait_sleep=1)), target=two, verbosity=4)
    assert run.rc == 0, run
    result = run.result("vcf.sddc_manager.credentials")
    first, second = result["operations"]
    assert [op["accounts"][0]["resource_name"] for op in result["operations"]] == [HOST11, HOST12]
    # the first was waited for to its end before the second was sent, although wait is false
    assert (first["status"], first["verdict"]) == ("SUCCESSFUL", "succeeded")
    assert result["task_id"] == second["task_id"] != first["task_id"]
    assert "not_done" not in result and result["changed"] is True
    counters = two.counters()
    assert counters["operations_accepted"] == 2 and counters["operations_rejected"] == 0
    assert [len(t["subtasks"]) for t in _remediate_tasks(two)] == [1, 1]
    no_password(run, two, *TWO_SECRETS)


def test_a_failed_remediation_stops_the_rest_and_names_the_accounts_not_remediated(ansible, two):
    run = ansible.adhoc("vcf.sddc_manager.credentials", json.dumps(dict(_remediate_both(WRONG, REAL12), wait=True,
                                                                        wait_sleep=1)), target=two, verbosity=4)
    assert run.rc != 0, run
    result = run.result("vcf.sddc_manager.credentials")
    [only] = result["operations"]
    assert (only["status"], only["verdict"]) == ("FAILED", "attention")
    assert [a["resource_name"] for a in result["not_done"]] == [HOST12]
    assert "PASSWORD_REMEDIATE_PASSWORD_MISMATCH" in json.dumps(result["failed_subtasks"])
    assert "nothing was sent for root (SSH) on %s, so it was not remediated." % HOST12 in result["msg"], result["msg"]
    assert two.counters()["operations_accepted"] == 1
    assert account(two, HOST12)["consistent"] is False
    no_password(run, two, *TWO_SECRETS)


def test_the_role_remediates_a_task_of_two_accounts_one_after_the_other(ansible, two):
    run = ansible.playbook(ROLE_PLAY, verbosity=4, extra_vars=role_vars(
        two, retry_credentials_tasks_specs={"inc-2": _remediate_both(REAL11, REAL12)}))
    assert run.rc == 0, run
    [item] = summary(run)["remediated"]
    remediations = _remediate_tasks(two)
    assert [len(t["subtasks"]) for t in remediations] == [1, 1]
    assert item["verdict"] == "succeeded" and item["remediated_by"] in [t["id"] for t in remediations]
    assert account(two, HOST11)["consistent"] is True and account(two, HOST12)["consistent"] is True
    no_password(run, two, *TWO_SECRETS)


def test_the_roles_remediation_that_stopped_is_reported_never_as_remediated(ansible, two):
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        two, retry_credentials_tasks_specs={"inc-2": _remediate_both(WRONG, REAL12)}))
    assert run.rc != 0, run
    _task, message = final_failure(run)
    assert "Task inc-2 is INCONSISTENT; REMEDIATE operations, one per account" in message, message
    assert "so it was not remediated" in message and HOST12 in message, message
    assert summary(run)["remediated"] == []
    assert two.counters()["operations_accepted"] == 1
    no_password(run, two, *TWO_SECRETS)
