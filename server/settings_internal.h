/*
 * settings_internal.h: what the three files of option parsing share and nothing else includes.
 * settings.c parses the command line, settings_extended.c the -o suboptions, settings_file.c the
 * --config file. Single-threaded: all of it runs in main() before the server starts.
 */
#ifndef CAIRN_SERVER_SETTINGS_INTERNAL_H
#define CAIRN_SERVER_SETTINGS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "server/settings.h"

/* Size of the buffer a message that quotes a value is written into. */
#define SETTINGS_MSG_MAX 320

/* A whole decimal number in [0, max]; false on junk, a sign or overflow (settings.c). */
bool settings_parse_ull(const char *arg, unsigned long long max, unsigned long long *out);

/* Remembers an option that is accepted for memcached's sake and changes nothing here, for the
 * start-up report (-v). name is a static string; a name given twice is kept once. */
void settings_note_no_effect(struct settings *s, const char *name);

/*
 * Applies -o's comma-separated list (settings_extended.c). Returns NULL, or the reason the list is
 * refused (memcached's text where memcached has one), which may point into msg. memcached refuses
 * every bad suboption with exit status 1. Messages that memcached prints and still starts (the
 * deprecated resp_obj_mem_limit) go to err.
 */
const char *settings_apply_extended(struct settings *s, const char *arg, char msg[SETTINGS_MSG_MAX],
                                    FILE *err);

/*
 * The -o checks memcached makes once the whole command line is read (EX_USAGE there): slab_chunk_max
 * against -I, hot_lru_pct + warm_lru_pct, temporary_ttl without the LRU maintainer, slab_sizes
 * against -n. Returns NULL or the reason, which may point into msg.
 */
const char *settings_check_extended(const struct settings *s, char msg[SETTINGS_MSG_MAX]);

/*
 * --config FILE (settings_file.c): returns a new argument vector in which every `--config FILE` (or
 * `--config=FILE`) of argv is replaced by the options of FILE, one per line, in order; *argc_out is
 * its length. The vector and its strings live in one allocation that the caller frees with free().
 * A `logfile FILE` line sets s->log_file. NULL when a file cannot be read or holds a line that is
 * not an option; the reason was printed to err. When argv names no config file, the default one
 * ($CAIRN_CONFIG if set, an empty value meaning none; else SETTINGS_DEFAULT_CONFIG) is read first,
 * if it exists, so that every option on the command line overrides it.
 */
#define SETTINGS_DEFAULT_CONFIG "/etc/cairn/cairn.conf"
char **settings_expand_config(struct settings *s, int argc, char **argv, int *argc_out, FILE *err);

#endif
