# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""What the client raises, and the one sentence each failure becomes.

A playbook author reads these sentences, so their wording is kept apart from the code that detects the
failures: ``_transport`` decides what went wrong (a TLS failure, a lost answer, an HTTP error) and the
functions here say it.  Nothing here imports ``requests``: anything that needs its exception classes is
decided in ``_transport`` and handed over as a plain value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import redact


class SddcManagerError(Exception):
    """A failure explained in one sentence, with the details a playbook can branch on.

    ``kind`` is one of: config, connection, tls, timeout, auth, forbidden,
    not_found, api, ambiguous.

    ``unreachable``: SDDC Manager, which had answered before, could not be reached or answered 502/503/504 (it is
    down or restarting): a wait takes it for "not known yet", never for an end.  ``retry_after``: the seconds its
    last answer asked to wait (``Retry-After``), or None.  ``unresolved``: the host name did not resolve.
    """

    def __init__(self, message, kind="api", status_code=None, url=None, error=None):
        super(SddcManagerError, self).__init__(message)
        self.message = message
        self.kind = kind
        self.status_code = status_code
        self.url = url
        self.error = error
        self.unreachable = False
        self.unresolved = False
        self.retry_after = None

    def details(self):
        """Keyword arguments for ``fail_json`` besides ``msg``."""
        out = {}
        if self.status_code is not None:
            out["status_code"] = self.status_code
        if self.url is not None:
            out["url"] = self.url
        if self.error is not None:
            out["error"] = self.error
        if self.unreachable or (self.kind in ("connection", "timeout") and not self.unresolved):
            # SDDC Manager could not be reached or is restarting: a caller that saw it answer before (the wait's
            # action plugin, between module runs) takes it for "not known yet".
            # Not "unreachable": Ansible takes a result with that key for an unreachable host and stops the play.
            out["sddc_manager_unreachable"] = True
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


def not_known_yet(exc):
    """Whether a failed read leaves the state it asked for unknown for now (an outage), rather than being an end.

    The one rule every wait applies: SDDC Manager answered before and now cannot be reached or is restarting.
    """
    return isinstance(exc, SddcManagerError) and exc.unreachable


# The reason OpenSSL gives, without the pool's wrapping: "...certificate verify failed: <reason>. (_ssl.c:1006)".
_CERT_VERIFY = re.compile(r"certificate verify failed: (.+?)\.?\s*\(_ssl\.c:\d+\)")
_NAME_MISMATCH = re.compile(r"mismatch|not valid for|doesn't match|does not match", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def tls_failure(exc, url, base_url, hostname):
    """A TLS verification failure, with the one setting that would fix it."""
    reason = _short_reason(exc)
    verify = _CERT_VERIFY.search(str(exc))
    if verify:
        reason = "certificate verify failed: %s" % verify.group(1)
    if _NAME_MISMATCH.search(reason):
        advice = ("The certificate does not name %s. Set hostname to a name the certificate holds (usually the "
                  "FQDN of SDDC Manager), or set validate_certs: false to skip verification (not recommended)."
                  % hostname)
    else:
        advice = ("Give the CA certificate that signed the SDDC Manager certificate in ca_path "
                  "(SDDC_MANAGER_CA_PATH), or set validate_certs: false to skip verification (not recommended).")
    return SddcManagerError("TLS verification of %s failed (%s). %s" % (base_url, reason, advice),
                            kind="tls", url=url)


def transport_failure(exc, method, url, base_url, timeout, timed_out, maybe_applied, unresolved=False, hostname=None):
    """A request that got no answer.  ``maybe_applied``: a write that left this host, so it may have been done.
    ``unresolved``: the host name did not resolve."""
    reason = _short_reason(exc)
    if unresolved and not maybe_applied:
        failure = SddcManagerError(
            "Could not reach SDDC Manager at %s: the host name %s does not resolve (%s). Check hostname, and "
            "proxy_url or the HTTPS_PROXY variable if a proxy is needed." % (base_url, hostname, reason),
            kind="connection", url=url)
        failure.unresolved = True
        return failure
    if maybe_applied:
        return AmbiguousWriteError(
            "%s %s was sent but no answer came back (%s); it may or may not have been applied."
            % (method, url, reason), url=url, timed_out=timed_out)
    if timed_out:
        failure = SddcManagerError(
            "SDDC Manager at %s did not answer %s %s within request_timeout (%s s)."
            % (base_url, method, url, timeout), kind="timeout", url=url)
    else:
        failure = SddcManagerError(
            "Could not reach SDDC Manager at %s (%s). Check hostname and port, and proxy_url or the "
            "HTTPS_PROXY variable if a proxy is needed." % (base_url, reason), kind="connection", url=url)
    failure.reason = reason
    return failure


def outage_failure(failure, base_url, attempts, seconds, budgeted):
    """A read that met an outage of an SDDC Manager that had answered before, after its retries ran out."""
    spent = "Gave up after %d attempt%s over %.0f seconds%s." % (
        attempts, "" if attempts == 1 else "s", seconds, " (read_retry_budget)" if budgeted else "")
    if failure.kind in ("connection", "timeout") and not isinstance(failure, AmbiguousWriteError):
        failure.message = ("SDDC Manager at %s answered before but cannot be reached now (%s): it is down or "
                           "restarting. %s" % (base_url, getattr(failure, "reason", None) or "no answer", spent))
    else:
        failure.message = "%s %s" % (failure.message, spent)
    failure.args = (failure.message,)
    return failure


def not_json_failure(response):
    """A success whose body is not JSON: a login page or a proxy answered in SDDC Manager's place."""
    return SddcManagerError(
        "SDDC Manager answered %s %s with a body that is not JSON: %s"
        % (response.request.method, response.url, _text_excerpt(response.text)),
        kind="api", status_code=response.status_code, url=response.url)


def http_failure(method, url, base_url, response, body, show_body=True):
    """An HTTP error answer as one sentence: what was refused, why, and what to change.

    ``body``: the answer's JSON, or None when it is not JSON.  ``show_body`` false: the answer of a token
    endpoint, whose body is left out unless it is an SDDC Manager error object (it may be a token).
    """
    status = response.status_code
    where = "%s %s" % (method, url.replace(base_url, ""))
    if not show_body and not isinstance(body, dict):
        detail = "%s (the body is not shown)." % (response.reason or "no reason given")
        error = None
    elif isinstance(body, dict):
        detail = _error_sentence(body)
        error = redact(body)
    else:
        excerpt = _text_excerpt(response.text)
        detail = "%s (the body is not an SDDC Manager error; a proxy or load balancer may have answered)." % (
            excerpt or response.reason or "no body")
        error = {"body": excerpt}
    kind = {401: "auth", 403: "forbidden", 404: "not_found"}.get(status, "api")
    if status == 401 and path_of(url, base_url) == "/v1/tokens":
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


def path_of(url, base_url):
    """The path of ``url`` below ``base_url``, without a query."""
    return url.replace(base_url, "", 1).split("?", 1)[0]


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
