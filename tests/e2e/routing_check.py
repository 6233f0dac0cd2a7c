#!/usr/bin/python3
"""routing_check.py PORT USER PASS LOG A B — checks shunt's routing.

A and B are the two backends' addresses as shunt logs them (weights 2 and 1
in the test's config). Which backend served a session is read from shunt's
log ("conn=ID ... backend=ADDR session established"), keyed by the shunt
connection id PyMySQL sees in the greeting. Prints PASS:/FAIL: lines.
"""
import re
import sys
import threading
import time

import pymysql

port, user, pw, log, A, B = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
port = int(port)


def connect(u=user, p=pw):
    return pymysql.connect(host="127.0.0.1", port=port, user=u, password=p, connect_timeout=10)


def backend_of(ids):
    """conn id -> backend address, from shunt's log (waits for the lines)."""
    want = set(ids)
    for _ in range(50):
        seen = {}
        with open(log) as f:
            for line in f:
                m = re.search(r"conn=(\d+) .*backend=(\S+) session established", line)
                if m and int(m.group(1)) in want:
                    seen[int(m.group(1))] = m.group(2)
        if len(seen) == len(want):
            return seen
        time.sleep(0.1)
    return seen


def split(conns):
    where = backend_of([c.server_thread_id[0] for c in conns])
    a = sum(1 for c in conns if where.get(c.server_thread_id[0]) == A)
    b = sum(1 for c in conns if where.get(c.server_thread_id[0]) == B)
    return a, b, where


def check(name, ok, detail):
    print("%s: %s (%s)" % ("PASS" if ok else "FAIL", name, detail))


# 1. weights: 30 concurrent sessions over weights 2:1 -> 20/10.
held = [connect() for _ in range(30)]
a, b, where = split(held)
check("weighted_split", (a, b) == (20, 10),
      "30 open sessions: %d on %s (weight 2), %d on %s (weight 1)" % (a, A, b, B))

# 2. least connections: close 10 of A's; the next 10 all go to A
#    (A: 10 active / weight 2 = 5 < B: 10 / 1).
on_a = [c for c in held if where.get(c.server_thread_id[0]) == A]
for c in on_a[:10]:
    c.close()
held = [c for c in held if c not in on_a[:10]]
# shunt learns of a close asynchronously (the client's FIN); give its event
# loop a moment before the next logins.
time.sleep(1.0)
new = [connect() for _ in range(10)]
na, nb, _ = split(new)
check("least_connections", (na, nb) == (10, 0),
      "after closing 10 sessions on %s: 10 new sessions went %d to %s, %d to %s" % (A, na, A, nb, B))
for c in held + new:
    c.close()

# 3. exact counts under concurrency, with logins that fail before routing
#    (wrong password) and after a backend was picked (a user shunt knows but
#    MariaDB does not: the backend refuses the login). Then the split must
#    be exactly as in 1 again: nothing leaked.
errors = []


def churn(n):
    for i in range(n):
        try:
            c = connect()
            c.cursor().execute("SELECT 1")
            c.close()
        except Exception as e:  # noqa: BLE001
            errors.append("good login: %r" % e)
        # shunt's own 1045; for ghost, MariaDB's own refusal relayed as-is
        # (1045, or 1698 for an unknown user)
        for u, p, codes in (("shunt_test", "wrong", (1045,)), ("ghost", "ghost_pw", (1045, 1698))):
            try:
                connect(u, p).close()
                errors.append("%s logged in" % u)
            except pymysql.err.OperationalError as e:
                if e.args[0] not in codes:
                    errors.append("%s: %r" % (u, e))


threads = [threading.Thread(target=churn, args=(40,)) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check("churn", not errors, "8 threads x 40 rounds of good login, wrong password, "
      "backend-refused login: %s" % ("; ".join(errors[:3]) if errors else "all as expected"))
time.sleep(1.0)
held = [connect() for _ in range(30)]
a, b, _ = split(held)
check("no_leaked_counts", (a, b) == (20, 10),
      "after the churn, 30 open sessions again split %d/%d (expected 20/10)" % (a, b))
for c in held:
    c.close()
