/*
 * listen.c: the listen sockets and the accept loop on the main thread.
 *
 * Every -l address (host, host:port, IPv6 literal bare or as [addr]:port) is resolved with getaddrinfo
 * and bound with SO_REUSEADDR (IPv6 sockets IPV6_V6ONLY, so "::" and "0.0.0.0" can coexist); -s binds
 * one Unix socket instead, created under the -a mask. The accept callback takes up to ACCEPT_BATCH
 * sockets per event, refuses those over the -c limit as memcached does ("ERROR Too many open
 * connections"), and hands the rest round-robin to the workers. When the process runs out of file
 * descriptors, accepting pauses briefly (listen_disabled_num); with -o no_maxconns_fast it pauses at
 * the -c limit too, instead of refusing, so that new clients wait in the backlog.
 *
 * Threads: main thread only. The connection counters are atomics that workers decrement.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "protocol/auth.h"
#include "protocol/mcbin/mcbin.h"
#include "protocol/resp/resp.h"
#include "server/server_internal.h"

#define ACCEPT_BATCH    64
#define ACCEPT_PAUSE_MS 100
#define MAXCONNS_PAUSE_MS 10

/* Formats a socket address as `stats conns` shows it ("tcp:1.2.3.4:5", "tcp6:[::1]:5"). */
void listen_format_addr(const struct sockaddr *sa, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(out, n, "tcp:%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, n, "tcp6:[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(out, n, "unix:");
    }
}

/* Appends a listener for fd. The --resp-port (resp true) speaks RESP from the first byte. The
 * memcached port speaks as -B says: auto takes the binary protocol for a first byte 0x80, RESP for
 * '*' and the text protocols otherwise; ascii the same without the binary protocol (memcached reads
 * such a request as text); binary only the binary protocol (whatever else arrives is closed on its
 * first header, as memcached does). */
static bool add_listener(struct server *srv, int fd, bool is_unix, const char *addr, bool resp)
{
    struct listener *l = realloc(srv->listeners, (srv->nlisteners + 1) * sizeof(*l));
    if (l == NULL)
        return false;
    srv->listeners = l;
    l += srv->nlisteners++;
    memset(l, 0, sizeof(*l));
    l->fd = fd;
    l->is_unix = is_unix;
    if (resp) {
        l->ops = &resp_proto_ops;
        l->ctx = &srv->resp_ctx;
    } else if (srv->settings->protocol == SETTINGS_PROTO_BINARY) {
        l->ops = &mcbin_proto_ops;
        l->ctx = &srv->ctx; /* the binary protocol shares the text protocol's context */
    } else {
        l->ops = &mc_proto_ops; /* memcached's text protocols (classic and meta) */
        l->ctx = &srv->ctx;
        l->star_ops = &resp_proto_ops; /* RESP for a first byte '*' */
        l->star_ctx = &srv->resp_ctx;
        if (srv->settings->protocol == SETTINGS_PROTO_AUTO) {
            l->bin_ops = &mcbin_proto_ops; /* the binary protocol for a first byte 0x80 */
            l->bin_ctx = &srv->ctx;
        }
    }
    snprintf(l->addr, sizeof(l->addr), "%s", addr);
    return true;
}

/* Makes fd non-blocking and close-on-exec. */
static bool set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

/* Binds and listens on one resolved TCP address. Returns the fd, or -1 with errno set. */
static int bind_tcp(const struct addrinfo *ai, int backlog)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (!set_nonblock(fd) || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/*
 * Splits one -l entry into host and port: "[v6]:port", "[v6]", "v4-or-name:port", a bare IPv6 literal
 * (two or more colons) or a bare host. host must hold strlen(spec) + 1 bytes. False on a bad form.
 */
static bool split_host_port(const char *spec, int default_port, char *host, int *port)
{
    const char *colon = strrchr(spec, ':');
    *port = default_port;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL)
            return false;
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = '\0';
        if (close[1] == '\0')
            return true;
        if (close[1] != ':')
            return false;
        colon = close + 1;
    } else if (colon != NULL && strchr(spec, ':') == colon) {
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
    } else {
        strcpy(host, spec);
        return true;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
        return false;
    *port = (int)p;
    return true;
}

/* Whether sa is a loopback address (127.0.0.0/8, ::1, or 127.x mapped into IPv6). */
static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family != AF_INET6)
        return false;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a))
        return true;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
}

/* Protected mode: without credentials, a TCP address that is not loopback is refused (unless
 * --protected-mode no), so that an open cache is never put on a network by accident. */
static bool protected_refuses(const struct server *srv, const struct sockaddr *sa, const char *spec)
{
    if (!srv->settings->protected_mode || auth_enabled(srv->auth) || is_loopback(sa))
        return false;
    char addr[CONN_ADDR_MAX];
    listen_format_addr(sa, addr, sizeof(addr));
    fprintf(stderr,
            "refusing to listen on %s (-l %s) without credentials (protected mode): anyone who can "
            "reach it could read, change and flush every item. Give -Y <file> or --requirepass "
            "<password>, listen on 127.0.0.1 only, or start with --protected-mode no to run open.\n",
            addr, spec);
    return true;
}

/* See server_internal.h. */
bool listen_host_of(const char *spec, char *host, size_t size)
{
    int port;
    if (strlen(spec) + 1 > size)
        return false;
    return split_host_port(spec, 0, host, &port);
}

/* Binds every address one -l entry resolves to (on the --resp-port when resp). Prints memcached-style
 * errors. */
static bool open_tcp_spec(struct server *srv, const char *spec, bool resp)
{
    const struct settings *s = srv->settings;
    char *host = malloc(strlen(spec) + 1);
    int port;
    if (host == NULL)
        return false;
    if (!split_host_port(spec, s->port, host, &port)) {
        fprintf(stderr, "failed to parse the listen address \"%s\"\n", spec);
        free(host);
        return false;
    }
    if (resp)
        port = s->resp_port;
    struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host[0] != '\0' ? host : NULL, portstr, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "getaddrinfo(): %s\n", gai_strerror(rc));
        free(host);
        return false;
    }
    bool ok = true;
    for (struct addrinfo *ai = res; ai != NULL && ok; ai = ai->ai_next) {
        if (protected_refuses(srv, ai->ai_addr, spec)) {
            ok = false;
            break;
        }
        int fd = bind_tcp(ai, s->backlog);
        if (fd < 0) {
            if (errno == EAFNOSUPPORT)
                continue;
            fprintf(stderr, "failed to listen on TCP port %d: %s\n", port, strerror(errno));
            ok = false;
            break;
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        char addr[CONN_ADDR_MAX];
        getsockname(fd, (struct sockaddr *)&ss, &len);
        listen_format_addr((struct sockaddr *)&ss, addr, sizeof(addr));
        if (!add_listener(srv, fd, false, addr, resp)) {
            close(fd);
            ok = false;
        }
    }
    freeaddrinfo(res);
    free(host);
    return ok;
}

/* Binds the -s Unix socket under the -a mask, replacing a stale socket file. */
static bool open_unix(struct server *srv)
{
    const struct settings *s = srv->settings;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;

    if (strlen(s->unix_socket) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "Unix socket path too long: %s\n", s->unix_socket);
        return false;
    }
    strcpy(sun.sun_path, s->unix_socket);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || !set_nonblock(fd)) {
        perror("socket()");
        if (fd >= 0)
            close(fd);
        return false;
    }
    if (lstat(s->unix_socket, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(s->unix_socket);
    mode_t old = umask((mode_t)(~s->unix_mask & 0777));
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc != 0 || listen(fd, s->backlog) != 0) {
        fprintf(stderr, "failed to listen on UNIX socket \"%s\": %s\n", s->unix_socket, strerror(errno));
        close(fd);
        return false;
    }
    char addr[CONN_ADDR_MAX];
    snprintf(addr, sizeof(addr), "unix:%s", s->unix_socket);
    if (!add_listener(srv, fd, true, addr, false)) {
        close(fd);
        return false;
    }
    return true;
}

/* Opens every listen socket the settings ask for; prints memcached-style errors. False on failure. */
bool listen_open(struct server *srv)
{
    const struct settings *s = srv->settings;

    if (s->unix_socket != NULL)
        return open_unix(srv);
    for (size_t i = 0; i < s->nlisten; i++) {
        if (!open_tcp_spec(srv, s->listen[i], false))
            return false;
    }
    for (size_t i = 0; s->resp_port >= 0 && i < s->nlisten; i++) {
        if (!open_tcp_spec(srv, s->listen[i], true))
            return false;
    }
    if (srv->nlisteners == 0) {
        fprintf(stderr, "failed to listen: no usable address\n");
        return false;
    }
    return true;
}

/* Refuses a connection over the -c limit with its protocol's words (memcached: "ERROR Too many open
 * connections"). */
static void reject(struct server *srv, int fd, const struct listener *l)
{
    ssize_t n = write(fd, l->ops->reject, strlen(l->ops->reject));
    (void)n;
    close(fd);
    atomic_fetch_add_explicit(&srv->rejected_conns, 1, memory_order_relaxed);
}

/* Sets whether the listen sockets are polled. */
static void set_accepting(struct server *srv, bool on)
{
    for (size_t i = 0; i < srv->nlisteners; i++) {
        if (on)
            event_add(srv->listeners[i].ev, NULL);
        else
            event_del(srv->listeners[i].ev);
    }
    atomic_store(&srv->accepting, on);
}

/* The pause after running out of descriptors is over. */
static void on_accept_timer(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    if (!srv->stopping)
        set_accepting(srv, true);
}

/* Out of file descriptors: stop polling the listeners for a moment. */
static void pause_accepting(struct server *srv)
{
    struct timeval tv = {0, ACCEPT_PAUSE_MS * 1000};
    set_accepting(srv, false);
    atomic_fetch_add_explicit(&srv->listen_disabled_num, 1, memory_order_relaxed);
    evtimer_add(srv->accept_timer, &tv);
    server_log(srv, 1, "Too many open files: accepting paused\n");
}

/* Accepts one socket; returns false when the batch should end. */
static bool accept_one(struct server *srv, unsigned idx)
{
    int fd;
#ifdef HAVE_ACCEPT4
    fd = accept4(srv->listeners[idx].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    fd = accept(srv->listeners[idx].fd, NULL, NULL);
    if (fd >= 0 && !set_nonblock(fd)) {
        close(fd);
        return true;
    }
#endif
    if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED)
            return true;
        if (errno == EMFILE || errno == ENFILE)
            pause_accepting(srv);
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            server_log(srv, 1, "accept(): %s\n", strerror(errno));
        return false;
    }
    uint64_t curr = atomic_load_explicit(&srv->curr_conns, memory_order_relaxed);
    if (curr >= srv->settings->maxconns) {
        reject(srv, fd, &srv->listeners[idx]);
        return true;
    }
    curr = atomic_fetch_add_explicit(&srv->curr_conns, 1, memory_order_relaxed) + 1;
    atomic_fetch_add_explicit(&srv->total_conns, 1, memory_order_relaxed);
    if (curr > atomic_load_explicit(&srv->conn_structs, memory_order_relaxed))
        atomic_store_explicit(&srv->conn_structs, curr, memory_order_relaxed);
    struct worker *w = &srv->workers[srv->next_worker];
    srv->next_worker = (srv->next_worker + 1) % srv->nworkers;
    worker_dispatch(w, fd, idx);
    return true;
}

/* -o no_maxconns_fast at the -c limit: instead of accepting and refusing, stop polling the listeners
 * for MAXCONNS_PAUSE_MS (memcached checks every 10 ms too), so that new clients wait in the backlog
 * until a connection closes. Returns whether accepting was paused. */
static bool pause_at_limit(struct server *srv)
{
    struct timeval tv = {0, MAXCONNS_PAUSE_MS * 1000};

    if (srv->settings->maxconns_fast ||
        atomic_load_explicit(&srv->curr_conns, memory_order_relaxed) < srv->settings->maxconns)
        return false;
    set_accepting(srv, false);
    atomic_fetch_add_explicit(&srv->listen_disabled_num, 1, memory_order_relaxed);
    evtimer_add(srv->accept_timer, &tv);
    return true;
}

/* A listen socket is readable: accept a bounded batch. */
static void on_accept(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    (void)fd;
    (void)what;
    for (int i = 0; i < ACCEPT_BATCH && !l->srv->stopping && !pause_at_limit(l->srv); i++) {
        if (!accept_one(l->srv, l->idx))
            break;
    }
}

/* Starts accepting on the main thread's base. False on no memory. */
bool listen_start(struct server *srv)
{
    srv->accept_timer = evtimer_new(srv->base, on_accept_timer, srv);
    if (srv->accept_timer == NULL)
        return false;
    for (size_t i = 0; i < srv->nlisteners; i++) {
        srv->listeners[i].srv = srv;
        srv->listeners[i].idx = (unsigned)i;
        srv->listeners[i].ev =
            event_new(srv->base, srv->listeners[i].fd, EV_READ | EV_PERSIST, on_accept, &srv->listeners[i]);
        if (srv->listeners[i].ev == NULL)
            return false;
    }
    set_accepting(srv, true);
    return true;
}

/* Stops accepting and closes the listen sockets (removing a Unix socket file). */
void listen_close(struct server *srv)
{
    /* Workers answering `stats conns` read each fd (stats.c): they stop listing the listeners
     * first, and one that already looked reads the fd atomically (it may print a closed one). */
    atomic_store(&srv->accepting, false);
    for (size_t i = 0; i < srv->nlisteners; i++) {
        struct listener *l = &srv->listeners[i];
        if (l->ev != NULL)
            event_free(l->ev);
        l->ev = NULL;
        if (l->fd < 0)
            continue;
        close(l->fd);
        __atomic_store_n(&l->fd, -1, __ATOMIC_RELAXED);
        if (l->is_unix && srv->settings->unix_socket != NULL)
            unlink(srv->settings->unix_socket);
    }
    if (srv->accept_timer != NULL)
        event_free(srv->accept_timer);
    srv->accept_timer = NULL;
}
