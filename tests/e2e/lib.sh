# lib.sh — helpers sourced by every tests/e2e/test_*.sh.
#
# A test script does:
#
#     . "$(dirname "$0")/lib.sh"
#     e2e_init basic              # names the test, installs the EXIT trap
#     mariadb_ensure              # the shared MariaDB, or a private one
#     shunt_start                 # build/shunt in front of it
#     ... checks: pass NAME DETAIL / fail NAME REASON / skip NAME WHY ...
#     e2e_finish                  # exit status: 1 if any check failed
#
# Output contract (the runner counts these lines):
#     PASS: <name> (<what was checked>)
#     FAIL: <name>: <reason>
#     SKIP: <name>: <why>
#
# Environment:
#     SHUNT_BIN        daemon to test (default build/shunt; the runner also
#                      uses build-san/shunt)
#     E2E_CLIENT_BIN   the C test client (default build/tests/e2e_client)
#     E2E_MYSQL_PORT   port of an already running test MariaDB (the runner
#                      starts one and exports it); when unset, mariadb_ensure
#                      starts a private one and stops it on exit.
#     E2E_MYSQL_SOCK   its unix socket (root access for setup and checks)
#     E2E_DIRECT=1     do not start shunt: point the clients straight at
#                      MariaDB. Proves the tests themselves; checks that only
#                      make sense with a proxy are skipped.
#     E2E_KEEP=1       keep the scratch directory after the run
#     E2E_FASTPATH     on|off|auto: passed to every shunt as --fastpath, each
#                      instance with a private --pin-path. With "on", every
#                      instance must also prove at shutdown that the kernel
#                      carried the session bytes and the user-space relay
#                      forwarded none (shunt_stop_one).
#     E2E_FASTPATH_MODE verdict|stream_parser: --fastpath-mode for each shunt

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHUNT_BIN=${SHUNT_BIN:-build/shunt}
case $SHUNT_BIN in /*) ;; *) SHUNT_BIN=$E2E_ROOT/$SHUNT_BIN ;; esac
E2E_CLIENT_BIN=${E2E_CLIENT_BIN:-build/tests/e2e_client}
case $E2E_CLIENT_BIN in /*) ;; *) E2E_CLIENT_BIN=$E2E_ROOT/$E2E_CLIENT_BIN ;; esac
PY=/usr/bin/python3     # Debian's interpreter, which has python3-pymysql

# The account every test uses, on MariaDB and in shunt's user table.
E2E_USER=shunt_test
E2E_PASS='Shunt-test_pw1'
E2E_DB=shunt_test

E2E_NAME=e2e
E2E_FAILS=0
E2E_PASSES=0
E2E_TMP=
E2E_PIDS=()             # shunt instances we started (pid list)
E2E_LOGS=()             # their logs, same order
E2E_OWN_MYSQL_PID=      # set when this script started its own MariaDB
E2E_BG_PIDS=()          # helper processes (fake backends...) to kill on exit
E2E_EXTRA_MYSQL_PIDS=() # further private MariaDB instances (mariadb_extra)

# ---------------------------------------------------------------- reporting

pass() { E2E_PASSES=$((E2E_PASSES + 1)); echo "PASS: $E2E_NAME.$1${2:+ ($2)}"; }
fail() { E2E_FAILS=$((E2E_FAILS + 1)); echo "FAIL: $E2E_NAME.$1: ${2:-failed}"; }
skip() { echo "SKIP: $E2E_NAME.$1: ${2:-skipped}"; }
info() { echo "  $E2E_NAME: $*"; }

# check NAME DETAIL CMD... : PASS when CMD succeeds, FAIL (with DETAIL) if not.
check() {
	local name=$1 detail=$2; shift 2
	if "$@"; then pass "$name" "$detail"; else fail "$name" "$detail"; fi
}

# Fails the whole test (for setup problems) and exits; the trap cleans up.
die() { fail "${2:-setup}" "$1"; exit 1; }

is_direct() { [ "${E2E_DIRECT:-0}" = 1 ]; }

# ---------------------------------------------------------------- lifecycle

e2e_init() {
	E2E_NAME=$1
	E2E_TMP=$(mktemp -d "/tmp/shunt-e2e-$1.XXXXXX")
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

# Stops every shunt we started (their logs get their final lines) and
# every background client.
stop_spawned() {
	local i
	for i in "${!E2E_PIDS[@]}"; do
		shunt_stop_one "$i"
	done
	for i in "${E2E_BG_PIDS[@]}"; do
		kill "$i" 2>/dev/null
		wait "$i" 2>/dev/null
	done
	E2E_BG_PIDS=()
}

# Stops every shunt we started, checks their logs for sanitizer reports and
# unexpected deaths, stops a private MariaDB, removes the scratch dir.
e2e_cleanup() {
	local rc=$? i
	stop_spawned
	if [ -n "$E2E_OWN_MYSQL_PID" ]; then
		mariadb_stop "$E2E_OWN_MYSQL_PID"
		E2E_OWN_MYSQL_PID=
	fi
	for i in "${E2E_EXTRA_MYSQL_PIDS[@]}"; do
		mariadb_stop "$i"
	done
	E2E_EXTRA_MYSQL_PIDS=()
	if [ -n "$E2E_TMP" ] && [ "${E2E_KEEP:-0}" != 1 ]; then
		rm -rf "$E2E_TMP"
	fi
	[ "$E2E_FAILS" -gt 0 ] && rc=1
	exit "$rc"
}

# Prints a one-line summary and exits 1 if any check failed.
e2e_finish() {
	info "$E2E_PASSES checks passed, $E2E_FAILS failed"
	[ "$E2E_FAILS" -eq 0 ] && exit 0
	exit 1
}

# ---------------------------------------------------------------- ports

# Prints a loopback TCP port nobody listens on. Ports come from 20000-29999,
# away from 3306, the 34xx dev instances and the ephemeral range (32768+)
# that clients use for their own ends.
free_port() {
	local p n
	for n in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 10000))
		if ! ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_port PORT SECONDS [PID]: until something accepts on 127.0.0.1:PORT.
# Gives up early when PID (the process that should listen) dies.
wait_port() {
	local port=$1 secs=$2 pid=${3:-} i
	for i in $(seq 1 $((secs * 10))); do
		if ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then
			return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- MariaDB

# mariadb_start DIR PORT: scratch MariaDB with its datadir, socket and log in
# DIR, listening on 127.0.0.1:PORT. Prints the pid. Needs root (--user=root).
mariadb_start() {
	local dir=$1 port=$2 pid i
	mkdir -p "$dir/data"
	if ! mariadb-install-db --no-defaults --user=root --datadir="$dir/data" \
		--auth-root-authentication-method=socket --skip-test-db \
		>"$dir/install.log" 2>&1; then
		echo "mariadb-install-db failed, see $dir/install.log" >&2
		tail -5 "$dir/install.log" >&2
		return 1
	fi
	mariadbd --no-defaults --user=root --datadir="$dir/data" \
		--port="$port" --bind-address=127.0.0.1 --socket="$dir/mysqld.sock" \
		--pid-file="$dir/mysqld.pid" --log-error="$dir/mysqld.err" \
		--skip-log-bin --skip-name-resolve \
		--innodb-buffer-pool-size=256M --innodb-log-file-size=256M \
		--innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 \
		--max-allowed-packet=1G --local-infile=1 --max-connections=1000 \
		--connect-timeout=10 --secure-file-priv= \
		>/dev/null 2>&1 &
	pid=$!
	for i in $(seq 1 300); do
		if mariadb-admin --no-defaults -S "$dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "mariadbd exited during start-up:" >&2
			tail -20 "$dir/mysqld.err" >&2
			return 1
		fi
		sleep 0.1
	done
	if ! mariadb-admin --no-defaults -S "$dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
		echo "mariadbd did not become ready in 30 s" >&2
		kill "$pid" 2>/dev/null
		return 1
	fi
	# Accounts: mysql_native_password, as shunt logs in with the client's
	# SHA1(password). Both '%' and 'localhost' so that the host part never
	# picks another entry.
	mariadb --no-defaults -S "$dir/mysqld.sock" -uroot <<-SQL >&2 || return 1
		CREATE DATABASE IF NOT EXISTS $E2E_DB;
		CREATE DATABASE IF NOT EXISTS sbtest;
		CREATE USER IF NOT EXISTS '$E2E_USER'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$E2E_PASS');
		CREATE USER IF NOT EXISTS '$E2E_USER'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$E2E_PASS');
		GRANT ALL ON *.* TO '$E2E_USER'@'%';
		GRANT ALL ON *.* TO '$E2E_USER'@'localhost';
		CREATE USER IF NOT EXISTS 'shunt_other'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('other_pw');
		GRANT SELECT ON $E2E_DB.* TO 'shunt_other'@'%';
		FLUSH PRIVILEGES;
	SQL
	echo "$pid"
}

# mariadb_stop PID: clean shutdown, SIGKILL after 30 s.
mariadb_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# mariadb_ensure: sets MYSQL_PORT and MYSQL_SOCK to the shared instance
# (E2E_MYSQL_PORT/E2E_MYSQL_SOCK) or starts a private one in $E2E_TMP.
mariadb_ensure() {
	if [ -n "${E2E_MYSQL_PORT:-}" ]; then
		MYSQL_PORT=$E2E_MYSQL_PORT
		MYSQL_SOCK=${E2E_MYSQL_SOCK:?E2E_MYSQL_SOCK must be set with E2E_MYSQL_PORT}
		return 0
	fi
	MYSQL_PORT=$(free_port) || die "no free port for MariaDB"
	E2E_OWN_MYSQL_PID=$(mariadb_start "$E2E_TMP/mysql" "$MYSQL_PORT") ||
		die "could not start MariaDB"
	MYSQL_SOCK=$E2E_TMP/mysql/mysqld.sock
	info "private MariaDB on 127.0.0.1:$MYSQL_PORT (pid $E2E_OWN_MYSQL_PID)"
}

# mariadb_extra NAME: one more private MariaDB, independent of the test one
# (its own datadir $E2E_TMP/NAME, port and socket) with the same accounts and
# databases (mariadb_start creates them); stopped on exit. Sets
# EXTRA_MYSQL_PORT and EXTRA_MYSQL_SOCK; returns 1 when it does not start.
mariadb_extra() {
	local name=$1 port pid
	port=$(free_port) || { echo "no free port for MariaDB $name" >&2; return 1; }
	if ! pid=$(mariadb_start "$E2E_TMP/$name" "$port"); then
		# it may be running with its accounts half made: stop it
		[ -s "$E2E_TMP/$name/mysqld.pid" ] && mariadb_stop "$(cat "$E2E_TMP/$name/mysqld.pid")"
		return 1
	fi
	E2E_EXTRA_MYSQL_PIDS+=("$pid")
	EXTRA_MYSQL_PORT=$port
	EXTRA_MYSQL_SOCK=$E2E_TMP/$name/mysqld.sock
	info "private MariaDB '$name' on 127.0.0.1:$port (pid $pid)"
}

# sql_root_on SOCK ARGS...: root SQL on the MariaDB whose socket is SOCK
# (batch mode, no column names), like sql_root for the test instance.
sql_root_on() {
	local sock=$1; shift
	mariadb --no-defaults -S "$sock" -uroot -N -B "$@"
}

# Root SQL on the test MariaDB through its socket (never through shunt).
# Batch mode, no column names: one line per row, tab-separated.
sql_root() {
	mariadb --no-defaults -S "$MYSQL_SOCK" -uroot -N -B "$@"
}

# Client SQL over TCP: cli PORT [mariadb args...]. As $E2E_USER.
cli() {
	local port=$1; shift
	mariadb --no-defaults -h127.0.0.1 -P"$port" -u"$E2E_USER" -p"$E2E_PASS" "$@"
}

# Number of MariaDB sessions of user $1 (default $E2E_USER), optionally
# whose running statement contains $2.
backend_sessions() {
	local user=${1:-$E2E_USER} like=${2:-}
	if [ -n "$like" ]; then
		sql_root -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER='$user' AND INFO LIKE '%$like%' AND ID <> CONNECTION_ID()"
	else
		sql_root -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER='$user'"
	fi
}

# ---------------------------------------------------------------- shunt

# shunt_spawn PORT ARGS...: runs $SHUNT_BIN ARGS... in the background with
# its stderr in a log file and waits until 127.0.0.1:PORT accepts.
# Sets SHUNT_PID and SHUNT_LOG. Returns 1 (after printing the log tail) when
# the binary is missing or does not come up.
shunt_spawn() {
	local port=$1 idx; shift
	if [ ! -x "$SHUNT_BIN" ]; then
		echo "shunt binary $SHUNT_BIN is missing" >&2
		return 1
	fi
	idx=${#E2E_PIDS[@]}
	SHUNT_LOG=$E2E_TMP/shunt.$idx.log
	# The HTTP API defaults to 127.0.0.1:6080, which concurrent instances
	# would fight over: off unless the test asks for it (later flags win).
	set -- --http off "$@"
	# Each instance keeps its HTTP API token in its own scratch file
	# (SHUNT_TOKEN_FILE), not in /run/shunt.
	SHUNT_TOKEN_FILE=$E2E_TMP/http-token.$idx
	set -- --http-token-file "$SHUNT_TOKEN_FILE" "$@"
	if [ -n "${E2E_FASTPATH:-}" ]; then
		set -- "$@" --fastpath "$E2E_FASTPATH" --pin-path "/sys/fs/bpf/shunt-e2e-$$-$idx"
		[ -n "${E2E_FASTPATH_MODE:-}" ] && set -- "$@" --fastpath-mode "$E2E_FASTPATH_MODE"
	fi
	# ASan: report to the log (stderr), do not abort on leaks silently.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
		"$SHUNT_BIN" "$@" 2>"$SHUNT_LOG" </dev/null &
	SHUNT_PID=$!
	E2E_PIDS+=("$SHUNT_PID")
	E2E_LOGS+=("$SHUNT_LOG")
	if ! wait_port "$port" 10 "$SHUNT_PID"; then
		echo "shunt did not listen on 127.0.0.1:$port; log tail:" >&2
		tail -20 "$SHUNT_LOG" >&2
		return 1
	fi
	return 0
}

# shunt_start [EXTRA ARGS...]: shunt on a free port in front of the test
# MariaDB, with the test users. Sets SHUNT_PORT, SHUNT_PID, SHUNT_LOG.
# With E2E_DIRECT=1, SHUNT_PORT is MariaDB's port and no daemon runs.
shunt_start() {
	if is_direct; then
		SHUNT_PORT=$MYSQL_PORT SHUNT_PID= SHUNT_LOG=
		info "E2E_DIRECT=1: clients talk to MariaDB on $MYSQL_PORT directly"
		return 0
	fi
	SHUNT_PORT=$(free_port) || die "no free port for shunt"
	shunt_spawn "$SHUNT_PORT" --listen "127.0.0.1:$SHUNT_PORT" \
		--backend "127.0.0.1:$MYSQL_PORT" \
		--user "$E2E_USER:$E2E_PASS" --user "shunt_other:other_pw" \
		--log-level info "$@" ||
		die "shunt did not start (${SHUNT_BIN#$E2E_ROOT/})" start
	info "shunt ${SHUNT_BIN#$E2E_ROOT/} on 127.0.0.1:$SHUNT_PORT (pid $SHUNT_PID) -> MariaDB $MYSQL_PORT"
}

# shunt_stop_one INDEX: SIGTERM one instance, wait up to 10 s; FAIL when it
# had died on its own, did not exit, or its log holds a sanitizer report.
shunt_stop_one() {
	local i=$1 pid=${E2E_PIDS[$1]} log=${E2E_LOGS[$1]} n st
	[ -n "$pid" ] || return 0
	E2E_PIDS[$i]=
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null; st=$?
		fail "shunt_alive" "shunt pid $pid exited on its own during the test (status $st); log tail: $(tail -3 "$log" | tr '\n' '|')"
	else
		kill -TERM "$pid" 2>/dev/null
		for n in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			fail "shunt_exit" "shunt pid $pid did not exit within 10 s of SIGTERM"
		fi
		wait "$pid" 2>/dev/null
	fi
	if grep -qE 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$log" 2>/dev/null; then
		fail "sanitizer" "sanitizer report in shunt log: $(grep -m1 -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$log")"
		sed -n '/ERROR: [A-Za-z]*Sanitizer\|runtime error:/,+30p' "$log" | head -60 | sed 's/^/    | /'
	fi
	[ "${E2E_FASTPATH:-}" = on ] && check_kernel_carried "$log"
	# The runner checks every log of the sanitized daemon once more.
	if [ -n "${E2E_SAN_LOG_DIR:-}" ]; then
		cp "$log" "$E2E_SAN_LOG_DIR/$E2E_NAME.$i.log" 2>/dev/null
	fi
}

# check_kernel_carried LOG: with --fastpath on, the final stats line of a
# shunt log must show that every established session was handed to the
# kernel, that the kernel's tunnel counters carried the bytes, and that the
# user-space relay forwarded nothing (punted commands are counted apart).
# A test that knows it made the program punt sets E2E_EXPECT_PUNTS=1: then
# the line must count them too (the totals outlive the stopped workers).
# A test whose sessions must fall back to the relay (bytes read in user
# space before the hand-over) sets E2E_EXPECT_FALLBACKS to their number.
check_kernel_carried() {
	local log=$1 line ok kern fb rc2s rs2c kc2s ks2c punts held
	line=$(grep -m1 'sessions: .* accepted' "$log")
	if [ -z "$line" ]; then
		fail "kernel_carried" "no final stats line in the shunt log (did it exit cleanly?)"
		return
	fi
	ok=$(sed -n 's/.* \([0-9]*\) established,.*/\1/p' <<<"$line")
	kern=$(sed -n 's/.* \([0-9]*\) kernel, .*/\1/p' <<<"$line")
	fb=$(sed -n 's/.* \([0-9]*\) fallbacks.*/\1/p' <<<"$line")
	rc2s=$(sed -n 's/.*relay bytes c2s=\([0-9]*\) .*/\1/p' <<<"$line")
	rs2c=$(sed -n 's/.*relay bytes c2s=[0-9]* s2c=\([0-9]*\).*/\1/p' <<<"$line")
	kc2s=$(sed -n 's/.*kernel bytes c2s=\([0-9]*\) .*/\1/p' <<<"$line")
	ks2c=$(sed -n 's/.*kernel bytes c2s=[0-9]* s2c=\([0-9]*\).*/\1/p' <<<"$line")
	punts=$(sed -n 's/.*; \(punts [0-9]* ([0-9]* bytes)\).*/\1/p' <<<"$line")
	held=$(sed -n 's/.*; held s2c=\([0-9]*\).*/\1/p' <<<"$line")
	[ "${held:-0}" != 0 ] && punts="$punts; held for backpressure s2c=$held bytes"
	if [ -z "$ok" ] || [ -z "$kern" ] || [ -z "$rc2s" ] || [ -z "$ks2c" ]; then
		fail "kernel_carried" "cannot read the stats line: $line"
	elif [ "$ok" = 0 ]; then
		skip "kernel_carried" "no session of this shunt instance reached a backend, nothing to carry"
	elif [ -n "${E2E_EXPECT_PUNTS:-}" ] && [ "${punts#punts }" = "0 (0 bytes)" -o -z "$punts" ]; then
		fail "kernel_carried" "this test punts commands, but the final stats line counts none: $line"
	elif [ "$fb" = "${E2E_EXPECT_FALLBACKS:-0}" ] && [ "$((kern + fb))" = "$ok" ] &&
		{ [ "$fb" != 0 ] || { [ "$rc2s" = 0 ] && [ "$rs2c" = 0 ]; }; } &&
		[ "${ks2c:-0}" -gt 0 ]; then
		local relayed="user-space relay 0 bytes"
		[ "$fb" != 0 ] && relayed="$fb relayed as the test expects (relay c2s=$rc2s s2c=$rs2c bytes)"
		pass "kernel_carried" "$kern/$ok sessions in the kernel; tunnel counters c2s=$kc2s s2c=$ks2c bytes; $relayed; $punts"
	else
		fail "kernel_carried" "expected every session in the kernel but ${E2E_EXPECT_FALLBACKS:-0} and 0 relayed bytes otherwise: $line"
	fi
}

# tcp_forward PORT TARGET_PORT: an HAProxy TCP forwarder from 127.0.0.1:PORT
# to 127.0.0.1:TARGET_PORT (a second backend address for the same MariaDB),
# killed on exit. Returns 1 when it does not come up.
tcp_forward() {
	local port=$1 target=$2 cfg="$E2E_TMP/haproxy-$1.cfg" log="$E2E_TMP/haproxy-$1.log" pid
	cat >"$cfg" <<-CFG
		global
			maxconn 2000
		defaults
			mode tcp
			timeout connect 5s
			timeout client 1h
			timeout server 1h
		listen fwd
			bind 127.0.0.1:$port
			server db 127.0.0.1:$target
	CFG
	haproxy -f "$cfg" -db >"$log" 2>&1 &
	pid=$!
	bg_track "$pid"
	wait_port "$port" 10 "$pid" && return 0
	echo "haproxy on $port did not start: $(tail -3 "$log")" >&2
	return 1
}

# bg_track PID: a helper process of the test, killed on exit.
bg_track() { E2E_BG_PIDS+=("$1"); }

# fd_count PID: open descriptors of a process.
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# close_wait_count PID: TCP sockets of PID in CLOSE-WAIT.
close_wait_count() {
	ss -Htanp state close-wait 2>/dev/null | grep -c "pid=$1," || true
}

# wait_until SECS CMD...: retries CMD every 0.2 s until it succeeds.
wait_until() {
	local secs=$1 i; shift
	for i in $(seq 1 $((secs * 5))); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

# run_checks LABEL CMD...: runs a program that prints PASS:/FAIL:/SKIP:
# lines, echoes them prefixed with the test name and counts them. Other
# lines are indented. A non-zero exit without any FAIL line is a FAIL.
run_checks() {
	local label=$1 out rc line nfail=0; shift
	out=$("$@" 2>&1)
	rc=$?
	E2E_LAST_OUT=$out       # for tests that compare two runs
	while IFS= read -r line; do
		case $line in
		PASS:\ *) E2E_PASSES=$((E2E_PASSES + 1)); echo "PASS: $E2E_NAME.${line#PASS: }" ;;
		FAIL:\ *) E2E_FAILS=$((E2E_FAILS + 1)); nfail=$((nfail + 1)); echo "FAIL: $E2E_NAME.${line#FAIL: }" ;;
		SKIP:\ *) echo "SKIP: $E2E_NAME.${line#SKIP: }" ;;
		'') ;;
		*) echo "  $E2E_NAME: $line" ;;
		esac
	done <<<"$out"
	if [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
		fail "$label" "$1 exited with status $rc and no FAIL line"
	fi
	return "$rc"
}

# client SCENARIO [ARG] [PORT] [USER] [PASS]: the C test client
# (tests/e2e/e2e_client.c) against PORT (default: shunt's).
client() {
	local scen=$1 arg=${2:-} port=${3:-$SHUNT_PORT} user=${4:-$E2E_USER} pw=${5:-$E2E_PASS}
	if [ ! -x "$E2E_CLIENT_BIN" ]; then
		fail "$scen" "test client $E2E_CLIENT_BIN is missing (make $(basename "$(dirname "$(dirname "$E2E_CLIENT_BIN")")")/tests/e2e_client)"
		return 1
	fi
	run_checks "$scen" "$E2E_CLIENT_BIN" 127.0.0.1 "$port" "$user" "$pw" "$E2E_DB" "$scen" $arg
}

# shunt_config FILE PORT: starts shunt with -c FILE and waits for PORT.
shunt_config() {
	local file=$1 port=$2
	shunt_spawn "$port" -c "$file" || die "shunt -c $file did not start" start
	info "shunt ${SHUNT_BIN#$E2E_ROOT/} -c $(basename "$file") (pid $SHUNT_PID), waiting on $port"
}
