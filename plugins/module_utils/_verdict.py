# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""The one answer to "did this password operation go through?".

Every module, the waiter, the report filters and the event source ask :func:`verdict`; nothing else
decides from a status.  Only a success counts as a success: a status this collection does not know
is ``unknown``, never ``succeeded``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _status

SUCCEEDED = "succeeded"
ATTENTION = "attention"
RUNNING = "running"
UNKNOWN = "unknown"

# Status -> (reason, what happened, what to do).  Both texts follow "Task <id> ".
_ATTENTION = {
    _status.FAILED: ("failed", "failed", None),
    _status.INCONSISTENT: (
        "inconsistent", "is INCONSISTENT: SDDC Manager no longer knows which password the resources have (check "
                        "the accounts, then REMEDIATE them with the passwords they really have)",
        # A retry cannot repair it (SDDC Manager retries only FAILED tasks): a new REMEDIATE operation does.
        "Check the accounts on the resources, then start a REMEDIATE operation with the password each account really "
        "has: vcf.sddc_manager.credentials with operation_type REMEDIATE, one account at a time (or, with the role "
        "retry_credentials_tasks, an entry for this task in retry_credentials_tasks_specs with operation_type "
        "REMEDIATE)."),
    _status.USER_CANCELLED: (
        "cancelled", "was cancelled by a user; its passwords were not changed",
        "Start a new password operation for these resources."),
    _status.CANCELLED: (
        "cancelled", "was cancelled; its passwords were not changed",
        "Start a new password operation for these resources."),
    _status.TIMED_OUT: (
        "timed_out", "timed out in SDDC Manager",
        "Check the accounts on the resources, then retry the task or remediate them."),
    _status.SKIPPED: (
        "skipped", "was skipped by SDDC Manager; its passwords were not changed",
        "Start a new password operation for these resources."),
}


# What SDDC Manager shows right after it accepted a write, for check mode's prediction and diff.
PREDICTED_STATUS = {"retry": _status.IN_PROGRESS, "start": _status.IN_PROGRESS, "cancel": _status.USER_CANCELLED}


class Verdict:
    """What a task's last read means: ``state``, ``reason``, the normalised ``status``, a one-line
    ``message`` and, for a task that needs attention, the failure ``report``."""

    def __init__(self, task_id, state, status, reason=None, what=None, report=None, ended=None):
        self.task_id = task_id
        self.state = state
        self.status = status
        self.reason = reason
        # What happened, as it follows "Task <id> " or "Task <id> was retried and ".
        self.what = what
        self.report = report or []
        # Whether the task is over: a waiter stops watching it.
        self.ended = state in (SUCCEEDED, ATTENTION) if ended is None else ended

    # Named questions about a task, so that no caller compares status words.  SDDC Manager retries and cancels
    # only FAILED credentials tasks; every other end needs a new operation (or nothing).
    @property
    def retryable(self):
        return self.status == _status.FAILED

    @property
    def cancellable(self):
        return self.status == _status.FAILED

    @property
    def cancelled(self):
        return self.status in (_status.USER_CANCELLED, _status.CANCELLED)

    @property
    def locks(self):
        """Whether the task keeps new password operations off its resources: FAILED (until it is retried or
        cancelled) or still running."""
        return self.status == _status.FAILED or self.state == RUNNING

    @property
    def inconsistent(self):
        return self.status == _status.INCONSISTENT

    @property
    def running(self):
        return self.state == RUNNING

    @property
    def succeeded(self):
        return self.state == SUCCEEDED

    @property
    def did_not_succeed(self):
        """Ended any other way than a success: needs attention, or a status this collection does not know."""
        return self.ended and self.state != SUCCEEDED

    def end_words(self, retried=False, short=False):
        """How the task ended, as it follows "Task <id> ... and ": a retried task that failed "failed again";
        ``short``: "ended <STATUS>" instead of the full sentence."""
        if retried and self.retryable:
            return "failed again"
        return "ended %s" % self.status if short else self.what

    @property
    def advice(self):
        """What to do next for a task that needs attention, when it is the same whatever the error."""
        return _ATTENTION.get(self.status, (None, None, None))[2]

    @property
    def details(self):
        """One line per report entry, without the task id the message already names."""
        return describe_failures(self.report, with_task=False)

    @property
    def message(self):
        text = "Task %s %s" % (self.task_id, self.what)
        if self.state in (SUCCEEDED, RUNNING):
            return text + "."
        return "%s: %s" % (text, " | ".join(self.details))

    def __repr__(self):
        return "Verdict(%s, %s, %s, %s)" % (self.task_id, self.state, self.status, self.reason)


def verdict(task):
    """The verdict on one credentials task (camelCase, as SDDC Manager sends it, credentials or generic view)."""
    task = task or {}
    task_id = task.get("id")
    status = _status.normalize(task.get("status"))
    if status in _status.SUCCEEDED:
        what = "ended %s" % status
        if status == _status.COMPLETED_WITH_WARNING:
            what = "ended COMPLETED_WITH_WARNING: the passwords changed, but read its warnings"
        return Verdict(task_id, SUCCEEDED, status, what=what)
    if status in _status.RUNNING:
        return Verdict(task_id, RUNNING, status, what="is %s" % status)
    report = failure_report(task)
    if status in _ATTENTION:
        reason, what, _advice = _ATTENTION[status]
        return Verdict(task_id, ATTENTION, status, reason=reason, what=what, report=report)
    what = ("has status %r, which this collection does not know; it is not counted as a success. Check it in the "
            "SDDC Manager UI" % task.get("status"))
    # An unknown word with a completion time has ended; without one it may be a new word for "running", so a
    # waiter keeps watching it until its time runs out, and then reports it as unknown.
    return Verdict(task_id, UNKNOWN, status, reason="unknown", what=what, report=report,
                   ended=bool(task.get("completionTimestamp")))


def _walk_subtasks(subtasks):
    for sub in subtasks or []:
        if not isinstance(sub, dict):
            continue
        yield sub
        yield from _walk_subtasks(sub.get("dependentSubTasks"))


def failure_report(task):
    """One entry per error of every sub-task (dependent sub-tasks included) that did not succeed.

    A task that did not succeed but carries no error at all still gets one entry saying so, so that no
    caller can mistake an empty report for "nothing went wrong".  Empty for a succeeded or running task.
    """
    status = _status.normalize(task.get("status"))
    if status in _status.SUCCEEDED or status in _status.RUNNING:
        return []
    report = []
    for sub in _walk_subtasks(task.get("subTasks")):
        sub_status = _status.normalize(sub.get("status"))
        if sub_status in _status.SUCCEEDED or sub_status in _status.RUNNING:
            continue
        errors = [e for e in sub.get("errors") or [] if isinstance(e, dict)]
        # Sub-tasks that never ran because an earlier one failed (cancelled, skipped) add nothing to fix.
        if not errors and sub_status not in (_status.FAILED, _status.INCONSISTENT, _status.TIMED_OUT):
            continue
        for error in errors or [{}]:
            report.append(_report_entry(task, sub, error))
    if not report:
        for error in [e for e in task.get("errors") or [] if isinstance(e, dict)]:
            report.append(_report_entry(task, {}, error))
    if not report:
        entry = _report_entry(task, {}, {})
        entry["message"] = "It ended %s and SDDC Manager reported no error for it." % status
        report.append(entry)
    advice = _ATTENTION.get(status, (None, None, None))[2]
    for entry in report:
        entry["remediation"] = entry["remediation"] or advice
    return report


def _notifications(error):
    """SDDC Manager 9.1's ``notifications[]`` of an Error, in the returned (snake_case) form."""
    out = []
    for note in error.get("notifications") or []:
        if not isinstance(note, dict):
            continue
        out.append({
            "severity": note.get("severity"),
            "message": note.get("message"),
            "impact_message": note.get("impactMessage"),
            "remediations": [{"message": r.get("message"), "link": r.get("link")}
                             for r in note.get("remediations") or [] if isinstance(r, dict)],
        })
    return out


def _report_entry(task, sub, error):
    notifications = _notifications(error)
    links = [error["remediationUrl"]] if error.get("remediationUrl") else []
    steps = []
    for note in notifications:
        for remedy in note["remediations"]:
            if remedy.get("link") and remedy["link"] not in links:
                links.append(remedy["link"])
            if remedy.get("message"):
                steps.append(remedy)
    remediation = error.get("remediationMessage")
    if not remediation and steps:
        remediation = steps[0]["message"]
    return {
        "task_id": task.get("id"),
        "resource_name": sub.get("resourceName"),
        "resource_type": sub.get("entityType"),
        "username": sub.get("username"),
        "credential_type": sub.get("credentialType"),
        "subtask": sub.get("name") or sub.get("description"),
        "status": _status.normalize(sub.get("status") or task.get("status")),
        "error_code": error.get("errorCode"),
        "message": error.get("message") or (notifications[0]["message"] if notifications else None),
        "remediation": remediation,
        "remediation_links": links,
        "notifications": notifications,
        "reference_token": error.get("referenceToken"),
    }


def first_remediation(entry):
    """The first remediation step of a report entry as text, a link kept as a link: 'step (https://...)'."""
    for note in entry.get("notifications") or []:
        for remedy in note.get("remediations") or []:
            if remedy.get("message") or remedy.get("link"):
                text = remedy.get("message") or ""
                return "%s (%s)" % (text, remedy["link"]) if text and remedy.get("link") else text or remedy["link"]
    if entry.get("remediation"):
        links = entry.get("remediation_links") or []
        return "%s (%s)" % (entry["remediation"], links[0]) if links else entry["remediation"]
    return None


def describe_failures(report, with_task=True):
    """One readable line per report entry, for ``msg``."""
    lines = []
    for entry in report:
        where = "%s %s" % (entry.get("resource_type") or "resource", entry.get("resource_name") or "(unnamed)")
        if entry.get("resource_name") is None and entry.get("resource_type") is None:
            where = "the task"
        line = "task %s: %s" % (entry["task_id"], where) if with_task else where
        if entry.get("subtask"):
            line += ", sub-task '%s'" % entry["subtask"]
        line += ": %s" % (entry.get("message") or entry.get("error_code") or "failed without an error message")
        if entry.get("error_code") and entry.get("message") and entry["error_code"] not in entry["message"]:
            line += " [%s]" % entry["error_code"]
        remediation = first_remediation(entry)
        if remediation:
            line += " Remediation: %s" % remediation
        lines.append(line)
    return lines


def fingerprint(task):
    """What a read of ``task`` shows of its last run: equal fingerprints cannot tell two runs apart."""
    subs = tuple((sub.get("id"), _status.normalize(sub.get("status")), sub.get("completionTimestamp"))
                 for sub in _walk_subtasks(task.get("subTasks")))
    return (_status.normalize(task.get("status")), task.get("completionTimestamp"), subs)
