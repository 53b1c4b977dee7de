/*
 * main.c: the cairn binary's entry point: parse the options, make the process-wide checks memcached
 * makes before it starts (root without -u, the open-file limit), and run the server.
 *
 * Exit status, memcached 1.6.18's where it has one: 0 after -h, -V or a clean stop (SIGTERM, SIGINT,
 * SIGUSR1, `shutdown`); 1 for a bad option value memcached refuses as it reads it (-c 0, -t 0, -f 1,
 * unknown options) and 64 (EX_USAGE) for the others (settings.h) and for root without -u; 71
 * (EX_OSERR) when the open-file limit cannot fit -c or the server cannot start (the port is taken);
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
#define EXIT_OSERR 71

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
    case SETTINGS_BAD_VALUE:
        settings_deinit(&s);
        return EXIT_FAILURE;
    default:
        settings_deinit(&s);
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    /* memcached's order: the core file limit (-r), the open-file limit, then the root check. */
    rc = s.max_core && !daemon_raise_core() ? EXIT_OSERR
         : !daemon_raise_nofile(&s)         ? EXIT_OSERR
         : !daemon_check_user(&s)           ? EXIT_USAGE
                                            : 0;
    if (rc != 0) {
        settings_deinit(&s);
        return rc;
    }
    rc = server_run(&s);
    settings_deinit(&s);
    return rc;
}
