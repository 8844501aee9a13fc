/* cli.c - the admin verbs of the homelabcmd command, beside serve/version/help. */
#include <stddef.h>

#include "cli.h"

const struct hlc_cli_cmd hlc_cli_cmds[] = {
    {NULL, NULL},
};

const char hlc_cli_usage[] = "";
