#!/usr/bin/env bash
# test_fastpath.sh — what only the kernel fast path does, checked from the
# BPF maps themselves (bpftool and shuntctl read the pinned maps):
#   - the tunnel's byte counters equal, to the byte, what a raw-protocol
#     client sent and received after its login (classic EOF and
#     DEPRECATE_EOF sessions);
#   - the conversation in the map: commands started/ended, in-transaction
#     while a transaction is open, latency histogram filled;
#   - `shuntctl tunnels -j` shows in-transaction, and not after COMMIT;
#   - a COM_QUERY "KILL ..." is punted to user space, forwarded, and the
#     tunnel re-armed (the next query is carried by the kernel again);
#     "SELECT 'kill'" is not punted;
#   - after 1,000 sessions no tunnel entry, fd or CLOSE_WAIT socket is left.
# Runs only with E2E_FASTPATH=on (the runner's kernel/ pass).
. "$(dirname "$0")/lib.sh"
E2E_EXPECT_PUNTS=1   # it punts (a KILL, a prepare): the final stats line must count them
e2e_init fastpath
if [ "${E2E_FASTPATH:-}" != on ]; then
	skip all "kernel tunnels exist only with --fastpath on (this pass: ${E2E_FASTPATH:-unset})"
	e2e_finish
fi
mariadb_ensure
ADMIN_PORT=$(free_port) || die "no free port"
shunt_start --admin "127.0.0.1:$ADMIN_PORT" --admin-user admin:adminpw
wait_port "$ADMIN_PORT" 10 "$SHUNT_PID" || die "the admin port 127.0.0.1:$ADMIN_PORT did not open"
MYSQL_ADMIN="mariadb --no-defaults -h127.0.0.1 -P$ADMIN_PORT -uadmin -padminpw -B"
PIN=/sys/fs/bpf/shunt-e2e-$$-0
RAW=("$PY" "$(dirname "$0")/rawclient.py" --port "$SHUNT_PORT" --user "$E2E_USER" --password "$E2E_PASS")
SHUNTCTL=$E2E_ROOT/build/shuntctl

# ---- byte counters: client view vs kernel view, both EOF styles
for style in classic deprecate_eof; do
	flag=
	[ $style = deprecate_eof ] && flag=--deprecate-eof
	out=$("${RAW[@]}" $flag --dump "bpftool -j map dump pinned $PIN/tunnels" \
		"SELECT 1" "BEGIN" "SELECT REPEAT('x', 1000) FROM mysql.seq_1_to_50" \
		"SELECT NULL, 'two'" 2>&1)
	res=$("$PY" - "$out" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
except Exception as e:
    print("FAIL client did not finish: %s" % sys.argv[1][-300:]); sys.exit()
ents = [e["formatted"]["value"] for e in json.loads(d["dump"])
        if e["formatted"]["value"]["conn_id"] == d["conn_id"]]
c = [e for e in ents if e["dir"] == 1]
b = [e for e in ents if e["dir"] == 2]
if len(c) != 1 or len(b) != 1:
    print("FAIL expected one client and one backend entry for conn %d, got %d/%d"
          % (d["conn_id"], len(c), len(b))); sys.exit()
c, b = c[0], b[0]
conv = c["conv"]
problems = []
if c["bytes"] != d["sent"]: problems.append("c2s kernel %d != client sent %d" % (c["bytes"], d["sent"]))
if b["bytes"] != d["received"]: problems.append("s2c kernel %d != client received %d" % (b["bytes"], d["received"]))
if conv["cmds_started"] != 4 or conv["resps_done"] != 4: problems.append("cmds %d/%d, expected 4/4" % (conv["cmds_started"], conv["resps_done"]))
if not conv["status"] & 1: problems.append("IN_TRANS not set in the map after BEGIN")
if conv["unexpected"]: problems.append("%d unexpected packets" % conv["unexpected"])
if sum(c["lat_hist"]) != 4: problems.append("latency histogram holds %d commands, expected 4" % sum(c["lat_hist"]))
if len(d["rows"][2]) != 50: problems.append("%d rows, expected 50" % len(d["rows"][2]))
if problems: print("FAIL " + "; ".join(problems))
else: print("PASS c2s %d = %d bytes sent, s2c %d = %d bytes received, 4/4 commands, IN_TRANS set, %d packets s2c, last latency %d us"
            % (c["bytes"], d["sent"], b["bytes"], d["received"], b["packets"], c["last_latency_ns"] // 1000))
PY
)
	case $res in
	PASS*) pass "counters_$style" "${res#PASS }" ;;
	*) fail "counters_$style" "${res#FAIL }" ;;
	esac
done

# ---- shuntctl: in-transaction while open, not after COMMIT
intrans() {  # intrans QUERY... -> prints in_trans of this session per shuntctl -j
	"${RAW[@]}" --dump "$SHUNTCTL -p $PIN -j tunnels" "$@" 2>&1 | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
t = [x for x in json.loads(d["dump"]) if x["conn_id"] == d["conn_id"]]
print(t[0]["in_trans"] if len(t) == 1 else "missing")' 2>&1
}
v=$(intrans "BEGIN" "SELECT 1")
check shuntctl_in_trans "shuntctl tunnels -j after BEGIN: in_trans=$v" [ "$v" = True ]
v=$(intrans "BEGIN" "SELECT 1" "COMMIT")
check shuntctl_after_commit "shuntctl tunnels -j after COMMIT: in_trans=$v" [ "$v" = False ]
txt=$("${RAW[@]}" --dump "$SHUNTCTL -p $PIN tunnels" "START TRANSACTION" 2>&1 |
	"$PY" -c 'import json,sys; print(json.loads(sys.stdin.read())["dump"])')
info "shuntctl tunnels (a session inside a transaction):"
echo "$txt" | sed 's/^/    /'
check shuntctl_table "text view has a header and one session row" [ "$(echo "$txt" | grep -c .)" -ge 2 ]

# ---- punt: KILL goes to user space and comes back; SELECT 'kill' does not.
# The KILL names a shunt id, so shunt answers it itself (1094 here): the
# client receives the kernel's s2c bytes plus that one ERR packet, and the
# program's conversation counts 3 commands and 3 responses (user space
# marked the held command answered at the re-arm). The bytes come from the
# raw entry (bpftool); the state and the conversation from shuntctl, which
# applies a re-arm the program has not run since (the client may send
# SELECT 42 before the re-arm lands: then user space carries it, and the
# backend may answer it before user space re-arms).
KDUMP="bpftool -j map dump pinned $PIN/tunnels; echo '@@'; $SHUNTCTL -p $PIN -j tunnels"
out=$("${RAW[@]}" --dump "$KDUMP" "SELECT 'kill'" "  /* why */ kill query 987654" "SELECT 42" 2>&1)
res=$("$PY" - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
raw, view = d["dump"].split("@@")
ents = [e["formatted"]["value"] for e in json.loads(raw) if e["formatted"]["value"]["conn_id"] == d["conn_id"]]
c = [e for e in ents if e["dir"] == 1][0]
b = [e for e in ents if e["dir"] == 2][0]
v = [x for x in json.loads(view) if x["conn_id"] == d["conn_id"]][0]
p = []
if c["punts"] != 1: p.append("punts %d, expected 1" % c["punts"])
if c["punt_reason"] != 3: p.append("punt_reason %d, expected 3 (kill-query)" % c["punt_reason"])
if v["state"] != "forward": p.append("tunnel still held (%s, raw state %d)" % (v["state"], c["state"]))
if d["status"][1] != -1094: p.append("KILL answered %d, expected -1094 (unknown thread)" % d["status"][1])
if d["rows"][2] != [["42"]]: p.append("SELECT 42 after the punt returned %r" % d["rows"][2])
if v["cmds_started"] != 3 or v["resps_done"] != 3: p.append("cmds %d/%d (raw %d/%d)" % (v["cmds_started"], v["resps_done"], c["conv"]["cmds_started"], c["conv"]["resps_done"]))
if c["bytes"] + c["passed_bytes"] != d["sent"]: p.append("c2s kernel %d + passed %d != sent %d" % (c["bytes"], c["passed_bytes"], d["sent"]))
answer = 4 + 1 + 2 + 6 + len("Unknown thread id: 987654")   # shunt's ERR packet
if b["bytes"] + answer != d["received"]: p.append("s2c %d + shunt's ERR %d != received %d" % (b["bytes"], answer, d["received"]))
print("FAIL " + "; ".join(p) if p else "PASS 1 punt (kill-query), %d bytes passed to user space, %d carried by the kernel; ERR 1094 answered by shunt (%d bytes) + %d s2c bytes by the kernel = %d received; 3/3 commands/responses tracked; SELECT 42 after re-arm (raw entry: state %d, re-arm %s)" % (c["passed_bytes"], c["bytes"], answer, b["bytes"], d["received"], c["state"], "pending" if v["rearm_pending"] else "applied"))
PY
)
case $res in
PASS*) pass punt_kill "${res#PASS }" ;;
*) fail punt_kill "${res#FAIL } (${out:0:300})" ;;
esac

# ---- a KILL answered by shunt, then a quiet client: no backend byte and no
# client byte follow the re-arm, so the raw entry stays held with the KILL
# open. The daemon's views (SHOW PROCESSLIST) and shuntctl apply the re-arm: the session is
# forwarding and idle (before, it showed as held and busy, and a migration
# or drain never found its safe point).
out=$("${RAW[@]}" --dump "$KDUMP; echo '@@'; $MYSQL_ADMIN -N -e 'SHOW PROCESSLIST'" \
	"SELECT 1" "KILL QUERY 987654" 2>&1)
res=$("$PY" - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
raw, view, admin = d["dump"].split("@@")
c = [e["formatted"]["value"] for e in json.loads(raw)
     if e["formatted"]["value"]["conn_id"] == d["conn_id"] and e["formatted"]["value"]["dir"] == 1][0]
v = [x for x in json.loads(view) if x["conn_id"] == d["conn_id"]][0]
row = [l.split("\t") for l in admin.strip().splitlines() if l.split("\t")[0] == str(d["conn_id"])]
p = []
if d["status"][1] != -1094: p.append("KILL answered %d, expected -1094" % d["status"][1])
if c["state"] != 1 or c["conv"]["resps_done"] != 1:
    p.append("raw entry state %d, %d/%d: expected the program not to have run since the re-arm (1, 2/1)" % (c["state"], c["conv"]["cmds_started"], c["conv"]["resps_done"]))
if v["state"] != "forward" or not v["rearm_pending"]: p.append("shuntctl: state %s, rearm_pending %s" % (v["state"], v["rearm_pending"]))
if (v["cmds_started"], v["resps_done"]) != (2, 2): p.append("shuntctl: cmds %d/%d, expected 2/2" % (v["cmds_started"], v["resps_done"]))
if not row: p.append("SHOW PROCESSLIST has no row for %d: %r" % (d["conn_id"], admin[-300:]))
elif row[0][4] != "Sleep": p.append("SHOW PROCESSLIST command %r, expected Sleep: %r" % (row[0][4], row[0]))
print("FAIL " + "; ".join(p) if p else "PASS raw entry held with the KILL open (2/1); shuntctl: forward, 2/2, re-arm pending; SHOW PROCESSLIST: %s" % row[0][4])
PY
)
case $res in
PASS*) pass kill_then_quiet "${res#PASS }" ;;
*) fail kill_then_quiet "${res#FAIL } (${out:0:400})" ;;
esac

# ---- a second shunt with the same pin path: refused, the first one's pins
# and sessions untouched (it used to remove them as a dead run's and start).
P2=$(free_port) || die "no free port"
out=$(timeout 20 "$SHUNT_BIN" --listen "127.0.0.1:$P2" --backend "127.0.0.1:$MYSQL_PORT" \
	--user "$E2E_USER:$E2E_PASS" --http off --admin off --fastpath auto --pin-path "$PIN" 2>&1)
rc=$?
v=$("${RAW[@]}" --dump "$SHUNTCTL -p $PIN -j tunnels" "SELECT 7" 2>&1 | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
mine = [x for x in json.loads(d["dump"]) if x["conn_id"] == d["conn_id"]]
print("listed-and-answered" if len(mine) == 1 and d["rows"][0] == [["7"]] else "bad: %r" % d)' 2>&1)
check second_daemon_refused "second shunt on pin path $PIN: exit $rc, '$(echo "$out" | grep -m1 'in use' | cut -d' ' -f3-)'; then a session of the first: $v" \
	eval '[ "$rc" -ne 0 ] && grep -q "pin path $PIN is in use by another running shunt" <<<"$out" && [ -e "$PIN/tunnels" ] && [ "$v" = listed-and-answered ]'

# ---- 1,000 sessions: nothing left behind
fd0=$(fd_count "$SHUNT_PID")
"$PY" - "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" <<'PY' >"$E2E_TMP/many.log" 2>&1
import sys, pymysql
for i in range(1000):
    c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user=sys.argv[2], password=sys.argv[3])
    cur = c.cursor(); cur.execute("SELECT %s", (i,)); assert cur.fetchone()[0] == i
    c.close()
print("ok")
PY
check thousand_sessions "1000 PyMySQL sessions through the kernel: $(tail -1 "$E2E_TMP/many.log")" grep -qx ok "$E2E_TMP/many.log"
left=-1
for i in $(seq 1 50); do
	left=$(bpftool -j map dump pinned "$PIN/tunnels" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
	socks=$(bpftool -j map dump pinned "$PIN/sock_map" 2>/dev/null | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo unreadable)
	[ "$left" = 0 ] && [ "$socks" = 0 ] && break
	sleep 0.1
done
check no_leaked_entries "tunnel entries left: $left, sockhash entries left: $socks" [ "$left" = 0 -a "$socks" = 0 ]
fd1=$(fd_count "$SHUNT_PID")
check no_leaked_fds "shunt fds before $fd0, after $fd1" [ "$fd1" -le "$fd0" ]
cw=$(close_wait_count "$SHUNT_PID")
check no_close_wait "CLOSE_WAIT sockets of shunt: $cw" [ "$cw" = 0 ]
e2e_finish
