/*
 * test_auth_binary.c: the binary protocol with credentials (-Y FILE): SASL PLAIN as memcached 1.6.18's
 * SASL build answers it (mechanisms, success, failure, AUTH_CONTINUE then SASL_STEP), an
 * unauthenticated request closing the connection, an app user refused FLUSH, the failure delay, and
 * a SIGHUP reload of the file. The suite is cairn's (memcached's -Y is the text protocol's only).
 *
 * Users: alice:secret (admin), bob:pw:app.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define HDR 24

static char auth_path[64];

/* Writes the credentials file (mode 0600) with lines. */
static void write_users(const char *lines)
{
    char tmp[80];
    snprintf(tmp, sizeof(tmp), "%s.new", auth_path);
    FILE *f = fopen(tmp, "w");
    cr_assert_not_null(f);
    cr_assert_eq(chmod(tmp, 0600), 0);
    cr_assert_eq(fputs(lines, f) >= 0, true);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(rename(tmp, auth_path), 0);
}

static void setup_auth(void)
{
    if (h_target_is_memcached())
        cr_skip_test("-Y over the binary protocol is cairn's");
    snprintf(auth_path, sizeof(auth_path), "/tmp/cairn-auth-bin-%d", (int)getpid());
    write_users("alice:secret\nbob:pw:app\n");
    const char *extra[] = {"-Y", auth_path, NULL};
    h_server_start(&h_srv, extra);
}

static void teardown_auth(void)
{
    h_teardown();
    unlink(auth_path);
}

TestSuite(auth_binary, .init = setup_auth, .fini = teardown_auth, .timeout = 60);

/* ---- packets ---- */

/* One request (no extras unless ext) as bytes in out; returns its length. */
static size_t pkt(char *out, uint8_t op, const char *key, size_t nkey, const void *ext, uint8_t next,
                  const char *val, size_t nval, uint8_t opaque)
{
    uint32_t body = (uint32_t)(next + nkey + nval);
    memset(out, 0, HDR);
    out[0] = (char)0x80;
    out[1] = (char)op;
    out[3] = (char)nkey;
    out[4] = (char)next;
    out[10] = (char)(body >> 8);
    out[11] = (char)body;
    out[15] = (char)opaque;
    if (next > 0) /* memcpy's pointers must not be NULL, even for 0 bytes */
        memcpy(out + HDR, ext, next);
    if (nkey > 0)
        memcpy(out + HDR + next, key, nkey);
    if (nval > 0)
        memcpy(out + HDR + next + nkey, val, nval);
    return HDR + body;
}

#define SEND(fd, op, key, val, opq)                                                                          \
    do {                                                                                                     \
        char b_[512];                                                                                        \
        h_send((fd), b_, pkt(b_, (op), (key), sizeof(key) - 1, NULL, 0, (val), sizeof(val) - 1, (opq)));     \
    } while (0)

/* A response header for op with status st, body n bytes, opaque opq (CAS 0). */
static void expect_hdr(int fd, uint8_t op, uint8_t st, uint8_t n, uint8_t opq, const char *body)
{
    char h[HDR] = {(char)0x81, (char)op};
    h[7] = (char)st;
    h[11] = (char)n;
    h[15] = (char)opq;
    h_expectn(fd, h, HDR);
    if (n > 0)
        h_expectn(fd, body, n);
}

#define OK_AUTH(fd, opq)    expect_hdr((fd), 0x21, 0x00, 13, (opq), "Authenticated")
#define FAILED(fd, op, opq) expect_hdr((fd), (op), 0x20, 13, (opq), "Auth failure.")

/* A connection authenticated as user. */
static int login(const char *msg, size_t n)
{
    char b[512];
    int fd = h_connect(h_srv.port);
    h_send(fd, b, pkt(b, 0x21, "PLAIN", 5, NULL, 0, msg, n, 1));
    OK_AUTH(fd, 1);
    return fd;
}

/* SET key=val (flags and exptime 0), expecting success (the CAS is not compared). */
static void bin_set(int fd, const char *key, const char *val)
{
    char b[512], r[HDR];
    static const char ext[8];
    h_send(fd, b, pkt(b, 0x01, key, strlen(key), ext, 8, val, strlen(val), 2));
    cr_assert_eq(h_read_n(fd, r, HDR, H_IO_TIMEOUT_MS), HDR);
    cr_assert_eq(r[7], 0, "SET status %d", r[7]);
}

/* ---- tests ---- */

Test(auth_binary, list_mechs)
{
    int fd = h_connect(h_srv.port);
    SEND(fd, 0x20, "", "", 7);
    expect_hdr(fd, 0x20, 0, 5, 7, "PLAIN");
    close(fd);
}

Test(auth_binary, good_and_bad_auth)
{
    int fd = h_connect(h_srv.port);
    SEND(fd, 0x21, "PLAIN", "\0alice\0wrong", 1);
    FAILED(fd, 0x21, 1);
    SEND(fd, 0x21, "PLAIN", "\0mallory\0secret", 2);
    FAILED(fd, 0x21, 2);
    SEND(fd, 0x21, "PLAIN", "\0alice\0secret", 3);
    OK_AUTH(fd, 3);
    bin_set(fd, "k", "v");
    SEND(fd, 0x00, "k", "", 4);
    char h[HDR + 5];
    cr_assert_eq(h_read_n(fd, h, sizeof(h), H_IO_TIMEOUT_MS), sizeof(h));
    cr_expect_eq(h[7], 0);
    cr_expect_eq(h[HDR + 4], 'v');
    close(fd);
}

Test(auth_binary, continue_then_step)
{
    int fd = h_connect(h_srv.port);
    SEND(fd, 0x22, "PLAIN", "\0alice\0secret", 1); /* no exchange begun */
    FAILED(fd, 0x22, 1);
    SEND(fd, 0x21, "PLAIN", "", 2);
    expect_hdr(fd, 0x21, 0x21, 0, 2, "");
    SEND(fd, 0x22, "PLAIN", "\0alice\0secret", 3);
    expect_hdr(fd, 0x22, 0, 13, 3, "Authenticated");
    SEND(fd, 0x0a, "", "", 4);
    expect_hdr(fd, 0x0a, 0, 0, 4, "");
    close(fd);
}

Test(auth_binary, unauthenticated_get_closes)
{
    int fd = h_connect(h_srv.port);
    SEND(fd, 0x0b, "", "", 1); /* VERSION is allowed */
    char h[HDR];
    cr_assert_eq(h_read_n(fd, h, HDR, H_IO_TIMEOUT_MS), HDR);
    cr_expect_eq(h[7], 0);
    char v[256];
    size_t n = (size_t)(unsigned char)h[11];
    cr_assert_eq(h_read_n(fd, v, n, H_IO_TIMEOUT_MS), n);
    SEND(fd, 0x00, "k", "", 2);
    FAILED(fd, 0x00, 2);
    cr_expect(h_is_closed(fd, H_IO_TIMEOUT_MS));
    close(fd);
}

Test(auth_binary, app_role_refused_flush)
{
    int alice = login("\0alice\0secret", 13);
    bin_set(alice, "kept", "1");
    int bob = login("\0bob\0pw", 7);
    SEND(bob, 0x08, "", "", 2);
    FAILED(bob, 0x08, 2);
    SEND(bob, 0x18, "", "", 3); /* FLUSHQ: the refusal is answered */
    FAILED(bob, 0x18, 3);
    SEND(bob, 0x0a, "", "", 4); /* still connected */
    expect_hdr(bob, 0x0a, 0, 0, 4, "");
    SEND(bob, 0x00, "kept", "", 5); /* items are bob's to read */
    char h[HDR + 5];
    cr_assert_eq(h_read_n(bob, h, sizeof(h), H_IO_TIMEOUT_MS), sizeof(h));
    cr_expect_eq(h[7], 0, "the item was flushed");
    SEND(alice, 0x08, "", "", 6); /* an admin may */
    expect_hdr(alice, 0x08, 0, 0, 6, "");
    close(bob);
    close(alice);
}

/* The fourth failure in a row is answered only after AUTH_FAIL_DELAY_MS (1 s); the three before it
 * at once. Only a lower bound is checked. */
Test(auth_binary, fourth_failure_is_held_back)
{
    int fd = h_connect(h_srv.port);
    for (uint8_t i = 1; i <= 3; i++) {
        SEND(fd, 0x21, "PLAIN", "\0alice\0wrong", i);
        FAILED(fd, 0x21, i);
    }
    int64_t t0 = h_now_ms();
    SEND(fd, 0x21, "PLAIN", "\0alice\0wrong", 4);
    FAILED(fd, 0x21, 4);
    cr_expect_geq(h_now_ms() - t0, 900);
    close(fd);
}

/* SIGHUP rereads the file: the new password works on new connections, the old one no longer does,
 * and a connection authenticated before stays authenticated. */
Test(auth_binary, sighup_reload)
{
    int old = login("\0alice\0secret", 13);
    write_users("alice:changed\nbob:pw:app\n");
    cr_assert_eq(kill(h_srv.pid, SIGHUP), 0);
    bool reloaded = false;
    for (int i = 0; i < 250 && !reloaded; i++) {
        char b[512], h[HDR];
        int fd = h_connect(h_srv.port);
        h_send(fd, b, pkt(b, 0x21, "PLAIN", 5, NULL, 0, "\0alice\0changed", 14, 1));
        cr_assert_eq(h_read_n(fd, h, HDR, H_IO_TIMEOUT_MS), HDR);
        reloaded = h[7] == 0;
        close(fd);
        if (!reloaded)
            h_sleep_ms(20);
    }
    cr_assert(reloaded, "the new password was not accepted within 5 s of SIGHUP");
    int fd = h_connect(h_srv.port);
    SEND(fd, 0x21, "PLAIN", "\0alice\0secret", 1);
    FAILED(fd, 0x21, 1);
    close(fd);
    SEND(old, 0x0a, "", "", 9);
    expect_hdr(old, 0x0a, 0, 0, 9, "");
    close(old);
}
