# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""HTTPS to one SDDC Manager: the session, its TLS and proxy settings, and when a request is sent again.

A read is retried with backoff when the server is busy or the connection broke; a write is sent once,
because a write whose answer was lost may already have been applied.

Before SDDC Manager has answered once, a wrong host, port or name fails fast (a name that does not resolve at
once, a refused connection after ``RetryPolicy.first_attempts``).  Once it has answered, a read that cannot
reach it (refused, reset, timed out, a name that no longer resolves, 502/503/504 from it or its proxy) is an
outage: retried within ``RetryPolicy.budget`` (the ``read_retry_budget`` option), and if that runs out the error
says ``unreachable``, which a wait takes for "not known yet" (``_waiter.poll``).  This is the only file that imports
``requests``, guarded, so a module without it can say so (``missing_required_lib``) instead of crashing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import ipaddress
import json
import os
import random
import re
import socket
import ssl
import threading
import time
import traceback
import warnings

from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import (
    _Unauthorized,
    http_failure,
    not_json_failure,
    outage_failure,
    tls_failure,
    transport_failure,
)
from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import secrets_in

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.exceptions import (
        ConnectTimeout,
        RequestException,
        SSLError,
        Timeout,
    )
    from urllib3.exceptions import InsecureRequestWarning, NewConnectionError
    try:
        from urllib3.exceptions import NameResolutionError
    except ImportError:  # urllib3 1.x: a gaierror inside a NewConnectionError
        NameResolutionError = None
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

COLLECTION_VERSION = "0.1.0"
USER_AGENT = "vcf.sddc_manager-ansible-collection/%s" % COLLECTION_VERSION

# Statuses that say "the server did not do it, ask again later".  500 is left
# out on purpose: SDDC Manager uses it for real failures of the operation.
RETRYABLE_STATUS = frozenset([429, 502, 503, 504])
# Statuses of a server (or its proxy) that is down or restarting: an outage, not an answer.
UNAVAILABLE_STATUS = frozenset([502, 503, 504])
# Seconds a read keeps trying through bursts and short outages once SDDC Manager has answered (read_retry_budget).
READ_RETRY_BUDGET = 300.0
# Attempts of a read before SDDC Manager has answered once: a wrong host or port fails fast.
FIRST_ATTEMPTS = 6


class RetryPolicy:
    """Bounded, jittered exponential backoff for reads.

    Equal jitter (half fixed, half random) keeps a floor under each delay so a
    struggling server is not hammered, while spreading forks that fail together.

    ``budget``: seconds a read keeps trying.  ``attempts``: a bound on the attempts too (None: the budget alone
    bounds them once SDDC Manager has answered, and ``first_attempts`` before, so that a wrong host or port fails
    fast).
    """

    def __init__(self, attempts=None, base=0.5, cap=10.0, budget=READ_RETRY_BUDGET, max_retry_after=60.0, rng=None,
                 first_attempts=FIRST_ATTEMPTS):
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.budget = budget
        self.max_retry_after = max_retry_after
        self.first_attempts = first_attempts
        self.rng = rng or random.Random()

    def max_attempts(self, answered):
        if self.attempts is not None:
            return self.attempts
        return None if answered else self.first_attempts

    def delay(self, attempt, retry_after=None):
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 32)))
        return ceiling / 2.0 + self.rng.uniform(0, ceiling / 2.0)


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = now if now is not None else time.time()
    return max(0.0, when.timestamp() - now)


class Transport:
    """One SDDC Manager's HTTPS endpoint: a session, a timeout, a retry policy, and what answers may hide.

    ``on_secret`` is given every secret found in an answer, so the caller can mask it wherever it shows.
    """

    def __init__(self, hostname, port=443, validate_certs=True, ca_path=None, request_timeout=60, proxy_url=None,
                 on_secret=None, retry_policy=None, session=None, sleep=None, clock=None):
        self.hostname = hostname
        self.base_url = "https://%s:%s" % (_host_for_url(hostname), port)
        self.timeout = request_timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self._on_secret = on_secret
        self._sleep = sleep or _sleep
        self._clock = clock or _now
        # Given on every request: requests lets REQUESTS_CA_BUNDLE override a session's own setting.
        self.verify = (ca_path or True) if validate_certs else False
        self.session = session or self._new_session(self.verify, proxy_url)
        # Whether SDDC Manager (or its proxy) has answered this client once: from then on, not reaching it is an
        # outage, not a wrong host or port.  A caller that knows it answered before (in an earlier module run) may
        # set it.
        self.answered = False
        self._limits = threading.local()

    @contextlib.contextmanager
    def time_limit(self, seconds):
        """Within the block, a read of this thread gives up after ``seconds`` at most (a wait's deadline)."""
        previous = getattr(self._limits, "until", None)
        until = self._clock() + max(0.0, seconds)
        self._limits.until = until if previous is None else min(previous, until)
        try:
            yield
        finally:
            self._limits.until = previous

    def _budget(self, started):
        budget = self.retry_policy.budget
        until = getattr(self._limits, "until", None)
        if until is not None:
            budget = min(budget, until - started)
        return budget

    @staticmethod
    def _new_session(verify, proxy_url):
        session = requests.Session()
        # A 2-core controller polling many tasks benefits from reusing one TLS connection.
        session.mount("https://", HTTPAdapter(pool_connections=1, pool_maxsize=32, max_retries=0))
        session.verify = verify
        if verify is False:
            # The module warns once; urllib3 would otherwise warn on every request.
            warnings.simplefilter("ignore", InsecureRequestWarning)
        if proxy_url:
            session.proxies = {"https": proxy_url, "http": proxy_url}
        session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        return session

    def _url(self, path):
        return self.base_url + path

    def _secret(self, value):
        if value and self._on_secret is not None:
            self._on_secret(value)

    def _register_body_secrets(self, body):
        if self._on_secret is not None and isinstance(body, (dict, list)):
            for value in secrets_in(body):
                self._on_secret(value)

    def _send(self, method, path, payload=None, params=None, bearer=None, read=True, own_tokens=False, raw=False):
        """One request, retried when it is a read.

        ``bearer``: for an authenticated request, gives the access token to send; asked again on every
        attempt, so an attempt after a backoff sends the token that is current then.  A 401 to it raises
        ``_Unauthorized`` with the token that was refused, for the caller to renew.  ``own_tokens``: the
        answer holds the session's tokens, which the caller registers itself (the token module must be able
        to return them).  ``raw``: return the answer's text as it is (token answers, whatever their form).
        """
        url = self._url(path)
        data = None
        headers = {}
        if payload is not None:
            data = json.dumps(payload)
            headers["Content-Type"] = "application/json"
        policy = self.retry_policy
        started = self._clock()
        budget = self._budget(started)
        attempt = 0
        while True:
            retry_after = None
            token = None
            if bearer is not None:
                token = bearer()
                headers["Authorization"] = "Bearer %s" % token
            try:
                response = self.session.request(method, url, data=data, params=params, headers=headers,
                                                timeout=self.timeout, verify=self.verify)
            except SSLError as exc:
                raise tls_failure(exc, url, self.base_url, self.hostname)
            except RequestException as exc:
                failure = self._transport_failure(method, url, exc, read)
                if not read:
                    raise failure
                outcome = failure
                if failure.unresolved and not self.answered:
                    # A name that does not resolve before any answer is a wrong name: asking again will not help.
                    failure.unreachable = False
                    raise failure
            else:
                self.answered = True
                if response.status_code < 400:
                    if raw:
                        return response.text
                    return self._decode(response, register_secrets=not own_tokens)
                outcome = self._http_failure(method, url, response, show_body=not own_tokens)
                if bearer is not None and response.status_code == 401:
                    raise _Unauthorized(outcome, token)
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
                outcome.retry_after = retry_after
                if not (read and response.status_code in RETRYABLE_STATUS):
                    raise outcome
            attempt += 1
            wait = policy.delay(attempt - 1, retry_after)
            limit = policy.max_attempts(self.answered)
            if (limit is not None and attempt >= limit) or self._clock() - started + wait > budget:
                outcome.unreachable = self.answered and outcome.unreachable
                if outcome.unreachable:
                    outage_failure(outcome, self.base_url, attempt, self._clock() - started,
                                   limit is None and budget == policy.budget)
                else:
                    outcome.message = "%s Gave up after %d attempt%s over %.0f seconds." % (
                        outcome.message, attempt, "" if attempt == 1 else "s", self._clock() - started)
                    outcome.args = (outcome.message,)
                raise outcome
            self._sleep(wait)

    def _transport_failure(self, method, url, exc, read):
        # A write that never reached the server was not applied: only one that left may have been.
        never_sent = isinstance(exc, ConnectTimeout) or _caused_by(exc, NewConnectionError)
        unresolved = _caused_by(exc, socket.gaierror) or (
            NameResolutionError is not None and _caused_by(exc, NameResolutionError))
        failure = transport_failure(exc, method, url, self.base_url, self.timeout, timed_out=isinstance(exc, Timeout),
                                    maybe_applied=not read and not never_sent, unresolved=unresolved,
                                    hostname=self.hostname)
        failure.unreachable = True
        return failure

    def _decode(self, response, register_secrets=True):
        if response.status_code == 204 or not response.content:
            return None
        try:
            body = response.json()
        except ValueError:
            raise not_json_failure(response)
        if register_secrets:
            self._register_body_secrets(body)
        return body

    def _http_failure(self, method, url, response, show_body=True):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            # An error object may quote what was sent, passwords included.
            self._register_body_secrets(body)
        failure = http_failure(method, url, self.base_url, response, body, show_body=show_body)
        failure.unreachable = response.status_code in UNAVAILABLE_STATUS
        return failure


# Looked up at call time, so a test can patch time.sleep/time.time once for every client.
def _sleep(seconds):
    time.sleep(seconds)


def _now():
    return time.time()


def _caused_by(exc, cls):
    seen = set()
    node = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, cls):
            return True
        for arg in getattr(node, "args", ()):
            if isinstance(arg, BaseException) and _caused_by(arg, cls):
                return True
            if isinstance(getattr(arg, "reason", None), cls):
                return True
        node = node.__cause__ or node.__context__ or getattr(node, "reason", None)
    return False


_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9\-\.]*[A-Za-z0-9])?$")


def validate_hostname(hostname):
    """Reason the hostname is unusable, or None."""
    if not hostname:
        return "hostname is required (or set SDDC_MANAGER_HOST)"
    if "://" in hostname or "/" in hostname:
        return "hostname must be a host name or IP address only, without scheme or path (got %r)" % hostname
    bare = hostname.strip("[]")
    if ":" in bare:
        try:
            ipaddress.ip_address(bare)
        except ValueError:
            return ("hostname %r looks like host:port; give the host in hostname and the port in port"
                    % hostname)
        return None
    if not _HOSTNAME.match(hostname):
        return "hostname %r is not a valid host name or IP address" % hostname
    return None


def _host_for_url(hostname):
    if ":" in hostname and not hostname.startswith("["):  # an IPv6 literal, as validate_hostname allowed
        return "[%s]" % hostname
    return hostname


def check_ca_path(ca_path):
    """Reason the CA bundle cannot be used, or None: checked before any request."""
    if not ca_path:
        return None
    if not os.path.exists(ca_path):
        return "ca_path %s does not exist" % ca_path
    if not os.access(ca_path, os.R_OK):
        return "ca_path %s is not readable by this user" % ca_path
    if os.path.isdir(ca_path):
        return None  # an OpenSSL hashed certificate folder; checked at connection time
    try:
        ssl.create_default_context(cafile=ca_path)
    except (ssl.SSLError, ValueError, OSError) as exc:
        return "ca_path %s holds no usable PEM CA certificate (%s)" % (ca_path, exc)
    return None
