/* jsmn_cfg.h — jsmn's configuration, the same for its implementation
 * (jsmn.c) and its caller (json_tok.c): the token layout depends on it.
 * Internal. */
#ifndef TKR_JSMN_CFG_H
#define TKR_JSMN_CFG_H

#define JSMN_PARENT_LINKS
#define JSMN_STRICT

#endif
