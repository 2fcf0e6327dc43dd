#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: credentials
short_description: Start an SDDC Manager password operation (rotate, update, remediate, auto-rotate policy)
version_added: 0.1.0
description:
  - Starts a password operation on the accounts of one or more resources - V(ROTATE), V(UPDATE), V(REMEDIATE) or
    V(UPDATE_AUTO_ROTATE_POLICY) - as a new credentials task, and optionally waits for it to end.
  - V(REMEDIATE) is how an INCONSISTENT resource is repaired - a retry cannot do it. Give the password that is really
    set on the account now. Several accounts are remediated one at a time, one operation each.
  - Before it sends anything, the module reads the credentials tasks. It refuses, naming the task and what to do
    with it, when a resource is locked - it has a FAILED or running credentials task, which must first be retried,
    cancelled or waited for - or when its newest task is INCONSISTENT and the operation is not V(REMEDIATE).
  - V(UPDATE) to the password SDDC Manager already holds for every given account changes nothing and sends nothing
    (the passwords SDDC Manager holds are read and compared in memory, never returned or logged). V(ROTATE) and
    V(REMEDIATE) always start an operation.
  - Only V(SUCCESSFUL) (or V(COMPLETED_WITH_WARNING)) counts as success; with O(wait=true) any other end fails the
    module with the error and the remediation SDDC Manager gave, unless O(fail_on_failure=false).
author:
  - vcf.sddc_manager maintainers (@vcf-sddc-manager)
options:
  wait:
    description:
      - Wait for the operation's task to end and report how it ended.
      - With V(false) the module returns as soon as SDDC Manager accepts the operation (the last one, for a
        V(REMEDIATE) of several accounts, as each before it is waited for anyway).
    type: bool
    default: false
  fail_on_failure:
    description:
      - With O(wait=true), fail when the task ends any other way than successfully (V(FAILED), V(INCONSISTENT),
        cancelled, skipped, timed out, or a status this collection does not know), or is still running at
        O(wait_timeout). The failure report is returned either way.
    type: bool
    default: true
extends_documentation_fragment:
  - vcf.sddc_manager.connection
  - vcf.sddc_manager.connection.action_group
  - vcf.sddc_manager.credentials_spec
  - vcf.sddc_manager.wait
attributes:
  check_mode:
    description: Reads the tasks (and, for V(UPDATE), the accounts) and says which operation would start on which
      accounts, or why it would be refused; sends nothing.
    support: full
  diff_mode:
    description: Shows the operation that would start (or started) and its accounts, without passwords.
    support: full
notes:
  - SDDC Manager remediates one account per V(REMEDIATE) operation (VCF 4.4 and 5.0 documentation). Given several
    accounts, the module starts one V(REMEDIATE) per account, in the order of O(elements), and waits for each
    (O(wait_timeout), O(wait_sleep)) until it ended V(SUCCESSFUL) before it starts the next, whatever O(wait)
    says. Any other end stops it, the accounts that were not remediated are in RV(not_done), and the module fails
    (unless O(fail_on_failure=false)). RV(operations) reports each operation started.
  - The role C(vcf.sddc_manager.retry_credentials_tasks) remediates an INCONSISTENT task given in its
    C(retry_credentials_tasks_specs) with O(operation_type=REMEDIATE), one account at a time in the same way.
  - If the answer to the request is lost, the module reads the task list to learn whether the operation started.
    It never sends the request twice.
  - Requires an SDDC Manager user with the ADMIN role.
seealso:
  - module: vcf.sddc_manager.credentials_task_retry
  - module: vcf.sddc_manager.credentials_task_cancel
  - module: vcf.sddc_manager.credentials_task_wait
"""

EXAMPLES = r"""
- name: Rotate the root password of two ESXi hosts and wait for it
  vcf.sddc_manager.credentials:
    hostname: sddc-manager.example.com
    username: administrator@vsphere.local
    password: "{{ vault_sddc_password }}"
    operation_type: ROTATE
    elements:
      - resource_name: esxi-01.example.com
        resource_type: ESXI
        credentials:
          - {credential_type: SSH, username: root}
      - resource_name: esxi-02.example.com
        resource_type: ESXI
        credentials:
          - {credential_type: SSH, username: root}
    wait: true

- name: Repair an INCONSISTENT account with the password really set on the host
  vcf.sddc_manager.credentials:
    hostname: sddc-manager.example.com
    access_token: "{{ sddc_login.access_token }}"
    refresh_token: "{{ sddc_login.refresh_token }}"
    operation_type: REMEDIATE
    elements:
      - resource_name: esxi-03.example.com
        resource_type: ESXI
        credentials:
          - credential_type: SSH
            username: root
            password: "{{ vault_esxi03_root_password }}"
    wait: true
    wait_timeout: 900
  register: remediated

- name: Set the password SDDC Manager should hold; unchanged when it already holds it
  vcf.sddc_manager.credentials:
    hostname: sddc-manager.example.com
    access_token: "{{ sddc_login.access_token }}"
    refresh_token: "{{ sddc_login.refresh_token }}"
    operation_type: UPDATE
    elements:
      - resource_name: vcenter-01.example.com
        resource_type: VCENTER
        credentials:
          - credential_type: SSH
            username: root
            password: "{{ vault_vcenter01_root_password }}"

# Preview: run the play with --check --diff; it says which operation would start on which accounts and sends
# nothing.
"""

RETURN = r"""
operation_type:
  description: The operation started (or that would start, in check mode).
  returned: always
  type: str
  sample: REMEDIATE
accounts:
  description: The accounts the operation is for, each with C(resource_name), C(resource_id), C(resource_type),
    C(username) and C(credential_type); never a password.
  returned: always
  type: list
  elements: dict
task_id:
  description:
    - Id of the credentials task the operation started (the last one started, for a V(REMEDIATE) of several
      accounts). V(null) when nothing was started (check mode, or an V(UPDATE) to the passwords SDDC Manager already
      holds), or when SDDC Manager accepted the operation but did not say which task it started (the message says
      so).
  returned: always
  type: str
status:
  description:
    - Normalised status of that task after this run (upper case, underscores). In check mode, the status SDDC
      Manager shows right after accepting an operation (V(IN_PROGRESS)).
  returned: when an operation was started, or would be in check mode
  type: str
  sample: IN_PROGRESS
verdict:
  description:
    - The collection's verdict on RV(status) - V(succeeded), V(running), V(attention) (failed, INCONSISTENT,
      cancelled, skipped, timed out) or V(unknown) (a status this collection does not know; never a success).
  returned: when an operation was started
  type: str
  sample: succeeded
task:
  description: The task as SDDC Manager last reported it, snake_case, without passwords.
  returned: when an operation was started
  type: dict
failed_subtasks:
  description:
    - One entry per error of the task when it did not succeed, as in M(vcf.sddc_manager.credentials_task_retry)
      (C(resource_name), C(username), C(error_code), C(message), C(remediation), ...).
  returned: when the task did not succeed
  type: list
  elements: dict
elapsed:
  description: Seconds spent waiting for the last operation started, with O(wait=true).
  returned: when O(wait=true) and an operation was started
  type: float
operations:
  description:
    - One entry per operation started, in order - one, or one per account for a V(REMEDIATE) of several accounts -
      each with C(accounts) (as RV(accounts)), C(task_id), C(status) (normalised, as last read) and C(verdict) (as
      RV(verdict)).
  returned: when an operation was started
  type: list
  elements: dict
  sample:
    - accounts: [{resource_name: esxi-01.example.com, resource_id: null, resource_type: ESXI, username: root,
                  credential_type: SSH}]
      task_id: 3f1c2a9e-6d0b-4a7e-9b8c-1e2d3f4a5b6c
      status: SUCCESSFUL
      verdict: succeeded
not_done:
  description:
    - The accounts no operation was started for, because the V(REMEDIATE) of an account before them did not end
      V(SUCCESSFUL) (or its wait ran out, or the next request failed); the message says why. Never a password.
  returned: when a V(REMEDIATE) of several accounts stopped before the last account
  type: list
  elements: dict
"""

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _batch, _operations, _spec, _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule, wait_argument_spec


def main():
    argument_spec = dict(wait=dict(type="bool", default=False), fail_on_failure=dict(type="bool", default=True))
    argument_spec.update(_spec.spec_options())
    argument_spec.update(wait_argument_spec())
    module = SddcManagerModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    problems = _spec.operation_problems(p)
    if problems:
        module.fail_problems(problems)
    module.warn_resource_types(p)

    def wait_for(task_id):
        # Each REMEDIATE but the last of several accounts is waited for before the next one is sent, wait or not.
        return _batch.wait_after_writes(module.client, [task_id], None, None, p["wait_timeout"], p["wait_sleep"])

    try:
        plan = _operations.plan(module.client, p, on_secret=module.no_log_values.add)
        run = _operations.start_in_turn(module.client, plan, wait_for) if plan.changed and not module.check_mode \
            else None
    except SddcManagerError as exc:
        module.fail_from(exc, operation_type=p["operation_type"])
    out = dict(changed=plan.changed, operation_type=plan.operation, accounts=plan.accounts, task_id=None,
               msg=plan.msg)
    if plan.changed and module.check_mode:
        what = _spec.article(plan.operation)
        if len(plan.steps) > 1:
            what = "%d %s operations, one per account, each after the one before ended SUCCESSFUL," % (
                len(plan.steps), plan.operation)
        out.update(status=_verdict.PREDICTED_STATUS["start"], msg="Check mode: %s would start on %s; nothing was "
                   "sent." % (what, _operations.describe_accounts(plan.accounts)))
    if module._diff:
        out["diff"] = {"before": {"operation_started": None},
                       "after": {"operation_started": {"operation_type": plan.operation, "accounts": plan.accounts}
                                 if plan.changed else None}}
    if run is None:
        module.exit_json(**out)
    last = run.last
    out.update(task_id=last["task_id"], msg=run.msg)
    found = _describe(module, out, last["task"])
    timed_out = False
    if p["wait"] and last["task_id"] and not run.stopped:
        try:
            waited = _batch.wait_after_writes(module.client, [last["task_id"]], None, None, p["wait_timeout"],
                                              p["wait_sleep"])
        except SddcManagerError as exc:
            out.update(exc.details(), operations=_steps(run), msg="%s Waiting for it to end failed: %s" % (
                run.msg, exc.message))
            module.fail_json(**out)
        module.warn_unknown_statuses(waited.tasks.values())
        last["task"] = waited.tasks[last["task_id"]]
        found = _describe(module, out, last["task"], elapsed=round(waited.elapsed, 1))
        timed_out = waited.timed_out
        if timed_out:
            out["msg"] = "%s Task %s was still %s after wait_timeout (%d s)." % (out["msg"], out["task_id"],
                                                                                 out["status"], p["wait_timeout"])
        else:
            out["msg"] = "%s %s" % (out["msg"], found.message)
    out["operations"] = _steps(run)
    if run.stopped:
        # Not every account was changed: a failure even when the last task started ended well.
        out["not_done"] = run.not_done
        if p["fail_on_failure"]:
            module.fail_json(**out)
        module.exit_json(**out)
    if p["wait"] and last["task_id"] and (timed_out or found.did_not_succeed) and p["fail_on_failure"]:
        module.fail_json(**out)
    module.exit_json(**out)


def _steps(run):
    """One entry per operation started: its accounts, task id, status and verdict."""
    out = []
    for step in run.steps:
        found = _verdict.verdict(step["task"])
        out.append(dict(accounts=step["accounts"], task_id=step["task_id"], status=found.status,
                        verdict=found.state))
    return out


def _describe(module, out, task, **extra):
    """Put the task, its status, verdict and failure report into ``out``; return its verdict."""
    found = _verdict.verdict(task)
    out.update(status=found.status, verdict=found.state, task=module.describe_task(task), **extra)
    if found.report:
        out["failed_subtasks"] = module.redact(found.report)
    return found


if __name__ == "__main__":
    main()
