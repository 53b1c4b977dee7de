/*
 * settings_file.c: --config FILE, memcached.conf's format (Debian's /etc/memcached.conf).
 *
 * The file holds command-line options, one per line: `-m 64`, `-l 127.0.0.1`, `-vv`,
 * `--max-item-size=2m`, `-o idle_timeout=60`. '#' starts a comment wherever it appears; blank lines
 * are skipped; an option and its value are split at the first run of blanks, and the value is the
 * rest of the line (so a path may hold spaces). Debian's start-memcached wrapper also reads one
 * directive that is not an option, `logfile FILE`, and sends the daemon's output there; cairn does
 * the same for `logfile FILE` and `-logfile FILE` (which getopt would otherwise read as -l ogfile).
 *
 * The options of the file take the place of `--config FILE` on the command line, so options after
 * it override the file's (the last -p wins) and options before it are overridden by it. A file
 * cannot name another --config. The file is read once, at start; SIGHUP does not reread it.
 *
 * Bounds: a file of at most CONFIG_FILE_MAX bytes. Single-threaded: runs in main().
 */
#include "config.h"

#include "server/settings_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_FILE_MAX ((size_t)1 << 20)

/* The argument vector being built: owned copies of each string. */
struct argv_builder {
    char **v;
    size_t n, cap;
};

static bool builder_add(struct argv_builder *b, const char *arg, size_t len)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        char **v = realloc(b->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n] = strndup(arg, len);
    if (b->v[b->n] == NULL)
        return false;
    b->n++;
    return true;
}

static void builder_free(struct argv_builder *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i]);
    free(b->v);
    memset(b, 0, sizeof(*b));
}

/* Packs the vector and its strings into one allocation (NULL-terminated); NULL on no memory. */
static char **builder_pack(const struct argv_builder *b)
{
    size_t size = (b->n + 1) * sizeof(char *);
    for (size_t i = 0; i < b->n; i++)
        size += strlen(b->v[i]) + 1;
    char **out = malloc(size);
    if (out == NULL)
        return NULL;
    char *p = (char *)(out + b->n + 1);
    for (size_t i = 0; i < b->n; i++) {
        size_t len = strlen(b->v[i]) + 1;
        memcpy(p, b->v[i], len);
        out[i] = p;
        p += len;
    }
    out[b->n] = NULL;
    return out;
}

/* Reads the whole file, NUL-terminated; NULL (reason printed) when it cannot. */
static char *read_file(const char *path, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(err, "Could not open the config file %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(CONFIG_FILE_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, CONFIG_FILE_MAX + 1, f) : 0;
    bool bad = buf == NULL || ferror(f) || n > CONFIG_FILE_MAX;
    fclose(f);
    if (bad) {
        fprintf(err, "Could not read the config file %s: %s\n", path,
                buf == NULL           ? "out of memory"
                : n > CONFIG_FILE_MAX ? "larger than 1 MiB"
                                      : "read error");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Cuts a line down to its words: drops the comment and the blanks around it. */
static char *trim_line(char *line)
{
    char *hash = strchr(line, '#');
    if (hash != NULL)
        *hash = '\0';
    while (*line == ' ' || *line == '\t' || *line == '\r')
        line++;
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        line[--len] = '\0';
    return line;
}

/* Sets the log file from a `logfile FILE` line. */
static bool set_log_file(struct settings *s, const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return false;
    free(s->log_file);
    s->log_file = copy;
    return true;
}

/* Adds one line's option (and value) to b, or takes its directive. False with the reason printed. */
static bool add_line(struct settings *s, struct argv_builder *b, char *line, const char *path,
                     unsigned lineno, FILE *err)
{
    size_t klen = strcspn(line, " \t");
    char *val = line + klen;
    while (*val == ' ' || *val == '\t')
        val++;
    bool is_logfile =
        (klen == 7 && strncmp(line, "logfile", 7) == 0) || (klen == 8 && strncmp(line, "-logfile", 8) == 0);

    if (is_logfile) {
        if (*val == '\0') {
            fprintf(err, "%s:%u: logfile needs a file name\n", path, lineno);
            return false;
        }
        if (!set_log_file(s, val))
            goto nomem;
        return true;
    }
    if (line[0] != '-') {
        fprintf(err, "%s:%u: \"%.*s\" is not an option (options start with '-')\n", path, lineno, (int)klen,
                line);
        return false;
    }
    if (strncmp(line, "--config", 8) == 0 && (klen == 8 || line[8] == '=')) {
        fprintf(err, "%s:%u: --config cannot be used inside a config file\n", path, lineno);
        return false;
    }
    if (!builder_add(b, line, klen) || (*val != '\0' && !builder_add(b, val, strlen(val))))
        goto nomem;
    return true;
nomem:
    fprintf(err, "Could not read the config file %s: out of memory\n", path);
    return false;
}

/* Adds the options of one file to b. False with the reason printed. */
static bool add_file(struct settings *s, struct argv_builder *b, const char *path, FILE *err)
{
    char *buf = read_file(path, err);
    if (buf == NULL)
        return false;
    bool ok = true;
    unsigned lineno = 0;
    /* line by line by hand: strtok_r would skip empty lines and so miscount */
    for (char *line = buf; ok && line != NULL;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        char *words = trim_line(line);
        if (words[0] != '\0')
            ok = add_line(s, b, words, path, lineno, err);
        line = next;
    }
    free(buf);
    return ok;
}

/* Whether argv names a config file itself (--config FILE or --config=FILE). */
static bool names_config(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0 || strncmp(argv[i], "--config=", 9) == 0)
            return true;
    return false;
}

/* The default config file when argv names none: $CAIRN_CONFIG if set (empty: none), else
 * SETTINGS_DEFAULT_CONFIG; NULL when there is none or it does not exist. */
static const char *default_config(int argc, char **argv)
{
    const char *path = getenv("CAIRN_CONFIG");
    if (path == NULL)
        path = SETTINGS_DEFAULT_CONFIG;
    if (path[0] == '\0' || names_config(argc, argv) || access(path, F_OK) != 0)
        return NULL;
    return path;
}

/* See settings_internal.h. */
char **settings_expand_config(struct settings *s, int argc, char **argv, int *argc_out, FILE *err)
{
    struct argv_builder b = {0};
    char **out = NULL;
    bool ok = true;
    const char *dflt = default_config(argc, argv);

    for (int i = 0; ok && i < argc; i++) {
        if (i == 1 && dflt != NULL) /* the default file's options first: the command line wins */
            ok = add_file(s, &b, dflt, err);
        if (!ok)
            break;
        const char *path = NULL;
        if (i > 0 && strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            /* a --config with no file name stays, for getopt's "requires an argument" */
            path = argv[++i];
        } else if (i > 0 && strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        }
        if (path != NULL)
            ok = add_file(s, &b, path, err);
        else if (!builder_add(&b, argv[i], strlen(argv[i]))) {
            fprintf(err, "out of memory\n");
            ok = false;
        }
    }
    if (ok && argc == 1 && dflt != NULL)
        ok = add_file(s, &b, dflt, err);
    if (ok) {
        out = builder_pack(&b);
        if (out == NULL)
            fprintf(err, "out of memory\n");
        else
            *argc_out = (int)b.n;
    }
    builder_free(&b);
    return out;
}
