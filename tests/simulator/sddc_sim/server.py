"""The HTTPS server and the ``Simulator`` that runs it in a background thread.

One thread per connection (``ThreadingHTTPServer``), HTTP/1.1 keep-alive, and
the TLS handshake done in that thread rather than in the accept loop, so a slow
or refusing client never holds up the others.

Pipeline for a ``/v1`` request: read the body, resolve the route, count it,
meet the outage under way if there is one, let the fault rules pick, sleep the
scenario's latency (plus a ``slow`` fault's delay), then either answer with the
fault, drop the connection, or run the endpoint (and, for ``lost_reply``, drop
the connection instead of answering).  An accepted write may start an outage
(``trigger: write``).  Every ``/v1`` request ends with one log entry.

An outage in mode ``refuse`` really closes the listening socket and opens it
again on the same port when it ends (``Simulator.sync_listener``); a watcher
thread notices the end on the simulator clock.  An optional second listener
(``control_port``) serves only ``/_sim`` and stays up through it.
"""

from __future__ import annotations

import errno
import http
import http.server
import json
import os
import socket
import socketserver
import ssl
import struct
import threading
import time
import traceback
import urllib.parse

from . import admin, api
from . import outage as outage_module
from . import scenario as scenario_module
from .certs import ensure_certs, make_untrusted_ca
from .control import SimControl
from .errors import ApiError, ScenarioError, error_object
from .state import Metrics, SimState

DEFAULT_CERTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "certs")
MAX_BODY = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 120.0  # an idle keep-alive connection is closed after this long
WATCH_INTERVAL = 0.02  # how often the watcher looks at the clock while the API port is closed
REBIND_TIMEOUT = 10.0  # how long to retry listening again on the same port
# Writes that can start a ``trigger: write`` outage: PATCH/DELETE outside the token endpoints.
WRITE_METHODS = ("PATCH", "DELETE")

_HTML_ERROR = ("<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
               "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
               "</body>\r\n</html>\r\n")


class _BadBody(Exception):
    """The request body cannot be read; answer 400 and close."""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SDDC-Manager-Simulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT

    def do_GET(self):
        self._handle()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        # Silenced: the simulator keeps its own log, which records no headers.
        pass

    def _handle(self):
        started = time.perf_counter()
        target = urllib.parse.urlsplit(self.path)
        sim = self.server.sim
        state = sim.state
        if target.path == "/_sim" or target.path.startswith("/_sim/"):
            body = self._read_body_or_refuse()
            if body is not None:
                status, payload = admin.handle(state, self.command, target.path, body)
                # A control call may have started or ended an outage, or moved the clock.
                sim.sync_listener(keep=self.connection)
                if isinstance(payload, dict) and "listening" in payload:
                    payload["listening"] = sim.listening  # as it is now, after the sync
                answer = status, payload
                if not self.server.control_only and not sim.listening:
                    self.close_connection = True  # the API port closed: this connection ends too
                self._send_json(*answer)
            return
        if self.server.control_only:
            self._read_body_or_refuse()
            self._send_json(404, {"error": "this port serves only /_sim; the API is at %s" % sim.url})
            return
        status, kind = None, None
        try:
            body = self._read_body_or_refuse()
            if body is None:
                status = 400
                return
            request = api.Request(self.command, target.path, urllib.parse.parse_qs(target.query),
                                  self.headers, body)
            status, kind = self._serve_api(state, request)
        finally:
            state.metrics.log(self.command, target.path, status, (time.perf_counter() - started) * 1000.0, kind)

    def _serve_api(self, state, request):
        """Run the pipeline; return ``(status or None if dropped, fault kind or None)``."""
        route, params = api.resolve(request.path)
        endpoint = route.endpoints.get(request.method) if route else None
        state.metrics.request(request.method, route.template if route else "<unmatched>")
        outage = state.outages.hit()
        fault = None
        if outage is None:
            fault = state.faults.pick(request.method, request.path)
            if fault is not None and fault["kind"] == "outage":
                # trigger: request -- this request is the outage's first victim.
                state.begin_outage(fault, "faults (trigger: request)")
                self.server.sim.sync_listener(keep=self.connection)
                outage = state.outages.hit()
        if outage is not None:
            state.metrics.bump("faults_injected")
            state.metrics.bump("outage_hits")
            return self._meet_outage(outage), "outage"
        kind = fault["kind"] if fault else None
        if fault:
            state.metrics.bump("faults_injected")
        delay = state.scenario.latency[endpoint.kind] if endpoint else 0.0
        if kind == "slow":
            delay += fault["delay"]
        if delay:
            time.sleep(delay)
        if kind in ("http_error", "rate_limit"):
            return self._send_fault(fault), kind
        if kind == "reset":
            self._drop(fault["mode"])
            return None, kind
        response = self._call(state, request, route, params)
        if 200 <= response.status < 300 and request.method in WRITE_METHODS \
                and not request.path.startswith("/v1/tokens"):
            self._after_write(state, request)
        if kind == "lost_reply":
            # The change is made; only the answer is lost.
            self._drop(fault["mode"])
            return None, kind
        if kind == "empty_answer" and 200 <= response.status < 300:
            # A proxy that drops the body of a write that went through.
            return self._send(fault["status"], b"", None, {}), kind
        return self._send_response(response), kind

    def _after_write(self, state, request):
        """An accepted write may start an outage (``trigger: write``); its own answer still goes out."""
        rule = state.faults.after_write(request.method, request.path)
        if rule is None or state.begin_outage(rule, "faults (trigger: write)") is None:
            return
        if rule["mode"] == "refuse":
            # The port closes before the answer leaves, so the client's next connection is refused.
            self.close_connection = True
        self.server.sim.sync_listener(keep=self.connection)

    def _meet_outage(self, outage):
        """Answer a ``/v1`` request during an outage; ``None`` when the connection was dropped."""
        if outage["mode"] == "proxy":
            return self._send_fault({"status": outage["status"], "retry_after": outage["retry_after"],
                                     "body": "html"})
        # reset, or refuse (a connection made before the port closed): a TCP reset.
        self._drop("rst")
        return None

    @staticmethod
    def _call(state, request, route, params):
        try:
            return api.dispatch(state, request, route, params)
        except ApiError as exc:
            return api.Response(exc.status, exc.body(state.reference_token(), state.scenario.release), exc.headers)
        except Exception:  # noqa: BLE001 - a simulator bug must not look like an injected drop
            traceback.print_exc()
            return api.Response(500, error_object("INTERNAL_SERVER_ERROR", "Simulator error (see its stderr)",
                                                  reference_token=state.reference_token()))

    # -- reading --------------------------------------------------------

    def _read_body_or_refuse(self):
        """The request body, or ``None`` after answering 400 to an unreadable one."""
        try:
            return self._read_body()
        except _BadBody as exc:
            self.close_connection = True
            self._send_json(400, error_object("INVALID_REQUEST", str(exc)))
            return None

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise _BadBody("Content-Length is not a number") from None
        if not 0 <= size <= MAX_BODY:
            raise _BadBody("the request body is too large")
        return self._read_exactly(size)

    def _read_chunked(self):
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadBody("malformed chunked body") from None
            if size == 0:
                # Skip trailers up to the blank line that ends the body.
                while self.rfile.readline(1024).strip():
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise _BadBody("the request body is too large")
            chunks.append(self._read_exactly(size))
            self.rfile.readline(1024)  # the CRLF after each chunk

    def _read_exactly(self, size):
        data = self.rfile.read(size)
        if len(data) != size:
            raise ConnectionError("client closed the connection mid-body")
        return data

    # -- writing --------------------------------------------------------

    def _send_response(self, response):
        if response.status == 204 or response.payload is None:
            return self._send(response.status, b"", None, response.headers)
        if response.text:
            return self._send(response.status, str(response.payload).encode("utf-8"), "text/plain", response.headers)
        # A bare string payload (the refreshed access token) goes out as a JSON string.
        data = json.dumps(response.payload).encode("utf-8")
        return self._send(response.status, data, "application/json", response.headers)

    def _send_fault(self, fault):
        status = fault["status"]
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        headers = {}
        if fault["retry_after"] is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        if fault["body"] == "html":
            data = _HTML_ERROR.format(code=status, phrase=phrase).encode("ascii")
            return self._send(status, data, "text/html", headers)
        if fault["body"] == "empty":
            return self._send(status, b"", None, headers)
        code = phrase.upper().replace(" ", "_").replace("-", "_")
        error = error_object(code, "%s (injected fault)" % phrase,
                             reference_token=self.server.sim.state.reference_token())
        return self._send(status, json.dumps(error).encode("utf-8"), "application/json", headers)

    def _send_json(self, status, payload):
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json", {})

    def _send(self, status, data, content_type, headers):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data:
            self.wfile.write(data)
        return status

    def _drop(self, mode):
        """Close the connection without a reply: RST (``rst``) or a plain FIN (``fin``)."""
        if mode == "rst":
            # Linger 0 turns close() into an abortive reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def __init__(self, address, sim, ssl_context, control_only=False):
        self.sim = sim
        self.ssl_context = ssl_context
        self.control_only = control_only
        self._connections = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup for server_name,
        # which can hang where there is no resolver; the simulator needs none.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        # Runs in the connection's own thread: the handshake cannot stall accept().
        request.settimeout(HANDSHAKE_TIMEOUT)
        # Headers and body leave in separate writes; without NODELAY, Nagle plus
        # the client's delayed ACK adds ~40 ms to every answer.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            connection = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError:
            return  # the client refused our certificate or went away
        with self._connections_lock:
            self._connections.add(connection)
        try:
            Handler(connection, client_address, self)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass  # the client went away; nothing to answer
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            connection.close()

    def close_connections(self, keep=None):
        """End open connections (but ``keep``) so their threads finish promptly."""
        with self._connections_lock:
            connections = [c for c in self._connections if c is not keep]
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Simulator:
    """An SDDC Manager API simulator serving HTTPS from a background thread.

    ``scenario`` is a mapping, a path to a YAML/JSON file, or ``None`` (no tasks,
    the default user).  Use as a context manager or call ``start()``/``stop()``.
    ``control_port`` (``None``: none; 0: a free port) opens a second listener
    that serves only ``/_sim`` and stays up through a refused-connections outage.
    """

    def __init__(self, scenario=None, *, host="127.0.0.1", port=0, certs_dir=None,
                 untrusted_cert=False, log_file=None, control_port=None):
        self.scenario = scenario_module.load(scenario if scenario is not None else {})
        self.host = host
        self.port = port
        self.control_port = control_port
        self.certs_dir = certs_dir or DEFAULT_CERTS_DIR
        self.untrusted_cert = untrusted_cert
        self.log_file = log_file
        self.ca_path = None
        self.state = None
        self._server = None
        self._thread = None
        self._control_server = None
        self._control_thread = None
        self._listening = False
        self._listen_lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._watcher = None

    def start(self):
        certs = ensure_certs(self.certs_dir)
        served = make_untrusted_ca(self.certs_dir) if self.untrusted_cert else certs
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(served.server_pem)
        self.ca_path = certs.ca_path
        self.state = SimState(self.scenario, Metrics(self.log_file))
        self._server = _Server((self.host, self.port), self, context)
        self.port = self._server.server_address[1]
        self._listening = True
        if self.control_port is not None:
            self._control_server = _Server((self.host, self.control_port), self, context, control_only=True)
            self.control_port = self._control_server.server_address[1]
            self._control_thread = threading.Thread(target=self._control_server.serve_forever,
                                                    kwargs={"poll_interval": 0.1}, name="sddc-sim-control",
                                                    daemon=True)
            self._control_thread.start()
        self._stopping.clear()
        self._watcher = threading.Thread(target=self._watch, name="sddc-sim-outage-watch", daemon=True)
        self._watcher.start()
        # A scenario whose outage starts at once (trigger: start) may close the port before serving.
        self.sync_listener()
        return self

    def stop(self):
        if self._server is None:
            return
        self._stopping.set()
        self._wake.set()
        self._watcher.join()
        with self._listen_lock:
            self._stop_serving()
            self._server.server_close()
            self._server.close_connections()
            self._server = None
        if self._control_server is not None:
            self._control_server.shutdown()
            self._control_server.server_close()
            self._control_server.close_connections()
            self._control_thread.join()
            self._control_server = None
        self.state.metrics.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        return self._url(self.port)

    @property
    def control_url(self):
        """The ``/_sim``-only listener's URL, or ``None`` without ``control_port``."""
        return self._url(self.control_port) if self._control_server is not None else None

    def _url(self, port):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "https://%s:%d" % (host, port)

    def ready_info(self):
        """What ``--ready-file`` holds (``control_url``/``control_port`` only with a control port)."""
        info = {"url": self.url, "host": self.host, "port": self.port, "ca_path": self.ca_path, "pid": os.getpid()}
        if self.control_url is not None:
            info.update(control_url=self.control_url, control_port=self.control_port)
        return info

    def control(self):
        """A ``SimControl`` for ``/_sim``: on the control port if there is one, else on the API port."""
        return SimControl(self.control_url or self.url, self.ca_path)

    # -- outages, in process (they work whatever the ports do) ------------

    def begin_outage(self, duration, mode="proxy", status=None, retry_after=None, restart=False):
        """Start an outage now (as ``POST /_sim/outage``); returns the outage status."""
        request = {"duration": duration, "mode": mode, "restart": restart}
        if status is not None:
            request["status"] = status
        if retry_after is not None:
            request["retry_after"] = retry_after
        spec = outage_module.parse_request(request)
        if self.state.begin_outage(spec, "in-process") is None:
            raise ScenarioError("an outage is already under way")
        self.sync_listener()
        return self.outage_status()

    def end_outage(self):
        """End the outage under way now (the port listens again); ``True`` if there was one."""
        ended = self.state.outages.end()
        self.sync_listener()
        return ended

    def outage_status(self):
        return self.state.outage_status()

    def advance(self, seconds):
        """Move the simulator clock forward (as ``POST /_sim/time``); an outage may end."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.state.clock.advance(seconds)
        self.sync_listener()

    @property
    def listening(self):
        """Whether the API port accepts connections now."""
        return self._listening

    # -- listening and not listening ----------------------------------------

    def sync_listener(self, keep=None):
        """Close or reopen the API port as the outage under way wants; ``True`` while closed.

        ``keep``: the connection of the request that called this, which must
        still carry its answer.  Every other open connection to the API port is
        cut when it closes (a restart ends them all).
        """
        went_dark = False
        with self._listen_lock:
            if self._server is None or self._stopping.is_set():
                return False
            refusing = self.state.outages.refusing()
            if refusing and self._listening:
                self._stop_serving()
                self._server.socket.close()
                self._listening = False
                self._server.close_connections(keep)
                went_dark = True
            elif not refusing and not self._listening:
                self._server.socket = self._bind_again()
                self._listening = True
            if self._listening and self._thread is None:
                self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                                name="sddc-sim", daemon=True)
                self._thread.start()
            self.state.listening = self._listening
            closed = not self._listening
        if went_dark:
            self._wake.set()  # the watcher starts looking at the clock
        return closed

    def _stop_serving(self):
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None

    def _bind_again(self):
        """A new listening socket on the same address and port."""
        deadline = time.monotonic() + REBIND_TIMEOUT
        while True:
            sock = socket.socket(self._server.address_family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(self._server.server_address[:2])
                sock.listen(self._server.request_queue_size)
                return sock
            except OSError as exc:
                sock.close()
                if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _watch(self):
        """While the API port is closed, look at the clock and reopen it when the outage ends."""
        closed = False
        while not self._stopping.is_set():
            self._wake.wait(WATCH_INTERVAL if closed else None)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                closed = self.sync_listener()
            except Exception:  # noqa: BLE001 - keep watching; a bind failure is reported
                traceback.print_exc()
                closed = True
