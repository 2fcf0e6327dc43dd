# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""The session's tokens: log in, refresh, revoke, and renew the token SDDC Manager refused.

A play may run for hours and may be handed tokens instead of a password, so the access token is renewed
before it expires and again when it is refused, from the refresh token first and by a login when that
fails.  Tokens are secrets: every one met is given to ``on_secret``, and none goes into an error message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import threading

from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._time import iso_utc

# How close to its expiry an access token is renewed before it is used.
TOKEN_REFRESH_MARGIN = 60
# Answers to a token refresh that refuse the refresh token; any other failure says nothing about it.
REFRESH_REFUSALS = frozenset([400, 401, 403, 404])
# Failures that say the server cannot be reached at all: another request to it would fail the same way.
UNREACHABLE = frozenset(["connection", "tls", "timeout"])
# A revoke at the end of a run is best effort: SDDC Manager down or restarting must not hold the end for minutes.
END_SESSION_SECONDS = 20


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


class TokenAuth:
    """The tokens of one session, mixed into a client that is also a ``_transport.Transport``.

    The token requests go through the transport's ``_send``; an authenticated request asks
    :meth:`_current_token` for the token to send and :meth:`_renew_rejected` after a 401.
    """

    def __init__(self, username=None, password=None, access_token=None, refresh_token=None, mask_own_tokens=True):
        self.username = username
        self.password = password
        self.access_token = access_token
        self.refresh_token = refresh_token
        self._mask_own_tokens = mask_own_tokens
        self.logins = 0
        self.refreshes = 0
        # Set when renewing a token that was about to expire failed: it is used until it really expires.
        self._early_renewal_failed = False
        self._auth_lock = threading.RLock()

    def _own_token(self, value):
        # The token module returns the tokens it was asked for: masking them would make its result useless.
        if self._mask_own_tokens:
            self._secret(value)

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
                          read=True, own_tokens=True)
        if not isinstance(body, dict) or not body.get("accessToken"):
            raise SddcManagerError("SDDC Manager answered the login without an access token.",
                                   kind="auth", url=self._url("/v1/tokens"))
        self.logins += 1
        self.access_token = body["accessToken"]
        refresh = body.get("refreshToken")
        self.refresh_token = refresh.get("id") if isinstance(refresh, dict) else refresh
        self._own_token(self.access_token)
        self._own_token(self.refresh_token)
        return self.access_token, self.refresh_token

    def refresh(self):
        """PATCH /v1/tokens/access-token/refresh; the answer is the new access token.

        The spec says a JSON string; some servers answer the bare token as text.  Both are taken, and no
        part of the answer ever goes into an error message: it is a token.
        """
        # Minting another access token changes nothing either: retried like a read.
        text = self._send("PATCH", "/v1/tokens/access-token/refresh", payload=self.refresh_token,
                          read=True, own_tokens=True, raw=True)
        token = _token_from_text(text)
        if token is None:
            raise SddcManagerError("SDDC Manager answered the token refresh without a token it could use (the "
                                   "answer is not shown: it may hold one).",
                                   kind="auth", url=self._url("/v1/tokens/access-token/refresh"))
        self.refreshes += 1
        self.access_token = token
        self._own_token(self.access_token)
        return token

    def revoke(self, refresh_token=None):
        """DELETE /v1/tokens/refresh-token: the refresh token can no longer mint access tokens."""
        token = refresh_token or self.refresh_token
        self._secret(token)
        # Revoking twice does no harm (SDDC Manager answers 204 for an unknown id): retried like a read.
        self._send("DELETE", "/v1/tokens/refresh-token", payload=token, read=True)

    def end_session(self, seconds=END_SESSION_SECONDS):
        """Revoke this session's refresh token, best effort, within ``seconds``: None when it was revoked, else why
        not (an error's message, which never holds a token)."""
        if not self.refresh_token:
            return "no refresh token to revoke."
        limit = getattr(self, "time_limit", None)
        try:
            if limit is None:
                self.revoke()
            else:
                with limit(seconds):
                    self.revoke()
        except SddcManagerError as exc:
            return exc.message
        return None

    def token_expires_at(self):
        return jwt_expiry(self.access_token)

    def _current_token(self):
        """The access token to send now: renewed first when it is about to expire."""
        self._ensure_token()
        return self.access_token

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
        hint = ""
        if refresh_error is not None:
            # Both tokens refused: the session is gone on SDDC Manager's side; a restart voids every token.
            hint = (" The refresh token was refused too: SDDC Manager's session ended (most likely SDDC Manager "
                    "restarted, which ends every session).")
        raise SddcManagerError(
            "SDDC Manager refused the access token (%s) and it cannot be renewed.%s Give username and "
            "password (SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD) so that it can log in again, or a fresh "
            "access_token and refresh_token from the vcf.sddc_manager.token module." % (reason, hint),
            kind="auth", status_code=401)

    def _renew_rejected(self, rejected):
        """Renew after a 401 to ``rejected``, unless another thread already replaced that token."""
        with self._auth_lock:
            if self.access_token == rejected:
                self._renew(reason="HTTP 401")


# The token module's own options and rules, shared by the module and its action plugin (plugins/action/token.py).
TOKEN_ARGUMENT_SPEC = dict(state=dict(type="str", choices=["present", "absent"], default="present"))
TOKEN_REQUIRED_IF = [("state", "present", ("username", "password")), ("state", "absent", ("refresh_token",))]


def token_result(client, params, check_mode):
    """What the token module returns: a login's tokens (``state=present``) or a revoked refresh token."""
    if params["state"] == "absent":
        if not check_mode:
            client.revoke(params["refresh_token"])
        return dict(changed=True, msg="The refresh token was revoked.")
    if check_mode:
        return dict(changed=False, msg="Check mode: no login was made.")
    access_token, refresh_token = client.login()
    # A login creates a server-side session, but re-running it leaves the system as it was: not a change.
    return dict(changed=False, access_token=access_token, refresh_token=refresh_token,
                expires_at=iso_utc(client.token_expires_at()))
