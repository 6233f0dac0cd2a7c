# galera_lib.sh — a 3-node MariaDB Galera cluster on loopback for the e2e
# tests. Sourced after lib.sh, after e2e_init:
#
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/galera_lib.sh"
#     e2e_init galera
#     galera_prereqs || { skip cluster "$GALERA_SKIP_REASON"; e2e_finish; }
#     galera_start || ...            # GALERA_SKIP_REASON says why
#     ... GALERA_PORTS[0..2], GALERA_SOCKS[0..2], galera_sql N ...
#
# Every node is a mariadbd with its own datadir, socket and log under
# $E2E_TMP/galera/nodeN, listening on 127.0.0.1 only: the MySQL port, the
# group communication port (gmcast.listen_addr), the IST receiver
# (ist.recv_addr) and the SST receiver (wsrep_sst_receive_address, rsync)
# are all free loopback ports. Node 1 is made with mariadb-install-db and
# bootstraps the cluster (--wsrep-new-cluster); it gets the test accounts
# and databases (as mariadb_start in lib.sh makes them); nodes 2 and 3
# start with an empty datadir and get everything by SST (rsync) from it.
#
# galera_start replaces the EXIT trap with galera_exit_trap, which stops
# the shunt instances and helper processes, then every node (galera_stop:
# SIGTERM, SIGKILL if it lingers, and SIGKILL to whatever the node had
# started, such as the rsync daemon of an SST), then runs lib.sh's
# e2e_cleanup. A watchdog per node kills it when the script is killed
# without running its trap.
#
# Environment:
#     GALERA_PROVIDER   wsrep provider (default /usr/lib/galera/libgalera_smm.so)
#     GALERA_TIMEOUT    seconds each node may take to reach Synced (default 90)

GALERA_PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
GALERA_TIMEOUT=${GALERA_TIMEOUT:-90}
GALERA_N=3
GALERA_PORTS=()         # MySQL ports, node 1..3 at index 0..2
GALERA_GCOMM=()         # group communication ports (gmcast.listen_addr)
GALERA_IST=()           # IST receivers (ist.recv_addr)
GALERA_SST=()           # SST receivers (wsrep_sst_receive_address)
GALERA_SOCKS=()         # unix sockets (root access)
GALERA_DIRS=()          # per-node directories
GALERA_PIDS=()          # mariadbd pids, each its own process group
GALERA_WATCH=()         # their watchdogs
GALERA_SKIP_REASON=

# galera_prereqs: 0 when this machine can run the cluster; otherwise 1
# with GALERA_SKIP_REASON set to what is missing.
galera_prereqs() {
	local c
	if [ "$(id -u)" -ne 0 ]; then
		GALERA_SKIP_REASON="needs root (mariadbd --user=root, as the other e2e tests)"
		return 1
	fi
	if [ ! -r "$GALERA_PROVIDER" ]; then
		GALERA_SKIP_REASON="no wsrep provider at $GALERA_PROVIDER (Debian package galera-4; tools/install-deps.sh installs it)"
		return 1
	fi
	for c in mariadbd mariadb-install-db mariadb wsrep_sst_rsync rsync ss setsid; do
		if ! command -v "$c" >/dev/null 2>&1; then
			GALERA_SKIP_REASON="'$c' is not installed (tools/install-deps.sh: mariadb-server, galera-4, rsync, iproute2, util-linux)"
			return 1
		fi
	done
	if ! mariadbd --no-defaults --verbose --help 2>/dev/null | grep -q '^wsrep-provider '; then
		GALERA_SKIP_REASON="$(command -v mariadbd) was built without wsrep (no --wsrep-provider option)"
		return 1
	fi
	return 0
}

# galera_sql N [mariadb args...]: root SQL on node N (1..3) through its
# socket. Batch mode, no column names.
galera_sql() {
	local n=$1; shift
	mariadb --no-defaults -S "${GALERA_SOCKS[$((n - 1))]}" -uroot -N -B "$@"
}

# galera_status N VAR: a global status variable of node N ("" if unreachable).
galera_status() {
	galera_sql "$1" -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | awk -F'\t' '{ print $2 }'
}

# galera_node_state N: "size/state/ready" of node N, e.g. "3/Synced/ON".
galera_node_state() {
	galera_sql "$1" -e "SHOW GLOBAL STATUS WHERE Variable_name IN
		('wsrep_cluster_size', 'wsrep_local_state_comment', 'wsrep_ready')" 2>/dev/null |
		awk -F'\t' '{ v[$1] = $2 } END { printf "%s/%s/%s", v["wsrep_cluster_size"], v["wsrep_local_state_comment"], v["wsrep_ready"] }'
}

# galera_free_ports COUNT: COUNT distinct free loopback ports, one per line.
galera_free_ports() {
	local want=$1 got=() p i
	for i in $(seq 1 200); do
		p=$(free_port) || return 1
		[[ " ${got[*]} " == *" $p "* ]] && continue
		got+=("$p")
		[ ${#got[@]} -eq "$want" ] && break
	done
	[ ${#got[@]} -eq "$want" ] || return 1
	printf '%s\n' "${got[@]}"
}

# galera_write_cnf IDX: the option file of node IDX (0-based).
galera_write_cnf() {
	local i=$1 dir=${GALERA_DIRS[$1]} addr=() j
	for j in $(seq 0 $((GALERA_N - 1))); do addr+=("127.0.0.1:${GALERA_GCOMM[$j]}"); done
	# Small everything: three servers, sysbench and shunt share two cores.
	# The evs timeouts are raised because a node starved of CPU for a few
	# seconds must not be evicted from the cluster in the middle of a test.
	cat >"$dir/my.cnf" <<-CNF
		[mysqld]
		user = root
		datadir = $dir/data
		port = ${GALERA_PORTS[$i]}
		bind-address = 127.0.0.1
		socket = $dir/mysqld.sock
		pid-file = $dir/mysqld.pid
		log-error = $dir/mysqld.err
		skip-name-resolve
		max-connections = 500
		connect-timeout = 10
		binlog-format = ROW
		default-storage-engine = InnoDB
		innodb-autoinc-lock-mode = 2
		innodb-buffer-pool-size = 64M
		innodb-log-file-size = 32M
		innodb-log-buffer-size = 8M
		innodb-flush-log-at-trx-commit = 0
		innodb-doublewrite = 0
		key-buffer-size = 1M
		performance-schema = OFF
		wsrep-on = ON
		wsrep-provider = $GALERA_PROVIDER
		wsrep-cluster-name = shunt-e2e-$$
		wsrep-cluster-address = gcomm://$(IFS=,; echo "${addr[*]}")
		wsrep-node-name = node$((i + 1))
		wsrep-node-address = 127.0.0.1
		wsrep-node-incoming-address = 127.0.0.1:${GALERA_PORTS[$i]}
		wsrep-sst-method = rsync
		wsrep-sst-receive-address = 127.0.0.1:${GALERA_SST[$i]}
		wsrep-slave-threads = 2
		wsrep-provider-options = "base_host=127.0.0.1;base_port=${GALERA_GCOMM[$i]};gmcast.listen_addr=tcp://127.0.0.1:${GALERA_GCOMM[$i]};ist.recv_addr=127.0.0.1:${GALERA_IST[$i]};gcache.size=32M;evs.suspect_timeout=PT15S;evs.inactive_timeout=PT30S;evs.install_timeout=PT30S;pc.recovery=false"
	CNF
}

# galera_start_node IDX [--wsrep-new-cluster]: starts mariadbd of node IDX
# in a session of its own (setsid runs it in place: a child of a shell
# without job control is no group leader), so that its process group
# holds it and everything it starts. A watchdog, in a session of its own
# too, kills that group when this script dies without running its EXIT
# trap (a runner's SIGKILL after its timeout).
galera_start_node() {
	local i=$1 pid; shift
	setsid mariadbd --defaults-file="${GALERA_DIRS[$i]}/my.cnf" --user=root "$@" \
		>"${GALERA_DIRS[$i]}/stdout.log" 2>&1 </dev/null &
	pid=$!
	GALERA_PIDS[$i]=$pid
	setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -KILL -- "-$2"' \
		galera-watchdog "$$" "$pid" >/dev/null 2>&1 </dev/null &
	GALERA_WATCH[$i]=$!
}

# galera_wait_synced IDX SIZE: until node IDX is Synced in a primary
# component of SIZE nodes. Fails early when its mariadbd dies; sets
# GALERA_SKIP_REASON (with the log's last error lines) on failure.
galera_wait_synced() {
	local i=$1 size=$2 n=$(($1 + 1)) st k
	for k in $(seq 1 $((GALERA_TIMEOUT * 5))); do
		st=$(galera_node_state "$n")
		[ "$st" = "$size/Synced/ON" ] && return 0
		if ! kill -0 "${GALERA_PIDS[$i]}" 2>/dev/null; then
			GALERA_SKIP_REASON="node$n (mariadbd) exited before it was Synced: $(galera_log_errors "$i")"
			return 1
		fi
		sleep 0.2
	done
	GALERA_SKIP_REASON="node$n not Synced in a cluster of $size within $GALERA_TIMEOUT s (last state '$st'): $(galera_log_errors "$i")"
	return 1
}

# galera_log_errors IDX: the last error lines of node IDX's log, one line.
galera_log_errors() {
	grep -E '\[ERROR\]|WSREP: .*(fail|error|abort)' "${GALERA_DIRS[$1]}/mysqld.err" 2>/dev/null |
		tail -4 | sed 's/^[0-9-]* [0-9:]* [0-9]* //' | tr '\n' '|' | cut -c1-600
}

# galera_start: the whole cluster. Sets GALERA_PORTS, GALERA_SOCKS, ...
# Returns 1 with GALERA_SKIP_REASON set when it cannot be brought up.
galera_start() {
	local ports i t0=$SECONDS
	trap galera_exit_trap EXIT
	ports=($(galera_free_ports $((GALERA_N * 4)))) || {
		GALERA_SKIP_REASON="no free loopback ports"
		return 1
	}
	for i in $(seq 0 $((GALERA_N - 1))); do
		GALERA_PORTS[$i]=${ports[$i]}
		GALERA_GCOMM[$i]=${ports[$((GALERA_N + i))]}
		GALERA_IST[$i]=${ports[$((2 * GALERA_N + i))]}
		GALERA_SST[$i]=${ports[$((3 * GALERA_N + i))]}
		GALERA_DIRS[$i]=$E2E_TMP/galera/node$((i + 1))
		GALERA_SOCKS[$i]=${GALERA_DIRS[$i]}/mysqld.sock
		mkdir -p "${GALERA_DIRS[$i]}/data"
	done
	# The joiner's side of an rsync SST is an rsync daemon, which drops
	# root for 'nobody' (rsyncd.conf's default uid when started as root):
	# it must reach the joiners' empty datadirs, own them (it sets their
	# mode) and write in them. mariadbd, as root, uses the files as they
	# come.
	chmod 711 "$E2E_TMP" "$E2E_TMP/galera" "${GALERA_DIRS[@]}"
	for i in $(seq 1 $((GALERA_N - 1))); do
		chown nobody: "${GALERA_DIRS[$i]}/data" || {
			GALERA_SKIP_REASON="cannot chown the joiner datadirs to 'nobody' (the rsync SST daemon runs as nobody)"
			return 1
		}
	done
	for i in $(seq 0 $((GALERA_N - 1))); do
		galera_write_cnf "$i"
	done
	if ! mariadb-install-db --no-defaults --user=root --datadir="${GALERA_DIRS[0]}/data" \
		--auth-root-authentication-method=socket --skip-test-db \
		>"${GALERA_DIRS[0]}/install.log" 2>&1; then
		GALERA_SKIP_REASON="mariadb-install-db failed: $(tail -3 "${GALERA_DIRS[0]}/install.log" | tr '\n' '|')"
		return 1
	fi
	galera_start_node 0 --wsrep-new-cluster
	galera_wait_synced 0 1 || return 1
	info "galera node1 bootstrapped on 127.0.0.1:${GALERA_PORTS[0]} (gcomm ${GALERA_GCOMM[0]}) in $((SECONDS - t0)) s"
	galera_sql 1 <<-SQL || { GALERA_SKIP_REASON="could not create the test accounts on node1"; return 1; }
		CREATE DATABASE IF NOT EXISTS $E2E_DB;
		CREATE DATABASE IF NOT EXISTS sbtest;
		CREATE USER IF NOT EXISTS '$E2E_USER'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$E2E_PASS');
		CREATE USER IF NOT EXISTS '$E2E_USER'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$E2E_PASS');
		GRANT ALL ON *.* TO '$E2E_USER'@'%';
		GRANT ALL ON *.* TO '$E2E_USER'@'localhost';
	SQL
	# One joiner at a time: each takes a full SST from node1.
	for i in $(seq 1 $((GALERA_N - 1))); do
		galera_start_node "$i"
		galera_wait_synced "$i" $((i + 1)) || return 1
		info "galera node$((i + 1)) joined on 127.0.0.1:${GALERA_PORTS[$i]} (SST rsync) at $((SECONDS - t0)) s"
	done
	for i in $(seq 1 "$GALERA_N"); do
		galera_wait_synced $((i - 1)) "$GALERA_N" || return 1
	done
	info "galera cluster of $GALERA_N Synced in $((SECONDS - t0)) s: MySQL ports ${GALERA_PORTS[*]}"
	return 0
}

# galera_stop: every node, one at a time from the last (a node that leaves
# alone leaves at once; nodes that vanish together wait out each other's
# evs timeouts): SIGTERM, SIGKILL when it has not exited 15 s later, or
# when 30 s have passed in all. Then SIGKILL to each node's process group,
# which holds whatever it started (SST scripts, the rsync daemon) even
# when the node itself died first, and the end of its watchdog.
galera_stop() {
	local i pid k t0=$SECONDS
	for ((i = ${#GALERA_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${GALERA_PIDS[$i]}
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null
		for k in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			[ $((SECONDS - t0)) -ge 30 ] && break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "  $E2E_NAME: galera node$((i + 1)) (pid $pid) still running $((SECONDS - t0)) s after SIGTERM: SIGKILL" >&2
		fi
		kill -KILL -- "-$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		GALERA_PIDS[$i]=
	done
	for i in "${!GALERA_WATCH[@]}"; do
		pid=${GALERA_WATCH[$i]}
		[ -n "$pid" ] || continue
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		GALERA_WATCH[$i]=
	done
	return 0
}

# The EXIT trap once galera_start ran: shunt first (its sessions end
# cleanly, its log gets its final line), then the nodes, then lib.sh's
# cleanup with the script's exit status.
galera_exit_trap() {
	local rc=$?
	stop_spawned
	galera_stop
	_galera_return "$rc"
	e2e_cleanup
}
_galera_return() { return "$1"; }
