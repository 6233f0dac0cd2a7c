#!/usr/bin/env bash
# run-tests.sh — everything `make test` (and CI) runs:
#
#   1. builds: make all, make unit, the e2e client, and the sanitizer build
#      (make SAN=1 all unit);
#   2. every unit test binary, normal and sanitized;
#   3. one scratch MariaDB shared by all e2e tests;
#   4. every tests/e2e/test_*.sh with build/shunt, once with the kernel fast
#      path (--fastpath on: each run also proves the kernel carried the
#      bytes) and once with the user-space relay (--fastpath off); then the
#      main ones again with SHUNT_BIN=build-san/shunt, whose logs must hold
#      no sanitizer report;
#   5. a closing line "N passed, N failed, N skipped"; exit 1 if any failed.
#
# Result lines are "PASS: ...", "FAIL: ...: reason", "SKIP: ...: why".
# Unit test lines are prefixed with the binary's name ("unit/test_proto:"),
# sanitized runs with "san/". Build and test logs are kept in $LOGDIR
# (default build/test-logs) for a look after a failure.
#
# Options (environment): E2E_ONLY="basic client" runs just those e2e tests;
# SKIP_SAN=1 skips the sanitizer build and runs; JOBS=N for make -j.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
LOGDIR=${LOGDIR:-$ROOT/build/test-logs}
E2E_TIMEOUT=${E2E_TIMEOUT:-300}
# The sanitized daemon reruns these (sysbench is left out for time).
SAN_E2E=${SAN_E2E:-"basic client big killmid sessions backend_down auth_timeout pymysql badpass malformed change_user fastpath kill admin http runtime migrate stuck client_limits"}
# The stream-parser attachment runs these.
STREAM_PARSER_E2E=${STREAM_PARSER_E2E:-"basic client big fastpath pymysql kill"}
# Run once, with the kernel fast path only (the Galera cluster test takes
# about three minutes; the relay would only repeat it).
KERNEL_ONLY_E2E=${KERNEL_ONLY_E2E:-"galera"}
# ... and these once more on the user-space relay.
SAN_E2E_USER=${SAN_E2E_USER:-"basic client big killmid malformed change_user kill migrate pipeline"}

# MariaDB helpers (free_port, mariadb_start, mariadb_stop). Sourced first:
# the runner's own pass/fail/skip below replace the ones it defines.
. tests/e2e/lib.sh

rm -rf "$LOGDIR"
mkdir -p "$LOGDIR" "$LOGDIR/san-logs"
RESULTS=$LOGDIR/results.txt
: >"$RESULTS"
T_START=$(date +%s)

# ---------------------------------------------------------------- output

# emit LINE: prints a result line and records it for the count.
emit() { echo "$1"; echo "$1" >>"$RESULTS"; }
pass() { emit "PASS: $1${2:+ ($2)}"; }
fail() { emit "FAIL: $1: $2"; }
skip() { emit "SKIP: $1: $2"; }

# relay PREFIX FILE: echoes FILE, turning "PASS: x" into "PASS: PREFIXx"
# (same for FAIL/SKIP) and recording those; other lines are indented.
# Sets RELAY_NFAIL to the number of FAIL lines seen.
relay() {
	local prefix=$1 file=$2 line
	RELAY_NFAIL=0
	while IFS= read -r line; do
		case $line in
		PASS:\ *|FAIL:\ *|SKIP:\ *)
			[ "${line%%:*}" = FAIL ] && RELAY_NFAIL=$((RELAY_NFAIL + 1))
			emit "${line%%: *}: $prefix${line#*: }" ;;
		*) echo "    $line" ;;
		esac
	done <"$file"
}

section() { printf '\n== %s\n' "$*"; }

# ---------------------------------------------------------------- builds

# build NAME LOG MAKE-ARGS...: a make step; PASS or FAIL (with the log tail).
build() {
	local name=$1 log=$LOGDIR/$2; shift 2
	if make --no-print-directory -j"$JOBS" "$@" >"$log" 2>&1; then
		pass "build.$name" "make $*"
		return 0
	fi
	fail "build.$name" "make $* failed (log: ${log#$ROOT/})"
	grep -E 'error|Error|undefined reference' "$log" | head -15 | sed 's/^/    | /'
	return 1
}

section "build"
build all make-all.log all
build unit make-unit.log unit
build e2e_client make-e2e-client.log build/tests/e2e_client
if [ "${SKIP_SAN:-0}" != 1 ]; then
	build san_all make-san-all.log SAN=1 all
	build san_unit make-san-unit.log SAN=1 unit
fi
# A missing daemon is a failure, never a skip.
for b in build/shunt build/shuntctl; do
	[ -x "$b" ] || fail "build.exists" "$b was not built"
done
if [ "${SKIP_SAN:-0}" != 1 ] && [ ! -x build-san/shunt ]; then
	fail "build.exists" "build-san/shunt was not built"
fi

# ---------------------------------------------------------------- unit tests

# run_unit BIN PREFIX: one unit test binary, 120 s at most.
run_unit() {
	local bin=$1 prefix=$2 name out rc nfail
	name=$(basename "$bin")
	out=$LOGDIR/$prefix$name.log
	mkdir -p "$(dirname "$out")"
	timeout 120 "$bin" >"$out" 2>&1
	rc=$?
	relay "$prefix$name: " "$out"
	nfail=$RELAY_NFAIL
	if [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
		if [ "$rc" = 124 ]; then
			fail "$prefix$name" "timed out after 120 s"
		else
			fail "$prefix$name" "exit status $rc without a FAIL line (crash?); log ${out#$ROOT/}"
		fi
		tail -5 "$out" | sed 's/^/    | /'
	fi
	if ! grep -qE '^(PASS|FAIL|SKIP): ' "$out" && [ "$rc" -eq 0 ]; then
		fail "$prefix$name" "printed no PASS/FAIL line"
	fi
	if grep -qE 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$out"; then
		fail "$prefix$name" "sanitizer report: $(grep -m1 -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$out")"
	fi
}

section "layers"
out=$LOGDIR/unit/test_layers.log
mkdir -p "$LOGDIR/unit"
bash tests/unit/test_layers.sh >"$out" 2>&1
relay "layers/" "$out"
grep -qE '^(PASS|FAIL): ' "$out" || fail "layers" "tests/unit/test_layers.sh printed no result"

section "unit tests"
shopt -s nullglob
unit_src=(tests/unit/test_*.c tests/bpf/test_*.c)
for src in "${unit_src[@]}"; do
	t=$(basename "$src" .c)
	sub=
	[[ $src == tests/bpf/* ]] && sub=bpf/
	for dir in build build-san; do
		[ "$dir" = build-san ] && [ "${SKIP_SAN:-0}" = 1 ] && continue
		prefix=unit/$sub
		[ "$dir" = build-san ] && prefix=san/unit/$sub
		if [ -x "$dir/tests/$sub$t" ]; then
			run_unit "$dir/tests/$sub$t" "$prefix"
		else
			fail "$prefix$t" "$dir/tests/$sub$t was not built"
		fi
	done
done
[ ${#unit_src[@]} -eq 0 ] && skip "unit" "no tests/unit/test_*.c yet"
# Script unit tests (the test tools themselves, e.g. the metrics checker).
for t in tests/unit/test_*.sh; do
	run_unit "$t" unit/
done

# ---------------------------------------------------------------- fuzz

# Each libFuzzer target (ASan + UBSan) for a bounded time, seeded with its
# corpus in the tree: the codec (captured packets, tests/unit/fuzz_corpus),
# the row parser of shunt's own SQL client (fuzz_corpus_sqlrow), the admin
# port's statements (fuzz_corpus_admin_sql) and the configuration parser
# (fuzz_corpus_config). New inputs go to a scratch directory; any crash
# fails the run and leaves its input in $LOGDIR. `make fuzz` runs each
# for 10 minutes.
section "fuzz"
FUZZ_SECS=${FUZZ_SECS:-30}
if build fuzz make-fuzz.log fuzz-build; then
	for target in proto:fuzz_corpus:$FUZZ_SECS sqlrow:fuzz_corpus_sqlrow:$FUZZ_SECS \
		admin_sql:fuzz_corpus_admin_sql:15 config:fuzz_corpus_config:15; do
		IFS=: read -r name corpus secs <<<"$target"
		corpus=tests/unit/$corpus
		fz=$(mktemp -d /tmp/shunt-fuzz.XXXXXX)
		if timeout $((secs + 60)) "build/fuzz_$name" -max_total_time="$secs" \
			-artifact_prefix="$LOGDIR/fuzz-$name-" "$fz" "$corpus" >"$LOGDIR/fuzz-$name.log" 2>&1; then
			pass "fuzz.$name" "$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$LOGDIR/fuzz-$name.log"), no crash"
		else
			fail "fuzz.$name" "libFuzzer found a crash: $(grep -m1 -E 'ERROR|runtime error|deadly signal' "$LOGDIR/fuzz-$name.log")"
		fi
		rm -rf "$fz"
	done
fi

# ---------------------------------------------------------------- e2e

MYSQL_DIR=$(mktemp -d /tmp/shunt-test-mariadb.XXXXXX)
MYSQL_PID=
cleanup() {
	[ -n "$MYSQL_PID" ] && mariadb_stop "$MYSQL_PID"
	rm -rf "$MYSQL_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section "MariaDB for the e2e tests"
E2E_MYSQL_PORT=$(free_port)
if MYSQL_PID=$(mariadb_start "$MYSQL_DIR" "$E2E_MYSQL_PORT" 2>"$LOGDIR/mariadb-start.log"); then
	export E2E_MYSQL_PORT E2E_MYSQL_SOCK=$MYSQL_DIR/mysqld.sock
	echo "    MariaDB $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$E2E_MYSQL_PORT (pid $MYSQL_PID)"
else
	MYSQL_PID=
	fail "e2e.mariadb" "could not start the test MariaDB: $(tail -3 "$LOGDIR/mariadb-start.log" | tr '\n' ' ')"
fi

# run_e2e SCRIPT SHUNT_BIN PREFIX
run_e2e() {
	local script=$1 bin=$2 prefix=$3 name out rc nfail t0
	name=$(basename "$script" .sh)
	out=$LOGDIR/$prefix$name.log
	mkdir -p "$(dirname "$out")"
	section "$prefix${script} (SHUNT_BIN=$bin)"
	t0=$(date +%s)
	SHUNT_BIN=$bin timeout -k 10 "$E2E_TIMEOUT" bash "$script" >"$out" 2>&1 </dev/null
	rc=$?
	relay "$prefix" "$out"
	nfail=$RELAY_NFAIL
	if [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			fail "$prefix${name#test_}" "timed out after $E2E_TIMEOUT s"
		else
			fail "$prefix${name#test_}" "exit status $rc without a FAIL line; log ${out#$ROOT/}"
		fi
	fi
	if [ "$rc" -eq 0 ] && ! grep -qE '^(PASS|FAIL|SKIP): ' "$out"; then
		fail "$prefix${name#test_}" "exited 0 but printed no PASS/FAIL/SKIP line; log ${out#$ROOT/}"
	fi
	echo "    ($(( $(date +%s) - t0 )) s)"
}

if [ -n "$MYSQL_PID" ]; then
	# The whole suite twice: sessions carried by the kernel (--fastpath on,
	# each shunt must show the kernel carried the bytes), then by the
	# user-space relay (--fastpath off).
	e2e_scripts=(tests/e2e/test_*.sh)
	for mode in on off; do
		prefix=kernel/
		[ $mode = off ] && prefix=user/
		for script in "${e2e_scripts[@]}"; do
			n=$(basename "$script" .sh); n=${n#test_}
			if [ -n "${E2E_ONLY:-}" ] && [[ " $E2E_ONLY " != *" $n "* ]]; then continue; fi
			if [ $mode = off ] && [[ " $KERNEL_ONLY_E2E " == *" $n "* ]]; then continue; fi
			E2E_FASTPATH=$mode run_e2e "$script" build/shunt "$prefix"
		done
	done
	[ ${#e2e_scripts[@]} -eq 0 ] && fail "e2e" "no tests/e2e/test_*.sh"
	# The stream-parser attachment (kernels before 5.13) on the tests that
	# stress framing: big packets, many small ones, punts, prepared statements.
	for n in $STREAM_PARSER_E2E; do
		if [ -n "${E2E_ONLY:-}" ] && [[ " $E2E_ONLY " != *" $n "* ]]; then continue; fi
		E2E_FASTPATH=on E2E_FASTPATH_MODE=stream_parser \
			run_e2e "tests/e2e/test_$n.sh" build/shunt "kernel-sp/"
	done

	if [ "${SKIP_SAN:-0}" != 1 ]; then
		export E2E_SAN_LOG_DIR=$LOGDIR/san-logs
		for n in $SAN_E2E; do
			if [ -n "${E2E_ONLY:-}" ] && [[ " $E2E_ONLY " != *" $n "* ]]; then continue; fi
			[ -f "tests/e2e/test_$n.sh" ] || { fail "san/$n" "tests/e2e/test_$n.sh is missing"; continue; }
			E2E_FASTPATH=on run_e2e "tests/e2e/test_$n.sh" build-san/shunt "san/kernel/"
		done
		for n in $SAN_E2E_USER; do
			if [ -n "${E2E_ONLY:-}" ] && [[ " $E2E_ONLY " != *" $n "* ]]; then continue; fi
			E2E_FASTPATH=off run_e2e "tests/e2e/test_$n.sh" build-san/shunt "san/user/"
		done
		unset E2E_SAN_LOG_DIR
		section "sanitizer logs"
		logs=("$LOGDIR"/san-logs/*.log)
		bad=$(grep -lE 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "${logs[@]}" /dev/null 2>/dev/null)
		if [ ${#logs[@]} -eq 0 ]; then
			fail "san.logs" "no log of build-san/shunt was collected (did it ever start?)"
		elif [ -n "$bad" ]; then
			fail "san.logs" "sanitizer reports in: $(echo $bad | sed "s|$ROOT/||g")"
		else
			pass "san.logs" "${#logs[@]} build-san/shunt logs, no 'ERROR: ...Sanitizer' or 'runtime error' line"
		fi
	fi
fi

# ---------------------------------------------------------------- summary

np=$(grep -c '^PASS: ' "$RESULTS")
nf=$(grep -c '^FAIL: ' "$RESULTS")
ns=$(grep -c '^SKIP: ' "$RESULTS")
section "summary ($(( $(date +%s) - T_START )) s; logs in ${LOGDIR#$ROOT/})"
if [ "$nf" -gt 0 ]; then
	echo "failed:"
	grep '^FAIL: ' "$RESULTS" | cut -c1-200 | sed 's/^/  /'
fi
echo "$np passed, $nf failed, $ns skipped"
[ "$nf" -eq 0 ]
