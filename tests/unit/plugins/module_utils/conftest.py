"""Fixtures for the module_utils tests: canned API objects, a mocked HTTP layer, JWTs and a fake clock."""

from __future__ import annotations

import random

import pytest

from client_helpers import policy

from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import RetryPolicy, SddcManagerClient

BASE = "https://sddc.example.com:443"


@pytest.fixture(name="fake_time")
def fake_time_fixture(make_fake_time):
    return make_fake_time(start=1_800_000_000.0)


@pytest.fixture(name="secrets")
def secrets_fixture():
    """What the client gave ``on_secret``, in order."""
    return []


@pytest.fixture(name="client")
def client_fixture(fake_time):
    """The client of the _tasks tests: a given token, two attempts a request."""
    return SddcManagerClient("sddc.example.com", access_token="AT", sleep=fake_time.sleep, clock=fake_time.clock,
                             retry_policy=RetryPolicy(attempts=2, rng=random.Random(1)))


@pytest.fixture(name="make_client")
def make_client_fixture(fake_time, secrets):
    """``make_client(**kwargs)``: a client of sddc.example.com on the fake clock, with a seeded retry policy."""
    def make(**kwargs):
        kwargs.setdefault("retry_policy", policy())
        kwargs.setdefault("on_secret", secrets.append)
        return SddcManagerClient("sddc.example.com", sleep=fake_time.sleep, clock=fake_time.clock, **kwargs)

    return make
