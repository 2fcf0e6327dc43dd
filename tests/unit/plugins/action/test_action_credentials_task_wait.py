"""The credentials_task_wait action plugin's loop, on a fake clock: one module run and one line per interval, the
overall timeout kept to within one interval, the failure words of the module kept, a failure in the middle still
returning where the tasks stood."""

from unittest import mock

import pytest

from ansible.plugins.action import ActionBase

from ansible_collections.vcf.sddc_manager.plugins.action import credentials_task_wait as plugin


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class FakeModule:
    """Stands for credentials_task_wait: ``ends_at`` seconds after the start every task has ended."""

    def __init__(self, clock, ends_at, overhead=0.6, fail_at_run=None, outcome="succeeded", ids=("t1", "t2")):
        self.clock, self.ends_at, self.overhead = clock, ends_at, overhead
        self.fail_at_run, self.outcome, self.ids = fail_at_run, outcome, list(ids)
        self.start = clock.now
        self.calls = []

    def __call__(self, module_args=None, task_vars=None, **_kwargs):
        self.calls.append(dict(module_args))
        if self.fail_at_run == len(self.calls):
            self.clock.now += self.overhead
            return {"failed": True, "msg": "HTTP 500 on GET /v1/credentials/tasks", "status_code": 500,
                    "warnings": ["validate_certs is false"]}
        began = self.clock.now
        waited = min(module_args["wait_timeout"], max(0.0, self.start + self.ends_at - began))
        self.clock.now += waited + self.overhead
        done = self.clock.now - self.start >= self.ends_at
        result = {"changed": False, "polls": 1 + int(waited), "elapsed": round(waited, 1),
                  "tasks": [{"id": i} for i in self.ids], "succeeded_ids": [], "failed_ids": [], "unknown_ids": [],
                  "pending_ids": [] if done else list(self.ids), "failed_subtasks": [],
                  "warnings": ["validate_certs is false"]}
        if done and self.outcome == "succeeded":
            result["succeeded_ids"] = list(self.ids)
        elif done:
            result["failed_ids"] = list(self.ids)
            if module_args.get("fail_on_failure", True):
                result.update(failed=True, msg="2 of 2 tasks did not succeed: t1 (Remediation: reset) | t2")
        return result


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(plugin.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(plugin.time, "sleep", fake.sleep)
    return fake


@pytest.fixture
def lines(monkeypatch):
    shown = []
    monkeypatch.setattr(plugin.display, "display", lambda msg, *args, **kwargs: shown.append(msg))
    return shown


def action(args, module, async_val=0):
    task = mock.MagicMock()
    task.args = args
    task.async_val = async_val
    connection = mock.MagicMock()
    connection.has_native_async = False
    connection._shell.tmpdir = None
    found = plugin.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock())
    found._execute_module = module
    found._remove_tmp_path = mock.MagicMock()
    return found


def run(args, module, async_val=0):
    with mock.patch.object(ActionBase, "run", return_value={}):
        return action(args, module, async_val).run(task_vars={"inventory_hostname": "vcf-a"})


def test_without_progress_interval_the_module_runs_once_as_given(clock, lines):
    module = FakeModule(clock, ends_at=30)
    args = {"task_ids": ["t1", "t2"], "wait_timeout": 600, "wait_sleep": 5}
    result = run(args, module)
    assert module.calls == [args] and lines == []
    assert result["succeeded_ids"] == ["t1", "t2"]


def test_one_run_and_one_line_per_interval_until_the_tasks_end(clock, lines):
    module = FakeModule(clock, ends_at=3600)
    result = run({"task_ids": ["t1", "t2"], "progress_interval": 60, "wait_timeout": 7200, "wait_sleep": 5,
                  "fail_on_failure": False}, module)
    assert not result.get("failed")
    assert len(module.calls) == len(lines) == result["intervals"] == 60
    assert lines[0] == "[vcf-a] credentials tasks: 2 running, 0 succeeded, 0 did not succeed, 60 s elapsed"
    assert lines[-1] == "[vcf-a] credentials tasks: 0 running, 2 succeeded, 0 did not succeed, 3600 s elapsed"
    # After the first run the module start is known: each run is asked to end that much earlier, then the
    # interval is filled, so the lines keep to the minute.
    assert [c["wait_timeout"] for c in module.calls[:3]] == [60, 59, 59]
    assert all("progress_interval" not in c and c["fail_on_timeout"] is False for c in module.calls)
    elapsed = [int(line.rsplit(", ", 1)[1].split()[0]) for line in lines]
    assert elapsed[:-1] == [60 * k for k in range(1, 60)]
    assert 3600 <= result["elapsed"] < 3601 and result["polls"] > len(module.calls)
    assert result["warnings"] == ["validate_certs is false"]  # once, not once per run


@pytest.mark.parametrize("timeout, interval", [(1800, 60), (7, 3), (10, 1), (0, 5), (95, 60)])
def test_the_timeout_is_never_overrun_by_more_than_one_interval(clock, lines, timeout, interval):
    module = FakeModule(clock, ends_at=10 ** 6)
    result = run({"task_ids": ["t1"], "progress_interval": interval, "wait_timeout": timeout,
                  "fail_on_timeout": False}, module)
    assert timeout <= result["elapsed"] <= timeout + interval, result["elapsed"]
    assert result["pending_ids"] == ["t1", "t2"] and len(lines) == len(module.calls) >= 1
    assert all(c["wait_timeout"] <= interval for c in module.calls)


def test_a_timeout_fails_naming_the_overall_wait_timeout(clock, lines):
    result = run({"task_ids": ["t1"], "progress_interval": 2, "wait_timeout": 5}, FakeModule(clock, ends_at=100))
    assert result["failed"] is True
    assert result["msg"] == "Timed out after wait_timeout (5 s): t1, t2 still running."


def test_failures_keep_the_modules_words(clock, lines):
    result = run({"task_ids": ["t1", "t2"], "progress_interval": 2, "wait_timeout": 60},
                 FakeModule(clock, ends_at=5, outcome="failed"))
    assert result["failed"] is True and result["msg"].startswith("2 of 2 tasks did not succeed: t1 (Remediation")
    assert lines[-1].endswith("0 running, 0 succeeded, 2 did not succeed, %d s elapsed" % int(result["elapsed"]))


def test_a_failure_in_the_middle_returns_where_the_tasks_stood(clock, lines):
    module = FakeModule(clock, ends_at=100, fail_at_run=3)
    result = run({"task_ids": ["t1", "t2"], "progress_interval": 2, "wait_timeout": 60}, module)
    assert result["failed"] is True and result["stopped_early"] is True
    assert result["msg"] == "HTTP 500 on GET /v1/credentials/tasks" and result["status_code"] == 500
    assert result["pending_ids"] == ["t1", "t2"] and [t["id"] for t in result["tasks"]] == ["t1", "t2"]
    assert len(lines) == 2 and result["intervals"] == 3


def test_a_failure_before_the_first_read_knows_no_task_ended(clock, lines):
    result = run({"task_ids": ["t1", "t2"], "progress_interval": 2, "wait_timeout": 60},
                 FakeModule(clock, ends_at=100, fail_at_run=1))
    assert result["failed"] is True and result["pending_ids"] == ["t1", "t2"] and "tasks" not in result
    assert lines == []


@pytest.mark.parametrize("args, words", [
    ({"progress_interval": 0}, "progress_interval must be at least 1 second, got 0."),
    ({"progress_interval": "soon"}, "progress_interval must be a whole number of seconds, got 'soon'."),
    ({"progress_interval": 1.5}, "progress_interval must be a whole number of seconds, got 1.5."),
    ({"progress_interval": True}, "progress_interval must be a whole number of seconds, got True."),
    ({"progress_interval": 5, "wait_timeout": -1}, "wait_timeout must be at least 0 seconds, got -1."),
])
def test_bad_values_are_refused_before_any_run(clock, lines, args, words):
    module = FakeModule(clock, ends_at=1)
    result = run(dict({"task_ids": ["t1"]}, **args), module)
    assert result["failed"] is True and result["msg"] == words and module.calls == []


def test_async_is_refused_with_progress(clock, lines):
    module = FakeModule(clock, ends_at=1)
    result = run({"task_ids": ["t1"], "progress_interval": 5}, module, async_val=60)
    assert result["failed"] is True and "async" in result["msg"] and module.calls == []


def test_after_retry_goes_to_every_run_without_the_rest_of_the_registered_result(clock, lines):
    """Each run applies the stale-read rule from the same retries: every run gets the bulk retry's results, and only
    them (not its invocation, tasks or messages)."""
    module = FakeModule(clock, ends_at=5)
    results = [{"task_id": "t1", "action": "retried", "retried_at": "2026-11-27T10:00:00Z",
                "state_before": {"status": "FAILED"}}]
    bulk = {"results": results, "tasks": [{"id": "t1", "status": "FAILED"}], "pending_ids": ["t1"], "changed": True,
            "invocation": {"module_args": {"discover": True}}, "msg": "1 retried."}
    result = run({"task_ids": ["t1", "t2"], "progress_interval": 2, "wait_timeout": 60, "after_retry": bulk}, module)
    assert not result.get("failed") and len(module.calls) >= 3
    assert all(call["after_retry"] == {"results": results} for call in module.calls)
    assert "invocation" in bulk  # the task's own argument is left as it was


def test_without_after_retry_the_runs_get_none(clock, lines):
    module = FakeModule(clock, ends_at=5)
    run({"task_ids": ["t1"], "progress_interval": 2, "wait_timeout": 60}, module)
    assert all("after_retry" not in call for call in module.calls)


class SessionModule(FakeModule):
    """FakeModule that ends the session as credentials_task_wait does with end_session."""

    def __call__(self, module_args=None, task_vars=None, **_kwargs):
        result = super(SessionModule, self).__call__(module_args, task_vars, **_kwargs)
        mode = module_args.get("end_session", "never")
        result["session_ended"] = mode == "at_end" or (mode == "when_done" and not result["pending_ids"])
        return result


@pytest.mark.parametrize("ends_at, timeout, revoking_run", [
    (150, 600, 3),  # the tasks end in the third interval: that run ends the session
    (10 ** 6, 150, 3),  # wait_timeout is reached in the third: that one ends it, the others were not asked to
])
def test_end_session_at_end_is_asked_of_the_run_that_ends_the_wait_only(clock, lines, ends_at, timeout, revoking_run):
    module = SessionModule(clock, ends_at=ends_at)
    result = run({"task_ids": ["t1", "t2"], "progress_interval": 60, "wait_timeout": timeout, "fail_on_failure": False,
                  "fail_on_timeout": False, "end_session": "at_end"}, module)
    assert len(module.calls) == revoking_run == len(lines)
    assert [c["end_session"] for c in module.calls[:-1]] == ["when_done"] * (revoking_run - 1)
    assert module.calls[-1]["end_session"] == ("at_end" if ends_at > timeout else "when_done")
    assert result["session_ended"] is True


def test_a_run_that_ended_the_session_is_the_last_one(clock, lines):
    """Whatever the clock says after it, no run follows one that ended the session (it has no session left)."""
    module = SessionModule(clock, ends_at=10 ** 6, overhead=0.0)
    result = run({"task_ids": ["t1"], "progress_interval": 5, "wait_timeout": 5, "fail_on_timeout": False,
                  "end_session": "at_end"}, module)
    assert len(module.calls) == 1 and result["session_ended"] is True and result["pending_ids"] == ["t1", "t2"]
