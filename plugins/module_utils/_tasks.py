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

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.warnings import warn as _module_warn

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _spec, _status, _verdict, _waiter
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import AmbiguousWriteError, SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._time import timestamp

# Up to this many tasks are read one by one; beyond it one list read of a window of the newest is cheaper.
LIST_THRESHOLD = 2
# The newest tasks a list read asks for, per task wanted.
WINDOW_PER_ID = 10
# Reads by id sent side by side.
READERS = 8
# The newest tasks a poll of the event source reads first (TaskFeed); the window doubles while it may have cut off
# new tasks.
FIRST_WINDOW = 20
# What one request costs beyond the task elements it carries, in bytes: the HTTP headers both ways with the token,
# and SDDC Manager's own work per request (authentication, the query). It makes a read by id dearer than one more
# element of a list read; with the size of the elements seen, it decides between one full read and reads by id.
REQUEST_BYTES = 2000
# The size of an element until one was measured: a credentials task of two sub-tasks as SDDC Manager lists it.
ELEMENT_BYTES = 1500
# Elements of each answer whose size is measured (their JSON); enough for an average, cheap at any list length.
MEASURED = 3
# The event source reads the whole list now and then even when every window reached tasks it knew: a task that
# lists below the newest without being new to it (a retry SDDC Manager might continue under a new id with the old
# creation time [guess], a task written late with an older time) is then seen at the next sweep, not never. A sweep
# comes at least SWEEP_SECONDS after the last, and only once the polls since have read SWEEP_SHARE times as many
# tasks as it will: over any stretch, sweeps cost at most 1/SWEEP_SHARE of the polls' own reads, whatever the
# history (with 20,000 tasks and a window of 20, about a sweep a day at the default interval of 60 s).
SWEEP_SECONDS = 3600
SWEEP_SHARE = 4
# A FAILED task that rests outside the window (nobody retried it yet) is read by id this often, not at every poll:
# it changes only when someone retries it, and the sweep and these reads see that. Running tasks and tasks the
# caller follows (``TaskFeed.follow``: an event was just emitted for them, a retry is likely) are read every poll.
REST_SECONDS = 300
# How long ``TaskFeed.follow`` keeps a resting task read at every poll.
FOLLOW_SECONDS = 900

# A write whose answer was lost, or answered 5xx by something that may have passed it on, is settled by reading
# the task (``_confirm``): the first read CONFIRM_FIRST_PAUSE after it, each pause growing, for the settle time.
CONFIRM_SECONDS = _waiter.SETTLE_SECONDS
CONFIRM_FIRST_PAUSE = _waiter.CONFIRM_FIRST_PAUSE
_clock = time.monotonic
_sleep = time.sleep
_wall_clock = time.time


def out_of_order(tasks):
    """The first pair ``(earlier, later)`` of listed tasks where the later one was created after the earlier one (so
    the list is not newest first), or None. Tasks without a creation time that can be read are left out: nothing
    says where they belong."""
    previous = None
    for task in tasks:
        when = _creation(task)
        if when is None:
            continue
        if previous is not None and _later(when, previous[0]):
            return previous[1], task
        previous = (when, task)
    return None


# SDDC Manager's own form of a time (UTC, "Z"): in this form text order is time order.
_UTC_FORM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _creation(task):
    """A task's creation time as ``(text, epoch)``: epoch None for SDDC Manager's UTC form, compared as text; None
    when the task has no creation time that can be read."""
    text = task.get("creationTimestamp") if isinstance(task, dict) else None
    if not isinstance(text, str) or not text:
        return None
    if _UTC_FORM.match(text):
        return text, None
    epoch = timestamp(text)
    return None if epoch is None else (text, epoch)


def _later(one, other):
    """Whether creation time ``one`` is later than ``other``: as text when both have SDDC Manager's form and length
    (a list of 20,000 is checked in milliseconds), else as epoch seconds."""
    if one[1] is None and other[1] is None and len(one[0]) == len(other[0]):
        return one[0] > other[0]
    mine, theirs = timestamp(one[0]), timestamp(other[0])
    return mine is not None and theirs is not None and mine > theirs


def newest_first(tasks):
    """``tasks`` sorted newest first by creation time, keeping ties in their order; those without one last."""
    return sorted(tasks, key=lambda task: timestamp(task.get("creationTimestamp")) or 0.0, reverse=True)


def is_open(task):
    """Whether a task can still change: running, FAILED (SDDC Manager retries it under its id and in its place in
    the list, which a retry does not move to the top) or in a status this collection does not know. Every other
    end is final."""
    found = _verdict.verdict(task)
    return found.retryable or not found.ended


class Listing:
    """One answer to a list read: ``tasks`` (the elements that are tasks, in the order answered), ``total``
    (``pageMetadata.totalElements``, or None), the ``limit`` asked and whether the answer was newest first."""

    def __init__(self, elements, total, limit, ordered):
        self.tasks = [task for task in elements if isinstance(task, dict)]
        self.size = len(elements)
        self.total = total
        self.limit = limit
        self.ordered = ordered

    @property
    def complete(self):
        """Whether the answer holds every task SDDC Manager has: it says so (``totalElements``), or, when it does
        not say, it answered fewer than asked (or all was asked)."""
        if self.total is not None:
            return self.size >= self.total
        return self.limit is None or self.size < self.limit

    def by_id(self):
        return dict((task.get("id"), task) for task in self.tasks)


class TaskReader:
    """The one way this collection reads credentials tasks, at a cost that follows their number, not SDDC Manager's
    history; the wait, ``discover`` (select_tasks), the info module and the event source (TaskFeed) all use it.

    SDDC Manager keeps every credentials task it ever ran and lists them newest first, each with all its
    sub-tasks, taking only ``limit``: a whole list read of a few years' history moves tens of thousands of tasks.
    So a list read for given ids asks only for the newest ``WINDOW_PER_ID`` tasks per id, about what reading them one
    by one costs; a task not in that window is read by id. When a window held fewer than half of the ids (the tasks
    are older than the newest ones), later reads go by id only. Up to ``LIST_THRESHOLD`` ids are read by id.

    Every list answer's order is checked (creation times newest first, tasks without one left out). A window of a
    list in another order is a sample of the history, not its newest part: the reader then warns once (``warn``:
    the module's warnings by default, which Ansible returns with the result; the event source logs) and from then
    on reads the whole list or by id, never a window. The tasks such an answer holds are still true reads of them.

    Between one full list read and reads by id, the cheaper wins (``cheaper_in_full``): from ``totalElements`` and
    the size of the elements seen, with ``REQUEST_BYTES`` per request.

    ``elements`` and ``requests`` count what the reader has read (tasks received, list and by-id reads sent; a read
    the client retried counts once).
    """

    def __init__(self, client, warn=None):
        self.client = client
        self.windows = True
        self.ordered = True
        self.total = None
        self.element_bytes = float(ELEMENT_BYTES)
        self.elements = 0
        self.requests = 0
        self._warn = warn if warn is not None else _module_warn
        self._lock = threading.Lock()  # reads by id count from several threads

    def _count(self, requests, elements):
        with self._lock:
            self.requests += requests
            self.elements += elements

    def list(self, limit=None):
        """One list read, the newest ``limit`` tasks (all with None), its order checked: a :class:`Listing`."""
        self._count(1, 0)
        elements, total = self.client.list_credentials_tasks_page(limit=limit)
        self._count(0, len(elements))
        if total is not None:
            self.total = total
        self._measure(elements)
        pair = out_of_order(elements)
        if pair is not None and self.ordered:
            self.ordered = False
            self._warn(
                "SDDC Manager listed its credentials tasks out of order: task %s (created %s) came after task %s "
                "(created %s), not newest first. A list of the newest tasks cannot be trusted, so this run reads the "
                "whole list, or each task by id, from now on: the outcome is the same, but reads cost more."
                % (pair[1].get("id"), pair[1].get("creationTimestamp"), pair[0].get("id"),
                   pair[0].get("creationTimestamp")))
        return Listing(elements, total, limit, pair is None)

    def _measure(self, elements):
        sample = [task for task in elements[:MEASURED] if isinstance(task, dict)]
        if not sample:
            return
        try:
            size = sum(len(json.dumps(task, separators=(",", ":"))) for task in sample) / float(len(sample))
        except (TypeError, ValueError):
            return
        # A running average, so that one odd answer does not swing the choice.
        self.element_bytes = (3 * self.element_bytes + size) / 4.0

    def cheaper_in_full(self, count):
        """Whether one full list read costs less than reading ``count`` tasks by id (False while the number of
        tasks SDDC Manager holds is not known)."""
        if self.total is None or count <= 0:
            return False
        return self.total * self.element_bytes + REQUEST_BYTES < count * (self.element_bytes + REQUEST_BYTES)

    def get(self, task_id):
        """One task by id (an unknown id raises ``SddcManagerError`` of kind ``not_found``)."""
        self._count(1, 0)
        task = get_task(self.client, task_id)
        self._count(0, 1)
        return task

    def by_id(self, ids, gone=None):
        """``{id: task}`` read one by one, side by side beyond LIST_THRESHOLD (READERS at most); with ``gone`` (a
        set), an id SDDC Manager does not know (404: the task was deleted) goes there instead of raising."""
        ids = list(dict.fromkeys(ids))

        def one(task_id):
            try:
                return self.get(task_id)
            except SddcManagerError as exc:
                if gone is None or exc.kind != "not_found":
                    raise
                return None

        if len(ids) > LIST_THRESHOLD:
            # Many reads by id go side by side: a poll takes about one answer's time, not one per task.
            with ThreadPoolExecutor(max_workers=min(READERS, len(ids))) as pool:
                read = list(zip(ids, pool.map(one, ids)))
        else:
            read = [(task_id, one(task_id)) for task_id in ids]
        found = {}
        for task_id, task in read:
            if task is None:
                gone.add(task_id)
            else:
                found[task_id] = task
        return found

    def newest(self, limit=None):
        """The newest ``limit`` tasks (all with None), newest first, right whatever order SDDC Manager lists in: when
        a window is not newest first it is not the newest tasks, so the whole list is read and sorted instead."""
        listing = self.list(limit=limit)
        if not listing.ordered and not listing.complete:
            listing = self.list()
        tasks = newest_first(listing.tasks)
        return tasks[:limit] if limit else tasks

    def read(self, ids):
        """``{id: credentials task}`` for ``ids``."""
        ids = list(ids)
        listed = {}
        if len(ids) > LIST_THRESHOLD and self.windows and self.ordered:
            window = self.list(limit=len(ids) * WINDOW_PER_ID)
            listed = window.by_id()
            self.windows = window.ordered and 2 * sum(1 for task_id in ids if task_id in listed) >= len(ids)
        unlisted = [task_id for task_id in dict.fromkeys(ids) if task_id not in listed]
        if len(unlisted) > LIST_THRESHOLD and self.cheaper_in_full(len(unlisted)):
            # Many tasks out of a short history: one read of all of it moves less than one request per task.
            everything = self.list().by_id()
            listed.update((task_id, everything[task_id]) for task_id in unlisted if task_id in everything)
            unlisted = [task_id for task_id in unlisted if task_id not in listed]
        listed.update(self.by_id(unlisted))
        return dict((task_id, listed[task_id]) for task_id in ids)


class TaskFeed:
    """The credentials tasks the event source looks at, poll after poll, at a cost that follows the work (the
    tasks new since the last poll and those still open), not SDDC Manager's history.

    - The first poll reads the whole list: it learns every task, and every open one (:func:`is_open`: running,
      FAILED, a status not known) is watched from then on.
    - Each later poll reads a window of the newest tasks (``FIRST_WINDOW`` to start). While the oldest task of the
      window was never seen at an earlier poll, the window may have cut off new tasks: it is read again twice as
      large, up to the whole list. The next poll starts from the size that sufficed, halving while few tasks are new.
    - A watched task that is not in the window is read by id (side by side), unless one full read costs less
      (``TaskReader.cheaper_in_full``, from ``totalElements`` and the element sizes seen): a running one at every
      poll, a FAILED one at rest every ``REST_SECONDS`` (at every poll while followed: :meth:`follow`). A retried
      old FAILED task keeps its id and its place deep in the list: its reads by id show it run and end again. A
      read by id that answers 404 (the task was deleted) stops watching it. A task missing from a window is never
      taken for gone or ended: only what a read shows is returned.
    - Now and then the poll reads the whole list anyway (a sweep: see SWEEP_SECONDS and SWEEP_SHARE); once an
      answer was not newest first (the reader warns once), every poll reads the whole list.

    A poll that fails changes nothing: the next one starts from the same knowledge. ``last`` holds the elements and
    requests of the latest poll (``{"elements": N, "requests": R}``), ``polls`` the number of polls that answered.
    """

    def __init__(self, reader, clock=time.monotonic, first_window=FIRST_WINDOW, sweep=SWEEP_SECONDS,
                 rest=REST_SECONDS):
        self.reader = reader
        self.clock = clock
        self.first_window = first_window
        self.window = first_window
        self.sweep = sweep
        self.rest = rest
        self.swept = None
        self.since_sweep = 0  # elements the polls read since the last sweep
        self.seen = set()
        self.watched = set()
        self.resting = {}  # watched FAILED tasks: id -> when last read
        self.following = {}  # id -> until when it is read at every poll
        self.polls = 0
        self.last = {"elements": 0, "requests": 0}

    def follow(self, task_id, seconds=FOLLOW_SECONDS):
        """Read ``task_id`` at every poll for ``seconds`` even while it rests FAILED: the event source follows a
        task it just emitted an event for, since a rulebook is likely to retry it."""
        self.following[str(task_id)] = self.clock() + seconds

    def _due(self, task_id, now):
        """Whether a watched task outside the window is read by id at this poll."""
        if task_id not in self.resting or self.following.get(task_id, now) > now:
            return True
        return now - self.resting[task_id] >= self.rest

    def _sweep_due(self, now):
        if self.swept is None or not self.reader.ordered:
            return True
        return now - self.swept >= self.sweep and self.since_sweep >= SWEEP_SHARE * (self.reader.total or 0)

    def poll(self):
        """The tasks to look at now, in list order (newest first), then the watched ones read by id, newest first."""
        elements, requests, swept = self.reader.elements, self.reader.requests, self.swept
        try:
            return self._poll()
        finally:
            self.last = {"elements": self.reader.elements - elements, "requests": self.reader.requests - requests}
            self.since_sweep = 0 if self.swept != swept else self.since_sweep + self.last["elements"]

    def _poll(self):
        now = self.clock()
        window, grew = self.window, False
        if self._sweep_due(now):
            listing = self.reader.list()
        else:
            while True:
                whole = self.reader.total is not None and window >= self.reader.total
                listing = self.reader.list(limit=None if whole else window)
                if not listing.ordered:
                    # Not the newest tasks but a sample: only the whole list shows what is new.
                    if listing.limit is not None:
                        listing = self.reader.list()
                    break
                if listing.complete or self._reaches_known(listing):
                    break
                window, grew = window * 2, True
        tasks = listing.tasks
        listed = set(str(task.get("id")) for task in tasks)
        gone = set()
        if not listing.complete:
            missing = [task_id for task_id in self.watched if task_id not in listed and self._due(task_id, now)]
            if missing and listing.limit is not None and self.reader.cheaper_in_full(len(missing)):
                listing = self.reader.list()
                tasks = listing.tasks
                listed = set(str(task.get("id")) for task in tasks)
                missing = [task_id for task_id in missing if task_id not in listed]
            if missing and not listing.complete:
                tasks = tasks + newest_first(self.reader.by_id(sorted(missing), gone=gone).values())
        self._commit(now, tasks, listing, window, grew, gone)
        return tasks

    def _reaches_known(self, listing):
        """Whether the window's oldest task was seen at an earlier poll: everything listed after it is older still."""
        ids = [str(task.get("id")) for task in listing.tasks if task.get("id") is not None]
        return bool(ids) and ids[-1] in self.seen

    def _commit(self, now, tasks, listing, window, grew, gone):
        new = 0
        for task in tasks:
            if task.get("id") is None:
                continue
            task_id = str(task["id"])
            if task_id not in self.seen:
                new += 1
                self.seen.add(task_id)
            if is_open(task):
                self.watched.add(task_id)
                if _verdict.verdict(task).retryable:
                    self.resting[task_id] = now
                else:
                    self.resting.pop(task_id, None)
            else:
                self.watched.discard(task_id)
                self.resting.pop(task_id, None)
                self.following.pop(task_id, None)
        self.watched -= gone
        for task_id in gone:
            self.resting.pop(task_id, None)
            self.following.pop(task_id, None)
        self.following = dict((k, until) for k, until in self.following.items() if until > now)
        if listing.limit is None:
            self.swept = now
        if grew:
            self.window = window
        elif 4 * new <= self.window:
            self.window = max(self.first_window, self.window // 2)
        self.polls += 1


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


def build_retry_spec(client, task, options, from_subtasks=True):
    """``(spec, rebuilt_from_subtasks)``: the CredentialsUpdateSpec for ``task``, from the options or rebuilt from
    the task.

    A ROTATE or UPDATE_AUTO_ROTATE_POLICY task is rebuilt from its own sub-tasks when they name every field (no
    request: at N tasks that is N reads saved), else from ``GET .../resource-credentials``. ``from_subtasks``
    False forces that read: after SDDC Manager refused a request rebuilt from the sub-tasks."""
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
        elements = _spec.elements_from_subtasks(task.get("subTasks")) if from_subtasks else None
        if elements:
            return _spec.build(operation, elements, options.get("auto_rotate_policy")), True
        elements = _spec.elements_from_resource_credentials(client.get_resource_credentials(task.get("id")))
        if not elements:
            raise SddcManagerError(
                "SDDC Manager lists no resources for task %s, so its retry request cannot be rebuilt; give "
                "elements." % task.get("id"), kind="api")
    return _spec.build(operation, elements, options.get("auto_rotate_policy")), False


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


def retry(client, task_id, options, check_mode=False, task=None, from_subtasks=True):
    """Retry one credentials task when it needs it.  Returns a plain result dict (see :func:`_retry`).

    A result with a baseline notes when the write's answer was in hand (``Baseline.answered_at``): the run it
    started ends no later than its length after that, which tells a wait when to read.
    """
    result = _retry(client, task_id, options, check_mode, task, from_subtasks)
    if result.get("baseline") is not None and result["baseline"].answered_at is None:
        result["baseline"].answered_at = _wall_clock()
    return result


def _retry(client, task_id, options, check_mode=False, task=None, from_subtasks=True):
    """Retry one credentials task when it needs it.  Returns a plain result dict.

    The task is read first; only a FAILED task gets a PATCH.  A PATCH whose answer
    is lost or an HTTP 5xx (a proxy may have passed it on), or that another client
    beat us to, is settled by reading the task again, never by sending it twice.
    ``result["baseline"]`` is the task before the retry (see ``_waiter.Baseline``) whenever a retry was sent
    or another client's retry was found, so that no later read of the old run is taken for the new run's end.
    A request rebuilt from the task's sub-tasks that SDDC Manager refuses (400) while the task is still FAILED is
    rebuilt once from its resource credentials and sent again: a refused request was not applied.
    """
    before = task if task is not None else get_task(client, task_id)
    action, message = plan_retry(before)
    result = {"changed": False, "retried": False, "task": before, "before": before, "task_id": task_id,
              "msg": message, "baseline": None}
    if action != "retry":
        return result
    spec, rebuilt = build_retry_spec(client, before, options, from_subtasks=from_subtasks)
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
            after = get_task(client, task_id)
            if rebuilt and exc.status_code == 400 and not baseline.took_effect(after) \
                    and _verdict.verdict(after).retryable:
                return _retry(client, task_id, options, task=after, from_subtasks=False)
            return _retried_by_another(task_id, baseline, result, exc, after)
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


def _retried_by_another(task_id, baseline, result, exc, after):
    """A 400/409 to the PATCH (``after``: the task read since): fine if another client retried the task just
    before; else the error stands."""
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
                 wanted=to_retry, reader=None):
    """``{id: task}`` for the given ids plus, with ``discover``, every listed task ``wanted(task, listed)`` picks
    (by default every FAILED, running or unresolved INCONSISTENT one) matching the filters.

    Running ones are there to be watched: a rerun after a wait that timed out must learn how they end.
    One list read serves both the discovery and the status of the named tasks; it goes through ``reader`` (a
    TaskReader, one of its own by default), which checks its order. With ``missing`` (a dict), a named id that SDDC
    Manager does not know goes there with its error instead of stopping the others.
    """
    reader = reader if reader is not None else TaskReader(client)
    task_ids = list(dict.fromkeys(task_ids))
    selected, by_id = {}, {}
    if discover:
        # One full read per run, never a window: an old FAILED task can be anywhere in the history (a retry keeps
        # its id and its place, and a failure nobody handled stays where it happened, years down the list).
        listed = reader.list().tasks
        by_id = dict((task.get("id"), task) for task in listed)
        types_of = ResourceTypes(client)
        for task in listed:
            if wanted(task, listed) and matches_resources(task, resource_types, resource_names, types_of):
                selected[task.get("id")] = task
    elif len(task_ids) > LIST_THRESHOLD and reader.ordered:
        # Named ones only need a window of the newest (its tasks are true reads of them even if it came out of
        # order: the reader has warned, and what it does not hold is read by id below).
        by_id = reader.list(limit=len(task_ids) * WINDOW_PER_ID).by_id()
    for task_id in task_ids:
        if task_id in selected:
            continue
        try:
            # A task missing from the list (an older one past the server's page) is read by itself.
            selected[task_id] = by_id[task_id] if task_id in by_id else reader.get(task_id)
        except SddcManagerError as exc:
            if missing is None or exc.kind != "not_found":
                raise
            missing[task_id] = exc
    return selected


def matches_resources(task, resource_types=None, resource_names=None, types_of=None):
    """Whether the task touches a resource of one of the types and one of the names (no filter: any).

    Both compare without case: resource types are upper case in the API, and host names are not case-sensitive.
    A sub-task may leave its ``entityType`` out (the spec makes it optional): with a type filter, such a resource's
    type comes from ``types_of(task)`` (:class:`ResourceTypes`), asked only when the rest did not decide.
    """
    types = set(t.upper() for t in resource_types or [])
    names = set(n.lower() for n in resource_names or [])
    resources = resources_of(task)
    if names and not any((r["resource_name"] or "").lower() in names for r in resources):
        return False
    if not types or any((r["resource_type"] or "").upper() in types for r in resources):
        return True
    untyped = [(r["resource_name"] or "").lower() for r in resources if not r["resource_type"]]
    if not untyped or types_of is None:
        return False
    read = types_of(task)
    return any(read.get(name) in types for name in untyped)


class ResourceTypes:
    """``types_of`` for :func:`matches_resources`: ``{resource name (lower case): type}`` of a task, from its
    resource credentials, read once per task and only for tasks whose sub-tasks leave the type out."""

    def __init__(self, client):
        self.client = client
        self.read = {}

    def __call__(self, task):
        task_id = task.get("id")
        if task_id not in self.read:
            self.read[task_id] = dict(
                ((resource.get("resourceName") or "").lower(), (resource.get("resourceType") or "").upper())
                for resource in self.client.get_resource_credentials(task_id) or [] if isinstance(resource, dict))
        return self.read[task_id]


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
