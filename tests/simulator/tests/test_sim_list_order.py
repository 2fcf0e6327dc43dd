"""The ``list_order`` knob: the task list newest first (SDDC Manager's order, the default), oldest first or
shuffled, set in the scenario or at run time through ``/_sim/list_order``; ``limit`` cuts that order."""

import pytest

from sddc_sim import SimControlError


def _created(client, token, **params):
    page = client.get("/v1/credentials/tasks", token, params=params).json()
    return [t["creationTimestamp"] for t in page["elements"]], page["pageMetadata"]["totalElements"]


def test_newest_first_by_default(client):
    token = client.token()
    created, total = _created(client, token)
    assert created == sorted(created, reverse=True) and len(created) == total > 2
    assert client.ctl.list_order() == "newest"


def test_oldest_first_answers_the_oldest_tasks_and_limit_cuts_that_order(client):
    token = client.token()
    newest, total = _created(client, token)
    assert client.ctl.set_list_order("oldest") == {"order": "oldest"}
    created, again = _created(client, token)
    assert created == newest[::-1] and again == total
    assert _created(client, token, limit=2)[0] == newest[::-1][:2]


def test_shuffled_is_another_order_with_every_task(client):
    load = client.ctl.load
    load({"seed": 3, "users": [{"username": "a@b", "password": "P4ssword!", "role": "ADMIN"}], "list_order": "shuffled",
          "tasks": [{"generate": {"count": 40, "type": "ROTATE", "status": "SUCCESSFUL"}}]})
    token = client.token({"username": "a@b", "password": "P4ssword!"})
    created, total = _created(client, token)
    assert total == 40 and sorted(created, reverse=True) != created and len(set(created)) == 40
    assert client.ctl.list_order() == "shuffled"


def test_a_scenario_load_sets_the_order_back(client):
    client.ctl.set_list_order("oldest")
    client.ctl.load({"users": [{"username": "a@b", "password": "P4ssword!", "role": "ADMIN"}]})
    assert client.ctl.list_order() == "newest"


@pytest.mark.parametrize("body", [{"order": "sideways"}, {}, ["oldest"]])
def test_an_unknown_order_is_refused(client, body):
    with pytest.raises(SimControlError) as info:
        client.ctl._call("POST", "/_sim/list_order", body)  # pylint: disable=protected-access
    assert info.value.status == 400 and "newest, oldest, shuffled" in info.value.payload["error"]
