#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: credentials_task_bulk_retry
short_description: Retry many failed SDDC Manager credentials tasks in one call
version_added: 0.1.0
description:
  - Retries every FAILED task among the given ones, or every FAILED task SDDC Manager has (O(discover=true)),
    in one module run, and optionally waits for all of them together.
  - Each task follows the rules of M(vcf.sddc_manager.credentials_task_retry) - only FAILED tasks are retried,
    ROTATE requests are rebuilt from the task, UPDATE and REMEDIATE need the new passwords. Tasks that are already
    running are not retried but watched - with O(wait=true) they are waited for and reported like the retried
    ones - and tasks that already succeeded are skipped.
  - An INCONSISTENT task cannot be retried. With an entry in O(tasks) with O(tasks[].operation_type=REMEDIATE)
    a REMEDIATE operation is started on its resources and followed like a retry (RV(remediated_ids)); without one
    nothing is sent for it - a named one is an error, a discovered one is listed in RV(needs_input). Once a newer
    task on its resources exists, an INCONSISTENT task no longer decides and discovery leaves it out.
  - Only V(SUCCESSFUL) (or V(COMPLETED_WITH_WARNING)) counts as success; any other end fails the module unless
    O(fail_on_failure=false).
  - Use this module for more than a few tasks, or when speed matters - one module run and one status read for
    all tasks replace one module run per task. Use M(vcf.sddc_manager.credentials_task_retry) in a loop when you
    want one result per task in the play output.
author:
  - vcf.sddc_manager maintainers (@vcf-sddc-manager)
options:
  task_ids:
    description:
      - Ids of tasks to retry that need no passwords (ROTATE tasks, typically).
    type: list
    elements: str
    default: []
  tasks:
    description:
      - Tasks with the retry request to send, in the form of M(vcf.sddc_manager.credentials_task_retry)'s options.
    type: list
    elements: dict
    default: []
    suboptions:
      task_id:
        description: Id of the task.
        type: str
        required: true
      operation_type:
        description:
          - Operation of the retry request; it must be the task's own.
          - For an INCONSISTENT task, which SDDC Manager does not retry, V(REMEDIATE) with O(tasks[].elements) holding
            the password really set on the account starts a new REMEDIATE operation on the task's resources, as
            M(vcf.sddc_manager.credentials) does.
        type: str
        choices: [UPDATE, ROTATE, REMEDIATE, UPDATE_AUTO_ROTATE_POLICY]
      elements:
        description: Resources and accounts, as in M(vcf.sddc_manager.credentials_task_retry).
        type: list
        elements: dict
        suboptions:
          resource_name:
            description: Name of the resource.
            type: str
          resource_id:
            description: Id of the resource.
            type: str
          resource_type:
            description:
              - Type of the resource, in upper case as the API spells it. Known types (VCF 4.x to 9.1) are
                V(ESXI), V(VCENTER), V(PSC), V(NSXT_MANAGER), V(NSXT_EDGE), V(NSX_ALB), V(BACKUP), V(HCX_MANAGER), V(VSP),
                V(SDDC_MANAGER), V(NSX_MANAGER), V(NSX_CONTROLLER), V(NSX_EDGE), V(VXRAIL_MANAGER), V(VRSLCM), V(WSA), V(VRLI),
                V(VROPS) and V(VRA); a known type in another case is upper-cased.
              - Another upper-case type is sent as given with a warning, so a newer release's types work; SDDC Manager
                validates it.
            type: str
            required: true
          credentials:
            description: Accounts of the resource.
            type: list
            elements: dict
            required: true
            suboptions:
              credential_type:
                description: Kind of account.
                type: str
                choices: [SSO, SSH, API, FTP, AUDIT]
              account_type:
                description: Owner of the account.
                type: str
                choices: [USER, SYSTEM, SERVICE]
              username:
                description: User name of the account.
                type: str
                required: true
              password:
                description: New password, for UPDATE and REMEDIATE only.
                type: str
      auto_rotate_policy:
        description: Auto-rotate policy, for UPDATE_AUTO_ROTATE_POLICY tasks.
        type: dict
        suboptions:
          enable_auto_rotate_policy:
            description: Whether SDDC Manager rotates the passwords on its own.
            type: bool
            required: true
          frequency_in_days:
            description: Days between rotations, 1 to 90.
            type: int
  discover:
    description:
      - Also retry every FAILED credentials task SDDC Manager lists, and watch every running one, narrowed by
        O(resource_types) and O(resource_names). Discovered UPDATE and REMEDIATE tasks need an entry in O(tasks)
        with passwords, and discovered INCONSISTENT ones an entry with O(tasks[].operation_type=REMEDIATE).
    type: bool
    default: false
  resource_types:
    description:
      - With O(discover=true), only tasks that touch resources of these types (any case).
      - A type that no release from VCF 4.x to 9.1 has (a typo such as V(ESX)) is refused before any request.
    type: list
    elements: str
    default: []
  resource_names:
    description: With O(discover=true), only tasks that touch these resources (case does not matter).
    type: list
    elements: str
    default: []
  wait:
    description: Wait for all retried and watched (already running) tasks to end.
    type: bool
    default: false
  concurrency:
    description:
      - How many tasks are read and retried in parallel, 1 to 32.
      - Each retry is one or two short requests; SDDC Manager runs the retried tasks concurrently whatever the
        pace they are sent at, so sending them in parallel shortens the play without adding work on the server.
    type: int
    default: 16
  fail_on_failure:
    description:
      - Fail when a task cannot be retried, or (with O(wait=true)) ends any other way than successfully or is still
        running at O(wait_timeout). The per-task outcome is returned either way.
    type: bool
    default: true
  end_session:
    description:
      - Revoke O(refresh_token) at the end of this run, so that a play that logged in with M(vcf.sddc_manager.token)
        needs no run of it with O(vcf.sddc_manager.token#module:state=absent) at its end (one module start-up less).
      - V(never) leaves the session open. V(when_done) revokes it when no retried or watched task is still running
        at the end of this run (all ended, or none to follow), and leaves it open for a later
        M(vcf.sddc_manager.credentials_task_wait) otherwise. V(at_end) revokes it whatever this run leaves running
        (the last run of the play).
      - Only after the tasks were retried (and waited for); a run that stops on an error leaves the session open,
        for the play to revoke it.
      - Best effort, within 20 seconds. A revoke that fails (SDDC Manager unreachable, or a restart already ended
        the session) changes no outcome; RV(session_end_msg) says why, and the refresh token ends on its own.
    type: str
    choices: [never, when_done, at_end]
    default: never
extends_documentation_fragment:
  - vcf.sddc_manager.connection
  - vcf.sddc_manager.connection.action_group
  - vcf.sddc_manager.wait
attributes:
  check_mode:
    description: Reads the tasks and reports which would be retried; sends no retry request.
    support: full
  diff_mode:
    description: Shows the status of each task before and after.
    support: full
notes:
  - A task that cannot be retried does not stop the others; the module retries what it can and then reports
    every task that it could not retry.
  - An id in O(task_ids) or O(tasks) that SDDC Manager does not know (a typo) is reported in RV(errors) with its
    id; the other tasks are still retried, and the module fails at the end unless O(fail_on_failure=false).
  - A discovered task whose retry needs passwords or a policy is reported in RV(needs_input) and left as it is;
    a task named in O(task_ids) that needs them is an error.
seealso:
  - module: vcf.sddc_manager.credentials_task_retry
  - module: vcf.sddc_manager.credentials_task_wait
"""

EXAMPLES = r"""
- name: Retry every failed ESXi credentials task and wait for all of them
  vcf.sddc_manager.credentials_task_bulk_retry:
    hostname: sddc-manager.example.com
    access_token: "{{ sddc_login.access_token }}"
    refresh_token: "{{ sddc_login.refresh_token }}"
    discover: true
    resource_types: [ESXI]
    wait: true
  register: bulk

- name: Retry two ROTATE tasks and one UPDATE task
  vcf.sddc_manager.credentials_task_bulk_retry:
    task_ids:
      - 2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
      - 3e1a4d5f-6b7c-4d8e-9fa0-1b2c3d4e5f6a
    tasks:
      - task_id: 7a1e9b0c-1111-4c2d-9e3f-4a5b6c7d8e9f
        operation_type: UPDATE
        elements:
          - resource_name: vcenter-01.example.com
            resource_type: VCENTER
            credentials:
              - credential_type: SSH
                username: root
                password: "{{ vault_vcenter_root_password }}"

# Ad hoc, preview of what would be retried:
#   ansible localhost -m vcf.sddc_manager.credentials_task_bulk_retry -a discover=true --check
"""

RETURN = r"""
retried_ids:
  description: Ids of the tasks retried in this run (named C(retried) before 0.1.0 was released).
  returned: always
  type: list
  elements: str
remediated_ids:
  description:
    - Ids of the REMEDIATE tasks started in this run for INCONSISTENT tasks (each line of RV(results) with action
      V(remediated) names its C(remediation_task_id)). With O(wait=true) they are waited for like the retried ones.
  returned: always
  type: list
  elements: str
would_remediate_ids:
  description: In check mode, ids of the INCONSISTENT tasks a REMEDIATE operation would be started for.
  returned: in check mode
  type: list
  elements: str
watched_ids:
  description:
    - Ids of the tasks that were already running (retried earlier, or by someone else). They are not retried; with
      O(wait=true) they are waited for and reported like the retried ones.
  returned: always
  type: list
  elements: str
skipped_ids:
  description:
    - Ids of the tasks left alone because they already succeeded.
    - Not named C(skipped), which Ansible reads as "this task was skipped".
  returned: always
  type: list
  elements: str
would_retry_ids:
  description: In check mode, ids of the tasks that would be retried (named C(would_retry) before 0.1.0 was released).
  returned: in check mode
  type: list
  elements: str
errors:
  description: Tasks that could not be retried, each with C(task_id) and C(msg).
  returned: always
  type: list
  elements: dict
needs_input:
  description:
    - Tasks found by O(discover=true) that cannot be retried without what only a person can give (the new passwords
      of an UPDATE or REMEDIATE task, the policy of an UPDATE_AUTO_ROTATE_POLICY task), each with C(task_id),
      C(type) and C(msg) saying what to give in O(tasks). They are left as they are, do not stop the others and
      do not fail the module; each is named in a warning.
  returned: always
  type: list
  elements: dict
results:
  description: One entry per task - C(task_id), C(type), C(action) (V(retried), V(would_retry), V(watched),
    V(skipped), V(remediated), V(would_remediate), V(needs_input) or V(error)), C(remediation_task_id) for
    V(remediated), C(judged_by) and C(judged_by_status) for a skipped INCONSISTENT task that a newer task on the
    same resources, which succeeded or is still running, now decides (a newer task that did not succeed makes the
    INCONSISTENT one an error naming it), C(status_before), C(status), C(resources), C(msg), and for retried tasks (and for tasks
    another client retried just before this run) C(retried_at) (UTC) and C(state_before), the task as read before
    that retry (snake_case, without passwords), which
    M(vcf.sddc_manager.credentials_task_wait) takes in O(vcf.sddc_manager.credentials_task_wait#module:after_retry).
  returned: always
  type: list
  elements: dict
succeeded_ids:
  description: With O(wait=true), retried and watched tasks that ended SUCCESSFUL (or COMPLETED_WITH_WARNING).
  returned: always
  type: list
  elements: str
failed_ids:
  description: With O(wait=true), retried and watched tasks that ended FAILED, INCONSISTENT, cancelled, skipped or
    timed out.
  returned: always
  type: list
  elements: str
unknown_ids:
  description: With O(wait=true), retried and watched tasks that ended in a status this collection does not know.
  returned: always
  type: list
  elements: str
pending_ids:
  description: With O(wait=true), retried and watched tasks still running at O(wait_timeout).
  returned: always
  type: list
  elements: str
failed_subtasks:
  description: Failure report of the tasks that did not succeed, as in M(vcf.sddc_manager.credentials_task_retry).
  returned: always
  type: list
  elements: dict
ended_at:
  description:
    - For each task that ended while this module watched it, when its end was first seen, in UTC by the clock of
      the host that ran the module - the clock the retry time is taken from, so a duration never mixes the clocks
      of two machines. A task that had already ended at the first read has that read's time.
  returned: always
  type: dict
  sample: {"2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f": "2026-11-27T10:04:15.250000Z"}
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
tasks:
  description:
    - With O(wait=true), the retried and watched tasks as last read, snake_case, without passwords, as
      M(vcf.sddc_manager.credentials_task_wait) returns them.
  returned: when O(wait=true) and tasks were retried or watched
  type: list
  elements: dict
session_ended:
  description: Whether this run revoked O(refresh_token) (O(end_session)).
  returned: when the tasks were retried (the run did not stop on an error)
  type: bool
session_end_msg:
  description: Why the refresh token could not be revoked (O(end_session)); never holds a token.
  returned: when this run tried to revoke the refresh token and could not
  type: str
"""

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _batch, _spec, _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule, wait_argument_spec


def main():
    argument_spec = dict(
        task_ids=dict(type="list", elements="str", default=[]),
        tasks=dict(type="list", elements="dict", default=[], options=dict(task_id=dict(type="str", required=True),
                                                                          **_spec.spec_options())),
        discover=dict(type="bool", default=False),
        resource_types=dict(type="list", elements="str", default=[]),
        resource_names=dict(type="list", elements="str", default=[]),
        wait=dict(type="bool", default=False),
        fail_on_failure=dict(type="bool", default=True),
        concurrency=dict(type="int", default=16),
        end_session=dict(type="str", choices=list(_batch.END_SESSION), default="never"),
    )
    argument_spec.update(wait_argument_spec())
    module = SddcManagerModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    module.check_range("concurrency", 1, 32, "parallel requests")
    requests_by_id = _collect_requests(module)
    try:
        run = _batch.select_and_retry(module.client, requests_by_id, p, module.check_mode)
    except SddcManagerError as exc:
        module.fail_from(exc)
    out = run.summary()
    out.update(succeeded_ids=[], failed_ids=[], unknown_ids=[], pending_ids=[], failed_subtasks=[], ended_at={},
               elapsed=0.0)
    if run.fatal is not None:
        # The server became unusable for everyone: report what was done before stopping.
        module.fail_from(run.fatal, **module.redact(dict(out, changed=bool(out["retried_ids"]))))
    problems = [e["msg"] for e in run.errors]
    for item in run.needs_input:
        module.warn(item["msg"])
    if p["wait"] and run.followed:
        try:
            waited = _batch.wait_after_writes(module.client, run.followed, run.baselines, run.known,
                                              p["wait_timeout"], p["wait_sleep"])
        except SddcManagerError as exc:
            module.fail_from(exc, **module.redact(out))
        problems.extend(module.add_wait_outcome(out, waited, run.followed))
        if waited.pending_ids:
            problems.append("still running after wait_timeout (%d s): %s" % (p["wait_timeout"],
                                                                             waited.describe_pending()))
        run.update_statuses(waited.tasks)
    if module._diff:
        out["diff"] = {"before": dict((r["task_id"], r["status_before"]) for r in run.results),
                       "after": dict((r["task_id"], _predicted(r)) for r in run.results)}
    out = module.redact(out)
    out["msg"] = _summary(out)
    # The last thing this run sends: nothing after it needs the session.
    running = out["pending_ids"] or (run.followed and not p["wait"])
    out.update(_batch.end_session(module.client, p["end_session"], running))
    if problems and p["fail_on_failure"]:
        module.fail_json(**dict(out, msg="%s Problems: %s" % (out["msg"], " | ".join(problems))))
    module.exit_json(**out)


def _collect_requests(module):
    """``{task_id: retry options}`` from task_ids and tasks, validated before any request."""
    p = module.params
    requests_by_id = dict((task_id, {}) for task_id in p["task_ids"] if task_id)
    problems = []
    for index, item in enumerate(p["tasks"]):
        for problem in _spec.validate(item):
            problems.append("tasks[%d] (task %s): %s" % (index, item["task_id"], problem))
        module.warn_resource_types(item)
        requests_by_id[item["task_id"]] = item
    if problems:
        module.fail_problems(problems, heading="Invalid retry options")
    if not requests_by_id and not p["discover"]:
        module.fail_json(msg="Nothing to retry: give task_ids, tasks, or discover: true.")
    if not p["discover"] and (p["resource_types"] or p["resource_names"]):
        module.fail_json(msg="resource_types and resource_names filter discovered tasks; set discover: true.")
    module.check_filters(resource_types=("resource_types", p["resource_types"]))
    return requests_by_id


def _predicted(line):
    if line["action"] == "would_retry":
        return _verdict.PREDICTED_STATUS["retry"]
    return line["status"]


def _summary(out):
    text = "%d retried, %d already running, %d skipped, %d could not be retried, %d need input." % (
        len(out.get("would_retry_ids", out["retried_ids"])), len(out["watched_ids"]), len(out["skipped_ids"]),
        len(out["errors"]), len(out["needs_input"]))
    remediated = out.get("would_remediate_ids", out["remediated_ids"])
    if remediated:
        how = "would be remediated" if "would_remediate_ids" in out else "remediated"
        text = text[:-1] + ", %d INCONSISTENT %s." % (len(remediated), how)
    if out["succeeded_ids"] or out["failed_ids"] or out["unknown_ids"] or out["pending_ids"]:
        text += " After waiting %.0f s: %d succeeded, %d did not succeed, %d still running." % (
            out["elapsed"], len(out["succeeded_ids"]), len(out["failed_ids"]) + len(out["unknown_ids"]),
            len(out["pending_ids"]))
    return text


if __name__ == "__main__":
    main()
