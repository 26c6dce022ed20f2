/* tokenroll/envref.h — ${NAME} environment references in configuration
 * values (FLARE's policies and certificate service configuration write
 * url: "${SLACK_WEBHOOK_URL}", api_key: ${NVFLARE_API_KEY}).
 *
 * A reference is "${" NAME "}", NAME one or more of [A-Za-z0-9_] not
 * starting with a digit, at most TKR_ENVREF_NAME_MAX bytes. A '$' not
 * followed by '{' is text ("pa$$word" stays as written). "${" without a
 * closing '}', "${}" and a name with other characters ("${A-B}",
 * "${X:-default}") are malformed: an error, never text, so a typo cannot
 * silently become part of a URL or a path.
 *
 * The library never reads the process environment (no OS call outside
 * port/): the caller passes a lookup, the CLI one over getenv, a test a
 * table. Expansion is one pass: a value that itself holds "${...}" is
 * copied as it is, so no value can pull in another variable. Admin and
 * service side (lib/policy). */
#ifndef TOKENROLL_ENVREF_H
#define TOKENROLL_ENVREF_H

#include <stddef.h>

#include "config.h"
#include "yaml.h"

/* Longest variable name accepted: TKR_ENVREF_NAME_MAX (config.h). */

/* The caller's environment: get(ctx, name) returns the value of the
 * variable name (NUL-terminated), or NULL when it is not set. The value
 * need only stay valid until the next call. */
typedef struct {
    const char *(*get)(void *ctx, const char *name);
    void *ctx;
} tkr_envref_env_t;

/* One reference found in a text: s[start..end) is "${NAME}", the name is
 * s[name..name + name_len). For a malformed one, s[start..end) is what
 * was read of it and why a fixed English reason. */
typedef struct {
    size_t start, end;
    size_t name, name_len;
    const char *why;
} tkr_envref_t;

/* Find the next reference in s[*pos..len). 1 with *ref filled and *pos
 * moved past it; 0 when there is none (*pos = len); TKR_E_POLICY when the
 * next "${" is malformed (ref says where and why). */
int tkr_envref_next(const char *s, size_t len, size_t *pos, tkr_envref_t *ref);

/* Expand every reference of s[0..len) into out (NUL-terminated). With out
 * NULL or too small, *out_len receives the length needed (without the NUL)
 * and the call returns TKR_E_BUFFER_TOO_SMALL. TKR_E_POLICY for a malformed
 * reference anywhere in s (checked before any lookup); TKR_E_NOT_FOUND for
 * a variable env does not set (env NULL: none is set). On either, *bad
 * (when not NULL) describes the first offending reference. */
int tkr_envref_expand(char *out, size_t out_size, size_t *out_len,
                      const char *s, size_t len, const tkr_envref_env_t *env,
                      tkr_envref_t *bad);

/* tkr_envref_expand on a YAML string node, with a message at the node's
 * line and column in err: "<path>: ${NAME} is not set in the environment"
 * (TKR_E_NOT_FOUND), "<path>: malformed environment reference ..."
 * (TKR_E_POLICY). A node that is not a string is TKR_E_INVALID_ARG. For
 * loaders of FLARE's configuration files (the certificate service's
 * cert_service_config.yaml): check the tree once with
 * tkr_yaml_check_strings(TKR_YAML_NO_NUL | TKR_YAML_ENVREFS), keep it as
 * written, and expand each value where it is used. */
int tkr_envref_expand_node(char *out, size_t out_size, size_t *out_len,
                           const tkr_yaml_node_t *n, const tkr_envref_env_t *env,
                           const char *file, const char *path, tkr_diag_t *err);

#endif
