"""Command line: ``python -m sddc_sim --scenario FILE.yml [options]``.

Once listening it writes the ready file (atomically) and prints the same JSON
on one line to stdout, then serves until SIGTERM or SIGINT and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from .errors import ScenarioError
from .server import DEFAULT_CERTS_DIR, Simulator


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m sddc_sim", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True, help="scenario file (YAML or JSON)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--certs-dir", default=DEFAULT_CERTS_DIR,
                        help="where ca.pem and the server certificate are made or reused (default: %(default)s)")
    parser.add_argument("--control-port", type=int, default=None,
                        help="also serve /_sim (only) on this port, 0 = a free one; it stays up through a "
                             "refused-connections outage (the ready file gains control_url and control_port)")
    parser.add_argument("--ready-file", help="write {url, host, port, ca_path, pid} here once listening")
    parser.add_argument("--log-file", help="append the request log here as JSON lines")
    parser.add_argument("--untrusted-cert", action="store_true",
                        help="serve a certificate from another CA than the ca.pem written (TLS failure tests)")
    return parser.parse_args(argv)


def _write_atomically(path, text):
    temporary = "%s.%d.tmp" % (path, os.getpid())
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def main(argv=None):
    args = _arguments(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        simulator = Simulator(args.scenario, host=args.host, port=args.port, certs_dir=args.certs_dir,
                              untrusted_cert=args.untrusted_cert, log_file=args.log_file,
                              control_port=args.control_port)
    except (OSError, ScenarioError) as exc:
        print("sddc_sim: %s" % exc, file=sys.stderr)
        return 2
    simulator.start()
    try:
        line = json.dumps(simulator.ready_info())
        if args.ready_file:
            _write_atomically(args.ready_file, line + "\n")
        print(line, flush=True)
        stop.wait()
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
