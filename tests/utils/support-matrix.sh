#!/usr/bin/env bash
# `make matrix`: run the unit tests on the oldest and the newest ansible-core release the collection claims,
# each in its own cached virtual environment (.venv-matrix-*), on a Python that release supports.
# Usage: tests/utils/support-matrix.sh MAIN_VENV_PYTHON CORE:PYTHON...   e.g. .venv/bin/python 2.16:3.10 2.19:3.13
# The first entry must be the lower bound of requires_ansible in meta/runtime.yml, and the last one the
# ansible-core that tests/requirements.txt installs into .venv (the newest allowed): the claim and the
# tests cannot drift apart.
set -euo pipefail
main_python=${1:?usage: support-matrix.sh MAIN_VENV_PYTHON CORE:PYTHON...}
shift
(($# >= 2)) || { echo "matrix: give at least the oldest and the newest CORE:PYTHON" >&2; exit 2; }
entries=("$@")
fail() { echo "matrix: $*" >&2; exit 1; }
noise='is ignored: it is neither a file nor a directory'

claimed=$(sed -n 's/^requires_ansible: *"*>=\([0-9]*\.[0-9]*\).*/\1/p' meta/runtime.yml)
[[ -n $claimed ]] || fail "meta/runtime.yml states no requires_ansible lower bound"
oldest=${entries[0]%%:*}
newest=${entries[${#entries[@]}-1]%%:*}
[[ $oldest == "$claimed" ]] || fail "oldest tested ansible-core $oldest, but meta/runtime.yml claims >=$claimed"
installed=$("$main_python" -c 'import ansible.release as r; print(".".join(r.__version__.split(".")[:2]))')
[[ $newest == "$installed" ]] \
  || fail "newest tested ansible-core $newest, but tests/requirements.txt installs $installed into .venv"

find_python() {  # python3.X on PATH, else pyenv's newest 3.X.*
  local v=$1 candidate
  if candidate=$(command -v "python$v") && "$candidate" -c '' 2>/dev/null; then echo "$candidate"; return; fi
  while IFS= read -r candidate; do
    "$candidate" -c '' 2>/dev/null && { echo "$candidate"; return; }
  done < <(find "${PYENV_ROOT:-$HOME/.pyenv}/versions" -maxdepth 3 -path "*/versions/$v.*/bin/python$v" 2>/dev/null \
             | sort -V -r)
  return 1
}

for entry in "${entries[@]}"; do
  core=${entry%%:*} py=${entry##*:}
  interpreter=$(find_python "$py") || fail "Python $py not found (PATH or pyenv); install it, or change MATRIX"
  venv=.venv-matrix-core$core-py$py
  stamp=$venv/.requirements.stamp
  if [[ ! -f $stamp || tests/requirements.txt -nt $stamp ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    "$interpreter" -m venv "$venv"
    "$venv/bin/python" -m pip install -q -r tests/requirements.txt "ansible-core==$core.*" 2>&1 \
      | { grep -v "$noise" || true; }
    touch "$stamp"
  fi
  got=$("$venv/bin/python" -c 'import ansible.release as r, sys; print(r.__version__, "%d.%d" % sys.version_info[:2])')
  [[ $got == "$core."*" $py" ]] || fail "$venv has ansible-core/Python $got, expected $core.* on $py"
  echo "== matrix: ansible-core ${got% *} on Python $py"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -n 2 tests/unit
done
echo "matrix: unit tests passed on ansible-core ${entries[*]} (oldest = requires_ansible >=$claimed, newest = .venv's $installed)"
