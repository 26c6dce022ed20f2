/* tokenroll/config.h — compile-time limits, each overridable with -D.
 *
 * Every buffer a device-side module needs has its size here, so an integrator
 * sees the whole memory budget in one place and can shrink it for a small MCU.
 * The defaults fit a FLARE enrollment token carrying a large policy. */
#ifndef TOKENROLL_CONFIG_H
#define TOKENROLL_CONFIG_H

/* Longest compact JWS accepted anywhere (bytes). Larger input is refused
 * before any decoding, so a hostile token costs at most this much work. */
#ifndef TKR_JWT_MAX
#define TKR_JWT_MAX 16384
#endif

/* Decoded JOSE header (bytes). Real headers are under 200 bytes. */
#ifndef TKR_JWT_HEADER_MAX
#define TKR_JWT_HEADER_MAX 1024
#endif

/* Decoded claims: 3/4 of the whole token is the most it can hold. */
#ifndef TKR_JWT_PAYLOAD_MAX
#define TKR_JWT_PAYLOAD_MAX ((TKR_JWT_MAX / 4) * 3)
#endif

/* JSON tokens for one claims object; the FLARE default policy needs ~60. */
#ifndef TKR_JWT_CLAIM_TOKENS
#define TKR_JWT_CLAIM_TOKENS 512
#endif

/* JSON tokens for one JOSE header. */
#ifndef TKR_JWT_HEADER_TOKENS
#define TKR_JWT_HEADER_TOKENS 32
#endif

/* Deepest JSON nesting accepted (RFC 8259 §9 lets us pick a limit). */
#ifndef TKR_JSON_DEPTH_MAX
#define TKR_JSON_DEPTH_MAX 32
#endif

/* Largest JSON text any reader accepts (jsmn offsets are int). */
#ifndef TKR_JSON_LEN_MAX
#define TKR_JSON_LEN_MAX (1024 * 1024)
#endif

/* Raw signature sizes: RSA up to 4096 bits, ECDSA P-384 r||s. */
#ifndef TKR_JWT_SIG_MAX
#define TKR_JWT_SIG_MAX 512
#endif

/* Key id kept from a header or JWKS entry (bytes, with terminator). */
#ifndef TKR_KID_MAX
#define TKR_KID_MAX 128
#endif

/* Largest clock-skew leeway honoured (seconds); larger values are clamped. */
#ifndef TKR_JWT_LEEWAY_MAX
#define TKR_JWT_LEEWAY_MAX 86400
#endif

#endif
