#!/usr/bin/env bash
# The ansible-core releases the collection claims, each in its own cached virtual environment
# (.venv-matrix-core<CORE>-py<PYTHON>) on a Python that release supports.
#
#   support-matrix.sh matrix MAIN_VENV_PYTHON CORE:PYTHON...   (`make matrix`)
#       the unit tests, then an integration smoke run against the simulator: one module and the role, run by
#       that venv's ansible-playbook.
#   support-matrix.sh sanity MAIN_VENV_PYTHON CORE:PYTHON...   (`make sanity`)
#       ansible-test sanity, all tests, on PYTHON; then the Python-version-specific tests (compile, import) on
#       every other Python that tests/config.yml claims for the modules and that release runs modules on, when
#       that Python is installed (PATH or pyenv). Each run is told which Python to use (--python).
#
# In both modes the first entry must be the lower bound of requires_ansible in meta/runtime.yml and the last one
# the newest release below its upper bound; `matrix` must also hold the release .venv has (tests/requirements.txt),
# so that make units and make integration ran on a release the table in README.md names.
set -euo pipefail
mode=${1:-}
main_python=${2:-}
[[ ($mode == matrix || $mode == sanity) && -n $main_python ]] \
  || { echo "usage: support-matrix.sh matrix|sanity MAIN_VENV_PYTHON CORE:PYTHON..." >&2; exit 2; }
shift 2
(($# >= 2)) || { echo "$mode: give at least the oldest and the newest CORE:PYTHON" >&2; exit 2; }
entries=("$@")
fail() { echo "$mode: $*" >&2; exit 1; }
noise='is ignored: it is neither a file nor a directory'
repo=$PWD
[[ -f meta/runtime.yml && -f tests/requirements.txt ]] || fail "run from the repository root"

# --- the claim: requires_ansible ">=OLDEST.0,<NEXT.0" ------------------------------------------------------------
requires=$(sed -n 's/^requires_ansible: *"\(.*\)".*/\1/p' meta/runtime.yml)
floor=$(sed -n 's/.*>=\([0-9]*\.[0-9]*\)\.0.*/\1/p' <<<"$requires")
ceiling=$(sed -n 's/.*<\([0-9]*\)\.\([0-9]*\)\.0.*/\1 \2/p' <<<"$requires")
[[ -n $floor && -n $ceiling ]] || fail "meta/runtime.yml: requires_ansible must read \">=2.X.0,<2.Y.0\", got \"$requires\""
read -r major minor <<<"$ceiling"
newest_claimed=$major.$((minor - 1))
oldest=${entries[0]%%:*}
newest=${entries[${#entries[@]}-1]%%:*}
[[ $oldest == "$floor" ]] || fail "oldest tested ansible-core $oldest, but meta/runtime.yml claims $requires"
[[ $newest == "$newest_claimed" ]] || fail "newest tested ansible-core $newest, but meta/runtime.yml claims $requires"
if [[ $mode == matrix ]]; then
  installed=$("$main_python" -c 'import ansible.release as r; print(".".join(r.__version__.split(".")[:2]))')
  printf '%s\n' "${entries[@]%%:*}" | grep -qxF "$installed" \
    || fail ".venv has ansible-core $installed (tests/requirements.txt), which is not in the matrix ${entries[*]}"
fi

find_python() {  # python3.X on PATH, else pyenv's newest 3.X.*
  local v=$1 candidate
  if candidate=$(command -v "python$v") && "$candidate" -c '' 2>/dev/null; then echo "$candidate"; return; fi
  while IFS= read -r candidate; do
    "$candidate" -c '' 2>/dev/null && { echo "$candidate"; return; }
  done < <(find "${PYENV_ROOT:-$HOME/.pyenv}/versions" -maxdepth 3 -path "*/versions/$v.*/bin/python$v" 2>/dev/null \
             | sort -V -r)
  return 1
}

# The venv of one entry, made (or remade after tests/requirements.txt changed) with everything the tests need
# and ansible-core CORE.* instead of the release tests/requirements.txt pins for .venv.
matrix_venv() {
  local core=$1 py=$2 interpreter venv stamp got
  interpreter=$(find_python "$py") || fail "Python $py not found (PATH or pyenv); install it, or change the matrix"
  venv=$repo/.venv-matrix-core$core-py$py
  stamp=$venv/.requirements.stamp
  if [[ ! -f $stamp || tests/requirements.txt -nt $stamp ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    "$interpreter" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install -q -r <(grep -v '^ansible-core' tests/requirements.txt) "ansible-core==$core.*" \
      2>&1 | { grep -v "$noise" || true; } >&2
    touch "$stamp"
  fi
  got=$("$venv/bin/python" -c 'import ansible.release as r, sys; print(r.__version__, "%d.%d" % sys.version_info[:2])')
  [[ $got == "$core."*" $py" ]] || fail "$venv has ansible-core/Python $got, expected $core.* on $py"
  echo "$venv"
}

# The integration smoke run: a module (retry of a FAILED ROTATE task, waited for) and the role (retry, wait, report),
# through that venv's ansible-playbook; the harness takes ansible-playbook from the bin folder of sys.executable.
SMOKE_TESTS=(
  "tests/integration/test_modules.py::test_retry_of_a_failed_rotate_task_rebuilds_the_request_and_waits"
  "tests/integration/test_role.py::test_role_retries_waits_and_reports"
)

summary=()
failed=0
if [[ $mode == matrix ]]; then
  pyroot=$("$main_python" tests/utils/pyroot.py)
  for entry in "${entries[@]}"; do
    core=${entry%%:*} py=${entry##*:}
    venv=$(matrix_venv "$core" "$py")
    version=$("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')
    echo "== matrix: ansible-core $version on Python $py: unit tests"
    start=$SECONDS units=passed smoke=passed
    "$venv/bin/python" -m pytest -q -p no:cacheprovider -n 2 tests/unit || { units=FAILED; failed=1; }
    units+=" $((SECONDS - start))s"
    echo "== matrix: ansible-core $version on Python $py: integration smoke run (a module and the role)"
    start=$SECONDS
    PYTHONPATH="$pyroot${PYTHONPATH:+:$PYTHONPATH}" ANSIBLE_COLLECTIONS_PATH="$pyroot" \
      "$venv/bin/python" -m pytest -q -p no:cacheprovider "${SMOKE_TESTS[@]}" || { smoke=FAILED; failed=1; }
    smoke+=" $((SECONDS - start))s"
    summary+=("$(printf 'ansible-core %-8s Python %-5s units %-12s smoke %s' "$version" "$py" "$units" "$smoke")")
  done
  if ((failed)); then echo "matrix: FAILED"; else echo "matrix: passed (requires_ansible $requires, .venv has $installed)"; fi
  printf '  %s\n' "${summary[@]}"
  exit "$failed"
fi

# --- sanity ----------------------------------------------------------------------------------------------------
[[ -z $(find tests/sanity -name 'ignore-*.txt' 2>/dev/null) ]] \
  || fail "tests/sanity/ignore-*.txt must not exist: fix the finding instead"
copy=${COLLECTION_COPY:-build/ansible_collections/vcf/sddc_manager}
pythons=build/sanity-pythons  # python3.X for ansible-test to find: the pyenv ones are not on PATH
seed=$repo/../shared/tools/seed-ansible-test-pip
# One sanity run at a time in this tree: a second one would stage over the copy the first is testing.
mkdir -p build
exec 9>build/.sanity.lock
flock -n 9 || { echo "sanity: waiting for another make sanity in this tree to finish"; flock 9; }
tests/utils/stage-collection.sh "$copy"
rm -rf "$pythons"
mkdir -p "$pythons"
log=$repo/build/sanity-run.log
# ansible-test exits 0 when it finds nothing to test (say, the copy vanished): that is no pass.
skipped() { grep -q 'All targets skipped\|No tests applicable' "$1"; }
for entry in "${entries[@]}"; do
  core=${entry%%:*} py=${entry##*:}
  venv=$(matrix_venv "$core" "$py")
  # ansible-test --venv fetches get-pip from a host this network may not reach; the seed stands in for it.
  if [[ -f $seed ]]; then bash "$seed" "$venv/bin/python" >/dev/null; fi
  # The Pythons ansible-test runs modules on for this release, within the claim of tests/config.yml.
  read -r -a claimed < <("$venv/bin/python" - <<'PY'
import yaml
from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS
from packaging.specifiers import SpecifierSet
claim = SpecifierSet(yaml.safe_load(open("tests/config.yml"))["modules"]["python_requires"])
print(" ".join(v for v in SUPPORTED_PYTHON_VERSIONS if v in claim))
PY
  )
  printf '%s\n' "${claimed[@]}" | grep -qxF "$py" || fail "Python $py is not among the Pythons claimed for $core: ${claimed[*]}"
  others=() missing=() bad=()
  for v in "${claimed[@]}"; do
    [[ $v == "$py" ]] && continue
    if found=$(find_python "$v"); then ln -sf "$found" "$pythons/python$v"; others+=("$v"); else missing+=("$v"); fi
  done
  version=$("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')
  echo "== sanity: ansible-core $version, all tests on Python $py"
  start=$SECONDS
  status=passed
  # shellcheck disable=SC2086  # SANITY_ARGS: extra ansible-test options, word-split on purpose
  (cd "$copy" && PATH="$venv/bin:$repo/$pythons:$PATH" \
     ansible-test sanity --python "$py" --venv --color no ${SANITY_ARGS:-} 2>&1 \
     | { grep --line-buffered -v "$noise" || true; } | tee "$log") || status=FAILED
  skipped "$log" && status="FAILED (nothing tested)"
  line=$(printf 'ansible-core %-8s all tests on %s %s (%ss)' "$version" "$py" "$status" $((SECONDS - start)))
  start=$SECONDS
  status=passed
  for v in "${others[@]}"; do
    echo "== sanity: ansible-core $version, compile and import on Python $v"
    (cd "$copy" && PATH="$venv/bin:$repo/$pythons:$PATH" \
       ansible-test sanity --test compile --test import --python "$v" --venv --color no 2>&1 \
       | { grep --line-buffered -v "$noise" || true; } | tee "$log") || bad+=("$v")
    skipped "$log" && bad+=("$v (nothing tested)")
  done
  ((${#bad[@]} == 0)) || status="FAILED on ${bad[*]}"
  line+=$(printf '; compile, import on %s %s (%ss)' "${others[*]:-none}" "$status" $((SECONDS - start)))
  if ((${#missing[@]})); then
    echo "sanity: NOT CHECKED with ansible-core $version: Python ${missing[*]} (claimed, not installed)"
    line+="; not installed, not checked: ${missing[*]}"
  fi
  [[ $line == *FAILED* ]] && failed=1
  summary+=("$line")
done
if ((failed)); then
  echo "sanity: FAILED (see the errors above)"
  printf '  %s\n' "${summary[@]}"
  exit 1
fi
echo "sanity: passed, no ignore files (modules: python_requires $(sed -n 's/^ *python_requires: *//p' tests/config.yml))"
printf '  %s\n' "${summary[@]}"
