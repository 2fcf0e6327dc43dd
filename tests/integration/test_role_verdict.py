"""The role's verdict on every way a retried task can end, through the real ansible-playbook: each end that is not a
success fails the play with one line, and the result fact and both reports give every task's verdict and reason
(with SDDC Manager 9.1's remediation links kept as links), the session revoked. And a read that still shows the old
FAILED state right after the retry is never the role's verdict: the retry and the wait after it share one rule
(plugins/module_utils/_waiter.py), also across the wait's module runs, on a rerun and beside watched tasks.

Each run is short (tasks of one or two seconds, one-second progress intervals); no output may show a password.
"""

import json

import pytest

import scenarios
from test_role import ROLE_PLAY, role_vars
from test_role_paths import (final_failure, no_secret, progress_lines, report_of, rerun_until_the_task_ends,
                             result_fact)

LINK = "https://kb.example.com/318743"
SSH_REFUSED = {"subtask": 0, "errorCode": "PASSWORD_ROTATE_SSH_AUTH_FAILED", "message": "SSH login to the host refused",
               "remediationMessage": "Reset the root password on the host, then retry", "referenceToken": "RV1"}
LOCKDOWN = dict(SSH_REFUSED, notifications=[
    {"severity": "WARNING", "message": "Host in lockdown mode", "impactMessage": "Root SSH is off",
     "remediations": [{"message": "Exit lockdown mode", "link": LINK}]}])

# (task id, how its retried run ends, verdict, reason, words of its problem line, only in release 9.1)
ENDS = [
    ("ends-inconsistent", "INCONSISTENT", "attention", "inconsistent", "ended INCONSISTENT: ", False),
    ("ends-timed-out", "TIMED_OUT", "attention", "timed_out", "ended TIMED_OUT: ", False),
    ("ends-rolled-back", {"status_word": "ROLLED_BACK"}, "unknown", "unknown", "ended ROLLED_BACK: ", False),
    ("ends-user-cancelled", "USER_CANCELLED", "attention", "cancelled", "ended USER_CANCELLED: ", False),
    ("ends-lockdown", {"status": "FAILED", "errors": [LOCKDOWN]}, "attention", "failed",
     "failed again: ESXI ends-lockdown.rack.example.com, sub-task 'Rotate the SSH password of root on "
     "ends-lockdown.rack.example.com': SSH login to the host refused [PASSWORD_ROTATE_SSH_AUTH_FAILED] "
     "Remediation: Exit lockdown mode (%s)" % LINK, True),
]


def rotate_task(task_id, outcome, run_seconds=1, **extra):
    task = {"id": task_id, "type": "ROTATE", "status": "FAILED", "run_seconds": run_seconds, "outcomes": [outcome],
            "resources": [{"name": "%s.rack.example.com" % task_id, "type": "ESXI", "credentials": [
                {"credential_type": "SSH", "username": "root", "password": scenarios.planted(task_id)}]}]}
    task.update(extra)
    return task


def run_role(ansible, target, tmp_path, **extra):
    defaults = {"retry_credentials_tasks_progress_interval": 1, "retry_credentials_tasks_wait_timeout": 60,
                "retry_credentials_tasks_report_path": str(tmp_path / "report")}
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(target, **dict(defaults, **extra)))
    print(run.stdout[-4000:])
    return run


def no_secret_anywhere(run, target, tmp_path):
    """Neither the output, the recorded results nor the reports hold a password the simulator has, or a token."""
    held = target.passwords_held()
    no_secret(run, *held)
    data, markdown = report_of(tmp_path)
    for secret in held | scenarios.all_planted():
        assert secret not in markdown and secret not in json.dumps(data), "a password reached the report"


@pytest.mark.parametrize("release", ["9.0", "9.1"])
def test_every_end_but_success_fails_with_its_verdict_and_reason(ansible, target, tmp_path, release):
    ends = [end for end in ENDS if release == "9.1" or not end[5]]
    target.load(scenarios.base(release=release, tasks=[rotate_task(end[0], end[1]) for end in ends]))
    run = run_role(ansible, target, tmp_path, retry_credentials_tasks_ids=[end[0] for end in ends])

    # The play fails with one line that names every task and why.
    assert run.rc != 0
    task, message = final_failure(run)
    assert task.endswith("Fail when a task did not succeed"), task
    assert message.startswith("%d credentials task problem(s) on 127.0.0.1: " % len(ends)), message
    for task_id, _outcome, _verdict, _reason, words, _only_91 in ends:
        assert "Task %s (ROTATE %s.rack.example.com) %s" % (task_id, task_id, words) in message, (task_id, message)

    # The result fact and the JSON report: each task's verdict and reason, nothing counted as a success.
    result = result_fact(run)
    data, markdown = report_of(tmp_path)
    assert data == result
    assert result["succeeded"] == [] and result["still_running"] == [] and result["stopped_because"] is None
    assert sorted(result["retried"]) == sorted(end[0] for end in ends)
    by_id = dict((t["task_id"], t) for t in result["tasks"])
    assert sorted(t["task_id"] for t in result["failed"]) == sorted(by_id)
    for task_id, _outcome, verdict, reason, _words, _only_91 in ends:
        assert (by_id[task_id]["verdict"], by_id[task_id]["verdict_reason"]) == (verdict, reason), by_id[task_id]
        assert by_id[task_id]["failed_subtasks"], task_id  # each says what to fix
    assert by_id["ends-rolled-back"]["status_after"] == "ROLLED_BACK"
    assert len(result["problems"]) == len(ends)

    # The Markdown report: one row per task with its verdict (and reason), the remediation link kept as a link.
    print(markdown)
    cells = dict((line.split(" | ")[0].lstrip("| "), line) for line in markdown.splitlines()
                 if line.startswith("| ends-"))
    for task_id, _outcome, verdict, reason, _words, _only_91 in ends:
        shown = verdict if verdict == reason else "%s (%s)" % (verdict, reason)
        assert " | %s | " % shown in cells[task_id], cells[task_id]
    assert "| FAILED → INCONSISTENT |" in cells["ends-inconsistent"]
    assert "## Needs attention" in markdown
    if release == "9.1":
        assert "Exit lockdown mode <%s>" % LINK in cells["ends-lockdown"]
        assert "## Remediation steps from SDDC Manager" in markdown
        assert "  - Exit lockdown mode <%s>" % LINK in markdown
        assert "**WARNING** Host in lockdown mode Impact: Root SSH is off" in markdown

    # Each task retried once, the session revoked, no password anywhere.
    counters = target.counters()
    assert counters["retries_by_task"] == dict((end[0], 1) for end in ends)
    assert counters["logins"] == 1 and counters["revocations"] == 1
    no_secret_anywhere(run, target, tmp_path)


# --- a read that still shows the old FAILED state right after the retry -----------------------------------------

def test_stale_reads_after_the_retry_end_as_succeeded(ansible, target, tmp_path):
    """The first reads after each retry still show the old failure: more of them than the retry module's own short
    wait makes (one second here), so the wait module's runs meet them too. Three retried tasks (one list read per
    poll) and one task that was already running, found by discovery and watched."""
    tasks = [rotate_task("stale-%d" % i, "SUCCESSFUL", run_seconds=2, stale_reads=5) for i in range(3)]
    # long enough to be still running when the play, started after the load, discovers it (also on a busy machine)
    tasks.append(rotate_task("was-running", "SUCCESSFUL", run_seconds=10, status="IN_PROGRESS"))
    target.load(scenarios.base(tasks=tasks))
    run = run_role(ansible, target, tmp_path, retry_credentials_tasks_discover=True)

    assert run.rc == 0, run
    result = result_fact(run)
    assert sorted(result["retried"]) == ["stale-0", "stale-1", "stale-2"] and result["watched"] == ["was-running"]
    assert sorted(result["succeeded"]) == ["stale-0", "stale-1", "stale-2", "was-running"]
    assert result["failed"] == [] and result["problems"] == []
    assert all(t["verdict"] == "succeeded" and t["status_after"] == "SUCCESSFUL" for t in result["tasks"])
    # No progress line ever counted a stale read as an end that needs attention.
    lines = progress_lines(run.stdout)
    assert lines and all(line["attention"] == "0" for line in lines), lines
    assert lines[-1]["succeeded"] == "4"
    data, markdown = report_of(tmp_path)
    assert data == result and "Needs attention" not in markdown
    # The stale reads were really met after the retry module's own wait: the wait module got some of them.
    assert all(t["stale_reads_left"] == 0 for t in target.ctl.tasks())
    assert run.result("Wait for the retried and running tasks")["polls"] >= 2
    counters = target.counters()
    assert set(counters["retries_by_task"].values()) == {1} and counters["revocations"] == 1
    no_secret_anywhere(run, target, tmp_path)


def test_a_task_that_fails_again_behind_stale_reads_is_reported_with_its_new_error(ansible, target, tmp_path):
    """The rule holds a read back only while it looks exactly like the state before the retry: the new failure
    (its own completion time and error) is reported, not the old one the stale reads showed."""
    target.load(scenarios.base(tasks=[
        rotate_task("stale-ok", "SUCCESSFUL", stale_reads=4),
        rotate_task("stale-fails", {"status": "FAILED", "errors": [SSH_REFUSED]}, stale_reads=4)]))
    run = run_role(ansible, target, tmp_path, retry_credentials_tasks_ids=["stale-ok", "stale-fails"])

    assert run.rc != 0
    _task, message = final_failure(run)
    assert message.startswith("1 credentials task problem(s) on 127.0.0.1: Task stale-fails "), message
    assert "SSH login to the host refused" in message and "PASSWORD_ROTATE_FAILED" not in message
    result = result_fact(run)
    assert result["succeeded"] == ["stale-ok"]
    [failed] = result["failed"]
    assert (failed["task_id"], failed["verdict"], failed["verdict_reason"]) == ("stale-fails", "attention", "failed")
    assert [e["error_code"] for e in failed["failed_subtasks"]] == ["PASSWORD_ROTATE_SSH_AUTH_FAILED"]
    assert target.counters()["retries_by_task"] == {"stale-ok": 1, "stale-fails": 1}
    no_secret_anywhere(run, target, tmp_path)


def test_a_rerun_after_stale_reads_and_a_timeout_waits_for_the_real_end(ansible, target, tmp_path):
    """The first run meets the stale reads and times out with the task running: it reports it as still running,
    not as failed. The second run finds it running, watches it (no baseline: it was not retried by that run) and
    reports its real end once the simulator's clock is moved past it."""
    target.load(scenarios.base(tasks=[rotate_task("stale-long", "SUCCESSFUL", run_seconds=600, stale_reads=3)]))
    extra = {"retry_credentials_tasks_ids": ["stale-long"]}
    # 6 s: the wait module's runs meet the third stale read and use up all three, however busy the machine
    first = run_role(ansible, target, tmp_path, retry_credentials_tasks_wait_timeout=6, **extra)
    assert first.rc != 0
    result = result_fact(first)
    assert result["still_running"] == ["stale-long"] and result["failed"] == [], result["problems"]
    assert result["problems"] == ["Task stale-long was still running when the wait timed out."]
    assert all(line["attention"] == "0" for line in progress_lines(first.stdout))

    second = rerun_until_the_task_ends(ansible, target, role_vars(
        target, retry_credentials_tasks_progress_interval=1,
        retry_credentials_tasks_report_path=str(tmp_path / "report"), **extra))
    assert second.rc == 0, second
    result = result_fact(second)
    assert result["retried"] == [] and result["watched"] == ["stale-long"]
    assert result["succeeded"] == ["stale-long"] and result["problems"] == []
    counters = target.counters()
    assert counters["retries_by_task"] == {"stale-long": 1} and counters["revocations"] == 2
    no_secret_anywhere(second, target, tmp_path)
