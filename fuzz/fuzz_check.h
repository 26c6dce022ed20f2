/* fuzz_check.h — what the harnesses share: the invariant check (a broken
 * invariant aborts, so libFuzzer saves the input as a crash) and a
 * deterministic entropy source for the port. */
#ifndef TKR_FUZZ_CHECK_H
#define TKR_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) {                                                           \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,        \
                    __LINE__, #c);                                            \
            abort();                                                          \
        }                                                                     \
    } while (0)

/* Deterministic "entropy" (xorshift64) so every crash reproduces; never
 * for real use. */
static inline int fixed_entropy(void *ctx, uint8_t *out, size_t len)
{
    static uint64_t x = 0x9E3779B97F4A7C15u;
    size_t i;

    (void)ctx;
    for (i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (uint8_t)x;
    }
    return 0;
}

#endif
