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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

/* See server_internal.h. */
int daemon_open_log(const struct settings *s)
{
    if (s->log_file == NULL)
        return -1;
    int fd = open(s->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "Could not open the log file %s: %s\n", s->log_file, strerror(errno));
        return -2;
    }
    return fd;
}

/* See server_internal.h. */
bool daemon_redirect_log(int log_fd)
{
    if (log_fd < 0)
        return true;
    fflush(stdout);
    fflush(stderr);
    bool ok = dup2(log_fd, STDOUT_FILENO) >= 0 && dup2(log_fd, STDERR_FILENO) >= 0;
    close(log_fd);
    return ok;
}

/* See server_internal.h. */
void daemon_lock_memory(void)
{
    /* MCL_ONFAULT locks pages as they are first touched: without it the arena's whole reservation
     * (32 GiB, MAP_NORESERVE) would be faulted in at once. A kernel without it refuses the call. */
#ifdef MCL_ONFAULT
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0)
        fprintf(stderr, "warning: -k invalid, mlockall() failed: %s\n", strerror(errno));
#else
    fprintf(stderr, "warning: -k invalid, mlockall() not supported on this platform.  proceeding without.\n");
#endif
}

/* See server_internal.h. memcached's way: unlimited, else the hard limit; fail only at 0. */
bool daemon_raise_core(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_CORE, &rl) == 0) {
        struct rlimit want = {RLIM_INFINITY, RLIM_INFINITY};
        if (setrlimit(RLIMIT_CORE, &want) != 0) {
            want.rlim_cur = want.rlim_max = rl.rlim_max;
            (void)setrlimit(RLIMIT_CORE, &want);
        }
    }
    if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur == 0) {
        fprintf(stderr, "failed to ensure corefile creation\n");
        return false;
    }
    return true;
}

/* See server_internal.h. */
bool daemon_detach(int log_fd)
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
        if (dup2(i > 0 && log_fd >= 0 ? log_fd : fd, i) < 0) {
            close(fd);
            return false;
        }
    }
    if (fd > 2)
        close(fd);
    if (log_fd > 2)
        close(log_fd);
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

/* See server_internal.h. systemd's notification protocol: one datagram to the unix socket named by
 * $NOTIFY_SOCKET (a leading '@' names an abstract socket). */
bool daemon_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || path[0] == '\0')
        return false;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sun.sun_path))
        return false;
    memcpy(sun.sun_path, path, len);
    if (path[0] == '@')
        sun.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, alen);
    close(fd);
    return n == (ssize_t)strlen(state);
}
