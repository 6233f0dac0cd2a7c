#!/usr/bin/python3
"""pipeline_check.py — commands shunt must see, sent pipelined behind
another command or split across segments, must never reach the backend
unlooked-at.

usage: pipeline_check.py PORT USER PASSWORD CASE [ARG]

CASE:
  change_user SNEAK   "DO 1" and a COM_CHANGE_USER to SNEAK (a backend
                      account shunt does not list, empty password) in one
                      write. shunt must refuse it (ERR 1045) and close;
                      a backend that got it would log the client in as
                      SNEAK.
  change_user_split SNEAK
                      the same, the change-user's header split across
                      two writes 50 ms apart.
  kill_query          "DO 1" and "KILL <own backend thread id>" in one
                      write: shunt reads the id as one of its own (1094,
                      unknown thread); the backend would kill the client's
                      own connection.
  kill_cmd            the same with COM_PROCESS_KILL.
  kill_comment        "KILL" behind 200 bytes of comment (beyond the
                      kernel program's 64-byte scan), alone.
  kill_versioned      "/*!50000 KILL <own backend id> */", alone.
  kill_behind_slow    "DO SLEEP(0.3)" and the KILL in one write: the KILL
                      waits for the DO's answer, then shunt answers it.
  kill_after_forwarded
                      "DO SLEEP(0.3)" alone, the KILL 50 ms later (while
                      the DO runs on the backend): the same.
  kill_twice          "DO 1", the KILL, and the KILL again in one write:
                      three answers in order.
  change_user_behind_slow SNEAK
                      "DO SLEEP(0.3)", the change-user to SNEAK 50 ms
                      later: OK, then ERR 1045, session closed.
  big_prepare         a COM_STMT_PREPARE of 2.5 MB (a long comment) and
                      a COM_QUERY of 2.5 MB that starts with a comment:
                      both answered as MariaDB answers them directly.
  after_login         "SELECT 42" and "SELECT 'two'" in the same write as
                      the login packet, before shunt's OK: both answered
                      in order after the OK (they used to be dropped).
  after_login_change_user SNEAK
                      the change-user to SNEAK in the same write as the
                      login packet: refused (ERR 1045), session closed.

Prints one JSON object: {"answers": [...], "closed": bool, ...}.
"""
import importlib.util
import json
import os
import socket
import struct
import sys
import time

spec = importlib.util.spec_from_file_location(
    "raw", os.path.join(os.path.dirname(os.path.abspath(__file__)), "rawclient.py"))
raw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(raw)


def pkt(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def change_user_packet(user, scramble):
    # empty password: an empty token
    p = b"\x11" + user.encode() + b"\0" + b"\0" + b"\0"
    p += struct.pack("<H", 45) + b"mysql_native_password\0"
    return pkt(0, p)


def answer(c, caps):
    """One response: ("ok", status) / ("err", code) / ("rows", rows)."""
    _, p = c.read_packet()
    if p[0] == 0x00:
        return ["ok", raw.ok_status(p)]
    if p[0] == 0xFF:
        code = struct.unpack_from("<H", p, 1)[0]
        return ["err", code, p[9:].decode(errors="replace")]
    if p[0] == 0xFE:
        return ["auth_switch"]
    ncols, _ = raw.lenenc(p, 0)
    for _ in range(ncols):
        c.read_packet()
    if not caps & raw.CLIENT_DEPRECATE_EOF:
        c.read_packet()
    rows = []
    while True:
        _, p = c.read_packet()
        if p[0] == 0xFE and len(p) < 9:
            return ["rows", rows]
        rows.append(p[1:].decode(errors="replace"))


def prepare_answer(c, caps):
    """The answer to a COM_STMT_PREPARE: ["prepared", columns, params]."""
    _, p = c.read_packet()
    if p[0] != 0x00:
        return ["err", struct.unpack_from("<H", p, 1)[0], p[9:].decode(errors="replace")]
    ncols, nparams = struct.unpack_from("<HH", p, 5)
    for n in (nparams, ncols):
        for _ in range(n):
            c.read_packet()
        if n and not caps & raw.CLIENT_DEPRECATE_EOF:
            c.read_packet()
    return ["prepared", ncols, nparams]


def read_answers(c, caps, n, out):
    """n answers into out["answers"]; a close ends them with ["closed", why]."""
    c.s.settimeout(10)
    try:
        for _ in range(n):
            out["answers"].append(answer(c, caps))
    except (EOFError, ConnectionError, OSError) as e:
        out["answers"].append(["closed", str(e)])


def closed_after(c, caps):
    try:
        c.send_packet(0, b"\x03SELECT 1")
        answer(c, caps)
        return False
    except (EOFError, ConnectionError, OSError):
        return True


def main():
    port, user, password, case = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    arg = sys.argv[5] if len(sys.argv) > 5 else ""
    if case.startswith("after_login"):
        c = raw.Conn("127.0.0.1", port)
        if case == "after_login":
            more, n = pkt(0, b"\x03SELECT 42") + pkt(0, b"\x03SELECT 'two'"), 2
        else:
            more, n = change_user_packet(arg, b""), 1
        conn_id, caps, _ = raw.login(c, user, password, False, pipelined=more)
        out = {"conn_id": conn_id, "answers": []}
        read_answers(c, caps, n, out)
        out["closed"] = closed_after(c, caps)
        print(json.dumps(out))
        return
    spare = []
    for _ in range(8):
        c = raw.Conn("127.0.0.1", port)
        conn_id, caps, scramble = raw.login(c, user, password, False)
        rows, _ = raw.query(c, "SELECT CONNECTION_ID()", caps)
        backend_id = int(rows[0][0])
        if backend_id != conn_id:
            break
        spare.append(c)     # its ids line up: a KILL of either means the same; try again
    else:
        raise SystemExit("8 logins in a row had the same shunt and backend ids")
    out = {"conn_id": conn_id, "backend_id": backend_id, "answers": []}
    first = pkt(0, b"\x03DO 1")
    if case == "change_user":
        c.s.sendall(first + change_user_packet(arg, scramble))
        n = 2
    elif case == "change_user_split":
        cu = change_user_packet(arg, scramble)
        c.s.sendall(first + cu[:2])
        time.sleep(0.05)
        c.s.sendall(cu[2:])
        n = 2
    elif case == "kill_query":
        c.s.sendall(first + pkt(0, b"\x03KILL %d" % backend_id))
        n = 2
    elif case == "kill_cmd":
        c.s.sendall(first + pkt(0, b"\x0c" + struct.pack("<I", backend_id)))
        n = 2
    elif case == "kill_comment":
        c.s.sendall(pkt(0, b"\x03/*" + b"x" * 200 + b"*/ KILL %d" % backend_id))
        n = 1
    elif case == "kill_versioned":
        c.s.sendall(pkt(0, b"\x03/*!50000 KILL %d */" % backend_id))
        n = 1
    elif case == "kill_behind_slow":
        c.s.sendall(pkt(0, b"\x03DO SLEEP(0.3)") + pkt(0, b"\x03KILL %d" % backend_id))
        n = 2
    elif case == "kill_after_forwarded":
        c.s.sendall(pkt(0, b"\x03DO SLEEP(0.3)"))
        time.sleep(0.05)
        c.s.sendall(pkt(0, b"\x03KILL %d" % backend_id))
        n = 2
    elif case == "kill_twice":
        k = pkt(0, b"\x03KILL %d" % backend_id)
        c.s.sendall(first + k + k)
        n = 3
    elif case == "change_user_behind_slow":
        c.s.sendall(pkt(0, b"\x03DO SLEEP(0.3)"))
        time.sleep(0.05)
        c.s.sendall(change_user_packet(arg, scramble))
        n = 2
    elif case == "big_prepare":
        filler = b"x" * (2500 * 1024)
        c.s.sendall(pkt(0, b"\x16SELECT ? /*" + filler + b"*/"))
        c.s.settimeout(20)
        out["answers"].append(prepare_answer(c, caps))
        c.s.sendall(pkt(0, b"\x03/*" + filler + b"*/ SELECT 'big'"))
        n = 1
    else:
        raise SystemExit("unknown case " + case)
    read_answers(c, caps, n, out)
    if case.startswith("change_user") and out["answers"][-1][0] == "ok":
        try:
            rows, _ = raw.query(c, "SELECT CURRENT_USER()", caps)
            out["current_user"] = rows[0][0]
        except Exception as e:          # noqa: BLE001 - reported, not hidden
            out["current_user"] = "error: %s" % e
    out["closed"] = closed_after(c, caps)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
