/* tokenroll/cidr.h — IPv4 and IPv6 addresses and address blocks
 * (RFC 4291 §2.2, RFC 4632), parsed without the OS's inet_pton so a device
 * can check a token's source_ips and a certificate can carry an IP SAN.
 *
 * One parser for every address text tokenroll reads. Strict where parsers
 * disagree: an IPv4 octet with a leading zero (010 is 8 to some, 10 to
 * others) and a zone index (%eth0) are refused. */
#ifndef TOKENROLL_CIDR_H
#define TOKENROLL_CIDR_H

#include <stddef.h>
#include <stdint.h>

/* Address block; family 4 or 6, addr in network order (IPv4 in addr[0..4)),
 * prefix bits; host bits are zero. */
typedef struct {
    int family;
    uint8_t addr[16];
    unsigned prefix;
} tkr_cidr_t;

/* Longest text tkr_cidr_format writes, with the NUL. */
#define TKR_CIDR_STR_MAX 48

/* The bytes of an address as written: *out_len is 4 (dotted IPv4) or 16
 * (IPv6, an IPv4-mapped one included: the caller decides whether to fold
 * it). TKR_E_POLICY when s[0..len) is not an address. */
int tkr_ip_parse(uint8_t out[16], size_t *out_len, const char *s, size_t len);

/* CIDR or bare address (a /32 or /128); host bits are cleared, IPv4-mapped
 * IPv6 blocks of prefix >= 96 become IPv4. 0 or TKR_E_POLICY. */
int tkr_cidr_parse(tkr_cidr_t *c, const char *s, size_t len);

/* 1 when ip (text; IPv4-mapped IPv6 counts as IPv4) is inside c, 0 when
 * not or unparsable. */
int tkr_cidr_contains(const tkr_cidr_t *c, const char *ip);

/* 1 when ip is an IPv4 or IPv6 address (no prefix, no zone). */
int tkr_ip_valid(const char *ip);

/* "10.0.0.0/8", "2001:db8::/32" (RFC 5952), NUL-terminated.
 * TKR_E_BUFFER_TOO_SMALL when the text does not fit (TKR_CIDR_STR_MAX
 * bytes always do). */
int tkr_cidr_format(char *out, size_t out_size, const tkr_cidr_t *c);

#endif
