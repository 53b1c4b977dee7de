/*
 * daemon.c: the process's life outside the event loops: the open-file limit, the root check, detaching
 * from the terminal, the pid file and dropping privileges. memcached's messages where it has them.
 *
 * All of it runs on the main thread before the worker threads start (or, for the pid file removal,
 * after they have been joined).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server_internal.h"

/* File descriptors kept for listeners, notification and logging besides one per connection. */
#define RESERVED_FDS 64

/* Raises the open-file limit to fit maxconns; prints memcached's error and returns false if it can't. */
bool daemon_raise_nofile(const struct settings *s)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)s->maxconns + RESERVED_FDS + 2u * s->threads;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "failed to getrlimit number of files\n");
        return false;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= want)
        return true;
    if (rl.rlim_cur == RLIM_INFINITY)
        return true;
    rl.rlim_cur = want;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        rl.rlim_max = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "failed to set rlimit for open files. Try starting as root or requesting "
                        "smaller maxconns value.\n");
        return false;
    }
    return true;
}

/* Refuses to run as root without -u (memcached's message). */
bool daemon_check_user(const struct settings *s)
{
    if ((getuid() == 0 || geteuid() == 0) && (s->user == NULL || s->user[0] == '\0')) {
        fprintf(stderr, "can't run as root without the -u switch\n");
        return false;
    }
    return true;
}

/* Detaches from the terminal (fork, setsid, chdir /, stdio to /dev/null). False on failure. */
bool daemon_detach(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return false;
    }
    if (pid > 0)
        _exit(EXIT_SUCCESS);
    if (setsid() < 0) {
        perror("setsid");
        return false;
    }
    if (chdir("/") != 0) {
        perror("chdir");
        return false;
    }
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) {
        perror("open /dev/null");
        return false;
    }
    for (int i = 0; i <= 2; i++) {
        if (dup2(fd, i) < 0) {
            close(fd);
            return false;
        }
    }
    if (fd > 2)
        close(fd);
    return true;
}

/* Writes the pid file if one is configured: written to a temporary name and renamed into place. */
bool daemon_write_pid(const struct settings *s)
{
    if (s->pid_file == NULL)
        return true;
    size_t n = strlen(s->pid_file) + 8;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return false;
    snprintf(tmp, n, "%s.tmp", s->pid_file);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "Could not open the pid file %s for writing: %s\n", tmp, strerror(errno));
        free(tmp);
        return false;
    }
    fprintf(f, "%ld\n", (long)getpid());
    bool ok = fclose(f) == 0;
    if (!ok || rename(tmp, s->pid_file) != 0) {
        fprintf(stderr, "Could not write the pid file %s: %s\n", s->pid_file, strerror(errno));
        unlink(tmp);
        ok = false;
    }
    free(tmp);
    return ok;
}

/* Removes the pid file if one is configured. */
void daemon_remove_pid(const struct settings *s)
{
    if (s->pid_file == NULL)
        return;
    if (unlink(s->pid_file) != 0 && errno != ENOENT)
        fprintf(stderr, "Could not remove the pid file %s: %s\n", s->pid_file, strerror(errno));
}

/* As root with -u, switches to that user (groups, gid, then uid). False (with a message) on failure. */
bool daemon_drop_privileges(const struct settings *s)
{
    if (geteuid() != 0 || s->user == NULL)
        return true;
    struct passwd *pw = getpwnam(s->user);
    if (pw == NULL) {
        fprintf(stderr, "can't find the user %s to switch to\n", s->user);
        return false;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "failed to assume identity of user %s\n", s->user);
        return false;
    }
    return true;
}
