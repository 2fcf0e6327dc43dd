# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""Times as SDDC Manager writes them and as this collection returns them: one parser, one formatter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


def timestamp(text):
    """Epoch seconds of an ISO-8601 time (``Z`` or an offset, with or without fractions), or None."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+0000"
    elif len(value) > 19 and value[-3] == ":" and value[-6] in "+-":
        value = value[:-3] + value[-2:]  # Python 3.6's %z wants +0000, not +00:00
    elif len(value) == 19 or (len(value) > 19 and value[19] == "."):
        value += "+0000"  # no zone: SDDC Manager means UTC
    for fmt in _TIME_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt).timestamp()
        except ValueError:
            continue
    return None


def iso_utc(epoch):
    """Epoch seconds as the UTC time every result of this collection carries (microseconds, ``Z``)."""
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
