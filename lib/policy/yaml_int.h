/* yaml_int.h — what the YAML loader, the JSON writer, the policy and the
 * project loaders share. Internal to lib/policy. */
#ifndef TKR_YAML_INT_H
#define TKR_YAML_INT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "tokenroll/json.h"
#include "tokenroll/yaml.h"

/* A node as the loaders allocate it: the public node first, so a
 * tkr_yaml_node_t pointer converts back. */
typedef struct {
    tkr_yaml_node_t n;
    uint64_t weight;     /* expanded size: nodes + string bytes */
    unsigned height;     /* levels of collections, aliases expanded */
    int done;            /* a collection whose end was seen */
    int merge;           /* the merge key "<<" (a marker, never a value) */
    char *json;          /* INT: decimal digits; FLOAT: Python's repr */
    size_t json_len;
} tkr_ynode_t;

#define TKR_YNODE(p) ((tkr_ynode_t *)(void *)(p))
#define TKR_CYNODE(p) ((const tkr_ynode_t *)(const void *)(p))

tkr_ynode_t *tkr_ynode_new(tkr_arena_t *a, tkr_yaml_kind_t kind, int line, int column);

/* Implicit tag of a plain scalar (PyYAML's Resolver, YAML 1.1). */
typedef enum {
    TKR_RES_STR,
    TKR_RES_NULL,
    TKR_RES_BOOL,
    TKR_RES_INT,
    TKR_RES_FLOAT,
    TKR_RES_TIMESTAMP,
    TKR_RES_MERGE,       /* "<<" */
    TKR_RES_VALUE        /* "=" */
} tkr_res_t;

tkr_res_t tkr_yaml_resolve(const char *s, size_t n);
int tkr_yaml_is_int(const char *s, size_t n);
int tkr_yaml_is_float(const char *s, size_t n);
/* yes/no/true/false/on/off in any case: 0 or 1; -1 otherwise. */
int tkr_yaml_bool_value(const char *s, size_t n);

/* Fill an INT node from text as PyYAML's construct_yaml_int does; s must
 * match tkr_yaml_is_int (or be a JSON integer). 0, or -1 with *why. */
int tkr_yaml_set_int(tkr_arena_t *a, tkr_ynode_t *y, const char *s, size_t n,
                     const char **why);
/* Fill a FLOAT node as construct_yaml_float does (strict: s must match
 * tkr_yaml_is_float, or be any float Python's float() reads when loose). */
int tkr_yaml_set_float(tkr_arena_t *a, tkr_ynode_t *y, const char *s, size_t n,
                       int loose, const char **why);
int tkr_yaml_set_double(tkr_arena_t *a, tkr_ynode_t *y, double v);

/* Python's repr(float) (and json.dumps' Infinity/-Infinity/NaN). out needs
 * 32 bytes; returns the length. */
size_t tkr_py_float_repr(char out[32], double v);

/* Record an error (err may be NULL). */
void tkr_yaml_set_err(tkr_diag_t *err, const char *file, int line,
                      int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Record a validation error at node n (or at no_node_line:1 when n is
 * NULL) and return TKR_E_POLICY: what every schema check reports. */
int tkr_yaml_bad(tkr_diag_t *err, const char *file,
                 const tkr_yaml_node_t *n, int no_node_line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* "a string", "a list", ... for "expected X, got Y" messages. */
const char *tkr_yaml_kind_name(const tkr_yaml_node_t *n);

/* s[0..n) for a message: quoted, escaped, cut at max bytes. */
void tkr_yaml_show(char *out, size_t size, const char *s, size_t n, size_t max);

/* Call fn on every string of the tree (keys too, is_key 1; aliases as
 * often as they are used), depth first in document order, with the key
 * path of the value ("approval.rules[0].notify[1]"; a key's path is its
 * mapping's). The first non-zero return stops the walk and is returned. */
#define TKR_YAML_PATH_MAX 200
typedef int (*tkr_yaml_str_fn)(void *ctx, const tkr_yaml_node_t *n, const char *path,
                               int is_key);
int tkr_yaml_walk_strings(const tkr_yaml_node_t *root, tkr_yaml_str_fn fn, void *ctx);

/* Build a tree from JSON value t of doc (a token's policy claim). */
int tkr_yaml_from_json(tkr_arena_t *a, const tkr_json_t *doc, int t,
                       tkr_yaml_node_t **out, tkr_diag_t *err);

#endif
