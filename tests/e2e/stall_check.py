#!/usr/bin/python3
"""stall_check.py CASE PORT USER PASS SHUNT_PID MARIADB_PID — what the host
spends when one side of a session stops reading.

  client   asks for a 512 MiB result (512 rows of 1 MiB) and reads nothing
           for 8 s, then reads all of it;
  backend  stops MariaDB (SIGSTOP), sends a 256 MiB query for 8 s with a
           non-blocking socket, counting what the socket takes, resumes
           MariaDB (SIGCONT) and sends the rest.

Meanwhile the machine's MemAvailable (/proc/meminfo: kernel buffers
included, wherever the kernel keeps them) and shunt's resident memory are
sampled every 100 ms. Prints one JSON object: the largest drop of
MemAvailable and rise of shunt's RSS from before the stall, what got
through in the stall, and whether every byte arrived afterwards.
"""
import importlib.util
import json
import os
import select
import signal
import socket
import struct
import sys
import time

spec = importlib.util.spec_from_file_location(
    "raw", os.path.join(os.path.dirname(os.path.abspath(__file__)), "rawclient.py"))
raw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(raw)

case, port, user, pw, pid, dbpid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], \
    sys.argv[5], int(sys.argv[6])
STALL_S = 8.0
ROW = 1 << 20
ROWS = 512
QUERY_BYTES = 256 << 20


def meminfo_kb(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_kb():
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler:
    def __init__(self):
        self.avail0, self.rss0 = meminfo_kb("MemAvailable"), rss_kb()
        self.drop = self.rise = 0
        self.last = 0.0

    def sample(self, force=False):
        now = time.time()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        self.drop = max(self.drop, self.avail0 - meminfo_kb("MemAvailable"))
        self.rise = max(self.rise, rss_kb() - self.rss0)


def stall_client():
    c = raw.Conn("127.0.0.1", port)
    _, caps, _ = raw.login(c, user, pw, False)
    time.sleep(0.3)
    sm = Sampler()
    c.counting = True
    sql = "SELECT seq, REPEAT(CHAR(97 + seq %% 26), %d) FROM mysql.seq_1_to_%d" % (ROW, ROWS)
    c.send_packet(0, b"\x03" + sql.encode())
    t_end = time.time() + STALL_S
    while time.time() < t_end:
        sm.sample(force=True)
        time.sleep(0.1)
    out = {"case": "client", "stall_s": STALL_S, "mem_drop_kb": sm.drop, "rss_rise_kb": sm.rise}
    # Now read it all: every row, whole and in order.
    t0 = time.time()
    got, _ = read_result(c, caps)
    bad = [i for i, r in enumerate(got)
           if r[0] != str(i + 1) or len(r[1]) != ROW or r[1][:1] != chr(97 + (i + 1) % 26)]
    out.update({"rows": len(got), "bad_rows": len(bad), "bytes": c.received,
                "read_s": round(time.time() - t0, 1)})
    return out


def read_result(c, caps):
    """The rows of a text result set, as (str, str) pairs."""
    _, p = c.read_packet()
    if p[0] == 0xFF:
        raise RuntimeError("error %d: %s" % (struct.unpack("<H", p[1:3])[0], p[9:].decode()))
    ncols, _ = raw.lenenc(p, 0)
    for _ in range(ncols):
        c.read_packet()
    if not caps & raw.CLIENT_DEPRECATE_EOF:
        c.read_packet()
    rows = []
    while True:
        _, p = c.read_packet()
        if p[0] == 0xFE and len(p) < 0xFFFFFF:
            return rows, None
        if p[0] == 0xFF:
            raise RuntimeError("error in the rows: " + p[9:].decode(errors="replace"))
        cells, i = [], 0
        for _ in range(ncols):
            n, i = raw.lenenc(p, i)
            cells.append(p[i:i + n].decode())
            i += n
        rows.append(tuple(cells))


def stall_backend():
    c = raw.Conn("127.0.0.1", port)
    _, caps, _ = raw.login(c, user, pw, False)
    time.sleep(0.3)
    # DO 1 /* 256 MiB */ in 16 MiB packets
    body = b"\x03DO 1 /*" + b"x" * (QUERY_BYTES - 12) + b"*/"
    wire = bytearray()
    seq, off = 0, 0
    while True:
        chunk = body[off:off + 0xFFFFFF]
        wire += struct.pack("<I", len(chunk))[:3] + bytes([seq & 0xFF]) + chunk
        seq += 1
        off += len(chunk)
        if len(chunk) < 0xFFFFFF:
            break
    sm = Sampler()
    os.kill(dbpid, signal.SIGSTOP)
    sent = 0
    try:
        c.s.setblocking(False)
        t_end = time.time() + STALL_S
        while time.time() < t_end and sent < len(wire):
            sm.sample()
            _, w, _ = select.select([], [c.s], [], 0.1)
            if w:
                try:
                    sent += c.s.send(wire[sent:sent + (1 << 20)])
                except BlockingIOError:
                    pass
        sm.sample(force=True)
    finally:
        os.kill(dbpid, signal.SIGCONT)
    out = {"case": "backend", "stall_s": STALL_S, "mem_drop_kb": sm.drop, "rss_rise_kb": sm.rise,
           "taken_in_stall": sent, "query_bytes": len(wire)}
    c.s.setblocking(True)
    c.s.settimeout(60)
    c.s.sendall(wire[sent:])
    _, p = c.read_packet()
    out["answer"] = "ok" if p[0] == 0 else "error %d" % struct.unpack("<H", p[1:3])[0]
    got, _ = raw.query(c, "SELECT 'after'", caps)
    out["after"] = got[0][0] if got else None
    return out


try:
    print(json.dumps(stall_client() if case == "client" else stall_backend()))
except Exception as e:  # the verdict is the shell's; say what broke
    print(json.dumps({"case": case, "error": "%s: %s" % (type(e).__name__, e)}))
