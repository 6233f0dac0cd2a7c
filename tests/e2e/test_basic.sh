#!/usr/bin/env bash
# test_basic.sh — the mariadb CLI through shunt: SELECT, USE, -D,
# a multi-statement query, a procedure, error texts, character sets, and a
# 5000-row result compared byte for byte with the same query run directly.
. "$(dirname "$0")/lib.sh"
e2e_init basic
mariadb_ensure
shunt_start
P=$SHUNT_PORT

out=$(cli "$P" -N -B -e 'SELECT 1' 2>&1)
check select_1 "mariadb -e 'SELECT 1' -> '$out'" [ "$out" = 1 ]

out=$(cli "$P" -N -B -e 'SELECT DATABASE()' 2>&1)
check no_db "no -D: DATABASE() -> '$out'" [ "$out" = NULL ]

out=$(cli "$P" -D "$E2E_DB" -N -B -e 'SELECT DATABASE()' 2>&1)
check connect_db "-D $E2E_DB: DATABASE() -> '$out'" [ "$out" = "$E2E_DB" ]

out=$(cli "$P" -N -B -e "USE $E2E_DB; SELECT DATABASE(); USE mysql; SELECT DATABASE()" 2>&1)
check use "USE $E2E_DB / USE mysql -> '$(echo $out)'" [ "$out" = "$E2E_DB"$'\n'mysql ]

# With a custom delimiter the CLI sends "SELECT 1; SELECT 2, 3" as one
# COM_QUERY and reads both result sets (CLIENT_MULTI_STATEMENTS).
out=$(printf 'DELIMITER //\nSELECT 1; SELECT 2, 3; SELECT COUNT(*) FROM %s.seq_1_to_77//\n' "$E2E_DB" |
	cli "$P" -N -B 2>&1)
check multi_statement "one COM_QUERY, 3 result sets -> '$(echo $out)'" \
	[ "$out" = $'1\n2\t3\n77' ]

out=$(cli "$P" -D "$E2E_DB" -N -B 2>&1 <<'SQL'
DROP PROCEDURE IF EXISTS p_basic;
DELIMITER //
CREATE PROCEDURE p_basic() BEGIN SELECT 'first'; SELECT seq FROM seq_1_to_3; END//
DELIMITER ;
CALL p_basic();
DROP PROCEDURE p_basic;
SELECT 'after';
SQL
)
check procedure "CALL with 2 result sets, then another query -> '$(echo $out)'" \
	[ "$out" = $'first\n1\n2\n3\nafter' ]

# Error texts come through unchanged, and the CLI exits 1.
out=$(cli "$P" -B -e 'SELEC 1' 2>&1 </dev/null); rc=$?
out=$(grep '^ERROR' <<<"$out")
case $out in
*"ERROR 1064 (42000) at line 1: You have an error in your SQL syntax"*) ok=1 ;;
*) ok=0 ;;
esac
check syntax_error "SELEC 1 -> exit $rc, '$out'" [ "$ok" = 1 -a "$rc" = 1 ]

out=$(cli "$P" -D "$E2E_DB" -B -e 'SELECT * FROM no_such_table_basic' 2>&1 </dev/null); rc=$?
out=$(grep '^ERROR' <<<"$out")
check missing_table "exit $rc, '$out'" \
	[ "$rc" = 1 -a "$out" = "ERROR 1146 (42S02) at line 1: Table '$E2E_DB.no_such_table_basic' doesn't exist" ]

# --force: the session survives an error and runs the next statement.
out=$(printf 'SELECT 1;\nSELEC 2;\nSELECT 3;\n' | cli "$P" -N -B --force 2>/dev/null)
check after_error "error between two queries in one session -> '$(echo $out)'" [ "$out" = $'1\n3' ]

# Character set negotiated in the handshake reaches the backend.
for cs in utf8mb4 latin1; do
	out=$(cli "$P" --default-character-set=$cs -N -B -e 'SELECT @@character_set_client, @@character_set_results' 2>&1)
	check "charset_$cs" "--default-character-set=$cs -> '$out'" [ "$out" = "$cs"$'\t'"$cs" ]
done
word=$'h\xc3\xa9llo \xe2\x9c\x93'    # UTF-8 bytes, whatever the locale
out=$(cli "$P" --default-character-set=utf8mb4 -N -B -e "SELECT HEX('$word'), CHAR_LENGTH('$word'), '$word'" 2>&1)
check utf8_roundtrip "'$word' -> '$out'" [ "$out" = $'68C3A96C6C6F20E29C93\t7\t'"$word" ]

# 5000 rows compared with the same query run directly against MariaDB.
q="SELECT seq, seq * seq, MD5(seq) FROM $E2E_DB.seq_1_to_5000"
via=$(cli "$P" -N -B -e "$q" 2>&1 | md5sum)
direct=$(sql_root -e "$q" | md5sum)
lines=$(cli "$P" -N -B -e "$q" 2>/dev/null | wc -l)
check rows_5000 "5000 rows, md5 of the output ${via%% *} = direct ${direct%% *}" \
	[ "$via" = "$direct" -a "$lines" = 5000 ]

# Status: the CLI's \s asks the server for its version and connection id.
out=$(cli "$P" -e 'status' 2>&1)
case $out in *"Server version:"*"Uptime:"*) ok=1 ;; *) ok=0 ;; esac
check status "\\s shows server version and uptime" [ "$ok" = 1 ]

e2e_finish
