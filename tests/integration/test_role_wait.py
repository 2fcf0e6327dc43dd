"""The role holds for any wait: hundreds of progress intervals in one flat loop, one line each, then the right
outcome, the report and the session revoked. And the progress lines reach ansible-runner (AWX) as they come.

The long test is the only long one of the role's tests (about 300 intervals of one second plus each module run's
start, 5 to 10 minutes); it prints its wall time.
"""

import json
import time

import pytest

import scenarios
from test_role import ROLE_PLAY, role_vars
from test_role_paths import LiveRun, progress_lines, result_fact

INTERVALS = 300
TASK = "long-000"
WAIT_TASK = "Wait for the retried and running tasks"


@pytest.mark.long
def test_a_wait_of_300_progress_intervals(ansible, target, tmp_path):
    """The task runs far longer than the test in simulator time; once the 300th progress line is out, the test moves
    the simulator's clock to its end, so the count does not depend on how fast this machine starts modules."""
    run_seconds = 100000
    target.load(scenarios.base(
        tasks=scenarios.failed_rotate_tasks(1, run_seconds=run_seconds, prefix="long"),
        # The clock jump must not expire the session: this test is about the wait, the token tests are elsewhere.
        tokens={"access_lifetime": 10 * run_seconds, "refresh_lifetime": 10 * run_seconds}))
    live = LiveRun(ansible, ROLE_PLAY, role_vars(
        target, retry_credentials_tasks_ids=[TASK], retry_credentials_tasks_progress_interval=1,
        retry_credentials_tasks_wait_sleep=1, retry_credentials_tasks_wait_timeout=2 * run_seconds,
        retry_credentials_tasks_report_path=str(tmp_path / "report")), timeout=1800)
    try:
        live.until(lambda lines: len(progress_lines("".join(lines[-3:]))) and len(progress_lines("".join(lines)))
                   >= INTERVALS, "%d progress lines" % INTERVALS)
        target.ctl.advance(run_seconds)
        run = live.finish()
    finally:
        live.kill()
    print("wall time of the %d-interval role run: %.0f s" % (INTERVALS, live.wall))
    print("\n".join(run.stdout.splitlines()[-40:]))
    assert run.rc == 0, run

    # One line per interval: as many lines as module runs, each at least one interval after the one before it.
    lines = progress_lines(run.stdout)
    waited = run.result(WAIT_TASK)
    assert len(lines) >= INTERVALS + 1 and len(lines) == waited["intervals"], (len(lines), waited["intervals"])
    elapsed = [int(line["elapsed"]) for line in lines]
    assert all(elapsed[k] >= k + 1 for k in range(len(elapsed) - 1)), elapsed
    assert elapsed == sorted(elapsed)
    assert all(line["running"] == "1" and line["succeeded"] == "0" for line in lines[:-1])
    assert lines[-1]["running"] == "0" and lines[-1]["succeeded"] == "1" and lines[-1]["attention"] == "0"
    assert elapsed[-1] <= waited["elapsed"] + 1 and waited["elapsed"] <= live.wall

    # The right outcome, the report, and the session revoked; one login for the whole wait.
    result = result_fact(run)
    assert result["retried"] == [TASK] and result["succeeded"] == [TASK]
    assert result["still_running"] == [] and result["failed"] == [] and result["problems"] == []
    assert result["stopped_because"] is None
    report = json.loads((tmp_path / "report" / "credentials-tasks-localhost.json").read_text())
    assert report == result
    assert "| %s |" % TASK in (tmp_path / "report" / "credentials-tasks-localhost.md").read_text()
    counters = target.counters()
    assert counters["revocations"] == 1 and counters["logins"] == 1 and counters["refreshes"] == 0
    assert counters["patches_accepted"] == 1
    # Reads stay bounded by the interval count: at most one per wait_sleep within each one-second interval,
    # plus the one at its end.
    assert counters["by_route"]["GET /v1/credentials/tasks/{id}"] <= 2 * len(lines) + 5


def test_progress_lines_reach_ansible_runner_as_they_come(tmp_path, target, ansible, collections_path):
    """AWX runs jobs with ansible-runner: each progress line is in its stdout and is a job event of its own."""
    ansible_runner = pytest.importorskip("ansible_runner")
    # 14 s tasks: at least three one-second intervals even when each module run takes 2-3 s on a loaded machine.
    target.load(scenarios.base(tasks=scenarios.failed_rotate_tasks(2, run_seconds=14, prefix="awx")))
    private = tmp_path / "job"
    (private / "project").mkdir(parents=True)
    (private / "project" / "retry.yml").write_text(ROLE_PLAY)
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text(ansible.inventory.read_text())
    env = ansible.base_env(None, True, target)
    # ansible-runner brings its own callback (the one AWX reads events from): not the tests' recorder.
    for name in ("ANSIBLE_CALLBACK_PLUGINS", "ANSIBLE_CALLBACKS_ENABLED"):
        env.pop(name)
    extravars = {"retry_credentials_tasks_discover": True, "retry_credentials_tasks_wait_sleep": 1,
                 "retry_credentials_tasks_progress_interval": 1}
    started = time.monotonic()
    runner = ansible_runner.run(private_data_dir=str(private), ident="job", playbook="retry.yml", envvars=env,
                                extravars=extravars, quiet=True, timeout=240)
    stdout = runner.stdout.read()
    print("wall time: %.0f s" % (time.monotonic() - started))
    assert (runner.status, runner.rc) == ("successful", 0), stdout[-4000:]
    lines = progress_lines(stdout)
    assert len(lines) >= 3 and lines[0]["running"] == "2" and lines[-1]["succeeded"] == "2", stdout[-3000:]
    # Each line is an event of its own, between the wait task's start and its result, as AWX shows them live.
    events = list(runner.events)
    kinds = [(e["event"], e.get("stdout", "")) for e in events]
    start = next(i for i, (kind, text) in enumerate(kinds) if kind == "playbook_on_task_start" and WAIT_TASK in text)
    end = next(i for i, (kind, _text) in enumerate(kinds) if i > start and kind == "runner_on_ok")
    between = [text for _kind, text in kinds[start + 1:end] if progress_lines(text)]
    assert len(between) == len(lines), kinds[start:end + 1]
