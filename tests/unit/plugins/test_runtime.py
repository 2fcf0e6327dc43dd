"""meta/runtime.yml agrees with the modules that plugins/modules holds."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]


def _runtime():
    with open(REPO / "meta" / "runtime.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_requires_ansible():
    assert _runtime()["requires_ansible"].startswith(">=")


def test_action_group_lists_every_module():
    group = _runtime()["action_groups"]["sddc_manager"]
    assert isinstance(group, list)
    assert len(group) == len(set(group)), "duplicates in action_groups.sddc_manager"
    modules = {p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.name != "__init__.py"}
    assert set(group) == modules
