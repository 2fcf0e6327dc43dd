# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""The one SDDC Manager API client: HTTP, TLS, auth, retries and error translation.

Modules never import ``requests``; they construct :class:`SddcManagerClient`
(usually through ``_module.SddcManagerModule``) and call its task methods.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import ipaddress
import json
import os
import random
import re
import ssl
import threading
import time
import traceback
import warnings

from urllib.parse import quote

from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import redact, secrets_in

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
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

COLLECTION_VERSION = "0.1.0"
USER_AGENT = "vcf.sddc_manager-ansible-collection/%s" % COLLECTION_VERSION

# Statuses that say "the server did not do it, ask again later".  500 is left
# out on purpose: SDDC Manager uses it for real failures of the operation.
RETRYABLE_STATUS = frozenset([429, 502, 503, 504])
# How close to its expiry an access token is renewed before it is used.
TOKEN_REFRESH_MARGIN = 60
# Answers to a token refresh that refuse the refresh token; any other failure says nothing about it.
REFRESH_REFUSALS = frozenset([400, 401, 403, 404])
# Failures that say the server cannot be reached at all: another request to it would fail the same way.
UNREACHABLE = frozenset(["connection", "tls", "timeout"])


class SddcManagerError(Exception):
    """A failure explained in one sentence, with the details a playbook can branch on.

    ``kind`` is one of: config, connection, tls, timeout, auth, forbidden,
    not_found, api, ambiguous.
    """

    def __init__(self, message, kind="api", status_code=None, url=None, error=None):
        super(SddcManagerError, self).__init__(message)
        self.message = message
        self.kind = kind
        self.status_code = status_code
        self.url = url
        self.error = error

    def details(self):
        """Keyword arguments for ``fail_json`` besides ``msg``."""
        out = {}
        if self.status_code is not None:
            out["status_code"] = self.status_code
        if self.url is not None:
            out["url"] = self.url
        if self.error is not None:
            out["error"] = self.error
        return out


class _Unauthorized(Exception):
    """An HTTP 401 to an authenticated request, with the token that request sent."""

    def __init__(self, error, token):
        super(_Unauthorized, self).__init__(error.message)
        self.error = error
        self.token = token


class AmbiguousWriteError(SddcManagerError):
    """A write was sent but no answer came back: it may or may not have been applied.

    ``timed_out``: no answer within ``request_timeout``, so the server may still be working on it.
    """

    def __init__(self, message, url=None, timed_out=False):
        super(AmbiguousWriteError, self).__init__(message, kind="ambiguous", url=url)
        self.timed_out = timed_out


class RetryPolicy:
    """Bounded, jittered exponential backoff for reads.

    Equal jitter (half fixed, half random) keeps a floor under each delay so a
    struggling server is not hammered, while spreading forks that fail together.
    """

    def __init__(self, attempts=6, base=0.5, cap=10.0, budget=120.0, max_retry_after=60.0, rng=None):
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.budget = budget
        self.max_retry_after = max_retry_after
        self.rng = rng or random.Random()

    def delay(self, attempt, retry_after=None):
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.cap, self.base * (2 ** attempt))
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


def jwt_expiry(token):
    """The ``exp`` claim of a JWT as epoch seconds, or None when it cannot be read.

    The signature is not checked: the value only decides when to renew early.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
    except (ValueError, TypeError, UnicodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) else None


def iso_utc(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# The reason OpenSSL gives, without the pool's wrapping: "...certificate verify failed: <reason>. (_ssl.c:1006)".
_CERT_VERIFY = re.compile(r"certificate verify failed: (.+?)\.?\s*\(_ssl\.c:\d+\)")
_NAME_MISMATCH = re.compile(r"mismatch|not valid for|doesn't match|does not match", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def _token_from_text(text):
    """The access token in a refresh answer: a JSON string, or the bare token as text; None otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith('"'):
        try:
            text = json.loads(text)
        except ValueError:
            return None
        if not isinstance(text, str):
            return None
        text = text.strip()
    # A token is one word of printable characters; anything else (an HTML page, a JSON object) is not one.
    if not text or any(c.isspace() or c in "{}<>\"'" for c in text):
        return None
    return text


def _text_excerpt(text, limit=200):
    """A short readable excerpt of a non-JSON body (a proxy's HTML error page, say)."""
    title = re.search(r"<title[^>]*>(.*?)</title>", text or "", re.IGNORECASE | re.DOTALL)
    if title:
        text = title.group(1)
    text = _SPACES.sub(" ", _TAGS.sub(" ", text or "")).strip()
    return text[:limit] + ("..." if len(text) > limit else "")


def _error_sentence(error):
    """One sentence from an SDDC Manager ``Error`` object, nested errors and causes included."""
    parts = []
    message = error.get("message") or error.get("errorCode") or "no message"
    code = error.get("errorCode")
    parts.append("%s%s" % (message.rstrip("."), " [%s]" % code if code and code != message else ""))
    for nested in error.get("nestedErrors") or []:
        if isinstance(nested, dict) and nested.get("message"):
            parts.append(nested["message"].rstrip("."))
    for cause in error.get("causes") or error.get("cause") or []:
        if isinstance(cause, dict) and cause.get("message"):
            parts.append("cause: %s" % cause["message"].rstrip("."))
    sentence = "; ".join(parts) + "."
    if error.get("remediationMessage"):
        sentence += " Remediation: %s" % error["remediationMessage"].rstrip(".") + "."
    if error.get("referenceToken"):
        sentence += " (reference token %s)" % error["referenceToken"]
    return sentence


def _short_reason(exc):
    """The innermost human part of a requests exception, without pool internals."""
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if errno:
        return errno.group(1).strip()
    ssl_reason = re.search(r"(certificate verify failed[^'\")]*|CERTIFICATE_VERIFY_FAILED[^'\")]*|hostname [^'\")]+)", text)
    if ssl_reason:
        return ssl_reason.group(1).strip()
    for marker in ("RemoteDisconnected(", "ConnectionResetError(", "Read timed out", "Connection aborted"):
        if marker in text:
            return marker.rstrip("(")
    return text[:200]


class SddcManagerClient:
    """Talks to one SDDC Manager; owns a session, the tokens and the retry policy."""

    def __init__(self, hostname, port=443, username=None, password=None, access_token=None,
                 refresh_token=None, validate_certs=True, ca_path=None, request_timeout=60,
                 proxy_url=None, on_secret=None, mask_own_tokens=True, retry_policy=None,
                 session=None, sleep=None, clock=None):
        if not HAS_REQUESTS:
            raise SddcManagerError("The Python library 'requests' is required.", kind="config")
        self.hostname = hostname
        self.base_url = "https://%s:%s" % (_host_for_url(hostname), port)
        self.username = username
        self.password = password
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.timeout = request_timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self._on_secret = on_secret
        self._mask_own_tokens = mask_own_tokens
        self._sleep = sleep or _sleep
        self._clock = clock or _now
        self.logins = 0
        self.refreshes = 0
        # Set when renewing a token that was about to expire failed: it is used until it really expires.
        self._early_renewal_failed = False
        self._auth_lock = threading.RLock()
        # Given on every request: requests lets REQUESTS_CA_BUNDLE override a session's own setting.
        self.verify = (ca_path or True) if validate_certs else False
        self.session = session or self._new_session(self.verify, proxy_url)
        for secret in (password, access_token, refresh_token):
            self._secret(secret)

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

    # -- secrets -----------------------------------------------------------------

    def _secret(self, value, own_token=False):
        if not value or self._on_secret is None:
            return
        if own_token and not self._mask_own_tokens:
            return
        self._on_secret(value)

    def _register_body_secrets(self, body):
        if self._on_secret is not None and isinstance(body, (dict, list)):
            for value in secrets_in(body):
                self._on_secret(value)

    # -- auth --------------------------------------------------------------------

    @property
    def has_credentials(self):
        return bool(self.username and self.password)

    def login(self):
        """POST /v1/tokens; stores and returns (access_token, refresh_token_id)."""
        if not self.has_credentials:
            raise SddcManagerError(
                "No username and password to log in with: set username and password "
                "(SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD) or access_token.", kind="config")
        # A login changes nothing on SDDC Manager, so it is retried like a read.
        body = self._send("POST", "/v1/tokens", payload={"username": self.username, "password": self.password},
                          authenticated=False, read=True, own_tokens=True)
        if not isinstance(body, dict) or not body.get("accessToken"):
            raise SddcManagerError("SDDC Manager answered the login without an access token.",
                                   kind="auth", url=self._url("/v1/tokens"))
        self.logins += 1
        self.access_token = body["accessToken"]
        refresh = body.get("refreshToken")
        self.refresh_token = refresh.get("id") if isinstance(refresh, dict) else refresh
        self._secret(self.access_token, own_token=True)
        self._secret(self.refresh_token, own_token=True)
        return self.access_token, self.refresh_token

    def refresh(self):
        """PATCH /v1/tokens/access-token/refresh; the answer is the new access token.

        The spec says a JSON string; some servers answer the bare token as text.  Both are taken, and no
        part of the answer ever goes into an error message: it is a token.
        """
        # Minting another access token changes nothing either: retried like a read.
        text = self._send("PATCH", "/v1/tokens/access-token/refresh", payload=self.refresh_token,
                          authenticated=False, read=True, own_tokens=True, raw=True)
        token = _token_from_text(text)
        if token is None:
            raise SddcManagerError("SDDC Manager answered the token refresh without a token it could use (the "
                                   "answer is not shown: it may hold one).",
                                   kind="auth", url=self._url("/v1/tokens/access-token/refresh"))
        self.refreshes += 1
        self.access_token = token
        self._secret(self.access_token, own_token=True)
        return token

    def revoke(self, refresh_token=None):
        """DELETE /v1/tokens/refresh-token: the refresh token can no longer mint access tokens."""
        token = refresh_token or self.refresh_token
        self._secret(token)
        # Revoking twice does no harm (SDDC Manager answers 204 for an unknown id): retried like a read.
        self._send("DELETE", "/v1/tokens/refresh-token", payload=token, authenticated=False, read=True)

    def token_expires_at(self):
        return jwt_expiry(self.access_token)

    def _ensure_token(self):
        # Several threads may share one client (bulk retries): one of them renews, the others wait.
        with self._auth_lock:
            self._ensure_token_locked()

    def _ensure_token_locked(self):
        if not self.access_token:
            self.login()
            return
        expiry = jwt_expiry(self.access_token)
        renewable = (self.refresh_token or self.has_credentials) and not self._early_renewal_failed
        # Without a way to renew it, a token close to expiry is still worth sending while it is valid.
        if renewable and expiry is not None and expiry - self._clock() < TOKEN_REFRESH_MARGIN:
            try:
                self._renew(reason="the access token expires in under %d seconds" % TOKEN_REFRESH_MARGIN)
            except SddcManagerError as exc:
                if expiry <= self._clock():
                    raise
                # The token still works: use it. Once it expires, the 401 renews once more or explains.
                self._early_renewal_failed = True

    def _renew(self, reason):
        """Refresh once; whenever that fails, log in again if we can; otherwise explain what to give."""
        refresh_error = None
        if self.refresh_token:
            try:
                self.refresh()
                return
            except SddcManagerError as exc:
                if exc.kind in UNREACHABLE or (not self.has_credentials and exc.status_code not in REFRESH_REFUSALS):
                    # A login would meet the same unreachable server; without credentials, a refresh that failed
                    # for another reason than a refusal (a 503 burst that outlasted the retries, an answer without
                    # a token) has its own reason to give.
                    raise
                refresh_error = exc
        if self.has_credentials:
            self.login()
            self._early_renewal_failed = False
            return
        hint = " The refresh token was refused too." if refresh_error else ""
        raise SddcManagerError(
            "SDDC Manager refused the access token (%s) and it cannot be renewed.%s Give username and "
            "password (SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD) or a fresh access_token and "
            "refresh_token from the vcf.sddc_manager.token module." % (reason, hint), kind="auth", status_code=401)

    def _renew_rejected(self, rejected):
        """Renew after a 401 to ``rejected``, unless another thread already replaced that token."""
        with self._auth_lock:
            if self.access_token == rejected:
                self._renew(reason="HTTP 401")

    # -- HTTP --------------------------------------------------------------------

    def _url(self, path):
        return self.base_url + path

    def request(self, method, path, payload=None, params=None):
        """An authenticated call; reads are retried, writes are sent once.

        Every attempt carries the session's current token, so a read retried after a backoff, or one that
        waited while another thread renewed the token, never sends a token that was replaced meanwhile.  A 401
        renews the token that attempt sent, once per call: a second 401 is a real refusal (wrong role, revoked
        user).  A 401 means the write was not applied, so a write is sent again after a renewal too.
        """
        read = method.upper() == "GET"
        renewed = False
        while True:
            try:
                return self._send(method, path, payload=payload, params=params, read=read)
            except _Unauthorized as exc:
                if renewed:
                    raise exc.error
                self._renew_rejected(exc.token)
                renewed = True

    def _send(self, method, path, payload=None, params=None, authenticated=True, read=True, own_tokens=False,
              raw=False):
        """One request, retried when it is a read.  ``own_tokens``: the answer holds the session's
        tokens, which the caller registers itself (the token module must be able to return them).
        ``raw``: return the answer's text as it is (token answers, whatever their form)."""
        url = self._url(path)
        data = None
        headers = {}
        if payload is not None:
            data = json.dumps(payload)
            headers["Content-Type"] = "application/json"
        policy = self.retry_policy
        started = self._clock()
        attempt = 0
        while True:
            retry_after = None
            token = None
            if authenticated:
                self._ensure_token()
                token = self.access_token
                headers["Authorization"] = "Bearer %s" % token
            try:
                response = self.session.request(method, url, data=data, params=params, headers=headers,
                                                timeout=self.timeout, verify=self.verify)
            except SSLError as exc:
                raise self._tls_failure(exc, url)
            except RequestException as exc:
                failure = self._transport_failure(method, url, exc, read)
                if not read:
                    raise failure
                outcome = failure
            else:
                if response.status_code < 400:
                    if raw:
                        return response.text
                    return self._decode(response, register_secrets=not own_tokens)
                outcome = self._http_failure(method, url, response, show_body=not own_tokens)
                if authenticated and response.status_code == 401:
                    raise _Unauthorized(outcome, token)
                if not (read and response.status_code in RETRYABLE_STATUS):
                    raise outcome
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            attempt += 1
            wait = policy.delay(attempt - 1, retry_after)
            if attempt >= policy.attempts or self._clock() - started + wait > policy.budget:
                outcome.message = "%s Gave up after %d attempts over %.0f seconds." % (
                    outcome.message, attempt, self._clock() - started)
                outcome.args = (outcome.message,)
                raise outcome
            self._sleep(wait)

    def _tls_failure(self, exc, url):
        reason = _short_reason(exc)
        verify = _CERT_VERIFY.search(str(exc))
        if verify:
            reason = "certificate verify failed: %s" % verify.group(1)
        if _NAME_MISMATCH.search(reason):
            advice = ("The certificate does not name %s. Set hostname to a name the certificate holds (usually the "
                      "FQDN of SDDC Manager), or set validate_certs: false to skip verification (not recommended)."
                      % self.hostname)
        else:
            advice = ("Give the CA certificate that signed the SDDC Manager certificate in ca_path "
                      "(SDDC_MANAGER_CA_PATH), or set validate_certs: false to skip verification (not recommended).")
        return SddcManagerError("TLS verification of %s failed (%s). %s" % (self.base_url, reason, advice),
                                kind="tls", url=url)

    def _transport_failure(self, method, url, exc, read):
        reason = _short_reason(exc)
        never_sent = isinstance(exc, ConnectTimeout) or _caused_by(exc, NewConnectionError)
        if not read and not never_sent:
            return AmbiguousWriteError(
                "%s %s was sent but no answer came back (%s); it may or may not have been applied."
                % (method, url, reason), url=url, timed_out=isinstance(exc, Timeout))
        if isinstance(exc, Timeout):
            return SddcManagerError(
                "SDDC Manager at %s did not answer %s %s within request_timeout (%s s)."
                % (self.base_url, method, url, self.timeout), kind="timeout", url=url)
        return SddcManagerError(
            "Could not reach SDDC Manager at %s (%s). Check hostname and port, and proxy_url or the "
            "HTTPS_PROXY variable if a proxy is needed." % (self.base_url, reason), kind="connection", url=url)

    def _decode(self, response, register_secrets=True):
        if response.status_code == 204 or not response.content:
            return None
        try:
            body = response.json()
        except ValueError:
            raise SddcManagerError(
                "SDDC Manager answered %s %s with a body that is not JSON: %s"
                % (response.request.method, response.url, _text_excerpt(response.text)),
                kind="api", status_code=response.status_code, url=response.url)
        if register_secrets:
            self._register_body_secrets(body)
        return body

    def _http_failure(self, method, url, response, show_body=True):
        status = response.status_code
        where = "%s %s" % (method, url.replace(self.base_url, ""))
        try:
            body = response.json()
        except ValueError:
            body = None
        if not show_body and not isinstance(body, dict):
            # A token endpoint: a body that is not an SDDC Manager error may be a token; say nothing of it.
            detail = "%s (the body is not shown)." % (response.reason or "no reason given")
            error = None
        elif isinstance(body, dict):
            self._register_body_secrets(body)
            detail = _error_sentence(body)
            error = redact(body)
        else:
            excerpt = _text_excerpt(response.text)
            detail = "%s (the body is not an SDDC Manager error; a proxy or load balancer may have answered)." % (
                excerpt or response.reason or "no body")
            error = {"body": excerpt}
        kind = {401: "auth", 403: "forbidden", 404: "not_found"}.get(status, "api")
        if status == 401 and path_of(url, self.base_url) == "/v1/tokens":
            lead = ("SDDC Manager refused the credentials (HTTP 401) on %s; check username and password "
                    "(SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD): " % where)
        elif status == 401:
            lead = "SDDC Manager refused the credentials (HTTP 401) on %s: " % where
        elif status == 403:
            lead = ("SDDC Manager forbids %s for this user (HTTP 403); use an account with the ADMIN role, "
                    "the only one allowed to manage passwords: " % where)
        else:
            lead = "SDDC Manager answered HTTP %d %s to %s: " % (status, response.reason or "", where)
        return SddcManagerError(lead + detail, kind=kind, status_code=status, url=url, error=error)

    # -- API ---------------------------------------------------------------------

    def get_credentials_task(self, task_id):
        return self.request("GET", "/v1/credentials/tasks/%s" % _segment(task_id))

    def list_credentials_tasks(self, limit=None):
        params = {"limit": limit} if limit else None
        page = self.request("GET", "/v1/credentials/tasks", params=params)
        if isinstance(page, dict):
            return page.get("elements") or []
        return page or []

    def get_resource_credentials(self, task_id):
        return self.request("GET", "/v1/credentials/tasks/%s/resource-credentials" % _segment(task_id)) or []

    def retry_credentials_task(self, task_id, spec):
        return self.request("PATCH", "/v1/credentials/tasks/%s" % _segment(task_id), payload=spec)

    def cancel_credentials_task(self, task_id):
        return self.request("DELETE", "/v1/credentials/tasks/%s" % _segment(task_id))

    def get_task(self, task_id):
        return self.request("GET", "/v1/tasks/%s" % _segment(task_id))


# Looked up at call time, so a test can patch time.sleep/time.time once for every client.
def _sleep(seconds):
    time.sleep(seconds)


def _now():
    return time.time()


def path_of(url, base_url):
    """The path of ``url`` below ``base_url``, without a query."""
    return url.replace(base_url, "", 1).split("?", 1)[0]


def _segment(value):
    """A task id as one URL path segment: nothing in it can reach another endpoint."""
    return quote(str(value), safe="")


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
