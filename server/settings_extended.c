/*
 * settings_extended.c: memcached 1.6.18's -o suboptions, one table row per name.
 *
 * Every name memcached 1.6.18 (as Debian builds it: with extstore, TLS and sock_cookie_id, without
 * the proxy) accepts is accepted or refused here, and each value is checked as memcached checks it,
 * with its message and its exit status (1, set by the caller). A row says what the suboption does:
 * - it takes effect (idle_timeout, read_buf_mem_limit, hashpower, no_hashexpand, slab_reassign,
 *   slab_automove, lru_crawler and its sleep and tocrawl, maxconns_fast);
 * - it tunes a part of memcached that cairn does differently (the segmented LRU, the hash function,
 *   chunked items, the log buffers...): checked, then only named in the -v start-up report;
 * - it belongs to a feature cairn does not have (extstore's ext_*, TLS's ssl_*, the proxy): start-up
 *   stops with a message that names it.
 * memcached reads a value with atoi()/atof() where it does no more than that; so does atoi_value()
 * here, so "abc" is 0 and gets memcached's message for 0.
 *
 * Single-threaded: runs in main() before the server starts.
 */
#include "config.h"

#include "server/settings_internal.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB            ((uint64_t)1024 * 1024)
#define SLAB_PAGE_SIZE (1024u * 1024u) /* memcached's slab page, for its slab_chunk_max checks */
#define SLAB_CLASSES   64u             /* memcached's MAX_NUMBER_OF_SLAB_CLASSES */
#define CHUNK_ALIGN    8u

/* Applies one suboption; val is NULL when the name came without '='. Returns NULL or the reason. */
typedef const char *(*subopt_fn)(struct settings *s, const char *name, const char *val, char *msg, FILE *err);

struct subopt {
    const char *name;
    subopt_fn apply;
    bool no_effect; /* accepted, changes nothing in cairn: named in the -v start-up report */
};

/* memcached's atoi(): leading digits after an optional sign, 0 when there are none; clamped to int. */
static long atoi_value(const char *val)
{
    long v = strtol(val, NULL, 10);
    return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : v;
}

/* memcached's safe_strtoul: a whole unsigned decimal that fits 32 bits. */
static bool u32_value(const char *val, unsigned *out)
{
    unsigned long long v;

    if (!settings_parse_ull(val, UINT32_MAX, &v))
        return false;
    *out = (unsigned)v;
    return true;
}

/* "Missing <what>" as memcached words it for each suboption. */
static const char *missing(char *msg, const char *what)
{
    snprintf(msg, SETTINGS_MSG_MAX, "Missing %s", what);
    return msg;
}

/* ---- suboptions that take effect ---- */

static const char *sub_nothing(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    (void)s, (void)name, (void)val, (void)msg, (void)err;
    return NULL;
}

static const char *sub_idle_timeout(struct settings *s, const char *name, const char *val, char *msg,
                                    FILE *err)
{
    unsigned long long v;
    (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "numeric argument for idle_timeout");
    /* cairn only: memcached's atoi() takes junk as 0 (never) */
    if (!settings_parse_ull(val, INT_MAX, &v))
        return "idle_timeout must be a number of seconds";
    s->idle_timeout = (unsigned)v;
    return NULL;
}

static const char *sub_read_buf(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    unsigned v;
    (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "read_buf_mem_limit argument");
    if (!u32_value(val, &v))
        return "could not parse argument to read_buf_mem_limit";
    s->read_buf_limit = (uint64_t)v * MIB;
    return NULL;
}

static const char *sub_hashpower(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "numeric argument for hashpower");
    long v = atoi_value(val);
    if (v < 12) {
        snprintf(msg, SETTINGS_MSG_MAX, "Initial hashtable multiplier of %ld is too low", v);
        return msg;
    }
    if (v > 32) {
        snprintf(msg, SETTINGS_MSG_MAX,
                 "Initial hashtable multiplier of %ld is too high\n"
                 "Choose a value based on \"STAT hash_power_level\" from a running instance",
                 v);
        return msg;
    }
    s->hashpower_init = (unsigned)v;
    return NULL;
}

static const char *sub_no_hashexpand(struct settings *s, const char *name, const char *val, char *msg,
                                     FILE *err)
{
    (void)name, (void)val, (void)msg, (void)err;
    s->no_hash_expand = true;
    return NULL;
}

static const char *sub_slab_automove(struct settings *s, const char *name, const char *val, char *msg,
                                     FILE *err)
{
    (void)name, (void)msg, (void)err;

    if (val == NULL) {
        s->slab_automove = 1;
        return NULL;
    }
    long v = atoi_value(val);
    if (v < 0 || v > 2)
        return "slab_automove must be between 0 and 2";
    s->slab_automove = (unsigned)v;
    return NULL;
}

static const char *sub_maxconns_fast(struct settings *s, const char *name, const char *val, char *msg,
                                     FILE *err)
{
    (void)val, (void)msg, (void)err;
    s->maxconns_fast = strcmp(name, "maxconns_fast") == 0;
    return NULL;
}

static const char *sub_slab_reassign(struct settings *s, const char *name, const char *val, char *msg,
                                     FILE *err)
{
    (void)val, (void)msg, (void)err;
    s->slab_reassign = strcmp(name, "slab_reassign") == 0;
    return NULL;
}

static const char *sub_no_slab_automove(struct settings *s, const char *name, const char *val, char *msg,
                                        FILE *err)
{
    (void)name, (void)val, (void)msg, (void)err;
    s->slab_automove = 0;
    return NULL;
}

static const char *sub_lru_crawler(struct settings *s, const char *name, const char *val, char *msg,
                                   FILE *err)
{
    (void)val, (void)msg, (void)err;
    s->lru_crawler = strcmp(name, "lru_crawler") == 0;
    return NULL;
}

static const char *sub_crawler_sleep(struct settings *s, const char *name, const char *val, char *msg,
                                     FILE *err)
{
    (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "lru_crawler_sleep value");
    long v = atoi_value(val);
    if (v > 1000000 || v < 0)
        return "LRU crawler sleep must be between 0 and 1 second";
    s->crawler_sleep = (unsigned)v;
    return NULL;
}

static const char *sub_crawler_tocrawl(struct settings *s, const char *name, const char *val, char *msg,
                                       FILE *err)
{
    (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "lru_crawler_tocrawl value");
    if (!u32_value(val, &s->crawler_tocrawl))
        return "lru_crawler_tocrawl takes a numeric 32bit value";
    return NULL;
}

/* no_modern: memcached 1.4's defaults. cairn carries out the parts it has (no reassign, no automove,
 * no crawler, no maxconns_fast)
 * and reports the rest (segmented LRU, jenkins hash, unchunked items) as having no effect. */
static const char *sub_no_modern(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    (void)name, (void)val, (void)msg, (void)err;
    s->slab_reassign = false;
    s->maxconns_fast = false;
    s->slab_automove = 0;
    s->lru_crawler = false;
    s->lru_maintainer = false;
    settings_note_no_effect(s, "no_modern's segmented LRU, jenkins hash and unchunked items");
    return NULL;
}

static const char *sub_resp_obj(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    (void)s, (void)name, (void)val, (void)msg;
    /* memcached prints this and starts */
    fputs("DEPRECATED: resp_obj_mem_limit no longer used. See read_buf_mem_limit,\n", err);
    return NULL;
}

/* ---- tuning knobs: checked as memcached checks them, no effect here ---- */

static const char *sub_automove_ratio(struct settings *s, const char *name, const char *val, char *msg,
                                      FILE *err)
{
    (void)s, (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "slab_automove_ratio argument");
    double v = atof(val);
    if (v <= 0 || v > 1)
        return "slab_automove_ratio must be > 0 and < 1";
    return NULL;
}

static const char *sub_automove_window(struct settings *s, const char *name, const char *val, char *msg,
                                       FILE *err)
{
    (void)s, (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "slab_automove_window argument");
    if (atoi_value(val) < 3)
        return "slab_automove_window must be > 2";
    return NULL;
}

static const char *sub_tail_repair(struct settings *s, const char *name, const char *val, char *msg,
                                   FILE *err)
{
    (void)s, (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "numeric argument for tail_repair_time");
    if (atoi_value(val) < 10)
        return "Cannot set tail_repair_time to less than 10 seconds";
    return NULL;
}

static const char *sub_hash_algorithm(struct settings *s, const char *name, const char *val, char *msg,
                                      FILE *err)
{
    (void)s, (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "hash_algorithm argument");
    if (strcmp(val, "jenkins") != 0 && strcmp(val, "murmur3") != 0 && strcmp(val, "xxh3") != 0)
        return "Unknown hash_algorithm option (jenkins, murmur3, xxh3)";
    return NULL;
}

static const char *sub_lru_maintainer(struct settings *s, const char *name, const char *val, char *msg,
                                      FILE *err)
{
    (void)val, (void)msg, (void)err;
    s->lru_maintainer = strcmp(name, "lru_maintainer") == 0;
    return NULL;
}

/* hot_lru_pct and warm_lru_pct: memcached's range and text (its "> 1" means >= 1). */
static const char *sub_lru_pct(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    bool hot = strcmp(name, "hot_lru_pct") == 0;
    (void)err;

    if (val == NULL)
        return missing(msg, hot ? "hot_lru_pct argument" : "warm_lru_pct argument");
    long v = atoi_value(val);
    if (v < 1 || v >= 80)
        return hot ? "hot_lru_pct must be > 1 and < 80" : "warm_lru_pct must be > 1 and < 80";
    if (hot)
        s->hot_lru_pct = (unsigned)v;
    else
        s->warm_lru_pct = (unsigned)v;
    return NULL;
}

static const char *sub_max_factor(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    bool hot = strcmp(name, "hot_max_factor") == 0;
    (void)s, (void)err;

    if (val == NULL)
        return missing(msg, hot ? "hot_max_factor argument" : "warm_max_factor argument");
    if (atof(val) <= 0)
        return hot ? "hot_max_factor must be > 0" : "warm_max_factor must be > 0";
    return NULL;
}

static const char *sub_temporary_ttl(struct settings *s, const char *name, const char *val, char *msg,
                                     FILE *err)
{
    (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "temporary_ttl argument");
    s->temp_lru = true;
    return NULL;
}

static const char *sub_logbuf(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    unsigned v;
    (void)s, (void)err;

    if (val == NULL) {
        snprintf(msg, SETTINGS_MSG_MAX, "Missing %s argument", name);
        return msg;
    }
    if (!u32_value(val, &v)) {
        snprintf(msg, SETTINGS_MSG_MAX, "could not parse argument to %s", name);
        return msg;
    }
    return NULL;
}

static const char *sub_slab_sizes(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    (void)name, (void)err;

    if (val == NULL || val[0] == '\0')
        return missing(msg, "slab_sizes argument"); /* cairn only: memcached crashes */
    char *copy = strdup(val);
    if (copy == NULL)
        return "out of memory";
    free(s->slab_sizes);
    s->slab_sizes = copy;
    return NULL;
}

static const char *sub_slab_chunk_max(struct settings *s, const char *name, const char *val, char *msg,
                                      FILE *err)
{
    unsigned long long v;
    (void)name, (void)err;

    /* memcached prints these two and goes on to divide by what it could not read; cairn stops */
    if (val == NULL)
        return missing(msg, "slab_chunk_max argument");
    if (!settings_parse_ull(val, INT_MAX, &v) || v == 0)
        return "could not parse argument to slab_chunk_max";
    s->slab_chunk_max = (unsigned)v;
    return NULL;
}

static const char *sub_free_ratio(struct settings *s, const char *name, const char *val, char *msg, FILE *err)
{
    (void)s, (void)name, (void)err;

    if (val == NULL)
        return missing(msg, "slab_automove_freeratio argument");
    return NULL;
}

/*
 * Every suboption memcached 1.6.18 takes (memcached.c's subopts_tokens, plus extstore's
 * slab_automove_freeratio), in its order. The ext_*, ssl_* and proxy_* families are refused before
 * this table is searched (refused_feature).
 */
static const struct subopt subopts[] = {
    {"maxconns_fast", sub_maxconns_fast, false},
    {"hashpower", sub_hashpower, false},
    {"no_hashexpand", sub_no_hashexpand, false},
    {"slab_reassign", sub_slab_reassign, false},
    {"slab_automove", sub_slab_automove, false},
    {"slab_automove_ratio", sub_automove_ratio, true},
    {"slab_automove_window", sub_automove_window, true},
    {"tail_repair_time", sub_tail_repair, true},
    {"hash_algorithm", sub_hash_algorithm, true},
    {"lru_crawler", sub_lru_crawler, false},
    {"lru_crawler_sleep", sub_crawler_sleep, false},
    {"lru_crawler_tocrawl", sub_crawler_tocrawl, false},
    {"lru_maintainer", sub_lru_maintainer, true},
    {"hot_lru_pct", sub_lru_pct, true},
    {"warm_lru_pct", sub_lru_pct, true},
    {"hot_max_factor", sub_max_factor, true},
    {"warm_max_factor", sub_max_factor, true},
    {"temporary_ttl", sub_temporary_ttl, true},
    {"idle_timeout", sub_idle_timeout, false},
    {"watcher_logbuf_size", sub_logbuf, true},
    {"worker_logbuf_size", sub_logbuf, true},
    {"slab_sizes", sub_slab_sizes, true},
    {"slab_chunk_max", sub_slab_chunk_max, true},
    {"track_sizes", sub_nothing, true},
    {"no_inline_ascii_resp", sub_nothing, true},
    {"modern", sub_nothing, false},      /* changes nothing in memcached 1.6.18 either */
    {"no_modern", sub_no_modern, false}, /* in part: sub_no_modern names the rest */
    {"no_chunked_items", sub_nothing, true},
    {"no_slab_reassign", sub_slab_reassign, false},
    {"no_slab_automove", sub_no_slab_automove, false},
    {"no_maxconns_fast", sub_maxconns_fast, false},
    {"inline_ascii_resp", sub_nothing, true},
    {"no_lru_crawler", sub_lru_crawler, false},
    {"no_lru_maintainer", sub_lru_maintainer, true},
    {"no_drop_privileges", sub_nothing, true},
    {"drop_privileges", sub_nothing, true},
    {"resp_obj_mem_limit", sub_resp_obj, false},
    {"read_buf_mem_limit", sub_read_buf, false},
    {"sock_cookie_id", sub_nothing, true},
    {"slab_automove_freeratio", sub_free_ratio, true},
};

/* The message for a suboption of a feature cairn does not have; NULL for any other name. */
static const char *refused_feature(const char *name, char *msg)
{
    static const struct {
        const char *prefix, *feature;
    } families[] = {
        {"ext_", "external storage (extstore)"},
        {"ssl_", "TLS"},
        {"proxy_", "the proxy"},
    };

    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        if (strncmp(name, families[i].prefix, strlen(families[i].prefix)) == 0) {
            snprintf(msg, SETTINGS_MSG_MAX, "-o %.64s: cairn does not support %s", name, families[i].feature);
            return msg;
        }
    }
    return NULL;
}

/* See settings_internal.h. */
void settings_note_no_effect(struct settings *s, const char *name)
{
    for (size_t i = 0; i < s->nno_effect; i++)
        if (strcmp(s->no_effect[i], name) == 0)
            return;
    if (s->nno_effect < SETTINGS_NO_EFFECT_MAX)
        s->no_effect[s->nno_effect++] = name;
}

/* Applies one NAME[=VALUE]. */
static const char *apply_one(struct settings *s, char *sub, char *msg, FILE *err)
{
    char *val = strchr(sub, '=');

    if (val != NULL)
        *val++ = '\0';
    for (size_t i = 0; i < sizeof(subopts) / sizeof(subopts[0]); i++) {
        if (strcmp(sub, subopts[i].name) != 0)
            continue;
        const char *why = subopts[i].apply(s, sub, val, msg, err);
        if (why == NULL && subopts[i].no_effect)
            settings_note_no_effect(s, subopts[i].name);
        return why;
    }
    const char *why = refused_feature(sub, msg);
    if (why != NULL)
        return why;
    if (val != NULL)
        val[-1] = '=';
    snprintf(msg, SETTINGS_MSG_MAX, "Illegal suboption \"%.200s\"", sub);
    return msg;
}

/* See settings_internal.h. */
const char *settings_apply_extended(struct settings *s, const char *arg, char msg[SETTINGS_MSG_MAX],
                                    FILE *err)
{
    char *copy = strdup(arg);
    const char *why = copy == NULL ? "out of memory" : NULL;
    char *save = NULL;

    for (char *sub = copy ? strtok_r(copy, ",", &save) : NULL; sub != NULL && why == NULL;
         sub = strtok_r(NULL, ",", &save))
        why = apply_one(s, sub, msg, err);
    /* msg may quote the copy: it was formatted into msg before the copy is freed */
    free(copy);
    return why;
}

/* memcached's check of slab_sizes: each size within [-n, slab_chunk_max], each more than 8 bytes
 * above the one before, fewer than 63 of them. */
static const char *check_slab_sizes(const struct settings *s, unsigned chunk_max, char *msg)
{
    char *copy = strdup(s->slab_sizes);
    char *save = NULL;
    unsigned long long size, last = 0;
    unsigned n = 0;
    const char *why = copy == NULL ? "out of memory" : NULL;

    for (char *p = copy ? strtok_r(copy, "-", &save) : NULL; p != NULL && why == NULL;
         p = strtok_r(NULL, "-", &save)) {
        if (!settings_parse_ull(p, UINT32_MAX, &size))
            size = 0;
        if (size < s->chunk_min || size > chunk_max)
            snprintf(msg, SETTINGS_MSG_MAX, "slab size %llu is out of valid range", size);
        else if (last >= size)
            snprintf(msg, SETTINGS_MSG_MAX,
                     "slab size %llu cannot be lower than or equal to a previous class size", size);
        else if (size <= last + CHUNK_ALIGN)
            snprintf(msg, SETTINGS_MSG_MAX,
                     "slab size %llu must be at least %u bytes larger than previous class", size,
                     CHUNK_ALIGN);
        else if (++n >= SLAB_CLASSES - 1)
            snprintf(msg, SETTINGS_MSG_MAX, "too many slab classes specified");
        else {
            last = size;
            continue;
        }
        why = msg;
    }
    free(copy);
    return why;
}

/* See settings_internal.h. */
const char *settings_check_extended(const struct settings *s, char msg[SETTINGS_MSG_MAX])
{
    unsigned chunk_max = s->slab_chunk_max;
    unsigned long long item = s->item_size_max;

    if (chunk_max != 0) {
        if (chunk_max > item) {
            snprintf(msg, SETTINGS_MSG_MAX,
                     "slab_chunk_max (bytes: %u) cannot be larger than -I (item_size_max %llu)", chunk_max,
                     item);
            return msg;
        }
        if (item % chunk_max != 0) {
            snprintf(msg, SETTINGS_MSG_MAX,
                     "-I (item_size_max: %llu) must be evenly divisible by slab_chunk_max (bytes: %u)", item,
                     chunk_max);
            return msg;
        }
        if (SLAB_PAGE_SIZE % chunk_max != 0) {
            snprintf(msg, SETTINGS_MSG_MAX,
                     "slab_chunk_max (bytes: %u) must divide evenly into %u (slab_page_size)", chunk_max,
                     SLAB_PAGE_SIZE);
            return msg;
        }
    }
    if (s->slab_sizes != NULL) {
        const char *why = check_slab_sizes(s, chunk_max != 0 ? chunk_max : SLAB_PAGE_SIZE / 2, msg);
        if (why != NULL)
            return why;
    }
    if (s->hot_lru_pct + s->warm_lru_pct > 80)
        return "hot_lru_pct + warm_lru_pct cannot be more than 80% combined";
    if (s->temp_lru && !s->lru_maintainer)
        return "temporary_ttl requires lru_maintainer to be enabled";
    return NULL;
}
