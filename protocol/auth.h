/*
 * auth.h: the credentials every protocol checks, and one connection's place in authenticating.
 *
 * One credentials file serves memcached's text protocol (-Y: `set <key> <flags> <exptime> <n>` whose
 * value is "user password"), its binary protocol (SASL PLAIN) and RESP (AUTH, HELLO ... AUTH). Lines
 * are memcached's `user:password`, optionally ending in `:app` or `:admin` (the user's role; default
 * admin, so a file written for memcached keeps its meaning). Blank lines and lines starting with '#'
 * are skipped. --requirepass adds (or replaces) the user "default", as Redis's requirepass does.
 *
 * The table in force is immutable once loaded; a reload (SIGHUP) builds a new one and swaps it in
 * under a lock, so a failed reload leaves the old one working and authenticated connections are never
 * dropped (their role was copied at authentication). Passwords are kept only as SHA-256 digests and a
 * check hashes the offered password and compares every user's digest without stopping early, so its
 * time depends on neither where a match is nor how much of a password was right.
 *
 * Thread safety: struct auth may be read by any thread (auth_check, auth_enabled); auth_load runs on
 * the main thread. struct auth_conn belongs to one session (one worker thread).
 */
#ifndef CAIRN_PROTOCOL_AUTH_H
#define CAIRN_PROTOCOL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an authenticated user may do. */
enum auth_role {
    AUTH_ROLE_NONE = 0, /* not authenticated: nothing but authenticating */
    AUTH_ROLE_APP,      /* items: read and write */
    AUTH_ROLE_ADMIN     /* everything, server-wide commands included */
};

/* Longest user name and password a file line or a request may carry. */
#define AUTH_NAME_MAX 255
#define AUTH_PASS_MAX 1024
/* Most users one file may define. */
#define AUTH_USERS_MAX 4096

/* Consecutive failed attempts on one connection answered at once; each further failure's reply is
 * held back AUTH_FAIL_DELAY_MS (the connection runs nothing meanwhile). */
#define AUTH_FAIL_FREE     3
#define AUTH_FAIL_DELAY_MS 1000

struct auth;

/* An empty credential set (no users: authentication is off until a load defines one). NULL on no
 * memory. */
struct auth *auth_create(void);

/* Frees a and clears *a; NULL is a no-op. */
void auth_destroy(struct auth **a);

/*
 * Loads the credentials: the file at path (NULL = none) and, when requirepass is not NULL, the user
 * "default" with that password and role admin. On success the new set replaces the old one and true
 * is returned. On failure nothing changes, false is returned and err gets why (no secret in it): the
 * file cannot be opened or read, is readable by every user (mode o+r), has a line without ':' or with
 * an empty user name, an unknown role, a name or password too long, or too many users.
 */
bool auth_load(struct auth *a, const char *path, const char *requirepass, char *err, size_t errsize);

/* Whether any credentials are configured: connections must authenticate. */
bool auth_enabled(const struct auth *a);

/* How many users the set in force defines. */
size_t auth_users(const struct auth *a);

/*
 * Whether user/pass name a user of the set in force, compared in constant time over the digests of
 * every user; on success *role gets the user's role. user may be NULL (ulen 0) to mean "default".
 */
bool auth_check(const struct auth *a, const char *user, size_t ulen, const char *pass, size_t plen,
                enum auth_role *role);

/* One connection's authentication state, embedded in a protocol session. */
struct auth_conn {
    enum auth_role role; /* AUTH_ROLE_NONE until authenticated; ADMIN when no credentials exist */
    bool required;       /* credentials were configured when the connection began */
    unsigned failures;   /* consecutive failed attempts */
};

/* Starts a connection's state: authenticated as admin when a is NULL or has no credentials. */
void auth_conn_init(struct auth_conn *c, const struct auth *a);

/* Whether the connection may run item commands. */
static inline bool auth_conn_ok(const struct auth_conn *c)
{
    return c->role != AUTH_ROLE_NONE;
}

/* Whether the connection may run server-wide (admin) commands. */
static inline bool auth_conn_admin(const struct auth_conn *c)
{
    return c->role == AUTH_ROLE_ADMIN;
}

/* Records a successful authentication as role. */
void auth_conn_passed(struct auth_conn *c, enum auth_role role);

/* Records a failed attempt; returns whether its reply must be held back AUTH_FAIL_DELAY_MS (the
 * protocol then returns PROTO_WAIT with PROTO_WAIT_AUTH_DELAY and appends the reply on
 * PROTO_EV_AUTH_DELAYED). The role is left as it was: whether a failure logs a connection out is the
 * protocol's rule (Redis's AUTH keeps the login; memcached's SASL drops it when an exchange starts). */
bool auth_conn_failed(struct auth_conn *c);

/* SHA-256 of data[0..len) into out (32 bytes). */
void auth_sha256(const void *data, size_t len, uint8_t out[32]);

/* Whether a and b (n bytes each) are equal, in time that depends only on n. */
bool auth_equal_ct(const void *a, const void *b, size_t n);

#endif
