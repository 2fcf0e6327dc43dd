#!/usr/bin/env bash
# `make demo`: build the collection and install it into build/demo/collections, start the SDDC Manager simulator
# with tests/demo/scenario.yml - two FAILED ROTATE tasks (the ESXi one succeeds when retried, the vCenter one fails
# again: SSH login refused) and one SUCCESSFUL task, which is left alone -, retry them with the collection playbook,
# show the report, stop the simulator.
# Expects the Makefile's .venv on PATH. Ansible finds only the collection installed here (ANSIBLE_COLLECTIONS_PATH).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$repo/build/demo
rm -rf "$work" && mkdir -p "$work/collections" "$work/report"
# Set before the install, so that ansible-galaxy installs into a configured collections path (and does not warn).
export ANSIBLE_COLLECTIONS_PATH=$work/collections

echo "== Building and installing the collection"
ansible-galaxy collection build --force --output-path "$work" "$repo" >/dev/null
ansible-galaxy collection install --force -p "$work/collections" "$work"/vcf-sddc_manager-*.tar.gz >/dev/null
echo "   installed into $work/collections"

echo "== Starting the SDDC Manager simulator"
(cd "$repo/tests/simulator" && exec python -m sddc_sim --scenario "$repo/tests/demo/scenario.yml" \
  --certs-dir "$work/certs" --ready-file "$work/sim.json" >"$work/sim.out" 2>"$work/sim.err") &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [[ -s $work/sim.json ]] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.err" >&2; exit 1; }
  sleep 0.1
done
[[ -s $work/sim.json ]] || { echo "the simulator did not start" >&2; exit 1; }
port=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$work/sim.json")
echo "   https://127.0.0.1:$port, with 2 FAILED credentials tasks (CA: $work/certs/ca.pem)"

# The connection goes in as environment variables, the way an AWX credential injects it.
export SDDC_MANAGER_HOST=127.0.0.1 SDDC_MANAGER_PORT=$port SDDC_MANAGER_CA_PATH=$work/certs/ca.pem
export SDDC_MANAGER_USERNAME=administrator@vsphere.local SDDC_MANAGER_PASSWORD='Demo-Only-Passw0rd!'
export ANSIBLE_LOCALHOST_WARNING=False
ANSIBLE_PYTHON_INTERPRETER=$(command -v python)
export ANSIBLE_INVENTORY_UNPARSED_WARNING=False ANSIBLE_PYTHON_INTERPRETER

echo "== ansible-playbook vcf.sddc_manager.retry_failed_credentials"
ansible-playbook vcf.sddc_manager.retry_failed_credentials \
  -e retry_credentials_tasks_wait_sleep=2 \
  -e retry_credentials_tasks_fail_on_failure=false \
  -e retry_credentials_tasks_report_path="$work/report"

echo "== The report ($work/report/credentials-tasks-localhost.md)"
cat "$work/report/credentials-tasks-localhost.md"
