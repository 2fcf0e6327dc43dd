"""Fault injection: rules that match ``/v1`` requests and break them on purpose.

Each request walks the rules in order.  A rule the request matches counts it
(``seen``); it fires when more than ``after`` matching requests were seen, it
has fired fewer than ``count`` times (``null`` = no limit) and, when a
``probability`` is set, a draw from the rule's own seeded generator says so.
The first rule that fires wins; rules after it do not see the request.

``kind: outage`` rules start an outage (see ``outage.py``) instead of breaking
one request.  Their ``trigger`` says when: ``start`` (when the rules are
loaded), ``request`` (the request after the first ``after`` matching ones
starts it and is its first victim) or ``write`` (right after the
``after + 1``-th accepted PATCH or DELETE outside ``/v1/tokens`` that
``match`` matches).  ``count`` (default 1) is how many outages the rule may
start; ``probability`` does not apply.
"""

from __future__ import annotations

import fnmatch
import random
import threading

from . import outage
from .errors import ScenarioError
from .schema import MAX_SECONDS, Fields

KINDS = ("http_error", "rate_limit", "reset", "lost_reply", "slow", "empty_answer", "outage")
OUTAGE_TRIGGERS = ("start", "request", "write")
# empty_answer: statuses a write may answer with when a proxy drops the body.
EMPTY_ANSWER_STATUSES = (200, 202, 204)
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
BODIES = ("json", "html", "empty")
# rst: abortive close (the client sees "connection reset");
# fin: orderly close with no reply (the client sees "remote end closed connection").
DROP_MODES = ("rst", "fin")

_COMMON_KEYS = ("match", "kind", "count", "after", "probability")
_KIND_KEYS = {
    "http_error": ("status", "body", "retry_after"),
    "rate_limit": ("status", "body", "retry_after"),
    "reset": ("mode",),
    "lost_reply": ("mode",),
    "slow": ("delay",),
    "empty_answer": ("status",),
}
_OUTAGE_KEYS = ("match", "kind", "count", "after", "trigger") + outage.SPEC_KEYS


def parse_faults(items, where="faults"):
    if not isinstance(items, list):
        raise ScenarioError("%s: expected a list" % where)
    return [_parse_rule(item, "%s[%d]" % (where, index)) for index, item in enumerate(items)]


def _parse_rule(item, where):
    if not isinstance(item, dict):
        raise ScenarioError("%s: expected a mapping" % where)
    kind = item.get("kind")
    if kind not in KINDS:
        raise ScenarioError("%s.kind: %r is not one of %s" % (where, kind, ", ".join(KINDS)))
    if kind == "outage":
        return _parse_outage_rule(item, where)
    fields = Fields(item, where, _COMMON_KEYS + _KIND_KEYS[kind])
    rule = {
        "kind": kind,
        "match": _parse_match(fields.get("match", dict, {}), where + ".match"),
        "count": fields.get("count", int, None, positive=True),
        "after": fields.get("after", int, 0, non_negative=True),
        "probability": fields.get("probability", "number", 1.0, non_negative=True, maximum=1.0),
    }
    if kind in ("http_error", "rate_limit"):
        rule["status"] = fields.get("status", int, 500 if kind == "http_error" else 429)
        if not 400 <= rule["status"] <= 599:
            raise ScenarioError("%s.status: must be an HTTP error status (400-599)" % where)
        rule["body"] = fields.get("body", str, "json", choices=BODIES)
        rule["retry_after"] = fields.get("retry_after", int, 1 if kind == "rate_limit" else None,
                                         non_negative=True)
    elif kind in ("reset", "lost_reply"):
        rule["mode"] = fields.get("mode", str, "rst", choices=DROP_MODES)
    elif kind == "empty_answer":
        rule["status"] = fields.get("status", int, 202, choices=EMPTY_ANSWER_STATUSES)
    else:
        rule["delay"] = fields.get("delay", "number", positive=True, maximum=MAX_SECONDS)
    return rule


def _parse_outage_rule(item, where):
    fields = Fields(item, where, _OUTAGE_KEYS)
    trigger = fields.get("trigger", str, choices=OUTAGE_TRIGGERS)
    if trigger == "start":
        for key in ("match", "after"):
            if key in fields:
                raise ScenarioError("%s.%s: a trigger: start outage counts no requests" % (where, key))
    rule = {
        "kind": "outage",
        "trigger": trigger,
        "match": _parse_match(fields.get("match", dict, {}), where + ".match"),
        "count": fields.get("count", int, 1, positive=True),
        "after": fields.get("after", int, 0, non_negative=True),
        "probability": 1.0,
    }
    rule.update(outage.parse_spec(fields, where))
    return rule


def _parse_match(item, where):
    fields = Fields(item, where, ("method", "path"))
    method = item.get("method")
    if method is None:
        methods = None
    else:
        methods = [method] if isinstance(method, str) else method
        if not isinstance(methods, list) or not methods or any(
                not isinstance(m, str) or m.upper() not in METHODS for m in methods):
            raise ScenarioError("%s.method: expected one of %s, or a list of them" % (where, ", ".join(METHODS)))
        methods = sorted({m.upper() for m in methods})
    # fnmatch-style glob on the path without query string; "*" also crosses "/".
    return {"method": methods, "path": fields.get("path", str, None)}


class Faults:
    """The active rule list with its counters; thread-safe."""

    def __init__(self, rules, seed):
        self._lock = threading.Lock()
        self._rules = []
        for index, rule in enumerate(rules):
            self._rules.append({
                "rule": rule,
                "seen": 0,
                "fired": 0,
                # One generator per rule, so adding a rule leaves the others' draws unchanged.
                "rng": random.Random("%s:fault:%d" % (seed, index)),
            })

    def pick(self, method, path):
        """Return the rule that fires for this request, or ``None``."""
        with self._lock:
            for entry in self._rules:
                rule = entry["rule"]
                if rule["kind"] == "outage" and rule["trigger"] != "request":
                    continue
                if not _matches(rule["match"], method, path):
                    continue
                entry["seen"] += 1
                if entry["seen"] <= rule["after"]:
                    continue
                if rule["count"] is not None and entry["fired"] >= rule["count"]:
                    continue
                if rule["probability"] < 1 and entry["rng"].random() >= rule["probability"]:
                    continue
                entry["fired"] += 1
                return rule
            return None

    def after_write(self, method, path):
        """The ``trigger: write`` outage rule an accepted write fires, or ``None``."""
        with self._lock:
            for entry in self._rules:
                rule = entry["rule"]
                if rule["kind"] != "outage" or rule["trigger"] != "write" or not _matches(rule["match"], method, path):
                    continue
                entry["seen"] += 1
                if entry["seen"] > rule["after"] and entry["fired"] < rule["count"]:
                    entry["fired"] += 1
                    return rule
            return None

    def at_start(self):
        """The first ``trigger: start`` outage rule, marked fired, or ``None``."""
        with self._lock:
            for entry in self._rules:
                rule = entry["rule"]
                if rule["kind"] == "outage" and rule["trigger"] == "start" and entry["fired"] < rule["count"]:
                    entry["fired"] += 1
                    return rule
            return None

    def describe(self):
        with self._lock:
            return [dict(entry["rule"], seen=entry["seen"], fired=entry["fired"]) for entry in self._rules]


def _matches(match, method, path):
    if match["method"] is not None and method not in match["method"]:
        return False
    return match["path"] is None or fnmatch.fnmatchcase(path, match["path"])
