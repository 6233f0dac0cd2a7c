#!/usr/bin/python3
"""kill_check.py PORT USER PASS OTHER_USER OTHER_PASS — KILL semantics
through shunt, with PyMySQL (prints PASS:/FAIL: lines for run_checks).

Clients see shunt's connection id (the greeting's, PyMySQL's
thread_id()), and that is what KILL names:
  - KILL QUERY <id> from a second connection returns at once, the
    victim's SELECT SLEEP(30) ends with 1317 within a second, and the
    victim's session keeps working on the same backend thread;
  - KILL <id> (and COM_PROCESS_KILL) closes the victim's session;
  - another user's session: 1095; an unknown id: 1094;
  - KILL QUERY of one's own id is a no-op OK; KILL of one's own
    connection ends it with 1927."""
import sys
import threading
import time

import pymysql

port, user, pw, ouser, opw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]


def connect(u=user, p=pw):
    return pymysql.connect(host="127.0.0.1", port=port, user=u, password=p,
                           connect_timeout=10, read_timeout=40, autocommit=True)


def one(conn, sql):
    with conn.cursor() as c:
        c.execute(sql)
        return c.fetchall()


def report(ok, name, detail):
    print(("PASS: %s (%s)" if ok else "FAIL: %s: %s") % (name, detail))


def wait_running(conn, backend_tid, secs=10):
    """Waits until backend thread backend_tid runs SELECT SLEEP (the
    killer's own user sees its threads in the processlist)."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if one(conn, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %d "
                     "AND INFO LIKE 'SELECT SLEEP%%'" % backend_tid)[0][0]:
            return True
        time.sleep(0.05)
    return False


def gone_code(conn, secs=5):
    """The error of the killed session's next query, retried until the
    close has reached it (it is asynchronous); 0 if it never fails."""
    deadline = time.monotonic() + secs
    while True:
        code = err_code(lambda: one(conn, "SELECT 1"))
        if code or time.monotonic() > deadline:
            return code
        time.sleep(0.1)


def err_code(fn):
    try:
        fn()
        return 0
    except pymysql.MySQLError as e:
        return e.args[0] if e.args else -1


def kill_query(kind, via):
    """kind: the statement form; via: 'query' (COM_QUERY)."""
    victim = connect()
    vid = victim.thread_id()
    backend_tid = one(victim, "SELECT CONNECTION_ID()")[0][0]
    result = {}

    def run():
        t0 = time.monotonic()
        try:
            one(victim, "SELECT SLEEP(30)")
            result["code"] = 0
        except pymysql.MySQLError as e:
            result["code"] = e.args[0]
        result["t_end"] = time.monotonic()
        result["t0"] = t0

    th = threading.Thread(target=run)
    th.start()
    killer = connect()
    if not wait_running(killer, backend_tid):
        report(False, "kill_query.%s" % via, "the victim's SELECT SLEEP(30) never showed in the processlist")
        th.join(35)
        return
    t_kill = time.monotonic()
    one(killer, kind % vid)
    kill_secs = time.monotonic() - t_kill
    th.join(5)
    killer.close()
    if th.is_alive():
        report(False, "kill_query.%s" % via, "the victim's SELECT SLEEP(30) did not end within 5 s of %s" % (kind % vid))
        return
    ended_after = result["t_end"] - t_kill
    after = one(victim, "SELECT 42, CONNECTION_ID()")[0]
    ok = result["code"] == 1317 and ended_after < 1.0 and kill_secs < 1.0 and after == (42, backend_tid)
    report(ok, "kill_query.%s" % via,
           "%s returned in %.3f s; the victim got %s %.3f s after it; then SELECT 42 -> %r on backend thread %s (before: %s)"
           % (kind % vid, kill_secs, result["code"], ended_after, after[0], after[1], backend_tid))
    victim.close()


kill_query("KILL QUERY %d", "statement")
kill_query("/* Connector/J style */ KILL QUERY %d", "commented")

# KILL <id>: the victim's session is gone.
victim = connect()
vid = victim.thread_id()
killer = connect()
one(killer, "KILL %d" % vid)
code = gone_code(victim)
report(code in (2006, 2013), "kill_connection",
       "KILL %d -> OK; the victim's next query -> %s (2006/2013: server gone)" % (vid, code))

# COM_PROCESS_KILL (PyMySQL's Connection.kill)
victim = connect()
vid = victim.thread_id()
killer.kill(vid)
code = gone_code(victim)
report(code in (2006, 2013), "com_process_kill", "COM_PROCESS_KILL %d -> OK; victim's next query -> %s" % (vid, code))

# Another user's session: 1095, and the session lives on.
victim = connect()
vid = victim.thread_id()
other = connect(ouser, opw)
code = err_code(lambda: one(other, "KILL QUERY %d" % vid))
code2 = err_code(lambda: one(other, "KILL %d" % vid))
alive = one(victim, "SELECT 7")[0][0]
report(code == 1095 and code2 == 1095 and alive == 7, "not_owner",
       "%s: KILL QUERY %d -> %s, KILL %d -> %s (1095); victim still answers %s" % (ouser, vid, code, vid, code2, alive))

# Unknown id: 1094, and the killer's session works after.
code = err_code(lambda: one(killer, "KILL QUERY 4000000000"))
after = one(killer, "SELECT 8")[0][0]
report(code == 1094 and after == 8, "unknown_thread", "KILL QUERY 4000000000 -> %s (1094); then SELECT 8 -> %s" % (code, after))

# Own id: KILL QUERY is a no-op, KILL CONNECTION ends it with 1927.
me = connect()
mid = me.thread_id()
code = err_code(lambda: one(me, "KILL QUERY %d" % mid))
after = one(me, "SELECT 9")[0][0]
code2 = err_code(lambda: one(me, "KILL %d" % mid))
report(code == 0 and after == 9 and code2 == 1927, "self",
       "KILL QUERY own id -> %s, then SELECT 9 -> %s; KILL own id -> %s (1927)" % (code or "OK", after, code2))
