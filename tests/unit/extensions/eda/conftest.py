"""Fixtures of the event source tests (test_credentials_tasks_source_*.py)."""

from __future__ import annotations

import time

import pytest

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _transport


@pytest.fixture(name="no_real_sleep_in_client")
def no_real_sleep_in_client_fixture(monkeypatch):
    """The client's read retries sleep in its own thread; keep them short so a 5xx burst takes milliseconds."""
    monkeypatch.setattr(_transport, "_sleep", lambda seconds: time.sleep(min(seconds, 0.01)))
