# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn retry and wait results into the report an admin attaches to a change ticket."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import redact
from ansible_collections.vcf.sddc_manager.plugins.module_utils._time import timestamp


def _result(value, name):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AnsibleFilterError("retry_summary: %s must be a registered module result (a dict)" % name)
    return value


def _final_verdict(task_id, final, entry, pending):
    """The verdict on what the last read showed: the module's own when the task was waited for."""
    if task_id in pending:
        return _verdict.verdict({"id": task_id, "status": _verdict.PREDICTED_STATUS["retry"]})
    return _verdict.verdict(dict(final, id=task_id, status=final.get("normalized_status") or entry.get("status"),
                                 completionTimestamp=final.get("completion_timestamp")))


# What the modules' messages call an option, and what a user of the role sets instead: the one place where
# module words become role words (the role passes its messages through role_words).
ROLE_WORDS = [
    (re.compile(r"Task (\S+) is (an? [A-Z_]+) task: give operation_type and elements"),
     r"Task \1 is \2 task: give operation_type and elements in retry_credentials_tasks_specs['\1']"),
    (re.compile(r"Task (\S+) is an UPDATE_AUTO_ROTATE_POLICY task: give auto_rotate_policy"),
     r"Task \1 is an UPDATE_AUTO_ROTATE_POLICY task: give auto_rotate_policy in retry_credentials_tasks_specs['\1']"),
    (re.compile(r"give tasks an entry for task (\S+) with"), r"set retry_credentials_tasks_specs['\1'] with"),
    (re.compile(r"give it an entry in tasks to retry it"),
     "give it an entry in retry_credentials_tasks_specs to retry it"),
    (re.compile(r"tasks\[\d+\] \(task (\S+)\): "), r"retry_credentials_tasks_specs['\1']: "),
    (re.compile(r"\b(resource_types|resource_names|wait_timeout|wait_sleep|concurrency)\b(?=[ :])"),
     r"retry_credentials_tasks_\1"),
    (re.compile(r"parameters are required together: username, password"),
     "retry_credentials_tasks_username and retry_credentials_tasks_password (or SDDC_MANAGER_USERNAME and "
     "SDDC_MANAGER_PASSWORD) go together: give both"),
    (re.compile(r"one of the following is required: username, access_token"),
     "give retry_credentials_tasks_username and retry_credentials_tasks_password (or SDDC_MANAGER_USERNAME and "
     "SDDC_MANAGER_PASSWORD)"),
    (re.compile(r"Give username and password \(SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD\) so that it can log in "
                r"again, or a fresh access_token and refresh_token from the vcf\.sddc_manager\.token module"),
     "Give retry_credentials_tasks_username and retry_credentials_tasks_password (or SDDC_MANAGER_USERNAME and "
     "SDDC_MANAGER_PASSWORD) so that the role can log in again"),
    (re.compile(r"missing required arguments: hostname"),
     "give retry_credentials_tasks_hostname (or SDDC_MANAGER_HOST)"),
]


def role_words(text):
    """A module's message in the words of the role retry_credentials_tasks (its variables, not module options)."""
    if not isinstance(text, str):
        return text
    for pattern, replacement in ROLE_WORDS:
        text = pattern.sub(replacement, text)
    return text


def retry_summary(retry, wait=None, stopped_because=None, words="module"):
    """Merge a credentials_task_bulk_retry result and the result of the last wait after it.

    ``wait`` is a credentials_task_wait result; without one, the bulk retry's own wait counts.
    ``stopped_because``: why the run stopped before every task ended (a wait step failed), for the report.
    ``words``: ``role`` words the messages for a user of the role retry_credentials_tasks.
    """
    retry = _result(retry, "the retry result")
    wait = _result(retry if wait is None else wait, "the wait result")
    waited = dict((t.get("id"), t) for t in wait.get("tasks") or [])
    report = wait.get("failed_subtasks") or []
    pending = set(wait.get("pending_ids") or [])
    ended_at = wait.get("ended_at") or {}
    tasks = []
    for entry in retry.get("results") or []:
        task_id = entry.get("task_id")
        # An INCONSISTENT task is judged by the REMEDIATE task started for it.
        followed_id = entry.get("remediation_task_id") or task_id
        final = waited.get(followed_id, {})
        found = _final_verdict(followed_id, final, entry, pending)
        state, reason = found.state, found.reason
        if entry.get("action") in ("error", "would_retry", "would_remediate") or (
                entry.get("action") == "remediated" and not entry.get("remediation_task_id")):
            state, reason = None, None  # not retried: nothing ended that this run could judge
        status = final.get("normalized_status") or entry.get("status")
        started = timestamp(entry.get("retried_at"))
        ended = timestamp(ended_at.get(followed_id)) if followed_id not in pending else None
        errors = [e for e in report if e.get("task_id") == followed_id] or (
            final.get("failed_subtasks") or [] if state in (_verdict.ATTENTION, _verdict.UNKNOWN) else [])
        tasks.append({
            "task_id": task_id,
            "type": entry.get("type"),
            "resources": entry.get("resources") or [],
            "action": entry.get("action"),
            "status_before": entry.get("status_before"),
            "status_after": status,
            "verdict": state,
            "verdict_reason": reason,
            # How it ended, in the words of every module: "failed again" after a retry of this run.
            "ended": found.end_words(entry.get("action") == "retried", short=True) if found.ended and state else None,
            "remediated_by": entry.get("remediation_task_id"),
            "retried_at": entry.get("retried_at"),
            "completed_at": final.get("completion_timestamp") if followed_id not in pending else None,
            "ended_seen_at": ended_at.get(followed_id) if followed_id not in pending else None,
            # Both ends by the controller's clock; SDDC Manager's clock may be set differently.
            "duration_seconds": round(max(0.0, ended - started), 1) if started and ended else None,
            "failed_subtasks": errors,
            "msg": _remediation_words(entry, found, state) or entry.get("msg"),
        })
    followed = [t for t in tasks if t["action"] in ("retried", "watched", "remediated")]
    summary = {
        "retried": [t["task_id"] for t in tasks if t["action"] == "retried"],
        "watched": [t["task_id"] for t in tasks if t["action"] == "watched"],
        "would_retry": [t["task_id"] for t in tasks if t["action"] == "would_retry"],
        "remediated": [dict((k, t[k]) for k in ("task_id", "remediated_by", "verdict", "msg")) for t in tasks
                       if t["action"] == "remediated"],
        "would_remediate": [t["task_id"] for t in tasks if t["action"] == "would_remediate"],
        "skipped": [dict((k, t[k]) for k in ("task_id", "status_before", "msg")) for t in tasks
                    if t["action"] == "skipped"],
        "errors": retry.get("errors") or [],
        "needs_input": retry.get("needs_input") or [],
        "succeeded": [t["task_id"] for t in followed if t["verdict"] == _verdict.SUCCEEDED],
        "failed": [t for t in followed if t["verdict"] in (_verdict.ATTENTION, _verdict.UNKNOWN)],
        "still_running": [t["task_id"] for t in followed if t["verdict"] == _verdict.RUNNING],
        "stopped_because": stopped_because or None,
        "tasks": tasks,
    }
    if words == "role":
        for key in ("errors", "needs_input"):
            summary[key] = [dict(item, msg=role_words(item.get("msg"))) for item in summary[key]]
        summary["stopped_because"] = role_words(summary["stopped_because"])
    summary["problems"] = _problems(summary)
    # Registered results are already redacted; this guards hand-built input too.
    return redact(summary)


def _remediation_words(entry, found, state):
    """How the remediation of an INCONSISTENT task went, for its line in the report."""
    if entry.get("action") != "remediated" or not entry.get("remediation_task_id"):
        return None
    new_id = entry["remediation_task_id"]
    if state == _verdict.SUCCEEDED:
        return "Task %s was INCONSISTENT; remediated by task %s." % (entry.get("task_id"), new_id)
    if state == _verdict.RUNNING:
        return "Task %s is INCONSISTENT; its remediation, task %s, is %s." % (entry.get("task_id"), new_id, found.status)
    return "Task %s is INCONSISTENT; its remediation, task %s, %s." % (entry.get("task_id"), new_id, found.end_words(
        short=True))


def _problems(summary):
    """One readable line per task that needs a person: did not succeed, still running, or not retryable."""
    lines = []
    for task in summary["failed"]:
        where = ", ".join(r.get("resource_name") or "?" for r in task["resources"])
        first = "Task %s (%s %s) %s" % (task["task_id"], task["type"] or "task", where or "no resource",
                                        task["ended"] or "ended %s" % task["status_after"])
        if task.get("remediated_by"):
            first = "Task %s (%s %s) is INCONSISTENT and its remediation, task %s, %s" % (
                task["task_id"], task["type"] or "task", where or "no resource", task["remediated_by"],
                task["ended"] or "ended %s" % task["status_after"])
        details = _verdict.describe_failures(task["failed_subtasks"], with_task=False)
        lines.append("%s: %s" % (first, " | ".join(details)) if details else first + ".")
    for task_id in summary["still_running"]:
        lines.append("Task %s was still running when the %s." % (
            task_id, "run stopped" if summary["stopped_because"] else "wait timed out"))
    for error in summary["errors"]:
        lines.append(error.get("msg") or "Task %s could not be retried." % error.get("task_id"))
    if summary["stopped_because"]:
        lines.append("The run stopped before every task ended: %s" % summary["stopped_because"])
    return lines


def _cell(text):
    return (text or "").replace("|", "\\|").replace("\n", " ").strip() or "-"


def _remediation_cell(entry):
    """The first remediation step, its link kept as a link (a Markdown autolink)."""
    for note in entry.get("notifications") or []:
        for remedy in note.get("remediations") or []:
            if remedy.get("message") or remedy.get("link"):
                return _with_link(remedy.get("message"), remedy.get("link"))
    links = entry.get("remediation_links") or []
    return _with_link(entry.get("remediation"), links[0] if links else None)


def _with_link(text, link):
    text = _cell(text) if text else ""
    if link:
        return ("%s <%s>" % (text, link.strip())).strip()
    return text or "-"


def retry_report_markdown(summary, title="SDDC Manager credentials task retry"):
    """A Markdown summary table of a retry_summary result."""
    if not isinstance(summary, dict) or not is_sequence(summary.get("tasks", [])):
        raise AnsibleFilterError("retry_report_markdown: expects the output of vcf.sddc_manager.retry_summary")
    lines = [
        "# %s" % title,
        "",
        "%d retried, %d already running and watched, %d succeeded, %d did not succeed, %d still running, "
        "%d skipped, %d could not be retried, %d need input." % (
            len(summary.get("retried") or []), len(summary.get("watched") or []), len(summary.get("succeeded") or []),
            len(summary.get("failed") or []), len(summary.get("still_running") or []), len(summary.get("skipped") or []),
            len(summary.get("errors") or []), len(summary.get("needs_input") or [])),
        "",
    ]
    if summary.get("stopped_because"):
        lines += ["**The run stopped before every task ended:** %s" % _cell(summary["stopped_because"]), ""]
    lines += [
        "| Task | Resources | Type | Before → After | Verdict | Duration | First error | Remediation |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    errors = dict((e.get("task_id"), e.get("msg")) for e in summary.get("errors") or [])
    for task in summary.get("tasks") or []:
        resources = ", ".join("%s (%s)" % (r.get("resource_name"), r.get("resource_type"))
                              for r in task.get("resources") or [])
        first = (task.get("failed_subtasks") or [{}])[0]
        error = first.get("message")
        if error and first.get("resource_name"):
            error = "%s: %s" % (first["resource_name"], error)
        error = error or errors.get(task.get("task_id"))
        duration = task.get("duration_seconds")
        verdict = task.get("verdict") or task.get("action")
        if task.get("verdict_reason") and verdict != task.get("verdict_reason"):
            verdict = "%s (%s)" % (verdict, task["verdict_reason"])
        lines.append("| %s | %s | %s | %s → %s | %s | %s | %s | %s |" % (
            _cell(task.get("task_id")), _cell(resources), _cell(task.get("type")), _cell(task.get("status_before")),
            _cell(task.get("status_after")), _cell(verdict), "%.0f s" % duration if duration is not None else "-",
            _cell(error), _remediation_cell(first) if first else "-"))
    if summary.get("remediated"):
        lines += ["", "## INCONSISTENT tasks remediated", ""]
        lines += ["- %s" % _cell(item.get("msg")) for item in summary["remediated"]]
    if summary.get("needs_input"):
        lines += ["", "## Needs input (not retried)", ""] + ["- %s" % _cell(item.get("msg"))
                                                             for item in summary["needs_input"]]
    steps = _all_remediation_steps(summary)
    if steps:
        lines += ["", "## Remediation steps from SDDC Manager", ""] + steps
    return "\n".join(lines) + "\n"


def _all_remediation_steps(summary):
    """Every 9.1 notification of every task that did not succeed, each remediation with its link."""
    out = []
    for task in summary.get("tasks") or []:
        for entry in task.get("failed_subtasks") or []:
            for note in entry.get("notifications") or []:
                head = "- Task %s, %s: **%s** %s" % (
                    _cell(task.get("task_id")), _cell(entry.get("resource_name") or "task"),
                    _cell(note.get("severity")), _cell(note.get("message")))
                if note.get("impact_message"):
                    head += " Impact: %s" % _cell(note["impact_message"])
                out.append(head)
                for remedy in note.get("remediations") or []:
                    out.append("  - %s" % _with_link(remedy.get("message"), remedy.get("link")))
    return out


class FilterModule(object):
    def filters(self):
        return {
            "retry_summary": retry_summary,
            "retry_report_markdown": retry_report_markdown,
            "role_words": role_words,
        }
