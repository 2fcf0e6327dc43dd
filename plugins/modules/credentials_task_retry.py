#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: credentials_task_retry
short_description: Retry a failed SDDC Manager credentials (password) task
version_added: 0.1.0
description:
  - Retries a FAILED credentials task, which unblocks further password operations on its resources.
  - The task is read first. Only a FAILED task is retried. A task that is already running or already succeeded
    is left alone and reported as unchanged, so the module can run again safely.
  - For a ROTATE task the retry request can be rebuilt from the task itself; UPDATE and REMEDIATE tasks need the
    new passwords in O(elements).
  - Optionally waits for the task to end - the retried task, or one that was already running - and reports how it
    ended. Only V(SUCCESSFUL) (or V(COMPLETED_WITH_WARNING)) counts as success; any other end (V(FAILED),
    V(INCONSISTENT), cancelled, skipped, timed out, or a status this collection does not know) fails the module
    with the error and the remediation SDDC Manager gave.
author:
  - vcf.sddc_manager maintainers (@vcf-sddc-manager)
options:
  task_id:
    description:
      - Id of the FAILED credentials task.
    type: str
    required: true
  wait:
    description:
      - Wait for the task to end and report how it ended. This covers a task this run retried and a task that was
        already running (retried earlier, by this module or by someone else); C(changed) stays V(true) only when
        this run sent a retry.
      - With V(false) the module returns as soon as SDDC Manager accepts the retry.
    type: bool
    default: false
  fail_on_failure:
    description:
      - With O(wait=true), fail when the task ends any other way than successfully (V(FAILED), V(INCONSISTENT),
        cancelled, skipped, timed out, or a status this collection does not know). The failure report is returned
        either way.
    type: bool
    default: true
extends_documentation_fragment:
  - vcf.sddc_manager.connection
  - vcf.sddc_manager.connection.action_group
  - vcf.sddc_manager.credentials_spec
  - vcf.sddc_manager.wait
attributes:
  check_mode:
    description: Reads the task and reports whether it would be retried; sends no retry request.
    support: full
  diff_mode:
    description: Shows the status of the task before and after.
    support: full
notes:
  - SDDC Manager accepts a retry only for a FAILED task. A task that was cancelled or is INCONSISTENT cannot be
    retried; the module fails and says what to do instead. An INCONSISTENT task is repaired by a new V(REMEDIATE)
    operation, which M(vcf.sddc_manager.credentials) starts.
  - If the answer to the retry request is lost, the module reads the task to learn whether the retry was
    accepted. It never sends the request twice.
  - To retry many tasks in one play, M(vcf.sddc_manager.credentials_task_wait) waits for all of them in one process.
seealso:
  - module: vcf.sddc_manager.credentials_task_wait
  - module: vcf.sddc_manager.credentials_task_cancel
  - module: vcf.sddc_manager.credentials
"""

EXAMPLES = r"""
- name: Retry a failed ROTATE task; the request is rebuilt from the task
  vcf.sddc_manager.credentials_task_retry:
    hostname: sddc-manager.example.com
    username: administrator@vsphere.local
    password: "{{ vault_sddc_password }}"
    task_id: 2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
    wait: true

- name: Retry a failed UPDATE task with the passwords to set
  vcf.sddc_manager.credentials_task_retry:
    hostname: sddc-manager.example.com
    access_token: "{{ sddc_login.access_token }}"
    refresh_token: "{{ sddc_login.refresh_token }}"
    task_id: 7a1e9b0c-1111-4c2d-9e3f-4a5b6c7d8e9f
    operation_type: UPDATE
    elements:
      - resource_name: esxi-01.example.com
        resource_type: ESXI
        credentials:
          - credential_type: SSH
            username: root
            password: "{{ vault_esxi01_root_password }}"
    wait: true
    wait_timeout: 900
  register: retried

- name: Show what failed again, if anything
  ansible.builtin.debug:
    var: retried.failed_subtasks
  when: retried.failed_subtasks | default([]) | length > 0

# Ad hoc, connection from SDDC_MANAGER_* environment variables, preview only:
#   ansible localhost -m vcf.sddc_manager.credentials_task_retry -a 'task_id=2d0f3c4e-...' --check --diff
"""

RETURN = r"""
task:
  description:
    - The task as SDDC Manager last reported it, snake_case, without passwords. After a retry without O(wait) this
      is the generic task view SDDC Manager answers with (statuses like V(In Progress)); compare RV(status) instead.
  returned: always
  type: dict
status:
  description: Normalised status of the task after this run (upper case, underscores).
  returned: always
  type: str
  sample: IN_PROGRESS
status_before:
  description: Normalised status of the task when this run first read it.
  returned: always
  type: str
  sample: FAILED
verdict:
  description:
    - The collection's verdict on RV(status) - V(succeeded), V(running), V(attention) (failed, INCONSISTENT,
      cancelled, skipped, timed out) or V(unknown) (a status this collection does not know; never a success).
  returned: always
  type: str
  sample: succeeded
retried:
  description: Whether a retry request was accepted by SDDC Manager in this run.
  returned: always
  type: bool
task_id:
  description:
    - Id of the task this run followed. The same as O(task_id) unless SDDC Manager answered the retry with another task.
  returned: always
  type: str
failed_subtasks:
  description:
    - One entry per error of a task that did not succeed (failed sub-tasks, dependent sub-tasks included), to fix
      before the next retry. A task that did not succeed without giving any error still has one entry saying so.
  returned: when the task did not succeed
  type: list
  elements: dict
  contains:
    task_id:
      description: Task id.
      type: str
    resource_name:
      description: Resource whose account failed.
      type: str
    resource_type:
      description: Type of that resource.
      type: str
    username:
      description: Account that failed.
      type: str
    credential_type:
      description: Credential type of that account (V(SSH), V(API), V(SSO), ...).
      type: str
    subtask:
      description: Name of the failed sub-task.
      type: str
    status:
      description: Status of the failed sub-task (or of the task, for an error of the task itself).
      type: str
    error_code:
      description: SDDC Manager error code.
      type: str
    message:
      description: Error message.
      type: str
    remediation:
      description:
        - What SDDC Manager advises to do (for SDDC Manager 9.1, the first remediation of its notifications when
          the error has no remediation message; for INCONSISTENT and cancelled tasks, what to do next).
      type: str
    remediation_links:
      description: Links to the documentation or knowledge base articles SDDC Manager gives for this error.
      type: list
      elements: str
    notifications:
      description:
        - SDDC Manager 9.1 notifications of the error, each with C(severity), C(message), C(impact_message) and
          C(remediations) (a list of C(message) and C(link)). Empty for older releases.
      type: list
      elements: dict
    reference_token:
      description: Token correlating the error with SDDC Manager logs, for a support request.
      type: str
elapsed:
  description: Seconds spent waiting, with O(wait=true).
  returned: when O(wait=true) and the task was retried or already running
  type: float
"""

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _batch, _spec, _status, _tasks, _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule, wait_argument_spec


def main():
    argument_spec = dict(
        task_id=dict(type="str", required=True),
        wait=dict(type="bool", default=False),
        fail_on_failure=dict(type="bool", default=True),
    )
    argument_spec.update(_spec.spec_options())
    argument_spec.update(wait_argument_spec())
    module = SddcManagerModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    module.check_retry_options(p)
    try:
        result = _tasks.retry(module.client, p["task_id"], p, check_mode=module.check_mode)
    except SddcManagerError as exc:
        module.fail_from(exc, task_id=p["task_id"])
    followed = result["task_id"]
    out = _result(module, result)
    if not p["wait"] or module.check_mode or not (result["baseline"] or _verdict.verdict(result["task"]).running):
        module.exit_json(**out)
    try:
        waited = _batch.wait_after_writes(module.client, [followed], {followed: result["baseline"]} if
                                          result["baseline"] else {}, None, p["wait_timeout"], p["wait_sleep"])
    except SddcManagerError as exc:
        if not result["retried"]:
            module.fail_from(exc, task_id=p["task_id"])
        # The retry went through: the result must say so, whatever stopped the wait.
        out.update(exc.details())
        out["msg"] = "Task %s was retried, but waiting for it to end failed: %s" % (p["task_id"], exc.message)
        module.fail_json(**out)
    module.warn_unknown_statuses(waited.tasks.values())
    for note in waited.outage_notes():
        module.warn(note)
    result["task"] = waited.tasks[followed]
    out = _result(module, result, elapsed=round(waited.elapsed, 1))
    found = _verdict.verdict(result["task"])
    what = "was retried" if result["retried"] else "was already %s when this run started" % out["status_before"]
    if result["baseline"] and not result["retried"]:
        what = "was retried by another client just before this run"
    if waited.timed_out:
        still = "was still %s" % out["status"]
        if waited.unreachable_for:
            still = "its state is not known (SDDC Manager unreachable for the last %d s)" % waited.unreachable_for
        elif waited.watches[followed].unseen:
            still = "its reads still showed the state from before the retry"
        out["msg"] = "Task %s %s but %s after wait_timeout (%d s)." % (followed, what, still, p["wait_timeout"])
        module.fail_json(**out)
    out["msg"] = "Task %s %s and %s." % (followed, what, found.end_words(result["retried"]))
    if found.did_not_succeed:
        out["msg"] = "%s: %s" % (out["msg"][:-1], " | ".join(found.details))
        if p["fail_on_failure"]:
            module.fail_json(**out)
    module.exit_json(**out)


def _result(module, result, **extra):
    """The module's result for the retry as it stands: status, verdict, the task, and the failure report."""
    found = _verdict.verdict(result["task"])
    status = found.status
    if module.check_mode and result["changed"]:
        status = _verdict.PREDICTED_STATUS["retry"]
    out = dict(changed=result["changed"], retried=result["retried"], status=status, verdict=found.state,
               msg=result["msg"], task_id=result["task_id"], task=module.describe_task(result["task"]),
               status_before=_status.normalize(result["before"].get("status")), **extra)
    if result.get("read_error"):
        out["msg"] += (" SDDC Manager's answer did not show the task, and reading it failed: %s"
                       % result["read_error"])
    if module._diff:
        out["diff"] = {"before": {"task_id": module.params["task_id"], "status": out["status_before"]},
                       "after": {"task_id": result["task_id"], "status": status}}
    if found.report and not module.check_mode:
        out["failed_subtasks"] = module.redact(found.report)
    return out


if __name__ == "__main__":
    main()
