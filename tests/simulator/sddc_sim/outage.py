"""Outages: a window in which every ``/v1`` request fails as during a restart of SDDC Manager.

FIELD-NOTES ("Restarts and outages"): SDDC Manager restarts its services when
its certificate or passwords are replaced and during upgrades; for minutes
connections fail and its proxy answers 502/503 with an HTML page; afterwards
every token issued before may be void.

An outage has a ``mode``:

* ``refuse``: the server really stops listening on its port (connecting gives
  ECONNREFUSED) and listens again on the same port when the outage ends.
  The ``Simulator`` does the closing and reopening; this module only says
  whether the port should be closed.
* ``reset``: connections are accepted, and every ``/v1`` request on them is
  answered with a TCP reset.
* ``proxy``: every ``/v1`` request gets an nginx-style HTML page with status
  502, 503 or 504, optionally with ``Retry-After``.

With ``restart: true`` every access and refresh token issued before the outage
is void afterwards.  Durations run on the simulator clock, which moves with
wall time and jumps forward with ``POST /_sim/time``.  Credentials tasks are
computed from that clock, so they go on running through an outage.
"""

from __future__ import annotations

import threading

from .clock import iso
from .errors import ScenarioError
from .schema import MAX_SECONDS, Fields

MODES = ("refuse", "reset", "proxy")
PROXY_STATUSES = (502, 503, 504)
SPEC_KEYS = ("duration", "mode", "status", "retry_after", "restart")


def parse_spec(fields, where):
    """The outage itself (shared by ``kind: outage`` rules and ``POST /_sim/outage``)."""
    mode = fields.get("mode", str, "proxy", choices=MODES)
    if mode != "proxy":
        for key in ("status", "retry_after"):
            if key in fields:
                raise ScenarioError("%s.%s: only an outage in mode proxy answers (this one is %s)"
                                    % (where, key, mode))
    return {
        "duration": fields.get("duration", "number", positive=True, maximum=MAX_SECONDS),
        "mode": mode,
        "status": fields.get("status", int, 503, choices=PROXY_STATUSES),
        "retry_after": fields.get("retry_after", int, None, non_negative=True),
        "restart": fields.get("restart", bool, False),
    }


def parse_request(data, where="outage"):
    """A ``POST /_sim/outage`` body (or the keyword arguments of ``Simulator.begin_outage``)."""
    return parse_spec(Fields(data if data is not None else {}, where, SPEC_KEYS), where)


class Outages:
    """The outage under way, if any; thread-safe.  Ends lazily once the clock passes its end."""

    def __init__(self, clock):
        self._clock = clock
        self._lock = threading.Lock()
        self._current = None
        self.last = None  # the outage that ended last, for the status view

    def begin(self, spec, source):
        """Start an outage now; ``None`` if one is already under way."""
        with self._lock:
            now = self._clock.now()
            self._expire(now)
            if self._current is not None:
                return None
            self._current = dict(spec, started=now, ends_at=now + spec["duration"], source=source, hits=0)
            return dict(self._current)

    def current(self):
        """The outage under way now (a copy), or ``None``."""
        with self._lock:
            self._expire(self._clock.now())
            return dict(self._current) if self._current is not None else None

    def hit(self):
        """Count one ``/v1`` request that met the outage; return the outage or ``None``."""
        with self._lock:
            self._expire(self._clock.now())
            if self._current is None:
                return None
            self._current["hits"] += 1
            return dict(self._current)

    def end(self):
        """End the outage under way now; ``True`` if there was one."""
        with self._lock:
            now = self._clock.now()
            self._expire(now)
            if self._current is None:
                return False
            self._current["ends_at"] = now
            self.last, self._current = self._current, None
            return True

    def refusing(self):
        """Whether the API port should be closed now."""
        current = self.current()
        return current is not None and current["mode"] == "refuse"

    def describe(self):
        with self._lock:
            self._expire(self._clock.now())
            return {"active": self._current is not None,
                    "current": _view(self._current), "last": _view(self.last)}

    def _expire(self, now):
        if self._current is not None and now >= self._current["ends_at"]:
            self.last, self._current = self._current, None


def _view(outage):
    if outage is None:
        return None
    view = {key: outage[key] for key in ("mode", "duration", "restart", "source", "hits")}
    if outage["mode"] == "proxy":
        view.update(status=outage["status"], retry_after=outage["retry_after"])
    view.update(started=iso(outage["started"]), ends_at=iso(outage["ends_at"]))
    return view
