#!/usr/bin/env bash
# test_migrate.sh — transparent session migration (issue 5): shunt moves a
# live session to another backend between two commands, its state intact,
# and the client never sees an error. Two independent MariaDB servers (the
# test one, A, and a private second one, B, with the same accounts and
# schemas) so that @@port tells which one answers. tests/e2e/migrate_check.py
# drives the clients and the admin port (MIGRATE, SET BACKEND ... STATE,
# SHOW TUNNELS / SHOW BACKENDS) and reads /metrics:
#   drain      a PyMySQL session with non-default state (schema, sql_mode,
#              time_zone, SET NAMES latin1, isolation level, LAST_INSERT_ID)
#              checked on every query, and a Connector/C session
#              (migrate_stmt.c) executing a server-side prepared statement
#              every 5 ms, both on A for 20 s; A is drained meanwhile: both
#              move to B with no client error, every result right, the
#              statement handle still valid; A becomes offline;
#   session    an open transaction is not moved until its COMMIT, then is;
#              one that stays open past migrate_timeout_ms is left where it
#              is, intact; temporary table, GET_LOCK and LOCK TABLES
#              sessions are sticky (1105, SHOW TUNNELS sticky_reason) and
#              keep their state; a quiet session right after a KILL that
#              shunt answered moves at once; user variables move; 10 moves back and
#              forth keep the state; 1094 for an unknown id; 1105 for a
#              target outside the pool;
#   refused    a target that refuses the login (the password changed
#              there): 1105, the session stays and works;
#   rebalance  a second shunt with rebalance = on: 60 busy sessions on A,
#              B added at run time, within ~10 s 30 +- 6 on each, no client
#              error;
#   timing     median and max migration times (info lines) of shunt 1;
#              the rebalance scenario prints its own.
. "$(dirname "$0")/lib.sh"
e2e_init migrate
mariadb_ensure
if is_direct; then
	skip all "E2E_DIRECT=1: migration needs shunt"
	e2e_finish
fi
mariadb_extra mysql_b || die "could not start the second MariaDB"
B_PORT=$EXTRA_MYSQL_PORT
B_SOCK=$EXTRA_MYSQL_SOCK
A=127.0.0.1:$MYSQL_PORT
B=127.0.0.1:$B_PORT
DB2=shunt_test_mig
MIGRATE_TIMEOUT_MS=5000
TOLERANCE=0.2

# The same schemas on both servers; the data differs (each server only has
# what was written to it).
for sock in "$MYSQL_SOCK" "$B_SOCK"; do
	sql_root_on "$sock" <<-SQL || die "could not create the test schemas"
		DROP DATABASE IF EXISTS $DB2;
		CREATE DATABASE $DB2;
		CREATE TABLE $DB2.mig_ai (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20)) AUTO_INCREMENT = 7000;
		DROP TABLE IF EXISTS $E2E_DB.mig_txn;
		CREATE TABLE $E2E_DB.mig_txn (tag VARCHAR(64), v INT) ENGINE = InnoDB;
	SQL
done
# GET_LOCK() locks are only visible to shunt through the metadata_lock_info
# plugin (information_schema.METADATA_LOCK_INFO); without it the user-lock
# check is skipped.
lock_plugin() { sql_root_on "$1" -e "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' AND PLUGIN_STATUS = 'ACTIVE'"; }
A_PLUGIN_ADDED=
for sock in "$MYSQL_SOCK" "$B_SOCK"; do
	if [ "$(lock_plugin "$sock")" = 0 ] &&
		sql_root_on "$sock" -e "INSTALL SONAME 'metadata_lock_info'" 2>"$E2E_TMP/plugin.err"; then
		[ "$sock" = "$MYSQL_SOCK" ] && A_PLUGIN_ADDED=1
	fi
	[ "$(lock_plugin "$sock")" = 1 ] || info "metadata_lock_info not available: $(cat "$E2E_TMP/plugin.err" 2>/dev/null)"
done
# Leave the shared test server as it was.
drop_schemas() {
	sql_root -e "DROP DATABASE IF EXISTS $DB2; DROP TABLE IF EXISTS $E2E_DB.mig_txn" 2>/dev/null
	[ -n "$A_PLUGIN_ADDED" ] && sql_root -e "UNINSTALL SONAME 'metadata_lock_info'" 2>/dev/null
}

# The prepared-statement client, built here (like a test fixture).
STMT_BIN=$E2E_TMP/migrate_stmt
if ! cc -O2 -g -std=gnu11 -Wall -Wextra -o "$STMT_BIN" "$(dirname "$0")/migrate_stmt.c" \
	$(pkg-config --cflags --libs libmariadb) >"$E2E_TMP/cc.log" 2>&1; then
	fail stmt_client_build "cc tests/e2e/migrate_stmt.c failed: $(head -5 "$E2E_TMP/cc.log" | tr '\n' ' ')"
	STMT_BIN=
fi

case ${E2E_FASTPATH:-} in
on) WANT_MODE=kernel ;;
off) WANT_MODE=user ;;
*) WANT_MODE= ;;
esac

# write_config FILE SHUNT_PORT ADMIN_PORT POOL_LINES [GLOBAL_LINES]
write_config() {
	cat >"$1" <<-CFG
		[global]
		log_level = info
		admin = 127.0.0.1:$3
		admin_user = admin
		admin_password = admin-pw
		migrate_timeout_ms = $MIGRATE_TIMEOUT_MS
		$5

		[listener default]
		listen = 127.0.0.1:$2
		pool = default

		[pool default]
		$4

		[user $E2E_USER]
		password = $E2E_PASS
	CFG
}

# mc SCENARIO SHUNT_PORT ADMIN_PORT HTTP_PORT: one migrate_check.py scenario
# (against the shunt started last: its log gives the exact move times).
mc() {
	local scen=$1
	run_checks "$scen" timeout -k 5 200 "$PY" "$(dirname "$0")/migrate_check.py" "$scen" \
		--shunt "$2" --admin "$3" --admin-pass admin-pw --http "$4" \
		--user "$E2E_USER" --password "$E2E_PASS" --db "$E2E_DB" --db2 "$DB2" \
		--a-port "$MYSQL_PORT" --a-sock "$MYSQL_SOCK" --b-port "$B_PORT" --b-sock "$B_SOCK" \
		--stmt-bin "$STMT_BIN" --want-mode "$WANT_MODE" --migrate-timeout-ms "$MIGRATE_TIMEOUT_MS" \
		--tolerance "$TOLERANCE" --timing-file "$E2E_TMP/timing.jsonl" --shunt-log "$SHUNT_LOG"
}

# Shunt 1: one pool with both servers; manual moves and drains.
P1=$(free_port) || die "no free port"
ADM1=$(free_port) || die "no free port"
HTTP1=$(free_port) || die "no free port"
write_config "$E2E_TMP/shunt1.ini" "$P1" "$ADM1" "backend = $A
backend = $B"
shunt_spawn "$P1" -c "$E2E_TMP/shunt1.ini" --http "127.0.0.1:$HTTP1" ||
	die "shunt -c shunt1.ini did not start" start
wait_port "$ADM1" 5 "$SHUNT_PID" || die "the admin port 127.0.0.1:$ADM1 did not open"
info "shunt ${SHUNT_BIN#$E2E_ROOT/} on $P1 (admin $ADM1, http $HTTP1), pool: A=$A B=$B"
mc drain "$P1" "$ADM1" "$HTTP1"
mc session "$P1" "$ADM1" "$HTTP1"
mc refused "$P1" "$ADM1" "$HTTP1"
mc timing "$P1" "$ADM1" "$HTTP1"
shunt_stop_one 0

# Shunt 2: the rebalancer. The pool starts with A alone; B is added later.
P2=$(free_port) || die "no free port"
ADM2=$(free_port) || die "no free port"
HTTP2=$(free_port) || die "no free port"
write_config "$E2E_TMP/shunt2.ini" "$P2" "$ADM2" "backend = $A" "rebalance = on
rebalance_interval_ms = 300
rebalance_tolerance = $TOLERANCE
rebalance_max_moves = 10
rebalance_policy = active"
if shunt_spawn "$P2" -c "$E2E_TMP/shunt2.ini" --http "127.0.0.1:$HTTP2" &&
	wait_port "$ADM2" 5 "$SHUNT_PID"; then
	info "shunt with rebalance = on on $P2 (admin $ADM2, http $HTTP2), pool: A=$A"
	mc rebalance "$P2" "$ADM2" "$HTTP2"
else
	fail rebalance "shunt -c shunt2.ini (rebalance = on) did not start: $(tail -3 "$SHUNT_LOG" | tr '\n' ' ')"
	E2E_PIDS[${#E2E_PIDS[@]} - 1]=    # reported here; not again as a death at exit
fi
drop_schemas
e2e_finish
