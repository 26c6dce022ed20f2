#!/usr/bin/env bash
# The libraries define no global symbol without the tkr_ prefix: a firmware
# or program that links them keeps its own names (its own jsmn, say,
# configured otherwise). Reads the static libraries of the build under test.
. "$(dirname "$0")/lib.sh"
need nm || exit 0
B=${TKR_BUILD:-$ROOT/build}
libs=("$B"/libtokenroll*.a)
if [ ! -f "${libs[0]}" ]; then fail "the build's libraries are there" "none in $B"; exit 0; fi
for a in "${libs[@]}"; do
  n=$(basename "$a")
  all=$(nm -g --defined-only "$a" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)
  [ -n "$all" ] || { fail "$n: nm lists its symbols"; continue; }
  bad=$(printf '%s\n' "$all" | grep -v '^tkr_' | grep -v '^__' | head -5)
  [ -z "$bad" ] && pass "$n: every global symbol it defines ($(printf '%s\n' "$all" | wc -l)) starts with tkr_" ||
    fail "$n: every global symbol it defines starts with tkr_" "$bad"
done
# jsmn's two functions are in the library, under the prefix
nm -g --defined-only "$B/libtokenroll.a" 2>/dev/null | grep -q ' T tkr_jsmn_parse$' &&
  pass "jsmn's parser is exported as tkr_jsmn_parse" || fail "jsmn's parser is exported as tkr_jsmn_parse"
