# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""Starting a password operation (``PATCH /v1/credentials``): what blocks it, whether it would change anything,
sending it once, and learning which task it started.

A resource with a FAILED or running credentials task is locked for new operations until that task is retried or
cancelled; a resource whose newest task (cancelled ones aside) is INCONSISTENT takes only REMEDIATE (FIELD-NOTES,
"Starting an operation, locks and remediation").  These are checked before anything is sent, so the refusal names
the task to deal with.

``GET /v1/credentials`` answers the passwords SDDC Manager holds: they are compared here, in memory, and never
leave this module (each one met is handed to ``on_secret`` so that Ansible masks it anywhere).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hmac

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _spec, _tasks, _verdict, _waiter
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import AmbiguousWriteError, SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._time import timestamp

# The newest tasks read to find the one a start created when its answer did not say (see _started_task).
STARTED_WINDOW = 20


def accounts_of(elements):
    """The accounts ``elements`` name, one dict each, without passwords: what results and messages may show."""
    out = []
    for element in elements or []:
        for credential in element.get("credentials") or []:
            out.append({"resource_name": element.get("resource_name"), "resource_id": element.get("resource_id"),
                        "resource_type": (element.get("resource_type") or "").upper() or None,
                        "username": credential.get("username"),
                        "credential_type": credential.get("credential_type")})
    return out


def describe_accounts(accounts):
    """'root (SSH) on esxi-1, admin (API) on nsx-1'."""
    words = []
    for account in accounts:
        kind = " (%s)" % account["credential_type"] if account.get("credential_type") else ""
        words.append("%s%s on %s" % (account["username"], kind, account.get("resource_name") or account.get(
            "resource_id")))
    return ", ".join(words)


def _same_name(left, right):
    return bool(left) and bool(right) and left.lower() == right.lower()


def _newest_first(tasks):
    # The list is newest first on the servers seen so far; sorting by creation time does not depend on it.
    indexed = list(enumerate(tasks))
    indexed.sort(key=lambda item: (-(timestamp(item[1].get("creationTimestamp")) or 0.0), item[0]))
    return [task for _index, task in indexed]


def _touches(task, name, resource_type):
    # A sub-task may leave its entityType out (the spec makes it optional): such a resource is judged by its name
    # alone, so that a lock is never missed (resource names are FQDNs, one per resource).
    return any(_same_name(r.get("resource_name"), name)
               and (not resource_type or not r.get("resource_type")
                    or r["resource_type"].upper() == resource_type)
               for r in _tasks.resources_of(task))


def blocker(tasks, name, resource_type, operation):
    """``(task, why)`` for the task that keeps ``operation`` off the resource, ``why`` being ``locked`` or
    ``inconsistent``; ``None`` when nothing blocks it.  The resource is judged by its tasks, newest first."""
    on_it = [task for task in _newest_first(tasks) if _touches(task, name, resource_type)]
    for task in on_it:
        if _verdict.verdict(task).locks:
            return task, "locked"
    for task in on_it:
        found = _verdict.verdict(task)
        if found.cancelled:
            continue  # a cancelled task changed nothing: the one before it still decides
        if found.inconsistent and operation != "REMEDIATE":
            return task, "inconsistent"
        return None
    return None


def refusal(task, why, resource, operation):
    """The sentence that refuses to start ``operation`` on ``resource`` because of ``task``."""
    found = _verdict.verdict(task)
    task_id = task.get("id")
    if why == "inconsistent":
        return ("%s is INCONSISTENT since credentials task %s: SDDC Manager no longer knows its password and starts "
                "only a REMEDIATE operation on it, not %s. Check the accounts on it, then run "
                "vcf.sddc_manager.credentials with operation_type REMEDIATE and the password each account really "
                "has; nothing was sent." % (resource, task_id, _spec.article(operation)))
    if found.running:
        todo = ("wait for it to end (vcf.sddc_manager.credentials_task_wait with task_ids [%s]), then run this again"
                % task_id)
    else:
        todo = ("retry it (vcf.sddc_manager.credentials_task_retry with task_id %s) or cancel it "
                "(vcf.sddc_manager.credentials_task_cancel), then run this again" % task_id)
    return ("%s is locked by credentials task %s, which is %s: SDDC Manager starts no password operation on a "
            "resource with a FAILED or running credentials task. %s; nothing was sent."
            % (resource, task_id, found.status, todo[0].upper() + todo[1:]))


def _resource_words(element):
    name = element.get("resource_name") or element.get("resource_id")
    return "Resource %s (%s)" % (name, (element.get("resource_type") or "").upper())


def read_accounts(client, elements, on_secret):
    """``GET /v1/credentials`` for the resources of ``elements`` (one read per resource name, or per type for a
    resource given by id).  Every password met goes to ``on_secret``."""
    accounts, seen = [], set()
    for element in elements:
        resource_type = (element.get("resource_type") or "").upper() or None
        key = (element.get("resource_name") or "").lower() or None, resource_type
        if key in seen:
            continue
        seen.add(key)
        for account in client.list_credentials(resource_name=element.get("resource_name"), resource_type=resource_type):
            if isinstance(account, dict):
                if account.get("password"):
                    on_secret(str(account["password"]))
                accounts.append(account)
    return accounts


def _account_matches(account, element, credential):
    resource = account.get("resource") or {}
    if element.get("resource_id") and resource.get("resourceId") != element["resource_id"]:
        return False
    if element.get("resource_name") and not _same_name(resource.get("resourceName"), element["resource_name"]):
        return False
    if (resource.get("resourceType") or "").upper() != (element.get("resource_type") or "").upper():
        return False
    if account.get("username") != credential.get("username"):
        return False
    wanted = credential.get("credential_type")
    return not wanted or account.get("credentialType") == wanted


def already_held(accounts, elements):
    """Whether SDDC Manager already holds, for every account of ``elements``, the password given for it.

    An account it does not list, or one whose password it does not show (a user that is not ADMIN), is not held:
    the operation is sent and SDDC Manager decides."""
    for element in elements:
        for credential in element.get("credentials") or []:
            matching = [a for a in accounts if _account_matches(a, element, credential)]
            given = (credential.get("password") or "").encode("utf-8")
            if not matching or not all(
                    a.get("password") is not None and hmac.compare_digest(str(a["password"]).encode("utf-8"), given)
                    for a in matching):
                return False
    return True


def resolve_names(accounts, elements):
    """A copy of ``elements`` where a resource given by id only also has its name (from the accounts read)."""
    out = []
    for element in elements:
        element = dict(element)
        if not element.get("resource_name"):
            for account in accounts:
                resource = account.get("resource") or {}
                if resource.get("resourceId") == element.get("resource_id") and resource.get("resourceName"):
                    element["resource_name"] = resource["resourceName"]
                    break
        out.append(element)
    return out


def check_blockers(tasks, elements, operation):
    """Raise, naming the task, when a resource of ``elements`` cannot take ``operation`` now."""
    for element in elements:
        resource_type = (element.get("resource_type") or "").upper() or None
        found = blocker(tasks, element.get("resource_name"), resource_type, operation)
        if found is not None:
            task, why = found
            raise SddcManagerError(refusal(task, why, _resource_words(element), operation), kind=why)


def one_per_account(operation, elements):
    """The element lists to send, one request each: REMEDIATE takes one account per request ("You can remediate
    the password for only one account at a time" [doc 4.4/5.0]; nothing says 9.x lifted it), so a REMEDIATE of
    several accounts becomes one request per account, in the order given; any other operation is one request."""
    if operation != "REMEDIATE":
        return [list(elements)]
    return [[dict(element, credentials=[credential])]
            for element in elements for credential in element.get("credentials") or []]


class Plan:
    """What a run would do: ``changed`` (an operation to start), the ``spec`` to send, the ``accounts`` it names,
    the task list read before it (``known_ids``), and the message.  ``steps``: the element lists of the requests
    to send in turn (:func:`one_per_account`); ``spec`` is the first one's."""

    def __init__(self, operation, spec, accounts, changed, known_ids, msg, steps=None, policy=None):
        self.operation = operation
        self.spec = spec
        self.accounts = accounts
        self.changed = changed
        self.known_ids = known_ids
        self.msg = msg
        self.steps = steps or []
        self.policy = policy

    def step(self, index, known_ids):
        """The plan of request ``index`` alone, knowing the tasks ``known_ids`` listed just before it."""
        elements = self.steps[index]
        names = accounts_of(elements)
        started = _spec.article(self.operation)
        return Plan(self.operation, _spec.build(self.operation, elements, self.policy), names, True, known_ids,
                    "%s operation started on %s." % (started[0].upper() + started[1:], describe_accounts(names)),
                    [elements], self.policy)


def plan(client, options, on_secret):
    """Read what SDDC Manager holds and refuse what it would refuse; say what a start would do."""
    operation = options["operation_type"]
    elements = options["elements"]
    accounts = []
    if operation == "UPDATE" or any(not e.get("resource_name") for e in elements):
        accounts = read_accounts(client, elements, on_secret)
        elements = resolve_names(accounts, elements)
    names = accounts_of(elements)
    tasks = client.list_credentials_tasks()
    known_ids = set(t.get("id") for t in tasks)
    if operation == "UPDATE" and already_held(accounts, elements):
        return Plan(operation, None, names, False, known_ids,
                    "SDDC Manager already holds the given password of %s; no UPDATE operation was started."
                    % describe_accounts(names))
    check_blockers(tasks, elements, operation)
    steps = one_per_account(operation, elements)
    policy = options.get("auto_rotate_policy")
    started = _spec.article(operation)
    msg = "%s operation started on %s." % (started[0].upper() + started[1:], describe_accounts(names))
    if len(steps) > 1:
        msg = ("%d REMEDIATE operations started, one per account, each after the one before ended SUCCESSFUL: %s."
               % (len(steps), describe_accounts(names)))
    return Plan(operation, _spec.build(operation, steps[0], policy), names, True, known_ids, msg, steps, policy)


def _server_error(exc):
    return exc.status_code is not None and exc.status_code >= 500


def _started_task(client, plan_, first):
    """The credentials task a start created: not in the list read before it, of its type, on its first resource.

    It is among the newest: a window of them is read first (:class:`_tasks.TaskReader` checks the order), and the
    whole list only when the window holds no task known before the start (a burst of new tasks, an auto-rotation
    say, may have pushed it further down)."""
    reader = _tasks.TaskReader(client)
    listed = reader.newest(limit=STARTED_WINDOW)
    if len(listed) >= STARTED_WINDOW and not any(task.get("id") in plan_.known_ids for task in listed):
        listed = reader.newest()
    for task in listed:
        if task.get("id") in plan_.known_ids or task.get("type") != plan_.operation:
            continue
        if _touches(task, first.get("resource_name"), first.get("resource_type")):
            return task
    return None


def _find_started(client, plan_):
    """Read the task list until it shows the task a start whose answer was lost (or had no id) created.

    ``(task, settled)``: the task, or None; ``settled`` whether the last read of the list answered, so that None
    means the list really shows no such task.  Reads that meet an outage are "not known yet" (``_waiter.poll``):
    when the time to settle runs out during one, nothing is known, and the caller must not say "not started"."""
    first = plan_.accounts[0]
    last_read = {"answered": False}

    def read():
        last_read["answered"] = False
        found = _started_task(client, plan_, first)
        last_read["answered"] = True
        return found

    schedule = _waiter.Schedule(_tasks.CONFIRM_SECONDS, _tasks.CONFIRM_FIRST_PAUSE, growth=_waiter.CONFIRM_GROWTH,
                                clock=_tasks._clock)
    polled = _waiter.poll(read, lambda task: task is not None, schedule, _tasks._sleep)
    return polled.value, last_read["answered"]


def start(client, plan_):
    """Send the operation once.  Returns ``{"task_id", "task", "msg"}``; ``task_id`` is None when SDDC Manager
    accepted it but which task it started cannot be learnt (never a guess)."""
    result = {"task_id": None, "task": {"id": None, "status": None}, "msg": plan_.msg}
    try:
        answer = client.start_credentials_operation(plan_.spec)
    except SddcManagerError as exc:
        if not (isinstance(exc, AmbiguousWriteError) or _server_error(exc)):
            raise
        try:
            found, settled = _find_started(client, plan_)
        except SddcManagerError as read_exc:
            raise _not_known(plan_, exc, read_exc.message)
        if found is None:
            # "Not started" only from a list read that answered; an outage since the request leaves it open.
            raise _not_started(plan_, exc) if settled else _not_known(
                plan_, exc, "SDDC Manager has not answered a read of the task list since")
        how = "was lost" if isinstance(exc, AmbiguousWriteError) else "was HTTP %d" % exc.status_code
        result.update(task_id=found.get("id"), task=found)
        result["msg"] = "%s (the answer to the request %s; the task list shows the task it started)." % (
            plan_.msg[:-1], how)
        return result
    new_id = answer.get("id") if isinstance(answer, dict) else None
    if not new_id:
        try:
            found, _settled = _find_started(client, plan_)
        except SddcManagerError as read_exc:
            # Accepted whatever the reads say: only which task it started is not known.
            found, _settled = None, read_exc
        if found is None:
            result["msg"] += (" SDDC Manager accepted it, but its answer named no task and the task list shows none "
                              "yet: find it with vcf.sddc_manager.credentials_task_info.")
            return result
        new_id = found.get("id")
    result["task_id"] = new_id
    try:
        result["task"] = _tasks.get_task(client, new_id)
    except SddcManagerError as exc:
        # Accepted whatever happens here: the answer (the generic Task view) is what is known.
        unknown = {"id": new_id, "status": None}
        result["task"] = answer if isinstance(answer, dict) and answer.get("status") else unknown
        result["msg"] += " Reading the new task failed: %s" % exc.message
    return result


def _not_known(plan_, exc, why):
    """The error for a start whose answer was lost (or a 5xx) when no read of the task list could tell since."""
    lead = ("got no answer" if isinstance(exc, AmbiguousWriteError)
            else "was answered HTTP %s" % exc.status_code)
    return SddcManagerError(
        "The request to start the %s operation on %s %s, and %s (%s), so whether it started is not known. It was not "
        "sent again: list the tasks with vcf.sddc_manager.credentials_task_info once SDDC Manager answers, and run "
        "this again only if none was started for these accounts." % (
            plan_.operation, describe_accounts(plan_.accounts), lead, why.rstrip("."),
            exc.message.rstrip(".")),
        kind="ambiguous", url=exc.url)


class Run:
    """The requests :func:`start_in_turn` sent, one entry each in ``steps`` (``accounts``, ``task_id``, ``task``
    as last read, ``msg``, ``ended``: whether that read shows its end), the accounts nothing was sent for
    (``not_done``), and why the run stopped before them (``stopped``, None when every request was sent)."""

    def __init__(self, plan_):
        self.plan = plan_
        self.steps = []
        self.not_done = []
        self.stopped = None

    @property
    def last(self):
        return self.steps[-1]

    def stop(self, index, why):
        self.not_done = accounts_of([e for elements in self.plan.steps[index:] for e in elements])
        self.stopped = "%s; nothing was sent for %s, so %s not %s." % (
            why.rstrip("."), describe_accounts(self.not_done), "it was" if len(self.not_done) == 1 else "they were",
            "remediated" if self.plan.operation == "REMEDIATE" else "changed")

    @property
    def msg(self):
        if len(self.plan.steps) == 1:
            return self.steps[0]["msg"]
        lines = []
        for step in self.steps:
            found = _verdict.verdict(step["task"])
            state = found.status or "not known"
            lines.append("%s: task %s (%s)" % (describe_accounts(step["accounts"]), step["task_id"] or "not known",
                                               state))
        text = ("%s operations, one per account, each started after the one before ended SUCCESSFUL: %s."
                % (self.plan.operation, "; ".join(lines)))
        notes = [step["note"] for step in self.steps if step["note"]]
        if notes:
            text += " " + " ".join(notes)
        if self.stopped:
            text += " Stopped: " + self.stopped
        return text


def start_in_turn(client, plan_, wait_for):
    """Send ``plan_``'s requests (:attr:`Plan.steps`) in turn, each once; one request unless a REMEDIATE names
    several accounts.

    Before the next request is sent, the task of the one before must have ended SUCCESSFUL:
    ``wait_for(task_id)`` follows it with the one waiter (a ``_waiter.WaitOutcome``).  Any other end, a wait that
    runs out or fails, a task whose id is not known, a refusal or an error of the next request stops the run:
    ``stopped`` says why and which accounts nothing was sent for, and what was done before stands.  An error of the
    first request is raised (nothing was done), naming the accounts nothing was sent for."""
    run = Run(plan_)
    for index in range(len(plan_.steps)):
        if index == 0:
            step_plan = plan_ if len(plan_.steps) == 1 else plan_.step(0, plan_.known_ids)
        else:
            why = _wait_before_next(run.last, wait_for)
            if why is not None:
                run.stop(index, why)
                return run
            try:
                # Read again: the tasks the last request started are known now, and someone may have locked a
                # resource meanwhile (refused here, naming the task, before anything is sent).
                tasks = client.list_credentials_tasks()
                check_blockers(tasks, plan_.steps[index], plan_.operation)
                step_plan = plan_.step(index, set(t.get("id") for t in tasks))
            except SddcManagerError as exc:
                run.stop(index, exc.message)
                return run
        try:
            started = start(client, step_plan)
        except SddcManagerError as exc:
            if index == 0:
                if len(plan_.steps) > 1:
                    exc.message = "%s Nothing was sent for the other accounts: %s." % (
                        exc.message, describe_accounts(accounts_of([e for es in plan_.steps[1:] for e in es])))
                    exc.args = (exc.message,)
                raise
            run.stop(index, exc.message)
            return run
        run.steps.append({"accounts": step_plan.accounts, "task_id": started["task_id"], "task": started["task"],
                          "msg": started["msg"], "ended": _verdict.verdict(started["task"]).ended,
                          # what start() said beyond "started" (a lost answer, a task not known yet)
                          "note": started["msg"] if started["msg"] != step_plan.msg else None})
    return run


def _wait_before_next(step, wait_for):
    """None when the task of ``step`` ended SUCCESSFUL (``step`` updated with its last read); else why not."""
    if not step["task_id"]:
        return ("SDDC Manager accepted the operation on %s, but which task it started is not known, so whether it "
                "ended SUCCESSFUL cannot be learnt" % describe_accounts(step["accounts"]))
    try:
        waited = wait_for(step["task_id"])
    except SddcManagerError as exc:
        return "Waiting for task %s failed: %s" % (step["task_id"], exc.message)
    step["task"] = waited.tasks[step["task_id"]]
    found = waited.verdicts[step["task_id"]]
    step["ended"] = found.ended
    if waited.timed_out:
        return "Task %s was still %s when the wait ran out (wait_timeout)" % (step["task_id"], found.status)
    if not found.succeeded:
        return found.message
    return None


def _not_started(plan_, exc):
    what = "%s operation" % plan_.operation
    if getattr(exc, "timed_out", False):
        return SddcManagerError(
            "The request to start the %s got no answer within request_timeout and SDDC Manager lists no new task "
            "for %s yet, but it may still start one. List the tasks with vcf.sddc_manager.credentials_task_info in a "
            "few minutes, and run this again only if none was started." % (what, describe_accounts(plan_.accounts)),
            kind="ambiguous", url=exc.url)
    lead = ("The request to start the %s got no answer" % what if isinstance(exc, AmbiguousWriteError)
            else exc.message)
    return SddcManagerError(
        "%s and SDDC Manager lists no new task for %s, so it was not started; nothing changed. Run it again once "
        "SDDC Manager answers normally." % (lead.rstrip("."), describe_accounts(plan_.accounts)),
        kind="ambiguous", url=exc.url, status_code=exc.status_code)


def remediate(client, task, options, check_mode=False, wait_for=None):
    """Repair an INCONSISTENT task: start a REMEDIATE operation on its resources with the given elements (the
    passwords really set on the accounts), one per account, in turn (``wait_for``: see :func:`start_in_turn`).
    A result in the form of ``_tasks.retry``'s, plus ``remediated_by`` (the last task started, the one a wait
    follows) and ``remediation_task_ids``; raises when the run stopped before every account was remediated."""
    task_id = task.get("id")
    elements = options.get("elements") or []
    own = _tasks.resources_of(task)
    for element in elements:
        if not any(_same_name(r["resource_name"], element.get("resource_name")) for r in own):
            raise SddcManagerError(
                "Task %s is INCONSISTENT on %s, but its remediation names %s: give the resources of the task."
                % (task_id, ", ".join(r["resource_name"] or "?" for r in own),
                   element.get("resource_name") or element.get("resource_id")), kind="config")
    result = {"changed": True, "retried": False, "task": task, "before": task, "task_id": task_id,
              "baseline": None, "remediated_by": None}
    names = accounts_of(elements)
    tasks = client.list_credentials_tasks()
    check_blockers([t for t in tasks if t.get("id") != task_id], elements, "REMEDIATE")
    steps = one_per_account("REMEDIATE", elements)
    if check_mode:
        result["msg"] = "Task %s is INCONSISTENT; %s on %s would start (check mode)." % (
            task_id, "a REMEDIATE operation" if len(steps) == 1 else
            "%d REMEDIATE operations, one per account, in turn," % len(steps), describe_accounts(names))
        return result
    plan_ = Plan("REMEDIATE", _spec.build("REMEDIATE", steps[0]), names, True, set(t.get("id") for t in tasks),
                 "a REMEDIATE operation started on %s." % describe_accounts(names), steps)
    # The same requests, in the same turn, as the credentials module sends (one per account, each after the one
    # before ended SUCCESSFUL).
    run = start_in_turn(client, plan_, wait_for)
    if run.stopped:
        # Some accounts were not remediated: the task is not repaired, whatever the last task started shows, so
        # this is an error for it (never "remediated by"); the message gives every task started and its end.
        raise SddcManagerError("Task %s is INCONSISTENT; %s" % (task_id, run.msg), kind="remediation_stopped")
    last = run.last
    result.update(task=last["task"], task_id=last["task_id"] or task_id, remediated_by=last["task_id"],
                  remediation_task_ids=[step["task_id"] for step in run.steps],
                  msg="Task %s is INCONSISTENT; %s" % (
                      task_id, run.msg[0].lower() + run.msg[1:] if len(steps) == 1 else run.msg))
    return result


def for_inconsistent(client, task, options, check_mode=False, wait_for=None):
    """What the bulk retry does with an INCONSISTENT task: remediate it with a REMEDIATE spec, say it no longer
    decides when a newer task on its resources does, else raise (``needs_input``) saying what to give.
    ``wait_for(task_id)``: the one waiter, for a remediation of several accounts (:func:`start_in_turn`)."""
    task_id = task.get("id")
    if options.get("operation_type") == "REMEDIATE" and options.get("elements"):
        return remediate(client, task, options, check_mode, wait_for)
    newer = _tasks.resolved_by(task, client.list_credentials_tasks())
    if newer is not None:
        found = _verdict.verdict(newer)
        if not (found.succeeded or found.running):
            # Its resources are judged by that task now, and it did not succeed: that is what needs attention.
            raise SddcManagerError(
                "Task %s is INCONSISTENT, and task %s, newer, on the same resources %s: its resources are judged by "
                "that task now, so deal with task %s (retry it, cancel it, or remediate); nothing was sent for task "
                "%s." % (task_id, newer.get("id"), found.what, newer.get("id"), task_id), kind="not_retryable")
        return {"changed": False, "retried": False, "task": task, "before": task, "task_id": task_id,
                "baseline": None, "judged_by": newer.get("id"), "judged_by_status": found.status,
                "msg": "Task %s is INCONSISTENT, but task %s, newer, on the same resources is %s: its resources are "
                       "judged by that task now; nothing was sent." % (task_id, newer.get("id"), found.status)}
    given = options.get("operation_type")
    raise SddcManagerError(
        "Task %s is INCONSISTENT: SDDC Manager no longer knows which password its resources have, and a retry cannot "
        "repair it%s; nothing was sent for it. Check the accounts on %s, then give tasks an entry for task %s with "
        "operation_type REMEDIATE and elements with the password really set on the account (or run "
        "vcf.sddc_manager.credentials with operation_type REMEDIATE)." % (
            task_id, " (operation_type %s cannot either)" % given if given else "",
            ", ".join(r["resource_name"] or "?" for r in _tasks.resources_of(task)) or "its resources", task_id),
        kind="needs_input")
