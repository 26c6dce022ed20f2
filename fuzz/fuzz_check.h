/* fuzz_check.h — the invariant check every harness uses: a broken
 * invariant aborts, so libFuzzer saves the input as a crash. */
#ifndef TKR_FUZZ_CHECK_H
#define TKR_FUZZ_CHECK_H

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

#endif
