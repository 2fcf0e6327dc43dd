"""TLS, through the real ansible-playbook and ansible: verification is on by default; a certificate the client
cannot verify fails with a sentence naming ca_path and validate_certs; ca_path makes it pass; validate_certs: false
works and warns once per module run."""

import json

import pytest

import scenarios
from conftest import Target, can_listen_on

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Retry
      vcf.sddc_manager.credentials_task_retry:
        hostname: "{{ sddc_hostname }}"
        port: "{{ sddc_port }}"
        username: "{{ sddc_username }}"
        password: "{{ sddc_password }}"
        task_id: rotate-failed
        wait: true
        wait_sleep: 1
%s
"""

WARNING = "validate_certs is false: the SDDC Manager certificate is not verified"


def play(**options):
    return PLAY % "\n".join("        %s: %s" % (key, json.dumps(value)) for key, value in options.items())


def connection(target):
    """The connection as play variables, without ca_path."""
    return {k: v for k, v in target.vars().items() if k != "sddc_ca_path"}


def one_sentence(run, message):
    assert "\n" not in message and "Traceback" not in run.output, message


@pytest.fixture(scope="module")
def untrusted(tmp_path_factory):
    """A second simulator whose certificate comes from another CA than its ``ca_path``."""
    from sddc_sim import Simulator

    with Simulator(scenarios.base(), certs_dir=str(tmp_path_factory.mktemp("untrusted-certs")),
                   untrusted_cert=True) as sim:
        yield sim


@pytest.fixture
def untrusted_target(untrusted, target):
    from sddc_sim.certs import make_untrusted_ca
    from sddc_sim.control import SimControl

    other = Target(untrusted)
    # The test itself talks to the simulator's control endpoints with the CA that did sign its certificate.
    other.ctl = SimControl(untrusted.url, make_untrusted_ca(untrusted.certs_dir).ca_path)
    other.load(scenarios.base())
    return other


def test_verification_is_on_by_default(ansible, target):
    """No ca_path: the system trust store, which does not hold the simulator's CA."""
    run = ansible.playbook(play(), target=target, extra_vars=connection(target))
    assert run.rc != 0
    message = run.result("Retry")["msg"]
    assert message.startswith("TLS verification of https://127.0.0.1:%d failed (certificate verify failed: "
                              % target.port)
    assert "in ca_path (SDDC_MANAGER_CA_PATH), or set validate_certs: false" in message
    one_sentence(run, message)
    assert target.counters()["total"] == 0  # no request got past the handshake


def test_a_certificate_from_another_ca_fails_naming_ca_path_and_validate_certs(ansible, untrusted_target):
    run = ansible.playbook(play(ca_path=untrusted_target.ca_path), target=untrusted_target)
    assert run.rc != 0
    message = run.result("Retry")["msg"]
    assert "certificate verify failed: unable to get local issuer certificate" in message
    assert "Give the CA certificate that signed the SDDC Manager certificate in ca_path" in message
    assert "validate_certs: false" in message
    one_sentence(run, message)
    assert untrusted_target.counters()["total"] == 0


def test_ca_path_makes_it_pass(ansible, target):
    run = ansible.playbook(play(ca_path=target.ca_path), target=target)
    assert run.rc == 0, run
    assert run.result("Retry")["status"] == "SUCCESSFUL"
    assert WARNING not in run.output


def test_ca_path_from_the_environment_makes_it_pass(ansible, target):
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_info", "task_id=rotate-failed", target=target)
    assert run.rc == 0, run
    without = ansible.adhoc("vcf.sddc_manager.credentials_task_info", "task_id=rotate-failed", target=target,
                            env={"SDDC_MANAGER_CA_PATH": ""})
    assert without.rc != 0 and "ca_path (SDDC_MANAGER_CA_PATH)" in without.output


def test_validate_certs_false_works_and_warns_once(ansible, untrusted_target):
    """Many requests (login, reads, retry, polls) to a server no CA given vouches for: one warning."""
    run = ansible.playbook(play(validate_certs=False), target=untrusted_target)
    assert run.rc == 0, run
    result = run.result("Retry")
    assert result["status"] == "SUCCESSFUL"
    assert untrusted_target.counters()["total"] >= 5
    assert run.output.count(WARNING) == 1, run.output
    assert "InsecureRequestWarning" not in run.output and "Unverified HTTPS request" not in run.output


def test_validate_certs_false_from_the_environment_warns_once(ansible, untrusted_target):
    run = ansible.adhoc("vcf.sddc_manager.credentials_task_info", "status=FAILED", target=untrusted_target,
                        env={"SDDC_MANAGER_VALIDATE_CERTS": "false", "SDDC_MANAGER_CA_PATH": "/nonexistent/ca.pem"})
    assert run.rc == 0, run
    assert run.output.count(WARNING) == 1, run.output
    assert "InsecureRequestWarning" not in run.output


@pytest.mark.skipif(not can_listen_on("127.0.0.2"), reason="127.0.0.2 is not a local address here")
def test_a_certificate_for_another_name_says_to_fix_hostname(ansible, tmp_path, target):
    """The right CA, but the certificate names 127.0.0.1, localhost and ::1, not 127.0.0.2."""
    from sddc_sim import Simulator

    with Simulator(scenarios.base(), certs_dir=str(tmp_path / "certs"), host="127.0.0.2") as sim:
        other = Target(sim)
        other.hostname = "127.0.0.2"
        run = ansible.playbook(play(ca_path=sim.ca_path), target=other)
    assert run.rc != 0
    message = run.result("Retry")["msg"]
    assert "certificate is not valid for '127.0.0.2'" in message
    assert "The certificate does not name 127.0.0.2. Set hostname to a name the certificate holds" in message
    assert "validate_certs: false" in message
    one_sentence(run, message)
