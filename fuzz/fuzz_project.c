/* fuzz_project.c — libFuzzer harness for FLARE's project.yml loader.
 *
 * Invariants (abort on violation): a failed load returns TKR_E_YAML,
 * TKR_E_POLICY or TKR_E_TOO_LARGE with a message and leaves the project
 * empty; a successful one has exactly one server with both ports in
 * 1..65535, api_version 3, every participant with name, type and org,
 * unique names, admins (and only admins) with a role. The text is copied
 * to a heap buffer of its exact size so ASan sees any over-read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/project.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    tkr_project_t p;
    tkr_diag_t err;
    size_t i, j, servers = 0;
    int rc;

    CHECK(text != NULL);
    if (size > 0)
        memcpy(text, data, size);
    tkr_project_init(&p);
    rc = tkr_project_load(&p, text, size, "project.yml", &err);
    if (rc != 0) {
        CHECK(rc == TKR_E_YAML || rc == TKR_E_POLICY || rc == TKR_E_TOO_LARGE ||
              rc == TKR_E_NO_MEMORY);
        CHECK(err.msg[0] != '\0');
        CHECK(p.arena == NULL && p.participants == NULL && p.n_participants == 0);
        free(text);
        return 0;
    }
    CHECK(p.api_version == 3 && p.name != NULL && p.name[0] != '\0');
    CHECK(p.n_participants >= 1);
    for (i = 0; i < p.n_participants; i++) {
        const tkr_participant_t *pt = &p.participants[i];
        CHECK(pt->name != NULL && pt->type != NULL && pt->org != NULL);
        CHECK(pt->line >= 1 && pt->column >= 1);
        if (strcmp(pt->type, "server") == 0) {
            servers++;
            CHECK(pt->fed_learn_port >= 1 && pt->fed_learn_port <= 65535);
            CHECK(pt->admin_port >= 1 && pt->admin_port <= 65535);
        }
        CHECK((strcmp(pt->type, "admin") == 0) == (pt->role != NULL));
        for (j = 0; j < i; j++)
            CHECK(strcmp(p.participants[j].name, pt->name) != 0);
    }
    CHECK(servers == 1);
    tkr_project_free(&p);
    CHECK(p.arena == NULL);
    free(text);
    return 0;
}
