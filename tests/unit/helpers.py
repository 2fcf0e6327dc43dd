"""What every unit test shares: a credentials task as SDDC Manager sends it, the requests a ``responses`` mock saw,
unsigned JWTs, and the keys of a nested answer.

A plain module (``tests/unit`` is on ``sys.path``, see conftest.py), so tests import it and fixtures wrap it::

    from helpers import methods, sub_task, task

The builders leave out every field given as ``None``; any other keyword is copied into the object as it is, so a
test can add (or set to ``None``) the camelCase fields of the API that the keywords do not cover.
"""

from __future__ import annotations

import base64
import json

BASE = "https://sddc.example.com:443"
TASK_ID = "1f6a3c2e-0b7d-4e1a-9c3f-5d2e8a4b6c01"

# The passwords a sub-task carries unless told otherwise; the module tests' ``assert_clean`` looks for them.
OLD_PASSWORD = "PLANTED-old-9f3a"
NEW_PASSWORD = "PLANTED-new-9f3a"


def sub_task(resource="esxi-01.example.com", status="FAILED", *, kind="ESXI", name="Rotate root", username="root",
             credential_type="SSH", old_password=OLD_PASSWORD, new_password=NEW_PASSWORD, errors=None, **fields):
    """One element of a task's ``subTasks``: an account of one resource, with the passwords SDDC Manager echoes."""
    out = {"name": name, "status": status, "resourceName": resource, "entityType": kind, "username": username,
           "credentialType": credential_type, "oldPassword": old_password, "newPassword": new_password,
           "errors": errors}
    out = {key: value for key, value in out.items() if value is not None}
    out.update(fields)
    return out


def task(task_id=TASK_ID, status="FAILED", *, operation="ROTATE", name=None, created=None, completed=None,
         sub_tasks=None, errors=None, **fields):
    """A credentials task (``GET /v1/credentials/tasks/{id}``): ``operation`` is its ``type``, ``created`` and
    ``completed`` its timestamps, ``sub_tasks`` a list of ``sub_task(...)``."""
    out = {"id": task_id, "name": name, "type": operation, "status": status, "creationTimestamp": created,
           "completionTimestamp": completed, "subTasks": None if sub_tasks is None else list(sub_tasks),
           "errors": None if errors is None else list(errors)}
    out = {key: value for key, value in out.items() if value is not None or key == "status"}
    out.update(fields)
    return out


def methods(rsps, paths=False):
    """The HTTP methods of the requests ``rsps`` saw, in order; with ``paths``, ``(method, path)`` pairs (the URL
    without ``BASE``)."""
    if paths:
        return [(c.request.method, c.request.url.replace(BASE, "")) for c in rsps.calls]
    return [c.request.method for c in rsps.calls]


def patches(rsps):
    """The PATCH calls ``rsps`` saw."""
    return [c for c in rsps.calls if c.request.method == "PATCH"]


def b64url(data):
    """``data`` as JSON in unpadded base64url, as a JWT part."""
    return base64.urlsafe_b64encode(json.dumps(data).encode("utf-8")).rstrip(b"=").decode("ascii")


def make_jwt(exp=None, *, header=None, signature="c2lnbmF0dXJl", **claims):
    """An unsigned JWT whose payload holds ``claims`` and ``exp`` (epoch seconds) when given."""
    if exp is not None:
        claims["exp"] = exp
    return "%s.%s.%s" % (b64url(header or {"alg": "RS256", "typ": "JWT"}), b64url(claims), signature)


def keys_of(data):
    """Every key of every object in ``data`` (nested dicts and lists), depth first."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from keys_of(value)
    elif isinstance(data, list):
        for item in data:
            yield from keys_of(item)
