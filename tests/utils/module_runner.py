"""Run a module's ``main()`` in this process and get back what Ansible would receive.

The unit tests (tests/unit/conftest.py) and the property run against the simulator
(tests/integration/test_properties.py) share it:

    from ansible_collections.vcf.sddc_manager.plugins.modules import credentials_task_info

    result, failed = run_module(credentials_task_info, {"hostname": "h", "token": "t"}, check_mode=True)

Arguments are handed to ``AnsibleModule`` the way each ansible-core (2.16 to 2.21) reads them, and
``exit_json``/``fail_json`` run for real (argument validation, ``no_log`` masking, warnings,
``invocation``) with their printed JSON captured, so a result holds exactly what the controller gets.
The collection must already be importable (``tests/utils/pyroot.py``).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.common.parameters import PASS_VARS


class ModuleExit(BaseException):
    """Raised in place of the SystemExit of ``exit_json``/``fail_json``; ``result`` is the returned dict.

    A BaseException, like SystemExit, so a module's ``except Exception`` cannot swallow it.
    """

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class AnsibleExitJson(ModuleExit):
    """The module called ``exit_json``."""


class AnsibleFailJson(ModuleExit):
    """The module called ``fail_json``."""


def _module_args(args):
    """Patch the module arguments that AnsibleModule will read, for the installed ansible-core."""
    try:
        from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
    except ImportError:
        patch_module_args = None
    if patch_module_args is not None:
        return patch_module_args(args)
    # ansible-core 2.16 - 2.18: _load_params() takes the JSON of the whole payload from this global
    payload = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8")
    return mock.patch.object(basic, "_ANSIBLE_ARGS", payload)


def _capturing(real, exc_type):
    def exit_method(self, *args, **kwargs):
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                real(self, *args, **kwargs)
        except SystemExit:
            pass
        *before, last = out.getvalue().rstrip("\n").split("\n")
        # the result is the last line; anything the module printed before it is passed on
        sys.stdout.write("".join(line + "\n" for line in before if line))
        try:
            result = json.loads(last)
        except ValueError:
            raise AssertionError(f"{real.__name__} printed no JSON result: {out.getvalue()!r}") from None
        raise exc_type(result)

    return exit_method


def _fresh(container):
    return type(container)()


@contextlib.contextmanager
def _module_context(args):
    with contextlib.ExitStack() as stack:
        stack.enter_context(_module_args(args))
        stack.enter_context(mock.patch.object(basic.AnsibleModule, "exit_json", _capturing(basic.AnsibleModule.exit_json, AnsibleExitJson)))
        stack.enter_context(mock.patch.object(basic.AnsibleModule, "fail_json", _capturing(basic.AnsibleModule.fail_json, AnsibleFailJson)))
        # warnings and deprecations are process-wide; each run starts with none
        stack.enter_context(mock.patch.object(ansible_warnings, "_global_warnings", _fresh(ansible_warnings._global_warnings)))
        stack.enter_context(mock.patch.object(ansible_warnings, "_global_deprecations", _fresh(ansible_warnings._global_deprecations)))
        try:  # ansible-core >= 2.19: once controller code is imported, module warnings would go to Display
            from ansible.module_utils import _internal
        except ImportError:
            _internal = None
        if _internal is not None and hasattr(_internal, "is_controller"):
            stack.enter_context(mock.patch.object(_internal, "is_controller", False))
        yield


def _plain(result):
    """Give warnings and deprecations 2.16's plain shape on every version.

    ansible-core 2.19 sends them as tagged event objects; tests compare messages.
    """
    if "warnings" in result:
        result["warnings"] = [w["event"]["msg"] if isinstance(w, dict) and "event" in w else w for w in result["warnings"]]
    if "deprecations" in result:
        plain = []
        for item in result["deprecations"]:
            if isinstance(item, dict) and "event" in item:
                item = dict(
                    {k: item[k] for k in ("version", "date") if k in item},
                    msg=item["event"]["msg"],
                    collection_name=(item.get("deprecator") or {}).get("resolved_name"),
                )
            plain.append(item)
        result["deprecations"] = plain
    return result


def run_module(module, args=None, *, check_mode=False, diff=False):
    """Run ``module.main()`` with ``args``; return ``(result, failed)``.

    ``module`` is the imported module object; ``args`` the task's arguments (``_ansible_*`` keys pass
    through). ``check_mode``/``diff`` set ``_ansible_check_mode``/``_ansible_diff``.
    ``failed`` is true when the result says so (``fail_json`` always does). ``warnings`` is a list of
    messages and ``deprecations`` a list of ``{msg, version or date, collection_name}`` on every version.
    """
    args = dict(args or {})
    if "inject_invocation" in PASS_VARS:
        # ansible-core 2.21 returns ``invocation`` only when the controller asks (INJECT_INVOCATION, off by
        # default): ask, so that what the tests check of it (no_log masking) holds where it is enabled too.
        args.setdefault("_ansible_inject_invocation", True)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with _module_context(args):
        try:
            module.main()
        except ModuleExit as exc:
            return _plain(exc.result), bool(exc.result.get("failed", False))
    raise AssertionError(f"{module.__name__}.main() returned without calling exit_json or fail_json")
