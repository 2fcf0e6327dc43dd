"""The simulator's clock: real time plus an offset that tests may advance.

Task progress and token expiry both read this clock, so ``POST /_sim/time``
fast-forwards a running task and ages tokens consistently.
"""

from __future__ import annotations

import datetime
import threading
import time


class Clock:
    def __init__(self):
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self):
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += seconds


def iso(ts):
    """Render epoch seconds the way SDDC Manager does: UTC, milliseconds, ``Z``."""
    if ts is None:
        return None
    moment = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def parse_iso(text):
    """Parse an ISO-8601 timestamp (``Z`` or offset; naive means UTC) to epoch seconds."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()
