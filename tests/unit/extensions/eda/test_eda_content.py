"""The EDA files that ship with the collection hold together: rulebooks valid for ansible-rulebook, both rulebooks
with the same source and guardrails, every playbook they name present, the decision environment complete, and
the EDA controller credential type injecting what the event source reads."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
EDA = REPO / "extensions" / "eda"
LOCAL = EDA / "rulebooks" / "retry_failed_rotations.yml"
CONTROLLER = EDA / "rulebooks" / "retry_failed_rotations_controller.yml"
SOURCE = "vcf.sddc_manager.credentials_tasks"


def load(path):
    return yaml.safe_load(path.read_text())


def actions(rulebook):
    return [(rule["name"], rule["condition"], next(iter(rule["action"].items()))) for rule in rulebook[0]["rules"]]


@pytest.mark.parametrize("path", [LOCAL, CONTROLLER], ids=["local", "controller"])
def test_rulebook_is_valid_for_ansible_rulebook(path, monkeypatch):
    pytest.importorskip("ansible_rulebook", reason="ansible-rulebook comes from tests/requirements.txt (make venv)")
    from ansible_rulebook.conf import settings
    from ansible_rulebook.rules_parser import parse_rule_sets
    from ansible_rulebook.validators import Validate

    # ansible-rulebook looks the source's collection up with ansible-galaxy: this checkout, through build/pyroot.
    monkeypatch.setattr(settings, "ansible_galaxy_path", str(Path(sys.executable).parent / "ansible-galaxy"))
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", next(p for p in sys.path if p.endswith("pyroot")))

    data = load(path)
    Validate.rulebook(data)
    rulesets = parse_rule_sets(data, {})  # parses every condition
    assert [s.name for s in rulesets] == [data[0]["name"]]
    assert rulesets[0].sources[0].source_name == SOURCE


def test_both_rulebooks_watch_the_same_way_and_apply_the_same_guardrails():
    local, controller = load(LOCAL), load(CONTROLLER)
    assert local[0]["sources"] == controller[0]["sources"]
    assert local[0]["execution_strategy"] == controller[0]["execution_strategy"] == "parallel"
    assert [(n, c) for n, c, _a in actions(local)] == [(n, c) for n, c, _a in actions(controller)]
    retry_local, retry_controller = actions(local)[0][2][1], actions(controller)[0][2][1]
    # One retry of one task at a time: the lock names the SDDC Manager and the task.
    assert retry_local["lock"] == retry_controller["lock"] == \
        "{{ event.credentials_task.sddc_manager }}/{{ event.credentials_task.id }}"
    assert [a[0] for _n, _c, a in actions(controller)] == ["run_job_template"] * 3


def test_the_guardrail_defaults_are_safe():
    args = load(LOCAL)[0]["sources"][0][SOURCE]
    assert args["max_auto_retries"] == "{{ sddc_manager_eda_max_retries | default(2) }}"
    assert args["retry_window"] == "{{ sddc_manager_eda_retry_window | default(86400) }}"
    assert args["emit_existing"] == "{{ sddc_manager_eda_emit_existing | default(false) }}"
    retry_condition = actions(load(LOCAL))[0][1]
    for part in ('retryable == true', 'type == "ROTATE"', "auto_retry.allowed == true"):
        assert part in retry_condition


def test_every_playbook_named_exists():
    for _name, _condition, (kind, args) in actions(load(LOCAL)):
        assert kind == "run_playbook"
        namespace, collection, playbook = args["name"].split(".")
        assert (namespace, collection) == ("vcf", "sddc_manager")
        assert (REPO / "playbooks" / (playbook + ".yml")).is_file()
    for path in (EDA / "playbooks").glob("*.yml"):
        imported = load(path)[0]["ansible.builtin.import_playbook"]
        assert (REPO / "playbooks" / (imported.split(".")[-1] + ".yml")).is_file(), path


def test_the_source_plugin_is_where_ansible_rulebook_looks():
    assert (EDA / "plugins" / "event_source" / "credentials_tasks.py").is_file()


def test_decision_environment_has_ansible_rulebook_java_and_the_collection():
    de = load(EDA / "decision-environment.yml")
    assert de["version"] == 3
    deps = de["dependencies"]
    assert any(p.startswith("ansible-rulebook") for p in deps["python"])
    assert any(s.startswith("java-17-openjdk") for s in deps["system"])
    assert deps["ansible_core"]["package_pip"].startswith("ansible-core")
    assert deps["galaxy"]["collections"][0]["name"].endswith("vcf-sddc_manager.tar.gz")
    src = de["additional_build_files"][0]["src"]
    assert (EDA / src).resolve() == REPO / "build" / "ee" / "vcf-sddc_manager.tar.gz"


def test_controller_credential_injects_what_the_source_reads():
    spec = importlib.util.spec_from_file_location(
        "eda_source_for_content", EDA / "plugins" / "event_source" / "credentials_tasks.py")
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    injected = set(load(EDA / "credential_type_injectors.yml")["env"])
    # The read retry budget is a tuning knob of the source, not part of the credential.
    read = set(plugin.ENVIRONMENT.values()) - {"SDDC_MANAGER_ACCESS_TOKEN", "SDDC_MANAGER_REFRESH_TOKEN",
                                               "SDDC_MANAGER_READ_RETRY_BUDGET"}
    assert injected == read
    inputs = {f["id"] for f in load(REPO / "extensions" / "awx" / "credential_type_inputs.yml")["fields"]}
    assert {"host", "port", "username", "password", "ca_cert", "skip_tls_verify"} <= inputs
