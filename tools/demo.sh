#!/usr/bin/env bash
# demo.sh — `make demo`: a scratch MariaDB on a free loopback port with a
# user demo/demo and a database "demo", build/shunt in front of it on
# 127.0.0.1:6033, and the command to connect. Runs until Ctrl-C, then stops
# both and removes the scratch directory. Needs root (mariadbd --user=root)
# and the packages from tools/install-deps.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. tests/e2e/lib.sh

SHUNT=${SHUNT_BIN:-$ROOT/build/shunt}
LISTEN_PORT=${DEMO_PORT:-6033}
ADMIN_PORT=${DEMO_ADMIN_PORT:-6032}
HTTP_PORT=${DEMO_HTTP_PORT:-6080}
[ -x "$SHUNT" ] || { echo "demo: $SHUNT is missing; run 'make' first" >&2; exit 1; }
for p in "$LISTEN_PORT" "$ADMIN_PORT" "$HTTP_PORT"; do
	if ss -Htln "sport = :$p" | grep -q .; then
		echo "demo: 127.0.0.1:$p is already in use (DEMO_PORT, DEMO_ADMIN_PORT and" \
			"DEMO_HTTP_PORT choose others):" >&2
		ss -Htlnp "sport = :$p" >&2
		exit 1
	fi
done

DIR=$(mktemp -d /tmp/shunt-demo.XXXXXX)
DB_PID= SHUNT_PID=
cleanup() {
	# Ignore further signals while cleaning up: Ctrl-C reaches the whole
	# process group (make too, which passes its own interrupt on), and a
	# second signal must not leave MariaDB or the scratch dir behind.
	trap '' INT TERM
	trap - EXIT
	echo
	echo "demo: stopping"
	[ -n "$SHUNT_PID" ] && kill -TERM "$SHUNT_PID" 2>/dev/null && wait "$SHUNT_PID" 2>/dev/null
	[ -n "$DB_PID" ] && mariadb_stop "$DB_PID"
	rm -rf "$DIR"
	exit 0
}
trap cleanup EXIT INT TERM

DB_PORT=$(free_port)
echo "demo: starting MariaDB on 127.0.0.1:$DB_PORT (datadir $DIR/data)"
DB_PID=$(mariadb_start "$DIR" "$DB_PORT") || { echo "demo: MariaDB did not start" >&2; exit 1; }
mariadb --no-defaults -S "$DIR/mysqld.sock" -uroot <<'SQL' || exit 1
CREATE DATABASE demo;
CREATE USER 'demo'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('demo');
GRANT ALL ON demo.* TO 'demo'@'%';
CREATE TABLE demo.hello (id INT PRIMARY KEY, msg VARCHAR(64));
INSERT INTO demo.hello VALUES (1, 'hello through shunt');
SQL

echo "demo: starting shunt on 127.0.0.1:$LISTEN_PORT (log $DIR/shunt.log)"
"$SHUNT" --listen "127.0.0.1:$LISTEN_PORT" --backend "127.0.0.1:$DB_PORT" \
	--user demo:demo --admin "127.0.0.1:$ADMIN_PORT" --admin-user admin:admin \
	--http "127.0.0.1:$HTTP_PORT" --log-level info 2>"$DIR/shunt.log" </dev/null &
SHUNT_PID=$!
if ! wait_port "$LISTEN_PORT" 10 "$SHUNT_PID"; then
	echo "demo: shunt did not start:" >&2
	tail -20 "$DIR/shunt.log" >&2
	exit 1
fi

cat <<MSG

shunt is listening on 127.0.0.1:$LISTEN_PORT in front of MariaDB on $DB_PORT.
Connect with:

    mariadb -h127.0.0.1 -P$LISTEN_PORT -udemo -pdemo

and try:  SELECT * FROM demo.hello;

Operate it (docs/admin.md):

    mariadb -h127.0.0.1 -P$ADMIN_PORT -uadmin -padmin -e 'SHOW BACKENDS; SHOW TUNNELS'
    curl -s http://127.0.0.1:$HTTP_PORT/metrics
    curl -s -H "Authorization: Bearer \$(cat /run/shunt/http-token)" http://127.0.0.1:$HTTP_PORT/api/tunnels
    build/shuntctl -H 127.0.0.1:$HTTP_PORT backends   # the API token: /run/shunt/http-token
    build/shuntctl tunnels          # straight from the pinned BPF maps

shunt's log follows. Press Ctrl-C to stop.

MSG
tail -n +1 -f "$DIR/shunt.log" --pid="$SHUNT_PID" &
TAIL_PID=$!
wait "$SHUNT_PID" 2>/dev/null
echo "demo: shunt exited" >&2
kill "$TAIL_PID" 2>/dev/null
SHUNT_PID=
