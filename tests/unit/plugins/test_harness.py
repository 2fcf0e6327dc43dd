"""Proves the ``run_module`` fixture of tests/unit/conftest.py on a tiny module defined here."""

from __future__ import annotations

import importlib
import types
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ansible.module_utils.basic import AnsibleModule


def _dummy_main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            secret=dict(type="str", no_log=True),
            fail=dict(type="bool", default=False),
            warning=dict(type="str"),
            deprecation=dict(type="str"),
            swallow=dict(type="bool", default=False),
            found_secret=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["warning"]:
        module.warn(params["warning"])
    if params["deprecation"]:
        module.deprecate(params["deprecation"], version="2.0.0", collection_name="vcf.sddc_manager")
    if params["found_secret"]:
        module.no_log_values.add(params["found_secret"])
    if params["fail"]:
        module.fail_json(msg=f"asked to fail for {params['name']}", name=params["name"])
    result = dict(changed=not module.check_mode, name=params["name"], check_mode=module.check_mode)
    if module._diff:
        result["diff"] = dict(before="", after=params["name"])
    if params["secret"]:
        result["echo"] = f"the secret is {params['secret']}"
    if params["found_secret"]:
        result["api_response"] = dict(oldPassword=params["found_secret"])
    if params["swallow"]:
        try:
            module.exit_json(**result)
        except Exception:  # pylint: disable=broad-exception-caught
            # a real exit_json raises SystemExit, which this does not catch: nor may the harness's
            result["swallowed"] = True
    module.exit_json(**result)


def _make_module(name, main):
    module = types.ModuleType(name)
    module.main = main
    return module


dummy = _make_module("dummy", _dummy_main)


def test_exit_json(run_module):
    result, failed = run_module(dummy, {"name": "a"})
    assert failed is False
    assert result["changed"] is True
    assert result["name"] == "a"
    assert result["check_mode"] is False
    assert "diff" not in result
    assert result["invocation"]["module_args"]["name"] == "a"


def test_check_mode_and_diff(run_module):
    result, failed = run_module(dummy, {"name": "a"}, check_mode=True, diff=True)
    assert not failed
    assert result["check_mode"] is True
    assert result["changed"] is False
    assert result["diff"] == {"before": "", "after": "a"}


def test_internal_flags_pass_through(run_module):
    result = run_module(dummy, {"name": "a", "_ansible_check_mode": True})[0]
    assert result["check_mode"] is True


def test_fail_json(run_module):
    result, failed = run_module(dummy, {"name": "a", "fail": True})
    assert failed is True
    assert result["failed"] is True
    assert result["msg"] == "asked to fail for a"
    assert result["name"] == "a"


def test_argument_validation_fails(run_module):
    result, failed = run_module(dummy, {})
    assert failed is True
    assert "missing required arguments: name" in result["msg"]


def test_no_log_values_are_masked(run_module):
    result = run_module(dummy, {"name": "a", "secret": "s3cr3t-value", "found_secret": "0ld-Passw0rd"})[0]
    assert "s3cr3t-value" not in str(result)
    assert "0ld-Passw0rd" not in str(result)
    assert result["echo"] == "the secret is ********"
    # a value equal to a no_log value is replaced whole; one that contains it has it starred out
    assert result["api_response"] == {"oldPassword": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert result["invocation"]["module_args"]["secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_warnings_do_not_leak_between_runs(run_module):
    result = run_module(dummy, {"name": "a", "warning": "careful", "deprecation": "old"})[0]
    assert result["warnings"] == ["careful"]
    assert result["deprecations"] == [{"msg": "old", "version": "2.0.0", "collection_name": "vcf.sddc_manager"}]
    result = run_module(dummy, {"name": "b"})[0]
    assert "warnings" not in result
    assert "deprecations" not in result


def test_except_exception_does_not_swallow_exit(run_module):
    result = run_module(dummy, {"name": "a", "swallow": True})[0]
    assert "swallowed" not in result


def test_module_that_does_not_exit_is_an_error(run_module):
    with pytest.raises(AssertionError, match="returned without calling exit_json"):
        run_module(_make_module("silent", lambda: None), {})


def test_module_output_before_result_is_passed_on(run_module, capsys):
    def noisy_main():
        module = AnsibleModule(argument_spec={})
        print("hello from the module")
        module.exit_json(changed=False)

    result, failed = run_module(_make_module("noisy", noisy_main), {})
    assert (result["changed"], failed) == (False, False)
    assert "hello from the module" in capsys.readouterr().out


# No NUL: AnsibleModule logs its arguments to syslog, and Python 3.13's syslog refuses "embedded null
# character", so ansible-core itself fails such a module run there (a property of ansible-core, not of
# the harness; Python 3.10 to 3.12 accept it). No surrogates: module arguments arrive as UTF-8, which cannot
# hold them, and ansible-core 2.21 refuses them when it decodes the arguments.
@settings(max_examples=25, deadline=None)
@given(name=st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), min_size=1,
                    max_size=40))
def test_any_name_round_trips(run_module, name):
    result, failed = run_module(dummy, {"name": name})
    assert not failed
    assert result["name"] == name


def test_warnings_come_back_when_controller_code_is_loaded(run_module, monkeypatch):
    internal = pytest.importorskip("ansible.module_utils._internal")
    if not hasattr(internal, "is_controller"):
        pytest.skip("ansible-core < 2.19 has no controller switch")
    monkeypatch.setattr(internal, "is_controller", True)  # as after importing ansible.plugins or ansible.utils.display
    result = run_module(dummy, {"name": "a", "warning": "careful"})[0]
    assert result["warnings"] == ["careful"]


def test_collection_is_importable_from_the_checkout():
    package = importlib.import_module("ansible_collections.vcf.sddc_manager")
    roots = [Path(p).resolve() for p in package.__path__]
    assert Path(__file__).resolve().parents[3] in roots
