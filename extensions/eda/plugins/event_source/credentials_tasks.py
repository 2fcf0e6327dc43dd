# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event source plugin ``vcf.sddc_manager.credentials_tasks`` for ansible-rulebook and EDA controller.

It polls SDDC Manager's credentials task list and puts one event on the queue each time a task enters a
watched status (FAILED, INCONSISTENT, ...). HTTP, TLS, authentication, token renewal, read retries and
redaction are the collection's own client (``plugins/module_utils``), the one the modules use.

What a poll reads is the collection's one task reader (``_tasks.TaskFeed`` over ``_tasks.TaskReader``): the whole
list at the first poll, then a window of the newest tasks (grown while it may have cut off new ones) and the open
tasks outside it by id: running ones and those it just emitted an event for at every poll, FAILED ones nobody
retried every five minutes (``_tasks.REST_SECONDS``). A poll's cost follows the tasks new or open, not SDDC
Manager's history; the whole list is read at the first poll and then only in rare sweeps whose cost is bounded by
the polls' own (``_tasks.SWEEP_SHARE``).

What each poll cost, for a benchmark or a person: after every poll that answered, one DEBUG line on the logger
``vcf.sddc_manager.credentials_tasks``: ``vcf.sddc_manager.credentials_tasks: polled: N elements, R requests``
(N tasks received, R reads sent: list and by-id reads, a read the client retried counting once); and
``TaskFeed.last`` (``{"elements": N, "requests": R}``) and ``TaskFeed.polls`` on the feed, which ``main`` keeps
in the module attribute ``FEEDS`` (one per running ``main``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import logging
import os
import sys
import time

DOCUMENTATION = r"""
name: credentials_tasks
short_description: Events for SDDC Manager credentials tasks that fail
description:
  - Polls the credentials (password) task list of one SDDC Manager every O(interval) seconds and puts one event on
    the queue each time a task enters one of O(statuses).
  - The first poll reads the whole list. Later polls read only a window of the newest tasks (20 to start, larger
    while new tasks keep coming), and the tasks still open (running or FAILED, which a retry runs again in their
    place) that are not in it one by one, or the whole list when that costs less; so a poll's cost follows the
    tasks that are new or open, not SDDC Manager's history. Once an hour a poll reads the whole list anyway.
  - SDDC Manager lists newest first; if an answer comes in another order, the source logs one warning and reads
    the whole list at every poll from then on.
  - A task that fails again after a retry is a new event, with its O(statuses) entry count in C(attempt). A new
    entry is recognised by a new completion time, or, for a task without one, by a running or different status
    seen in between. A read that shows an end seen before again (a stale read after a retry) is no event.
  - Events carry no password and no token.
  - Keeps running while SDDC Manager answers 5xx, resets connections, is down or restarts, backing off up to
    O(max_backoff) seconds (jittered, honouring C(Retry-After)); it logs one line when an outage starts, a status
    line every five minutes while it lasts, and one when SDDC Manager answers again. A task that failed while
    SDDC Manager was away is an event once it answers. A restart voids every token: the source logs in again once
    with O(username) and O(password); given tokens only, its line says that the session ended and what to give.
    Only a bad option, or a refusal of the credentials, the certificate or the role on the very first poll,
    stops the source.
options:
  interval:
    description: Seconds between two polls.
    type: float
    default: 60
  statuses:
    description: Statuses whose entry is an event.
    type: list
    elements: str
    default: [FAILED, INCONSISTENT]
  emit_existing:
    description:
      - Emit the tasks already in one of O(statuses) at the first poll.
      - Off by default. Those failures happened before the source started and may already be in a person's hands;
        and since the retry guardrails count within one run of the source, re-emitting them at every restart of a
        rulebook activation would retry the same task again after each restart.
      - Such a task is still watched; if it is retried and fails again, that is an event. A FAILED task that sits
        below the newest tasks is read every five minutes while nobody retries it, so that event may come up to
        five minutes late; a task the source emitted an event for is read at every poll for 15 minutes.
      - With V(false), a task first seen after the first poll that ended more than five minutes before the source
        started also counts as existing (an empty first answer must not turn old failures into new ones).
    type: bool
    default: false
  resource_types:
    description:
      - Only tasks with a resource of one of these types (V(ESXI), V(VCENTER), ...; any case).
      - A type that no release from VCF 4.x to 9.1 has (a typo such as V(ESX)) stops the source at start.
    type: list
    elements: str
  resource_names:
    description: Only tasks with a resource of one of these names (case-insensitive).
    type: list
    elements: str
  operation_types:
    description: Only tasks of these operations.
    type: list
    elements: str
    choices: [ROTATE, UPDATE, REMEDIATE, UPDATE_AUTO_ROTATE_POLICY]
  auto_rotate_only:
    description: Only tasks that SDDC Manager started on its auto-rotate schedule (C(isAutoRotate)).
    type: bool
    default: false
  max_auto_retries:
    description:
      - Guardrail data for the rulebook. C(auto_retry.allowed) of an event is true while fewer than this many earlier
        events fall within O(retry_window), counting the events of the same task and those of any task of the same
        operation on the same resources (a retry that SDDC Manager answers with a new task id is the same work).
      - V(0) never allows an automatic retry.
    type: int
    default: 2
  retry_window:
    description: Seconds over which O(max_auto_retries) counts the events of one task.
    type: float
    default: 86400
  max_backoff:
    description: Longest pause, in seconds, between two polls while SDDC Manager does not answer.
    type: float
    default: 300
notes:
  - The connection options are those of every module of the collection. Give O(password) and the tokens through
    the E(SDDC_MANAGER_*) environment variables, not rulebook variables, which can show up in ansible-rulebook's
    debug output.
  - The event is C(event.credentials_task) with C(sddc_manager), C(port), C(id), C(name), C(type), C(status),
    C(verdict) (the collection's verdict - V(attention) or V(unknown) for a task that did not succeed), C(reason)
    (why - V(failed), V(inconsistent), ...), C(retryable) (SDDC Manager can retry this task - test it in rules
    instead of the status word), C(previous_status), C(is_auto_rotate),
    C(attempt), C(creation_timestamp), C(completion_timestamp), C(resources), C(accounts), C(failure_report)
    (sub-task, error code, message, remediation, reference token, remediation links, SDDC Manager 9.1
    notifications), C(remediation) (the distinct remediation texts), C(message), C(seen_at) and C(auto_retry)
    (C(allowed), C(earlier_events_in_window), C(max_retries), C(window_seconds)).
  - The guardrail counts live in the source, so they start again when the source restarts.
"""

EXAMPLES = r"""
- name: Failed SDDC Manager credentials tasks
  hosts: localhost
  sources:
    - vcf.sddc_manager.credentials_tasks:
        interval: 60
        statuses: [FAILED, INCONSISTENT]
        resource_types: [ESXI, VCENTER]
  rules:
    - name: Show a failed task
      condition: event.credentials_task.retryable == true
      action:
        debug:
          msg: "{{ event.credentials_task.message }}"
"""


def _make_collection_importable():
    """Put the directory holding this copy's ``ansible_collections`` first on sys.path.

    ansible-rulebook loads this file with runpy from wherever ``ansible-galaxy collection list`` found the
    collection, without making ``ansible_collections`` importable; the plugin knows where it lives itself.
    """
    here = os.path.abspath(__file__)
    parts = here.split(os.sep)
    # .../ansible_collections/vcf/sddc_manager/extensions/eda/plugins/event_source/credentials_tasks.py
    if len(parts) < 8 or parts[-8] != "ansible_collections":
        return
    root = os.sep.join(parts[:-8]) or os.sep
    if root not in sys.path:
        # First, so the module_utils of this very collection copy win over another installed version.
        sys.path.insert(0, root)


_make_collection_importable()

# pylint: disable=wrong-import-position
from ansible.module_utils.parsing.convert_bool import boolean  # noqa: E402

from ansible_collections.vcf.sddc_manager.plugins.module_utils import (  # noqa: E402
    _client,
    _filters,
    _options,
    _redact,
    _spec,
    _status,
    _tasks,
    _time,
    _verdict,
    _waiter,
)

from ansible_collections.vcf.sddc_manager.plugins.doc_fragments.connection import ModuleDocFragment  # noqa: E402


def _with_connection_options(doc):
    """The source's docs with the modules' connection options (the ``connection`` doc fragment) first."""
    fragment = ModuleDocFragment.DOCUMENTATION
    options = fragment[fragment.index("options:\n") + len("options:\n"):fragment.index("\nnotes:")]
    return doc.replace("options:\n", "options:\n" + options + "\n", 1)


DOCUMENTATION = _with_connection_options(DOCUMENTATION)

LOG = logging.getLogger("vcf.sddc_manager.credentials_tasks")

PLUGIN = "vcf.sddc_manager.credentials_tasks"
ENVIRONMENT = _options.ENVIRONMENT
SECRET_OPTIONS = _options.SECRETS
DEFAULTS = dict((k, v) for k, v in _options.defaults().items() if v is not None)
DEFAULTS.update({
    "interval": 60.0,
    "statuses": [_status.FAILED, _status.INCONSISTENT],
    "emit_existing": False,
    "auto_rotate_only": False,
    "max_auto_retries": 2,
    "retry_window": 86400.0,
    "max_backoff": 300.0,
})
OPTIONS = frozenset(list(ENVIRONMENT) + list(DEFAULTS) + [
    "request_timeout", "proxy_url", "resource_types", "resource_names", "operation_types"])
OPERATION_TYPES = tuple(_spec.OPERATION_TYPES)
# A task first seen late that ended this long before the source started is an old failure, not a new one.
EXISTING_MARGIN = 300
# Errors that, on the first poll, say the options are wrong: waiting will not fix them.
FATAL_AT_START = frozenset(["config", "tls", "auth", "forbidden"])
MASK = "********"
MASK_MIN = 4
# The prefix lengths a secret value is indexed by (see Secrets): each value by the longest it has.
PREFIXES = (MASK_MIN, 8, 16)
MEMORY_LIMIT = 20000
EPISODES_KEPT = 16
# While SDDC Manager stays away, a status line this often (seconds).
STATUS_EVERY = 300
# The task feed of each running ``main``: its ``last`` and ``polls`` say what each poll read (see the docstring).
FEEDS = []


class Settings:
    """The validated options: every problem is named before the first request."""

    def __init__(self, values):
        self.__dict__.update(values)

    @classmethod
    def from_args(cls, args, environ=None):
        environ = os.environ if environ is None else environ
        args = dict((k, v) for k, v in (args or {}).items() if not str(k).startswith("eda_"))
        problems = []
        unknown = sorted(str(k) for k in args if k not in OPTIONS)
        if unknown:
            # Only the names: a misspelled password option must not print the password.
            problems.append("unknown option(s) %s; the options are %s" % (", ".join(unknown), ", ".join(sorted(OPTIONS))))
        values = dict(DEFAULTS)
        values.update(proxy_url=None, resource_types=None, resource_names=None, operation_types=None)
        for option, variable in ENVIRONMENT.items():
            values.setdefault(option, None)
            if environ.get(variable) not in (None, ""):
                values[option] = environ[variable]
        for key, value in args.items():
            if key in OPTIONS and value is not None and value != "":
                values[key] = value
        converted = {}
        for key, convert in (("port", int), ("request_timeout", float), ("read_retry_budget", float), ("interval", float),
                             ("max_auto_retries", int), ("retry_window", float), ("max_backoff", float)):
            try:
                converted[key] = convert(values[key])
            except (TypeError, ValueError):
                problems.append("%s must be a number, got %r" % (key, values[key]))
        values.update(converted)
        for key in ("validate_certs", "emit_existing", "auto_rotate_only"):
            try:
                values[key] = boolean(values[key], strict=True)
            except TypeError:
                problems.append("%s must be true or false, got %r" % (key, values[key]))
        for key in ("statuses", "resource_types", "resource_names", "operation_types"):
            values[key] = _as_list(values[key])
        values["statuses"] = [_status.normalize(s) for s in values["statuses"] or []]
        values["resource_types"] = [t.upper() for t in values["resource_types"] or []]
        values["resource_names"] = [n.lower() for n in values["resource_names"] or []]
        values["operation_types"] = [t.upper() for t in values["operation_types"] or []]
        if values["ca_path"]:
            values["ca_path"] = os.path.expanduser(str(values["ca_path"]))
        problems.extend(_check(values))
        if problems:
            raise ValueError("Invalid options of %s: %s." % (PLUGIN, "; ".join(problems)))
        return cls(values)

    def secrets(self):
        return [getattr(self, k) for k in SECRET_OPTIONS if getattr(self, k)]


def _as_list(value):
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return [str(value)]


def _check(values):
    problems = _options.connection_problems(values)
    for key in ("interval", "retry_window", "max_backoff"):
        if isinstance(values[key], float) and values[key] <= 0:
            problems.append("%s must be a positive number of seconds, got %s" % (key, values[key]))
    if isinstance(values["max_auto_retries"], int) and values["max_auto_retries"] < 0:
        problems.append("max_auto_retries must be 0 or more, got %d" % values["max_auto_retries"])
    if bool(values["username"]) != bool(values["password"]):
        problems.append("username and password go together (SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD)")
    if not values["username"] and not values["access_token"]:
        problems.append("give username and password (SDDC_MANAGER_USERNAME/SDDC_MANAGER_PASSWORD) or access_token")
    if not values["statuses"]:
        problems.append("statuses is empty: name at least one status, for example FAILED")
    for status in values["statuses"]:
        if status not in _status.TERMINAL:
            problems.append("statuses: %s is not a status a task ends in (one of %s)" % (status, ", ".join(sorted(_status.TERMINAL))))
    problems.extend(_filters.resource_type_problems("resource_types", values["resource_types"]))
    for operation in values["operation_types"]:
        if operation not in OPERATION_TYPES:
            problems.append("operation_types: %s is not one of %s" % (operation, ", ".join(OPERATION_TYPES)))
    return problems


class _Memory:
    """What the source knows of one task between polls."""

    __slots__ = ("episode", "ended", "status", "entries", "event_times", "last_seen")

    def __init__(self):
        self.episode = None  # (status, completion time) of the watched status the task is in, or None
        self.ended = []  # baselines of the latest ends seen: a read that shows one again is stale
        self.status = None
        self.entries = 0  # times the task entered a watched status, seen by this source
        self.event_times = []  # when its events were emitted, for the retry guardrail
        self.last_seen = 0.0


class TaskEvents:
    """Turns successive task lists into events: one per entry into a watched status.

    Synchronous and without I/O of its own, so each transition can be tested on its own. ``types_of`` is the one
    exception: with a resource_types filter, the types of resources whose sub-tasks leave them out (the spec makes
    ``entityType`` optional) are read through it (``_tasks.ResourceTypes``); None: such resources match no type.
    """

    def __init__(self, settings, clock=time.time, started=None, types_of=None):
        self.settings = settings
        self.types_of = types_of
        self.clock = clock
        self.started = clock() if started is None else started
        self.primed = False
        self.known = {}
        # Event times per (operation, resources): a retry that SDDC Manager answers with a new task id, or the
        # same rotation failing again as a new task, counts against the same guardrail.
        self.by_resources = {}

    def observe(self, tasks):
        """Events for one successful list read, in list order."""
        now = self.clock()
        first = not self.primed
        self.primed = True
        events = []
        for task in tasks or []:
            if not isinstance(task, dict) or not task.get("id"):
                continue
            task_id = str(task["id"])
            memory = self.known.get(task_id)
            new = memory is None
            if new:
                memory = self.known[task_id] = _Memory()
            memory.last_seen = now
            status = _status.normalize(task.get("status"))
            previous = memory.status
            memory.status = status
            if status not in self.settings.statuses:
                memory.episode = None
                continue
            episode = (status, task.get("completionTimestamp"))
            if memory.episode == episode:
                continue
            # An end seen before, read again after the task ran: a read from before the retry (a stale cache or
            # replica), not a new failure; the source never knows when a playbook retried the task, so only the
            # rule's part that needs no time applies (the task was seen running since).
            if any(seen.is_stale(task, seen_running=True) for seen in memory.ended):
                memory.episode = episode
                continue
            existing = self._existing(task, first, new)
            matched = None if existing else self._matches(task)
            if not existing and matched is None:
                # Whether it matches the filters is not known yet (a read failed): the next poll decides, as if
                # this one had not seen the task enter the status.
                memory.status = previous
                continue
            memory.episode = episode
            memory.ended = memory.ended[-(EPISODES_KEPT - 1):] + [_waiter.Baseline(task)]
            memory.entries += 1
            if existing or not matched:
                continue
            events.append(self._event(task, memory, previous, now))
        self._forget_old()
        return events

    def _existing(self, task, first, new):
        if self.settings.emit_existing or not new:
            return False
        if first:
            return True
        ended = _time.timestamp(task.get("completionTimestamp"))
        return ended is not None and ended < self.started - EXISTING_MARGIN

    def _matches(self, task):
        s = self.settings
        if s.operation_types and str(task.get("type") or "").upper() not in s.operation_types:
            return False
        if s.auto_rotate_only and not task.get("isAutoRotate"):
            return False
        if not (s.resource_types or s.resource_names):
            return True
        # A task whose sub-tasks leave the resource type out is matched by type through a read of its resource
        # credentials (only for a task entering a watched status). None when that read fails: not known yet.
        try:
            return _part(task, "resources", lambda t: _tasks.matches_resources(
                t, s.resource_types, s.resource_names, self.types_of), reraise=_client.SddcManagerError)
        except _client.SddcManagerError as exc:
            LOG.warning("%s: the resource types of task %s could not be read (%s); it is judged again at the next "
                        "poll.", PLUGIN, task.get("id"), exc.kind)
            return None

    def _event(self, task, memory, previous, now):
        s = self.settings
        earlier = [t for t in memory.event_times if now - t < s.retry_window]
        memory.event_times = earlier + [now]
        work = self._work_key(task)
        same_work = [t for t in self.by_resources.get(work, []) if now - t < s.retry_window] if work else []
        if work:
            self.by_resources[work] = same_work + [now]
        counted = max(len(earlier), len(same_work))
        found = _verdict.verdict(task)
        report = _part(task, "failure report", lambda t: found.report)
        remediation = []
        for entry in report:
            steps = [entry.get("remediation")] + [r.get("message") for note in entry.get("notifications") or []
                                                  for r in note.get("remediations") or []]
            for text in steps:
                if text and text not in remediation:
                    remediation.append(text)
        status = found.status
        body = {
            "sddc_manager": s.hostname,
            "port": s.port,
            "id": task.get("id"),
            "name": task.get("name"),
            "type": task.get("type"),
            "status": status,
            "verdict": found.state,
            "reason": found.reason,
            # What a rulebook may do with it, decided here so that no rule compares status words.
            "retryable": found.retryable,
            "previous_status": previous,
            "is_auto_rotate": bool(task.get("isAutoRotate")),
            "attempt": memory.entries,
            "creation_timestamp": task.get("creationTimestamp"),
            "completion_timestamp": task.get("completionTimestamp"),
            "resources": _part(task, "resources", _tasks.resources_of),
            "accounts": _part(task, "accounts", _accounts),
            "failure_report": report,
            "remediation": remediation,
            "message": "SDDC Manager %s: %s" % (s.hostname, found.message),
            "seen_at": _time.iso_utc(now),
            "auto_retry": {
                "allowed": counted < s.max_auto_retries,
                "earlier_events_in_window": counted,
                "max_retries": s.max_auto_retries,
                "window_seconds": s.retry_window,
            },
        }
        return {"credentials_task": _redact.redact(body)}

    @staticmethod
    def _work_key(task):
        try:
            names = sorted(set(str(r["resource_name"]).lower() for r in _tasks.resources_of(task) if r["resource_name"]))
        except Exception:  # pylint: disable=broad-exception-caught
            return None
        return (str(task.get("type") or "").upper(), tuple(names)) if names else None

    def _forget_old(self):
        horizon = self.clock() - self.settings.retry_window
        for work in [w for w, times in self.by_resources.items() if not times or times[-1] < horizon]:
            del self.by_resources[work]
        if len(self.known) <= MEMORY_LIMIT:
            return
        # Down to three quarters of the limit at once, so that the sort comes once per MEMORY_LIMIT / 4 new tasks,
        # not at every poll of a history larger than the limit. Tasks that never entered a watched status go first,
        # the least recently seen first: the others hold the episodes and event times that keep events single and
        # the guardrail counting.
        keep = MEMORY_LIMIT * 3 // 4
        oldest = sorted(self.known.items(), key=lambda item: (
            item[1].episode is not None or bool(item[1].event_times), item[1].last_seen))
        for task_id, _memory in oldest[:len(self.known) - keep]:
            del self.known[task_id]


def _part(task, what, read, reraise=()):
    """One part of an event; a task of an unexpected shape still gives its event, without that part."""
    try:
        return read(task)
    except reraise:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        LOG.warning("%s: the %s of task %s could not be read (%s); its event goes without them.", PLUGIN, what,
                    task.get("id"), type(exc).__name__)
        return []


def _accounts(task):
    """Resource, account and credential type of every sub-task (order kept, no repeats)."""
    out = []
    for sub in task.get("subTasks") or []:
        if not isinstance(sub, dict) or not sub.get("resourceName"):
            continue
        item = {"resource_name": sub.get("resourceName"), "resource_type": sub.get("entityType"),
                "username": sub.get("username"), "credential_type": sub.get("credentialType")}
        if item not in out:
            out.append(item)
    return out


class Secrets:
    """The secret values to mask in what the source emits and logs: the ones it was given (password, tokens) and
    those it met in SDDC Manager's answers (the client's ``on_secret``: tokens, the passwords of every sub-task read).

    A history of tens of thousands of tasks means tens of thousands of values: trying each on every string would
    make masking cost grow with the history. So the values are indexed by their first characters (``PREFIXES``:
    the longest the value has), and a text is scanned once, each position looked up in the index: the cost follows
    the text, not the number of values.
    """

    def __init__(self, given=()):
        self.index = dict((size, {}) for size in PREFIXES)
        self.count = 0
        for value in given:
            self.add(value)

    def add(self, value):
        # Shorter values would mask ordinary words; SDDC Manager passwords and tokens are far longer.
        if not isinstance(value, str) or len(value) < MASK_MIN:
            return
        size = max(length for length in PREFIXES if length <= len(value))
        bucket = self.index[size].setdefault(value[:size], set())
        if value not in bucket:
            bucket.add(value)
            self.count += 1

    def found_in(self, text):
        """The values that occur in ``text``."""
        found = set()
        for size, index in self.index.items():
            if not index:
                continue
            for start in range(len(text) - size + 1):
                bucket = index.get(text[start:start + size])
                if bucket:
                    found.update(value for value in bucket if text.startswith(value, start))
        return found

    def __iter__(self):
        return iter([value for index in self.index.values() for bucket in index.values() for value in bucket])


def _strings(data, out):
    if isinstance(data, dict):
        for value in data.values():
            _strings(value, out)
    elif isinstance(data, list):
        for value in data:
            _strings(value, out)
    elif isinstance(data, str):
        out.append(data)
    return out


def mask(data, secrets):
    """``data`` with every value of ``secrets`` (:class:`Secrets`) replaced, wherever it hides in a string (an
    echoing error message). All of ``data``'s strings are scanned once, together."""
    found = secrets.found_in("\x00".join(_strings(data, [])))
    return _replace(data, sorted(found, key=len, reverse=True)) if found else data


def _replace(data, found):
    if isinstance(data, dict):
        return dict((k, _replace(v, found)) for k, v in data.items())
    if isinstance(data, list):
        return [_replace(v, found) for v in data]
    if isinstance(data, str):
        for secret in found:
            if secret in data:
                data = data.replace(secret, MASK)
    return data


class Outage:
    """One log line when SDDC Manager stops answering, a status line every ``STATUS_EVERY`` seconds while it stays
    away, one when it answers again; the pause in between (capped, jittered, honouring ``Retry-After``)."""

    def __init__(self, settings, clock=time.time):
        self.settings = settings
        self.clock = clock
        self.since = None
        self.failures = 0
        self.said_at = None
        self.schedule = _waiter.Schedule(float("inf"), settings.interval, backoff_cap=settings.max_backoff,
                                         jitter=_waiter.JITTER)

    def failed(self, message, unreachable=False, retry_after=None):
        self.failures += 1
        now = self.clock()
        what = ("is unreachable (down or restarting)" if unreachable else "refused it")
        if self.since is None:
            self.since = self.said_at = now
            LOG.warning("%s: SDDC Manager %s did not answer the task list: it %s: %s Polling on with back-off up to "
                        "%s s; one line more when it answers again.", PLUGIN, self.settings.hostname, what, message,
                        _seconds(self.settings.max_backoff))
        elif now - self.said_at >= STATUS_EVERY:
            self.said_at = now
            LOG.warning("%s: SDDC Manager %s unreachable for %d s (%d failed poll(s)); still polling, no event is lost: "
                        "a task that fails meanwhile is an event once it answers.", PLUGIN, self.settings.hostname,
                        int(now - self.since), self.failures)
        return self.schedule.pause(failures=self.failures, retry_after=retry_after)

    def answered(self):
        if self.since is not None:
            LOG.warning("%s: SDDC Manager %s answers again after %s s (%d failed poll(s)); tasks that entered a watched "
                        "status meanwhile are events now.",
                        PLUGIN, self.settings.hostname, _seconds(self.clock() - self.since), self.failures)
        self.since = None
        self.failures = 0


def _seconds(value):
    return "%g" % round(value, 3)


def make_client(settings, secrets):
    # A poll is cheap to repeat: give up sooner than a module would and let the next poll try again.
    return _options.make_client(settings.__dict__, on_secret=secrets.add, retry_policy=_client.RetryPolicy(
        attempts=4, base=0.5, cap=min(10.0, settings.interval * 2), budget=30.0))


async def main(queue, args):
    """Poll forever; one event per entry of a task into a watched status."""
    settings = Settings.from_args(args)
    secrets = Secrets(settings.secrets())
    if not settings.validate_certs:
        LOG.warning("%s: %s", PLUGIN, _options.VALIDATE_CERTS_OFF)
    client = make_client(settings, secrets)
    reader = _tasks.TaskReader(client, warn=lambda message: LOG.warning("%s: %s", PLUGIN, mask(message, secrets)))
    feed = _tasks.TaskFeed(reader)
    FEEDS.append(feed)
    events = TaskEvents(settings, types_of=_tasks.ResourceTypes(client))
    outage = Outage(settings)
    LOG.info("%s: watching the credentials tasks of %s:%d every %s s for %s", PLUGIN, settings.hostname,
             settings.port, _seconds(settings.interval), ", ".join(settings.statuses))
    answered_once = False
    try:
        while True:
            try:
                tasks = await asyncio.to_thread(feed.poll)
            except _client.SddcManagerError as exc:
                message = mask(exc.message, secrets)
                if not answered_once and exc.kind in FATAL_AT_START:
                    raise ValueError("%s cannot watch %s: %s" % (PLUGIN, settings.hostname, message)) from None
                # Past the first answer nothing stops the source: an outage, a restart (the client logs in again once
                # with the password it has; with tokens only the line says what to give) is one more failed poll.
                unreachable = exc.unreachable or exc.kind in ("connection", "timeout")
                await asyncio.sleep(outage.failed(message, unreachable=unreachable, retry_after=exc.retry_after))
                continue
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # Anything else (a body of an unexpected shape, say) is one more failed poll, never a crash.
                await asyncio.sleep(outage.failed(mask("%s: %s" % (type(exc).__name__, exc), secrets)))
                continue
            answered_once = True
            outage.answered()
            LOG.debug("%s: polled: %d elements, %d requests", PLUGIN, feed.last["elements"], feed.last["requests"])
            for event in await asyncio.to_thread(events.observe, tasks):
                # A rulebook is likely to retry it now: its retry's run and end are read at every poll, even where
                # the task sits deep in the list (a FAILED task nobody acts on is read every few minutes).
                feed.follow(event["credentials_task"]["id"])
                await queue.put(mask(event, secrets))
            await asyncio.sleep(outage.schedule.pause())
    finally:
        FEEDS.remove(feed)
        if client.logins:
            # The source's own session: its refresh token should not outlive it.
            try:
                await asyncio.wait_for(asyncio.to_thread(client.revoke), timeout=5)
            except Exception:  # pylint: disable=broad-exception-caught
                pass


if __name__ == "__main__":
    # Try it by hand with the SDDC_MANAGER_* variables set: python credentials_tasks.py
    class _PrintQueue:
        async def put(self, event):
            print(event)

    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(_PrintQueue(), {"interval": 10, "emit_existing": True}))
