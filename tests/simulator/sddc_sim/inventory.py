"""The accounts SDDC Manager manages: per resource and credential, two passwords.

``password`` is what SDDC Manager holds (what ``GET /v1/credentials`` shows);
``real_password`` is what is really set on the resource.  They differ for an
account a task left INCONSISTENT: the new password reached the resource, SDDC
Manager did not record it.  Only a REMEDIATE with the real password repairs it.

An account is identified by resource name (case-insensitive, FQDNs), resource
type, username and credential type.  Accounts come from the scenario's
``resources`` section and, for every account only named by a task, from the
tasks (see ``Inventory.derive``).  Every run of a task that ends updates the
accounts it touched (``record_run``).

Callers hold the state lock.
"""

from __future__ import annotations

import fnmatch

from .clock import iso
from .model import new_password, new_uuid

DAY = 86400.0


class Account:
    def __init__(self, resource, spec, rng, now):
        self.resource = resource
        self.id = spec.get("id") or new_uuid(rng)
        self.credential_type = spec["credential_type"]
        self.account_type = spec["account_type"]
        self.username = spec["username"]
        self.password = spec["password"] or new_password(rng)
        self.real_password = spec.get("real_password") or self.password
        self.created = now
        self.modified = now
        self.declared = spec.get("declared", False)
        days = spec.get("auto_rotate_days")
        self.policy = {"frequencyInDays": days, "next": now + days * DAY} if days else None

    def key(self):
        return (self.username, self.credential_type)

    @property
    def consistent(self):
        return self.password == self.real_password

    def set_policy(self, policy, now):
        if policy["enableAutoRotatePolicy"]:
            days = policy["frequencyInDays"]
            self.policy = {"frequencyInDays": days, "next": now + days * DAY}
        else:
            self.policy = None
        self.modified = now

    def view(self, with_password=True):
        """The spec's ``Credential``; ``password`` only for a caller allowed to see it."""
        resource = self.resource
        ref = {"resourceId": resource.id, "resourceName": resource.name, "resourceType": resource.type,
               "domainNames": list(resource.domains)}
        if resource.ip:
            ref["resourceIp"] = resource.ip
        view = {
            "id": self.id,
            "credentialType": self.credential_type,
            "accountType": self.account_type,
            "username": self.username,
            "creationTimestamp": iso(self.created),
            "modificationTimestamp": iso(self.modified),
            "resource": ref,
        }
        if with_password:
            view["password"] = self.password
        if self.policy is not None:
            view["autoRotatePolicy"] = {"frequencyInDays": self.policy["frequencyInDays"],
                                        "nextSchedule": iso(self.policy["next"])}
        return view

    def internal_view(self):
        """Everything, both passwords included, for ``GET /_sim/accounts`` (tests only)."""
        return {
            "id": self.id,
            "resource_name": self.resource.name,
            "resource_id": self.resource.id,
            "resource_type": self.resource.type,
            "fqdn": self.resource.fqdn,
            "ip": self.resource.ip,
            "domains": list(self.resource.domains),
            "credential_type": self.credential_type,
            "account_type": self.account_type,
            "username": self.username,
            "password": self.password,
            "real_password": self.real_password,
            "consistent": self.consistent,
            "declared": self.declared,
            "auto_rotate_days": self.policy["frequencyInDays"] if self.policy else None,
            "modified": iso(self.modified),
        }


class InventoryResource:
    def __init__(self, spec, rng):
        self.name = spec["name"]
        self.id = spec.get("id") or new_uuid(rng)
        self.type = spec["type"]
        self.fqdn = spec.get("fqdn") or self.name
        self.ip = spec.get("ip")
        self.domains = list(spec.get("domains") or [])
        self.accounts = []

    def account(self, username, credential_type):
        for account in self.accounts:
            if account.username == username and account.credential_type == credential_type:
                return account
        return None


class Inventory:
    def __init__(self, rng, default_domains):
        self._rng = rng
        self._default_domains = list(default_domains)
        self._resources = {}  # (name.lower(), type) -> InventoryResource, in insertion order

    # -- building -------------------------------------------------------

    def declare(self, resource_specs, now):
        """Add or replace accounts from scenario ``resources`` entries; return their ids."""
        ids = []
        for spec in resource_specs:
            resource = self._resource(spec, update=True)
            for credential in spec["credentials"]:
                account = Account(resource, dict(credential, declared=True), self._rng, now)
                old = resource.account(account.username, account.credential_type)
                if old is not None:
                    account.id = old.id
                    resource.accounts[resource.accounts.index(old)] = account
                else:
                    resource.accounts.append(account)
                ids.append(account.id)
        return ids

    def derive(self, tasks, now, only_missing=False):
        """Accounts for what ``tasks`` name and no ``resources`` entry declared.

        ``only_missing`` (tasks added later): leave accounts that exist alone.

        Oldest task first, so the newest task that names an account decides
        its passwords: held = the task's current password; for a sub-task of
        an INCONSISTENT task that did not succeed, real = the password that
        task was setting (it reached the resource, SDDC Manager lost it).
        """
        for task in sorted(tasks, key=lambda t: (t.created, t.seq)):
            if not hasattr(task, "subtasks"):
                continue
            for subtask in task.subtasks:
                spec_resource = subtask.resource
                resource = self._resource({"name": spec_resource.name, "id": spec_resource.id,
                                           "type": spec_resource.type, "fqdn": spec_resource.fqdn}, update=False)
                credential = subtask.credential
                account = resource.account(credential.username, credential.credential_type)
                if account is not None and (account.declared or only_missing):
                    continue
                real = credential.password
                if task.status == "INCONSISTENT" and subtask.status != "SUCCESSFUL" and subtask.new_password:
                    real = subtask.new_password
                spec = {"credential_type": credential.credential_type, "account_type": credential.account_type,
                        "username": credential.username, "password": credential.password, "real_password": real}
                if account is None:
                    resource.accounts.append(Account(resource, spec, self._rng, now))
                else:
                    account.password, account.real_password = credential.password, real

    def _resource(self, spec, update):
        key = (spec["name"].lower(), spec["type"])
        resource = self._resources.get(key)
        if resource is None:
            if not spec.get("domains"):
                spec = dict(spec, domains=self._default_domains)
            resource = self._resources[key] = InventoryResource(spec, self._rng)
        elif update:
            # A resources entry wins over what tasks said about the same resource.
            resource.name = spec["name"]
            for attribute, key_name in (("id", "id"), ("fqdn", "fqdn"), ("ip", "ip")):
                if spec.get(key_name):
                    setattr(resource, attribute, spec[key_name])
            if spec.get("domains"):
                resource.domains = list(spec["domains"])
        return resource

    # -- reading --------------------------------------------------------

    def resources(self):
        return list(self._resources.values())

    def accounts(self):
        return [account for resource in self._resources.values() for account in resource.accounts]

    def by_id(self, credential_id):
        for account in self.accounts():
            if account.id == credential_id:
                return account
        return None

    def find_resources(self, name=None, resource_id=None):
        """Resources matching a name (case-insensitive) and/or an id; every one given must match."""
        found = []
        for resource in self._resources.values():
            if name and name.lower() != resource.name.lower():
                continue
            if resource_id and resource_id != resource.id:
                continue
            found.append(resource)
        return found

    def account_of(self, resource_name, resource_type, username, credential_type):
        resource = self._resources.get((resource_name.lower(), resource_type))
        return resource.account(username, credential_type) if resource is not None else None

    def filter(self, resource_name=None, resource_ip=None, resource_type=None, domain_name=None,
               account_type=None):
        """``GET /v1/credentials`` filters; each one given must match."""
        out = []
        for account in self.accounts():
            resource = account.resource
            if resource_name is not None and resource_name.lower() != resource.name.lower():
                continue
            if resource_ip is not None and resource_ip != resource.ip:
                continue
            if resource_type is not None and resource_type != resource.type:
                continue
            if domain_name is not None and domain_name.lower() not in (d.lower() for d in resource.domains):
                continue
            if account_type is not None and account_type != account.account_type:
                continue
            out.append(account)
        return out

    # -- changes --------------------------------------------------------

    def record_run(self, task, run_status, end):
        """A run of ``task`` ended at ``end``: update the accounts its sub-tasks touched.

        A SUCCESSFUL sub-task set its new password on the resource and SDDC
        Manager recorded it (held = real = new).  When the run ended
        INCONSISTENT, the sub-tasks that did not succeed set it on the resource
        only (real = new).  Any other end changes nothing.
        """
        for subtask in task.subtasks:
            account = self.account_of(subtask.resource.name, subtask.resource.type,
                                      subtask.credential.username, subtask.credential.credential_type)
            if account is None:
                continue
            if task.type == "UPDATE_AUTO_ROTATE_POLICY":
                if subtask.status == "SUCCESSFUL" and task.auto_rotate_policy is not None:
                    account.set_policy(task.auto_rotate_policy, end)
                continue
            if subtask.new_password is None:
                continue
            if subtask.status == "SUCCESSFUL":
                account.password = account.real_password = subtask.new_password
                account.modified = end
            elif run_status == "INCONSISTENT":
                account.real_password = subtask.new_password


def rule_matches(match, account):
    """Whether an ``operations.rules[].match`` names ``account`` (operation checked elsewhere)."""
    resource = account.resource
    if match["resource"] is not None and not fnmatch.fnmatchcase(resource.name.lower(), match["resource"].lower()):
        return False
    if match["resource_type"] is not None and resource.type not in match["resource_type"]:
        return False
    return match["username"] is None or fnmatch.fnmatchcase(account.username, match["username"])
