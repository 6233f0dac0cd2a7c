#!/usr/bin/python3
"""summarise.py RAW_CSV META_TSV [REPORT_MD]

Turns the per-round numbers of tools/bench.sh into medians: prints the
tables to stdout and, when REPORT_MD is given and not empty, rewrites it as
the benchmark report (docs/benchmarks.md).

RAW_CSV  one row per run: round, workload, path, order, status (ok/err),
         qps, p95_ms, mbps, secs, note.
META_TSV key<TAB>value lines (date, kernel, versions, command, ...), plus
         "path<TAB>id<TAB>label<TAB>status<TAB>reason<TAB>command" per path
         and "log<TAB>id<TAB>line" for start-up lines of fast-path daemons.

Ratios are computed per round (path / direct of the same round, or path /
HAProxy) and the median of those per-round ratios is reported; absolute
figures are medians over rounds. A cell is "err" when no round of it was
valid and carries a dagger when only some were.
"""
import csv
import statistics
import sys

WORKLOADS = [
    ("ps1", "point_select 1 thr"),
    ("ps8", "point_select 8 thr"),
    ("ro1", "read_only 1 thr"),
    ("ro8", "read_only 8 thr"),
    ("stream", "stream 500 MB"),
]
SB_WORKLOADS = [w for w in WORKLOADS if w[0] != "stream"]
FASTPATHS = ("fp_verdict", "fp_stream")


def load(raw_path, meta_path):
    meta, paths, logs = {}, [], []
    with open(meta_path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "path":
                parts += [""] * (6 - len(parts))
                paths.append(dict(id=parts[1], label=parts[2], status=parts[3],
                                  reason=parts[4], cmd=parts[5]))
            elif parts[0] == "log":
                logs.append((parts[1], parts[2]))
            elif len(parts) >= 2:
                meta[parts[0]] = parts[1]
    runs = {}  # (workload, path) -> {round: row}
    with open(raw_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            runs.setdefault((row["workload"], row["path"]), {})[int(row["round"])] = row
    return meta, paths, logs, runs


def metric(row, name):
    """The float value of a valid run's metric, else None."""
    if row is None or row["status"] != "ok" or not row[name]:
        return None
    return float(row[name])


def main_metric(workload):
    return "mbps" if workload == "stream" else "qps"


class Cell:
    """A median with how many rounds it came from."""

    def __init__(self, values, rounds, na=False, spread=False, fmt="{:.2f}"):
        self.values = [v for v in values if v is not None]
        self.rounds = rounds
        self.na = na
        self.spread = spread
        self.fmt = fmt

    def text(self):
        if self.na:
            return "n/a"
        if not self.values:
            return "err"
        s = self.fmt.format(statistics.median(self.values))
        if self.spread and len(self.values) > 1:
            s += " (" + self.fmt.format(min(self.values)) + "–" + \
                self.fmt.format(max(self.values)) + ")"
        if len(self.values) < self.rounds:
            s += " †"
        return s


def fmt_abs(workload, name):
    if name == "p95_ms":
        return "{:.2f}"
    return "{:.0f}" if workload != "stream" else "{:.0f}"


class Report:
    def __init__(self, meta, paths, logs, runs):
        self.meta, self.paths, self.logs, self.runs = meta, paths, logs, runs
        self.rounds = int(meta.get("rounds", "1"))
        self.status = {p["id"]: p["status"] for p in paths}
        self.partial = False

    def row(self, workload, path, rnd):
        return self.runs.get((workload, path), {}).get(rnd)

    def absolute(self, workload, path, name):
        if self.status.get(path) != "ok":
            return Cell([], self.rounds, na=True)
        vals = [metric(self.row(workload, path, r), name)
                for r in range(1, self.rounds + 1)]
        c = Cell(vals, self.rounds, fmt=fmt_abs(workload, name))
        self.partial |= 0 < len(c.values) < self.rounds
        return c

    def ratio(self, workload, path, base, name, spread=True):
        if self.status.get(path) != "ok" or self.status.get(base) != "ok":
            return Cell([], self.rounds, na=True)
        vals = []
        for r in range(1, self.rounds + 1):
            a = metric(self.row(workload, path, r), name)
            b = metric(self.row(workload, base, r), name)
            vals.append(a / b if a is not None and b else None)
        c = Cell(vals, self.rounds, spread=spread)
        self.partial |= 0 < len(c.values) < self.rounds
        return c

    # ------------------------------------------------------------ tables

    def tables(self):
        """[(title, explanation, header, rows)]"""
        out = []
        ids = [p["id"] for p in self.paths]
        label = {p["id"]: p["label"] for p in self.paths}
        hdr = ["path"] + [w[1] for w in WORKLOADS]

        rows = [[label[i]] + [self.absolute(w, i, main_metric(w)).text()
                              for w, _ in WORKLOADS] for i in ids]
        out.append(("Throughput (median over rounds)",
                    "Queries per second for sysbench (all queries, including "
                    "BEGIN/COMMIT of read_only); MB/s for the stream.",
                    hdr, rows))

        rows = [[label[i]] + [self.ratio(w, i, "direct", main_metric(w)).text()
                              for w, _ in WORKLOADS] for i in ids if i != "direct"]
        out.append(("Throughput relative to direct (median of per-round ratios)",
                    "path ÷ direct in the same round; higher is better. "
                    "In brackets: lowest–highest round.",
                    hdr, rows))

        hdr_sb = ["path"] + [w[1] for w in SB_WORKLOADS]
        rows = [[label[i]] + [self.absolute(w, i, "p95_ms").text()
                              for w, _ in SB_WORKLOADS] for i in ids]
        out.append(("p95 latency, ms (median over rounds)", "", hdr_sb, rows))

        rows = [[label[i]] + [self.ratio(w, i, "direct", "p95_ms").text()
                              for w, _ in SB_WORKLOADS] for i in ids if i != "direct"]
        out.append(("p95 latency relative to direct (median of per-round ratios)",
                    "p95 of path ÷ p95 of direct in the same round; lower is "
                    "better. sysbench reports p95 in steps of its histogram "
                    "buckets, so small differences are quantised.",
                    hdr_sb, rows))

        if "haproxy" in ids:
            rows = [[label[i] + " ÷ HAProxy"] +
                    [self.ratio(w, i, "haproxy", main_metric(w)).text()
                     for w, _ in WORKLOADS]
                    for i in ("relay",) + FASTPATHS if i in ids]
            out.append(("Throughput relative to HAProxy (median of per-round ratios)",
                        "path ÷ HAProxy in the same round; above 1.00 the path "
                        "is faster than HAProxy.",
                        hdr, rows))
        return out

    def targets(self):
        """The project's goals on a 2-CPU machine (context, not asserted):
        [(goal, measured, verdict)]."""
        goals = [("fp_verdict", "direct", 0.75), ("fp_verdict", "haproxy", 1.25),
                 ("fp_stream", "direct", 0.75), ("fp_stream", "haproxy", 1.25),
                 ("relay", "haproxy", 0.95)]
        label = {p["id"]: p["label"] for p in self.paths}
        out = []
        for path, base, want in goals:
            if path not in label or base not in label:
                continue
            c = self.ratio("ps8", path, base, "qps", spread=False)
            got = c.text()
            verdict = "—" if not c.values else ("met" if statistics.median(c.values) >= want
                                                 else "not met")
            out.append(("%s ≥ %.2f × %s" % (label[path], want, label[base]), got, verdict))
        return out

    def notes(self):
        notes = []
        for p in self.paths:
            if p["status"] != "ok":
                notes.append("%s is n/a: %s" % (p["label"], p["reason"]))
        for pid, line in self.logs:
            notes.append("%s log: `%s`" % (pid, line))
        errs = []
        for (w, pid), byround in sorted(self.runs.items()):
            for r, row in sorted(byround.items()):
                if row["status"] != "ok":
                    errs.append("round %d %s %s: %s" % (r, w, pid, row["note"]))
        if errs:
            notes.append("Failed runs (left out of the medians): " + "; ".join(errs))
        if self.partial:
            notes.append("† = not every round was valid; the median is over the valid ones.")
        return notes

    # ------------------------------------------------------------ output

    def text(self):
        lines = []
        for title, _, hdr, rows in self.tables():
            lines.append(title)
            widths = [max(len(r[c]) for r in [hdr] + rows) for c in range(len(hdr))]
            for i, r in enumerate([hdr] + rows):
                lines.append("  " + "  ".join(
                    r[c].ljust(widths[c]) if c == 0 else r[c].rjust(widths[c])
                    for c in range(len(r))))
                if i == 0:
                    lines.append("  " + "  ".join("-" * w for w in widths))
            lines.append("")
        tg = self.targets()
        if tg:
            lines.append("Goals, point_select 8 threads (context, not asserted)")
            for g, got, verdict in tg:
                lines.append("  %-62s %8s  %s" % (g, got, verdict))
            lines.append("")
        for n in self.notes():
            lines.append("note: " + n)
        return "\n".join(lines)

    def markdown(self):
        m = self.meta
        total = int(m.get("duration_total", "0"))
        L = []
        L.append("# Benchmarks")
        L.append("")
        L.append("This file is written by `tools/bench.sh` (`make bench`); rerun it "
                 "to refresh. Raw per-round numbers of a run are in "
                 "`build/bench/raw.csv`, and each run's output in `build/bench/logs/`.")
        L.append("")
        L.append("## Run")
        L.append("")
        for k, name in (("date", "Date"), ("command", "Command"), ("commit", "shunt commit"),
                        ("shunt", "shunt version"), ("kernel", "Kernel"),
                        ("cpus", "CPUs"), ("cpu_model", "CPU model"),
                        ("mariadb", "MariaDB"), ("haproxy", "HAProxy"),
                        ("sysbench", "sysbench")):
            v = m.get(k, "?")
            if k in ("command", "kernel", "commit"):
                v = "`%s`" % v
            L.append("- %s: %s" % (name, v))
        L.append("- CPU used by other processes during the rounds: at most %s%% of the "
                 "machine (busy time in /proc/stat minus the CPU time of the bench's "
                 "own processes: MariaDB, the proxies, the clients; softirq time and "
                 "kernel threads working for the bench count as other, so a few %% is "
                 "normal on an idle machine); VM steal: %s%%. Other work shows up here and as spread "
                 "between rounds." % (m.get("cpu_other", "?"), m.get("cpu_steal", "?")))
        L.append("- Duration: %d min %d s (measurement %d min %d s)" % (
            total // 60, total % 60,
            int(m.get("duration_measure", "0")) // 60, int(m.get("duration_measure", "0")) % 60))
        L.append("")
        L.append("## Method")
        L.append("")
        L.append("- Client (sysbench, mariadb CLI), proxy and server share the "
                 "machine's %s CPUs; every connection is TCP on 127.0.0.1." % m.get("cpus", "?"))
        L.append("- A scratch MariaDB (InnoDB buffer pool %s MB) with sysbench's "
                 "`oltp_read_only` tables: %s tables × %s rows, prepared once." % (
                     m.get("bufpool_mb", "?"), m.get("tables", "?"), m.get("rows", "?")))
        L.append("- Workloads: sysbench 1.0.20 `oltp_point_select` and `oltp_read_only` "
                 "at 1 and 8 threads, %s s each, `--db-driver=mysql "
                 "--report-interval=0 --histogram=off --percentile=95 "
                 "--mysql-ignore-errors=none` (so any SQL error ends the run and "
                 "makes it invalid; ignored errors or reconnects also invalidate it); "
                 "and a streamed result, `mariadb -N -B --quick -e \"%s\" > /dev/null`, "
                 "timed, MB/s = %s bytes (counted once on the direct path with "
                 "`wc -c`) ÷ seconds." % (m.get("time", "?"), m.get("stream_sql", "?"),
                                          m.get("stream_bytes", "?")))
        L.append("- Every path is warmed up once with a %s s `oltp_point_select` at "
                 "8 threads. Then %s interleaved round(s): in each round, for each "
                 "workload, every path runs once, the order of paths rotated by "
                 "round and workload to spread drift." % (m.get("warmup", "?"), m.get("rounds", "?")))
        L.append("- Ratios are computed within a round (path ÷ direct, path ÷ "
                 "HAProxy) and the median of the per-round ratios is reported, with "
                 "the lowest and highest round in brackets. Absolute numbers are "
                 "medians over rounds.")
        L.append("")
        L.append("### Paths")
        L.append("")
        L.append("| path | status | how it runs |")
        L.append("|---|---|---|")
        for p in self.paths:
            st = "ok" if p["status"] == "ok" else "n/a (reason: %s)" % p["reason"]
            L.append("| %s | %s | %s |" % (p["label"], md_escape(st),
                                          "`%s`" % p["cmd"] if p["cmd"] else ""))
        L.append("")
        L.append("## Results")
        L.append("")
        for title, expl, hdr, rows in self.tables():
            L.append("### " + title)
            L.append("")
            if expl:
                L.append(expl)
                L.append("")
            L.append("| " + " | ".join(hdr) + " |")
            L.append("|" + "|".join(["---"] + ["---:"] * (len(hdr) - 1)) + "|")
            for r in rows:
                L.append("| " + " | ".join(md_escape(c) for c in r) + " |")
            L.append("")
        tg = self.targets()
        if tg:
            L.append("### Goals (point_select, 8 threads)")
            L.append("")
            L.append("The project's goals on this 2-CPU machine, for context; the "
                     "bench does not assert them.")
            L.append("")
            L.append("| goal | measured | |")
            L.append("|---|---:|---|")
            for g in tg:
                L.append("| " + " | ".join(md_escape(c) for c in g) + " |")
            L.append("")
        notes = self.notes()
        if notes:
            L.append("## Notes")
            L.append("")
            for n in notes:
                L.append("- " + md_escape(n))
            L.append("")
        return "\n".join(L)


def md_escape(s):
    return s.replace("|", "\\|")


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    rep = Report(*load(argv[1], argv[2]))
    print(rep.text())
    if len(argv) == 4 and argv[3]:
        with open(argv[3], "w", encoding="utf-8") as f:
            f.write(rep.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
