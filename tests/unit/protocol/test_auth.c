/*
 * test_auth.c: the credentials table (protocol/auth.c): SHA-256 against FIPS 180-4's examples, the
 * file's format and its refusals, checks by user and password, reloads that keep the old table on
 * failure, and one connection's state.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/auth.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

struct sha_row {
    const char *in;
    size_t repeat; /* in repeated this many times */
    const char *digest;
};

static const struct sha_row sha_rows[] = {
    {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    /* 55, 56 and 64 bytes: the padding's edges */
    {"a", 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
    {"a", 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
    {"a", 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

Test(auth, sha256_vectors)
{
    for (size_t i = 0; i < sizeof(sha_rows) / sizeof(sha_rows[0]); i++) {
        const struct sha_row *r = &sha_rows[i];
        size_t len = strlen(r->in) * r->repeat;
        char *buf = malloc(len + 1);
        cr_assert(buf != NULL);
        for (size_t k = 0; k < r->repeat; k++)
            memcpy(buf + k * strlen(r->in), r->in, strlen(r->in));
        uint8_t d[32];
        char got[65];
        auth_sha256(buf, len, d);
        hex(d, 32, got);
        cr_expect_str_eq(got, r->digest, "row %zu", i);
        free(buf);
    }
}

Test(auth, equal_ct)
{
    cr_expect(auth_equal_ct("abcd", "abcd", 4));
    cr_expect(!auth_equal_ct("abcd", "abce", 4));
    cr_expect(!auth_equal_ct("xbcd", "abcd", 4));
    cr_expect(auth_equal_ct("", "", 0));
}

/* Writes text to a new file of mode mode; returns its path (static buffer). */
static const char *write_file(const char *text, mode_t mode)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/cairn-auth-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(fchmod(fd, mode) == 0);
    size_t n = strlen(text);
    cr_assert(write(fd, text, n) == (ssize_t)n);
    close(fd);
    return path;
}

static struct auth *load_text(const char *text, const char *requirepass, bool *ok, char *err, size_t errsize)
{
    struct auth *a = auth_create();
    cr_assert(a != NULL);
    const char *path = text != NULL ? write_file(text, 0600) : NULL;
    *ok = auth_load(a, path, requirepass, err, errsize);
    if (path != NULL)
        unlink(path);
    return a;
}

static bool check(const struct auth *a, const char *user, const char *pass, enum auth_role *role)
{
    return auth_check(a, user, user != NULL ? strlen(user) : 0, pass, strlen(pass), role);
}

Test(auth, file_users_roles_and_comments)
{
    char err[256] = "";
    bool ok;
    struct auth *a = load_text("# users\nalice:secret\n\nbob:pw:app\r\ncarol:x:y:admin\ndan:colon:in:pass\n",
                               NULL, &ok, err, sizeof(err));
    cr_assert(ok, "%s", err);
    cr_expect(auth_enabled(a));
    cr_expect_eq(auth_users(a), 4);
    enum auth_role role = AUTH_ROLE_NONE;
    cr_expect(check(a, "alice", "secret", &role));
    cr_expect_eq(role, AUTH_ROLE_ADMIN);
    cr_expect(check(a, "bob", "pw", &role));
    cr_expect_eq(role, AUTH_ROLE_APP);
    cr_expect(check(a, "carol", "x:y", &role), "only a last :admin is a role");
    cr_expect_eq(role, AUTH_ROLE_ADMIN);
    cr_expect(check(a, "dan", "colon:in:pass", &role), "a password may hold ':' as in memcached");
    /* wrong passwords, prefixes, other users' passwords, unknown users */
    cr_expect(!check(a, "alice", "secre", NULL));
    cr_expect(!check(a, "alice", "secret2", NULL));
    cr_expect(!check(a, "alice", "pw", NULL));
    cr_expect(!check(a, "bob", "pw:app", NULL));
    cr_expect(!check(a, "eve", "secret", NULL));
    cr_expect(!check(a, NULL, "secret", NULL), "no default user in this file");
    cr_expect(!check(a, "alice", "", NULL));
    auth_destroy(&a);
    cr_expect(a == NULL);
}

Test(auth, requirepass_defines_default)
{
    char err[256] = "";
    bool ok;
    struct auth *a = load_text("default:old\nalice:secret:app\n", "s3cret", &ok, err, sizeof(err));
    cr_assert(ok, "%s", err);
    enum auth_role role = AUTH_ROLE_NONE;
    cr_expect(check(a, NULL, "s3cret", &role));
    cr_expect_eq(role, AUTH_ROLE_ADMIN);
    cr_expect(check(a, "default", "s3cret", NULL));
    cr_expect(!check(a, NULL, "old", NULL), "--requirepass replaces the file's default user");
    cr_expect(check(a, "alice", "secret", &role));
    cr_expect_eq(role, AUTH_ROLE_APP);
    auth_destroy(&a);

    a = load_text(NULL, "only", &ok, err, sizeof(err));
    cr_assert(ok);
    cr_expect_eq(auth_users(a), 1);
    cr_expect(check(a, NULL, "only", NULL));
    auth_destroy(&a);
}

struct bad_row {
    const char *text;
    const char *why; /* a substring of the error */
};

static const struct bad_row bad_rows[] = {
    {"alice\n", "malformed entry"},
    {":nopass\n", "malformed entry"},
    {"alice:ok\nbob\n", "line 2: malformed"},
};

Test(auth, malformed_files)
{
    for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        char err[256] = "";
        bool ok;
        struct auth *a = load_text(bad_rows[i].text, NULL, &ok, err, sizeof(err));
        cr_expect(!ok, "row %zu loaded", i);
        cr_expect(strstr(err, bad_rows[i].why) != NULL, "row %zu: %s", i, err);
        cr_expect(!auth_enabled(a));
        auth_destroy(&a);
    }
    /* a name longer than AUTH_NAME_MAX */
    char line[AUTH_NAME_MAX + 16];
    memset(line, 'n', AUTH_NAME_MAX + 1);
    strcpy(line + AUTH_NAME_MAX + 1, ":pw\n");
    char err[256] = "";
    bool ok;
    struct auth *a = load_text(line, NULL, &ok, err, sizeof(err));
    cr_expect(!ok);
    cr_expect(strstr(err, "too long") != NULL, "%s", err);
    auth_destroy(&a);
}

Test(auth, nul_in_file_refused)
{
    struct auth *a = auth_create();
    char path[] = "/tmp/cairn-auth-nul-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(write(fd, "a:b\0c\n", 6) == 6);
    close(fd);
    char err[256] = "";
    cr_expect(!auth_load(a, path, NULL, err, sizeof(err)));
    cr_expect(strstr(err, "NUL") != NULL, "%s", err);
    unlink(path);
    auth_destroy(&a);
}

Test(auth, world_readable_or_missing_refused)
{
    struct auth *a = auth_create();
    const char *path = write_file("alice:secret\n", 0644);
    char err[256] = "";
    cr_expect(!auth_load(a, path, NULL, err, sizeof(err)));
    cr_expect(strstr(err, "readable by every user") != NULL, "%s", err);
    cr_expect(strstr(err, "secret") == NULL, "no secret in the message");
    unlink(path);
    cr_expect(!auth_load(a, "/nonexistent/cairn-auth", NULL, err, sizeof(err)));
    cr_expect(strstr(err, "cannot open /nonexistent/cairn-auth") != NULL, "%s", err);
    cr_expect(!auth_enabled(a));
    auth_destroy(&a);
}

Test(auth, reload_swaps_or_keeps)
{
    struct auth *a = auth_create();
    char path[] = "/tmp/cairn-auth-reload-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0 && fchmod(fd, 0600) == 0);
    cr_assert(write(fd, "alice:one\n", 10) == 10);
    close(fd);
    char err[256] = "";
    cr_assert(auth_load(a, path, NULL, err, sizeof(err)), "%s", err);
    cr_expect(check(a, "alice", "one", NULL));

    FILE *f = fopen(path, "w");
    cr_assert(f != NULL);
    fputs("alice:two:app\nbob:three\n", f);
    fclose(f);
    cr_assert(auth_load(a, path, NULL, err, sizeof(err)), "%s", err);
    enum auth_role role;
    cr_expect(!check(a, "alice", "one", NULL));
    cr_expect(check(a, "alice", "two", &role));
    cr_expect_eq(role, AUTH_ROLE_APP);
    cr_expect(check(a, "bob", "three", NULL));

    f = fopen(path, "w");
    cr_assert(f != NULL);
    fputs("broken line\n", f);
    fclose(f);
    cr_expect(!auth_load(a, path, NULL, err, sizeof(err)));
    cr_expect(check(a, "alice", "two", NULL), "a failed reload keeps the table in force");
    cr_expect_eq(auth_users(a), 2);
    unlink(path);
    auth_destroy(&a);
}

Test(auth, connection_state)
{
    struct auth_conn c;
    auth_conn_init(&c, NULL);
    cr_expect(!c.required);
    cr_expect(auth_conn_ok(&c) && auth_conn_admin(&c), "no credentials: every connection is admin");

    char err[256] = "";
    bool ok;
    struct auth *a = load_text("alice:secret\n", NULL, &ok, err, sizeof(err));
    cr_assert(ok);
    auth_conn_init(&c, a);
    cr_expect(c.required);
    cr_expect(!auth_conn_ok(&c) && !auth_conn_admin(&c));
    for (unsigned i = 1; i <= AUTH_FAIL_FREE; i++)
        cr_expect(!auth_conn_failed(&c), "failure %u is answered at once", i);
    cr_expect(auth_conn_failed(&c), "failure %d is held back", AUTH_FAIL_FREE + 1);
    cr_expect(auth_conn_failed(&c));
    auth_conn_passed(&c, AUTH_ROLE_APP);
    cr_expect(auth_conn_ok(&c) && !auth_conn_admin(&c));
    cr_expect_eq(c.failures, 0);
    cr_expect(!auth_conn_failed(&c), "a success starts the count again");
    cr_expect(auth_conn_ok(&c), "a failure leaves an authenticated connection authenticated");
    auth_destroy(&a);
}
