"""Access and refresh tokens.

Access tokens are HS256 JWTs with ``sub``, ``iat``, ``exp`` and ``jti`` claims so
clients that peek at ``exp`` see real values; the simulator itself trusts only
its own table of issued tokens.  Refreshing returns a new access token and
leaves the refresh token usable until it expires or is revoked.  Revoking a
refresh token does not end access tokens already issued from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenStore:
    def __init__(self, clock, rng, access_lifetime, refresh_lifetime):
        self._clock = clock
        self._rng = rng
        self._access_lifetime = access_lifetime
        self._refresh_lifetime = refresh_lifetime
        self._secret = rng.getrandbits(256).to_bytes(32, "big")
        self._lock = threading.Lock()
        self._access = {}   # token -> (username, role, expires_at)
        self._refresh = {}  # id -> (username, role, expires_at)
        self._prune_at = 10000

    def issue(self, username, role):
        """Return a TokenPair for a user who just logged in."""
        with self._lock:
            now = self._clock.now()
            refresh_id = str(self._uuid())
            self._refresh[refresh_id] = (username, role, now + self._refresh_lifetime)
            access = self._new_access(username, role, now)
        return {"accessToken": access, "refreshToken": {"id": refresh_id}}

    def refresh(self, refresh_id):
        """Return a new access token, or ``None`` if the refresh token is unknown or expired."""
        with self._lock:
            now = self._clock.now()
            entry = self._refresh.get(refresh_id)
            if entry is None or entry[2] <= now:
                return None
            return self._new_access(entry[0], entry[1], now)

    def revoke(self, refresh_id):
        """Forget a refresh token; ``True`` if it existed."""
        with self._lock:
            return self._refresh.pop(refresh_id, None) is not None

    def void_all(self):
        """A restart: every access and refresh token issued so far stops working."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()

    def principal(self, access_token):
        """``(username, role)`` of a valid access token, else ``None``."""
        with self._lock:
            entry = self._access.get(access_token)
            if entry is None or entry[2] <= self._clock.now():
                return None
            return entry[0], entry[1]

    def _uuid(self):
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def _new_access(self, username, role, now):
        expires_at = now + self._access_lifetime
        header = {"alg": "HS256", "typ": "JWT"}
        payload = {
            "sub": username,
            "iss": "sddc-manager-simulator",
            "iat": int(now),
            # Rounded down so a client reading ``exp`` never thinks the token lives longer.
            "exp": int(expires_at),
            "jti": str(self._uuid()),
        }
        signing_input = "%s.%s" % (_b64url(json.dumps(header, separators=(",", ":")).encode()),
                                   _b64url(json.dumps(payload, separators=(",", ":")).encode()))
        signature = hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        token = "%s.%s" % (signing_input, _b64url(signature))
        self._access[token] = (username, role, expires_at)
        self._prune(now)
        return token

    def _prune(self, now):
        # Long benchmarks log in many times; drop dead tokens whenever the table
        # has doubled, so pruning stays cheap on average.
        if len(self._access) > self._prune_at:
            self._access = {k: v for k, v in self._access.items() if v[2] > now}
            self._prune_at = max(10000, 2 * len(self._access))
