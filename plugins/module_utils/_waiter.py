# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""Waiting is data: a predicate says when a task is done; one loop owns the clock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _status


def task_done(task, baseline=None):
    """A task is done when its status is terminal.

    ``baseline`` is the ``(status, completionTimestamp)`` the task had before it was
    retried: the same terminal state seen again is the old run, not the new one
    (SDDC Manager may answer a read before the retry has visibly started).
    """
    status = _status.normalize(task.get("status"))
    if not _status.is_terminal(status):
        return False
    if baseline is not None and (status, task.get("completionTimestamp")) == baseline:
        return False
    return True


def baseline_of(task):
    return (_status.normalize(task.get("status")), task.get("completionTimestamp"))


class WaitOutcome:
    def __init__(self, tasks, pending_ids, elapsed, polls):
        self.tasks = tasks
        self.pending_ids = pending_ids
        self.elapsed = elapsed
        self.polls = polls

    @property
    def timed_out(self):
        return bool(self.pending_ids)


class Waiter:
    """Polls ``fetch(ids) -> {id: task}`` until every task is done or time runs out.

    Every poll covers all still-pending tasks at once, so the request count grows
    with the number of polls, not with tasks times polls.  There is always at least
    one poll, and the last one lands on the deadline rather than a sleep past it.
    """

    def __init__(self, fetch, timeout, sleep, done=task_done, clock=time.monotonic, sleeper=time.sleep,
                 on_poll=None):
        self.fetch = fetch
        self.timeout = max(0.0, float(timeout))
        self.sleep = max(0.0, float(sleep))
        self.done = done
        self.clock = clock
        self.sleeper = sleeper
        self.on_poll = on_poll

    def wait(self, ids, known=None, baselines=None):
        """Wait for ``ids``; ``known`` holds tasks already read, ``baselines`` their pre-retry state."""
        baselines = baselines or {}
        tasks = dict(known or {})
        start = self.clock()
        polls = 0
        pending = [task_id for task_id in ids
                   if task_id not in tasks or not self.done(tasks[task_id], baselines.get(task_id))]
        while pending:
            tasks.update(self.fetch(pending))
            polls += 1
            pending = [task_id for task_id in pending if not self.done(tasks[task_id], baselines.get(task_id))]
            elapsed = self.clock() - start
            if self.on_poll is not None:
                self.on_poll(tasks, pending, elapsed)
            if not pending or elapsed >= self.timeout:
                break
            self.sleeper(min(self.sleep, self.timeout - elapsed))
        return WaitOutcome(tasks, pending, self.clock() - start, polls)
