"""The wait loop, driven by a fake clock: polls, timeouts, baselines."""

from __future__ import annotations

import pytest

import helpers

from ansible_collections.vcf.sddc_manager.plugins.module_utils._waiter import (
    SETTLE_SECONDS,
    Baseline,
    Schedule,
    Waiter,
    WaitOutcome,
    poll,
)

OLD = "2026-11-27T10:04:12.000Z"
NEW = "2026-11-27T10:20:00.000Z"


def task(task_id, status, completed=None):
    return helpers.task(task_id, status, operation=None, completionTimestamp=completed)


class Server:
    """Answers each fetch with the next status of every task (the last one repeats); records what was asked."""

    def __init__(self, fake_time, fetch_seconds=0.0, **timelines):
        self.timelines = {k: list(v) for k, v in timelines.items()}
        self.asked = []
        self.fake_time = fake_time
        self.fetch_seconds = fetch_seconds

    def fetch(self, ids):
        self.asked.append(list(ids))
        self.fake_time.now += self.fetch_seconds
        out = {}
        for task_id in ids:
            line = self.timelines[task_id]
            state = line.pop(0) if len(line) > 1 else line[0]
            out[task_id] = task(task_id, *state) if isinstance(state, tuple) else task(task_id, state)
        return out


def waiter(server, fake_time, timeout, sleep=10, **kwargs):
    kwargs.setdefault("wall_clock", fake_time.clock)
    return Waiter(server.fetch, timeout, sleep, clock=fake_time.clock, sleeper=fake_time.sleep, **kwargs)


@pytest.mark.parametrize("status, ended", [
    ("SUCCESSFUL", True), ("FAILED", True), ("Failed", True), ("USER_CANCELLED", True), ("Cancelled", True),
    ("COMPLETED_WITH_WARNING", True), ("INCONSISTENT", True), ("SKIPPED", True), ("TIMED_OUT", True),
    ("IN_PROGRESS", False), ("In Progress", False), ("PENDING", False), ("Queued", False),
    (None, False), ("NOT_APPLICABLE", False),
])
def test_a_task_is_waited_for_until_its_verdict_says_it_ended(fake_time, status, ended):
    server = Server(fake_time, a=[status])
    outcome = waiter(server, fake_time, timeout=20).wait(["a"])
    assert (outcome.pending_ids == []) is ended


def test_an_unknown_status_with_a_completion_time_has_ended(fake_time):
    server = Server(fake_time, a=[("ROLLED_BACK", NEW)])
    outcome = waiter(server, fake_time, timeout=600).wait(["a"])
    assert outcome.pending_ids == [] and outcome.verdicts["a"].state == "unknown"


def test_a_baseline_folds_spellings_and_tells_runs_apart_by_their_times():
    baseline = Baseline(task("t", "FAILED", OLD), sent_at=0.0)
    assert baseline.is_stale(task("t", "Failed", OLD)) and not baseline.is_stale(task("t", "FAILED", NEW))


def test_polls_until_all_are_done(fake_time):
    server = Server(fake_time, a=["IN_PROGRESS", "IN_PROGRESS", "SUCCESSFUL"], b=["PENDING", "FAILED"])
    outcome = waiter(server, fake_time, timeout=600).wait(["a", "b"])
    assert outcome.pending_ids == []
    assert outcome.timed_out is False
    assert outcome.polls == 3
    assert fake_time.sleeps == [10, 10]
    assert outcome.elapsed == 20
    # done tasks are not asked for again
    assert server.asked == [["a", "b"], ["a", "b"], ["a"]]
    assert outcome.tasks["a"]["status"] == "SUCCESSFUL"
    assert outcome.tasks["b"]["status"] == "FAILED"


def test_timeout_zero_still_polls_once(fake_time):
    server = Server(fake_time, a=["IN_PROGRESS"])
    outcome = waiter(server, fake_time, timeout=0).wait(["a"])
    assert outcome.polls == 1
    assert outcome.pending_ids == ["a"]
    assert outcome.timed_out is True
    assert fake_time.sleeps == []


def test_timeout_zero_and_done(fake_time):
    server = Server(fake_time, a=["SUCCESSFUL"])
    outcome = waiter(server, fake_time, timeout=0).wait(["a"])
    assert (outcome.polls, outcome.pending_ids, outcome.timed_out) == (1, [], False)


def test_timeout_leaves_the_pending_ids_and_the_last_poll_lands_on_the_deadline(fake_time):
    server = Server(fake_time, a=["IN_PROGRESS"], b=["IN_PROGRESS", "SUCCESSFUL"], c=["PENDING"])
    outcome = waiter(server, fake_time, timeout=25).wait(["a", "b", "c"])
    assert outcome.pending_ids == ["a", "c"]
    assert outcome.timed_out is True
    assert fake_time.sleeps == [10, 10, 5]
    assert outcome.polls == 4
    assert outcome.elapsed == 25
    assert outcome.tasks["b"]["status"] == "SUCCESSFUL"


def test_slow_fetches_count_against_the_timeout(fake_time):
    server = Server(fake_time, fetch_seconds=8, a=["IN_PROGRESS"])
    outcome = waiter(server, fake_time, timeout=20).wait(["a"])
    # poll at 0 (ends 8), sleep 10, poll at 18 (ends 26) -> past the deadline
    assert fake_time.sleeps == [10]
    assert outcome.polls == 2
    assert outcome.pending_ids == ["a"]


def test_baselines_ignore_the_stale_failed_state(fake_time):
    server = Server(fake_time, a=[("FAILED", OLD), ("FAILED", OLD), ("IN_PROGRESS", None), ("FAILED", NEW)])
    outcome = waiter(server, fake_time, timeout=600).wait(["a"], baselines={"a": Baseline(task("a", "FAILED", OLD), fake_time.now)})
    assert outcome.polls == 4
    assert outcome.pending_ids == []
    assert outcome.tasks["a"]["completionTimestamp"] == NEW


def test_the_old_state_seen_again_after_the_task_ran_is_its_new_end(fake_time):
    """A task that fails again without a completion time looks like the old run; having seen it run tells them apart."""
    server = Server(fake_time, a=[("FAILED", None), ("IN_PROGRESS", None), ("FAILED", None)])
    outcome = waiter(server, fake_time, timeout=600).wait(["a"], baselines={"a": Baseline(task("a", "FAILED"), fake_time.now)})
    assert (outcome.polls, outcome.pending_ids) == (3, [])
    assert outcome.verdicts["a"].reason == "failed"


def test_the_old_state_never_seen_to_change_is_the_end_once_the_settle_time_passed(fake_time):
    """SDDC Manager may fail the retry before any read sees it run, and without a completion time."""
    server = Server(fake_time, a=[("FAILED", None)])
    outcome = waiter(server, fake_time, timeout=600).wait(["a"], baselines={"a": Baseline(task("a", "FAILED"), fake_time.now)})
    assert outcome.pending_ids == []
    assert SETTLE_SECONDS <= outcome.elapsed < SETTLE_SECONDS + 10
    assert outcome.verdicts["a"].state == "attention"


def test_the_old_state_with_its_completion_time_is_never_the_end_however_long_it_shows(fake_time):
    """A new run cannot end with the old run's completion time: reads showing it are stale past the settle time."""
    stale = [("FAILED", OLD)] * 6
    server = Server(fake_time, a=stale + [("USER_CANCELLED", NEW)])
    outcome = waiter(server, fake_time, timeout=600).wait(["a"], baselines={"a": Baseline(task("a", "FAILED", OLD), fake_time.now)})
    assert outcome.pending_ids == [] and outcome.elapsed > SETTLE_SECONDS
    assert outcome.tasks["a"]["status"] == "USER_CANCELLED" and outcome.polls == 7


def test_baseline_stays_pending_until_timeout_when_the_timeout_comes_first(fake_time):
    server = Server(fake_time, a=[("FAILED", OLD)])
    outcome = waiter(server, fake_time, timeout=20).wait(["a"], baselines={"a": Baseline(task("a", "FAILED", OLD), fake_time.now)})
    assert outcome.pending_ids == ["a"]
    assert outcome.polls == 3
    # The old FAILED run is not the task's state: nothing downstream may report it as such.
    assert outcome.tasks["a"] == {"id": "a", "status": None}
    assert outcome.verdicts["a"].state == "unknown" and outcome.split(["a"])["failed_ids"] == []
    assert outcome.describe_pending() == "a (its reads still showed the state from before the retry)"


def test_the_controller_time_of_each_end_is_kept(fake_time):
    server = Server(fake_time, a=["IN_PROGRESS", "IN_PROGRESS", "SUCCESSFUL"])
    outcome = Waiter(server.fetch, 600, 10, clock=fake_time.clock, sleeper=fake_time.sleep,
                     wall_clock=fake_time.clock).wait(["a"])
    assert outcome.watches["a"].ended_at == fake_time.now


def test_known_done_tasks_are_not_fetched(fake_time):
    server = Server(fake_time, b=["IN_PROGRESS", "SUCCESSFUL"])
    outcome = waiter(server, fake_time, timeout=600).wait(["a", "b"], known={"a": task("a", "SUCCESSFUL"),
                                                                             "b": task("b", "IN_PROGRESS")})
    assert server.asked == [["b"], ["b"]]
    assert set(outcome.tasks) == {"a", "b"}


def test_everything_already_done_needs_no_poll(fake_time):
    server = Server(fake_time)
    outcome = waiter(server, fake_time, timeout=600).wait(["a"], known={"a": task("a", "FAILED")})
    assert (outcome.polls, outcome.pending_ids, server.asked) == (0, [], [])


def test_no_ids(fake_time):
    outcome = waiter(Server(fake_time), fake_time, timeout=600).wait([])
    assert (outcome.polls, outcome.pending_ids, outcome.tasks) == (0, [], {})


def test_on_poll_is_told_each_poll(fake_time):
    seen = []
    server = Server(fake_time, a=["IN_PROGRESS", "SUCCESSFUL"])
    waiter(server, fake_time, timeout=600, on_poll=lambda tasks, pending, elapsed: seen.append(
        (tasks["a"]["status"], list(pending), elapsed))).wait(["a"])
    assert seen == [("IN_PROGRESS", ["a"], 0), ("SUCCESSFUL", [], 10)]


def test_negative_values_are_clamped(fake_time):
    server = Server(fake_time, a=["IN_PROGRESS"])
    outcome = waiter(server, fake_time, timeout=-5, sleep=-1).wait(["a"])
    assert (outcome.polls, outcome.elapsed, fake_time.sleeps) == (1, 0, [])


def test_wait_outcome_splits_by_verdict(fake_time):
    server = Server(fake_time, a=["SUCCESSFUL"], b=["INCONSISTENT"], c=[("ROLLED_BACK", NEW)], d=["IN_PROGRESS"],
                    e=["USER_CANCELLED"])
    outcome = waiter(server, fake_time, timeout=0).wait(["a", "b", "c", "d", "e"])
    split = outcome.split(["a", "b", "c", "d", "e"])
    assert (split["succeeded_ids"], split["failed_ids"], split["unknown_ids"], split["pending_ids"]) == (
        ["a"], ["b", "e"], ["c"], ["d"])
    assert [e["task_id"] for e in split["failed_subtasks"]] == ["b", "c", "e"]
    assert len(split["problems"]) == 3 and "REMEDIATE" in split["problems"][0]


def test_wait_outcome():
    assert WaitOutcome({}, [], 0, 1).timed_out is False
    assert WaitOutcome({}, ["x"], 0, 1).timed_out is True


# -- the stale-read rule, on its own -----------------------------------------------------------------------------

@pytest.mark.parametrize("before, read, seen_running, since_write, stale", [
    (("FAILED", OLD), ("FAILED", OLD), False, 0, True),
    (("FAILED", OLD), ("FAILED", OLD), True, 3600, True),  # the old run's completion time: stale for good
    (("FAILED", OLD), ("FAILED", NEW), False, 0, False),
    (("FAILED", OLD), ("IN_PROGRESS", None), False, 0, False),
    (("FAILED", None), ("FAILED", None), False, 0, True),
    (("FAILED", None), ("FAILED", None), True, 0, False),  # seen running since: this is the new run's end
    (("FAILED", None), ("FAILED", None), False, SETTLE_SECONDS, False),  # settled
    (("FAILED", None), ("USER_CANCELLED", None), False, 0, False),
])
def test_the_stale_read_rule(before, read, seen_running, since_write, stale):
    baseline = Baseline(task("a", *before), sent_at=1000.0)
    assert baseline.is_stale(task("a", *read), seen_running, now=1000.0 + since_write) is stale


def test_a_baseline_round_trips_through_a_module_result():
    from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import redact

    before = {"id": "a", "status": "FAILED", "completionTimestamp": OLD,
              "subTasks": [{"id": "s", "status": "FAILED", "completionTimestamp": OLD, "newPassword": "x" * 12}]}
    entry = redact(Baseline(before, sent_at=1_800_000_000.25).as_result())
    assert "new_password" not in str(entry) and entry["retried_at"] == "2027-01-15T08:00:00.250000Z"
    again = Baseline.from_result(entry, now=0)
    assert again.sent_at == 1_800_000_000.25
    assert again.is_stale(before) and not again.is_stale(dict(before, completionTimestamp=NEW))
    assert Baseline.from_result({"retried_at": entry["retried_at"]}, now=0) is None
    # An unknown write time counts from now: the whole settle time is kept.
    assert Baseline.from_result(dict(entry, retried_at=None), now=5.0).sent_at == 5.0


def test_a_retry_took_effect_when_the_read_is_neither_the_old_run_nor_cancelled():
    baseline = Baseline(task("a", "FAILED", OLD), sent_at=0.0)
    assert baseline.took_effect(task("a", "IN_PROGRESS")) and baseline.took_effect(task("a", "FAILED", NEW))
    assert not baseline.took_effect(task("a", "FAILED", OLD)) and not baseline.took_effect(task("a", "Cancelled"))


# -- the schedule and the one loop ---------------------------------------------------------------------------------

def test_poll_reads_at_least_once_and_never_sleeps_past_the_deadline(fake_time):
    reads = []
    polled = poll(lambda: reads.append(fake_time.now) or len(reads), lambda n: False,
                  Schedule(25, 10, clock=fake_time.clock), fake_time.sleep)
    assert fake_time.sleeps == [10, 10, 5] and polled.reads == 4 and not polled.done and polled.elapsed == 25


def test_poll_stops_when_done_and_a_growing_schedule_doubles_its_pauses(fake_time):
    polled = poll(lambda: fake_time.now, lambda now: False, Schedule(30, 2, growth=2, clock=fake_time.clock),
                  fake_time.sleep)
    assert fake_time.sleeps == [2, 4, 8, 16] and polled.reads == 5
    fake_time.sleeps.clear()
    polled = poll(lambda: fake_time.now, lambda now: True, Schedule(30, 2, clock=fake_time.clock), fake_time.sleep)
    assert (fake_time.sleeps, polled.reads, polled.done) == ([], 1, True)


def test_aligned_reads_start_every_sleep_seconds_whatever_a_read_costs(fake_time):
    def read():
        fake_time.now += 3
        return fake_time.now

    poll(read, lambda now: False, Schedule(40, 10, clock=fake_time.clock), fake_time.sleep, aligned=True)
    assert fake_time.sleeps == [7, 7, 7, 7]


def test_failed_reads_back_off_up_to_the_cap(fake_time):
    schedule = Schedule(float("inf"), 5, backoff_cap=60, clock=fake_time.clock)
    assert [schedule.pause(failures=n) for n in (1, 2, 3, 4, 20)] == [10, 20, 40, 60, 60]
    assert schedule.pause() == 5
