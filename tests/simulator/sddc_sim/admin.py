"""Control and observability endpoints under ``/_sim/`` (no authentication).

These exist for tests and benchmarks only: ``GET /_sim/tasks`` and
``GET /_sim/accounts`` show every password the simulator holds.  Bodies are JSON.  Errors answer
``{"error": "..."}`` rather than the API's ``Error`` shape so nobody mistakes
them for SDDC Manager answers.  They are neither counted nor logged.
"""

from __future__ import annotations

import json

from .clock import iso
from .errors import ScenarioError
from .faults import parse_faults
from .outage import parse_request as parse_outage
from .scenario import LIST_ORDERS, parse
from .schema import MAX_SECONDS


def handle(state, method, path, body):
    """Return ``(status, payload)`` for one control request."""
    endpoints = _ENDPOINTS.get(path)
    if endpoints is None:
        return 404, {"error": "no control endpoint at %s" % path, "endpoints": sorted(_ENDPOINTS)}
    handler = endpoints.get(method)
    if handler is None:
        return 405, {"error": "%s %s is not supported; use %s" % (method, path, ", ".join(sorted(endpoints)))}
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError):
        return 400, {"error": "the body is not valid JSON"}
    try:
        return 200, handler(state, data)
    except ScenarioError as exc:
        return 400, {"error": str(exc)}


def _listed(data, key):
    """Accept either a bare list or ``{key: [...]}``."""
    if isinstance(data, dict) and set(data) == {key}:
        return data[key]
    return data


def _health(state, _data):
    return {"ok": True, "tasks": len(state.tasks)}


def _counters(state, _data):
    return state.metrics.counters()


def _reset(state, _data):
    state.metrics.reset()
    return {"ok": True}


def _load(state, data):
    state.load(parse(data if data is not None else {}))
    return {"ok": True, "tasks": list(state.tasks)}


def _tasks(state, _data):
    with state.lock:
        return [t.internal_view() for t in state.all_tasks()]


def _add_tasks(state, data):
    return {"ids": state.add_tasks(_listed(data, "tasks"))}


def _faults(state, _data):
    return state.faults.describe()


def _set_faults(state, data):
    state.set_faults(parse_faults(_listed(data if data is not None else [], "faults")))
    return {"ok": True, "faults": len(state.faults.describe())}


def _time(state, _data):
    return {"now": iso(state.clock.now())}


def _advance(state, data):
    seconds = data.get("advance") if isinstance(data, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_SECONDS:
        raise ScenarioError('body must be {"advance": seconds} with 0 <= seconds <= %d' % MAX_SECONDS)
    state.clock.advance(seconds)
    return _time(state, None)


def _log(state, _data):
    return state.metrics.entries()


def _accounts(state, _data):
    with state.lock:
        state.all_tasks()  # runs that ended meanwhile update the accounts
        return [a.internal_view() for a in state.inventory.accounts()]


def _declare_accounts(state, data):
    return {"ids": state.declare_accounts(_listed(data if data is not None else [], "resources"))}


def _list_order(state, _data):
    return {"order": state.scenario.list_order}


def _set_list_order(state, data):
    order = data.get("order") if isinstance(data, dict) else None
    if order not in LIST_ORDERS:
        raise ScenarioError('body must be {"order": one of %s}' % ", ".join(LIST_ORDERS))
    with state.lock:
        # Until the next scenario load, which sets it from the scenario (newest first by default).
        state.scenario.list_order = order
    return _list_order(state, None)


def _outage(state, _data):
    return state.outage_status()


def _begin_outage(state, data):
    spec = parse_outage(data)
    if state.begin_outage(spec, "POST /_sim/outage") is None:
        raise ScenarioError("an outage is already under way; DELETE /_sim/outage ends it")
    return state.outage_status()


def _end_outage(state, _data):
    ended = state.outages.end()
    return dict(state.outage_status(), ended=ended)


_ENDPOINTS = {
    "/_sim/health": {"GET": _health},
    "/_sim/counters": {"GET": _counters},
    "/_sim/reset": {"POST": _reset},
    "/_sim/scenario": {"POST": _load},
    "/_sim/tasks": {"GET": _tasks, "POST": _add_tasks},
    "/_sim/faults": {"GET": _faults, "POST": _set_faults},
    "/_sim/time": {"GET": _time, "POST": _advance},
    "/_sim/log": {"GET": _log},
    "/_sim/accounts": {"GET": _accounts, "POST": _declare_accounts},
    "/_sim/outage": {"GET": _outage, "POST": _begin_outage, "DELETE": _end_outage},
    "/_sim/list_order": {"GET": _list_order, "POST": _set_list_order},
}
