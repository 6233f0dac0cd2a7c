#!/usr/bin/python3
"""migrate_check.py SCENARIO [options] — transparent session migration
through shunt (tests/e2e/test_migrate.sh). Prints PASS:/FAIL:/SKIP: lines
for run_checks and indented detail lines; exit status 1 when a check failed.

Backends A and B are two independent MariaDB servers (own datadirs), so
SELECT @@port tells which one answers a session, and nothing a session did on
one can be seen on the other unless shunt carried it over. Shunt's id of a
session (MIGRATE's argument) is the greeting's connection id, PyMySQL's
thread_id(); CONNECTION_ID() is the backend's own thread id.

Scenarios:
  drain      a PyMySQL loop with session state (schema, sql_mode, time_zone,
             SET NAMES latin1, isolation, LAST_INSERT_ID) checked on every
             query, and the Connector/C client migrate_stmt executing a
             server-side prepared statement every 5 ms, both on A for 20 s;
             A is drained meanwhile: both move to B with zero client errors,
             every result right, state intact; A becomes offline; SHOW
             TUNNELS counts the moves.
  session    MIGRATE of single sessions: one in an open transaction waits
             for its COMMIT and then moves; one that never commits times
             out and stays, transaction intact; temporary table, GET_LOCK
             and LOCK TABLES sessions are sticky (ERR 1105, sticky_reason)
             and keep their state; user variables move; 10 moves back and
             forth keep the session state; 1094 for an unknown id; 1105 for
             a target outside the pool.
  refused    a move to a backend that refuses the login (the test user's
             password changed there) fails with 1105 and the session stays
             and works; with the password restored the same move succeeds.
  rebalance  60 busy PyMySQL sessions on A (the pool's only backend); B is
             added at run time with rebalance on: within ~10 s both hold
             30 +- tolerance sessions, and no client saw an error.
  timing     prints the measured migration times (MIGRATE round trips,
             client-visible stalls, the /metrics migration families).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import traceback
import urllib.request

import pymysql
import pymysql.cursors

ap = argparse.ArgumentParser()
ap.add_argument("scenario", choices=["drain", "session", "refused", "rebalance", "timing"])
ap.add_argument("--shunt", type=int, required=True, help="shunt's client port")
ap.add_argument("--admin", type=int, required=True, help="shunt's admin port")
ap.add_argument("--admin-user", default="admin")
ap.add_argument("--admin-pass", required=True)
ap.add_argument("--http", type=int, default=0, help="shunt's HTTP port (/metrics), 0: none")
ap.add_argument("--user", required=True)
ap.add_argument("--password", required=True)
ap.add_argument("--db", required=True)
ap.add_argument("--db2", required=True, help="a second schema present on both servers")
ap.add_argument("--a-port", type=int, required=True)
ap.add_argument("--a-sock", required=True)
ap.add_argument("--b-port", type=int, required=True)
ap.add_argument("--b-sock", required=True)
ap.add_argument("--stmt-bin", default="", help="the compiled migrate_stmt client")
ap.add_argument("--want-mode", default="", help="kernel|user: the mode a moved session must be in")
ap.add_argument("--migrate-timeout-ms", type=int, default=5000)
ap.add_argument("--tolerance", type=float, default=0.2)
ap.add_argument("--timing-file", default="")
ap.add_argument("--shunt-log", default="", help="shunt's log: its 'migrated (...)' lines give exact times")
ap.add_argument("--seconds", type=int, default=20, help="drain: how long the clients run")
ap.add_argument("--deadline", type=int, default=170, help="give up (FAIL) after this many seconds")
a = ap.parse_args()

A = "127.0.0.1:%d" % a.a_port
B = "127.0.0.1:%d" % a.b_port
PORT_ADDR = {a.a_port: A, a.b_port: B}
SOCK = {a.a_port: a.a_sock, a.b_port: a.b_sock}
fails = 0
out_lock = threading.Lock()


def say(line):
    with out_lock:
        print(line, flush=True)


def report(ok, name, detail):
    global fails
    if not ok:
        fails += 1
    say(("PASS: %s (%s)" if ok else "FAIL: %s: %s") % (name, detail))


def info(msg):
    say("%s" % msg)


def watchdog():
    say("FAIL: %s.deadline: the scenario did not finish within %d s" % (a.scenario, a.deadline))
    os._exit(1)


_wd = threading.Timer(a.deadline, watchdog)
_wd.daemon = True
_wd.start()


def wait_until(secs, fn, step=0.1):
    """Polls fn() until it returns a true value (returned) or secs pass
    (the last value is returned)."""
    end = time.monotonic() + secs
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def short(s, n=300):
    s = str(s).replace("\n", " | ")
    return s if len(s) <= n else s[:n] + "..."


def record_timing(kind, **kw):
    if not a.timing_file:
        return
    kw["kind"] = kind
    with open(a.timing_file, "a") as f:
        f.write(json.dumps(kw) + "\n")


# ---------------------------------------------------------------- servers

def root_sql(port, sql):
    """Root SQL on backend PORT through its socket (never through shunt):
    rows as lists of strings."""
    p = subprocess.run(["mariadb", "--no-defaults", "-S", SOCK[port], "-uroot", "-N", "-B", "-e", sql],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("root SQL on %d failed: %s: %s" % (port, sql, p.stderr.strip()))
    return [line.split("\t") for line in p.stdout.splitlines()]


def root_scalar(port, sql):
    rows = root_sql(port, sql)
    return rows[0][0] if rows else None


# ---------------------------------------------------------------- admin port

class Admin:
    """An admin-port connection. autocommit=None: PyMySQL then sends no
    SET AUTOCOMMIT, which the admin port does not speak."""

    def __init__(self, port=None):
        self.c = pymysql.connect(host="127.0.0.1", port=port or a.admin, user=a.admin_user,
                                 password=a.admin_pass, autocommit=None, connect_timeout=10,
                                 read_timeout=120, write_timeout=30)

    def rows(self, sql):
        with self.c.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql)
            return cur.fetchall()

    def run(self, sql):
        """(code, message, seconds): code 0 and the OK packet's info
        message on success, the MySQL error code and message otherwise."""
        t0 = time.monotonic()
        try:
            with self.c.cursor() as cur:
                cur.execute(sql)
                cur.fetchall()
            res = getattr(self.c, "_result", None)
            msg = getattr(res, "message", b"") or b""
            if isinstance(msg, bytes):
                msg = msg.decode("utf-8", "replace")
            return 0, msg, time.monotonic() - t0
        except pymysql.MySQLError as e:
            code = e.args[0] if e.args and isinstance(e.args[0], int) else -1
            msg = e.args[1] if len(e.args) > 1 else str(e)
            return code, msg, time.monotonic() - t0

    def tunnels(self):
        return {int(r["id"]): r for r in self.rows("SHOW TUNNELS")}

    def tunnel(self, sid):
        return self.tunnels().get(sid)

    def backends(self):
        return {r["address"]: r for r in self.rows("SHOW BACKENDS")}

    def close(self):
        try:
            self.c.close()
        except Exception:
            pass


def tcol(row, col):
    """A SHOW TUNNELS column; '<no column>' when the column is missing."""
    if row is None:
        return "<no row>"
    return row.get(col, "<no column %s>" % col)


def tsum(row):
    if row is None:
        return "no such tunnel"
    return "backend=%s mode=%s in_transaction=%s sticky_reason=%s migrations=%s migrating=%s" % tuple(
        tcol(row, c) for c in ("backend", "mode", "in_transaction", "sticky_reason", "migrations",
                               "migrating"))


def as_int(v, default=-1):
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------- metrics

def metrics():
    """{(name, frozenset(labels)): value} from /metrics, {} without HTTP."""
    if not a.http:
        return {}
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % a.http, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)', line)
        if not m:
            continue
        labels = frozenset(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        try:
            out[(m.group(1), labels)] = float(m.group(4))
        except ValueError:
            pass
    return out


def migrations_metric(mx, trigger, outcome):
    """shunt_migrations_total{trigger,outcome}; None when the sample is absent."""
    for (name, labels), v in mx.items():
        if name == "shunt_migrations_total":
            d = dict(labels)
            if d.get("trigger") == trigger and d.get("outcome") == outcome:
                return v
    return None


def check_metric(name, trigger, outcome, at_least):
    if not a.http:
        say("SKIP: %s: no HTTP port, no /metrics" % name)
        return
    try:
        v = migrations_metric(metrics(), trigger, outcome)
    except Exception as e:
        report(False, name, "GET /metrics failed: %s" % e)
        return
    report(v is not None and v >= at_least, name,
           'shunt_migrations_total{trigger="%s",outcome="%s"} = %s (expected >= %d)'
           % (trigger, outcome, v, at_least))


# ---------------------------------------------------------------- clients

def connect(db=None, **kw):
    args = dict(host="127.0.0.1", port=a.shunt, user=a.user, password=a.password, database=db,
                autocommit=True, connect_timeout=10, read_timeout=30, write_timeout=30,
                charset="utf8mb4")
    args.update(kw)
    return pymysql.connect(**args)


def q1(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def other(port):
    return a.b_port if port == a.a_port else a.a_port


def where(e):
    """'line N: source' of the deepest frame of this file in e's traceback."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == __file__]
    return "line %d: %s" % (frames[-1].lineno, frames[-1].line) if frames else "?"


def guarded(name):
    """Runs a check function; an unexpected exception is a FAIL of name,
    with the statement that raised it."""
    def deco(fn):
        try:
            fn()
        except Exception as e:
            report(False, name, "unexpected %s: %s (at %s)" % (type(e).__name__, short(e, 500), where(e)))
        return fn
    return deco


def percentile(xs, p):
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


# A query that returns every piece of session state the drain scenario sets,
# checked on every iteration. Under SET NAMES latin1 the two UTF-8 bytes of
# 'é' are two latin1 characters: CHAR_LENGTH = 2 proves that the server
# really decodes the client's bytes as latin1, not just that a variable
# says so.
STATE_SQL = ("SELECT @@port, DATABASE(), @@sql_mode, @@time_zone, @@character_set_client, "
             "@@character_set_results, @@tx_isolation, LAST_INSERT_ID(), CHAR_LENGTH('\u00e9')")
STATE_COLS = ["DATABASE()", "@@sql_mode", "@@time_zone", "@@character_set_client",
              "@@character_set_results", "@@tx_isolation", "LAST_INSERT_ID()", "CHAR_LENGTH('\u00e9')"]


class StateLoop(threading.Thread):
    """A PyMySQL session with non-default state, querying STATE_SQL every
    5 ms for `secs` seconds; every row must carry the same state."""

    def __init__(self, secs):
        super().__init__(daemon=True)
        self.secs = secs
        self.ready = threading.Event()
        self.id = None
        self.errors = []          # exceptions (the loop stops at a lost connection)
        self.wrong = []           # rows whose state differs from the expected
        self.expected = None
        self.setup_error = None
        self.ports = []           # (t, port) at every change
        self.n = 0
        self.n_by_port = {}
        self.lat = []
        self.max_lat = (0.0, 0)   # (seconds, port that answered)
        self.done_by_time = False

    def run(self):
        try:
            c = connect(a.db)
            self.id = c.thread_id()
            q1(c, "USE " + a.db2)
            q1(c, "INSERT INTO mig_ai (note) VALUES ('drain')")
            lid = q1(c, "SELECT LAST_INSERT_ID()")[0]
            q1(c, "SET sql_mode = 'ANSI_QUOTES'")
            q1(c, "SET time_zone = '+05:30'")
            q1(c, "SET NAMES latin1")
            q1(c, "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            row = q1(c, STATE_SQL)
            want = (a.db2, "ANSI_QUOTES", "+05:30", "latin1", "latin1", "SERIALIZABLE", lid, 2)
            if tuple(row[1:]) != want or lid < 7000:
                self.setup_error = "state after setting it: %r, expected %r (LAST_INSERT_ID >= 7000)" % (
                    tuple(row[1:]), want)
                self.ready.set()
                return
            self.expected = want
            self.ports.append((0.0, row[0]))
        except Exception as e:
            self.setup_error = "%s: %s" % (type(e).__name__, e)
            self.ready.set()
            return
        self.ready.set()
        t_start = time.monotonic()
        end = t_start + self.secs
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                row = q1(c, STATE_SQL)
            except pymysql.MySQLError as e:
                self.errors.append("t=%.3f after %d queries: %s: %s" % (
                    t0 - t_start, self.n, type(e).__name__, e))
                if isinstance(e, pymysql.OperationalError) and e.args and e.args[0] in (2006, 2013, 2014):
                    return
                continue
            dt = time.monotonic() - t0
            self.n += 1
            self.lat.append(dt)
            port = row[0]
            self.n_by_port[port] = self.n_by_port.get(port, 0) + 1
            if dt > self.max_lat[0]:
                self.max_lat = (dt, port)
            if port != self.ports[-1][1]:
                self.ports.append((round(t0 - t_start, 3), port))
            if tuple(row[1:]) != self.expected and len(self.wrong) < 20:
                diff = ["%s=%r (expected %r)" % (STATE_COLS[i], row[1 + i], self.expected[i])
                        for i in range(len(self.expected)) if row[1 + i] != self.expected[i]]
                self.wrong.append("t=%.3f port %s: %s" % (t0 - t_start, port, ", ".join(diff)))
            time.sleep(0.005)
        self.done_by_time = True
        try:
            c.close()
        except Exception:
            pass


class StmtClient:
    """tests/e2e/migrate_stmt.c in the background; its lines are parsed."""

    def __init__(self, secs, db):
        self.lines = []
        self.ready = threading.Event()
        self.id = None
        self.port = None
        self.p = subprocess.Popen([a.stmt_bin, "127.0.0.1", str(a.shunt), a.user, a.password, db,
                                   str(secs), "5"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            if line.startswith("ready "):
                kv = dict(x.split("=", 1) for x in line.split()[1:])
                self.id, self.port = int(kv["id"]), int(kv["port"])
                self.ready.set()
        self.ready.set()

    def wait(self, secs):
        try:
            rc = self.p.wait(secs)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = "killed after %d s" % secs
            self.p.wait()
        self.t.join(5)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def done(self):
        for line in self.lines:
            if line.startswith("done "):
                return dict(x.split("=", 1) for x in line.split()[1:])
        return None

    def of(self, kind):
        return [ln for ln in self.lines if ln.startswith(kind + " ")]


# ---------------------------------------------------------------- drain

def warm_thread_cache(port, conns=3, stmts=5):
    """Leaves server threads in PORT's thread cache whose statement counters
    are past 0: MariaDB keeps a thread's counter when it caches the thread,
    so a migration's new connection there numbers re-created statements
    from elsewhere than 1 and shunt must translate their ids."""
    cs = [pymysql.connect(host="127.0.0.1", port=port, user=a.user, password=a.password,
                          connect_timeout=10) for _ in range(conns)]
    for c in cs:
        for i in range(stmts):
            q1(c, "PREPARE warm%d FROM 'SELECT 1'" % i)
    for c in cs:
        c.close()
    time.sleep(0.3)     # the threads reach the cache


def stats():
    ad = Admin()
    rows = dict((r["name"], r["value"]) for r in ad.rows("SHOW STATS"))
    ad.close()
    return rows


def migrated_lines(sid):
    """shunt's 'migrated (...)' log lines of session SID."""
    if not a.shunt_log:
        return []
    with open(a.shunt_log, errors="replace") as f:
        return [l.strip() for l in f if (" conn=%d " % sid) in l and "migrated (" in l]


def scenario_drain():
    adm = Admin()
    if not a.stmt_bin or not os.access(a.stmt_bin, os.X_OK):
        report(False, "drain.stmt_client", "the prepared-statement client %r was not built" % a.stmt_bin)
        return
    # Both clients must start on A: B takes no new sessions meanwhile.
    code, msg, _ = adm.run("SET BACKEND '%s' STATE offline" % B)
    if code:
        report(False, "drain.setup", "SET BACKEND '%s' STATE offline -> %s %s" % (B, code, msg))
        return
    loop = StateLoop(a.seconds)
    stmt = StmtClient(a.seconds, a.db2)
    try:
        loop.start()
        loop.ready.wait(15)
        stmt.ready.wait(15)
        ok = (loop.expected is not None and stmt.id is not None and loop.ports[0][1] == a.a_port
              and stmt.port == a.a_port)
        report(ok, "drain.setup",
               "PyMySQL session %s with its state set (%s) on port %s; prepared-statement session %s on port %s; "
               "both expected on A=%d" % (loop.id, loop.setup_error or "ok", loop.ports[0][1] if loop.ports else "-",
                                          stmt.id, stmt.port, a.a_port)
               + ("" if stmt.id else "; client output: %s" % short(" | ".join(stmt.lines))))
        if not ok:
            return
        code, msg, _ = adm.run("SET BACKEND '%s' STATE online" % B)
        if code:
            report(False, "drain.setup", "SET BACKEND '%s' STATE online -> %s %s" % (B, code, msg))
            return
        warm_thread_cache(a.b_port)
        time.sleep(2)   # some traffic on A before the move
        ids = (loop.id, stmt.id)
        rewrites0 = as_int(stats().get("kernel_stmt_id_rewrites"), 0)
        t_drain = time.monotonic()
        code, msg, secs = adm.run("SET BACKEND '%s' STATE draining" % A)
        report(code == 0, "drain.set_draining", "SET BACKEND '%s' STATE draining -> %s in %.3f s"
               % (A, "OK" if code == 0 else "%s %s" % (code, msg), secs))

        def moved():
            t = adm.tunnels()
            return all(t.get(i) is not None and t[i].get("backend") == B for i in ids)
        ok = wait_until(15, moved)
        t_moved = time.monotonic() - t_drain
        tun = adm.tunnels()
        report(ok, "drain.moved",
               "both sessions on %s %.2f s after the drain began; PyMySQL %s: %s; prepared-statement %s: %s"
               % (B, t_moved, loop.id, tsum(tun.get(loop.id)), stmt.id, tsum(tun.get(stmt.id))))

        def offline():
            r = adm.backends().get(A)
            return r is not None and r.get("state") == "offline"
        ok = wait_until(10, offline)
        r = adm.backends().get(A, {})
        report(ok, "drain.offline", "the drained backend %s: state=%s admin_state=%s sessions=%s "
               "(expected offline once it has no sessions)"
               % (A, r.get("state"), r.get("admin_state"), r.get("sessions")))
        tun = adm.tunnels()
        for name, sid in (("pymysql", loop.id), ("stmt", stmt.id)):
            row = tun.get(sid)
            ok = (row is not None and as_int(tcol(row, "migrations")) >= 1
                  and as_int(tcol(row, "migrating")) == 0 and tcol(row, "sticky_reason") is None)
            report(ok, "drain.tunnel_%s" % name,
                   "SHOW TUNNELS for session %s: %s (expected migrations >= 1, migrating 0, sticky_reason NULL)"
                   % (sid, tsum(row)))
            if a.want_mode:
                report(row is not None and row.get("mode") == a.want_mode, "drain.mode_%s" % name,
                       "session %s after the move: mode %s (expected %s: the %s carries it again)"
                       % (sid, tcol(row, "mode"), a.want_mode,
                          "kernel fast path" if a.want_mode == "kernel" else "user-space relay"))
        check_metric("drain.metric", "drain", "ok", 2)

        # The statement session moves back to A and again to B, both
        # with cached threads: its statements, translated once already,
        # are re-created from the client's ids and translated anew.
        code, msg, _ = adm.run("SET BACKEND '%s' STATE online" % A)
        warm_thread_cache(a.a_port)
        back = []
        for addr in (A, B):
            back.append(adm.run("MIGRATE %d TO '%s'" % (stmt.id, addr)))
            time.sleep(0.3)     # a few executes on each (the client runs one per 5 ms)
        report(all(r[0] == 0 for r in back) and code == 0, "drain.stmt_moved_twice_more",
               "prepared-statement session %s: MIGRATE TO A -> %s, MIGRATE TO B -> %s"
               % (stmt.id, back[0][:2], back[1][:2]))

        loop.join(a.seconds + 30)
        rc = stmt.wait(a.seconds + 30)
        # The statement came back under another id on B's cached thread:
        # the client's id was translated on every execute after the move.
        lines = migrated_lines(stmt.id)
        got = [re.search(r"(\d+) statements \((\d+) under new ids", l) for l in lines]
        # The drain's target had warm cached threads: its move must have
        # translated. The later moves may or may not land on one (a fresh
        # thread gives the old ids back): either way the client must not see it.
        report(len(lines) == 3 and all(got) and int(got[0].group(2)) >= 1, "drain.stmt_translated",
               "the prepared-statement session's 3 moves (drain to B, back to A, to B again); "
               "the first under new ids: %s"
               % (" | ".join(short(l.split(" migrated ")[-1], 200) for l in lines) if lines
                  else "no 'migrated' log line for session %s" % stmt.id))
        if a.want_mode == "kernel":
            rewrites = as_int(stats().get("kernel_stmt_id_rewrites"), 0) - rewrites0
            report(rewrites > 0, "drain.stmt_kernel_rewrites",
                   "statement ids the BPF program rewrote in forwarded executes since the move: %d "
                   "(SHOW STATS kernel_stmt_id_rewrites)" % rewrites)
    finally:
        stmt.kill()
        for addr in (A, B):   # as the next scenarios expect them, whatever happened
            adm.run("SET BACKEND '%s' STATE online" % addr)

    # The PyMySQL session.
    ports = [p for _, p in loop.ports]
    report(loop.done_by_time and not loop.errors, "drain.pymysql_no_errors",
           "%d queries in %d s, %d errors%s" % (loop.n, a.seconds, len(loop.errors),
                                               ": " + short("; ".join(loop.errors[:5]), 800) if loop.errors else ""))
    report(ports == [a.a_port, a.b_port], "drain.pymysql_port",
           "@@port over the run (t s, port): %s (expected A=%d then B=%d, one change); queries per port %s"
           % (loop.ports, a.a_port, a.b_port, loop.n_by_port))
    report(not loop.wrong and loop.n_by_port.get(a.b_port, 0) > 0, "drain.pymysql_state",
           "every one of %d rows (%d answered by B) carried DATABASE, sql_mode, time_zone, "
           "character_set_client/results, tx_isolation, LAST_INSERT_ID and latin1 decoding %r%s"
           % (loop.n, loop.n_by_port.get(a.b_port, 0), loop.expected,
              "; wrong rows: " + short("; ".join(loop.wrong[:5]), 800) if loop.wrong else ""))

    # The prepared-statement session.
    d = stmt.done() or {}
    errs = stmt.of("error") + stmt.of("wrong")
    changes = stmt.of("port")
    report(rc == 0 and d.get("errors") == "0" and d.get("wrong") == "0", "drain.stmt_no_errors",
           "migrate_stmt exit %s: %s executions of one prepared statement (same handle, stmt id %s -> %s), "
           "%s errors, %s wrong results%s"
           % (rc, d.get("execs"), stmt.lines[0].split("stmt=")[-1] if stmt.lines else "?", d.get("stmt"),
              d.get("errors"), d.get("wrong"), ": " + short(" | ".join(errs[:6]), 800) if errs else ""))
    report(d.get("changes") == "3" and d.get("first_port") == str(a.a_port)
           and d.get("last_port") == str(a.b_port), "drain.stmt_port",
           "@@port from the prepared statement: first %s, last %s, %s change(s): %s"
           % (d.get("first_port"), d.get("last_port"), d.get("changes"), short(" | ".join(changes), 400)))
    report(d.get("s2") == "ok" and d.get("after") == "ok", "drain.stmt_idle_statement",
           "a second statement prepared on A and first executed after the move: %s; the first one "
           "afterwards: %s" % (d.get("s2"), d.get("after")))
    lat = sorted(loop.lat)
    record_timing("drain", moved_s=t_moved,
                  py_max_ms=loop.max_lat[0] * 1000, py_p50_ms=percentile(lat, 0.5) * 1000,
                  py_p99_ms=percentile(lat, 0.99) * 1000,
                  stmt_max_ms=float(d.get("max_ms", 0)), stmt_p50_ms=float(d.get("p50_ms", 0)),
                  stmt_switch_ms=float(changes[0].split("ms=")[-1]) if changes else None)
    info("drain: PyMySQL query latency p50 %.2f ms, p99 %.2f ms, max %.2f ms (port %s); prepared statement "
         "p50 %s ms, max %s ms; first execute on B took %s ms"
         % (percentile(lat, 0.5) * 1000, percentile(lat, 0.99) * 1000, loop.max_lat[0] * 1000,
            loop.max_lat[1], d.get("p50_ms"), d.get("max_ms"),
            changes[0].split("ms=")[-1] if changes else "-"))
    adm.close()


# ---------------------------------------------------------------- session

def session_on(db=None):
    c = connect(db)
    port = q1(c, "SELECT @@port")[0]
    return c, c.thread_id(), port, other(port)


def scenario_session():
    adm = Admin()
    mt = a.migrate_timeout_ms / 1000.0
    tag = "t%d" % os.getpid()

    @guarded("txn.wait_for_commit")
    def _():
        c, sid, src, dst = session_on(a.db)
        q1(c, "BEGIN")
        q1(c, "INSERT INTO mig_txn VALUES (%s, 1)", (tag + "a",))
        res = {}

        def mig():
            ad = Admin()
            res["r"] = ad.run("MIGRATE %d TO '%s'" % (sid, PORT_ADDR[dst]))
            res["t"] = time.monotonic()
            ad.close()
        th = threading.Thread(target=mig, daemon=True)
        th.start()
        pending = wait_until(min(3, mt / 2), lambda: as_int(tcol(adm.tunnel(sid), "migrating")) == 1)
        report(bool(pending), "txn.pending",
               "MIGRATE %d TO '%s' sent while the session is in a transaction: %s (expected migrating 1, "
               "in_transaction 1)" % (sid, PORT_ADDR[dst], tsum(adm.tunnel(sid))))
        seen = []
        for _ in range(5):   # the open transaction goes on where it is
            seen.append(q1(c, "SELECT @@port, (SELECT COUNT(*) FROM mig_txn WHERE tag = %s), @@in_transaction",
                           (tag + "a",)))
            time.sleep(0.15)
        answered_early = "r" in res
        report(all(r == (src, 1, 1) for r in seen) and not answered_early, "txn.stays_while_open",
               "5 queries inside the transaction while the MIGRATE waited: (@@port, own row visible, "
               "@@in_transaction) = %s (expected (%d, 1, 1)); MIGRATE answered before the COMMIT: %s"
               % (sorted(set(seen)), src, res.get("r", "no")))
        t_commit = time.monotonic()
        q1(c, "COMMIT")
        ports = []

        def on_dst():
            ports.append(q1(c, "SELECT @@port")[0])
            return ports[-1] == dst
        moved = wait_until(min(8, mt + 2), on_dst)
        th.join(mt + 5)
        r = res.get("r")
        report(moved and r is not None and r[0] == 0, "txn.moves_after_commit",
               "after COMMIT the session's @@port went %s -> %s (%d queries; expected %d) and MIGRATE answered "
               "%s %.3f s after the COMMIT"
               % (src, ports[-1] if ports else "-", len(ports), dst,
                  ("OK" if r and r[0] == 0 else r), res.get("t", t_commit) - t_commit))
        on_src = root_scalar(src, "SELECT COUNT(*) FROM %s.mig_txn WHERE tag = '%sa'" % (a.db, tag))
        on_dst_root = root_scalar(dst, "SELECT COUNT(*) FROM %s.mig_txn WHERE tag = '%sa'" % (a.db, tag))
        mine = q1(c, "SELECT COUNT(*) FROM mig_txn WHERE tag = %s", (tag + "a",))[0]
        report(on_src == "1" and on_dst_root == "0" and mine == 0, "txn.committed_on_old",
               "the transaction committed on the old server: its row on %d: %s, on %d: %s; the moved session "
               "now reads %d such rows from %d (an independent server)" % (src, on_src, dst, on_dst_root, mine, dst))
        row = adm.tunnel(sid)
        report(as_int(tcol(row, "migrations")) == 1 and tcol(row, "backend") == PORT_ADDR[dst],
               "txn.tunnel", "SHOW TUNNELS: %s" % tsum(row))
        c.close()

    # A KILL that shunt answers itself leaves nothing owed. In the kernel
    # carrier no backend byte follows it, so the program applies the
    # re-arm only at the client's next byte: a client that then waits must
    # still be movable at once (it used to wait for the timeout: 1105).
    @guarded("after_kill.moves")
    def _():
        c, sid, src, dst = session_on(a.db)
        try:
            q1(c, "KILL QUERY 987654")
            killed = "OK"
        except pymysql.MySQLError as e:
            killed = e.args[0]
        code, msg, secs = adm.run("MIGRATE %d TO '%s'" % (sid, PORT_ADDR[dst]))
        port = q1(c, "SELECT @@port")[0]
        report(killed == 1094 and code == 0 and secs < mt / 2 and port == dst, "after_kill.moves",
               "KILL QUERY of an unknown id -> %s, then MIGRATE of the quiet session -> %s %s after %.2f s "
               "(expected OK well within migrate_timeout_ms = %d ms); its @@port then %d (expected %d)"
               % (killed, code or "OK", msg, secs, a.migrate_timeout_ms, port, dst))
        c.close()

    @guarded("txn_timeout.stays")
    def _():
        c, sid, src, dst = session_on(a.db)
        bt = q1(c, "SELECT CONNECTION_ID()")[0]
        q1(c, "BEGIN")
        q1(c, "INSERT INTO mig_txn VALUES (%s, 2)", (tag + "b",))
        code, msg, secs = adm.run("MIGRATE %d TO '%s'" % (sid, PORT_ADDR[dst]))
        report(code == 1105 and mt * 0.8 <= secs <= mt + 5, "txn_timeout.error",
               "MIGRATE of a session whose transaction stays open -> %s %s after %.2f s (expected 1105 after "
               "about migrate_timeout_ms = %d ms)" % (code or "OK", msg, secs, a.migrate_timeout_ms))
        row = q1(c, "SELECT @@port, CONNECTION_ID(), (SELECT COUNT(*) FROM mig_txn WHERE tag = %s), "
                    "@@in_transaction", (tag + "b",))
        report(row == (src, bt, 1, 1), "txn_timeout.stays",
               "afterwards (@@port, backend thread, own row, @@in_transaction) = %r (expected (%d, %d, 1, 1))"
               % (row, src, bt))
        q1(c, "COMMIT")
        n = root_scalar(src, "SELECT COUNT(*) FROM %s.mig_txn WHERE tag = '%sb'" % (a.db, tag))
        t = adm.tunnel(sid)
        report(n == "1" and as_int(tcol(t, "migrations")) == 0 and as_int(tcol(t, "migrating")) == 0,
               "txn_timeout.commit", "the COMMIT landed on %d (row count %s); SHOW TUNNELS: %s" % (src, n, tsum(t)))
        c.close()
    check_metric("txn_timeout.metric", "manual", "timeout", 1)

    n_sticky = []

    def sticky(name, setup, want_reason, still_sql, still_want, cleanup=None, needs_plugin=None):
        @guarded(name + ".sticky")
        def _():
            c, sid, src, dst = session_on(a.db)
            if needs_plugin and root_scalar(src, "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE "
                                                 "PLUGIN_NAME = '%s' AND PLUGIN_STATUS = 'ACTIVE'" % needs_plugin) != "1":
                say("SKIP: %s.sticky: the server on %d has no %s plugin: shunt cannot see the state"
                    % (name, src, needs_plugin))
                c.close()
                return
            n_sticky.append(name)
            for s in setup:
                q1(c, s)
            code, msg, secs = adm.run("MIGRATE %d TO '%s'" % (sid, PORT_ADDR[dst]))
            row = adm.tunnel(sid)
            report(code == 1105 and tcol(row, "sticky_reason") == want_reason, name + ".sticky",
                   "after %s: MIGRATE -> %s %s (%.3f s); SHOW TUNNELS: %s (expected 1105 and sticky_reason %s)"
                   % ("; ".join(setup), code or "OK", msg, secs, tsum(row), want_reason))
            code2, msg2, _ = adm.run("MIGRATE %d" % sid)
            got = q1(c, still_sql)
            port = q1(c, "SELECT @@port")[0]
            report(code2 == 1105 and got == still_want and port == src, name + ".kept",
                   "MIGRATE %d (any target) -> %s %s; the session still on %d (@@port %s): %s -> %r (expected %r)"
                   % (sid, code2 or "OK", msg2, src, port, still_sql, got, still_want))
            for s in cleanup or []:
                q1(c, s)
            c.close()

    sticky("temp_table", ["CREATE TEMPORARY TABLE mig_tmp (a INT)", "INSERT INTO mig_tmp VALUES (1), (2)"],
           "temporary-table", "SELECT COUNT(*), SUM(a) FROM mig_tmp", (2, 3))
    lock = "mig_lock_%d" % os.getpid()
    sticky("user_lock", ["SELECT GET_LOCK('%s', 0)" % lock], "user-lock",
           "SELECT IS_USED_LOCK('%s') = CONNECTION_ID()" % lock, (1,), ["SELECT RELEASE_LOCK('%s')" % lock],
           needs_plugin="METADATA_LOCK_INFO")
    sticky("lock_tables", ["LOCK TABLES mig_txn READ"], "lock-tables",
           "SELECT COUNT(*) >= 0 FROM mig_txn", (1,), ["UNLOCK TABLES"])
    check_metric("sticky.metric", "manual", "sticky", len(n_sticky))

    @guarded("user_vars.move")
    def _():
        c, sid, src, dst = session_on(a.db)
        listable = root_scalar(src, "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE "
                                    "PLUGIN_NAME = 'user_variables' AND PLUGIN_STATUS = 'ACTIVE'") == "1"
        q1(c, "SET @mig_s = 'kept \u00e9', @mig_n = 42, @mig_d = 2.5, @mig_null = NULL")
        probe = "SELECT @mig_s, @mig_n, @mig_d, @mig_null, @mig_n + 1, @mig_d * 2"
        before = q1(c, probe)
        code, msg, secs = adm.run("MIGRATE %d" % sid)
        after = q1(c, probe)
        port = q1(c, "SELECT @@port")[0]
        if listable:
            report(code == 0 and port == dst and after == before, "user_vars.move",
                   "MIGRATE %d (no target) -> %s in %.3f s; @@port %d -> %d (expected %d); %s -> %r (before: %r)"
                   % (sid, "OK" if code == 0 else "%s %s" % (code, msg), secs, src, port, dst, probe, after, before))
        else:
            row = adm.tunnel(sid)
            report(code == 1105 and tcol(row, "sticky_reason") == "user-variables" and after == before,
                   "user_vars.sticky",
                   "the server cannot list user variables: MIGRATE -> %s %s; %s; variables %r (before %r)"
                   % (code, msg, tsum(row), after, before))
        c.close()

    @guarded("ping_pong.moves")
    def _():
        c, sid, src, dst = session_on(a.db)
        q1(c, "USE " + a.db2)
        q1(c, "SET time_zone = '-02:00', sql_mode = 'PIPES_AS_CONCAT'")
        samples, bad, seq, reported = [], [], [src], []
        for i in range(10):
            code, msg, secs = adm.run("MIGRATE %d" % sid)
            if i == 0:
                info("ping_pong: the first MIGRATE's answer: %s, info message %r"
                     % ("OK" if code == 0 else code, msg))
            m = re.search(r"in ([\d.]+) ms", msg or "") if code == 0 else None
            if m:
                reported.append(float(m.group(1)))
            row = q1(c, "SELECT @@port, @@time_zone, @@sql_mode, DATABASE(), 'a' || 'b'")
            seq.append(row[0])
            want = (seq[-2] and other(seq[-2]), "-02:00", "PIPES_AS_CONCAT", a.db2, "ab")
            if code != 0 or row != want:
                bad.append("move %d: MIGRATE -> %s %s; row %r (expected %r)" % (i + 1, code or "OK", msg, row, want))
            else:
                samples.append(secs)
        t = adm.tunnel(sid)
        report(not bad and as_int(tcol(t, "migrations")) == 10, "ping_pong.moves",
               "10 x MIGRATE %d (no target): @@port sequence %s; state kept on every hop; SHOW TUNNELS "
               "migrations %s (expected 10)%s" % (sid, seq, tcol(t, "migrations"),
                                                  "; " + short("; ".join(bad[:4]), 800) if bad else ""))
        record_timing("manual_idle", round_trips_ms=[s * 1000 for s in samples], reported_ms=reported)
        c.close()

    @guarded("unknown_id")
    def _():
        code, msg, _ = adm.run("MIGRATE 4000000000")
        report(code == 1094, "unknown_id", "MIGRATE 4000000000 -> %s %s (expected 1094)" % (code or "OK", msg))

    @guarded("bad_target")
    def _():
        c, sid, src, dst = session_on(a.db)
        code, msg, _ = adm.run("MIGRATE %d TO '127.0.0.1:1'" % sid)
        row = q1(c, "SELECT @@port, 6 * 7")
        report(code == 1105 and row == (src, 42), "bad_target",
               "MIGRATE %d TO '127.0.0.1:1' (not in the pool) -> %s %s; the session then answers %r (expected "
               "(%d, 42))" % (sid, code or "OK", msg, row, src))
        c.close()
    adm.close()


# ---------------------------------------------------------------- refused

def scenario_refused():
    adm = Admin()
    c, sid, src, dst = session_on(a.db)
    bt = q1(c, "SELECT CONNECTION_ID()")[0]
    q1(c, "SET time_zone = '+03:00'")
    accounts = ("'%s'@'%%'" % a.user, "'%s'@'localhost'" % a.user)
    try:
        for acc in accounts:
            root_sql(dst, "ALTER USER %s IDENTIFIED VIA mysql_native_password USING PASSWORD('not-%s')"
                     % (acc, a.password))
        code, msg, secs = adm.run("MIGRATE %d TO '%s'" % (sid, PORT_ADDR[dst]))
        report(code == 1105, "refused.error",
               "MIGRATE %d TO '%s' whose server refuses the test user's login -> %s %s (%.3f s; expected 1105)"
               % (sid, PORT_ADDR[dst], code or "OK", msg, secs))
        rows = [q1(c, "SELECT @@port, CONNECTION_ID(), @@time_zone, %s + 1", (i,)) for i in range(5)]
        want = [(src, bt, "+03:00", i + 1) for i in range(5)]
        t = adm.tunnel(sid)
        report(rows == want and tcol(t, "backend") == PORT_ADDR[src] and as_int(tcol(t, "migrations")) == 0
               and as_int(tcol(t, "migrating")) == 0, "refused.stays",
               "5 queries afterwards: (@@port, backend thread, time_zone, n+1) = %r (expected %r); SHOW TUNNELS: %s"
               % (rows[-1], want[-1], tsum(t)) + ("" if rows == want else "; all: %r" % rows))
        check_metric("refused.metric", "manual", "failed", 1)
    finally:
        for acc in accounts:
            root_sql(dst, "ALTER USER %s IDENTIFIED VIA mysql_native_password USING PASSWORD('%s')"
                     % (acc, a.password))
    # The same move once the server accepts the login again.
    code, msg, secs = adm.run("MIGRATE %d TO '%s'" % (sid, PORT_ADDR[dst]))
    row = q1(c, "SELECT @@port, @@time_zone")
    report(code == 0 and row == (dst, "+03:00"), "refused.then_ok",
           "with the password restored on %d: MIGRATE -> %s (%.3f s); (@@port, time_zone) = %r (expected (%d, '+03:00'))"
           % (dst, "OK" if code == 0 else "%s %s" % (code, msg), secs, row, dst))
    if code == 0:
        record_timing("manual_idle", round_trips_ms=[secs * 1000])
    c.close()
    adm.close()


# ---------------------------------------------------------------- rebalance

class Busy(threading.Thread):
    """One of the rebalance clients: SELECT @@port every ~30 ms until stop."""

    def __init__(self, stop):
        super().__init__(daemon=True)
        self.stop = stop
        self.connected = threading.Event()
        self.id = None
        self.errors = []
        self.ports = []           # at every change
        self.n = 0
        self.n_after = 0          # queries after `mark` was set
        self.mark = None
        self.max_lat = 0.0

    def run(self):
        try:
            c = connect(a.db)
            self.id = c.thread_id()
            self.ports.append(q1(c, "SELECT @@port")[0])
        except Exception as e:
            self.errors.append("connect: %s: %s" % (type(e).__name__, e))
            self.connected.set()
            return
        self.connected.set()
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                p = q1(c, "SELECT @@port, %s", (self.n,))
            except pymysql.MySQLError as e:
                self.errors.append("after %d queries: %s: %s" % (self.n, type(e).__name__, e))
                if isinstance(e, pymysql.OperationalError) and e.args and e.args[0] in (2006, 2013, 2014):
                    return
                continue
            dt = time.monotonic() - t0
            self.max_lat = max(self.max_lat, dt)
            if p[1] != self.n:
                self.errors.append("query %d answered %r" % (self.n, p))
            self.n += 1
            if self.mark is not None and t0 >= self.mark:
                self.n_after += 1
            if p[0] != self.ports[-1]:
                self.ports.append(p[0])
            time.sleep(0.03)
        c.close()


def scenario_rebalance():
    n_clients = 60
    adm = Admin()
    stop = threading.Event()
    clients = [Busy(stop) for _ in range(n_clients)]
    try:
        for cl in clients:
            cl.start()
            time.sleep(0.01)
        for cl in clients:
            cl.connected.wait(20)
        on_a = sum(1 for cl in clients if cl.ports and cl.ports[0] == a.a_port)
        bk = adm.backends()
        report(on_a == n_clients and as_int(bk.get(A, {}).get("sessions")) == n_clients and B not in bk,
               "rebalance.setup", "%d sessions connected, %d of them on A (the pool's only backend); SHOW BACKENDS "
               "%s sessions=%s; errors: %s" % (sum(1 for cl in clients if cl.id), on_a, A,
                                               bk.get(A, {}).get("sessions"),
                                               short("; ".join(e for cl in clients for e in cl.errors[:1]), 500) or "none"))
        if on_a != n_clients:
            return
        time.sleep(0.5)
        mark = time.monotonic()
        for cl in clients:
            cl.mark = mark
        code, msg, _ = adm.run("ADD BACKEND '%s' TO POOL default" % B)
        report(code == 0, "rebalance.add", "ADD BACKEND '%s' TO POOL default -> %s" % (B, "OK" if code == 0 else
                                                                                       "%s %s" % (code, msg)))
        target = n_clients / 2.0
        lo, hi = target * (1 - a.tolerance), target * (1 + a.tolerance)
        lo, hi = lo - 1e-6, hi + 1e-6     # the bounds themselves are within tolerance
        counts = {}

        def balanced():
            bk2 = adm.backends()
            counts["a"] = as_int(bk2.get(A, {}).get("sessions"))
            counts["b"] = as_int(bk2.get(B, {}).get("sessions"))
            return lo <= counts["a"] <= hi and lo <= counts["b"] <= hi
        ok = wait_until(12, balanced, step=0.2)
        t_bal = time.monotonic() - mark
        report(ok, "rebalance.balanced",
               "%.1f s after the add SHOW BACKENDS has %s on A and %s on B (expected each within %.0f..%.0f: "
               "%d/%d +- tolerance %.2f)" % (t_bal, counts.get("a"), counts.get("b"), lo, hi, target, target,
                                             a.tolerance))
        time.sleep(1.5)   # the balanced state holds while the clients go on
        ok2 = balanced()
        report(ok2, "rebalance.stable", "1.5 s later: %s on A, %s on B" % (counts.get("a"), counts.get("b")))
        tun = adm.tunnels()
        ids = [cl.id for cl in clients]
        migs = [as_int(tcol(tun.get(i), "migrations")) for i in ids]
        on_b_tun = sum(1 for i in ids if tun.get(i) and tun[i].get("backend") == B)
        check_metric("rebalance.metric", "rebalance", "ok", int(n_clients - hi))
    finally:
        stop.set()
        for cl in clients:
            cl.join(35)
    errs = [(cl.id, e) for cl in clients for e in cl.errors]
    idle = [cl.id for cl in clients if cl.n_after < 10]
    report(not errs and not idle and all(not cl.is_alive() for cl in clients), "rebalance.no_errors",
           "%d clients, %d queries in all, each at least %d after the add; errors: %s; clients with fewer than "
           "10 queries after the add: %s" % (n_clients, sum(cl.n for cl in clients),
                                             min(cl.n_after for cl in clients), short(errs[:5], 800) if errs else "none",
                                             idle or "none"))
    last_b = sum(1 for cl in clients if cl.ports[-1] == a.b_port)
    moved_more = sum(1 for cl in clients if len(cl.ports) > 2)
    report(last_b == on_b_tun and last_b > 0, "rebalance.clients_agree",
           "%d clients last answered by B's @@port, SHOW TUNNELS put %d of them on B" % (last_b, on_b_tun))
    info("rebalance: %d sessions moved (SHOW TUNNELS migrations total %d, %d moved more than once); "
         "balanced %.1f s after the add; max query latency of any client %.1f ms"
         % (sum(1 for cl in clients if len(cl.ports) > 1), sum(m for m in migs if m > 0), moved_more, t_bal,
            max(cl.max_lat for cl in clients) * 1000))
    log_timing("rebalance")
    metric_families("rebalance")
    adm.close()


# ---------------------------------------------------------------- timing

def hist_quantile(buckets, q):
    """Upper bound of the bucket holding quantile q of a cumulative
    histogram [(le, count)]."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    want = q * buckets[-1][1]
    for i, (le, n) in enumerate(buckets):
        if n >= want:
            if le == float("inf"):
                return "+Inf (above %s)" % (buckets[i - 1][0] if i else "-")
            return le
    return buckets[-1][0]


def scenario_timing():
    rows = []
    if a.timing_file and os.path.exists(a.timing_file):
        with open(a.timing_file) as f:
            rows = [json.loads(x) for x in f if x.strip()]
    rt = [ms for r in rows if r["kind"] == "manual_idle" for ms in r["round_trips_ms"]]
    rep = [ms for r in rows if r["kind"] == "manual_idle" for ms in r.get("reported_ms", [])]
    if rt:
        info("timing: MIGRATE round trip of an idle session (admin client's view, includes the admin "
             "round trip): median %.2f ms, max %.2f ms over %d moves" % (statistics.median(rt), max(rt), len(rt)))
    if rep:
        info("timing: the same moves as MIGRATE's OK message reports them: median %.2f ms, max %.2f ms"
             % (statistics.median(rep), max(rep)))
    for r in rows:
        if r["kind"] == "drain":
            info("timing: drain of a busy backend: sessions moved %.2f s after SET ... draining; client-visible "
                 "stall (slowest query across the move) PyMySQL %.2f ms (p50 %.2f ms), prepared statement %.2f ms "
                 "(p50 %.2f ms, first execute on the new backend %s ms)"
                 % (r["moved_s"], r["py_max_ms"], r["py_p50_ms"], r["stmt_max_ms"], r["stmt_p50_ms"],
                    "%.2f" % r["stmt_switch_ms"] if r.get("stmt_switch_ms") is not None else "-"))
    nlog = log_timing("timing")
    nfam = metric_families("timing")
    if rt or rows or nlog:
        report(True, "timing.report", "%d client-side timing records, %d moves in the shunt log, %d /metrics "
               "migration families" % (len(rows), nlog, nfam))
    else:
        say("SKIP: timing.report: no migration was measured")


LOG_RE = re.compile(r"migrated \((\w+)\) from \S+ to \S+ in ([\d.]+) ms \(waited ([\d.]+) ms for a safe point, "
                    r"a command held ([\d.]+) ms\)")


def log_timing(label):
    """Median and max of every completed move, by trigger, from shunt's
    own log lines ("migrated (TRIGGER) from A to B in T ms (waited W ms for
    a safe point, a command held H ms)"); returns how many lines matched."""
    if not a.shunt_log:
        return 0
    by = {}
    try:
        with open(a.shunt_log, errors="replace") as f:
            for line in f:
                m = LOG_RE.search(line)
                if m:
                    by.setdefault(m.group(1), []).append(tuple(float(x) for x in m.group(2, 3, 4)))
    except OSError as e:
        info("%s: cannot read the shunt log: %s" % (label, e))
        return 0
    for trig in sorted(by):
        v = by[trig]
        tot, wait, held = ([x[i] for x in v] for i in range(3))
        heldn = [h for h in held if h > 0]
        info("%s: shunt log, %d %s moves: total median %.2f ms, max %.2f ms; safe-point wait median %.2f ms, "
             "max %.2f ms; held command wait %s"
             % (label, len(v), trig, statistics.median(tot), max(tot), statistics.median(wait), max(wait),
                "median %.2f ms, max %.2f ms (%d of %d moves held a command)"
                % (statistics.median(heldn), max(heldn), len(heldn), len(v)) if heldn else "none (every move "
                "took an idle session)"))
    if not by:
        info("%s: no 'migrated (...)' line in the shunt log" % label)
    return sum(len(v) for v in by.values())


def prom_labels(d):
    return "{%s}" % ",".join('%s="%s"' % kv for kv in sorted(d.items())) if d else ""


def metric_families(label):
    """Prints every /metrics family about migrations (histograms as count,
    mean and bucket bounds of the median and max); returns how many."""
    mx = {}
    if a.http:
        try:
            mx = metrics()
        except Exception as e:
            info("%s: GET /metrics failed: %s" % (label, e))
    fams = {}
    for (name, labels), v in mx.items():
        if "migrat" in name:
            fams.setdefault(name, []).append((dict(labels), v))
    for name in sorted(fams):
        if name.endswith("_bucket"):
            base = name[:-len("_bucket")]
            groups = {}
            for labels, v in fams[name]:
                le = labels.pop("le", "+Inf")
                key = tuple(sorted(labels.items()))
                groups.setdefault(key, []).append((float("inf") if le == "+Inf" else float(le), v))
            for key, b in groups.items():
                b.sort()
                cnt = b[-1][1]
                total = sum(v for labels, v in fams.get(base + "_sum", []) if tuple(sorted(labels.items())) == key)
                info("%s: /metrics %s%s: %d observations, mean %s, median <= %s, max <= %s"
                     % (label, base, prom_labels(dict(key)), cnt, "%.6f" % (total / cnt) if cnt else "-",
                        hist_quantile(b, 0.5), hist_quantile(b, 1.0)))
        elif not (name.endswith("_sum") or name.endswith("_count")):
            for labels, v in sorted(fams[name], key=lambda x: sorted(x[0].items())):
                if v:
                    info("%s: /metrics %s%s = %g" % (label, name, prom_labels(labels), v))
    if not fams and a.http:
        info("%s: /metrics has no migration family" % label)
    return len(fams)


try:
    {"drain": scenario_drain, "session": scenario_session, "refused": scenario_refused,
     "rebalance": scenario_rebalance, "timing": scenario_timing}[a.scenario]()
except Exception as e:   # a broken scenario is a FAIL with its reason, not a traceback
    report(False, "%s.aborted" % a.scenario, "%s: %s (at %s)" % (type(e).__name__, short(e, 800), where(e)))
sys.exit(1 if fails else 0)
