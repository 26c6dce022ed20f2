/* json_int.h — what the JSON writer borrows from the reader. Internal. */
#ifndef TKR_JSON_INT_H
#define TKR_JSON_INT_H

#include "tokenroll/json.h"

/* Next scalar value of string token t, from byte offset *i (start at
 * doc->tok[t].start); advances *i. 0 or TKR_E_JSON / TKR_E_UTF8. */
int tkr_json_next_cp(const tkr_json_t *doc, int t, size_t *i, uint32_t *cp);

#endif
