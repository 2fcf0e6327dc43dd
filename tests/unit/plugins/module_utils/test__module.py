"""SddcManagerModule helpers, run through a tiny module (the connection checks are in modules/test_connection_options.py)."""

from __future__ import annotations

import json
import os
import types

import pytest

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _module
from ansible_collections.vcf.sddc_manager.plugins.module_utils._client import SddcManagerError
from ansible_collections.vcf.sddc_manager.plugins.module_utils._module import (
    SddcManagerModule,
    connection_argument_spec,
    wait_argument_spec,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("SDDC_MANAGER_"):
            monkeypatch.delenv(name, raising=False)


def module_running(action, auth="any", **kwargs):
    """A module object whose main() builds an SddcManagerModule and hands it to ``action``."""

    def main():
        module = SddcManagerModule(argument_spec=dict(payload=dict(type="raw")), auth=auth,
                                   supports_check_mode=True, **kwargs)
        action(module)

    return types.SimpleNamespace(main=main, __name__="dummy")


CONN = {"hostname": "sddc.example.com", "access_token": "AT-mod-0c4e"}


def test_describe_task(run_module, load_fixture):
    def action(module):
        described = module.describe_task(module.params["payload"])
        # a secret met while describing is masked wherever else it appears
        module.exit_json(changed=False, task=described, note="old was PLANTED-old-9f3a")

    result, failed = run_module(module_running(action), dict(CONN, payload=load_fixture(
        "credentials_task_failed_rotate")))
    assert not failed, result
    task = result["task"]
    assert task["normalized_status"] == "FAILED"
    assert task["resources"][0] == {"resource_name": "esxi-01.example.com", "resource_type": "ESXI"}
    assert task["failed_subtasks"][0]["error_code"] == "ESXI_PASSWORD_UPDATE_FAILED"
    assert "old_password" not in json.dumps(task)
    assert "PLANTED-old-9f3a" not in result["note"]
    # the invocation echoes the payload argument; its passwords are masked too
    assert "PLANTED" not in json.dumps(result)


def test_redact_registers_the_secrets(run_module):
    def action(module):
        clean = module.redact({"subTasks": [{"newPassword": "PLANTED-new-77"}]})
        module.exit_json(changed=False, clean=clean, echo="PLANTED-new-77")

    result, _failed = run_module(module_running(action), CONN)
    assert result["clean"] == {"sub_tasks": [{}]}
    assert result["echo"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_fail_from(run_module):
    def action(module):
        module.fail_from(SddcManagerError("One sentence.", kind="api", status_code=409,
                                          url="https://sddc.example.com:443/v1/x",
                                          error={"error_code": "E"}), task_id="t-1")

    result, failed = run_module(module_running(action), CONN)
    assert failed
    assert result["msg"] == "One sentence."
    assert (result["status_code"], result["url"], result["error"], result["task_id"]) == (
        409, "https://sddc.example.com:443/v1/x", {"error_code": "E"}, "t-1")


def test_fail_from_without_details(run_module):
    result, failed = run_module(module_running(lambda m: m.fail_from(SddcManagerError("Plain."))), CONN)
    assert failed
    assert "status_code" not in result and "url" not in result and "error" not in result


def test_fail_problems(run_module):
    result, failed = run_module(module_running(lambda m: m.fail_problems(["a is bad.", "b is worse."])), CONN)
    assert failed
    assert result["msg"] == "Invalid options: a is bad. b is worse."


def test_client_is_built_once_from_the_options(run_module):
    seen = {}

    def action(module):
        client = module.client
        seen.update(same=client is module.client, base=client.base_url, timeout=client.timeout,
                    verify=client.session.verify, proxies=client.session.proxies, token=client.access_token)
        module.exit_json(changed=False, echo="AT-mod-0c4e")

    args = dict(CONN, port=8443, request_timeout=5, proxy_url="http://proxy.example.com:3128")
    result, _failed = run_module(module_running(action), args)
    assert seen == {"same": True, "base": "https://sddc.example.com:8443", "timeout": 5.0, "verify": True,
                    "proxies": {"https": "http://proxy.example.com:3128", "http": "http://proxy.example.com:3128"},
                    "token": "AT-mod-0c4e"}
    assert "AT-mod-0c4e" not in json.dumps(result)


def test_auth_none_needs_no_credentials(run_module):
    result, failed = run_module(module_running(lambda m: m.exit_json(changed=False), auth="none"),
                                {"hostname": "sddc.example.com"})
    assert not failed, result


def test_extra_required_together_is_kept(run_module):
    module = module_running(lambda m: m.exit_json(changed=False), required_together=[("payload", "proxy_url")])
    result, failed = run_module(module, dict(CONN, payload=1))
    assert failed
    assert "parameters are required together: payload, proxy_url" in result["msg"]


@pytest.mark.parametrize("option, variable, no_log", [
    ("hostname", "SDDC_MANAGER_HOST", False),
    ("port", "SDDC_MANAGER_PORT", False),
    ("username", "SDDC_MANAGER_USERNAME", False),
    ("password", "SDDC_MANAGER_PASSWORD", True),
    ("access_token", "SDDC_MANAGER_ACCESS_TOKEN", True),
    ("refresh_token", "SDDC_MANAGER_REFRESH_TOKEN", True),
    ("validate_certs", "SDDC_MANAGER_VALIDATE_CERTS", False),
    ("ca_path", "SDDC_MANAGER_CA_PATH", False),
])
def test_connection_options_fall_back_to_the_environment(option, variable, no_log):
    spec = connection_argument_spec()[option]
    assert spec["fallback"][1] == [variable]
    assert bool(spec.get("no_log")) is no_log


def test_connection_defaults():
    spec = connection_argument_spec()
    assert (spec["port"]["default"], spec["validate_certs"]["default"], spec["request_timeout"]["default"]) == (
        443, True, 60.0)
    assert "fallback" not in spec["proxy_url"]


def test_wait_argument_spec():
    assert wait_argument_spec() == {"wait_timeout": {"type": "int", "default": 1800},
                                    "wait_sleep": {"type": "int", "default": 10}}
    assert wait_argument_spec(60, 2)["wait_sleep"]["default"] == 2


def test_every_option_of_the_doc_fragment_is_in_the_spec():
    from ansible.module_utils.common.yaml import yaml_load

    from ansible_collections.vcf.sddc_manager.plugins.doc_fragments.connection import ModuleDocFragment

    documented = yaml_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = connection_argument_spec()
    assert set(documented) == set(spec)
    for name, doc in documented.items():
        assert doc["type"] == spec[name]["type"], name
        assert doc.get("default") == spec[name].get("default"), name
    assert _module.SddcManagerModule is SddcManagerModule


# --- refused arguments ------------------------------------------------------------------------------------------

def test_value_of_a_misspelled_password_option_is_not_returned(run_module):
    """``passwd`` is no option: Ansible refuses it and returns the arguments as given, so the value is hidden."""
    secret = "PLANTED-misspelled-7d1e"
    result, failed = run_module(module_running(lambda module: None), dict(CONN, passwd=secret))
    assert failed
    assert "Unsupported parameters" in result["msg"] and "passwd" in result["msg"]
    assert secret not in json.dumps(result)
    assert result["invocation"]["module_args"]["passwd"] == _module.UNSUPPORTED_VALUE


def test_hide_unsupported_walks_suboptions():
    spec = {"elements": {"type": "list", "options": {"credentials": {"type": "list", "options": {
        "username": {}, "password": {"no_log": True}}}}}, "task_id": {}}
    params = {"task_id": "t", "elements": [{"credentials": [{"username": "root", "pasword": "S3cret"}]}],
              "passwd": "S3cret", "elementz": [{"a": "S3cret"}]}
    hidden = _module.hide_unsupported(params, spec)
    assert "S3cret" not in json.dumps(hidden)
    assert hidden["elements"][0]["credentials"][0] == {"username": "root", "pasword": _module.UNSUPPORTED_VALUE}
    assert hidden["task_id"] == "t"
    assert params["passwd"] == "S3cret", "the arguments themselves are left alone"


def test_list_of_dicts_given_a_string_names_the_option(run_module):
    """ansible-core's first error here is "dictionary requested, ..." without the option's name."""

    def main():
        SddcManagerModule(argument_spec=dict(items=dict(type="list", elements="dict", options=dict(
            name=dict(type="str"), password=dict(type="str", no_log=True)))))

    result, failed = run_module(types.SimpleNamespace(main=main, __name__="dummy"), dict(CONN, items=["a-string"]))
    assert failed
    assert "'items'" in result["msg"] and "dict" in result["msg"]


def test_passwords_stay_masked_when_ansible_cannot_list_the_no_log_values(run_module):
    """A string where a list of dicts with no_log suboptions is expected makes ansible-core give up listing
    no_log values; the arguments it returns must still not show the password."""
    secret = "PLANTED-login-3b9f"

    def main():
        SddcManagerModule(argument_spec=dict(items=dict(type="list", elements="dict", options=dict(
            name=dict(type="str"), password=dict(type="str", no_log=True)))))

    result, failed = run_module(types.SimpleNamespace(main=main, __name__="dummy"),
                                {"hostname": "sddc.example.com", "username": "u", "password": secret,
                                 "items": ["a-string", {"name": "n", "password": secret + "-item"}]})
    assert failed
    assert secret not in json.dumps(result)


def test_no_log_values_of_tolerates_malformed_arguments():
    spec = {"password": {"no_log": True}, "items": {"options": {"password": {"no_log": True}}}}
    assert _module.no_log_values_of({"password": "p", "items": ["x", {"password": "q"}, None]}, spec) == {"p", "q"}
    assert _module.no_log_values_of({"password": None, "items": "oops"}, spec) == set()


def test_needed_no_log_values_keeps_every_value_that_occurs_in_the_result():
    values = {"s3cret", "0ld-Passw0rd", "4242", "absent-one", ""}
    result = {"msg": "the secret is s3cret", "port": 142420, "nested": [{"x": b"0ld-Passw0rd!"}], "ok": True}
    assert _module.needed_no_log_values(values, result) == {"s3cret", "0ld-Passw0rd", "4242", ""}
    # One that only occurs in another part (the arguments, a warning's text) is kept too.
    warning = types.SimpleNamespace(event=types.SimpleNamespace(msg="warned about absent-one"))
    assert "absent-one" in _module.needed_no_log_values(values, result, [warning])
    assert _module.needed_no_log_values(set(), result) == set()
    # A value that is a key of the result (remove_values masks keys too) is kept.
    assert _module.needed_no_log_values({"absent-one"}, {"by_password": {"absent-one": 1}}) == {"absent-one"}


def test_a_result_with_many_secrets_is_masked_as_before(run_module):
    """Hundreds of no_log values (one per password met in the answers): those the result holds are masked, whether
    whole or inside a string, in the result and in its arguments."""
    planted = ["PLANTED-%03d-pw" % i for i in range(300)]

    def main():
        module = SddcManagerModule(argument_spec=dict(name=dict(type="str")))
        module.no_log_values.update(planted)
        module.exit_json(changed=False, whole=planted[3], inside="before %s after" % planted[250],
                         number=12, items=[{"text": planted[0] + planted[1]}])

    result, failed = run_module(types.SimpleNamespace(main=main, __name__="dummy"), dict(CONN, name=planted[9]))
    assert not failed
    text = json.dumps(result)
    assert result["invocation"]["module_args"]["name"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert not any(secret in text for secret in planted)
    assert result["whole"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert result["inside"] == "before ******** after"
    assert result["items"] == [{"text": "****************"}]
    assert result["number"] == 12
