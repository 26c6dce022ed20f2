/* tokenroll/yaml.h — YAML documents for the admin side (libyaml).
 *
 * Admin-side only (lib/policy, linked with libyaml): a device build links
 * neither. A document is loaded into a small tree whose every node keeps
 * its line and column, so any later check can say exactly where the file
 * is wrong. Scalars are resolved with YAML 1.1 rules, as PyYAML's
 * safe_load does: `yes/no/on/off/true/false` are booleans, `1.0` a float
 * (but `1e3`, having no dot, a string), `"1.0"` a string, `~`/`null`/empty
 * null, `0x1F`, `017` (octal), `0b101` and `1:30` (base 60) integers; a
 * date or timestamp is an error (it has no JSON form). Anchors and aliases
 * are expanded (an alias shares its node: the tree is a DAG, never a
 * cycle), merge keys (`<<`) are applied as PyYAML applies them.
 *
 * Where PyYAML would build something JSON cannot hold, or where a mapping
 * repeats a key (PyYAML silently keeps the last value), loading fails with
 * the line and column: a YAML file that loads here means the same thing to
 * PyYAML. libyaml is more lenient than PyYAML's scanner in two places, and
 * both are refused as PyYAML refuses them: a tab between tokens (tabs are
 * allowed only in quoted scalars, block scalar content and comments) and
 * "|#comment" without a space. Tags: `!!str`, `!!int`, `!!float`, `!!bool`,
 * `!!null`, `!!seq`, `!!map` and the non-specific `!`; any other tag is an
 * error. Input is UTF-8, or UTF-16 with a byte order mark; lines and
 * columns count characters. */
#ifndef TOKENROLL_YAML_H
#define TOKENROLL_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
/* Limits (TKR_YAML_LEN_MAX, TKR_YAML_DEPTH_MAX, TKR_YAML_EXPANDED_MAX): config.h. */
#include "config.h"

typedef enum {
    TKR_YAML_NULL = 1,
    TKR_YAML_BOOL,
    TKR_YAML_INT,
    TKR_YAML_FLOAT,
    TKR_YAML_STR,
    TKR_YAML_SEQ,
    TKR_YAML_MAP
} tkr_yaml_kind_t;

/* INT node whose value lies outside int64_t: i is clamped to INT64_MIN or
 * INT64_MAX, the JSON form keeps every digit. */
#define TKR_YAML_BIG 0x1u

typedef struct tkr_yaml_node {
    tkr_yaml_kind_t kind;
    int line, column;            /* 1-based, of the node's start */
    char *str;                   /* STR: the value (NUL-terminated, may hold
                                    NULs: use len); INT/FLOAT: source text */
    size_t len;
    int64_t i;                   /* INT value; BOOL 0/1 */
    double f;                    /* FLOAT value */
    unsigned flags;              /* TKR_YAML_BIG */
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
/* Releases the whole tree (one arena). Safe on an initialised doc. */
void tkr_yaml_free(tkr_yaml_doc_t *doc);

/* Load one YAML document from text[0..len). file names it in errors.
 * TKR_E_YAML (syntax, with err), TKR_E_POLICY (a date, a non-scalar key,
 * a duplicate key or anchor, an unsupported tag, a recursive alias, more
 * than one document, ...), TKR_E_TOO_LARGE (text over TKR_YAML_LEN_MAX,
 * nesting over TKR_YAML_DEPTH_MAX, expansion over TKR_YAML_EXPANDED_MAX,
 * a tree over TKR_ARENA_MAX), TKR_E_NO_MEMORY (the host ran out),
 * TKR_E_INVALID_ARG. err (may be NULL) gets line, column and message, and
 * err->file points at file. On failure doc holds nothing. */
int tkr_yaml_load(tkr_yaml_doc_t *doc, const char *text, size_t len,
                  const char *file, tkr_diag_t *err);

/* Value of key in a MAP node (a string key), or NULL. */
const tkr_yaml_node_t *tkr_yaml_get(const tkr_yaml_node_t *map, const char *key);

/* The document as compact, ASCII-escaped JSON with keys in file order:
 * byte-identical to Python's json.dumps(yaml.safe_load(f),
 * separators=(',', ':')). Floats are written as Python's repr would
 * (Infinity, -Infinity and NaN as json.dumps writes them). node NULL is
 * the empty document: "null". A NUL terminator follows the text, so
 * out_size must exceed the length; with out NULL or a buffer too small,
 * *out_len receives the length needed (without the NUL) and the call
 * returns TKR_E_BUFFER_TOO_SMALL. */
int tkr_yaml_to_json(char *out, size_t out_size, size_t *out_len,
                     const tkr_yaml_node_t *node);

/* What tkr_yaml_check_strings refuses. */
#define TKR_YAML_NO_NUL  0x1u   /* a NUL in any key or string value */
#define TKR_YAML_ENVREFS 0x2u   /* a malformed ${...} in a string value
                                   (envref.h) */

/* Walk the whole tree (aliases included) and check every string against
 * flags: TKR_E_POLICY at the first offender, with its line, column and key
 * path ("notifications.channels.email.smtp_config.from_address") in err.
 * tkr_yaml_load keeps a "\0" escape as PyYAML does (yaml2json shows it as
 * \u0000); every loader of a document with a schema (policy, project,
 * service configuration) calls this with TKR_YAML_NO_NUL, so no string of
 * such a document ever holds NUL: the C strings of the model would cut it
 * short, and the strict JSON reader refuses \u0000, so a token's policy
 * claim holding one could never be read back. */
int tkr_yaml_check_strings(const tkr_yaml_node_t *root, unsigned flags,
                           const char *file, tkr_diag_t *err);

#endif
