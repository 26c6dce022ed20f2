/* tokenroll/glob.h — shell patterns for enrollment names (fnmatch without
 * flags, case-sensitive), as FLARE's site.name_pattern, a rule's
 * site_name_pattern and a "pattern" token's subject use them. No OS call:
 * a device matches its own name against a pattern token. */
#ifndef TOKENROLL_GLOB_H
#define TOKENROLL_GLOB_H

/* 1 when name matches pattern, else 0. */
int tkr_glob_match(const char *pattern, const char *name);

/* 0 when pattern is a well-formed glob (non-empty, brackets closed, no
 * trailing '\', no reversed range, no "[^" or "[:class:]"); TKR_E_POLICY
 * otherwise. */
int tkr_glob_check(const char *pattern);

/* Why tkr_glob_check refused pattern (a fixed English sentence; for a
 * well-formed pattern, a sentence saying so). */
const char *tkr_glob_problem(const char *pattern);

#endif
