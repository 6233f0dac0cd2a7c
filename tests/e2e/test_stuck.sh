#!/usr/bin/env bash
# test_stuck.sh — a client that stops reading while shunt owes it an
# answer (its KILL's ERR, behind a 12 MiB row it has not read) must not
# hold up the worker it shares with other sessions, nor the admin port
# whose listings ask that worker. shunt runs one worker thread, so every
# other login lands on the stuck client's worker (stuck_client.py says
# what is sent and checked). Fails on a daemon that waits for a socket
# inside its event loop: there the others wait until the write gives up,
# and the stuck client is then disconnected.
. "$(dirname "$0")/lib.sh"
e2e_init stuck
mariadb_ensure
SHUNT_PORT=$(free_port) || die "no free port"
ADMIN_PORT=$(free_port) || die "no free port"
CONF=$E2E_TMP/stuck.ini
cat >"$CONF" <<INI
[global]
threads = 1
log_level = info
admin = 127.0.0.1:$ADMIN_PORT
admin_user = admin
admin_password = adminpw
[listener main]
listen = 127.0.0.1:$SHUNT_PORT
pool = main
[pool main]
backend = 127.0.0.1:$MYSQL_PORT
[user $E2E_USER]
password = $E2E_PASS
INI
shunt_config "$CONF" "$SHUNT_PORT"
out=$("$PY" "$(dirname "$0")/stuck_client.py" "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" \
	"$ADMIN_PORT" adminpw "$E2E_DB" 2>&1)
res=$("$PY" - "$out" "${E2E_FASTPATH:-}" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
except Exception:
    print("FAIL client failed: " + sys.argv[1][-400:]); sys.exit()
want_mode = {"on": "kernel", "off": "user"}.get(sys.argv[2], d["a_mode"])
p = []
if d["errors"]: p.append("; ".join(d["errors"])[:400])
if d["others"] != 200: p.append("%d of 200 queries of the other sessions done" % d["others"])
if not d["tunnels_ok"] or not d["a_listed"]: p.append("SHOW TUNNELS did not list the stuck session")
if d["a_mode"] != want_mode: p.append("stuck session carried by %r, expected %r" % (d["a_mode"], want_mode))
if d["a_row"] != 12 * 1024 * 1024: p.append("stuck client got a row of %r bytes" % d["a_row"])
if d["a_kill"] != -1094: p.append("stuck client's KILL answered %r, expected ERR 1094" % d["a_kill"])
if d["a_after"] != "42": p.append("SELECT 42 afterwards gave %r" % d["a_after"])
msg = ("200 queries on 20 new sessions in %.2f s and SHOW TUNNELS while one %s-carried client "
       "sat on a 12 MiB answer and its KILL's ERR; it then got all of it, ERR 1094 and SELECT 42"
       % (d.get("others_s", 0), d["a_mode"]))
print(("FAIL " + "; ".join(p)) if p else "PASS " + msg)
PY
)
case $res in
PASS*) pass others_not_held "${res#PASS }" ;;
*) fail others_not_held "${res#FAIL }" ;;
esac
e2e_finish
