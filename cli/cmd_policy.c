/* cmd_policy.c — placeholder until the policy commands land. */
#include "cli.h"

int cmd_policy(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail("policy commands are not available yet");
}
