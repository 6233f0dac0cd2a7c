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
# result was never held anywhere in full. Every row must arrive. Then
# the two stalls below, measured where the memory really goes.
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

# stall CASE: one side stops reading for 8 s (stall_check.py). What the
# whole machine spends meanwhile (MemAvailable, kernel buffers included)
# must stay far below what was sent: without backpressure the kernel path
# queued the result (or the query) in the peer's redirect queue, about
# 1 GiB in 10 s. Bound: 96 MiB of MemAvailable and 48 MiB of shunt RSS;
# the socket buffers of the four sockets on the path account for a few
# tens of MiB at most. Then every byte must arrive.
stall() {
	local case=$1 out res dbpid
	dbpid=$(cat "$(dirname "$MYSQL_SOCK")/mysqld.pid" 2>/dev/null)
	if [ -z "$dbpid" ]; then
		skip "stalled_$case" "no pid file next to $MYSQL_SOCK to stop MariaDB with"
		return
	fi
	out=$("$PY" "$(dirname "$0")/stall_check.py" "$case" "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" \
		"$SHUNT_PID" "$dbpid" 2>&1)
	kill -CONT "$dbpid" 2>/dev/null
	res=$("$PY" - "$out" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
except Exception:
    print("FAIL client failed: " + sys.argv[1][-300:]); sys.exit()
if "error" in d:
    print("FAIL " + d["error"]); sys.exit()
p = []
if d["mem_drop_kb"] > 96 * 1024: p.append("MemAvailable fell by %d MiB" % (d["mem_drop_kb"] // 1024))
if d["rss_rise_kb"] > 48 * 1024: p.append("shunt RSS grew %d MiB" % (d["rss_rise_kb"] // 1024))
if d["case"] == "client":
    if d["rows"] != 512 or d["bad_rows"]: p.append("%d rows, %d wrong" % (d["rows"], d["bad_rows"]))
    msg = "result of 512 MiB unread for %.0f s: MemAvailable -%d MiB, shunt RSS +%d MiB; then %d rows, %.0f MB in %.1f s" % (
        d["stall_s"], d["mem_drop_kb"] // 1024, d["rss_rise_kb"] // 1024, d["rows"], d["bytes"] / 1e6, d["read_s"])
else:
    if d["taken_in_stall"] > 64 << 20: p.append("the client got %d MiB in while MariaDB read nothing" % (d["taken_in_stall"] >> 20))
    if d["answer"] != "ok" or d["after"] != "after": p.append("after the stall: %s, %r" % (d["answer"], d["after"]))
    msg = "MariaDB stopped for %.0f s under a 256 MiB query: %.1f MiB got in, MemAvailable -%d MiB, shunt RSS +%d MiB; then %s" % (
        d["stall_s"], d["taken_in_stall"] / 1048576, d["mem_drop_kb"] // 1024, d["rss_rise_kb"] // 1024, d["answer"])
print(("FAIL " + "; ".join(p) + " (" + msg + ")") if p else "PASS " + msg)
PY
)
	case $res in
	PASS*) pass "stalled_$case" "${res#PASS }" ;;
	*) fail "stalled_$case" "${res#FAIL }" ;;
	esac
}
stall client
stall backend
e2e_finish
