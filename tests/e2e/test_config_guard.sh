#!/usr/bin/env bash
# tokenroll/config.h's link-time guard: an application built with the
# library's limits links; one built with other limits fails to link, and
# the linker names the limits it asked for.
. "$(dirname "$0")/lib.sh"
need cc
B=${TKR_BUILD:?run through tests/run.sh}
cd "$W"
cat > app.c <<'C'
#include <string.h>
#include "tokenroll/json.h"
int main(void)
{
    static tkr_json_tok_t toks[8];
    tkr_json_t doc;
    return tkr_json_parse(&doc, toks, 8, "{}", 2, NULL);
}
C
# A sanitizer build's library needs the sanitizer runtime at link time.
san=()
nm "$B/libtokenroll.a" 2>/dev/null | grep -q ' U __asan_' && san=(-fsanitize=address,undefined)
build() { cc -std=c11 "${san[@]}" -I"$ROOT/lib/include" "$@" -o app app.c "$B/libtokenroll.a" 2>&1; }

out=$(build) && ./app
same "an application built with the library's limits links and runs" "$?" "0"
out=$(build -DTKR_JWKS_TOKENS=64); rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'undefined reference to .*tkr_config_.*_jwks64_'; then
  pass "other limits (TKR_JWKS_TOKENS=64) refuse to link, naming them"
else
  fail "other limits (TKR_JWKS_TOKENS=64) refuse to link, naming them" "exit $rc: $out"
fi
out=$(build -DTKR_JSON_DEPTH_MAX=8); rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'undefined reference to .*_depth8_'; then
  pass "a changed JSON depth refuses to link"
else
  fail "a changed JSON depth refuses to link" "exit $rc: $out"
fi
out=$(build -DTKR_JWT_PAYLOAD_MAX=100); rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'follows TKR_JWT_MAX'; then
  pass "the derived payload limit cannot be set on its own"
else
  fail "the derived payload limit cannot be set on its own" "exit $rc: $out"
fi
