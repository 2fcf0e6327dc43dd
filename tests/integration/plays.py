"""Playbook text shared by the integration tests: the connection set once through module_defaults."""

PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/vcf.sddc_manager.sddc_manager:
      hostname: "{{ sddc_hostname }}"
      port: "{{ sddc_port }}"
      username: "{{ sddc_username }}"
      password: "{{ sddc_password }}"
      ca_path: "{{ sddc_ca_path | default(omit) }}"
  tasks:
"""

# Logs in with the token module, then works with the tokens only: username and password are not known there.
TOKENS_ONLY_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Log in
      vcf.sddc_manager.token:
        hostname: "{{ sddc_hostname }}"
        port: "{{ sddc_port }}"
        username: "{{ sddc_username }}"
        password: "{{ sddc_password }}"
        ca_path: "{{ sddc_ca_path }}"
      register: login
      no_log: true
    - name: Work with the tokens only
      module_defaults:
        group/vcf.sddc_manager.sddc_manager:
          hostname: "{{ sddc_hostname }}"
          port: "{{ sddc_port }}"
          ca_path: "{{ sddc_ca_path }}"
          access_token: "{{ login.access_token }}"
          refresh_token: "{{ login.refresh_token }}"
      block:
"""


def play(tasks, header=PLAY, indent=4):
    """A playbook: ``header`` followed by ``tasks`` (YAML text) indented under it."""
    return header + "\n".join(" " * indent + line for line in tasks.strip("\n").splitlines()) + "\n"


def patches(counters):
    """How many retry PATCHes reached the simulator."""
    return counters["by_route"].get("PATCH /v1/credentials/tasks/{id}", 0)
