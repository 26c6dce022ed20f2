/* device/main.c — the device program of a cross-compiled build (make
 * cross-aarch64): `tokenroll enroll` alone, linked without the policy
 * library, libyaml, libmicrohttpd or a database. */
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
    /* "tokenroll-device enroll ..." and "tokenroll-device ..." alike. */
    if (argc > 1 && strcmp(argv[1], "enroll") == 0)
        return cmd_enroll(argc - 2, argv + 2);
    return cmd_enroll(argc - 1, argv + 1);
}
