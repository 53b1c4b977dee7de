/*
 * snapshot_ctl.c: when snapshots are saved and loaded, and who hears about it (see snapshot_ctl.h).
 *
 * State: one struct snapshot_ctl per server, under one mutex (lock) with a condition variable the
 * snapshot thread sleeps on (CLOCK_MONOTONIC, so the periodic deadline ignores clock changes):
 *
 *   busy      a save is running or accepted and about to run; a request while busy is refused
 *   pending   a request was accepted and the thread has not picked it up yet
 *   waiters   the `snapshot` requests that wait for the save in progress (a singly linked list)
 *   stop      the server is stopping; final = run one last save before the thread ends
 *   figures   the last save's outcome and the start-up load's, for `stats`
 *
 * Invariants: the thread runs storage's snapshot_save() without the lock held; busy is set before
 * a save starts and cleared (with the figures updated and every waiter posted) under the lock after
 * it ends, so two saves never overlap. A waiter is on the list exactly while the snapshot thread may
 * still touch it; posting (copying the reply, then worker_post() to the connection's worker) happens
 * under the lock, so a cancel (on the worker) finds the waiter either on the list or posted, and
 * takes it back from wherever it is.
 *
 * Ownership: the waiter's memory belongs to the connection's worker: created, run and freed on that
 * thread only; the snapshot thread only fills in the reply and posts it.
 */
#include "config.h"

#include "server/snapshot_ctl.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "protocol/proto.h"
#include "server/server_internal.h"
#include "storage/snapshot.h"

#define REPLY_MAX 256

struct snapshot_waiter {
    struct worker_msg msg;        /* posted to the connection's worker with the reply; first member */
    struct snapshot_waiter *next; /* on ctl->waiters, under ctl->lock */
    struct snapshot_ctl *ctl;
    struct conn *c;
    /* The save's outcome, written by the snapshot thread before it posts msg (o.why points at
     * why once the waiter is answered). */
    struct proto_outcome o;
    char why[REPLY_MAX];
};

struct snapshot_ctl {
    struct server *srv;
    struct cache *cache;
    struct snapshot_ctl_options o;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool busy, pending, stop, final;
    struct snapshot_waiter *waiters;
    struct snapshot_ctl_stats st;
    bool final_ok;
};

/* ---- small helpers ---- */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "<storage's message>: <errno text>" (or the message alone) into buf. */
static void describe(const struct snapshot_result *r, char *buf, size_t n)
{
    if (r->saved_errno != 0)
        snprintf(buf, n, "%s: %s", snapshot_strerror(r->status), strerror(r->saved_errno));
    else
        snprintf(buf, n, "%s", snapshot_strerror(r->status));
}

/* ---- life ---- */

/* See snapshot_ctl.h. */
struct snapshot_ctl *snapshot_ctl_create(struct server *srv, struct cache *cache,
                                         const struct snapshot_ctl_options *o)
{
    struct snapshot_ctl *ctl = calloc(1, sizeof(*ctl));
    pthread_condattr_t attr;

    if (ctl == NULL)
        return NULL;
    ctl->srv = srv;
    ctl->cache = cache;
    ctl->o = *o;
    ctl->st.last_status = "none";
    ctl->st.load_status = "none";
    pthread_mutex_init(&ctl->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ctl->cond, &attr);
    pthread_condattr_destroy(&attr);
    return ctl;
}

/* Renames a bad snapshot to path.bad-<unix time>; false (with the reason logged) on failure. */
static bool set_aside(struct snapshot_ctl *ctl)
{
    char to[4096];
    snprintf(to, sizeof(to), "%s.bad-%lld", ctl->o.path, (long long)time(NULL));
    if (rename(ctl->o.path, to) != 0) {
        fprintf(stderr, "snapshot: cannot set %s aside as %s: %s\n", ctl->o.path, to, strerror(errno));
        return false;
    }
    fprintf(stderr, "snapshot: set the bad file aside as %s; starting empty\n", to);
    return true;
}

/* Whether name is exactly "<base>.tmp.<pid>" (pid in decimal, nothing after it) for a process that
 * no longer exists, or for this one: the temporary file of a save that was killed (kill -9, power
 * loss). At start this process has not saved yet, so a file with its own pid is a leftover too (a
 * server that runs as pid 1 in a container gets the same pid every time); another live pid's file
 * may be another cairn's save in progress and stays. */
static bool stale_temp_name(const char *name, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0 || strncmp(name + n, ".tmp.", 5) != 0)
        return false;
    const char *digits = name + n + 5;
    char *end;
    if (*digits < '1' || *digits > '9')
        return false;
    errno = 0;
    long pid = strtol(digits, &end, 10);
    if (*end != '\0' || errno != 0 || pid <= 0 || (long)(pid_t)pid != pid)
        return false;
    if ((pid_t)pid == getpid())
        return true;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Removes the temporary files that killed saves left beside the snapshot (never the snapshot itself,
 * nothing but the exact name pattern). unlinkat removes a link itself, never what it points to. */
static void remove_stale_temps(struct snapshot_ctl *ctl)
{
    char dir[4096];
    const char *slash = strrchr(ctl->o.path, '/');
    const char *base = slash ? slash + 1 : ctl->o.path;
    size_t dlen = slash ? (size_t)(slash - ctl->o.path) : 1;

    if (dlen == 0)
        dlen = 1; /* the root directory */
    if (dlen >= sizeof(dir))
        return;
    memcpy(dir, slash ? ctl->o.path : ".", dlen);
    dir[dlen] = '\0';
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (!stale_temp_name(e->d_name, base))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            fprintf(stderr, "snapshot: removed %s/%s, left by a save that was killed\n", dir, e->d_name);
    }
    closedir(d);
}

/* Whether st says the file's contents are bad (as opposed to the path or the system): such a file
 * may be set aside, and makes the exit status SNAPSHOT_EXIT_BAD_FILE. */
static bool bad_contents(enum snapshot_status st)
{
    switch (st) {
    case SNAPSHOT_ERR_TRUNCATED:
    case SNAPSHOT_ERR_MAGIC:
    case SNAPSHOT_ERR_VERSION:
    case SNAPSHOT_ERR_CHECKSUM:
    case SNAPSHOT_ERR_RECORD:
    case SNAPSHOT_ERR_FOOTER:
    case SNAPSHOT_ERR_HEADER:
    case SNAPSHOT_ERR_KEY_LENGTH:
    case SNAPSHOT_ERR_KEY_BYTES:
    case SNAPSHOT_ERR_VALUE_LENGTH:
    case SNAPSHOT_ERR_CAS:
    case SNAPSHOT_ERR_EXPIRY:
    case SNAPSHOT_ERR_TRAILING:
        return true;
    default:
        return false;
    }
}

/* Records the start-up load's outcome for `stats`. */
static void note_load(struct snapshot_ctl *ctl, enum snapshot_status st, const struct snapshot_result *r)
{
    pthread_mutex_lock(&ctl->lock);
    ctl->st.load_status = snapshot_status_token(st);
    ctl->st.loaded_items = r->items;
    ctl->st.load_left_out = r->left_out;
    ctl->st.load_duration_us = r->duration_ns / 1000;
    pthread_mutex_unlock(&ctl->lock);
}

/* See snapshot_ctl.h. */
int snapshot_ctl_load(struct snapshot_ctl *ctl)
{
    struct snapshot_result r;
    char why[REPLY_MAX];

    remove_stale_temps(ctl);
    memset(&r, 0, sizeof(r));
    enum snapshot_status st = snapshot_load(ctl->cache, ctl->o.path, &r);
    if (st == SNAPSHOT_ERR_OPEN && r.saved_errno == ENOENT) {
        server_log(ctl->srv, 1, "snapshot: no file at %s; starting empty\n", ctl->o.path);
        return 0;
    }
    note_load(ctl, st, &r);
    if (st == SNAPSHOT_OK || st == SNAPSHOT_PARTIAL) {
        server_log(ctl->srv, 1,
                   "snapshot: loaded %" PRIu64 " items (%" PRIu64 " expired skipped) from %s in %" PRIu64
                   " ms\n",
                   r.items, r.expired, ctl->o.path, r.duration_ns / 1000000);
        if (st == SNAPSHOT_PARTIAL)
            fprintf(stderr,
                    "snapshot: %" PRIu64 " items of %s left out: they did not fit in the memory limit (-m)\n",
                    r.left_out, ctl->o.path);
        if (ctl->o.consume && unlink(ctl->o.path) != 0)
            fprintf(stderr, "snapshot: cannot remove %s after loading it: %s\n", ctl->o.path,
                    strerror(errno));
        return 0;
    }
    describe(&r, why, sizeof(why));
    if (!bad_contents(st)) {
        /* the path (a link, a directory) or the system: setting it aside would not help */
        fprintf(stderr, "snapshot: cannot load %s: %s (%s)\n", ctl->o.path, why, snapshot_status_token(st));
        return SNAPSHOT_EXIT_IO;
    }
    fprintf(stderr, "snapshot: cannot load %s: %s (%s, at byte %" PRIu64 "); nothing was loaded\n",
            ctl->o.path, why, snapshot_status_token(st), r.offset);
    if (ctl->o.set_aside && set_aside(ctl))
        return 0;
    if (!ctl->o.set_aside)
        fprintf(stderr, "snapshot: move the file away or start with --snapshot-bad-file=set-aside\n");
    return SNAPSHOT_EXIT_BAD_FILE;
}

/* ---- saving (snapshot thread) ---- */

/* Hands the reply to every waiter (posted to its connection's worker) and empties the list. Caller
 * holds ctl->lock, so a cancel finds a waiter either here or posted. */
static void post_waiters_locked(struct snapshot_ctl *ctl, const struct proto_outcome *o)
{
    while (ctl->waiters != NULL) {
        struct snapshot_waiter *w = ctl->waiters;
        ctl->waiters = w->next;
        w->next = NULL;
        w->o = *o;
        w->o.why = NULL;
        snprintf(w->why, sizeof(w->why), "%s", o->why != NULL ? o->why : "");
        worker_post(w->c->w, &w->msg);
    }
}

/* Runs one save (lock not held) and records its outcome; returns whether it succeeded. */
static bool run_save(struct snapshot_ctl *ctl)
{
    struct snapshot_result r;
    struct proto_outcome o = {.ev = PROTO_EV_SNAPSHOT_SAVED};
    char why[REPLY_MAX - 64];

    memset(&r, 0, sizeof(r));
    enum snapshot_status st = snapshot_save(ctl->cache, ctl->o.path, &r);
    if (st == SNAPSHOT_OK) {
        o.items = r.items;
        o.bytes = r.bytes;
        o.usec = r.duration_ns / 1000;
        server_log(ctl->srv, 1,
                   "snapshot: saved %" PRIu64 " items, %" PRIu64 " bytes to %s in %" PRIu64 " ms\n", r.items,
                   r.bytes, ctl->o.path, r.duration_ns / 1000000);
    } else {
        describe(&r, why, sizeof(why));
        o.ev = PROTO_EV_SNAPSHOT_FAILED;
        o.why = why;
        fprintf(stderr, "snapshot: saving %s failed: %s (%s)\n", ctl->o.path, why, snapshot_status_token(st));
    }
    pthread_mutex_lock(&ctl->lock);
    ctl->st.last_time = (int64_t)time(NULL);
    ctl->st.last_status = snapshot_status_token(st);
    ctl->st.last_items = st == SNAPSHOT_OK ? r.items : 0;
    ctl->st.last_bytes = st == SNAPSHOT_OK ? r.bytes : 0;
    ctl->st.last_duration_us = r.duration_ns / 1000;
    if (st == SNAPSHOT_OK)
        ctl->st.saves++;
    else
        ctl->st.failures++;
    post_waiters_locked(ctl, &o);
    ctl->busy = false;
    ctl->pending = false;
    pthread_mutex_unlock(&ctl->lock);
    return st == SNAPSHOT_OK;
}

/* Waits until a request, the periodic deadline (due_ns; 0 = none) or stop. Caller holds ctl->lock;
 * returns true when a save should run now (busy is then set), false on stop. */
static bool wait_for_work_locked(struct snapshot_ctl *ctl, uint64_t due_ns)
{
    while (!ctl->stop && !ctl->pending) {
        if (due_ns == 0) {
            pthread_cond_wait(&ctl->cond, &ctl->lock);
            continue;
        }
        if (mono_ns() >= due_ns) {
            ctl->busy = true; /* not busy here: a request sets busy and pending together */
            return true;
        }
        struct timespec ts = {(time_t)(due_ns / 1000000000u), (long)(due_ns % 1000000000u)};
        pthread_cond_timedwait(&ctl->cond, &ctl->lock, &ts);
    }
    return !ctl->stop;
}

/* Thread body: saves on request and on the interval until stopped, then the final save. */
static void *snapshot_main(void *arg)
{
    struct snapshot_ctl *ctl = arg;
    uint64_t interval_ns = (uint64_t)ctl->o.interval_s * 1000000000u;
    uint64_t due = interval_ns != 0 ? mono_ns() + interval_ns : 0;

    pthread_mutex_lock(&ctl->lock);
    for (;;) {
        if (!wait_for_work_locked(ctl, due))
            break;
        pthread_mutex_unlock(&ctl->lock);
        run_save(ctl);
        due = interval_ns != 0 ? mono_ns() + interval_ns : 0;
        pthread_mutex_lock(&ctl->lock);
    }
    bool final = ctl->final;
    if (final)
        ctl->busy = true;
    pthread_mutex_unlock(&ctl->lock);
    if (final) {
        bool ok = run_save(ctl);
        if (ok)
            server_log(ctl->srv, 1, "snapshot: final save done\n");
        else
            fprintf(stderr, "snapshot: the final save failed; the exit status says so\n");
        pthread_mutex_lock(&ctl->lock);
        ctl->final_ok = ok;
        pthread_mutex_unlock(&ctl->lock);
    }
    return NULL;
}

/* See snapshot_ctl.h. */
bool snapshot_ctl_start(struct snapshot_ctl *ctl)
{
    int rc = pthread_create(&ctl->thread, NULL, snapshot_main, ctl);
    if (rc != 0) {
        fprintf(stderr, "Can't create the snapshot thread: %s\n", strerror(rc));
        return false;
    }
    ctl->started = true;
    return true;
}

/* Ends the thread (after the save in progress); final asks for one last save first. */
static void stop_thread(struct snapshot_ctl *ctl, bool final)
{
    if (!ctl->started)
        return;
    pthread_mutex_lock(&ctl->lock);
    ctl->stop = true;
    ctl->final = final;
    pthread_cond_signal(&ctl->cond);
    pthread_mutex_unlock(&ctl->lock);
    pthread_join(ctl->thread, NULL);
    ctl->started = false;
}

/* See snapshot_ctl.h. o is read only by snapshot_ctl_stop(), on this same thread. */
void snapshot_ctl_save_on_stop(struct snapshot_ctl *ctl)
{
    if (ctl != NULL)
        ctl->o.on_shutdown = true;
}

/* See snapshot_ctl.h. */
bool snapshot_ctl_stop(struct snapshot_ctl *ctl)
{
    if (ctl == NULL || !ctl->started)
        return true;
    stop_thread(ctl, ctl->o.on_shutdown);
    return !ctl->o.on_shutdown || ctl->final_ok;
}

/* See snapshot_ctl.h. */
void snapshot_ctl_destroy(struct snapshot_ctl **ctlp)
{
    if (ctlp == NULL || *ctlp == NULL)
        return;
    struct snapshot_ctl *ctl = *ctlp;
    stop_thread(ctl, false);
    pthread_cond_destroy(&ctl->cond);
    pthread_mutex_destroy(&ctl->lock);
    free(ctl);
    *ctlp = NULL;
}

/* ---- requests (worker threads) ---- */

/* The reply reached the connection's worker: free the waiter, answer the connection. */
static void on_waiter_done(struct worker_msg *m)
{
    struct snapshot_waiter *w = (struct snapshot_waiter *)m;
    struct conn *c = w->c;

    w->o.why = w->why;
    conn_snapshot_done(c, &w->o);
    free(w);
}

/* A waiter for connection c; NULL when out of memory. */
static struct snapshot_waiter *waiter_create(struct snapshot_ctl *ctl, struct conn *c)
{
    struct snapshot_waiter *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->msg.run = on_waiter_done;
    w->ctl = ctl;
    w->c = c;
    return w;
}

/* See snapshot_ctl.h. */
bool snapshot_ctl_request(struct snapshot_ctl *ctl, struct conn *c, bool bg, struct proto_outcome *now,
                          struct snapshot_waiter **wp)
{
    struct snapshot_waiter *w = NULL;

    *wp = NULL;
    memset(now, 0, sizeof(*now));
    if (!bg) {
        w = waiter_create(ctl, c);
        if (w == NULL) {
            now->ev = PROTO_EV_NO_MEMORY;
            return true;
        }
    }
    pthread_mutex_lock(&ctl->lock);
    bool refused = ctl->busy || ctl->stop || !ctl->started;
    if (!refused) {
        ctl->busy = true;
        ctl->pending = true;
        if (w != NULL) {
            w->next = ctl->waiters;
            ctl->waiters = w;
        }
        pthread_cond_signal(&ctl->cond);
    }
    pthread_mutex_unlock(&ctl->lock);
    if (refused) {
        snapshot_waiter_cancel(&w);
        now->ev = PROTO_EV_SNAPSHOT_BUSY;
        return true;
    }
    if (bg) {
        now->ev = PROTO_EV_SNAPSHOT_STARTED;
        return true;
    }
    *wp = w;
    return false;
}

/* See snapshot_ctl.h. */
void snapshot_waiter_cancel(struct snapshot_waiter **wp)
{
    if (wp == NULL || *wp == NULL)
        return;
    struct snapshot_waiter *w = *wp;
    struct snapshot_ctl *ctl = w->ctl;
    bool listed = false;
    pthread_mutex_lock(&ctl->lock);
    for (struct snapshot_waiter **p = &ctl->waiters; *p != NULL; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            listed = true;
            break;
        }
    }
    pthread_mutex_unlock(&ctl->lock);
    if (!listed)
        worker_unpost(w->c->w, &w->msg); /* posted, not run yet (both happen on this thread) */
    free(w);
    *wp = NULL;
}

/* See snapshot_ctl.h. */
void snapshot_ctl_stats(struct snapshot_ctl *ctl, struct snapshot_ctl_stats *st)
{
    pthread_mutex_lock(&ctl->lock);
    *st = ctl->st;
    st->in_progress = ctl->busy;
    pthread_mutex_unlock(&ctl->lock);
}
