#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: credentials_task_info
short_description: Read SDDC Manager credentials (password) tasks
version_added: 0.1.0
description:
  - Reads one credentials task by id, or lists credentials tasks and filters them by status and resource.
  - Passwords that SDDC Manager includes in tasks (C(oldPassword), C(newPassword)) are never returned.
author:
  - vcf.sddc_manager maintainers (@vcf-sddc-manager)
options:
  task_id:
    description:
      - Id of one credentials task. When set, the filters below do not apply.
    type: str
  status:
    description:
      - Keep only tasks in one of these statuses. Case, spaces and underscores do not matter, so
        V(In Progress) and V(IN_PROGRESS) are the same.
      - A word that is not a status of any release (a typo such as V(FAIL)) is refused before any request, with
        the closest status, instead of matching nothing.
    type: list
    elements: str
  resource_name:
    description:
      - Keep only tasks that touch the resource with this name (for example an ESXi host FQDN). Case does not
        matter, as in host names.
    type: str
  resource_type:
    description:
      - Keep only tasks that touch resources of this type, for example V(ESXI) or V(VCENTER), in any case.
      - A type that no release from VCF 4.x to 9.1 has (a typo such as V(ESX)) is refused before any request.
    type: str
  limit:
    description:
      - Ask SDDC Manager for at most this many of the newest tasks before filtering.
      - SDDC Manager lists newest first; when an answer is in another order, it is not the newest tasks, so the
        module warns, reads the whole list and keeps the newest this many.
    type: int
  view:
    description:
      - V(summary) returns each task without its sub-tasks (id, name, type, statuses, verdict, times, resources
        and the failure report), a few lines per task in the play output. V(full) adds C(sub_tasks) and
        every other field SDDC Manager sends.
    type: str
    choices: [summary, full]
    default: summary
extends_documentation_fragment:
  - vcf.sddc_manager.connection
  - vcf.sddc_manager.connection.action_group
  - vcf.sddc_manager.connection.read_only
"""

EXAMPLES = r"""
- name: Find every failed credentials task
  vcf.sddc_manager.credentials_task_info:
    hostname: sddc-manager.example.com
    username: administrator@vsphere.local
    password: "{{ vault_sddc_password }}"
    status: [FAILED]
  register: failed_tasks

- name: Show them
  ansible.builtin.debug:
    msg: "{{ item.id }} {{ item.type }} {{ item.resources | map(attribute='resource_name') | join(', ') }}"
  loop: "{{ failed_tasks.tasks }}"

- name: Read one task
  vcf.sddc_manager.credentials_task_info:
    hostname: sddc-manager.example.com
    access_token: "{{ sddc_login.access_token }}"
    task_id: 2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
  register: one

- name: Failed or running tasks on ESXi hosts, with the connection set once for the whole play
  module_defaults:
    group/vcf.sddc_manager.sddc_manager:
      hostname: sddc-manager.example.com
      access_token: "{{ sddc_login.access_token }}"
  vcf.sddc_manager.credentials_task_info:
    status: [FAILED, IN_PROGRESS]
    resource_type: ESXI

# Ad hoc, connection from SDDC_MANAGER_* environment variables:
#   ansible localhost -m vcf.sddc_manager.credentials_task_info -a 'status=FAILED'
"""

RETURN = r"""
tasks:
  description:
    - The matching credentials tasks, newest first, with snake_case keys. Always a list; empty when none match.
    - Password fields of sub-tasks are removed.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Task id.
      type: str
      sample: 2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
    name:
      description: Task name.
      type: str
    type:
      description: Operation of the task, V(UPDATE), V(ROTATE), V(REMEDIATE) or V(UPDATE_AUTO_ROTATE_POLICY).
      type: str
    status:
      description: Status as SDDC Manager reported it.
      type: str
      sample: FAILED
    normalized_status:
      description: Status in upper case with underscores, for comparisons.
      type: str
      sample: IN_PROGRESS
    verdict:
      description:
        - What the status means, the same way for every module of this collection. V(succeeded) (only
          V(SUCCESSFUL) or V(COMPLETED_WITH_WARNING)), V(running), V(attention) (any other known end), or
          V(unknown) (a status this collection does not know; never a success).
      type: str
      sample: attention
    verdict_reason:
      description:
        - Why a task needs attention - V(failed), V(inconsistent), V(cancelled), V(timed_out), V(skipped), or
          V(unknown). V(null) for succeeded and running tasks.
      type: str
      sample: inconsistent
    resources:
      description: Resources the task touches (C(resource_name), C(resource_type)), taken from its sub-tasks.
      type: list
      elements: dict
    sub_tasks:
      description: Sub-tasks, one per account, without passwords. With O(view=full) only.
      type: list
      elements: dict
    failed_subtasks:
      description:
        - The failure report of a task that did not succeed, as in M(vcf.sddc_manager.credentials_task_retry).
        - Empty for succeeded and running tasks.
      type: list
      elements: dict
"""

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _status, _tasks
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule


# What view=summary keeps of a task: enough to decide what to do, without one entry per account.
SUMMARY_KEYS = frozenset(["id", "name", "type", "status", "normalized_status", "verdict", "verdict_reason",
                          "is_auto_rotate", "creation_timestamp", "completion_timestamp", "resources",
                          "failed_subtasks"])


def matches(task, statuses, resource_name, resource_type, types_of=None):
    if statuses and _status.normalize(task.get("status")) not in statuses:
        return False
    return _tasks.matches_resources(task, [resource_type] if resource_type else None,
                                    [resource_name] if resource_name else None, types_of)


def main():
    module = SddcManagerModule(
        argument_spec=dict(
            task_id=dict(type="str"),
            status=dict(type="list", elements="str"),
            resource_name=dict(type="str"),
            resource_type=dict(type="str"),
            limit=dict(type="int"),
            view=dict(type="str", choices=["summary", "full"], default="summary"),
        ),
        mutually_exclusive=[("task_id", "status"), ("task_id", "resource_name"), ("task_id", "resource_type"),
                            ("task_id", "limit")],
        supports_check_mode=True,
    )
    p = module.params
    if p["limit"] is not None and p["limit"] < 1:
        module.fail_json(msg="limit must be a positive number of tasks, got %d." % p["limit"])
    module.check_filters(statuses=("status", p["status"]),
                         resource_types=("resource_type", [p["resource_type"]] if p["resource_type"] else []))
    statuses = set(_status.normalize(s) for s in p["status"] or [])
    try:
        if p["task_id"]:
            found = [_tasks.get_task(module.client, p["task_id"])]
        else:
            # The reader checks the answer's order: with limit, a list that is not newest first is not the newest
            # tasks, so it reads the whole list (and warns); the tasks come back newest first either way.
            newest = _tasks.TaskReader(module.client).newest(limit=p["limit"])
            types_of = _tasks.ResourceTypes(module.client)
            found = [task for task in newest
                     if matches(task, statuses, p["resource_name"], p["resource_type"], types_of)]
    except SddcManagerError as exc:
        module.fail_from(exc)
    tasks = [module.describe_task(task) for task in found]
    if p["view"] == "summary":
        tasks = [dict((k, v) for k, v in task.items() if k in SUMMARY_KEYS) for task in tasks]
    module.exit_json(changed=False, tasks=tasks)


if __name__ == "__main__":
    main()
