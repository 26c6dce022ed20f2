/* tokenroll/yaml.h — YAML documents for the admin side (libyaml).
 *
 * Admin-side only (lib/policy, linked with libyaml): a device build links
 * neither. A document is loaded into a small tree whose every node keeps
 * its line and column, so any later check can say exactly where the file
 * is wrong. Scalars are resolved with YAML 1.1 rules, as PyYAML's
 * safe_load does: `yes/no/on/off/true/false` are booleans, `1.0` a float,
 * `"1.0"` a string, `~`/`null` null, `0x1F` and `017` integers; a date or
 * timestamp is an error (it has no JSON form). Anchors and aliases are
 * expanded. */
#ifndef TOKENROLL_YAML_H
#define TOKENROLL_YAML_H

#include <stddef.h>
#include <stdint.h>

/* Where a problem is: file, 1-based line and column, and what is wrong. */
typedef struct {
    char file[256];
    int line;
    int column;
    char msg[256];
} tkr_yaml_err_t;

typedef enum {
    TKR_YAML_NULL = 1,
    TKR_YAML_BOOL,
    TKR_YAML_INT,
    TKR_YAML_FLOAT,
    TKR_YAML_STR,
    TKR_YAML_SEQ,
    TKR_YAML_MAP
} tkr_yaml_kind_t;

typedef struct tkr_yaml_node {
    tkr_yaml_kind_t kind;
    int line, column;            /* 1-based, of the node's start */
    char *str;                   /* STR: the value; INT/FLOAT: source text */
    size_t len;
    int64_t i;                   /* INT value; BOOL 0/1 */
    double f;                    /* FLOAT value */
    /* SEQ: items[0..n); MAP: keys[k] -> items[k], keys in file order */
    struct tkr_yaml_node **items;
    struct tkr_yaml_node **keys;
    size_t n;
} tkr_yaml_node_t;

typedef struct {
    tkr_yaml_node_t *root;       /* NULL for an empty document */
    void *arena;                 /* owned storage */
} tkr_yaml_doc_t;

void tkr_yaml_init(tkr_yaml_doc_t *doc);
void tkr_yaml_free(tkr_yaml_doc_t *doc);

/* Load one YAML document from text[0..len). file names it in errors.
 * TKR_E_YAML (syntax, with err), TKR_E_POLICY (a date, a non-scalar key,
 * a duplicate key, ...), TKR_E_TOO_LARGE. */
int tkr_yaml_load(tkr_yaml_doc_t *doc, const char *text, size_t len,
                  const char *file, tkr_yaml_err_t *err);

/* Value of key in a MAP node, or NULL. */
const tkr_yaml_node_t *tkr_yaml_get(const tkr_yaml_node_t *map, const char *key);

/* The document as compact, ASCII-escaped JSON with keys in file order:
 * byte-identical to Python's json.dumps(yaml.safe_load(f),
 * separators=(',', ':')). Floats are written as Python's repr would. */
int tkr_yaml_to_json(char *out, size_t out_size, size_t *out_len,
                     const tkr_yaml_node_t *node);

#endif
