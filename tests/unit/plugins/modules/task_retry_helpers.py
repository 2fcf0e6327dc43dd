"""What the credentials_task_retry tests (test_credentials_task_retry*.py) share: the task's URLs, the module's
arguments, and the fixture task in another state. The ``rotate_server`` fixture is in conftest.py."""

from __future__ import annotations

import copy

from helpers import BASE, TASK_ID

TASK = BASE + "/v1/credentials/tasks/" + TASK_ID
RESOURCE_CREDENTIALS = TASK + "/resource-credentials"
CONN = {"hostname": "sddc.example.com", "access_token": "AT-retry-2b8e"}
NEW = "2026-11-27T10:30:00.000Z"


def args(**options):
    return dict(CONN, task_id=TASK_ID, **options)


def as_task(failed_task, status, completed=None, sub_status=None):
    out = copy.deepcopy(failed_task)
    out["status"] = status
    if completed is None:
        out.pop("completionTimestamp", None)
    else:
        out["completionTimestamp"] = completed
    if sub_status:
        for sub in out["subTasks"]:
            sub["status"] = sub_status
    return out
