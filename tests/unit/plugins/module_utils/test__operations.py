"""_operations and the pieces of the bulk retry and the report that judge INCONSISTENT tasks: a resource is judged
by its newest task, an INCONSISTENT task needs a REMEDIATE operation, and the report says which task resolved it."""

from __future__ import annotations

import pytest

from helpers import sub_task, task

from ansible_collections.vcf.sddc_manager.plugins.filter.retry_report import role_words, retry_summary
from ansible_collections.vcf.sddc_manager.plugins.module_utils import _operations, _tasks, _verdict, _waiter
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import AmbiguousWriteError, SddcManagerError


def on(task_id, status, created, *hosts, operation="ROTATE"):
    return task(task_id, status, operation=operation, created=created,
                sub_tasks=[sub_task(host, status) for host in hosts or ("esxi-1",)])


LOST = on("lost", "INCONSISTENT", "2026-11-20T10:00:00.000Z", "esxi-1", "esxi-2")


@pytest.mark.parametrize("others, resolved", [
    ([], None),
    ([on("cancel", "USER_CANCELLED", "2026-11-21T10:00:00.000Z", "esxi-1", "esxi-2")], None),
    ([on("one", "SUCCESSFUL", "2026-11-21T10:00:00.000Z", "esxi-1")], None),  # esxi-2 is still judged by it
    ([on("older", "SUCCESSFUL", "2026-11-19T10:00:00.000Z", "esxi-1", "esxi-2")], None),
    ([on("fix-1", "SUCCESSFUL", "2026-11-21T10:00:00.000Z", "esxi-1"),
      on("fix-2", "FAILED", "2026-11-22T10:00:00.000Z", "esxi-2", operation="REMEDIATE")], "fix-2"),
])
def test_an_inconsistent_task_is_resolved_only_by_newer_tasks_on_all_its_resources(others, resolved):
    found = _tasks.resolved_by(LOST, [LOST] + others)
    assert (found or {}).get("id") == resolved
    assert _tasks.to_retry(LOST, [LOST] + others) is (resolved is None)


@pytest.mark.parametrize("tasks, operation, expected", [
    ([on("f", "FAILED", "2026-11-01T10:00:00.000Z")], "REMEDIATE", ("f", "locked")),
    ([on("r", "PENDING", "2026-11-01T10:00:00.000Z")], "ROTATE", ("r", "locked")),
    ([on("i", "INCONSISTENT", "2026-11-01T10:00:00.000Z")], "ROTATE", ("i", "inconsistent")),
    ([on("i", "INCONSISTENT", "2026-11-01T10:00:00.000Z")], "REMEDIATE", None),
    ([on("c", "USER_CANCELLED", "2026-11-02T10:00:00.000Z"), on("i", "INCONSISTENT", "2026-11-01T10:00:00.000Z")],
     "UPDATE", ("i", "inconsistent")),
    ([on("i", "INCONSISTENT", "2026-11-01T10:00:00.000Z"), on("s", "SUCCESSFUL", "2026-11-02T10:00:00.000Z")],
     "UPDATE", None),
    ([on("x", "FAILED", "2026-11-01T10:00:00.000Z", "esxi-9")], "ROTATE", None),
    ([on("t", "TIMED_OUT", "2026-11-01T10:00:00.000Z")], "ROTATE", None),
])
def test_a_resource_is_judged_by_its_tasks(tasks, operation, expected):
    found = _operations.blocker(tasks, "ESXI-1", "ESXI", operation)
    assert (found[0]["id"], found[1]) == expected if expected else found is None


def test_a_sub_task_without_its_entity_type_still_locks_its_resource():
    """The spec makes entityType optional: a lock is judged by the resource's name then, never missed."""
    running = on("r", "IN_PROGRESS", "2026-11-01T10:00:00.000Z")
    del running["subTasks"][0]["entityType"]
    assert _operations.blocker([running], "esxi-1", "ESXI", "ROTATE")[0]["id"] == "r"
    assert _operations.blocker([running], "esxi-2", "ESXI", "ROTATE") is None


def test_held_passwords_are_compared_in_memory():
    accounts = [{"username": "root", "credentialType": "SSH", "password": "held",
                 "resource": {"resourceName": "esxi-1", "resourceType": "ESXI", "resourceId": "r1"}}]
    given = [{"resource_name": "ESXI-1", "resource_type": "esxi", "credentials": [
        {"username": "root", "credential_type": "SSH", "password": "held"}]}]
    assert _operations.already_held(accounts, given) is True
    given[0]["credentials"][0]["password"] = "other"
    assert _operations.already_held(accounts, given) is False
    assert _operations.already_held([], given) is False


class _Client:
    def __init__(self, listed):
        self.listed = listed

    def list_credentials_tasks(self):
        return self.listed


def test_an_inconsistent_task_without_a_remediate_spec_needs_input_in_the_words_of_each_caller():
    with pytest.raises(SddcManagerError) as info:
        _operations.for_inconsistent(_Client([LOST]), LOST, {})
    assert info.value.kind == "needs_input"
    assert "give tasks an entry for task lost with operation_type REMEDIATE" in info.value.message
    assert "set retry_credentials_tasks_specs['lost'] with operation_type REMEDIATE" in role_words(info.value.message)


def test_a_remediation_names_only_the_tasks_resources():
    spec = {"operation_type": "REMEDIATE", "elements": [{"resource_name": "esxi-7", "resource_type": "ESXI",
                                                         "credentials": [{"username": "root", "password": "p"}]}]}
    with pytest.raises(SddcManagerError, match="its remediation names esxi-7: give the resources of the task"):
        _operations.for_inconsistent(_Client([LOST]), LOST, spec)


def _remediated(status):
    retry = {"results": [{"task_id": "lost", "type": "ROTATE", "action": "remediated", "status_before": "INCONSISTENT",
                          "status": "IN_PROGRESS", "resources": [{"resource_name": "esxi-1"}],
                          "remediation_task_id": "new", "msg": "started"}]}
    wait = {"tasks": [{"id": "new", "normalized_status": status, "failed_subtasks": []}],
            "failed_subtasks": [] if status == "SUCCESSFUL" else [
                {"task_id": "new", "resource_name": "esxi-1", "message": "Wrong password.",
                 "error_code": "PASSWORD_REMEDIATE_PASSWORD_MISMATCH"}]}
    return retry_summary(retry, wait, words="role")


def test_the_report_says_which_task_remediated_an_inconsistent_one():
    summary = _remediated("SUCCESSFUL")
    assert summary["remediated"] == [{"task_id": "lost", "remediated_by": "new", "verdict": "succeeded",
                                      "msg": "Task lost was INCONSISTENT; remediated by task new."}]
    assert summary["succeeded"] == ["lost"] and summary["problems"] == []


def test_the_report_gives_a_failed_remediation_with_sddc_managers_reason():
    summary = _remediated("FAILED")
    assert summary["remediated"][0]["msg"] == "Task lost is INCONSISTENT; its remediation, task new, ended FAILED."
    [line] = summary["problems"]
    assert line.startswith("Task lost (ROTATE esxi-1) is INCONSISTENT and its remediation, task new, ended FAILED")
    assert "Wrong password. [PASSWORD_REMEDIATE_PASSWORD_MISMATCH]" in line


# -- REMEDIATE, one account per request ---------------------------------------------------------------------------

PASSWORDS = {"esxi-1": "PLANTED-real-esxi-1-5e0c", "esxi-2": "PLANTED-real-esxi-2-5e0c"}


def _remediate_options(*hosts):
    return {"operation_type": "REMEDIATE", "elements": [
        {"resource_name": host, "resource_type": "ESXI",
         "credentials": [{"credential_type": "SSH", "username": "root", "password": PASSWORDS[host]}]}
        for host in hosts]}


class _Sddc:
    """SDDC Manager as far as starting operations goes: each accepted request is a task that ends as ``ends`` says
    (in order) once the waiter reads it; ``events`` is what happened, in order."""

    def __init__(self, ends, listed=()):
        self.ends = list(ends)
        self.tasks = list(listed)
        self.events = []
        self.specs = []

    def list_credentials_tasks(self):
        return list(reversed(self.tasks))

    def list_credentials_tasks_page(self, limit=None):
        """The client's page read: the newest ``limit`` of list_credentials_tasks (newest first) and their total."""
        listed = self.list_credentials_tasks()
        return (listed if limit is None else listed[:limit]), len(listed)

    def start_credentials_operation(self, spec):
        self.specs.append(spec)
        task_id = "op-%d" % len(self.specs)
        hosts = [e["resourceName"] for e in spec["elements"]]
        self.tasks.append(on(task_id, "IN_PROGRESS", "2026-11-27T10:00:0%d.000Z" % len(self.specs), *hosts,
                             operation=spec["operationType"]))
        self.events.append("start %s %s" % (task_id, ",".join(hosts)))
        return {"id": task_id, "status": "In Progress"}

    def get_credentials_task(self, task_id):
        return next(t for t in self.tasks if t["id"] == task_id)

    def wait_for(self, task_id):
        task_ = self.get_credentials_task(task_id)
        task_["status"] = self.ends.pop(0)
        self.events.append("%s %s" % (task_id, task_["status"]))
        waiter = _waiter.Waiter(lambda ids: {i: self.get_credentials_task(i) for i in ids}, 5, 0.01)
        return waiter.wait([task_id])


def _plan(sddc, options):
    return _operations.plan(sddc, options, on_secret=lambda _secret: None)


def test_a_remediate_of_several_accounts_sends_one_request_per_account_each_after_the_one_before_succeeded():
    sddc = _Sddc(["SUCCESSFUL"])
    run = _operations.start_in_turn(sddc, _plan(sddc, _remediate_options("esxi-1", "esxi-2")), sddc.wait_for)
    assert sddc.events == ["start op-1 esxi-1", "op-1 SUCCESSFUL", "start op-2 esxi-2"]
    assert [len(spec["elements"]) for spec in sddc.specs] == [1, 1]
    assert [[c["password"] for c in spec["elements"][0]["credentials"]] for spec in sddc.specs] == [
        [PASSWORDS["esxi-1"]], [PASSWORDS["esxi-2"]]]
    assert run.stopped is None and run.not_done == []
    assert [(s["task_id"], _verdict.verdict(s["task"]).status) for s in run.steps] == [
        ("op-1", "SUCCESSFUL"), ("op-2", "IN_PROGRESS")]
    assert "root (SSH) on esxi-1: task op-1 (SUCCESSFUL); root (SSH) on esxi-2: task op-2 (IN_PROGRESS)" in run.msg
    assert not any(secret in run.msg for secret in PASSWORDS.values())


def test_two_accounts_of_one_resource_are_two_requests_too():
    options = _remediate_options("esxi-1")
    options["elements"][0]["credentials"].append({"credential_type": "SSH", "username": "audit", "password": "p2"})
    sddc = _Sddc(["SUCCESSFUL"])
    run = _operations.start_in_turn(sddc, _plan(sddc, options), sddc.wait_for)
    assert [[c["username"] for c in spec["elements"][0]["credentials"]] for spec in sddc.specs] == [
        ["root"], ["audit"]]
    assert run.stopped is None


@pytest.mark.parametrize("end", ["FAILED", "INCONSISTENT", "USER_CANCELLED"])
def test_a_remediation_that_did_not_succeed_stops_the_rest_and_names_them(end):
    sddc = _Sddc([end])
    run = _operations.start_in_turn(sddc, _plan(sddc, _remediate_options("esxi-1", "esxi-2")), sddc.wait_for)
    assert sddc.events == ["start op-1 esxi-1", "op-1 %s" % end]
    assert len(sddc.specs) == 1
    assert [a["resource_name"] for a in run.not_done] == ["esxi-2"]
    assert "Task op-1 " in run.stopped
    assert run.stopped.endswith("nothing was sent for root (SSH) on esxi-2, so it was not remediated.")


def test_other_operations_stay_one_request():
    sddc = _Sddc([])
    options = {"operation_type": "ROTATE", "elements": [
        {"resource_name": host, "resource_type": "ESXI",
         "credentials": [{"credential_type": "SSH", "username": "root"}]} for host in ("esxi-1", "esxi-2")]}
    run = _operations.start_in_turn(sddc, _plan(sddc, options), sddc.wait_for)
    assert sddc.events == ["start op-1 esxi-1,esxi-2"] and run.stopped is None


def test_the_roles_remediation_of_several_accounts_goes_in_turn_too():
    sddc = _Sddc(["SUCCESSFUL"], listed=[LOST])
    result = _operations.for_inconsistent(sddc, LOST, _remediate_options("esxi-1", "esxi-2"), wait_for=sddc.wait_for)
    assert sddc.events == ["start op-1 esxi-1", "op-1 SUCCESSFUL", "start op-2 esxi-2"]
    assert result["remediated_by"] == "op-2" and result["remediation_task_ids"] == ["op-1", "op-2"]


def test_the_roles_remediation_that_stopped_is_an_error_never_remediated_by():
    sddc = _Sddc(["FAILED"], listed=[LOST])
    with pytest.raises(SddcManagerError) as info:
        _operations.for_inconsistent(sddc, LOST, _remediate_options("esxi-1", "esxi-2"), wait_for=sddc.wait_for)
    assert len(sddc.specs) == 1
    assert info.value.message.startswith("Task lost is INCONSISTENT; REMEDIATE operations, one per account")
    assert "so it was not remediated" in info.value.message and "esxi-2" in info.value.message


# -- a start whose answer was lost ---------------------------------------------------------------------------------

class _LostAnswer(_Sddc):
    """SDDC Manager that accepts the start but whose answer is lost; afterwards its list reads go as ``reads``
    says: "down" (an outage: unreachable), "empty" (answers without a new task) or "shows" (lists it)."""

    def __init__(self, reads):
        super().__init__([])
        self.reads = list(reads)

    def start_credentials_operation(self, spec):
        super().start_credentials_operation(spec)
        raise AmbiguousWriteError("The connection closed before an answer came.")

    def list_credentials_tasks(self):
        if not self.specs:
            return []  # the read before the start
        read = self.reads.pop(0) if self.reads else "down"
        if read == "down":
            exc = SddcManagerError("SDDC Manager unreachable: connection refused.", kind="connection")
            exc.unreachable = True
            raise exc
        return super().list_credentials_tasks() if read == "shows" else []


ROTATE_1 = {"operation_type": "ROTATE", "elements": [{"resource_name": "esxi-1", "resource_type": "ESXI",
                                                     "credentials": [{"credential_type": "SSH", "username": "root"}]}]}


@pytest.mark.parametrize("reads", [["down"], ["empty", "down"]])
def test_a_lost_answer_then_an_outage_is_not_known_never_not_started(reads):
    # The settling reads run on the FakeTime of conftest's confirm_time: an outage for the whole settle time.
    # Found by the chaos run: SDDC Manager accepted the start, its answer was lost and it restarted; the reads that
    # should settle it met the outage, and the module said "it was not started; nothing changed. Run it again".
    sddc = _LostAnswer(reads)
    with pytest.raises(SddcManagerError) as info:
        _operations.start(sddc, _plan(sddc, ROTATE_1))
    assert info.value.kind == "ambiguous"
    assert "whether it started is not known" in info.value.message
    assert "not started" not in info.value.message and "nothing changed" not in info.value.message
    assert len(sddc.specs) == 1


def test_a_lost_answer_the_list_settles_is_started_or_not_started():
    sddc = _LostAnswer(["down", "shows"])
    assert _operations.start(sddc, _plan(sddc, ROTATE_1))["task_id"] == "op-1"
    sddc = _LostAnswer(["empty"] * 50)
    with pytest.raises(SddcManagerError, match="so it was not started; nothing changed"):
        _operations.start(sddc, _plan(sddc, ROTATE_1))


class _Listing:
    """A client whose task list is ``tasks`` (newest first); it records the ``limit`` of each list read."""

    def __init__(self, tasks):
        self.tasks = tasks
        self.limits = []

    def list_credentials_tasks_page(self, limit=None):
        self.limits.append(limit)
        return (self.tasks if limit is None else self.tasks[:limit]), len(self.tasks)


def _minute(index):
    return "2026-11-20T%02d:%02d:00.000Z" % divmod(index, 60)


@pytest.mark.parametrize("newer, limits", [(3, [20]), (25, [20, None])])
def test_the_task_a_start_created_is_looked_for_among_the_newest_then_in_the_whole_list(newer, limits):
    known = [on("old-%d" % i, "SUCCESSFUL", _minute(i), "esxi-%d" % i) for i in range(5)]
    ours = on("ours", "IN_PROGRESS", _minute(10), "esxi-1")
    others = [on("burst-%d" % i, "IN_PROGRESS", _minute(20 + i), "esxi-9%d" % i) for i in range(newer)]
    client = _Listing(list(reversed(known + [ours] + others)))
    plan = _operations.Plan("ROTATE", {}, [], True, set(t["id"] for t in known), "")
    first = {"resource_name": "esxi-1", "resource_type": "ESXI"}
    assert _operations._started_task(client, plan, first)["id"] == "ours"  # pylint: disable=protected-access
    assert client.limits == limits


class _Listed:
    """A client whose task list is ``tasks`` (for_inconsistent reads it whole)."""

    def __init__(self, tasks):
        self.tasks = tasks

    def list_credentials_tasks(self):
        return list(self.tasks)


@pytest.mark.parametrize("status, judged", [("SUCCESSFUL", True), ("IN_PROGRESS", True), ("FAILED", False),
                                            ("USER_CANCELLED", None)])
def test_an_inconsistent_task_a_newer_task_decides_is_skipped_only_while_that_one_succeeded_or_runs(status, judged):
    newer = on("newer", status, "2026-11-21T10:00:00.000Z", "esxi-1", "esxi-2")
    client = _Listed([LOST, newer])
    if judged:
        result = _operations.for_inconsistent(client, LOST, {})
        assert (result["changed"], result["judged_by"], result["judged_by_status"]) == (False, "newer", status)
        return
    with pytest.raises(SddcManagerError) as info:
        _operations.for_inconsistent(client, LOST, {})
    if judged is False:
        # The newer task did not succeed: it is what needs attention, and the INCONSISTENT task is an error naming it.
        assert info.value.kind == "not_retryable" and "so deal with task newer" in info.value.message
    else:
        # A cancelled task decides nothing: the INCONSISTENT task still needs its REMEDIATE.
        assert info.value.kind == "needs_input"
