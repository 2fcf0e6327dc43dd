#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: credentials_task_cancel
short_description: Cancel failed SDDC Manager credentials (password) tasks, one or many
version_added: 0.1.0
description:
  - Cancels a FAILED credentials task, which releases the lock it holds on its resources so that new password
    operations can start. The passwords stay as they are on each resource.
  - Cancels many in one module run with O(task_ids), or every FAILED task SDDC Manager lists with O(discover=true),
    narrowed by O(resource_types) and O(resource_names) - for example the failed tasks of hosts that no longer exist.
  - A task that is already cancelled is reported as unchanged. Tasks in any other status cannot be cancelled; with
    O(task_id) alone the module fails with the reason, with O(task_ids) or O(discover) each such task is one error
    in RV(results) and the others are still cancelled.
author:
  - vcf.sddc_manager maintainers (@vcf-sddc-manager)
options:
  task_id:
    description:
      - Id of the FAILED credentials task to cancel.
      - One of O(task_id), O(task_ids) or O(discover=true) is required.
    type: str
  task_ids:
    description:
      - Ids of FAILED credentials tasks to cancel in one run. O(task_id) may be given too.
    type: list
    elements: str
    default: []
  discover:
    description:
      - Also cancel every FAILED credentials task SDDC Manager lists, narrowed by O(resource_types) and
        O(resource_names). Use check mode first to see which.
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
extends_documentation_fragment:
  - vcf.sddc_manager.connection
  - vcf.sddc_manager.connection.action_group
attributes:
  check_mode:
    description: Reads the tasks and reports which would be cancelled; sends no cancel request.
    support: full
  diff_mode:
    description: Shows the status of each task before and after.
    support: full
notes:
  - Cancelling gives up the operation. If the passwords must still change, start a new operation afterwards
    with M(vcf.sddc_manager.credentials); if some accounts did change before the failure, a V(REMEDIATE)
    operation tells SDDC Manager the password really set.
seealso:
  - module: vcf.sddc_manager.credentials
  - module: vcf.sddc_manager.credentials_task_info
"""

EXAMPLES = r"""
- name: Cancel a failed credentials task
  vcf.sddc_manager.credentials_task_cancel:
    hostname: sddc-manager.example.com
    username: administrator@vsphere.local
    password: "{{ vault_sddc_password }}"
    task_id: 2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f

- name: Cancel every failed task of two hosts that were decommissioned
  vcf.sddc_manager.credentials_task_cancel:
    hostname: sddc-manager.example.com
    access_token: "{{ sddc_login.access_token }}"
    refresh_token: "{{ sddc_login.refresh_token }}"
    discover: true
    resource_names: [esxi-07.example.com, esxi-08.example.com]
  register: cancelled

- name: Show what was cancelled
  ansible.builtin.debug:
    var: cancelled.cancelled_ids

# Ad hoc, connection from SDDC_MANAGER_* environment variables:
#   ansible localhost -m vcf.sddc_manager.credentials_task_cancel -a task_id=2d0f3c4e-... --check --diff
#   ansible localhost -m vcf.sddc_manager.credentials_task_cancel -a 'discover=true resource_types=ESXI' --check
"""

RETURN = r"""
task:
  description:
    - With O(task_id) alone, the task as SDDC Manager last reported it, snake_case, without passwords. After a cancel
      this is the generic task view SDDC Manager answers with; compare RV(status) instead of its C(status).
  returned: with O(task_id) alone
  type: dict
status:
  description: With O(task_id) alone, normalised status of the task after this run.
  returned: with O(task_id) alone
  type: str
  sample: USER_CANCELLED
results:
  description:
    - With O(task_ids) or O(discover), one entry per task - C(task_id), C(type), C(resources), C(action)
      (V(cancelled), V(would_cancel), V(unchanged) or V(error)), C(status_before), C(status) and C(msg).
  returned: with O(task_ids) or O(discover)
  type: list
  elements: dict
cancelled_ids:
  description: Ids of the tasks cancelled in this run (none in check mode).
  returned: with O(task_ids) or O(discover)
  type: list
  elements: str
would_cancel_ids:
  description: In check mode, ids of the tasks that would be cancelled.
  returned: in check mode, with O(task_ids) or O(discover)
  type: list
  elements: str
unchanged_ids:
  description: Ids of the tasks that were already cancelled.
  returned: with O(task_ids) or O(discover)
  type: list
  elements: str
errors:
  description: Tasks that could not be cancelled (not FAILED, or unknown to SDDC Manager), each with C(task_id) and
    C(msg). Any fails the module, after the others were cancelled.
  returned: with O(task_ids) or O(discover)
  type: list
  elements: dict
"""

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _status, _tasks, _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule


def main():
    module = SddcManagerModule(argument_spec=dict(
        task_id=dict(type="str"),
        task_ids=dict(type="list", elements="str", default=[]),
        discover=dict(type="bool", default=False),
        resource_types=dict(type="list", elements="str", default=[]),
        resource_names=dict(type="list", elements="str", default=[]),
    ), supports_check_mode=True)
    p = module.params
    if not (p["task_id"] or p["task_ids"] or p["discover"]):
        module.fail_json(msg="Nothing to cancel: give task_id, task_ids, or discover: true.")
    if not p["discover"] and (p["resource_types"] or p["resource_names"]):
        module.fail_json(msg="resource_types and resource_names filter discovered tasks; set discover: true.")
    module.check_filters(resource_types=("resource_types", p["resource_types"]))
    if p["task_ids"] or p["discover"]:
        _cancel_many(module)
    task_id = p["task_id"]
    try:
        result = _tasks.cancel(module.client, task_id, check_mode=module.check_mode)
    except SddcManagerError as exc:
        module.fail_from(exc, task_id=task_id)
    before = _status.normalize(result["before"].get("status"))
    found = _verdict.verdict(result["task"])
    status = found.status
    if result["changed"]:
        # SDDC Manager accepted the cancel of a FAILED task (or would, in check mode): the credentials view says
        # USER_CANCELLED, even when its answer (the generic view's "Cancelled", or no body) did not show it.
        status = _verdict.PREDICTED_STATUS["cancel"]
    out = dict(changed=result["changed"], msg=result["msg"], status=status, task=module.describe_task(result["task"]))
    if result.get("read_error"):
        out["msg"] += (" SDDC Manager accepted the request, its answer did not show the task, and reading it failed: "
                       "%s" % result["read_error"])
    if module._diff:
        out["diff"] = {"before": {"task_id": task_id, "status": before}, "after": {"task_id": task_id, "status": status}}
    module.exit_json(**out)


def _cancel_many(module):
    """task_ids and discover: every task's outcome in ``results``; an error does not stop the others."""
    p = module.params
    missing = {}
    try:
        selected = _tasks.select_tasks(module.client, ([p["task_id"]] if p["task_id"] else []) + p["task_ids"],
                                       discover=p["discover"], resource_types=p["resource_types"],
                                       resource_names=p["resource_names"], missing=missing, wanted=_tasks.to_cancel)
        lines = _tasks.cancel_many(module.client, selected, module.check_mode, missing)
    except SddcManagerError as exc:
        module.fail_from(exc)
    ids = dict((action, [line["task_id"] for line in lines if line["action"] == action])
               for action in ("cancelled", "would_cancel", "unchanged"))
    errors = [{"task_id": line["task_id"], "msg": line["msg"]} for line in lines if line["action"] == "error"]
    out = dict(changed=bool(ids["cancelled"] or ids["would_cancel"]), results=lines, cancelled_ids=ids["cancelled"],
               unchanged_ids=ids["unchanged"], errors=errors)
    if module.check_mode:
        out["would_cancel_ids"] = ids["would_cancel"]
    if module._diff:
        out["diff"] = {"before": dict((line["task_id"], line["status_before"]) for line in lines),
                       "after": dict((line["task_id"], line["status"]) for line in lines)}
    out["msg"] = "%d %s, %d already cancelled, %d could not be cancelled." % (
        len(ids["would_cancel"]) if module.check_mode else len(ids["cancelled"]),
        "would be cancelled (check mode)" if module.check_mode else "cancelled", len(ids["unchanged"]), len(errors))
    if errors:
        module.fail_json(**dict(out, msg="%s Problems: %s" % (out["msg"], " | ".join(e["msg"] for e in errors))))
    module.exit_json(**out)


if __name__ == "__main__":
    main()
