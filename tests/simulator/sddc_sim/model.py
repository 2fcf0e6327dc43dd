"""A credentials task and its life cycle.

Progress is computed lazily from the simulator clock: a run starts at ``t0``,
spends ``pending_seconds`` PENDING, then works through its sub-tasks one after
another in equal slices of the remaining ``run_seconds``, and ends with the
outcome chosen when it started.  Nothing runs in the background, so the state
only depends on the clock, the scenario and the seed.

Initially terminal tasks are built the same way: a run that started at the
task's creation time and has already finished.

Callers hold the state lock; these objects have none of their own.
"""

from __future__ import annotations

import copy
import random
import string
import uuid

from . import vocab
from .clock import iso
from .errors import error_object, notification

_VERB = {"UPDATE": "update", "ROTATE": "rotate", "REMEDIATE": "remediate",
         "UPDATE_AUTO_ROTATE_POLICY": "update the auto-rotate policy of"}
_DEFAULT_ERROR_CODE = {
    "UPDATE": "PASSWORD_UPDATE_FAILED",
    "ROTATE": "PASSWORD_ROTATE_FAILED",
    "REMEDIATE": "PASSWORD_REMEDIATE_FAILED",
    "UPDATE_AUTO_ROTATE_POLICY": "PASSWORD_AUTO_ROTATE_POLICY_UPDATE_FAILED",
}
# Duration given to the already-finished run of a task that starts out terminal
# but has no run_seconds (runs forever on retry).
_HISTORIC_RUN_SECONDS = 60.0
_SPECIALS = "!@#$%^&*"


def new_uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_password(rng, length=16):
    """A password that meets the usual VCF complexity rules (upper, lower, digit, special)."""
    pools = (string.ascii_uppercase, string.ascii_lowercase, string.digits, _SPECIALS)
    chars = [rng.choice(pool) for pool in pools]
    everything = "".join(pools)
    chars += [rng.choice(everything) for _position in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


def reference_token(rng):
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _position in range(6))


class Credential:
    def __init__(self, spec, rng):
        self.credential_type = spec["credential_type"]
        self.account_type = spec["account_type"]
        self.username = spec["username"]
        # Current password as SDDC Manager knows it.
        self.password = spec["password"] or new_password(rng)
        # What an UPDATE/REMEDIATE task sets (the password its spec carries).
        self.new_password = spec["new_password"] or new_password(rng)


class Resource:
    def __init__(self, spec, rng):
        self.name = spec["name"]
        self.id = spec["id"] or new_uuid(rng)
        self.type = spec["type"]
        self.fqdn = spec["fqdn"]
        self.credentials = [Credential(c, rng) for c in spec["credentials"]]

    def ref(self):
        """The spec's ``Resource`` object."""
        return {"resourceId": self.id, "type": self.type, "name": self.name, "fqdn": self.fqdn}


class SubTask:
    def __init__(self, task, resource, credential, rng):
        self.id = new_uuid(rng)
        self.resource = resource
        self.credential = credential
        verb = _VERB[task.type]
        self.name = "%s the %s password of %s on %s" % (verb.capitalize(), credential.credential_type,
                                                        credential.username, resource.name)
        self.description = "%s the %s password of %s account %s on %s %s" % (
            verb.capitalize(), credential.credential_type, credential.account_type,
            credential.username, resource.type, resource.name)
        self.status = "PENDING"
        self.errors = []
        self.created = None
        self.completed = None
        self.old_password = None
        self.new_password = None
        # Dependent sub-tasks of the current run: {"id", "status", "errors"}.
        self.dependents = []

    def key(self):
        return (self.resource.id, self.credential.username, self.credential.credential_type)


# [guess] How a remediation with a wrong password fails (FIELD-NOTES: "with a wrong one the
# remediation fails"); the code is the simulator's own.
REMEDIATE_MISMATCH_CODE = "PASSWORD_REMEDIATE_PASSWORD_MISMATCH"


class CredentialsTask:
    def __init__(self, spec, rng, seed, created, now, settings=None, inventory=None):
        # ``settings``: the scenario (release, generic status wording).
        # ``inventory``: the accounts; each run that ends updates them.  A task
        # started by PATCH /v1/credentials (``spec["operation"]``) also reads the
        # held password from them when a run starts, and a REMEDIATE one checks
        # the given password against the one really set on the resource.
        self.settings = settings
        self.inventory = inventory
        self.is_operation = spec.get("operation", False)
        self.release = settings.release if settings is not None else vocab.DEFAULT_RELEASE
        self.id = spec["id"] or new_uuid(rng)
        self.name = spec["name"]
        self.type = spec["type"]
        self.created = spec["created"] if spec["created"] is not None else created
        self.completed = None
        self.is_auto_rotate = spec["auto_rotate"]
        self.run_seconds = spec["run_seconds"]
        self.pending_seconds = spec["pending_seconds"]
        self.outcomes = spec["outcomes"]
        self.resources = [Resource(r, rng) for r in spec["resources"]]
        self.subtasks = [SubTask(self, res, cred, rng) for res in self.resources for cred in res.credentials]
        self.status = "PENDING"
        self.errors = []
        self.retries = 0
        self.runs = 0
        self.auto_rotate_policy = spec.get("auto_rotate_policy")
        self.seq = 0  # insertion order, set by the state; breaks timestamp ties
        self.stale_reads = spec.get("stale_reads", 0)
        self.retry_new_id = spec.get("retry_new_id", False)
        self.former_ids = []
        self._stale = None
        self._seed = seed
        self._run = None
        self._begin(spec, now)

    # -- life cycle -------------------------------------------------------

    def _begin(self, spec, now):
        status = spec["status"]
        if status in vocab.RUNNING:
            # A task that is running when the scenario loads started just now
            # (or just left PENDING) and uses the first scripted outcome.
            start = now if status == "PENDING" else now - self.pending_seconds
            self._start(start, self._next_outcome(), {}, self.run_seconds)
            return
        history = spec.get("initial") or {"status": status, "errors": spec["errors"]}
        if status == "USER_CANCELLED":
            # Only a FAILED task can be cancelled: a failed run, then the cancel.
            history = dict(history, status="FAILED")
        if self.run_seconds is not None:
            duration = self.run_seconds
        else:
            duration = self.pending_seconds + _HISTORIC_RUN_SECONDS
        self._start(self.created, history, {}, duration)
        self.advance(self.created + duration)
        if status == "USER_CANCELLED":
            self.cancel(self.created + duration if history.get("completion_timestamp", True) else None)

    def advance(self, now):
        """Bring status and sub-tasks up to date with the clock."""
        run = self._run
        if run is None:
            return
        work_start = run["start"] + self.pending_seconds
        if now < work_start:
            self.status = "PENDING"
            return
        if run["duration"] is not None and now >= run["start"] + run["duration"]:
            self._finish(run)
            return
        self.status = "IN_PROGRESS"
        for index, subtask in enumerate(self.subtasks):
            self._advance_subtask(index, subtask, now, run)

    def retry(self, now, passwords, policy):
        """Start a new run after an accepted PATCH; ``passwords`` maps sub-task key -> password."""
        if self.stale_reads:
            # Reads right after the retry may still show the state before it.
            self._stale = {"left": self.stale_reads, "credentials": copy.deepcopy(self.credentials_view()),
                           "generic": copy.deepcopy(self.generic_view())}
        self.retries += 1
        if policy is not None:
            self.auto_rotate_policy = policy
        self._start(now, self._next_outcome(), passwords, self.run_seconds)

    def cancel(self, now):
        self.status = "USER_CANCELLED"
        self.completed = now

    def _next_outcome(self):
        # One outcome per run; the last one repeats.
        outcome = self.outcomes[min(self.runs, len(self.outcomes) - 1)]
        self.runs += 1
        return outcome

    def _start(self, start, outcome, passwords, duration):
        rng = random.Random("%s:%s:run:%d" % (self._seed, self.id, self.runs))
        if self.is_operation and self.inventory is not None:
            self._sync_held_passwords()
            outcome = self._check_remediation(outcome, passwords)
        task_errors, subtask_errors, dependents = self._materialize_errors(outcome, rng)
        self.status = "PENDING"
        self.errors = []
        self.completed = None
        for subtask in self.subtasks:
            credential = subtask.credential
            subtask.status = "PENDING"
            subtask.errors = []
            subtask.dependents = []
            subtask.created = start
            subtask.completed = None
            if self.type == "UPDATE_AUTO_ROTATE_POLICY":
                subtask.old_password = subtask.new_password = None
            else:
                subtask.old_password = credential.password
                if self.type == "ROTATE":
                    subtask.new_password = new_password(rng)
                else:
                    subtask.new_password = passwords.get(subtask.key(), credential.new_password)
                    credential.new_password = subtask.new_password
        failing = set(subtask_errors) | set(dependents) | set(outcome.get("failing_subtasks") or ())
        self._run = {"start": start, "duration": duration, "status": outcome["status"],
                     "subtask_status": outcome.get("subtask_status") or outcome["status"],
                     "completion_timestamp": outcome.get("completion_timestamp", True),
                     "task_errors": task_errors, "subtask_errors": subtask_errors,
                     "dependents": dependents, "failing": failing}

    def _account(self, subtask):
        return self.inventory.account_of(subtask.resource.name, subtask.resource.type,
                                         subtask.credential.username, subtask.credential.credential_type)

    def _sync_held_passwords(self):
        """A run's ``oldPassword`` is what SDDC Manager holds now."""
        for subtask in self.subtasks:
            account = self._account(subtask)
            if account is not None:
                subtask.credential.password = account.password

    def _check_remediation(self, outcome, passwords):
        """REMEDIATE succeeds only with the password really set on the resource.

        Sub-tasks whose password is another end FAILED with an error that says
        so, whatever the scripted outcome; the others end SUCCESSFUL.
        """
        if self.type != "REMEDIATE":
            return outcome
        wrong = []
        for index, subtask in enumerate(self.subtasks):
            given = passwords.get(subtask.key(), subtask.credential.new_password)
            account = self._account(subtask)
            if account is not None and given != account.real_password:
                wrong.append(index)
        if not wrong:
            return outcome
        errors = []
        for index in wrong:
            subtask = self.subtasks[index]
            errors.append({
                "subtask": index,
                "errorCode": REMEDIATE_MISMATCH_CODE,
                "message": "The password given for the %s account %s does not work on %s: it is not the password "
                           "set on the resource" % (subtask.credential.credential_type,
                                                    subtask.credential.username, subtask.resource.name),
                "remediationMessage": "Find the password that is set on %s now, then remediate again with it"
                                      % subtask.resource.name,
            })
        return {"status": "FAILED", "errors": errors, "failing_subtasks": [], "subtask_status": None,
                "completion_timestamp": True}

    def _advance_subtask(self, index, subtask, now, run):
        if run["duration"] is None:
            subtask.status = "IN_PROGRESS"
            return
        work_start = run["start"] + self.pending_seconds
        slot = (run["duration"] - self.pending_seconds) / len(self.subtasks)
        begins, ends = work_start + index * slot, work_start + (index + 1) * slot
        if now < begins:
            subtask.status = "PENDING"
        elif now < ends:
            subtask.status = "IN_PROGRESS"
        else:
            if index in run["failing"]:
                subtask.status = run["subtask_status"]
                subtask.errors = run["subtask_errors"].get(index, [])
                subtask.dependents = [dict(d, status=run["subtask_status"])
                                      for d in run["dependents"].get(index, [])]
            else:
                subtask.status = "SUCCESSFUL"
                subtask.errors = []
            subtask.completed = ends

    def _finish(self, run):
        end = run["start"] + run["duration"]
        for index, subtask in enumerate(self.subtasks):
            self._advance_subtask(index, subtask, end, run)
            # Sub-tasks that went through changed their password even if the task failed.
            if subtask.status == "SUCCESSFUL" and subtask.new_password is not None:
                subtask.credential.password = subtask.new_password
        if self.inventory is not None:
            self.inventory.record_run(self, run["status"], end)
        self.status = run["status"]
        self.errors = run["task_errors"]
        # completionTimestamp is optional in the spec: a run may end without one.
        self.completed = end if run["completion_timestamp"] else None
        self._run = None

    def _materialize_errors(self, outcome, rng):
        """Turn scripted error entries into API ``Error`` objects, filling defaults.

        Returns task-level errors, ``{index: [Error]}`` for sub-tasks and
        ``{index: [{"id", "errors"}]}`` for dependent sub-tasks.  Without
        ``errors`` a non-quiet end fails sub-task 0 with a default error; an
        empty list (``errors: none``) means no error anywhere.
        """
        if outcome["status"] == "SUCCESSFUL":
            return [], {}, {}
        entries = outcome["errors"]
        if entries is None:
            entries = [] if outcome["status"] in vocab.QUIET_END_STATUSES else [{"subtask": 0}]
        task_errors, subtask_errors, dependents = [], {}, {}
        for entry in entries:
            index = entry.get("subtask")
            subtask = self.subtasks[index if index is not None else 0]
            error = error_object(
                entry.get("errorCode") or _DEFAULT_ERROR_CODE[self.type],
                entry.get("message") or "Failed to %s the %s password of %s on %s" % (
                    _VERB[self.type], subtask.credential.credential_type,
                    subtask.credential.username, subtask.resource.name),
                remediation=entry.get("remediationMessage") or (
                    "Check that %s is reachable and that SDDC Manager knows its current password "
                    "(remediate it if not), then retry the task." % subtask.resource.name),
                reference_token=entry.get("referenceToken") or reference_token(rng),
                arguments=entry.get("arguments"),
                context=entry.get("context"),
                causes=entry.get("causes"),
                nested_errors=entry.get("nestedErrors"),
                error_type=entry.get("errorType"),
            )
            # Spec fields the simulator only sends when a scenario gives them.
            for key in ("label", "remediationUrl"):
                if entry.get(key) is not None:
                    error[key] = entry[key]
            self._add_notifications(error, entry, None if index is None else subtask)
            if index is None:
                task_errors.append(error)
            elif entry.get("dependent"):
                dependents.setdefault(index, []).append({"id": new_uuid(rng), "errors": [error]})
            else:
                subtask_errors.setdefault(index, []).append(error)
        return task_errors, subtask_errors, dependents

    def _add_notifications(self, error, entry, subtask):
        """9.1's ``Error.notifications``: as scripted, else one ERROR derived from the error."""
        if self.release not in vocab.NOTIFICATION_RELEASES:
            return
        if entry.get("notifications") is not None:
            error["notifications"] = copy.deepcopy(entry["notifications"])
            return
        if subtask is None:
            impact = "Credentials task %s did not complete: the passwords it names may be unchanged" % self.id
        else:
            impact = "The %s password of %s on %s may be unchanged" % (
                subtask.credential.credential_type, subtask.credential.username, subtask.resource.name)
        error["notifications"] = [notification(error["message"], impact, error.get("remediationMessage"))]

    # -- views --------------------------------------------------------------

    @property
    def is_retryable(self):
        return self.status == "FAILED"

    @property
    def is_cancellable(self):
        return self.status == "FAILED"

    def read_view(self):
        """The ``CredentialsTask`` a GET answers (single or listed): maybe the stale one."""
        return self._read("credentials") or self.credentials_view()

    def read_generic_view(self):
        return self._read("generic") or self.generic_view()

    def _read(self, which):
        stale = self._stale
        if stale is None:
            return None
        stale["left"] -= 1
        if stale["left"] <= 0:
            self._stale = None
        return copy.deepcopy(stale[which])

    def new_id(self):
        """The id an accepted retry moves the task to (``retry_new_id``)."""
        rng = random.Random("%s:%s:new-id:%d" % (self._seed, self.id, self.runs))
        return new_uuid(rng)

    def credentials_view(self):
        """The spec's ``CredentialsTask``."""
        view = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "creationTimestamp": iso(self.created),
            "isAutoRotate": self.is_auto_rotate,
            "errors": self.errors,
            "subTasks": [self._subtask_view(s) for s in self.subtasks],
        }
        if self.completed is not None:
            view["completionTimestamp"] = iso(self.completed)
        return view

    def _subtask_view(self, subtask):
        view = {
            "id": subtask.id,
            "resourceName": subtask.resource.name,
            "name": subtask.name,
            "description": subtask.description,
            "creationTimestamp": iso(subtask.created),
            "status": subtask.status,
            "errors": subtask.errors,
            "entityType": subtask.resource.type,
            "username": subtask.credential.username,
            "credentialType": subtask.credential.credential_type,
            "dependentSubTasks": [self._dependent_view(subtask, d) for d in subtask.dependents],
        }
        if subtask.completed is not None:
            view["completionTimestamp"] = iso(subtask.completed)
        if subtask.old_password is not None:
            view["oldPassword"] = subtask.old_password
        if subtask.new_password is not None:
            view["newPassword"] = subtask.new_password
        return view

    def _dependent_view(self, subtask, dependent):
        """A ``CredentialsSubTask`` under ``dependentSubTasks`` of ``subtask``.

        It works on the same credential (the services that use it), so it
        carries the same passwords: a client has to hide those too.
        """
        name = self._dependent_name(subtask)
        view = {
            "id": dependent["id"],
            "resourceName": subtask.resource.name,
            "name": name,
            "description": name,
            "creationTimestamp": iso(subtask.created),
            "status": dependent["status"],
            "errors": dependent["errors"],
            "entityType": subtask.resource.type,
            "username": subtask.credential.username,
            "credentialType": subtask.credential.credential_type,
            "dependentSubTasks": [],
        }
        if subtask.completed is not None:
            view["completionTimestamp"] = iso(subtask.completed)
        if subtask.old_password is not None:
            view["oldPassword"] = subtask.old_password
        if subtask.new_password is not None:
            view["newPassword"] = subtask.new_password
        return view

    @staticmethod
    def _dependent_name(subtask):
        return "Apply the new %s password of %s to the services on %s that use it" % (
            subtask.credential.credential_type, subtask.credential.username, subtask.resource.name)

    def generic_view(self):
        """The spec's generic ``Task`` (``GET /v1/tasks/{id}`` and the 202 answers)."""
        view = {
            "id": self.id,
            "name": self.name,
            "type": "CREDENTIALS_" + self.type,
            "status": self._generic_status(),
            "creationTimestamp": iso(self.created),
            # The generic view gathers every error, task-level first.
            "errors": self.errors + [error for subtask in self.subtasks for error in self._all_errors(subtask)],
            "resources": [r.ref() for r in self.resources],
            "subTasks": [self._generic_subtask_view(s) for s in self.subtasks],
            "isRetryable": self.is_retryable,
            "isCancellable": self.is_cancellable,
        }
        if self.completed is not None:
            view["completionTimestamp"] = iso(self.completed)
        if self.status in vocab.RESOLVED_STATUSES:
            view["resolutionStatus"] = "RESOLVED"
        elif self.status not in vocab.RUNNING:
            view["resolutionStatus"] = "UNRESOLVED"
        return view

    @staticmethod
    def _all_errors(subtask):
        return subtask.errors + [error for dependent in subtask.dependents for error in dependent["errors"]]

    def _generic_status(self):
        case = self.settings.generic_case if self.settings is not None else "title"
        if self.status == "PENDING" and self.settings is not None and self.settings.generic_queued:
            return vocab.GENERIC_QUEUED[case]
        if self.status == "TIMED_OUT" and self.release == "9.1":
            return vocab.GENERIC_TIMED_OUT[case]
        table = vocab.GENERIC_STATUS if case == "title" else vocab.GENERIC_STATUS_UPPER
        return table.get(self.status, self.status)

    def _generic_subtask_view(self, subtask):
        view = {
            "name": subtask.name,
            "type": "CREDENTIALS_%s_%s" % (self.type, subtask.credential.credential_type),
            "description": subtask.description,
            "status": vocab.GENERIC_SUBTASK_STATUS.get(subtask.status, subtask.status),
            "creationTimestamp": iso(subtask.created),
            "errors": subtask.errors,
            "resources": [subtask.resource.ref()],
        }
        if subtask.completed is not None:
            view["completionTimestamp"] = iso(subtask.completed)
        if subtask.dependents:
            view["subTasks"] = [self._generic_dependent_view(subtask, d) for d in subtask.dependents]
        return view

    def _generic_dependent_view(self, subtask, dependent):
        view = {
            "name": self._dependent_name(subtask),
            "type": "CREDENTIALS_%s_%s_DEPENDENT" % (self.type, subtask.credential.credential_type),
            "description": self._dependent_name(subtask),
            "status": vocab.GENERIC_SUBTASK_STATUS.get(dependent["status"], dependent["status"]),
            "creationTimestamp": iso(subtask.created),
            "errors": dependent["errors"],
            "resources": [subtask.resource.ref()],
        }
        if subtask.completed is not None:
            view["completionTimestamp"] = iso(subtask.completed)
        return view

    def resource_credentials(self):
        """``GET .../resource-credentials``: what the task works on, with passwords.

        UPDATE/REMEDIATE show the password the task sets; ROTATE and policy
        tasks show the current one.  A client that copies this into a ROTATE
        retry must therefore drop the passwords itself.
        """
        shows_target = self.type in ("UPDATE", "REMEDIATE")
        return [{
            "resourceName": r.name,
            "resourceId": r.id,
            "resourceType": r.type,
            "credentials": [{
                "credentialType": c.credential_type,
                "accountType": c.account_type,
                "username": c.username,
                "password": c.new_password if shows_target else c.password,
            } for c in r.credentials],
        } for r in self.resources]

    def internal_view(self):
        """Everything, secrets included, for ``GET /_sim/tasks`` (tests only)."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "created": iso(self.created),
            "completed": iso(self.completed),
            "run_seconds": self.run_seconds,
            "pending_seconds": self.pending_seconds,
            "runs": self.runs,
            "retries": self.retries,
            "running": self._run is not None,
            "next_outcome": self.outcomes[min(self.runs, len(self.outcomes) - 1)]["status"],
            "stale_reads_left": self._stale["left"] if self._stale else 0,
            "former_ids": list(self.former_ids),
            "auto_rotate_policy": self.auto_rotate_policy,
            "resources": [{
                "name": r.name, "id": r.id, "type": r.type, "fqdn": r.fqdn,
                "credentials": [{
                    "credential_type": c.credential_type, "account_type": c.account_type,
                    "username": c.username, "password": c.password, "new_password": c.new_password,
                } for c in r.credentials],
            } for r in self.resources],
            "subtasks": [self._subtask_view(s) for s in self.subtasks],
        }


class SupersededTask:
    """What an old task id keeps answering after a retry moved the task to a new id.

    ``retry_new_id`` is a guess (no source shows the id changing): the old id
    keeps its last state for reads, and refuses retry and cancel.
    """

    is_retryable = False
    is_cancellable = False

    def __init__(self, task, new_id):
        self.id = task.id
        self.type = task.type
        self.status = task.status
        self.created = task.created
        self.seq = task.seq
        self.superseded_by = new_id
        self._credentials = copy.deepcopy(task.credentials_view())
        self._generic = copy.deepcopy(task.generic_view())
        self._resources = copy.deepcopy(task.resource_credentials())

    def advance(self, now):
        pass

    def credentials_view(self):
        return copy.deepcopy(self._credentials)

    def generic_view(self):
        return copy.deepcopy(self._generic)

    read_view = credentials_view
    read_generic_view = generic_view

    def resource_credentials(self):
        return copy.deepcopy(self._resources)

    def internal_view(self):
        return {"id": self.id, "type": self.type, "status": self.status, "created": iso(self.created),
                "superseded_by": self.superseded_by, "retries": 0, "runs": 0}
