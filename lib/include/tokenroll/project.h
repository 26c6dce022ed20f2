/* tokenroll/project.h — FLARE's project.yml, as `provision` reads it.
 * Admin side (lib/policy, libyaml). Errors carry file, line and column. */
#ifndef TOKENROLL_PROJECT_H
#define TOKENROLL_PROJECT_H

#include <stddef.h>

#include "yaml.h"

typedef struct {
    char *name;          /* host name (server), e-mail (admin), site name */
    char *type;          /* server, client, admin, relay, overseer */
    char *org;
    char *role;          /* admin: project_admin, lead, member, org_admin */
    int fed_learn_port;  /* server: 0 when absent */
    int admin_port;      /* server: 0 when absent */
    int line, column;    /* where it is defined, for later messages */
} tkr_participant_t;

typedef struct {
    int api_version;
    char *name;
    char *description;
    tkr_participant_t *participants;
    size_t n_participants;
    size_t n_builders;   /* builders: accepted and reported as ignored */
    void *arena;
} tkr_project_t;

void tkr_project_init(tkr_project_t *p);
void tkr_project_free(tkr_project_t *p);

/* Load and validate, as `nvflare provision` reads the file: api_version
 * (3), name (a safe directory name: letters, digits, '_', '-', '.', not
 * starting with '.' or '-', at most 64), description, participants (a
 * list; exactly one server with fed_learn_port and admin_port in
 * 1..65535; at most one overseer; every participant with name, type and
 * org, names unique; admin users with role project_admin, org_admin, lead
 * or member, and only they; names as FLARE checks them: host name for a
 * server, e-mail for an admin, [A-Za-z0-9_-] for a client or relay),
 * builders (each with path, optional args). Unknown keys at the top level
 * or in a participant are errors, except FLARE's own optional participant
 * keys (listening_host, connect_to, host_names, default_host, protocol,
 * api_root, port, overseer_end_point, components, connection_security,
 * enable_byoc), which are accepted and ignored. TKR_E_YAML / TKR_E_POLICY
 * with err (file, line, column, message). p must be initialised; on
 * failure it holds nothing. */
int tkr_project_load(tkr_project_t *p, const char *text, size_t len,
                     const char *file, tkr_diag_t *err);

#endif
