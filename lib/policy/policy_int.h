/* policy_int.h — what the policy's loader and its environment checks
 * share. Internal to lib/policy. */
#ifndef TKR_POLICY_INT_H
#define TKR_POLICY_INT_H

#include <stddef.h>

/* 1 when s[0..len) is an http:// or https:// URL. With refs, the text up
 * to its first ${...} reference is judged alone ("${URL}" and
 * "https://${HOST}/hook" pass, "ftp://${HOST}" does not): the expanded
 * whole is judged where it is used. */
int tkr_policy_url_ok(const char *s, size_t len, int refs);

#endif
