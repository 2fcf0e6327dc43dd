# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""The connection options every entry point takes - modules and the event source - and their checks.

Documented once, in ``plugins/doc_fragments/connection.py``; the event source's docs are built from that text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _client, _transport

# Option -> the environment variable it falls back to.
ENVIRONMENT = {
    "hostname": "SDDC_MANAGER_HOST",
    "port": "SDDC_MANAGER_PORT",
    "username": "SDDC_MANAGER_USERNAME",
    "password": "SDDC_MANAGER_PASSWORD",
    "access_token": "SDDC_MANAGER_ACCESS_TOKEN",
    "refresh_token": "SDDC_MANAGER_REFRESH_TOKEN",
    "validate_certs": "SDDC_MANAGER_VALIDATE_CERTS",
    "ca_path": "SDDC_MANAGER_CA_PATH",
    "read_retry_budget": "SDDC_MANAGER_READ_RETRY_BUDGET",
}
SECRETS = frozenset(["password", "access_token", "refresh_token"])


def connection_spec():
    """The options, as an Ansible argument spec without the fallbacks (``_module`` adds them)."""
    return dict(
        hostname=dict(type="str", required=True),
        port=dict(type="int", default=443),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        access_token=dict(type="str", no_log=True),
        refresh_token=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        request_timeout=dict(type="float", default=60.0),
        read_retry_budget=dict(type="float", default=_transport.READ_RETRY_BUDGET),
        proxy_url=dict(type="str"),
    )


def defaults():
    return dict((name, option.get("default")) for name, option in connection_spec().items())


def connection_problems(values):
    """One sentence per wrong connection option in ``values`` (already of their types), before any request."""
    problems = []
    reason = _transport.validate_hostname(values["hostname"])
    if reason:
        problems.append(reason)
    if isinstance(values["port"], int) and not 1 <= values["port"] <= 65535:
        problems.append("port must be between 1 and 65535, got %d" % values["port"])
    if isinstance(values["request_timeout"], float) and values["request_timeout"] <= 0:
        problems.append("request_timeout must be a positive number of seconds, got %s" % values["request_timeout"])
    budget = values.get("read_retry_budget")
    if isinstance(budget, float) and budget < 0:
        problems.append("read_retry_budget must be 0 or more seconds, got %s" % budget)
    reason = _transport.check_ca_path(values["ca_path"]) if values["validate_certs"] is True else None
    if reason:
        problems.append(reason + "; give the PEM file of the CA that signed the SDDC Manager certificate")
    if values["proxy_url"] and "://" not in str(values["proxy_url"]):
        problems.append("proxy_url must be a URL such as http://proxy.example.com:3128, got %r" % values["proxy_url"])
    return problems


VALIDATE_CERTS_OFF = ("validate_certs is false: the SDDC Manager certificate is not verified, so the passwords and "
                      "tokens sent to it could be read by anyone able to intercept the connection.")


def make_client(values, on_secret=None, **kwargs):
    """The one client, from the connection options."""
    budget = values.get("read_retry_budget")
    if budget is not None and "retry_policy" not in kwargs:
        kwargs["retry_policy"] = _transport.RetryPolicy(budget=float(budget))
    return _client.SddcManagerClient(
        hostname=values["hostname"], port=values["port"], username=values["username"], password=values["password"],
        access_token=values["access_token"], refresh_token=values["refresh_token"],
        validate_certs=values["validate_certs"], ca_path=values["ca_path"], request_timeout=values["request_timeout"],
        proxy_url=values["proxy_url"], on_secret=on_secret, **kwargs)
