"""Arbitrary input never crashes the parsers: it is accepted or refused with a clear error."""

import copy
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sddc_sim.errors import ApiError, ScenarioError
from sddc_sim.model import CredentialsTask
from sddc_sim.scenario import load as load_scenario
from sddc_sim.state import Metrics, SimState
from sddc_sim.validation import validate_update_spec
from sim_helpers import BASE_SCENARIO

WORDS = st.sampled_from([
    "ROTATE", "UPDATE", "ESXI", "SSH", "root", "esxi-1.vrack.vsphere.local", "", "x", "FAILED",
    "operationType", "elements", "resourceType", "resourceName", "credentials", "username", "credentialType",
    "password", "autoRotatePolicy", "type", "status", "resources", "name", "credential_type", "outcomes",
    "errors", "subtask", "kind", "match", "generate", "count", "created",
    "2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "status_word", "subtask_status", "failing_subtasks", "completion_timestamp", "dependent", "notifications",
    "severity", "message", "remediations", "link", "none", "release", "9.1", "4.5", "stale_reads",
    "retry_new_id", "generic_status", "case", "queued", "upper", "refresh_answer", "empty_answer", "TIMED_OUT",
])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 100) | st.floats() | WORDS | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(WORDS, children, max_size=6),
    max_leaves=30,
)


def _rotate_task():
    scenario = load_scenario(copy.deepcopy(BASE_SCENARIO))
    return CredentialsTask(scenario.tasks[0], random.Random(1), 1, 0.0, 0.0)


def _valid_body():
    return {"operationType": "ROTATE", "elements": [
        {"resourceType": "ESXI", "resourceName": "esxi-1.vrack.vsphere.local",
         "credentials": [{"credentialType": "SSH", "username": "root"}]},
        {"resourceType": "ESXI", "resourceName": "esxi-2.vrack.vsphere.local",
         "credentials": [{"credentialType": "SSH", "username": "root"}]}]}


@settings(max_examples=150, deadline=None)
@given(body=JSON)
def test_any_update_spec_is_accepted_or_refused_with_400(body):
    task = _rotate_task()
    try:
        validate_update_spec(body, task)
    except ApiError as error:
        assert error.status == 400 and error.error_code.startswith("PASSWORD_MANAGER_")


def _replace(document, path, value):
    """Put ``value`` at ``path`` inside ``document``; ``False`` if the path does not exist."""
    target = document
    try:
        for key in path[:-1]:
            target = target[key]
        if path:
            target[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(path=st.lists(st.sampled_from(["elements", 0, 1, "credentials", "resourceType", "username",
                                      "operationType", "autoRotatePolicy"]), max_size=4),
       value=JSON)
def test_a_valid_spec_with_one_part_replaced_never_crashes(path, value):
    body = _valid_body()
    if not _replace(body, path, value):
        return
    try:
        validate_update_spec(body, _rotate_task())
    except ApiError as error:
        assert error.status == 400


@settings(max_examples=150, deadline=None)
@given(data=JSON)
def test_any_scenario_is_loaded_or_refused_with_scenario_error(data):
    try:
        load_scenario(data if isinstance(data, dict) else {"tasks": data})
    except ScenarioError as error:
        assert str(error)


@settings(max_examples=150, deadline=None)
@given(path=st.lists(st.sampled_from(["tasks", "faults", "users", 0, 1, "resources", "credentials", "outcomes",
                                      "errors", "status", "type", "created", "run_seconds", "pending_seconds",
                                      "subtask", "credential_type", "match", "kind", "tokens",
                                      "access_lifetime", "latency", "get", "status_word", "dependent",
                                      "notifications", "failing_subtasks", "subtask_status", "release",
                                      "completion_timestamp", "stale_reads", "retry_new_id"]), max_size=5),
       value=JSON)
def test_a_valid_scenario_with_one_part_replaced_is_loaded_or_refused(path, value):
    scenario = copy.deepcopy(BASE_SCENARIO)
    scenario["faults"] = [{"match": {"method": "GET"}, "kind": "http_error", "status": 503}]
    scenario["tokens"] = {"access_lifetime": 60}
    scenario["latency"] = {"get": 0}
    scenario["release"] = "9.1"
    scenario["tasks"][1]["outcomes"][0]["errors"][0]["notifications"] = [
        {"severity": "WARNING", "message": "m", "remediations": [{"message": "r", "link": "https://example.com"}]}]
    scenario["tasks"][2]["outcomes"] = [{"status_word": "ROLLED_BACK", "failing_subtasks": [0],
                                         "errors": [{"subtask": 0, "dependent": True}]}]
    if not _replace(scenario, path, value):
        return
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as error:
        assert str(error)
        return
    state = SimState(loaded, Metrics())
    with state.lock:
        for task in state.all_tasks():
            task.credentials_view()
            task.generic_view()
            # Every outcome must run to a view as well.
            for _run in task.outcomes:
                task.retry(0.0, {}, None)
                task.advance(1e12)
                task.credentials_view()
                task.generic_view()
