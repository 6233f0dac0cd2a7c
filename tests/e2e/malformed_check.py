#!/usr/bin/python3
"""malformed_check.py PORT USER PASS LOG — bad input at shunt's front door.

Each case opens a raw TCP connection, reads shunt's greeting and sends
something wrong. Prints PASS:/FAIL: lines with what came back.
"""
import importlib.util
import os
import socket
import struct
import sys
import time

spec = importlib.util.spec_from_file_location(
    "raw", os.path.join(os.path.dirname(os.path.abspath(__file__)), "rawclient.py"))
raw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(raw)

port, user, pw, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


def report(name, ok, detail):
    print("%s: %s (%s)" % ("PASS" if ok else "FAIL", name, detail))


def greeted():
    """A connection that has read shunt's greeting; c.conn_id is shunt's id."""
    c = raw.Conn("127.0.0.1", port)
    c.s.settimeout(10)
    _, g = c.read_packet()
    c.conn_id = struct.unpack_from("<I", g, g.index(b"\0", 1) + 1)[0]
    return c


def logged(*parts, secs=5):
    """Whether shunt's log gets one line containing every part within secs."""
    for _ in range(secs * 10):
        with open(log) as f:
            if any(all(p in line for p in parts) for line in f):
                return True
        time.sleep(0.1)
    return False


def answer(c):
    """The ERR (code, text) shunt answered with, and whether it then closed."""
    try:
        _, p = c.read_packet()
    except (EOFError, OSError) as e:
        return None, "no answer (%s)" % e, True
    code = struct.unpack_from("<H", p, 1)[0] if p[:1] == b"\xff" else None
    text = p[9:].decode(errors="replace") if code else repr(p[:20])
    try:
        closed = c.s.recv(1) == b""
    except OSError:
        closed = True
    return code, text, closed


def case(name, payload, seq, want_code):
    c = greeted()
    c.send_packet(seq, payload)
    code, text, closed = answer(c)
    report(name, code == want_code and closed,
           "-> ERR %s %r, connection %s" % (code, text, "closed" if closed else "still open"))


# Garbage where the HandshakeResponse41 should be.
case("garbage_login", b"\x05\x00\x00\x00" + os.urandom(3), 1, 1043)
# A login that claims more than it holds (user name without its NUL).
case("truncated_login", struct.pack("<IIB23x", 0x0008A200, 1 << 24, 45) + b"abc", 1, 1043)
# The right packet with the wrong sequence id.
case("out_of_order", struct.pack("<IIB23x", 0x0008A200, 1 << 24, 45) + b"x\0\0", 5, 1156)
# TLS requested (shunt does not offer it yet).
case("ssl_request", struct.pack("<IIB23x", 0x0008AA00, 1 << 24, 45), 1, 1043)
# A client without protocol 4.1.
case("old_protocol", struct.pack("<HI", 0x8000 | 0x0001, 1 << 24) + b"x\0", 1, 1043)

# A header announcing 16 MB: refused at once, nothing buffered.
c = greeted()
c.s.sendall(b"\xff\xff\xfe\x01")
code, text, closed = answer(c)
report("oversized_login", code == 1043 and closed, "-> ERR %s %r, %s" % (code, text, "closed" if closed else "open"))

# A client that sends half a packet and vanishes: nothing to answer, but
# shunt must notice, say so with the connection id, and let the socket go
# (the runner checks shunt's fds afterwards).
c = greeted()
c.s.sendall(b"\x64\x00\x00\x01" + b"\x00" * 10)
c.s.close()
ok = logged("conn=%d " % c.conn_id, "went away during login")
report("half_packet_then_gone", ok, "sent 14 of 104 bytes and closed; shunt logged conn=%d going away: %s"
       % (c.conn_id, "yes" if ok else "no"))

# After a good login, an unknown command byte: the server's own ERR comes
# back and the session goes on.
c = raw.Conn("127.0.0.1", port)
_, caps, _ = raw.login(c, user, pw, False)
c.send_packet(0, b"\xee\x01\x02")
_, p = c.read_packet()
code = struct.unpack_from("<H", p, 1)[0] if p[:1] == b"\xff" else None
rows, _ = raw.query(c, "SELECT 7", caps)
report("unknown_command", code == 1047 and rows == [["7"]],
       "command 0xee -> ERR %s, then SELECT 7 -> %r" % (code, rows))
c.s.close()
