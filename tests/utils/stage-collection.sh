#!/usr/bin/env bash
# Copy the collection into DEST as a real directory tree (ansible-test refuses a symlinked collection root).
# Copied: files git tracks plus untracked files that are not git-ignored, so .venv, build/ and tests/output
# never end up in the copy. Files deleted in the work tree but still tracked are skipped. The copy gets
# its own empty git repository (see the end).
# Usage: tests/utils/stage-collection.sh DEST   (run from the repository root)
set -euo pipefail
dest=${1:?usage: stage-collection.sh DEST}
rm -rf "$dest"
mkdir -p "$dest"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done \
    | tar --null --no-recursion -T - -cf - \
    | tar -xf - -C "$dest"
else
  tar --exclude=./.git --exclude=./.venv --exclude='./.venv-*' --exclude=./build --exclude=./tests/output \
    --exclude='*/__pycache__' --exclude='*/.pytest_cache' --exclude=./.hypothesis -cf - . \
    | tar -xf - -C "$dest"
fi
# ansible-test finds its file list through the nearest .git above the collection: without one here it
# would take the outer repository's, where build/ is ignored, and skip every target.
git -c init.defaultBranch=main init -q "$dest"
echo "staged $(find "$dest" -type f | wc -l) files in $dest"
