#!/usr/bin/python3
"""stuck_client.py — one client that stops reading must not hold up anyone else.

Client A logs in (raw protocol, a 4 KiB receive buffer), sends a query
whose answer is a 12 MiB row and, right behind it, `KILL QUERY 987654`
(an id no session has, which shunt answers itself with ERR 1094), and
then reads nothing. The answer fills every buffer on the way, so when
shunt has A's KILL answer to write, A's socket is full.

While A is stuck, on the same worker (shunt runs one worker thread):
  - 20 new sessions log in and run 10 queries each (200 queries): every
    login needs the worker;
  - the admin port answers SHOW TUNNELS (the control thread asks the worker)
    and lists A.
Then A reads: it must get the whole 12 MiB row, then ERR 1094 for its
KILL, and SELECT 42 must still work on the same connection.

Prints one JSON object: {"others": N, "tunnels_ok": bool, "a_listed": bool,
"a_mode": str, "a_row": N, "a_kill": code, "a_after": str, "errors": [...]}.
"""
import json
import socket
import struct
import sys
import time

import pymysql

sys.path.insert(0, __import__("os").path.dirname(__file__))
import rawclient  # noqa: E402

ROW = 12 * 1024 * 1024


def neighbours(port, user, pw, admin_port, admin_pw, a_id, out, db=None):
    """While session a_id is stuck: 20 new sessions run 10 queries each
    (out["others"] counts the right answers), then the admin port's SHOW
    TUNNELS must list a_id (out["tunnels_ok"], "a_listed", "a_mode").
    Problems go to out["errors"]. Shared with stalled_backend.py."""
    for i in range(20):
        try:
            c = pymysql.connect(host="127.0.0.1", port=port, user=user, password=pw,
                                database=db, connect_timeout=30, read_timeout=30)
            cur = c.cursor()
            for j in range(10):
                cur.execute("SELECT %s + %s", (i, j))
                if cur.fetchone()[0] != i + j:
                    out["errors"].append("session %d query %d: wrong answer" % (i, j))
                out["others"] += 1
            c.close()
        except Exception as e:
            out["errors"].append("session %d: %s" % (i, e))
    try:
        adm = pymysql.connect(host="127.0.0.1", port=admin_port, user="admin",
                              password=admin_pw, connect_timeout=30, read_timeout=30,
                              autocommit=None)
        cur = adm.cursor()
        cur.execute("SHOW TUNNELS")
        cols = [d[0] for d in cur.description]
        for r in cur.fetchall():
            row = dict(zip(cols, r))
            if int(row["id"]) == a_id:
                out["a_listed"] = True
                out["a_mode"] = row["mode"]
        out["tunnels_ok"] = True
        adm.close()
    except Exception as e:
        out["errors"].append("admin SHOW TUNNELS: %s" % e)


def main():
    port, user, pw, admin_port, admin_pw, db = sys.argv[1:7]
    port, admin_port = int(port), int(admin_port)
    out = {"others": 0, "tunnels_ok": False, "a_listed": False, "a_mode": None,
           "a_row": 0, "a_kill": None, "a_after": None, "errors": []}

    a = rawclient.Conn.__new__(rawclient.Conn)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(60)
    s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    a.s, a.sent, a.received, a.counting, a.buf = s, 0, 0, False, b""
    a_id, caps, _ = rawclient.login(a, user, pw, False)
    # The big answer, then (once the server has sent all of it into the
    # buffers on the way) the KILL at a command boundary; then silence.
    q1 = b"\x03" + ("SELECT REPEAT('x', %d)" % ROW).encode()
    q2 = b"\x03KILL QUERY 987654"
    for q in (q1, q2):
        s.sendall(struct.pack("<I", len(q))[:3] + b"\x00" + q)
        time.sleep(1.0)

    t0 = time.time()
    neighbours(port, user, pw, admin_port, admin_pw, a_id, out, db)
    out["others_s"] = round(time.time() - t0, 2)

    # Now A reads: the row, its KILL's answer, and one more query.
    try:
        _, p = a.read_packet()                  # column count
        ncols, _ = rawclient.lenenc(p, 0)
        for _ in range(ncols):
            a.read_packet()
        a.read_packet()                         # EOF
        _, p = a.read_packet()                  # the row
        n, i = rawclient.lenenc(p, 0)
        out["a_row"] = n if p[i:i + n] == b"x" * n else -1
        a.read_packet()                         # EOF
        _, p = a.read_packet()                  # the KILL's answer
        out["a_kill"] = -struct.unpack_from("<H", p, 1)[0] if p[0] == 0xFF else p[0]
        rows, _ = rawclient.query(a, "SELECT 42", caps)
        out["a_after"] = rows[0][0] if rows else None
    except Exception as e:
        out["errors"].append("client A: %s" % e)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
