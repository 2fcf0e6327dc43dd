# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""Many tasks at once: retry them in parallel, then follow them to their end with the one waiter.

The retry, bulk retry and wait modules are short scripts over these functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _operations, _status, _tasks, _verdict, _waiter
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError

# Errors that make SDDC Manager unusable for every task, not just one: the run stops and says what it did.
FATAL_KINDS = frozenset(["connection", "tls", "auth", "timeout"])


def wait_after_writes(client, ids, baselines=None, known=None, timeout=_waiter.WAIT_TIMEOUT,
                      sleep=_waiter.WAIT_SLEEP):
    """Wait for ``ids``; a task written to just before has its :class:`_waiter.Baseline` in ``baselines``."""
    # An outage is "not known yet" (``_waiter.poll``); each read gives up by the wait's deadline (``bound``).
    # One reader for the whole wait: it learns whether the watched tasks are among the newest.
    waiter = _waiter.Waiter(_tasks.TaskReader(client).read, timeout, sleep,
                            bound=getattr(client, "time_limit", None))
    return waiter.wait(ids, known=known, baselines=baselines)


# end_session: when a module run revokes its session's refresh token itself, so a play needs no run of the token
# module at its end: never; when no task it followed is still running; or at its end whatever (the run that ends
# the wait, at its deadline too).
END_SESSION = ("never", "when_done", "at_end")


def end_session(client, mode, still_running):
    """The result keys of ``end_session``: ``session_ended`` (revoked now), and ``session_end_msg`` when the revoke
    failed (best effort: the outcome of the tasks stands)."""
    if mode == "never" or (mode == "when_done" and still_running):
        return {"session_ended": False}
    problem = client.end_session()
    if problem is None:
        return {"session_ended": True}
    return {"session_ended": False, "session_end_msg": problem}


def entry(before, after, action, msg):
    """One task's line in a bulk result."""
    return {
        "task_id": before.get("id"),
        "type": before.get("type"),
        "action": action,
        "status_before": _status.normalize(before.get("status")),
        "status": _status.normalize(after.get("status")),
        "resources": _tasks.resources_of(before),
        "msg": msg,
    }


class RetryRun:
    """What a bulk retry did: one entry per task, the ids by action, and the error that stopped it, if any."""

    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.results = []
        self.errors = []
        self.needs_input = []  # discovered tasks whose retry needs what only a person can give
        self.retried_ids = []
        self.watched_ids = []
        self.remediated_ids = []  # the REMEDIATE tasks started for INCONSISTENT ones (not in check mode)
        self.known = {}  # tasks read before and not written to since: their read counts for the wait
        self.baselines = {}
        self.fatal = None

    @property
    def followed(self):
        """The tasks a wait follows: those retried (not in check mode) and those already running."""
        return ([] if self.check_mode else self.retried_ids) + self.watched_ids + self.remediated_ids

    def add(self, task_id, task, outcome, exc, named=True):
        if exc is not None and exc.kind == "needs_input" and not named:
            # Found by discovery, not asked for: the others go on, and the report says what this one needs.
            msg = "%s It was found by discover and left as it is%s" % (exc.message, "." if "entry for task" in exc.message
                                                                       else ": give it an entry in tasks to retry it.")
            self.needs_input.append({"task_id": task_id, "type": task.get("type"), "msg": msg})
            self.results.append(entry(task, task, "needs_input", msg))
            return
        if exc is not None:
            if exc.kind in FATAL_KINDS:
                self.fatal = self.fatal or exc
            self.errors.append({"task_id": task_id, "msg": exc.message})
            self.results.append(entry(task, task, "error", exc.message))
            return
        if "remediated_by" in outcome:
            self._add_remediation(task, outcome)
            return
        found = _verdict.verdict(outcome["task"])
        action = "skipped"
        if outcome["changed"]:
            action = "would_retry" if self.check_mode else "retried"
            self.retried_ids.append(outcome["task_id"])
        elif found.running or outcome["baseline"] is not None:
            # Running, or retried by another client just before: follow it to its end.
            action = "watched"
            self.watched_ids.append(task_id)
            if outcome["baseline"] is None:
                self.known[task_id] = task
        line = entry(task, outcome["task"], action, outcome["msg"])
        if outcome.get("judged_by"):
            line.update(judged_by=outcome["judged_by"], judged_by_status=outcome["judged_by_status"])
        if outcome["baseline"] is not None:
            line["task_id"] = outcome["task_id"]
            # What a later credentials_task_wait (after_retry) compares reads with, as this run's own wait does.
            line.update(outcome["baseline"].as_result())
            self.baselines[outcome["task_id"]] = outcome["baseline"]
        self.results.append(line)

    def _add_remediation(self, task, outcome):
        """An INCONSISTENT task and the REMEDIATE operation started for it (``_operations.remediate``)."""
        new_id = outcome["remediated_by"]
        if new_id and not self.check_mode:
            self.remediated_ids.append(new_id)
        line = entry(task, task if self.check_mode else outcome["task"],
                     "would_remediate" if self.check_mode else "remediated", outcome["msg"])
        line["remediation_task_id"] = new_id
        self.results.append(line)

    def update_statuses(self, tasks):
        """Each line's status from the wait's last read."""
        for line in self.results:
            followed = line.get("remediation_task_id") or line["task_id"]
            if followed in tasks:
                line["status"] = _status.normalize(tasks[followed].get("status"))

    def summary(self):
        """The result keys every path returns, before any wait."""
        remediating = [r["task_id"] for r in self.results if r["action"] in ("remediated", "would_remediate")]
        out = dict(changed=bool(self.retried_ids or remediating),
                   retried_ids=[] if self.check_mode else list(self.retried_ids),
                   remediated_ids=list(self.remediated_ids),
                   watched_ids=list(self.watched_ids), errors=list(self.errors), needs_input=list(self.needs_input),
                   results=self.results,
                   skipped_ids=[r["task_id"] for r in self.results if r["action"] == "skipped"])
        if self.check_mode:
            out["would_retry_ids"] = list(self.retried_ids)
            out["would_remediate_ids"] = remediating
        return out


def retry_many(client, selected, requests_by_id, check_mode=False, concurrency=16, missing=None,
               wait_timeout=_waiter.WAIT_TIMEOUT, wait_sleep=_waiter.WAIT_SLEEP):
    """Retry each of ``selected`` (``{id: task}``) that needs it, ``concurrency`` at a time; each id of
    ``missing`` (``{id: error}``, ids SDDC Manager does not know) is one error among the results.
    ``wait_timeout``/``wait_sleep``: the wait for each but the last REMEDIATE of a remediation of several accounts."""

    def wait_for(task_id):
        return wait_after_writes(client, [task_id], timeout=wait_timeout, sleep=wait_sleep)

    def retry_one(item):
        task_id, task = item
        named = task_id in requests_by_id
        try:
            if _verdict.verdict(task).inconsistent:
                # A retry cannot repair it: a REMEDIATE operation can, with the passwords really set; one per account,
                # in turn, as the credentials module sends them.
                return task_id, task, _operations.for_inconsistent(client, task, requests_by_id.get(task_id, {}),
                                                                   check_mode, wait_for), None, named
            return task_id, task, _tasks.retry(client, task_id, requests_by_id.get(task_id, {}), check_mode,
                                               task=task), None, named
        except SddcManagerError as exc:
            return task_id, task, None, exc, named

    run = RetryRun(check_mode)
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(selected)))) as pool:
        for outcome in pool.map(retry_one, selected.items()):
            run.add(*outcome)
    for task_id, exc in (missing or {}).items():
        run.add(task_id, {"id": task_id}, None, exc)
    return run


def select_and_retry(client, requests_by_id, params, check_mode=False):
    """The bulk retry: the named tasks (``requests_by_id``) and, with ``params["discover"]``, the FAILED and running
    ones matching its filters, retried ``params["concurrency"]`` at a time.  Raises only when the tasks cannot be
    read at all; a named id SDDC Manager does not know is one error among the results."""
    missing = {}
    selected = _tasks.select_tasks(client, list(requests_by_id), discover=params["discover"], missing=missing,
                                   resource_types=params["resource_types"], resource_names=params["resource_names"])
    return retry_many(client, selected, requests_by_id, check_mode, params["concurrency"], missing,
                      params.get("wait_timeout", _waiter.WAIT_TIMEOUT), params.get("wait_sleep", _waiter.WAIT_SLEEP))
