"""No password or token ever shows: modules, the role and ad-hoc commands at -vvvv, in check and diff mode, on
success and on every failure path.

Planted: unique passwords in the scenario (the simulator's resource credentials, hence every oldPassword and
newPassword it returns), in the retry specs, in the login and in wrong logins, and tokens the test obtained itself
and hands to the modules. Searched: stdout, stderr, Ansible's log file, every task result as callbacks see it, the
registered results (written to a file by the play), the role's report and the simulator's request log. Searched
for: every planted value, every password the simulator holds after the run (rotations made new ones), every id the
simulator's token store drew (refresh tokens, JWT ids), and anything shaped like a JWT.
"""

import json
import re

import pytest
import requests

import scenarios

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
SEED = scenarios.base()["seed"]

NEW = {name: scenarios.planted("secret-" + name) for name in (
    "vc-root-new", "vc-sso-new", "nsx-new", "wrong-login", "bulk-root-new", "bulk-sso-new", "typo", "in-string")}

CONNECTION = """
      hostname: "{{ sddc_hostname }}"
      port: "{{ sddc_port }}"
      username: "{{ sddc_username }}"
      password: "{{ sddc_password }}"
      ca_path: "{{ sddc_ca_path }}"
"""

HEADER = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/vcf.sddc_manager.sddc_manager:%s
  vars:
    vc_elements:
      - resource_name: vcenter-1.rack.example.com
        resource_type: VCENTER
        credentials:
          - {credential_type: SSH, username: root, password: "{{ new['vc-root-new'] }}"}
          - {credential_type: SSO, username: administrator@vsphere.local, password: "{{ new['vc-sso-new'] }}"}
    nsx_elements:
      - resource_name: nsx-1.rack.example.com
        resource_type: NSXT_MANAGER
        credentials: [{credential_type: API, username: admin, password: "{{ new['nsx-new'] }}"}]
  tasks:
""" % CONNECTION.replace("\n      ", "\n      ")

DUMP = """
    - name: Keep what was registered
      ansible.builtin.copy:
        content: "{{ registered | to_nice_json }}"
        dest: "{{ registered_file }}"
        mode: "0600"
      check_mode: false
      vars:
        registered: {%s}
"""

SUCCESS_TASKS = """
    - name: List every task
      vcf.sddc_manager.credentials_task_info:
      register: r_info
    - name: Retry a ROTATE task and wait
      vcf.sddc_manager.credentials_task_retry:
        task_id: rotate-failed
        wait: true
        wait_sleep: 1
      register: r_rotate
    - name: Retry an UPDATE task with new passwords and wait
      vcf.sddc_manager.credentials_task_retry:
        task_id: update-failed
        operation_type: UPDATE
        elements: "{{ vc_elements }}"
        wait: true
        wait_sleep: 1
      register: r_update
    - name: Retry a REMEDIATE task
      vcf.sddc_manager.credentials_task_retry:
        task_id: remediate-failed
        operation_type: REMEDIATE
        elements: "{{ nsx_elements }}"
      register: r_remediate
    - name: Wait for it
      vcf.sddc_manager.credentials_task_wait:
        task_ids: [remediate-failed, rotate-failed, update-failed]
        wait_sleep: 1
        fail_on_failure: false  # in check mode nothing was retried: they are still FAILED
      register: r_wait
    - name: Read the tasks again, passwords rotated meanwhile
      vcf.sddc_manager.credentials_task_info:
        status: [SUCCESSFUL, FAILED]
      register: r_after
    - name: Work with planted tokens only
      vcf.sddc_manager.credentials_task_info:
        task_id: rotate-fails-again
        username: "{{ omit }}"
        password: "{{ omit }}"
        access_token: "{{ planted_access_token }}"
        refresh_token: "{{ planted_refresh_token }}"
      register: r_tokens
    - name: Bulk retry with passwords and discovery
      vcf.sddc_manager.credentials_task_bulk_retry:
        discover: true
        tasks:
          - task_id: update-failed
            operation_type: UPDATE
            elements:
              - resource_name: vcenter-1.rack.example.com
                resource_type: VCENTER
                credentials:
                  - {credential_type: SSH, username: root, password: "{{ new['bulk-root-new'] }}"}
                  - {credential_type: SSO, username: administrator@vsphere.local, password: "{{ new['bulk-sso-new'] }}"}
        wait: true
        wait_sleep: 1
        wait_timeout: 5  # discovery also watches the task that runs forever here
        fail_on_failure: false
      register: r_bulk
    - name: Cancel the task that failed again
      vcf.sddc_manager.credentials_task_cancel:
        task_id: rotate-fails-again
      register: r_cancel
"""

FAILURE_TASKS = """
    - name: UPDATE answered 500
      vcf.sddc_manager.credentials_task_retry:
        task_id: update-failed
        operation_type: UPDATE
        elements: "{{ vc_elements }}"
      register: f_500
      ignore_errors: true
    - name: UPDATE with credentials the task does not have
      vcf.sddc_manager.credentials_task_retry:
        task_id: update-failed
        operation_type: UPDATE
        elements: "{{ [vc_elements[0] | combine({'credentials': vc_elements[0].credentials[:1]})] }}"
      register: f_mismatch
      ignore_errors: true
    - name: REMEDIATE whose answer is lost
      vcf.sddc_manager.credentials_task_retry:
        task_id: remediate-failed
        operation_type: REMEDIATE
        elements: "{{ nsx_elements }}"
      register: f_lost
      ignore_errors: true
    - name: Fails again
      vcf.sddc_manager.credentials_task_retry:
        task_id: rotate-fails-again
        wait: true
        wait_sleep: 1
      register: f_again
      ignore_errors: true
    - name: Wait times out
      vcf.sddc_manager.credentials_task_wait:
        task_ids: [in-progress]
        wait_timeout: 1
        wait_sleep: 1
      register: f_timeout
      ignore_errors: true
    - name: Wrong password
      vcf.sddc_manager.credentials_task_retry:
        task_id: update-failed
        operation_type: UPDATE
        elements: "{{ vc_elements }}"
        password: "{{ new['wrong-login'] }}"
      register: f_401
      ignore_errors: true
    - name: Wrong login with the token module
      vcf.sddc_manager.token:
        password: "{{ new['wrong-login'] }}"
      register: f_token
      ignore_errors: true
    - name: Tokens SDDC Manager refuses
      vcf.sddc_manager.credentials_task_info:
        username: "{{ omit }}"
        password: "{{ omit }}"
        access_token: "{{ planted_access_token }}-revoked"
        refresh_token: "{{ planted_refresh_token }}-revoked"
      register: f_tokens
      ignore_errors: true
    - name: A VIEWER may not retry
      vcf.sddc_manager.credentials_task_retry:
        task_id: update-failed
        operation_type: UPDATE
        elements: "{{ vc_elements }}"
        username: "{{ viewer_username }}"
        password: "{{ viewer_password }}"
      register: f_403
      ignore_errors: true
    - name: A CA that did not sign the certificate
      vcf.sddc_manager.credentials_task_retry:
        task_id: update-failed
        operation_type: UPDATE
        elements: "{{ vc_elements }}"
        ca_path: "{{ unsigned_ca_path }}"
      register: f_tls
      ignore_errors: true
    - name: ROTATE given a password
      vcf.sddc_manager.credentials_task_retry:
        task_id: rotate-failed
        operation_type: ROTATE
        elements: "{{ [vc_elements[0] | combine({'resource_name': 'esxi-1.rack.example.com', 'resource_type': 'ESXI'})] }}"
      register: f_rotate_password
      ignore_errors: true
    - name: Misspelled password options
      vcf.sddc_manager.credentials_task_retry:
        task_id: update-failed
        operation_type: UPDATE
        passwd: "{{ new['typo'] }}"
        elements:
          - resource_name: vcenter-1.rack.example.com
            resource_type: VCENTER
            credentials: [{credential_type: SSH, username: root, pasword: "{{ new['typo'] }}"}]
      register: f_typo
      ignore_errors: true
    - name: elements given as a string
      vcf.sddc_manager.credentials_task_retry:
        task_id: update-failed
        operation_type: UPDATE
        elements: ["{{ new['in-string'] }}"]
      register: f_string
      ignore_errors: true
    - name: Bulk retry with one bad spec
      vcf.sddc_manager.credentials_task_bulk_retry:
        task_ids: [rotate-failed]
        tasks:
          - task_id: update-failed
            operation_type: UPDATE
            elements: "{{ [vc_elements[0] | combine({'credentials': vc_elements[0].credentials[:1]})] }}"
      register: f_bulk
      ignore_errors: true
"""

ROLE_PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: vcf.sddc_manager.retry_credentials_tasks
"""


def registered_names(tasks):
    return re.findall(r"register: (\w+)", tasks)


def build(tasks, registered_file):
    names = registered_names(tasks)
    return HEADER + tasks + DUMP % ", ".join('"%s": "{{ %s }}"' % (n, n) for n in names), names


def planted_tokens(target):
    """A token pair the test obtained itself, to hand to modules."""
    answer = requests.post("https://127.0.0.1:%d/v1/tokens" % target.port, json={
        "username": target.username, "password": target.password}, verify=target.ca_path, timeout=30)
    answer.raise_for_status()
    pair = answer.json()
    return pair["accessToken"], pair["refreshToken"]["id"]


class Secrets:
    """Everything that must not show, and where to look."""

    def __init__(self, target, extra=()):
        self.target = target
        self.values = set(scenarios.all_planted()) | set(NEW.values()) | set(extra)
        self.token_ids = set(scenarios.token_ids(SEED))

    def held_by_simulator(self):
        return self.target.passwords_held()

    def check(self, texts):
        """``texts``: {where: text}. Fails naming the place and the kind of secret found."""
        values = self.values | self.held_by_simulator()
        assert len(values) > 20
        problems = []
        for where, text in texts.items():
            for value in values:
                if value in text:
                    problems.append("a password (%s...) in %s" % (value[:12], where))
            for token_id in self.token_ids:
                if token_id in text:
                    problems.append("a token id %s in %s" % (token_id, where))
            if JWT.search(text):
                problems.append("an access token (JWT) in %s" % where)
        assert not problems, problems


def outputs(run, target, *files):
    texts = {"stdout": run.stdout, "stderr": run.stderr, "task results": json.dumps(run.results),
             "the simulator's request log": json.dumps(target.ctl.log())}
    for path in files:
        if path.exists():
            texts[path.name] = path.read_text()
    return texts


@pytest.fixture
def planted(target):
    access, refresh = planted_tokens(target)
    assert refresh in scenarios.token_ids(SEED), "the simulator's token ids no longer follow the seed"
    assert JWT.fullmatch(access), "the access token is no longer a JWT: the search for JWTs finds nothing"
    return {"planted_access_token": access, "planted_refresh_token": refresh}


def run_play(ansible, target, tmp_path, tasks, extra_vars, check=False, diff=False):
    registered = tmp_path / "registered.json"
    log = tmp_path / "ansible.log"
    playbook, names = build(tasks, registered)
    extra = dict(extra_vars, new=NEW, registered_file=str(registered))
    run = ansible.playbook(playbook, target=target, extra_vars=extra, check=check, diff=diff, verbosity=4,
                           env={"ANSIBLE_LOG_PATH": str(log)})
    assert "ESTABLISH LOCAL CONNECTION" in run.stdout, "not run at -vvvv"
    assert log.exists() and log.stat().st_size > 0, "Ansible wrote no log"
    assert registered.exists(), run
    assert set(json.loads(registered.read_text())) == set(names)
    return run, registered, log


@pytest.mark.parametrize("mode", ["apply", "check+diff", "diff"])
def test_modules_on_success_paths(ansible, target, tmp_path, planted, mode):
    secrets = Secrets(target, planted.values())
    run, registered, log = run_play(ansible, target, tmp_path, SUCCESS_TASKS, planted,
                                    check=mode == "check+diff", diff="diff" in mode)
    assert run.rc == 0, run
    results = json.loads(registered.read_text())
    if mode != "check+diff":
        assert results["r_update"]["status"] == "SUCCESSFUL"
        # the simulator did receive and apply the planted passwords, so finding none in the output means something
        held = secrets.held_by_simulator()
        assert NEW["vc-root-new"] in held and NEW["nsx-new"] in held
    else:
        assert "IN_PROGRESS" in run.stdout  # the diff is shown
    secrets.check(outputs(run, target, registered, log))


def test_modules_on_failure_paths(ansible, target, tmp_path, planted, files):
    target.load(scenarios.base(faults=(
        scenarios.fault_sequence("PATCH", "/v1/credentials/tasks/update-failed", [
            scenarios.fault("http_error", status=500, body="json")])
        + scenarios.fault_sequence("PATCH", "/v1/credentials/tasks/remediate-failed", [scenarios.LOST_REPLY]))))
    secrets = Secrets(target, planted.values())
    extra = dict(planted, unsigned_ca_path=files["unsigned_ca_path"], viewer_username=scenarios.VIEWER["username"],
                 viewer_password=scenarios.VIEWER["password"])
    run, registered, log = run_play(ansible, target, tmp_path, FAILURE_TASKS, extra, diff=True)
    assert run.rc == 0, run  # every failure is ignored, so that all of them run
    results = json.loads(registered.read_text())
    failed = sorted(name for name, result in results.items() if result.get("failed"))
    assert failed == sorted(set(registered_names(FAILURE_TASKS)) - {"f_lost"}), failed
    assert results["f_lost"]["changed"] is True
    assert "HTTP 500" in results["f_500"]["msg"] and "HTTP 403" in results["f_403"]["msg"]
    assert "TLS verification" in results["f_tls"]["msg"] and "HTTP 401" in results["f_401"]["msg"]
    assert "Unsupported parameters" in results["f_typo"]["msg"]
    # accepted: the lost REMEDIATE, the task that failed again, and the bulk retry of rotate-failed
    assert target.counters()["patches_accepted"] == 3
    secrets.check(outputs(run, target, registered, log))


@pytest.fixture
def files(tmp_path):
    from sddc_sim.certs import make_untrusted_ca

    return {"unsigned_ca_path": make_untrusted_ca(str(tmp_path / "other-ca")).ca_path}


ADHOC = [
    ("credentials_task_info", "status=FAILED", {}),
    ("credentials_task_retry", json.dumps({
        "task_id": "update-failed", "operation_type": "UPDATE", "wait": True, "wait_sleep": 1, "elements": [
            {"resource_name": "vcenter-1.rack.example.com", "resource_type": "VCENTER", "credentials": [
                {"credential_type": "SSH", "username": "root", "password": NEW["vc-root-new"]},
                {"credential_type": "SSO", "username": "administrator@vsphere.local",
                 "password": NEW["vc-sso-new"]}]}]}), {}),
    ("credentials_task_retry", "task_id=rotate-failed", {"check": True, "diff": True}),
    ("credentials_task_retry", json.dumps({
        "task_id": "remediate-failed", "operation_type": "REMEDIATE", "elements": [
            {"resource_name": "nsx-1.rack.example.com", "resource_type": "NSXT_MANAGER", "credentials": [
                {"credential_type": "API", "username": "admin", "password": NEW["nsx-new"]}]}]}),
     {"check": True, "diff": True}),
    ("credentials_task_retry", json.dumps({
        "task_id": "rotate-failed", "operation_type": "ROTATE", "elements": [
            {"resource_name": "esxi-1.rack.example.com", "resource_type": "ESXI", "credentials": [
                {"credential_type": "SSH", "username": "root", "password": NEW["typo"]}]}]}), {"fails": True}),
    ("credentials_task_info", "status=FAILED", {"fails": True, "env": {"SDDC_MANAGER_PASSWORD": NEW["wrong-login"]}}),
    ("credentials_task_retry", "task_id=rotate-fails-again wait=true wait_sleep=1", {"fails": True}),
    ("token", "state=present", {"fails": True, "env": {"SDDC_MANAGER_PASSWORD": NEW["wrong-login"]}}),
]


def test_adhoc_commands(ansible, target, tmp_path):
    secrets = Secrets(target)
    texts = {}
    for index, (module, args, how) in enumerate(ADHOC):
        log = tmp_path / ("adhoc-%d.log" % index)
        env = dict(how.get("env", {}), ANSIBLE_LOG_PATH=str(log))
        run = ansible.adhoc("vcf.sddc_manager." + module, args, target=target, check=how.get("check", False),
                            diff=how.get("diff", False), verbosity=4, env=env)
        assert (run.rc != 0) == how.get("fails", False), run
        for where, text in outputs(run, target, log).items():
            texts["%s %s: %s" % (module, index, where)] = text
    assert NEW["vc-root-new"] in secrets.held_by_simulator()
    secrets.check(texts)


def role_vars(target, tmp_path, **extra):
    out = {
        "retry_credentials_tasks_hostname": target.hostname,
        "retry_credentials_tasks_port": target.port,
        "retry_credentials_tasks_username": target.username,
        "retry_credentials_tasks_password": target.password,
        "retry_credentials_tasks_ca_path": target.ca_path,
        "retry_credentials_tasks_wait_sleep": 1,
        "retry_credentials_tasks_report_path": str(tmp_path / "report"),
        "retry_credentials_tasks_ids": ["rotate-failed", "rotate-fails-again", "successful", "cancelled"],
        "retry_credentials_tasks_specs": {
            "update-failed": {"operation_type": "UPDATE", "elements": [
                {"resource_name": "vcenter-1.rack.example.com", "resource_type": "VCENTER", "credentials": [
                    {"credential_type": "SSH", "username": "root", "password": NEW["vc-root-new"]},
                    {"credential_type": "SSO", "username": "administrator@vsphere.local",
                     "password": NEW["vc-sso-new"]}]}]},
            "remediate-failed": {"operation_type": "REMEDIATE", "elements": [
                {"resource_name": "nsx-1.rack.example.com", "resource_type": "NSXT_MANAGER", "credentials": [
                    {"credential_type": "API", "username": "admin", "password": NEW["nsx-new"]}]}]},
        },
    }
    out.update(extra)
    return out


@pytest.mark.parametrize("mode", ["apply", "check+diff"])
def test_role(ansible, target, tmp_path, mode):
    secrets = Secrets(target)
    log = tmp_path / "ansible.log"
    run = ansible.playbook(ROLE_PLAY, extra_vars=role_vars(target, tmp_path), check=mode == "check+diff",
                           diff=mode == "check+diff", verbosity=4, env={"ANSIBLE_LOG_PATH": str(log)})
    # 'cancelled' cannot be retried (and rotate-fails-again fails again): the role fails, after its report
    assert run.rc != 0, run
    report = tmp_path / "report"
    files = [report / "credentials-tasks-localhost.json", report / "credentials-tasks-localhost.md"]
    if mode == "apply":
        assert all(f.exists() for f in files), run
        held = secrets.held_by_simulator()
        assert NEW["vc-root-new"] in held and NEW["nsx-new"] in held
    else:
        # check mode writes no report; --diff shows what it would hold, in stdout
        assert not report.exists() and "credentials-tasks-localhost.md" in run.stdout
    secrets.check(outputs(run, target, log, *files))
