# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""Turn API objects into what a module may return: snake_case keys, no secrets.

SDDC Manager hands back passwords in places one would not expect them
(``oldPassword``/``newPassword`` on every credentials sub-task, ``password`` in
resource credentials).  Stripping them here, once, means no module can forget to.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.common.dict_transformations import _camel_to_snake

# Compared after folding case and dropping separators, so "old_password",
# "oldPassword" and "OLD-PASSWORD" are one key.
SECRET_KEYS = frozenset([
    "password",
    "oldpassword",
    "newpassword",
    "currentpassword",
    "accesstoken",
    "refreshtoken",
    "token",
    "idtoken",
    "apikey",
    "secret",
    "clientsecret",
    "privatekey",
    "passphrase",
])

_SEPARATORS = re.compile(r"[_\-\s]")


def is_secret_key(key):
    return isinstance(key, str) and _SEPARATORS.sub("", key).lower() in SECRET_KEYS


def _collect(value, found):
    """Record every string inside a secret-keyed value (it may itself be nested)."""
    if isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found)
    elif isinstance(value, str) and value:
        found.add(value)


def redact(data, found=None):
    """Return a snake_case copy of ``data`` with secret-keyed entries removed.

    Secret values met on the way are added to ``found`` (a set) so the caller can
    register them with ``module.no_log_values`` and have Ansible mask any other
    place they might surface (an error message echoing a request, say).
    """
    if found is None:
        found = set()
    if isinstance(data, dict):
        clean = {}
        for key, value in data.items():
            if is_secret_key(key):
                _collect(value, found)
                continue
            new_key = _camel_to_snake(key) if isinstance(key, str) else key
            clean[new_key] = redact(value, found)
        return clean
    if isinstance(data, (list, tuple)):
        return [redact(item, found) for item in data]
    return data


def secrets_in(data):
    """The set of secret values anywhere inside ``data``, without copying it."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if is_secret_key(key):
                    _collect(value, found)
                else:
                    walk(value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)

    walk(data)
    return found
