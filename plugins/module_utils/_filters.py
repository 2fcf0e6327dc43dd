# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""The values of task filters (statuses, resource types), checked once for every entry point.

A filter is applied by this collection, not by SDDC Manager: a misspelled value (``FAIL``, ``ESX``) would match
nothing and read as "no task failed". So a value that no release from VCF 4.x to 9.1 has is refused before any
request, with the closest known value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _spec, _status

STATUSES = sorted(_status.TERMINAL | _status.RUNNING)


def _unknown(name, value, known, what):
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    hint = "did you mean %s? " % close[0] if close else ""
    return "%s: %r is not %s; %sthe values are %s" % (name, value, what, hint, ", ".join(known))


def status_problems(name, values):
    """One sentence per value of ``name`` that is not a status of a credentials task (any spelling SDDC Manager
    uses: ``In Progress`` and ``IN_PROGRESS`` are one)."""
    return [_unknown(name, value, STATUSES, "a status of a credentials task")
            for value in values or [] if _status.normalize(value) not in STATUSES]


def resource_type_problems(name, values):
    """One sentence per value of ``name`` that is not a resource type of any release from VCF 4.x to 9.1."""
    return [_unknown(name, value, _spec.RESOURCE_TYPES, "a resource type of any release from VCF 4.x to 9.1")
            for value in values or [] if str(value).strip().upper() not in _spec.RESOURCE_TYPES]


def problems(statuses=(None, None), resource_types=(None, None)):
    """Every problem of the filters given as ``(option name, values)``."""
    return status_problems(*statuses) + resource_type_problems(*resource_types)
