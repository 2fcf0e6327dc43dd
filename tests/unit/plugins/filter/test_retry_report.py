"""The report filters: verdicts from the modules, durations on one clock, 9.1 remediation steps, secrets."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vcf.sddc_manager.plugins.filter.retry_report import retry_report_markdown, retry_summary

NOTE = {"severity": "ERROR", "message": "VSP unreachable", "impact_message": "VSP passwords not changed",
        "remediations": [{"message": "Start the VSP service", "link": "https://kb.example.com/42"}]}


def entry(task_id, action="retried", status="IN_PROGRESS", retried_at="2026-11-27T10:00:00Z"):
    out = {"task_id": task_id, "type": "ROTATE", "action": action, "status_before": "FAILED", "status": status,
           "resources": [{"resource_name": "esxi-%s.example.com" % task_id, "resource_type": "ESXI"}],
           "msg": "Task %s was retried." % task_id}
    if action == "retried":
        out["retried_at"] = retried_at
    return out


def waited(task_id, status, verdict, reason=None, completed="2026-11-27T09:00:00.000Z", report=()):
    return {"id": task_id, "normalized_status": status, "verdict": verdict, "verdict_reason": reason,
            "completion_timestamp": completed, "failed_subtasks": list(report)}


def report(task_id, **extra):
    out = {"task_id": task_id, "resource_name": "esxi-%s.example.com" % task_id, "resource_type": "ESXI",
           "subtask": "Rotate root", "status": "FAILED", "error_code": "E1", "message": "boom",
           "remediation": "Fix it", "remediation_links": [], "notifications": [], "reference_token": "R1"}
    out.update(extra)
    return out


def bulk(*entries, errors=()):
    return {"results": list(entries), "errors": list(errors)}


def wait(tasks, pending=(), ended_at=None, failed=()):
    return {"tasks": list(tasks), "pending_ids": list(pending), "ended_at": ended_at or {},
            "failed_subtasks": list(failed)}


def test_the_module_verdicts_decide_the_summary():
    retry = bulk(entry("a"), entry("b"), entry("c"), entry("d"), entry("w", action="watched"),
                 entry("s", action="skipped", status="SUCCESSFUL"))
    result = retry_summary(retry, wait([
        waited("a", "SUCCESSFUL", "succeeded"), waited("b", "INCONSISTENT", "attention", "inconsistent"),
        waited("c", "ROLLED_BACK", "unknown", "unknown"), waited("d", "IN_PROGRESS", "running", completed=None),
        waited("w", "FAILED", "attention", "failed", report=[report("w")])], pending=["d"], failed=[report("w")]))
    assert result["succeeded"] == ["a"]
    assert [t["task_id"] for t in result["failed"]] == ["b", "c", "w"]
    assert result["still_running"] == ["d"] and result["watched"] == ["w"]
    assert [t["action"] for t in result["tasks"]] == ["retried"] * 4 + ["watched", "skipped"]
    assert len(result["problems"]) == 4
    assert "Task w (ROTATE esxi-w.example.com) ended FAILED: ESXI esxi-w.example.com" in result["problems"][2]
    assert result["problems"][3] == "Task d was still running when the wait timed out."


def test_durations_use_the_controller_clock_only_and_are_never_negative():
    """SDDC Manager's completion time is an hour behind the controller here: it must not make durations negative."""
    retry = bulk(entry("a", retried_at="2026-11-27T10:00:00Z"), entry("b", retried_at="2026-11-27T10:00:05Z"))
    result = retry_summary(retry, wait(
        [waited("a", "SUCCESSFUL", "succeeded"), waited("b", "SUCCESSFUL", "succeeded")],
        ended_at={"a": "2026-11-27T10:00:42.500000Z", "b": "2026-11-27T10:00:04.000000Z"}))
    assert [t["duration_seconds"] for t in result["tasks"]] == [42.5, 0.0]
    assert result["tasks"][0]["completed_at"] == "2026-11-27T09:00:00.000Z"  # SDDC Manager's own, reported as is


def test_a_run_that_stopped_says_why_and_what_was_left_running():
    retry = bulk(entry("a"), entry("b"))
    result = retry_summary(retry, wait([waited("a", "SUCCESSFUL", "succeeded")]),
                           stopped_because="SDDC Manager answered HTTP 500 to GET /v1/credentials/tasks")
    assert result["still_running"] == ["b"] and result["stopped_because"].startswith("SDDC Manager answered")
    assert "Task b was still running when the run stopped." in result["problems"]
    text = retry_report_markdown(result)
    assert "**The run stopped before every task ended:** SDDC Manager answered HTTP 500" in text


def test_without_a_wait_result_the_bulk_retry_s_own_wait_counts():
    retry = dict(bulk(entry("a")), tasks=[waited("a", "SUCCESSFUL", "succeeded")], ended_at={})
    assert retry_summary(retry)["succeeded"] == ["a"]


def test_markdown_keeps_9_1_remediation_links_as_links():
    failed = report("a", message="VSP did not answer", remediation="Start the VSP service",
                    remediation_links=["https://kb.example.com/42"], notifications=[NOTE])
    result = retry_summary(bulk(entry("a")), wait([waited("a", "FAILED", "attention", "failed", report=[failed])],
                                                  failed=[failed]))
    text = retry_report_markdown(result, title="Credentials tasks on sddc")
    assert text.startswith("# Credentials tasks on sddc\n")
    row = [line for line in text.splitlines() if line.startswith("| a |")][0]
    assert "attention (failed)" in row and "Start the VSP service <https://kb.example.com/42>" in row
    assert "## Remediation steps from SDDC Manager" in text
    assert "- Task a, esxi-a.example.com: **ERROR** VSP unreachable Impact: VSP passwords not changed" in text
    assert "  - Start the VSP service <https://kb.example.com/42>" in text


def test_cells_cannot_break_the_table():
    failed = report("a", message="a | pipe\nand a newline")
    text = retry_report_markdown(retry_summary(bulk(entry("a")), wait(
        [waited("a", "FAILED", "attention", "failed")], failed=[failed])))
    row = [line for line in text.splitlines() if line.startswith("| a |")][0]
    assert "a \\| pipe and a newline" in row and row.count(" | ") == 7


def test_passwords_in_hand_built_input_are_removed():
    retry = bulk(dict(entry("a"), password="PLANTED-x"))
    assert "PLANTED" not in json.dumps(retry_summary(retry))


@pytest.mark.parametrize("value", ["text", ["list"], 3])
def test_wrong_input_is_a_filter_error(value):
    with pytest.raises(AnsibleFilterError):
        retry_summary(value)
    with pytest.raises(AnsibleFilterError):
        retry_report_markdown(value)


@pytest.mark.parametrize("module_words, role_words", [
    ("Task u is an UPDATE task: give operation_type and elements with the new password",
     "Task u is an UPDATE task: give operation_type and elements in retry_credentials_tasks_specs['u'] with the new "
     "password"),
    ("Task p is an UPDATE_AUTO_ROTATE_POLICY task: give auto_rotate_policy.",
     "Task p is an UPDATE_AUTO_ROTATE_POLICY task: give auto_rotate_policy in retry_credentials_tasks_specs['p']."),
    ("Invalid retry options: tasks[0] (task u): elements[0] needs credentials",
     "Invalid retry options: retry_credentials_tasks_specs['u']: elements[0] needs credentials"),
    ("Invalid filter: resource_types: 'ESX' is not a resource type",
     "Invalid filter: retry_credentials_tasks_resource_types: 'ESX' is not a resource type"),
    ("parameters are required together: username, password",
     "retry_credentials_tasks_username and retry_credentials_tasks_password (or SDDC_MANAGER_USERNAME and "
     "SDDC_MANAGER_PASSWORD) go together: give both"),
    ("missing required arguments: hostname", "give retry_credentials_tasks_hostname (or SDDC_MANAGER_HOST)"),
    ("Task t failed: the new password of every credential", "Task t failed: the new password of every credential"),
])
def test_role_words_name_the_role_variables(module_words, role_words):
    from ansible_collections.vcf.sddc_manager.plugins.filter.retry_report import role_words as translate

    assert translate(module_words) == role_words


def test_the_summary_speaks_to_the_role_when_asked():
    retry = {"results": [], "errors": [{"task_id": "x", "msg": "tasks[1] (task x): bad"}],
             "needs_input": [{"task_id": "u", "msg": "give it an entry in tasks to retry it."}]}
    assert retry_summary(retry)["needs_input"][0]["msg"] == "give it an entry in tasks to retry it."
    summary = retry_summary(retry, None, None, "role")
    assert summary["needs_input"][0]["msg"] == "give it an entry in retry_credentials_tasks_specs to retry it."
    assert summary["problems"] == ["retry_credentials_tasks_specs['x']: bad"]
