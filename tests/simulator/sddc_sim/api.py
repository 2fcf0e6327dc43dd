"""The ``/v1`` endpoints: routing, authentication and the handlers.

Routing comes first: an unknown path is 404 and a known path with another
method is 405 whether or not the caller is logged in; then the token is
checked (except on the three token endpoints); then the handler runs.
Handlers take the state and a ``Request`` and return a ``Response`` or raise
``ApiError``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re

from . import vocab
from .errors import ApiError
from .validation import validate_operation_spec, validate_update_spec


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: object
    body: bytes


@dataclasses.dataclass
class Response:
    status: int
    payload: object = None
    headers: dict = dataclasses.field(default_factory=dict)
    text: bool = False  # send a string payload as bare text/plain rather than a JSON string


@dataclasses.dataclass
class Endpoint:
    handler: object
    kind: str      # latency class from the scenario: login, refresh, revoke, get, patch, delete
    public: bool = False


class Route:
    def __init__(self, template, endpoints, exclude=None):
        self.template = template
        self.endpoints = endpoints
        # {param: words it never takes}: paths of the real API the simulator does not serve.
        self.exclude = exclude or {}
        self._pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")

    def match(self, path):
        found = self._pattern.match(path)
        if not found:
            return None
        params = found.groupdict()
        if any(params.get(name) in words for name, words in self.exclude.items()):
            return None
        return params


def resolve(path):
    """``(route, params)`` for a path, or ``(None, None)``."""
    for route in ROUTES:
        params = route.match(path)
        if params is not None:
            return route, params
    return None, None


def dispatch(state, request, route, params):
    """Answer one ``/v1`` request whose route was already resolved."""
    if route is None:
        raise ApiError(404, "NOT_FOUND", "No API at %s" % request.path)
    endpoint = route.endpoints.get(request.method)
    if endpoint is None:
        raise ApiError(405, "METHOD_NOT_ALLOWED", "%s is not supported on %s" % (request.method, route.template),
                       headers={"Allow": ", ".join(sorted(route.endpoints))})
    principal = None if endpoint.public else _authenticate(state, request)
    return endpoint.handler(state, request, params, principal)


# What SDDC Manager answers to a missing, malformed, unknown or expired token
# (FIELD-NOTES): two keys only, and the same words whatever the cause.
UNAUTHORIZED_MESSAGE = "Authorization Header is missing or not in correct format"
# Optional fields of a CredentialsSubTask that subtask_fields: sparse leaves out of every sub-task.
SPARSE_LEFT_OUT = ("entityType", "username", "credentialType")


def _authenticate(state, request):
    header = request.headers.get("Authorization") or ""
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Unauthorized", UNAUTHORIZED_MESSAGE, bare=True,
                       headers={"WWW-Authenticate": 'Bearer realm="sddc-manager"'})
    principal = state.tokens.principal(token.strip())
    if principal is None:
        raise ApiError(401, "Unauthorized", UNAUTHORIZED_MESSAGE, bare=True,
                       headers={"WWW-Authenticate": 'Bearer realm="sddc-manager", error="invalid_token"'})
    return principal


def _json(request, error_code):
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, error_code, "The request body is not valid JSON") from exc


# -- tokens -----------------------------------------------------------------

def login(state, request, _params, _principal):
    try:
        spec = _json(request, "IDENTITY_INVALID_REQUEST")
        if not isinstance(spec, dict) or not all(isinstance(spec.get(k), str) and spec.get(k)
                                                 for k in ("username", "password")):
            raise ApiError(400, "IDENTITY_INVALID_REQUEST", "username and password are required")
        user = state.users.get(spec["username"])
        if user is None or user["password"] != spec["password"]:
            raise ApiError(401, "IDENTITY_UNAUTHORIZED_ENTITY", "Unable to authenticate: wrong username or password",
                           "Check the user name and password")
    except ApiError:
        state.metrics.bump("failed_logins")
        raise
    state.metrics.bump("logins")
    # Real SDDC Managers answer 200 here although the spec says 201 (``login_status``).
    return Response(state.scenario.login_status, state.tokens.issue(user["username"], user["role"]))


def _refresh_token_id(request):
    """The body is the refresh token id as a JSON string, or the bare id."""
    text = request.body.decode("utf-8", "replace").strip()
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "IDENTITY_INVALID_REQUEST", "The body must be the refresh token id")
    return value.strip()


def refresh(state, request, _params, _principal):
    token = state.tokens.refresh(_refresh_token_id(request))
    if token is None:
        raise ApiError(404, "REFRESH_TOKEN_NOT_FOUND", "The refresh token is unknown, revoked or expired",
                       "Log in again with POST /v1/tokens")
    state.metrics.bump("refreshes")
    # The spec's answer is a JSON string; ``refresh_answer: text`` sends it unquoted.
    return Response(200, token, text=state.scenario.refresh_answer == "text")


def revoke(state, request, _params, _principal):
    # 204 whether or not the id was known: the spec lists no other answer.
    if state.tokens.revoke(_refresh_token_id(request)):
        state.metrics.bump("revocations")
    return Response(204)


# -- credentials tasks ------------------------------------------------------

def list_tasks(state, request, _params, _principal):
    limit = _limit(request)
    with state.lock:
        tasks = _in_list_order(state, state.all_tasks())
        elements = [_subtask_form(state, t.read_view()) for t in (tasks if limit is None else tasks[:limit])]
    total = len(tasks)
    page = limit if limit is not None else total
    return Response(200, {
        "elements": elements,
        "pageMetadata": {
            "pageNumber": 0,
            "pageSize": len(elements),
            "totalElements": total,
            "totalPages": math.ceil(total / page) if page else 0,
        },
    })


def _subtask_form(state, view):
    """``view`` with its sub-tasks in the scenario's ``subtask_fields`` form. ``sparse``: every sub-task keeps only
    what the spec requires of a ``CredentialsSubTask`` (name, description, creationTimestamp, status) with its id,
    resource name, errors, completion time and passwords; ``entityType``, ``username`` and ``credentialType`` are
    optional in the spec, so a client cannot count on them."""
    if state.scenario.subtask_fields != "sparse":
        return view

    def strip(subtasks):
        for sub in subtasks or []:
            for key in SPARSE_LEFT_OUT:
                sub.pop(key, None)
            strip(sub.get("dependentSubTasks"))

    strip(view.get("subTasks"))
    return view


def _in_list_order(state, tasks):
    """``tasks`` (newest first) in the scenario's ``list_order``; ``limit`` then cuts that order, as a server that
    sorts otherwise would: "oldest" answers the oldest tasks, "shuffled" a sample (seeded, different at each read)."""
    order = state.scenario.list_order
    if order == "oldest":
        return tasks[::-1]
    if order == "shuffled":
        tasks = list(tasks)
        # A stream of its own (the scenario's rng makes task ids): another order at each moment of the clock.
        random.Random("%s:list-order:%s" % (state.scenario.seed, state.clock.now())).shuffle(tasks)
    return tasks


def _limit(request):
    values = request.query.get("limit")
    if not values:
        return None
    try:
        limit = int(values[-1])
    except ValueError:
        limit = 0
    if limit < 1:
        raise ApiError(400, "INVALID_QUERY_PARAMETER", "limit must be a positive integer", arguments=["limit"])
    return limit


def _not_found(state, task_id):
    return ApiError(state.scenario.not_found_status, "CREDENTIALS_TASK_NOT_FOUND",
                    "Credentials task %s was not found" % task_id, arguments=[task_id])


def get_task(state, _request, params, _principal):
    with state.lock:
        task = state.task(params["id"])
        if task is None:
            raise _not_found(state, params["id"])
        return Response(200, _subtask_form(state, task.read_view()))


def resource_credentials(state, _request, params, _principal):
    with state.lock:
        task = state.task(params["id"])
        if task is None:
            raise _not_found(state, params["id"])
        return Response(200, task.resource_credentials())


def retry_task(state, request, params, principal):
    release = state.scenario.release
    try:
        _require_change_role(principal, "retry")
        # The 4.x/5.0 pages make the body optional: none retries with the task's own spec.
        omitted = not request.body.strip() and release in vocab.RETRY_BODY_OPTIONAL
        body = None if omitted else _json(request, "PASSWORD_MANAGER_INVALID_REQUEST_BODY")
        with state.lock:
            task = state.task(params["id"])
            if task is None:
                raise _not_found(state, params["id"])
            if not task.is_retryable:
                superseded = getattr(task, "superseded_by", None)
                if superseded:
                    message = "Credentials task %s was retried as task %s" % (task.id, superseded)
                else:
                    message = "Credentials task %s is %s; only a FAILED task can be retried" % (task.id, task.status)
                raise ApiError(400, "PASSWORD_MANAGER_TASK_NOT_RETRYABLE", message,
                               "Wait for a running task to finish; a finished or cancelled task cannot be retried",
                               arguments=[task.id, task.status])
            if omitted:
                passwords, policy = {}, None
            else:
                passwords, policy = validate_update_spec(body, task, vocab.RESOURCE_TYPES_BY_RELEASE[release])
            if task.retry_new_id:
                state.move_to_new_id(task)
            task.retry(state.clock.now(), passwords, policy)
            task.advance(state.clock.now())
            view = task.generic_view()
    except ApiError:
        state.metrics.bump("patches_rejected")
        raise
    state.metrics.bump("patches_accepted")
    state.metrics.retried(params["id"])
    return Response(vocab.WRITE_STATUS[release], view)


def cancel_task(state, _request, params, principal):
    try:
        _require_change_role(principal, "cancel")
        with state.lock:
            task = state.task(params["id"])
            if task is None:
                raise _not_found(state, params["id"])
            if not task.is_cancellable:
                superseded = getattr(task, "superseded_by", None)
                if superseded:
                    message = "Credentials task %s was retried as task %s" % (task.id, superseded)
                else:
                    message = "Credentials task %s is %s; only a FAILED task can be cancelled" % (task.id, task.status)
                raise ApiError(400, "PASSWORD_MANAGER_TASK_NOT_CANCELLABLE", message,
                               arguments=[task.id, task.status])
            task.cancel(state.clock.now())
            view = task.generic_view()
    except ApiError:
        state.metrics.bump("deletes_rejected")
        raise
    state.metrics.bump("deletes_accepted")
    return Response(vocab.WRITE_STATUS[state.scenario.release], view)


def _require_change_role(principal, action, what="credentials tasks"):
    username, role = principal
    if role not in vocab.ROLES_ALLOWED_TO_CHANGE:
        raise ApiError(403, "Forbidden", "User %s with role %s may not %s %s" % (username, role, action, what),
                       "Use an account with the ADMIN role")


# -- accounts and password operations ----------------------------------------

# GET /v1/credentials filters (spec query parameters) -> Inventory.filter arguments.
_CREDENTIAL_FILTERS = {"resourceName": "resource_name", "resourceIp": "resource_ip",
                       "resourceType": "resource_type", "domainName": "domain_name", "accountType": "account_type"}


def list_credentials(state, request, _params, principal):
    filters = {}
    for query, argument in _CREDENTIAL_FILTERS.items():
        values = request.query.get(query)
        if values:
            filters[argument] = values[-1]
    page_number = _page_parameter(request, "pageNumber")
    page_size = _page_parameter(request, "pageSize")
    # The spec: passwords are there for an ADMIN; the simulator leaves them out for other roles.
    with_password = principal[1] in vocab.ROLES_ALLOWED_TO_CHANGE
    with state.lock:
        state.all_tasks()  # runs that ended meanwhile update the accounts
        accounts = state.inventory.filter(**filters)
        total = len(accounts)
        if page_size:
            chosen = accounts[page_number * page_size:(page_number + 1) * page_size]
            pages = math.ceil(total / page_size)
        else:
            # pageSize 0 (the default): everything in one page.
            chosen = accounts if page_number == 0 else []
            pages = 1 if total else 0
        elements = [a.view(with_password) for a in chosen]
    return Response(200, {
        "elements": elements,
        "pageMetadata": {"pageNumber": page_number, "pageSize": len(elements), "totalElements": total,
                         "totalPages": pages},
    })


def _page_parameter(request, name):
    values = request.query.get(name)
    if not values:
        return 0
    try:
        value = int(values[-1])
    except ValueError:
        value = -1
    if value < 0:
        raise ApiError(400, "INVALID_QUERY_PARAMETER", "%s must be a whole number, 0 or more" % name,
                       arguments=[name])
    return value


def get_credential(state, _request, params, principal):
    with state.lock:
        state.all_tasks()
        account = state.inventory.by_id(params["id"])
        if account is None:
            raise ApiError(404, "CREDENTIAL_NOT_FOUND", "Credential %s was not found" % params["id"],
                           arguments=[params["id"]])
        return Response(200, account.view(principal[1] in vocab.ROLES_ALLOWED_TO_CHANGE))


def start_operation(state, request, _params, principal):
    """``PATCH /v1/credentials``: validate, check the locks, start a credentials task."""
    release = state.scenario.release
    try:
        _require_change_role(principal, "start", "password operations")
        body = _json(request, "PASSWORD_MANAGER_INVALID_REQUEST_BODY")
        with state.lock:
            state.all_tasks()  # statuses and accounts up to date before judging locks
            operation, targets, passwords, policy = validate_operation_spec(
                body, state.inventory, vocab.RESOURCE_TYPES_BY_RELEASE[release])
            state.check_locks(targets, operation)
            task = state.start_operation(operation, targets, passwords, policy)
            view = task.generic_view()
    except ApiError:
        state.metrics.bump("operations_rejected")
        raise
    state.metrics.bump("operations_accepted")
    return Response(vocab.WRITE_STATUS[release], view)


# -- generic tasks ----------------------------------------------------------

def generic_task(state, _request, params, _principal):
    with state.lock:
        task = state.task(params["id"])
        if task is None:
            raise ApiError(404, "TASK_NOT_FOUND", "Task %s was not found" % params["id"], arguments=[params["id"]])
        return Response(200, task.read_generic_view())


ROUTES = [
    Route("/v1/tokens", {"POST": Endpoint(login, "login", public=True)}),
    Route("/v1/tokens/access-token/refresh", {"PATCH": Endpoint(refresh, "refresh", public=True)}),
    Route("/v1/tokens/refresh-token", {"DELETE": Endpoint(revoke, "revoke", public=True)}),
    Route("/v1/credentials", {
        "GET": Endpoint(list_credentials, "get"),
        "PATCH": Endpoint(start_operation, "patch"),
    }),
    Route("/v1/credentials/tasks", {"GET": Endpoint(list_tasks, "get")}),
    Route("/v1/credentials/tasks/{id}", {
        "GET": Endpoint(get_task, "get"),
        "PATCH": Endpoint(retry_task, "patch"),
        "DELETE": Endpoint(cancel_task, "delete"),
    }),
    Route("/v1/credentials/tasks/{id}/resource-credentials", {"GET": Endpoint(resource_credentials, "get")}),
    Route("/v1/tasks/{id}", {"GET": Endpoint(generic_task, "get")}),
    # After the task routes; "expirations" is a real path the simulator does not serve (404).
    Route("/v1/credentials/{id}", {"GET": Endpoint(get_credential, "get")},
          exclude={"id": ("tasks", "expirations")}),
]
