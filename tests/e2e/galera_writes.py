"""galera_writes.py — write verification for tests/e2e/test_galera.sh.

    galera_writes.py run HOST PORT USER PASSWORD DB TABLE OUT [THREADS SECONDS ROLLBACK_PCT]
    galera_writes.py verify SOCKET DB TABLE OUT

run: THREADS client threads (default 8), each on one connection kept for
the whole run (the point is that the client never notices the proxy moving
it), run short transactions for SECONDS (default 30): BEGIN, 1-3 INSERTs of
keys (thread, seq) that are never reused, in one transaction out of
HOT_EVERY also an increment of one of HOT_ROWS shared counters in
TABLE_hot (rows that transactions on different nodes fight over, so that
Galera's certification conflicts happen), then COMMIT, or ROLLBACK for
ROLLBACK_PCT percent of them (default 20). Every key is recorded by what
the client was told:
  - committed: COMMIT answered OK;
  - rolled_back: the client rolled back on purpose;
  - aborted: the server refused the transaction before or at COMMIT with a
    Galera/InnoDB conflict (1213 deadlock or certification failure, 1205
    lock wait timeout, 1020 record changed): not committed, the client
    rolls back and goes on with new keys;
  - unknown: an error on COMMIT that is no such conflict (the connection
    died, say): the transaction may or may not have committed.
Every 10 transactions a thread also checks that its session state survived:
DATABASE() and the time_zone it set when it connected.
Connection-level errors (2013 lost connection, 2006 gone away, 1927
killed, 1053 shutdown, any CR_ 2xxx...), unexpected errors and lost session
state are FAILs: a client of a transparent proxy never sees them. The keys
go to OUT (JSON) for the verify step.

verify: as root through SOCKET (a node's unix socket, not the proxy), with
wsrep_sync_wait so that the read sees every write committed anywhere in the
cluster: every committed key is there exactly once, no rolled back or
aborted key is there, no row exists that the client did not write, and the
shared counters add up to the committed increments (plus at most those of
unknown outcome). TABLE has an AUTO_INCREMENT primary key and a plain
index on (t, seq), so a transaction that was applied twice shows up as a
duplicate rather than as a 1062 at the client.

Prints PASS:/FAIL: lines and summary lines; exit status 1 when a check failed.
"""
import json
import random
import sys
import threading
import time

import pymysql

from e2e_result import exit_status, result

CONFLICT = {1213: "deadlock/certification", 1205: "lock wait timeout", 1020: "record changed"}
TZ = "+03:00"
HOT_ROWS = 8            # shared counters in TABLE_hot, ids 1..HOT_ROWS
HOT_EVERY = 8           # one transaction in HOT_EVERY increments one


def err_code(e):
    try:
        return int(e.args[0])
    except (IndexError, TypeError, ValueError):
        return 0


class Worker(threading.Thread):
    def __init__(self, tid, args, end, rollback_pct):
        super().__init__(daemon=True)
        self.tid = tid
        self.args = args
        self.end = end
        self.rollback_pct = rollback_pct
        self.rng = random.Random(tid * 7919 + int(time.time()))
        self.committed, self.rolled_back, self.aborted, self.unknown = [], [], [], []
        self.hot_committed = 0
        self.hot_unknown = 0
        self.conflicts = {}
        self.conn_errors = []      # (txn, phase, code, message)
        self.other_errors = []
        self.state_errors = []
        self.txns = 0
        self.state_checks = 0
        self.reconnects = 0
        self.max_txn_ms = 0.0
        self.conn = None

    def connect(self):
        host, port, user, password, db = self.args
        self.conn = pymysql.connect(host=host, port=port, user=user, password=password,
                                    database=db, autocommit=True, connect_timeout=10,
                                    read_timeout=60, write_timeout=60, charset="utf8mb4")
        cur = self.conn.cursor()
        cur.execute("SET time_zone = %s", (TZ,))

    def rollback_quietly(self):
        try:
            self.conn.cursor().execute("ROLLBACK")
        except pymysql.err.MySQLError as e:
            self.note_error(-1, "rollback after error", e)

    def note_error(self, txn, phase, e):
        code = err_code(e)
        item = (txn, phase, code, str(e)[:160])
        if isinstance(e, pymysql.err.InterfaceError) or 2000 <= code < 3000 or \
                code in (1927, 1053, 1152, 1158, 1159, 1160, 1161, 1184, 1317):
            self.conn_errors.append(item)
            return "connection"
        self.other_errors.append(item)
        return "other"

    def reconnect(self):
        # Only after a failure that is already counted: keep the writes going
        # so that the verify step still has something to check.
        try:
            self.conn.close()
        except Exception:
            pass
        for _ in range(20):
            try:
                self.connect()
                self.reconnects += 1
                return True
            except pymysql.err.MySQLError:
                time.sleep(0.25)
        return False

    def run(self):
        try:
            self.connect()
        except pymysql.err.MySQLError as e:
            self.note_error(0, "connect", e)
            return
        seq = 0
        db = self.args[4]
        while time.time() < self.end:
            self.txns += 1
            n = self.rng.randint(1, 3)
            keys = [[self.tid, seq + i] for i in range(n)]
            seq += n
            rollback = self.rng.randrange(100) < self.rollback_pct
            hot = self.rng.randint(1, HOT_ROWS) if self.rng.randrange(HOT_EVERY) == 0 else 0
            phase = "begin"
            t0 = time.time()
            try:
                cur = self.conn.cursor()
                cur.execute("BEGIN")
                phase = "insert"
                for t, s in keys:
                    cur.execute("INSERT INTO " + TABLE + " (t, seq, note) VALUES (%s, %s, %s)",
                                (t, s, "txn %d" % self.txns))
                if hot:
                    if cur.execute("UPDATE " + TABLE + "_hot SET n = n + 1 WHERE id = %s", (hot,)) != 1:
                        raise pymysql.err.InternalError(0, "UPDATE of counter %d changed no row" % hot)
                if rollback:
                    phase = "rollback"
                    cur.execute("ROLLBACK")
                    self.rolled_back += keys
                else:
                    phase = "commit"
                    cur.execute("COMMIT")
                    self.committed += keys
                    self.hot_committed += 1 if hot else 0
                self.max_txn_ms = max(self.max_txn_ms, (time.time() - t0) * 1000)
            except pymysql.err.MySQLError as e:
                code = err_code(e)
                if code in CONFLICT and not isinstance(e, pymysql.err.InterfaceError):
                    self.conflicts[code] = self.conflicts.get(code, 0) + 1
                    self.aborted += keys
                    self.rollback_quietly()
                    continue
                kind = self.note_error(self.txns, phase, e)
                if phase == "commit":
                    self.unknown += keys
                    self.hot_unknown += 1 if hot else 0
                elif phase == "rollback":
                    self.rolled_back += keys     # not committed either way
                else:
                    self.aborted += keys
                if kind == "connection":
                    if not self.reconnect():
                        return
                else:
                    self.rollback_quietly()
                continue
            if self.txns % 10 == 0:
                try:
                    cur = self.conn.cursor()
                    cur.execute("SELECT DATABASE(), @@session.time_zone")
                    row = cur.fetchone()
                    self.state_checks += 1
                    if row != (db, TZ):
                        self.state_errors.append((self.txns, repr(row)))
                except pymysql.err.MySQLError as e:
                    if self.note_error(self.txns, "state check", e) == "connection" and not self.reconnect():
                        return
        try:
            self.conn.close()
        except Exception:
            pass


def cmd_run(argv):
    global TABLE
    host, port, user, password, db, TABLE, out = argv[:7]
    threads = int(argv[7]) if len(argv) > 7 else 8
    secs = float(argv[8]) if len(argv) > 8 else 30
    pct = int(argv[9]) if len(argv) > 9 else 20
    end = time.time() + secs
    ws = [Worker(i + 1, (host, int(port), user, password, db), end, pct) for i in range(threads)]
    for w in ws:
        w.start()
    for w in ws:
        w.join(secs + 180)
    hung = [w.tid for w in ws if w.is_alive()]

    def total(attr):
        return sum(len(getattr(w, attr)) for w in ws)
    conflicts = {}
    for w in ws:
        for k, v in w.conflicts.items():
            conflicts[k] = conflicts.get(k, 0) + v
    txns = sum(w.txns for w in ws)
    print("%d threads, %.0f s: %d transactions; keys committed %d, rolled back %d, "
          "aborted by conflicts %d, unknown %d; %d committed counter increments; "
          "conflicts %s; slowest transaction %.0f ms; %d state checks" % (
              threads, secs, txns, total("committed"), total("rolled_back"), total("aborted"),
              total("unknown"), sum(w.hot_committed for w in ws), json.dumps({str(k): v for k, v in sorted(conflicts.items())}),
              max(w.max_txn_ms for w in ws), sum(w.state_checks for w in ws)))
    with open(out, "w") as f:
        json.dump({"threads": threads, "txns": txns,
                   "committed": [k for w in ws for k in w.committed],
                   "rolled_back": [k for w in ws for k in w.rolled_back],
                   "aborted": [k for w in ws for k in w.aborted],
                   "unknown": [k for w in ws for k in w.unknown],
                   "hot_committed": sum(w.hot_committed for w in ws),
                   "hot_unknown": sum(w.hot_unknown for w in ws)}, f)

    conn_errors = [(w.tid,) + e for w in ws for e in w.conn_errors]
    other_errors = [(w.tid,) + e for w in ws for e in w.other_errors]
    state_errors = [(w.tid,) + e for w in ws for e in w.state_errors]
    result("writes.ran", not hung and txns > threads and total("committed") > 0,
           "%d transactions by %d threads, %d keys committed%s" % (
               txns, threads, total("committed"), "; threads still running: %s" % hung if hung else ""))
    result("writes.no_connection_errors", not conn_errors,
           "%d connection-level errors seen by the client%s" % (
               len(conn_errors), ": " + "; ".join(
                   "thread %d txn %d at %s: %d %s" % e for e in conn_errors[:5]) if conn_errors else ""))
    result("writes.no_unexpected_errors", not other_errors,
           "%d errors other than conflicts (1213/1205/1020, retried with new keys: %d)%s" % (
               len(other_errors), sum(conflicts.values()), ": " + "; ".join(
                   "thread %d txn %d at %s: %d %s" % e for e in other_errors[:5]) if other_errors else ""))
    result("writes.session_state", not state_errors and sum(w.state_checks for w in ws) > 0,
           "%d checks of DATABASE() and @@session.time_zone, %d wrong%s" % (
               sum(w.state_checks for w in ws), len(state_errors), ": " + "; ".join(
                   "thread %d txn %d got %s" % e for e in state_errors[:5]) if state_errors else ""))
    result("writes.no_unknown_outcome", total("unknown") == 0,
           "%d keys whose COMMIT got an error that leaves the outcome unknown" % total("unknown"))


def cmd_verify(argv):
    sock, db, table, out = argv[:4]
    with open(out) as f:
        d = json.load(f)
    conn = pymysql.connect(unix_socket=sock, user="root", database=db, autocommit=True,
                           read_timeout=120)
    cur = conn.cursor()
    cur.execute("SET SESSION wsrep_sync_wait = 1")
    cur.execute("SELECT t, seq, COUNT(*) FROM " + table + " GROUP BY t, seq")
    rows = {(t, s): c for t, s, c in cur.fetchall()}
    committed = {tuple(k) for k in d["committed"]}
    rolled_back = {tuple(k) for k in d["rolled_back"]}
    aborted = {tuple(k) for k in d["aborted"]}
    unknown = {tuple(k) for k in d["unknown"]}
    missing = sorted(k for k in committed if k not in rows)
    dup = sorted(k for k in committed | unknown if rows.get(k, 0) > 1)
    rb_present = sorted(k for k in rolled_back if k in rows)
    ab_present = sorted(k for k in aborted if k in rows)
    known = committed | rolled_back | aborted | unknown
    stray = sorted(k for k in rows if k not in known)
    unk_present = sum(1 for k in unknown if k in rows)
    print("table %s: %d rows; client keys: committed %d, rolled back %d, aborted %d, "
          "unknown %d (%d of them present)" % (
              table, sum(rows.values()), len(committed), len(rolled_back), len(aborted),
              len(unknown), unk_present))
    result("writes.committed_present_once", committed and not missing and not dup,
           "%d committed keys: %d missing%s, %d present more than once%s" % (
               len(committed), len(missing), " e.g. %s" % missing[:5] if missing else "",
               len(dup), " e.g. %s" % dup[:5] if dup else ""))
    result("writes.rolled_back_absent", not rb_present and not ab_present,
           "%d rolled back keys, %d present%s; %d keys of conflict-aborted transactions, %d present%s" % (
               len(rolled_back), len(rb_present), " e.g. %s" % rb_present[:5] if rb_present else "",
               len(aborted), len(ab_present), " e.g. %s" % ab_present[:5] if ab_present else ""))
    result("writes.no_stray_rows", not stray,
           "%d rows the client never wrote%s" % (len(stray), " e.g. %s" % stray[:5] if stray else ""))
    cur.execute("SELECT COALESCE(SUM(n), 0) FROM " + table + "_hot")
    n = int(cur.fetchone()[0])
    lo, hi = d["hot_committed"], d["hot_committed"] + d["hot_unknown"]
    result("writes.counters_add_up", lo <= n <= hi,
           "shared counters sum to %d; committed increments %d%s" % (
               n, lo, " (+%d of unknown outcome)" % d["hot_unknown"] if d["hot_unknown"] else ""))


TABLE = None
if __name__ == "__main__":
    if len(sys.argv) >= 9 and sys.argv[1] == "run":
        cmd_run(sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "verify":
        cmd_verify(sys.argv[2:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(exit_status())
