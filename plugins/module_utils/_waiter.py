# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""Waiting is data: the verdict says when a task has ended; one loop owns the clock.

Every module that waits (retry, bulk retry, wait) and the role go through :class:`Waiter`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import time

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _verdict

# A read that still shows the state from before a retry is not the retry's end.  When that state carries a
# completion time (of the task or of a sub-task), no later run can end with the same one, so such a read is
# never taken for an end, however long it lasts.  Without any completion time, two runs can look alike (a task
# can fail again without a completionTimestamp): then once the task was seen running, or this much time has
# passed, the state a read shows is the retry's own end.
SETTLE_SECONDS = 30.0


def _iso_utc(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _has_times(fingerprint):
    """Whether a fingerprint carries a completion time: a new run's end never has the old run's times."""
    _status, completed, subs = fingerprint
    return bool(completed) or any(sub[2] for sub in subs)


def baseline_of(task):
    """What the task looked like before it was retried."""
    return _verdict.fingerprint(task)


class Watch:
    """The wait's view of one task: the last read, and whether that read is the retried run's."""

    def __init__(self, task_id, task=None, baseline=None):
        self.task_id = task_id
        self.task = task
        self.baseline = baseline
        self.seen_running = False
        self.unseen = False  # the last read still showed the state from before the retry
        self.ended_at = None  # the controller's clock when the end was first seen

    def update(self, task, settled, now):
        found = _verdict.verdict(task)
        self.unseen = False
        if not found.ended:
            self.task = task
            self.seen_running = True
            return
        if self.baseline is not None and _verdict.fingerprint(task) == self.baseline and (
                _has_times(self.baseline) or not (self.seen_running or settled)):
            # The read shows the run the retry replaced: the task's state now is not known yet, and nothing may
            # report that old state as its state.
            self.task = {"id": self.task_id, "status": None}
            self.unseen = True
            return
        self.task = task
        if self.ended_at is None:
            self.ended_at = now

    @property
    def ended(self):
        return self.ended_at is not None


class WaitOutcome:
    def __init__(self, watches, pending_ids, elapsed, polls):
        self.watches = watches
        self.tasks = dict((task_id, watch.task) for task_id, watch in watches.items())
        self.verdicts = dict((task_id, _verdict.verdict(watch.task)) for task_id, watch in watches.items())
        self.pending_ids = pending_ids
        self.elapsed = elapsed
        self.polls = polls

    @property
    def timed_out(self):
        return bool(self.pending_ids)

    def describe_pending(self):
        """The ids still running at the end, each with its status when it is a word this collection does not know."""
        out = []
        for task_id in self.pending_ids:
            if self.watches[task_id].unseen:
                out.append("%s (its reads still showed the state from before the retry)" % task_id)
            elif self.verdicts[task_id].state == _verdict.UNKNOWN:
                out.append("%s (status %r, which this collection does not know, not counted as a success)"
                           % (task_id, (self.tasks[task_id] or {}).get("status")))
            else:
                out.append(task_id)
        return ", ".join(out)

    def split(self, ids):
        """The ids by verdict (succeeded, failed = needs attention, unknown, pending), the failure report of
        those that did not succeed, and one problem line per task that did not succeed (pending ones aside)."""
        out = {"succeeded_ids": [], "failed_ids": [], "unknown_ids": [], "pending_ids": [], "failed_subtasks": [],
               "problems": [], "ended_at": {}}
        for task_id in ids:
            found = self.verdicts[task_id]
            if task_id in self.pending_ids:
                out["pending_ids"].append(task_id)
                continue
            # The controller's clock, like the time of the retry: a duration never mixes two clocks.
            out["ended_at"][task_id] = _iso_utc(self.watches[task_id].ended_at)
            key = {_verdict.SUCCEEDED: "succeeded_ids", _verdict.ATTENTION: "failed_ids"}.get(found.state, "unknown_ids")
            out[key].append(task_id)
            if found.state != _verdict.SUCCEEDED:
                out["failed_subtasks"].extend(found.report)
                out["problems"].append(found.message)
        return out


class Waiter:
    """Polls ``fetch(ids) -> {id: task}`` until every task has ended or time runs out.

    Every poll covers all still-pending tasks at once, so the request count grows
    with the number of polls, not with tasks times polls.  There is always at least
    one poll, and the last one lands on the deadline rather than a sleep past it.
    """

    def __init__(self, fetch, timeout, sleep, clock=time.monotonic, sleeper=time.sleep, on_poll=None,
                 settle=SETTLE_SECONDS, wall_clock=time.time):
        self.fetch = fetch
        self.timeout = max(0.0, float(timeout))
        self.sleep = max(0.0, float(sleep))
        self.clock = clock
        self.sleeper = sleeper
        self.on_poll = on_poll
        self.settle = settle
        self.wall_clock = wall_clock

    def wait(self, ids, known=None, baselines=None):
        """Wait for ``ids``.  ``known`` holds tasks already read (not retried since), ``baselines`` the
        fingerprint of each retried task from before its retry (see :func:`baseline_of`)."""
        baselines = baselines or {}
        watches = dict((task_id, Watch(task_id, baseline=baselines.get(task_id))) for task_id in ids)
        start = self.clock()
        for task_id, task in (known or {}).items():
            if task_id in watches and task_id not in baselines:
                watches[task_id].update(task, True, self.wall_clock())
        polls = 0
        pending = [task_id for task_id in ids if not watches[task_id].ended]
        while pending:
            tasks = self.fetch(pending)
            polls += 1
            elapsed = self.clock() - start
            for task_id in pending:
                watches[task_id].update(tasks[task_id], elapsed >= self.settle, self.wall_clock())
            pending = [task_id for task_id in pending if not watches[task_id].ended]
            if self.on_poll is not None:
                self.on_poll(dict((i, w.task) for i, w in watches.items()), pending, elapsed)
            if not pending or elapsed >= self.timeout:
                break
            self.sleeper(min(self.sleep, self.timeout - elapsed))
        return WaitOutcome(watches, pending, self.clock() - start, polls)
