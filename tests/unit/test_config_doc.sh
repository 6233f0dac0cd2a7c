#!/usr/bin/env bash
# test_config_doc.sh — docs/configuration.md's key tables are the ones the
# key table in user/core/config_keys.c makes (tools/config-doc.sh --check),
# and the check refuses a doc where one row was edited by hand.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ ! -x "$ROOT/build/shunt" ]; then
	echo "SKIP: config_doc: build/shunt is not built"
	exit 0
fi
if out=$(bash "$ROOT/tools/config-doc.sh" --check 2>&1); then
	n=$(grep -c '^| `' "$ROOT/docs/configuration.md")
	echo "PASS: config_doc.in_sync (docs/configuration.md matches shunt --help-config=markdown; $n key rows)"
else
	echo "FAIL: config_doc.in_sync: $(echo "$out" | grep -m3 '^[-+]|' | tr '\n' ' ')"
fi
sed 's/^| `threads` | 0–1024 | `0` | restart |/| `threads` | 0–1024 | `0` | applies |/' \
	"$ROOT/docs/configuration.md" >"$T/configuration.md"
if cmp -s "$T/configuration.md" "$ROOT/docs/configuration.md"; then
	echo "FAIL: config_doc.refuses_drift: the planted edit did not apply (threads row changed?)"
elif DOC=$T/configuration.md bash "$ROOT/tools/config-doc.sh" --check >/dev/null 2>&1; then
	echo "FAIL: config_doc.refuses_drift: a doc that calls threads reloadable passed the check"
else
	echo "PASS: config_doc.refuses_drift (a doc row edited by hand fails the check)"
fi
