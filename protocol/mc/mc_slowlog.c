/*
 * mc_slowlog.c: `stats slowlog` and `stats slowlog reset` (mc_slowlog.h).
 *
 * The reply, one STAT line each, then END:
 *
 *   STAT slowlog_len <entries>
 *   STAT slowlog_log_slower_than <microseconds, -1 = off>
 *   STAT slowlog_max_len <entries>
 *   STAT slowlog:<id> time=<unix> duration_us=<n> proto=<text|binary|resp> addr=<a> name=<n> argc=<n>
 * args=<a1>+<a2>...
 *
 * the entries newest first. addr, name and every argument are URL-encoded as `stats cachedump` and
 * `stats hotkeys` encode keys (letters, digits and "-._~" as they are, every other byte %XX), so no
 * value holds a space, a control byte or a '+'; the arguments are joined by '+' and argc says how
 * many there are (0: "args=" is empty). The arguments are what the log kept: at most 32, each at most
 * 128 bytes, cut ones ending "... (N more bytes)" or, for the 32nd, "... (N more arguments)" (encoded
 * like the rest). `stats slowlog reset` empties the log (ids go on) and answers RESET.
 *
 * Threads: any worker; the log takes its lock while the lines are written.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "protocol/mc/mc_dump.h"
#include "protocol/mc/mc_slowlog.h"
#include "protocol/outq.h"
#include "protocol/slowlog.h"

/* The longest argument the log keeps, with its cut suffix. */
#define ARG_MAX (SLOWLOG_MAX_ARGLEN + 64)

/* Writes a string URL-encoded, in pieces of at most ARG_MAX bytes. */
static void put_encoded(struct outq *out, const char *s, size_t n)
{
    char enc[3 * ARG_MAX];
    for (size_t off = 0; off < n;) {
        size_t m = n - off > ARG_MAX ? ARG_MAX : n - off;
        outq_add(out, enc, mc_dump_urlencode(s + off, m, enc));
        off += m;
    }
}

/* What slowlog_get's callbacks write to. */
struct listing {
    struct outq *out;
    const struct slowlog *log;
};

/* slowlog_get's begin: the summary lines, under the same lock as the entries, so that the length
 * agrees with the lines that follow. */
static void summary(void *arg, size_t count)
{
    struct listing *l = arg;
    outq_printf(l->out, "STAT slowlog_len %zu\r\n", count);
    outq_printf(l->out, "STAT slowlog_log_slower_than %" PRId64 "\r\n", slowlog_threshold(l->log));
    outq_printf(l->out, "STAT slowlog_max_len %" PRIu64 "\r\n", slowlog_max_len(l->log));
}

/* slowlog_get's each: one entry's line. */
static void entry_line(void *arg, const struct slowlog_entry *e)
{
    struct outq *out = ((struct listing *)arg)->out;
    outq_printf(out,
                "STAT slowlog:%" PRIu64 " time=%" PRId64 " duration_us=%" PRIu64 " proto=%s addr=", e->id,
                e->time, e->duration_us, e->proto);
    put_encoded(out, e->addr, strlen(e->addr));
    outq_add_str(out, " name=");
    put_encoded(out, e->name, strlen(e->name));
    outq_printf(out, " argc=%zu args=", e->argc);
    for (size_t i = 0; i < e->argc; i++) {
        if (i > 0)
            outq_add_str(out, "+");
        put_encoded(out, e->argv[i], e->lens[i]);
    }
    outq_add_str(out, "\r\n");
}

/* See mc_slowlog.h. */
enum mc_stats_result mc_slowlog_stats(struct slowlog *log, int argc, char **argv, struct outq *out)
{
    if (argc >= 2 && strcmp(argv[1], "reset") == 0) {
        if (log != NULL)
            slowlog_reset(log);
        outq_add_str(out, "RESET\r\n");
        return MC_STATS_DONE;
    }
    if (log == NULL) {
        outq_add_str(out,
                     "STAT slowlog_len 0\r\nSTAT slowlog_log_slower_than -1\r\nSTAT slowlog_max_len 0\r\n");
        return MC_STATS_END;
    }
    struct listing l = {out, log};
    slowlog_get(log, -1, summary, entry_line, &l);
    return MC_STATS_END;
}
