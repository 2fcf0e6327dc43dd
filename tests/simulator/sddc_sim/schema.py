"""Typed, strict access to one mapping of a scenario or control-endpoint body."""

from __future__ import annotations

import math

from .errors import ScenarioError

_MISSING = object()
# Upper bound for durations: far beyond any test, yet timestamps stay printable.
MAX_SECONDS = 10 * 365 * 86400.0


class Fields:
    """Typed access to one mapping of the scenario, rejecting unknown keys."""

    _TYPES = {str: "a string", int: "an integer", bool: "a boolean", list: "a list",
              dict: "a mapping", "number": "a number"}

    def __init__(self, data, where, allowed):
        if not isinstance(data, dict):
            raise ScenarioError("%s: expected a mapping, got %s" % (where, type(data).__name__))
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ScenarioError("%s: unknown key(s) %s; allowed: %s" % (where, unknown, ", ".join(allowed)))
        self._data = data
        self._where = where

    def __contains__(self, key):
        return key in self._data

    def raw(self, key, default=None):
        """The value as given, for keys whose type the caller checks itself."""
        return self._data.get(key, default)

    def get(self, key, kind, default=_MISSING, choices=None, nullable=False,
            positive=False, non_negative=False, nonempty=False, maximum=None):
        where = "%s.%s" % (self._where, key)
        if key not in self._data:
            if default is _MISSING:
                raise ScenarioError("%s: required" % where)
            return default
        value = self._data[key]
        if value is None and (nullable or default is None):
            return None
        if not self._is(value, kind):
            raise ScenarioError("%s: expected %s, got %r" % (where, self._TYPES[kind], value))
        if kind == "number":
            value = float(value)
            if not math.isfinite(value):
                raise ScenarioError("%s: must be a finite number" % where)
        if choices is not None and value not in choices:
            raise ScenarioError("%s: %r is not one of %s" % (where, value, ", ".join(map(str, choices))))
        if positive and value <= 0:
            raise ScenarioError("%s: must be greater than 0" % where)
        if non_negative and value < 0:
            raise ScenarioError("%s: must not be negative" % where)
        if nonempty and not value:
            raise ScenarioError("%s: must not be empty" % where)
        if maximum is not None and value > maximum:
            raise ScenarioError("%s: must be at most %s" % (where, maximum))
        return value

    @staticmethod
    def _is(value, kind):
        # bool is an int subclass in Python; a YAML "yes" must not pass as a number.
        if kind in (int, "number") and isinstance(value, bool):
            return False
        if kind == "number":
            return isinstance(value, (int, float))
        return isinstance(value, kind)
