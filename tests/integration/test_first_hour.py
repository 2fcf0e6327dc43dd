"""A new admin's mistakes, each with a way out (issue 21), through the real ansible-playbook and ansible:
a misspelled filter value is refused before any request instead of reading as "nothing failed"; a discovered task
that needs passwords does not stop the others; the role speaks of its variables; one unknown id does not stop the
other retries; the report says which SDDC Manager and when."""

import json

import scenarios
from test_role import ROLE_PLAY, role_vars
from test_role_paths import final_failure, no_secret

PATCH = "PATCH"


def patches(target):
    return target.counters()["by_method"].get(PATCH, 0)


def test_a_misspelled_status_or_type_is_refused_before_any_request(ansible, target):
    before = target.counters()["total"]
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_info", "status=FAIL", target=target)
    assert run.rc != 0 and "'FAIL' is not a status of a credentials task; did you mean FAILED?" in run.output, run
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_info", "resource_type=ESX", target=target)
    assert run.rc != 0 and "'ESX' is not a resource type of any release from VCF 4.x to 9.1; did you mean ESXI?" \
        in run.output, run
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_bulk_retry", "discover=true resource_types=ESX",
                        target=target)
    assert run.rc != 0 and "resource_types: 'ESX'" in run.output, run
    assert target.counters()["total"] == before  # not even a login
    # Spellings SDDC Manager uses, and a type in another case, are fine.
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_info", "status='In Progress,failed' resource_type=esxi",
                        target=target)
    assert run.rc == 0, run


def test_the_role_refuses_a_misspelled_filter_in_its_own_words(ansible, target):
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        target, retry_credentials_tasks_discover=True, retry_credentials_tasks_resource_types=["ESX"]))
    task, message = final_failure(run)
    assert "retry_credentials_tasks_resource_types: 'ESX' is not a resource type" in message, message
    assert "did you mean ESXI?" in message and patches(target) == 0


def test_discover_retries_what_it_can_and_names_what_needs_input(ansible, target, tmp_path):
    """update-failed (UPDATE) needs new passwords; rotate-failed needs nothing: it is retried, and the run passes."""
    report = tmp_path / "report"
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        target, retry_credentials_tasks_discover=True, retry_credentials_tasks_report_path=str(report),
        retry_credentials_tasks_resource_names=["esxi-1.rack.example.com", "vcenter-1.rack.example.com"]))
    assert run.rc == 0, run
    assert patches(target) == 1
    summary = json.loads((report / "credentials-tasks-localhost.json").read_text())
    assert summary["retried"] == ["rotate-failed"] and summary["succeeded"] == ["rotate-failed"]
    assert [item["task_id"] for item in summary["needs_input"]] == ["update-failed"]
    line = summary["needs_input"][0]["msg"]
    assert "Task update-failed is an UPDATE task: give operation_type and elements in " \
           "retry_credentials_tasks_specs['update-failed']" in line, line
    assert "give it an entry in retry_credentials_tasks_specs" in line
    assert "Task update-failed is an UPDATE task" in run.stdout  # shown without -v
    assert "## Needs input (not retried)" in (report / "credentials-tasks-localhost.md").read_text()
    no_secret(run)


def test_the_bulk_retry_module_names_the_needs_input_tasks_in_its_words(ansible, target):
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_bulk_retry",
                        "discover=true resource_types=VCENTER,NSXT_MANAGER", target=target)
    assert run.rc == 0, run
    result = run.result("vcf.sddc_manager.credentials_task_bulk_retry")
    assert sorted(item["task_id"] for item in result["needs_input"]) == ["remediate-failed", "update-failed"]
    assert all("give it an entry in tasks to retry it" in item["msg"] for item in result["needs_input"])
    assert "0 retried" in result["msg"] and "2 need input" in result["msg"] and patches(target) == 0


def test_a_named_task_that_needs_passwords_names_the_role_variable(ansible, target):
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(target, retry_credentials_tasks_ids="update-failed"))
    _task, message = final_failure(run)
    assert "give operation_type and elements in retry_credentials_tasks_specs['update-failed']" in message, message
    assert "a UPDATE" not in run.output and patches(target) == 0


def test_one_unknown_id_is_named_and_the_others_are_still_retried(ansible, target):
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        target, retry_credentials_tasks_ids=["rotate-failed", "rotate-faild"]))
    _task, message = final_failure(run)
    assert "No credentials task with id rotate-faild exists" in message, message
    summary = run.result("Summarise the outcome")["ansible_facts"]["retry_credentials_tasks_result"]
    assert summary["retried"] == ["rotate-failed"] and summary["succeeded"] == ["rotate-failed"]
    assert patches(target) == 1


def test_a_misspelled_role_variable_stops_the_role_before_the_login(ansible, target):
    extra = role_vars(target)
    extra["retry_credentials_tasks_hostnme"] = extra.pop("retry_credentials_tasks_hostname")
    run = ansible.playbook(ROLE_PLAY, extra_vars=dict(extra, retry_credentials_tasks_ids=["rotate-failed"]))
    _task, message = final_failure(run)
    assert message.startswith("Unknown role variable(s) retry_credentials_tasks_hostnme: check the spelling"), message
    assert "retry_credentials_tasks_hostname" in message and target.counters()["logins"] == 0


def test_a_missing_password_names_the_role_variable_and_the_environment_variable(ansible, target):
    extra = role_vars(target, retry_credentials_tasks_ids=["rotate-failed"])
    del extra["retry_credentials_tasks_password"]
    run = ansible.playbook(ROLE_PLAY, extra_vars=extra)
    _task, message = final_failure(run)
    assert "retry_credentials_tasks_username and retry_credentials_tasks_password (or SDDC_MANAGER_USERNAME and " \
           "SDDC_MANAGER_PASSWORD) go together" in message, message
    assert "parameters are required together" not in message


def test_a_missing_host_names_the_role_variable(ansible, target):
    extra = role_vars(target, retry_credentials_tasks_ids=["rotate-failed"])
    del extra["retry_credentials_tasks_hostname"]
    run = ansible.playbook(ROLE_PLAY, extra_vars=extra)
    _task, message = final_failure(run)
    assert "Could not log in to SDDC Manager (no host given)" in message, message
    assert "give retry_credentials_tasks_hostname (or SDDC_MANAGER_HOST)" in message


def test_the_report_says_which_sddc_manager_and_when(ansible, target, tmp_path):
    report = tmp_path / "report"
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(
        target, retry_credentials_tasks_ids=["rotate-failed"], retry_credentials_tasks_report_path=str(report)))
    assert run.rc == 0, run
    summary = json.loads((report / "credentials-tasks-localhost.json").read_text())
    assert summary["sddc_manager"] == target.hostname
    assert summary["started_at"] < summary["ended_at"] and summary["started_at"].endswith("Z")
    assert 0 < summary["run_seconds"] < 120 and summary["run_seconds"] >= summary["elapsed"]
    markdown = (report / "credentials-tasks-localhost.md").read_text()
    assert "Run from %s to %s" % (summary["started_at"], summary["ended_at"]) in markdown
    assert scenarios.ADMIN["password"] not in markdown
