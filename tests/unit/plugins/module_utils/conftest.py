"""Fixtures for the module_utils tests: canned API objects, a mocked HTTP layer, JWTs and a fake clock."""

from __future__ import annotations

import pytest

BASE = "https://sddc.example.com:443"


@pytest.fixture(name="fake_time")
def fake_time_fixture(make_fake_time):
    return make_fake_time(start=1_800_000_000.0)
