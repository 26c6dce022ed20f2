/* arena.c — chunked bump allocator (see arena.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "tokenroll/error.h"

#define CHUNK 8192u
#define ALIGN 16u

typedef struct chunk {
    struct chunk *next;
    size_t size;   /* usable bytes after the header */
    size_t used;
} chunk_t;

struct tkr_arena {
    chunk_t *head;
    size_t total;
    int err;       /* why the last allocation failed */
};

/* The header is padded so the first object is ALIGN-aligned. */
#define HDR (((sizeof(chunk_t) + ALIGN - 1) / ALIGN) * ALIGN)

tkr_arena_t *tkr_arena_new(void)
{
    return calloc(1, sizeof(tkr_arena_t));
}

void tkr_arena_free(tkr_arena_t *a)
{
    chunk_t *c, *next;

    if (a == NULL)
        return;
    for (c = a->head; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

void *tkr_arena_alloc(tkr_arena_t *a, size_t n)
{
    chunk_t *c;
    size_t need, size;
    unsigned char *p;

    if (a == NULL)
        return NULL;
    if (n > TKR_ARENA_MAX) {
        a->err = TKR_E_TOO_LARGE;
        return NULL;
    }
    need = (n + ALIGN - 1) / ALIGN * ALIGN;
    if (need == 0)
        need = ALIGN;
    c = a->head;
    if (c == NULL || c->size - c->used < need) {
        size = need > CHUNK / 2 ? need : CHUNK;
        if (a->total + size > TKR_ARENA_MAX) {
            a->err = TKR_E_TOO_LARGE;
            return NULL;
        }
        c = malloc(HDR + size);
        if (c == NULL) {
            a->err = TKR_E_NO_MEMORY;
            return NULL;
        }
        c->size = size;
        c->used = 0;
        a->total += size;
        if (need > CHUNK / 2 && a->head != NULL) {
            /* A big block goes behind the current chunk, which keeps
             * serving small requests. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    p = (unsigned char *)c + HDR + c->used;
    c->used += need;
    memset(p, 0, n);
    return p;
}

int tkr_arena_error(const tkr_arena_t *a)
{
    return a != NULL && a->err != 0 ? a->err : TKR_E_NO_MEMORY;
}

const char *tkr_arena_why(int rc)
{
    return rc == TKR_E_TOO_LARGE ? "the document needs more memory than TKR_ARENA_MAX allows"
                                 : "out of memory";
}

char *tkr_arena_strndup(tkr_arena_t *a, const char *s, size_t n)
{
    char *d;

    if (n == SIZE_MAX) {
        if (a != NULL)
            a->err = TKR_E_TOO_LARGE;
        return NULL;
    }
    d = tkr_arena_alloc(a, n + 1);
    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
