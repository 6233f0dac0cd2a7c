#!/usr/bin/python3
"""capture.py — a recording TCP relay for MySQL protocol captures.

Usage: capture.py LISTEN_PORT UPSTREAM_PORT OUTFILE

Accepts one client connection on 127.0.0.1:LISTEN_PORT, relays it to
127.0.0.1:UPSTREAM_PORT and, when both sides have closed, writes every
packet seen (direction, sequence id, payload hex) to OUTFILE as one
line each: "C>S seq hex" or "S>C seq hex". Only for making test data.

to_c_arrays() turns chosen lines of such files into C arrays
(tests/unit/proto_captures.h was made with it).
"""
import selectors
import socket
import sys


def split_packets(buf):
    out = []
    while len(buf) >= 4:
        n = buf[0] | buf[1] << 8 | buf[2] << 16
        if len(buf) < 4 + n:
            break
        out.append((buf[3], bytes(buf[4:4 + n])))
        buf = buf[4 + n:]
    return out, buf


def main():
    lport, uport, outfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(1)
    cs, _ = ls.accept()
    us = socket.create_connection(("127.0.0.1", uport))
    sel = selectors.DefaultSelector()
    sel.register(cs, selectors.EVENT_READ, ("C>S", us))
    sel.register(us, selectors.EVENT_READ, ("S>C", cs))
    pending = {"C>S": b"", "S>C": b""}
    log = []
    open_socks = 2
    while open_socks:
        for key, _ in sel.select():
            tag, peer = key.data
            data = key.fileobj.recv(65536)
            if not data:
                sel.unregister(key.fileobj)
                open_socks -= 1
                try:
                    peer.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            peer.sendall(data)
            pkts, pending[tag] = split_packets(pending[tag] + data)
            log.extend((tag, s, p) for s, p in pkts)
    with open(outfile, "w") as f:
        for tag, s, p in log:
            f.write("%s %d %s\n" % (tag, s, p.hex()))


def to_c_arrays(pairs):
    """pairs: [(c_name, capture_file, line_index)] -> C source text."""
    out = []
    for name, path, idx in pairs:
        tag, seq, hx = open(path).read().splitlines()[idx].split()
        data = bytes.fromhex(hx)
        out.append("/* %s seq %s, %d bytes */" % (tag, seq, len(data)))
        out.append("static const uint8_t %s[] = {" % name)
        for i in range(0, len(data), 12):
            out.append("\t" + " ".join("0x%02x," % b for b in data[i:i + 12]))
        out.append("};")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
