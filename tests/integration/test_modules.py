"""The modules through the real ansible-playbook and ansible, against the simulator over HTTPS."""

import pytest
import scenarios

from plays import TOKENS_ONLY_PLAY, patches, play


@pytest.mark.parametrize("subtask_fields, reads", [("full", 0), ("sparse", 1)])
def test_retry_of_a_failed_rotate_task_rebuilds_the_request_and_waits(ansible, target, subtask_fields, reads):
    """The request is rebuilt from the task's sub-tasks; when they leave out the fields the spec calls optional,
    from the task's resource credentials (one more read)."""
    target.load(scenarios.base(subtask_fields=subtask_fields))
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-failed
    wait: true
    wait_sleep: 1
"""), target=target)
    assert run.rc == 0, run
    result = run.result("Retry")
    assert result["changed"] is True and result["retried"] is True
    assert result["status"] == "SUCCESSFUL"
    assert result["task"]["status"] == "SUCCESSFUL"
    assert {r["resource_name"] for r in result["task"]["resources"]} == {
        "esxi-1.rack.example.com", "esxi-2.rack.example.com"}
    counters = target.counters()
    assert patches(counters) == 1
    assert counters["by_route"].get("GET /v1/credentials/tasks/{id}/resource-credentials", 0) == reads
    assert counters["logins"] == 1
    assert counters["retries_by_task"] == {"rotate-failed": 1}


def test_second_run_reports_no_change_and_sends_no_patch(ansible, target):
    retry = play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-failed
    wait: true
    wait_sleep: 1
""")
    assert ansible.playbook(retry, target=target).rc == 0
    target.ctl.reset()
    second = ansible.playbook(retry, target=target)
    assert second.rc == 0, second
    result = second.result("Retry")
    assert result["changed"] is False and result["retried"] is False
    assert "already ended SUCCESSFUL" in result["msg"]
    assert patches(target.counters()) == 0


def test_retry_of_an_update_task_sends_the_given_passwords(ansible, target):
    new_root, new_sso = scenarios.planted("vc-root-new"), scenarios.planted("vc-sso-new")
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: update-failed
    operation_type: UPDATE
    elements:
      - resource_name: vcenter-1.rack.example.com
        resource_type: VCENTER
        credentials:
          - {credential_type: SSH, username: root, password: "{{ new_root }}"}
          - {credential_type: SSO, username: administrator@vsphere.local, password: "{{ new_sso }}"}
    wait: true
    wait_sleep: 1
"""), target=target, extra_vars={"new_root": new_root, "new_sso": new_sso})
    assert run.rc == 0, run
    assert run.result("Retry")["status"] == "SUCCESSFUL"
    task = next(t for t in target.ctl.tasks() if t["id"] == "update-failed")
    passwords = {c["username"]: c["password"] for r in task["resources"] for c in r["credentials"]}
    assert passwords == {"root": new_root, "administrator@vsphere.local": new_sso}
    assert new_root not in run.output and new_sso not in run.output


def test_update_task_without_passwords_fails_before_any_request(ansible, target):
    target.ctl.reset()
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: update-failed
    operation_type: UPDATE
"""), target=target)
    assert run.rc != 0
    assert "needs elements with the new password" in run.result("Retry")["msg"]
    assert target.counters()["total"] == 0


def test_update_task_without_spec_names_the_options_to_give(ansible, target):
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: update-failed
"""), target=target)
    assert run.rc != 0
    assert "give operation_type and elements" in run.result("Retry")["msg"]
    assert patches(target.counters()) == 0


def test_check_mode_reports_the_retry_and_sends_no_patch(ansible, target):
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-failed
"""), target=target, check=True, diff=True)
    assert run.rc == 0, run
    result = run.result("Retry")
    assert result["changed"] is True and result["retried"] is False
    assert result["diff"] == {"before": {"task_id": "rotate-failed", "status": "FAILED"},
                              "after": {"task_id": "rotate-failed", "status": "IN_PROGRESS"}}
    assert "FAILED" in run.stdout and "IN_PROGRESS" in run.stdout  # the diff is shown
    assert patches(target.counters()) == 0


def test_tasks_that_cannot_be_retried_fail_with_what_to_do(ansible, target):
    run = ansible.playbook(play("""
- name: Cancelled
  vcf.sddc_manager.credentials_task_retry:
    task_id: cancelled
  ignore_errors: true
- name: Inconsistent
  vcf.sddc_manager.credentials_task_retry:
    task_id: inconsistent
  ignore_errors: true
- name: Unknown
  vcf.sddc_manager.credentials_task_retry:
    task_id: no-such-task
  ignore_errors: true
- name: Running
  vcf.sddc_manager.credentials_task_retry:
    task_id: in-progress
"""), target=target)
    assert run.rc == 0, run
    assert "Start a new password operation" in run.result("Cancelled")["msg"]
    assert "REMEDIATE" in run.result("Inconsistent")["msg"]
    assert "No credentials task with id no-such-task" in run.result("Unknown")["msg"]
    running = run.result("Running")
    assert running["changed"] is False and "already IN_PROGRESS" in running["msg"]
    assert patches(target.counters()) == 0


def test_cancel_is_idempotent_and_refuses_running_tasks(ansible, target):
    run = ansible.playbook(play("""
- name: Cancel
  vcf.sddc_manager.credentials_task_cancel:
    task_id: rotate-failed
- name: Cancel again
  vcf.sddc_manager.credentials_task_cancel:
    task_id: rotate-failed
- name: Cancel a running task
  vcf.sddc_manager.credentials_task_cancel:
    task_id: in-progress
  ignore_errors: true
"""), target=target)
    assert run.rc == 0, run
    first, again = run.result("Cancel"), run.result("Cancel again")
    assert first["changed"] is True and first["status"] == "USER_CANCELLED"
    assert again["changed"] is False and again["status"] == "USER_CANCELLED"
    assert "cancels only FAILED" in run.result("Cancel a running task")["msg"]
    assert target.counters()["deletes_accepted"] == 1


def test_info_lists_and_filters(ansible, target):
    run = ansible.playbook(play("""
- name: Failed
  vcf.sddc_manager.credentials_task_info:
    status: [failed]
- name: vCenter
  vcf.sddc_manager.credentials_task_info:
    resource_type: VCENTER
- name: By name
  vcf.sddc_manager.credentials_task_info:
    resource_name: esxi-3.rack.example.com
- name: Running, title case
  vcf.sddc_manager.credentials_task_info:
    status: [In Progress]
- name: One
  vcf.sddc_manager.credentials_task_info:
    task_id: rotate-fails-again
- name: Newest two
  vcf.sddc_manager.credentials_task_info:
    limit: 2
- name: None
  vcf.sddc_manager.credentials_task_info:
    resource_name: no-such-host
"""), target=target, check=True)
    assert run.rc == 0, run

    def ids(name):
        return [t["id"] for t in run.result(name)["tasks"]]

    assert ids("Failed") == ["remediate-failed", "rotate-fails-again", "update-failed", "rotate-failed"]
    assert ids("vCenter") == ["update-failed"]
    assert ids("By name") == ["rotate-fails-again"]
    assert ids("Running, title case") == ["in-progress"]
    assert ids("Newest two") == ["remediate-failed", "rotate-fails-again"]
    assert ids("None") == []
    one = run.result("One")["tasks"][0]
    assert one["normalized_status"] == "FAILED"
    assert one["failed_subtasks"][0]["error_code"] == "PASSWORD_ROTATE_SSH_AUTH_FAILED"
    assert all(r["changed"] is False for r in (run.result(n) for n in ("Failed", "One")))


def test_wait_for_several_tasks_reports_each_outcome(ansible, target):
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_bulk_retry:
    task_ids: [rotate-failed, rotate-fails-again]
  register: bulk
- name: Wait
  vcf.sddc_manager.credentials_task_wait:
    task_ids: "{{ bulk.retried_ids }}"
    wait_sleep: 1
    wait_timeout: 60
"""), target=target)
    assert run.rc != 0  # one task failed again
    wait = run.result("Wait")
    assert wait["succeeded_ids"] == ["rotate-failed"]
    assert wait["failed_ids"] == ["rotate-fails-again"]
    assert wait["pending_ids"] == []
    report = wait["failed_subtasks"][0]
    assert report["resource_name"] == "esxi-3.rack.example.com"
    assert report["remediation"].startswith("Reset the root password")
    assert "esxi-3.rack.example.com" in wait["msg"] and "Reset the root password" in wait["msg"]
    counters = target.counters()
    # Two tasks are read one by one, never with the whole list; polls are bounded by the run time.
    assert counters["logins"] == 2
    assert counters["by_route"]["GET /v1/credentials/tasks/{id}"] <= 2 + 2 * 6


def test_task_that_fails_again_yields_the_failure_report(ansible, target):
    run = ansible.playbook(play("""
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-fails-again
    wait: true
    wait_sleep: 1
"""), target=target)
    assert run.rc != 0
    result = run.result("Retry")
    assert result["retried"] is True and result["status"] == "FAILED"
    entry = result["failed_subtasks"][0]
    assert entry["error_code"] == "PASSWORD_ROTATE_SSH_AUTH_FAILED"
    assert entry["reference_token"]
    assert "esxi-3.rack.example.com" in result["msg"]
    assert "Remediation: Reset the root password" in result["msg"]


def test_one_login_shared_through_module_defaults(ansible, target):
    run = ansible.playbook(play("""
- name: Info
  vcf.sddc_manager.credentials_task_info:
    status: [FAILED]
- name: Retry
  vcf.sddc_manager.credentials_task_retry:
    task_id: rotate-failed
- name: Wait
  vcf.sddc_manager.credentials_task_wait:
    task_ids: [rotate-failed]
    wait_sleep: 1
""", header=TOKENS_ONLY_PLAY, indent=8) + """
      always:
        - name: Revoke
          vcf.sddc_manager.token:
            state: absent
            hostname: "{{ sddc_hostname }}"
            port: "{{ sddc_port }}"
            ca_path: "{{ sddc_ca_path }}"
            refresh_token: "{{ login.refresh_token }}"
""", target=target)
    assert run.rc == 0, run
    assert run.result("Wait")["succeeded_ids"] == ["rotate-failed"]
    counters = target.counters()
    assert counters["logins"] == 1
    assert counters["revocations"] == 1
    login = run.result("Log in")
    assert "censored" in login and "access_token" not in login


def test_adhoc_with_the_connection_in_environment_variables_only(ansible, target):
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_info", "status=FAILED resource_type=ESXI",
                        target=target)
    assert run.rc == 0, run
    assert [t["id"] for t in run.result("vcf.sddc_manager.credentials_task_info")["tasks"]] == [
        "rotate-fails-again", "rotate-failed"]
    retry = ansible.adhoc("vcf.sddc_manager.credentials_task_retry", "task_id=rotate-failed", target=target,
                          check=True, diff=True)
    assert retry.rc == 0, retry
    assert "CHANGED" in retry.stdout
    assert patches(target.counters()) == 0


def test_bulk_retry_discovers_failed_tasks_by_resource_type(ansible, target):
    run = ansible.playbook(play("""
- name: Bulk
  vcf.sddc_manager.credentials_task_bulk_retry:
    discover: true
    resource_types: [ESXI]
    wait: true
    wait_sleep: 1
    wait_timeout: 10
    fail_on_failure: false
"""), target=target)
    assert run.rc == 0, run
    result = run.result("Bulk")
    assert sorted(result["retried_ids"]) == ["rotate-failed", "rotate-fails-again"]
    assert result["succeeded_ids"] == ["rotate-failed"]
    assert result["failed_ids"] == ["rotate-fails-again"]
    # an ESXi task that was already running (and never ends here) is watched, not retried
    assert result["watched_ids"] == ["in-progress"] and result["pending_ids"] == ["in-progress"]
    assert target.counters()["patches_accepted"] == 2


@pytest.mark.parametrize("release, tokens", [
    ("4.5", {"login_status": 200, "refresh_answer": "text", "access_lifetime": 3}),
    ("9.1", {"login_status": 201, "refresh_answer": "json", "access_lifetime": 3}),
])
def test_the_login_in_the_controller_meets_each_answer_form_and_its_tokens_renew_under_parallel_reads(
        ansible, target, release, tokens):
    """The token action plugin logs in in the controller (local connection, the playbook's Python): a 200 or the
    spec's 201, and a 3 s token that the bulk retry's parallel calls must renew (the refresh answered as JSON or as
    text). The connection comes from the task's environment, as the module's process would see it."""
    target.load(scenarios.base(release=release, tokens=tokens,
                               tasks=scenarios.failed_rotate_tasks(6, run_seconds=4, prefix="ctl")))
    conn = target.vars()
    run = ansible.playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Log in
      vcf.sddc_manager.token:
        ca_path: "{{ sddc_ca_path }}"
      environment:
        SDDC_MANAGER_HOST: "{{ sddc_hostname }}"
        SDDC_MANAGER_PORT: "{{ sddc_port }}"
        SDDC_MANAGER_USERNAME: "{{ sddc_username }}"
        SDDC_MANAGER_PASSWORD: "{{ sddc_password }}"
      register: login
      no_log: true
    - name: Retry with the tokens only
      vcf.sddc_manager.credentials_task_bulk_retry:
        hostname: "{{ sddc_hostname }}"
        port: "{{ sddc_port }}"
        ca_path: "{{ sddc_ca_path }}"
        access_token: "{{ login.access_token }}"
        refresh_token: "{{ login.refresh_token }}"
        task_ids: "{{ ids }}"
        wait: true
        wait_sleep: 1
        wait_timeout: 60
""", target=target, extra_vars={"ids": ["ctl-%03d" % i for i in range(6)]})
    assert run.rc == 0, run
    assert sorted(run.result("Retry with the tokens only")["succeeded_ids"]) == ["ctl-%03d" % i for i in range(6)]
    counters = target.counters()
    assert counters["logins"] == 1 and counters["refreshes"] >= 1
    assert conn["sddc_password"] not in run.output and "eyJ" not in run.output
