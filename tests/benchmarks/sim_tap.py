"""The simulator (``python -m sddc_sim``) with a read tap, for the benchmark.

Runs the simulator's own command line unchanged, after wrapping two methods of its request handler (nothing is
added to the simulator's code): for every answer to an API request (``/v1/...``) it appends one JSON line to
``$BENCH_TAP_FILE``::

    {"ts": 1733.2, "method": "GET", "path": "/v1/credentials/tasks", "limit": "200", "status": 200,
     "elements": 200, "bytes": 812345}

``elements`` is the number of credentials tasks the answer carried: the length of ``elements`` for a list read,
1 for a read of one task, 0 for anything else. ``limit`` is the query parameter as sent (``null`` when absent).
The simulator's own request log (``/_sim/log``) has no query and no answer size, which is why the tap exists.
``ts`` is taken when the answer is written, after the simulated latency.

    BENCH_TAP_FILE=/tmp/tap.jsonl python tests/benchmarks/sim_tap.py --scenario s.json --ready-file r.json
"""

import json
import os
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "simulator"))

from sddc_sim import __main__ as cli  # noqa: E402
from sddc_sim import server  # noqa: E402

_LOCK = threading.Lock()
_FILE = open(os.environ["BENCH_TAP_FILE"], "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
_send_response = server.Handler._send_response
_send = server.Handler._send


def _count(payload):
    if isinstance(payload, dict):
        if isinstance(payload.get("elements"), list):
            return len(payload["elements"])
        if payload.get("id") is not None and "status" in payload:
            return 1
    return 0


def send_response(self, response):
    self._bench_elements = _count(response.payload)
    return _send_response(self, response)


def send(self, status, data, content_type, headers):
    target = urllib.parse.urlsplit(self.path)
    if target.path.startswith("/v1/"):
        elements = getattr(self, "_bench_elements", 0)
        limit = urllib.parse.parse_qs(target.query).get("limit")
        line = json.dumps({"ts": time.time(), "method": self.command, "path": target.path,
                           "limit": limit[-1] if limit else None, "status": status, "elements": elements,
                           "bytes": len(data or b"")})
        with _LOCK:
            _FILE.write(line + "\n")
            _FILE.flush()
    self._bench_elements = 0
    return _send(self, status, data, content_type, headers)


server.Handler._send_response = send_response
server.Handler._send = send

if __name__ == "__main__":
    sys.exit(cli.main())
