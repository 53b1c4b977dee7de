/*
 * uring.h: a minimal io_uring for one worker thread, on the raw system calls (no library): set up the
 * rings, hand out submission entries, submit them all and wait for all their completions with one
 * io_uring_enter, and read the completions back.
 *
 * The ring belongs to the thread that created it (it is set up single-issuer where the kernel allows)
 * and only that thread may call these functions. Nothing is in flight between calls: uring_submit_wait()
 * returns only once every submitted entry has completed.
 */
#ifndef CAIRN_SERVER_URING_H
#define CAIRN_SERVER_URING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct uring;

/* One completion: the user_data given when the request was prepared, and its result (bytes, or a
 * negative errno as the kernel reports it). */
struct uring_cqe {
    uint64_t user_data;
    int32_t res;
};

enum uring_status {
    URING_OK = 0,     /* done */
    URING_NOMEM,      /* no memory for the ring's bookkeeping */
    URING_SYSCALL,    /* io_uring_setup, mmap or io_uring_enter failed: errno says why */
    URING_UNSUPPORTED /* the kernel lacks an operation this code needs (SENDMSG, RECV) */
};

/*
 * Sets up a ring with room for at least entries submissions at once; *out gets it. On failure *out is
 * NULL, errno tells why (ENOSYS: no io_uring; EPERM: a seccomp filter or io_uring_disabled), and the
 * process is unchanged. Call from the thread that will use the ring.
 */
enum uring_status uring_create(unsigned entries, struct uring **out);

/* Unmaps and closes the ring and clears *r. NULL is a no-op. Nothing may be in flight. */
void uring_destroy(struct uring **r);

/*
 * Prepares a sendmsg(fd, msg, flags) for the next uring_submit_wait(); msg and the iovecs it points at
 * must stay valid and unchanged until then. False when capacity entries are already prepared.
 */
bool uring_prep_sendmsg(struct uring *r, int fd, const struct msghdr *msg, unsigned flags,
                        uint64_t user_data);

/* Prepares a recv(fd, buf, len, flags) for the next uring_submit_wait(); buf must stay valid until then.
 * False when capacity entries are already prepared. */
bool uring_prep_recv(struct uring *r, int fd, void *buf, size_t len, unsigned flags, uint64_t user_data);

/*
 * Submits every prepared entry with one io_uring_enter and waits until all of them have completed
 * (IORING_ENTER_GETEVENTS with min_complete = their number; EINTR retries the wait); their
 * completions are then read with uring_next_cqe(). On URING_SYSCALL (errno set) the entries the
 * kernel did not take are withdrawn (they have no completion).
 */
enum uring_status uring_submit_wait(struct uring *r);

/* Copies the oldest unread completion to *cqe and frees its slot; false when none is left. */
bool uring_next_cqe(struct uring *r, struct uring_cqe *cqe);

#endif
