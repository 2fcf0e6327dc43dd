"""The event source's reads (TaskFeed over TaskReader) against an SDDC Manager held in memory behind mocked HTTP: the
first poll reads everything, later polls a window of the newest tasks and the open ones by id; the window grows while
it may cut off new tasks; 404 stops the watch; an answer out of order means full reads."""

from __future__ import annotations

import json
import random
import re

import pytest
import responses

import helpers
from client_helpers import TASKS

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _tasks
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError


class History:
    """SDDC Manager's task list: newest first (or ``order`` "oldest"/"shuffled"), ``limit`` honoured, totalElements."""

    def __init__(self, rsps, count):
        self.minute = 0
        self.tasks = {}
        self.order = "newest"
        self.deleted = set()
        self.by_id_reads = []
        for _count in range(count):
            self.add("SUCCESSFUL")
        rsps.add_callback(responses.GET, TASKS, callback=self._list)
        rsps.add_callback(responses.GET, re.compile(re.escape(TASKS) + r"/[^/?]+$"), callback=self._get)

    def add(self, status, task_id=None):
        self.minute += 1
        task_id = task_id or "t-%05d" % self.minute
        created = "2026-01-01T00:00:00.000Z".replace("00:00:00", "%02d:%02d:00" % divmod(self.minute % 1440, 60))
        created = created.replace("01T", "%02dT" % (1 + self.minute // 1440))
        self.tasks[task_id] = helpers.task(task_id, status, created=created)
        return task_id

    def set(self, task_id, status):
        self.tasks[task_id]["status"] = status

    def listed(self):
        tasks = sorted(self.tasks.values(), key=lambda t: t["creationTimestamp"], reverse=True)
        if self.order == "oldest":
            tasks.reverse()
        elif self.order == "shuffled":
            random.Random(3).shuffle(tasks)
        return tasks

    def _list(self, request):
        limit = re.search(r"limit=(\d+)", request.url)
        tasks = self.listed()
        page = tasks[:int(limit.group(1))] if limit else tasks
        return 200, {}, json.dumps({"elements": page, "pageMetadata": {"totalElements": len(tasks)}})

    def _get(self, request):
        task_id = request.url.rsplit("/", 1)[1]
        self.by_id_reads.append(task_id)
        if task_id not in self.tasks:
            return 404, {}, json.dumps({"errorCode": "CREDENTIALS_TASK_NOT_FOUND", "message": "Not found."})
        return 200, {}, json.dumps(self.tasks[task_id])

    def delete(self, task_id):
        del self.tasks[task_id]


@pytest.fixture(name="history")
def history_fixture(rsps):
    return lambda count: History(rsps, count)


def _feed(client, clock=None):
    warnings = []
    reader = _tasks.TaskReader(client, warn=warnings.append)
    feed = _tasks.TaskFeed(reader, clock=clock or (lambda: 0.0))
    return feed, warnings


def _ids(tasks):
    return [t["id"] for t in tasks]


def test_the_first_poll_reads_everything_and_later_ones_a_window_of_twenty(client, history):
    sddc = history(500)
    feed, warnings = _feed(client)
    assert len(feed.poll()) == 500 and feed.last == {"elements": 500, "requests": 1}
    for _poll in range(3):
        assert len(feed.poll()) == 20
        assert feed.last == {"elements": 20, "requests": 1}
    sddc.add("FAILED", "new-failure")
    assert _ids(feed.poll())[0] == "new-failure" and feed.last == {"elements": 20, "requests": 1}
    assert warnings == [] and feed.polls == 5


def test_the_window_grows_while_it_holds_only_new_tasks_and_shrinks_after(client, history):
    sddc = history(500)
    feed, _warnings = _feed(client)
    feed.poll()
    burst = [sddc.add("SUCCESSFUL") for _count in range(50)]
    tasks = feed.poll()
    # 20 and 40 held only new tasks; 80 reached one seen before: every new task is there.
    assert set(burst) <= set(_ids(tasks))
    assert feed.last == {"elements": 20 + 40 + 80, "requests": 3}
    assert feed.window == 80
    for expected in (80, 40, 20, 20):
        feed.poll()
        assert feed.last["elements"] == expected


def test_a_burst_larger_than_the_history_ends_in_one_full_read(client, history):
    sddc = history(25)
    feed, _warnings = _feed(client)
    feed.poll()
    for _count in range(100):
        sddc.add("SUCCESSFUL")
    assert len(feed.poll()) == 125
    # 20, 40, 80: only new tasks; 160 >= the 125 SDDC Manager holds (totalElements): the whole list.
    assert feed.last == {"elements": 20 + 40 + 80 + 125, "requests": 4}


def test_a_window_as_large_as_the_history_is_one_full_read(client, history):
    sddc = history(10)
    feed, _warnings = _feed(client)
    feed.poll()
    sddc.add("FAILED", "new-failure")
    assert "new-failure" in _ids(feed.poll()) and feed.last == {"elements": 11, "requests": 1}


def _old_failure_and_first_poll(client, history):
    """A FAILED task with 100 finished ones on each side, and a feed on a clock (``now[0]``) after its first poll."""
    sddc = history(100)
    old = sddc.add("FAILED", "old-failed")
    for _count in range(100):
        sddc.add("SUCCESSFUL")
    now = [0.0]
    feed, _warnings = _feed(client, clock=lambda: now[0])
    feed.poll()
    return sddc, old, now, feed


def test_an_old_failed_task_outside_the_window_is_read_by_id_through_its_retry_and_end(client, history):
    sddc, old, now, feed = _old_failure_and_first_poll(client, history)
    statuses = []
    # A retry keeps the task's id and its place deep in the list. At rest FAILED it is read every REST_SECONDS;
    # running, at every poll; followed (an event was emitted for it), at every poll too.
    for when, status, follow in ((60, "FAILED", False), (120, "IN_PROGRESS", False), (300, "IN_PROGRESS", False),
                                 (360, "FAILED", False), (420, "FAILED", True), (480, "SUCCESSFUL", False),
                                 (900, "SUCCESSFUL", False)):
        now[0] = when
        sddc.set(old, status)
        if follow:
            feed.follow(old)
        tasks = feed.poll()
        statuses.append([t["status"] for t in tasks if t["id"] == old])
    assert statuses == [[], [], ["IN_PROGRESS"], ["FAILED"], ["FAILED"], ["SUCCESSFUL"], []]
    # Once SUCCESSFUL it is no longer watched.
    assert sddc.by_id_reads == [old] * 4
    assert feed.last == {"elements": 20, "requests": 1}


def test_failed_tasks_at_rest_cost_one_read_each_per_rest_interval_whatever_the_history(client, history):
    sddc = history(1000)
    resting = [sddc.add("FAILED") for _count in range(10)]
    for _count in range(1000):
        sddc.add("SUCCESSFUL")
    now = [0.0]
    feed, _warnings = _feed(client, clock=lambda: now[0])
    feed.poll()
    per_poll = []
    for _poll in range(10):  # ten polls a minute apart
        now[0] += 60
        feed.poll()
        per_poll.append(feed.last["requests"])
    # The list window at every poll; the ten FAILED tasks by id once, when REST_SECONDS had passed.
    assert per_poll == [1, 1, 1, 1, 11, 1, 1, 1, 1, 11]
    assert sorted(set(sddc.by_id_reads)) == sorted(resting) and len(sddc.by_id_reads) == 20


def test_a_follow_ends_after_its_time(client, history):
    sddc, old, now, feed = _old_failure_and_first_poll(client, history)
    feed.follow(old, seconds=100)
    for when in (50, 99, 150, 200):
        now[0] = when
        feed.poll()
    assert sddc.by_id_reads == [old, old]


def test_a_task_running_when_it_left_the_window_is_followed_by_id_to_its_end(client, history):
    sddc = history(30)
    running = sddc.add("IN_PROGRESS", "running")
    feed, _warnings = _feed(client)
    feed.poll()
    for _count in range(25):
        sddc.add("SUCCESSFUL")
    tasks = feed.poll()
    assert "running" in _ids(tasks)  # the window of 40 reached it
    for _count in range(30):
        sddc.add("SUCCESSFUL")
    sddc.set(running, "FAILED")
    tasks = feed.poll()
    assert [t["status"] for t in tasks if t["id"] == "running"] == ["FAILED"]
    assert tasks[-1]["id"] == "running"  # after the window's tasks: list order


def test_a_watched_task_that_answers_404_is_watched_no_more(client, history):
    sddc = history(100)
    sddc.add("FAILED", "doomed")
    for _count in range(30):
        sddc.add("SUCCESSFUL")
    now = [0.0]
    feed, _warnings = _feed(client, clock=lambda: now[0])
    feed.poll()
    now[0] = _tasks.REST_SECONDS
    feed.poll()
    assert sddc.by_id_reads == ["doomed"]
    sddc.delete("doomed")
    now[0] = 2 * _tasks.REST_SECONDS
    assert "doomed" not in _ids(feed.poll())
    assert "doomed" not in feed.watched
    now[0] = 3 * _tasks.REST_SECONDS
    feed.poll()
    assert sddc.by_id_reads == ["doomed", "doomed"] and feed.last == {"elements": 20, "requests": 1}


def test_many_open_tasks_in_a_short_history_are_one_full_read_not_a_request_each(client, history):
    sddc = history(0)
    for _count in range(60):
        sddc.add("FAILED")
    for _count in range(20):
        sddc.add("SUCCESSFUL")
    now = [0.0]
    feed, _warnings = _feed(client, clock=lambda: now[0])
    feed.poll()
    now[0] = _tasks.REST_SECONDS  # the FAILED tasks at rest are due
    assert len(feed.poll()) == 80
    assert sddc.by_id_reads == [] and feed.last == {"elements": 20 + 80, "requests": 2}


def test_a_poll_that_fails_changes_nothing_and_the_next_finds_every_new_task(client, history, rsps):
    sddc = history(100)
    sddc.add("FAILED", "old-failed")
    for _count in range(30):
        sddc.add("SUCCESSFUL")
    now = [0.0]
    feed, _warnings = _feed(client, clock=lambda: now[0])
    feed.poll()
    now[0] = _tasks.REST_SECONDS  # old-failed is due for its read by id, which fails
    burst = [sddc.add("FAILED") for _count in range(30)]
    rsps.replace(responses.GET, re.compile(re.escape(TASKS) + r"/[^/?]+$"), status=500,
                 json={"errorCode": "INTERNAL", "message": "boom"})
    with pytest.raises(SddcManagerError):
        feed.poll()
    assert feed.polls == 1 and not set(burst) & feed.seen
    rsps.remove(responses.GET, re.compile(re.escape(TASKS) + r"/[^/?]+$"))
    rsps.add_callback(responses.GET, re.compile(re.escape(TASKS) + r"/[^/?]+$"), callback=sddc._get)
    tasks = feed.poll()
    assert set(burst) | {"old-failed"} <= set(_ids(tasks))


@pytest.mark.parametrize("order", ["oldest", "shuffled"])
def test_an_answer_out_of_order_means_a_full_read_at_every_poll_and_one_warning(client, history, order):
    sddc = history(200)
    feed, warnings = _feed(client)
    feed.poll()
    feed.poll()
    sddc.order = order
    sddc.add("FAILED", "new-failure")
    tasks = feed.poll()
    assert "new-failure" in _ids(tasks)
    assert feed.last == {"elements": 20 + 201, "requests": 2}  # the window, then the whole list
    for _poll in range(2):
        feed.poll()
        assert feed.last == {"elements": 201, "requests": 1}
    assert len(warnings) == 1 and "out of order" in warnings[0]


def test_the_whole_list_is_read_again_after_an_hour_once_the_polls_read_four_times_as_much(client, history):
    history(300)
    now = [0.0]
    feed, _warnings = _feed(client, clock=lambda: now[0])
    feed.poll()
    read = []
    # 20 elements a poll: the 60th poll since the full read brings them to 1,200, four times the list.
    for when in range(1, 62):
        now[0] = 60.0 * when
        feed.poll()
        read.append(feed.last["elements"])
    assert read[:59] == [20] * 59
    assert read[59] == 20  # an hour passed (t = 3600 s), but only 1,180 elements were read since
    assert read[60] == 300 and now[0] > _tasks.SWEEP_SECONDS
    now[0] += 60
    feed.poll()
    assert feed.last["elements"] == 20


def test_no_sweep_within_the_hour_however_much_was_read(client, history):
    sddc = history(30)
    now = [0.0]
    feed, _warnings = _feed(client, clock=lambda: now[0])
    feed.poll()
    for when in range(1, 59):
        now[0] = 60.0 * when
        sddc.add("SUCCESSFUL")
        sddc.add("SUCCESSFUL")
        feed.poll()
        assert feed.last["requests"] == 1 and feed.last["elements"] == 20
