"""The HTTPS server and the ``Simulator`` that runs it in a background thread.

One thread per connection (``ThreadingHTTPServer``), HTTP/1.1 keep-alive, and
the TLS handshake done in that thread rather than in the accept loop, so a slow
or refusing client never holds up the others.

Pipeline for a ``/v1`` request: read the body, resolve the route, count it,
let the fault rules pick, sleep the scenario's latency (plus a ``slow``
fault's delay), then either answer with the fault, drop the connection, or run
the endpoint (and, for ``lost_reply``, drop the connection instead of
answering).  Every ``/v1`` request ends with one log entry.
"""

from __future__ import annotations

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
from . import scenario as scenario_module
from .certs import ensure_certs, make_untrusted_ca
from .control import SimControl
from .errors import ApiError, error_object
from .state import Metrics, SimState

DEFAULT_CERTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "certs")
MAX_BODY = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 120.0  # an idle keep-alive connection is closed after this long

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
        state = self.server.sim.state
        if target.path == "/_sim" or target.path.startswith("/_sim/"):
            body = self._read_body_or_refuse()
            if body is not None:
                self._send_json(*admin.handle(state, self.command, target.path, body))
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
        fault = state.faults.pick(request.method, request.path)
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
        if kind == "lost_reply":
            # The change is made; only the answer is lost.
            self._drop(fault["mode"])
            return None, kind
        if kind == "empty_answer" and 200 <= response.status < 300:
            # A proxy that drops the body of a write that went through.
            return self._send(fault["status"], b"", None, {}), kind
        return self._send_response(response), kind

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

    def __init__(self, address, sim, ssl_context):
        self.sim = sim
        self.ssl_context = ssl_context
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

    def close_connections(self):
        """End idle keep-alive connections so their threads finish promptly."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Simulator:
    """An SDDC Manager API simulator serving HTTPS from a background thread.

    ``scenario`` is a mapping, a path to a YAML/JSON file, or ``None`` (no tasks,
    the default user).  Use as a context manager or call ``start()``/``stop()``.
    """

    def __init__(self, scenario=None, *, host="127.0.0.1", port=0, certs_dir=None,
                 untrusted_cert=False, log_file=None):
        self.scenario = scenario_module.load(scenario if scenario is not None else {})
        self.host = host
        self.port = port
        self.certs_dir = certs_dir or DEFAULT_CERTS_DIR
        self.untrusted_cert = untrusted_cert
        self.log_file = log_file
        self.ca_path = None
        self.state = None
        self._server = None
        self._thread = None

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
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sddc-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join()
        self._server = None
        self.state.metrics.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "https://%s:%d" % (host, self.port)

    def ready_info(self):
        """What ``--ready-file`` holds."""
        return {"url": self.url, "host": self.host, "port": self.port, "ca_path": self.ca_path, "pid": os.getpid()}

    def control(self):
        """A ``SimControl`` client for this simulator's ``/_sim`` endpoints."""
        return SimControl(self.url, self.ca_path)
