#!/usr/bin/python3
"""rawclient.py — a minimal MySQL protocol client that counts every byte.

Logs in with mysql_native_password, then runs the given queries one by one
(COM_QUERY, single statements; "\\change_user USER PASSWORD [DB]" sends a
COM_CHANGE_USER instead), reading each response to its end, and
counts the bytes it sent and received after the login. With --dump CMD it
runs CMD (a shell command, e.g. bpftool or shuntctl) while the session is
still open and prints its output, so a test can compare the kernel's tunnel
counters with what this client really saw on the wire.

Output: one JSON object on stdout:
  {"conn_id": N, "sent": N, "received": N, "rows": [...], "status": [...],
   "dump": "..."}
where status holds the server status flags after each query (or minus the
error code when the server answered with an ERR).
"""
import argparse
import hashlib
import json
import socket
import struct
import subprocess
import sys

CLIENT_LONG_PASSWORD = 0x1
CLIENT_PROTOCOL_41 = 0x200
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_MULTI_RESULTS = 0x20000
CLIENT_PLUGIN_AUTH = 0x80000
CLIENT_DEPRECATE_EOF = 0x1000000


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sent = 0
        self.received = 0
        self.counting = False
        self.buf = b""

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            if self.counting:
                self.received += len(chunk)
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_packet(self):
        hdr = self._recv_exact(4)
        length = hdr[0] | hdr[1] << 8 | hdr[2] << 16
        payload = self._recv_exact(length)
        while length == 0xFFFFFF:
            hdr = self._recv_exact(4)
            length = hdr[0] | hdr[1] << 8 | hdr[2] << 16
            payload += self._recv_exact(length)
        return hdr[3], payload

    def send_packet(self, seq, payload):
        data = struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload
        self.s.sendall(data)
        if self.counting:
            self.sent += len(data)


def lenenc(p, i):
    b = p[i]
    if b < 0xFB:
        return b, i + 1
    if b == 0xFC:
        return struct.unpack_from("<H", p, i + 1)[0], i + 3
    if b == 0xFD:
        return p[i + 1] | p[i + 2] << 8 | p[i + 3] << 16, i + 4
    if b == 0xFE:
        return struct.unpack_from("<Q", p, i + 1)[0], i + 9
    raise ValueError("bad lenenc")


def ok_status(p):
    _, i = lenenc(p, 1)
    _, i = lenenc(p, i)
    return struct.unpack_from("<H", p, i)[0]


def login(c, user, password, deprecate_eof, pipelined=b""):
    """Logs in; pipelined (wire bytes) goes out in the same write as the
    login packet, before the server's answer to it."""
    _, g = c.read_packet()
    if g[0] == 0xFF:
        raise RuntimeError("server refused: %r" % g)
    i = g.index(b"\0", 1) + 1
    conn_id = struct.unpack_from("<I", g, i)[0]
    i += 4
    scramble = g[i:i + 8]
    i += 9
    caps = struct.unpack_from("<H", g, i)[0]
    i += 2 + 1 + 2
    caps |= struct.unpack_from("<H", g, i)[0] << 16
    i += 2
    auth_len = g[i]
    i += 1 + 10
    scramble += g[i:i + max(13, auth_len - 8) - 1]
    stage1 = hashlib.sha1(password.encode()).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(scramble[:20] + stage2).digest()
    token = bytes(a ^ b for a, b in zip(stage1, mix))
    mine = (CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS |
            CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH)
    if deprecate_eof:
        mine |= CLIENT_DEPRECATE_EOF
    mine &= caps | CLIENT_LONG_PASSWORD
    resp = struct.pack("<IIB23x", mine, 1 << 24, 45) + user.encode() + b"\0"
    resp += bytes([len(token)]) + token + b"mysql_native_password\0"
    if pipelined:
        c.s.sendall(struct.pack("<I", len(resp))[:3] + b"\x01" + resp + pipelined)
    else:
        c.send_packet(1, resp)
    _, r = c.read_packet()
    if r[0] != 0:
        raise RuntimeError("login failed: %r" % r)
    return conn_id, mine, scramble[:20]


def change_user(c, spec, scramble, caps):
    """spec "USER PASSWORD [DB]": COM_CHANGE_USER; returns ([], status or -errno)."""
    parts = spec.split()
    user, password, db = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
    stage1 = hashlib.sha1(password.encode()).digest()
    mix = hashlib.sha1(scramble + hashlib.sha1(stage1).digest()).digest()
    token = bytes(a ^ b for a, b in zip(stage1, mix))
    pkt = b"\x11" + user.encode() + b"\0" + bytes([len(token)]) + token + db.encode() + b"\0"
    pkt += struct.pack("<H", 45) + b"mysql_native_password\0"
    c.send_packet(0, pkt)
    seq, p = c.read_packet()
    if p[0] == 0xFE:
        # MariaDB answers with an AuthSwitchRequest carrying a new scramble.
        plugin, _, data = p[1:].partition(b"\0")
        if plugin != b"mysql_native_password":
            raise RuntimeError("auth switch to %r" % plugin)
        mix = hashlib.sha1(data[:20] + hashlib.sha1(stage1).digest()).digest()
        c.send_packet(seq + 1, bytes(a ^ b for a, b in zip(stage1, mix)))
        seq, p = c.read_packet()
    if p[0] == 0xFF:
        return [], -struct.unpack_from("<H", p, 1)[0]
    if p[0] != 0:
        raise RuntimeError("unexpected change-user reply %r" % p[:40])
    return [], ok_status(p)


def query(c, sql, caps):
    """Runs one statement; returns (rows, status), status = -errno for an ERR."""
    c.send_packet(0, b"\x03" + sql.encode())
    _, p = c.read_packet()
    if p[0] == 0x00:
        return [], ok_status(p)
    if p[0] == 0xFF:
        return [], -struct.unpack_from("<H", p, 1)[0]
    ncols, _ = lenenc(p, 0)
    for _ in range(ncols):
        c.read_packet()
    if not caps & CLIENT_DEPRECATE_EOF:
        c.read_packet()                 # EOF after the column definitions
    rows = []
    while True:
        _, p = c.read_packet()
        if p[0] == 0xFE and len(p) < 0xFFFFFF and (caps & CLIENT_DEPRECATE_EOF or len(p) < 9):
            status = ok_status(p) if caps & CLIENT_DEPRECATE_EOF else struct.unpack_from("<H", p, 3)[0]
            return rows, status
        if p[0] == 0xFF:
            raise RuntimeError("ERR in rows: %r" % p[:60])
        row, i = [], 0
        while i < len(p):
            if p[i] == 0xFB:
                row.append(None)
                i += 1
                continue
            n, i = lenenc(p, i)
            row.append(p[i:i + n].decode(errors="replace"))
            i += n
        rows.append(row)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--deprecate-eof", action="store_true")
    ap.add_argument("--dump", help="shell command run while the session is open "
                    "({id} is replaced by the connection id)")
    ap.add_argument("queries", nargs="*")
    a = ap.parse_args()

    c = Conn(a.host, a.port)
    conn_id, caps, scramble = login(c, a.user, a.password, a.deprecate_eof)
    c.counting = True
    out = {"conn_id": conn_id, "rows": [], "status": [], "caps": caps}
    for q in a.queries:
        if q.startswith("\\change_user "):
            rows, status = change_user(c, q[len("\\change_user "):], scramble, caps)
        else:
            rows, status = query(c, q, caps)
        out["rows"].append(rows)
        out["status"].append(status)
    out["sent"], out["received"] = c.sent, c.received
    if a.dump:
        out["dump"] = subprocess.run(a.dump.replace("{id}", str(conn_id)), shell=True,
                                     capture_output=True, text=True).stdout
    c.counting = False
    c.send_packet(0, b"\x01")           # COM_QUIT
    c.s.close()
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
