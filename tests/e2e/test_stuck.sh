#!/usr/bin/env bash
# test_stuck.sh — a peer that stops taking bytes must not hold up the
# worker it shares with other sessions, nor the admin port whose listings
# ask that worker. shunt runs one worker thread, so every other login lands
# on the stuck session's worker.
#   others_not_held  a client that stops reading, sitting on a 12 MiB answer
#                    with its KILL behind it (stuck_client.py). Neither
#                    carrier takes the KILL before the answer has drained:
#                    the relay waits for the response's end, and the kernel
#                    queues the punted KILL behind the response's bytes in
#                    the socket's psock backlog. 20 other sessions and SHOW
#                    TUNNELS get through; the client then gets everything.
#   backend_stalled  a backend that stops reading (SIGSTOP) while shunt
#                    itself must write 24 MiB to it: a punted
#                    COM_STMT_PREPARE and the commands pipelined behind it
#                    (stalled_backend.py). The others get through while it
#                    is stopped, and after it resumes every answer arrives
#                    on the same connection. Fails on a daemon that waits
#                    for a socket inside its event loop (the kernel carrier
#                    did, up to 10 s, and then closed the session).
. "$(dirname "$0")/lib.sh"
E2E_EXPECT_PUNTS=1   # it punts (a KILL, a prepare): the final stats line must count them
e2e_init stuck
mariadb_ensure
mariadb_extra stall_b || die "could not start the second MariaDB"
B_PORT=$EXTRA_MYSQL_PORT
B_PID=${E2E_EXTRA_MYSQL_PIDS[-1]}
SHUNT_PORT=$(free_port) || die "no free port"
STALL_PORT=$(free_port) || die "no free port"
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
[listener stall]
listen = 127.0.0.1:$STALL_PORT
pool = stall
[pool stall]
backend = 127.0.0.1:$B_PORT
[user $E2E_USER]
password = $E2E_PASS
INI
shunt_config "$CONF" "$SHUNT_PORT"

# judge NAME JSON CHECKS: what both cases check (no client error, the 200
# queries of the others, SHOW TUNNELS listing the stuck session and its
# carrier, SELECT 42 on it afterwards), then CHECKS, Python that appends
# to p and sets msg (the PASS detail).
judge() {
	local res
	res=$("$PY" - "$2" "${E2E_FASTPATH:-}" "$3" <<'PY'
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
if d["a_after"] != "42": p.append("SELECT 42 afterwards gave %r" % d["a_after"])
msg = ""
exec(sys.argv[3])
print(("FAIL " + "; ".join(p)) if p else "PASS " + msg)
PY
)
	case $res in
	PASS*) pass "$1" "${res#PASS }" ;;
	*) fail "$1" "${res#FAIL }" ;;
	esac
}
out=$("$PY" "$(dirname "$0")/stuck_client.py" "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" \
	"$ADMIN_PORT" adminpw "$E2E_DB" 2>&1)
judge others_not_held "$out" '
if d["a_row"] != 12 * 1024 * 1024: p.append("stuck client got a row of %r bytes" % d["a_row"])
if d["a_kill"] != -1094: p.append("stuck client\x27s KILL answered %r, expected ERR 1094" % d["a_kill"])
msg = ("200 queries on 20 new sessions in %.2f s and SHOW TUNNELS while one %s-carried client "
       "sat on a 12 MiB answer and its KILL\x27s ERR; it then got all of it, ERR 1094 and SELECT 42"
       % (d.get("others_s", 0), d["a_mode"]))'

# ---- a backend that stops reading while shunt writes to it
out=$("$PY" "$(dirname "$0")/stalled_backend.py" "$STALL_PORT" "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" \
	"$ADMIN_PORT" adminpw "$B_PID" 2>&1)
judge backend_stalled "$out" '
if not d["others_done_stopped"]: p.append("the other sessions were not done while the backend was stopped")
if not d["a_prepare"]: p.append("its COM_STMT_PREPARE was not answered with 1 parameter and 1 column")
if d["a_oks"] != 24: p.append("%d of its 24 pipelined commands answered" % d["a_oks"])
msg = ("200 queries on 20 new sessions and SHOW TUNNELS in %.2f s while a %s-carried session\x27s backend "
       "was stopped for %.1f s with 24 MiB for it in shunt\x27s hands; resumed, it answered the prepare, "
       "24 commands and SELECT 42" % (d.get("others_s", 0), d["a_mode"], d["stopped_s"]))'
e2e_finish
