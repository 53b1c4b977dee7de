/*
 * snapshot_ctl.h: snapshots in the server: the load on start, the one thread that runs every save
 * (periodic timer, `snapshot` requests, the final save at shutdown), and the figures `stats` shows.
 *
 * The storage module (storage/snapshot.h) does the file work; this module decides when it runs and
 * who hears the result. Only one save runs at a time: a request while one runs (or is about to)
 * is refused with "already running". A `snapshot` that waits for its save is a struct
 * snapshot_waiter: the connection's worker creates it, the snapshot thread writes the reply into it
 * and posts it to the worker's message queue (worker_post), and the worker appends the reply to the
 * connection's queue (conn_snapshot_done) on its own thread. A connection that closes first cancels
 * its waiter; the reply is then dropped.
 *
 * Threads: create/load/start/stop/destroy on the main thread; snapshot_ctl_request and
 * snapshot_waiter_cancel on a worker thread; snapshot_ctl_stats on any thread.
 */
#ifndef CAIRN_SERVER_SNAPSHOT_CTL_H
#define CAIRN_SERVER_SNAPSHOT_CTL_H

#include <stdbool.h>
#include <stdint.h>

struct cache;
struct conn;
struct proto_outcome;
struct server;
struct snapshot_ctl;
struct snapshot_waiter;

/* Exit statuses of a start that found a snapshot it cannot load. BAD_FILE (EX_DATAERR): bad
 * contents: truncated, corrupt, wrong magic or version, a field out of range (a bad key, CAS,
 * expiry...). IO (EX_IOERR): an unreadable file, a symbolic link or not a regular file at the path,
 * no memory; also a failed final save. */
#define SNAPSHOT_EXIT_BAD_FILE 65
#define SNAPSHOT_EXIT_IO       74

struct snapshot_ctl_options {
    const char *path;    /* the snapshot file; must outlive the ctl */
    unsigned interval_s; /* periodic saves; 0 = none */
    bool on_shutdown;    /* one last save when the server stops */
    bool set_aside;      /* a bad file at start is renamed to path.bad-<time> instead of failing */
    bool consume;        /* the file is removed once loaded (memcached -e: only a graceful stop,
                          * SIGUSR1, saves again, so a crash never brings back an old cache) */
};

/* What `stats` shows; the strings are static. */
struct snapshot_ctl_stats {
    bool in_progress;
    uint64_t saves, failures;
    int64_t last_time;       /* Unix time the last save ended; 0 = none yet */
    const char *last_status; /* "none", "ok" or a token such as "write_failed" (snapshot_status_token) */
    uint64_t last_items, last_bytes, last_duration_us;
    const char *load_status; /* the start-up load: "none" (no file), "ok", "partial" or why it was
                                refused, e.g. "bad_key_bytes" (then set aside) */
    uint64_t loaded_items, load_left_out, load_duration_us;
};

/* Creates the controller for srv's cache (no thread yet). NULL on no memory. */
struct snapshot_ctl *snapshot_ctl_create(struct server *srv, struct cache *cache,
                                         const struct snapshot_ctl_options *o);

/*
 * Start-up: removes temporary files of killed saves (exact name pattern only), then loads the
 * snapshot into the cache (one pass, linked only once the whole file checked out), before any client
 * is served. No file: starts empty. A file with bad contents: exits (returns SNAPSHOT_EXIT_BAD_FILE)
 * or, with set_aside, renames it and starts empty. A symbolic link or a non-regular file at the path,
 * or an unreadable file: SNAPSHOT_EXIT_IO, whatever set_aside says. Messages go to stderr. Returns 0
 * when the server may start.
 */
int snapshot_ctl_load(struct snapshot_ctl *ctl);

/* Starts the snapshot thread. False (with a message) when it cannot. */
bool snapshot_ctl_start(struct snapshot_ctl *ctl);

/*
 * Stops the thread after the save in progress, then runs the final save if on_shutdown is set
 * (call it once the workers have stopped). Returns false when that final save failed.
 */
bool snapshot_ctl_stop(struct snapshot_ctl *ctl);

/* Makes snapshot_ctl_stop() run the final save even if on_shutdown is off (SIGUSR1, memcached's
 * graceful stop, always saves). NULL is a no-op. Main thread, before snapshot_ctl_stop(). */
void snapshot_ctl_save_on_stop(struct snapshot_ctl *ctl);

/* Frees the controller (stopping the thread first if needed, without a final save); clears *ctl. */
void snapshot_ctl_destroy(struct snapshot_ctl **ctl);

/*
 * A snapshot request (bg = false: answer when saved; true: when started) of connection c, on c's
 * worker thread. Either it is answered now (bg started, already running, no memory): returns true
 * with *now set and *wp NULL; or the save was started and the outcome comes later through
 * conn_snapshot_done(c, outcome): returns false, and *wp holds the waiter, which the connection owns
 * and must cancel if it closes first. The connection's protocol turns outcomes into its replies.
 */
bool snapshot_ctl_request(struct snapshot_ctl *ctl, struct conn *c, bool bg, struct proto_outcome *now,
                          struct snapshot_waiter **wp);

/* The connection is going away before its reply came: drops the waiter; clears *wp. NULL is a
 * no-op. Worker thread. */
void snapshot_waiter_cancel(struct snapshot_waiter **wp);

/* Copies the current figures (under the controller's lock). */
void snapshot_ctl_stats(struct snapshot_ctl *ctl, struct snapshot_ctl_stats *st);

#endif
