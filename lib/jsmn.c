/* jsmn.c — jsmn's implementation (Debian libjsmn-dev is header-only),
 * compiled once, in an object of its own, with the configuration the
 * reader needs: strict, with parent links. json_tok.c is its one caller.
 *
 * Its own object so the device image can count it with the third-party
 * code it links (mbedTLS, newlib), on a line of its own
 * (port/baremetal/qemu/image.sh), rather than inside tokenroll's share. */
#include "jsmn_cfg.h"
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wshadow"
#endif
#include <jsmn.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
