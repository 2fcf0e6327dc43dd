#!/usr/bin/env bash
# `make changelog`, second half: rehearse a release on a copy of the collection (the checkout keeps its
# fragments) and check that it produces CHANGELOG.rst for the version in galaxy.yml, with every fragment
# and the collection's modules in it.
# Usage: tests/utils/changelog-release.sh OUTDIR   (run from the repository root, antsibull-changelog on PATH)
set -euo pipefail
out=${1:?usage: changelog-release.sh OUTDIR}
copy=$out/ansible_collections/vcf/sddc_manager
tests/utils/stage-collection.sh "$copy" >/dev/null
version=$(sed -n 's/^version: *//p' galaxy.yml)
fail() { echo "changelog: $*" >&2; exit 1; }

cd "$copy"
rm -f CHANGELOG.rst
fragments=(changelogs/fragments/*.y*ml)
[[ -e ${fragments[0]} ]] || fail "no fragments in changelogs/fragments: nothing to release"
antsibull-changelog release --version "$version" --date 2000-01-01 >/dev/null
[[ -s CHANGELOG.rst ]] || fail "the release wrote no CHANGELOG.rst"
grep -qx "v$version" CHANGELOG.rst || fail "CHANGELOG.rst has no section for v$version"
grep -q "vcf.sddc_manager.credentials_task_retry - " CHANGELOG.rst || fail "CHANGELOG.rst lists no new modules"
left=$(find changelogs/fragments -name '*.y*ml' | wc -l)
[[ $left -eq 0 ]] || fail "$left fragment(s) were not consumed by the release"
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
echo "changelog: a release of $version from ${#fragments[@]} fragment(s) writes CHANGELOG.rst ($(wc -l <CHANGELOG.rst) lines) in $copy"
