/* arena.h — one bump allocator per document, so a whole policy, project or
 * YAML tree is released with a single call. Internal to lib/policy. */
#ifndef TKR_ARENA_H
#define TKR_ARENA_H

#include <stddef.h>

#include "tokenroll/config.h" /* TKR_ARENA_MAX */

typedef struct tkr_arena tkr_arena_t;

/* A new, empty arena; NULL when out of memory. */
tkr_arena_t *tkr_arena_new(void);
/* Release every block the arena handed out. NULL is a no-op. */
void tkr_arena_free(tkr_arena_t *a);
/* n bytes aligned for any object, zeroed; NULL when out of memory or when
 * the arena's total would pass TKR_ARENA_MAX. */
void *tkr_arena_alloc(tkr_arena_t *a, size_t n);
/* Why the last failed allocation of a failed: TKR_E_TOO_LARGE when it
 * would pass TKR_ARENA_MAX (the input's fault), TKR_E_NO_MEMORY when the
 * host had no memory (and for a NULL arena: its creation failed). */
int tkr_arena_error(const tkr_arena_t *a);
/* The sentence for that code, for a diagnostics message. */
const char *tkr_arena_why(int rc);
/* Copy of s[0..n) with a terminating NUL. */
char *tkr_arena_strndup(tkr_arena_t *a, const char *s, size_t n);

#endif
