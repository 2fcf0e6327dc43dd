#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: credentials_task_cancel
short_description: Cancel a failed SDDC Manager credentials (password) task
version_added: 0.1.0
description:
  - Cancels a FAILED credentials task, which releases the lock it holds on its resources so that new password
    operations can start. The passwords stay as they are on each resource.
  - A task that is already cancelled is reported as unchanged. Tasks in any other status cannot be cancelled and
    the module fails with the reason.
author:
  - vcf.sddc_manager maintainers (@vcf-sddc-manager)
options:
  task_id:
    description:
      - Id of the FAILED credentials task to cancel.
    type: str
    required: true
extends_documentation_fragment:
  - vcf.sddc_manager.connection
  - vcf.sddc_manager.connection.action_group
attributes:
  check_mode:
    description: Reads the task and reports whether it would be cancelled; sends no cancel request.
    support: full
  diff_mode:
    description: Shows the status of the task before and after.
    support: full
notes:
  - Cancelling gives up the operation. If the passwords must still change, start a new operation afterwards;
    if some accounts did change before the failure, use a REMEDIATE operation to tell SDDC Manager.
"""

EXAMPLES = r"""
- name: Cancel a failed credentials task
  vcf.sddc_manager.credentials_task_cancel:
    hostname: sddc-manager.example.com
    username: administrator@vsphere.local
    password: "{{ vault_sddc_password }}"
    task_id: 2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f

# Ad hoc, connection from SDDC_MANAGER_* environment variables:
#   ansible localhost -m vcf.sddc_manager.credentials_task_cancel -a task_id=2d0f3c4e-... --check --diff
"""

RETURN = r"""
task:
  description:
    - The task as SDDC Manager last reported it, snake_case, without passwords. After a cancel this is the generic
      task view SDDC Manager answers with; compare RV(status) instead of its C(status).
  returned: always
  type: dict
status:
  description: Normalised status of the task after this run.
  returned: always
  type: str
  sample: USER_CANCELLED
"""

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _status, _tasks, _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule


def main():
    module = SddcManagerModule(argument_spec=dict(task_id=dict(type="str", required=True)),
                               supports_check_mode=True)
    task_id = module.params["task_id"]
    try:
        result = _tasks.cancel(module.client, task_id, check_mode=module.check_mode)
    except SddcManagerError as exc:
        module.fail_from(exc, task_id=task_id)
    before = _status.normalize(result["before"].get("status"))
    found = _verdict.verdict(result["task"])
    status = found.status
    if result["changed"] and (module.check_mode or found.cancelled):
        # The generic view that answers a cancel says "Cancelled"; the credentials view says USER_CANCELLED.
        status = _verdict.PREDICTED_STATUS["cancel"]
    out = dict(changed=result["changed"], msg=result["msg"], status=status, task=module.describe_task(result["task"]))
    if result.get("read_error"):
        out["msg"] += (" SDDC Manager accepted the request, its answer did not show the task, and reading it failed: "
                       "%s" % result["read_error"])
    if module._diff:
        out["diff"] = {"before": {"task_id": task_id, "status": before}, "after": {"task_id": task_id, "status": status}}
    module.exit_json(**out)


if __name__ == "__main__":
    main()
