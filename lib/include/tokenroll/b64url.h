/* tokenroll/b64url.h — base64url without padding (RFC 7515 §2, RFC 4648 §5).
 *
 * Strict: decoding rejects padding, whitespace, the '+' and '/' alphabet,
 * a length of 1 mod 4 and non-zero trailing bits, so every byte string has
 * exactly one encoding and a token cannot be altered without changing its
 * signature input. */
#ifndef TOKENROLL_B64URL_H
#define TOKENROLL_B64URL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Characters needed to encode n bytes (no terminator). */
#define TKR_B64URL_ENCODED_LEN(n) ((((n) / 3) * 4) + (((n) % 3) ? ((n) % 3) + 1 : 0))
/* Bytes n characters decode to, exactly (n % 4 != 1: such a length is
 * never base64url). Sizes a buffer without a pass over the text. */
#define TKR_B64URL_DECODED_LEN(n) (((n) / 4) * 3 + ((n) % 4 ? (n) % 4 - 1 : 0))
/* Bytes at most produced by decoding n characters. */
#define TKR_B64URL_DECODED_MAX(n) (((n) / 4) * 3 + 2)

/* Encode in[0..in_len) into out. A NUL is appended when room remains, but
 * *out_len never counts it. TKR_E_BUFFER_TOO_SMALL when out is short.
 * in may be the start of out ((const uint8_t *)out == in): the text then
 * replaces the bytes in place, with no second buffer; other overlaps are
 * not allowed. */
int tkr_b64url_encode(char *out, size_t out_size, size_t *out_len,
                      const uint8_t *in, size_t in_len);

/* Decode in[0..in_len). out may be NULL to learn the size in *out_len
 * (the text is validated all the same).
 * TKR_E_BASE64 for anything but the one canonical encoding; diag (may be
 * NULL) then gets the offset in `in` of the character at fault (for a bad
 * length or non-zero trailing bits: the last one). */
int tkr_b64url_decode(uint8_t *out, size_t out_size, size_t *out_len,
                      const char *in, size_t in_len, tkr_diag_t *diag);

#endif
