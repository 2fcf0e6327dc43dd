"""The event source's options: bad ones named before any request, the SDDC_MANAGER_* variables, a refused login,
and the plugin loaded the way ansible-rulebook loads it."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys

import pytest
import responses

from eda_source_harness import ARGS, HOST, PASSWORD, PLUGIN_PATH, FakeSddc, ids_of, run_source, source, task, ts

pytestmark = pytest.mark.usefixtures("no_real_sleep_in_client")


# --- options ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    ({"hostname": "https://sddc.example.com"}, ["hostname"]),
    ({"hostname": None}, ["hostname is required"]),
    ({"port": 0}, ["port"]),
    ({"interval": -1}, ["interval"]),
    ({"interval": "soon"}, ["interval must be a number"]),
    ({"password": None}, ["username and password go together"]),
    ({"statuses": ["RUNNING"]}, ["statuses: RUNNING"]),
    ({"statuses": []}, ["statuses is empty"]),
    ({"operation_types": ["DELETE"]}, ["operation_types: DELETE"]),
    ({"resource_types": ["ESX"]}, ["resource_types: 'ESX' is not a resource type", "did you mean ESXI?"]),
    ({"validate_certs": "maybe"}, ["validate_certs must be true or false"]),
    ({"ca_path": "/nonexistent/ca.pem"}, ["ca_path /nonexistent/ca.pem does not exist"]),
    ({"proxy_url": "proxy:3128"}, ["proxy_url"]),
    ({"max_auto_retries": -1}, ["max_auto_retries"]),
    ({"pasword": "PLANTED-typo-secret"}, ["unknown option(s) pasword"]),
])
def test_bad_options_are_named_before_any_request(args, words):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeSddc(rsps, [[]])
        with pytest.raises(ValueError) as caught:
            asyncio.run(source.main(asyncio.Queue(), dict(ARGS, **args)))
        assert len(rsps.calls) == 0 and fake.logins == 0
    message = str(caught.value)
    assert message.startswith("Invalid options of vcf.sddc_manager.credentials_tasks")
    for word in words:
        assert word in message
    assert "PLANTED" not in message


def test_connection_options_come_from_the_sddc_manager_variables(monkeypatch):
    monkeypatch.setenv("SDDC_MANAGER_HOST", HOST)
    monkeypatch.setenv("SDDC_MANAGER_USERNAME", "administrator@vsphere.local")
    monkeypatch.setenv("SDDC_MANAGER_PASSWORD", PASSWORD)
    monkeypatch.setenv("SDDC_MANAGER_PORT", "8443")
    monkeypatch.setenv("SDDC_MANAGER_VALIDATE_CERTS", "false")
    settings = source.Settings.from_args({"interval": 5})
    assert (settings.hostname, settings.port, settings.password, settings.validate_certs) == (HOST, 8443, PASSWORD,
                                                                                              False)
    assert source.Settings.from_args({"port": 443}).port == 443  # an option wins over the variable
    assert source.Settings.from_args({}).validate_certs is False
    monkeypatch.delenv("SDDC_MANAGER_VALIDATE_CERTS")
    assert source.Settings.from_args({}).validate_certs is True  # verified by default


def test_refused_login_on_the_first_poll_stops_the_source_with_the_reason():
    with pytest.raises(ValueError) as caught:
        run_source([[]], {"password": "PLANTED-wrong-password"})
    assert "check username and password" in str(caught.value)
    assert "PLANTED-wrong-password" not in str(caught.value)


def test_a_refused_login_later_is_an_outage_not_a_crash(caplog):
    caplog.set_level(logging.INFO, logger="vcf.sddc_manager.credentials_tasks")
    script = [[task("r", "IN_PROGRESS")], (403, {"errorCode": "Forbidden", "message": "role changed"}),
              (403, {"errorCode": "Forbidden", "message": "role changed"}), [task("r", "FAILED", ts())]]
    events, _fake = run_source(script)
    assert ids_of(events) == [("r", "FAILED", 1)]
    assert len([r for r in caplog.records if "did not answer" in r.getMessage()]) == 1


def test_the_plugin_imports_the_collection_itself_when_loaded_like_ansible_rulebook_does(tmp_path):
    """ansible-rulebook runs the file with runpy, without ``ansible_collections`` on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ANSIBLE_COLLECTIONS_PATH")}
    code = ("import runpy, sys; m = runpy.run_path(sys.argv[1]); "
            "import ansible_collections.vcf.sddc_manager.plugins.module_utils._client as c; "
            "print(callable(m['main']), c.__file__)")
    proc = subprocess.run([sys.executable, "-c", code, PLUGIN_PATH], env=env, cwd=str(tmp_path), capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("True ")
    assert os.path.join("build", "pyroot", "ansible_collections") in proc.stdout
