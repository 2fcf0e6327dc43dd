#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: token
short_description: Log in to SDDC Manager once, or revoke a refresh token
version_added: 0.1.0
description:
  - With O(state=present), logs in to SDDC Manager and returns an access token and a refresh token, so a play
    logs in once and hands the tokens to every other module of the collection through C(module_defaults).
  - With O(state=absent), revokes a refresh token so it can no longer renew access tokens.
  - Register the result with C(no_log) on the task, because the result holds the tokens.
  - On a local connection with the Python that runs Ansible (C(ansible_python_interpreter) set to it, as for the
    implicit localhost), the login runs in the controller's own process, with the same checks, messages and
    result, which saves the start of a Python process (about half a second); anywhere else the module runs on the
    host as any module does.
author:
  - vcf.sddc_manager maintainers (@vcf-sddc-manager)
options:
  state:
    description:
      - V(present) logs in and returns new tokens.
      - V(absent) revokes O(refresh_token). It needs no password and no access token.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - vcf.sddc_manager.connection
  - vcf.sddc_manager.connection.action_group
attributes:
  check_mode:
    description: In check mode nothing is sent; V(present) returns no tokens and V(absent) reports a change.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
notes:
  - O(state=present) needs O(username) and O(password); O(state=absent) needs O(refresh_token).
  - The access token lives one hour on SDDC Manager by default. The other modules renew it with the refresh
    token on their own when it is about to expire.
"""

EXAMPLES = r"""
- name: Log in once
  vcf.sddc_manager.token:
    hostname: sddc-manager.example.com
    username: administrator@vsphere.local
    password: "{{ vault_sddc_password }}"
  register: sddc_login
  no_log: true

- name: Use the tokens for every module of the collection
  module_defaults:
    group/vcf.sddc_manager.sddc_manager:
      hostname: sddc-manager.example.com
      access_token: "{{ sddc_login.access_token }}"
      refresh_token: "{{ sddc_login.refresh_token }}"
  block:
    - name: List failed credentials tasks
      vcf.sddc_manager.credentials_task_info:
        status: [FAILED]
  always:
    - name: Revoke the refresh token
      vcf.sddc_manager.token:
        state: absent
        refresh_token: "{{ sddc_login.refresh_token }}"

# Ad hoc, with the connection in the environment:
#   export SDDC_MANAGER_HOST=sddc-manager.example.com SDDC_MANAGER_USERNAME=administrator@vsphere.local
#   read -rs SDDC_MANAGER_PASSWORD; export SDDC_MANAGER_PASSWORD
#   ansible localhost -m vcf.sddc_manager.token -a state=present   # prints the tokens: use with care
"""

RETURN = r"""
access_token:
  description: Bearer token for the SDDC Manager API. Register the task with C(no_log).
  returned: state is present and not in check mode
  type: str
  sample: eyJhbGciOi...
refresh_token:
  description: Id of the refresh token, to renew the access token or revoke it later.
  returned: state is present and not in check mode
  type: str
  sample: 6c0c2f2a-7b63-4a3c-8f8e-0f9b3a6f2d11
expires_at:
  description: When the access token expires (UTC, ISO 8601), read from the token itself.
  returned: state is present, not in check mode, and the token carries an expiry
  type: str
  sample: "2026-11-27T23:00:00.000000Z"
"""

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _auth
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule


def main():
    # On a local connection the action plugin (plugins/action/token.py) runs the same _auth.token_result in the
    # controller's own process; this module runs everywhere else.
    module = SddcManagerModule(
        argument_spec=_auth.TOKEN_ARGUMENT_SPEC,
        auth="none",
        # The caller asked for these tokens: masking them would make the result useless.
        mask_own_tokens=False,
        required_if=_auth.TOKEN_REQUIRED_IF,
        supports_check_mode=True,
    )
    try:
        result = _auth.token_result(module.client, module.params, module.check_mode)
    except SddcManagerError as exc:
        module.fail_from(exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
