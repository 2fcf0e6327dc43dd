"""Connection options shared by every module (``_module.SddcManagerModule``): each bad value fails before any request."""

from __future__ import annotations

import pytest

from ansible_collections.vcf.sddc_manager.plugins.modules import (
    credentials_task_cancel,
    credentials_task_info,
    credentials_task_retry,
    credentials_task_wait,
    token,
)

BASE = "https://sddc.example.com:443"

# module, its own minimal arguments, the connection it authenticates with
MODULES = [
    pytest.param(token, {}, {"username": "admin@local", "password": "Pa55-conn"}, id="token"),
    pytest.param(credentials_task_info, {}, {"access_token": "AT-conn-77a1"}, id="info"),
    pytest.param(credentials_task_retry, {"task_id": "t-1"}, {"access_token": "AT-conn-77a1"}, id="retry"),
    pytest.param(credentials_task_cancel, {"task_id": "t-1"}, {"access_token": "AT-conn-77a1"}, id="cancel"),
    pytest.param(credentials_task_wait, {"task_ids": ["t-1"]}, {"access_token": "AT-conn-77a1"}, id="wait"),
]

PROBLEMS = [
    # (changed connection options, expected words in msg)
    ({"hostname": "https://sddc.example.com"}, "hostname must be a host name or IP address only, without scheme"),
    ({"hostname": "sddc.example.com/api"}, "without scheme or path"),
    ({"hostname": "bad_host.example.com"}, "is not a valid host name or IP address"),
    ({"hostname": ""}, "hostname is required"),
    ({"port": 0}, "port must be between 1 and 65535, got 0"),
    ({"port": 65536}, "port must be between 1 and 65535, got 65536"),
    ({"request_timeout": 0}, "request_timeout must be a positive number of seconds"),
    ({"request_timeout": -1.5}, "request_timeout must be a positive number of seconds, got -1.5"),
    ({"ca_path": "/nonexistent/sddc-ca.pem"}, "ca_path /nonexistent/sddc-ca.pem does not exist; give the PEM file"),
    ({"proxy_url": "proxy.example.com:3128"}, "proxy_url must be a URL such as http://proxy.example.com:3128"),
    ({"port": "not-a-number"}, "port"),
    ({"validate_certs": "maybe"}, "validate_certs"),
]


@pytest.mark.parametrize("module, own, auth", MODULES)
@pytest.mark.parametrize("change, words", PROBLEMS)
def test_bad_connection_option_fails_before_any_request(run_module, rsps, module, own, auth, change, words):
    args = dict({"hostname": "sddc.example.com"}, **auth)
    args.update(own)
    args.update(change)
    result, failed = run_module(module, args)
    assert failed, result
    assert words in result["msg"]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("module, own, auth", MODULES)
def test_every_connection_problem_is_reported_at_once(run_module, rsps, module, own, auth):
    args = dict({"hostname": "https://x", "port": 0, "request_timeout": 0, "proxy_url": "p:1"}, **auth)
    args.update(own)
    result, failed = run_module(module, args)
    assert failed
    assert result["msg"].startswith("Invalid connection options: ")
    for words in ("hostname must be", "port must be", "request_timeout must be", "proxy_url must be"):
        assert words in result["msg"]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("module, own, auth", MODULES)
def test_a_ca_bundle_that_is_not_pem(run_module, rsps, tmp_path, module, own, auth):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN NONSENSE-----\n")
    result, failed = run_module(module, dict({"hostname": "sddc.example.com", "ca_path": str(bundle)}, **auth,
                                             **own))
    assert failed
    assert "holds no usable PEM CA certificate" in result["msg"]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("module, own, auth", MODULES)
def test_hostname_is_required(run_module, rsps, module, own, auth):
    result, failed = run_module(module, dict(auth, **own))
    assert failed
    assert "hostname" in result["msg"]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("module, own, auth", MODULES)
def test_username_needs_password(run_module, rsps, module, own, auth):
    result, failed = run_module(module, dict({"hostname": "sddc.example.com", "username": "admin@local"}, **own))
    assert failed
    assert "username" in result["msg"] and "password" in result["msg"]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("module, own", [(m.values[0], m.values[1]) for m in MODULES[1:]],
                         ids=[m.id for m in MODULES[1:]])
def test_some_credentials_are_required(run_module, rsps, module, own):
    result, failed = run_module(module, dict({"hostname": "sddc.example.com"}, **own))
    assert failed
    assert "one of the following is required: username, access_token" in result["msg"]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("module, own", [(m.values[0], m.values[1]) for m in MODULES[1:]],
                         ids=[m.id for m in MODULES[1:]])
def test_connection_secrets_never_come_back(run_module, rsps, module, own):
    args = dict({"hostname": "https://x", "access_token": "AT-secret-4d2c", "refresh_token": "RT-secret-4d2c",
                 "password": "PW-secret-4d2c", "username": "u"}, **own)
    result, _failed = run_module(module, args)
    text = str(result)
    for secret in ("AT-secret-4d2c", "RT-secret-4d2c", "PW-secret-4d2c"):
        assert secret not in text


@pytest.mark.parametrize("module, own, auth", MODULES)
def test_missing_requests_library_is_reported(run_module, rsps, monkeypatch, module, own, auth):
    from ansible_collections.vcf.sddc_manager.plugins.module_utils import _client

    monkeypatch.setattr(_client, "HAS_REQUESTS", False)
    monkeypatch.setattr(_client, "REQUESTS_IMPORT_ERROR", "Traceback: No module named 'requests'")
    result, failed = run_module(module, dict({"hostname": "sddc.example.com"}, **auth, **own))
    assert failed
    assert "requests" in result["msg"]
    assert len(rsps.calls) == 0


def test_validate_certs_false_warns_and_skips_the_ca_check(run_module, rsps):
    rsps.get(BASE + "/v1/credentials/tasks", json={"elements": []})
    result, failed = run_module(credentials_task_info, {"hostname": "sddc.example.com", "access_token": "AT",
                                                        "validate_certs": False, "ca_path": "/nonexistent/ca.pem"})
    assert not failed, result
    assert any("validate_certs is false" in w for w in result["warnings"])
    assert len(rsps.calls) == 1


def test_ipv6_literal_hostname(run_module, rsps):
    rsps.get("https://[fd00::5]:443/v1/credentials/tasks", json={"elements": []})
    result, failed = run_module(credentials_task_info, {"hostname": "fd00::5", "access_token": "AT"})
    assert not failed, result
    assert len(rsps.calls) == 1


def test_hostname_with_a_port_is_refused_before_any_request(run_module, rsps):
    """``host:port`` is not an IPv6 literal; the port goes in ``port``."""
    result, failed = run_module(credentials_task_info, {"hostname": "sddc.example.com:8443", "access_token": "AT"})
    assert failed
    assert "Invalid connection options" in result["msg"]
    assert len(rsps.calls) == 0
