# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of credentials_task_wait: with progress_interval, a long wait as a flat loop of short ones.

Without progress_interval the module runs once, as any module does. With it, the module runs once per interval
(each run waits at most that long) and a progress line is printed after each run, so an admin watching a play or
an AWX job sees the wait move. The loop is flat: hours of waiting cost one module run per interval and nothing
that grows with time, and the overall wait_timeout is kept to within one interval. With end_session: at_end, only
the run that reaches wait_timeout may end the session whatever is left running; the others do when nothing is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _waiter
from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import SddcManagerError

display = Display()
# Keys of a wait result that together say where every task stood when it was last read.
STATE_KEYS = ("tasks", "succeeded_ids", "failed_ids", "unknown_ids", "pending_ids", "failed_subtasks")
# What the module reads of after_retry (the bulk retry's result): each retry's time and the state before it.
AFTER_RETRY_KEYS = ("results",)


def _whole_seconds(value, name, minimum):
    """``value`` as an int of at least ``minimum``, or an error sentence naming ``name``."""
    if isinstance(value, bool):
        return None, "%s must be a whole number of seconds, got %r." % (name, value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None, "%s must be a whole number of seconds, got %r." % (name, value)
    if number != value and str(number) != str(value).strip():
        return None, "%s must be a whole number of seconds, got %r." % (name, value)
    if number < minimum:
        return None, "%s must be at least %d second%s, got %d." % (name, minimum, "" if minimum == 1 else "s", number)
    return number, None


def progress_line(host, result, elapsed):
    """The line printed after each interval: what runs, what ended well, what did not, time waited."""
    attention = len(result.get("failed_ids") or []) + len(result.get("unknown_ids") or [])
    return "[%s] credentials tasks: %d running, %d succeeded, %d did not succeed, %d s elapsed" % (
        host, len(result.get("pending_ids") or []), len(result.get("succeeded_ids") or []), attention, int(elapsed))


class _Unreachable(SddcManagerError):
    """A module run that could not reach SDDC Manager, which answered before: "not known yet" for the loop."""

    def __init__(self, answer):
        super(_Unreachable, self).__init__(answer.get("msg") or "SDDC Manager could not be reached.", kind="connection")
        self.unreachable = True
        self.answer = answer


def is_outcome(result):
    """A module result that holds the state of the tasks: a finished wait, or one that failed on their outcome.

    A run that failed before it could read the tasks (connection, TLS, login, bad options) has no such state.
    """
    return isinstance(result, dict) and "pending_ids" in result and "succeeded_ids" in result


def session_over(answer):
    """Whether a run ended the session (end_session): it was the last run of the wait, whatever is left running."""
    return bool(answer.get("session_ended")) or "session_end_msg" in answer


def _text(message):
    """A warning's text: a string, or (ansible-core 2.19+) a WarningSummary whose event holds it."""
    if isinstance(message, str):
        return message
    return getattr(getattr(message, "event", None), "msg", None) or str(message)


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = dict(self._task.args)
        interval = args.pop("progress_interval", None)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        try:
            if interval is None:
                return merge_hash(result, self._execute_module(module_args=args, task_vars=task_vars,
                                                               wrap_async=wrap_async))
            if self._task.async_val:
                result.update(failed=True, msg="progress_interval prints a line per interval while the play waits; "
                                               "it cannot be combined with async. Leave out one of them.")
                return result
            interval, problem = _whole_seconds(interval, "progress_interval", 1)
            timeout, timeout_problem = _whole_seconds(args.get("wait_timeout", _waiter.WAIT_TIMEOUT),
                                                      "wait_timeout", 0)
            if problem or timeout_problem:
                result.update(failed=True, msg=" ".join(p for p in (problem, timeout_problem) if p))
                return result
            host = (task_vars or {}).get("inventory_hostname", "localhost")
            return merge_hash(result, self._wait_in_intervals(args, interval, timeout, host, task_vars))
        finally:
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)

    def _wait_in_intervals(self, args, interval, timeout, host, task_vars):
        fail_on_failure = args.get("fail_on_failure", True)
        fail_on_timeout = args.get("fail_on_timeout", True)
        # A run that ends at its interval is not a timeout: only the overall wait_timeout is, decided at the end.
        # fail_on_failure goes through, so that the module words the failures (with SDDC Manager's remediation);
        # such a run still carries the state of every task, and the loop goes on while some still run.
        args["fail_on_timeout"] = False
        if isinstance(args.get("after_retry"), dict):
            # Every run applies the same stale-read rule from the same retries; the rest of a registered result
            # (invocation, tasks, messages) would only make each run's arguments longer.
            args["after_retry"] = dict((k, v) for k, v in args["after_retry"].items() if k in AFTER_RETRY_KEYS)
        schedule = _waiter.Schedule(timeout, interval)
        runs = {"last": None, "polls": 0, "count": 0, "warnings": [], "deprecations": [], "overhead": 0.0,
                "down_since": None, "down_reason": None}
        # SDDC Manager answered before (the retry this wait follows, or an earlier run): from then on, a run that
        # cannot reach it is an outage - "not known yet" - and the loop goes on until wait_timeout.
        answered_before = bool(args.get("after_retry"))

        def run_one():
            began = schedule.clock()
            # Whole seconds, rounded down, so that no run goes past the end of its interval; less than a second
            # left is one read (0). The first run always reads the tasks, even with wait_timeout 0. A run costs
            # more than its wait (process start, imports, TLS handshake): it is asked to wait that much less.
            chunk = max(0, int(min(interval, schedule.left) - runs["overhead"]))
            run_args = dict(args, wait_timeout=chunk)
            if args.get("end_session") == "at_end" and schedule.left > interval:
                # Not the run that reaches wait_timeout: it ends the session only if nothing is left running.
                run_args["end_session"] = "when_done"
            answer = self._execute_module(module_args=run_args, task_vars=task_vars)
            runs["count"] += 1
            for key in ("warnings", "deprecations"):
                for message in answer.pop(key, None) or []:
                    if key == "warnings" and _text(message).startswith("SDDC Manager was unreachable"):
                        continue  # said by this loop's own lines, run by run
                    if message not in runs[key]:
                        runs[key].append(message)
            if is_outcome(answer):
                runs["polls"] += answer.get("polls") or 0
                runs["last"] = answer
                runs["overhead"] = max(0.0, schedule.clock() - began - float(answer.get("elapsed") or 0))
                down = float(answer.get("unreachable_for") or 0)
                if down:
                    # The whole run, or its end, met the outage: it started that long before this run ended.
                    since = schedule.clock() - down
                    runs["down_since"] = min(runs["down_since"] or since, since)
                else:
                    if runs["down_since"] is not None:
                        display.display("[%s] SDDC Manager answers again after %d s unreachable" % (
                            host, int(schedule.clock() - runs["down_since"])))
                    runs["down_since"] = None
            elif answer.get("sddc_manager_unreachable") and (answered_before or runs["last"] is not None):
                if runs["down_since"] is None:
                    runs["down_since"] = began
                runs["down_reason"] = answer.get("msg")
                raise _Unreachable(answer)
            return answer

        def progress(seconds):
            if runs["down_since"] is not None:
                line = "[%s] %s" % (host, _waiter.unreachable_line(schedule.clock() - runs["down_since"], schedule.left))
            else:
                line = progress_line(host, runs["last"], schedule.elapsed)
            display.display(line)

        def rest_of_interval(seconds):
            # What is left of the interval (about a second at most): the run was asked to end that early.
            time.sleep(seconds)
            progress(seconds)

        def unreachable(_seconds, _left, _exc):
            progress(0)

        polled = _waiter.poll(run_one, lambda answer: not is_outcome(answer) or not answer["pending_ids"]
                              or session_over(answer), schedule, rest_of_interval, aligned=True,
                              on_unreachable=unreachable)
        totals = (schedule.start, runs["polls"], runs["count"], runs["warnings"], runs["deprecations"])
        if runs["down_since"] is not None:
            runs["warnings"].append(_waiter.unreachable_line(schedule.clock() - runs["down_since"], 0).replace(
                ", still waiting (0 s left)", " when the wait ended: the state of the tasks still running is not "
                "known; SDDC Manager goes on running them."))
        if polled.value is None:
            # No run could reach SDDC Manager before wait_timeout: nothing is known of the tasks.
            answer = dict(polled.unreachable_error.answer)
            answer["msg"] = "%s until wait_timeout (%d s): the state of the tasks is not known. %s" % (
                _waiter.unreachable_line(schedule.clock() - runs["down_since"], 0).split(",")[0], timeout,
                answer.get("msg") or "")
            return self._stopped(answer, None, args, *totals)
        if not is_outcome(polled.value):
            # Connection lost, token refused, module crashed: stop, and say where the tasks stood when last read.
            return self._stopped(polled.value, runs["last"], args, *totals)
        display.display(progress_line(host, runs["last"], schedule.elapsed))
        return self._finish(runs["last"], timeout, fail_on_failure, fail_on_timeout, *totals)

    @staticmethod
    def _totals(out, start, polls, runs, warnings, deprecations):
        out.update(elapsed=round(time.monotonic() - start, 1), polls=polls, intervals=runs, changed=False)
        if warnings:
            out["warnings"] = warnings
        if deprecations:
            out["deprecations"] = deprecations
        return out

    def _finish(self, last, timeout, fail_on_failure, fail_on_timeout, start, polls, runs, warnings, deprecations):
        out = self._totals(dict(last), start, polls, runs, warnings, deprecations)
        out.pop("failed", None)
        attention = list(out.get("failed_ids") or []) + list(out.get("unknown_ids") or [])
        out["msg"] = "%d succeeded, %d did not succeed, %d still running after %.0f s." % (
            len(out.get("succeeded_ids") or []), len(attention), len(out["pending_ids"]), out["elapsed"])
        if attention and fail_on_failure:
            out["failed"] = True
            # The module names each failure with SDDC Manager's remediation when it was asked to fail on them.
            if last.get("failed") and last.get("msg"):
                out["msg"] = last["msg"]
            else:
                out["msg"] = "%d of %d tasks did not succeed: %s." % (
                    len(attention), len(out.get("tasks") or []), ", ".join(attention))
        elif out["pending_ids"] and fail_on_timeout:
            out["failed"] = True
            out["msg"] = "Timed out after wait_timeout (%d s): %s still running." % (
                timeout, ", ".join(out["pending_ids"]))
        return out

    def _stopped(self, answer, last, args, start, polls, runs, warnings, deprecations):
        out = dict(answer)
        out["failed"] = True
        out["msg"] = answer.get("msg") or "The wait stopped: the module returned no result."
        task_ids = list(args.get("task_ids") or [])
        if last is not None:
            for key in STATE_KEYS:
                out[key] = last.get(key)
        else:
            # Nothing was read: no task is known to have ended.
            out.update(succeeded_ids=[], failed_ids=[], unknown_ids=[], pending_ids=task_ids)
        out["stopped_early"] = True
        return self._totals(out, start, polls, runs, warnings, deprecations)
