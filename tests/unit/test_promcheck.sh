#!/bin/bash
# test_promcheck.sh — unit tests of tests/e2e/promcheck.py, the strict
# validator of the Prometheus text format that the /metrics e2e tests use.
#
# Each case feeds one document (on stdin of the case function) and prints
#     PASS: promcheck.<case>
#     FAIL: promcheck.<case>: <why>
# Invalid documents must fail with exit 1 AND report the expected
# "line N: message" (matched as a prefix), so a case cannot pass by failing
# for some other reason. Exit status: 1 if any case failed.
#
# Run from anywhere: tests/unit/test_promcheck.sh

cd "$(dirname "$0")/../.." || exit 2
PY=/usr/bin/python3
PC=tests/e2e/promcheck.py
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
FAILS=0
CASES=0

pass() { echo "PASS: promcheck.$1"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: promcheck.$1: $2"; }

# run CASE ARGS... : the document on stdin -> $TMP/CASE.prom; promcheck's
# stdout in $OUT, exit status in $RC.
run() {
	local c=$1; shift
	CASES=$((CASES + 1))
	cat > "$TMP/$c.prom"
	OUT=$("$PY" "$PC" "$@" "$TMP/$c.prom" 2>"$TMP/$c.err")
	RC=$?
}

oneline() { printf '%s' "$1" | tr '\n' '|'; }

# ok CASE [ARGS...]: must be valid (exit 0, last line "OK: ...").
ok() {
	local c=$1; shift
	run "$c" "$@"
	if [ "$RC" -ne 0 ]; then
		fail "$c" "exit $RC, expected 0: $(oneline "$OUT")"
	elif [[ "$(tail -n1 <<<"$OUT")" != OK:* ]]; then
		fail "$c" "no OK line: $(oneline "$OUT")"
	else
		pass "$c"
	fi
}

# bad CASE 'line N: message prefix' [ARGS...]: must be rejected with it.
bad() {
	local c=$1 want=$2 line; shift 2
	run "$c" "$@"
	if [ "$RC" -ne 1 ]; then
		fail "$c" "exit $RC, expected 1: $(oneline "$OUT")"
		return
	fi
	while IFS= read -r line; do
		if [[ "$line" == "$want"* ]]; then pass "$c"; return; fi
	done <<<"$OUT"
	fail "$c" "no line starting '$want' in: $(oneline "$OUT")"
}

# out CASE EXPECTED [ARGS...]: valid, and stdout is exactly EXPECTED.
out() {
	local c=$1 want=$2; shift 2
	run "$c" "$@"
	if [ "$RC" -ne 0 ] || [ "$OUT" != "$want" ]; then
		fail "$c" "exit $RC, output '$(oneline "$OUT")', expected '$(oneline "$want")'"
	else
		pass "$c"
	fi
}

# ------------------------------------------------------------ valid documents

# Counters, gauges, untyped, comments, escapes, timestamps, special floats,
# blank lines.
VALID_BASIC='# HELP shunt_connections_total Client connections accepted.\nBy listener; a \\ too.
# TYPE shunt_connections_total counter
shunt_connections_total{listener="main"} 42
shunt_connections_total{listener="a\"b\\c\nd",zone="x"} 0 1700000000000
# just a comment, mentioning HELP and TYPE
#HELPFUL is a comment too

# HELP shunt_up Whether shunt is up.
# TYPE shunt_up gauge
shunt_up 1
# TYPE shunt_temperature_celsius gauge
shunt_temperature_celsius{sensor="a"} -3.5e-2
shunt_temperature_celsius{sensor="b"} +Inf
shunt_temperature_celsius{sensor="c"} -Inf
shunt_temperature_celsius{sensor="d"} NaN
shunt_temperature_celsius{sensor="e"} 0x1.8p3
shunt_build_info{version="1.0",commit="abc"} 1
# TYPE shunt_bytes_total counter
shunt_bytes_total 1.5e+10	-12
'
ok valid_basic <<<"$VALID_BASIC"

# Histogram with two label sets (and one without labels) plus a summary.
VALID_HIST='# HELP shunt_query_seconds Query latency.
# TYPE shunt_query_seconds histogram
shunt_query_seconds_bucket{backend="db1",le="0.005"} 1
shunt_query_seconds_bucket{backend="db1",le="0.1"} 3
shunt_query_seconds_bucket{backend="db1",le="1"} 3
shunt_query_seconds_bucket{backend="db1",le="+Inf"} 4
shunt_query_seconds_sum{backend="db1"} 2.75
shunt_query_seconds_count{backend="db1"} 4
shunt_query_seconds_bucket{le="0.005",backend="db2"} 0
shunt_query_seconds_bucket{le="0.1",backend="db2"} 0
shunt_query_seconds_bucket{le="1",backend="db2"} 0
shunt_query_seconds_bucket{le="+Inf",backend="db2"} 0
shunt_query_seconds_sum{backend="db2"} 0
shunt_query_seconds_count{backend="db2"} 0
# TYPE shunt_wait_seconds histogram
shunt_wait_seconds_bucket{le="1e-3"} 7
shunt_wait_seconds_bucket{le="+Inf"} 9
shunt_wait_seconds_sum 0.02
shunt_wait_seconds_count 9
# TYPE shunt_rtt_seconds summary
shunt_rtt_seconds{backend="db1",quantile="0.5"} 0.01
shunt_rtt_seconds{backend="db1",quantile="0.99"} NaN
shunt_rtt_seconds_sum{backend="db1"} 1.5
shunt_rtt_seconds_count{backend="db1"} 100
shunt_rtt_seconds_sum{backend="db2"} 0
shunt_rtt_seconds_count{backend="db2"} 0
'
ok valid_histogram <<<"$VALID_HIST"

# Untyped families only, no HELP/TYPE at all, read from stdin ("-").
CASES=$((CASES + 1))
if o=$(printf 'a 1\nb{x="y"} 2\nb{x="z"} 3\n' | "$PY" "$PC" -) &&
   [ "$o" = "OK: 2 families, 3 samples" ]; then
	pass valid_stdin_untyped
else
	fail valid_stdin_untyped "got '$(oneline "$o")'"
fi

ok valid_empty < /dev/null

# --require and --print-value on a valid document.
ok require_present --require shunt_query_seconds --require shunt_rtt_seconds <<<"$VALID_HIST"
out print_value "$(printf '3\n2.75\n100\nOK: 3 families, 22 samples')" \
	--print-value 'shunt_query_seconds_bucket{le="1",backend="db1"}' \
	--print-value 'shunt_query_seconds_sum{backend="db1"}' \
	--print-value 'shunt_rtt_seconds_count{backend="db1"}' <<<"$VALID_HIST"
out print_value_escaped "$(printf '0\nOK: 5 families, 10 samples')" \
	--print-value 'shunt_connections_total{zone="x",listener="a\"b\\c\nd"}' <<<"$VALID_BASIC"
bad require_missing "line 0: required family 'shunt_nope_total' is missing" \
	--require shunt_up --require shunt_nope_total <<<"$VALID_BASIC"
bad require_sample_name "line 0: required family 'shunt_wait_seconds_count' is missing" \
	--require shunt_wait_seconds_count <<<"$VALID_HIST"
bad print_value_missing "line 0: sample shunt_up{a=\"b\"} (--print-value) not found" \
	--print-value 'shunt_up{a="b"}' <<<"$VALID_BASIC"
bad print_value_label_subset "line 0: sample shunt_query_seconds_sum (--print-value) not found" \
	--print-value 'shunt_query_seconds_sum' <<<"$VALID_HIST"

# ------------------------------------------------------------ bytes and lines

bad no_final_newline 'line 2: missing newline at end of input' < <(printf 'a 1\nb 2')
bad carriage_return 'line 1: carriage return' < <(printf 'a 1\r\nb 2\n')
bad bad_utf8 'line 2: invalid UTF-8' < <(printf 'a 1\nb{x="\xff"} 2\n')

# ------------------------------------------------------------ HELP and TYPE

bad bad_type "line 1: invalid type 'gaugehistogram'" <<'EOF'
# TYPE a gaugehistogram
a 1
EOF
bad type_upper_case "line 1: invalid type 'COUNTER'" <<'EOF'
# TYPE a_total COUNTER
a_total 1
EOF
bad type_extra_token "line 1: invalid type 'gauge extra'" <<'EOF'
# TYPE a gauge extra
a 1
EOF
bad type_missing "line 1: TYPE line for 'a' without a type" <<'EOF'
# TYPE a
a 1
EOF
bad duplicate_help "line 2: second HELP line for 'a'" <<'EOF'
# HELP a One.
# HELP a Two.
a 1
EOF
bad duplicate_type "line 3: second TYPE line for 'a'" <<'EOF'
# TYPE a gauge
# HELP a One.
# TYPE a gauge
a 1
EOF
bad type_after_sample "line 2: TYPE line for 'a' after its first sample" <<'EOF'
a 1
# TYPE a gauge
EOF
bad help_bad_escape 'line 1: invalid escape "\t" in HELP text' <<'EOF'
# HELP a Tab\there.
a 1
EOF
bad help_bad_name "line 1: invalid metric name in HELP line: 'a-b'" <<'EOF'
# HELP a-b Dash.
a 1
EOF
bad hash_help_no_blank 'line 1: "#HELP" without a blank' <<'EOF'
#HELP a Text.
a 1
EOF
bad declared_no_samples "line 3: family 'b' (TYPE gauge at line 3) has no samples" <<'EOF'
# TYPE a gauge
a 1
# TYPE b gauge
EOF

# ------------------------------------------------------------ families

bad family_not_contiguous "line 3: family 'a' reappears" <<'EOF'
a{x="1"} 1
b 1
a{x="2"} 1
EOF
bad family_not_contiguous_help "line 4: family 'a' reappears" <<'EOF'
# TYPE a gauge
a 1
b 1
# HELP a Late.
EOF
bad histogram_not_contiguous "line 5: family 'h' reappears" <<'EOF'
# TYPE h histogram
h_bucket{le="+Inf"} 1
h_sum 1
b 1
h_count 1
EOF

# ------------------------------------------------------------ sample syntax

bad bad_metric_name "line 1: invalid metric name" <<'EOF'
1abc 1
EOF
bad bad_metric_name_char "line 1: invalid character '-' after metric name" <<'EOF'
ab-c 1
EOF
bad bad_label_name "line 1: invalid label name" <<'EOF'
a{1x="v"} 1
EOF
bad bad_label_name_char "line 1: invalid character '-' in label name 'x'" <<'EOF'
a{x-y="v"} 1
EOF
bad reserved_label_name "line 1: label name '__name__' is reserved" <<'EOF'
a{__name__="v"} 1
EOF
bad label_bad_escape 'line 1: invalid escape "\t" in value of label' <<'EOF'
a{x="tab\there"} 1
EOF
bad label_unquoted "line 1: value of label 'x' is not double-quoted" <<'EOF'
a{x=v} 1
EOF
bad label_single_quoted "line 1: value of label 'x' is not double-quoted" <<'EOF'
a{x='v'} 1
EOF
bad label_unterminated "line 1: unterminated value of label 'x'" <<'EOF'
a{x="v} 1
EOF
bad duplicate_label_name "line 1: duplicate label name 'x'" <<'EOF'
a{x="1",x="2"} 1
EOF
bad trailing_comma "line 1: trailing comma in label set" <<'EOF'
a{x="1",} 1
EOF
bad empty_label_set 'line 1: empty label set "{}"' <<'EOF'
a{} 1
EOF
bad blank_in_label_set "line 1: blank inside label set" <<'EOF'
a{x="1", y="2"} 1
EOF
bad no_blank_before_value "line 1: invalid character '1' after label set" <<'EOF'
a{x="1"}1
EOF
bad missing_value "line 1: sample 'a' has no value" <<'EOF'
a
EOF
bad bad_value "line 1: invalid value: '1,5' is not a float" <<'EOF'
a 1,5
EOF
bad value_signed_nan "line 1: invalid value: '+NaN' is not a float" <<'EOF'
a +NaN
EOF
bad value_overflow "line 1: invalid value: '1e400' is out of float64 range" <<'EOF'
a 1e400
EOF
bad bad_timestamp "line 1: invalid timestamp '1.5'" <<'EOF'
a 1 1.5
EOF
bad extra_token "line 1: unexpected text 'x'" <<'EOF'
a 1 2 x
EOF
bad duplicate_sample 'line 3: duplicate sample a{y="2",x="1"} (first at line 1)' <<'EOF'
a{x="1",y="2"} 1
a{x="2",y="2"} 1
a{y="2",x="1"} 2
EOF

# ------------------------------------------------------------ counters

bad counter_no_total "line 1: counter 'requests': name must end in \"_total\"" <<'EOF'
# TYPE requests counter
requests 1
EOF
bad counter_negative "line 3: counter 'a_total': negative value -1" <<'EOF'
# TYPE a_total counter
a_total{x="1"} 1
a_total{x="2"} -1
EOF
bad counter_nan "line 2: counter 'a_total': value is NaN" <<'EOF'
# TYPE a_total counter
a_total NaN
EOF
bad counter_sample_name "line 3: sample 'requests' does not belong to the family 'requests_total'" <<'EOF'
# HELP requests_total Requests.
# TYPE requests_total counter
requests 5
EOF

# ------------------------------------------------------------ gauge / untyped

bad gauge_sample_name "line 2: sample 'temp_celsius' does not belong to the family 'temp'" <<'EOF'
# TYPE temp gauge
temp_celsius 5
EOF
bad untyped_sample_name "line 2: sample 'x_total' does not belong to the family 'x'" <<'EOF'
# HELP x An x.
x_total 5
EOF

# ------------------------------------------------------------ histograms

bad histogram_plain_sample "line 2: histogram 'h': sample 'h' not allowed" <<'EOF'
# TYPE h histogram
h 1
h_bucket{le="+Inf"} 1
h_sum 1
h_count 1
EOF
bad histogram_foreign_sample "line 2: sample 'h_total' does not belong to the family 'h'" <<'EOF'
# TYPE h histogram
h_total 1
EOF
bad histogram_no_le "line 2: histogram bucket 'h_bucket' without \"le\" label" <<'EOF'
# TYPE h histogram
h_bucket{x="1"} 1
h_bucket{x="1",le="+Inf"} 1
h_sum{x="1"} 1
h_count{x="1"} 1
EOF
bad histogram_le_not_float "line 2: histogram bucket 'h_bucket': invalid le: 'fast' is not a float" <<'EOF'
# TYPE h histogram
h_bucket{le="fast"} 1
h_bucket{le="+Inf"} 1
h_sum 1
h_count 1
EOF
bad histogram_le_on_sum "line 4: histogram 'h': \"le\" label on 'h_sum'" <<'EOF'
# TYPE h histogram
h_bucket{le="+Inf"} 1
h_sum 1
h_sum{le="+Inf"} 1
h_count 1
EOF
bad histogram_le_order 'line 4: histogram h{x="a"}: bucket le=0.5 does not follow le=1' <<'EOF'
# TYPE h histogram
h_bucket{x="a",le="0.1"} 1
h_bucket{x="a",le="1"} 2
h_bucket{x="a",le="0.5"} 2
h_bucket{x="a",le="+Inf"} 2
h_sum{x="a"} 1
h_count{x="a"} 2
EOF
bad histogram_not_cumulative 'line 8: histogram h{x="b"}: bucket le=1 count 1 is less than le=0.1 count 2' <<'EOF'
# TYPE h histogram
h_bucket{x="a",le="0.1"} 0
h_bucket{x="a",le="1"} 0
h_bucket{x="a",le="+Inf"} 0
h_sum{x="a"} 0
h_count{x="a"} 0
h_bucket{x="b",le="0.1"} 2
h_bucket{x="b",le="1"} 1
h_bucket{x="b",le="+Inf"} 2
h_sum{x="b"} 1
h_count{x="b"} 2
EOF
bad histogram_no_inf_bucket 'line 2: histogram h{x="a"}: no le="+Inf" bucket' <<'EOF'
# TYPE h histogram
h_bucket{x="a",le="0.1"} 1
h_bucket{x="a",le="1"} 2
h_sum{x="a"} 1
h_count{x="a"} 2
EOF
bad histogram_inf_ne_count 'line 5: histogram h: h_count is 3 but the le="+Inf" bucket (line 3) is 2' <<'EOF'
# TYPE h histogram
h_bucket{le="1"} 2
h_bucket{le="+Inf"} 2
h_sum 1
h_count 3
EOF
bad histogram_no_sum 'line 2: histogram h{x="a"}: no h_sum sample' <<'EOF'
# TYPE h histogram
h_bucket{x="a",le="+Inf"} 2
h_count{x="a"} 2
h_bucket{x="b",le="+Inf"} 2
h_sum{x="b"} 1
h_count{x="b"} 2
EOF
bad histogram_no_count 'line 2: histogram h: no h_count sample' <<'EOF'
# TYPE h histogram
h_bucket{le="+Inf"} 2
h_sum 1
EOF
bad histogram_negative_bucket "line 2: histogram bucket 'h_bucket': negative value -1" <<'EOF'
# TYPE h histogram
h_bucket{le="1"} -1
h_bucket{le="+Inf"} 0
h_sum 1
h_count 0
EOF

# ------------------------------------------------------------ summaries

bad summary_no_quantile "line 2: summary 'r': sample without \"quantile\" label" <<'EOF'
# TYPE r summary
r 1
r_sum 1
r_count 1
EOF
bad summary_quantile_range "line 2: summary 'r': quantile 1.5 not in [0, 1]" <<'EOF'
# TYPE r summary
r{quantile="1.5"} 1
r_sum 1
r_count 1
EOF
bad summary_no_sum 'line 3: summary r{x="b"}: no r_sum sample' <<'EOF'
# TYPE r summary
r{x="a",quantile="0.5"} 1
r{x="b",quantile="0.5"} 1
r_sum{x="a"} 1
r_count{x="a"} 1
r_count{x="b"} 1
EOF
bad summary_no_count 'line 2: summary r: no r_count sample' <<'EOF'
# TYPE r summary
r_sum 1
EOF

# ------------------------------------------------------------ several at once

# Every problem is reported, in line order.
CASES=$((CASES + 1))
o=$(printf 'a{x="1",} 1\nb 1 1.5\n# TYPE c_total counter\nc_total -2\n' |
	"$PY" "$PC" -)
rc=$?
if [ $rc -eq 1 ] && [ "$(grep -c '^line [0-9]*: ' <<<"$o")" -eq 3 ] &&
   [ "$(cut -d: -f1 <<<"$o" | tr '\n' ' ')" = "line 1 line 2 line 4 " ]; then
	pass all_problems_reported
else
	fail all_problems_reported "exit $rc: $(oneline "$o")"
fi

echo "promcheck: $((CASES - FAILS))/$CASES cases passed"
[ "$FAILS" -eq 0 ]
