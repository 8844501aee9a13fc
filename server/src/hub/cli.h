/* cli.h - what main.c shares with the admin verbs and background services. */
#ifndef HLC_CLI_H
#define HLC_CLI_H

#include <stdio.h>

#include "hub.h"

/* An admin verb: `homelabcmd NAME ...`. argv[0] is NAME. Returns the exit code. */
struct hlc_cli_cmd {
    const char *name;                   /* verb */
    int (*run)(int argc, char **argv);  /* runs it */
};

/* The admin verbs (cli.c), NULL-name terminated, and their usage lines. */
extern const struct hlc_cli_cmd hlc_cli_cmds[];
extern const char hlc_cli_usage[];

/* The command's help text (settings.c). */
void hlc_usage(FILE *f);

/* Settings from the environment, then flags (argv[0] is the verb).
 * 0, or -1 after printing what is wrong. */
int hlc_settings_load(struct hlc_settings *s, int argc, char **argv);
void hlc_settings_release(struct hlc_settings *s);
/* mkdir -p with mode 0700. 0 or -1 (printed). */
int hlc_data_dir_prepare(const char *dir);

/* Takes the data directory's lock (DATA_DIR/homelabcmd.lock, flock): the
 * running hub holds it, restore checks it. 0 with *fd held until closed (or
 * the process ends), HLC_EBUSY when another process holds it, HLC_EIO. */
int hlc_data_dir_lock(const char *dir, int *fd);

/* Starts and stops the hub's background services (services.c) in order.
 * start: 0, or -1 after logging (everything started is stopped again). */
int hlc_services_start(struct hlc_hub *hub);
void hlc_services_stop(struct hlc_hub *hub);

#endif
