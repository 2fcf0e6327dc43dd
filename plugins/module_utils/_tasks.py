# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""Credentials task operations: read many, retry, cancel, and explain failures.

The functions take a client and return plain data, so the modules (and any
batch caller) share one implementation of each decision.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _spec, _status, _verdict, _waiter
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import AmbiguousWriteError, SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._time import timestamp

# Up to this many tasks are read one by one; beyond it one list read of a window of the newest is cheaper.
LIST_THRESHOLD = 2
# The newest tasks a list read asks for, per task wanted.
WINDOW_PER_ID = 10
# Reads by id sent side by side.
READERS = 8

# A write whose answer was lost, or answered 5xx by something that may have passed it on, is settled by reading
# the task (``_confirm``): the first read CONFIRM_FIRST_PAUSE after it, each pause growing, for the settle time.
CONFIRM_SECONDS = _waiter.SETTLE_SECONDS
CONFIRM_FIRST_PAUSE = _waiter.CONFIRM_FIRST_PAUSE
_clock = time.monotonic
_sleep = time.sleep
_wall_clock = time.time


class TaskReader:
    """Reads given tasks at a cost that follows their number, not SDDC Manager's history.

    SDDC Manager keeps every credentials task it ever ran and lists them newest first, each with all its
    sub-tasks, taking only ``limit``: a whole list read of a few years' history moves tens of thousands of tasks.
    So a list read asks only for the newest ``WINDOW_PER_ID`` tasks per id, about what reading them one by one
    costs; a task not in that window is read by id. When a window held fewer than half of the ids (the tasks are
    older than the newest ones), later reads go by id only. Up to ``LIST_THRESHOLD`` ids are read by id.
    """

    def __init__(self, client):
        self.client = client
        self.windows = True

    def read(self, ids):
        """``{id: credentials task}`` for ``ids``."""
        ids = list(ids)
        listed = {}
        if len(ids) > LIST_THRESHOLD and self.windows:
            window = self.client.list_credentials_tasks(limit=len(ids) * WINDOW_PER_ID)
            listed = dict((task.get("id"), task) for task in window if isinstance(task, dict))
            self.windows = 2 * sum(1 for task_id in ids if task_id in listed) >= len(ids)
        unlisted = [task_id for task_id in ids if task_id not in listed]
        if len(unlisted) > LIST_THRESHOLD:
            # Many reads by id go side by side: a poll takes about one answer's time, not one per task.
            with ThreadPoolExecutor(max_workers=min(READERS, len(unlisted))) as pool:
                listed.update(zip(unlisted, pool.map(lambda task_id: get_task(self.client, task_id), unlisted)))
        for task_id in unlisted:
            if task_id not in listed:
                listed[task_id] = get_task(self.client, task_id)
        return dict((task_id, listed[task_id]) for task_id in ids)


def fetch_tasks(client, ids):
    """``{id: credentials task}`` for ``ids`` with as few requests as it takes (one read; see TaskReader)."""
    return TaskReader(client).read(ids)


def get_task(client, task_id):
    try:
        return client.get_credentials_task(task_id)
    except SddcManagerError as exc:
        if _is_not_found(exc):
            exc.message = ("No credentials task with id %s exists on this SDDC Manager; list the tasks with "
                           "vcf.sddc_manager.credentials_task_info to find the right id." % task_id)
            exc.kind = "not_found"
        raise


def _is_not_found(exc):
    if exc.status_code == 404:
        return True
    code = (exc.error or {}).get("error_code") or ""
    return exc.status_code == 400 and "NOT_FOUND" in code.upper()


def resources_of(task):
    """The resources a credentials task touches, from its sub-tasks (order kept, no repeats)."""
    seen = []
    for sub in task.get("subTasks") or []:
        if not sub.get("resourceName"):
            continue  # sub-tasks of the generic Task view name no resource
        item = {"resource_name": sub.get("resourceName"), "resource_type": sub.get("entityType")}
        if item not in seen:
            seen.append(item)
    if not seen:
        # The generic Task view (answer to PATCH and DELETE) lists resources instead of sub-task owners.
        for resource in task.get("resources") or []:
            seen.append({"resource_name": resource.get("name") or resource.get("fqdn"),
                         "resource_type": resource.get("type")})
    return seen


def plan_retry(task):
    """What a retry of ``task`` would do: ``("retry"|"running"|"done", message)``; raises when it cannot."""
    task_id = task.get("id")
    found = _verdict.verdict(task)
    if found.retryable:
        return "retry", "Task %s failed; it is retried." % task_id
    if found.running:
        return "running", "Task %s is already %s; it was not retried." % (task_id, found.status)
    if found.succeeded:
        return "done", "Task %s already ended %s; there is nothing to retry." % (task_id, found.status)
    advice = " %s" % found.advice if found.advice else ""
    raise SddcManagerError("Task %s %s; it was not retried: SDDC Manager retries only FAILED credentials tasks.%s "
                           "Its errors: %s" % (task_id, found.what, advice, " | ".join(found.details)),
                           kind="not_retryable")


def build_retry_spec(client, task, options):
    """The CredentialsUpdateSpec for ``task``: from the options, or rebuilt from the task."""
    operation = options.get("operation_type") or task.get("type")
    if operation != task.get("type"):
        raise SddcManagerError(
            "Task %s is %s task but operation_type is %s: SDDC Manager retries a task with its own operation "
            "type." % (task.get("id"), _spec.article(task.get("type")), operation), kind="config")
    elements = options.get("elements")
    if not elements:
        if not _spec.can_rebuild(operation):
            raise SddcManagerError(
                "Task %s is %s task: give operation_type and elements with the new password of every "
                "credential (only ROTATE and UPDATE_AUTO_ROTATE_POLICY tasks can be rebuilt from the task)."
                % (task.get("id"), _spec.article(operation)), kind="needs_input")
        if operation == "UPDATE_AUTO_ROTATE_POLICY" and not options.get("auto_rotate_policy"):
            raise SddcManagerError(
                "Task %s is an UPDATE_AUTO_ROTATE_POLICY task: give auto_rotate_policy." % task.get("id"),
                kind="needs_input")
        elements = _spec.elements_from_resource_credentials(client.get_resource_credentials(task.get("id")))
        if not elements:
            raise SddcManagerError(
                "SDDC Manager lists no resources for task %s, so its retry request cannot be rebuilt; give "
                "elements." % task.get("id"), kind="api")
    return _spec.build(operation, elements, options.get("auto_rotate_policy"))


def _confirm(client, task_id, took_effect):
    """The task after a write whose answer did not say whether it was applied, and whether it was.

    Each read rides out an outage within read_retry_budget (the client), and a read that still meets one is "not
    known yet" (``_waiter.poll``): the write is never sent again.  None when no read answered."""
    schedule = _waiter.Schedule(CONFIRM_SECONDS, CONFIRM_FIRST_PAUSE, growth=_waiter.CONFIRM_GROWTH, clock=_clock)
    polled = _waiter.poll(lambda: get_task(client, task_id), took_effect, schedule, _sleep)
    return polled.value, polled.done


def _server_error(exc):
    """An HTTP 5xx answer to a write: from SDDC Manager, or from a proxy that may have passed the write on."""
    return exc.status_code is not None and exc.status_code >= 500


def _unsettled(task_id, action, exc, after):
    """The error for a write whose answer was lost or an error, when the task shows it did not happen (or, with
    ``after`` None, when no read answered: SDDC Manager is down or restarting)."""
    if after is None:
        return SddcManagerError(
            "The %s request for task %s was sent, but its answer was lost and SDDC Manager has not answered a read "
            "since (it is down or restarting; read_retry_budget ran out), so whether it was applied is not known. It "
            "was not sent again: read the task with vcf.sddc_manager.credentials_task_info once SDDC Manager answers, "
            "and run the %s again only if it is still FAILED then." % (action, task_id, action),
            kind="ambiguous", url=exc.url)
    found = _verdict.verdict(after)
    if found.retryable:
        if getattr(exc, "timed_out", False):
            return SddcManagerError(
                "The %s request for task %s got no answer within request_timeout and the task is still FAILED, "
                "but SDDC Manager may still apply it. Read the task with vcf.sddc_manager.credentials_task_info in "
                "a few minutes, and run the %s again only if it is still FAILED then." % (action, task_id, action),
                kind="ambiguous", url=exc.url)
        state, advice = "still FAILED", " Run the %s again" % action
    else:
        state, advice = found.status, ""
    if isinstance(exc, AmbiguousWriteError):
        return SddcManagerError(
            "The %s request for task %s got no answer and the task is %s, so the %s was not applied; nothing "
            "changed.%s" % (action, task_id, state, action, advice + "." if advice else ""),
            kind="ambiguous", url=exc.url)
    exc.message = "%s Task %s is %s, so the %s was not applied; nothing changed.%s" % (
        exc.message, task_id, state, action, advice + " once SDDC Manager answers normally." if advice else "")
    exc.args = (exc.message,)
    return exc


def retry(client, task_id, options, check_mode=False, task=None):
    """Retry one credentials task when it needs it.  Returns a plain result dict.

    The task is read first; only a FAILED task gets a PATCH.  A PATCH whose answer
    is lost or an HTTP 5xx (a proxy may have passed it on), or that another client
    beat us to, is settled by reading the task again, never by sending it twice.
    ``result["baseline"]`` is the task before the retry (see ``_waiter.Baseline``) whenever a retry was sent
    or another client's retry was found, so that no later read of the old run is taken for the new run's end.
    """
    before = task if task is not None else get_task(client, task_id)
    action, message = plan_retry(before)
    result = {"changed": False, "retried": False, "task": before, "before": before, "task_id": task_id,
              "msg": message, "baseline": None}
    if action != "retry":
        return result
    spec = build_retry_spec(client, before, options)
    result["changed"] = True
    if check_mode:
        result["msg"] = "Task %s failed; it would be retried (check mode)." % task_id
        return result
    answer = None
    try:
        sent = client.retry_credentials_task(task_id, spec)
        result["baseline"] = _waiter.Baseline(before, _wall_clock())
        _follow_answer(client, task_id, sent, result)
    except SddcManagerError as exc:
        baseline = result["baseline"] = _waiter.Baseline(before, _wall_clock())
        if isinstance(exc, AmbiguousWriteError) or _server_error(exc):
            after, accepted = _confirm(client, task_id, baseline.took_effect)
            if not accepted:
                raise _unsettled(task_id, "retry", exc, after)
            answer = "was lost" if isinstance(exc, AmbiguousWriteError) else "was HTTP %d" % exc.status_code
            result["task"] = after
        elif exc.status_code not in (400, 409):
            raise
        else:
            return _retried_by_another(client, task_id, baseline, result, exc)
    result["retried"] = True
    result["msg"] = "Task %s was retried." % task_id
    if result.get("unseen"):
        result["msg"] += (" SDDC Manager's answer had no body, and a read of the task still showed it as it was "
                          "before the retry; its new state is not known yet.")
    if answer:
        result["msg"] = ("Task %s was retried (the answer to the retry request %s; a read of the task confirmed "
                         "it was accepted)." % (task_id, answer))
    return result


def _follow_answer(client, task_id, answer, result):
    """Take the task from the answer to an accepted write, or read it when the answer has no body.

    SDDC Manager answers with the task (200 in 4.x, 202 in 9.x); a proxy may drop the body.  When the answer
    names another task id, that task is the one to follow if SDDC Manager has a credentials task by that id.
    The write was accepted whatever happens here, so a failed read leaves the task's state unknown instead of
    failing the caller.
    """
    answered = answer.get("id") if isinstance(answer, dict) else None
    result.setdefault("task_id", task_id)
    if answered == task_id and answer.get("status"):
        result["task"] = answer
        return
    try:
        if answered and answered != task_id:
            try:
                result["task"] = client.get_credentials_task(answered)
                result["task_id"] = answered
            except SddcManagerError as exc:
                if not _is_not_found(exc):
                    raise
        if result["task_id"] == task_id:
            result["task"] = get_task(client, task_id)
    except SddcManagerError as exc:
        result["task"] = {"id": result["task_id"], "status": None}
        result["read_error"] = exc.message
        return
    if result["baseline"].is_stale(result["task"]):
        # The state from before the write, under the old id or the new one: not the task's state now, and the
        # caller must not report it as such.
        result["task"] = {"id": result["task_id"], "status": None}
        result["unseen"] = True


def _retried_by_another(client, task_id, baseline, result, exc):
    """A 400/409 to the PATCH: fine if another client retried the task just before; else the error stands."""
    after = get_task(client, task_id)
    if not baseline.took_effect(after):
        raise exc
    # Someone else (another play, the UI) retried it between our read and our PATCH.
    found = _verdict.verdict(after)
    if found.did_not_succeed:
        # That retry has already ended, and not well: the caller must hear it, as from any other ended task.
        raise SddcManagerError("Task %s was retried by another client just before this one, and %s: %s" % (
            task_id, found.end_words(retried=True), " | ".join(found.details)), kind="not_retryable")
    result.update(changed=False, task=after,
                  msg="Task %s was retried by another client just before this one; it is %s."
                      % (task_id, found.status))
    return result


def cancel(client, task_id, check_mode=False, task=None):
    """Cancel a FAILED credentials task; a cancelled one is left alone; others cannot be."""
    before = task if task is not None else get_task(client, task_id)
    found = _verdict.verdict(before)
    result = {"changed": False, "task": before, "before": before, "task_id": task_id, "baseline": None}
    if found.cancelled:
        result["msg"] = "Task %s is already cancelled." % task_id
        return result
    if not found.cancellable:
        raise SddcManagerError(
            "Task %s is %s; SDDC Manager cancels only FAILED credentials tasks.%s" % (
                task_id, found.status,
                " Wait for it to end with vcf.sddc_manager.credentials_task_wait." if found.running else ""),
            kind="not_cancellable")
    result["changed"] = True
    if check_mode:
        result["msg"] = "Task %s failed; it would be cancelled (check mode)." % task_id
        return result
    try:
        sent = client.cancel_credentials_task(task_id)
        result["baseline"] = _waiter.Baseline(before, _wall_clock())
        _follow_answer(client, task_id, sent, result)
    except SddcManagerError as exc:
        if not (isinstance(exc, AmbiguousWriteError) or _server_error(exc)):
            raise
        after, cancelled = _confirm(client, task_id, lambda read: _verdict.verdict(read).cancelled)
        if not cancelled:
            raise _unsettled(task_id, "cancel", exc, after)
        result["task"] = after
    result["msg"] = "Task %s was cancelled." % task_id
    if result.get("unseen"):
        result["msg"] += (" SDDC Manager's answer had no body, and a read of the task still showed it FAILED; "
                          "it may take a moment to show the cancellation.")
    return result


def to_retry(task, listed):
    """What the bulk retry discovers: FAILED tasks, running ones, and INCONSISTENT ones that no newer task on their
    resources has resolved (an INCONSISTENT task stays so in the history once a remediation repaired it)."""
    found = _verdict.verdict(task)
    return found.retryable or found.running or (found.inconsistent and resolved_by(task, listed) is None)


def to_cancel(task, listed):
    """What the bulk cancel discovers: FAILED tasks, the only ones SDDC Manager cancels."""
    del listed
    return _verdict.verdict(task).cancellable


def resolved_by(task, listed):
    """The newest task, newer than ``task`` and not cancelled, on every resource of ``task``, or None.

    "Judge a resource by its newest task" (FIELD-NOTES): once such a task exists, ``task`` no longer decides."""
    created = timestamp(task.get("creationTimestamp"))
    mine = [(r["resource_name"] or "").lower() for r in resources_of(task)]
    if created is None or not mine:
        return None
    newest = {}
    for other in listed:
        when = timestamp(other.get("creationTimestamp"))
        if other.get("id") == task.get("id") or when is None or when <= created or _verdict.verdict(other).cancelled:
            continue
        for resource in resources_of(other):
            name = (resource["resource_name"] or "").lower()
            if name in mine and (name not in newest or when > newest[name][0]):
                newest[name] = (when, other)
    if len(newest) < len(mine):
        return None
    return max(newest.values(), key=lambda item: item[0])[1]


def select_tasks(client, task_ids, discover=False, resource_types=None, resource_names=None, missing=None,
                 wanted=to_retry):
    """``{id: task}`` for the given ids plus, with ``discover``, every listed task ``wanted(task, listed)`` picks
    (by default every FAILED, running or unresolved INCONSISTENT one) matching the filters.

    Running ones are there to be watched: a rerun after a wait that timed out must learn how they end.
    One list read serves both the discovery and the status of the named tasks.  With ``missing`` (a dict), a
    named id that SDDC Manager does not know goes there with its error instead of stopping the others.
    """
    task_ids = list(dict.fromkeys(task_ids))
    selected, by_id = {}, {}
    if discover or len(task_ids) > LIST_THRESHOLD:
        # Discovery needs every task (a FAILED one may be old); named ones only a window of the newest.
        listed = client.list_credentials_tasks(limit=None if discover else len(task_ids) * WINDOW_PER_ID)
        by_id = dict((task.get("id"), task) for task in listed)
        for task in listed if discover else []:
            if wanted(task, listed) and matches_resources(task, resource_types, resource_names):
                selected[task.get("id")] = task
    for task_id in task_ids:
        if task_id in selected:
            continue
        try:
            # A task missing from the list (an older one past the server's page) is read by itself.
            selected[task_id] = by_id[task_id] if task_id in by_id else get_task(client, task_id)
        except SddcManagerError as exc:
            if missing is None or exc.kind != "not_found":
                raise
            missing[task_id] = exc
    return selected


def matches_resources(task, resource_types=None, resource_names=None):
    """Whether the task touches a resource of one of the types and one of the names (no filter: any).

    Both compare without case: resource types are upper case in the API, and host names are not case-sensitive.
    """
    types = set(t.upper() for t in resource_types or [])
    names = set(n.lower() for n in resource_names or [])
    resources = resources_of(task)
    if types and not any((r["resource_type"] or "").upper() in types for r in resources):
        return False
    if names and not any((r["resource_name"] or "").lower() in names for r in resources):
        return False
    return True


def cancel_many(client, selected, check_mode=False, missing=None):
    """Cancel each of ``selected`` (``{id: task}``) that is FAILED; a cancelled one is left alone; one error per task
    that cannot be (and per id of ``missing``) without stopping the others.  Returns one line per task."""
    lines = []
    for task_id, task in selected.items():
        line = {"task_id": task_id, "type": task.get("type"), "resources": resources_of(task),
                "status_before": _status.normalize(task.get("status"))}
        try:
            result = cancel(client, task_id, check_mode, task=task)
        except SddcManagerError as exc:
            line.update(action="error", status=line["status_before"], msg=exc.message)
            lines.append(line)
            continue
        after = _verdict.verdict(result["task"])
        action = "unchanged"
        if result["changed"]:
            action = "would_cancel" if check_mode else "cancelled"
        status = after.status
        if result["changed"] and (check_mode or after.cancelled):
            status = _verdict.PREDICTED_STATUS["cancel"]
        line.update(action=action, status=status, msg=result["msg"])
        lines.append(line)
    for task_id, exc in (missing or {}).items():
        lines.append({"task_id": task_id, "type": None, "resources": [], "status_before": None, "status": None,
                      "action": "error", "msg": exc.message})
    return lines
