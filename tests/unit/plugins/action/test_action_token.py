"""The token action plugin: on a local connection with the controller's own Python, the login (or revoke) runs in
the controller with the module's checks, words and masking; anywhere else the module runs."""

import json
import os
import sys
from unittest import mock

import pytest

from ansible.plugins.action import ActionBase

from helpers import BASE, make_jwt

from ansible_collections.vcf.sddc_manager.plugins.action import token as plugin

PASSWORD = "PLANTED-token-action-pw-4e1c!"
LOGIN = {"hostname": "sddc.example.com", "username": "administrator@vsphere.local", "password": PASSWORD}
ACCESS = make_jwt(1800000000, iat=1799996400)
TOKENS = BASE + "/v1/tokens"
REVOKE = BASE + "/v1/tokens/refresh-token"


def token_pair(access, refresh):
    return {"accessToken": access, "refreshToken": {"id": refresh}}


def action(args, transport="local", interpreter=sys.executable, async_val=0, check_mode=False, environment=None):
    task = mock.MagicMock()
    task.args = args
    task.async_val = async_val
    task.action = "vcf.sddc_manager.token"
    connection = mock.MagicMock()
    connection.transport = transport
    connection.has_native_async = False
    connection._shell.tmpdir = None
    play_context = mock.MagicMock()
    play_context.check_mode = check_mode
    templar = mock.MagicMock()
    templar.template.side_effect = lambda value: value
    found = plugin.ActionModule(task, connection, play_context, mock.MagicMock(), templar, mock.MagicMock())
    found._execute_module = mock.MagicMock(return_value={"changed": False, "ran": "module"})
    found._remove_tmp_path = mock.MagicMock()
    found._compute_environment_string = lambda out=None: out.update(environment or {}) or ""
    task_vars = {"inventory_hostname": "localhost"}
    if interpreter:
        task_vars["ansible_python_interpreter"] = interpreter
    with mock.patch.object(ActionBase, "run", return_value={}):
        return found.run(task_vars=task_vars), found


def test_a_local_login_runs_here_and_returns_the_tokens(rsps):
    rsps.post(TOKENS, json=token_pair(ACCESS, "RT-action-1"))
    result, found = action(dict(LOGIN))
    found._execute_module.assert_not_called()
    assert result == {"changed": False, "access_token": ACCESS, "refresh_token": "RT-action-1",
                      "expires_at": "2027-01-15T08:00:00.000000Z"}
    assert json.loads(rsps.calls[0].request.body) == {"username": LOGIN["username"], "password": PASSWORD}


@pytest.mark.parametrize("where", [dict(transport="ssh"), dict(interpreter="/usr/bin/python3"),
                                   dict(interpreter=None), dict(async_val=30)],
                         ids=["another host", "another python", "python not known", "async"])
def test_anywhere_else_the_module_runs(rsps, where):
    result, found = action(dict(LOGIN), **where)
    assert result == {"changed": False, "ran": "module"} and len(rsps.calls) == 0
    found._execute_module.assert_called_once()


def test_the_tasks_environment_gives_the_fallbacks_and_is_undone(rsps, monkeypatch):
    monkeypatch.delenv("SDDC_MANAGER_HOST", raising=False)
    rsps.post(TOKENS, json=token_pair(ACCESS, "RT-action-2"))
    environment = {"SDDC_MANAGER_HOST": "sddc.example.com", "SDDC_MANAGER_USERNAME": LOGIN["username"],
                   "SDDC_MANAGER_PASSWORD": PASSWORD}
    result, _found = action({}, environment=environment)
    assert result["refresh_token"] == "RT-action-2"
    assert "SDDC_MANAGER_HOST" not in os.environ


def test_a_refused_login_is_the_modules_failure_without_the_password(rsps):
    rsps.post(TOKENS, status=401, json={"errorCode": "IDENTITY_UNAUTHORIZED_ENTITY",
                                        "message": "Unable to authenticate %s" % PASSWORD})
    result, _found = action(dict(LOGIN))
    assert result["failed"] is True and result["status_code"] == 401
    assert "refused the credentials" in result["msg"]
    assert PASSWORD not in json.dumps(result)


@pytest.mark.parametrize("args, words", [
    ({"hostname": "sddc.example.com", "username": "u"}, "parameters are required together: username, password"),
    (dict(LOGIN, bogus=1), "Unsupported parameters for (vcf.sddc_manager.token) module: bogus"),
    (dict(LOGIN, hostname="https://sddc.example.com"), "Invalid connection options"),
    ({"hostname": "sddc.example.com", "state": "absent"}, "state is absent but all of the following are missing: "
                                                          "refresh_token"),
])
def test_bad_options_fail_before_any_request_in_the_modules_words(rsps, args, words):
    result, _found = action(args)
    assert result["failed"] is True and words in result["msg"], result
    assert len(rsps.calls) == 0 and PASSWORD not in json.dumps(result)


def test_check_mode_logs_in_nowhere_and_absent_revokes(rsps):
    result, _found = action(dict(LOGIN), check_mode=True)
    assert result == {"changed": False, "msg": "Check mode: no login was made."} and len(rsps.calls) == 0
    rsps.delete(REVOKE, status=204)
    result, _found = action({"hostname": "sddc.example.com", "state": "absent", "refresh_token": "RT-old-1"})
    assert result == {"changed": True, "msg": "The refresh token was revoked."}
    assert len(rsps.calls) == 1


def test_validate_certs_false_warns_as_the_module_does(rsps):
    rsps.post(TOKENS, json=token_pair(ACCESS, "RT-action-3"))
    result, _found = action(dict(LOGIN, validate_certs=False))
    assert result["warnings"][0].startswith("validate_certs is false")
