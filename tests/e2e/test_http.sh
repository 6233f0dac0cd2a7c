#!/usr/bin/env bash
# test_http.sh — the HTTP API (user/ctl/http.c) and build/shuntctl against it.
#
# Instance A (shunt_start --http, writes on, no http_token):
#   - access: shunt makes the token file (0600, 64 hex digits) at start;
#     without the token every /api/ endpoint answers 401 (reads included:
#     they list users and client addresses) and nothing changes; /metrics,
#     /healthz and /readyz need none; a Host header that is a name answers
#     403 (DNS rebinding), addresses and localhost pass; shuntctl reads the
#     token file by itself;
#   - with the token from here on:
#   - /healthz, /readyz, /api/backends, /api/stats, /api/tunnels answer
#     JSON; /metrics passes the strict promcheck.py with every family the
#     dashboards use, and its counters move: 5 logins -> sessions_total +5
#     (and logins_ok, per-backend totals, connect/login histograms), a
#     wrong password -> logins_failed_total{reason="access_denied"} 1, the
#     commands counted on the path that carries them (kernel or user);
#   - backends at runtime: POST a second address nobody listens on, new
#     logins still succeed (shunt retries on the next backend) while the
#     dead one collects connect failures and goes down (/api/backends,
#     shunt_backend_up 0); PATCH draining the live one -> /readyz 503 and
#     a new login finds no backend; back online -> 200; PATCH weight;
#     DELETE; 409 duplicate; 404 unknown;
#   - the error matrix: bad JSON, non-object, unknown member, wrong types,
#     out-of-range values, unknown paths (404), wrong methods (405 + Allow),
#     a body over 64 KiB (413), bad session ids;
#   - KILL of live sessions: {"query":true} interrupts SELECT SLEEP(20)
#     (ERROR 1317 at the client within ~1 s, the session runs its next
#     statement); without query the session is closed; unknown id -> 404;
#   - shuntctl -H: backends (table and -j), backend add/set/remove, stats,
#     kill, reload; exit 1 with the API's message on an HTTP error.
# Instance B (-c FILE with http_token): reads and writes get 401 +
# WWW-Authenticate without / with a wrong token and work with it (curl,
# shuntctl -T, SHUNT_HTTP_TOKEN); POST /api/reload applies a new backend
# and a new token from the file, refuses a listener change (409) and an
# invalid file (400).
# Instance C (http_write = off): every write endpoint answers 403.
. "$(dirname "$0")/lib.sh"
e2e_init http
mariadb_ensure

if is_direct; then
	skip http "E2E_DIRECT=1: the HTTP API is shunt's"
	e2e_finish
fi

SHUNTCTL=$E2E_ROOT/build/shuntctl
PROMCHECK=$E2E_ROOT/tests/e2e/promcheck.py
[ -x "$SHUNTCTL" ] || die "$SHUNTCTL is missing (make)" shuntctl

HTTP_PORT=$(free_port) || die "no free port for the HTTP API"
shunt_start --http "127.0.0.1:$HTTP_PORT"
wait_port "$HTTP_PORT" 5 "$SHUNT_PID" || die "the HTTP API does not listen on 127.0.0.1:$HTTP_PORT" start
A_PID=$SHUNT_PID
MYSQL_ADDR=127.0.0.1:$MYSQL_PORT
API=http://127.0.0.1:$HTTP_PORT

# ---------------------------------------------------------------- helpers

short() { tr '\n' ' ' <<<"$1" | cut -c1-"${2:-220}"; }

# api METHOD PATH [BODY [CURL ARGS...]]: one request to $API, with
# $API_TOKEN as its bearer token unless CURL ARGS give an Authorization.
# Sets CODE, RESP (the body) and HDRS (the headers, CR stripped). BODY
# "@FILE" sends the file.
api() {
	local m=$1 p=$2 body=${3-} args
	shift 2
	[ $# -gt 0 ] && shift
	args=(-sS -m 10 -X "$m" -D "$E2E_TMP/hdr" -o "$E2E_TMP/resp" -w '%{http_code}' -H 'Expect:')
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	# The instance's token, unless the call brings its own Authorization.
	[ -n "${API_TOKEN:-}" ] && [[ " $* " != *"Authorization:"* ]] &&
		args+=(-H "Authorization: Bearer $API_TOKEN")
	: >"$E2E_TMP/hdr"
	: >"$E2E_TMP/resp"
	CODE=$(curl "${args[@]}" "$@" "$API$p" 2>"$E2E_TMP/curl.err") ||
		CODE="curl-failed($(short "$(cat "$E2E_TMP/curl.err")" 80))"
	RESP=$(cat "$E2E_TMP/resp")
	HDRS=$(tr -d '\r' <"$E2E_TMP/hdr")
}

# jv EXPR: Python EXPR over d (the JSON of $RESP; JV_ARG in the
# environment as arg), printed bare if a string, else as JSON. Nothing and
# status 1 when RESP is not JSON or EXPR raises.
jv() {
	JV_ARG=${JV_ARG-} "$PY" -c '
import json, os, sys
try:
    d = json.loads(sys.stdin.read())
    r = eval(sys.argv[1], {"d": d, "arg": os.environ["JV_ARG"], "json": json})
except Exception:
    sys.exit(1)
print(r if isinstance(r, str) else json.dumps(r))' "$1" <<<"$RESP" 2>/dev/null
}

header() { sed -n "s/^$1: *//Ip" <<<"$HDRS" | head -1; }
is_json_reply() { header Content-Type | grep -qi '^application/json'; }

# expect NAME WHAT STATUS [PYCOND]: after api, PASS when the status is
# STATUS, the reply is JSON (Content-Type too) and PYCOND over d holds.
expect() {
	local name=$1 what=$2 want=$3 cond=${4:-True}
	if [ "$CODE" = "$want" ] && is_json_reply && [ "$(jv "bool($cond)")" = true ]; then
		pass "$name" "$what -> $CODE $(short "$RESP" 160)"
	else
		fail "$name" "$what: expected $want with $cond; got $CODE [$(header Content-Type)] $(short "$RESP")"
	fi
}

# expect_error NAME WHAT STATUS SUBSTRING: an error reply {"error": "..."}
# (nothing else) with STATUS whose message contains SUBSTRING.
expect_error() {
	JV_ARG=$4 expect "$1" "$2" "$3" "list(d) == ['error'] and isinstance(d['error'], str) and arg in d['error']"
}

# metrics_get: GET /metrics into $E2E_TMP/metrics.txt; MCODE is the status.
metrics_get() {
	MCODE=$(curl -sS -m 10 -D "$E2E_TMP/mhdr" -o "$E2E_TMP/metrics.txt" -w '%{http_code}' "$API/metrics")
}
# mval SELECTOR: the value of one sample of the last metrics_get (nothing
# when absent or when the document is invalid).
mval() {
	"$PY" "$PROMCHECK" "$E2E_TMP/metrics.txt" --print-value "$1" 2>/dev/null |
		head -1 | grep -E '^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$'
}
# num_cmp A OP B: float comparison (awk); false when A or B is empty.
num_cmp() {
	[ -n "$1" ] && [ -n "$3" ] && awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		r = op == "==" ? a + 0 == b + 0 : op == ">=" ? a + 0 >= b + 0 : op == ">" ? a + 0 > b + 0 :
		    op == "<=" ? a + 0 <= b + 0 : op == "<" ? a + 0 < b + 0 : 0
		exit !r }'
}

# backend_field ADDR FIELD: FIELD of ADDR in GET /api/backends (JSON).
backend_field() {
	local save_code=$CODE save_resp=$RESP save_hdrs=$HDRS out
	api GET /api/backends
	out=$(JV_ARG=$1 jv "[b for b in d['backends'] if b['address'] == arg][0]['$2']")
	CODE=$save_code RESP=$save_resp HDRS=$save_hdrs
	echo "$out"
}

login_select() {  # login_select PORT: SELECT 1 through shunt; prints the output
	cli "$1" -N -B -e 'SELECT 1' 2>&1 </dev/null
}

# ctl ARGS...: build/shuntctl; sets CTL_RC, CTL_OUT, CTL_ERR.
ctl() {
	CTL_OUT=$("$SHUNTCTL" "$@" 2>"$E2E_TMP/ctl.err" </dev/null)
	CTL_RC=$?
	CTL_ERR=$(cat "$E2E_TMP/ctl.err")
}

# bg_sql FILE SQL: the mariadb CLI through shunt A in the background, with
# --force (go on after an error), SQL on stdin; stdout+stderr in FILE.
# Sets BG_PID.
bg_sql() {
	printf '%s\n' "$2" | mariadb --no-defaults -h127.0.0.1 -P"$SHUNT_PORT" -u"$E2E_USER" \
		-p"$E2E_PASS" --force -N -B >"$1" 2>&1 &
	BG_PID=$!
	bg_track "$BG_PID"
}

# The one established tunnel of user $E2E_USER in GET /api/tunnels (sets
# TUN_ID, TUN_JSON; false unless exactly one).
one_tunnel() {
	api GET /api/tunnels
	TUN_JSON=$(JV_ARG=$E2E_USER jv "[t for t in d['tunnels'] if t['user'] == arg and t['state'] == 'established']")
	TUN_ID=$(RESP=$TUN_JSON jv "d[0]['id'] if len(d) == 1 else None")
	[ -n "$TUN_ID" ] && [ "$TUN_ID" != null ]
}

exited() { ! kill -0 "$1" 2>/dev/null; }
sleep_running() { [ "$(backend_sessions "$E2E_USER" "SLEEP($1)")" -ge 1 ]; }
sleep_gone() { [ "$(backend_sessions "$E2E_USER" "SLEEP(2")" = 0 ]; }

FASTPATH=${E2E_FASTPATH:-auto}

# ---------------------------------------------------------------- access (instance A)

A_TOKEN_FILE=$SHUNT_TOKEN_FILE
tok=$(cat "$A_TOKEN_FILE" 2>/dev/null)
mode=$(stat -c %a "$A_TOKEN_FILE" 2>/dev/null)
check token_file_made "instance A made $A_TOKEN_FILE: mode $mode, ${#tok} characters" \
	eval '[ "$mode" = 600 ] && [[ $tok =~ ^[0-9a-f]{64}$ ]]'
API_TOKEN=
n=0
for ep in "GET /api/backends" "GET /api/tunnels" "GET /api/stats"; do
	n=$((n + 1))
	api ${ep% *} "${ep#* }"
	expect_error "no_token_read_$n" "$ep without the token" 401 "Authorization: Bearer"
done
api POST /api/backends '{"address":"127.0.0.1:9"}'
expect_error no_token_write "POST /api/backends without the token" 401 "Authorization: Bearer"
api GET /api/backends "" -H "Authorization: Bearer ${tok}0"
expect_error wrong_token_read "GET /api/backends with a wrong token" 401 "Authorization: Bearer"
API_TOKEN=$tok
api GET /api/backends
expect no_token_nothing_added "GET /api/backends with the token: the refused POST added nothing" 200 \
	"[b['address'] for b in d['backends']] == ['$MYSQL_ADDR']"
open_code() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$@"; }
c1=$(open_code "$API/metrics") c2=$(open_code "$API/healthz") c3=$(open_code "$API/readyz")
check open_without_token "without the token: /metrics $c1, /healthz $c2, /readyz $c3" [ "$c1$c2$c3" = 200200200 ]
h1=$(open_code -H "Authorization: Bearer $tok" -H "Host: evil.example:$HTTP_PORT" "$API/api/tunnels")
h2=$(open_code -H "Host: rebind.127.0.0.1.nip.io" "$API/metrics")
h3=$(open_code -H "Authorization: Bearer $tok" -H "Host: localhost:$HTTP_PORT" "$API/api/tunnels")
h4=$(open_code -H "Authorization: Bearer $tok" -H "Host: [::1]:$HTTP_PORT" "$API/api/tunnels")
check host_checked "Host evil.example -> $h1, a rebinding name on /metrics -> $h2; localhost -> $h3, [::1] -> $h4" \
	[ "$h1$h2$h3$h4" = 403403200200 ]
CTL_OUT=$(SHUNT_HTTP_TOKEN_FILE=$A_TOKEN_FILE "$SHUNTCTL" -H "127.0.0.1:$HTTP_PORT" backends 2>&1); CTL_RC=$?
check shuntctl_reads_token_file "shuntctl with SHUNT_HTTP_TOKEN_FILE and no -T -> rc $CTL_RC" \
	eval '[ "$CTL_RC" = 0 ] && grep -q "$MYSQL_ADDR" <<<"$CTL_OUT"'
export SHUNT_HTTP_TOKEN_FILE=$A_TOKEN_FILE    # shuntctl for instance A from here on

# ---------------------------------------------------------------- basics

api GET /healthz
expect healthz "GET /healthz" 200 "d == {'status': 'ok'}"
api GET /readyz
expect readyz "GET /readyz" 200 "d == {'ready': True, 'reasons': []}"
api GET /api/backends
expect backends_list "GET /api/backends (one backend from --backend)" 200 \
	"len(d['backends']) == 1 and d['backends'][0]['address'] == '$MYSQL_ADDR' and d['backends'][0]['pool'] == 'default' and d['backends'][0]['state'] == 'online' and d['backends'][0]['health'] == 'up' and d['backends'][0]['weight'] == 1"
api GET /api/tunnels
expect tunnels_empty "GET /api/tunnels before any client" 200 "d == {'tunnels': []}"
api GET /api/stats
expect stats "GET /api/stats" 200 \
	"all(isinstance(v, int) for v in d['stats'].values()) and d['stats']['sessions_total'] == 0 and 'uptime_s' in d['stats'] and 'logins_failed_access_denied' in d['stats']"

REQUIRED=(shunt_sessions shunt_sessions_total shunt_logins_failed_total shunt_backend_sessions
	shunt_backend_connect_seconds shunt_backend_login_seconds shunt_commands_total
	shunt_bytes_total shunt_kernel_command_latency_seconds shunt_established_sessions
	shunt_fastpath_fallbacks_total shunt_punts_total shunt_backend_up shunt_backend_state
	shunt_migrations_total shunt_migration_duration_seconds shunt_migration_held_seconds
	shunt_sticky_sessions shunt_migrating_sessions)
promcheck_required() {  # promcheck_required NAME: the last metrics_get is valid, with every family
	local args=() f out
	for f in "${REQUIRED[@]}"; do args+=(--require "$f"); done
	if out=$("$PY" "$PROMCHECK" "${args[@]}" "$E2E_TMP/metrics.txt" 2>&1) && [ "$MCODE" = 200 ]; then
		pass "$1" "GET /metrics -> $MCODE, promcheck: $out, ${#REQUIRED[@]} required families present"
	else
		fail "$1" "GET /metrics -> $MCODE; promcheck: $(short "$out" 600)"
	fi
}
metrics_get
promcheck_required metrics_valid
ctype=$(sed -n 's/^content-type: *//Ip' "$E2E_TMP/mhdr" | tr -d '\r')
check metrics_content_type "Content-Type: $ctype" grep -q '^text/plain; version=0.0.4' <<<"$ctype"
S0=$(mval 'shunt_sessions_total{listener="default"}')
L0=$(mval 'shunt_logins_ok_total')
B0=$(mval "shunt_backend_sessions_total{pool=\"default\",backend=\"$MYSQL_ADDR\"}")
C0=$(mval "shunt_backend_connect_seconds_count{pool=\"default\",backend=\"$MYSQL_ADDR\"}")
G0=$(mval "shunt_backend_login_seconds_count{pool=\"default\",backend=\"$MYSQL_ADDR\"}")
check metrics_baseline "before any client: sessions_total=$S0 logins_ok=$L0 backend total=$B0 connect count=$C0 login count=$G0" \
	[ "$S0" = 0 -a "$L0" = 0 -a "$B0" = 0 -a "$C0" = 0 -a "$G0" = 0 ]
bi_fp=$(grep -o '^shunt_build_info{[^}]*}' "$E2E_TMP/metrics.txt" | sed -n 's/.*fastpath="\([^"]*\)".*/\1/p')
case $FASTPATH in
on) check build_info "shunt_build_info fastpath=\"$bi_fp\" (--fastpath on: the attachment kind)" \
	eval '[ "$bi_fp" = verdict ] || [ "$bi_fp" = stream_parser ]' ;;
off) check build_info "shunt_build_info fastpath=\"$bi_fp\" (--fastpath off)" [ "$bi_fp" = off ] ;;
*) skip build_info "E2E_FASTPATH='$FASTPATH': whether the fast path is on depends on the kernel" ;;
esac

# ---------------------------------------------------------------- counters move

n_ok=0
for _ in 1 2 3 4 5; do
	[ "$(login_select "$SHUNT_PORT")" = 1 ] && n_ok=$((n_ok + 1))
done
check logins "5 x mariadb -e 'SELECT 1' through shunt: $n_ok answered 1" [ "$n_ok" = 5 ]
sessions_zero() { metrics_get; [ "$(mval 'shunt_sessions{listener="default"}')" = 0 ]; }
wait_until 5 sessions_zero
metrics_get
S1=$(mval 'shunt_sessions_total{listener="default"}')
L1=$(mval 'shunt_logins_ok_total')
B1=$(mval "shunt_backend_sessions_total{pool=\"default\",backend=\"$MYSQL_ADDR\"}")
C1=$(mval "shunt_backend_connect_seconds_count{pool=\"default\",backend=\"$MYSQL_ADDR\"}")
G1=$(mval "shunt_backend_login_seconds_count{pool=\"default\",backend=\"$MYSQL_ADDR\"}")
NOW=$(mval 'shunt_sessions{listener="default"}')
check metrics_sessions_total "shunt_sessions_total{listener=\"default\"} $S0 -> $S1 after 5 logins" num_cmp "$S1" == $((S0 + 5))
check metrics_logins_ok "shunt_logins_ok_total $L0 -> $L1" num_cmp "$L1" == $((L0 + 5))
check metrics_backend_total "shunt_backend_sessions_total{backend=\"$MYSQL_ADDR\"} $B0 -> $B1" num_cmp "$B1" == $((B0 + 5))
check metrics_connect_hist "shunt_backend_connect_seconds_count $C0 -> $C1, login_seconds_count $G0 -> $G1" \
	[ "$C1" = $((C0 + 5)) -a "$G1" = $((G0 + 5)) ]
check metrics_sessions_gauge "shunt_sessions{listener=\"default\"} back to $NOW once the clients left" [ "$NOW" = 0 ]
kcmd=$(mval 'shunt_commands_total{path="kernel"}')
ucmd=$(mval 'shunt_commands_total{path="user"}')
kcnt=$(mval 'shunt_kernel_command_latency_seconds_count')
kest=$(mval 'shunt_established_sessions_total{mode="kernel"}')
uest=$(mval 'shunt_established_sessions_total{mode="user"}')
fpa=$(mval 'shunt_fastpath_active')
case $FASTPATH in
on)
	check metrics_kernel_commands "fast path on: commands kernel=$kcmd user=$ucmd, kernel latency count=$kcnt, established kernel=$kest user=$uest, fastpath_active=$fpa" \
		eval 'num_cmp "$kcmd" ">=" 5 && num_cmp "$kcnt" ">=" 5 && [ "$ucmd" = 0 -a "$kest" = 5 -a "$uest" = 0 -a "$fpa" = 1 ]' ;;
off)
	check metrics_user_commands "fast path off: commands user=$ucmd kernel=$kcmd, kernel latency count=$kcnt, established user=$uest kernel=$kest, fastpath_active=$fpa" \
		eval 'num_cmp "$ucmd" ">=" 5 && [ "$kcmd" = 0 -a "$kcnt" = 0 -a "$uest" = 5 -a "$kest" = 0 -a "$fpa" = 0 ]' ;;
*)
	check metrics_commands "fast path $FASTPATH (active=$fpa): commands kernel=$kcmd user=$ucmd" \
		eval 'num_cmp "$kcmd" ">" 0 || num_cmp "$ucmd" ">" 0' ;;
esac
api GET /api/stats
expect stats_moved "GET /api/stats after 5 logins" 200 \
	"d['stats']['sessions_total'] == 5 and d['stats']['logins_ok'] == 5 and d['stats']['established'] == 5 and d['stats']['sessions_now'] == 0"
api GET /api/backends
expect backends_moved "GET /api/backends after 5 logins" 200 \
	"d['backends'][0]['sessions_total'] == 5 and d['backends'][0]['sessions'] == 0 and d['backends'][0]['connect_failures'] == 0"

out=$(mariadb --no-defaults -h127.0.0.1 -P"$SHUNT_PORT" -u"$E2E_USER" -p"${E2E_PASS}x" -e 'SELECT 1' 2>&1 </dev/null)
case $out in
"ERROR 1045 (28000)"*) pass wrong_password "a wrong password through shunt -> '$out'" ;;
*) fail wrong_password "expected ERROR 1045 (28000), got '$out'" ;;
esac
metrics_get
ad=$(mval 'shunt_logins_failed_total{reason="access_denied"}')
other=$(grep '^shunt_logins_failed_total{' "$E2E_TMP/metrics.txt" | grep -v access_denied | awk '{ s += $2 } END { print s + 0 }')
check metrics_access_denied "shunt_logins_failed_total{reason=\"access_denied\"} $ad, other reasons $other" \
	[ "$ad" = 1 -a "$other" = 0 ]

# ---------------------------------------------------------------- backends at runtime

DEAD_PORT=$(free_port) || die "no free port"
DEAD=127.0.0.1:$DEAD_PORT
api POST /api/backends "{\"address\":\"$DEAD\",\"pool\":\"default\",\"weight\":1}"
expect backend_post "POST /api/backends $DEAD (nobody listens)" 201 \
	"len(d['backends']) == 1 and d['backends'][0]['address'] == '$DEAD' and d['backends'][0]['pool'] == 'default' and d['backends'][0]['state'] == 'online' and d['backends'][0]['weight'] == 1 and d['backends'][0]['sessions_total'] == 0"
api GET /api/backends
expect backend_post_listed "GET /api/backends shows it" 200 \
	"sorted(b['address'] for b in d['backends']) == sorted(['$MYSQL_ADDR', '$DEAD'])"
api POST /api/backends "{\"address\":\"$DEAD\"}"
expect_error backend_post_duplicate "POST /api/backends $DEAD again" 409 "already in pool default"

# New sessions: the dead backend (fewest sessions ever) is tried first,
# each login fails over to MariaDB, and after 3 failures it is down.
n=0 n_ok=0
dead_down() { [ "$(backend_field "$DEAD" health)" = down ]; }
while [ $n -lt 8 ] && ! dead_down; do
	n=$((n + 1))
	[ "$(login_select "$SHUNT_PORT")" = 1 ] && n_ok=$((n_ok + 1))
done
check failover_logins "$n logins with $DEAD in the pool: $n_ok answered (shunt retried on $MYSQL_ADDR)" \
	[ "$n_ok" = "$n" -a "$n" -ge 3 ]
api GET /api/backends
expect backend_dead_health "GET /api/backends: $DEAD after $n logins" 200 \
	"[(b['state'], b['admin_state'], b['health']) for b in d['backends'] if b['address'] == '$DEAD'] == [('down', 'online', 'down')] and [b for b in d['backends'] if b['address'] == '$DEAD'][0]['connect_failures'] >= 3 and [b for b in d['backends'] if b['address'] == '$DEAD'][0]['consecutive_failures'] >= 3 and 'connect' in [b for b in d['backends'] if b['address'] == '$DEAD'][0]['health_error'] and [b for b in d['backends'] if b['address'] == '$DEAD'][0]['health_checked_at'].endswith('Z')"
expect backend_live_health "GET /api/backends: $MYSQL_ADDR still up" 200 \
	"[(b['state'], b['health'], b['connect_failures'], b['sessions_total']) for b in d['backends'] if b['address'] == '$MYSQL_ADDR'] == [('online', 'up', 0, 5 + $n)]"
metrics_get
up_dead=$(mval "shunt_backend_up{pool=\"default\",backend=\"$DEAD\"}")
up_live=$(mval "shunt_backend_up{pool=\"default\",backend=\"$MYSQL_ADDR\"}")
cf_dead=$(mval "shunt_backend_connect_failures_total{pool=\"default\",backend=\"$DEAD\"}")
check metrics_backend_up "shunt_backend_up dead=$up_dead live=$up_live, connect_failures_total dead=$cf_dead" \
	eval '[ "$up_dead" = 0 -a "$up_live" = 1 ] && num_cmp "$cf_dead" ">=" 3'
promcheck_required metrics_valid_two_backends
api GET /readyz
expect readyz_one_down "GET /readyz with $DEAD down and $MYSQL_ADDR up" 200 "d['ready'] is True"

api PATCH "/api/backends/$MYSQL_ADDR" '{"state":"draining"}'
expect backend_patch_draining "PATCH $MYSQL_ADDR {state: draining}" 200 \
	"[(b['address'], b['state'], b['admin_state']) for b in d['backends']] == [('$MYSQL_ADDR', 'draining', 'draining')]"
api GET /api/backends
# A draining backend with no sessions left is drained at once: the
# balancer turns it offline within a tick (docs/migration.md).
expect backend_draining_listed "GET /api/backends shows draining (or drained: offline)" 200 \
	"[b['state'] in ('draining', 'offline') for b in d['backends'] if b['address'] == '$MYSQL_ADDR'] == [True]"
metrics_get
st_dr=$(mval "shunt_backend_state{pool=\"default\",backend=\"$MYSQL_ADDR\",state=\"draining\"}")
st_off=$(mval "shunt_backend_state{pool=\"default\",backend=\"$MYSQL_ADDR\",state=\"offline\"}")
st_on=$(mval "shunt_backend_state{pool=\"default\",backend=\"$MYSQL_ADDR\",state=\"online\"}")
check metrics_backend_state "shunt_backend_state{$MYSQL_ADDR} draining=$st_dr offline=$st_off online=$st_on" \
	[ "$st_on" = 0 -a \( "$st_dr" = 1 -o "$st_off" = 1 \) ]
api GET /readyz
expect readyz_not_ready "GET /readyz: the only up backend draining" 503 \
	"d['ready'] is False and d['reasons'] == ['listener default: pool default has no online backend that is up']"
out=$(login_select "$SHUNT_PORT")
case $out in
*"no backend available in pool 'default'"*) pass draining_no_route "a login with $MYSQL_ADDR draining and $DEAD down -> '$(short "$out" 120)'" ;;
*) fail draining_no_route "expected 'no backend available', got '$(short "$out")'" ;;
esac
api PATCH "/api/backends/$MYSQL_ADDR?pool=default" '{"state":"online"}'
expect backend_patch_online "PATCH $MYSQL_ADDR?pool=default {state: online}" 200 \
	"[(b['state'], b['admin_state']) for b in d['backends']] == [('online', 'online')]"
api GET /readyz
expect readyz_again "GET /readyz after back online" 200 "d == {'ready': True, 'reasons': []}"
check login_after_online "a login after $MYSQL_ADDR is back online" [ "$(login_select "$SHUNT_PORT")" = 1 ]

api PATCH "/api/backends/$DEAD" '{"weight":7}'
expect backend_patch_weight "PATCH $DEAD {weight: 7}" 200 \
	"[(b['address'], b['weight']) for b in d['backends']] == [('$DEAD', 7)]"
metrics_get
w=$(mval "shunt_backend_weight{pool=\"default\",backend=\"$DEAD\"}")
check metrics_backend_weight "shunt_backend_weight{$DEAD} $w" [ "$w" = 7 ]
api DELETE "/api/backends/$DEAD"
expect backend_delete "DELETE /api/backends/$DEAD" 200 "d == {'removed': '$DEAD'}"
api GET /api/backends
expect backend_deleted_gone "GET /api/backends after DELETE" 200 \
	"[b['address'] for b in d['backends']] == ['$MYSQL_ADDR']"
metrics_get
check metrics_backend_removed "no shunt_backend_up sample for $DEAD any more" \
	eval '[ -z "$(mval "shunt_backend_up{pool=\"default\",backend=\"$DEAD\"}")" ] && [ -n "$(mval "shunt_backend_up{pool=\"default\",backend=\"$MYSQL_ADDR\"}")" ]'
api DELETE "/api/backends/$DEAD"
expect_error backend_delete_unknown "DELETE /api/backends/$DEAD again" 404 "no backend $DEAD"
api PATCH "/api/backends/$DEAD" '{"state":"online"}'
expect_error backend_patch_unknown "PATCH /api/backends/$DEAD (gone)" 404 "no backend $DEAD"
api PATCH "/api/backends/$MYSQL_ADDR?pool=nopool" '{"weight":2}'
expect_error backend_patch_unknown_pool "PATCH ?pool=nopool" 404 "no pool 'nopool'"
api POST /api/backends '{"address":"127.0.0.1:9","pool":"nopool"}'
expect_error backend_post_unknown_pool "POST pool nopool" 404 "no pool 'nopool'"
# an IPv6 address, URL-encoded in the path
api POST /api/backends '{"address":"[::1]:9"}'
expect backend_post_v6 "POST [::1]:9" 201 "d['backends'][0]['address'] == '[::1]:9'"
api DELETE "/api/backends/%5B%3A%3A1%5D%3A9"
expect backend_delete_v6 "DELETE /api/backends/%5B%3A%3A1%5D%3A9" 200 "d == {'removed': '[::1]:9'}"

# ---------------------------------------------------------------- error matrix

api POST /api/backends '{"address": "127.0.0.1:9",'
expect_error bad_json "POST truncated JSON" 400 "invalid JSON"
api POST /api/backends '{"address":"127.0.0.1:9"} trailing'
expect_error bad_json_trailing "POST JSON with trailing garbage" 400 "invalid JSON"
api PATCH "/api/backends/$MYSQL_ADDR" 'state=online'
expect_error bad_json_form "PATCH a form body" 400 "invalid JSON"
api POST /api/backends '[1]'
expect_error non_object_array "POST body [1]" 400 "expected a JSON object"
# JSON scalars: jansson's parser (no JSON_DECODE_ANY) already refuses them.
for body in '"x"' '42' 'null'; do
	api POST /api/backends "$body"
	expect "non_object_$(tr -dc 'a-z0-9' <<<"$body" | head -c 8)" "POST body $body" 400 \
		"list(d) == ['error'] and ('expected a JSON object' in d['error'] or \"'[' or '{' expected\" in d['error'])"
done
api POST /api/tunnels/1/kill '[true]'
expect_error non_object_kill "POST kill body [true]" 400 "expected a JSON object"
api POST /api/backends '{"address":"127.0.0.1:9","bogus":1}'
expect_error unknown_member_post "POST with member bogus" 400 "unknown member 'bogus'"
api PATCH "/api/backends/$MYSQL_ADDR" '{"state":"online","Weight":2}'
expect_error unknown_member_patch "PATCH with member Weight" 400 "unknown member 'Weight'"
api POST /api/tunnels/1/kill '{"query":true,"now":1}'
expect_error unknown_member_kill "POST kill with member now" 400 "unknown member 'now'"
api POST /api/backends '{"address":9}'
expect_error type_address "POST address 9" 400 "'address' must be a string"
api POST /api/backends '{"address":"127.0.0.1:9","pool":["default"]}'
expect_error type_pool "POST pool [..]" 400 "'pool' must be a string"
for wv in '"2"' '1.5' 'true' '0' '1001' '-1'; do
	api POST /api/backends "{\"address\":\"127.0.0.1:9\",\"weight\":$wv}"
	expect_error "bad_weight_post_$(tr -dc 'a-z0-9' <<<"$wv")" "POST weight $wv" 400 "'weight' must be an integer from 1 to 1000"
done
api PATCH "/api/backends/$MYSQL_ADDR" '{"weight":0}'
expect_error bad_weight_patch "PATCH weight 0" 400 "'weight' must be an integer from 1 to 1000"
api PATCH "/api/backends/$MYSQL_ADDR" '{"state":1}'
expect_error type_state "PATCH state 1" 400 "'state' must be a string"
api PATCH "/api/backends/$MYSQL_ADDR" '{"state":"asleep"}'
expect_error bad_state "PATCH state asleep" 400 "'state' must be online, draining or offline"
api PATCH "/api/backends/$MYSQL_ADDR" '{}'
expect_error patch_nothing "PATCH {}" 400 "nothing to change"
api POST /api/backends '{}'
expect_error post_no_address "POST {}" 400 "'address' (HOST:PORT) is required"
api POST /api/backends '{"address":"no-port-here"}'
expect_error post_bad_address "POST address no-port-here" 400 "expected HOST:PORT"
api POST /api/tunnels/1/kill '{"query":"yes"}'
expect_error type_query "POST kill query \"yes\"" 400 "'query' must be true or false"
for id in abc 0 4294967296 -1 1x; do
	api POST "/api/tunnels/$id/kill"
	expect_error "bad_id_$(tr -dc 'a-z0-9' <<<"$id")" "POST /api/tunnels/$id/kill" 400 "is not a session id"
done
api POST /api/tunnels/999999/kill '{"query":true}'
expect_error kill_unknown "POST /api/tunnels/999999/kill" 404 "Unknown thread id: 999999"
api GET /api/backends
check errors_changed_nothing "after the error matrix: backends $(jv "[(b['address'], b['state'], b['weight']) for b in d['backends']]")" \
	[ "$(jv "[(b['address'], b['state'], b['weight']) for b in d['backends']] == [('$MYSQL_ADDR', 'online', 1)]")" = true ]

for p in /nope /api /api/ /api/backend /api/backends/ /api/tunnels/1 /api/stats/x /metrics/ /healthz/x; do
	api GET "$p"
	expect_error "not_found$(tr '/' '_' <<<"$p" | tr -dc 'a-z_' | head -c 24)" "GET $p" 404 "no such endpoint: $p"
done
# method, path, Allow
while read -r m p allow; do
	api "$m" "$p" '{}'
	a=$(header Allow)
	if [ "$CODE" = 405 ] && [ "$a" = "${allow//_/ }" ] && is_json_reply &&
		[ "$(JV_ARG="method $m not allowed" jv "arg in d['error']")" = true ]; then
		pass "method_${m}_$(tr -dc 'a-z' <<<"$p" | head -c 20)" "$m $p -> 405, Allow: $a"
	else
		fail "method_${m}_$(tr -dc 'a-z' <<<"$p" | head -c 20)" "$m $p: expected 405 with Allow: ${allow//_/ }; got $CODE, Allow: '$a', $(short "$RESP")"
	fi
done <<LIST
POST /metrics GET
DELETE /healthz GET
PUT /readyz GET
PUT /api/backends GET,_POST
DELETE /api/backends GET,_POST
GET /api/backends/$MYSQL_ADDR PATCH,_DELETE
POST /api/backends/$MYSQL_ADDR PATCH,_DELETE
POST /api/tunnels GET
GET /api/tunnels/1/kill POST
PATCH /api/stats GET
GET /api/reload POST
LIST

# A body over 64 KiB: refused by evhttp before shunt sees it; the API
# serves the next request.
"$PY" -c 'import json; print(json.dumps({"address": "127.0.0.1:9", "pool": "p" * 70000}))' >"$E2E_TMP/big.json"
"$PY" -c 'import json; print(json.dumps({"address": "127.0.0.1:9", "pool": "p" * 60000}))' >"$E2E_TMP/big60.json"
api POST /api/backends "@$E2E_TMP/big.json"
check body_too_large "POST a $(stat -c %s "$E2E_TMP/big.json")-byte body -> $CODE" [ "$CODE" = 413 ]
api POST /api/backends "@$E2E_TMP/big60.json"
expect_error body_60k "POST a $(stat -c %s "$E2E_TMP/big60.json")-byte body (under the limit, parsed)" 404 "no pool 'ppp"
api GET /healthz
expect after_413 "GET /healthz after the 413" 200 "d == {'status': 'ok'}"

# ---------------------------------------------------------------- kill

# KILL QUERY: the running SELECT SLEEP(20) ends with 1317, the session
# then runs its next statement.
bg_sql "$E2E_TMP/kq.out" $'SELECT SLEEP(20);\nSELECT 6*7;'
KQ_PID=$BG_PID
if wait_until 10 sleep_running 20 && one_tunnel; then
	pass tunnel_listed "GET /api/tunnels: $(short "$TUN_JSON" 400)"
	id=$TUN_ID
	want_mode=
	case $FASTPATH in on) want_mode=kernel ;; off) want_mode=user ;; esac
	RESP=$TUN_JSON
	check tunnel_fields "tunnel $id: user, backend $MYSQL_ADDR, backend thread id, mode ${want_mode:-any}, commands >= 1" \
		[ "$(jv "d[0]['backend'] == '$MYSQL_ADDR' and d[0]['backend_thread_id'] > 0 and d[0]['client'].startswith('127.0.0.1:') and d[0]['commands'] >= 1 and d[0]['mode'] in ('kernel', 'user') and ('$want_mode' == '' or d[0]['mode'] == '$want_mode')")" = true ]
	if [ "$FASTPATH" = on ]; then
		ctl -p "/sys/fs/bpf/shunt-e2e-$$-0" -j tunnels
		RESP=$CTL_OUT
		check shuntctl_tunnels_map "shuntctl -p PIN -j tunnels (the BPF map) lists conn $id: rc $CTL_RC" \
			[ "$CTL_RC" = 0 -a "$(jv "$id in [t.get('conn_id') for t in d]")" = true ]
	fi
	t0=$(date +%s%N)
	api POST "/api/tunnels/$id/kill" '{"query":true}'
	expect kill_query "POST /api/tunnels/$id/kill {query: true}" 200 "d == {'killed': $id, 'query': True}"
	wait_until 5 exited "$KQ_PID"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	out=$(cat "$E2E_TMP/kq.out")
	check kill_query_client "client: '$(short "$out")' ${ms} ms after the kill" \
		eval 'exited "$KQ_PID" && [ "$ms" -lt 2000 ] && grep -q "^ERROR 1317 (70100)" <<<"$out" && grep -qx 42 <<<"$out"'
else
	fail tunnel_listed "no single established tunnel for the SLEEP session: $(short "$RESP" 400)"
fi

# KILL (the session): the client loses its connection, the tunnel goes.
bg_sql "$E2E_TMP/kc.out" 'SELECT SLEEP(21);'
KC_PID=$BG_PID
if wait_until 10 sleep_running 21 && one_tunnel; then
	id=$TUN_ID
	t0=$(date +%s%N)
	api POST "/api/tunnels/$id/kill"
	expect kill_session "POST /api/tunnels/$id/kill (no body)" 200 "d == {'killed': $id, 'query': False}"
	wait_until 5 exited "$KC_PID"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	out=$(cat "$E2E_TMP/kc.out")
	check kill_session_client "client: '$(short "$out")' ${ms} ms after the kill" \
		eval 'exited "$KC_PID" && [ "$ms" -lt 2000 ] && grep -q "^ERROR 20[01][0-9]" <<<"$out"'
	api GET /api/tunnels
	expect kill_session_gone "GET /api/tunnels after killing $id" 200 "$id not in [t['id'] for t in d['tunnels']]"
else
	fail kill_session "no single established tunnel for the SLEEP session: $(short "$RESP" 400)"
fi

# shuntctl kill (the session, -j) of a third one
bg_sql "$E2E_TMP/ks.out" 'SELECT SLEEP(22);'
KS_PID=$BG_PID
if wait_until 10 sleep_running 22 && one_tunnel; then
	id=$TUN_ID
	ctl -H "127.0.0.1:$HTTP_PORT" -j kill "$id"
	RESP=$CTL_OUT
	check shuntctl_kill_json "shuntctl -j kill $id -> rc $CTL_RC: $(short "$CTL_OUT")" \
		[ "$CTL_RC" = 0 -a "$(jv "d == {'killed': $id, 'query': False}")" = true ]
	wait_until 5 exited "$KS_PID"
	check shuntctl_kill_client "client after shuntctl kill: '$(short "$(cat "$E2E_TMP/ks.out")")'" \
		eval 'exited "$KS_PID" && grep -q "^ERROR 20[01][0-9]" "$E2E_TMP/ks.out"'
else
	fail shuntctl_kill_json "no single established tunnel for the SLEEP session"
fi
ctl -H "127.0.0.1:$HTTP_PORT" kill --query 999999
check shuntctl_kill_unknown "shuntctl kill --query 999999 -> rc $CTL_RC, stderr '$CTL_ERR'" \
	eval '[ "$CTL_RC" = 1 ] && grep -q "HTTP 404: Unknown thread id: 999999" <<<"$CTL_ERR"'
metrics_get
kok=$(mval 'shunt_kills_total{outcome="ok"}')
kerr=$(mval 'shunt_kills_total{outcome="error"}')
check metrics_kills "shunt_kills_total ok=$kok error=$kerr (3 kills of live sessions; 2 unknown ids)" \
	[ "$kok" = 3 -a "$kerr" = 2 ]

# ---------------------------------------------------------------- shuntctl

CTL=(-H "127.0.0.1:$HTTP_PORT")
ctl "${CTL[@]}" backends
check shuntctl_backends "shuntctl backends -> rc $CTL_RC: $(short "$CTL_OUT")" \
	eval '[ "$CTL_RC" = 0 ] && head -1 <<<"$CTL_OUT" | grep -q "^POOL  *ADDRESS  *WEIGHT  *STATE  *HEALTH" &&
		grep -q "^default  *$MYSQL_ADDR  *1  *online  *up " <<<"$CTL_OUT"'
ctl "${CTL[@]}" -j backends
RESP=$CTL_OUT
check shuntctl_backends_json "shuntctl -j backends -> rc $CTL_RC, addresses $(jv "[b['address'] for b in d['backends']]")" \
	[ "$CTL_RC" = 0 -a "$(jv "[b['address'] for b in d['backends']] == ['$MYSQL_ADDR']")" = true ]
CTL_DEAD=127.0.0.1:$(free_port)
ctl "${CTL[@]}" backend add "$CTL_DEAD" weight 3
api GET /api/backends
check shuntctl_backend_add "shuntctl backend add $CTL_DEAD weight 3 -> rc $CTL_RC '$CTL_OUT'; API weight $(backend_field "$CTL_DEAD" weight)" \
	[ "$CTL_RC" = 0 -a "$CTL_OUT" = "backend $CTL_DEAD added" -a "$(backend_field "$CTL_DEAD" weight)" = 3 ]
ctl "${CTL[@]}" backend set "$CTL_DEAD" state offline weight 4
check shuntctl_backend_set "shuntctl backend set $CTL_DEAD state offline weight 4 -> rc $CTL_RC '$CTL_OUT'; API $(backend_field "$CTL_DEAD" state)/$(backend_field "$CTL_DEAD" weight)" \
	[ "$CTL_RC" = 0 -a "$(backend_field "$CTL_DEAD" state)" = offline -a "$(backend_field "$CTL_DEAD" weight)" = 4 ]
ctl "${CTL[@]}" -j backend set "$CTL_DEAD" state draining
RESP=$CTL_OUT
check shuntctl_backend_set_json "shuntctl -j backend set $CTL_DEAD state draining -> rc $CTL_RC $(short "$CTL_OUT" 120)" \
	[ "$CTL_RC" = 0 -a "$(jv "[(b['address'], b['state']) for b in d['backends']] == [('$CTL_DEAD', 'draining')]")" = true ]
ctl "${CTL[@]}" backend add "$MYSQL_ADDR"
check shuntctl_backend_add_dup "shuntctl backend add $MYSQL_ADDR (present) -> rc $CTL_RC, stderr '$CTL_ERR'" \
	eval '[ "$CTL_RC" = 1 ] && grep -q "HTTP 409: backend $MYSQL_ADDR is already in pool default" <<<"$CTL_ERR"'
ctl "${CTL[@]}" backend remove "$CTL_DEAD"
api GET /api/backends
check shuntctl_backend_remove "shuntctl backend remove $CTL_DEAD -> rc $CTL_RC '$CTL_OUT'; API lists $(jv "[b['address'] for b in d['backends']]")" \
	[ "$CTL_RC" = 0 -a "$CTL_OUT" = "backend $CTL_DEAD removed" -a "$(jv "[b['address'] for b in d['backends']]")" = "[\"$MYSQL_ADDR\"]" ]
ctl "${CTL[@]}" backend remove "$CTL_DEAD"
check shuntctl_http_error "shuntctl backend remove $CTL_DEAD (unknown) -> rc $CTL_RC, stdout '$CTL_OUT', stderr '$CTL_ERR'" \
	eval '[ "$CTL_RC" = 1 ] && [ -z "$CTL_OUT" ] && grep -q "^shuntctl: HTTP 404: no backend $CTL_DEAD in any pool" <<<"$CTL_ERR"'
ctl "${CTL[@]}" backend set "$MYSQL_ADDR" state sideways
check shuntctl_usage "shuntctl backend set ... state sideways -> rc $CTL_RC (usage), '$(short "$CTL_ERR" 100)'" [ "$CTL_RC" = 2 ]
ctl "${CTL[@]}" stats
sv=$(sed -n 's/^sessions_total \([0-9]*\)$/\1/p' <<<"$CTL_OUT")
api GET /api/stats
check shuntctl_stats "shuntctl stats -> rc $CTL_RC, $(wc -l <<<"$CTL_OUT") lines, sessions_total $sv (API $(jv "d['stats']['sessions_total']"))" \
	[ "$CTL_RC" = 0 -a -n "$sv" -a "$sv" = "$(jv "d['stats']['sessions_total']")" ]
ctl "${CTL[@]}" -j stats
RESP=$CTL_OUT
check shuntctl_stats_json "shuntctl -j stats -> rc $CTL_RC, kills_ok $(jv "d['stats']['kills_ok']")" \
	[ "$CTL_RC" = 0 -a "$(jv "d['stats']['kills_ok'] == 3 and d['stats']['logins_failed_access_denied'] == 1")" = true ]
ctl "${CTL[@]}" reload
check shuntctl_reload "shuntctl reload -> rc $CTL_RC '$CTL_OUT'" [ "$CTL_RC" = 0 -a "$CTL_OUT" = "config reloaded" ]
ctl "${CTL[@]}" -j reload
RESP=$CTL_OUT
check shuntctl_reload_json "shuntctl -j reload -> rc $CTL_RC $(short "$CTL_OUT")" [ "$CTL_RC" = 0 -a "$(jv "d == {'reloaded': True}")" = true ]
api POST /api/reload
expect reload "POST /api/reload" 200 "d == {'reloaded': True}"
metrics_get
rok=$(mval 'shunt_config_reloads_total{outcome="ok"}')
check metrics_reloads "shunt_config_reloads_total{outcome=\"ok\"} $rok after 3 reloads" [ "$rok" = 3 ]
check login_after_reload "a login after the reloads" [ "$(login_select "$SHUNT_PORT")" = 1 ]
ctl -H "127.0.0.1:$DEAD_PORT" stats
check shuntctl_unreachable "shuntctl -H 127.0.0.1:$DEAD_PORT (nobody) stats -> rc $CTL_RC, '$CTL_ERR'" \
	eval '[ "$CTL_RC" = 1 ] && grep -q "cannot reach the HTTP API" <<<"$CTL_ERR"'

# The session killed above: its SLEEP leaves MariaDB (KILL <id> kills the
# backend thread too).
if wait_until 10 sleep_gone; then
	pass killed_backend_idle "no SLEEP of the killed sessions left on MariaDB"
else
	fail killed_backend_idle "MariaDB still runs: $(sql_root -e "SELECT ID, TIME, INFO FROM information_schema.PROCESSLIST WHERE USER='$E2E_USER'" | tr '\n' '|')"
fi
metrics_get
promcheck_required metrics_valid_end

# A web page could POST to the loopback API without a CORS preflight; the
# browser sends Origin, which shunt's own clients never do.
n_before=$(curl -s -H "Authorization: Bearer $API_TOKEN" "$API/api/backends" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["backends"]))')
api POST /api/backends '{"address":"127.0.0.1:1"}' -H 'Origin: http://evil.example'
expect_error cross_origin_write "POST /api/backends with an Origin header" 403 "cross-origin"
n_after=$(curl -s -H "Authorization: Bearer $API_TOKEN" "$API/api/backends" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["backends"]))')
check cross_origin_no_effect "backends before $n_before, after $n_after" [ "$n_before" = "$n_after" ]

# The HTTP client leaves while its KILL QUERY is in flight (MariaDB is
# stopped, so shunt's side connection waits): the kill is still carried
# out, and shunt serves on.
bg_sql "$E2E_TMP/kl.out" 'SELECT SLEEP(33);'
KL_PID=$BG_PID
dbpid=$(cat "$(dirname "$MYSQL_SOCK")/mysqld.pid" 2>/dev/null)
if [ -z "$dbpid" ]; then
	skip http_client_left_kill "no MariaDB pid file next to $MYSQL_SOCK to stop it with"
elif wait_until 10 sleep_running 33 && one_tunnel; then
	id=$TUN_ID
	kill -STOP "$dbpid"
	curl -s -m 1 -X POST -H "Authorization: Bearer $API_TOKEN" -H 'Content-Type: application/json' \
		--data-binary '{"query":true}' "$API/api/tunnels/$id/kill" >/dev/null 2>&1
	sleep 0.3
	kill -CONT "$dbpid"
	# The KILL QUERY goes on once MariaDB runs again: the SLEEP ends with
	# 1317, and shunt answers a client that is gone (libevent 2.1 does not
	# see the close while the request waits, so the answer is what frees
	# it; the sanitized run checks nothing leaks).
	wait_until 10 exited "$KL_PID"
	out=$(cat "$E2E_TMP/kl.out")
	api GET /api/tunnels
	expect http_client_left_kill "the client of POST /api/tunnels/$id/kill {query} gave up after 1 s; the session's client then got '$(short "$out" 80)'; GET /api/tunnels" 200 \
		"$id not in [t['id'] for t in d['tunnels']] and $(grep -q '^ERROR 1317' <<<"$out" && echo True || echo False)"
else
	kill -CONT "$dbpid" 2>/dev/null
	fail http_client_left_kill "no single established tunnel for the SLEEP session: $(short "$RESP" 400)"
fi

# ---------------------------------------------------------------- token (instance B)

TOKEN=e2e-$RANDOM$RANDOM-tok
TOKEN2=e2e-$RANDOM$RANDOM-new
B_PORT=$(free_port) || die "no free port"
B_HTTP=$(free_port) || die "no free port"
B_DEAD=127.0.0.1:$(free_port)
write_b_ini() {  # write_b_ini TOKEN LISTEN_PORT [EXTRA BACKEND LINE]
	cat >"$E2E_TMP/b.ini" <<-CFG
		[global]
		http = 127.0.0.1:$B_HTTP
		http_token = $1
		log_level = info

		[listener default]
		listen = 127.0.0.1:$2
		pool = default

		[pool default]
		backend = 127.0.0.1:$MYSQL_PORT
		${3:-}

		[user $E2E_USER]
		password = $E2E_PASS
	CFG
}
write_b_ini "$TOKEN" "$B_PORT"
# shunt_config would not do: shunt_spawn puts --http off on the command
# line, which beats the file's http key. --http repeats the file's value.
shunt_spawn "$B_PORT" -c "$E2E_TMP/b.ini" --http "127.0.0.1:$B_HTTP" ||
	die "shunt -c b.ini did not start" token_start
wait_port "$B_HTTP" 5 "$SHUNT_PID" || die "instance B's HTTP API is not up" token_start
info "shunt -c b.ini (pid $SHUNT_PID) on $B_PORT, HTTP $B_HTTP with a token"
API=http://127.0.0.1:$B_HTTP
API_TOKEN=
export SHUNT_HTTP_TOKEN_FILE=/nonexistent/http-token  # shuntctl: no token but -T

check token_login "a login through instance B" [ "$(login_select "$B_PORT")" = 1 ]
check token_file_unused "with http_token set, instance B made no token file" [ ! -e "$SHUNT_TOKEN_FILE" ]
api GET /api/backends
unauth_early=$CODE
api GET /api/stats "" -H "Authorization: Bearer $TOKEN"
expect token_read_stats "GET /api/stats with the token" 200 "d['stats']['logins_ok'] == 1"
check token_read_needs_token "GET /api/backends without a token -> $unauth_early" [ "$unauth_early" = 401 ]
metrics_get
check token_read_metrics "GET /metrics without a token -> $MCODE" [ "$MCODE" = 200 ]
unauth() {  # unauth NAME WHAT: a 401 with WWW-Authenticate after api
	local www
	www=$(header WWW-Authenticate)
	if [ "$CODE" = 401 ] && [ "$www" = 'Bearer realm="shunt"' ] && is_json_reply &&
		[ "$(jv "list(d) == ['error'] and 'Authorization: Bearer' in d['error']")" = true ]; then
		pass "$1" "$2 -> 401, WWW-Authenticate: $www"
	else
		fail "$1" "$2: expected 401 with WWW-Authenticate: Bearer realm=\"shunt\"; got $CODE, '$www', $(short "$RESP")"
	fi
}
api POST /api/backends "{\"address\":\"$B_DEAD\"}"
unauth token_post_none "POST /api/backends without a token"
k=0
for hdr in "Bearer ${TOKEN}x" "Bearer ${TOKEN%?}" "bearer $TOKEN" "Bearer  $TOKEN" "Basic $TOKEN" "$TOKEN" "Bearer"; do
	k=$((k + 1))
	api POST /api/backends "{\"address\":\"$B_DEAD\"}" -H "Authorization: $hdr"
	unauth "token_post_wrong_$k" "POST with 'Authorization: ${hdr//$TOKEN/TOKEN}'"
done
api PATCH "/api/backends/$MYSQL_ADDR" '{"weight":2}'
unauth token_patch_none "PATCH without a token"
api DELETE "/api/backends/$MYSQL_ADDR" "" -H "Authorization: Bearer nope"
unauth token_delete_wrong "DELETE with a wrong token"
api POST /api/tunnels/999999/kill
unauth token_kill_none "POST kill without a token"
api POST /api/reload
unauth token_reload_none "POST /api/reload without a token"
api GET /api/backends "" -H "Authorization: Bearer $TOKEN"
expect token_nothing_changed "GET /api/backends after the refused writes" 200 \
	"[(b['address'], b['weight']) for b in d['backends']] == [('$MYSQL_ADDR', 1)]"
AUTH=(-H "Authorization: Bearer $TOKEN")
api POST /api/backends "{\"address\":\"$B_DEAD\",\"weight\":2}" "${AUTH[@]}"
expect token_post_ok "POST /api/backends with the token" 201 "d['backends'][0]['address'] == '$B_DEAD' and d['backends'][0]['weight'] == 2"
api PATCH "/api/backends/$B_DEAD" '{"state":"offline"}' "${AUTH[@]}"
expect token_patch_ok "PATCH with the token" 200 "d['backends'][0]['state'] == 'offline'"
api DELETE "/api/backends/$B_DEAD" "" "${AUTH[@]}"
expect token_delete_ok "DELETE with the token" 200 "d == {'removed': '$B_DEAD'}"
api POST /api/tunnels/999999/kill "" "${AUTH[@]}"
expect_error token_kill_ok "POST kill 999999 with the token (past auth: unknown id)" 404 "Unknown thread id: 999999"
ctl -H "127.0.0.1:$B_HTTP" backend add "$B_DEAD"
check token_shuntctl_none "shuntctl backend add without a token -> rc $CTL_RC, '$(short "$CTL_ERR")'" \
	eval '[ "$CTL_RC" = 1 ] && grep -q "HTTP 401" <<<"$CTL_ERR" && grep -q "wants its token" <<<"$CTL_ERR"'
ctl -H "127.0.0.1:$B_HTTP" -T wrong-token backend add "$B_DEAD"
check token_shuntctl_wrong "shuntctl -T wrong-token backend add -> rc $CTL_RC, '$(short "$CTL_ERR")'" \
	eval '[ "$CTL_RC" = 1 ] && grep -q "HTTP 401" <<<"$CTL_ERR"'
ctl -H "127.0.0.1:$B_HTTP" -T "$TOKEN" backend add "$B_DEAD"
check token_shuntctl_ok "shuntctl -T TOKEN backend add $B_DEAD -> rc $CTL_RC '$CTL_OUT'" \
	[ "$CTL_RC" = 0 -a "$CTL_OUT" = "backend $B_DEAD added" ]
CTL_OUT=$(SHUNT_HTTP=127.0.0.1:$B_HTTP SHUNT_HTTP_TOKEN=$TOKEN "$SHUNTCTL" backend remove "$B_DEAD" 2>&1); CTL_RC=$?
check token_shuntctl_env "SHUNT_HTTP=... SHUNT_HTTP_TOKEN=TOKEN shuntctl backend remove -> rc $CTL_RC '$CTL_OUT'" \
	[ "$CTL_RC" = 0 -a "$CTL_OUT" = "backend $B_DEAD removed" ]
ctl -H "127.0.0.1:$B_HTTP" backends
check token_shuntctl_read "shuntctl backends without a token -> rc $CTL_RC" [ "$CTL_RC" = 1 ]
ctl -H "127.0.0.1:$B_HTTP" -T "$TOKEN" backends
check token_shuntctl_read_ok "shuntctl -T TOKEN backends -> rc $CTL_RC" [ "$CTL_RC" = 0 ]

# Reload: the file gains a backend and changes the token.
write_b_ini "$TOKEN2" "$B_PORT" "backend = $B_DEAD weight=5"
api POST /api/reload "" "${AUTH[@]}"
expect token_reload "POST /api/reload (file: + $B_DEAD weight=5, new token)" 200 "d == {'reloaded': True}"
api GET /api/backends "" -H "Authorization: Bearer $TOKEN2"
expect token_reload_backend "GET /api/backends after the reload (the new token)" 200 \
	"sorted((b['address'], b['weight']) for b in d['backends']) == sorted([('$MYSQL_ADDR', 1), ('$B_DEAD', 5)])"
api PATCH "/api/backends/$B_DEAD" '{"weight":6}' "${AUTH[@]}"
unauth token_old_refused "PATCH with the old token after the reload"
api PATCH "/api/backends/$B_DEAD" '{"weight":6}' -H "Authorization: Bearer $TOKEN2"
expect token_new_ok "PATCH with the new token" 200 "d['backends'][0]['weight'] == 6"
AUTH=(-H "Authorization: Bearer $TOKEN2")
# A listener change needs a restart: 409, nothing applied.
write_b_ini "$TOKEN2" "$(free_port)"
api POST /api/reload "" "${AUTH[@]}"
expect_error token_reload_restart "POST /api/reload with another listen port" 409 "listeners changed, which needs a restart"
api GET /api/backends "" "${AUTH[@]}"
expect token_reload_kept "GET /api/backends after the refused reload (B_DEAD gone from the file, kept)" 200 \
	"sorted(b['address'] for b in d['backends']) == sorted(['$MYSQL_ADDR', '$B_DEAD'])"
sed -i 's/^log_level = info$/log_level = loud/' "$E2E_TMP/b.ini"
api POST /api/reload "" "${AUTH[@]}"
expect_error token_reload_invalid "POST /api/reload with log_level = loud in the file" 400 "reload refused, the running configuration stays"
metrics_get
rr=$(mval 'shunt_config_reloads_total{outcome="refused"}')
ro=$(mval 'shunt_config_reloads_total{outcome="ok"}')
check token_metrics_reloads "instance B: shunt_config_reloads_total ok=$ro refused=$rr" [ "$ro" = 1 -a "$rr" = 2 ]
check token_login_after "a login through B after the refused reloads" [ "$(login_select "$B_PORT")" = 1 ]

# ---------------------------------------------------------------- http_write = off (instance C)

C_PORT=$(free_port) || die "no free port"
C_HTTP=$(free_port) || die "no free port"
cat >"$E2E_TMP/c.ini" <<CFG
[global]
http = 127.0.0.1:$C_HTTP
http_write = off

[listener default]
listen = 127.0.0.1:$C_PORT
pool = default

[pool default]
backend = 127.0.0.1:$MYSQL_PORT

[user $E2E_USER]
password = $E2E_PASS
CFG
shunt_spawn "$C_PORT" -c "$E2E_TMP/c.ini" --http "127.0.0.1:$C_HTTP" ||
	die "shunt -c c.ini did not start" readonly_start
wait_port "$C_HTTP" 5 "$SHUNT_PID" || die "instance C's HTTP API is not up" readonly_start
info "shunt -c c.ini (pid $SHUNT_PID) on $C_PORT, HTTP $C_HTTP with http_write = off"
API=http://127.0.0.1:$C_HTTP
API_TOKEN=$(cat "$SHUNT_TOKEN_FILE")
export SHUNT_HTTP_TOKEN_FILE=$SHUNT_TOKEN_FILE
check readonly_login "a login through instance C" [ "$(login_select "$C_PORT")" = 1 ]
api GET /api/backends
expect readonly_read "GET /api/backends (http_write = off)" 200 "[b['address'] for b in d['backends']] == ['$MYSQL_ADDR']"
api GET /readyz
expect readonly_readyz "GET /readyz (http_write = off)" 200 "d['ready'] is True"
while read -r m p body; do
	api "$m" "$p" "$body"
	expect_error "readonly_$(tr 'A-Z' 'a-z' <<<"$m")_$(tr -dc 'a-z' <<<"$p" | head -c 16)" "$m $p" 403 "http_write = off"
done <<LIST
POST /api/backends {"address":"127.0.0.1:9"}
PATCH /api/backends/$MYSQL_ADDR {"state":"offline"}
DELETE /api/backends/$MYSQL_ADDR
POST /api/tunnels/1/kill {"query":true}
POST /api/reload
LIST
api GET /api/backends
expect readonly_unchanged "GET /api/backends after the refused writes" 200 \
	"[(b['address'], b['state']) for b in d['backends']] == [('$MYSQL_ADDR', 'online')]"
ctl -H "127.0.0.1:$C_HTTP" backend set "$MYSQL_ADDR" state offline
check readonly_shuntctl "shuntctl backend set (http_write = off) -> rc $CTL_RC, '$CTL_ERR'" \
	eval '[ "$CTL_RC" = 1 ] && grep -q "HTTP 403: write endpoints are disabled" <<<"$CTL_ERR"'

check shunt_a_alive "instance A (pid $A_PID) still running" kill -0 "$A_PID"
e2e_finish
