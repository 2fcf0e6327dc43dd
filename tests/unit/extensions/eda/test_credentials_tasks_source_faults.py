"""The event source through faults: 5xx bursts, resets and outages, an expired token, answers of another shape."""

from __future__ import annotations

import json
import logging

import pytest
import requests
import responses

from eda_source_harness import ACCESS_2, LIST_URL, SECRETS, ids_of, run_source, source, task, ts

pytestmark = pytest.mark.usefixtures("no_real_sleep_in_client")


# --- faults ----------------------------------------------------------------------------------------------------

def test_5xx_bursts_resets_and_an_outage_are_survived_with_one_log_line_each_way(caplog):
    caplog.set_level(logging.INFO, logger="vcf.sddc_manager.credentials_tasks")
    before = [task("f", "IN_PROGRESS")]
    after = [task("f", "FAILED", ts())]
    script = [before] + [503, 502, requests.exceptions.ConnectionError("Connection reset by peer")] * 6 + [after]
    events, fake = run_source(script)
    assert ids_of(events) == [("f", "FAILED", 1)]
    down = [r for r in caplog.records if "did not answer" in r.getMessage()]
    up = [r for r in caplog.records if "answers again after" in r.getMessage()]
    assert len(down) == 1 and len(up) == 1, [r.getMessage() for r in caplog.records]
    assert "tasks that entered a watched status meanwhile are events now" in up[0].getMessage()
    for record in caplog.records:
        for secret in SECRETS:
            assert secret not in record.getMessage()
    assert fake.logins == 1


def test_two_outages_are_two_pairs_of_lines(caplog):
    caplog.set_level(logging.INFO, logger="vcf.sddc_manager.credentials_tasks")
    ok = [task("g", "SUCCESSFUL", ts())]
    events, _fake = run_source([ok] + [503] * 8 + [ok, ok] + [requests.exceptions.ConnectionError("reset")] * 8 + [ok])
    assert events == []
    assert len([r for r in caplog.records if "did not answer" in r.getMessage()]) == 2
    assert len([r for r in caplog.records if "answers again after" in r.getMessage()]) == 2


def test_sddc_manager_down_at_start_is_waited_for():
    events, _fake = run_source([requests.exceptions.ConnectionError("refused")] * 10 + [[task("h", "IN_PROGRESS")]]
                               + [[task("h", "FAILED", ts())]])
    assert ids_of(events) == [("h", "FAILED", 1)]


def test_an_expired_token_is_renewed_without_a_lost_or_duplicate_event():
    script = [[task("e", "IN_PROGRESS")],
              (401, {"errorCode": "Unauthorized",
                     "message": "Authorization Header is missing or not in correct format"}),
              [task("e", "FAILED", ts())], [task("e", "FAILED", ts())]]
    events, fake = run_source(script)
    assert ids_of(events) == [("e", "FAILED", 1)]
    assert fake.refreshes == 1
    assert "Bearer %s" % ACCESS_2 in fake.auth_headers


def test_a_body_of_another_shape_is_a_failed_poll_not_a_crash():
    events, _fake = run_source([[task("s", "IN_PROGRESS")], (200, {"elements": "not a list"}), (200, ["x", 3]),
                                [task("s", "FAILED", ts())]])
    assert ids_of(events) == [("s", "FAILED", 1)]


def test_a_task_of_an_unexpected_shape_still_gives_its_event(caplog):
    odd = {"id": "odd", "type": "ROTATE", "status": "FAILED", "completionTimestamp": ts(), "subTasks": "not a list"}
    events, _fake = run_source([[], [odd]], {"resource_types": ["ESXI"]}, extra_polls=1)
    assert events == []  # no resource can be read, so no resource filter matches
    events, _fake = run_source([[], [odd]])
    assert ids_of(events) == [("odd", "FAILED", 1)]
    assert events[0]["credentials_task"]["resources"] == []
    assert "could not be read" in caplog.text


def _untyped(task_id):
    """A FAILED task whose sub-tasks leave entityType out (the spec makes it optional)."""
    untyped = task(task_id, "FAILED", ts())
    for sub in untyped["subTasks"]:
        del sub["entityType"]
    return untyped


@pytest.mark.parametrize("kind, events_expected", [("ESXI", 1), ("VCENTER", 0)])
def test_a_task_without_resource_types_is_matched_through_its_resource_credentials(kind, events_expected):
    def more(rsps):
        rsps.get(LIST_URL + "/typeless/resource-credentials",
                 json=[{"resourceName": "esxi-1.rack.example.com", "resourceType": kind, "credentials": []}])
    events, _fake = run_source([[], [_untyped("typeless")]], {"resource_types": ["ESXI"]}, more=more)
    assert len(events) == events_expected


def test_a_failed_read_of_the_resource_types_is_judged_again_at_the_next_poll(caplog):
    answers = iter([(503, {"errorCode": "X", "message": "busy"})] * 8)

    def more(rsps):
        def answer(_request):
            status, body = next(answers, (200, [{"resourceName": "esxi-1.rack.example.com", "resourceType": "ESXI",
                                                 "credentials": []}]))
            return status, {}, json.dumps(body)
        rsps.add_callback(responses.GET, LIST_URL + "/typeless/resource-credentials", callback=answer)
    events, _fake = run_source([[], [_untyped("typeless")], [_untyped("typeless")]], {"resource_types": ["ESXI"]},
                               more=more, extra_polls=3)
    assert ids_of(events) == [("typeless", "FAILED", 1)]
    assert "judged again at the next poll" in caplog.text


def test_validate_certs_false_is_a_warning_at_start(caplog):
    caplog.set_level(logging.INFO, logger="vcf.sddc_manager.credentials_tasks")
    run_source([[]], {"validate_certs": False}, extra_polls=1)
    assert "validate_certs is false" in caplog.text


def test_the_session_is_revoked_when_the_source_stops():
    _events, fake = run_source([[]])
    assert fake.revokes == 1


def test_a_long_outage_has_a_status_line_every_five_minutes_and_honours_retry_after(caplog):
    from eda_source_harness import source

    caplog.set_level(logging.INFO, logger="vcf.sddc_manager.credentials_tasks")
    now = [1000.0]
    settings = source.Settings.from_args({"hostname": "sddc.example.com", "username": "u", "password": "p"}, environ={})
    outage = source.Outage(settings, clock=lambda: now[0])
    pauses = []
    for _poll in range(12):
        pauses.append(outage.failed("Connection refused.", unreachable=True, retry_after=None))
        now[0] += 60
    assert max(pauses) <= settings.max_backoff and len(set(pauses)) > 2  # capped and jittered
    assert outage.failed("503.", unreachable=True, retry_after=250) >= 250
    lines = [r.getMessage() for r in caplog.records]
    assert "is unreachable (down or restarting)" in lines[0]
    status = [line for line in lines if "still polling, no event is lost" in line]
    assert len(status) == 2 and "unreachable for 300 s" in status[0]


# --- masking -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["PLANTED-given-password", "abcd", "abcdefgh", "x" * 40, "PLANTED-met-old-pw"])
def test_every_value_is_masked_wherever_it_is_and_short_words_never(value):
    secrets = source.Secrets(["PLANTED-given-password", "pw"])
    secrets.add("PLANTED-met-old-pw")
    secrets.add(value)
    event = {"message": "refused %s and PLANTED-given-password" % value, "list": ["x%sx" % value, value],
             "pw": "a pw word"}
    masked = source.mask(event, secrets)
    assert value not in json.dumps(masked) and "PLANTED" not in json.dumps(masked)
    assert masked["pw"] == "a pw word" and masked["list"][1] == "********"


def test_many_values_sharing_a_prefix_are_each_found():
    secrets = source.Secrets()
    values = ["PLANTED-shared-prefix-%05d" % i for i in range(3000)]
    for value in values:
        secrets.add(value)
    assert secrets.count == 3000
    assert secrets.found_in("x %s y %s" % (values[7], values[2999])) == {values[7], values[2999]}
    assert source.mask("ok", secrets) == "ok" and len(list(secrets)) == 3000


def test_one_value_inside_another_is_masked_whole():
    secrets = source.Secrets(["PLANTED-abc", "PLANTED-abcdef"])
    assert source.mask("PLANTED-abcdef", secrets) == "********"
