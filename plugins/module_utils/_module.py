# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""AnsibleModule with the connection options, the client, and error reporting built in."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.vcf.sddc_manager.plugins.module_utils import (
    _client,
    _filters,
    _options,
    _spec,
    _tasks,
    _verdict,
    _waiter,
)
from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import redact


def connection_argument_spec():
    """The connection options every module takes (documented in the ``connection`` fragment)."""
    spec = _options.connection_spec()
    for name, variable in _options.ENVIRONMENT.items():
        spec[name]["fallback"] = (env_fallback, [variable])
    return spec


# What the result shows instead of the value of an option the module does not have: a misspelled
# ``password`` (``passwd``, ``pasword``) must not print the password it was given.
UNSUPPORTED_VALUE = "VALUE_OF_UNSUPPORTED_OPTION_HIDDEN"


def hide_unsupported(params, spec):
    """A copy of ``params`` with the value of every option ``spec`` does not know (at any depth) hidden."""
    if not isinstance(params, dict) or not isinstance(spec, dict):
        return params
    out = {}
    for key, value in params.items():
        option = spec.get(key)
        if option is None:
            out[key] = UNSUPPORTED_VALUE
        elif option.get("options") and isinstance(value, list):
            out[key] = [hide_unsupported(item, option["options"]) for item in value]
        elif option.get("options"):
            out[key] = hide_unsupported(value, option["options"])
        else:
            out[key] = value
    return out


def no_log_values_of(params, spec):
    """The values of every ``no_log`` option in ``params`` (at any depth), however malformed the rest is.

    ansible-core collects these itself, but gives up on all of them when one list of dicts holds something else,
    and then returns the arguments with the password in clear.
    """
    found = set()
    if not isinstance(params, dict) or not isinstance(spec, dict):
        return found
    for key, option in spec.items():
        if not isinstance(option, dict) or params.get(key) in (None, ""):
            continue
        value = params[key]
        if option.get("no_log") and not isinstance(value, (dict, list)):
            found.add(str(value))
        if option.get("options"):
            for item in value if isinstance(value, list) else [value]:
                found |= no_log_values_of(item, option["options"])
    return found


def _strings_of(value, out, depth=0):
    """Every string Ansible's ``remove_values`` would look into inside ``value`` (and ``str()`` of the numbers and of
    any other object, which can only add to them), appended to ``out``."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, bytes):
        out.append(value.decode("utf-8", "replace"))
    elif value is None or isinstance(value, bool):
        return
    elif isinstance(value, dict):
        # remove_values masks keys too
        for key, item in value.items():
            _strings_of(key, out, depth + 1)
            _strings_of(item, out, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _strings_of(item, out, depth + 1)
    else:
        # Numbers (masked when a no_log value is part of them), and objects such as ansible-core's warning and error
        # summaries: their text, and their event's message.
        out.append(str(value))
        message = getattr(getattr(value, "event", None), "msg", None)
        if isinstance(message, str):
            out.append(message)


def needed_no_log_values(no_log_values, *parts):
    """The values of ``no_log_values`` that occur in ``parts`` (what a module is about to return).

    ``remove_values`` tries every no_log value on every string of a result: a bulk retry that met a password in each
    of hundreds of sub-tasks spends most of its CPU there, masking values that appear nowhere in what it returns (the
    tasks are returned without their password fields). A value that is not part of any string of the result masks
    nothing, so leaving it out changes no output; a value that is, however it got there, is kept.
    """
    if not no_log_values:
        return set()
    strings = []
    for part in parts:
        _strings_of(part, strings)
    # Joined, a value found inside one string is found; one that straddles two strings is kept too (harmless).
    text = "\x00".join(strings)
    return set(value for value in no_log_values if not isinstance(value, str) or not value or value in text)


def named_validation_error(validation_result, msg):
    """ansible-core reports a list of dicts holding a string as "dictionary requested, could not parse JSON or
    key=value" (an error raised while it looks for no_log values) before its own error that names the option."""
    errors = getattr(validation_result, "errors", None)
    if not errors or msg != errors.msg:
        return msg
    for error in errors:
        if type(error).__name__ != "NoLogError":
            return error.args[0] if error.args else msg
    return msg


def wait_argument_spec(timeout=_waiter.WAIT_TIMEOUT, sleep=_waiter.WAIT_SLEEP):
    return dict(
        wait_timeout=dict(type="int", default=timeout),
        wait_sleep=dict(type="int", default=sleep),
    )


class SddcManagerModule(AnsibleModule):
    """Adds the connection options and a lazily-built, validated client.

    ``auth`` says which credentials the module needs: ``any`` (username and
    password, or an access token), or ``none`` (the module checks for itself).
    """

    def __init__(self, argument_spec, auth="any", mask_own_tokens=True, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        required_together = list(kwargs.pop("required_together", [])) + [("username", "password")]
        required_one_of = list(kwargs.pop("required_one_of", []))
        if auth == "any":
            required_one_of.append(("username", "access_token"))
        self._validating = True
        super(SddcManagerModule, self).__init__(
            argument_spec=spec, required_together=required_together, required_one_of=required_one_of, **kwargs)
        self._validating = False
        if not _client.HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=_client.REQUESTS_IMPORT_ERROR)
        self._mask_own_tokens = mask_own_tokens
        self._client = None
        self._check_connection_options()
        if "wait_sleep" in self.params:
            self._check_wait_options()

    def fail_json(self, msg, **kwargs):
        if getattr(self, "_validating", False):
            # Ansible refused the arguments and returns them: mask every no_log value even if Ansible could not
            # list them, hide the values of options that do not exist (a misspelled password would be printed as
            # given), and prefer an error that names the option.
            params = getattr(self, "params", None) or {}
            self.no_log_values.update(no_log_values_of(params, self.argument_spec))
            kwargs.setdefault("invocation", {"module_args": hide_unsupported(params, self.argument_spec)})
            msg = self._named_validation_error(msg)
        self._keep_needed_no_log_values(kwargs, msg)
        super(SddcManagerModule, self).fail_json(msg=msg, **kwargs)

    def exit_json(self, **kwargs):
        self._keep_needed_no_log_values(kwargs)
        super(SddcManagerModule, self).exit_json(**kwargs)

    def _keep_needed_no_log_values(self, kwargs, *more):
        """Before Ansible masks the result: keep only the no_log values that occur in it (``needed_no_log_values``).

        What Ansible adds to the result is looked into too: the arguments (``invocation``), the warnings and
        deprecations, and the traceback of an exception being handled.
        """
        values = getattr(self, "no_log_values", None)
        if not values:
            return
        parts = [kwargs, getattr(self, "params", None), list(more)]
        # The warnings and deprecations ansible-core adds to the result (the names differ between its releases).
        readers = [getattr(ansible_warnings, name, None) for name in (
            "get_warning_messages", "get_deprecation_messages", "get_warnings", "get_deprecations")]
        if not any(readers):
            return  # Not knowing them: every value is kept.
        try:
            parts += [list(reader()) for reader in readers if reader is not None]
        except Exception:  # pylint: disable=broad-except
            return
        if sys.exc_info()[0] is not None:
            parts.append(traceback.format_exc())
        self.no_log_values = needed_no_log_values(values, *parts)

    def _named_validation_error(self, msg):
        return named_validation_error(getattr(self, "validation_result", None), msg)

    def _check_connection_options(self):
        problems = _options.connection_problems(self.params)
        if problems:
            self.fail_json(msg="Invalid connection options: %s." % "; ".join(problems))
        if not self.params["validate_certs"]:
            self.warn(_options.VALIDATE_CERTS_OFF)

    def _check_wait_options(self):
        # A pause of 0 would read SDDC Manager back to back for as long as the wait lasts.
        if self.params["wait_timeout"] < 0 or self.params["wait_sleep"] < 1:
            self.fail_json(msg="wait_timeout must be 0 or more and wait_sleep at least 1 second, got %d and %d."
                           % (self.params["wait_timeout"], self.params["wait_sleep"]))

    def check_range(self, name, low, high, unit):
        if not low <= self.params[name] <= high:
            self.fail_json(msg="%s must be between %d and %d %s, got %d." % (name, low, high, unit, self.params[name]))

    @property
    def client(self):
        if self._client is None:
            self._client = _options.make_client(self.params, on_secret=self.no_log_values.add,
                                                mask_own_tokens=self._mask_own_tokens)
        return self._client

    def fail_problems(self, problems, heading="Invalid options"):
        self.fail_json(msg="%s: %s" % (heading, " ".join(problems)))

    def fail_from(self, exc, **extra):
        """Report an SddcManagerError as one sentence plus structured details."""
        details = exc.details()
        details.update(extra)
        self.fail_json(msg=exc.message, **details)

    def redact(self, data):
        """A returnable (snake_case, secret-free) copy; secrets met are masked everywhere too."""
        found = set()
        clean = redact(data, found)
        self.no_log_values.update(found)
        return clean

    def warn_unknown_statuses(self, tasks):
        """Name the tasks whose status this collection does not know: never counted as a success."""
        for task in tasks:
            found = _verdict.verdict(task)
            if found.state == _verdict.UNKNOWN:
                self.warn(found.message)

    def check_filters(self, **filters):
        """Refuse, before any request, a filter value that would match nothing because no release has it."""
        problems = _filters.problems(**filters)
        if problems:
            self.fail_json(msg="Invalid filter: %s." % "; ".join(problems))

    def check_retry_options(self, options, where=""):
        """Refuse a wrong CredentialsUpdateSpec before any request; warn about resource types unknown to us."""
        problems = ["%s%s" % (where, problem) for problem in _spec.validate(options)]
        if problems:
            self.fail_problems(problems, heading="Invalid retry options")
        self.warn_resource_types(options)

    def warn_resource_types(self, options):
        for resource_type in _spec.unknown_resource_types(options):
            self.warn("resource_type %s is not one this collection knows (from VCF 4.x to 9.1); it is sent as given "
                      "and SDDC Manager will refuse it if your release does not have it." % resource_type)

    def add_wait_outcome(self, out, waited, ids):
        """Put a wait's outcome for ``ids`` into ``out``; return one line per task that did not succeed."""
        self.warn_unknown_statuses(waited.tasks.values())
        for note in waited.outage_notes():
            self.warn(note)
        split = waited.split(ids)
        problems = split.pop("problems")
        out.update(split, elapsed=round(waited.elapsed, 1), tasks=[self.describe_task(waited.tasks[i]) for i in ids])
        # Seconds SDDC Manager had been unreachable when the wait ended (0: it answered the last read).
        out["unreachable_for"] = round(waited.unreachable_for, 1)
        out["failed_subtasks"] = self.redact(out["failed_subtasks"])
        return problems

    def describe_task(self, task):
        """The returned form of a task: redacted, plus what every caller would compute anyway."""
        found = _verdict.verdict(task)
        out = self.redact(task)
        out["normalized_status"] = found.status
        out["verdict"] = found.state
        out["verdict_reason"] = found.reason
        out["resources"] = _tasks.resources_of(task)
        out["failed_subtasks"] = self.redact(found.report)
        return out
