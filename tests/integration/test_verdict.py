"""Every way SDDC Manager can end a task, in every answer form, ends in the right verdict.

The simulator is told how each retried run ends (any status of the spec's enums, the words other releases or a
disagreeing server use, a word nobody knows, no completionTimestamp, no error at all, errors under dependent
sub-tasks) and in which release's shapes it answers; the real ansible-playbook runs the retry module, the bulk retry
and the wait module against it. Only a success may pass; every other end fails with its reason and remediation,
and no task is ever retried twice.
"""

import json

import pytest

import scenarios
from plays import play

SSH_REFUSED = {"subtask": 0, "errorCode": "PASSWORD_ROTATE_SSH_AUTH_FAILED", "message": "SSH login to the host refused",
               "remediationMessage": "Reset the root password on the host, then retry", "referenceToken": "VX1"}

# (case id, release, how the retried run ends, succeeds?, words every module's message must hold)
ENDS = [
    ("successful", "9.0", "SUCCESSFUL", True, "SUCCESSFUL"),
    ("successful-4.5", "4.5", "SUCCESSFUL", True, "SUCCESSFUL"),
    ("completed-with-warning", "9.0", "COMPLETED_WITH_WARNING", True, "COMPLETED_WITH_WARNING"),
    ("failed", "9.0", {"status": "FAILED", "errors": [SSH_REFUSED]}, False, "Reset the root password"),
    ("failed-4.5", "4.5", {"status": "FAILED", "errors": [SSH_REFUSED]}, False, "SSH login to the host refused"),
    ("failed-9.1-notifications", "9.1", {"status": "FAILED", "errors": [dict(SSH_REFUSED, notifications=[
        {"severity": "ERROR", "message": "Host in lockdown mode", "impactMessage": "Root SSH is off",
         "remediations": [{"message": "Exit lockdown mode", "link": "https://kb.example.com/318743"}]}])]},
     False, "Remediation: Exit lockdown mode (https://kb.example.com/318743)"),
    ("failed-no-error-at-all", "9.0", {"status": "FAILED", "errors": "none"}, False, "reported no error"),
    ("failed-silent-sub-task", "9.0", {"status": "FAILED", "errors": "none", "failing_subtasks": [0]}, False,
     "failed without an error message"),
    ("failed-under-dependent-sub-task", "9.0", {"status": "FAILED", "errors": [
        {"subtask": 0, "dependent": True, "errorCode": "SERVICE_RESTART_FAILED",
         "message": "sshd did not restart after the password change"}]}, False, "sshd did not restart"),
    ("failed-without-completion-time", "9.0", {"status": "FAILED", "errors": [SSH_REFUSED],
                                               "completion_timestamp": False}, False, "SSH login to the host refused"),
    ("inconsistent", "9.0", "INCONSISTENT", False, "REMEDIATE"),
    ("inconsistent-9.1", "9.1", "INCONSISTENT", False, "INCONSISTENT"),
    ("user-cancelled", "9.0", "USER_CANCELLED", False, "cancelled by a user"),
    ("cancelled", "9.0", "CANCELLED", False, "was cancelled"),
    ("skipped", "9.0", "SKIPPED", False, "skipped"),
    ("timed-out-9.1", "9.1", "TIMED_OUT", False, "timed out in SDDC Manager"),
    ("unknown-word", "9.0", {"status_word": "ROLLED_BACK"}, False, "ROLLED_BACK"),
    ("unknown-word-without-completion-time", "9.0", {"status_word": "ROLLED_BACK", "completion_timestamp": False},
     False, "ROLLED_BACK"),
]

# One playbook per release: the retry module in a loop, one bulk retry and one wait over every end at once.
ALL_WAYS = """
- name: Retry and wait
  vcf.sddc_manager.credentials_task_retry:
    task_id: "retry-{{ item }}"
    wait: true
    wait_sleep: 1
    wait_timeout: 8
  loop: "{{ ends }}"
  ignore_errors: true
- name: Bulk retry and wait
  vcf.sddc_manager.credentials_task_bulk_retry:
    task_ids: "{{ ends | map('regex_replace', '^', 'bulk-') }}"
    wait: true
    wait_sleep: 1
    wait_timeout: 8
  ignore_errors: true
- name: Bulk retry without wait
  vcf.sddc_manager.credentials_task_bulk_retry:
    task_ids: "{{ ends | map('regex_replace', '^', 'wait-') }}"
- name: Wait
  vcf.sddc_manager.credentials_task_wait:
    task_ids: "{{ ends | map('regex_replace', '^', 'wait-') }}"
    wait_sleep: 1
    wait_timeout: 8
  ignore_errors: true
"""


RETRY_AND_WAIT = play("""
- name: Retry and wait
  vcf.sddc_manager.credentials_task_retry:
    task_id: via-retry
    wait: true
    wait_sleep: 1
""")


def rotate_task(task_id, outcome, **extra):
    task = {"id": task_id, "type": "ROTATE", "status": "FAILED", "run_seconds": 1.5, "outcomes": [outcome],
            "resources": [{"name": "%s.rack.example.com" % task_id, "type": "ESXI", "credentials": [
                {"credential_type": "SSH", "username": "root", "password": scenarios.planted(task_id)}]}]}
    task.update(extra)
    return task


def load(target, tasks, release="9.0", **scenario):
    target.load(scenarios.base(tasks=tasks, release=release, **scenario))


def failed(run, task_name):
    """Whether the task failed, as the callback was told (a recorded result carries no ``failed`` key)."""
    found = [r for r in run.results if r["task"] == task_name]
    assert found, task_name
    return found[-1]["outcome"] == "failed"


def patches_by_task(target):
    return target.counters()["retries_by_task"]


def _still_running_word(outcome):
    """A word nobody knows and no end time: it may still be running, so it is waited for, then not a success."""
    return isinstance(outcome, dict) and "status_word" in outcome and outcome.get("completion_timestamp") is False


@pytest.mark.parametrize("release", sorted(set(case[1] for case in ENDS)))
def test_only_a_success_passes_whichever_module_and_release(ansible, target, release):
    ends = dict((case[0], case[2:]) for case in ENDS if case[1] == release)
    load(target, [rotate_task("%s-%s" % (way, end), outcome)
                  for end, (outcome, _succeeds, _words) in ends.items() for way in ("retry", "bulk", "wait")],
         release=release)
    run = ansible.playbook(play(ALL_WAYS), target=target, extra_vars={"ends": list(ends)})
    assert run.rc == 0, run  # the failures are ignored; the play itself must run through
    retries = dict((r["result"]["item"], r) for r in run.results
                   if r["task"] == "Retry and wait" and r["outcome"].startswith("item_"))
    bulk, waited = run.result("Bulk retry and wait"), run.result("Wait")
    for end, (outcome, succeeds, words) in ends.items():
        retry = retries[end]["result"]
        assert (retries[end]["outcome"] == "item_failed") is (not succeeds), (end, retry["msg"])
        assert words in retry["msg"] and "\n" not in retry["msg"], (end, retry["msg"])
        assert retry["changed"] is True and retry["retried"] is True
        ids = dict((way, "%s-%s" % (way, end)) for way in ("bulk", "wait"))
        if succeeds:
            assert ids["bulk"] in bulk["succeeded_ids"] and ids["wait"] in waited["succeeded_ids"], end
            assert retry["task"]["verdict"] == "succeeded"
        elif _still_running_word(outcome):
            assert ids["bulk"] in bulk["pending_ids"] and ids["wait"] in waited["pending_ids"], end
            assert "still ROLLED_BACK after wait_timeout" in retry["msg"]
            assert any("does not know" in w for w in retry.get("warnings", []))
            assert "%s (status 'ROLLED_BACK', which this collection does not know" % ids["bulk"] in bulk["msg"]
        else:
            assert ids["bulk"] in bulk["failed_ids"] + bulk["unknown_ids"], end
            assert ids["wait"] in waited["failed_ids"] + waited["unknown_ids"], end
            assert retry["failed_subtasks"] and retry["task"]["verdict"] in ("attention", "unknown")
            for result, task_id in ((bulk, ids["bulk"]), (waited, ids["wait"])):
                assert [e for e in result["failed_subtasks"] if e["task_id"] == task_id], (end, task_id)
                assert words in result["msg"], (end, result["msg"])
    all_succeed = all(succeeds for _outcome, succeeds, _words in ends.values())
    assert failed(run, "Bulk retry and wait") is not all_succeed and failed(run, "Wait") is not all_succeed
    assert patches_by_task(target) == dict(("%s-%s" % (way, end), 1) for end in ends for way in ("retry", "bulk", "wait"))
    assert "PLANTED" not in run.output


def test_9_1_notifications_reach_the_failure_report_with_their_links(ansible, target):
    notified = dict(SSH_REFUSED, notifications=[
        {"severity": "WARNING", "message": "Host in lockdown mode", "impactMessage": "Root SSH is off",
         "remediations": [{"message": "Exit lockdown mode", "link": "https://kb.example.com/318743"},
                          {"message": "Then retry the task", "link": "https://kb.example.com/000001"}]}])
    load(target, [rotate_task("via-retry", {"status": "FAILED", "errors": [notified]})], release="9.1")
    run = ansible.playbook(RETRY_AND_WAIT, target=target)
    assert run.rc != 0
    result = run.result("Retry and wait")
    entry = result["failed_subtasks"][0]
    assert entry["notifications"] == [{
        "severity": "WARNING", "message": "Host in lockdown mode", "impact_message": "Root SSH is off",
        "remediations": [{"message": "Exit lockdown mode", "link": "https://kb.example.com/318743"},
                         {"message": "Then retry the task", "link": "https://kb.example.com/000001"}]}]
    assert entry["remediation_links"] == ["https://kb.example.com/318743", "https://kb.example.com/000001"]
    # the one-line message gives the first remediation step, its link kept
    assert "Remediation: Exit lockdown mode (https://kb.example.com/318743)" in result["msg"]
    assert entry["remediation"] == "Reset the root password on the host, then retry"


def test_a_rerun_after_a_timed_out_wait_waits_for_the_task_and_reports_its_real_end(ansible, target):
    # The retried run lasts 30 s: the second ansible-playbook must start while it still runs, even on a loaded
    # machine (with 6 s, a slow start met the task FAILED again, and retrying it then is right).
    load(target, [rotate_task("via-retry", {"status": "FAILED", "errors": [SSH_REFUSED]}, run_seconds=30)])
    retry = play("""
- name: Retry and wait
  vcf.sddc_manager.credentials_task_retry:
    task_id: via-retry
    wait: true
    wait_sleep: 1
    wait_timeout: "{{ timeout }}"
""")
    first = ansible.playbook(retry, target=target, extra_vars={"timeout": 1})
    assert first.rc != 0 and "still IN_PROGRESS after wait_timeout" in first.result("Retry and wait")["msg"]
    second = ansible.playbook(retry, target=target, extra_vars={"timeout": 90})
    assert second.rc != 0, second
    result = second.result("Retry and wait")
    assert result["changed"] is False and result["retried"] is False
    assert result["msg"].startswith("Task via-retry was already IN_PROGRESS when this run started and failed: ")
    assert "Reset the root password" in result["msg"]
    assert patches_by_task(target) == {"via-retry": 1}


def test_a_read_that_still_shows_the_old_failure_is_not_taken_for_the_new_end(ansible, target):
    load(target, [rotate_task("via-retry", "SUCCESSFUL", stale_reads=2),
                  rotate_task("via-bulk", "SUCCESSFUL", stale_reads=2)])
    run = ansible.playbook(play("""
- name: Retry and wait
  vcf.sddc_manager.credentials_task_retry:
    task_id: via-retry
    wait: true
    wait_sleep: 1
- name: Bulk retry and wait
  vcf.sddc_manager.credentials_task_bulk_retry:
    task_ids: [via-bulk]
    wait: true
    wait_sleep: 1
"""), target=target)
    assert run.rc == 0, run
    assert run.result("Retry and wait")["status"] == "SUCCESSFUL"
    assert run.result("Bulk retry and wait")["succeeded_ids"] == ["via-bulk"]


@pytest.mark.parametrize("status", [200, 202, 204])
def test_writes_answered_without_a_body_are_reported_from_a_read(ansible, target, status):
    answer = {"kind": "empty_answer", "status": status, "match": {"method": ["PATCH", "DELETE"]}}
    load(target, [rotate_task(task_id, "SUCCESSFUL") for task_id in ("via-retry", "via-bulk")] + [
        rotate_task("to-cancel", "SUCCESSFUL")], faults=[answer])
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: via-retry
- name: Bulk retry and wait
  vcf.sddc_manager.credentials_task_bulk_retry:
    task_ids: [via-bulk]
    wait: true
    wait_sleep: 1
- name: Cancel
  vcf.sddc_manager.credentials_task_cancel:
    task_id: to-cancel
"""), target=target)
    assert run.rc == 0, run
    retry = run.result("Retry")
    assert retry["retried"] is True and retry["status"] in ("PENDING", "IN_PROGRESS", "SUCCESSFUL")
    assert run.result("Bulk retry and wait")["succeeded_ids"] == ["via-bulk"]
    cancel = run.result("Cancel")
    assert cancel["changed"] is True and cancel["status"] == "USER_CANCELLED"
    assert patches_by_task(target) == {"via-retry": 1, "via-bulk": 1}
    assert target.counters()["faults_injected"] == 3


def test_an_answer_naming_a_new_task_id_is_followed(ansible, target):
    load(target, [rotate_task("via-retry", {"status": "FAILED", "errors": [SSH_REFUSED]}, retry_new_id=True)])
    run = ansible.playbook(RETRY_AND_WAIT, target=target)
    result = run.result("Retry and wait")
    assert run.rc != 0 and result["task_id"] != "via-retry", result
    assert "Reset the root password" in result["msg"] and result["status"] == "FAILED"
    assert patches_by_task(target) == {"via-retry": 1}


UNKNOWN_TYPE = "FUTURE_APPLIANCE"


@pytest.mark.parametrize("release, resource_type, accepted", [
    ("9.1", "VSP", True), ("9.1", "HCX_MANAGER", True), ("4.5", "NSX_MANAGER", True), ("9.0", "VSP", False),
    # an upper-case type this collection does not know is sent with a warning: SDDC Manager validates it, not us
    ("9.1", UNKNOWN_TYPE, False),
])
def test_resource_types_of_every_release_reach_sddc_manager(ansible, target, release, resource_type, accepted):
    task = rotate_task("update-it", "SUCCESSFUL", type="UPDATE")
    if resource_type != UNKNOWN_TYPE:
        task["resources"][0]["type"] = resource_type  # a simulated resource has a type of some release
    load(target, [task], release=release)
    new_password = scenarios.planted("new-%s" % resource_type)
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: update-it
    operation_type: UPDATE
    elements:
      - resource_name: update-it.rack.example.com
        resource_type: "{{ resource_type }}"
        credentials: [{credential_type: SSH, username: root, password: "{{ new_password }}"}]
    wait: true
    wait_sleep: 1
"""), target=target, extra_vars={"resource_type": resource_type, "new_password": new_password})
    result = run.result("Retry")
    assert (run.rc == 0) is accepted, run
    warned = any("%s is not one this collection knows" % resource_type in w for w in result.get("warnings", []))
    assert warned is (resource_type == UNKNOWN_TYPE), result.get("warnings")
    if not accepted:
        assert "RESOURCE_TYPE_INVALID" in result["msg"] and patches_by_task(target) == {}, result["msg"]
    assert new_password not in run.output


def test_parallel_retries_with_a_short_lived_token_and_5xx_bursts_all_go_through(ansible, target):
    """Twenty-four retries at the default concurrency while the access token lives 3 s and reads meet 503s."""
    tasks = scenarios.failed_rotate_tasks(24, run_seconds=4)
    # Three reads in ten meet a 503: enough to put backoffs in the middle of token renewals (a run reads little: one
    # list read for the 24 tasks, then reads aimed at their ends), too few for a read to exhaust its six attempts
    # (0.3 ** 6 < 0.001).
    bursts = [dict(scenarios.JSON_503, match={"method": "GET", "path": "/v1/credentials/tasks*"}, probability=0.3)]
    injected = 0
    for attempt in range(3):
        target.load(scenarios.base(tasks=tasks, tokens={"access_lifetime": 3, "refresh_answer": "text"},
                                   faults=bursts, seed=100 + attempt))
        run = ansible.playbook(play("""
- name: Bulk retry and wait
  vcf.sddc_manager.credentials_task_bulk_retry:
    task_ids: "{{ ids }}"
    wait: true
    wait_sleep: 1
    wait_timeout: 120
"""), target=target, extra_vars={"ids": [t["id"] for t in tasks]})
        result = run.result("Bulk retry and wait")
        assert run.rc == 0, (attempt, result["msg"][-1500:])
        assert sorted(result["succeeded_ids"]) == sorted(t["id"] for t in tasks)
        counters = target.counters()
        assert set(counters["retries_by_task"].values()) == {1} and len(counters["retries_by_task"]) == 24
        assert counters["refreshes"] >= 1
        injected += counters["faults_injected"]
        assert "eyJ" not in run.output  # no access token, whole or in part
    assert injected > 0


@pytest.mark.parametrize("refresh_answer", ["json", "text"])
def test_a_wait_outlives_the_access_token_with_either_refresh_answer(ansible, target, refresh_answer):
    load(target, [rotate_task("via-retry", "SUCCESSFUL", run_seconds=6)],
         tokens={"access_lifetime": 2, "refresh_answer": refresh_answer})
    run = ansible.playbook(RETRY_AND_WAIT, target=target, verbosity=3)
    assert run.rc == 0, run
    counters = target.counters()
    assert counters["refreshes"] >= 1 and counters["logins"] == 1
    assert "eyJ" not in run.output


def test_a_refresh_that_keeps_failing_falls_back_to_a_login(ansible, target):
    broken_refresh = [{"kind": "http_error", "status": 500, "match": {"method": "PATCH", "path": "/v1/tokens/*"}}]
    load(target, [rotate_task("via-retry", "SUCCESSFUL", run_seconds=5)], tokens={"access_lifetime": 2},
         faults=broken_refresh)
    run = ansible.playbook(RETRY_AND_WAIT, target=target)
    assert run.rc == 0, run
    assert target.counters()["logins"] >= 2
    assert patches_by_task(target) == {"via-retry": 1}


def test_the_outcome_table_covers_every_status_the_simulator_can_end_with():
    """A status the simulator can produce but no case here exercises is an untested verdict."""
    covered = set()
    for case in ENDS:
        outcome = case[2]
        covered.add(outcome if isinstance(outcome, str) else outcome.get("status", "status_word"))
    assert {"SUCCESSFUL", "FAILED", "INCONSISTENT", "USER_CANCELLED", "SKIPPED", "CANCELLED", "TIMED_OUT",
            "COMPLETED_WITH_WARNING", "status_word"} <= covered, covered
    assert {case[1] for case in ENDS} == {"4.5", "9.0", "9.1"}
    json.dumps(ENDS)  # plain data


def test_names_match_without_case_and_durations_use_the_controller_clock(ansible, target):
    """Defect 7 of the issue: FQDNs in any case find their task, and a duration never mixes SDDC Manager's clock
    (here an hour ahead of the controller's) with the controller's."""
    load(target, [rotate_task("esxi-upper", "SUCCESSFUL")])
    target.ctl.advance(3600)
    run = ansible.playbook(play("""
- name: Info by name in capitals
  vcf.sddc_manager.credentials_task_info:
    resource_name: ESXI-UPPER.RACK.EXAMPLE.COM
- name: Bulk retry by name in capitals
  vcf.sddc_manager.credentials_task_bulk_retry:
    discover: true
    resource_names: [Esxi-Upper.Rack.Example.Com]
    wait: true
    wait_sleep: 1
    wait_timeout: 30
  register: bulk
- name: Report
  ansible.builtin.debug:
    msg: "{{ bulk | vcf.sddc_manager.retry_summary }}"
"""), target=target)
    assert run.rc == 0, run
    assert [t["id"] for t in run.result("Info by name in capitals")["tasks"]] == ["esxi-upper"]
    assert run.result("Bulk retry by name in capitals")["succeeded_ids"] == ["esxi-upper"]
    report = run.result("Report")["msg"]
    (task,) = report["tasks"]
    assert task["completed_at"] > task["retried_at"][:10]  # SDDC Manager's own time is kept as it said
    assert 0 <= task["duration_seconds"] < 60, task
    assert patches_by_task(target) == {"esxi-upper": 1}


def test_an_empty_answer_and_reads_of_the_old_run_leave_the_state_unknown_not_failed(ansible, target):
    """A 204 without body, then two reads that still show the FAILED run the retry replaced: without wait the
    module says the new state is not known yet (not FAILED); with wait it follows the task to its real end."""
    load(target, [rotate_task("no-body", "SUCCESSFUL", stale_reads=2), rotate_task("no-body-wait", "SUCCESSFUL",
                                                                                   stale_reads=2)],
         faults=[{"kind": "empty_answer", "status": 204, "match": {"method": "PATCH"}}])
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: no-body
- name: Retry and wait
  vcf.sddc_manager.credentials_task_retry:
    task_id: no-body-wait
    wait: true
    wait_sleep: 1
"""), target=target)
    assert run.rc == 0, run
    result = run.result("Retry")
    assert result["changed"] is True and result["status"] == "UNKNOWN", result
    assert "its new state is not known yet" in result["msg"]
    waited = run.result("Retry and wait")
    assert waited["status"] == "SUCCESSFUL" and waited["task"]["verdict"] == "succeeded"
    assert patches_by_task(target) == {"no-body": 1, "no-body-wait": 1}


def test_a_retry_refused_because_an_earlier_one_already_ended_inconsistent_fails(ansible, target):
    """A read still shows FAILED after the first run's retry, so the second run sends its retry; SDDC Manager
    refuses it (the task is INCONSISTENT by then). The second run must fail with that end, not pass as 'skipped'."""
    load(target, [rotate_task("ends-inconsistent", "INCONSISTENT", stale_reads=1)])
    first = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: ends-inconsistent
"""), target=target)
    assert first.rc == 0, first
    target.ctl.advance(60)  # the retried run ends INCONSISTENT; the one stale read is still to come
    second = ansible.playbook(play("""
- name: Bulk retry
  vcf.sddc_manager.credentials_task_bulk_retry:
    task_ids: [ends-inconsistent]
"""), target=target)
    assert second.rc != 0
    result = second.result("Bulk retry")
    assert result["changed"] is False and result["skipped_ids"] == []
    (error,) = result["errors"]
    assert "retried by another client just before this one, and is INCONSISTENT" in error["msg"], error
    counters = target.counters()
    assert counters["by_route"]["PATCH /v1/credentials/tasks/{id}"] == 2 and counters["patches_accepted"] == 1
