/* tokenroll/subject.h — who a token or a certificate is for: FLARE's
 * participant types, with one table of names for the whole library.
 *
 * A token's subject_type is one of the five; a participant (project.yml, a
 * startup kit, an enrollment request, a certificate) is one of the first
 * four: "pattern" names a family of sites, never one of them. */
#ifndef TOKENROLL_SUBJECT_H
#define TOKENROLL_SUBJECT_H

typedef enum {
    TKR_SUBJECT_CLIENT = 0,
    TKR_SUBJECT_ADMIN,
    TKR_SUBJECT_RELAY,
    TKR_SUBJECT_SERVER,
    TKR_SUBJECT_PATTERN
} tkr_subject_type_t;

/* "client", "admin", "relay", "server", "pattern"; NULL outside the enum. */
const char *tkr_subject_type_name(tkr_subject_type_t t);

/* The reverse, also accepting "user" for admin (FLARE's --user).
 * TKR_E_NOT_FOUND for any other text, TKR_E_INVALID_ARG for NULLs. */
int tkr_subject_type_parse(const char *s, tkr_subject_type_t *t);

/* The participant names only: "client", "admin", "relay", "server" as
 * FLARE's project.yml and startup kits spell them ("user" and "pattern"
 * are TKR_E_NOT_FOUND). */
int tkr_participant_type_parse(const char *s, tkr_subject_type_t *t);

#endif
