# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The CredentialsUpdateSpec options (plugins/module_utils/_spec.py spec_options()): the body of a retry
    # (credentials_task_retry) and of a new password operation (credentials).
    DOCUMENTATION = r"""
options:
  operation_type:
    description:
      - The password operation - V(ROTATE) (SDDC Manager chooses new passwords), V(UPDATE) (sets the passwords given),
        V(REMEDIATE) (tells SDDC Manager the password really set on an account it lost track of, the way out of an
        INCONSISTENT task) or V(UPDATE_AUTO_ROTATE_POLICY).
      - M(vcf.sddc_manager.credentials) needs it. M(vcf.sddc_manager.credentials_task_retry) needs it with
        O(elements), and it must be the operation of the task; when omitted there, the task's own type is used.
    type: str
    choices: [UPDATE, ROTATE, REMEDIATE, UPDATE_AUTO_ROTATE_POLICY]
  elements:
    description:
      - The resources and their accounts, with the passwords for V(UPDATE) and V(REMEDIATE).
      - M(vcf.sddc_manager.credentials) needs them. For M(vcf.sddc_manager.credentials_task_retry) they are the
        resources and accounts of the task; when omitted there for a V(ROTATE) or V(UPDATE_AUTO_ROTATE_POLICY) task,
        they are read from the task's resource credentials (passwords dropped).
    type: list
    elements: dict
    suboptions:
      resource_name:
        description: Name of the resource, for example the ESXi host FQDN. This or O(elements[].resource_id) is required.
        type: str
      resource_id:
        description: Id of the resource in SDDC Manager.
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
        description: Accounts of the resource that the operation changes.
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
            description:
              - The password, required for V(UPDATE) (the new one) and V(REMEDIATE) (the one really set on the
                resource now), refused for V(ROTATE) and V(UPDATE_AUTO_ROTATE_POLICY) (SDDC Manager chooses it).
              - Never returned or logged.
            type: str
  auto_rotate_policy:
    description:
      - Auto-rotate policy, for V(UPDATE_AUTO_ROTATE_POLICY) only.
    type: dict
    suboptions:
      enable_auto_rotate_policy:
        description: Whether SDDC Manager rotates the passwords on its own.
        type: bool
        required: true
      frequency_in_days:
        description: Days between automatic rotations, 1 to 90. Required when enabling.
        type: int
"""
