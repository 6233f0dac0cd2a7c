#!/usr/bin/env bash
# test_auth_timeout.sh — shunt configured with auth_timeout_ms = 1000:
#  - a raw TCP client that reads the greeting and never answers is closed
#    after about 1 s (greeting checked: protocol 10, a version string);
#  - one that connects and sends half a packet header is closed too;
#  - a client that sends nothing at all and does not even read is closed;
#  - meanwhile and afterwards a real client logs in, and shunt's fd count
#    is back to its baseline.
. "$(dirname "$0")/lib.sh"
e2e_init auth_timeout
mariadb_ensure
if is_direct; then
	skip all "E2E_DIRECT=1: the auth timeout under test is shunt's"
	e2e_finish
fi
P=$(free_port)
cat >"$E2E_TMP/shunt.ini" <<INI
[global]
auth_timeout_ms = 1000
log_level = info

[listener main]
listen = 127.0.0.1:$P
pool = default

[pool default]
backend = 127.0.0.1:$MYSQL_PORT

[user $E2E_USER]
password = $E2E_PASS
INI
shunt_config "$E2E_TMP/shunt.ini" "$P"
out=$(cli "$P" -N -B -e 'SELECT 1' 2>&1)
check login "a normal login before the idle clients -> '$out'" [ "$out" = 1 ]
sleep 0.3
fd0=$(fd_count "$SHUNT_PID")

# Three idle clients at once; each reports how long until shunt closed it.
run_checks idle "$PY" - "$P" <<'PY'
import socket, struct, sys, threading, time
port = int(sys.argv[1])
res = {}

def idle(name, read_greeting, send):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    detail = ""
    try:
        if read_greeting:
            hdr = s.recv(4, socket.MSG_WAITALL)
            n = hdr[0] | hdr[1] << 8 | hdr[2] << 16
            body = s.recv(n, socket.MSG_WAITALL)
            ver = body[1:body.index(b"\0", 1)].decode()
            if body[0] != 10:
                res[name] = ("FAIL", "greeting protocol %d, expected 10" % body[0]); return
            detail = "greeting protocol 10, version %s; " % ver
        else:
            time.sleep(0.5)   # let the greeting sit unread
        if send:
            s.sendall(send)
        while True:
            d = s.recv(65536)
            if not d:
                how = "EOF"; break
    except ConnectionResetError:
        how = "RST"
    except socket.timeout:
        res[name] = ("FAIL", "still open after 10 s"); return
    dt = time.monotonic() - t0
    ok = 0.8 <= dt <= 4.0
    res[name] = ("PASS" if ok else "FAIL",
                 "%sclosed by shunt (%s) after %.2f s, expected 0.8..4 s" % (detail, how, dt))

ts = [threading.Thread(target=idle, args=a) for a in
      (("greeting_no_reply", True, b""), ("half_header", True, b"\x20\x00"),
       ("never_reads", False, b""))]
for t in ts: t.start()
# A real client logs in while the idle ones are waiting.
time.sleep(0.2)
import pymysql
try:
    c = pymysql.connect(host="127.0.0.1", port=port, user="shunt_test",
                        password="Shunt-test_pw1", connect_timeout=5)
    cur = c.cursor(); cur.execute("SELECT 7"); v = cur.fetchone()[0]; c.close()
    print(("PASS: concurrent_login (SELECT 7 -> %d while 3 idle clients wait)" % v) if v == 7
          else "FAIL: concurrent_login: got %r" % v)
except Exception as e:
    print("FAIL: concurrent_login: %r" % e)
for t in ts: t.join()
for name in ("greeting_no_reply", "half_header", "never_reads"):
    st, d = res.get(name, ("FAIL", "no result"))
    print("%s: %s%s%s" % (st, name, " (" if st == "PASS" else ": ", d + (")" if st == "PASS" else "")))
PY

fd_back() { [ "$(fd_count "$SHUNT_PID")" -le "$fd0" ]; }
wait_until 3 fd_back
fd1=$(fd_count "$SHUNT_PID")
check fds "shunt open fds $fd0 before the idle clients, $fd1 after" [ "$fd1" -le "$fd0" ]
out=$(cli "$P" -N -B -e 'SELECT 2' 2>&1)
check login_after "a normal login afterwards -> '$out'" [ "$out" = 2 ]
e2e_finish
