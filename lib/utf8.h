/* utf8.h — character helpers shared by the JSON reader and writer and the
 * policy parsers: strict UTF-8 (RFC 3629) and hex digits. Internal to lib/. */
#ifndef TKR_UTF8_H
#define TKR_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode one scalar value from s[*i..end); advances *i. Rejects overlong
 * forms, surrogates and values past U+10FFFF: returns -1 then. */
int tkr_utf8_decode(const char *s, size_t end, size_t *i, uint32_t *cp);

/* Encode cp into out (4 bytes room); returns the byte count. */
size_t tkr_utf8_encode(char out[4], uint32_t cp);

/* 0..15 for a hex digit of either case, else -1. */
int tkr_hex_digit(char c);

#endif
