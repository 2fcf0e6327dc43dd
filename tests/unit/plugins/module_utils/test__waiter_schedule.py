"""The wait's schedule as a table of cases: the early read after a write, reads aimed at an expected end (from the
sub-tasks' timestamps), the floor between two reads, and the read count never above the plain schedule's (save
AIM_MISSES). An estimate only moves a read; the verdict is the same whatever it says."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.vcf.sddc_manager.plugins.module_utils._waiter import (
    AIM_MARGIN,
    AIM_MISSES,
    EARLY_READ,
    READ_FLOOR,
    READ_LAG,
    Baseline,
    Schedule,
    Waiter,
    Watch,
    run_length,
)

T0 = 1_800_000_000.0


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.now += seconds


def at(seconds):
    """An ISO time ``seconds`` after T0 (SDDC Manager's clock in these tests is the controller's)."""
    return datetime.datetime.fromtimestamp(T0 + seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sub(status, created, completed=None):
    out = {"id": "s-%s-%s" % (created, completed), "status": status, "creationTimestamp": at(created)}
    if completed is not None:
        out["completionTimestamp"] = at(completed)
    return out


def task(status, subs, completed=None):
    out = {"id": "a", "type": "ROTATE", "status": status, "creationTimestamp": at(-1000), "subTasks": subs}
    if completed is not None:
        out["completionTimestamp"] = at(completed)
    return out


# --- Schedule: one row per case -------------------------------------------------------------------------------------
# (case, sleep, steps, expected pauses); a step is (aims relative to now, or None) and whether the read it leads to
# missed what it was aimed at.

SCHEDULE_CASES = [
    ("no aim: one read every sleep", 5, [(None, False)] * 3, [5, 5, 5]),
    ("an aim before the regular read moves it", 5, [({"a": 3.2}, False)], [3.2]),
    ("an aim after the regular read changes nothing", 5, [({"a": 7.0}, False)], [5]),
    ("an aim just after the regular read delays it to the aim", 5, [({"a": 5.6}, False), (None, False)],
     [5.6, 4.4]),
    ("an aim closer than the floor waits the floor", 5, [({"a": 0.2}, False)], [1.0]),
    ("an overdue estimate reads after the floor", 5, [({"a": -4.0}, False)], [1.0]),
    ("a sleep below the floor is the floor", 0.5, [({"a": 0.1}, False), ({"a": 0.2}, True), (None, False)],
     [0.5, 0.5, 0.5]),
    ("the latest aim inside the window is taken", 5, [({"a": 2.0, "b": 3.5, "c": 9.0}, False)], [3.5]),
    ("an aimed read that saw the end takes the regular read's place", 5, [({"a": 3.0}, False), (None, False)],
     [3.0, 7.0]),
    ("an aimed read that missed gives the regular read back", 5, [({"a": 3.0}, True), (None, False)], [3.0, 2.0]),
    ("a missed aim one floor before the regular read", 5, [({"a": 4.5}, True), (None, False)], [4.5, 1.0]),
    ("after AIM_MISSES misses aims are ignored", 5,
     [({"a": 3.0}, True), (None, False), ({"a": 3.0}, True), (None, False), ({"a": 3.0}, False)],
     [3.0, 2.0, 3.0, 2.0, 5.0]),
]


@pytest.mark.parametrize("case, sleep, steps, expected", SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES])
def test_schedule(case, sleep, steps, expected):
    clock = Clock()
    schedule = Schedule(1000, sleep, clock=clock, can_aim=True)
    pauses = []
    for aims, missed in steps:
        if aims is not None:
            schedule.aim(dict((k, clock.now + v) for k, v in aims.items()))
        pause = schedule.pause()
        pauses.append(round(pause, 3))
        clock.sleep(pause)
        if missed:
            schedule.miss()
    assert pauses == expected, case
    assert AIM_MISSES == 2


def test_the_first_pause_and_the_deadline_cap_every_pause():
    clock = Clock()
    schedule = Schedule(4, 5, clock=clock, first=EARLY_READ, can_aim=True)
    assert schedule.first_pause() == EARLY_READ
    clock.sleep(EARLY_READ)
    assert schedule.pause() == 2.0  # the deadline, not the regular read at 7
    assert Schedule(1, 5, clock=clock, first=EARLY_READ).first_pause() == 1.0


def test_without_can_aim_aims_are_ignored():
    clock = Clock()
    schedule = Schedule(100, 5, clock=clock)
    schedule.aim({"a": 2.0})
    assert schedule.pause() == 5 and schedule.aimed == frozenset()


# --- the estimate: what the sub-tasks say -------------------------------------------------------------------------

RUN_LENGTH_CASES = [
    ("no sub-task times", task("IN_PROGRESS", [{"id": "s", "status": "IN_PROGRESS"}]), (None, None)),
    ("none ended yet", task("IN_PROGRESS", [sub("IN_PROGRESS", 0), sub("PENDING", 0)]), (T0, None)),
    ("one of three ended after 4 s", task("IN_PROGRESS", [sub("SUCCESSFUL", 0, 4), sub("IN_PROGRESS", 0),
                                                          sub("PENDING", 0)]), (T0, 12.0)),
    ("a failed sub-task counts as ended", task("IN_PROGRESS", [sub("FAILED", 0, 5), sub("IN_PROGRESS", 0)]),
     (T0, 10.0)),
    ("all ended: the run's length", task("FAILED", [sub("SUCCESSFUL", 0, 6), sub("FAILED", 0, 17)], 17), (T0, 17.0)),
    ("a completion time on a running sub-task is not an end",
     task("IN_PROGRESS", [sub("IN_PROGRESS", 0, 3)]), (T0, None)),
    ("a completion before the run's start is another run's", task("IN_PROGRESS", [sub("SUCCESSFUL", 10, 5)]),
     (T0 + 10, None)),
]


@pytest.mark.parametrize("case, read, expected", RUN_LENGTH_CASES, ids=[c[0] for c in RUN_LENGTH_CASES])
def test_run_length(case, read, expected):
    assert run_length(read) == expected, case


def test_expected_end_of_a_retried_task_from_the_run_it_replaced_then_from_its_own_sub_tasks():
    before = task("FAILED", [sub("FAILED", -100, -83)], -83)  # the failed run took 17 s
    watch = Watch("a", Baseline(before, T0))
    # Known only when the retry was sent: the run began a little after it.
    assert watch.expected_end() == T0 + 17 + AIM_MARGIN
    # Known when its answer came back: the run began before that.
    assert Watch("a", Baseline(before, T0, answered_at=T0 + 0.2)).expected_end() == pytest.approx(T0 + 17.2)
    watch.update(task("IN_PROGRESS", [sub("SUCCESSFUL", 0.2, 4.2), sub("IN_PROGRESS", 0.2)]), T0 + 5)
    assert watch.expected_end() == T0 + 8.0 + AIM_MARGIN  # 4 s for one sub-task of two
    watch.update(task("SUCCESSFUL", [sub("SUCCESSFUL", 0.2, 4.2), sub("SUCCESSFUL", 0.2, 8.1)], 8.1), T0 + 9)
    assert watch.expected_end() is None


def test_expected_end_of_a_task_running_before_the_wait_is_placed_late_by_the_clock_skew():
    watch = Watch("a")
    # SDDC Manager's clock runs 30 s ahead; a read at T0 + 10 (ours) shows a sub-task that ended at its T0 + 38.
    watch.update(task("IN_PROGRESS", [sub("SUCCESSFUL", 30, 38), sub("IN_PROGRESS", 30)]), T0 + 10)
    # The run started at our T0 + 0 (its T0 + 30) and lasts 16 s: it ends at our T0 + 16 at the latest reading.
    assert watch.expected_end() == pytest.approx(T0 + 16)
    assert Watch("b").expected_end() is None


# --- the wait: reads aimed at the end, never more reads, the same verdict -------------------------------------------

class Server:
    """One task that runs ``length`` seconds from ``started`` (one sub-task per ``parts``, one after another)."""

    def __init__(self, clock, length, started=0.0, parts=1, end="SUCCESSFUL"):
        self.clock, self.length, self.started, self.parts, self.end = clock, length, started, parts, end
        self.reads = []

    def fetch(self, ids):
        now = self.clock()
        self.reads.append(now)
        subs = []
        for index in range(self.parts):
            ends = self.started + (index + 1) * self.length / self.parts
            subs.append(sub(self.end if now >= ends else "IN_PROGRESS", self.started, ends if now >= ends else None))
        done = now >= self.started + self.length
        return {"a": task(self.end if done else "IN_PROGRESS", subs, self.started + self.length if done else None)}


def wait(length, previous, parts=1, end="SUCCESSFUL", sleep=5, timeout=120):
    clock = Clock()
    server = Server(lambda: clock.now, length, parts=parts, end=end)
    before = task("FAILED", [sub("FAILED", -500, -500 + previous)], -500 + previous)
    outcome = Waiter(server.fetch, timeout, sleep, clock=clock, sleeper=clock.sleep,
                     wall_clock=lambda: T0 + clock.now).wait(["a"], baselines={"a": Baseline(before, T0)})
    return outcome, server.reads


def plain_reads(length, sleep=5):
    """The reads of the schedule without aims: the early read, then one every sleep until one sees the end."""
    reads = [EARLY_READ]
    while reads[-1] < length:
        reads.append(reads[-1] + sleep)
    return reads


WAIT_CASES = [
    # case, task length, the replaced run's length, sub-tasks, end
    ("estimate right, 17 s", 17, 17, 1, "SUCCESSFUL"),
    ("estimate right, 20 s", 20, 20, 1, "SUCCESSFUL"),
    ("estimate right, 23 s", 23, 23, 1, "SUCCESSFUL"),
    ("estimate too short", 23, 10, 1, "SUCCESSFUL"),
    ("estimate far too long", 11, 300, 1, "SUCCESSFUL"),
    ("sub-tasks correct a wrong prior", 24, 6, 4, "SUCCESSFUL"),
    ("a failure is seen as soon", 17, 17, 2, "FAILED"),
    ("a quick failure is seen at the early read", 1, 17, 1, "FAILED"),
]


@pytest.mark.parametrize("case, length, previous, parts, end", WAIT_CASES, ids=[c[0] for c in WAIT_CASES])
def test_an_aimed_wait_sees_the_same_end_with_no_more_reads(case, length, previous, parts, end):
    outcome, reads = wait(length, previous, parts, end)
    assert outcome.pending_ids == [] and outcome.tasks["a"]["status"] == end, case
    plain = plain_reads(length)
    assert len(reads) <= len(plain) + AIM_MISSES, (reads, plain)
    # Never seen later than without aims, save a regular read that waited (at most the floor) for an expected end.
    assert reads[-1] <= plain[-1] + READ_FLOOR + 1e-9, (reads, plain)
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(reads, reads[1:])), reads
    if previous == length:
        # The aimed read lands AIM_MARGIN + READ_LAG after the end, and takes a regular read's place.
        assert reads[-1] == pytest.approx(length + AIM_MARGIN + READ_LAG) or reads[-1] in plain, reads
        assert len(reads) <= len(plain), (reads, plain)


def test_a_task_that_never_ends_costs_no_more_reads_than_the_plain_schedule_plus_the_misses():
    outcome, reads = wait(10_000, 20, timeout=120)
    assert outcome.pending_ids == ["a"]
    assert len(reads) <= len(plain_reads(120)) + AIM_MISSES
