"""The retry_credentials_tasks role and the collection playbook, through the real ansible-playbook."""

import json

import scenarios

ROLE_PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: vcf.sddc_manager.retry_credentials_tasks
"""


def role_vars(target, **extra):
    out = {
        "retry_credentials_tasks_hostname": target.hostname,
        "retry_credentials_tasks_port": target.port,
        "retry_credentials_tasks_username": target.username,
        "retry_credentials_tasks_password": target.password,
        "retry_credentials_tasks_ca_path": target.ca_path,
        "retry_credentials_tasks_wait_sleep": 1,
    }
    out.update(extra)
    return out


def test_role_retries_waits_and_reports(ansible, target, tmp_path):
    report = tmp_path / "report"
    new_root, new_sso = scenarios.planted("role-root-new"), scenarios.planted("role-sso-new")
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        target,
        retry_credentials_tasks_ids=["rotate-failed", "rotate-fails-again", "successful"],
        retry_credentials_tasks_specs={"update-failed": {
            "operation_type": "UPDATE",
            "elements": [{"resource_name": "vcenter-1.rack.example.com", "resource_type": "VCENTER", "credentials": [
                {"credential_type": "SSH", "username": "root", "password": new_root},
                {"credential_type": "SSO", "username": "administrator@vsphere.local", "password": new_sso}]}]}},
        retry_credentials_tasks_report_path=str(report)))
    print(run.stdout)
    assert run.rc != 0  # rotate-fails-again fails again
    assert "Task rotate-fails-again (ROTATE esxi-3.rack.example.com) failed again" in run.stdout
    assert "Remediation: Reset the root password" in run.stdout
    summary = json.loads((report / "credentials-tasks-localhost.json").read_text())
    assert sorted(summary["retried"]) == ["rotate-failed", "rotate-fails-again", "update-failed"]
    assert sorted(summary["succeeded"]) == ["rotate-failed", "update-failed"]
    assert [t["task_id"] for t in summary["failed"]] == ["rotate-fails-again"]
    assert [s["task_id"] for s in summary["skipped"]] == ["successful"]
    markdown = (report / "credentials-tasks-localhost.md").read_text()
    print(markdown)
    assert "| rotate-fails-again | esxi-3.rack.example.com (ESXI) | ROTATE | FAILED → FAILED |" in markdown
    counters = target.counters()
    assert counters["logins"] == 1
    assert counters["revocations"] == 1
    assert counters["patches_accepted"] == 3
    for secret in (new_root, new_sso, *scenarios.all_planted()):
        assert secret not in run.output
        assert secret not in markdown and secret not in json.dumps(summary)


def test_second_run_retries_nothing_and_changes_nothing(ansible, target):
    extra = role_vars(target, retry_credentials_tasks_ids=["rotate-failed"])
    assert ansible.playbook(ROLE_PLAY, extra_vars=extra).rc == 0
    target.ctl.reset()
    second = ansible.playbook(ROLE_PLAY, extra_vars=extra)
    assert second.rc == 0, second
    assert "changed=0" in second.stdout
    result = second.result("Summarise the outcome")["ansible_facts"]["retry_credentials_tasks_result"]
    assert result["retried"] == [] and [s["task_id"] for s in result["skipped"]] == ["rotate-failed"]
    counters = target.counters()
    assert counters["patches_accepted"] == 0 and counters["logins"] == 1


def test_check_mode_only_reads_and_names_what_would_be_retried(ansible, target, tmp_path):
    run = ansible.playbook(ROLE_PLAY, check=True, extra_vars=role_vars(
        target, retry_credentials_tasks_discover=True, retry_credentials_tasks_fail_on_failure=False,
        retry_credentials_tasks_report_path=str(tmp_path / "report")))
    assert run.rc == 0, run
    result = run.result("Summarise the outcome")["ansible_facts"]["retry_credentials_tasks_result"]
    # UPDATE and REMEDIATE tasks were discovered too, but without passwords they cannot be retried.
    assert sorted(result["would_retry"]) == ["rotate-failed", "rotate-fails-again"]
    # Found by discovery, they need new passwords: listed with what to give, not errors (issue 21 item 4); so does
    # the INCONSISTENT task, which needs a REMEDIATE entry in retry_credentials_tasks_specs (issue 20).
    discovered = sorted(e["task_id"] for e in result["needs_input"])
    assert discovered == ["inconsistent", "remediate-failed", "update-failed"]
    assert result["errors"] == []
    counters = target.counters()
    assert counters["by_method"].get("PATCH", 0) == 0 and counters["by_method"].get("DELETE", 0) == 1  # revoke only
    assert not (tmp_path / "report").exists()


def test_discovery_with_filters(ansible, target):
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        target, retry_credentials_tasks_discover=True,
        retry_credentials_tasks_resource_names=["esxi-1.rack.example.com"]))
    assert run.rc == 0, run
    result = run.result("Summarise the outcome")["ansible_facts"]["retry_credentials_tasks_result"]
    assert result["retried"] == ["rotate-failed"] and result["succeeded"] == ["rotate-failed"]
    by_type = ansible.playbook(ROLE_PLAY, check=True, extra_vars=role_vars(
        target, retry_credentials_tasks_discover=True, retry_credentials_tasks_resource_types=["VCENTER"],
        retry_credentials_tasks_fail_on_failure=False))
    result = by_type.result("Summarise the outcome")["ansible_facts"]["retry_credentials_tasks_result"]
    assert [e["task_id"] for e in result["needs_input"]] == ["update-failed"] and result["errors"] == []


def test_progress_is_shown_while_waiting_without_new_logins(ansible, target):
    target.load(scenarios.base(tasks=scenarios.failed_rotate_tasks(3, run_seconds=5)))
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        target, retry_credentials_tasks_discover=True, retry_credentials_tasks_progress_interval=2))
    assert run.rc == 0, run
    # The retry's own wait covers the first interval (one module run less): its line is the one that says what the
    # wait covers; the wait's runs print the lines of the later intervals.
    progress = [line for line in run.stdout.splitlines() if "s elapsed" in line or "still running. Waiting" in line]
    assert len(progress) >= 2, run.stdout
    assert "Retried 3 and watching 0 already running credentials task(s); 3 still running." in progress[0]
    assert "[localhost] credentials tasks: 0 running, 3 succeeded, 0 did not succeed" in progress[-1]
    counters = target.counters()
    assert counters["logins"] == 1 and counters["refreshes"] == 0


def test_collection_playbook_discovers_with_the_connection_from_the_environment(ansible, target):
    run = ansible.playbook("vcf.sddc_manager.retry_failed_credentials", target=target, connection_env=True,
                           extra_vars={"retry_credentials_tasks_resource_types": ["ESXI"],
                                       "retry_credentials_tasks_wait_sleep": 1,
                                       "retry_credentials_tasks_wait_timeout": 8})
    assert run.rc != 0  # rotate-fails-again fails again
    result = run.result("Summarise the outcome")["ansible_facts"]["retry_credentials_tasks_result"]
    assert result["succeeded"] == ["rotate-failed"]
    assert [t["task_id"] for t in result["failed"]] == ["rotate-fails-again"]
    # 'in-progress' was running before the play (and never ends): discovery watches it to the timeout
    assert result["watched"] == ["in-progress"] and result["still_running"] == ["in-progress"]
    assert result["stopped_because"] == "retry_credentials_tasks_wait_timeout (8 s) ran out"
    assert target.counters()["logins"] == 1


def test_several_sddc_managers_in_one_play(ansible, target, tmp_path):
    from sddc_sim import Simulator
    inventory = tmp_path / "managers.ini"
    with Simulator(scenarios.base(), certs_dir=str(tmp_path / "certs2")) as second:
        inventory.write_text(
            "[sddc_managers]\n"
            "vcf-a retry_credentials_tasks_port=%d retry_credentials_tasks_ca_path=%s\n"
            "vcf-b retry_credentials_tasks_port=%d retry_credentials_tasks_ca_path=%s\n"
            "[sddc_managers:vars]\nansible_connection=local\nansible_python_interpreter=%s\n"
            "retry_credentials_tasks_hostname=127.0.0.1\n"
            % (target.port, target.ca_path, second.port, second.ca_path, __import__("sys").executable))
        extra = role_vars(target, retry_credentials_tasks_ids=["rotate-failed"])
        for key in ("retry_credentials_tasks_port", "retry_credentials_tasks_ca_path",
                    "retry_credentials_tasks_hostname"):
            extra.pop(key)
        run = ansible.playbook(ROLE_PLAY.replace("hosts: localhost", "hosts: sddc_managers"), inventory=inventory,
                               forks=2, extra_vars=extra)
        assert run.rc == 0, run
        for host in ("vcf-a", "vcf-b"):
            facts = run.result("Summarise the outcome", host=host)["ansible_facts"]
            assert facts["retry_credentials_tasks_result"]["succeeded"] == ["rotate-failed"]
        for ctl in (target.ctl, second.control()):
            counters = ctl.counters()
            assert counters["logins"] == 1 and counters["patches_accepted"] == 1
