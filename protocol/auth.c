/*
 * auth.c: the credentials table (load, swap, constant-time check) and per-connection state.
 * See auth.h.
 */
#include "config.h"

#include "protocol/auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- SHA-256 (FIPS 180-4) ---- */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* One 64-byte block into the state h. */
static void sha_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (unsigned i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (unsigned i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void auth_sha256(const void *data, size_t len, uint8_t out[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const uint8_t *p = data;
    size_t left = len;
    for (; left >= 64; left -= 64, p += 64)
        sha_block(h, p);
    uint8_t tail[128] = {0};
    memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t n = left + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (unsigned i = 0; i < 8; i++)
        tail[n - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha_block(h, tail);
    if (n == 128)
        sha_block(h, tail + 64);
    for (unsigned i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

bool auth_equal_ct(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(x[i] ^ y[i]);
    return diff == 0;
}

/* ---- the table ---- */

struct auth_user {
    char name[AUTH_NAME_MAX + 1];
    size_t nlen;
    uint8_t digest[32];
    enum auth_role role;
};

struct auth_table {
    struct auth_user *users;
    size_t n;
};

struct auth {
    pthread_mutex_t lock; /* guards table (swapped by auth_load, read by auth_check) */
    struct auth_table *table;
    _Atomic size_t nusers;
};

static void table_free(struct auth_table *t)
{
    if (t == NULL)
        return;
    free(t->users);
    free(t);
}

struct auth *auth_create(void)
{
    struct auth *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        free(a);
        return NULL;
    }
    return a;
}

void auth_destroy(struct auth **ap)
{
    if (ap == NULL || *ap == NULL)
        return;
    struct auth *a = *ap;
    table_free(a->table);
    pthread_mutex_destroy(&a->lock);
    free(a);
    *ap = NULL;
}

static void set_err(char *err, size_t errsize, const char *fmt, ...)
{
    if (err == NULL || errsize == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
}

/* Adds (or, for a name already there, replaces) one user. False when the table is full. */
static bool table_put(struct auth_table *t, size_t cap, const char *name, size_t nlen, const char *pass,
                      size_t plen, enum auth_role role)
{
    struct auth_user *u = NULL;
    for (size_t i = 0; i < t->n && u == NULL; i++)
        if (t->users[i].nlen == nlen && memcmp(t->users[i].name, name, nlen) == 0)
            u = &t->users[i];
    if (u == NULL) {
        if (t->n == cap)
            return false;
        u = &t->users[t->n++];
    }
    memcpy(u->name, name, nlen);
    u->name[nlen] = '\0';
    u->nlen = nlen;
    auth_sha256(pass, plen, u->digest);
    u->role = role;
    return true;
}

/* Splits a trailing ":app" / ":admin" off the password; the role found, or ADMIN when none. */
static enum auth_role take_role(const char *pass, size_t *plen)
{
    static const struct {
        const char *suffix;
        enum auth_role role;
    } roles[] = {{":app", AUTH_ROLE_APP}, {":admin", AUTH_ROLE_ADMIN}};
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        size_t sl = strlen(roles[i].suffix);
        if (*plen >= sl && memcmp(pass + *plen - sl, roles[i].suffix, sl) == 0) {
            *plen -= sl;
            return roles[i].role;
        }
    }
    return AUTH_ROLE_ADMIN;
}

/* Parses one line (no newline); false with err set when it is malformed. */
static bool parse_line(struct auth_table *t, size_t cap, const char *line, size_t len, unsigned lineno,
                       const char *path, char *err, size_t errsize)
{
    while (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0 || line[0] == '#')
        return true;
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || colon == line) {
        set_err(err, errsize, "%s line %u: malformed entry, should be 'user:password[:role]'", path, lineno);
        return false;
    }
    size_t nlen = (size_t)(colon - line);
    const char *pass = colon + 1;
    size_t plen = len - nlen - 1;
    enum auth_role role = take_role(pass, &plen);
    if (nlen > AUTH_NAME_MAX || plen > AUTH_PASS_MAX) {
        set_err(err, errsize, "%s line %u: user name or password too long (at most %d and %d bytes)", path,
                lineno, AUTH_NAME_MAX, AUTH_PASS_MAX);
        return false;
    }
    if (!table_put(t, cap, line, nlen, pass, plen, role)) {
        set_err(err, errsize, "%s: more than %d users", path, AUTH_USERS_MAX);
        return false;
    }
    return true;
}

/* Reads the whole file at path into a new buffer (*len bytes, NUL-terminated); NULL with err set. */
static char *read_file(const char *path, size_t *len, char *err, size_t errsize)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        set_err(err, errsize, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        set_err(err, errsize, "cannot stat %s: %s", path, strerror(errno));
        fclose(f);
        return NULL;
    }
    if (st.st_mode & S_IROTH) {
        set_err(err, errsize, "%s is readable by every user (mode %04o): chmod o-r it", path,
                (unsigned)(st.st_mode & 07777));
        fclose(f);
        return NULL;
    }
    size_t max = (size_t)AUTH_USERS_MAX * (AUTH_NAME_MAX + AUTH_PASS_MAX + 16);
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        set_err(err, errsize, "%s is not a regular file of at most %zu bytes", path, max);
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        set_err(err, errsize, "out of memory reading %s", path);
        fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, (size_t)st.st_size, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        set_err(err, errsize, "cannot read %s", path);
        free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* Parses the file's lines into t. */
static bool parse_file(struct auth_table *t, size_t cap, const char *path, char *err, size_t errsize)
{
    size_t len = 0;
    char *buf = read_file(path, &len, err, errsize);
    if (buf == NULL)
        return false;
    bool ok = true;
    unsigned lineno = 0;
    for (size_t at = 0; ok && at < len;) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t end = nl != NULL ? (size_t)(nl - buf) : len;
        lineno++;
        if (memchr(buf + at, '\0', end - at) != NULL) {
            set_err(err, errsize, "%s line %u: a NUL byte", path, lineno);
            ok = false;
        } else {
            ok = parse_line(t, cap, buf + at, end - at, lineno, path, err, errsize);
        }
        at = end + 1;
    }
    free(buf);
    return ok;
}

bool auth_load(struct auth *a, const char *path, const char *requirepass, char *err, size_t errsize)
{
    size_t cap = AUTH_USERS_MAX + 1;
    struct auth_table *t = calloc(1, sizeof(*t));
    if (t != NULL)
        t->users = calloc(cap, sizeof(*t->users));
    if (t == NULL || t->users == NULL) {
        table_free(t);
        set_err(err, errsize, "out of memory loading credentials");
        return false;
    }
    if (path != NULL && !parse_file(t, cap - 1, path, err, errsize)) {
        table_free(t);
        return false;
    }
    if (requirepass != NULL) {
        size_t plen = strlen(requirepass);
        if (plen > AUTH_PASS_MAX) {
            table_free(t);
            set_err(err, errsize, "--requirepass: longer than %d bytes", AUTH_PASS_MAX);
            return false;
        }
        table_put(t, cap, "default", 7, requirepass, plen, AUTH_ROLE_ADMIN);
    }
    pthread_mutex_lock(&a->lock);
    struct auth_table *old = a->table;
    a->table = t;
    a->nusers = t->n;
    pthread_mutex_unlock(&a->lock);
    table_free(old);
    return true;
}

bool auth_enabled(const struct auth *a)
{
    return a != NULL && a->nusers > 0;
}

size_t auth_users(const struct auth *a)
{
    return a != NULL ? a->nusers : 0;
}

bool auth_check(const struct auth *ac, const char *user, size_t ulen, const char *pass, size_t plen,
                enum auth_role *role)
{
    struct auth *a = (struct auth *)ac; /* the lock is not part of the logical state */
    if (a == NULL)
        return false;
    if (user == NULL || ulen == 0) {
        user = "default";
        ulen = 7;
    }
    uint8_t digest[32];
    auth_sha256(pass, plen, digest);
    bool found = false;
    enum auth_role r = AUTH_ROLE_NONE;
    pthread_mutex_lock(&a->lock);
    const struct auth_table *t = a->table;
    for (size_t i = 0; t != NULL && i < t->n; i++) {
        const struct auth_user *u = &t->users[i];
        bool name = u->nlen == ulen && memcmp(u->name, user, ulen) == 0;
        bool pw = auth_equal_ct(u->digest, digest, sizeof(digest));
        if (name && pw && !found) {
            found = true;
            r = u->role;
        }
    }
    pthread_mutex_unlock(&a->lock);
    if (found && role != NULL)
        *role = r;
    return found;
}

void auth_conn_init(struct auth_conn *c, const struct auth *a)
{
    c->required = auth_enabled(a);
    c->role = c->required ? AUTH_ROLE_NONE : AUTH_ROLE_ADMIN;
    c->failures = 0;
}

void auth_conn_passed(struct auth_conn *c, enum auth_role role)
{
    c->role = role;
    c->failures = 0;
}

bool auth_conn_failed(struct auth_conn *c)
{
    if (c->failures < UINT32_MAX)
        c->failures++;
    return c->failures > AUTH_FAIL_FREE;
}
