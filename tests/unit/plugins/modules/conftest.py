"""Fixtures for the module tests: mocked HTTP, canned API objects, a clean environment and a fake clock."""

from __future__ import annotations

import base64
import copy
import functools
import json
from pathlib import Path

import pytest
import responses

from ansible_collections.vcf.sddc_manager.plugins.module_utils._waiter import Waiter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
_CACHE = {}


@pytest.fixture(name="load_fixture", scope="session")
def load_fixture_fixture():
    """``load_fixture("credentials_task_failed_rotate")`` -> a fresh deep copy of the JSON fixture."""

    def load(name):
        if name not in _CACHE:
            with open(FIXTURES / (name + ".json"), encoding="utf-8") as handle:
                _CACHE[name] = json.load(handle)
        return copy.deepcopy(_CACHE[name])

    return load


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode("utf-8")).rstrip(b"=").decode("ascii")


@pytest.fixture(name="make_jwt", scope="session")
def make_jwt_fixture():
    def make(exp=None, **claims):
        if exp is not None:
            claims["exp"] = exp
        return "%s.%s.%s" % (_b64({"alg": "RS256", "typ": "JWT"}), _b64(claims), "c2lnbmF0dXJl")

    return make


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No SDDC_MANAGER_* or proxy variable of the machine running the tests leaks into a module run."""
    import os

    for name in list(os.environ):
        if name.startswith("SDDC_MANAGER_") or name.lower() in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(name="rsps")
def rsps_fixture():
    """A ``responses`` mock; any request without a registered answer fails as a connection error."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


class FakeTime:
    def __init__(self, start=1_000.0):
        self.now = start
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(name="fake_time")
def fake_time_fixture():
    return FakeTime()


@pytest.fixture(name="fake_waiter")
def fake_waiter_fixture(fake_time, monkeypatch):
    """``fake_waiter(module)``: the module's Waiter runs on the fake clock, so waits take no time."""

    def install(module):
        monkeypatch.setattr(module, "Waiter", functools.partial(Waiter, clock=fake_time.clock,
                                                                sleeper=fake_time.sleep))
        return fake_time

    return install


PLANTED = ("PLANTED-old-9f3a", "PLANTED-new-9f3a", "PLANTED-old-b7c1", "PLANTED-new-b7c1", "PLANTED-rc-9f3a",
           "PLANTED-rc-b7c1")
_SECRET_KEYS = {"password", "oldpassword", "newpassword", "accesstoken", "refreshtoken", "token"}


def _keys(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from _keys(value)
    elif isinstance(data, list):
        for item in data:
            yield from _keys(item)


def assert_clean(returned, extra_secrets=()):
    """``returned`` (a task, a list of tasks, a report) is snake_case and holds no secret, key or value."""
    text = json.dumps(returned)
    for secret in PLANTED + tuple(extra_secrets):
        assert secret not in text, "%s leaked into %s" % (secret, text)
    for key in _keys(returned):
        folded = key.replace("_", "").lower()
        assert folded not in _SECRET_KEYS, "secret key %r returned" % key
        assert key == key.lower(), "key %r is not snake_case" % key


@pytest.fixture(name="assert_clean", scope="session")
def assert_clean_fixture():
    return assert_clean


@pytest.fixture(name="client_sleeps", autouse=True)
def client_sleeps_fixture(monkeypatch):
    """The modules' client backs off without really sleeping; the list holds the sleeps it asked for."""
    from ansible_collections.vcf.sddc_manager.plugins.module_utils import _client

    sleeps = []
    real = _client.SddcManagerClient

    class InstantClient(real):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("sleep", sleeps.append)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_client, "SddcManagerClient", InstantClient)
    return sleeps
