"""What the client tests share: the URLs of a mocked SDDC Manager, a seeded retry policy, and the failures
requests raises.  The ``make_client`` and ``secrets`` fixtures are in conftest.py."""

from __future__ import annotations

import json
import random

import requests
from urllib3.connection import HTTPSConnection
from urllib3.exceptions import MaxRetryError, NewConnectionError

from helpers import BASE, TASK_ID

from ansible_collections.vcf.sddc_manager.plugins.module_utils._transport import RetryPolicy

TOKENS = BASE + "/v1/tokens"
REFRESH = BASE + "/v1/tokens/access-token/refresh"
REVOKE = BASE + "/v1/tokens/refresh-token"
TASK = BASE + "/v1/credentials/tasks/" + TASK_ID
TASKS = BASE + "/v1/credentials/tasks"
SEED = 20261127


def policy(**kwargs):
    return RetryPolicy(rng=random.Random(SEED), **kwargs)


def expected_delays(count, **kwargs):
    twin = policy(**kwargs)
    return [twin.delay(attempt) for attempt in range(count)]


def token_pair(access="AT-login-1", refresh="RT-login-1"):
    return {"accessToken": access, "refreshToken": {"id": refresh}}


def auth_header(call):
    return call.request.headers.get("Authorization")


def body_of(call):
    return json.loads(call.request.body)


def connection_refused():
    """What requests raises when nothing listens: the request never left this host."""
    conn = HTTPSConnection("sddc.example.com", 443)
    reason = NewConnectionError(conn, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/v1/x", reason))


def connection_dropped():
    """The connection broke after the request went out."""
    return requests.exceptions.ConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))")
