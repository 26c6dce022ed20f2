/* utf8.h — character helpers shared by the JSON reader and writer, the
 * policy parsers, HTTP and enrollment: strict UTF-8 (RFC 3629), hex
 * digits, decimal text. Internal to lib/. */
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

/* v in decimal, NUL-terminated, at the end of buf; returns where it
 * starts. size_t, not uint64_t: a 32-bit MCU then needs no 64-bit
 * division. */
#define TKR_DEC_TEXT_MAX 21
const char *tkr_dec_text(char buf[TKR_DEC_TEXT_MAX], size_t v);

#endif
