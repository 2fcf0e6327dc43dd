# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn retry and wait results into the report an admin attaches to a change ticket."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import redact

_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


def _parse_time(text):
    if not text:
        return None
    for fmt in _TIME_FORMATS:
        try:
            parsed = datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
    return None


def _result(value, name):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AnsibleFilterError("retry_summary: %s must be a registered module result (a dict)" % name)
    return value


def retry_summary(retry, wait=None):
    """Merge a credentials_task_bulk_retry result and the result of the last wait after it.

    ``wait`` is a credentials_task_wait result; without one, the bulk retry's own wait counts.
    """
    retry = _result(retry, "the retry result")
    wait = _result(retry if wait is None else wait, "the wait result")
    waited = dict((t.get("id"), t) for t in wait.get("tasks") or [])
    report = wait.get("failed_subtasks") or []
    pending = set(wait.get("pending_ids") or [])
    tasks = []
    for entry in retry.get("results") or []:
        task_id = entry.get("task_id")
        final = waited.get(task_id, {})
        status = final.get("normalized_status") or entry.get("status")
        errors = [e for e in report if e.get("task_id") == task_id]
        started = _parse_time(entry.get("retried_at"))
        ended = _parse_time(final.get("completion_timestamp")) if task_id not in pending else None
        tasks.append({
            "task_id": task_id,
            "type": entry.get("type"),
            "resources": entry.get("resources") or [],
            "action": entry.get("action"),
            "status_before": entry.get("status_before"),
            "status_after": status,
            "retried_at": entry.get("retried_at"),
            "completed_at": final.get("completion_timestamp") if ended else None,
            "duration_seconds": round((ended - started).total_seconds(), 1) if started and ended else None,
            "failed_subtasks": errors,
            "msg": entry.get("msg"),
        })
    summary = {
        "retried": [t["task_id"] for t in tasks if t["action"] == "retried"],
        "would_retry": [t["task_id"] for t in tasks if t["action"] == "would_retry"],
        "skipped": [dict((k, t[k]) for k in ("task_id", "status_before", "msg")) for t in tasks
                    if t["action"] == "skipped"],
        "errors": retry.get("errors") or [],
        "succeeded": list(wait.get("succeeded_ids") or []),
        "failed": [t for t in tasks if t["task_id"] in set(wait.get("failed_ids") or [])],
        "timed_out": sorted(pending),
        "tasks": tasks,
    }
    summary["problems"] = _problems(summary)
    # Registered results are already redacted; this guards hand-built input too.
    return redact(summary)


def _problems(summary):
    """One readable line per task that needs a person: failed again, still running, or not retryable."""
    lines = []
    for task in summary["failed"]:
        for error in task["failed_subtasks"] or [{}]:
            line = "Task %s (%s %s) failed again" % (
                task["task_id"], error.get("resource_type") or "resource", error.get("resource_name") or
                ", ".join(r.get("resource_name") or "?" for r in task["resources"]))
            if error.get("subtask"):
                line += " in sub-task '%s'" % error["subtask"]
            if error.get("message") or error.get("error_code"):
                line += ": %s" % (error.get("message") or error.get("error_code"))
                if error.get("error_code") and error.get("message"):
                    line += " [%s]" % error["error_code"]
            if error.get("remediation"):
                line += ". Remediation: %s" % error["remediation"]
            lines.append(line)
    for task_id in summary["timed_out"]:
        lines.append("Task %s was still running when the wait timed out." % task_id)
    for error in summary["errors"]:
        lines.append(error.get("msg") or "Task %s could not be retried." % error.get("task_id"))
    return lines


def _cell(text):
    return (text or "").replace("|", "\\|").replace("\n", " ").strip() or "-"


def retry_report_markdown(summary, title="SDDC Manager credentials task retry"):
    """A Markdown summary table of a retry_summary result."""
    if not isinstance(summary, dict) or not is_sequence(summary.get("tasks", [])):
        raise AnsibleFilterError("retry_report_markdown: expects the output of vcf.sddc_manager.retry_summary")
    lines = [
        "# %s" % title,
        "",
        "%d retried, %d succeeded, %d failed, %d timed out, %d skipped, %d could not be retried." % (
            len(summary.get("retried") or []), len(summary.get("succeeded") or []), len(summary.get("failed") or []),
            len(summary.get("timed_out") or []), len(summary.get("skipped") or []),
            len(summary.get("errors") or [])),
        "",
        "| Task | Resources | Type | Before → After | Duration | First error | Remediation |",
        "| --- | --- | --- | --- | --- | --- | --- |",
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
        lines.append("| %s | %s | %s | %s → %s | %s | %s | %s |" % (
            _cell(task.get("task_id")), _cell(resources), _cell(task.get("type")), _cell(task.get("status_before")),
            _cell(task.get("status_after")), "%.0f s" % duration if duration is not None else "-", _cell(error),
            _cell(first.get("remediation"))))
    return "\n".join(lines) + "\n"


class FilterModule(object):
    def filters(self):
        return {
            "retry_summary": retry_summary,
            "retry_report_markdown": retry_report_markdown,
        }
