"""A small client for the simulator's ``/_sim`` control endpoints (stdlib only)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request


class SimControlError(RuntimeError):
    """A control request was refused; ``status`` and ``payload`` say why."""

    def __init__(self, status, payload):
        super().__init__("HTTP %s: %s" % (status, payload))
        self.status = status
        self.payload = payload


class SimControl:
    def __init__(self, url, ca_path, timeout=30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_path)

    def counters(self):
        return self._call("GET", "/_sim/counters")

    def reset(self):
        return self._call("POST", "/_sim/reset")

    def load(self, scenario):
        """Replace the whole state with ``scenario`` (a mapping in the scenario schema)."""
        return self._call("POST", "/_sim/scenario", scenario)

    def add_tasks(self, tasks):
        """Add tasks (scenario ``tasks`` schema); returns their ids."""
        return self._call("POST", "/_sim/tasks", list(tasks))["ids"]

    def tasks(self):
        """Internal state of every task, passwords included."""
        return self._call("GET", "/_sim/tasks")

    def set_faults(self, faults):
        return self._call("POST", "/_sim/faults", list(faults))

    def faults(self):
        """The active fault rules with how often each matched (``seen``) and fired."""
        return self._call("GET", "/_sim/faults")

    def advance(self, seconds):
        """Move the simulator clock forward (tasks progress, tokens age)."""
        return self._call("POST", "/_sim/time", {"advance": seconds})

    def log(self):
        return self._call("GET", "/_sim/log")

    def health(self):
        return self._call("GET", "/_sim/health")

    def accounts(self):
        """Every account with the password SDDC Manager holds and the one really set (tests only)."""
        return self._call("GET", "/_sim/accounts")

    def set_accounts(self, resources):
        """Add or replace accounts (scenario ``resources`` schema); returns their credential ids."""
        return self._call("POST", "/_sim/accounts", list(resources))["ids"]

    def outage(self, duration, mode="proxy", status=None, retry_after=None, restart=False):
        """Start an outage now; returns the outage status (see ``outage_status``)."""
        body = {"duration": duration, "mode": mode, "restart": restart}
        if status is not None:
            body["status"] = status
        if retry_after is not None:
            body["retry_after"] = retry_after
        return self._call("POST", "/_sim/outage", body)

    def end_outage(self):
        """End the outage under way now; the answer's ``ended`` says whether there was one."""
        return self._call("DELETE", "/_sim/outage")

    def outage_status(self):
        """``active``, ``current``/``last`` outage, ``listening``, and the ``outages``/``hits``/``restarts`` counts."""
        return self._call("GET", "/_sim/outage")

    def set_list_order(self, order):
        """Answer ``GET /v1/credentials/tasks`` "newest" first (SDDC Manager's order), "oldest" first or "shuffled"."""
        return self._call("POST", "/_sim/list_order", {"order": order})

    def list_order(self):
        return self._call("GET", "/_sim/list_order")["order"]

    def _call(self, method, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self._context) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            try:
                body = json.loads(body)
            except ValueError:
                pass
            raise SimControlError(exc.code, body) from None
