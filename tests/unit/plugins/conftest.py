"""Fixtures shared by the module_utils and module tests: canned API objects, mocked HTTP, JWTs, a fake clock."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import responses

from helpers import make_jwt

FIXTURES = Path(__file__).resolve().parent / "fixtures"
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


@pytest.fixture(name="failed_task")
def failed_task_fixture(load_fixture):
    """A FAILED ROTATE task with passwords planted in its sub-tasks (fixtures/credentials_task_failed_rotate.json)."""
    return load_fixture("credentials_task_failed_rotate")


@pytest.fixture(name="accepted")
def accepted_fixture(load_fixture):
    """The generic Task SDDC Manager answers a PATCH or DELETE with (fixtures/task_in_progress.json)."""
    return load_fixture("task_in_progress")


@pytest.fixture(name="make_jwt", scope="session")
def make_jwt_fixture():
    """``make_jwt(exp=None, **claims)``: an unsigned JWT (tests/unit/helpers.py)."""
    return make_jwt


@pytest.fixture(name="rsps")
def rsps_fixture():
    """A ``responses`` mock; any request without a registered answer fails as a connection error."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


class FakeTime:
    """A clock that only moves when something sleeps; every sleep is recorded."""

    def __init__(self, start):
        self.now = start
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(name="make_fake_time", scope="session")
def make_fake_time_fixture():
    """``make_fake_time(start)`` -> a FakeTime (fixtures in sub-folders pick their own start)."""
    return FakeTime


@pytest.fixture(name="confirm_time", autouse=True)
def confirm_time_fixture(monkeypatch):
    """The reads that settle a write with a lost answer (``_tasks._confirm``) run on a FakeTime of their own."""
    from ansible_collections.vcf.sddc_manager.plugins.module_utils import _tasks

    fake = FakeTime(start=0.0)
    monkeypatch.setattr(_tasks, "_clock", fake.clock)
    monkeypatch.setattr(_tasks, "_sleep", fake.sleep)
    return fake
