#!/usr/bin/env bash
# bench.sh — `make bench`: throughput and latency of every way a client can
# reach MariaDB on this host, measured in one run with interleaved rounds.
#
# Paths, each a TCP endpoint on 127.0.0.1:
#   direct       MariaDB itself
#   relay        build/shunt --fastpath off (the user-space relay)
#   fp_verdict   build/shunt --fastpath on, fastpath_mode = verdict
#   fp_stream    build/shunt --fastpath on, fastpath_mode = stream_parser
#   haproxy      HAProxy, mode tcp, one server
# A shunt path whose daemon refuses to start (e.g. a fast-path mode this
# build does not have yet) is reported as "n/a" with the first line of
# shunt's error; nothing here needs to change once the daemon accepts it.
#
# Workloads: sysbench oltp_point_select and oltp_read_only at 1 and 8
# threads, and streaming a ~500 MB result with the mariadb CLI (--quick).
#
# Method: warm up every path once (2 s point_select), then for each round,
# for each workload, run every path, the path order rotated per round and
# workload so slow drift does not favour one path. Each path's per-round
# result is divided by direct's result of the same round; the report shows
# the median of those ratios and the median absolute numbers. A run that
# fails (non-zero exit, sysbench errors or reconnects) is an "err" cell for
# that round; the bench goes on.
#
# Output: a table on stdout, docs/benchmarks.md rewritten, raw per-round
# numbers in build/bench/raw.csv.
#
# Environment:
#   BENCH_ROUNDS       rounds (default 3)
#   BENCH_TIME         seconds per sysbench run (default 8)
#   BENCH_WARMUP       seconds of the per-path warm-up (default 2)
#   BENCH_STREAM_ROWS  rows of the streamed result (default 2000000, ~500 MB)
#   BENCH_PATHS        subset of paths to run (default: all five)
#   BENCH_DOC          report file (default docs/benchmarks.md; empty: none)
#   BENCH_OUT          directory for raw.csv and logs (default build/bench)
#   SHUNT_BIN          daemon to measure (default build/shunt)
#
# Needs root (the scratch MariaDB runs with --user=root) and the packages of
# tools/install-deps.sh. Talks only to 127.0.0.1 and to its own unix socket.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ENV_SHUNT_BIN=${SHUNT_BIN:-}    # as given, for the report (lib.sh sets a default)
# free_port, wait_port, mariadb_start, mariadb_stop, SHUNT_BIN.
. tests/e2e/lib.sh

PY=/usr/bin/python3
ROUNDS=${BENCH_ROUNDS:-3}
TIME=${BENCH_TIME:-8}
WARMUP=${BENCH_WARMUP:-2}
STREAM_ROWS=${BENCH_STREAM_ROWS:-2000000}
PATHS=${BENCH_PATHS:-"direct relay fp_verdict fp_stream haproxy"}
DOC=${BENCH_DOC-docs/benchmarks.md}
OUT=${BENCH_OUT:-build/bench}
NCPU=$(nproc)

SB_USER=sbtest
SB_PASS='sbtest-Bench_pw1'
SB_DB=sbtest
SB_TABLES=4
SB_ROWS=10000
WORKLOADS="ps1 ps8 ro1 ro8 stream"

say() { echo "bench: $*"; }
die() { echo "bench: $*" >&2; exit 1; }

for v in ROUNDS TIME WARMUP STREAM_ROWS; do
	case ${!v} in '' | *[!0-9]* | 0) die "BENCH_$v must be a positive integer (got '${!v}')" ;; esac
done
for p in $PATHS; do
	case $p in direct | relay | fp_verdict | fp_stream | haproxy) ;;
	*) die "BENCH_PATHS: unknown path '$p' (direct relay fp_verdict fp_stream haproxy)" ;;
	esac
done
case " $PATHS " in *" direct "*) ;; *) die "BENCH_PATHS must include direct (ratios are to direct)" ;; esac
for t in sysbench haproxy mariadb mariadbd mariadb-install-db mariadb-admin ss timeout "$PY"; do
	command -v "$t" >/dev/null || die "$t is missing; run 'make deps'"
done
[ -x "$SHUNT_BIN" ] || die "$SHUNT_BIN is missing; run 'make'"
[ "$(id -u)" = 0 ] || die "needs root (the scratch MariaDB runs with --user=root)"

# ---------------------------------------------------------------- cleanup

TMP=$(mktemp -d /tmp/shunt-bench.XXXXXX)
DB_PID=
BG_PIDS=()      # shunt and haproxy instances
CUR_PID=        # the client run in progress
PIN_BASE=/sys/fs/bpf/shunt-bench-$$    # + -ID: bpffs pin path per fast-path daemon
PINS=()
cleanup() {
	local pid pin i
	trap - EXIT INT TERM
	if [ -n "$CUR_PID" ]; then
		kill -TERM "$CUR_PID" 2>/dev/null
		wait "$CUR_PID" 2>/dev/null
	fi
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BG_PIDS[@]}"; do
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[ -n "$DB_PID" ] && mariadb_stop "$DB_PID"
	# A daemon unpins at a clean exit; this catches one that did not.
	for pin in "${PINS[@]}"; do
		case $pin in /sys/fs/bpf/shunt-bench-*) [ -d "$pin" ] && rm -rf "$pin" ;; esac
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; say "interrupted"; exit 130' INT TERM

# run_fg TIMEOUT CMD...: runs CMD in the background under timeout(1) and
# waits for it, so that a signal to the bench is handled at once (bash runs
# traps only after a foreground command ends). Returns CMD's status.
run_fg() {
	local secs=$1 rc; shift
	timeout -k 5 "$secs" "$@" &
	CUR_PID=$!
	wait "$CUR_PID"
	rc=$?
	CUR_PID=
	return "$rc"
}

# ---------------------------------------------------------------- paths

declare -A PORT LABEL STATUS REASON CMDLINE

# fmt_dur SECONDS: "12 min 5 s".
fmt_dur() { printf '%d min %d s' $(($1 / 60)) $(($1 % 60)); }

# estimate NPATHS STREAM_SECS: seconds the warm-up and rounds will take.
# A sysbench run costs about 0.5 s beyond --time (start, connect, report).
estimate() {
	local n=$1 ss=$2
	echo $((n * (WARMUP + 1) + ROUNDS * n * (4 * TIME + 2 + ss)))
}

# mysql_ping PORT: SELECT 1 as the sysbench user through PORT.
mysql_ping() {
	timeout 10 mariadb --no-defaults -h127.0.0.1 -P"$1" -u"$SB_USER" -p"$SB_PASS" \
		-N -B -e 'SELECT 1' 2>&1 | head -3
}

# path_na ID REASON
path_na() {
	STATUS[$1]=na
	REASON[$1]=$2
	say "${LABEL[$1]}: n/a ($2)"
}

# start_shunt ID MODE: MODE off, verdict or stream_parser. A daemon that
# does not listen within 10 s (it printed an error and exited) or does not
# answer SELECT 1 makes the path n/a.
# path_up ID PORT PID: a path's process listens; keep it for clean-up,
# check that SELECT 1 goes through, and mark the path usable (or n/a).
path_up() {
	local id=$1 port=$2 pid=$3 out
	BG_PIDS+=("$pid")
	out=$(mysql_ping "$port")
	if [ "$out" != 1 ]; then
		path_na "$id" "started but SELECT 1 failed: $(echo "$out" | head -1)"
		return
	fi
	PORT[$id]=$port
	STATUS[$id]=ok
	say "${LABEL[$id]}: 127.0.0.1:$port (pid $pid)"
}

start_shunt() {
	local id=$1 mode=$2 port log conf pin pid out args reason
	port=$(free_port) || { path_na "$id" "no free port"; return; }
	log=$OUT/shunt-$id.log
	args=(--listen "127.0.0.1:$port" --backend "127.0.0.1:$DB_PORT"
		--user "$SB_USER:$SB_PASS" --http off)
	if [ "$mode" = off ]; then
		args+=(--fastpath off)
	else
		# Its own pin path: a daemon removes the pins it finds at start-up,
		# so two instances (or another engineer's) must not share one.
		pin=$PIN_BASE-$id
		PINS+=("$pin")
		conf=$TMP/shunt-$id.ini
		printf '[global]\nfastpath_mode = %s\npin_path = %s\n' "$mode" "$pin" >"$conf"
		args=(-c "$conf" "${args[@]}" --fastpath on)
	fi
	CMDLINE[$id]="${SHUNT_BIN#$ROOT/} ${args[*]}${conf:+  ($(basename "$conf"): [global] fastpath_mode = $mode, pin_path = ${pin/$PIN_BASE/\/sys\/fs\/bpf\/shunt-bench-PID})}"
	CMDLINE[$id]=${CMDLINE[$id]//$TMP\//}
	"$SHUNT_BIN" "${args[@]}" 2>"$log" </dev/null &
	pid=$!
	if ! wait_port "$port" 10 "$pid"; then
		wait "$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
		# Every line of the refusal (config errors come before flag errors).
		reason=$(grep . "$log" | head -3 | paste -sd'|' | sed 's/|/ \/ /g')
		reason=${reason//$TMP\//}
		path_na "$id" "${reason:-shunt did not listen on 127.0.0.1:$port within 10 s}"
		return
	fi
	path_up "$id" "$port" "$pid"
}

start_haproxy() {
	local id=haproxy port cfg log pid out
	port=$(free_port) || { path_na "$id" "no free port"; return; }
	cfg=$TMP/haproxy.cfg
	log=$OUT/haproxy.log
	cat >"$cfg" <<-EOF
		global
		    nbthread $NCPU
		    maxconn 4096

		defaults
		    mode tcp
		    balance leastconn
		    maxconn 4096
		    timeout connect 5s
		    timeout client 1h
		    timeout server 1h

		listen mysql
		    bind 127.0.0.1:$port
		    server db1 127.0.0.1:$DB_PORT
	EOF
	CMDLINE[$id]="haproxy -f haproxy.cfg -db: $(grep -v '^$' "$cfg" | sed 's/^ *//' | paste -sd';' | sed 's/;/; /g')"
	if ! haproxy -c -q -f "$cfg" >"$log" 2>&1; then
		path_na "$id" "haproxy -c: $(grep -m1 . "$log")"
		return
	fi
	haproxy -f "$cfg" -db >>"$log" 2>&1 </dev/null &
	pid=$!
	if ! wait_port "$port" 10 "$pid"; then
		kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
		path_na "$id" "$(grep -m1 ALERT "$log" || grep -m1 . "$log")"
		return
	fi
	path_up "$id" "$port" "$pid"
}

# ---------------------------------------------------------------- runs

SB_COMMON=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-user="$SB_USER"
	--mysql-password="$SB_PASS" --mysql-db="$SB_DB" --tables="$SB_TABLES"
	--table-size="$SB_ROWS")

# run_sysbench PORT TEST THREADS SECS LOG: sets R_STATUS (ok/err), R_QPS,
# R_P95 (ms), R_NOTE. Any error makes the run invalid: errors are not
# ignored (--mysql-ignore-errors=none), and ignored errors or reconnects in
# the report also count as a failure.
run_sysbench() {
	local port=$1 test=$2 thr=$3 secs=$4 log=$5 rc ign rec
	run_fg $((secs + 60)) sysbench "$test" "${SB_COMMON[@]}" --mysql-port="$port" \
		--threads="$thr" --time="$secs" --report-interval=0 --histogram=off \
		--percentile=95 --mysql-ignore-errors=none run >"$log" 2>&1
	rc=$?
	R_QPS=$(sed -n 's/^ *queries: *[0-9]* *(\([0-9.]*\) per sec.*/\1/p' "$log" | head -1)
	R_P95=$(sed -n 's/^ *95th percentile: *\([0-9.]*\).*/\1/p' "$log" | head -1)
	ign=$(sed -n 's/^ *ignored errors: *\([0-9]*\).*/\1/p' "$log" | head -1)
	rec=$(sed -n 's/^ *reconnects: *\([0-9]*\).*/\1/p' "$log" | head -1)
	R_STATUS=ok R_NOTE=
	if [ "$rc" != 0 ]; then
		R_NOTE="exit $rc: $(grep -m1 -E 'FATAL|error|Error' "$log" | tr -s ' ,' ' ')"
	elif [ -z "$R_QPS" ] || [ -z "$R_P95" ]; then
		R_NOTE="no result in sysbench output"
	elif grep -q FATAL "$log"; then
		R_NOTE=$(grep -m1 FATAL "$log")
	elif [ "${ign:-0}" != 0 ] || [ "${rec:-0}" != 0 ]; then
		R_NOTE="ignored errors $ign, reconnects $rec"
	fi
	if [ -n "$R_NOTE" ]; then
		R_STATUS=err R_QPS= R_P95=
	fi
}

STREAM_SQL="SELECT seq, REPEAT('x', 240) FROM seq_1_to_$STREAM_ROWS"

# run_stream PORT LOG: times the streamed result into /dev/null. Sets
# R_STATUS, R_SECS, R_MBPS (from STREAM_BYTES, counted once on direct).
run_stream() {
	local port=$1 log=$2 t0 t1 rc
	t0=$(date +%s%N)
	run_fg 600 mariadb --no-defaults -h127.0.0.1 -P"$port" -u"$SB_USER" -p"$SB_PASS" \
		-D"$SB_DB" -N -B --quick -e "$STREAM_SQL" >/dev/null 2>"$log"
	rc=$?
	t1=$(date +%s%N)
	R_STATUS=ok R_NOTE= R_SECS= R_MBPS=
	if [ "$rc" != 0 ] || [ -s "$log" ]; then
		R_STATUS=err
		R_NOTE="exit $rc: $(head -1 "$log")"
		return
	fi
	R_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	R_MBPS=$(awk -v n="$STREAM_BYTES" -v s="$R_SECS" 'BEGIN { printf "%.1f", n / 1e6 / s }')
}

csv_field() { local s=${1//\"/\'}; printf '"%s"' "$s"; }

# run_one ROUND WORKLOAD ID SEQ: one measurement, appended to raw.csv.
run_one() {
	local r=$1 w=$2 id=$3 seq=$4 log port=${PORT[$3]} what
	log=$OUT/logs/r$r-$w-$id.log
	R_QPS= R_P95= R_MBPS= R_SECS=
	case $w in
	ps1) run_sysbench "$port" oltp_point_select 1 "$TIME" "$log" ;;
	ps8) run_sysbench "$port" oltp_point_select 8 "$TIME" "$log" ;;
	ro1) run_sysbench "$port" oltp_read_only 1 "$TIME" "$log" ;;
	ro8) run_sysbench "$port" oltp_read_only 8 "$TIME" "$log" ;;
	stream) run_stream "$port" "$log" ;;
	esac
	if [ "$R_STATUS" = ok ]; then
		if [ "$w" = stream ]; then
			what="$R_MBPS MB/s ($R_SECS s)"
		else
			what="$R_QPS qps, p95 $R_P95 ms"
		fi
	else
		what="ERR: $R_NOTE"
	fi
	printf 'bench:   round %d  %-6s  %-10s  %s\n' "$r" "$w" "$id" "$what"
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$r" "$w" "$id" "$seq" "$R_STATUS" \
		"$R_QPS" "$R_P95" "$R_MBPS" "$R_SECS" "$(csv_field "$R_NOTE")" >>"$RAW"
}

# cpu_sample: "BUSY STEAL TOTAL OWN" in clock ticks. BUSY (user, nice,
# system, irq, softirq) and TOTAL come from /proc/stat, all CPUs. OWN is the
# CPU time of this bench: MariaDB, the proxies, and every client run it
# waited for (cutime/cstime of this shell). BUSY - OWN over a window is what
# other processes used, the noise this bench cannot remove. It is an upper
# bound: it also holds softirq time not charged to our processes (loopback
# TCP) and kernel threads working for us (kworkers, e.g. the fast path's
# redirects), a few % on an otherwise idle machine.
cpu_sample() {
	local busy steal total own=0 pid f
	read -r busy steal total < <(awk '/^cpu / {
		print $2 + $3 + $4 + $7 + $8, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
	for pid in $$ $DB_PID "${BG_PIDS[@]}"; do
		f=$(cut -d')' -f2- "/proc/$pid/stat" 2>/dev/null) || continue
		own=$((own + $(echo "$f" | awk '{ print $12 + $13 + $14 + $15 }')))
	done
	echo "$busy $steal $total $own"
}

# cpu_other SAMPLE0 SAMPLE1: "OTHER% STEAL%" of the machine in the window.
cpu_other() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		t = y[3] - x[3]; if (t <= 0) t = 1
		o = (y[1] - x[1]) - (y[4] - x[4]); if (o < 0) o = 0
		printf "%.1f %.1f", 100 * o / t, 100 * (y[2] - x[2]) / t }'
}

# ---------------------------------------------------------------- main

T_START=$(date +%s)
rm -rf "$OUT"
mkdir -p "$OUT/logs"
RAW=$OUT/raw.csv
echo 'round,workload,path,order,status,qps,p95_ms,mbps,secs,note' >"$RAW"

LABEL[direct]="direct MariaDB"
LABEL[relay]="shunt relay (--fastpath off)"
LABEL[fp_verdict]="shunt fast path, verdict"
LABEL[fp_stream]="shunt fast path, stream parser"
LABEL[haproxy]="HAProxy, tcp mode"

n_all=$(echo $PATHS | wc -w)
say "$ROUNDS rounds x 5 workloads x $n_all paths, sysbench runs of $TIME s, $NCPU CPUs"
say "expected duration with all paths working: about $(fmt_dur $(($(estimate "$n_all" 6) + 60)))"

# MariaDB: the e2e helper, then a 1 GB buffer pool (resized online).
DB_PORT=$(free_port) || die "no free port for MariaDB"
say "starting MariaDB on 127.0.0.1:$DB_PORT"
DB_PID=$(mariadb_start "$TMP/mysql" "$DB_PORT") || die "MariaDB did not start"
DB_SOCK=$TMP/mysql/mysqld.sock
sql_root() { mariadb --no-defaults -S "$DB_SOCK" -uroot -N -B "$@"; }
sql_root <<-SQL || die "MariaDB setup failed"
	SET GLOBAL innodb_buffer_pool_size = 1024 * 1024 * 1024;
	CREATE DATABASE IF NOT EXISTS $SB_DB;
	CREATE USER IF NOT EXISTS '$SB_USER'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$SB_PASS');
	CREATE USER IF NOT EXISTS '$SB_USER'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$SB_PASS');
	GRANT ALL ON $SB_DB.* TO '$SB_USER'@'%';
	GRANT ALL ON $SB_DB.* TO '$SB_USER'@'localhost';
	FLUSH PRIVILEGES;
SQL
PORT[direct]=$DB_PORT
STATUS[direct]=ok
CMDLINE[direct]="mariadbd --port=PORT --bind-address=127.0.0.1 (tests/e2e/lib.sh mariadb_start; innodb_buffer_pool_size = 1G)"

say "sysbench prepare: $SB_TABLES tables x $SB_ROWS rows"
if ! run_fg 600 sysbench oltp_read_only "${SB_COMMON[@]}" --mysql-port="$DB_PORT" \
	--threads="$SB_TABLES" prepare >"$OUT/prepare.log" 2>&1; then
	die "sysbench prepare failed: $(tail -3 "$OUT/prepare.log" | tr '\n' ' ')"
fi
for i in $(seq 1 100); do      # the pool resize runs in the background
	[ "$(sql_root -e 'SELECT @@innodb_buffer_pool_size')" = 1073741824 ] && break
	sleep 0.1
done
BUFPOOL=$(sql_root -e 'SELECT @@innodb_buffer_pool_size DIV 1048576')

for id in $PATHS; do
	case $id in
	direct) ;;
	relay) start_shunt relay off ;;
	fp_verdict) start_shunt fp_verdict verdict ;;
	fp_stream) start_shunt fp_stream stream_parser ;;
	haproxy) start_haproxy ;;
	esac
done
OK_PATHS=()
for id in $PATHS; do
	[ "${STATUS[$id]}" = ok ] && OK_PATHS+=("$id")
done
NOK=${#OK_PATHS[@]}

# The stream's size, counted once on the direct path.
say "counting the stream's bytes on the direct path"
t0=$(date +%s%N)
STREAM_BYTES=$(mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -u"$SB_USER" -p"$SB_PASS" \
	-D"$SB_DB" -N -B --quick -e "$STREAM_SQL" | wc -c)
t1=$(date +%s%N)
[ "${STREAM_BYTES:-0}" -gt 0 ] || die "streaming query returned nothing"
ss_est=$(((t1 - t0) / 1000000000 + 2))
say "stream: $STREAM_BYTES bytes ($((STREAM_BYTES / 1000000)) MB) per run"

est=$(estimate "$NOK" "$ss_est")
say "measuring ${OK_PATHS[*]}: expected about $(fmt_dur "$est") from now"

say "warm-up: ${WARMUP} s oltp_point_select, 8 threads, per path"
CPU_IDLE0=$(cpu_sample)
for id in "${OK_PATHS[@]}"; do
	run_sysbench "${PORT[$id]}" oltp_point_select 8 "$WARMUP" "$OUT/logs/warmup-$id.log"
	say "  warm-up $id: ${R_QPS:-ERR $R_NOTE}${R_QPS:+ qps}"
done

read -r IDLE_OTHER _ < <(cpu_other "$CPU_IDLE0" "$(cpu_sample)")
say "during the warm-up other processes used at most ${IDLE_OTHER}% of the CPU"
T_MEASURE=$(date +%s)
CPU0=$(cpu_sample)
wi=0
for r in $(seq 1 "$ROUNDS"); do
	say "round $r of $ROUNDS"
	wi=0
	for w in $WORKLOADS; do
		# Rotate the order by round and by workload.
		off=$(((r - 1 + wi) % NOK))
		for k in $(seq 0 $((NOK - 1))); do
			id=${OK_PATHS[$(((k + off) % NOK))]}
			run_one "$r" "$w" "$id" "$k"
		done
		wi=$((wi + 1))
	done
done
T_END=$(date +%s)
read -r OTHER_PCT STEAL_PCT < <(cpu_other "$CPU0" "$(cpu_sample)")
say "during the rounds other processes used at most ${OTHER_PCT}% of the machine's CPU, steal ${STEAL_PCT}%"

# ---------------------------------------------------------------- report

META=$OUT/meta.tsv
{
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'kernel\t%s\n' "$(uname -r)"
	printf 'cpus\t%s\n' "$NCPU"
	printf 'cpu_model\t%s\n' "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
	printf 'mariadb\t%s\n' "$(sql_root -e 'SELECT VERSION()')"
	printf 'haproxy\t%s\n' "$(haproxy -v | head -1 | sed 's/ - https.*//')"
	printf 'sysbench\t%s\n' "$(sysbench --version)"
	printf 'shunt\t%s\n' "$("$SHUNT_BIN" -V 2>&1 | head -1)"
	printf 'commit\t%s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
	cmd="tools/bench.sh"
	[ -n "${MAKELEVEL:-}" ] && cmd="make bench"
	for v in BENCH_ROUNDS BENCH_TIME BENCH_WARMUP BENCH_STREAM_ROWS BENCH_PATHS ENV_SHUNT_BIN; do
		[ -n "${!v:-}" ] && cmd="${v#ENV_}='${!v}' $cmd"
	done
	printf 'command\t%s\n' "$cmd"
	printf 'rounds\t%s\n' "$ROUNDS"
	printf 'time\t%s\n' "$TIME"
	printf 'warmup\t%s\n' "$WARMUP"
	printf 'tables\t%s\n' "$SB_TABLES"
	printf 'rows\t%s\n' "$SB_ROWS"
	printf 'bufpool_mb\t%s\n' "$BUFPOOL"
	printf 'stream_bytes\t%s\n' "$STREAM_BYTES"
	printf 'stream_sql\t%s\n' "$STREAM_SQL"
	printf 'cpu_other\t%s\n' "$OTHER_PCT"
	printf 'cpu_steal\t%s\n' "$STEAL_PCT"
	printf 'duration_total\t%s\n' "$((T_END - T_START))"
	printf 'duration_measure\t%s\n' "$((T_END - T_MEASURE))"
	for id in $PATHS; do
		printf 'path\t%s\t%s\t%s\t%s\t%s\n' "$id" "${LABEL[$id]}" "${STATUS[$id]}" \
			"${REASON[$id]:-}" "${CMDLINE[$id]:-}"
	done
	# What each shunt said about the fast path at start-up, and how its
	# sessions ran ("mode=kernel" / "mode=user" on "session established").
	for id in relay fp_verdict fp_stream; do
		[ "${STATUS[$id]:-}" = ok ] || continue
		log=$OUT/shunt-$id.log
		grep -i -E 'fast ?path|fall' "$log" 2>/dev/null | grep -v 'session established' |
			grep -v 'stale pin' | head -3 | sed 's/^[0-9T:.-]*Z //' |
			while IFS= read -r line; do printf 'log\t%s\t%s\n' "$id" "$line"; done
		modes=$(grep 'session established' "$log" 2>/dev/null |
			sed -n 's/.* mode=\([a-z_-]*\).*/\1/p' | sort | uniq -c |
			awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')
		[ -n "$modes" ] && printf 'log\t%s\tsessions by mode: %s\n' "$id" "$modes"
		n=$(grep -c -E ' (ERROR|WARN) ' "$log" 2>/dev/null)
		[ "${n:-0}" != 0 ] && printf 'log\t%s\t%s warning/error lines, first: %s\n' "$id" "$n" \
			"$(grep -m1 -E ' (ERROR|WARN) ' "$log" | sed 's/^[0-9T:.-]*Z //')"
	done
} >"$META"

echo
"$PY" tools/bench/summarise.py "$RAW" "$META" "$DOC" || die "summarise.py failed"
[ -n "$DOC" ] && say "report written to $DOC"
say "raw numbers in $RAW; logs in $OUT"
say "total $(fmt_dur $((T_END - T_START))) (measurement $(fmt_dur $((T_END - T_MEASURE))))"
