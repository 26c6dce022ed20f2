/* subject.c — the participant type names, in one table. */
#include <stddef.h>
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/subject.h"

/* Canonical names first, in enum order; aliases after them. */
static const struct {
    const char *name;
    tkr_subject_type_t type;
} names[] = {
    {"client", TKR_SUBJECT_CLIENT}, {"admin", TKR_SUBJECT_ADMIN},
    {"relay", TKR_SUBJECT_RELAY},   {"server", TKR_SUBJECT_SERVER},
    {"pattern", TKR_SUBJECT_PATTERN},
    {"user", TKR_SUBJECT_ADMIN}, /* FLARE's --user means an admin token */
};

#define N_CANONICAL ((unsigned)TKR_SUBJECT_PATTERN + 1)

const char *tkr_subject_type_name(tkr_subject_type_t t)
{
    if ((unsigned)t >= N_CANONICAL)
        return NULL;
    return names[t].name;
}

static int lookup(const char *s, tkr_subject_type_t *t, size_t n, int participant)
{
    size_t i;

    if (s == NULL || t == NULL)
        return TKR_E_INVALID_ARG;
    for (i = 0; i < n; i++)
        if (strcmp(s, names[i].name) == 0 &&
            !(participant && names[i].type == TKR_SUBJECT_PATTERN)) {
            *t = names[i].type;
            return 0;
        }
    return TKR_E_NOT_FOUND;
}

int tkr_subject_type_parse(const char *s, tkr_subject_type_t *t)
{
    return lookup(s, t, sizeof(names) / sizeof(names[0]), 0);
}

int tkr_participant_type_parse(const char *s, tkr_subject_type_t *t)
{
    return lookup(s, t, N_CANONICAL, 1);
}
