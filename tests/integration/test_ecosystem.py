"""How users meet the collection outside a checkout: AWX (through ansible-runner) and a Galaxy tarball.

* AWX: the credential type shipped in extensions/awx/ is rendered the way AWX renders custom credential
  types, its environment variables are handed to ansible-runner (the engine AWX runs jobs with) together
  with the example job template project, and the role must succeed without any connection setting in
  extra vars, inventory or playbook - and without a password or token in the runner's artifacts.
* Galaxy: ``ansible-galaxy collection build`` on this work tree leaves out test outputs, virtual
  environments, caches and the simulator's generated keys (galaxy.yml build_ignore); the tarball installs
  into an empty collections path, and the collection's playbook runs from there.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
import yaml

import scenarios

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent
AWX = REPO / "extensions" / "awx"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
# Sensitive only where a secret can sit; bounded so one test cannot hang on a slow scan.
MAX_SCANNED_FILE = 64 * 1024 * 1024


class TokenSpy:
    """Records every access and refresh token the simulator hands out, so the tests can look for them."""

    def __init__(self, simulator):
        self.values = set()
        tokens = simulator.state.tokens
        issue, refresh = tokens.issue, tokens.refresh

        def spy_issue(*args, **kwargs):
            pair = issue(*args, **kwargs)
            self.values.update([pair["accessToken"], pair["refreshToken"]["id"]])
            return pair

        def spy_refresh(*args, **kwargs):
            access = refresh(*args, **kwargs)
            if access:
                self.values.add(access)
            return access

        tokens.issue, tokens.refresh = spy_issue, spy_refresh


def secret_hits(path, secrets):
    """``(file, secret)`` for every secret found in any file below ``path`` (text or binary)."""
    hits = []
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        data = file.read_bytes()[:MAX_SCANNED_FILE]
        for secret in secrets:
            if secret.encode() in data or json.dumps(secret)[1:-1].encode() in data:
                hits.append((str(file.relative_to(path)), secret[:12] + "..."))
        for match in JWT.finditer(data.decode("utf-8", "replace")):
            hits.append((str(file.relative_to(path)), "a JWT " + match.group(0)[:12] + "..."))
    return hits


# --- AWX ------------------------------------------------------------------------------------------------


def awx_inject(inputs, private_data_dir):
    """The environment AWX gives a job for one credential of the shipped custom credential type.

    Mirrors AWX's CredentialType.inject_credential: the credential's fields form the template namespace,
    missing boolean fields are False, each ``file`` injector is rendered into a file under
    ``<private_data_dir>/env`` (mode 0600) whose path is ``tower.filename.<name>``, and each ``env`` injector
    is rendered with the same sandboxed Jinja2 environment AWX uses.
    """
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    spec = yaml.safe_load((AWX / "credential_type_inputs.yml").read_text())
    injectors = yaml.safe_load((AWX / "credential_type_injectors.yml").read_text())
    assert set(injectors) <= {"env", "file", "extra_vars"}
    assert "extra_vars" not in injectors, "the connection must reach the job only as environment variables"
    fields = {f["id"]: f for f in spec["fields"]}
    assert set(spec["required"]) <= set(fields)
    missing = [name for name in spec["required"] if not inputs.get(name)]
    assert not missing, "AWX refuses a credential without %s" % missing
    unknown = set(inputs) - set(fields)
    assert not unknown, "not fields of the credential type: %s" % unknown
    secret_fields = {name for name, f in fields.items() if f.get("secret")}
    assert secret_fields == {"password"}, "the password is the one secret field (AWX encrypts it)"

    namespace = dict(inputs)
    for name, field in fields.items():
        if field["type"] == "boolean" and name not in namespace:
            namespace[name] = False
    sandbox = ImmutableSandboxedEnvironment()
    env_dir = Path(private_data_dir) / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    filenames = {}
    for label, template in (injectors.get("file") or {}).items():
        fd, path = tempfile.mkstemp(dir=str(env_dir))
        with os.fdopen(fd, "w") as handle:
            handle.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        filenames[label.split(".", 1)[1] if "." in label else ""] = path
    namespace["tower"] = namespace["awx"] = {"filename": filenames.get("") or filenames}
    return {name: sandbox.from_string(template).render(**namespace)
            for name, template in (injectors.get("env") or {}).items()}


def test_credential_type_defaults_are_safe(tmp_path):
    """Port and CA are optional, and TLS verification stays on unless the box is ticked."""
    env = awx_inject({"host": "sddc.example.com", "username": "u", "password": "p"}, tmp_path)
    assert env == {
        "SDDC_MANAGER_HOST": "sddc.example.com", "SDDC_MANAGER_PORT": "443", "SDDC_MANAGER_USERNAME": "u",
        "SDDC_MANAGER_PASSWORD": "p", "SDDC_MANAGER_CA_PATH": "", "SDDC_MANAGER_VALIDATE_CERTS": "true"}
    lab = awx_inject({"host": "h", "username": "u", "password": "p", "port": "8443", "skip_tls_verify": True},
                     tmp_path)
    assert lab["SDDC_MANAGER_PORT"] == "8443" and lab["SDDC_MANAGER_VALIDATE_CERTS"] == "false"


def test_role_runs_under_ansible_runner_with_the_awx_credential_only(tmp_path, target, simulator, monkeypatch):
    target.need_sim()
    target.load(scenarios.base(tasks=scenarios.failed_rotate_tasks(3, prefix="awx")))
    spy = TokenSpy(simulator)
    ansible_runner = pytest.importorskip("ansible_runner")

    # A job's private data folder: the project checked out, an inventory, the credential's files.
    private = tmp_path / "job"
    shutil.copytree(AWX / "project", private / "project")
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text("localhost\n")
    env = awx_inject({"host": target.hostname, "port": str(target.port), "username": target.username,
                      "password": target.password, "ca_cert": Path(target.ca_path).read_text()}, private)
    assert env["SDDC_MANAGER_CA_PATH"].startswith(str(private / "env"))
    assert Path(env["SDDC_MANAGER_CA_PATH"]).read_text() == Path(target.ca_path).read_text()

    # Nothing of the connection anywhere but in those variables; the collection comes from this checkout.
    for name in list(os.environ):
        if name.startswith(("SDDC_MANAGER_", "ANSIBLE_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    env.update({
        "PATH": "%s:%s" % (BIN, os.environ.get("PATH", "")),
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(private / "project" / "collections"),
                                                     str(REPO / "build" / "pyroot")]),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
    })
    report = private / "artifacts" / "job" / "report"
    extravars = {"retry_credentials_tasks_discover": True, "retry_credentials_tasks_wait_sleep": 1,
                 "retry_credentials_tasks_progress_interval": 2,
                 "retry_credentials_tasks_report_path": str(report)}
    assert not [k for k in extravars if k.endswith(("_hostname", "_port", "_username", "_password", "_ca_path",
                                                    "_validate_certs"))]

    # As AWX calls it: envvars with the credential, suppress_env_files (AWX_RUNNER_OMIT_ENV_FILES = True),
    # and at -vvv, where Ansible shows the most of each task.
    runner = ansible_runner.run(private_data_dir=str(private), ident="job", playbook="retry_credentials.yml",
                                envvars=env, extravars=extravars, suppress_env_files=True, verbosity=3,
                                quiet=True, timeout=240)
    stdout = runner.stdout.read()
    assert (runner.status, runner.rc) == ("successful", 0), stdout[-4000:]

    # It did the job: one login, every task retried and waited for, the session revoked.
    counters = target.counters()
    assert counters["logins"] == 1
    assert counters["retries_by_task"] == {"awx-000": 1, "awx-001": 1, "awx-002": 1}
    summary = json.loads((report / "credentials-tasks-localhost.json").read_text())
    assert sorted(summary["succeeded"]) == ["awx-000", "awx-001", "awx-002"] and summary["problems"] == []
    assert spy.values, "the simulator issued no token: the spy saw nothing"

    # No secret in the artifacts: stdout, job events, status, the report - at -vvv.
    secrets = scenarios.all_planted() | {target.password} | spy.values
    assert target.password in scenarios.all_planted()
    artifacts = private / "artifacts"
    # ansible-runner writes the environment it was given into artifacts/<ident>/command, always (runner.py,
    # Runner.run), for any job: the credential's password is there because the credential put it into the
    # environment. AWX deletes the private data folder after the job (AWX_CLEANUP_PATHS). Check that it is
    # only there, as the injected variable, and not in the command line itself.
    command_file = artifacts / "job" / "command"
    command = json.loads(command_file.read_text())
    assert not [s for s in secrets if s in json.dumps(command["command"])]
    leaked = {k for k, v in command["env"].items() if any(s in v for s in secrets)}
    assert leaked <= {"SDDC_MANAGER_PASSWORD"}, leaked
    command_file.unlink()
    assert not list(private.glob("env/envvars")) and not list(private.glob("env/extravars"))
    assert secret_hits(artifacts, secrets) == []
    assert secret_hits(private / "project", secrets) == []
    assert not [s for s in secrets if s in stdout]
    assert not JWT.search(stdout)
    # The CA certificate the credential wrote is public data; it is the only file AWX put in env/.
    assert [p.name for p in (private / "env").iterdir()] == [Path(env["SDDC_MANAGER_CA_PATH"]).name]


# --- Galaxy ---------------------------------------------------------------------------------------------

# Made in the work tree before the build (when absent) and removed after: the build must leave them out.
DECOYS = [
    "tests/output/ecosystem-decoy.txt",
    "tests/simulator/certs/ecosystem-decoy-ca.key",
    ".venv-ecosystem-decoy/bin/python",
    "build/ecosystem-decoy.txt",
    ".hypothesis/ecosystem-decoy",
    ".pytest_cache/ecosystem-decoy",
    "plugins/modules/__pycache__/ecosystem_decoy.cpython-311.pyc",
    ".ansible/ecosystem-decoy",
]
FORBIDDEN = re.compile(r"(^|/)(\.venv[^/]*|__pycache__|\.pytest_cache|\.hypothesis|\.benchmarks|\.ansible|\.git|"
                       r"\.ci|build)(/|$)|^tests/output(/|$)|^tests/simulator/certs(/|$)|\.pyc$|\.tar\.gz$|"
                       r"ecosystem-decoy|ecosystem_decoy")


def plant_decoys():
    """Create the decoys that do not exist yet; return them with the folders made for them."""
    made = []
    for rel in DECOYS:
        path = REPO / rel
        if path.exists():
            continue
        parents = [p for p in reversed(path.parents) if REPO in p.parents and not p.exists()]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("decoy: must not be in the collection tarball\n")
        made.append((path, parents))
    return made


def remove_decoys(made):
    for path, parents in made:
        path.unlink(missing_ok=True)
        for parent in reversed(parents):
            try:
                parent.rmdir()
            except OSError:
                pass


def galaxy_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDDC_MANAGER_", "ANSIBLE_"))}
    env.pop("PYTHONPATH", None)
    env.update({"PATH": "%s:%s" % (BIN, env.get("PATH", "")), "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
                "ANSIBLE_NOCOLOR": "1"})
    return env


def test_galaxy_tarball_is_clean_installs_and_runs_the_playbook(tmp_path, ansible, target):
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    env = galaxy_env(tmp_path)
    made = plant_decoys()
    try:
        build = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path",
                                str(tmp_path / "dist"), str(REPO)], env=env, capture_output=True, text=True,
                               timeout=120, check=False)
    finally:
        remove_decoys(made)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = tmp_path / "dist" / ("vcf-sddc_manager-%s.tar.gz" % version)
    with tarfile.open(tarball) as tar:
        names = [m.name.rstrip("/") for m in tar.getmembers()]
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    unwanted = sorted(n for n in names if FORBIDDEN.search(n))
    assert unwanted == [], unwanted
    for needed in ["MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml", "meta/execution-environment.yml",
                   "requirements.txt", "plugins/modules/credentials_task_retry.py", "plugins/filter/retry_report.py",
                   "roles/retry_credentials_tasks/tasks/main.yml", "playbooks/retry_failed_credentials.yml",
                   "docs/docsite/extra-docs.yml", "changelogs/changelog.yaml",
                   "extensions/awx/credential_type_inputs.yml", "extensions/awx/credential_type_injectors.yml"]:
        assert needed in names, "%s is missing from the tarball" % needed
    assert manifest["collection_info"]["version"] == version

    # Install into an empty collections path, offline, as a user would from the downloaded tarball.
    collections = tmp_path / "collections"
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p",
                              str(collections), str(tarball)], env=dict(env, ANSIBLE_COLLECTIONS_PATH=str(collections)),
                             capture_output=True, text=True, timeout=120, check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = collections / "ansible_collections" / "vcf" / "sddc_manager"
    assert installed.is_dir() and not installed.is_symlink()
    assert json.loads((installed / "MANIFEST.json").read_text())["collection_info"]["version"] == version

    # The collection playbook, from the installed copy only: no checkout on any path Ansible searches.
    target.load(scenarios.base(tasks=scenarios.failed_rotate_tasks(2, prefix="galaxy")))
    (tmp_path / "run").mkdir()
    from_tarball = type(ansible)(tmp_path / "run", str(collections))  # the harness, another collections path
    empty_roles = tmp_path / "no-roles"
    empty_roles.mkdir()
    report = tmp_path / "report"
    run = from_tarball.playbook(
        "vcf.sddc_manager.retry_failed_credentials", target=target, connection_env=True,
        extra_vars={"retry_credentials_tasks_wait_sleep": 1, "retry_credentials_tasks_report_path": str(report)},
        env={"ANSIBLE_ROLES_PATH": str(empty_roles), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False"}, verbosity=1)
    assert run.rc == 0, run
    assert str(REPO / "build" / "pyroot") not in run.output and str(REPO / "roles") not in run.output
    assert target.counters()["retries_by_task"] == {"galaxy-000": 1, "galaxy-001": 1}
    summary = json.loads((report / "credentials-tasks-localhost.json").read_text())
    assert sorted(summary["succeeded"]) == ["galaxy-000", "galaxy-001"]
