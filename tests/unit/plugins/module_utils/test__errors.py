"""Error wording (_errors.py): every failure becomes one sentence that says what to change."""

from __future__ import annotations

import pytest
import requests

from client_helpers import (
    TASK,
    TASK_ID,
    policy,
)

from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import SddcManagerError


# --- TLS --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_tls_errors_name_ca_path_and_validate_certs(rsps, make_client, fake_time, method):
    rsps.add(method, TASK, body=requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='sddc.example.com', port=443): Max retries exceeded (Caused by "
        "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "self-signed certificate in certificate chain (_ssl.c:1006)')))"))
    client = make_client(access_token="AT")
    with pytest.raises(SddcManagerError) as info:
        client.request(method, "/v1/credentials/tasks/" + TASK_ID)
    exc = info.value
    assert exc.kind == "tls"
    assert "ca_path" in exc.message and "validate_certs" in exc.message
    assert "certificate verify failed" in exc.message
    assert "HTTPSConnectionPool" not in exc.message
    assert len(rsps.calls) == 1
    assert fake_time.sleeps == []


def test_tls_reason_is_openssl_s_own_words(rsps, make_client):
    rsps.get(TASK, body=requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='sddc.example.com', port=443): Max retries exceeded (Caused by "
        "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "unable to get local issuer certificate (_ssl.c:1006)')))"))
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert "failed (certificate verify failed: unable to get local issuer certificate). Give the CA" in \
        info.value.message
    assert "_ssl.c" not in info.value.message and "CERTIFICATE_VERIFY_FAILED]" not in info.value.message


def test_certificate_for_another_name_says_to_fix_the_hostname(rsps, make_client):
    """The right CA, but the certificate does not name the host: ca_path would not help."""
    rsps.get(TASK, body=requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='sddc.example.com', port=443): Max retries exceeded (Caused by SSLError("
        "SSLCertVerificationError(1, \"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname "
        "mismatch, certificate is not valid for 'sddc.example.com'. (_ssl.c:1006)\")))"))
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    message = info.value.message
    assert "(certificate verify failed: Hostname mismatch, certificate is not valid for 'sddc.example.com')" in \
        message
    assert "The certificate does not name sddc.example.com. Set hostname to a name the certificate holds" in message
    assert "validate_certs: false" in message and "ca_path" not in message


# --- HTTP errors ------------------------------------------------------------------------------------

def test_403_names_the_role(rsps, make_client):
    # Only ADMIN may manage passwords in VCF; OPERATOR may not, so it must not be suggested.
    rsps.get(TASK, status=403, json={"message": "Access denied."})
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert "ADMIN role" in info.value.message and "OPERATOR" not in info.value.message
    assert "GET /v1/credentials/tasks/" in info.value.message


def test_full_error_object_becomes_one_sentence_and_snake_case_details(rsps, make_client, load_fixture):
    rsps.patch(TASK, status=400, json=load_fixture("error_full"))
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").retry_credentials_task(TASK_ID, {"operationType": "ROTATE", "elements": []})
    exc = info.value
    assert exc.message == (
        "SDDC Manager answered HTTP 400 Bad Request to PATCH /v1/credentials/tasks/%s: "
        "The credentials task cannot be retried [CREDENTIAL_TASK_NOT_RETRYABLE]; "
        "Resource esxi-01.example.com is locked by another task; "
        "cause: Task state is USER_CANCELLED. "
        "Remediation: Cancel the task and start a new password operation. "
        "(reference token REF-K3V8PZ)" % TASK_ID)
    assert "\n" not in exc.message
    assert exc.kind == "api"
    assert exc.details() == {
        "status_code": 400,
        "url": TASK,
        "error": {
            "error_code": "CREDENTIAL_TASK_NOT_RETRYABLE",
            "error_type": "VALIDATION",
            "arguments": ["1f6a3c2e"],
            "context": {"component": "operationsmanager"},
            "message": "The credentials task cannot be retried.",
            "remediation_message": "Cancel the task and start a new password operation.",
            "reference_token": "REF-K3V8PZ",
            "nested_errors": [{"error_code": "RESOURCE_LOCKED",
                               "message": "Resource esxi-01.example.com is locked by another task."}],
            "causes": [{"type": "java.lang.IllegalStateException", "message": "Task state is USER_CANCELLED."}],
        },
    }


@pytest.mark.parametrize("error, sentence", [
    ({"errorCode": "ONLY_CODE"}, "ONLY_CODE."),
    ({"errorCode": "SAME", "message": "SAME"}, "SAME."),
    ({"message": "No code here."}, "No code here."),
    ({}, "no message."),
    ({"message": "m", "nestedErrors": [{"errorCode": "N"}, "junk", {"message": "kept."}]}, "m; kept."),
    ({"message": "m", "cause": [{"message": "old spelling"}]}, "m; cause: old spelling."),
])
def test_error_sentence_variants(rsps, make_client, error, sentence):
    rsps.delete(TASK, status=409, json=error)
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").cancel_credentials_task(TASK_ID)
    assert info.value.message.endswith(": " + sentence)


def test_empty_details():
    assert SddcManagerError("m").details() == {}


@pytest.mark.parametrize("method", ["PATCH", "GET"])
def test_html_502_from_a_proxy(rsps, make_client, method):
    html = ("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
            "<hr><center>nginx</center></body></html>")
    rsps.add(method, TASK, status=502, body=html, content_type="text/html")
    with pytest.raises(SddcManagerError) as info:
        client = make_client(access_token="AT", retry_policy=policy(attempts=2))
        client.request(method, "/v1/credentials/tasks/" + TASK_ID)
    exc = info.value
    assert "HTTP 502" in exc.message
    assert "502 Bad Gateway (the body is not an SDDC Manager error; a proxy or load balancer may have answered)" \
        in exc.message
    assert "<" not in exc.message
    assert exc.status_code == 502
    assert exc.error == {"body": "502 Bad Gateway"}
    assert len(rsps.calls) == (1 if method == "PATCH" else 2)


def test_error_with_empty_body_uses_the_reason(rsps, make_client):
    rsps.delete(TASK, status=500, body="")
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").cancel_credentials_task(TASK_ID)
    assert "Internal Server Error (the body is not an SDDC Manager error" in info.value.message


def test_long_text_bodies_are_cut(rsps, make_client):
    rsps.delete(TASK, status=500, body="x" * 1000, content_type="text/plain")
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").cancel_credentials_task(TASK_ID)
    assert len(info.value.error["body"]) == 203
    assert info.value.error["body"].endswith("...")


def test_success_with_a_body_that_is_not_json(rsps, make_client):
    rsps.get(TASK, status=200, body="<html><title>Login</title></html>", content_type="text/html")
    with pytest.raises(SddcManagerError) as info:
        make_client(access_token="AT").get_credentials_task(TASK_ID)
    assert "not JSON: Login" in info.value.message
    assert info.value.status_code == 200
