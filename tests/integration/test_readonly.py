"""Read-only checks that hold on any SDDC Manager: the simulator by default, a real one with
SDDC_MANAGER_TEST_TARGET=real (see README.md). Nothing here changes a task."""

import pytest

pytestmark = pytest.mark.real_ok


def test_login_list_and_revoke_with_the_connection_from_the_environment(ansible, target):
    run = ansible.playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Log in
      vcf.sddc_manager.token:
      register: login
      no_log: true
    - name: List
      vcf.sddc_manager.credentials_task_info:
        access_token: "{{ login.access_token }}"
        limit: 20
    - name: Revoke
      vcf.sddc_manager.token:
        state: absent
        refresh_token: "{{ login.refresh_token }}"
""", target=target, connection_env=True)
    assert run.rc == 0, run
    tasks = run.result("List")["tasks"]
    assert isinstance(tasks, list) and len(tasks) <= 20
    for task in tasks:
        assert task["normalized_status"] and "subTasks" not in task  # snake_case keys only


def test_discovery_preview_in_check_mode_sends_no_write(ansible, target):
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_bulk_retry", "discover=true fail_on_failure=false",
                        target=target, check=True)
    assert run.rc == 0, run
    result = run.result("vcf.sddc_manager.credentials_task_bulk_retry")
    assert result["retried_ids"] == []
    assert isinstance(result["would_retry_ids"], list)
    if target.sim is not None:
        assert target.counters()["by_method"].get("PATCH", 0) == 0
