"""How runs end: every status, unknown words, missing timestamps, no errors, dependent sub-tasks."""

import pytest

from sddc_sim import ScenarioError, SimControlError
from sddc_sim.scenario import load as load_scenario
from sim_helpers import retry_body

TASKS = "/v1/credentials/tasks"


def _task(task_id, **fields):
    """A ROTATE task over two ESXi hosts (two sub-tasks) that runs 0.2 s."""
    task = {"id": task_id, "type": "ROTATE", "status": "FAILED", "run_seconds": 0.2,
            "resources": [{"name": "esxi-%d.sim" % n, "type": "ESXI", "credentials": [
                {"credential_type": "SSH", "username": "root", "password": "old-%d" % n}]} for n in (1, 2)]}
    task.update(fields)
    return task


def _retry_and_finish(client, token, task_id):
    resources = client.get("%s/%s/resource-credentials" % (TASKS, task_id), token).json()
    answer = client.patch("%s/%s" % (TASKS, task_id), token, retry_body(resources, "ROTATE"))
    assert answer.status_code == 202, answer.text
    client.ctl.advance(1)
    return client.task(task_id, token)


# status -> (generic status, generic sub-task status of the failing sub-task, resolutionStatus)
ENDS = {
    "FAILED": ("Failed", "FAILED", "UNRESOLVED"),
    "INCONSISTENT": ("Failed", "FAILED", "UNRESOLVED"),
    "USER_CANCELLED": ("Cancelled", "SKIPPED", "RESOLVED"),
    "SKIPPED": ("SKIPPED", "SKIPPED", "RESOLVED"),
    "CANCELLED": ("Cancelled", "SKIPPED", "RESOLVED"),
    "TIMED_OUT": ("Failed", "FAILED", "UNRESOLVED"),
}


@pytest.mark.parametrize("status", sorted(ENDS))
def test_a_run_can_end_in_any_status(load, status):
    client = load(tasks=[_task("t", outcomes=[status])])
    token = client.token()
    task = _retry_and_finish(client, token, "t")
    assert task["status"] == status
    assert task["completionTimestamp"].endswith("Z")
    first, second = task["subTasks"]
    # Without errors in the scenario, sub-task 0 fails with the default error and takes the task's word.
    assert first["status"] == status and first["errors"][0]["errorCode"] == "PASSWORD_ROTATE_FAILED"
    assert second["status"] == "SUCCESSFUL" and second["errors"] == []
    generic = client.get("/v1/tasks/t", token).json()
    word, subtask_word, resolution = ENDS[status]
    assert generic["status"] == word
    assert generic["subTasks"][0]["status"] == subtask_word
    assert generic["resolutionStatus"] == resolution
    assert generic["isRetryable"] is (status == "FAILED")
    # Only FAILED can be retried again.
    resources = client.get(TASKS + "/t/resource-credentials", token).json()
    again = client.patch(TASKS + "/t", token, retry_body(resources, "ROTATE"))
    assert again.status_code == (202 if status == "FAILED" else 400)


def test_completed_with_warning_is_quiet_unless_errors_are_given(load):
    warning = {"subtask": 1, "errorCode": "PASSWORD_ROTATED_WITH_WARNING", "message": "Host profile not updated"}
    client = load(tasks=[_task("quiet", outcomes=["COMPLETED_WITH_WARNING"]),
                         _task("warned", outcomes=[{"status": "COMPLETED_WITH_WARNING", "errors": [warning]}])])
    token = client.token()
    quiet = _retry_and_finish(client, token, "quiet")
    assert quiet["status"] == "COMPLETED_WITH_WARNING"
    assert [s["status"] for s in quiet["subTasks"]] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert all(s["errors"] == [] for s in quiet["subTasks"]) and quiet["errors"] == []
    warned = _retry_and_finish(client, token, "warned")
    assert [s["status"] for s in warned["subTasks"]] == ["SUCCESSFUL", "COMPLETED_WITH_WARNING"]
    assert warned["subTasks"][1]["errors"][0]["errorCode"] == "PASSWORD_ROTATED_WITH_WARNING"
    generic = client.get("/v1/tasks/warned", token).json()
    assert generic["status"] == "COMPLETED_WITH_WARNING" and generic["resolutionStatus"] == "RESOLVED"


def test_an_unknown_status_word_passes_through_every_view(load):
    client = load(tasks=[_task("t", outcomes=[{"status_word": "ROLLED_BACK"}])])
    token = client.token()
    task = _retry_and_finish(client, token, "t")
    assert task["status"] == "ROLLED_BACK"
    assert task["subTasks"][0]["status"] == "ROLLED_BACK" and task["subTasks"][0]["errors"]
    listed = client.get(TASKS, token).json()["elements"][0]
    assert listed["status"] == "ROLLED_BACK"
    generic = client.get("/v1/tasks/t", token).json()
    assert generic["status"] == "ROLLED_BACK" and generic["resolutionStatus"] == "UNRESOLVED"
    assert generic["subTasks"][0]["status"] == "ROLLED_BACK"
    assert generic["isRetryable"] is False


def test_subtask_status_sets_the_word_of_the_failing_subtasks(load):
    client = load(tasks=[_task("t", outcomes=[{"status": "TIMED_OUT", "subtask_status": "FAILED"}])])
    task = _retry_and_finish(client, client.token(), "t")
    assert task["status"] == "TIMED_OUT"
    assert [s["status"] for s in task["subTasks"]] == ["FAILED", "SUCCESSFUL"]


def test_a_subtask_word_outside_the_generic_list_passes_through(load):
    client = load(tasks=[_task("t", outcomes=[{"status": "SKIPPED", "subtask_status": "NOT_APPLICABLE"}])])
    token = client.token()
    assert _retry_and_finish(client, token, "t")["subTasks"][0]["status"] == "NOT_APPLICABLE"
    assert client.get("/v1/tasks/t", token).json()["subTasks"][0]["status"] == "NOT_APPLICABLE"


@pytest.mark.parametrize("status", ["FAILED", "INCONSISTENT", "USER_CANCELLED", "SKIPPED", "CANCELLED",
                                    "TIMED_OUT", "COMPLETED_WITH_WARNING", "SUCCESSFUL"])
def test_tasks_can_be_loaded_in_any_end_status(load, status):
    client = load(tasks=[_task("t", status=status)])
    token = client.token()
    task = client.task("t", token)
    assert task["status"] == status
    assert task["completionTimestamp"]
    assert client.get("/v1/tasks/t", token).status_code == 200


def test_a_task_can_be_loaded_with_a_status_word(load):
    task = _task("t", status_word="Failed", errors="none")
    del task["status"]
    client = load(tasks=[task])
    token = client.token()
    assert client.task("t", token)["status"] == "Failed"
    assert client.get("/v1/tasks/t", token).json()["status"] == "Failed"
    # Title case is not the spec's FAILED: the task is not retryable.
    resources = client.get(TASKS + "/t/resource-credentials", token).json()
    assert client.patch(TASKS + "/t", token, retry_body(resources, "ROTATE")).status_code == 400


@pytest.mark.parametrize("where", ["outcome", "initial"])
def test_completion_timestamp_can_be_left_out(load, where):
    if where == "outcome":
        client = load(tasks=[_task("t", outcomes=[{"status": "SUCCESSFUL", "completion_timestamp": False}])])
        task = _retry_and_finish(client, client.token(), "t")
        assert task["status"] == "SUCCESSFUL"
    else:
        client = load(tasks=[_task("t", status="FAILED", completion_timestamp=False)])
        task = client.task("t", client.token())
        assert task["status"] == "FAILED"
    assert "completionTimestamp" not in task
    assert "completionTimestamp" not in client.get("/v1/tasks/t", client.token()).json()


@pytest.mark.parametrize("no_errors", ["none", []], ids=["none", "empty-list"])
def test_a_failure_without_any_error(load, no_errors):
    client = load(tasks=[_task("t", outcomes=[{"status": "FAILED", "errors": no_errors}]),
                         _task("loaded", status="INCONSISTENT", errors=no_errors)])
    token = client.token()
    for task in (_retry_and_finish(client, token, "t"), client.task("loaded", token)):
        assert task["status"] in ("FAILED", "INCONSISTENT")
        assert task["errors"] == []
        assert [s["status"] for s in task["subTasks"]] == ["SUCCESSFUL", "SUCCESSFUL"]
        assert all(s["errors"] == [] and s["dependentSubTasks"] == [] for s in task["subTasks"])
        assert client.get("/v1/tasks/" + task["id"], token).json()["errors"] == []


def test_failing_subtasks_fail_without_errors(load):
    client = load(tasks=[_task("t", outcomes=[{"status": "FAILED", "errors": "none", "failing_subtasks": [1]}])])
    task = _retry_and_finish(client, client.token(), "t")
    assert [(s["status"], s["errors"]) for s in task["subTasks"]] == [("SUCCESSFUL", []), ("FAILED", [])]


def test_an_error_under_a_dependent_subtask(load):
    error = {"subtask": 1, "dependent": True, "errorCode": "SERVICE_RESTART_FAILED", "message": "vpxd did not restart",
             "remediationMessage": "Restart vpxd by hand"}
    client = load(tasks=[_task("t", outcomes=[{"status": "FAILED", "errors": [error]}])])
    token = client.token()
    task = _retry_and_finish(client, token, "t")
    assert task["status"] == "FAILED"
    first, second = task["subTasks"]
    assert first["status"] == "SUCCESSFUL" and first["dependentSubTasks"] == []
    # The parent fails with no error of its own: the error is one level down.
    assert second["status"] == "FAILED" and second["errors"] == []
    (dependent,) = second["dependentSubTasks"]
    assert dependent["status"] == "FAILED"
    assert dependent["errors"][0]["errorCode"] == "SERVICE_RESTART_FAILED"
    assert dependent["errors"][0]["remediationMessage"] == "Restart vpxd by hand"
    assert dependent["id"] != second["id"] and dependent["username"] == "root"
    # Dependent sub-tasks carry the passwords too.
    assert dependent["newPassword"] == second["newPassword"] and dependent["oldPassword"] == second["oldPassword"]
    generic = client.get("/v1/tasks/t", token).json()
    assert [e["errorCode"] for e in generic["errors"]] == ["SERVICE_RESTART_FAILED"]
    assert generic["subTasks"][1]["subTasks"][0]["status"] == "FAILED"


def test_label_and_remediation_url_are_sent_when_given(load):
    client = load(tasks=[_task("t", errors=[{"subtask": 0, "label": "SSH failure",
                                            "remediationUrl": "https://example.com/kb/42"}, {"subtask": 1}])])
    first, second = client.task("t", client.token())["subTasks"]
    assert first["errors"][0]["label"] == "SSH failure"
    assert first["errors"][0]["remediationUrl"] == "https://example.com/kb/42"
    assert "label" not in second["errors"][0] and "remediationUrl" not in second["errors"][0]


def test_a_loaded_task_can_start_with_a_dependent_failure(load):
    client = load(tasks=[_task("t", errors=[{"subtask": 0, "dependent": True}])])
    first = client.task("t", client.token())["subTasks"][0]
    assert first["status"] == "FAILED" and first["errors"] == []
    assert first["dependentSubTasks"][0]["errors"][0]["errorCode"] == "PASSWORD_ROTATE_FAILED"


@pytest.mark.parametrize("task,fragment", [
    (_task("t", outcomes=[{"status": "FAILED", "status_word": "X"}]), "not both"),
    (_task("t", outcomes=[{"status_word": "IN_PROGRESS"}]), "run_seconds: null"),
    (_task("t", outcomes=[{"status_word": "rolled-back!"}]), "status word"),
    (_task("t", outcomes=["ROLLED_BACK"]), "outcomes[0].status"),
    (_task("t", outcomes=[{"status": "FAILED", "errors": "nothing"}]), "errors"),
    (_task("t", outcomes=[{"status": "FAILED", "errors": [{"dependent": True}]}]), "dependent: needs subtask"),
    (_task("t", outcomes=[{"status": "FAILED", "failing_subtasks": [2]}]), "failing_subtasks[0]"),
    (_task("t", outcomes=[{"status": "FAILED", "completion_timestamp": "no"}]), "completion_timestamp"),
    (_task("t", outcomes=[{"status": "SUCCESSFUL", "errors": [{"subtask": 0}]}]), "carries no errors"),
])
def test_bad_end_options_are_refused(client, task, fragment):
    with pytest.raises(ScenarioError) as caught:
        load_scenario({"tasks": [task]})
    assert fragment in str(caught.value)
    with pytest.raises(SimControlError):
        client.ctl.add_tasks([task])
