/*
 * snapshot.c: saving, verifying and loading snapshot files (format and contract in snapshot.h).
 *
 * Save: one growable buffer (struct snap_buf) is reused for every shard. For each shard the lock is
 * taken, every bucket of the shard (old table first while it grows) is walked and each live item is
 * encoded straight into the buffer as a file record; the lock is dropped, the buffer is fed to the
 * streaming XXH3 state and written with write() in one go (no per-item system calls). The whole
 * shard is copied under one lock hold so that no item is missed or doubled by an incremental growth
 * that runs between two batches; with the default 64 shards that is 1/64 of the items. The
 * temporary file is created exclusively (O_EXCL|O_NOFOLLOW, 0600): if its name is taken the save
 * fails without touching what is there, and only a file this call created is ever removed.
 *
 * Read: struct snap_reader reads one file descriptor, opened once with O_NOFOLLOW (a link at the
 * path is refused) and checked to be a regular file, through a 1 MiB buffer; snap_take() consumes
 * bytes, feeding them to the XXH3 state, and copies them out (or drops them). verify and load are
 * the same single pass (read_file): every field of every record is checked as it is read (the rules
 * are in snapshot.h) and the first bad one stops the pass with a status naming it.
 *
 * Load stages, then links. Each record's value is read straight into an item allocated for it but
 * not linked (struct snap_stage keeps the item and its CAS): nothing is visible to other threads
 * yet. Before allocating, it checks that the record's slab class can get a chunk without evicting
 * (a free chunk, one left to carve, or a page within the memory limit); otherwise the record is
 * left out and counted, so staged items never push each other (or older items) out. Only when the
 * footer's count and checksum match is every staged item linked under its shard lock (as
 * cache_store's CACHE_SET does) with its saved CAS unique, the cache's next_cas moving past the
 * largest one; on any refusal every staged item is released, which frees its chunk.
 *
 * Threads: any; locks taken are one shard lock at a time, then (load) a class lock and page_lock,
 * in the storage lock order.
 */
#include "config.h"

#include "storage/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "storage/cache_internal.h"

#define SNAP_HEADER_V1     24u /* version 1: no item size limit */
#define SNAP_HEADER_SIZE   28u
#define SNAP_RECORD_V2     26u /* versions 1 and 2: u8 key length, expiry in Unix seconds */
#define SNAP_RECORD_V3     30u /* version 3: expiry kind, expiry in Unix ms, u32 key length */
#define SNAP_FOOTER_SIZE   24u
#define SNAP_TAG_TEXT      0x01u /* a record whose key is a text key */
#define SNAP_TAG_BINARY    0x02u /* a record whose key is binary (meta b; version 2 on) */
#define SNAP_TAG_RAW       0x03u /* any key bytes, no base64 mark (RESP; version 3 on) */
#define SNAP_EXP_WHOLE     0x00u /* version 3 expiry kind: whole second (memcached's) */
#define SNAP_EXP_PRECISE   0x01u /* version 3 expiry kind: precise, at its millisecond */
#define SNAP_TAG_FOOTER    0xffu
#define SNAP_FOOTER_MARKER "SNAPEND"
#define SNAP_READ_BUF      (1u << 20)
#define SNAP_CREATED_MAX   (1ull << 40) /* a header's creation time is below this */
#define SNAP_ITEM_SIZE_MIN 1024u        /* the smallest item size limit a header may declare */

_Static_assert(SNAPSHOT_CAS_LIMIT == CACHE_CAS_LIMIT, "a loaded CAS must stay below the counter's limit");
_Static_assert(SNAPSHOT_ITEM_SIZE_MAX <= UINT32_MAX, "the header's item size limit is a u32");

/* ---- little-endian encoding ---- */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- messages ---- */

/* See snapshot.h. */
const char *snapshot_strerror(enum snapshot_status st)
{
    switch (st) {
    case SNAPSHOT_OK:
        return "ok";
    case SNAPSHOT_ERR_OPEN:
        return "cannot open or create the snapshot file";
    case SNAPSHOT_ERR_WRITE:
        return "writing the snapshot failed (disk full, file size limit or I/O error)";
    case SNAPSHOT_ERR_FSYNC:
        return "flushing the snapshot to disk (fsync) failed";
    case SNAPSHOT_ERR_RENAME:
        return "renaming the new snapshot over the old one failed";
    case SNAPSHOT_ERR_READ:
        return "reading the snapshot failed";
    case SNAPSHOT_ERR_TRUNCATED:
        return "the snapshot is truncated (it ends before its footer)";
    case SNAPSHOT_ERR_MAGIC:
        return "not a cairn snapshot (bad magic)";
    case SNAPSHOT_ERR_VERSION:
        return "unsupported snapshot format version";
    case SNAPSHOT_ERR_CHECKSUM:
        return "the snapshot is corrupt (checksum mismatch)";
    case SNAPSHOT_ERR_RECORD:
        return "the snapshot is corrupt (a record with an unknown tag)";
    case SNAPSHOT_ERR_FOOTER:
        return "the snapshot is corrupt (bad footer or record count)";
    case SNAPSHOT_ERR_NOMEM:
        return "out of memory";
    case SNAPSHOT_PARTIAL:
        return "the snapshot was loaded in part: not everything fit in the memory limit";
    case SNAPSHOT_ERR_SYMLINK:
        return "the snapshot path is a symbolic link (refused: give the path of the real file)";
    case SNAPSHOT_ERR_NOT_FILE:
        return "the snapshot path is not a regular file";
    case SNAPSHOT_ERR_TEMP_EXISTS:
        return "the temporary file <path>.tmp.<pid> already exists (left untouched: remove it)";
    case SNAPSHOT_ERR_HEADER:
        return "the snapshot is corrupt (header flags, creation time or item size limit out of range)";
    case SNAPSHOT_ERR_KEY_LENGTH:
        return "the snapshot is corrupt (a key of 0 or more than 250 bytes, or longer than 64 KiB or its "
               "item size limit)";
    case SNAPSHOT_ERR_KEY_BYTES:
        return "the snapshot is corrupt (a text key with a control character, space or DEL)";
    case SNAPSHOT_ERR_VALUE_LENGTH:
        return "the snapshot is corrupt (a value longer than its item size limit)";
    case SNAPSHOT_ERR_CAS:
        return "the snapshot is corrupt (a CAS unique at or above 2^63)";
    case SNAPSHOT_ERR_EXPIRY:
        return "the snapshot is corrupt (an expiry time too far past the file's creation)";
    case SNAPSHOT_ERR_TRAILING:
        return "the snapshot is corrupt (bytes after the footer)";
    }
    return "unknown snapshot status";
}

/* See snapshot.h. */
const char *snapshot_status_token(enum snapshot_status st)
{
    switch (st) {
    case SNAPSHOT_OK:
        return "ok";
    case SNAPSHOT_ERR_OPEN:
        return "open_failed";
    case SNAPSHOT_ERR_WRITE:
        return "write_failed";
    case SNAPSHOT_ERR_FSYNC:
        return "fsync_failed";
    case SNAPSHOT_ERR_RENAME:
        return "rename_failed";
    case SNAPSHOT_ERR_READ:
        return "read_failed";
    case SNAPSHOT_ERR_TRUNCATED:
        return "truncated";
    case SNAPSHOT_ERR_MAGIC:
        return "bad_magic";
    case SNAPSHOT_ERR_VERSION:
        return "bad_version";
    case SNAPSHOT_ERR_CHECKSUM:
        return "checksum_mismatch";
    case SNAPSHOT_ERR_RECORD:
        return "bad_record_tag";
    case SNAPSHOT_ERR_FOOTER:
        return "bad_footer";
    case SNAPSHOT_ERR_NOMEM:
        return "no_memory";
    case SNAPSHOT_PARTIAL:
        return "partial";
    case SNAPSHOT_ERR_SYMLINK:
        return "symlink_refused";
    case SNAPSHOT_ERR_NOT_FILE:
        return "not_a_file";
    case SNAPSHOT_ERR_TEMP_EXISTS:
        return "temp_exists";
    case SNAPSHOT_ERR_HEADER:
        return "bad_header";
    case SNAPSHOT_ERR_KEY_LENGTH:
        return "bad_key_length";
    case SNAPSHOT_ERR_KEY_BYTES:
        return "bad_key_bytes";
    case SNAPSHOT_ERR_VALUE_LENGTH:
        return "value_too_long";
    case SNAPSHOT_ERR_CAS:
        return "cas_out_of_range";
    case SNAPSHOT_ERR_EXPIRY:
        return "expiry_out_of_range";
    case SNAPSHOT_ERR_TRAILING:
        return "trailing_bytes";
    }
    return "unknown";
}

static enum snapshot_status result_finish(struct snapshot_result *r, enum snapshot_status st,
                                          uint64_t t0)
{
    r->status = st;
    r->duration_ns = now_ns() - t0;
    return st;
}

static enum snapshot_status fail_errno(struct snapshot_result *r, enum snapshot_status st)
{
    r->saved_errno = errno;
    return st;
}

/* ---- save ---- */

/* Whether key is a key the text protocols can name: no control byte, space or DEL. */
static bool text_key_ok(const char *key, size_t nkey)
{
    for (size_t i = 0; i < nkey; i++) {
        unsigned char ch = (unsigned char)key[i];

        if (ch <= 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

struct snap_buf {
    unsigned char *p;
    size_t len;
    size_t cap;
};

/* Makes room for n more bytes. False when out of memory. */
static bool buf_reserve(struct snap_buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 1u << 16;
    unsigned char *p;

    if (b->len + n <= b->cap)
        return true;
    while (cap < b->len + n)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

/* The tag for the item's key: binary (meta b), a text key, or raw bytes the text protocols cannot name
 * (a RESP key with a space or a control byte). */
static unsigned char record_tag(const struct item *it)
{
    if (item_key_binary(it))
        return SNAP_TAG_BINARY;
    return text_key_ok(item_key(it), item_nkey(it)) ? SNAP_TAG_TEXT : SNAP_TAG_RAW;
}

/* Encodes one version 3 record for it, expiring at exp (the item's, read under its shard lock). */
static bool buf_put_record(struct cache *c, struct snap_buf *b, const struct item *it, cache_exp_t exp)
{
    size_t nkey = item_nkey(it), nbytes = item_nbytes(it);
    int64_t ms = cache_exp_to_unix_ms(c, exp);
    unsigned char *p;

    if (!buf_reserve(b, SNAP_RECORD_V3 + nkey + nbytes))
        return false;
    p = b->p + b->len;
    p[0] = record_tag(it);
    p[1] = cache_exp_precise(exp) ? SNAP_EXP_PRECISE : SNAP_EXP_WHOLE;
    put_u32(p + 2, item_client_flags(it));
    put_u64(p + 6, ms < 0 ? 0 : (uint64_t)ms);
    put_u64(p + 14, item_cas(it));
    put_u32(p + 22, (uint32_t)nbytes);
    put_u32(p + 26, (uint32_t)nkey);
    memcpy(p + SNAP_RECORD_V3, item_key(it), nkey);
    memcpy(p + SNAP_RECORD_V3 + nkey, item_value_const(it), nbytes);
    b->len += SNAP_RECORD_V3 + nkey + nbytes;
    return true;
}

struct snap_copy {
    uint64_t items;
    uint64_t expired;
};

/* Encodes the live items of one chain. False when out of memory. Caller holds the shard lock. */
static bool copy_chain_locked(struct cache *c, uint32_t head, uint32_t now, struct snap_buf *b,
                              struct snap_copy *n)
{
    while (head) {
        const struct item *it = slab_item(&c->slab, head);
        enum cache_miss_reason why = cache_item_dead_locked(c, it, now);

        head = it->h_next;
        if (why == CACHE_MISS_EXPIRED)
            n->expired++;
        if (why != CACHE_MISS_NONE)
            continue;
        if (!buf_put_record(c, b, it, item_exp(it)))
            return false;
        n->items++;
    }
    return true;
}

/* Encodes every live item of shard sh into b (emptied first), under the shard lock. */
static bool copy_shard(struct cache *c, struct ht_shard *sh, struct snap_buf *b,
                       struct snap_copy *n)
{
    uint32_t now = cache_rel_time(c);
    bool ok = true;
    size_t i;

    b->len = 0;
    shard_lock(sh);
    for (i = 0; ok && i < ht_scan_size_locked(sh); i++)
        ok = copy_chain_locked(c, *ht_scan_slot_locked(sh, i), now, b, n);
    shard_unlock(sh);
    return ok;
}

/* Writes all of p, feeding the checksum. False with errno set on failure. */
static bool write_all(int fd, XXH3_state_t *h, const unsigned char *p, size_t n)
{
    if (h)
        XXH3_64bits_update(h, p, n);
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return false;
        if (w == 0) {
            errno = EIO;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void encode_header(const struct cache *c, unsigned char *p)
{
    memcpy(p, SNAPSHOT_MAGIC, 8);
    put_u32(p + 8, SNAPSHOT_VERSION);
    put_u32(p + 12, 0);
    put_u64(p + 16, (uint64_t)time(NULL));
    put_u32(p + 24, (uint32_t)c->slab.item_size_max);
}

/* Writes header, every shard and the footer to fd. */
static enum snapshot_status save_body(struct cache *c, int fd, XXH3_state_t *h,
                                      struct snapshot_result *r)
{
    unsigned char hdr[SNAP_HEADER_SIZE], foot[SNAP_FOOTER_SIZE];
    struct snap_buf b = {NULL, 0, 0};
    struct snap_copy n = {0, 0};
    enum snapshot_status st = SNAPSHOT_OK;

    encode_header(c, hdr);
    if (!write_all(fd, h, hdr, sizeof hdr))
        return fail_errno(r, SNAPSHOT_ERR_WRITE);
    r->bytes = sizeof hdr;
    for (unsigned s = 0; s < ht_nshards(&c->ht) && st == SNAPSHOT_OK; s++) {
        if (!copy_shard(c, &c->ht.shards[s], &b, &n))
            st = SNAPSHOT_ERR_NOMEM;
        else if (!write_all(fd, h, b.p, b.len))
            st = fail_errno(r, SNAPSHOT_ERR_WRITE);
        r->bytes += b.len;
    }
    free(b.p);
    if (st != SNAPSHOT_OK)
        return st;
    foot[0] = SNAP_TAG_FOOTER;
    memcpy(foot + 1, SNAP_FOOTER_MARKER, 7);
    put_u64(foot + 8, n.items);
    put_u64(foot + 16, XXH3_64bits_digest(h));
    if (!write_all(fd, NULL, foot, sizeof foot))
        return fail_errno(r, SNAPSHOT_ERR_WRITE);
    r->bytes += sizeof foot;
    r->items = n.items;
    r->expired = n.expired;
    return SNAPSHOT_OK;
}

/* fsyncs the directory that holds path. */
static bool fsync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    bool ok;
    int fd;

    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return false;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return false;
    ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* Writes, fsyncs and closes the temporary file fd, then renames it over path. */
static enum snapshot_status save_to(struct cache *c, int fd, const char *tmp, const char *path,
                                    struct snapshot_result *r)
{
    XXH3_state_t *h = XXH3_createState();
    enum snapshot_status st;

    if (!h) {
        close(fd);
        return SNAPSHOT_ERR_NOMEM;
    }
    XXH3_64bits_reset(h);
    st = save_body(c, fd, h, r);
    XXH3_freeState(h);
    if (st == SNAPSHOT_OK && fsync(fd) != 0)
        st = fail_errno(r, SNAPSHOT_ERR_FSYNC);
    if (close(fd) != 0 && st == SNAPSHOT_OK)
        st = fail_errno(r, SNAPSHOT_ERR_WRITE);
    if (st == SNAPSHOT_OK && rename(tmp, path) != 0)
        st = fail_errno(r, SNAPSHOT_ERR_RENAME);
    return st;
}

/* Whether path itself (not what it names) is a symbolic link. */
static bool is_symlink(const char *path)
{
    struct stat sb;

    return lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode);
}

/* See snapshot.h. */
enum snapshot_status snapshot_save(struct cache *c, const char *path, struct snapshot_result *r)
{
    struct snapshot_result local;
    uint64_t t0 = now_ns();
    enum snapshot_status st;
    size_t n = strlen(path) + 32;
    char *tmp;
    int fd;

    if (!r)
        r = &local;
    memset(r, 0, sizeof *r);
    /* rename() would replace a link at path rather than write through it; refusing it keeps the
     * snapshot where the operator thinks it is. */
    if (is_symlink(path))
        return result_finish(r, SNAPSHOT_ERR_SYMLINK, t0);
    tmp = malloc(n);
    if (!tmp)
        return result_finish(r, SNAPSHOT_ERR_NOMEM, t0);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        st = fail_errno(r, errno == EEXIST ? SNAPSHOT_ERR_TEMP_EXISTS : SNAPSHOT_ERR_OPEN);
        free(tmp);
        return result_finish(r, st, t0);
    }
    st = save_to(c, fd, tmp, path, r);
    if (st != SNAPSHOT_OK)
        unlink(tmp); /* ours: created exclusively above */
    else if (!fsync_dir(path))
        st = fail_errno(r, SNAPSHOT_ERR_FSYNC);
    free(tmp);
    return result_finish(r, st, t0);
}

/* ---- read ---- */

struct snap_reader {
    int fd;
    unsigned char *buf;
    size_t pos, len;
    uint64_t consumed;
    uint64_t at; /* offset of the header, record or footer being read */
    XXH3_state_t *h;
    struct snapshot_result *r;
    uint32_t version;   /* from the header */
    uint64_t created;   /* from the header: Unix time of the save */
    uint64_t value_max; /* the file's item size limit: no value is longer */
    char *key;          /* CACHE_KEY_MAX bytes: the key of the record being read */
};

/* Refills the buffer, keeping its unread bytes. SNAPSHOT_OK, ERR_TRUNCATED at the end of the file
 * or ERR_READ. */
static enum snapshot_status snap_fill(struct snap_reader *rd)
{
    ssize_t n;

    if (rd->pos > 0) {
        memmove(rd->buf, rd->buf + rd->pos, rd->len - rd->pos);
        rd->len -= rd->pos;
        rd->pos = 0;
    }
    do
        n = read(rd->fd, rd->buf + rd->len, SNAP_READ_BUF - rd->len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return fail_errno(rd->r, SNAPSHOT_ERR_READ);
    if (n == 0)
        return SNAPSHOT_ERR_TRUNCATED;
    rd->len += (size_t)n;
    return SNAPSHOT_OK;
}

/* Makes n (<= SNAP_READ_BUF) bytes available at rd->buf + rd->pos without consuming them. */
static enum snapshot_status snap_peek(struct snap_reader *rd, size_t n)
{
    while (rd->len - rd->pos < n) {
        enum snapshot_status st = snap_fill(rd);

        if (st != SNAPSHOT_OK)
            return st;
    }
    return SNAPSHOT_OK;
}

/* Consumes n bytes into dst (NULL: drops them); hash says whether they count in the checksum. */
static enum snapshot_status snap_take(struct snap_reader *rd, void *dst, size_t n, bool hash)
{
    char *d = dst;

    while (n > 0) {
        size_t k;

        if (rd->pos == rd->len) {
            enum snapshot_status st = snap_fill(rd);

            if (st != SNAPSHOT_OK)
                return st;
        }
        k = rd->len - rd->pos < n ? rd->len - rd->pos : n;
        if (hash)
            XXH3_64bits_update(rd->h, rd->buf + rd->pos, k);
        if (d) {
            memcpy(d, rd->buf + rd->pos, k);
            d += k;
        }
        rd->pos += k;
        rd->consumed += k;
        n -= k;
    }
    return SNAPSHOT_OK;
}

/* Opens path for reading, once: O_NOFOLLOW refuses a link at path (ERR_SYMLINK); O_NONBLOCK keeps
 * a FIFO from blocking the open, and fstat then refuses anything but a regular file. The descriptor
 * is what the whole pass reads, so the file cannot be swapped between checks and use. */
static enum snapshot_status snap_open(struct snap_reader *rd, const char *path,
                                      struct snapshot_result *r)
{
    struct stat sb;
    int fl;

    memset(rd, 0, sizeof *rd);
    rd->r = r;
    rd->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (rd->fd < 0) {
        if (errno == ELOOP && is_symlink(path))
            return SNAPSHOT_ERR_SYMLINK;
        return fail_errno(r, SNAPSHOT_ERR_OPEN);
    }
    if (fstat(rd->fd, &sb) != 0)
        return fail_errno(r, SNAPSHOT_ERR_READ);
    if (!S_ISREG(sb.st_mode))
        return SNAPSHOT_ERR_NOT_FILE;
    fl = fcntl(rd->fd, F_GETFL);
    if (fl < 0 || fcntl(rd->fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return fail_errno(r, SNAPSHOT_ERR_READ);
    rd->buf = malloc(SNAP_READ_BUF);
    rd->key = malloc(CACHE_KEY_MAX);
    rd->h = XXH3_createState();
    if (!rd->buf || !rd->key || !rd->h)
        return SNAPSHOT_ERR_NOMEM;
    XXH3_64bits_reset(rd->h);
    return SNAPSHOT_OK;
}

static void snap_close(struct snap_reader *rd)
{
    if (rd->fd >= 0)
        close(rd->fd);
    free(rd->buf);
    free(rd->key);
    XXH3_freeState(rd->h);
}

/* Reads and checks the header (24 bytes in version 1, 28 from version 2 on). A file too short to hold
 * a header is a bad magic unless it starts with the magic (then it is truncated). */
static enum snapshot_status read_header(struct snap_reader *rd)
{
    unsigned char hdr[SNAP_HEADER_SIZE] = {0};
    enum snapshot_status st = snap_take(rd, hdr, SNAP_HEADER_V1, true);

    if (st == SNAPSHOT_ERR_TRUNCATED)
        return rd->consumed >= 8 && memcmp(hdr, SNAPSHOT_MAGIC, 8) == 0 ? st : SNAPSHOT_ERR_MAGIC;
    if (st != SNAPSHOT_OK)
        return st;
    if (memcmp(hdr, SNAPSHOT_MAGIC, 8) != 0)
        return SNAPSHOT_ERR_MAGIC;
    rd->version = get_u32(hdr + 8);
    if (rd->version < 1 || rd->version > SNAPSHOT_VERSION)
        return SNAPSHOT_ERR_VERSION;
    rd->created = get_u64(hdr + 16);
    if (get_u32(hdr + 12) != 0 || rd->created >= SNAP_CREATED_MAX)
        return SNAPSHOT_ERR_HEADER;
    rd->value_max = SNAPSHOT_ITEM_SIZE_MAX;
    if (rd->version == 1)
        return SNAPSHOT_OK;
    st = snap_take(rd, hdr + SNAP_HEADER_V1, SNAP_HEADER_SIZE - SNAP_HEADER_V1, true);
    if (st != SNAPSHOT_OK)
        return st;
    rd->value_max = get_u32(hdr + 24);
    if (rd->value_max < SNAP_ITEM_SIZE_MIN || rd->value_max > SNAPSHOT_ITEM_SIZE_MAX)
        return SNAPSHOT_ERR_HEADER;
    return SNAPSHOT_OK;
}

/* A decoded record's fixed part and key. */
struct snap_rec {
    uint8_t tag;
    bool precise; /* version 3: the expiry is precise (expiry in Unix ms); else whole seconds */
    uint32_t nkey;
    uint32_t flags;
    uint64_t expiry; /* Unix seconds (versions 1, 2) or milliseconds (version 3); 0 = never */
    uint64_t cas;
    uint32_t nbytes;
    char *key; /* the reader's key buffer */
};

/* Whether tag starts a record in a file of this version. */
static bool tag_known(uint8_t tag, uint32_t version)
{
    return tag == SNAP_TAG_TEXT || (tag == SNAP_TAG_BINARY && version >= 2) ||
           (tag == SNAP_TAG_RAW && version >= 3);
}

/* Decodes a record's fixed part f (SNAP_RECORD_V2 or SNAP_RECORD_V3 bytes, by the file's version). */
static void decode_fixed(const struct snap_reader *rd, const unsigned char *f, struct snap_rec *rec)
{
    rec->tag = f[0];
    rec->flags = get_u32(f + 2);
    rec->expiry = get_u64(f + 6);
    rec->cas = get_u64(f + 14);
    rec->nbytes = get_u32(f + 22);
    rec->precise = rd->version >= 3 && f[1] == SNAP_EXP_PRECISE;
    rec->nkey = rd->version >= 3 ? get_u32(f + 26) : f[1];
}

/* Checks a record's expiry: whole seconds at most SNAPSHOT_EXPIRY_SPAN past the file's creation
 * (versions 1 and 2 count in seconds, 3 in milliseconds); in version 3 a known kind, a whole-second
 * expiry a multiple of 1000 and "never" only as a whole-second one. */
static bool expiry_ok(const struct snap_reader *rd, const unsigned char *f, const struct snap_rec *rec)
{
    uint64_t unit = rd->version >= 3 ? 1000u : 1u;

    if (rd->version >= 3 && f[1] != SNAP_EXP_WHOLE && f[1] != SNAP_EXP_PRECISE)
        return false;
    if (rd->version >= 3 && !rec->precise && rec->expiry % 1000u != 0)
        return false;
    if (rec->expiry == 0)
        return !rec->precise;
    return rec->expiry <= (rd->created + SNAPSHOT_EXPIRY_SPAN) * unit;
}

/* Decodes and checks a record's fixed part f into rec (snapshot.h lists the rules). */
static enum snapshot_status check_fixed(const struct snap_reader *rd, const unsigned char *f,
                                        struct snap_rec *rec)
{
    if (!tag_known(f[0], rd->version))
        return SNAPSHOT_ERR_RECORD;
    decode_fixed(rd, f, rec);
    if (rd->version < 3 && (rec->nkey == 0 || rec->nkey > SNAPSHOT_KEY_MAX_V2))
        return SNAPSHOT_ERR_KEY_LENGTH;
    if (rec->nkey > CACHE_KEY_MAX || rec->nkey > rd->value_max)
        return SNAPSHOT_ERR_KEY_LENGTH;
    if (rec->nbytes > rd->value_max)
        return SNAPSHOT_ERR_VALUE_LENGTH;
    if (rec->cas >= SNAPSHOT_CAS_LIMIT)
        return SNAPSHOT_ERR_CAS;
    if (!expiry_ok(rd, f, rec))
        return SNAPSHOT_ERR_EXPIRY;
    return SNAPSHOT_OK;
}

/* Reads and checks the footer against count (the records read). */
static enum snapshot_status read_footer(struct snap_reader *rd, uint64_t count)
{
    unsigned char foot[SNAP_FOOTER_SIZE];
    uint64_t digest = XXH3_64bits_digest(rd->h);
    enum snapshot_status st = snap_take(rd, foot, sizeof foot, false);

    if (st != SNAPSHOT_OK)
        return st;
    if (memcmp(foot + 1, SNAP_FOOTER_MARKER, 7) != 0)
        return SNAPSHOT_ERR_FOOTER;
    if (get_u64(foot + 16) != digest)
        return SNAPSHOT_ERR_CHECKSUM;
    if (get_u64(foot + 8) != count)
        return SNAPSHOT_ERR_FOOTER;
    rd->at = rd->consumed;
    st = snap_take(rd, NULL, 1, false);
    if (st == SNAPSHOT_ERR_TRUNCATED)
        return SNAPSHOT_OK;
    return st == SNAPSHOT_OK ? SNAPSHOT_ERR_TRAILING : st;
}

/* Reads the next record's fixed part and key into rec, checking every field, or the footer (sets
 * *end) and checks it against count. A version 1 key that is not a text key is taken as binary. */
static enum snapshot_status read_next(struct snap_reader *rd, struct snap_rec *rec,
                                      uint64_t count, bool *end)
{
    unsigned char f[SNAP_RECORD_V3];
    enum snapshot_status st = snap_peek(rd, 1);

    if (st != SNAPSHOT_OK)
        return st;
    *end = rd->buf[rd->pos] == SNAP_TAG_FOOTER;
    if (*end)
        return read_footer(rd, count);
    st = snap_take(rd, f, rd->version >= 3 ? SNAP_RECORD_V3 : SNAP_RECORD_V2, true);
    if (st == SNAPSHOT_OK)
        st = check_fixed(rd, f, rec);
    rec->key = rd->key;
    if (st == SNAPSHOT_OK)
        st = snap_take(rd, rec->key, rec->nkey, true);
    if (st != SNAPSHOT_OK || rec->tag != SNAP_TAG_TEXT || text_key_ok(rec->key, rec->nkey))
        return st;
    if (rd->version == 1) {
        rec->tag = SNAP_TAG_BINARY;
        return SNAPSHOT_OK;
    }
    return SNAPSHOT_ERR_KEY_BYTES;
}

/* ---- staging (load) ---- */

/* Items read from the file, allocated but not linked, with the CAS each is to get. */
struct snap_staged {
    struct item *it; /* the allocation's reference */
    uint64_t cas;
};

struct snap_stage {
    struct snap_staged *v;
    size_t n, cap;
};

static bool stage_push(struct snap_stage *sg, struct item *it, uint64_t cas)
{
    if (sg->n == sg->cap) {
        size_t cap = sg->cap ? sg->cap * 2 : 1024;
        struct snap_staged *v = realloc(sg->v, cap * sizeof *v);

        if (!v)
            return false;
        sg->v = v;
        sg->cap = cap;
    }
    sg->v[sg->n].it = it;
    sg->v[sg->n].cas = cas;
    sg->n++;
    return true;
}

/* Whether cls can hand out a chunk without evicting: a free chunk, one left to carve, or a new
 * page within the memory limit. Takes cls->lock and page_lock briefly (a hint: it may change). */
static bool class_has_room(struct slab *s, struct slab_class *cls)
{
    bool room;

    pthread_mutex_lock(&cls->lock);
    room = cls->free_count > 0 || cls->carve_left > 0;
    if (!room) {
        pthread_mutex_lock(&s->page_lock);
        room = s->next_page - s->nfree < s->total_pages &&
               (s->nfree > 0 || s->next_page < s->arena_pages);
        pthread_mutex_unlock(&s->page_lock);
    }
    pthread_mutex_unlock(&cls->lock);
    return room;
}

/* Raises c's next CAS unique past cas (below CACHE_CAS_LIMIT: the counter stays below 2^63 + 1). */
static void cas_advance(struct cache *c, uint64_t cas)
{
    uint64_t cur = atomic_load(&c->next_cas);

    while (cur <= cas && !atomic_compare_exchange_weak(&c->next_cas, &cur, cas + 1))
        ;
}

/* Links the filled item it like CACHE_SET, replacing any old item, and gives it unique cas (0 when
 * the cache has CAS disabled). An unique that does not fit 48 bits needs an item allocated with the
 * CAS extension (stage_record). */
static void store_with_cas(struct cache *c, struct item *it, uint64_t cas)
{
    uint64_t hash = ht_hash(item_key(it), item_nkey(it));
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    struct item *old;

    if (!c->opt.use_cas)
        cas = 0;
    shard_lock(sh);
    old = cache_find_live_locked(c, sh, hash, item_key(it), item_nkey(it), NULL);
    if (old) {
        cache_unlink_locked(c, sh, hash, old);
        cache_item_unref(c, old);
    }
    cache_link_with_cas_locked(c, sh, hash, it, cas);
    if (c->opt.use_cas)
        cas_advance(c, cas);
    shard_unlock(sh);
}

/* The file was accepted: links every staged item in file order (a later record with the same key
 * replaces an earlier one) and drops the staging references. */
static void stage_link(struct cache *c, struct snap_stage *sg)
{
    for (size_t i = 0; i < sg->n; i++) {
        store_with_cas(c, sg->v[i].it, sg->v[i].cas);
        cache_item_release(c, &sg->v[i].it);
    }
}

/* Releases what is still staged (every item of a refused file: their chunks go back to their
 * classes' free lists) and the list itself. */
static void stage_free(struct cache *c, struct snap_stage *sg)
{
    for (size_t i = 0; i < sg->n; i++)
        cache_item_release(c, &sg->v[i].it);
    free(sg->v);
    sg->v = NULL;
    sg->n = sg->cap = 0;
}

/* The expiry on c's clock of a record's absolute expiry (checked by check_fixed): whole seconds
 * stay whole (in Unix seconds before version 3, whole milliseconds from it), a precise one keeps its
 * millisecond. Sets *expired when it has passed on c's clock. */
static cache_exp_t rel_expiry(struct cache *c, const struct snap_reader *rd, const struct snap_rec *rec,
                              bool *expired)
{
    int64_t rel;
    cache_exp_t exp;

    *expired = false;
    if (rec->expiry == 0)
        return CACHE_EXP_NEVER;
    if (rec->precise) {
        exp = cache_exp_from_unix_ms(c, (int64_t)rec->expiry);
    } else {
        rel = (int64_t)(rd->version >= 3 ? rec->expiry / 1000u : rec->expiry) -
              (int64_t)cache_process_started(c);
        exp = cache_exp_from_rel_seconds(rel < 1                     ? 1
                                         : rel > (int64_t)UINT32_MAX ? UINT32_MAX
                                                                     : (uint32_t)rel);
    }
    *expired = cache_exp_passed(c, exp, cache_rel_time(c));
    return exp;
}

/* Stages one checked record whose value is next in rd, or skips it (expired, left out). */
static enum snapshot_status stage_record(struct cache *c, struct snap_reader *rd,
                                         const struct snap_rec *rec, struct snap_stage *sg,
                                         struct snapshot_result *r)
{
    bool cas_ext = c->opt.use_cas && !item_cas_fits(rec->cas);
    size_t total = item_total_size_ext(rec->nkey, rec->nbytes, cas_ext);
    unsigned cls = total <= c->slab.item_size_max ? slab_class_for(&c->slab, total) : 0;
    enum cache_status cst;
    enum snapshot_status st;
    struct item *it = NULL;
    bool expired;
    cache_exp_t exp = rel_expiry(c, rd, rec, &expired);

    if (expired) {
        r->expired++;
        return snap_take(rd, NULL, rec->nbytes, true);
    }
    if (cls != 0 && class_has_room(&c->slab, &c->slab.classes[cls]))
        it = cache_alloc_ext_held(c, NULL, rec->key, rec->nkey, rec->flags, exp, rec->nbytes,
                                  cas_ext, &cst);
    if (!it) {
        r->left_out++;
        return snap_take(rd, NULL, rec->nbytes, true);
    }
    item_set_key_binary(it, rec->tag == SNAP_TAG_BINARY);
    st = snap_take(rd, item_value(it), rec->nbytes, true);
    if (st == SNAPSHOT_OK && !stage_push(sg, it, rec->cas))
        st = SNAPSHOT_ERR_NOMEM;
    if (st != SNAPSHOT_OK)
        cache_item_release(c, &it);
    return st;
}

/* The single pass over an open file: header, every record (staged into c, or only checked when c
 * is NULL), then the footer. *count gets the records read; r->offset where a bad file went wrong. */
static enum snapshot_status read_file(struct snap_reader *rd, struct cache *c,
                                      struct snap_stage *sg, uint64_t *count)
{
    struct snap_rec rec;
    enum snapshot_status st = read_header(rd);
    bool end = false;

    *count = 0;
    while (st == SNAPSHOT_OK && !end) {
        rd->at = rd->consumed;
        st = read_next(rd, &rec, *count, &end);
        if (st != SNAPSHOT_OK || end)
            break;
        if (c)
            st = stage_record(c, rd, &rec, sg, rd->r);
        else
            st = snap_take(rd, NULL, rec.nbytes, true);
        (*count)++;
    }
    if (st != SNAPSHOT_OK)
        rd->r->offset = rd->at;
    rd->r->bytes = rd->consumed;
    return st;
}

/* See snapshot.h. */
enum snapshot_status snapshot_verify(const char *path, struct snapshot_result *r)
{
    struct snapshot_result local;
    uint64_t t0 = now_ns();
    struct snap_reader rd;
    enum snapshot_status st;
    uint64_t n = 0;

    if (!r)
        r = &local;
    memset(r, 0, sizeof *r);
    st = snap_open(&rd, path, r);
    if (st == SNAPSHOT_OK)
        st = read_file(&rd, NULL, NULL, &n);
    snap_close(&rd);
    r->items = st == SNAPSHOT_OK ? n : 0;
    return result_finish(r, st, t0);
}

/* See snapshot.h. */
enum snapshot_status snapshot_load(struct cache *c, const char *path, struct snapshot_result *r)
{
    struct snapshot_result local;
    uint64_t t0 = now_ns();
    struct snap_stage sg = {NULL, 0, 0};
    struct snap_reader rd;
    enum snapshot_status st;
    uint64_t n = 0;

    if (!r)
        r = &local;
    memset(r, 0, sizeof *r);
    st = snap_open(&rd, path, r);
    if (st == SNAPSHOT_OK)
        st = read_file(&rd, c, &sg, &n);
    snap_close(&rd);
    if (st == SNAPSHOT_OK) {
        stage_link(c, &sg);
        r->items = sg.n;
    } else {
        r->expired = 0;
        r->left_out = 0;
    }
    stage_free(c, &sg);
    if (st == SNAPSHOT_OK && r->left_out > 0)
        st = SNAPSHOT_PARTIAL;
    return result_finish(r, st, t0);
}
