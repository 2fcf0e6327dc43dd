# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of vcf.sddc_manager.token: on a local connection, the login (or revoke) runs in the controller.

A module run is a Python process of its own: about 0.6 s and 0.5 CPU-s before its first request, for one HTTP
call. When the module would run on the controller anyway (a local connection, with the Python that runs Ansible),
the same code (``_auth.token_result`` over the collection's client) runs here instead, after the same checks:
the module's argument spec with its environment fallbacks (the task's ``environment`` applied), its connection
checks and warning, its no_log masking. Anywhere else (another host, another Python, async, a controller without
requests) the module runs as any module does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import sys

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _auth, _client, _module, _options


@contextlib.contextmanager
def _environment(values):
    """``os.environ`` with the task's environment, as the module's process would have it (this worker process is
    the task's own: nothing else reads its environment meanwhile)."""
    saved = dict(os.environ)
    os.environ.update(dict((str(k), str(v)) for k, v in (values or {}).items()))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _same_python(interpreter):
    if not interpreter:
        return False
    try:
        return os.path.realpath(interpreter) == os.path.realpath(sys.executable)
    except (TypeError, ValueError):
        return False


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        if not self._in_controller(task_vars or {}):
            wrap_async = self._task.async_val and not self._connection.has_native_async
            try:
                return merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            finally:
                if not wrap_async:
                    self._remove_tmp_path(self._connection._shell.tmpdir)
        return merge_hash(result, self._run_here())

    def _in_controller(self, task_vars):
        """Whether the module would run on the controller with this very Python: then it may run in-process."""
        if self._task.async_val or not _client.HAS_REQUESTS:
            return False
        if getattr(self._connection, "transport", None) != "local":
            return False
        interpreter = task_vars.get("ansible_python_interpreter")
        try:
            interpreter = self._templar.template(interpreter) if interpreter else None
        except Exception:  # pylint: disable=broad-except
            return False
        return _same_python(interpreter)

    def _run_here(self):
        spec = _module.connection_argument_spec()
        spec.update(_auth.TOKEN_ARGUMENT_SPEC)
        environment = {}
        self._compute_environment_string(environment)
        validator = ArgumentSpecValidator(spec, required_together=[("username", "password")],
                                          required_if=_auth.TOKEN_REQUIRED_IF)
        with _environment(environment):
            validation = validator.validate(dict(self._task.args))
        params = validation.validated_parameters
        secrets = set(_module.no_log_values_of(params, spec))
        if validation.error_messages:
            # The module's own words for the first error (AnsibleModule, then SddcManagerModule).
            msg = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):
                msg = "Unsupported parameters for (%s) module: %s" % (self._task.action, msg)
            return self._masked(dict(failed=True, msg=_module.named_validation_error(validation, msg)), secrets)
        problems = _options.connection_problems(params)
        if problems:
            return self._masked(dict(failed=True, msg="Invalid connection options: %s." % "; ".join(problems)), secrets)
        out = {}
        if not params["validate_certs"]:
            out["warnings"] = [_options.VALIDATE_CERTS_OFF]
        client = _options.make_client(params, on_secret=secrets.add, mask_own_tokens=False)
        try:
            out.update(_auth.token_result(client, params, self._play_context.check_mode))
        except _client.SddcManagerError as exc:
            out.update(exc.details(), failed=True, msg=exc.message)
        return self._masked(out, secrets)

    @staticmethod
    def _masked(out, secrets):
        """The result as the module would return it: every no_log value (the password, secrets met) masked."""
        tokens = dict((key, out.pop(key)) for key in ("access_token", "refresh_token") if key in out)
        out = remove_values(out, secrets) if secrets else out
        out.update(tokens)  # the caller asked for these (the module does not mask its own tokens either)
        return out
