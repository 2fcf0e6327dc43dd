#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: credentials_task_wait
short_description: Wait for SDDC Manager credentials tasks to end
version_added: 0.1.0
description:
  - Waits, in one process, until every given credentials task has ended, then reports which succeeded and which
    did not, with the error and remediation of each failed sub-task.
  - Only V(SUCCESSFUL) (or V(COMPLETED_WITH_WARNING)) is a success. V(FAILED), V(INCONSISTENT), cancelled, skipped
    and timed-out tasks need attention, and so does a task that ended in a status this collection does not know.
  - All tasks are read together at each poll (one list request when there are more than two), so the number of
    requests does not grow with tasks times polls.
  - A task in a status this collection does not know is waited for as still running while it has no completion
    time, and named in a warning; once it has one, it counts as ended in RV(unknown_ids).
author:
  - vcf.sddc_manager maintainers (@vcf-sddc-manager)
options:
  task_ids:
    description:
      - Ids of the credentials tasks to wait for.
    type: list
    elements: str
    required: true
  fail_on_failure:
    description:
      - Fail when any task ended any other way than successfully (RV(failed_ids) or RV(unknown_ids)). The lists and
        the failure report are returned either way.
    type: bool
    default: true
  progress_interval:
    description:
      - Print a progress line every this many seconds while waiting (running, succeeded, did not succeed, seconds
        waited). The wait then runs on the controller as one module run per interval (the action plugin), so it
        holds for any O(wait_timeout) and ends within one interval of it.
      - At least 1. Cannot be combined with C(async).
    type: int
  fail_on_timeout:
    description:
      - Fail when some tasks are still running after O(wait_timeout). With V(false) the module returns them in
        RV(pending_ids), so a play can report progress and call it again.
    type: bool
    default: true
  after_retry:
    description:
      - The registered result of the M(vcf.sddc_manager.credentials_task_bulk_retry) run that retried (some of) these
        tasks just before. Right after a retry SDDC Manager may still answer a read with the state the task had
        before it; with this option such a read is not taken for the task's end, by the rule of the retry module's
        own wait - a read that looks exactly like the state before the retry is the old run, for good when that
        state has a completion time, else until the task was seen running or 30 seconds after the retry. Without
        it, a read that still shows the old V(FAILED) state right after a retry ends the wait as a failure.
      - Only C(results) is read, for each task retried (by it or, just before it, by another client) its C(retried_at) and C(state_before) (the task as read
        before its retry). A retried task without C(state_before) is named in a warning. Run this module on the
        host that ran the retry (its clock took C(retried_at)).
    type: dict
  end_session:
    description:
      - Revoke O(refresh_token) in the run that ends the wait, so that a play that logged in with
        M(vcf.sddc_manager.token) needs no run of it with O(vcf.sddc_manager.token#module:state=absent) at its end (one
        module start-up less).
      - V(never) leaves the session open. V(when_done) revokes it when no task is left running. V(at_end) revokes it
        when the wait ends, whether every task ended or O(wait_timeout) ran out; with O(progress_interval) that is the
        last module run of the wait (the others act as V(when_done)).
      - Not when the wait stops on an error; the session is then left for the play to revoke.
      - Best effort, within 20 seconds. A revoke that fails (SDDC Manager unreachable, or a restart already ended
        the session) changes no outcome; RV(session_end_msg) says why, and the refresh token ends on its own.
    type: str
    choices: [never, when_done, at_end]
    default: never
extends_documentation_fragment:
  - vcf.sddc_manager.connection
  - vcf.sddc_manager.connection.action_group
  - vcf.sddc_manager.connection.read_only
  - vcf.sddc_manager.wait
"""

EXAMPLES = r"""
- name: Wait for the retried tasks, at most 30 minutes
  vcf.sddc_manager.credentials_task_wait:
    hostname: sddc-manager.example.com
    access_token: "{{ sddc_login.access_token }}"
    refresh_token: "{{ sddc_login.refresh_token }}"
    task_ids: "{{ retried_ids }}"
    wait_timeout: 1800
    wait_sleep: 10
  register: waited

- name: Report progress every minute without failing on the timeout
  vcf.sddc_manager.credentials_task_wait:
    task_ids: "{{ retried_ids }}"
    wait_timeout: 60
    fail_on_timeout: false
  register: progress
  until: progress.pending_ids | length == 0
  retries: 30
  delay: 0

- name: Retry, wait a little in the retry, then wait with a progress line every minute
  vcf.sddc_manager.credentials_task_bulk_retry:
    discover: true
    wait: true
    wait_timeout: 5
    fail_on_failure: false
  register: bulk

- name: Wait for the rest; a read that still shows a task as before its retry is not its end
  vcf.sddc_manager.credentials_task_wait:
    task_ids: "{{ bulk.retried_ids + bulk.watched_ids }}"
    after_retry: "{{ bulk }}"
    progress_interval: 60
    wait_timeout: 3600

- name: Wait, and end the session in the run that ends the wait (no token module run at the end of the play)
  vcf.sddc_manager.credentials_task_wait:
    hostname: sddc-manager.example.com
    access_token: "{{ sddc_login.access_token }}"
    refresh_token: "{{ sddc_login.refresh_token }}"
    task_ids: "{{ retried_ids }}"
    end_session: at_end
  register: waited

# Ad hoc, connection from SDDC_MANAGER_* environment variables:
#   ansible localhost -m vcf.sddc_manager.credentials_task_wait -a 'task_ids=2d0f3c4e-...,7a1e9b0c-... wait_timeout=600'
"""

RETURN = r"""
tasks:
  description: The tasks as last read, snake_case, without passwords, in the order of O(task_ids).
  returned: always
  type: list
  elements: dict
succeeded_ids:
  description: Tasks that ended SUCCESSFUL (or COMPLETED_WITH_WARNING).
  returned: always
  type: list
  elements: str
failed_ids:
  description: Tasks that ended FAILED, INCONSISTENT, cancelled, skipped or timed out in SDDC Manager.
  returned: always
  type: list
  elements: str
unknown_ids:
  description: Tasks that ended in a status this collection does not know. They are not counted as a success.
  returned: always
  type: list
  elements: str
pending_ids:
  description: Tasks still running when O(wait_timeout) ran out.
  returned: always
  type: list
  elements: str
failed_subtasks:
  description: One entry per failed sub-task error, as in M(vcf.sddc_manager.credentials_task_retry).
  returned: always
  type: list
  elements: dict
ended_at:
  description:
    - For each task that ended while this module watched it, when its end was first seen, in UTC by the clock of
      the host that ran the module - the clock the retry time is taken from, so a duration never mixes the clocks
      of two machines. A task that had already ended at the first read has that read's time.
  returned: always
  type: dict
  sample: {"2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f": "2026-11-27T10:04:15.250000Z"}
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
intervals:
  description: With O(progress_interval), the number of module runs and progress lines.
  returned: with O(progress_interval)
  type: int
stopped_early:
  description: With O(progress_interval), a run failed part way; the id lists and RV(tasks) are from the last good read.
  returned: with O(progress_interval), when a run failed part way
  type: bool
polls:
  description: How many times the tasks were read.
  returned: always
  type: int
session_ended:
  description: Whether this run (with O(progress_interval), the last one) revoked O(refresh_token) (O(end_session)).
  returned: when the wait did not stop on an error
  type: bool
session_end_msg:
  description: Why the refresh token could not be revoked (O(end_session)); never holds a token.
  returned: when a run tried to revoke the refresh token and could not
  type: str
"""

import time

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _batch
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import SddcManagerModule, wait_argument_spec
from ansible_collections.vcf.sddc_manager.plugins.module_utils._waiter import Baseline


def baselines_after_retry(after_retry, task_ids, now):
    """``(baselines, problem)``: the :class:`Baseline` of each task that a bulk retry wrote to just before.

    ``after_retry`` is that module's result: each entry of its ``results`` with ``state_before`` carries the task
    as read before the retry and ``retried_at``, on the clock of the host that ran both modules.
    """
    baselines, missing = {}, []
    for entry in (after_retry or {}).get("results") or []:
        if not isinstance(entry, dict) or entry.get("task_id") not in task_ids:
            continue
        baseline = Baseline.from_result(entry, now)
        if baseline is not None:
            baselines[entry["task_id"]] = baseline
        elif entry.get("action") == "retried":
            missing.append(entry["task_id"])
    problem = None
    if missing:
        problem = ("after_retry gives no state_before for %s, so a read that still shows such a task as it was "
                   "before its retry cannot be told from its end. Give the registered result of "
                   "vcf.sddc_manager.credentials_task_bulk_retry (a release that returns state_before)."
                   % ", ".join(missing))
    return baselines, problem


def main():
    argument_spec = dict(
        task_ids=dict(type="list", elements="str", required=True),
        fail_on_failure=dict(type="bool", default=True),
        fail_on_timeout=dict(type="bool", default=True),
        # Taken out by the action plugin before the module runs; declared for the docs and for direct calls.
        progress_interval=dict(type="int"),
        after_retry=dict(type="dict"),
        end_session=dict(type="str", choices=list(_batch.END_SESSION), default="never"),
    )
    argument_spec.update(wait_argument_spec())
    module = SddcManagerModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    # Keep the order the caller gave, without repeats: a duplicated id would be waited for twice.
    task_ids = list(dict.fromkeys(i for i in p["task_ids"] if i))
    if not task_ids:
        module.fail_json(msg="task_ids is empty: give the id of at least one credentials task.")
    baselines, problem = baselines_after_retry(p["after_retry"], task_ids, time.time())
    if problem:
        module.warn(problem)
    if baselines:
        # SDDC Manager answered the retry: not reaching it now is an outage ("not known yet"), not a wrong host.
        module.client.answered = True
    try:
        waited = _batch.wait_after_writes(module.client, task_ids, baselines, None, p["wait_timeout"], p["wait_sleep"])
    except SddcManagerError as exc:
        module.fail_from(exc)
    out = dict(changed=False, polls=waited.polls)
    problems = module.add_wait_outcome(out, waited, task_ids)
    # The last thing this run sends: nothing after it needs the session.
    out.update(_batch.end_session(module.client, p["end_session"], waited.pending_ids))
    not_succeeded = len(out["failed_ids"]) + len(out["unknown_ids"])
    out["msg"] = "%d succeeded, %d did not succeed, %d still running after %.0f s." % (
        len(out["succeeded_ids"]), not_succeeded, len(out["pending_ids"]), waited.elapsed)
    if not_succeeded and p["fail_on_failure"]:
        out["msg"] = "%d of %d tasks did not succeed: %s" % (not_succeeded, len(task_ids), " | ".join(problems))
        module.fail_json(**out)
    if waited.pending_ids and p["fail_on_timeout"]:
        out["msg"] = "Timed out after wait_timeout (%d s): %s still running." % (
            p["wait_timeout"], waited.describe_pending())
        module.fail_json(**out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
