/* config.c — the library's half of the limits guard (tokenroll/config.h):
 * the one symbol whose name spells the limits it was built with. */
#include "tokenroll/config.h"

const char TKR_CONFIG_GUARD = 0;
