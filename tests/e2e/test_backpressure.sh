#!/usr/bin/env bash
# test_backpressure.sh — a slow client must hold the backend back instead of
# making shunt buffer the result. A client reads a 64 MB result at about
# 6 MB/s; meanwhile shunt's resident memory and the kernel's TCP memory are
# sampled. The relay may queue relay_buffer (1 MiB) per direction plus its
# read chunks; the kernel path queues nothing in user space. The TCP memory
# figure is system-wide (/proc/net/sockstat): the four sockets on the path
# autotune their buffers to several MiB each (tcp_rmem/tcp_wmem, counted by
# truesize), measured 5-33 MiB. Limits: 16 MiB of shunt RSS growth, and TCP
# memory growth below 48 MiB, i.e. well short of the 64 MB result, so the
# result was never held anywhere in full. Every row must arrive.
. "$(dirname "$0")/lib.sh"
e2e_init backpressure
mariadb_ensure
shunt_start
ROWS=64000
out=$("$PY" "$(dirname "$0")/slow_reader.py" "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" "$SHUNT_PID" "$ROWS" 2>&1)
res=$("$PY" - "$out" "$ROWS" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
except Exception:
    print("FAIL client failed: " + sys.argv[1][-300:]); sys.exit()
rows = int(sys.argv[2])
p = []
if d["rows"] != rows or d["last"] != str(rows): p.append("got %d rows, last %r" % (d["rows"], d["last"]))
if d["rss_growth_kb"] > 16384: p.append("shunt RSS grew %d KiB" % d["rss_growth_kb"])
if d["tcp_mem_growth_pages"] * 4 > 49152: p.append("kernel TCP memory grew %d pages" % d["tcp_mem_growth_pages"])
msg = "%d rows, %.1f MB in %.1f s; shunt RSS +%d KiB, kernel TCP memory +%d KiB" % (
    d["rows"], d["bytes"] / 1e6, d["seconds"], d["rss_growth_kb"], d["tcp_mem_growth_pages"] * 4)
print(("FAIL " + "; ".join(p) + " (" + msg + ")") if p else "PASS " + msg)
PY
)
case $res in
PASS*) pass slow_client "${res#PASS }" ;;
*) fail slow_client "${res#FAIL }" ;;
esac
e2e_finish
