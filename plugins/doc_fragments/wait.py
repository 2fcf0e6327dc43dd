# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Shared by every module that can wait for tasks to end.
    DOCUMENTATION = r"""
options:
  wait_timeout:
    description:
      - How many seconds to wait for the task(s) to end.
      - The tasks are always read at least once, even when O(wait_timeout) is V(0).
    type: int
    default: 1800
  wait_sleep:
    description:
      - Seconds between two status reads. All watched tasks are read in one poll.
    type: int
    default: 10
"""
