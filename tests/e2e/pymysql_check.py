"""pymysql_check.py HOST PORT USER PASSWORD DB — PyMySQL through shunt.

PyMySQL does not ask for CLIENT_DEPRECATE_EOF, so every result set ends with
classic EOF packets: this covers the other framing of result sets.
Prints PASS:/FAIL: lines; exit status 1 when a check failed.
"""
import hashlib
import sys

import pymysql
import pymysql.cursors
from pymysql.constants import CLIENT

from e2e_result import exit_status, result

host, port, user, password, db = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


def connect(**kw):
    args = dict(host=host, port=port, user=user, password=password, connect_timeout=10,
                read_timeout=120, write_timeout=120, charset="utf8mb4")
    args.update(kw)
    return pymysql.connect(**args)


def guarded(name):
    def deco(fn):
        try:
            fn()
        except Exception as e:   # any exception is a failed check, not a crash
            result(name, False, "%s: %s" % (type(e).__name__, e))
        return fn
    return deco


@guarded("login")
def _():
    c = connect()
    cur = c.cursor()
    cur.execute("SELECT 1, DATABASE(), @@character_set_client")
    row = cur.fetchone()
    result("login", row == (1, None, "utf8mb4"),
           "no db: SELECT 1, DATABASE(), charset -> %r" % (row,))
    c.select_db(db)
    cur.execute("SELECT DATABASE()")
    v = cur.fetchone()[0]
    result("select_db", v == db, "COM_INIT_DB %s -> DATABASE() %r" % (db, v))
    c.close()


@guarded("rows")
def _():
    c = connect(database=db)
    cur = c.cursor()
    n = cur.execute("SELECT seq, CONCAT('v', seq), NULL FROM seq_1_to_10000")
    rows = cur.fetchall()
    ok = n == 10000 and all(r == (i + 1, "v%d" % (i + 1), None) for i, r in enumerate(rows))
    result("rows", ok, "classic-EOF result: %d rows, every (seq, 'v'||seq, NULL) as expected" % n)
    cur.execute("SELECT 'h\u00e9llo \u2713', X'00ff', 3.25, -7")
    row = cur.fetchone()
    result("types", row[0] == "h\u00e9llo \u2713" and row[1] == b"\x00\xff" and
           str(row[2]) == "3.25" and row[3] == -7, "utf8mb4 text, binary, decimal, int -> %r" % (row,))
    c.close()


@guarded("streaming")
def _():
    c = connect(database=db, cursorclass=pymysql.cursors.SSCursor)
    cur = c.cursor()
    cur.execute("SELECT seq, REPEAT('p', 100) FROM seq_1_to_200000")
    h = hashlib.sha256()
    n = 0
    s = 0
    for seq, val in cur:
        n += 1
        s += seq
        h.update(("%d,%s\n" % (seq, val)).encode())
    exp = hashlib.sha256("".join("%d,%s\n" % (i, "p" * 100) for i in range(1, 200001)).encode())
    result("streaming", n == 200000 and s == 200000 * 200001 // 2 and h.digest() == exp.digest(),
           "SSCursor: %d rows streamed, sum %d, SHA-256 of rows equal to the expected %s..."
           % (n, s, exp.hexdigest()[:16]))
    c.close()


@guarded("transactions")
def _():
    a = connect(database=db, autocommit=False)
    b = connect(database=db, autocommit=True)
    ca, cb = a.cursor(), b.cursor()
    ca.execute("DROP TABLE IF EXISTS t_py")
    ca.execute("CREATE TABLE t_py (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB")
    ca.executemany("INSERT INTO t_py VALUES (%s, %s)", [(i, "r%d" % i) for i in range(1, 101)])
    cb.execute("SELECT COUNT(*) FROM t_py")
    before = cb.fetchone()[0]
    a.commit()
    cb.execute("SELECT COUNT(*) FROM t_py")
    after = cb.fetchone()[0]
    result("commit", before == 0 and after == 100,
           "executemany 100 rows: other connection sees %d before COMMIT, %d after" % (before, after))
    ca.execute("DELETE FROM t_py WHERE id <= 50")
    a.rollback()
    cb.execute("SELECT COUNT(*), SUM(id) FROM t_py")
    row = cb.fetchone()
    result("rollback", row[0] == 100 and int(row[1]) == 5050,
           "DELETE 50 rows then ROLLBACK: COUNT, SUM -> %r" % (row,))
    ca.execute("DROP TABLE t_py")
    a.close()
    b.close()


@guarded("multi")
def _():
    c = connect(database=db, client_flag=CLIENT.MULTI_STATEMENTS)
    cur = c.cursor()
    cur.execute("SELECT 1; SELECT 2, 3; SELECT seq FROM seq_1_to_5")
    sets = [cur.fetchall()]
    while cur.nextset():
        sets.append(cur.fetchall())
    result("multi", sets == [((1,),), ((2, 3),), tuple((i,) for i in range(1, 6))],
           "3 result sets with classic EOF -> %d sets, %s rows" % (len(sets), [len(x) for x in sets]))
    cur.execute("SELECT 'alive'")
    result("after_multi", cur.fetchone() == ("alive",), "next query after the multi-result")
    c.close()


@guarded("errors")
def _():
    c = connect(database=db)
    cur = c.cursor()
    try:
        cur.execute("SELECT * FROM no_such_table_py")
        result("query_error", False, "missing table did not raise")
    except pymysql.err.ProgrammingError as e:
        result("query_error", e.args[0] == 1146, "missing table -> %r" % (e.args,))
    cur.execute("SELECT 5")
    result("after_error", cur.fetchone() == (5,), "session usable after the error")
    c.close()
    try:
        connect(password=password + "x")
        result("wrong_password", False, "login with a wrong password succeeded")
    except pymysql.err.OperationalError as e:
        result("wrong_password", e.args[0] == 1045 and "Access denied" in e.args[1],
               "wrong password -> %r" % (e.args,))


sys.exit(exit_status())
