/*
 * uring.c: the smallest io_uring a worker needs to send many connections' responses with one system
 * call, written on the raw io_uring_setup / io_uring_enter / io_uring_register calls and the rings
 * the kernel maps into the process.
 *
 * Data: two rings shared with the kernel. The submission ring is an array of indexes into the sqes
 * array; we fill sqes[i], point array[i] at it once at setup (the identity map, never changed), and
 * advance sq_tail; the kernel advances sq_head as it consumes entries. The completion ring holds
 * struct io_uring_cqe; the kernel advances cq_tail as it posts, we advance cq_head as we read.
 *
 * Memory order: the kernel runs on another CPU's view of these words, so the index we publish and the
 * index we read are the synchronisation points. We store sq_tail with release semantics (the sqe
 * contents must be visible before the kernel sees the new tail) and load cq_tail with acquire
 * semantics (the cqe contents must not be read before the tail that covers them). Our own indexes
 * (sq_tail, cq_head) are read back plainly; cq_head is stored with release so the kernel does not
 * reuse a slot we are still reading. No SQPOLL thread is used, so the kernel reads the submission
 * ring only inside io_uring_enter, which is what makes withdrawing unsubmitted entries safe.
 *
 * Invariants: between calls to uring_submit_wait() nothing is in flight, and the completion ring is
 * read empty by the caller before the next submit (it is twice the submission ring, so it never
 * overflows). prepared = sqe_tail - *sq_tail entries are filled but not yet published.
 *
 * Threads: one ring per worker, used only by the thread that created it (single issuer).
 */
#include "config.h"

#include "server/uring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_LINUX_IO_URING_H

#include <linux/io_uring.h>

/* Setup flags of Linux 5.18-6.1, for older kernel headers (an older kernel refuses them with EINVAL,
 * and setup_fd() then retries without). */
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct uring {
    int fd;
    unsigned sq_entries;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    unsigned sqe_tail; /* next sqe to hand out; *sq_tail trails it until a submit */
    void *sq_map, *cq_map;
    size_t sq_map_len, cq_map_len, sqes_len;
};

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
    return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags)
{
    return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

static int sys_register(int fd, unsigned op, void *arg, unsigned nargs)
{
    return (int)syscall(__NR_io_uring_register, fd, op, arg, nargs);
}

/* Creates the ring fd: single issuer with task work deferred to our own enter where the kernel has it
 * (6.1+: no interrupting task work on the worker thread), plain otherwise. */
static int setup_fd(unsigned entries, struct io_uring_params *p)
{
    memset(p, 0, sizeof(*p));
    p->flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int fd = sys_setup(entries, p);
    if (fd >= 0 || errno != EINVAL)
        return fd;
    memset(p, 0, sizeof(*p));
    return sys_setup(entries, p);
}

/* True when the kernel says it implements IORING_OP_SENDMSG and IORING_OP_RECV (the probe and RECV
 * exist since 5.6). */
static bool has_ops(int fd)
{
    size_t len = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
    struct io_uring_probe *probe = calloc(1, len);
    bool ok = false;

    if (probe == NULL)
        return false;
    if (sys_register(fd, IORING_REGISTER_PROBE, probe, 256) == 0 && probe->last_op >= IORING_OP_RECV)
        ok = (probe->ops[IORING_OP_SENDMSG].flags & IO_URING_OP_SUPPORTED) != 0 &&
             (probe->ops[IORING_OP_RECV].flags & IO_URING_OP_SUPPORTED) != 0;
    free(probe);
    return ok;
}

/* Maps the rings the kernel described in p; false (errno set) on failure. */
static bool map_rings(struct uring *r, const struct io_uring_params *p)
{
    r->sq_map_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    r->cq_map_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    bool single = (p->features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single) {
        if (r->cq_map_len > r->sq_map_len)
            r->sq_map_len = r->cq_map_len;
        r->cq_map_len = 0;
    }
    r->sq_map = mmap(NULL, r->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                     IORING_OFF_SQ_RING);
    if (r->sq_map == MAP_FAILED) {
        r->sq_map = NULL;
        return false;
    }
    r->cq_map = r->sq_map;
    if (!single) {
        r->cq_map = mmap(NULL, r->cq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                         IORING_OFF_CQ_RING);
        if (r->cq_map == MAP_FAILED) {
            r->cq_map = NULL;
            return false;
        }
    }
    r->sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
    r->sqes =
        mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED) {
        r->sqes = NULL;
        return false;
    }
    return true;
}

/* Points the ring fields into the mappings and sets the identity index array. */
static void bind_rings(struct uring *r, const struct io_uring_params *p)
{
    char *sq = r->sq_map, *cq = r->cq_map;

    r->sq_entries = p->sq_entries;
    r->sq_head = (unsigned *)(sq + p->sq_off.head);
    r->sq_tail = (unsigned *)(sq + p->sq_off.tail);
    r->sq_mask = (unsigned *)(sq + p->sq_off.ring_mask);
    r->sq_array = (unsigned *)(sq + p->sq_off.array);
    r->cq_head = (unsigned *)(cq + p->cq_off.head);
    r->cq_tail = (unsigned *)(cq + p->cq_off.tail);
    r->cq_mask = (unsigned *)(cq + p->cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
    for (unsigned i = 0; i < r->sq_entries; i++)
        r->sq_array[i] = i;
    r->sqe_tail = *r->sq_tail;
}

/* Sets up a ring with room for at least entries submissions at once (see uring.h). */
enum uring_status uring_create(unsigned entries, struct uring **out)
{
    struct io_uring_params p;
    enum uring_status st = URING_SYSCALL;
    int saved;
    struct uring *r = calloc(1, sizeof(*r));

    *out = NULL;
    if (r == NULL) {
        errno = ENOMEM;
        return URING_NOMEM;
    }
    r->fd = setup_fd(entries, &p);
    if (r->fd < 0)
        goto fail;
    if (!has_ops(r->fd)) {
        st = URING_UNSUPPORTED;
        errno = EOPNOTSUPP;
        goto fail;
    }
    if (!map_rings(r, &p))
        goto fail;
    bind_rings(r, &p);
    *out = r;
    return URING_OK;
fail:
    saved = errno;
    uring_destroy(&r);
    errno = saved;
    return st;
}

/* Unmaps and closes the ring and clears *r. NULL is a no-op. Nothing may be in flight. */
void uring_destroy(struct uring **rp)
{
    struct uring *r = *rp;

    if (r == NULL)
        return;
    if (r->sqes != NULL)
        munmap(r->sqes, r->sqes_len);
    if (r->cq_map != NULL && r->cq_map != r->sq_map)
        munmap(r->cq_map, r->cq_map_len);
    if (r->sq_map != NULL)
        munmap(r->sq_map, r->sq_map_len);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
    *rp = NULL;
}

/* The next free submission entry, zeroed and counted as prepared; NULL when the ring is full. */
static struct io_uring_sqe *next_sqe(struct uring *r)
{
    unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    if (r->sqe_tail - head >= r->sq_entries)
        return NULL;
    struct io_uring_sqe *sqe = &r->sqes[r->sqe_tail & *r->sq_mask];
    memset(sqe, 0, sizeof(*sqe));
    r->sqe_tail++;
    return sqe;
}

/* Prepares a sendmsg for the next submit; false when the submission ring is full. */
bool uring_prep_sendmsg(struct uring *r, int fd, const struct msghdr *msg, unsigned flags, uint64_t user_data)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    if (sqe == NULL)
        return false;
    sqe->opcode = IORING_OP_SENDMSG;
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)msg;
    sqe->len = 1;
    sqe->msg_flags = flags;
    sqe->user_data = user_data;
    return true;
}

/* Prepares a recv for the next submit; false when the submission ring is full. */
bool uring_prep_recv(struct uring *r, int fd, void *buf, size_t len, unsigned flags, uint64_t user_data)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    if (sqe == NULL)
        return false;
    sqe->opcode = IORING_OP_RECV;
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)buf;
    sqe->len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    sqe->msg_flags = flags;
    sqe->user_data = user_data;
    return true;
}

/* Completions posted and not yet read. */
static unsigned cq_ready(const struct uring *r)
{
    return __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE) - *r->cq_head;
}

/* Takes back the published entries the kernel has not consumed (safe: no SQPOLL thread reads them). */
static void withdraw_unsubmitted(struct uring *r)
{
    unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(r->sq_tail, head, __ATOMIC_RELEASE);
    r->sqe_tail = head;
}

/*
 * Submits every prepared entry with one io_uring_enter and waits until all have completed (see
 * uring.h). The first call normally does everything: it submits n entries and, with GETEVENTS and
 * min_complete = n, returns once n completions are posted. A call cut short (fewer taken, or EINTR
 * during the wait) is repeated for the rest. If the kernel refuses to take any more entries, the ones
 * left are withdrawn and the wait goes on for those already taken. A failing wait with nothing left
 * to submit would leave requests in flight that point at connection memory, so it aborts.
 */
enum uring_status uring_submit_wait(struct uring *r)
{
    unsigned n = r->sqe_tail - *r->sq_tail;
    unsigned to_submit = n;
    int failed = 0;

    if (n == 0)
        return URING_OK;
    __atomic_store_n(r->sq_tail, r->sqe_tail, __ATOMIC_RELEASE);
    while (to_submit > 0 || cq_ready(r) < n) {
        int k = sys_enter(r->fd, to_submit, n, IORING_ENTER_GETEVENTS);
        if (k >= 0) {
            to_submit -= (unsigned)k <= to_submit ? (unsigned)k : to_submit;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (to_submit == 0 && (errno == EAGAIN || errno == EBUSY))
            continue;
        if (to_submit == 0) {
            fprintf(stderr, "io_uring_enter wait failed with requests in flight: %s\n", strerror(errno));
            abort();
        }
        failed = errno;
        withdraw_unsubmitted(r);
        n -= to_submit;
        to_submit = 0;
    }
    if (failed != 0) {
        errno = failed;
        return URING_SYSCALL;
    }
    return URING_OK;
}

/* Copies the oldest unread completion to *cqe and frees its slot; false when none is left. */
bool uring_next_cqe(struct uring *r, struct uring_cqe *cqe)
{
    unsigned head = *r->cq_head;

    if (__atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE) == head)
        return false;
    const struct io_uring_cqe *k = &r->cqes[head & *r->cq_mask];
    cqe->user_data = k->user_data;
    cqe->res = k->res;
    __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
    return true;
}

#else /* no <linux/io_uring.h>: every ring setup fails, and callers use their fallback */

/* Always fails with ENOSYS: this build has no io_uring. */
enum uring_status uring_create(unsigned entries, struct uring **out)
{
    (void)entries;
    *out = NULL;
    errno = ENOSYS;
    return URING_SYSCALL;
}

/* Clears *r (no ring can exist in this build). */
void uring_destroy(struct uring **r)
{
    *r = NULL;
}

/* No ring: nothing can be prepared. */
bool uring_prep_sendmsg(struct uring *r, int fd, const struct msghdr *msg, unsigned flags, uint64_t user_data)
{
    (void)r;
    (void)fd;
    (void)msg;
    (void)flags;
    (void)user_data;
    return false;
}

/* No ring: nothing to submit. */
enum uring_status uring_submit_wait(struct uring *r)
{
    (void)r;
    return URING_OK;
}

/* No ring: nothing can be prepared. */
bool uring_prep_recv(struct uring *r, int fd, void *buf, size_t len, unsigned flags, uint64_t user_data)
{
    (void)r;
    (void)fd;
    (void)buf;
    (void)len;
    (void)flags;
    (void)user_data;
    return false;
}

/* No ring: no completions. */
bool uring_next_cqe(struct uring *r, struct uring_cqe *cqe)
{
    (void)r;
    (void)cqe;
    return false;
}

#endif
