# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""Following a task after a write: one baseline, one stale-read rule, one schedule, one loop.

- :class:`Baseline` is a task as read just before a write (a retry, a cancel) and when the write was sent.  It
  round-trips through module results (``state_before``, ``retried_at``), so a later wait, in another module run
  or another process, applies the same rule.
- :meth:`Baseline.is_stale` is the only answer to "does this read still show the state from before the write?".
- :class:`Schedule` owns the clock of every loop that reads until something happens: the deadline, the pause
  between reads, the back-off after a failed read.  :func:`poll` is the one synchronous loop over it; the event
  source drives the same schedule from asyncio.  A wait's schedule may move its next read to just after the moment
  a task is expected to end (:meth:`Schedule.aim`), in place of the regular one: the
  estimate (:func:`run_length`, from the sub-tasks' timestamps) only changes *when* a read is made, never what a
  read means.
- :class:`Waiter` waits for many tasks, each a :class:`Watch` judged by the verdict and the baseline.
- An outage (SDDC Manager, which answered before, cannot be reached or is restarting: ``_errors.not_known_yet``) is
  never an end: :func:`poll` takes such a failed read for "not known yet", backs off (capped, jittered, honouring
  ``Retry-After``) and reads on until its deadline.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

from ansible.module_utils.common.dict_transformations import snake_dict_to_camel_dict

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _status, _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import not_known_yet
from ansible_collections.vcf.sddc_manager.plugins.module_utils._time import iso_utc, timestamp

# The one default of each timing.
WAIT_TIMEOUT = 1800
WAIT_SLEEP = 10
# A read that still shows the state from before a write is not the write's effect.  When that state carries a
# completion time (of the task or of a sub-task), no later run can end with the same one, so such a read is never
# taken for an end, however long it lasts.  Without any completion time, two runs can look alike (a task can fail
# again without a completionTimestamp): then once the task was seen running, or this long after the write, the
# state a read shows is the write's own outcome.
SETTLE_SECONDS = 30.0
# A write whose answer was lost is settled by reads, the first this long after it, each pause twice the last,
# until a read shows the write or the settle time is over.
CONFIRM_FIRST_PAUSE = 2.0
CONFIRM_GROWTH = 2.0
# While SDDC Manager is unreachable, the pause between two reads of a wait doubles from its sleep up to this.
OUTAGE_BACKOFF_CAP = 60.0
# Each back-off pause is shortened by up to this fraction, at random, so that many waiters do not come back at once.
JITTER = 0.2
# After a write, a wait's first read comes this long after it (or after one sleep, if that is sooner): a task that
# fails at once (a pre-check) is seen then, and a read right after the write would mostly show the old state.
EARLY_READ = 2.0
# However an estimate falls, two reads of a wait are never closer than this.
READ_FLOOR = 1.0
# A run started by a write began after the write was sent and before its answer came back.  Known only when it was
# sent, its end is expected this much later than the run's length after the sending; known when the answer came,
# no later than the length after the answer.
AIM_MARGIN = 0.5
# A read aimed at an expected end comes this long after it: SDDC Manager writes the end a little after the work.
READ_LAG = 0.1
# An aimed read that does not see the task end gives the window its regular read back: one extra read.  After this
# many misses a wait stops aiming, so that a wrong estimate costs at most this many reads more than the plain grid.
AIM_MISSES = 2


def unreachable_line(seconds, left):
    """The progress line of a wait that meets an outage."""
    return "SDDC Manager unreachable for %d s, still waiting (%d s left)" % (int(seconds), int(left))


class Schedule:
    """When to read next: every ``sleep`` seconds (growing by ``growth`` after each read) until ``timeout``.

    A failed read backs off, doubling from ``sleep`` up to ``backoff_cap``, shortened at random by up to ``jitter``
    (a fraction), and never shorter than the ``Retry-After`` the server asked for.  No pause goes past the
    deadline, so the last read lands on it.

    ``first``: seconds before the first read (0: at once).  ``can_aim``: :meth:`aim` may move the next regular read
    earlier, to just after something is expected to happen; that read takes the regular one's place, so a wait makes
    no more reads than without aims (save :data:`AIM_MISSES` reads that missed), and two reads are never closer
    than ``floor``.
    """

    def __init__(self, timeout, sleep, growth=1.0, backoff_cap=None, clock=None, jitter=0.0, rng=None, first=0.0,
                 can_aim=False, floor=READ_FLOOR):
        self.clock = clock or _monotonic
        self.start = self.clock()
        self.timeout = max(0.0, float(timeout))
        self.sleep = max(0.0, float(sleep))
        self.growth = growth
        self.backoff_cap = backoff_cap
        self.jitter = jitter
        self.rng = rng or random.Random()
        self._next = self.sleep
        self.first = max(0.0, float(first))
        self.can_aim = can_aim and self.sleep > 0
        # Never slower than the pause asked for: a floor above it would space the reads more than ``sleep`` does.
        self.floor = max(0.0, min(float(floor), self.sleep))
        self._due = None  # when the next regular read is due, once an aimed read has moved one
        self._missed_due = None
        self._aims = {}
        self.aimed = frozenset()  # the keys the last pause aimed at (empty: a regular read)
        self.misses = 0

    @property
    def elapsed(self):
        return self.clock() - self.start

    @property
    def left(self):
        return max(0.0, self.timeout - self.elapsed)

    @property
    def over(self):
        return self.elapsed >= self.timeout

    def first_pause(self):
        """Seconds to wait before the first read."""
        return min(self.first, self.left)

    def aim(self, ends):
        """``ends``: ``{key: clock time}`` at which a read would see each key's expected event.  The next pause
        takes the latest of them that falls before the regular read, or at most ``floor`` after it (and at least
        ``floor`` from now)."""
        self._aims = dict(ends or {})

    def miss(self):
        """The read the last pause aimed at did not see what it was aimed at: the regular read it replaced comes
        after all (one read more than without the aim)."""
        if self.aimed:
            self.misses += 1
            self._due = self._missed_due
            self.aimed = frozenset()

    def pause(self, failures=0, since=None, retry_after=None):
        """Seconds to wait before the next read.

        ``failures``: failed reads in a row (0 after a good one).  ``since``: the clock when the last read began,
        so that reads start every ``sleep`` seconds whatever a read costs.  ``retry_after``: what the server asked.
        """
        aims, self._aims = self._aims, {}
        self.aimed = frozenset()
        if failures:
            cap = max(self.backoff_cap or self.sleep, self.sleep)
            pause = min(self.sleep * (2 ** min(failures, 16)), cap)
            if self.jitter:
                pause -= pause * self.jitter * self.rng.random()
            if retry_after is not None:
                pause = max(pause, min(retry_after, cap))
        elif self.can_aim:
            pause = self._aimed_pause(aims)
        else:
            pause = self._next
            self._next *= self.growth
            if since is not None:
                pause -= self.clock() - since
        return max(0.0, min(pause, self.left))

    def _aimed_pause(self, aims):
        now = self.clock()
        # The regular read: ``sleep`` after the last one ended, or the one an aimed read moved and then missed.
        due = now + self.sleep if self._due is None else max(self._due, now + self.floor)
        target, self._due = due, None
        if aims and self.misses < AIM_MISSES:
            soonest = now + self.floor
            # An end expected just after the regular read would likely be missed by it by a hair: that read waits
            # for it (at most ``floor`` later) rather than leaving the end to the read after.
            inside = [at for at in aims.values() if max(at, soonest) <= due + self.floor]
            if inside:
                target = max(inside + [soonest])
                self.aimed = frozenset(key for key, at in aims.items() if at <= target)
                # This read takes the regular one's place: the next comes when the one after it would have.
                self._missed_due, self._due = due, due + self.sleep
        return target - now


def _monotonic():
    # Looked up at each call, so that a test that replaces time.monotonic moves every schedule.
    return time.monotonic()


class Polled:
    """What :func:`poll` ended with: the last good read (None if none), whether it was done, how many reads, and
    how long SDDC Manager was unreachable (``unreachable_for``: the outage still under way at the end, 0 if the last
    read answered; ``unreachable_seconds``: every outage met; ``unreachable_error``: the last outage's error)."""

    def __init__(self, value, done, reads, elapsed, unreachable_for=0.0, unreachable_seconds=0.0,
                 unreachable_error=None):
        self.value = value
        self.done = done
        self.reads = reads
        self.elapsed = elapsed
        self.unreachable_for = unreachable_for
        self.unreachable_seconds = unreachable_seconds
        self.unreachable_error = unreachable_error


def poll(read, done, schedule, sleeper=time.sleep, aligned=False, on_unreachable=None):
    """Read until ``done(value)`` or the schedule's deadline: always at least once (after ``schedule.first``).

    ``aligned``: reads start every ``schedule.sleep`` seconds, whatever each read costs (else the pause follows
    the read).  A read that fails because SDDC Manager, which answered before, is unreachable or restarting
    (``_errors.not_known_yet``) is "not known yet": the last good value stands, the next read backs off, and
    ``on_unreachable(seconds, left, error)`` hears of it; any other failure is raised.
    """
    reads = 0
    value = None
    failures = 0
    down_since = None
    down_total = 0.0
    last_error = None
    first = schedule.first_pause()
    if first:
        sleeper(first)
    while True:
        began = schedule.clock()
        try:
            value = read()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if not not_known_yet(exc):
                raise
            reads += 1
            failures += 1
            last_error = exc
            if down_since is None:
                down_since = began
            down = schedule.clock() - down_since
            if on_unreachable is not None:
                on_unreachable(down, schedule.left, exc)
            if schedule.over:
                return Polled(value, False, reads, schedule.elapsed, down, down_total + down, last_error)
            sleeper(schedule.pause(failures=failures, retry_after=getattr(exc, "retry_after", None)))
            continue
        reads += 1
        if down_since is not None:
            down_total += began - down_since
            down_since = None
            failures = 0
        finished = done(value)
        if finished or schedule.over:
            return Polled(value, finished, reads, schedule.elapsed, 0.0, down_total, last_error)
        sleeper(schedule.pause(since=began if aligned else None))


class Baseline:
    """A task as read just before a write, and when the write was sent (epoch seconds, the controller's clock)."""

    def __init__(self, task, sent_at=None, answered_at=None):
        self.task = task or {}
        self.task_id = self.task.get("id")
        self.sent_at = sent_at
        # When the write's answer was in hand (None: not known); only used to tell when to read.
        self.answered_at = answered_at
        self._fingerprint = _verdict.fingerprint(self.task)
        _status, completed, subs = self._fingerprint
        self._has_times = bool(completed) or any(sub[2] for sub in subs)

    def is_stale(self, read, seen_running=False, now=None):
        """Whether ``read`` may still show the task as it was before the write (the stale-read rule)."""
        if _verdict.fingerprint(read or {}) != self._fingerprint:
            return False
        if self._has_times:
            return True
        settled = now is not None and self.sent_at is not None and now - self.sent_at >= SETTLE_SECONDS
        return not (seen_running or settled)

    def took_effect(self, read):
        """Whether ``read`` shows that a retry went through: no longer the old run, and not cancelled instead."""
        return not self.is_stale(read) and not _verdict.verdict(read).cancelled

    def as_result(self):
        """The baseline in a module result: ``state_before`` (camelCase here; the module redacts it) and
        ``retried_at``."""
        return {"state_before": self.task, "retried_at": iso_utc(self.sent_at)}

    @classmethod
    def from_result(cls, entry, now):
        """The baseline a module result carries, or None without ``state_before``.

        An unknown write time counts from ``now``: the whole settle time is kept.
        """
        state = entry.get("state_before") if isinstance(entry, dict) else None
        if not isinstance(state, dict):
            return None
        sent_at = timestamp(entry.get("retried_at"))
        return cls(snake_dict_to_camel_dict(state), now if sent_at is None else sent_at)


def run_length(task):
    """``(start, length)`` of the run a read of ``task`` shows, in seconds of SDDC Manager's clock, from its
    sub-tasks (``subTasks[].creationTimestamp``, ``completionTimestamp``): the run began with its first sub-task, and
    lasts the time its ended sub-tasks took, spread over all of them (the mean so far, times the count).  Sub-tasks
    that run side by side make it too long, which only delays a read to the regular one.  ``length`` is None
    before a sub-task has ended, ``start`` too without sub-task times."""
    subs = [sub for sub in (task or {}).get("subTasks") or [] if isinstance(sub, dict)]
    starts = [t for t in (timestamp(sub.get("creationTimestamp")) for sub in subs) if t is not None]
    if not starts:
        return None, None
    start = min(starts)
    ends = [t for t in (timestamp(sub.get("completionTimestamp")) for sub in subs if _status.is_terminal(sub.get("status")))
            if t is not None and t >= start]
    if not ends:
        return start, None
    return start, (max(ends) - start) * len(subs) / len(ends)


def _latest_time(task):
    """The latest time a read of ``task`` names (SDDC Manager's clock), or None."""
    found = [timestamp(task.get(key)) for key in ("creationTimestamp", "completionTimestamp")]
    for sub in task.get("subTasks") or []:
        if isinstance(sub, dict):
            found += [timestamp(sub.get(key)) for key in ("creationTimestamp", "completionTimestamp")]
    found = [t for t in found if t is not None]
    return max(found) if found else None


class Watch:
    """The wait's view of one task: the last read, and whether that read is the new run's."""

    def __init__(self, task_id, baseline=None):
        self.task_id = task_id
        # Not read yet: its state is not known (never taken for an end).
        self.task = {"id": task_id, "status": None}
        self.baseline = baseline
        self.seen_running = False
        self.unseen = False  # the last read still showed the state from before the write
        self.ended_at = None  # the controller's clock when the end was first seen
        # SDDC Manager's clock minus the controller's, at least: what a read names happened before it answered.
        self.skew = None

    def update(self, task, now):
        found = _verdict.verdict(task)
        latest = _latest_time(task or {})
        if latest is not None:
            self.skew = max(self.skew if self.skew is not None else latest - now, latest - now)
        self.unseen = False
        if not found.ended:
            self.task = task
            self.seen_running = True
            return
        if self.baseline is not None and self.baseline.is_stale(task, self.seen_running, now):
            # The read shows the run the write replaced: the task's state now is not known yet, and nothing may
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

    def expected_end(self):
        """When (epoch seconds, the controller's clock) the task's run should have ended, or None: a guess for when
        to read next, never a verdict.  The run's length is that of its ended sub-tasks (:func:`run_length`); before
        one has ended, that of the run the write replaced.  A run started by our write began between its sending
        and its answer (``Baseline.sent_at``, ``answered_at``); another run is placed on our clock by :attr:`skew`,
        which puts it late, not early."""
        if self.ended:
            return None
        start, length = run_length(self.task) if self.task.get("status") is not None else (None, None)
        if length is None and self.baseline is not None:
            length = run_length(self.baseline.task)[1]
        if length is None:
            return None
        if self.baseline is not None and self.baseline.answered_at is not None:
            return self.baseline.answered_at + length
        if self.baseline is not None and self.baseline.sent_at is not None:
            return self.baseline.sent_at + length + AIM_MARGIN
        if start is not None and self.skew is not None:
            return start + length - self.skew
        return None


class WaitOutcome:
    def __init__(self, watches, pending_ids, elapsed, polls, polled=None):
        self.watches = watches
        self.tasks = dict((task_id, watch.task) for task_id, watch in watches.items())
        self.verdicts = dict((task_id, _verdict.verdict(watch.task)) for task_id, watch in watches.items())
        self.pending_ids = pending_ids
        self.elapsed = elapsed
        self.polls = polls
        # How long SDDC Manager was unreachable: at the end (an outage still under way), and in all.
        self.unreachable_for = polled.unreachable_for if polled is not None else 0.0
        self.unreachable_seconds = polled.unreachable_seconds if polled is not None else 0.0
        self.unreachable_error = polled.unreachable_error if polled is not None else None

    def outage_notes(self):
        """One sentence on the outages the wait met, for a warning; empty when it met none."""
        if self.unreachable_error is None:
            return []
        reason = getattr(self.unreachable_error, "message", None) or "no answer"
        if self.unreachable_for:
            return ["SDDC Manager was unreachable for the last %d s of the wait (%s); the state of %s is not known "
                    "yet, and SDDC Manager goes on running the tasks: wait again once it answers."
                    % (int(self.unreachable_for), reason.rstrip("."), ", ".join(self.pending_ids) or "the tasks")]
        return ["SDDC Manager was unreachable for %d s during the wait (it is down or restarting: %s); the wait read "
                "on and SDDC Manager answered again." % (int(self.unreachable_seconds), reason.rstrip("."))]

    @property
    def timed_out(self):
        return bool(self.pending_ids)

    def describe_pending(self):
        """The ids still running at the end, each with its status when it is a word this collection does not know."""
        out = []
        for task_id in self.pending_ids:
            if self.unreachable_for:
                out.append("%s (not known: SDDC Manager unreachable for the last %d s)"
                           % (task_id, int(self.unreachable_for)))
            elif self.watches[task_id].unseen:
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
            out["ended_at"][task_id] = iso_utc(self.watches[task_id].ended_at)
            key = {_verdict.SUCCEEDED: "succeeded_ids", _verdict.ATTENTION: "failed_ids"}.get(found.state, "unknown_ids")
            out[key].append(task_id)
            if not found.succeeded:
                out["failed_subtasks"].extend(found.report)
                out["problems"].append(found.message)
        return out


class Waiter:
    """Polls ``fetch(ids) -> {id: task}`` until every task has ended or time runs out.

    Every poll covers all still-pending tasks at once, so the request count grows
    with the number of polls, not with tasks times polls.  There is always at least
    one poll, and the last one lands on the deadline rather than a sleep past it.

    ``bound(seconds)``, when given, is a context manager within which one fetch gives up by then (the client's
    ``time_limit``), so that a read retried through an outage never runs past the wait's deadline.
    ``on_unreachable(seconds, left, error)`` hears of each read that met an outage.
    """

    def __init__(self, fetch, timeout=WAIT_TIMEOUT, sleep=WAIT_SLEEP, clock=time.monotonic, sleeper=time.sleep,
                 on_poll=None, wall_clock=time.time, bound=None, on_unreachable=None):
        self.bound = bound
        self.on_unreachable = on_unreachable
        self.fetch = fetch
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.sleeper = sleeper
        self.on_poll = on_poll
        self.wall_clock = wall_clock

    def wait(self, ids, known=None, baselines=None):
        """Wait for ``ids``.  ``known`` holds tasks already read (not written to since), ``baselines`` the
        :class:`Baseline` of each task written to just before."""
        baselines = baselines or {}
        watches = dict((task_id, Watch(task_id, baselines.get(task_id))) for task_id in ids)
        for task_id, task in (known or {}).items():
            if task_id in watches and task_id not in baselines:
                watches[task_id].update(task, self.wall_clock())
        # The first read comes EARLY_READ after the last write (a read right after it mostly shows the old state);
        # a wait without a write, or long after it, reads at once.
        sent = [b.sent_at for b in baselines.values() if b is not None and b.sent_at is not None]
        first = max(0.0, min(EARLY_READ, self.sleep) - (self.wall_clock() - max(sent))) if sent else 0.0
        schedule = Schedule(self.timeout, self.sleep, clock=self.clock, backoff_cap=max(OUTAGE_BACKOFF_CAP, self.sleep),
                            jitter=JITTER, first=first, can_aim=True)
        pending = [task_id for task_id in ids if not watches[task_id].ended]
        if not pending:
            return WaitOutcome(watches, [], 0.0, 0)

        ends, missed = {}, {}

        def read():
            if self.bound is None:
                tasks = self.fetch(pending)
            else:
                # At least one attempt, even with nothing left: the last read lands on the deadline.
                with self.bound(max(schedule.left, 1.0)):
                    tasks = self.fetch(pending)
            now = self.wall_clock()
            for task_id in pending:
                watches[task_id].update(tasks[task_id], now)
            pending[:] = [task_id for task_id in pending if not watches[task_id].ended]
            late = schedule.aimed & set(pending)
            if late:
                # The estimate was wrong: not aimed at again until new sub-task times change it.
                missed.update((task_id, ends[task_id]) for task_id in late)
                schedule.miss()
            ends.clear()
            ends.update(self._ends(watches, pending))
            schedule.aim(dict((task_id, schedule.clock() + (end - now) + READ_LAG) for task_id, end in ends.items()
                              if missed.get(task_id) != end))
            if self.on_poll is not None:
                self.on_poll(dict((i, w.task) for i, w in watches.items()), list(pending), schedule.elapsed)
            return pending

        polled = poll(read, lambda left: not left, schedule, self.sleeper, on_unreachable=self.on_unreachable)
        return WaitOutcome(watches, list(pending), polled.elapsed, polled.reads, polled)

    @staticmethod
    def _ends(watches, pending):
        """``{task_id: epoch seconds}``: when each pending task that has an estimate should end."""
        out = {}
        for task_id in pending:
            end = watches[task_id].expected_end()
            if end is not None:
                out[task_id] = end
        return out
