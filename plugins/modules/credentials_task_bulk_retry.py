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
    running and finished ones are skipped, ROTATE requests are rebuilt from the task, UPDATE and REMEDIATE need
    the new passwords.
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
        description: Operation of the retry request; it must be the task's own.
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
            description: Type of the resource.
            type: str
            required: true
            choices: [ESXI, VCENTER, PSC, NSXT_MANAGER, NSXT_EDGE, NSX_ALB, BACKUP, SDDC_MANAGER, VXRAIL_MANAGER, VRSLCM, WSA, VRLI,
                  VROPS, VRA]
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
      - Also retry every FAILED credentials task SDDC Manager lists, narrowed by O(resource_types) and
        O(resource_names). Discovered UPDATE and REMEDIATE tasks need an entry in O(tasks) with passwords.
    type: bool
    default: false
  resource_types:
    description: With O(discover=true), only tasks that touch resources of these types.
    type: list
    elements: str
    default: []
  resource_names:
    description: With O(discover=true), only tasks that touch these resources.
    type: list
    elements: str
    default: []
  wait:
    description: Wait for all retried tasks to end.
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
      - Fail when a task cannot be retried, or (with O(wait=true)) ends FAILED again or times out.
        The per-task outcome is returned either way.
    type: bool
    default: true
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
retried:
  description: Ids of the tasks retried in this run.
  returned: always
  type: list
  elements: str
skipped_ids:
  description:
    - Ids of the tasks left alone because they were already running or already succeeded.
    - Not named C(skipped), which Ansible reads as "this task was skipped".
  returned: always
  type: list
  elements: str
would_retry:
  description: In check mode, ids of the tasks that would be retried.
  returned: in check mode
  type: list
  elements: str
errors:
  description: Tasks that could not be retried, each with C(task_id) and C(msg).
  returned: always
  type: list
  elements: dict
results:
  description: One entry per task - C(task_id), C(type), C(action) (V(retried), V(would_retry), V(skipped) or
    V(error)), C(status_before), C(status), C(resources), C(msg), and C(retried_at) (UTC) for retried tasks.
  returned: always
  type: list
  elements: dict
succeeded_ids:
  description: With O(wait=true), retried tasks that ended SUCCESSFUL.
  returned: always
  type: list
  elements: str
failed_ids:
  description: With O(wait=true), retried tasks that ended FAILED or otherwise unsuccessful.
  returned: always
  type: list
  elements: str
pending_ids:
  description: With O(wait=true), retried tasks still running at O(wait_timeout).
  returned: always
  type: list
  elements: str
failed_subtasks:
  description: Failure report of the tasks that failed again, as in M(vcf.sddc_manager.credentials_task_retry).
  returned: always
  type: list
  elements: dict
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
tasks:
  description:
    - With O(wait=true), the retried tasks as last read, snake_case, without passwords, as
      M(vcf.sddc_manager.credentials_task_wait) returns them.
  returned: when O(wait=true) and tasks were retried
  type: list
  elements: dict
"""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _spec, _status, _tasks
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule, wait_argument_spec
from ansible_collections.vcf.sddc_manager.plugins.module_utils._waiter import Waiter, baseline_of


def task_options():
    options = dict(task_id=dict(type="str", required=True))
    options.update(_spec.spec_options())
    return options


def main():
    argument_spec = dict(
        task_ids=dict(type="list", elements="str", default=[]),
        tasks=dict(type="list", elements="dict", default=[], options=task_options()),
        discover=dict(type="bool", default=False),
        resource_types=dict(type="list", elements="str", default=[]),
        resource_names=dict(type="list", elements="str", default=[]),
        wait=dict(type="bool", default=False),
        fail_on_failure=dict(type="bool", default=True),
        concurrency=dict(type="int", default=16),
    )
    argument_spec.update(wait_argument_spec())
    module = SddcManagerModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if not 1 <= p["concurrency"] <= 32:
        module.fail_json(msg="concurrency must be between 1 and 32 parallel requests, got %d." % p["concurrency"])
    requests_by_id = _collect_requests(module)
    client = module.client
    try:
        selected = _tasks.select_tasks(client, list(requests_by_id), discover=p["discover"],
                                       resource_types=p["resource_types"], resource_names=p["resource_names"])
    except SddcManagerError as exc:
        module.fail_from(exc)

    def retry_one(item):
        task_id, task = item
        try:
            outcome = _tasks.retry(client, task_id, requests_by_id.get(task_id, {}), module.check_mode, task=task)
        except SddcManagerError as exc:
            return task_id, task, None, exc
        return task_id, task, outcome, None

    workers = max(1, min(p["concurrency"], len(selected)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(retry_one, selected.items()))

    results, errors, retried, before, fatal = [], [], [], {}, None
    for task_id, task, outcome, exc in outcomes:
        if exc is not None:
            if exc.kind in ("connection", "tls", "auth", "timeout"):
                fatal = fatal or exc
            errors.append({"task_id": task_id, "msg": exc.message})
            results.append(_entry(task, task, "error", exc.message))
            continue
        before[task_id] = task
        action = "skipped"
        if outcome["changed"]:
            action = "would_retry" if module.check_mode else "retried"
            retried.append(task_id)
        entry = _entry(task, outcome["task"], action, outcome["msg"])
        if action == "retried":
            entry["retried_at"] = outcome["retried_at"]
        results.append(entry)
    if fatal is not None:
        # The server became unusable for everyone: report what was done before stopping.
        # Retries accepted before the failure did change SDDC Manager: say so.
        module.fail_from(fatal, changed=bool(retried) and not module.check_mode,
                         retried=[] if module.check_mode else retried, results=module.redact(results),
                         errors=errors)

    out = dict(changed=bool(retried), retried=[] if module.check_mode else retried,
               skipped_ids=[r["task_id"] for r in results if r["action"] == "skipped"], errors=errors,
               succeeded_ids=[], failed_ids=[], pending_ids=[], failed_subtasks=[], elapsed=0.0)
    if module.check_mode:
        out["would_retry"] = retried
    if p["wait"] and retried and not module.check_mode:
        waiter = Waiter(lambda ids: _tasks.fetch_tasks(client, ids), p["wait_timeout"], p["wait_sleep"])
        try:
            waited = waiter.wait(retried, baselines=dict((i, baseline_of(before[i])) for i in retried))
            module.warn_unknown_statuses(waited.tasks.values())
        except SddcManagerError as exc:
            module.fail_from(exc, changed=True, retried=retried, results=module.redact(results))
        for entry in results:
            if entry["task_id"] in waited.tasks:
                entry["status"] = _status.normalize(waited.tasks[entry["task_id"]].get("status"))
        ended = [waited.tasks[i] for i in retried if i not in waited.pending_ids]
        out.update(succeeded_ids=[t["id"] for t in ended if _status.succeeded(t.get("status"))],
                   failed_ids=[t["id"] for t in ended if _status.unsuccessful(t.get("status"))],
                   pending_ids=waited.pending_ids, elapsed=round(waited.elapsed, 1),
                   failed_subtasks=[e for t in ended for e in _tasks.failure_report(t)],
                   tasks=[module.describe_task(waited.tasks[i]) for i in retried])
    out["results"] = results
    if module._diff:
        out["diff"] = {"before": dict((r["task_id"], r["status_before"]) for r in results),
                       "after": dict((r["task_id"], _predicted(r, module.check_mode)) for r in results)}
    out = module.redact(out)
    out["msg"] = _summary(out)
    problems = [e["msg"] for e in errors] + _tasks.describe_failures(out["failed_subtasks"])
    if out["pending_ids"]:
        problems.append("still running after wait_timeout (%d s): %s" % (p["wait_timeout"], ", ".join(out["pending_ids"])))
    if problems and p["fail_on_failure"]:
        out["msg"] = "%s Problems: %s" % (out["msg"], " | ".join(problems))
        module.fail_json(**out)
    module.exit_json(**out)


def _collect_requests(module):
    """``{task_id: retry options}`` from task_ids and tasks, validated before any request."""
    p = module.params
    requests_by_id = dict((task_id, {}) for task_id in p["task_ids"] if task_id)
    problems = []
    for index, item in enumerate(p["tasks"]):
        for problem in _spec.validate(item):
            problems.append("tasks[%d] (task %s): %s" % (index, item["task_id"], problem))
        requests_by_id[item["task_id"]] = item
    if problems:
        module.fail_problems(problems, heading="Invalid retry options")
    if not requests_by_id and not p["discover"]:
        module.fail_json(msg="Nothing to retry: give task_ids, tasks, or discover: true.")
    if not p["discover"] and (p["resource_types"] or p["resource_names"]):
        module.fail_json(msg="resource_types and resource_names filter discovered tasks; set discover: true.")
    return requests_by_id


def _entry(before, after, action, msg):
    return {
        "task_id": before.get("id"),
        "type": before.get("type"),
        "action": action,
        "status_before": _status.normalize(before.get("status")),
        "status": _status.normalize(after.get("status")),
        "resources": _tasks.resources_of(before),
        "msg": msg,
    }


def _predicted(entry, check_mode):
    if check_mode and entry["action"] == "would_retry":
        return _status.IN_PROGRESS
    return entry["status"]


def _summary(out):
    text = "%d retried, %d skipped, %d could not be retried." % (
        len(out.get("would_retry", out["retried"])), len(out["skipped_ids"]), len(out["errors"]))
    if out["succeeded_ids"] or out["failed_ids"] or out["pending_ids"]:
        text += " After waiting %.0f s: %d succeeded, %d failed, %d still running." % (
            out["elapsed"], len(out["succeeded_ids"]), len(out["failed_ids"]), len(out["pending_ids"]))
    return text


if __name__ == "__main__":
    main()
