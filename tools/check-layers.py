#!/usr/bin/python3
"""check-layers.py — the daemon's layering rule, checked.

user/ is grouped into folders by layer, from the bottom up:

    util  <  mysql  <  core  <  session  <  migrate  <  ctl  <  main.c

A file may include headers of its own folder or of a lower one, plus the
shared ABI headers in include/ and the generated BPF skeleton (core only).
A file and its header count as one unit (x.c + x.h), and the units'
include graph must have no cycle, inside a folder too.

Usage: check-layers.py [ROOT]   (ROOT defaults to the repository)
Prints one line per violation and exits 1 if there is any; prints a
one-line summary and exits 0 otherwise.
"""
import os
import re
import sys

LAYERS = ["util", "mysql", "core", "session", "migrate", "ctl"]
TOP = len(LAYERS)            # user/main.c
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    """Rank of a path under user/ ("session/relay.c" -> 3; "main.c" -> TOP)."""
    head = rel.split("/", 1)[0]
    if "/" not in rel:
        return TOP if rel == "main.c" else None
    return LAYERS.index(head) if head in LAYERS else None


def unit_of(rel):
    return rel[:-2] if rel.endswith((".c", ".h")) else rel


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    user = os.path.join(root, "user")
    shared = set(os.listdir(os.path.join(root, "include")))
    problems = []
    edges = {}
    files = []
    for dirpath, _, names in os.walk(user):
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                files.append(os.path.relpath(os.path.join(dirpath, n), user))
    for rel in sorted(files):
        rank = layer_of(rel)
        if rank is None:
            problems.append("%s: not in a layer folder (%s) nor user/main.c" %
                            (rel, ", ".join(LAYERS)))
            continue
        with open(os.path.join(user, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for inc in INCLUDE_RE.findall(text):
            if "/" not in inc:
                if inc in shared:
                    continue
                if inc.endswith(".skel.h") and rel.startswith("core/"):
                    continue
                problems.append("%s: includes \"%s\", which names no layer folder" % (rel, inc))
                continue
            if not os.path.exists(os.path.join(user, inc)):
                problems.append("%s: includes \"%s\", which does not exist" % (rel, inc))
                continue
            target = layer_of(inc)
            if target is None or target > rank:
                problems.append("%s: includes \"%s\" from a higher layer (%s above %s)" %
                                (rel, inc, inc.split("/")[0],
                                 rel.split("/")[0] if "/" in rel else "main"))
            a, b = unit_of(rel), unit_of(inc)
            if a != b:
                edges.setdefault(a, set()).add(b)
    # Cycles in the unit graph (iterative DFS, colours).
    colour = {}
    cycles = []

    def visit(start):
        stack = [(start, iter(sorted(edges.get(start, ()))))]
        path = [start]
        colour[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
                path.pop()
                continue
            c = colour.get(nxt, 0)
            if c == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif c == 0:
                colour[nxt] = 1
                stack.append((nxt, iter(sorted(edges.get(nxt, ())))))
                path.append(nxt)

    for u in sorted(edges):
        if colour.get(u, 0) == 0:
            visit(u)
    for c in cycles:
        problems.append("include cycle: " + " -> ".join(c))
    for p in problems:
        print("layers: " + p)
    if problems:
        return 1
    print("layers: %d files in %d layers, %d include edges between units, no upward include, no cycle"
          % (len(files), len(LAYERS) + 1, sum(len(v) for v in edges.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
