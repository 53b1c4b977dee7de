/*
 * main.c: the cairn binary's entry point: parse the options, make the process-wide checks memcached
 * makes before it starts (root without -u, the open-file limit), and run the server.
 *
 * Exit status: 0 after -h, -V or a clean stop (SIGTERM, SIGINT, SIGUSR1, `shutdown`); 64 (EX_USAGE) for a bad
 * option; 71 (EX_OSERR) when the server cannot start (e.g. the port is taken); 1 for the root check;
 * 65 (EX_DATAERR) for a bad snapshot file at start and 74 (EX_IOERR) for an unreadable one or a failed
 * final snapshot (server/snapshot_ctl.h).
 *
 * SIGXFSZ is ignored so that a snapshot write past the file-size limit fails with EFBIG (and is
 * reported) instead of killing the server.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "server/server_internal.h"
#include "server/settings.h"

#define EXIT_USAGE 64

int main(int argc, char **argv)
{
    struct settings s;
    int rc;

    settings_init(&s);
    switch (settings_parse(&s, argc, argv, stdout, stderr)) {
    case SETTINGS_OK:
        break;
    case SETTINGS_EXIT:
        settings_deinit(&s);
        return EXIT_SUCCESS;
    default:
        settings_deinit(&s);
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    if (!daemon_check_user(&s) || !daemon_raise_nofile(&s)) {
        settings_deinit(&s);
        return EXIT_FAILURE;
    }
    rc = server_run(&s);
    settings_deinit(&s);
    return rc;
}
