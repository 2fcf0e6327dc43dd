"""The one verdict: every status word of every release, failure reports, and what counts as success."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import helpers
from helpers import sub_task

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._verdict import (
    ATTENTION,
    RUNNING,
    SUCCEEDED,
    UNKNOWN,
    describe_failures,
    failure_report,
    first_remediation,
    fingerprint,
    verdict,
)

SPEC = Path(__file__).resolve().parents[5] / "shared" / "spec" / "swagger.json"

# Every status word a task can carry: CredentialsTask (9.0.2 and 9.1), the generic Task of 9.0.2 in both
# spellings, and what 9.1 added to it (FIELD-NOTES.md), with the verdict an admin must get.
VERDICTS = [
    ("PENDING", RUNNING, None), ("Pending", RUNNING, None),
    ("IN_PROGRESS", RUNNING, None), ("In Progress", RUNNING, None),
    ("QUEUED", RUNNING, None), ("Queued", RUNNING, None),
    ("SUCCESSFUL", SUCCEEDED, None), ("Successful", SUCCEEDED, None),
    ("COMPLETED_WITH_WARNING", SUCCEEDED, None),
    ("FAILED", ATTENTION, "failed"), ("Failed", ATTENTION, "failed"),
    ("INCONSISTENT", ATTENTION, "inconsistent"),
    ("USER_CANCELLED", ATTENTION, "cancelled"),
    ("CANCELLED", ATTENTION, "cancelled"), ("Cancelled", ATTENTION, "cancelled"),
    ("SKIPPED", ATTENTION, "skipped"),
    ("TIMED_OUT", ATTENTION, "timed_out"), ("Timed Out", ATTENTION, "timed_out"),
    ("ROLLED_BACK", UNKNOWN, "unknown"), ("", UNKNOWN, "unknown"), (None, UNKNOWN, "unknown"),
]


def task(status, completed="2026-11-27T10:20:00.000Z", sub_tasks=(), errors=()):
    return helpers.task("t-1", status, operation=None, sub_tasks=sub_tasks, errors=errors,
                        completionTimestamp=completed)


@pytest.mark.parametrize("status, state, reason", VERDICTS)
def test_every_status_word_has_its_verdict(status, state, reason):
    found = verdict(task(status))
    assert (found.state, found.reason) == (state, reason)
    assert found.message and "t-1" in found.message
    if state != SUCCEEDED:
        assert "succe" not in found.message.split(":")[0].lower() or state == UNKNOWN


@pytest.mark.parametrize("status, state, reason", [v for v in VERDICTS if v[1] not in (SUCCEEDED, RUNNING)])
def test_anything_but_success_has_a_report_and_a_reason_an_admin_can_act_on(status, state, reason):
    found = verdict(task(status))
    assert found.report, "an empty report reads as 'nothing went wrong'"
    assert all(entry["message"] for entry in found.report)
    if reason in ("inconsistent", "cancelled", "skipped", "timed_out"):
        assert found.report[0]["remediation"]
        assert found.report[0]["remediation"] in found.message


def test_inconsistent_says_to_remediate():
    found = verdict(task("INCONSISTENT"))
    assert "REMEDIATE" in found.message and "INCONSISTENT" in found.message


def test_unknown_ends_only_with_a_completion_time():
    assert verdict(task("ROLLED_BACK")).ended is True
    assert verdict(task("ROLLED_BACK", completed=None)).ended is False
    assert verdict(task("FAILED", completed=None)).ended is True  # a known end needs no timestamp
    assert verdict(task("IN_PROGRESS", completed=None)).ended is False


def _spec_status_words():
    spec = json.loads(SPEC.read_text())
    schemas = spec.get("definitions") or spec.get("components", {}).get("schemas", {})
    words = set()
    for name in ("CredentialsTask", "Task"):
        example = schemas[name]["properties"]["status"].get("example", "")
        words.update(w.strip() for w in re.sub(r"^One among:", "", example).split(",") if w.strip())
    return words


@pytest.mark.skipif(not SPEC.exists(), reason="the shared SDDC Manager spec is not beside this checkout")
def test_every_task_status_of_the_spec_is_in_the_table():
    """Read from the official spec, not from our own list: a word the spec has and we do not is a bug."""
    words = _spec_status_words()
    assert len(words) >= 12
    table = set(status for status, _state, _reason in VERDICTS)
    assert words <= table, words - table
    assert all(verdict(task(word)).state != UNKNOWN for word in words)


# --- failure report ---------------------------------------------------------------------------------------

def sub(name, status, errors=(), dependent=(), **extra):
    return sub_task("esxi-1.example.com", status, name=name, old_password="OLD-PW", new_password="NEW-PW",
                    errors=list(errors), id=name, dependentSubTasks=list(dependent), **extra)


ERROR = {"errorCode": "SSH_AUTH", "message": "Cannot log in over SSH", "remediationMessage": "Reset root",
         "referenceToken": "REF1"}
NOTIFIED = {"errorCode": "VSP_DOWN", "message": "VSP did not answer", "notifications": [
    {"severity": "ERROR", "message": "VSP unreachable", "impactMessage": "Passwords of VSP accounts not changed",
     "remediations": [{"message": "Start the VSP service", "link": "https://kb.example.com/1"},
                      {"message": "Then retry", "link": None}]}]}


def test_failures_under_dependent_sub_tasks_are_reported():
    child = sub("child", "FAILED", [ERROR], resourceName="esxi-2.example.com")
    found = verdict(task("FAILED", sub_tasks=[sub("parent", "SUCCESSFUL", dependent=[child])]))
    assert [(e["subtask"], e["resource_name"], e["error_code"]) for e in found.report] == [
        ("child", "esxi-2.example.com", "SSH_AUTH")]


def test_sub_tasks_that_never_ran_add_nothing_but_their_errors_count():
    report = failure_report(task("FAILED", sub_tasks=[
        sub("a", "FAILED", [ERROR]), sub("b", "CANCELLED"), sub("c", "SKIPPED"), sub("d", "SUCCESSFUL"),
        sub("e", "NOT_APPLICABLE"), sub("f", "USER_CANCELLED", [dict(ERROR, errorCode="X")])]))
    assert [e["subtask"] for e in report] == ["a", "f"]


def test_a_failed_task_without_any_error_still_says_it_failed():
    report = failure_report(task("FAILED", sub_tasks=[sub("a", "SUCCESSFUL")]))
    assert len(report) == 1 and "no error" in report[0]["message"] and "FAILED" in report[0]["message"]


def test_task_level_errors_are_reported_when_no_sub_task_has_one():
    report = failure_report(task("FAILED", errors=[ERROR]))
    assert [(e["subtask"], e["error_code"]) for e in report] == [(None, "SSH_AUTH")]


def test_no_report_for_success_or_running():
    assert failure_report(task("SUCCESSFUL", sub_tasks=[sub("a", "FAILED", [ERROR])])) == []
    assert failure_report(task("IN_PROGRESS", sub_tasks=[sub("a", "FAILED", [ERROR])])) == []


def test_9_1_notifications_become_remediation_steps_with_their_links():
    entry = failure_report(task("FAILED", sub_tasks=[sub("a", "FAILED", [NOTIFIED])]))[0]
    assert entry["notifications"] == [{
        "severity": "ERROR", "message": "VSP unreachable", "impact_message": "Passwords of VSP accounts not changed",
        "remediations": [{"message": "Start the VSP service", "link": "https://kb.example.com/1"},
                         {"message": "Then retry", "link": None}]}]
    assert entry["remediation"] == "Start the VSP service"
    assert entry["remediation_links"] == ["https://kb.example.com/1"]
    assert first_remediation(entry) == "Start the VSP service (https://kb.example.com/1)"
    line = describe_failures([entry])[0]
    assert "Remediation: Start the VSP service (https://kb.example.com/1)" in line and "[VSP_DOWN]" in line


def test_a_remediation_message_and_url_of_older_releases():
    entry = failure_report(task("FAILED", sub_tasks=[
        sub("a", "FAILED", [dict(ERROR, remediationUrl="https://docs.example.com/x")])]))[0]
    assert entry["notifications"] == [] and entry["remediation"] == "Reset root"
    assert first_remediation(entry) == "Reset root (https://docs.example.com/x)"


def test_the_report_never_carries_a_password():
    found = verdict(task("FAILED", sub_tasks=[sub("a", "FAILED", [ERROR])]))
    assert "PW" not in json.dumps(found.report) and "PW" not in found.message


# --- fingerprint: telling a retried run from the one before it --------------------------------------------

def test_fingerprint_tells_runs_apart_by_any_visible_change():
    before = task("FAILED", sub_tasks=[sub("a", "FAILED", [ERROR], completionTimestamp="T1")])
    assert fingerprint(before) == fingerprint(json.loads(json.dumps(before)))
    assert fingerprint(before) == fingerprint(dict(before, status="Failed"))  # generic view spelling
    assert fingerprint(before) != fingerprint(dict(before, completionTimestamp="2026-11-27T11:00:00.000Z"))
    later = json.loads(json.dumps(before))
    later["subTasks"][0]["completionTimestamp"] = "T2"
    assert fingerprint(before) != fingerprint(later)


def test_verdict_module_is_the_only_place_that_maps_statuses_to_outcomes():
    """The modules, the waiter and the filters ask the verdict; none keeps its own success list."""
    root = Path(_verdict.__file__).resolve().parents[1]
    offenders = []
    for path in list(root.glob("modules/*.py")) + list(root.glob("filter/*.py")) + list(root.glob("action/*.py")) + [
            root / "module_utils" / "_waiter.py"]:
        text = path.read_text()
        if re.search(r"_status\.(SUCCEEDED|UNSUCCESSFUL|TERMINAL)\b|\.succeeded\(|\.unsuccessful\(|['\"]SUCCESSFUL['\"]", text):
            offenders.append(path.name)
    assert offenders == []
