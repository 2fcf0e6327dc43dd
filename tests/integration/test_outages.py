"""SDDC Manager restarts and outages (issue 19): a wait ends only at its deadline or at the task's end.

Each test starts a simulator of its own with a control port (an outage in mode ``refuse`` closes the API port, and
``/_sim`` with it), so the outages are real: 180 s for the role, 100 s for the rulebook, on the wall clock. The long
tests are marked ``long`` so that two pytest-xdist workers run them side by side; each prints its wall time.
"""

import re
import threading
import time

import pytest

import scenarios
from conftest import AnsibleRunner, Target
from plays import TOKENS_ONLY_PLAY, play
from sddc_sim import Simulator
from test_role import ROLE_PLAY, role_vars
# The fixture rulebook_tool: ansible-rulebook and a JDK 17+, or a skip that says what is missing.
from test_eda import rulebook_tool  # noqa: F401  # pylint: disable=unused-import
from test_role_paths import no_secret, result_fact

OUTAGE = 180
UNREACHABLE_LINE = re.compile(r"^\[localhost\] SDDC Manager unreachable for (\d+) s, still waiting \((\d+) s left\)$",
                              re.M)


@pytest.fixture
def own_target(tmp_path_factory):
    """A simulator of this test alone, with ``/_sim`` on a control port that stays up through an outage."""
    with Simulator(scenarios.base(), certs_dir=str(tmp_path_factory.mktemp("certs")), control_port=0) as sim:
        yield Target(sim)


def one_task(task_id, run_seconds, outcomes=("SUCCESSFUL",)):
    return scenarios.failed_rotate_tasks(1, run_seconds=run_seconds, outcomes=outcomes, prefix=task_id)


def outage_after_the_retry(mode, duration=OUTAGE, restart=True, **extra):
    """SDDC Manager goes away right after it accepted the retry (the PATCH's own answer still goes out)."""
    rule = dict(kind="outage", trigger="write", match={"method": "PATCH", "path": "/v1/credentials/tasks/*"},
                duration=duration, mode=mode, restart=restart)
    rule.update(extra)
    return rule


def timed(what):
    started = time.monotonic()

    class Timer:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            print("wall time of %s: %.0f s" % (what, time.monotonic() - started))
            return False

    return Timer()


# --- the role through a 180 s outage ending in a restart ------------------------------------------------------------

@pytest.mark.long
@pytest.mark.parametrize("mode", [dict(mode="reset"), dict(mode="proxy", status=503, retry_after=30)],
                         ids=["resets", "503-pages"])
def test_the_role_rides_out_a_180s_outage_ending_in_a_restart(own_target, ansible, tmp_path, mode):
    """The task goes on running while SDDC Manager is away and ends SUCCESSFUL during the outage; the role's wait
    reads on until it is back, logs in once more (the restart voided the session) and reports the real end."""
    target = own_target
    target.load(scenarios.base(tasks=one_task("outage", run_seconds=120),
                               faults=[outage_after_the_retry(**mode)]))
    with timed("the role through a %d s outage (%s)" % (OUTAGE, mode["mode"])):
        run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
            target, retry_credentials_tasks_ids=["outage-000"], retry_credentials_tasks_wait_timeout=900,
            retry_credentials_tasks_wait_sleep=5, retry_credentials_tasks_progress_interval=20,
            retry_credentials_tasks_report_path=str(tmp_path / "report")), timeout=900)
    print(run.stdout[-3000:])
    assert run.rc == 0, run
    result = result_fact(run)
    assert result["succeeded"] == ["outage-000"] and result["failed"] == [] and result["still_running"] == []
    counters = target.counters()
    assert counters["patches_accepted"] == 1 and counters["retries_by_task"] == {"outage-000": 1}
    assert counters["restarts"] == 1 and counters["logins"] == 2, counters  # the role's, and one after the restart
    lines = [(int(a), int(b)) for a, b in UNREACHABLE_LINE.findall(run.stdout)]
    assert lines and max(a for a, _b in lines) >= OUTAGE - 40, run.stdout[-3000:]
    assert all(0 < left <= 900 for _a, left in lines)
    assert "answers again after" in run.stdout
    assert "Could not reach" not in run.stdout and "Gave up after" not in run.stdout
    no_secret(run)


@pytest.mark.long
def test_tokens_only_after_a_restart_one_clear_line(own_target, ansible):
    """With tokens only, the wait rides out the outage, and after the restart says once that the session ended and
    what to give; it does not claim any end of the task."""
    target = own_target
    target.load(scenarios.base(tasks=one_task("tokens", run_seconds=60),
                               faults=[outage_after_the_retry("refuse")]))
    with timed("tokens only through a %d s outage ending in a restart" % OUTAGE):
        run = ansible.playbook(play("""
- name: Retry and wait
  vcf.sddc_manager.credentials_task_retry:
    task_id: tokens-000
    wait: true
    wait_timeout: 900
    wait_sleep: 5
""", header=TOKENS_ONLY_PLAY, indent=8), target=target, timeout=900)
    print(run.stdout[-3000:])
    assert run.rc == 2
    message = run.result("Retry and wait")["msg"]
    assert message.startswith("Task tokens-000 was retried, but waiting for it to end failed")
    assert "SDDC Manager's session ended (most likely SDDC Manager restarted" in message
    assert "Give username and password (SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD)" in message
    assert run.output.count("session ended") == 1 or run.output.count("session ended") == 2  # msg, and -v echo
    assert "SUCCESSFUL" not in message and "FAILED" not in message
    counters = target.counters()
    assert counters["patches_accepted"] == 1 and counters["logins"] == 1 and counters["restarts"] == 1
    no_secret(run)


# --- a lost PATCH answer inside an outage ---------------------------------------------------------------------------

def test_a_lost_retry_answer_inside_an_outage_applies_one_retry(own_target, ansible):
    target = own_target
    target.load(scenarios.base(tasks=one_task("lost", run_seconds=5), faults=[
        dict(scenarios.LOST_REPLY, match={"method": "PATCH", "path": "/v1/credentials/tasks/*"}, count=1),
        outage_after_the_retry("refuse", duration=40, restart=False)]))
    with timed("the role with a lost PATCH answer and a 40 s outage"):
        run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
            target, retry_credentials_tasks_ids=["lost-000"], retry_credentials_tasks_wait_sleep=2,
            retry_credentials_tasks_progress_interval=10), timeout=600)
    print(run.stdout[-3000:])
    assert run.rc == 0, run
    counters = target.counters()
    assert counters["patches_accepted"] == 1 and counters["retries_by_task"] == {"lost-000": 1}, counters
    assert counters["outages"] == 1
    result = result_fact(run)
    assert result["retried"] == ["lost-000"] and result["succeeded"] == ["lost-000"]
    retried = run.result("Retry the failed credentials tasks")
    assert "the answer to the retry request was lost; a read of the task confirmed it was accepted" in (
        retried["results"][0]["msg"])


# --- the final revoke meets an outage -------------------------------------------------------------------------------

def test_a_revoke_that_meets_an_outage_is_a_warning_and_the_outcome_stands(own_target, ansible):
    target = own_target
    target.load(scenarios.base(tasks=one_task("revoke", run_seconds=2), faults=[
        dict(kind="outage", trigger="request", match={"method": "DELETE", "path": "/v1/tokens/refresh-token"},
             duration=120, mode="proxy", status=503)]))
    with timed("the role whose revoke meets a 503 outage"):
        run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
            target, retry_credentials_tasks_ids=["revoke-000"], retry_credentials_tasks_progress_interval=5),
            timeout=600)
    print(run.stdout[-3000:])
    assert run.rc == 0, run
    result = result_fact(run)
    assert result["succeeded"] == ["revoke-000"] and result["problems"] == []
    assert "[WARNING] The session's refresh token could not be revoked" in run.stdout
    assert "The outcome of the tasks above is unchanged" in run.stdout
    assert target.counters()["outage_hits"] >= 2
    no_secret(run)


# --- two controllers on the same tasks ------------------------------------------------------------------------------

def test_two_playbook_runs_started_together_each_apply_one_retry_and_report_the_truth(
        own_target, collections_path, tmp_path):
    target = own_target
    ids = ["both-%03d" % i for i in range(3)]
    target.load(scenarios.base(tasks=scenarios.failed_rotate_tasks(3, run_seconds=4, prefix="both")))
    runners = []
    for name in ("awx", "admin"):
        (tmp_path / name).mkdir()
        runners.append(AnsibleRunner(tmp_path / name, collections_path))
    runs = [None, None]

    def go(index):
        runs[index] = runners[index].playbook(ROLE_PLAY, extra_vars=role_vars(
            target, retry_credentials_tasks_ids=ids, retry_credentials_tasks_progress_interval=3), timeout=600)

    with timed("two role runs on the same three FAILED tasks"):
        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for run in runs:
        print(run.stdout[-2000:])
        assert run.rc == 0, run
        result = result_fact(run)
        assert sorted(result["succeeded"]) == ids and result["failed"] == [] and result["problems"] == [], result
    counters = target.counters()
    assert counters["retries_by_task"] == dict((i, 1) for i in ids), counters
    assert counters["patches_accepted"] == 3
    assert all(t["status"] == "SUCCESSFUL" for t in target.ctl.tasks() if t["id"] in ids)


# --- the rulebook through a 100 s outage ending in a restart --------------------------------------------------------

RULEBOOK_OUTAGE = 100


@pytest.mark.long
def test_the_rulebook_lives_through_a_100s_outage_ending_in_a_restart(own_target, ansible, tmp_path, rulebook_tool):
    """The source keeps polling through the outage and the restart (it logs in again once), and a rotation that fails
    after it is retried once and ends SUCCESSFUL; no false event, no crash."""
    from test_eda import RulebookRun, add_once_watching, check_no_secret, retry_runs, running_task, task_state

    target = own_target
    started = time.monotonic()
    run = RulebookRun(rulebook_tool, ansible, target, tmp_path, {})
    try:
        add_once_watching(run, target, [running_task("eda-watched", outcomes=["SUCCESSFUL"], run_seconds=3)])
        run.wait_for(lambda: task_state(target, "eda-watched")["status"] == "SUCCESSFUL", "the first task to end")
        target.ctl.outage(RULEBOOK_OUTAGE, mode="refuse", restart=True)
        # Fails while SDDC Manager is away: an event once the source reads the list again.
        target.ctl.add_tasks([running_task("eda-during", outcomes=["FAILED", "SUCCESSFUL"], run_seconds=30)])
        run.wait_for(lambda: "did not answer the task list" in run.output, "the outage line", timeout=60)
        run.wait_for(lambda: "answers again after" in run.output, "SDDC Manager back", timeout=RULEBOOK_OUTAGE + 120)
        # A rotation that fails after the restart.
        target.ctl.add_tasks([running_task("eda-after", outcomes=["FAILED", "SUCCESSFUL"], run_seconds=3)])
        for task_id in ("eda-during", "eda-after"):
            run.wait_for(lambda: task_state(target, task_id)["status"] == "SUCCESSFUL",
                         "%s retried and SUCCESSFUL" % task_id, timeout=180)
        run.wait_for(lambda: run.count("Ansible runner rc:") >= 2, "both retry playbooks to end", timeout=120)
        time.sleep(3)
        assert run.proc.poll() is None, "ansible-rulebook stopped"
    finally:
        output = run.stop()
    print("wall time of the rulebook through a %d s outage: %.0f s" % (RULEBOOK_OUTAGE, time.monotonic() - started))
    counters = target.counters()
    assert counters["retries_by_task"] == {"eda-during": 1, "eda-after": 1}, counters
    assert retry_runs(output, "eda-during") == 1 and retry_runs(output, "eda-after") == 1
    assert retry_runs(output, "eda-watched") == 0
    assert output.count("did not answer the task list") == 1 and output.count("answers again after") == 1
    assert "Source error" not in output and "Traceback" not in output
    # The source logged in once at start and once after the restart; each playbook run logs in itself.
    assert counters["restarts"] == 1
    assert "was retried and is SUCCESSFUL" in output
    check_no_secret(target, output)
