"""A wait through an outage (_waiter.py): an unreachable or restarting SDDC Manager is "not known yet", never an end;
the wait backs off (capped, jittered, honouring Retry-After), says how long, and goes on when SDDC Manager is back."""

from __future__ import annotations

import helpers

from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._waiter import (
    OUTAGE_BACKOFF_CAP,
    Baseline,
    Schedule,
    Waiter,
    poll,
    unreachable_line,
)

import pytest


def down(retry_after=None, kind="connection"):
    exc = SddcManagerError("SDDC Manager at https://sddc.example.com:443 answered before but cannot be reached now "
                           "(Connection refused): it is down or restarting.", kind=kind)
    exc.unreachable = True
    exc.retry_after = retry_after
    return exc


class Outage:
    """Answers each fetch from a timeline on the fake clock: down between ``start`` and ``end`` seconds."""

    def __init__(self, fake_time, start, end, states, retry_after=None):
        self.fake_time = fake_time
        self.t0 = fake_time.now
        self.start, self.end = start, end
        self.states = states  # [(from_second, status, completed)]
        self.retry_after = retry_after
        self.reads = []

    def fetch(self, ids):
        at = self.fake_time.now - self.t0
        self.reads.append(at)
        if self.start <= at < self.end:
            raise down(self.retry_after)
        status, completed = [(s, c) for since, s, c in self.states if since <= at][-1]
        return dict((i, helpers.task(i, status, operation=None, completionTimestamp=completed)) for i in ids)


def test_an_outage_is_not_an_end_and_the_real_end_is_reported(fake_time):
    server = Outage(fake_time, 20, 200, [(0, "IN_PROGRESS", None), (100, "SUCCESSFUL", "2026-11-27T10:20:00.000Z")])
    lines = []
    outcome = Waiter(server.fetch, 900, 10, clock=fake_time.clock, sleeper=fake_time.sleep, wall_clock=fake_time.clock,
                     on_unreachable=lambda seconds, left, exc: lines.append(unreachable_line(seconds, left))).wait(["a"])
    assert outcome.pending_ids == [] and outcome.verdicts["a"].succeeded
    assert outcome.unreachable_for == 0 and 170 <= outcome.unreachable_seconds <= 240
    assert lines[0] == "SDDC Manager unreachable for 0 s, still waiting (880 s left)"
    assert "still waiting" in lines[-1]
    # backed off: doubling from the sleep, never above the cap, jittered
    pauses = [b - a for a, b in zip(server.reads, server.reads[1:])]
    assert max(pauses) <= OUTAGE_BACKOFF_CAP and len(set(pauses)) > 2
    assert len(server.reads) < 20  # not a read every 10 s
    assert "was unreachable for" in outcome.outage_notes()[0] and "answered again" in outcome.outage_notes()[0]


def test_a_wait_that_ends_in_an_outage_is_not_known_never_failed(fake_time):
    baseline = Baseline(helpers.task("a", "FAILED", operation=None, completionTimestamp="2026-11-27T10:04:12.000Z"),
                        fake_time.now)
    server = Outage(fake_time, 5, 10_000, [(0, "FAILED", "2026-11-27T10:04:12.000Z")])
    outcome = Waiter(server.fetch, 300, 10, clock=fake_time.clock, sleeper=fake_time.sleep,
                     wall_clock=fake_time.clock).wait(["a"], baselines={"a": baseline})
    assert outcome.pending_ids == ["a"] and outcome.split(["a"])["failed_ids"] == []
    # The outage starts at 5 s; after the retry the first read comes at EARLY_READ (2 s), the next 10 s later meets it.
    assert outcome.unreachable_for >= 300 - 12
    assert "not known: SDDC Manager unreachable for the last" in outcome.describe_pending()
    assert "the state of a is not known yet" in outcome.outage_notes()[0]


def test_unreachable_from_the_first_read_until_the_deadline(fake_time):
    server = Outage(fake_time, 0, 10_000, [(0, "FAILED", None)])
    outcome = Waiter(server.fetch, 60, 5, clock=fake_time.clock, sleeper=fake_time.sleep,
                     wall_clock=fake_time.clock).wait(["a"])
    assert outcome.pending_ids == ["a"] and outcome.tasks["a"] == {"id": "a", "status": None}
    assert fake_time.now - server.t0 == pytest.approx(60)


def test_retry_after_is_honoured_between_reads(fake_time):
    server = Outage(fake_time, 0, 100, [(0, "SUCCESSFUL", "2026-11-27T10:20:00.000Z")], retry_after=45)
    Waiter(server.fetch, 900, 5, clock=fake_time.clock, sleeper=fake_time.sleep, wall_clock=fake_time.clock).wait(["a"])
    pauses = [b - a for a, b in zip(server.reads, server.reads[1:])]
    assert all(p >= 45 for p in pauses)


def test_other_failures_still_end_the_wait(fake_time):
    def fetch(ids):
        raise SddcManagerError("SDDC Manager refused the credentials (HTTP 401)", kind="auth")
    with pytest.raises(SddcManagerError):
        Waiter(fetch, 60, 5, clock=fake_time.clock, sleeper=fake_time.sleep).wait(["a"])


def test_bound_limits_each_read_to_the_time_left(fake_time):
    limits = []

    class Bound:
        def __init__(self, seconds):
            limits.append(seconds)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    server = Outage(fake_time, 0, 0, [(0, "IN_PROGRESS", None)])
    Waiter(server.fetch, 30, 10, clock=fake_time.clock, sleeper=fake_time.sleep, wall_clock=fake_time.clock,
           bound=Bound).wait(["a"])
    assert limits == [30, 20, 10, 1.0]


def test_schedule_backoff_is_jittered_and_capped(fake_time):
    schedule = Schedule(float("inf"), 10, backoff_cap=60, clock=fake_time.clock, jitter=0.2)
    pauses = [schedule.pause(failures=n) for n in range(1, 8)]
    assert all(p <= 60 for p in pauses) and all(p >= 0.8 * min(10 * 2 ** n, 60) for n, p in enumerate(pauses, 1))
    assert schedule.pause(failures=1, retry_after=50) == 50
    assert schedule.pause(failures=1, retry_after=500) == 60


def test_poll_keeps_the_last_good_value_through_an_outage(fake_time):
    answers = iter([1, down(), down(), 2, 3])

    def read():
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    polled = poll(read, lambda v: v == 3, Schedule(600, 5, clock=fake_time.clock), fake_time.sleep)
    assert polled.done and polled.value == 3 and polled.reads == 5 and polled.unreachable_for == 0
    assert polled.unreachable_error is not None
