# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How every module reaches and authenticates to SDDC Manager.
    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - Host name or IP address of the SDDC Manager appliance, without scheme or path.
      - If not set, the value of the E(SDDC_MANAGER_HOST) environment variable is used.
    type: str
    required: true
  port:
    description:
      - HTTPS port of the SDDC Manager API.
      - If not set, the value of the E(SDDC_MANAGER_PORT) environment variable is used.
    type: int
    default: 443
  username:
    description:
      - SDDC Manager user to log in as, for example V(administrator@vsphere.local).
      - Either O(username) and O(password), or O(access_token), must be given.
      - If not set, the value of the E(SDDC_MANAGER_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - Password of O(username).
      - If not set, the value of the E(SDDC_MANAGER_PASSWORD) environment variable is used.
    type: str
  access_token:
    description:
      - An access token from M(vcf.sddc_manager.token), used instead of logging in.
      - When it expires or is refused, the module renews it with O(refresh_token), or logs in again
        when O(username) and O(password) are also given.
      - If not set, the value of the E(SDDC_MANAGER_ACCESS_TOKEN) environment variable is used.
    type: str
  refresh_token:
    description:
      - The refresh token id returned with O(access_token), used to renew it without a new login.
      - If not set, the value of the E(SDDC_MANAGER_REFRESH_TOKEN) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of SDDC Manager.
      - Set to V(false) only for a lab appliance with a self-signed certificate; the module then warns.
      - If not set, the value of the E(SDDC_MANAGER_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA certificate(s) that signed the SDDC Manager certificate, used instead of the
        system trust store.
      - If not set, the value of the E(SDDC_MANAGER_CA_PATH) environment variable is used.
    type: path
  request_timeout:
    description:
      - Seconds to wait for an answer to one HTTP request.
    type: float
    default: 60
  read_retry_budget:
    description:
      - Seconds a read keeps trying, with back-off, while SDDC Manager answers 429/502/503/504, resets or refuses
        connections, or times out, once it has answered once (a restart, a burst of proxy errors). The reads that
        prepare a retry, and those that confirm a retry or cancel whose answer was lost, ride out an outage this
        long. A wait reads on until its own C(wait_timeout) whatever this says.
      - Before SDDC Manager has answered once, a wrong host or port still fails after a few seconds, and a host
        name that does not resolve fails at once.
      - Can also be set with E(SDDC_MANAGER_READ_RETRY_BUDGET).
    type: float
    default: 300
  proxy_url:
    description:
      - URL of an HTTP(S) proxy to reach SDDC Manager through, for example V(http://proxy.example.com:3128).
      - When not set, the standard E(HTTPS_PROXY) and E(NO_PROXY) environment variables apply.
    type: str
notes:
  - All modules of this collection belong to the action group C(vcf.sddc_manager.sddc_manager), so the
    connection options can be set once with C(module_defaults).
  - Reads are retried on HTTP 429, 502, 503, 504 and connection errors with jittered exponential backoff
    that honours C(Retry-After), within O(read_retry_budget). Writes are never re-sent blindly.
requirements:
  - requests
"""

    # For modules that only read: check mode changes nothing for them and there is nothing to diff.
    READ_ONLY = r"""
attributes:
  check_mode:
    description: The module only reads, so it runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: N/A
"""

    # Shared attribute declarations; each module adds its own check and diff support.
    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/vcf.sddc_manager.sddc_manager) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - vcf.sddc_manager.sddc_manager
"""
