#!/usr/bin/env bash
# `make ee`: build the collection tarball, let ansible-builder create the execution environment's build
# context from execution-environment.yml, then replay the two image build steps that need no container
# engine: the galaxy stage's collection install from the context, and the builder stage's introspection,
# which must find the Python requirements of meta/execution-environment.yml.
# Usage: tests/utils/ee-context.sh OUTDIR   (run from the repository root, with ansible-builder on PATH)
set -euo pipefail
out=${1:?usage: ee-context.sh OUTDIR}
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

ansible-galaxy collection build --force --output-path "$out" . >/dev/null
built=$(ls "$out"/vcf-sddc_manager-*.tar.gz)
# execution-environment.yml names a fixed file name, so the definition does not change with each version
cp "$built" "$out/vcf-sddc_manager.tar.gz"

ansible-builder create -f execution-environment.yml -c "$out/context" --output-filename Containerfile >/dev/null
ctx=$out/context
fail() { echo "ee: $*" >&2; exit 1; }
[[ -f $ctx/Containerfile ]] || fail "no Containerfile in $ctx"
grep -q 'ansible-galaxy collection install' "$ctx/Containerfile" || fail "the Containerfile installs no collection"
grep -q 'ansible-core>=2.16,<2.20' "$ctx/Containerfile" || fail "the Containerfile does not pin ansible-core"
[[ -f $ctx/_build/collections/vcf-sddc_manager.tar.gz ]] || fail "the collection tarball is not in the context"
grep -q 'collections/vcf-sddc_manager.tar.gz' "$ctx/_build/requirements.yml" || fail "requirements.yml misses the tarball"

# Galaxy stage: WORKDIR /build holds the context's _build; install from there as the Containerfile does.
(cd "$ctx/_build" && ANSIBLE_COLLECTIONS_PATH="$out/image/collections" \
  ansible-galaxy collection install --offline -r requirements.yml --collections-path "$out/image/collections") >/dev/null
installed=$out/image/collections/ansible_collections/vcf/sddc_manager
[[ -f $installed/MANIFEST.json && -f $installed/meta/execution-environment.yml ]] \
  || fail "the collection did not install from the build context"

# Builder stage: the context's own introspect script collects the collections' requirements.
python3 "$ctx/_build/scripts/introspect.py" introspect --write-pip="$out/image/requirements.txt" \
  --write-bindep="$out/image/bindep.txt" "$out/image/collections" >/dev/null
grep -Eq '^requests>=2\.31 +# from collection vcf\.sddc_manager' "$out/image/requirements.txt" \
  || { cat "$out/image/requirements.txt" >&2; fail "introspection did not find requests for vcf.sddc_manager"; }

echo "ee: build context in $ctx (Containerfile, collection $(basename "$built"));" \
  "the image would install: $(grep -v '^#' "$out/image/requirements.txt" | tr '\n' ' ')"
