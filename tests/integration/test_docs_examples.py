"""The docs run: every example an admin can copy from the docs, run through the real ansible-playbook / ansible
against the simulator (HTTPS, the generated CA), as the other integration tests run.

Where the examples come from (``collect_examples``):

* ``README.md``, ``roles/retry_credentials_tasks/README.md``: fenced ``yaml`` blocks, and ``sh`` blocks;
* ``docs/docsite/rst/*.rst``: ``.. code-block:: yaml`` / ``yaml+jinja`` blocks, and ``console`` blocks (the
  lines after ``$``);
* ``plugins/modules/*.py``: the ``EXAMPLES = r\"\"\"...\"\"\"`` string, read with ``ast`` (the module is not
  imported), and the ``ansible`` commands in its comments.

A YAML example is a playbook (a list of plays), a list of tasks (wrapped into a play on ``localhost``), or a
mapping of play keywords such as ``module_defaults`` (wrapped into a play whose one task lists the FAILED tasks).
Commands are the ``ansible ...`` and ``ansible-playbook ...`` lines of those blocks. Each one is run by default,
against the scenario ``docs`` and with the adaptations below: an example added to the docs is run without any
change here, and fails this test until it passes or is classified in ``NOT_RUN`` with the reason. ``RUN`` gives
an example another scenario, its checks, the files it needs or a check-mode run; ``NEEDS_INPUT`` runs the
discovery examples once more against tasks that need a person's input, which must not stop the run.

How the examples are adapted, the only changes made to their text or their run (nothing else is touched):

1. **Connection.** The placeholder host names ``sddc-manager.example.com`` (and ``sddc-manager.<site>.example.com``
   in the fleet inventory) become ``127.0.0.1``, the name the simulator's certificate holds. The rest of the
   connection comes from the ``SDDC_MANAGER_*`` environment variables (port, CA, user, password), the way AWX
   injects them and the way the modules and the role fall back to them.
2. **Variables the docs leave to the reader** (a vault, the ids at hand) come as extra vars from ``READER_VARS``,
   each only to the examples that use it and do not set it themselves (a ``register:`` of the same name). A vars
   file shown with ``"..."`` values (a vault file) gets those values from ``READER_VARS``, is encrypted with
   ``ansible-vault`` and is put where its first comment says (else ``vault.yml``); ``--ask-vault-pass`` becomes
   ``--vault-password-file``.
3. **Shortened ids** in commands (``2d0f3c4e-...``) become the full id of the same example (``ELIDED_IDS``).

Waits of the examples (``wait_timeout: 1800``, ``progress_interval: 60``) are left as written: the tasks of the
scenarios end within seconds on the simulator's clock.
"""

import ast
import json
import os
import re
import shlex
import subprocess
import textwrap
import uuid

import pytest
import requests
import yaml

import scenarios
from conftest import BIN, REPO
from plays import patches

# --- where the examples are ---------------------------------------------------------------------------------------

YAML_LANGUAGES = {"yaml", "yaml+jinja", "yml"}
COMMAND_LANGUAGES = {"console", "sh", "shell", "bash"}
COMMAND = re.compile(r"^(ansible|ansible-playbook)\s")


class Example:
    """One example: ``kind`` is ``yaml`` or ``command``; ``ident`` names it in the tables below."""

    def __init__(self, ident, kind, path, line, text):
        self.ident, self.kind, self.path, self.line, self.text = ident, kind, path, line, text

    @property
    def where(self):
        return "%s:%d" % (self.path.relative_to(REPO), self.line)

    def __repr__(self):
        return "<%s %s>" % (self.ident, self.where)


def markdown_blocks(text):
    """(line, language, text) of each fenced block, indented ones (in lists) included."""
    for match in re.finditer(r"^( *)```([\w+-]*)[ \t]*\n(.*?)^\1```[ \t]*$", text, re.M | re.S):
        yield text.count("\n", 0, match.start()) + 2, match.group(2), textwrap.dedent(match.group(3)).strip("\n")


def rst_blocks(text):
    """(line, language, text) of each ``.. code-block::`` directive, nested ones included."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        directive = re.match(r"^(\s*)\.\. code-block::\s*(\S+)", lines[i])
        if not directive:
            i += 1
            continue
        indent = len(directive.group(1))
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or re.match(r"^\s+:[\w-]+:", lines[j])):
            j += 1
        start, body = j, []
        while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent):
            body.append(lines[j])
            j += 1
        yield start + 1, directive.group(2), textwrap.dedent("\n".join(body)).strip("\n")
        i = j


def module_examples(path):
    """(line, EXAMPLES) of a module file, read with ast: the module is not imported."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            return node.lineno + 1, node.value.value
    return None


def commands_in(text, prompt):
    """The ansible / ansible-playbook command lines of a shell text, continuation lines joined. ``prompt``: only
    lines after ``$ `` are commands (console blocks); ``#``: lines of comments (a module's EXAMPLES)."""
    found, pending = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if pending is not None:
            pending += " " + line.rstrip("\\").strip()
            if not line.endswith("\\"):
                found.append(pending)
                pending = None
            continue
        if prompt == "$":
            if not line.startswith("$ "):
                continue
            line = line[2:].strip()
        elif prompt == "#":
            if not line.startswith("#"):
                continue
            line = line.lstrip("#").strip()
        if COMMAND.match(line):
            if line.endswith("\\"):
                pending = line.rstrip("\\").strip()
            else:
                found.append(line)
    return found


def _short(path):
    rel = path.relative_to(REPO)
    if rel.parts[0] == "plugins":
        return "module_" + path.stem
    if rel.parts[0] == "roles":
        return "role_README"
    return path.stem if path.suffix == ".rst" else "README"


def collect_examples():
    sources = ([REPO / "README.md"] + sorted((REPO / "docs" / "docsite" / "rst").glob("*.rst"))
               + [REPO / "roles" / "retry_credentials_tasks" / "README.md"]
               + sorted((REPO / "plugins" / "modules").glob("*.py")))
    examples = []
    for path in sources:
        short, yamls, commands = _short(path), [], []
        if path.suffix == ".py":
            found = module_examples(path)
            if found:
                yamls.append(found)
                commands += [(found[0], c) for c in commands_in(found[1], "#")]
        else:
            text = path.read_text(encoding="utf-8")
            blocks = rst_blocks(text) if path.suffix == ".rst" else markdown_blocks(text)
            for line, language, body in blocks:
                if language in YAML_LANGUAGES:
                    yamls.append((line, body))
                elif language in COMMAND_LANGUAGES:
                    commands += [(line, c) for c in commands_in(body, "$" if language == "console" else None)]
        examples += [Example("%s:yaml%d" % (short, n), "yaml", path, line, body)
                     for n, (line, body) in enumerate(yamls, 1)]
        examples += [Example("%s:cmd%d" % (short, n), "command", path, line, body)
                     for n, (line, body) in enumerate(commands, 1)]
    return examples


EXAMPLES = collect_examples()
BY_ID = {e.ident: e for e in EXAMPLES}

# --- the simulator's SDDC Manager for the examples -----------------------------------------------------------------

# The task ids the docs use.
R1 = "2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"   # ROTATE (role README, modules' EXAMPLES)
R2 = "3e1a4d5f-6b7c-4d8e-9fa0-1b2c3d4e5f6a"   # ROTATE (bulk retry EXAMPLES)
R3 = "2d0f3c4e-4b7a-4f0e-9a51-0f3b1c2d4e5f"   # ROTATE (guide "Retrying")
U1 = "7a1e9b0c-1111-4c2d-9e3f-4a5b6c7d8e9f"   # UPDATE of root on vcenter-01.example.com (role README, bulk retry)
U2 = "7a1e9b0c-1d2e-4f3a-8b5c-6d7e8f9a0b1c"   # UPDATE of root and administrator@vsphere.local (guide "Retrying")
POLICY = "5f4e3d2c-2222-4b1a-8c9d-0e1f2a3b4c5d"   # UPDATE_AUTO_ROTATE_POLICY on an ESXi host
INCONSISTENT = "6c5b4a39-3333-4c2b-9d8e-1f2a3b4c5d6e"   # INCONSISTENT ROTATE on esxi-03 (scenario "operations")
ROTATIONS = [R1, R2, R3]
ELIDED_IDS = {"2d0f3c4e-...": R1, "7a1e9b0c-...": U1}

RUN_SECONDS = 1.5


def _credential(username, credential_type="SSH", account_type="USER", label=None):
    return {"credential_type": credential_type, "account_type": account_type, "username": username,
            "password": scenarios.planted(label or "docs-%s-old" % username.split("@")[0])}


def _resource(name, resource_type, *credentials):
    return {"name": name, "type": resource_type, "credentials": list(credentials or [_credential("root")])}


def _task(task_id, task_type, resource, status="FAILED", **extra):
    return dict({"id": task_id, "type": task_type, "status": status, "resources": [resource],
                 "run_seconds": RUN_SECONDS, "outcomes": ["SUCCESSFUL"]}, **extra)


def _rotations():
    return [_task(R1, "ROTATE", _resource("esxi-01.example.com", "ESXI")),
            _task(R2, "ROTATE", _resource("esxi-02.example.com", "ESXI")),
            _task(R3, "ROTATE", _resource("esxi-03.example.com", "ESXI")),
            _task("9b8a7c6d-0000-4e5f-8a9b-0c1d2e3f4a5b", "ROTATE", _resource("esxi-04.example.com", "ESXI"),
                  status="SUCCESSFUL")]


def _updates(u1_resource=None):
    return [_task(U1, "UPDATE", u1_resource or _resource("vcenter-01.example.com", "VCENTER")),
            _task(U2, "UPDATE", _resource("vcenter-1.rack.example.com", "VCENTER", _credential("root"),
                                          _credential("administrator@vsphere.local", "SSO", "SYSTEM")))]


def _running(task):
    return dict(task, status="IN_PROGRESS", run_seconds=3)


SCENARIOS = {
    # Three FAILED rotations on ESXi hosts, two FAILED updates on vCenters, one SUCCESSFUL rotation.
    "docs": lambda: _rotations() + _updates(),
    # The first playbook of README and the guide: two FAILED rotations to loop over (with wait_sleep's default of 10 s
    # each retry's wait takes 11 s), the FAILED updates it leaves alone.
    "first_playbook": lambda: [t for t in _rotations() if t["id"] != R3] + _updates(),
    # Only FAILED rotations (and a SUCCESSFUL one): what "retry every FAILED task" can retry without a password.
    "rotations": _rotations,
    # The UPDATE task U1 on the ESXi host esxi-01.example.com (the retry module's EXAMPLES).
    "update_on_esxi": lambda: _rotations() + _updates(_resource("esxi-01.example.com", "ESXI")),
    # R1 and U1 running (READER_VARS' retried_ids), R2 and R3 FAILED.
    "running": lambda: [_running(t) if t["id"] in (R1, U1) else t for t in _rotations() + _updates()],
    # "docs" and a FAILED auto-rotate policy update on an ESXi host (its retry needs auto_rotate_policy).
    "policy": lambda: _rotations() + _updates() + [_task(POLICY, "UPDATE_AUTO_ROTATE_POLICY",
                                                         _resource("esxi-05.example.com", "ESXI"))],
    # The credentials module's EXAMPLES and the guide's remediation: esxi-03 INCONSISTENT (its real root password is
    # READER_VARS' vault_esxi03_root_password), esxi-01, esxi-02 and vcenter-01 free of locks.
    "operations": lambda: [_task(INCONSISTENT, "ROTATE", _resource("esxi-03.example.com", "ESXI"),
                                 status="INCONSISTENT")],
}

# The accounts of the scenario "operations" (the scenario's resources key).
OPERATIONS_RESOURCES = [
    _resource("esxi-01.example.com", "ESXI"), _resource("esxi-02.example.com", "ESXI"),
    {"name": "esxi-03.example.com", "type": "ESXI", "credentials": [dict(
        _credential("root", label="docs-esxi03-held"), real_password=scenarios.planted("docs-esxi03-real"))]},
    _resource("vcenter-01.example.com", "VCENTER")]

# --- the variables the docs leave to the reader ---------------------------------------------------------------------


def _login(target):
    answer = requests.post("https://%s:%d/v1/tokens" % (target.hostname, target.port), verify=target.ca_path,
                           json={"username": target.username, "password": target.password}, timeout=30)
    answer.raise_for_status()
    body = answer.json()
    return {"access_token": body["accessToken"], "refresh_token": body["refreshToken"]["id"]}


def _elements(name, resource_type, *accounts):
    return [{"resource_name": name, "resource_type": resource_type, "credentials": [
        {"credential_type": kind, "username": user, "password": scenarios.planted("docs-%s-new" % kind)}
        for kind, user in accounts]}]


# name -> value, or a function of the target. Given only to the examples that use the name and do not register it.
READER_VARS = {
    "vault_sddc_password": lambda target: target.password,
    "vault_vcenter_root_password": scenarios.planted("docs-vcenter-root-new"),
    "vault_vcenter_sso_password": scenarios.planted("docs-vcenter-sso-new"),
    "vault_esxi01_root_password": scenarios.planted("docs-esxi01-root-new"),
    "vault_esxi03_root_password": scenarios.planted("docs-esxi03-real"),   # really set on esxi-03 ("operations")
    "vault_vcenter01_root_password": scenarios.planted("docs-vcenter01-root-new"),
    "sddc_login": _login,                       # what the token module's "Log in once" registers
    "failed_ids": [R1, R2],                     # guide "Waiting": ids found earlier
    "retried_ids": [R1, U1],                    # running in the scenario "running"
    "vcenter_update_elements": _elements("vcenter-1.rack.example.com", "VCENTER",
                                         ("SSH", "root"), ("SSO", "administrator@vsphere.local")),
}


def reader_vars(example_text, target, exclude=()):
    out = {}
    for name, value in READER_VARS.items():
        if name in exclude or not re.search(r"\b%s\b" % re.escape(name), example_text):
            continue
        if re.search(r"register:\s*%s\b" % re.escape(name), example_text):
            continue
        out[name] = value(target) if callable(value) else value
    return out


# --- checks ----------------------------------------------------------------------------------------------------------

def retried(*ids):
    """Each of ``ids`` retried once, and no other task."""
    def check(ctx):
        assert ctx.target.counters()["retries_by_task"] == dict.fromkeys(ids, 1), ctx.run
    check.__doc__ = "retries %s" % (", ".join(ids) or "nothing")
    return check


def nothing_sent(ctx):
    counters = ctx.target.counters()
    assert patches(counters) == 0 and counters["patches_accepted"] == 0, counters
    assert counters.get("deletes_accepted", 0) == 0, counters


def status_of(target, task_id):
    return next(t for t in target.ctl.tasks() if t["id"] == task_id)["status"]


def still_failed(task_id):
    def check(ctx):
        assert status_of(ctx.target, task_id) == "FAILED"
    return check


def loop_labels_are_ids(ctx):
    """Issue 21 item 7: each loop line names the task by its id, not by the whole task dict."""
    items = re.findall(r"^(?:ok|changed|failed): \[localhost\] => \(item=(.*?)\)", ctx.run.stdout, re.M)
    assert items, ctx.run.stdout
    assert all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in items), items


def check_mode_line(ids):
    """Issue 21 item 6: in check mode the role names the tasks it would retry, without -v."""
    def check(ctx):
        nothing_sent(ctx)
        lines = [line for line in ctx.run.stdout.splitlines() if "Check mode: would retry" in line]
        assert len(lines) == 1, ctx.run.stdout
        assert "would retry %d credentials task(s) on 127.0.0.1: " % len(ids) in lines[0], lines[0]
        assert all(i in lines[0] for i in ids) and "nothing was sent" in lines[0], lines[0]
    return check


def logged_in_once_and_revoked(ctx):
    counters = ctx.target.counters()
    assert counters["logins"] == 1 and counters["revocations"] == 1, counters


def report_written(ctx):
    assert ctx.target.counters()["retries_by_task"] == {R1: 1, R2: 1}
    summary = json.loads((ctx.workdir / "report" / "credentials-tasks-localhost.json").read_text())
    assert sorted(summary["succeeded"]) == sorted([R1, R2]), summary


def cancelled(ctx):
    assert ctx.target.counters()["deletes_accepted"] == 1 and status_of(ctx.target, R1) == "USER_CANCELLED"


def lists_failed_tasks(ctx):
    nothing_sent(ctx)
    assert all(i in ctx.run.stdout for i in ROTATIONS + [U1, U2]), ctx.run.stdout


def operations_started(count, consistent=()):
    """``count`` password operations started (PATCH /v1/credentials), and each resource of ``consistent`` repaired."""
    def check(ctx):
        counters = ctx.target.counters()
        assert counters["by_route"].get("PATCH /v1/credentials", 0) == count, counters
        assert counters["operations_accepted"] == count, counters
        for name in consistent:
            assert next(a for a in ctx.target.ctl.accounts() if a["resource_name"] == name)["consistent"], name
    check.__doc__ = "starts %d operation(s)" % count
    return check


def all_of(*checks):
    def check(ctx):
        for one in checks:
            one(ctx)
    return check


# --- what runs how ---------------------------------------------------------------------------------------------------
# Every table entry names a text the example must hold (``has``), so that an example moved in its document is not
# silently run with another example's settings.
#
# RUN: ident -> settings, all optional:
#   scenario    key of SCENARIOS (default "docs")
#   check       a function of the run's context, after rc == 0
#   check_mode  also run it with --check (and --diff) and apply this check to that run
#   files       {name: text} written next to the playbook
#   vars_from   ident of a YAML example of variables, given as extra vars (an AWX job template's variables)
#   inventory   ident of a YAML example of an inventory, used as the inventory
#   vault_from  ident of a vars example with "..." values: filled from READER_VARS, encrypted, put in place
#   playbook    for a command: ident of the YAML example it runs, written as the file the command names
#   extra_vars  extra vars the docs' run would not need, each with its reason in a comment
#   env_drop    SDDC_MANAGER_* variables left out of the environment, to show the example does not need them
#   forks       ansible-playbook --forks
RUN = {
    "README:yaml1": dict(has="Retry each failed ROTATE task and wait for it", scenario="first_playbook",
                         check=all_of(retried(R1, R2), loop_labels_are_ids)),
    "guide_authentication:yaml1": dict(has="module_defaults:"),
    "guide_authentication:yaml2": dict(has="Revoke the refresh token", check=logged_in_once_and_revoked),
    "guide_awx:yaml1": dict(has="ansible_python_interpreter", vars_from="guide_awx:yaml2", scenario="rotations",
                            check=retried(*ROTATIONS)),
    # Both inventory hosts (SDDC Managers) are the one simulator here, so they are worked on one after the other
    # (forks 1): the first retries the tasks, the second finds them done. Two clients retrying the same tasks at the
    # same moment is not what the example shows (two SDDC Managers, one client each).
    "guide_awx:yaml4": dict(has="hosts: sddc_managers", inventory="guide_awx:yaml3", vars_from="guide_awx:yaml2",
                            scenario="rotations", forks=1, check=retried(*ROTATIONS)),
    "guide_getting_started:yaml1": dict(has="Retry each failed ROTATE task and wait for it", scenario="first_playbook",
                                        check=all_of(retried(R1, R2), loop_labels_are_ids),
                                        check_mode=nothing_sent),
    "guide_retrying_tasks:yaml1": dict(has="Retry a failed rotation and wait for it", check=retried(R3)),
    "guide_retrying_tasks:yaml2": dict(has="Retry the vCenter password update", check=retried(U2)),
    "guide_retrying_tasks:yaml3": dict(has="Show the resources and accounts of the task", check=nothing_sent),
    "guide_retrying_tasks:yaml4": dict(has="Retry every failed ESXi rotation, and one vCenter update",
                                       check=retried(*ROTATIONS + [U2])),
    "guide_waiting:yaml1": dict(has="Wait for all of them together", check=retried(R1, R2)),
    "guide_waiting:yaml2": dict(has="Retry, with a short wait of its own", scenario="rotations",
                                check=retried(*ROTATIONS)),
    "guide_waiting:yaml3": dict(has="Wait at most two hours", scenario="running", check=nothing_sent),
    "role_README:yaml1": dict(has="- 2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", check=retried(R1)),
    "role_README:yaml2": dict(has="failed-task-ids.txt", files={"failed-task-ids.txt": "%s\n%s\n" % (R1, R2)},
                              # /var/tmp/chg0012345 of the example is outside the test's folder
                              extra_vars={"retry_credentials_tasks_report_path": "report"}, check=report_written),
    "role_README:yaml3": dict(has="retry_credentials_tasks_resource_types: [ESXI]", check=retried(*ROTATIONS),
                              check_mode=check_mode_line(ROTATIONS)),
    "role_README:yaml6": dict(has="retry_credentials_tasks_specs:", vault_from="role_README:yaml5",
                              check=retried(U1)),
    "role_README:yaml7": dict(has="retry_credentials_tasks_discover: true", scenario="rotations",
                              check=retried(*ROTATIONS)),
    "module_credentials_task_bulk_retry:yaml1": dict(has="Retry two ROTATE tasks and one UPDATE task",
                                                     check=retried(*ROTATIONS + [U1])),
    "module_credentials_task_cancel:yaml1": dict(has="Cancel a failed credentials task", check=cancelled),
    # Rotates esxi-01 and esxi-02, remediates esxi-03, updates vcenter-01: three operations.
    "module_credentials:yaml1": dict(has="Repair an INCONSISTENT account", scenario="operations",
                                     check=operations_started(3, consistent=["esxi-03.example.com"]),
                                     check_mode=all_of(nothing_sent, operations_started(0))),
    "guide_retrying_tasks:yaml5": dict(has="Tell SDDC Manager the root password really set on esxi-03",
                                       scenario="operations",
                                       check=operations_started(1, consistent=["esxi-03.example.com"]),
                                       check_mode=operations_started(0)),
    "module_credentials_task_info:yaml1": dict(has="Find every failed credentials task", check=nothing_sent),
    "module_credentials_task_retry:yaml1": dict(has="Retry a failed UPDATE task", scenario="update_on_esxi",
                                                check=retried(R1, U1)),
    "module_token:yaml1": dict(has="Revoke the refresh token", check=logged_in_once_and_revoked),
    # R2 and R3 are the FAILED tasks that "discover" finds; R1 and U1 (retried_ids) were running.
    "module_credentials_task_wait:yaml1": dict(has="Wait for the rest", scenario="running", check=retried(R2, R3)),
    # --- commands
    "guide_getting_started:cmd1": dict(has="credentials_task_info -a 'status=FAILED'", check=lists_failed_tasks),
    # The password comes from vault.yml only (vault_sddc_password): not from SDDC_MANAGER_PASSWORD.
    "guide_getting_started:cmd2": dict(has="-e @vault.yml --ask-vault-pass", scenario="rotations",
                                       vault_from="guide_getting_started:yaml2",
                                       env_drop=("SDDC_MANAGER_PASSWORD", "SDDC_MANAGER_USERNAME"),
                                       check=retried(*ROTATIONS)),
    "role_README:cmd1": dict(has="retry_credentials_tasks_ids=2d0f3c4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                             playbook="role_README:yaml4", check=retried(R1)),
    "role_README:cmd2": dict(has=",3e1a4d5f-6b7c-4d8e-9fa0-1b2c3d4e5f6a", playbook="role_README:yaml4",
                             check=retried(R1, R2)),
    "role_README:cmd3": dict(has='{"retry_credentials_tasks_ids": [', playbook="role_README:yaml4",
                             check=retried(R1)),
    "module_credentials_task_bulk_retry:cmd1": dict(has="discover=true --check", scenario="rotations",
                                                    check=nothing_sent),
    "module_credentials_task_cancel:cmd1": dict(has="--check --diff", check=all_of(nothing_sent, still_failed(R1))),
    "module_credentials_task_cancel:cmd2": dict(has="discover=true resource_types=ESXI' --check",
                                                check=all_of(nothing_sent, still_failed(R1))),
    "module_credentials_task_info:cmd1": dict(has="-a 'status=FAILED'", check=lists_failed_tasks),
    "module_credentials_task_retry:cmd1": dict(has="--check --diff", check=nothing_sent),
    "module_credentials_task_wait:cmd1": dict(has="wait_timeout=600", scenario="running", check=nothing_sent),
    "module_token:cmd1": dict(has="state=present"),
}

# Discovery examples, run once more against a scenario with FAILED tasks that need input (an UPDATE task needs its
# passwords, an UPDATE_AUTO_ROTATE_POLICY task its policy): the run retries the others and passes, and says what
# each of those tasks needs (issue 21 item 4; these runs failed the whole run before).
# ident -> dict(scenario, has, signature)
NEEDS_INPUT_SAYS = dict(scenario="policy", signature=r"is an? UPDATE(_AUTO_ROTATE_POLICY)? task: give")
NEEDS_INPUT = {
    "module_credentials_task_bulk_retry:yaml1": dict(NEEDS_INPUT_SAYS, has="resource_types: [ESXI]"),
    "guide_retrying_tasks:yaml4": dict(NEEDS_INPUT_SAYS, has="resource_types: [ESXI]"),
    "guide_awx:yaml1": dict(NEEDS_INPUT_SAYS, has="ansible_python_interpreter"),
    "role_README:yaml3": dict(NEEDS_INPUT_SAYS, has="retry_credentials_tasks_resource_types: [ESXI]"),
    "role_README:yaml7": dict(NEEDS_INPUT_SAYS, has="retry_credentials_tasks_discover: true"),
}


# Examples that are not run, with the reason. ident -> (has, reason)
NOT_RUN = {
    "guide_awx:yaml2": ("retry_credentials_tasks_resource_types: [ESXI]",
                        "a job template's variables, not a playbook: run as the extra vars of guide_awx:yaml1 and "
                        "guide_awx:yaml4"),
    "guide_awx:yaml3": ("sddc-manager.fra.example.com", "an inventory: run as the inventory of guide_awx:yaml4"),
    "guide_eda:yaml1": ("auto_retry:", "the shape of an event of the event source, not a playbook: test_eda.py "
                                       "runs the real event source"),
    "guide_getting_started:yaml2": ('vault_sddc_password: "..."',
                                    "the vault file of guide_getting_started:cmd2, which runs with it"),
    "role_README:yaml4": ("    - role: vcf.sddc_manager.retry_credentials_tasks",
                          "retry-ids.yml, the playbook of role_README:cmd1 to cmd3, which run it; alone it has "
                          "nothing to retry"),
    "role_README:yaml5": ("# group_vars/all/vault.yml", "the vault file of role_README:yaml6, which runs with it"),
}

# --- running an example ----------------------------------------------------------------------------------------------

HOST_PLACEHOLDER = re.compile(r"\bsddc-manager(?:\.[a-z0-9-]+)*\.example\.com\b")
PLAY_KEYWORDS = {"module_defaults", "environment", "vars", "collections", "become", "check_mode", "diff"}
VAULT_PASSWORD = "docs-run-vault-password"


def adapt(text):
    """Adaptation 1: the placeholder host becomes the simulator's."""
    return HOST_PLACEHOLDER.sub("127.0.0.1", text)


def as_playbook(example):
    """The example's text as a playbook (see the module docstring), or an AssertionError saying how to classify it."""
    text = adapt(example.text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AssertionError("%s (%s) is not valid YAML: %s" % (example.ident, example.where, exc)) from None
    if isinstance(data, list) and data and all(isinstance(i, dict) for i in data):
        if all("hosts" in i or "import_playbook" in i or "ansible.builtin.import_playbook" in i for i in data):
            return text
        header = "- name: Docs example %s\n  hosts: localhost\n  gather_facts: false\n  tasks:\n" % example.ident
        return header + textwrap.indent(text, "    ") + "\n"
    if isinstance(data, dict) and data and set(data) <= PLAY_KEYWORDS:
        return ("- name: Docs example %s\n  hosts: localhost\n  gather_facts: false\n" % example.ident
                + textwrap.indent(text, "  ") + "\n"
                + "  tasks:\n    - name: List the failed tasks with these play keywords\n"
                  "      vcf.sddc_manager.credentials_task_info:\n        status: [FAILED]\n")
    raise AssertionError(
        "%s (%s) is neither a playbook, a list of tasks nor play keywords: run it from another example (RUN) or "
        "list it in NOT_RUN with the reason" % (example.ident, example.where))


class Context:
    def __init__(self, run, target, workdir):
        self.run, self.target, self.workdir = run, target, workdir


def write_vault(example, workdir, target):
    """Adaptation 2 for vars files: "..." values from READER_VARS, encrypted, where the file's first comment says."""
    data = yaml.safe_load(example.text)
    values = {}
    for name, value in data.items():
        if value == "...":
            assert name in READER_VARS, "%s: no value for %s in READER_VARS" % (example.ident, name)
            value = READER_VARS[name]
            value = value(target) if callable(value) else value
        values[name] = value
    first = example.text.splitlines()[0]
    place = re.match(r"#\s*([\w./-]+\.ya?ml)", first)
    path = workdir / (place.group(1) if place else "vault.yml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(values))
    password_file = workdir / "vault-password.txt"
    password_file.write_text(VAULT_PASSWORD + "\n")
    proc = subprocess.run([str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file),
                           str(path)], capture_output=True, text=True, check=False, timeout=60,
                          env=dict(os.environ, ANSIBLE_HOME=str(workdir / "ansible-home")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert path.read_text().startswith("$ANSIBLE_VAULT"), path
    return path, password_file, set(values)


def run_example(example, settings, ansible, target, workdir, check_mode=False):
    """Run one example as the module docstring says; returns the Run."""
    env = {k: v for k, v in target.env().items() if k not in settings.get("env_drop", ())}
    base_env = ansible.base_env(env, connection_env=False)
    for name in settings.get("env_drop", ()):
        base_env.pop(name, None)
    for name, text in settings.get("files", {}).items():
        (workdir / name).write_text(text)
    vault_args, vault_names = [], set()
    if settings.get("vault_from"):
        _path, password_file, vault_names = write_vault(BY_ID[settings["vault_from"]], workdir, target)
        vault_args = ["--vault-password-file", str(password_file)]
    inventory = ansible.inventory
    if settings.get("inventory"):
        inventory = workdir / "inventory-example.yml"
        inventory.write_text(adapt(BY_ID[settings["inventory"]].text) + "\n")
    extra = {}
    if settings.get("vars_from"):
        extra.update(yaml.safe_load(adapt(BY_ID[settings["vars_from"]].text)))

    if example.kind == "command":
        text = adapt(example.text)
        for short, full in ELIDED_IDS.items():
            text = text.replace(short, full)
        argv = shlex.split(text, comments=True)
        if settings.get("playbook"):
            played = BY_ID[settings["playbook"]]
            name = next(a for a in argv[1:] if a.endswith((".yml", ".yaml")))
            (workdir / name).write_text(as_playbook(played))
        argv = ["--vault-password-file" if a == "--ask-vault-pass" else a for a in argv]
        if vault_args and "--vault-password-file" in argv:
            argv.insert(argv.index("--vault-password-file") + 1, vault_args[1])
        argv = [str(BIN / argv[0]), "-i", str(inventory)] + argv[1:]
        if check_mode:
            argv += ["--check", "--diff"]
        return ansible._run(argv, base_env, 300)

    playbook = workdir / ("example-%s.yml" % uuid.uuid4().hex[:8])
    playbook.write_text(as_playbook(example))
    extra.update(reader_vars(example.text, target, exclude=vault_names))
    extra.update(settings.get("extra_vars", {}))
    vars_file = workdir / "extra-vars.json"
    vars_file.write_text(json.dumps(extra))
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), "-e", "@%s" % vars_file] + vault_args
    if settings.get("forks"):
        argv += ["--forks", str(settings["forks"])]
    if check_mode:
        argv += ["--check", "--diff"]
    return ansible._run(argv, base_env, 300)


def no_password_in(run, target):
    values = target.passwords_held() | {target.password}
    values |= {v for v in READER_VARS.values() if isinstance(v, str)}
    shown = [v[:14] + "..." for v in values if v and v in run.output]
    assert not shown, "passwords in the output: %s" % shown


# --- the tests ------------------------------------------------------------------------------------------------------

def _params():
    params = []
    for example in EXAMPLES:
        if example.ident in NOT_RUN:
            params.append(pytest.param(example.ident, "skip", id=example.ident))
            continue
        settings = RUN.get(example.ident, {})
        params.append(pytest.param(example.ident, "run", id=example.ident))
        if settings.get("check_mode"):
            params.append(pytest.param(example.ident, "check", id=example.ident + "-check"))
        if example.ident in NEEDS_INPUT:
            params.append(pytest.param(example.ident, "needs_input",
                                       id="%s-%s" % (example.ident, NEEDS_INPUT[example.ident]["scenario"])))
    return params


@pytest.mark.parametrize("ident,mode", _params())
def test_docs_example(ident, mode, ansible, target, tmp_path):
    example = BY_ID[ident]
    if mode == "skip":
        pytest.skip("not run: %s" % NOT_RUN[ident][1])
    settings = RUN.get(ident, {})
    scenario = settings.get("scenario", "docs")
    if mode == "needs_input":
        scenario = NEEDS_INPUT[ident]["scenario"]
    target.load(scenarios.base(tasks=SCENARIOS[scenario](),
                               **({"resources": OPERATIONS_RESOURCES} if scenario == "operations" else {})))
    run = run_example(example, settings, ansible, target, tmp_path, check_mode=(mode == "check"))
    assert run.rc == 0, "%s (%s), scenario %s%s:\n%s\n%s" % (
        ident, example.where, scenario, " in check mode" if mode == "check" else "", example.text, run)
    no_password_in(run, target)
    if mode == "needs_input":
        assert re.search(NEEDS_INPUT[ident]["signature"], run.output), "%s: no word of what the task needs\n%s" % (
            ident, run)
        return
    check = settings.get("check_mode") if mode == "check" else settings.get("check")
    if check is not None:
        check(Context(run, target, tmp_path))


def test_every_table_entry_names_an_example_that_holds_its_text():
    """A table entry whose example moved or went away would run another example with the wrong settings."""
    problems = []
    for table, has in (("RUN", lambda v: v.get("has")), ("NOT_RUN", lambda v: v[0]), ("NEEDS_INPUT", lambda v: v["has"])):
        for ident, value in globals()[table].items():
            if ident not in BY_ID:
                problems.append("%s names %s, which the docs no longer have" % (table, ident))
            elif not has(value) or has(value) not in BY_ID[ident].text:
                problems.append("%s[%s]: %s does not hold %r" % (table, ident, BY_ID[ident].where, has(value)))
    for ident, settings in RUN.items():
        assert ident not in NOT_RUN, ident
        for key in ("vars_from", "inventory", "vault_from", "playbook"):
            if settings.get(key):
                assert settings[key] in BY_ID, "%s: %s %s is no example" % (ident, key, settings[key])
    assert not problems, "\n".join(problems)


def test_the_docs_have_the_examples_this_test_expects():
    """The extraction itself: every source is read, and what it finds is what the docs show."""
    by_source = {}
    for example in EXAMPLES:
        by_source.setdefault(example.ident.rsplit(":", 1)[0], []).append(example.ident)
    for module in ("token", "credentials_task_info", "credentials_task_retry", "credentials_task_cancel",
                   "credentials_task_bulk_retry", "credentials_task_wait"):
        assert "module_%s:yaml1" % module in BY_ID and "module_%s:cmd1" % module in BY_ID, module
    for guide in ("guide_getting_started", "guide_authentication", "guide_retrying_tasks", "guide_waiting",
                  "guide_awx", "guide_eda", "README", "role_README"):
        assert guide in by_source, guide
    assert len(EXAMPLES) >= 40, [e.ident for e in EXAMPLES]
    adhoc = [e for e in EXAMPLES if e.kind == "command" and e.text.startswith("ansible ")]
    assert all(" localhost -m vcf.sddc_manager." in e.text for e in adhoc), adhoc


@pytest.mark.parametrize("typed,expected", [
    ("retry_credentials_tasks_ids=%s" % R1, [R1]),
    # an AWX survey's text answer, or JSON after -e: a string, with spaces and an empty item
    ('{"retry_credentials_tasks_ids": " %s , ,%s, "}' % (R1, R2), [R1, R2]),
], ids=["one-id", "text-with-spaces-and-an-empty-item"])
def test_role_takes_ids_as_typed_after_dash_e(typed, expected, ansible, target, tmp_path):
    """Issue 21 item 2: a string is one id or ids separated by commas, never read letter by letter."""
    target.load(scenarios.base(tasks=SCENARIOS["docs"]()))
    playbook = tmp_path / "retry-ids.yml"
    playbook.write_text(as_playbook(BY_ID["role_README:yaml4"]))
    argv = [str(BIN / "ansible-playbook"), "-i", str(ansible.inventory), str(playbook), "-e", typed]
    run = ansible._run(argv, ansible.base_env(target=target), 300)
    assert run.rc == 0, run
    assert target.counters()["retries_by_task"] == dict.fromkeys(expected, 1)
    assert "No credentials task with id" not in run.output
