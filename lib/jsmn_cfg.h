/* jsmn_cfg.h — jsmn's configuration, the same for its implementation
 * (jsmn.c) and its caller (json_tok.c): the token layout depends on it.
 * Internal. */
#ifndef TKR_JSMN_CFG_H
#define TKR_JSMN_CFG_H

#define JSMN_PARENT_LINKS
#define JSMN_STRICT

/* jsmn's two external functions under the library's prefix: a firmware
 * that links its own jsmn, perhaps configured otherwise, keeps it. */
#define jsmn_init tkr_jsmn_init
#define jsmn_parse tkr_jsmn_parse

#endif
