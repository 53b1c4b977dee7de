/*
 * mc_meta.c: memcached 1.6.18's meta commands: parsing (pure), execution against the storage engine
 * (storage/meta.h) and the reply lines (see mc_meta.h and doc/protocol.md, "Meta commands").
 *
 * Parsing follows the order in which memcached 1.6.18 checks a line, because the first failed check
 * decides the error string (measured against the real server):
 *   1. token count (no key: ERROR; `ms <key>` without a length: bad command line format);
 *   2. key longer than 250 bytes: bad command line format;
 *   3. 20 tokens or more: "options flags (are) too long";
 *   4. ms: the data length (bad: bad command line format, nothing swallowed);
 *   5. the flags, left to right: a repeated flag byte or an unknown one stops at once; a bad
 *      argument records its error and the scan goes on (a later bad argument overwrites it; F's
 *      failure keeps the previous message); md and ma answer every such error with "invalid or
 *      duplicate flag";
 *   6. the M mode (ms, ma); 7. an O token longer than 32 bytes.
 * From step 5 on, a refused ms swallows its value block, and the error goes out after it.
 *
 * Replies: `HD|VA <n>|EN|NF|NS|EX` then the return flags in the order they were asked for, each as
 * " <byte><value>", then for mg " Z", " X", " W" (token held, stale, won). `q` drops only the
 * nominal reply: EN for mg, HD for ms and md, HD/VA of an existing counter for ma; errors always
 * go out. The exptime shown by `t` is the one in force at that point of the line (a `T` or a
 * creating `N` before it changes it), as memcached applies flags while writing the reply.
 *
 * Ownership: items from the cache go straight into the reply (outq_add_value) or are released here;
 * an ms item belongs to the session between mc_meta_exec and mc_meta_finish_set.
 */
#include "config.h"

#include "protocol/mc/mc_meta.h"

#include <stdio.h>
#include <string.h>

#include "protocol/mc/mc_arith.h"
#include "protocol/mc/mc_internal.h"
#include "protocol/mc/memcache.h"
#include "protocol/outq.h"
#include "storage/meta.h"

/* A reply line being built: the longest has a base64 key (336), an opaque (32) and a few numbers. */
struct mc_line {
    char b[1024];
    size_t n;
};

/* ---- counters and small writers ---- */

static void line_add(struct mc_line *l, const char *p, size_t n)
{
    if (n > sizeof(l->b) - l->n)
        n = sizeof(l->b) - l->n;
    memcpy(l->b + l->n, p, n);
    l->n += n;
}

/* " <f><decimal v>" (" <decimal v>" when f is 0), without printf: it runs for most return flags of
 * every request. */
static void line_flag_u64(struct mc_line *l, char f, uint64_t v)
{
    char tmp[24];
    size_t n = sizeof(tmp);
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (f != 0)
        tmp[--n] = f;
    tmp[--n] = ' ';
    line_add(l, tmp + n, sizeof(tmp) - n);
}

/* The key as replies show it: base64-encoded when binary. */
static void line_key_text(struct mc_line *l, const char *key, size_t nkey, bool binary)
{
    char enc[4 * ((MC_KEY_MAX + 2) / 3)];
    if (binary)
        line_add(l, enc, mc_meta_base64_encode(key, nkey, enc));
    else
        line_add(l, key, nkey);
}

/* " k<key>", followed by " b" for a binary key. */
static void line_key(struct mc_line *l, const char *key, size_t nkey, bool binary)
{
    line_add(l, " k", 2);
    line_key_text(l, key, nkey, binary);
    if (binary)
        line_add(l, " b", 2);
}

/* " t<seconds left>", or " t-1" for no expiry; wraps as memcached's unsigned arithmetic. A precise
 * expiry (set over RESP) shows as the first whole second at or after it, the exptime memcached would
 * hold for it: its seconds left, rounded up, on the ticking clock. */
static void line_ttl(struct mc_line *l, cache_exp_t exp, uint32_t now)
{
    if (exp == CACHE_EXP_NEVER)
        line_add(l, " t-1", 4);
    else
        line_flag_u64(l, 't', (uint32_t)((uint32_t)cache_exp_rel_seconds(exp) - now));
}

static void line_send(struct mc_line *l, struct outq *out)
{
    line_add(l, "\r\n", 2);
    outq_add(out, l->b, l->n);
}

/* The O and k flags, in line order: all a miss or a failure echoes. */
static void line_echo(struct mc_line *l, const struct mc_meta_request *req)
{
    for (size_t i = 0; i < req->norder; i++) {
        if (req->order[i] == 'O') {
            line_add(l, " ", 1);
            line_add(l, req->opaque.p, req->opaque.len);
        } else if (req->order[i] == 'k') {
            line_key(l, req->key, req->nkey, req->binary);
        }
    }
}

/* ---- base64 ---- */

static const char mc_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of c, 0 for '=', -1 outside the alphabet. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return c == '=' ? 0 : -1;
}

/* See mc_meta.h. Groups of four alphabet bytes ('=' included) make three bytes; a group holding
 * one or two '=' ends the input one or two bytes short; more padding, a count of alphabet bytes
 * that is not a multiple of four, or none at all, is an error (0). */
size_t mc_meta_base64_decode(const char *in, size_t len, char *out)
{
    size_t valid = 0, o = 0, got = 0, pad = 0;
    unsigned group = 0;
    for (size_t i = 0; i < len; i++)
        valid += b64_value((unsigned char)in[i]) >= 0;
    if (valid == 0 || valid % 4 != 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            continue;
        pad += in[i] == '=';
        group = group << 6 | (unsigned)v;
        if (++got < 4)
            continue;
        out[o++] = (char)(group >> 16);
        out[o++] = (char)(group >> 8);
        out[o++] = (char)group;
        got = 0;
        group = 0;
        if (pad > 2)
            return 0;
        if (pad > 0)
            return o - pad;
    }
    return o;
}

/* See mc_meta.h. Standard alphabet with '=' padding. */
size_t mc_meta_base64_encode(const char *in, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned g = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = mc_b64[g >> 18 & 63];
        out[o++] = mc_b64[g >> 12 & 63];
        out[o++] = mc_b64[g >> 6 & 63];
        out[o++] = mc_b64[g & 63];
    }
    if (i < len) {
        unsigned g = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0u);
        out[o++] = mc_b64[g >> 18 & 63];
        out[o++] = mc_b64[g >> 12 & 63];
        out[o++] = i + 1 < len ? mc_b64[g >> 6 & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

/* ---- parsing ---- */

struct mc_meta_name {
    char name[3];
    enum mc_meta_cmd cmd;
};

static const struct mc_meta_name mc_meta_names[] = {
    {"mg", MC_META_MG}, {"ms", MC_META_MS}, {"md", MC_META_MD},
    {"ma", MC_META_MA}, {"mn", MC_META_MN}, {"me", MC_META_ME},
};

static enum mc_meta_cmd mc_meta_lookup(struct mc_token t)
{
    if (t.len != 2)
        return MC_META_NONE;
    for (size_t i = 0; i < sizeof(mc_meta_names) / sizeof(mc_meta_names[0]); i++) {
        if (memcmp(t.p, mc_meta_names[i].name, 2) == 0)
            return mc_meta_names[i].cmd;
    }
    return MC_META_NONE;
}

/* The line up to its first NUL byte (memcached works on a C string). */
static const char *mc_meta_line_end(const char *line, size_t len)
{
    const char *nul = memchr(line, '\0', len);
    return nul ? nul : line + len;
}

/* See mc_meta.h. */
bool mc_meta_is_meta(const char *line, size_t len)
{
    const char *pos = line;
    struct mc_token t;
    if (len < 2)
        return false;
    return mc_parse_next_token(&pos, mc_meta_line_end(line, len), &t) && mc_meta_lookup(t) != MC_META_NONE;
}

static enum mc_parse_status mc_meta_fail(struct mc_meta_request *req, const char *error)
{
    req->error = error;
    return MC_PARSE_CLIENT_ERROR;
}

/* The argument after a flag byte, as a token of its own. */
static inline struct mc_token mc_meta_arg(struct mc_token t)
{
    struct mc_token a = {t.p + 1, t.len - 1};
    return a;
}

/* One flag's argument; returns the error it causes (NULL if none). `keep` stands for F's failure,
 * which leaves the message of an earlier error in place. */
static const char *mc_meta_flag_arg(struct mc_meta_request *req, struct mc_token t, const char *keep)
{
    struct mc_token a = mc_meta_arg(t);
    switch (t.p[0]) {
    case 'b': {
        size_t n = mc_meta_base64_decode(req->key, req->nkey, req->key_buf);
        req->binary = true;
        req->key = req->key_buf;
        req->nkey = n;
        return n == 0 ? MC_META_ERR_DECODE : NULL;
    }
    case 'N':
        return mc_parse_i32(a, &req->vivify_ttl) ? NULL : MC_META_ERR_BAD_TOKEN;
    case 'T':
        return mc_parse_i32(a, &req->ttl) ? NULL : MC_META_ERR_BAD_TOKEN;
    case 'R':
        return mc_parse_i32(a, &req->recache_ttl) ? NULL : MC_META_ERR_BAD_TOKEN;
    case 'F':
        return mc_parse_u32(a, &req->client_flags) ? NULL : keep;
    case 'C':
        return mc_parse_u64(a, &req->cas) ? NULL : MC_META_ERR_BAD_TOKEN;
    case 'M':
        if (t.len != 2)
            return MC_META_ERR_M_LENGTH;
        req->mode = t.p[1];
        return NULL;
    case 'J':
        return mc_parse_u64(a, &req->initial) ? NULL : MC_META_ERR_INITIAL;
    case 'D':
        return mc_parse_u64(a, &req->delta) ? NULL : MC_META_ERR_DELTA;
    case 'O':
        req->opaque = t;
        return NULL;
    default:
        return NULL;
    }
}

/* Whether b is a flag byte memcached 1.6.18 knows (for any meta command). */
static bool mc_meta_known_flag(char b)
{
    return b != '\0' && strchr("bNTRlOPLkstcfvhuqFCMJDI", b) != NULL;
}

/* Step 5 of the parse: the flags from token `first` on. Returns NULL or the error line. */
static const char *mc_meta_flags(struct mc_meta_request *req, const struct mc_token *tok, size_t n,
                                 size_t first)
{
    const char *error = NULL;
    for (size_t i = first; i < n; i++) {
        unsigned char b = (unsigned char)tok[i].p[0];
        if (b >= 127 || mc_meta_has(req, (char)b))
            return MC_META_ERR_DUPLICATE;
        req->seen[b >> 6] |= (uint64_t)1 << (b & 63);
        if (!mc_meta_known_flag((char)b))
            return MC_META_ERR_INVALID;
        if (req->norder < MC_META_TOKENS)
            req->order[req->norder++] = (char)b;
        const char *e = mc_meta_flag_arg(req, tok[i], error ? error : MC_ERR_BAD_FORMAT);
        if (e != NULL)
            error = e;
    }
    return error;
}

/* Steps 5 to 7 for mg, ms, md, ma. */
static enum mc_parse_status mc_meta_check_flags(struct mc_meta_request *req, const struct mc_token *tok,
                                                size_t n)
{
    bool ms = req->cmd == MC_META_MS;
    const char *e = mc_meta_flags(req, tok, n, ms ? 3 : 2);
    req->swallow = ms;
    if (e != NULL)
        return mc_meta_fail(req,
                            req->cmd == MC_META_MD || req->cmd == MC_META_MA ? MC_META_ERR_INV_OR_DUP : e);
    if (ms && req->mode != 0 && strchr("EAPRS", req->mode) == NULL)
        return mc_meta_fail(req, MC_META_ERR_MODE_MS);
    if (req->cmd == MC_META_MA && req->mode != 0 && strchr("I+D-", req->mode) == NULL)
        return mc_meta_fail(req, MC_META_ERR_MODE_MA);
    if (mc_meta_has(req, 'O') && req->opaque.len > MC_META_OPAQUE_MAX) {
        if (req->cmd != MC_META_MG && req->cmd != MC_META_MA)
            return mc_meta_fail(req, MC_META_ERR_OPAQUE);
        req->opaque_late = true;
    }
    req->swallow = false;
    return MC_PARSE_OK;
}

/* me <key> [b]: the key, decoded when the second token is exactly "b". */
static enum mc_parse_status mc_meta_parse_me(struct mc_meta_request *req, const struct mc_token *tok,
                                             size_t n)
{
    if (n < 2 || tok[1].len > MC_KEY_MAX)
        return mc_meta_fail(req, MC_ERR_BAD_FORMAT);
    if (n >= 3 && tok[2].len == 1 && tok[2].p[0] == 'b') {
        req->nkey = mc_meta_base64_decode(req->key, req->nkey, req->key_buf);
        req->key = req->key_buf;
        req->binary = true;
        if (req->nkey == 0)
            return mc_meta_fail(req, MC_ERR_BAD_FORMAT);
    }
    return MC_PARSE_OK;
}

/* See mc_meta.h. */
enum mc_parse_status mc_meta_parse(const char *line, size_t len, struct mc_meta_request *req)
{
    struct mc_token tok[MC_META_TOKENS], t;
    const char *pos = line, *end = mc_meta_line_end(line, len);
    size_t n = 0;
    memset(req, 0, offsetof(struct mc_meta_request, key_buf));
    req->delta = 1;
    while (mc_parse_next_token(&pos, end, &t)) {
        if (n < MC_META_TOKENS)
            tok[n] = t;
        n++;
    }
    req->cmd = n > 0 ? mc_meta_lookup(tok[0]) : MC_META_NONE;
    if (req->cmd == MC_META_NONE)
        return MC_PARSE_ERROR;
    if (req->cmd == MC_META_MN)
        return MC_PARSE_OK;
    if (n >= 2) {
        req->key = tok[1].p;
        req->nkey = tok[1].len;
    }
    if (req->cmd == MC_META_ME)
        return mc_meta_parse_me(req, tok, n);
    if (n < 2)
        return MC_PARSE_ERROR;
    if ((req->cmd == MC_META_MS && n == 2) || tok[1].len > MC_KEY_MAX)
        return mc_meta_fail(req, MC_ERR_BAD_FORMAT);
    if (n > MC_META_TOKENS_MAX)
        return mc_meta_fail(req, req->cmd == MC_META_MG ? MC_META_ERR_TOO_LONG_MG : MC_META_ERR_TOO_LONG);
    if (req->cmd == MC_META_MS) {
        int32_t vlen;
        if (!mc_parse_i32(tok[2], &vlen) || vlen < 0 || vlen > INT32_MAX - 2)
            return mc_meta_fail(req, MC_ERR_BAD_FORMAT);
        req->nbytes = (uint32_t)vlen;
    }
    return mc_meta_check_flags(req, tok, n);
}

/* ---- execution ---- */

/* The expiry an item created by this request ends up with: never, then T and N in line order. */
static cache_exp_t mc_meta_created_exptime(const struct mc_meta_request *req, cache_exp_t ttl,
                                           cache_exp_t viv)
{
    cache_exp_t exptime = CACHE_EXP_NEVER;
    for (size_t i = 0; i < req->norder; i++) {
        if (req->order[i] == 'T')
            exptime = ttl;
        else if (req->order[i] == 'N')
            exptime = viv;
    }
    return exptime;
}

/* Position of flag f in the line's flag order (norder when absent). */
static size_t mc_meta_pos(const struct mc_meta_request *req, char f)
{
    size_t i = 0;
    while (i < req->norder && req->order[i] != f)
        i++;
    return i;
}

static void mc_meta_count_get(struct mc_stats *st, const struct item *it, bool touch,
                              enum cache_miss_reason why)
{
    if (it != NULL && touch) {
        mc_count(&st->cmd_touch);
        mc_count(&st->touch_hits);
        return;
    }
    mc_count(&st->cmd_get);
    mc_count(it != NULL ? &st->get_hits : &st->get_misses);
    if (why == CACHE_MISS_EXPIRED)
        mc_count(&st->get_expired);
    else if (why == CACHE_MISS_FLUSHED)
        mc_count(&st->get_flushed);
}

/* The return flags of an mg hit, in line order, then Z X W. A key is shown in base64 when the item
 * is marked (stored by an ms with b), whatever the request says, as memcached does. */
static void mc_meta_hit_flags(struct mc_line *l, const struct mc_meta_request *req, const struct item *it,
                              const struct cache_meta_info *info, uint32_t now, cache_exp_t ttl,
                              cache_exp_t viv)
{
    cache_exp_t exptime = info->exptime_before;
    for (size_t i = 0; i < req->norder; i++) {
        switch (req->order[i]) {
        case 'T':
            exptime = ttl;
            break;
        case 'N':
            exptime = info->created ? viv : exptime;
            break;
        case 's':
            line_flag_u64(l, 's', item_nbytes(it));
            break;
        case 't':
            line_ttl(l, exptime, now);
            break;
        case 'c':
            line_flag_u64(l, 'c', item_cas(it));
            break;
        case 'f':
            line_flag_u64(l, 'f', item_client_flags(it));
            break;
        case 'l':
            line_flag_u64(l, 'l', (uint32_t)(now - info->atime_before));
            break;
        case 'h':
            line_add(l, info->fetched_before ? " h1" : " h0", 3);
            break;
        case 'O':
            line_add(l, " ", 1);
            line_add(l, req->opaque.p, req->opaque.len);
            break;
        case 'k':
            line_key(l, req->key, req->nkey, item_key_binary(it));
            break;
        default:
            break;
        }
    }
    if (info->already_won)
        line_add(l, " Z", 2);
    if (info->stale)
        line_add(l, " X", 2);
    if (info->won)
        line_add(l, " W", 2);
}

/* See mc_meta.h. */
void mc_meta_held_release(struct cache *c, struct mc_meta_held *h)
{
    for (size_t i = 0; i < h->n; i++)
        cache_item_release(c, &h->it[i]);
    h->n = 0;
}

/* An mg hit: one more reference on it, kept until memcached would have written its reply out. A
 * full list is memcached's 20th request: it writes its queue out then. No memory for the reference
 * only loses the imitation, never the reply. */
static void mc_meta_hold(struct cache *c, struct mc_meta_held *h, struct item *it)
{
    if (h->n == MC_META_HELD_MAX)
        mc_meta_held_release(c, h);
    if (cache_item_acquire(c, it))
        h->it[h->n++] = it;
}

static void mc_meta_mg(const struct mc_context *ctx, struct mc_stats *st, const struct mc_meta_request *req,
                       struct mc_meta_held *held, struct outq *out)
{
    struct cache *c = ctx->cache;
    struct cache_meta_get_opts o = {0};
    struct cache_meta_info info;
    struct mc_line l = {.n = 0};
    cache_exp_t ttl = mc_meta_has(req, 'T') ? mc_exptime(c, req->ttl) : CACHE_EXP_NEVER;
    cache_exp_t viv = mc_meta_has(req, 'N') ? mc_exptime(c, req->vivify_ttl) : CACHE_EXP_NEVER;
    o.no_update = mc_meta_has(req, 'u');
    o.set_ttl = mc_meta_has(req, 'T');
    o.ttl = ttl;
    o.vivify = mc_meta_has(req, 'N');
    o.vivify_exptime = mc_meta_created_exptime(req, ttl, viv);
    o.recache = mc_meta_has(req, 'R');
    o.recache_time = o.recache ? mc_exptime(c, req->recache_ttl) : CACHE_EXP_NEVER;
    o.recache_after_ttl = mc_meta_pos(req, 'T') < mc_meta_pos(req, 'R');
    o.no_tokens = req->opaque_late;
    struct item *it = cache_meta_get(c, req->key, req->nkey, &o, &info);
    mc_meta_count_get(st, it, o.set_ttl, info.why);
    if (req->opaque_late) {
        /* As memcached: T and N took effect, no token was handed out, the reply is the error. */
        cache_item_release(c, &it);
        outq_add_str(out, MC_META_ERR_OPAQUE);
        return;
    }
    if (it == NULL) {
        if (info.status == CACHE_NO_MEMORY) {
            outq_add_str(out, MC_ERR_NO_MEMORY);
            return;
        }
        if (mc_meta_has(req, 'q'))
            return;
        line_add(&l, "EN", 2);
        line_echo(&l, req);
        line_send(&l, out);
        return;
    }
    bool value = mc_meta_has(req, 'v');
    if (value) {
        line_add(&l, "VA", 2);
        line_flag_u64(&l, 0, item_nbytes(it));
    } else {
        line_add(&l, "HD", 2);
    }
    mc_meta_hit_flags(&l, req, it, &info, cache_rel_time(c), ttl, viv);
    line_send(&l, out);
    mc_meta_hold(c, held, it);
    if (value)
        outq_add_value(out, it);
    else
        cache_item_release(c, &it);
}

/* The held item that is key's live item now (NULL if none): the one an md I is about to replace. */
static struct item *mc_meta_held_linked(const struct mc_meta_held *h, const char *key, size_t nkey)
{
    for (size_t i = 0; i < h->n; i++) {
        struct item *it = h->it[i];
        if ((item_state(it) & ITEM_LINKED) && item_nkey(it) == nkey && memcmp(item_key(it), key, nkey) == 0)
            return it;
    }
    return NULL;
}

/* md I replaced `was` by a stale copy where memcached marks the same item in place: the references
 * held on was (for earlier mg hits) move to key's live item, the copy (or go, if the key is gone
 * meanwhile), so that an ma later in the same input still finds the item held. */
static void mc_meta_held_follow(struct cache *c, struct mc_meta_held *h, const struct item *was,
                                const char *key, size_t nkey)
{
    struct item *now = cache_meta_peek(c, key, nkey);
    size_t i = 0;
    while (i < h->n) {
        if (h->it[i] != was) {
            i++;
            continue;
        }
        cache_item_release(c, &h->it[i]);
        if (now != NULL && cache_item_acquire(c, now))
            h->it[i++] = now;
        else
            h->it[i] = h->it[--h->n];
    }
    cache_item_release(c, &now);
}

static void mc_meta_md(const struct mc_context *ctx, struct mc_stats *st, const struct mc_meta_request *req,
                       struct mc_meta_held *held, struct outq *out)
{
    struct cache *c = ctx->cache;
    struct mc_line l = {.n = 0};
    bool stale = mc_meta_has(req, 'I');
    cache_exp_t ttl = mc_meta_has(req, 'T') ? mc_exptime(c, req->ttl) : CACHE_EXP_NEVER;
    struct item *was = stale ? mc_meta_held_linked(held, req->key, req->nkey) : NULL;
    enum cache_status cst = cache_meta_delete(c, req->key, req->nkey, mc_meta_has(req, 'C'), req->cas, stale,
                                              mc_meta_has(req, 'T'), ttl);
    switch (cst) {
    case CACHE_OK:
        if (!stale)
            mc_count(&st->delete_hits);
        else if (was != NULL && !(item_state(was) & ITEM_LINKED))
            mc_meta_held_follow(c, held, was, req->key, req->nkey);
        if (mc_meta_has(req, 'q'))
            return;
        line_add(&l, "HD", 2);
        break;
    case CACHE_EXISTS:
    case CACHE_NOT_FOUND:
        mc_count(&st->delete_misses);
        line_add(&l, cst == CACHE_EXISTS ? "EX" : "NF", 2);
        break;
    default:
        outq_add_str(out, MC_META_ERR_NOMEM);
        return;
    }
    line_echo(&l, req);
    line_send(&l, out);
}

/* The reply of an ma that found or created its item. */
static void mc_meta_ma_reply(const struct mc_context *ctx, const struct mc_meta_request *req,
                             const struct cache_meta_arith_result *r, uint64_t number, cache_exp_t ttl,
                             cache_exp_t viv, struct outq *out)
{
    struct mc_line l = {.n = 0};
    char num[24];
    int nn = snprintf(num, sizeof(num), "%llu", (unsigned long long)number);
    cache_exp_t exptime = r->exptime_before;
    uint32_t now = cache_rel_time(ctx->cache);
    bool value = mc_meta_has(req, 'v');
    if (value) {
        char hdr[16];
        line_add(&l, hdr, (size_t)snprintf(hdr, sizeof(hdr), "VA %d", nn));
    } else {
        line_add(&l, "HD", 2);
    }
    for (size_t i = 0; i < req->norder; i++) {
        char f = req->order[i];
        if (f == 'T')
            exptime = ttl;
        else if (f == 'N' && r->created)
            exptime = viv;
        else if (f == 'c')
            line_flag_u64(&l, 'c', r->cas);
        else if (f == 't')
            line_ttl(&l, exptime, now);
        else if (f == 'O') {
            line_add(&l, " ", 1);
            line_add(&l, req->opaque.p, req->opaque.len);
        } else if (f == 'k')
            line_key(&l, req->key, req->nkey, req->binary);
    }
    if (value) {
        line_add(&l, "\r\n", 2);
        line_add(&l, num, (size_t)nn);
    }
    line_send(&l, out);
}

static void mc_meta_ma(const struct mc_context *ctx, struct mc_stats *st, const struct mc_meta_request *req,
                       struct outq *out)
{
    struct cache *c = ctx->cache;
    struct cache_meta_arith_opts o = {0};
    struct cache_meta_arith_result r;
    struct mc_line l = {.n = 0};
    cache_exp_t ttl = mc_meta_has(req, 'T') ? mc_exptime(c, req->ttl) : CACHE_EXP_NEVER;
    cache_exp_t viv = mc_meta_has(req, 'N') ? mc_exptime(c, req->vivify_ttl) : CACHE_EXP_NEVER;
    struct mc_arith a = {
        .incr = req->mode != 'D' && req->mode != '-', .delta = req->delta, .use_cas = ctx->use_cas};
    struct cache_rmw op;
    a.vivify = mc_meta_has(req, 'N');
    a.initial = req->initial;
    mc_arith_op(&a, &op);
    o.rmw = &op;
    o.refuse = mc_arith_refuse;
    o.has_cas = mc_meta_has(req, 'C') && req->cas != 0; /* ma ignores C0 (md does not) */
    o.cas = req->cas;
    o.vivify = mc_meta_has(req, 'N');
    o.vivify_exptime = mc_meta_created_exptime(req, ttl, viv);
    o.set_ttl = mc_meta_has(req, 'T');
    o.ttl = ttl;
    enum cache_status cst = cache_meta_arith(c, req->key, req->nkey, &o, &r);
    if (req->opaque_late && (cst == CACHE_OK || cst == CACHE_NOT_FOUND || cst == CACHE_EXISTS)) {
        if (cst == CACHE_OK && !r.created)
            mc_count(a.incr ? &st->incr_hits : &st->decr_hits);
        else if (cst == CACHE_NOT_FOUND)
            mc_count(a.incr ? &st->incr_misses : &st->decr_misses);
        outq_add_str(out, MC_META_ERR_OPAQUE); /* the counter changed anyway, as in memcached */
        return;
    }
    switch (cst) {
    case CACHE_OK:
        if (!r.created)
            mc_count(a.incr ? &st->incr_hits : &st->decr_hits);
        if (!r.created && mc_meta_has(req, 'q'))
            return;
        mc_meta_ma_reply(ctx, req, &r, a.value, ttl, viv, out);
        return;
    case CACHE_NOT_FOUND:
        mc_count(a.incr ? &st->incr_misses : &st->decr_misses);
        line_add(&l, "NF", 2);
        break;
    case CACHE_EXISTS:
        line_add(&l, "EX", 2);
        break;
    case CACHE_NON_NUMERIC:
        outq_add_str(out, MC_ERR_NON_NUMERIC);
        return;
    default:
        outq_add_str(out, MC_META_ERR_NOMEM);
        return;
    }
    line_echo(&l, req);
    line_send(&l, out);
}

/* me: memcached's debug line. exp is printed as memcached 1.6.18 prints it: the clock minus the
 * exptime (so an item with 100 s left shows exp=-100), -1 without expiry; a precise expiry counts as
 * the first whole second at or after it (item_exptime). cls and size are cairn's own slab class and
 * item size. */
static void mc_meta_me(const struct mc_context *ctx, const struct mc_meta_request *req, struct outq *out)
{
    struct cache *c = ctx->cache;
    struct item *it = cache_meta_peek(c, req->key, req->nkey);
    struct mc_line l = {.n = 0};
    char tail[160];
    if (it == NULL) {
        outq_add_str(out, "EN\r\n");
        return;
    }
    uint32_t now = cache_rel_time(c), exptime = item_exptime(it);
    line_add(&l, "ME ", 3);
    line_key_text(&l, item_key(it), item_nkey(it), item_key_binary(it));
    int n = snprintf(tail, sizeof(tail), " exp=%d la=%u cas=%llu fetch=%s cls=%u size=%zu",
                     exptime == 0 ? -1 : (int)(now - exptime), now - item_atime(it),
                     (unsigned long long)item_cas(it), (item_state(it) & ITEM_FETCHED) ? "yes" : "no",
                     cache_item_class(c, it), item_size(it));
    line_add(&l, tail, (size_t)n);
    line_send(&l, out);
    cache_item_release(c, &it);
}

static enum cache_store_mode mc_meta_store_mode(const struct mc_meta_request *req)
{
    bool cas = mc_meta_has(req, 'C');
    switch (req->mode) {
    case 'E':
        return CACHE_ADD;
    case 'A':
        return CACHE_APPEND;
    case 'P':
        return CACHE_PREPEND;
    case 'R':
        return cas ? CACHE_CAS : CACHE_REPLACE;
    default:
        return cas ? CACHE_CAS : CACHE_SET;
    }
}

/* ms line: allocate the item for the value, or refuse and swallow the value block. */
static enum mc_meta_result mc_meta_ms(const struct mc_context *ctx, struct mc_stats *st,
                                      const struct mc_meta_request *req, struct mc_meta_set *set)
{
    struct cache *c = ctx->cache;
    enum cache_status cst = CACHE_TOO_LARGE;
    struct item *it = NULL;
    cache_exp_t exptime = mc_meta_has(req, 'T') ? mc_exptime(c, req->ttl) : CACHE_EXP_NEVER;
    bool fits = mc_item_fits(ctx, req->nkey, mc_meta_has(req, 'F') ? req->client_flags : 0, req->nbytes);
    bool reserved = fits && mc_recv_reserve(ctx, req->nbytes);
    if (fits && !reserved && !set->no_wait)
        return MC_META_BUSY;
    memset(set, 0, offsetof(struct mc_meta_set, opaque));
    set->nbytes = req->nbytes;
    set->mode = mc_meta_store_mode(req);
    set->cas = ctx->use_cas ? req->cas : 0; /* with -C an item cannot carry the client's CAS */
    set->set_stale = mc_meta_has(req, 'I');
    set->quiet = mc_meta_has(req, 'q');
    set->binary = req->binary;
    for (size_t i = 0; i < req->norder; i++) {
        if (strchr("Okc", req->order[i]) != NULL)
            set->order[set->norder++] = req->order[i];
    }
    set->nopaque = req->opaque.len;
    if (set->nopaque > 0)
        memcpy(set->opaque, req->opaque.p, set->nopaque);
    if (fits) {
        cst = CACHE_NO_MEMORY;
        if (reserved) {
            it = cache_alloc(c, req->key, req->nkey, req->client_flags, exptime, req->nbytes, &cst);
            if (it == NULL)
                mc_recv_unreserve(ctx, req->nbytes);
        }
    }
    if (it == NULL) {
        bool too_large = cst == CACHE_TOO_LARGE;
        mc_count(too_large ? &st->store_too_large : &st->store_no_memory);
        /* As memcached: a failed ms of any mode does not leave the old value readable. */
        cache_delete(c, req->key, req->nkey, 0);
        set->swallow = (size_t)req->nbytes + 2;
        set->error = too_large ? MC_ERR_TOO_LARGE : MC_ERR_NO_MEMORY;
        return MC_META_SWALLOW;
    }
    item_set_key_binary(it, req->binary);
    set->it = it;
    return MC_META_VALUE;
}

/* See mc_meta.h. */
void mc_meta_finish_set(const struct mc_context *ctx, struct mc_stats *st, const struct mc_meta_set *set,
                        struct item *it, bool chunk_ok, struct outq *out)
{
    struct mc_line l = {.n = 0};
    uint64_t cas = 0;
    mc_count(&st->cmd_set);
    if (!chunk_ok) {
        outq_add_str(out, MC_ERR_BAD_CHUNK);
        return;
    }
    enum cache_status cst = cache_meta_store(ctx->cache, it, set->mode, set->cas, set->set_stale, &cas);
    if (set->mode == CACHE_CAS) {
        if (cst == CACHE_OK)
            mc_count(&st->cas_hits);
        else if (cst == CACHE_EXISTS)
            mc_count(&st->cas_badval);
        else if (cst == CACHE_NOT_FOUND)
            mc_count(&st->cas_misses);
    }
    switch (cst) {
    case CACHE_OK:
        if (set->quiet)
            return;
        line_add(&l, "HD", 2);
        break;
    case CACHE_EXISTS:
        line_add(&l, "EX", 2);
        break;
    case CACHE_NOT_FOUND:
        line_add(&l, "NF", 2);
        break;
    case CACHE_NOT_STORED:
        line_add(&l, "NS", 2);
        break;
    default:
        outq_add_str(out, MC_ERR_NO_MEMORY);
        return;
    }
    for (size_t i = 0; i < set->norder; i++) {
        if (set->order[i] == 'O') {
            line_add(&l, " ", 1);
            line_add(&l, set->opaque, set->nopaque);
        } else if (set->order[i] == 'k') {
            line_key(&l, item_key(it), item_nkey(it), set->binary);
        } else {
            line_flag_u64(&l, 'c', cas);
        }
    }
    line_send(&l, out);
}

/* See mc_meta.h. */
enum mc_meta_result mc_meta_exec(const struct mc_context *ctx, struct mc_stats *stats, const char *line,
                                 size_t len, bool admin, struct mc_meta_set *set, struct mc_meta_held *held,
                                 struct outq *out)
{
    struct mc_meta_request req;
    switch (mc_meta_parse(line, len, &req)) {
    case MC_PARSE_OK:
        break;
    case MC_PARSE_CLIENT_ERROR:
        if (req.swallow) {
            set->swallow = (size_t)req.nbytes + 2;
            set->error = req.error;
            return MC_META_SWALLOW;
        }
        outq_add_str(out, req.error);
        return MC_META_DONE;
    default:
        outq_add_str(out, MC_ERR_ERROR);
        return MC_META_DONE;
    }
    switch (req.cmd) {
    case MC_META_MG:
        mc_meta_mg(ctx, stats, &req, held, out);
        break;
    case MC_META_MS:
        return mc_meta_ms(ctx, stats, &req, set);
    case MC_META_MD:
        mc_meta_md(ctx, stats, &req, held, out);
        break;
    case MC_META_MA:
        if (outq_holds_items(out))
            return MC_META_FLUSH;
        mc_meta_ma(ctx, stats, &req, out);
        break;
    case MC_META_ME:
        if (admin) /* a debug dump of any item's metadata: for admin users only */
            mc_meta_me(ctx, &req, out);
        else
            outq_add_str(out, MC_ERR_PERMISSION);
        break;
    default:
        outq_add_str(out, "MN\r\n");
        mc_meta_held_release(ctx->cache, held); /* mn writes memcached's queue out */
        break;
    }
    return MC_META_DONE;
}
