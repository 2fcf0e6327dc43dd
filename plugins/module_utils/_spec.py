# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""The retry request body (CredentialsUpdateSpec): option schema, rules, and building it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

OPERATION_TYPES = ["UPDATE", "ROTATE", "REMEDIATE", "UPDATE_AUTO_ROTATE_POLICY"]
# Resource types of every release from 4.x to 9.1: the 9.0.2 spec, then what 9.1 added, then the older
# releases' appliances.  Tools that refuse anything else fall behind the next release, so an unknown type in
# the API's own spelling is sent anyway (SDDC Manager validates it) with a warning.
RESOURCE_TYPES = ["ESXI", "VCENTER", "PSC", "NSXT_MANAGER", "NSXT_EDGE", "NSX_ALB", "BACKUP",
                  "HCX_MANAGER", "VSP",
                  "SDDC_MANAGER", "NSX_MANAGER", "NSX_CONTROLLER", "NSX_EDGE", "VXRAIL_MANAGER", "VRSLCM", "WSA",
                  "VRLI", "VROPS", "VRA"]
_API_WORD = re.compile(r"^[A-Z][A-Z0-9_]*$")
CREDENTIAL_TYPES = ["SSO", "SSH", "API", "FTP", "AUDIT"]
ACCOUNT_TYPES = ["USER", "SYSTEM", "SERVICE"]
# Operations where the admin supplies the new password; the others must not carry one.
NEEDS_PASSWORD = frozenset(["UPDATE", "REMEDIATE"])
MIN_FREQUENCY, MAX_FREQUENCY = 1, 90


def spec_options():
    """Argument spec of the retry spec options, shared by every module that retries."""
    return dict(
        operation_type=dict(type="str", choices=OPERATION_TYPES),
        elements=dict(
            type="list",
            elements="dict",
            options=dict(
                resource_name=dict(type="str"),
                resource_id=dict(type="str"),
                resource_type=dict(type="str", required=True),
                credentials=dict(
                    type="list",
                    elements="dict",
                    required=True,
                    options=dict(
                        credential_type=dict(type="str", choices=CREDENTIAL_TYPES),
                        account_type=dict(type="str", choices=ACCOUNT_TYPES),
                        username=dict(type="str", required=True),
                        password=dict(type="str", no_log=True),
                    ),
                ),
            ),
            required_one_of=[("resource_name", "resource_id")],
        ),
        auto_rotate_policy=dict(
            type="dict",
            options=dict(
                frequency_in_days=dict(type="int"),
                enable_auto_rotate_policy=dict(type="bool", required=True),
            ),
        ),
    )


def validate(options):
    """Problems with the retry spec options, as sentences naming the option; [] when fine.

    Everything here is checked before the first request so a bad spec never
    reaches SDDC Manager.
    """
    problems = []
    operation = options.get("operation_type")
    elements = options.get("elements")
    policy = options.get("auto_rotate_policy")
    if elements is not None and not operation:
        problems.append("elements requires operation_type: say which operation the credentials are for.")
    if elements is not None and len(elements) == 0:
        problems.append("elements is empty: list at least one resource, or omit elements to rebuild them "
                        "from the task (ROTATE and UPDATE_AUTO_ROTATE_POLICY only).")
    if operation in NEEDS_PASSWORD and not elements:
        problems.append("operation_type %s needs elements with the new password of every credential; "
                        "SDDC Manager cannot rebuild passwords it does not know." % operation)
    for e_index, element in enumerate(elements or []):
        where = "elements[%d]" % e_index
        name = element.get("resource_name") or element.get("resource_id")
        resource_type = element.get("resource_type") or ""
        if resource_type.upper() not in RESOURCE_TYPES and not _API_WORD.match(resource_type):
            problems.append("%s.resource_type %r is not a resource type: use one of %s, or another type your SDDC "
                            "Manager release lists, in upper case." % (where, resource_type, ", ".join(RESOURCE_TYPES)))
        if not element.get("credentials"):
            problems.append("%s.credentials is empty: name at least one account of %s." % (where, name))
        for c_index, credential in enumerate(element.get("credentials") or []):
            spot = "%s.credentials[%d].password" % (where, c_index)
            account = "%s on %s" % (credential.get("username"), name)
            has_password = bool(credential.get("password"))
            if operation in NEEDS_PASSWORD and not has_password:
                problems.append("%s is required for operation_type %s (account %s)." % (spot, operation, account))
            elif operation not in NEEDS_PASSWORD and operation and credential.get("password") is not None:
                problems.append("%s must not be set for operation_type %s (account %s): SDDC Manager "
                                "chooses the password itself." % (spot, operation, account))
    if operation == "UPDATE_AUTO_ROTATE_POLICY" and not policy:
        problems.append("operation_type UPDATE_AUTO_ROTATE_POLICY needs auto_rotate_policy.")
    if policy and operation and operation != "UPDATE_AUTO_ROTATE_POLICY":
        problems.append("auto_rotate_policy only applies to operation_type UPDATE_AUTO_ROTATE_POLICY, not %s."
                        % operation)
    if policy:
        frequency = policy.get("frequency_in_days")
        if frequency is not None and not MIN_FREQUENCY <= frequency <= MAX_FREQUENCY:
            problems.append("auto_rotate_policy.frequency_in_days must be between %d and %d days, got %s."
                            % (MIN_FREQUENCY, MAX_FREQUENCY, frequency))
        if policy.get("enable_auto_rotate_policy") and frequency is None:
            problems.append("auto_rotate_policy.frequency_in_days is required when enable_auto_rotate_policy "
                            "is true.")
    return problems


def operation_problems(options):
    """Problems with the options of a new password operation (no task to rebuild anything from), as sentences
    naming the option; [] when fine."""
    operation, elements = options.get("operation_type"), options.get("elements")
    if not operation:
        return ["operation_type is required: say which operation to start (%s)." % ", ".join(OPERATION_TYPES)]
    if not elements:
        return ["elements is %s: list the resources and the accounts the %s operation is for."
                % ("empty" if elements is not None else "required", operation)]
    return validate(options)


def unknown_resource_types(options):
    """Resource types in ``options`` that no release this collection knows has: sent as given, with a warning."""
    return [e["resource_type"] for e in options.get("elements") or []
            if e.get("resource_type") and e["resource_type"].upper() not in RESOURCE_TYPES]


def article(word):
    """``word`` with its indefinite article, as said aloud: "an UPDATE", "a ROTATE"."""
    return "%s %s" % ("an" if str(word)[:1] in "AEIOU" else "a", word)


def can_rebuild(operation):
    """Whether the elements can be read back from the task (no passwords needed)."""
    return operation not in NEEDS_PASSWORD


def _element_to_api(element, keep_passwords):
    resource_type = element.get("resource_type")
    if resource_type and resource_type.upper() in RESOURCE_TYPES:
        resource_type = resource_type.upper()  # the API spells them in upper case
    out = {"resourceType": resource_type, "credentials": []}
    if element.get("resource_name"):
        out["resourceName"] = element["resource_name"]
    if element.get("resource_id"):
        out["resourceId"] = element["resource_id"]
    for credential in element.get("credentials") or []:
        item = {"username": credential.get("username")}
        if credential.get("credential_type"):
            item["credentialType"] = credential["credential_type"]
        if credential.get("account_type"):
            item["accountType"] = credential["account_type"]
        if keep_passwords and credential.get("password"):
            item["password"] = credential["password"]
        out["credentials"].append(item)
    return out


def build(operation, elements, policy=None):
    """CredentialsUpdateSpec from module-form options (snake_case) for ``operation``."""
    spec = {
        "operationType": operation,
        "elements": [_element_to_api(e, operation in NEEDS_PASSWORD) for e in elements],
    }
    if operation == "UPDATE_AUTO_ROTATE_POLICY" and policy:
        api_policy = {"enableAutoRotatePolicy": bool(policy.get("enable_auto_rotate_policy"))}
        if policy.get("frequency_in_days") is not None:
            api_policy["frequencyInDays"] = policy["frequency_in_days"]
        spec["autoRotatePolicy"] = api_policy
    return spec


def elements_from_resource_credentials(resource_credentials):
    """Module-form elements from ``GET .../resource-credentials``, passwords dropped."""
    elements = []
    for resource in resource_credentials or []:
        elements.append({
            "resource_name": resource.get("resourceName"),
            "resource_id": resource.get("resourceId"),
            "resource_type": resource.get("resourceType"),
            "credentials": [
                {
                    "username": credential.get("username"),
                    "credential_type": credential.get("credentialType"),
                    "account_type": credential.get("accountType"),
                }
                for credential in resource.get("credentials") or []
            ],
        })
    return elements


def elements_from_subtasks(subtasks):
    """Module-form elements from a credentials task's sub-tasks (resource, type, user and credential type of each),
    or None when a sub-task leaves one of them out or names a resource type no release has.

    The spec marks those fields optional, so an answer may lack them; the caller then reads the task's
    resource credentials instead. Only the sub-tasks themselves count: ``dependentSubTasks`` apply a credential's
    new password elsewhere (the services that use it), and a retry names the task's own credentials only.
    """
    elements = []
    for sub in subtasks or []:
        if not isinstance(sub, dict):
            return None
        fields = [sub.get(key) for key in ("resourceName", "entityType", "username", "credentialType")]
        if not all(isinstance(value, str) and value.strip() for value in fields):
            return None
        name, resource_type, username, credential_type = fields
        if resource_type.upper() not in RESOURCE_TYPES or credential_type.upper() not in CREDENTIAL_TYPES:
            return None
        element = next((e for e in elements if e["resource_name"] == name
                        and e["resource_type"] == resource_type.upper()), None)
        if element is None:
            element = {"resource_name": name, "resource_id": None, "resource_type": resource_type.upper(),
                       "credentials": []}
            elements.append(element)
        credential = {"username": username, "credential_type": credential_type.upper(), "account_type": None}
        if credential not in element["credentials"]:
            element["credentials"].append(credential)
    return elements or None
