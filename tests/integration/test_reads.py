"""Reads against a task list that is not newest first, with the real ansible-playbook and the simulator's
``list_order``: the reader checks every list answer's order, warns once, and the outcome stays right."""

import scenarios
from plays import play

WARNING = "listed its credentials tasks out of order"


def _running(task_id, outcome):
    """A ROTATE task running for 3 s that ends ``outcome``; created where it stands in the scenario's list."""
    outcomes = [outcome if outcome == "SUCCESSFUL" else {"status": outcome, "errors": [scenarios.SSH_AUTH_ERROR]}]
    return {"id": task_id, "type": "ROTATE", "status": "IN_PROGRESS", "run_seconds": 3, "outcomes": outcomes,
            "resources": [{"name": "esxi-%s.rack.example.com" % task_id, "type": "ESXI", "credentials": [
                {"credential_type": "SSH", "account_type": "USER", "username": "root",
                 "password": scenarios.planted("%s-old" % task_id)}]}]}


def _load(target, order):
    """Three tasks running in the middle of 200 finished ones, the list answered in ``order``."""
    history = {"generate": {"count": 100, "type": "ROTATE", "status": "SUCCESSFUL"}}
    target.load(scenarios.base(tasks=[history, _running("reads-ok-1", "SUCCESSFUL"),
                                      _running("reads-ok-2", "SUCCESSFUL"), _running("reads-failed", "FAILED"),
                                      history]))
    target.ctl.set_list_order(order)


WAIT = play("""
- name: Wait
  vcf.sddc_manager.credentials_task_wait:
    task_ids: [reads-ok-1, reads-ok-2, reads-failed]
    wait_sleep: 1
    wait_timeout: 60
""")


def _wait(ansible, target, order):
    _load(target, order)
    run = ansible.playbook(WAIT, target=target)
    wait = run.result("Wait")
    assert run.rc != 0, run  # one of them failed
    assert sorted(wait["succeeded_ids"]) == ["reads-ok-1", "reads-ok-2"]
    assert wait["failed_ids"] == ["reads-failed"] and wait["pending_ids"] == []
    assert wait["failed_subtasks"][0]["error_code"] == scenarios.SSH_AUTH_ERROR["errorCode"]
    return run, wait


def test_the_wait_over_a_list_oldest_first_warns_once_and_still_tells_each_end(ansible, target):
    run, wait = _wait(ansible, target, "oldest")
    warnings = [w for w in wait.get("warnings", []) if WARNING in w]
    assert len(warnings) == 1, wait.get("warnings")
    assert "reads the whole list, or each task by id, from now on" in warnings[0]
    assert WARNING in run.output
    # One list read (the window that came out of order), then reads by id only.
    assert target.counters()["by_route"]["GET /v1/credentials/tasks"] == 1


def test_the_same_wait_over_a_list_newest_first_has_no_warning(ansible, target):
    run, wait = _wait(ansible, target, "newest")
    assert not [w for w in wait.get("warnings", []) if WARNING in w]
    assert WARNING not in run.output


def test_the_info_module_gives_the_newest_tasks_of_a_shuffled_list_and_warns(ansible, target):
    _load(target, "shuffled")
    run = ansible.playbook(play("""
- name: Newest
  vcf.sddc_manager.credentials_task_info:
    limit: 5
"""), target=target)
    assert run.rc == 0, run
    result = run.result("Newest")
    created = [t["creation_timestamp"] for t in result["tasks"]]
    newest = sorted((t["created"] for t in target.ctl.tasks()), reverse=True)[:5]
    assert len(created) == 5 and created == sorted(created, reverse=True)
    assert [c[:19] for c in created] == [n[:19] for n in newest]
    assert [w for w in result.get("warnings", []) if WARNING in w]
