#!/usr/bin/env bash
# test_client.sh — the C client (libmariadb) scenarios through shunt:
# simple queries and USE/connect-with-db, multi-statements and a procedure
# with several result sets, server-side prepared statements (NULL bitmap,
# long data, result binding, cursor fetch), LOAD DATA LOCAL INFILE,
# COMMIT/ROLLBACK seen from a second connection, wrong password -> 1045.
. "$(dirname "$0")/lib.sh"
e2e_init client
mariadb_ensure
shunt_start
for scen in simple multi prepared infile txn badpass; do
	client "$scen"
done
e2e_finish
