#!/usr/bin/python3
"""stalled_backend.py — a backend that stops reading must not hold up the
worker that writes to it, nor anyone else on that worker.

Client A is on listener "stall", whose pool is MariaDB B. Its backend is
stopped (SIGSTOP: it takes no more bytes), then A sends a COM_STMT_PREPARE
(a command shunt must see, so the kernel carrier hands it to user space and
keeps handing over what follows until it has been forwarded) followed by
24 pipelined 1 MiB COM_QUERYs, more than the sockets on the way can hold.
shunt must write those bytes to B itself, and B does not read them.

While B stays stopped (at least STOP_S seconds, longer than the 10 s a
blocking write used to wait before it gave up on the session), on the same
worker (shunt runs one worker thread):
  - 20 new sessions on listener "main" (MariaDB A) run 10 queries each;
  - the admin port answers SHOW TUNNELS and lists A.
Then B is resumed, and A must get the prepare's OK, 24 OKs and SELECT 42:
nothing lost, and the session still open.

Prints one JSON object: {"others": N, "others_done_stopped": bool,
"tunnels_ok": bool, "a_listed": bool, "a_mode": str, "a_prepare": bool,
"a_oks": N, "a_after": str, "stopped_s": float, "errors": [...]}.
"""
import json
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import rawclient  # noqa: E402
import stuck_client  # noqa: E402

STOP_S = 12.0
PIPELINED = 24
PAD = 1024 * 1024


def main():
    stall_port, main_port, user, pw, admin_port, admin_pw, b_pid = sys.argv[1:8]
    stall_port, main_port, admin_port, b_pid = int(stall_port), int(main_port), int(admin_port), int(b_pid)
    out = {"others": 0, "others_done_stopped": False, "tunnels_ok": False, "a_listed": False,
           "a_mode": None, "a_prepare": False, "a_oks": 0, "a_after": None, "stopped_s": 0.0,
           "errors": []}

    a = rawclient.Conn.__new__(rawclient.Conn)
    s = socket.create_connection(("127.0.0.1", stall_port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    a.s, a.sent, a.received, a.counting, a.buf = s, 0, 0, False, b""
    a_id, caps, _ = rawclient.login(a, user, pw, False)
    rawclient.query(a, "SELECT 1", caps)        # the session is established and carried

    os.kill(b_pid, signal.SIGSTOP)
    t_stop = time.time()
    try:
        data = bytearray()
        prep = b"\x16SELECT ? AS v"
        data += struct.pack("<I", len(prep))[:3] + b"\x00" + prep
        for i in range(PIPELINED):
            q = b"\x03DO %d /* " % i + b"p" * PAD + b" */"
            data += struct.pack("<I", len(q))[:3] + b"\x00" + q
        sender = os.fork()
        if sender == 0:                         # the bytes go out while B is stopped
            try:
                s.sendall(bytes(data))
            finally:
                os._exit(0)

        stuck_client.neighbours(main_port, user, pw, admin_port, admin_pw, a_id, out)
        out["others_s"] = round(time.time() - t_stop, 2)
        out["others_done_stopped"] = True        # B has not been resumed yet
        while time.time() - t_stop < STOP_S:
            time.sleep(0.2)
    finally:
        out["stopped_s"] = round(time.time() - t_stop, 1)
        os.kill(b_pid, signal.SIGCONT)
    os.waitpid(sender, 0)

    try:
        _, p = a.read_packet()                  # COM_STMT_PREPARE_OK
        if p[0] != 0x00:
            raise RuntimeError("prepare answered %r" % p[:40])
        ncols, nparams = struct.unpack_from("<HH", p, 5)
        for _ in range(nparams + (1 if nparams else 0) + ncols + (1 if ncols else 0)):
            a.read_packet()                     # definitions and their EOFs
        out["a_prepare"] = nparams == 1 and ncols == 1
        for i in range(PIPELINED):
            _, p = a.read_packet()
            if p[0] != 0x00:
                raise RuntimeError("DO %d answered %r" % (i, p[:40]))
            out["a_oks"] += 1
        rows, _ = rawclient.query(a, "SELECT 42", caps)
        out["a_after"] = rows[0][0] if rows else None
    except Exception as e:
        out["errors"].append("client A: %s" % e)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
