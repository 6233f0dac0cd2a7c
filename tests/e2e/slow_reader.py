#!/usr/bin/python3
"""slow_reader.py PORT USER PASS SHUNT_PID ROWS — backpressure check.

Logs in through shunt, asks for ROWS rows of 1000 bytes, and reads the
result slowly (a 10 ms pause after every 64 KiB) while sampling shunt's resident
memory and the kernel's TCP memory (/proc/net/sockstat, pages). Prints one
JSON object: bytes and rows received, the last row's value, and the largest
growth of both over their values before the query.
"""
import importlib.util
import json
import os
import sys
import time

spec = importlib.util.spec_from_file_location(
    "raw", os.path.join(os.path.dirname(os.path.abspath(__file__)), "rawclient.py"))
raw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(raw)

port, user, pw, pid, rows = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])


def rss_kb():
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tcp_mem_pages():
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                parts = line.split()
                return int(parts[parts.index("mem") + 1])
    return 0


class SlowConn(raw.Conn):
    """Pauses 10 ms after every 64 KiB received, sampling memory."""
    def __init__(self, *a):
        super().__init__(*a)
        self.slow = False
        self.max_rss = self.max_tcp = 0
        self.last_sample = 0.0
        self.since_pause = 0

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("closed")
            if self.counting:
                self.received += len(chunk)
            self.buf += chunk
            self.since_pause += len(chunk)
            if self.slow and self.since_pause >= 65536:
                self.since_pause = 0
                time.sleep(0.01)
                now = time.time()
                if now - self.last_sample > 0.1:
                    self.last_sample = now
                    self.max_rss = max(self.max_rss, rss_kb())
                    self.max_tcp = max(self.max_tcp, tcp_mem_pages())
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


c = SlowConn("127.0.0.1", port)
_, caps, _ = raw.login(c, user, pw, False)
time.sleep(0.2)
rss0, tcp0 = rss_kb(), tcp_mem_pages()
c.counting = True
c.slow = True
t0 = time.time()
got, status = raw.query(c, "SELECT seq, REPEAT('x', 1000) FROM mysql.seq_1_to_%d" % rows, caps)
secs = time.time() - t0
print(json.dumps({
    "rows": len(got), "last": got[-1][0] if got else None, "bytes": c.received,
    "seconds": round(secs, 1),
    "rss_growth_kb": max(0, c.max_rss - rss0), "tcp_mem_growth_pages": max(0, c.max_tcp - tcp0),
}))
