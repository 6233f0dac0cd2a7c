#!/usr/bin/env bash
# test_pymysql.sh — PyMySQL (Debian's /usr/bin/python3) through shunt: login
# with and without a db, COM_INIT_DB, 10k rows and a 200k-row streamed
# result with classic EOF packets (PyMySQL does not use
# CLIENT_DEPRECATE_EOF), executemany + COMMIT/ROLLBACK seen from a second
# connection, multi-statement results, error codes 1146 and 1045.
. "$(dirname "$0")/lib.sh"
e2e_init pymysql
mariadb_ensure
if ! "$PY" -c 'import pymysql' 2>/dev/null; then
	fail import "python3-pymysql is not installed for $PY"
	e2e_finish
fi
shunt_start
run_checks pymysql_check "$PY" "$(dirname "$0")/pymysql_check.py" 127.0.0.1 "$SHUNT_PORT" \
	"$E2E_USER" "$E2E_PASS" "$E2E_DB"
e2e_finish
