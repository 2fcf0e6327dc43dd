"""Faults, through the real ansible-playbook against the simulator: every fault is placed on an exact request
(``scenarios.fault_sequence``), so each run repeats the same way.

The mix of all of them over hundreds of seeded runs is the chaos run (test_chaos.py).
"""

import threading
import time

import pytest

import scenarios
from plays import TOKENS_ONLY_PLAY, play

TASK_PATH = "/v1/credentials/tasks/%s"
PATCH_ROUTE = "PATCH /v1/credentials/tasks/{id}"


def load(target, faults=(), tokens=None, latency=None, **task_changes):
    """The base scenario, with tasks changed (``rotate_failed={"run_seconds": 4}``) and faults."""
    tasks = scenarios.base_tasks()
    for task in tasks:
        task.update(task_changes.get(task["id"].replace("-", "_"), {}))
    scenario = scenarios.base(tasks=tasks, faults=list(faults))
    if tokens:
        scenario["tokens"] = tokens
    if latency:
        scenario["latency"] = latency
    target.load(scenario)


def one_line_without_traceback(run, message):
    assert "\n" not in message, message
    assert "Traceback" not in run.output and "Traceback" not in message


def faults_in_log(target):
    return [(e["method"], e["path"], e["status"], e["fault"]) for e in target.ctl.log() if e["fault"]]


def in_background(function):
    """Run ``function()`` in a thread; the returned ``join()`` gives its result."""
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=function()), daemon=True)
    thread.start()

    def join(timeout=300):
        thread.join(timeout)
        assert not thread.is_alive(), "the playbook did not end"
        return box["result"]

    return join


def wait_for(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s" % what)


# --- 502/503/504 bursts and resets while waiting --------------------------------------------------------------

WAIT_FAULTS = [
    None,                                                              # the read before the retry
    scenarios.HTML_502, scenarios.HTML_503, scenarios.HTML_504, None,  # first poll: three in a row, HTML bodies
    scenarios.RESET, scenarios.CLOSE, None,                            # second poll: reset, then closed unanswered
    scenarios.JSON_503, scenarios.HTML_502, scenarios.HTML_504, None,  # third poll
]


@pytest.mark.parametrize("task_id, ends", [("rotate-failed", "SUCCESSFUL"), ("rotate-fails-again", "FAILED")])
def test_bursts_and_resets_while_waiting_end_with_the_right_outcome(ansible, target, task_id, ends):
    # The bursts cost up to ~6 s of backoff (0.5 s doubling, jittered) before the third poll: the task runs 10 s,
    # so that every fault of the sequence lands on a poll of the wait.
    load(target, faults=scenarios.fault_sequence("GET", TASK_PATH % task_id, WAIT_FAULTS),
         **{task_id.replace("-", "_"): {"run_seconds": 10}})
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: %s
    wait: true
    wait_sleep: 1
""" % task_id), target=target)
    result = run.result("Retry")
    assert result["retried"] is True and result["changed"] is True
    assert result["status"] == ends
    if ends == "SUCCESSFUL":
        assert run.rc == 0, run
        assert result["msg"] == "Task %s was retried and ended SUCCESSFUL." % task_id
    else:
        assert run.rc != 0
        assert result["msg"].startswith("Task %s was retried and failed again: " % task_id)
        assert "Remediation: Reset the root password" in result["msg"]
        assert result["failed_subtasks"][0]["error_code"] == "PASSWORD_ROTATE_SSH_AUTH_FAILED"
        one_line_without_traceback(run, result["msg"])
    counters = target.counters()
    assert counters["faults_injected"] == 8
    assert counters["by_route"][PATCH_ROUTE] == 1 and counters["patches_accepted"] == 1
    assert counters["logins"] == 1
    injected = faults_in_log(target)
    assert [(status, fault) for _m, _p, status, fault in injected] == [
        (502, "http_error"), (503, "http_error"), (504, "http_error"), (None, "reset"), (None, "reset"),
        (503, "http_error"), (502, "http_error"), (504, "http_error")]
    task = next(t for t in target.ctl.tasks() if t["id"] == task_id)
    assert (task["status"], task["retries"]) == (ends, 1)


def test_a_busy_login_is_waited_out(ansible, target):
    load(target, faults=scenarios.fault_sequence("POST", "/v1/tokens", [scenarios.HTML_503, scenarios.RESET, None]))
    run = ansible.playbook(play("""
- name: Read
  vcf.sddc_manager.credentials_task_info:
    task_id: rotate-failed
"""), target=target)
    assert run.rc == 0, run
    assert run.result("Read")["tasks"][0]["id"] == "rotate-failed"
    counters = target.counters()
    assert (counters["faults_injected"], counters["logins"]) == (2, 1)


# --- the access token expiring in the middle of a long wait -------------------------------------------------

LONG_WAIT = """
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-failed
    wait: true
    wait_sleep: 1
"""


@pytest.mark.parametrize("refresh_token, password_known", [
    ("valid", True), ("expired", True), ("expired", False)])
def test_access_token_expiring_in_the_middle_of_a_long_wait(ansible, target, refresh_token, password_known):
    """The task runs 5000 s of simulator time and the access token lives 3600 s. Once the retry is accepted, the
    simulator's clock jumps 3700 s: the next poll meets an expired token. Then it jumps 1400 s and the task ends."""
    refresh_lifetime = 86400 if refresh_token == "valid" else 3650
    load(target, tokens={"access_lifetime": 3600, "refresh_lifetime": refresh_lifetime},
         rotate_failed={"run_seconds": 5000})
    if password_known:
        playbook = play(LONG_WAIT)
    else:
        playbook = play(LONG_WAIT, header=TOKENS_ONLY_PLAY, indent=8)
    join = in_background(lambda: ansible.playbook(playbook, target=target))
    wait_for(lambda: target.counters()["patches_accepted"] == 1, "the retry")
    target.ctl.advance(3700)
    renewed = (lambda: target.counters()["refreshes"] == 1) if refresh_token == "valid" else (
        lambda: target.counters()["logins"] == 2)
    if password_known:
        wait_for(renewed, "the token renewal")
        target.ctl.advance(1400)
    run = join()
    counters = target.counters()
    result = run.result("Retry")
    assert result["retried"] is True and result["changed"] is True
    assert counters["by_route"][PATCH_ROUTE] == 1
    # the expired token met exactly one 401
    assert [e["status"] for e in target.ctl.log() if e["method"] == "GET"].count(401) == 1
    if refresh_token == "valid":
        assert run.rc == 0, run
        assert result["status"] == "SUCCESSFUL"
        assert (counters["refreshes"], counters["logins"]) == (1, 1)   # one refresh, no new login
    elif password_known:
        assert run.rc == 0, run
        assert result["status"] == "SUCCESSFUL"
        assert (counters["refreshes"], counters["logins"]) == (0, 2)   # the refresh token was refused: a login
    else:
        assert run.rc != 0
        message = result["msg"]
        assert message.startswith("Task rotate-failed was retried, but waiting for it to end failed: ")
        assert "cannot be renewed" in message and "The refresh token was refused too" in message
        assert "username and password" in message
        assert message.count("cannot be renewed") == 1
        one_line_without_traceback(run, message)
        assert (counters["refreshes"], counters["logins"]) == (0, 1)
        assert counters["by_route"]["PATCH /v1/tokens/access-token/refresh"] == 1


# --- the reply to the retry lost after the server accepted it -----------------------------------------------

@pytest.mark.parametrize("mode", ["rst", "fin"])
def test_lost_reply_to_the_retry_is_learned_by_reading_the_task(ansible, target, mode):
    load(target, faults=scenarios.fault_sequence("PATCH", TASK_PATH % "rotate-failed",
                                                 [scenarios.fault("lost_reply", mode=mode)]))
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-failed
- name: Wait
  vcf.sddc_manager.credentials_task_wait:
    task_ids: [rotate-failed]
    wait_sleep: 1
"""), target=target)
    assert run.rc == 0, run
    result = run.result("Retry")
    assert result["changed"] is True and result["retried"] is True
    assert "the answer to the retry request was lost" in result["msg"] and "confirmed" in result["msg"]
    assert run.result("Wait")["succeeded_ids"] == ["rotate-failed"]
    counters = target.counters()
    assert counters["by_route"][PATCH_ROUTE] == 1 and counters["patches_accepted"] == 1
    assert counters["retries_by_task"] == {"rotate-failed": 1}
    assert faults_in_log(target) == [("PATCH", "/v1/credentials/tasks/rotate-failed", None, "lost_reply")]


def test_a_lost_reply_then_reads_of_the_old_run_do_not_make_the_retry_not_applied(ansible, target):
    """The answer to the retry is lost and the next two reads still show the FAILED run it replaced: the module
    reads on (2 and 4 s later) until the task shows the retry, instead of calling it "not applied"."""
    load(target, faults=scenarios.fault_sequence("PATCH", TASK_PATH % "rotate-failed", [scenarios.LOST_REPLY]),
         rotate_failed={"stale_reads": 2})
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-failed
    wait: true
    wait_sleep: 1
"""), target=target)
    assert run.rc == 0, run
    result = run.result("Retry")
    assert result["retried"] is True and result["status"] == "SUCCESSFUL"
    assert "not applied" not in result["msg"]
    counters = target.counters()
    assert counters["by_route"][PATCH_ROUTE] == 1 and counters["retries_by_task"] == {"rotate-failed": 1}
    assert [t["stale_reads_left"] for t in target.ctl.tasks() if t["id"] == "rotate-failed"] == [0]


# --- an error answer to the PATCH -----------------------------------------------------------------------------

@pytest.mark.parametrize("error", [scenarios.fault("http_error", status=500, body="json"), scenarios.HTML_503],
                         ids=["500-json", "503-html"])
def test_error_on_the_patch_fails_clearly_without_a_second_patch(ansible, target, error):
    load(target, faults=scenarios.fault_sequence("PATCH", TASK_PATH % "rotate-failed", [error]))
    retry = play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-failed
    wait: true
    wait_sleep: 1
""")
    run = ansible.playbook(retry, target=target)
    assert run.rc != 0
    result = run.result("Retry")
    message = result["msg"]
    assert "HTTP %d" % error["status"] in message and "PATCH /v1/credentials/tasks/rotate-failed" in message
    assert "Task rotate-failed is still FAILED, so the retry was not applied; nothing changed." in message
    assert "Run the retry again" in message
    assert result.get("changed") is not True and result["status_code"] == error["status"]
    one_line_without_traceback(run, message)
    counters = target.counters()
    assert counters["by_route"][PATCH_ROUTE] == 1 and counters["patches_accepted"] == 0
    # the advice holds: running again (the fault is spent) retries once
    again = ansible.playbook(retry, target=target)
    assert again.rc == 0, again
    assert again.result("Retry")["status"] == "SUCCESSFUL"
    assert target.counters()["patches_accepted"] == 1


# --- two plays retrying the same task at once -----------------------------------------------------------------

def test_two_plays_retrying_the_same_task_at_once(ansible, target):
    # Each PATCH waits a second in the simulator, so both plays have read the task FAILED before either lands.
    load(target, latency={"patch": 1.0})
    retry = play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-failed
""")
    joins = [in_background(lambda: ansible.playbook(retry, target=target)) for _play in range(2)]
    runs = [join() for join in joins]
    assert [r.rc for r in runs] == [0, 0], runs
    results = sorted((r.result("Retry") for r in runs), key=lambda r: r["changed"])
    loser, winner = results
    assert winner["changed"] is True and winner["retried"] is True
    assert loser["changed"] is False and loser["retried"] is False and not loser.get("failed")
    assert ("retried by another client just before this one" in loser["msg"]
            or "already IN_PROGRESS" in loser["msg"]), loser["msg"]
    counters = target.counters()
    assert counters["patches_accepted"] == 1
    assert counters["retries_by_task"] == {"rotate-failed": 1}
    # Usually both PATCHes reach the server and the second is refused; if one play started late, it read the
    # task IN_PROGRESS and sent none. Either way no PATCH was sent twice by one play.
    assert counters["by_route"][PATCH_ROUTE] == 1 + counters["patches_rejected"] <= 2
