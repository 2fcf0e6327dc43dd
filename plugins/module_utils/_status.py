# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""Task status vocabulary shared by every module that reads or waits for tasks.

SDDC Manager spells the same state two ways: the credentials view says
``IN_PROGRESS`` while the generic Task view that PATCH and DELETE answer with
says ``In Progress``.  Everything in this collection compares the folded form.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

PENDING = "PENDING"
QUEUED = "QUEUED"
IN_PROGRESS = "IN_PROGRESS"
SUCCESSFUL = "SUCCESSFUL"
FAILED = "FAILED"
USER_CANCELLED = "USER_CANCELLED"
CANCELLED = "CANCELLED"
COMPLETED_WITH_WARNING = "COMPLETED_WITH_WARNING"
SKIPPED = "SKIPPED"
INCONSISTENT = "INCONSISTENT"
TIMED_OUT = "TIMED_OUT"

# The credentials view (CredentialsTask) and the generic Task view of every release from 4.x to 9.1 together;
# 9.1 added QUEUED and TIMED_OUT to the generic view.
RUNNING = frozenset([PENDING, QUEUED, IN_PROGRESS])
# Outcomes an operator counts as "the password operation went through".
SUCCEEDED = frozenset([SUCCESSFUL, COMPLETED_WITH_WARNING])
# Outcomes that need a person: the task did not apply and will not by itself.
UNSUCCESSFUL = frozenset([FAILED, USER_CANCELLED, CANCELLED, INCONSISTENT, SKIPPED, TIMED_OUT])
TERMINAL = SUCCEEDED | UNSUCCESSFUL

_FOLD = re.compile(r"[\s_\-]+")


def normalize(status):
    """Return the canonical upper-case form of a status (``In Progress`` -> ``IN_PROGRESS``).

    ``None`` and empty strings become ``UNKNOWN`` so callers never branch on a falsy value.
    """
    if status is None:
        return "UNKNOWN"
    text = _FOLD.sub("_", str(status).strip()).upper()
    # "Cancelled" and "Canceled" both occur in the wild.
    if text == "CANCELED":
        return CANCELLED
    if text == "USER_CANCELED":
        return USER_CANCELLED
    return text or "UNKNOWN"


def is_terminal(status):
    return normalize(status) in TERMINAL


def is_known(status):
    return normalize(status) in TERMINAL or normalize(status) in RUNNING


def is_running(status):
    return normalize(status) in RUNNING
