"""Fixtures for the simulator's own tests: one HTTPS simulator per session, reloaded per test."""

import copy
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sddc_sim import Simulator  # noqa: E402  (needs the path above)
from sim_helpers import BASE_SCENARIO, Client  # noqa: E402


@pytest.fixture(scope="session")
def certs_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def simulator(certs_dir):
    with Simulator(BASE_SCENARIO, certs_dir=certs_dir) as sim:
        yield sim


@pytest.fixture
def client(simulator):
    """A client of the shared simulator, freshly loaded with BASE_SCENARIO."""
    c = Client(simulator)
    c.ctl.load(copy.deepcopy(BASE_SCENARIO))
    yield c
    c.session.close()


@pytest.fixture
def load(client):
    """Load a scenario built from BASE_SCENARIO plus overrides; returns the client."""
    def _load(**overrides):
        scenario = copy.deepcopy(BASE_SCENARIO)
        scenario.update(overrides)
        client.ctl.load(scenario)
        return client
    return _load
