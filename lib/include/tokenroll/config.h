/* tokenroll/config.h — every compile-time limit, each overridable with -D.
 *
 * Every buffer and ceiling the library has is sized here, so an integrator
 * sees the whole memory budget in one place and can shrink it for a small
 * MCU. The defaults fit a FLARE enrollment token carrying a large policy.
 *
 * Each limit must be a plain decimal literal (-DTKR_JWT_MAX=4096, not an
 * expression): the values are spelled into the name of a link-time guard
 * (end of this file), so an application built with other limits than its
 * library fails to link instead of disagreeing about struct sizes. Build
 * the library and every file that includes a tokenroll header with the
 * same -D options. */
#ifndef TOKENROLL_CONFIG_H
#define TOKENROLL_CONFIG_H

/* ---- JWT and JSON (device side) ---- */

/* Longest compact JWS accepted anywhere (bytes). Larger input is refused
 * before any decoding, so a hostile token costs at most this much work. */
#ifndef TKR_JWT_MAX
#define TKR_JWT_MAX 16384
#endif

/* Decoded JOSE header (bytes). Real headers are under 200 bytes. */
#ifndef TKR_JWT_HEADER_MAX
#define TKR_JWT_HEADER_MAX 1024
#endif

/* Decoded claims: 3/4 of the whole token is the most it can hold. Derived,
 * not set: it follows TKR_JWT_MAX. */
#ifdef TKR_JWT_PAYLOAD_MAX
#error "TKR_JWT_PAYLOAD_MAX follows TKR_JWT_MAX; set that instead"
#endif
#define TKR_JWT_PAYLOAD_MAX ((TKR_JWT_MAX / 4) * 3)

/* JSON tokens for one claims object; the FLARE default policy needs ~60. */
#ifndef TKR_JWT_CLAIM_TOKENS
#define TKR_JWT_CLAIM_TOKENS 512
#endif

/* JSON tokens for one JOSE header. */
#ifndef TKR_JWT_HEADER_TOKENS
#define TKR_JWT_HEADER_TOKENS 32
#endif

/* Deepest JSON nesting accepted (RFC 8259 §9 lets us pick a limit). The
 * validator keeps one int per level on the stack. */
#ifndef TKR_JSON_DEPTH_MAX
#define TKR_JSON_DEPTH_MAX 32
#endif

/* Largest JSON text any reader accepts, 1 MiB (jsmn offsets are int). */
#ifndef TKR_JSON_LEN_MAX
#define TKR_JSON_LEN_MAX 1048576
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

/* JSON tokens in one tkr_jwks_t (20 bytes each: 2.5 KB by default). A
 * one-key set takes about 15, a key with an x5c chain about 20, so 128
 * holds the usual identity provider's set of two or three keys with room
 * to spare. Providers that publish a dozen keys (Azure AD's common set is
 * about 250 tokens) need 512; a device that verifies with one pinned key
 * can go down to 32. */
#ifndef TKR_JWKS_TOKENS
#define TKR_JWKS_TOKENS 128
#endif

/* ---- diagnostic text ----
 *
 * TKR_DIAG_TEXT (default 1; 0 on flash-bound devices) is set like the
 * limits here, but defined in tokenroll/error.h, which the ports include
 * without the library's link-time guard. */

/* ---- the flash-bound device build ----
 *
 * TKR_DEVICE_LEAN (default 0; 1 in `make cross-m4`) leaves out of the
 * device flow the checks the certificate service makes anyway, keeping
 * those issue 11 asks of the device: tkr_token_read reads only the claims
 * the flow uses (jti, sub, iss, subject_type, iat, exp; max_uses is 1 and
 * policy, roles, source_ips and the policy's metadata are -1, unread), and
 * the enrollment pre-flight checks exp and iat from them instead of
 * tkr_jwt_check_claims (nbf and aud are left to the service, which refuses
 * such a token). It changes no struct, so the link-time guard does not
 * spell it. */
#ifndef TKR_DEVICE_LEAN
#define TKR_DEVICE_LEAN 0
#endif

/* ---- host side: files, YAML, policy ---- */

/* Storage needed for one CA file (cert.json with a 4096-bit RSA key). */
#ifndef TKR_CERTJSON_MAX
#define TKR_CERTJSON_MAX 16384
#endif

/* Longest file path kept (bytes, with terminator). */
#ifndef TKR_PATH_MAX
#define TKR_PATH_MAX 512
#endif

/* Largest YAML text accepted, 1 MiB. */
#ifndef TKR_YAML_LEN_MAX
#define TKR_YAML_LEN_MAX 1048576
#endif

/* Deepest nesting of YAML sequences and mappings. */
#ifndef TKR_YAML_DEPTH_MAX
#define TKR_YAML_DEPTH_MAX 64
#endif

/* Size of a YAML document once aliases are expanded, counted as nodes plus
 * string bytes, 8 MiB: bounds "billion laughs" documents, whose few bytes
 * of aliases expand to gigabytes of JSON. */
#ifndef TKR_YAML_EXPANDED_MAX
#define TKR_YAML_EXPANDED_MAX 8388608
#endif

/* Ceiling on one policy/YAML arena's total size, 64 MiB: the inputs are
 * bounded (TKR_YAML_LEN_MAX), and so is what they may grow into. */
#ifndef TKR_ARENA_MAX
#define TKR_ARENA_MAX 67108864
#endif

/* Longest ${NAME} variable name in a policy or configuration (bytes). */
#ifndef TKR_ENVREF_NAME_MAX
#define TKR_ENVREF_NAME_MAX 128
#endif

/* Longest JWT authenticator response format once its whitespace is removed
 * (bytes, at most 256). Real formats are a few dozen bytes; the limit
 * bounds the matcher's tables (tokenroll/authjwt.h). */
#ifndef TKR_AUTHJWT_FORMAT_MAX
#define TKR_AUTHJWT_FORMAT_MAX 256
#endif

/* ---- host side: the certificate service ----
 * (They size nothing in a public struct, so the link-time guard below does
 * not spell them.) */

/* Largest request body the service reads, 64 KiB; more is 413. */
#ifndef TKR_SERVICE_BODY_MAX
#define TKR_SERVICE_BODY_MAX 65536
#endif

/* Most names in one batch request (token minting, approve_batch). */
#ifndef TKR_SERVICE_BATCH_MAX
#define TKR_SERVICE_BATCH_MAX 1000
#endif

/* Largest certification request the service accepts (PEM bytes); an
 * RSA-4096 request is about 1.7 KB. At most TKR_STORE_PEM_MAX - 1. */
#ifndef TKR_ISSUE_CSR_MAX
#define TKR_ISSUE_CSR_MAX 8191
#endif

/* ---- link-time guard ----
 *
 * The library defines one symbol whose name spells every limit above
 * (lib/config.c); each file that includes this header references the
 * symbol its own limits spell. Built with other limits, the application
 * asks for a symbol the library does not have, and the link fails naming
 * the limits it was built with. */
#define TKR_CONFIG_NAME_(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r) \
    tkr_config_jwt##a##_hdr##b##_ctok##c##_htok##d##_depth##e##_json##f## \
    _sig##g##_kid##h##_leeway##i##_jwks##j##_cj##k##_path##l##_yaml##m## \
    _ydepth##n##_yexp##o##_arena##p##_env##q##_fmt##r
#define TKR_CONFIG_NAME(...) TKR_CONFIG_NAME_(__VA_ARGS__)
#define TKR_CONFIG_GUARD                                                  \
    TKR_CONFIG_NAME(TKR_JWT_MAX, TKR_JWT_HEADER_MAX, TKR_JWT_CLAIM_TOKENS, \
                    TKR_JWT_HEADER_TOKENS, TKR_JSON_DEPTH_MAX,             \
                    TKR_JSON_LEN_MAX, TKR_JWT_SIG_MAX, TKR_KID_MAX,        \
                    TKR_JWT_LEEWAY_MAX, TKR_JWKS_TOKENS, TKR_CERTJSON_MAX, \
                    TKR_PATH_MAX, TKR_YAML_LEN_MAX, TKR_YAML_DEPTH_MAX,    \
                    TKR_YAML_EXPANDED_MAX, TKR_ARENA_MAX,                  \
                    TKR_ENVREF_NAME_MAX, TKR_AUTHJWT_FORMAT_MAX)

extern const char TKR_CONFIG_GUARD;
#if defined(__GNUC__)
/* `used` keeps the reference even where nothing reads it. */
__attribute__((used)) static const char *const tkr_config_guard_ref =
    &TKR_CONFIG_GUARD;
#endif

#endif
