"""Strict checks of a ``CredentialsUpdateSpec``: a retry, or a new password operation.

One validation serves both calls.  What the spec is checked against differs:

* a retry (``PATCH /v1/credentials/tasks/{id}``): the task.  The operation must
  be the task's, and the spec must name exactly the task's credentials.
* a new operation (``PATCH /v1/credentials``): the accounts SDDC Manager
  manages.  Every resource and credential named must exist.

Every rejection is a 400 ``Error`` whose ``errorCode`` is specific to the rule
and whose ``message`` (and ``arguments[0]``) names the field, e.g.
``elements[0].credentials[1].password``.  The codes are the simulator's own
(the spec documents none); README.md lists them.
"""

from __future__ import annotations

from . import vocab
from .errors import bad_request

_PREFIX = "PASSWORD_MANAGER_"
MAX_AUTO_ROTATE_DAYS = 90


def _fail(code, message, field, remediation=None):
    raise bad_request(_PREFIX + code, message, remediation, field)


def _nonempty_string(value):
    return isinstance(value, str) and value.strip() != ""


def validate_update_spec(body, task, resource_types=vocab.RESOURCE_TYPES):
    """Check a retry's ``body`` against ``task``; return ``(passwords, policy)``.

    ``passwords`` maps each sub-task key ``(resourceId, username,
    credentialType)`` to the password given (UPDATE/REMEDIATE only);
    ``policy`` is the ``autoRotatePolicy`` of an UPDATE_AUTO_ROTATE_POLICY spec.
    ``resource_types`` are those the scenario's release knows.
    """
    _operation, passwords, policy = _validate(body, _TaskTarget(task), resource_types)
    return passwords, policy


def validate_operation_spec(body, inventory, resource_types=vocab.RESOURCE_TYPES):
    """Check the ``body`` of ``PATCH /v1/credentials`` against the accounts.

    Returns ``(operation, targets, passwords, policy)``: ``targets`` lists
    ``(resource, [account, ...])`` in the order the spec names them.
    """
    target = _InventoryTarget(inventory)
    operation, passwords, policy = _validate(body, target, resource_types)
    return operation, target.targets(), passwords, policy


def _validate(body, target, resource_types):
    if not isinstance(body, dict):
        _fail("INVALID_REQUEST_BODY", "The request body must be a JSON object (CredentialsUpdateSpec)", "body")
    operation = _check_operation(body, target)
    elements = body.get("elements")
    if not isinstance(elements, list) or not elements:
        _fail("ELEMENTS_REQUIRED", "elements is required and must be a non-empty list", "elements")
    passwords = {}
    for index, element in enumerate(elements):
        _check_element(element, "elements[%d]" % index, operation, target, passwords, resource_types)
    policy = _check_policy(body.get("autoRotatePolicy"), operation)
    target.check_complete(passwords, operation)
    if operation not in ("UPDATE", "REMEDIATE"):
        passwords = {}
    return operation, passwords, policy


class _TaskTarget:
    """A retry: the spec must be the task's own."""

    def __init__(self, task):
        self.task = task

    def check_operation(self, operation):
        if operation != self.task.type:
            _fail("OPERATION_TYPE_MISMATCH", "operationType %s does not match the task's operation %s" % (
                operation, self.task.type), "operationType",
                "Retry a task with the operation type it was created with")

    def resource(self, name, rid, resource_type, where):
        resource = _find_resource(self.task, name, rid, where)
        if resource.type != resource_type:
            _fail("CREDENTIALS_MISMATCH", "%s.resourceType %s does not match resource %s of type %s" % (
                where, resource_type, resource.name, resource.type), where + ".resourceType")
        return resource

    def credential(self, resource, username, credential_type, where):
        pass  # the set is compared as a whole in check_complete

    def check_complete(self, passwords, _operation):
        _check_same_credentials(passwords, self.task)


class _InventoryTarget:
    """A new operation: every resource and credential must be one SDDC Manager manages."""

    def __init__(self, inventory):
        self.inventory = inventory
        self._targets = []  # [(resource, [account])]

    def check_operation(self, operation):
        pass

    def resource(self, name, rid, resource_type, where):
        found = self.inventory.find_resources(name if _nonempty_string(name) else None,
                                              rid if _nonempty_string(rid) else None)
        if not found:
            _fail("RESOURCE_NOT_FOUND", "%s (resourceName=%r, resourceId=%r) is not a resource SDDC Manager "
                  "manages" % (where, name, rid), where, "Name a resource that GET /v1/credentials lists")
        for resource in found:
            if resource.type == resource_type:
                break
        else:
            _fail("RESOURCE_TYPE_MISMATCH", "%s.resourceType %s does not match resource %s of type %s" % (
                where, resource_type, found[0].name, found[0].type), where + ".resourceType")
        entry = next((e for e in self._targets if e[0] is resource), None)
        if entry is None:
            self._targets.append((resource, []))
        return resource

    def credential(self, resource, username, credential_type, where):
        account = resource.account(username, credential_type)
        if account is None:
            _fail("CREDENTIAL_NOT_FOUND", "%s: resource %s has no %s credential of %s" % (
                where, resource.name, credential_type, username), where,
                "Name a credential that GET /v1/credentials lists")
        next(e for e in self._targets if e[0] is resource)[1].append(account)

    def check_complete(self, passwords, operation):
        # "You can remediate the password for only one account at a time" [doc 4.4/5.0]. Enforced in every release
        # profile: the 4.5/5.2 pages are the same series, and nothing says 9.x lifted it (the 9.0.2 spec is silent),
        # so a client must survive it everywhere. One account = one credential of one element: two elements of one
        # credential each are two accounts too. [guess] The 400 and the code REMEDIATE_ONE_ACCOUNT are the
        # simulator's own (FIELD-NOTES: the exact answer to a refused operation is a guess); the Error fields
        # (errorCode, message, arguments, remediationMessage) are the spec's.
        if operation == "REMEDIATE" and len(passwords) > 1:
            _fail("REMEDIATE_ONE_ACCOUNT", "REMEDIATE takes one account at a time; this spec names %d"
                  % len(passwords), "elements", "Remediate each account in its own request")

    def targets(self):
        return [(resource, list(accounts)) for resource, accounts in self._targets]


def _check_operation(body, target):
    operation = body.get("operationType")
    if operation is None or operation == "":
        _fail("OPERATION_TYPE_REQUIRED", "operationType is required", "operationType")
    if operation not in vocab.TASK_TYPES:
        _fail("OPERATION_TYPE_INVALID", "operationType %r is not one of %s" % (
            operation, ", ".join(vocab.TASK_TYPES)), "operationType")
    target.check_operation(operation)
    return operation


def _check_element(element, where, operation, target, passwords, resource_types):
    if not isinstance(element, dict):
        _fail("INVALID_REQUEST_BODY", "%s must be a JSON object (ResourceCredentials)" % where, where)
    resource_type = element.get("resourceType")
    if not _nonempty_string(resource_type):
        _fail("RESOURCE_TYPE_REQUIRED", "%s.resourceType is required" % where, where + ".resourceType")
    if resource_type not in resource_types:
        _fail("RESOURCE_TYPE_INVALID", "%s.resourceType %r is not one of %s" % (
            where, resource_type, ", ".join(resource_types)), where + ".resourceType")
    name, rid = element.get("resourceName"), element.get("resourceId")
    if not _nonempty_string(name) and not _nonempty_string(rid):
        _fail("RESOURCE_REQUIRED", "%s needs resourceName or resourceId" % where, where + ".resourceName")
    resource = target.resource(name, rid, resource_type, where)
    credentials = element.get("credentials")
    if not isinstance(credentials, list) or not credentials:
        _fail("CREDENTIALS_REQUIRED", "%s.credentials is required and must be a non-empty list" % where,
              where + ".credentials")
    for index, credential in enumerate(credentials):
        _check_credential(credential, "%s.credentials[%d]" % (where, index), operation, resource, passwords,
                          target)


def _find_resource(task, name, rid, where):
    for resource in task.resources:
        by_id = _nonempty_string(rid) and rid == resource.id
        # Resource names are FQDNs, which compare case-insensitively.
        by_name = _nonempty_string(name) and name.lower() == resource.name.lower()
        if (by_id or not _nonempty_string(rid)) and (by_name or not _nonempty_string(name)):
            return resource
    _fail("CREDENTIALS_MISMATCH", "%s (resourceName=%r, resourceId=%r) is not a resource of this task" % (
        where, name, rid), where, "Retry with the resources the task was created for")


def _check_credential(credential, where, operation, resource, passwords, target):
    if not isinstance(credential, dict):
        _fail("INVALID_REQUEST_BODY", "%s must be a JSON object (BaseCredential)" % where, where)
    username = credential.get("username")
    if not _nonempty_string(username):
        _fail("USERNAME_REQUIRED", "%s.username is required" % where, where + ".username")
    credential_type = credential.get("credentialType")
    if not _nonempty_string(credential_type):
        _fail("CREDENTIAL_TYPE_REQUIRED", "%s.credentialType is required" % where, where + ".credentialType")
    if credential_type not in vocab.CREDENTIAL_TYPES:
        _fail("CREDENTIAL_TYPE_INVALID", "%s.credentialType %r is not one of %s" % (
            where, credential_type, ", ".join(vocab.CREDENTIAL_TYPES)), where + ".credentialType")
    account_type = credential.get("accountType")
    if account_type is not None and account_type not in vocab.ACCOUNT_TYPES:
        _fail("ACCOUNT_TYPE_INVALID", "%s.accountType %r is not one of %s" % (
            where, account_type, ", ".join(vocab.ACCOUNT_TYPES)), where + ".accountType")
    password = credential.get("password")
    if operation in ("UPDATE", "REMEDIATE"):
        if not _nonempty_string(password):
            _fail("PASSWORD_REQUIRED", "%s.password is required for %s" % (where, operation), where + ".password")
    elif password is not None:
        _fail("PASSWORD_NOT_ALLOWED", "%s.password must not be given for %s" % (where, operation),
              where + ".password", "Leave the password out for %s" % operation)
    key = (resource.id, username, credential_type)
    if key in passwords:
        _fail("CREDENTIALS_MISMATCH", "%s repeats %s %s on %s" % (where, credential_type, username, resource.name),
              where)
    target.credential(resource, username, credential_type, where)
    passwords[key] = password


def _check_policy(policy, operation):
    if operation != "UPDATE_AUTO_ROTATE_POLICY":
        return None
    if not isinstance(policy, dict):
        _fail("AUTO_ROTATE_POLICY_REQUIRED", "autoRotatePolicy is required for UPDATE_AUTO_ROTATE_POLICY",
              "autoRotatePolicy")
    enable = policy.get("enableAutoRotatePolicy")
    if not isinstance(enable, bool):
        _fail("AUTO_ROTATE_POLICY_INVALID", "autoRotatePolicy.enableAutoRotatePolicy is required (true or false)",
              "autoRotatePolicy.enableAutoRotatePolicy")
    frequency = policy.get("frequencyInDays")
    if enable:
        if isinstance(frequency, bool) or not isinstance(frequency, int) \
                or not 1 <= frequency <= MAX_AUTO_ROTATE_DAYS:
            _fail("AUTO_ROTATE_POLICY_INVALID",
                  "autoRotatePolicy.frequencyInDays must be an integer from 1 to %d when enabling"
                  % MAX_AUTO_ROTATE_DAYS, "autoRotatePolicy.frequencyInDays")
    return {"enableAutoRotatePolicy": enable, "frequencyInDays": frequency if enable else None}


def _check_same_credentials(passwords, task):
    wanted = {s.key(): s for s in task.subtasks}
    missing = [wanted[k] for k in wanted if k not in passwords]
    if missing:
        described = ", ".join("%s %s on %s" % (s.credential.credential_type, s.credential.username,
                                               s.resource.name) for s in missing)
        _fail("CREDENTIALS_MISMATCH", "The spec leaves out credentials of this task: %s" % described,
              "elements", "A retry must name exactly the credentials of the failed task")
    extra = [k for k in passwords if k not in wanted]
    if extra:
        described = ", ".join("%s %s" % (ctype, user) for _resource_id, user, ctype in extra)
        _fail("CREDENTIALS_MISMATCH", "The spec names credentials that are not part of this task: %s" % described,
              "elements", "A retry must name exactly the credentials of the failed task")
