"""What the _tasks tests (test__tasks_*.py) share: the task they read and retry, and the elements of a ROTATE
retry. Their ``client`` fixture is in conftest.py; ``failed_task`` and ``accepted`` in ../conftest.py."""

from __future__ import annotations

import helpers
from client_helpers import TASK, TASK_ID

RESOURCE_CREDENTIALS = TASK + "/resource-credentials"
DONE_AT = "2026-11-27T10:04:12.000Z"

ROTATE_ELEMENTS = [{"resource_name": "esxi-01.example.com", "resource_id": None, "resource_type": "ESXI",
                    "credentials": [{"username": "root", "credential_type": "SSH", "account_type": "USER",
                                     "password": None}]}]


def task(task_id=TASK_ID, status="FAILED", operation="ROTATE", completed=DONE_AT, **fields):
    """A FAILED ROTATE task that ended at DONE_AT, without sub-tasks (``completed=None``: no completion time)."""
    return helpers.task(task_id, status, operation=operation, name="Password operation",
                        created="2026-11-27T10:00:00.000Z", completed=completed, **fields)
