"""Fixtures for the module tests: mocked HTTP, canned API objects, a clean environment and a fake clock."""

from __future__ import annotations

import functools
import json
import os

import pytest

from helpers import NEW_PASSWORD, OLD_PASSWORD, keys_of
from task_retry_helpers import RESOURCE_CREDENTIALS, TASK

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _tasks, _waiter
from ansible_collections.vcf.sddc_manager.plugins.module_utils._waiter import Waiter


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No SDDC_MANAGER_* or proxy variable of the machine running the tests leaks into a module run."""

    for name in list(os.environ):
        if name.startswith("SDDC_MANAGER_") or name.lower() in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(name="rotate_server")
def rotate_server_fixture(rsps, failed_task, accepted, load_fixture):
    """A FAILED ROTATE task that SDDC Manager accepts to retry (the credentials_task_retry tests)."""
    rsps.get(TASK, json=failed_task)
    rsps.get(RESOURCE_CREDENTIALS, json=load_fixture("resource_credentials"))
    rsps.patch(TASK, status=202, json=accepted)
    return rsps


@pytest.fixture(name="fake_time")
def fake_time_fixture(make_fake_time):
    return make_fake_time(start=1_000.0)


@pytest.fixture(name="fake_waiter")
def fake_waiter_fixture(fake_time, monkeypatch):
    """``fake_waiter(module)``: every Waiter, and the time of every write, run on the fake clock, so waits take
    no time. (``module`` is kept for the callers' readability: every module waits through ``_batch``.)"""

    def install(module=None):
        del module
        monkeypatch.setattr(_waiter, "Waiter", functools.partial(Waiter, clock=fake_time.clock,
                                                                 sleeper=fake_time.sleep, wall_clock=fake_time.clock))
        monkeypatch.setattr(_tasks, "_wall_clock", fake_time.clock)
        return fake_time

    return install


PLANTED = (OLD_PASSWORD, NEW_PASSWORD, "PLANTED-old-b7c1", "PLANTED-new-b7c1", "PLANTED-rc-9f3a",
           "PLANTED-rc-b7c1")
_SECRET_KEYS = {"password", "oldpassword", "newpassword", "accesstoken", "refreshtoken", "token"}


def assert_clean(returned, extra_secrets=()):
    """``returned`` (a task, a list of tasks, a report) is snake_case and holds no secret, key or value."""
    text = json.dumps(returned)
    for secret in PLANTED + tuple(extra_secrets):
        assert secret not in text, "%s leaked into %s" % (secret, text)
    for key in keys_of(returned):
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

    def sleep(seconds):
        sleeps.append(seconds)

    def clock():
        # The client's own clock moves with its sleeps, so read_retry_budget bounds its retries here too.
        return 1_000.0 + sum(sleeps)

    class InstantClient(real):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("sleep", sleep)
            kwargs.setdefault("clock", clock)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_client, "SddcManagerClient", InstantClient)
    return sleeps
