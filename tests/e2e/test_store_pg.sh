#!/usr/bin/env bash
# The store's unit suite (tests/unit/test_store.c) on PostgreSQL: the same
# tests that run on SQLite, against a server started here.
. "$(dirname "$0")/lib.sh"

bin="${TKR_BUILD:?run through tests/run.sh}/tests/test_store"
[ -x "$bin" ] || { fail "test_store is built" "missing $bin"; exit 1; }
start_postgres
run_unit postgresql "$bin" TKR_TEST_DB="$PG_URL"
