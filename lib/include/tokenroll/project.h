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

/* Load and validate: api_version (int), name (a safe directory name),
 * description, participants (a list; exactly one server with
 * fed_learn_port and admin_port in 1..65535; admin users with role;
 * names unique), builders (each with path). Unknown keys at the top level
 * or in a participant are errors, except FLARE's own optional participant
 * keys (listening_host, connect_to, host_names, default_host, ...), which
 * are accepted and ignored. TKR_E_YAML / TKR_E_POLICY with err. */
int tkr_project_load(tkr_project_t *p, const char *text, size_t len,
                     const char *file, tkr_yaml_err_t *err);

#endif
