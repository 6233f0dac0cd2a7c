#!/usr/bin/env bash
# install-deps.sh — install the Debian 12 packages shunt needs to build,
# test and demo. Idempotent and quiet: when every package is already
# installed it does nothing (no apt, no network). Needs root otherwise.
set -euo pipefail

PKGS=(
	build-essential clang llvm libbpf-dev bpftool
	libevent-dev libssl-dev libinih-dev libjansson-dev pkg-config
	mariadb-server mariadb-client libmariadb-dev galera-4 rsync
	sysbench haproxy python3-pymysql curl iproute2 libclang-rt-14-dev
)

missing=()
for p in "${PKGS[@]}"; do
	# "install ok installed" is the only state that means usable.
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "install-deps: missing packages: ${missing[*]} (run as root)" >&2
		exit 1
	fi
else
	SUDO=()
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The mariadb-server package may start a system instance on 3306; the tests
# run their own scratch servers on other ports and do not need it.
exit 0
