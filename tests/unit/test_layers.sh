#!/usr/bin/env bash
# test_layers.sh — the layering check (tools/check-layers.py) on the real
# tree, and on copies with a planted upward include and a planted include
# cycle, which it must refuse.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$ROOT/tools/check-layers.py
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if out=$("$CHECK" "$ROOT" 2>&1); then
	echo "PASS: tree (${out#layers: })"
else
	echo "FAIL: tree: $(echo "$out" | head -3 | tr '\n' ' ')"
fi

plant() {   # NAME FILE LINE EXPECTED-TEXT: copies the tree, adds LINE to FILE, expects a refusal
	local name=$1 file=$2 line=$3 want=$4 d=$T/$1
	mkdir -p "$d"
	cp -r "$ROOT/user" "$ROOT/include" "$d/"
	printf '%s\n' "$line" >>"$d/user/$file"
	if out=$("$CHECK" "$d" 2>&1); then
		echo "FAIL: $name: the check accepted $file with '$line'"
	elif echo "$out" | grep -q "$want"; then
		echo "PASS: $name ($(echo "$out" | grep -m1 "$want"))"
	else
		echo "FAIL: $name: refused, but without '$want': $out"
	fi
}
plant upward_include util/log.c '#include "ctl/control.h"' 'from a higher layer'
plant include_cycle session/session.h '#include "session/relay.h"' 'include cycle'
plant unknown_header core/pool.c '#include "pool_private.h"' 'names no layer folder'
