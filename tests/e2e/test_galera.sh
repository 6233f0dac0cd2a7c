#!/usr/bin/env bash
# test_galera.sh — transparent session migration under load, on a real
# 3-node MariaDB Galera cluster (galera_lib.sh: loopback ports, bootstrapped
# here, stopped on exit). shunt has one pool with the three nodes, the admin
# port and the HTTP API.
#
#   baseline   sysbench oltp_read_write, 8 threads, 60 s, straight to the
#              three nodes (sysbench spreads its connections over the
#              port list): its exit status, ignored errors (1213/1205/1020,
#              which sysbench retries: Galera certification conflicts and
#              InnoDB deadlocks) and reconnects are recorded.
#   drain      the same load through shunt while the nodes are drained in
#              turn every 5 s (SET BACKEND node1 STATE draining, 5 s, back
#              online, node2 draining, ...). sysbench must exit 0 with no
#              error and no reconnect, at most baseline*1.5+10 ignored
#              errors, and shunt_migrations_total{trigger="drain",
#              outcome="ok"} must have grown: the drains moved sessions.
#   writes     galera_writes.py through shunt, 8 threads of short
#              transactions (20% rolled back on purpose, some fighting over
#              shared counters so that certification conflicts happen) for
#              30 s under the same drain rotation. The client must see no
#              connection-level error and keep its session state; then,
#              read on node1 directly: every committed key once, no rolled
#              back or conflict-aborted key, no stray row, the counters
#              equal to the committed increments. Migrations during this
#              phase must have happened too.
#
# Each drain phase also reports what shunt logged about its drain
# migrations (how many moved, the slowest move, and why the others did
# not), and how many sessions were still on each drained node when its
# window ended. About 3 minutes in all. E2E_GALERA_SB_SECS (60),
# E2E_GALERA_WR_SECS (30) and E2E_GALERA_DRAIN_STEP (5) change the phases.
#
# SKIPs (with the reason) when Galera cannot run here: no galera-4, no
# rsync, not root, or the cluster does not come up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/galera_lib.sh"
e2e_init galera

if is_direct; then
	skip all "E2E_DIRECT=1: draining and migration are shunt's"
	e2e_finish
fi
for c in sysbench curl; do
	command -v "$c" >/dev/null 2>&1 || { skip all "'$c' is not installed (tools/install-deps.sh)"; e2e_finish; }
done
galera_prereqs || { skip cluster "Galera cannot run on this machine: $GALERA_SKIP_REASON"; e2e_finish; }
T0=$SECONDS
galera_start || { skip cluster "the Galera cluster did not come up: $GALERA_SKIP_REASON"; e2e_finish; }
pass cluster "3 nodes Synced on 127.0.0.1:${GALERA_PORTS[0]},${GALERA_PORTS[1]},${GALERA_PORTS[2]} in $((SECONDS - T0)) s"

SB_SECS=${E2E_GALERA_SB_SECS:-60}
WR_SECS=${E2E_GALERA_WR_SECS:-30}
STEP=${E2E_GALERA_DRAIN_STEP:-5}
NODES=()
for p in "${GALERA_PORTS[@]}"; do NODES+=("127.0.0.1:$p"); done

# ---------------------------------------------------------------- sysbench

common=(--db-driver=mysql --mysql-user="$E2E_USER" --mysql-password="$E2E_PASS"
	--mysql-db=sbtest --tables=4 --table-size=10000)
if ! sysbench oltp_read_write "${common[@]}" --mysql-host=127.0.0.1 --mysql-port="${GALERA_PORTS[0]}" \
	--threads=4 prepare >"$E2E_TMP/prepare.log" 2>&1; then
	die "sysbench prepare on node1 failed: $(tail -3 "$E2E_TMP/prepare.log" | tr '\n' ' ')" prepare
fi
info "sysbench prepare: 4 tables x 10000 rows (node1) at $((SECONDS - T0)) s"

# sb_run LOG PORTS: oltp_read_write, 8 threads, $SB_SECS s.
sb_run() {
	sysbench oltp_read_write "${common[@]}" --mysql-host=127.0.0.1 --mysql-port="$2" \
		--threads=8 --time="$SB_SECS" --report-interval=0 run >"$1" 2>&1
}
# sb_parse LOG: sets TX TPS IGN REC FATAL from a sysbench report.
sb_parse() {
	local log=$1
	num() { sed -n "s/^ *$1: *\([0-9.]*\).*/\1/p" "$log" | head -1; }
	TX=$(num transactions); IGN=$(num 'ignored errors'); REC=$(num reconnects)
	TPS=$(sed -n 's/^ *transactions: *[0-9]* *(\([0-9.]*\) per sec.*/\1/p' "$log")
	FATAL=$(grep -c -iE 'FATAL|error [0-9]+|Lost connection|gone away' "$log")
}

# node_sessions: sessions of the test user on each node, e.g. "3 3 2".
node_sessions() {
	local n s=
	for n in 1 2 3; do
		s+="$(galera_sql "$n" -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$E2E_USER'") "
	done
	echo "${s% }"
}
sb_run "$E2E_TMP/baseline.log" "$(IFS=,; echo "${GALERA_PORTS[*]}")" &
SB_PID=$!
bg_track "$SB_PID"
sleep 3
B_SPREAD=$(node_sessions)
wait "$SB_PID"
B_RC=$?
sb_parse "$E2E_TMP/baseline.log"
B_TX=$TX B_TPS=$TPS B_IGN=$IGN B_REC=$REC B_FATAL=$FATAL
info "baseline (direct to the 3 nodes, sessions per node $B_SPREAD): exit $B_RC, $B_TX transactions ($B_TPS tps), ignored errors $B_IGN, reconnects $B_REC, $B_FATAL error lines"
if [ "$B_RC" = 0 ] && [ -n "$B_TX" ] && [ "$B_TX" -gt 0 ] && [ "$B_FATAL" = 0 ] && [ "$B_REC" = 0 ]; then
	pass baseline "sysbench straight to the nodes (sessions per node: $B_SPREAD), 8 threads ${SB_SECS} s: $B_TX transactions, $B_TPS tps, ignored errors $B_IGN, reconnects 0"
else
	fail baseline "sysbench straight to the nodes: exit $B_RC, transactions '$B_TX', ignored '$B_IGN', reconnects '$B_REC', $B_FATAL error lines: $(grep -m3 -iE 'FATAL|error' "$E2E_TMP/baseline.log" | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- shunt

SHUNT_PORT=$(free_port) || die "no free port"
ADMIN_PORT=$(free_port) || die "no free port"
HTTP_PORT=$(free_port) || die "no free port"
shunt_spawn "$SHUNT_PORT" --listen "127.0.0.1:$SHUNT_PORT" \
	--backend "${NODES[0]}" --backend "${NODES[1]}" --backend "${NODES[2]}" \
	--user "$E2E_USER:$E2E_PASS" --admin "127.0.0.1:$ADMIN_PORT" --admin-user admin:admin-pw \
	--http "127.0.0.1:$HTTP_PORT" --log-level info ||
	die "shunt did not start (${SHUNT_BIN#$E2E_ROOT/})" start
wait_port "$ADMIN_PORT" 5 "$SHUNT_PID" || die "the admin port did not open" start
wait_port "$HTTP_PORT" 5 "$SHUNT_PID" || die "the HTTP API did not open" start
info "shunt ${SHUNT_BIN#$E2E_ROOT/} on 127.0.0.1:$SHUNT_PORT (pid $SHUNT_PID) -> ${NODES[*]}"

admin() { mariadb --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -uadmin -padmin-pw -N -B -e "$1" 2>&1; }
# backend_col ADDR N: column N of ADDR's SHOW BACKENDS row (4 state, 7 sessions).
backend_col() { admin "SHOW BACKENDS" | awk -F'\t' -v a="$1" -v n="$2" '$2 == a { print $n }'; }
# migrations TRIGGER OUTCOME: shunt_migrations_total for those labels,
# summed over any other label; "" when the family is not in /metrics.
migrations() {
	curl -s -m 5 "http://127.0.0.1:$HTTP_PORT/metrics" |
		awk -v t="trigger=\"$1\"" -v o="outcome=\"$2\"" '
			/^shunt_migrations_total\{/ && index($0, t) && index($0, o) { s += $NF; f = 1 }
			END { if (f) printf "%d\n", s }'
}
migrations_all() {
	curl -s -m 5 "http://127.0.0.1:$HTTP_PORT/metrics" |
		awk '/^shunt_migrations_total\{/ && $NF != 0 { sub(/^shunt_migrations_total/, ""); printf "%s ", $0 }'
}

# drain_rotation SECS LOG: every $STEP s the next node is drained and the
# previous one is set online again, as long as a whole window fits in SECS;
# all online at the end. Each window's end notes how many sessions were
# still on the drained node (SHOW BACKENDS). Sets ROT_STEPS, ROT_ERRS
# (admin commands that did not answer OK) and ROT_SUMMARY.
drain_rotation() {
	local secs=$1 log=$2 start=$SECONDS step=0 i out left
	ROT_ERRS=0 ROT_SUMMARY=
	: >"$log"
	while [ $((SECONDS - start + STEP)) -le "$secs" ]; do
		i=$((step % ${#NODES[@]}))
		out=$(admin "SET BACKEND '${NODES[$i]}' STATE draining")
		[ -n "$out" ] && { ROT_ERRS=$((ROT_ERRS + 1)); echo "draining node$((i + 1)): $out" >>"$log"; }
		echo "$((SECONDS - start)) s: node$((i + 1)) draining; sessions $(backend_col "${NODES[$i]}" 7)" >>"$log"
		sleep "$STEP"
		left=$(backend_col "${NODES[$i]}" 7)
		out=$(admin "SET BACKEND '${NODES[$i]}' STATE online")
		[ -n "$out" ] && { ROT_ERRS=$((ROT_ERRS + 1)); echo "online node$((i + 1)): $out" >>"$log"; }
		echo "$((SECONDS - start)) s: node$((i + 1)) online; sessions left after $STEP s of draining: $left" >>"$log"
		ROT_SUMMARY+="node$((i + 1)):$left "
		step=$((step + 1))
	done
	ROT_STEPS=$step
}
# drain_log SINCE: the drain migrations shunt logged after line SINCE of
# its log: "N moved (slowest X ms)" and, per outcome and reason, how many
# did not move.
drain_log() {
	tail -n +"$(($1 + 1))" "$SHUNT_LOG" | awk '
		/ migrated \(drain\) / {
			ok++
			if (match($0, / in [0-9.]+ ms/)) { ms = substr($0, RSTART + 4, RLENGTH - 7) + 0; if (ms > max) max = ms }
		}
		/ migration \(drain\) to [^ ]*: [a-z_]+ after / {
			sub(/.* migration \(drain\) to [^ ]*: /, ""); o = $1
			sub(/^[a-z_]+ after [0-9.]+ ms: /, ""); r[o ": " $0]++
		}
		END {
			printf "%d moved", ok
			if (ok) printf " (slowest move %.1f ms)", max
			for (k in r) printf "; %dx %s", r[k], k
			printf "\n"
		}' | cut -c1-400
}
log_lines() { wc -l <"$SHUNT_LOG"; }
states() { local a s=; for a in "${NODES[@]}"; do s+="$(backend_col "$a" 4)/$(backend_col "$a" 7) "; done; echo "$s"; }

M0=$(migrations drain ok) L0=$(log_lines)
sb_run "$E2E_TMP/shunt.log" "$SHUNT_PORT" &
SB_PID=$!
bg_track "$SB_PID"
sleep 1
info "sessions per node before the rotation (state/sessions): $(states)"
drain_rotation $((SB_SECS - 2)) "$E2E_TMP/rotation-sysbench.log"
wait "$SB_PID"
S_RC=$?
sb_parse "$E2E_TMP/shunt.log"
M1=$(migrations drain ok) D1=$(drain_log "$L0")
info "rotation: $ROT_STEPS drain windows of $STEP s, sessions left on the drained node at each window's end: $ROT_SUMMARY"
info "drain migrations in shunt's log: $D1"
info "through shunt with the drains: exit $S_RC, $TX transactions ($TPS tps), ignored errors $IGN, reconnects $REC, $FATAL error lines"
info "ignored errors: baseline $B_IGN, through shunt $IGN (allowed: baseline*1.5+10 = $(( ${B_IGN:-0} * 3 / 2 + 10 )))"
check rotation "$ROT_STEPS drains, each undone $STEP s later, answered OK by the admin port: $ROT_ERRS errors $(grep -v '^[0-9]* s: ' "$E2E_TMP/rotation-sysbench.log" | head -2 | tr '\n' ' ')" \
	[ "$ROT_ERRS" = 0 -a "$ROT_STEPS" -ge 3 ]
if [ "$S_RC" = 0 ] && [ -n "$TX" ] && [ "$TX" -gt 0 ] && [ "$FATAL" = 0 ] && [ "$REC" = 0 ]; then
	pass drain_sysbench "through shunt, 8 threads ${SB_SECS} s with a node drained every $STEP s: exit 0, $TX transactions, $TPS tps (baseline $B_TPS), no error, 0 reconnects"
else
	fail drain_sysbench "through shunt with the drains: exit $S_RC, transactions '$TX', reconnects '$REC', $FATAL error lines: $(grep -m3 -iE 'FATAL|error' "$E2E_TMP/shunt.log" | tr '\n' ' ')"
fi
le() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -le "$2" ]; }
check drain_ignored_errors "ignored errors (retried conflicts): through shunt $IGN, baseline $B_IGN, allowed at most $(( ${B_IGN:-0} * 3 / 2 + 10 ))" \
	le "$IGN" "$( [ -n "$B_IGN" ] && echo $(( B_IGN * 3 / 2 + 10 )) )"
if [ -z "$M1" ]; then
	fail drain_migrated "/metrics has no shunt_migrations_total{trigger=\"drain\",outcome=\"ok\"}: drained nodes kept their sessions (sessions left at each window's end: $ROT_SUMMARY)"
else
	check drain_migrated "shunt_migrations_total{trigger=\"drain\",outcome=\"ok\"} ${M0:-0} -> $M1 during the sysbench rotation; non-zero: $(migrations_all); log: $D1" \
		[ "$M1" -gt "${M0:-0}" ]
fi

# ---------------------------------------------------------------- writes

TABLE=galera_writes
galera_sql 1 "$E2E_DB" -e "CREATE TABLE $TABLE (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		t INT NOT NULL, seq INT NOT NULL, note VARCHAR(64), KEY (t, seq)) ENGINE=InnoDB;
	CREATE TABLE ${TABLE}_hot (id INT NOT NULL PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB;
	INSERT INTO ${TABLE}_hot VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0), (8, 0)" ||
	die "could not create $E2E_DB.$TABLE and ${TABLE}_hot on node1" writes
M2=$(migrations drain ok) L2=$(log_lines)
"$PY" "$(dirname "$0")/galera_writes.py" run 127.0.0.1 "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" \
	"$E2E_DB" "$TABLE" "$E2E_TMP/writes.json" 8 "$WR_SECS" 20 >"$E2E_TMP/writes.out" 2>&1 &
WR_PID=$!
bg_track "$WR_PID"
sleep 1
drain_rotation $((WR_SECS - 2)) "$E2E_TMP/rotation-writes.log"
wait "$WR_PID"
WR_RC=$?
M3=$(migrations drain ok) D3=$(drain_log "$L2")
info "writes rotation: $ROT_STEPS drain windows, sessions left on the drained node at each window's end: $ROT_SUMMARY"
info "drain migrations in shunt's log: $D3"
run_checks writes_run cat "$E2E_TMP/writes.out"
if [ "$WR_RC" != 0 ] && ! grep -q '^FAIL: ' "$E2E_TMP/writes.out"; then
	fail writes_run "galera_writes.py run exited with status $WR_RC and no FAIL line"
fi
if [ -z "$M3" ]; then
	fail writes.migrated "/metrics has no shunt_migrations_total{trigger=\"drain\",outcome=\"ok\"}: the writers were never moved (sessions left at each window's end: $ROT_SUMMARY)"
else
	check writes.migrated "shunt_migrations_total{trigger=\"drain\",outcome=\"ok\"} ${M2:-0} -> $M3 while the writers ran; log: $D3" \
		[ "$M3" -gt "${M2:-0}" ]
fi
if [ -s "$E2E_TMP/writes.json" ]; then
	run_checks writes_verify "$PY" "$(dirname "$0")/galera_writes.py" verify "${GALERA_SOCKS[0]}" \
		"$E2E_DB" "$TABLE" "$E2E_TMP/writes.json"
else
	fail writes_verify "galera_writes.py run left no key list to verify"
fi
st=$(for n in 1 2 3; do printf 'node%s %s, ' "$n" "$(galera_node_state "$n")"; done)
check cluster_intact "after the load every node still Synced in a cluster of 3 (size/state/ready): ${st%, }" \
	[ "$(galera_node_state 1)/$(galera_node_state 2)/$(galera_node_state 3)" = "3/Synced/ON/3/Synced/ON/3/Synced/ON" ]
info "whole test: $((SECONDS - T0)) s after the prerequisites"
e2e_finish
