#!/usr/bin/env bash
# fuzz.sh — make fuzz: every libFuzzer target for FUZZ_SECS seconds (600
# by default), seeded with its corpus under tests/unit/. New inputs go to
# a scratch directory (add the interesting ones to the corpus by hand);
# a crash leaves its input in build/fuzz-NAME-crash-*. Prints one line per
# target: its runs, and whether it crashed. Exit 1 when one did.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
SECS=${FUZZ_SECS:-600}
rc=0
for target in proto:fuzz_corpus sqlrow:fuzz_corpus_sqlrow admin_sql:fuzz_corpus_admin_sql \
	config:fuzz_corpus_config; do
	name=${target%%:*} corpus=$ROOT/tests/unit/${target#*:}
	fz=$(mktemp -d /tmp/shunt-fuzz.XXXXXX)
	log=$ROOT/$BUILD/fuzz-$name.log
	if timeout $((SECS + 120)) "$ROOT/$BUILD/fuzz_$name" -max_total_time="$SECS" \
		-artifact_prefix="$ROOT/$BUILD/fuzz-$name-" "$fz" "$corpus" >"$log" 2>&1; then
		echo "fuzz.$name: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log"), no crash"
	else
		echo "fuzz.$name: CRASH: $(grep -m1 -E 'ERROR|runtime error|deadly signal' "$log") (see $log)"
		rc=1
	fi
	rm -rf "$fz"
done
exit $rc
