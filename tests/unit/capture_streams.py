#!/usr/bin/python3
"""capture_streams.py — record real MySQL conversations for the tracker tests.

Regenerates tests/unit/tracker_streams.h. It needs a scratch MariaDB on
127.0.0.1:3402 (root, no password, local_infile on), for example:

    mariadb-install-db --user=root --datadir=/tmp/trk-db \
        --auth-root-authentication-method=normal
    mariadbd --user=root --datadir=/tmp/trk-db --port=3402 \
        --bind-address=127.0.0.1 --socket=/tmp/trk-db.sock &
    /usr/bin/python3 tests/unit/capture_streams.py > tests/unit/tracker_streams.h

For each stream a recording relay listens on an ephemeral port, forwards one
client connection to the server and records every chunk it reads, in order,
with its direction. The login (greeting, handshake response, auth exchange, login OK) is cut off: the
tracker starts at the first command. The negotiated capabilities and the
login OK's status flags are recorded with each stream.

Clients: the mariadb CLI, PyMySQL (python3-pymysql) and a small Connector/C
program (embedded below, built with pkg-config libmariadb). None of them
negotiates CLIENT_DEPRECATE_EOF: Connector/C 3.3 (Debian 12, also under the
mariadb CLI) does not know the flag and PyMySQL does not set it. So a fourth
client, RawClient below, speaks the protocol itself with or without
DEPRECATE_EOF. It does not parse responses (it reads until the server has been
quiet for a while), so the tracker's own rules are not baked into the capture.
"""

import os
import select
import socket
import subprocess
import sys
import tempfile
import threading

HOST, PORT = "127.0.0.1", 3402
CLIENT_DEPRECATE_EOF = 0x01000000
INFILE = "/tmp/trk-infile.csv"

SETUP_SQL = """
CREATE DATABASE IF NOT EXISTS trk;
USE trk;
DROP TABLE IF EXISTS t;
CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB;
INSERT INTO t VALUES (1,'one'),(2,'two'),(3,'three');
DROP TABLE IF EXISTS t2;
CREATE TABLE t2 (id INT, v TEXT) ENGINE=InnoDB;
DROP PROCEDURE IF EXISTS p;
DELIMITER //
CREATE PROCEDURE p() BEGIN SELECT id FROM t ORDER BY id; SELECT v FROM t WHERE id = 2; END //
DELIMITER ;
"""

C_DRIVER = r"""
/* Connector/C driver for capture_streams.py: one session, many commands. */
#include <mysql.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static MYSQL *m;

static void die(const char *what) { fprintf(stderr, "%s: %s\n", what, mysql_error(m)); exit(1); }

/* Runs a (multi-)statement query and drains all results; errors are fine. */
static void q(const char *sql)
{
	int r = mysql_query(m, sql);
	if (r) { fprintf(stderr, "  (expected?) error: %s\n", mysql_error(m)); return; }
	do {
		MYSQL_RES *res = mysql_store_result(m);
		if (res) mysql_free_result(res);
	} while (mysql_next_result(m) == 0);
}

int main(int argc, char **argv)
{
	unsigned int one = 1;
	int port = atoi(argv[1]);
	MYSQL_STMT *st;
	MYSQL_BIND b[2];
	int id = 0, out = 0;
	char v[64];
	unsigned long vlen;
	unsigned long ctype = CURSOR_TYPE_READ_ONLY, prefetch = 1;

	(void)argc;
	m = mysql_init(NULL);
	mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &one);
	if (!mysql_real_connect(m, "127.0.0.1", "root", "", "trk", port, NULL,
				CLIENT_MULTI_STATEMENTS | CLIENT_LOCAL_FILES))
		die("connect");
	fprintf(stderr, "caps server=%lx\n", (unsigned long)m->server_capabilities);

	q("SELECT id, v FROM t ORDER BY id");                           /* 1 */
	q("SELECT 1; SELECT 2, 3; UPDATE t SET v = v WHERE id = 1");    /* 2 */
	q("CALL p()");                                                  /* 3 */
	q("SELEC bad syntax");                                          /* 4 */
	q("SELECT 1; SELECT * FROM nosuch; SELECT 3");                  /* 5 */
	if (mysql_ping(m)) die("ping");                                 /* 6 */
	if (mysql_select_db(m, "trk")) die("init_db");                  /* 7 */
	if (!mysql_stat(m)) die("stat");                                /* 8 */
	{ MYSQL_RES *r = mysql_list_fields(m, "t", NULL);               /* 9 */
	  if (!r) die("list_fields");
	  mysql_free_result(r); }
	if (mysql_set_server_option(m, MYSQL_OPTION_MULTI_STATEMENTS_ON)) die("set_option"); /* 10 */
	if (mysql_dump_debug_info(m)) die("debug");                     /* 11 */
	q("BEGIN");                                                     /* 12 */
	q("INSERT INTO t2 VALUES (1, 'txn')");                          /* 13 */
	q("COMMIT");                                                    /* 14 */

	/* Cursor: prepare, execute with CURSOR_TYPE_READ_ONLY, fetch 1 row each. */
	st = mysql_stmt_init(m);
	if (mysql_stmt_prepare(st, "SELECT id, v FROM t WHERE id > ?", -1)) die("prepare"); /* 15 */
	mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE, &ctype);
	mysql_stmt_attr_set(st, STMT_ATTR_PREFETCH_ROWS, &prefetch);
	memset(b, 0, sizeof(b));
	b[0].buffer_type = MYSQL_TYPE_LONG; b[0].buffer = &id;
	if (mysql_stmt_bind_param(st, b)) die("bind");
	if (mysql_stmt_execute(st)) die("execute");                     /* 16 */
	memset(b, 0, sizeof(b));
	b[0].buffer_type = MYSQL_TYPE_LONG; b[0].buffer = &out;
	b[1].buffer_type = MYSQL_TYPE_STRING; b[1].buffer = v; b[1].buffer_length = sizeof(v); b[1].length = &vlen;
	if (mysql_stmt_bind_result(st, b)) die("bind_result");
	while (mysql_stmt_fetch(st) == 0)                               /* 17..20: 3 rows + end */
		;
	if (mysql_stmt_reset(st)) die("reset");                         /* 21 */
	if (mysql_stmt_close(st)) die("close");                         /* 22: no response */

	/* Long data then execute (no cursor). */
	st = mysql_stmt_init(m);
	if (mysql_stmt_prepare(st, "INSERT INTO t2 VALUES (?, ?)", -1)) die("prepare2"); /* 23 */
	memset(b, 0, sizeof(b));
	id = 7;
	b[0].buffer_type = MYSQL_TYPE_LONG; b[0].buffer = &id;
	b[1].buffer_type = MYSQL_TYPE_STRING;
	if (mysql_stmt_bind_param(st, b)) die("bind2");
	if (mysql_stmt_send_long_data(st, 1, "long data", 9)) die("long"); /* 24: no response */
	if (mysql_stmt_execute(st)) die("execute2");                    /* 25 */
	mysql_stmt_close(st);                                           /* 26: no response */

	/* Pipelined: execute_direct writes PREPARE and EXECUTE back to back. */
	st = mysql_stmt_init(m);
	memset(b, 0, sizeof(b));
	id = 41;
	b[0].buffer_type = MYSQL_TYPE_LONG; b[0].buffer = &id;
	mysql_stmt_attr_set(st, STMT_ATTR_PREBIND_PARAMS, &one);
	if (mysql_stmt_bind_param(st, b)) die("bind3");
	if (mariadb_stmt_execute_direct(st, "SELECT ? + 1", -1)) die("execute_direct"); /* 27, 28 */
	mysql_stmt_store_result(st);
	mysql_stmt_close(st);                                           /* 29: no response */

	q("LOAD DATA LOCAL INFILE '" INFILE_PATH "' INTO TABLE t2 FIELDS TERMINATED BY ','"); /* 30 */
	if (mysql_change_user(m, "root", "", "trk")) die("change_user"); /* 31 */
	if (mysql_reset_connection(m)) die("reset_connection");        /* 32 */
	q("SELECT COUNT(*) FROM t2");                                   /* 33 */
	mysql_close(m);                                                 /* 34: COM_QUIT */
	return 0;
}
"""


def packets(buf):
    """Yields (offset, seq, payload) of the complete packets in buf."""
    off = 0
    while off + 4 <= len(buf):
        n = buf[off] | buf[off + 1] << 8 | buf[off + 2] << 16
        if off + 4 + n > len(buf):
            break
        yield off, buf[off + 3], buf[off + 4:off + 4 + n]
        off += 4 + n


def lenenc(p, i):
    b = p[i]
    if b < 0xFB:
        return b, i + 1
    n = {0xFC: 2, 0xFD: 3, 0xFE: 8}[b]
    return int.from_bytes(p[i + 1:i + 1 + n], "little"), i + 1 + n


class Relay:
    """Accepts one client, relays it to the server, records the chunks."""

    def __init__(self):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.port = self.ls.getsockname()[1]
        self.chunks = []        # (to_server, bytes)
        self.server_caps = None
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def parse_greeting(self, data):
        # header(4) protocol(1) version\0 conn_id(4) scramble(8) filler(1)
        # caps_lo(2) charset(1) status(2) caps_hi(2) ...
        v_end = data.index(b"\0", 5)
        lo = v_end + 1 + 4 + 8 + 1
        hi = lo + 2 + 1 + 2
        self.server_caps = int.from_bytes(data[lo:lo + 2], "little") | \
            int.from_bytes(data[hi:hi + 2], "little") << 16

    def run(self):
        c, _ = self.ls.accept()
        s = socket.create_connection((HOST, PORT))
        for x in (c, s):
            x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = {c: s, s: c}
        live = [c, s]
        first = True
        while live:
            r, _, _ = select.select(live, [], [])
            for x in r:
                data = x.recv(65536)
                if not data:
                    live = []
                    break
                if x is s and first:
                    self.parse_greeting(data)
                    first = False
                self.chunks.append((x is c, data))
                peer[x].sendall(data)
        c.close()
        s.close()
        self.ls.close()

    def wait(self):
        self.t.join(30)
        assert not self.t.is_alive(), "relay did not finish"


def split_login(relay):
    """Returns (caps, status, segments after login, command summary)."""
    cli = b"".join(d for t, d in relay.chunks if t)
    srv = b"".join(d for t, d in relay.chunks if not t)
    cpk = list(packets(cli))
    client_caps = int.from_bytes(cpk[0][2][0:4], "little")
    caps = client_caps & relay.server_caps
    # The login OK: the first 0x00 server packet after the greeting.
    spk = list(packets(srv))
    for off, seq, p in spk[1:]:
        if p[0] == 0x00:
            _, i = lenenc(p, 1)
            _, i = lenenc(p, i)
            status = p[i] | p[i + 1] << 8
            srv_cut = off + 4 + len(p)
            break
    else:
        raise SystemExit("no login OK")
    # Client bytes sent before the chunk that carried the login OK.
    pos_c = pos_s = 0
    cli_cut = None
    for t, d in relay.chunks:
        if t:
            pos_c += len(d)
        else:
            pos_s += len(d)
            if pos_s >= srv_cut:
                assert pos_s == srv_cut, "login OK shares a chunk with more data"
                cli_cut = pos_c
                break
    segs = []
    pos_c = pos_s = 0
    for t, d in relay.chunks:
        start = pos_c if t else pos_s
        cut = cli_cut if t else srv_cut
        if t:
            pos_c += len(d)
        else:
            pos_s += len(d)
        if start + len(d) <= cut:
            continue
        d = d[max(0, cut - start):]
        if segs and segs[-1][0] == t:
            segs[-1] = (t, segs[-1][1] + d)     # coalesce one direction's run
        else:
            segs.append((t, d))
    # Summary of the client commands (seq 0 packets), for the header comment.
    body = b"".join(d for t, d in segs if t)
    cmds = []
    for off, seq, p in packets(body):
        if seq == 0 and p:
            text = p[1:40].decode("latin1") if p[0] == 0x03 else ""
            cmds.append("0x%02x %s" % (p[0], "".join(ch if 32 <= ord(ch) < 127 else "." for ch in text)))
    return caps, status, segs, cmds


def capture(name, how, drive):
    relay = Relay()
    drive(relay.port)
    relay.wait()
    caps, status, segs, cmds = split_login(relay)
    return dict(name=name, how=how, caps=caps, status=status, segs=segs, cmds=cmds)


def drive_cli(port):
    sql = ("USE trk;\nSELECT id, v FROM t ORDER BY id;\nBEGIN;\n"
           "INSERT INTO t2 VALUES (2, 'cli');\nSELECT COUNT(*) FROM t2;\nCOMMIT;\n"
           "CALL p();\nSELECT * FROM nosuch;\n"
           "LOAD DATA LOCAL INFILE '%s' INTO TABLE t2 FIELDS TERMINATED BY ',';\n"
           "SELECT 'done';\n" % INFILE)
    subprocess.run(["mariadb", "-h127.0.0.1", "-P%d" % port, "-uroot", "--local-infile=1",
                    "--force"], input=sql.encode(), check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def drive_pymysql(port):
    import pymysql
    from pymysql.constants import CLIENT, COMMAND
    con = pymysql.connect(host="127.0.0.1", port=port, user="root", password="",
                          database="trk", autocommit=True, local_infile=True,
                          client_flag=CLIENT.MULTI_STATEMENTS)
    cur = con.cursor()
    cur.execute("SELECT id, v FROM t ORDER BY id")                      # 1
    cur.execute("SELECT 1; SELECT 2, 3; UPDATE t SET v = v WHERE id = 1")  # 2
    while cur.nextset():
        pass
    cur.execute("CALL p()")                                             # 3
    while cur.nextset():
        pass
    for sql in ("SELEC bad syntax", "SELECT 1; SELECT * FROM nosuch; SELECT 3"):  # 4, 5
        try:
            cur.execute(sql)
            while cur.nextset():
                pass
        except pymysql.MySQLError:
            pass
    con.ping(reconnect=False)                                           # 6
    con.select_db("trk")                                                # 7
    con._execute_command(COMMAND.COM_STATISTICS, b"")                   # 8
    con._read_packet()
    con._execute_command(COMMAND.COM_FIELD_LIST, b"t\0")                # 9
    while not con._read_packet().is_eof_packet():
        pass
    cur.execute("LOAD DATA LOCAL INFILE '%s' INTO TABLE t2 FIELDS TERMINATED BY ','" % INFILE)  # 10
    con.begin()                                                         # 11
    cur.execute("INSERT INTO t2 VALUES (3, 'py')")                      # 12
    con.commit()                                                        # 13
    con.begin()                                                         # 14: left open
    cur.execute("SELECT COUNT(*) FROM t2 FOR UPDATE")                   # 15
    con.close()                                                         # 16: COM_QUIT


class RawClient:
    """A protocol-level client: chooses its own capabilities (DEPRECATE_EOF
    on or off), sends commands, reads until the server is quiet."""

    CAPS = (0x1 | 0x4 | 0x8 | 0x80 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 |
            0x40000 | 0x80000 | 0x200000 | 0x800000)

    def __init__(self, port, deprecate_eof):
        self.caps = self.CAPS | (CLIENT_DEPRECATE_EOF if deprecate_eof else 0)
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, *payloads, seq=0):
        out = b""
        for p in payloads:
            out += len(p).to_bytes(3, "little") + bytes([seq]) + p
        self.s.sendall(out)

    def read(self, first_wait=5.0, quiet=0.3):
        """Everything the server sends until it has been quiet for a while."""
        buf = b""
        self.s.settimeout(first_wait)
        while True:
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return buf
            if not d:
                return buf
            buf += d
            self.s.settimeout(quiet)

    def cmd(self, c, arg=b""):
        self.send(bytes([c]) + arg)
        return self.read()

    def query(self, sql):
        r = self.cmd(0x03, sql.encode())
        if len(r) > 4 and r[4] == 0xFB:         # LOCAL INFILE request
            with open(INFILE, "rb") as f:
                data = f.read()
            self.send(data, seq=2)
            self.send(b"", seq=3)
            r = self.read()
        return r

    def login(self):
        self.read(quiet=0.2)                    # greeting
        resp = (self.caps.to_bytes(4, "little") + (1 << 24).to_bytes(4, "little") +
                bytes([45]) + bytes(23) + b"root\0" + b"\0" + b"trk\0" +
                b"mysql_native_password\0")
        self.send(resp, seq=1)
        r = self.read(quiet=0.2)
        assert r[4] == 0x00, r

    @staticmethod
    def stmt_id(r):
        assert r[4] == 0x00, r
        return r[5:9]

    def run(self):
        self.login()
        q = self.query
        q("SELECT id, v FROM t ORDER BY id")                        # 1
        q("SELECT 1; SELECT 2, 3; UPDATE t SET v = v WHERE id = 1") # 2
        q("CALL p()")                                               # 3
        q("SELEC bad syntax")                                       # 4
        q("SELECT 1; SELECT * FROM nosuch; SELECT 3")               # 5
        self.cmd(0x0e)                                              # 6 COM_PING
        self.cmd(0x02, b"trk")                                      # 7 COM_INIT_DB
        self.cmd(0x09)                                              # 8 COM_STATISTICS
        self.cmd(0x04, b"t\0")                                      # 9 COM_FIELD_LIST
        self.cmd(0x1b, b"\0\0")                                     # 10 COM_SET_OPTION
        self.cmd(0x0d)                                              # 11 COM_DEBUG
        q("BEGIN")                                                  # 12
        q("INSERT INTO t2 VALUES (4, 'raw')")                       # 13
        q("COMMIT")                                                 # 14
        # Cursor: prepare, execute with CURSOR_TYPE_READ_ONLY, fetch 1 row each.
        sid = self.stmt_id(self.cmd(0x16, b"SELECT id, v FROM t WHERE id > ?"))  # 15
        params = b"\0" + b"\1" + b"\x03\x00" + (0).to_bytes(4, "little")
        self.cmd(0x17, sid + b"\x01" + (1).to_bytes(4, "little") + params)  # 16 cursor
        for _ in range(4):                                          # 17..20
            self.cmd(0x1c, sid + (1).to_bytes(4, "little"))
        self.cmd(0x1a, sid)                                         # 21 COM_STMT_RESET
        self.send(b"\x19" + sid)                                    # 22 COM_STMT_CLOSE
        # Long data, then execute (no cursor).
        sid = self.stmt_id(self.cmd(0x16, b"INSERT INTO t2 VALUES (?, ?)"))  # 23
        self.send(b"\x18" + sid + b"\x01\x00" + b"long data")      # 24 SEND_LONG_DATA
        params = b"\0" + b"\1" + b"\x03\x00\xfe\x00" + (8).to_bytes(4, "little")
        self.cmd(0x17, sid + b"\x00" + (1).to_bytes(4, "little") + params)  # 25
        self.send(b"\x19" + sid)                                    # 26 COM_STMT_CLOSE
        # Pipelined PREPARE + EXECUTE(stmt_id -1) in one write, as
        # Connector/C's mariadb_stmt_execute_direct does.
        params = b"\0" + b"\1" + b"\x03\x00" + (41).to_bytes(4, "little")
        self.send(b"\x16SELECT ? + 1",
                  b"\x17\xff\xff\xff\xff\x00" + (1).to_bytes(4, "little") + params)  # 27, 28
        r = self.read()
        self.send(b"\x19" + self.stmt_id(r))                        # 29 COM_STMT_CLOSE
        q("LOAD DATA LOCAL INFILE '%s' INTO TABLE t2 FIELDS TERMINATED BY ','" % INFILE)  # 30
        r = self.cmd(0x11, b"root\0" + b"\0" + b"trk\0" + (45).to_bytes(2, "little") +
                     b"mysql_native_password\0")                   # 31 COM_CHANGE_USER
        if r[4] == 0xFE:                                            # auth switch
            self.send(b"", seq=r[3] + 1)
            self.read()
        self.cmd(0x1f)                                              # 32 COM_RESET_CONNECTION
        q("SELECT COUNT(*) FROM t2")                                # 33
        q("BEGIN")                                                  # 34
        q("SELECT v FROM t WHERE id = 3 FOR UPDATE")                # 35
        q("ROLLBACK")                                               # 36
        self.send(b"\x01")                                          # 37 COM_QUIT
        self.s.close()


def main():
    with open(INFILE, "w") as f:
        f.write("".join("%d,line %d\n" % (i, i) for i in range(100, 105)))
    subprocess.run(["mariadb", "-h127.0.0.1", "-P%d" % PORT, "-uroot"],
                   input=SETUP_SQL.encode(), check=True)
    tmp = tempfile.mkdtemp(prefix="trk-cdrv-")
    src, exe = os.path.join(tmp, "drv.c"), os.path.join(tmp, "drv")
    with open(src, "w") as f:
        f.write(C_DRIVER)
    flags = subprocess.check_output(["pkg-config", "--cflags", "--libs", "libmariadb"]).decode().split()
    subprocess.run(["cc", "-O1", "-Wall", '-DINFILE_PATH="%s"' % INFILE, "-o", exe, src] + flags,
                   check=True)

    def drive_c(port):
        subprocess.run([exe, str(port)], check=True, stdout=subprocess.DEVNULL)

    streams = [
        capture("cli", "mariadb CLI, SQL on stdin, --force --local-infile", drive_cli),
        capture("capi", "Connector/C driver (C_DRIVER above)", drive_c),
        capture("pymysql", "PyMySQL (drive_pymysql)", drive_pymysql),
        capture("raw_deof", "RawClient with CLIENT_DEPRECATE_EOF",
                lambda port: RawClient(port, True).run()),
        capture("raw_eof", "RawClient without CLIENT_DEPRECATE_EOF",
                lambda port: RawClient(port, False).run()),
    ]
    out = sys.stdout
    out.write("/* tracker_streams.h — real MariaDB conversations for test_tracker.c.\n"
              " *\n * GENERATED by tests/unit/capture_streams.py (see there for how and\n"
              " * the client programs) against MariaDB %s on loopback.\n"
              " * Each stream starts after the login OK. A segment is what the\n"
              " * recording relay read from one side, runs of one direction coalesced;\n"
              " * data holds the segments back to back. */\n" % server_version())
    out.write("#ifndef SHUNT_TRACKER_STREAMS_H\n#define SHUNT_TRACKER_STREAMS_H\n\n")
    out.write("struct trk_seg {\n\tunsigned int to_server;   /* 1: client -> server */\n"
              "\tunsigned int len;\n};\n\n")
    out.write("struct trk_stream {\n\tconst char *name;\n\tunsigned int caps;        /* negotiated CLIENT_* */\n"
              "\tunsigned short status;    /* login OK's status flags */\n"
              "\tconst unsigned char *data;\n\tunsigned int len;\n"
              "\tconst struct trk_seg *segs;\n\tunsigned int nsegs;\n};\n\n")
    for s in streams:
        data = b"".join(d for _, d in s["segs"])
        out.write("/* %s: %s.\n * caps 0x%08x (DEPRECATE_EOF %s), login status 0x%04x, %d bytes.\n"
                  " * Client commands (seq 0 packets) in order:\n"
                  % (s["name"], s["how"], s["caps"],
                     "on" if s["caps"] & CLIENT_DEPRECATE_EOF else "off", s["status"], len(data)))
        for i, c in enumerate(s["cmds"]):
            out.write(" *  %2d %s\n" % (i + 1, c.replace("*/", "*_")))
        out.write(" */\nstatic const unsigned char trk_%s_data[] = {\n" % s["name"])
        for i in range(0, len(data), 16):
            out.write("\t" + " ".join("0x%02x," % b for b in data[i:i + 16]) + "\n")
        out.write("};\nstatic const struct trk_seg trk_%s_segs[] = {\n" % s["name"])
        for t, d in s["segs"]:
            out.write("\t{ %d, %d },\n" % (1 if t else 0, len(d)))
        out.write("};\n\n")
    out.write("#define TRK_STREAM(n, c, st) { #n, c, st, trk_##n##_data, sizeof(trk_##n##_data), \\\n"
              "\ttrk_##n##_segs, sizeof(trk_##n##_segs) / sizeof(trk_##n##_segs[0]) }\n\n")
    out.write("static const struct trk_stream trk_streams[] = {\n")
    for s in streams:
        out.write("\tTRK_STREAM(%s, 0x%08xu, 0x%04x),\n" % (s["name"], s["caps"], s["status"]))
    out.write("};\n\n#endif\n")
    for s in streams:
        print("%s: caps %08x status %04x, %d commands, %d segments" %
              (s["name"], s["caps"], s["status"], len(s["cmds"]), len(s["segs"])), file=sys.stderr)


def server_version():
    return subprocess.check_output(["mariadb", "-h127.0.0.1", "-P%d" % PORT, "-uroot", "-N", "-e",
                                    "SELECT VERSION()"]).decode().strip()


if __name__ == "__main__":
    main()
