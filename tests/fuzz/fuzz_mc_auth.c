/*
 * fuzz_mc_auth.c: libFuzzer target for the text protocol session with credentials (memcached's -Y):
 * arbitrary input to an unauthenticated session must never reach the cache.
 *
 * Input: one byte that seeds how the stream is cut into reads, then the stream. The credentials are
 * alice (admin) and bob (app), each with a long password the fuzzer will not find (the seed corpus
 * holds them, so the authenticated path is run too).
 *
 * What must hold for any stream:
 * - feed never consumes more than it was given; the only statuses are PROTO_OK, PROTO_CLOSE, PROTO_WAIT
 *   (a held-back failure: take_wait says PROTO_WAIT_AUTH_DELAY once, and the answer appends the
 *   reply) and, once authenticated, PROTO_FLUSH; every offered byte is consumed or left over;
 * - until an attempt succeeds (auth_cmds > auth_errors), the replies are only memcached's four
 *   refusals, and the cache holds nothing: no item, no get, set, touch or flush counted.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/auth.h"
#include "protocol/mc/memcache.h"
#include "protocol/outq.h"
#include "storage/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz_mc_auth: check failed at line %d: %s\n", __LINE__, #cond);                 \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static struct auth *creds;

/* The credentials, loaded once from a file written for it. */
static const struct auth *fuzz_creds(void)
{
    if (creds != NULL)
        return creds;
    char path[] = "/tmp/cairn-fuzz-auth-XXXXXX", err[256];
    const char *text = "alice:Tq8vR2-wK9pL4-zX7mN1-hB3c\nbob:Yd5sF8-jG2kQ6-vC9xW4-nP7r:app\n";
    int fd = mkstemp(path);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    FUZZ_CHECK(fchmod(fd, 0600) == 0);
    close(fd);
    creds = auth_create();
    FUZZ_CHECK(creds != NULL);
    FUZZ_CHECK(auth_load(creds, path, NULL, err, sizeof(err)));
    unlink(path);
    return creds;
}

/* Moves everything queued into text (NUL-terminated, grown as needed). */
static void drain(struct outq *q, char **text, size_t *len)
{
    while (outq_pending(q) > 0) {
        struct iovec iov[8];
        int k = outq_iov(q, iov, 8);
        FUZZ_CHECK(k > 0);
        size_t took = 0;
        for (int i = 0; i < k; i++) {
            char *p = realloc(*text, *len + iov[i].iov_len + 1);
            FUZZ_CHECK(p != NULL);
            *text = p;
            memcpy(*text + *len, iov[i].iov_base, iov[i].iov_len);
            *len += iov[i].iov_len;
            took += iov[i].iov_len;
        }
        (*text)[*len] = '\0';
        outq_consume(q, took);
    }
}

/* Whether text[0..len) is nothing but the refusals an unauthenticated connection gets. */
static bool only_refusals(const char *text, size_t len)
{
    static const char *const lines[] = {
        "CLIENT_ERROR unauthenticated\r\n",
        "CLIENT_ERROR bad command line termination\r\n",
        "CLIENT_ERROR bad authentication token format\r\n",
        "CLIENT_ERROR authentication failure\r\n",
    };
    size_t i = 0;
    while (i < len) {
        size_t k = 0;
        for (; k < sizeof(lines) / sizeof(lines[0]); k++) {
            size_t n = strlen(lines[k]);
            if (len - i >= n && memcmp(text + i, lines[k], n) == 0) {
                i += n;
                break;
            }
        }
        if (k == sizeof(lines) / sizeof(lines[0]))
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t seed = data[0] * 2654435761u + 1;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;

    struct cache_options o;
    cache_options_default(&o);
    o.memory_limit = 4u << 20;
    o.shard_bits = 1;
    o.hash_power = 6;
    const char *err = NULL;
    struct cache *c = cache_create(&o, &err);
    FUZZ_CHECK(c != NULL);
    struct mc_context ctx = {.cache = c, .item_size_max = 64 * 1024, .use_cas = true, .version = "1.6.18"};
    ctx.auth = fuzz_creds();
    struct mc_stats stats;
    memset(&stats, 0, sizeof(stats));
    struct mc_session *s = mc_session_create(&ctx, &stats);
    struct outq *q = outq_create(c);
    FUZZ_CHECK(s != NULL && q != NULL);

    char *acc = malloc(n + 1), *text = NULL;
    size_t have = 0, off = 0, tlen = 0;
    bool closed = false;
    FUZZ_CHECK(acc != NULL);
    while (!closed && off < n) {
        seed = seed * 1103515245u + 12345u;
        size_t m = 1 + (seed >> 16) % 64;
        if (m > n - off)
            m = n - off;
        memcpy(acc + have, in + off, m);
        have += m;
        off += m;
        for (int rounds = 0; rounds < 1000 && have > 0; rounds++) {
            size_t used = 0;
            enum proto_status st = mc_session_feed(s, acc, have, &used, q);
            FUZZ_CHECK(used <= have);
            memmove(acc, acc + used, have - used);
            have -= used;
            if (st == PROTO_CLOSE) {
                closed = true;
                break;
            }
            if (st == PROTO_WAIT) {
                FUZZ_CHECK(mc_session_take_wait(s) == PROTO_WAIT_AUTH_DELAY);
                FUZZ_CHECK(mc_session_take_wait(s) == PROTO_WAIT_NONE);
                mc_session_answer(s, &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, q);
                continue;
            }
            if (st == PROTO_FLUSH) {
                FUZZ_CHECK(stats.auth_cmds > stats.auth_errors);
                drain(q, &text, &tlen);
                continue;
            }
            FUZZ_CHECK(st == PROTO_OK || (st == PROTO_SHUTDOWN && stats.auth_cmds > stats.auth_errors));
            if (st == PROTO_SHUTDOWN)
                closed = true;
            break;
        }
        drain(q, &text, &tlen);
    }
    if (stats.auth_cmds == stats.auth_errors) {
        struct cache_stats cs;
        cache_stats_get(c, &cs);
        FUZZ_CHECK(cs.curr_items == 0);
        FUZZ_CHECK(stats.cmd_get == 0 && stats.cmd_set == 0 && stats.cmd_touch == 0 && stats.cmd_flush == 0);
        FUZZ_CHECK(only_refusals(text, tlen));
    }
    free(acc);
    free(text);
    outq_destroy(&q);
    mc_session_destroy(&s);
    cache_destroy(&c);
    return 0;
}
