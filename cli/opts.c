/* opts.c — the one option parser every command uses.
 *
 * Long options (--name value, --name=value), short ones (-n value), flags,
 * and list options that take every following argument up to the next
 * option (argparse's nargs='+', as `token batch --names a b c`). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int find_long(const cli_args_t *a, const char *name, size_t len)
{
    int i;
    for (i = 0; i < a->nspec; i++) {
        const cli_opt_t *o = &a->spec[i];
        if ((strlen(o->name) == len && strncmp(o->name, name, len) == 0) ||
            (o->alias != NULL && strlen(o->alias) == len &&
             strncmp(o->alias, name, len) == 0))
            return i;
    }
    return -1;
}

static int find_short(const cli_args_t *a, char c)
{
    int i;
    for (i = 0; i < a->nspec; i++)
        if (a->spec[i].short_name == c)
            return i;
    return -1;
}

static int is_option(const char *s)
{
    /* "-" alone is stdin, and negative numbers are values. */
    return s[0] == '-' && s[1] != '\0' && !(s[1] >= '0' && s[1] <= '9');
}

int cli_parse(cli_args_t *a, const cli_opt_t *spec, const char *usage,
              int argc, char **argv)
{
    int i, only_pos = 0;

    memset(a, 0, sizeof(*a));
    a->spec = spec;
    a->usage = usage;
    while (spec[a->nspec].name != NULL && a->nspec < CLI_MAX_OPTS)
        a->nspec++;

    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq = NULL;
        int o;

        if (only_pos || !is_option(arg)) {
            if (a->npos == CLI_MAX_POS)
                return cli_usage_fail(a, "too many arguments: %s", arg);
            a->pos[a->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            printf("%s", usage);
            return -1;
        }
        if (arg[1] == '-') {
            eq = strchr(arg + 2, '=');
            o = find_long(a, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
        } else {
            o = arg[2] == '\0' ? find_short(a, arg[1]) : -1;
        }
        if (o < 0)
            return cli_usage_fail(a, "unrecognized option %s", arg);
        a->seen[o] = 1;
        if (spec[o].kind == OPT_FLAG) {
            if (eq != NULL)
                return cli_usage_fail(a, "option --%s takes no value", spec[o].name);
            continue;
        }
        if (spec[o].kind == OPT_LIST) {
            int start = i + 1;
            while (i + 1 < argc && !is_option(argv[i + 1]))
                i++;
            if (i + 1 == start)
                return cli_usage_fail(a, "option --%s needs at least one value", spec[o].name);
            a->list[o] = argv + start;
            a->nlist[o] = i + 1 - start;
            continue;
        }
        if (eq != NULL) {
            a->value[o] = eq + 1;
        } else if (i + 1 < argc) {
            a->value[o] = argv[++i];
        } else {
            return cli_usage_fail(a, "option %s needs a value", arg);
        }
        if (spec[o].kind == OPT_MULTI) {
            if (a->nmulti == CLI_MAX_MULTI)
                return cli_usage_fail(a, "too many --%s", spec[o].name);
            a->multi[a->nmulti] = a->value[o];
            a->multi_opt[a->nmulti++] = o;
        }
    }
    return 0;
}

static int index_of(const cli_args_t *a, const char *name)
{
    return find_long(a, name, strlen(name));
}

const char *cli_get(const cli_args_t *a, const char *name)
{
    int o = index_of(a, name);
    return o < 0 ? NULL : a->value[o];
}

int cli_has(const cli_args_t *a, const char *name)
{
    int o = index_of(a, name);
    return o >= 0 && a->seen[o];
}

int cli_list(const cli_args_t *a, const char *name, char ***values)
{
    int o = index_of(a, name);
    if (o < 0 || a->list[o] == NULL)
        return 0;
    *values = a->list[o];
    return a->nlist[o];
}

int cli_multi(const cli_args_t *a, const char *name, const char **out, int max)
{
    int o = index_of(a, name), i, n = 0;

    for (i = 0; o >= 0 && i < a->nmulti; i++)
        if (a->multi_opt[i] == o && n < max)
            out[n++] = a->multi[i];
    return n;
}
