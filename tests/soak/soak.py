#!/usr/bin/python3
"""Chaos soak: no client can hurt another.

Starts the server ($CAIRN_BIN, else ./cairn) at a small memory limit with a snapshot file and, for
--seconds, runs three kinds of clients against it on 127.0.0.1:

- model clients: writers that own their keys, writers that share keys, readers, and a probe of
  "pinned" keys. Every value is self-describing (key, writer, sequence number, size, CRC32 of the
  whole) and rebuilt byte for byte from its header when read, so a value of another key, a torn value
  or a value nobody wrote is caught at once. Every write is recorded with the time it was sent and the
  time it was answered (STORED: acknowledged; SERVER_ERROR: refused; no answer: possibly written).
- abusers: non-reading multi-gets of the model's own keys, half-sent 1 MB values, garbage bytes,
  HTTP request lines, endless lines, connect/disconnect storms, clients that vanish mid-request.
- operations: flush_all, `snapshot`, SIGHUP (must not stop the server), restarts by SIGTERM (warm
  reload) and by SIGKILL.

What a read may return is decided after the run, from the whole timeline (every write, flush,
snapshot, restart and a `stats` sample every 0.25 s), by these rules:

- Lineage. Each server process ("generation") starts from the snapshot file it loaded, which was
  written by an earlier generation over a window [ss, se]; a final save on SIGTERM has ss = the
  moment the signal was sent. An event (acknowledged write or flush_all) is *definite* for a read sent
  at t0 when it was acknowledged inside the lineage: in the reader's generation before t0, or in the
  generation that wrote the loaded snapshot before its ss, and so on back. "Acknowledged in" a
  generation means answered on a connection to that process, not judged by the clock: a client
  thread can take the time of a reply only after the ops thread has killed that server and started
  the next one, and a write answered by the killed one must not count as the new one's. An event *possibly*
  happened in the lineage when it was sent before t1 (the reply) in the reader's generation, or before
  se in the snapshot's generation, and so on.
- A value V read is correct when it was sent before the reply, lies in the lineage (a value from an
  earlier generation must have been sent before the se of the snapshot that carried it over), and no
  definite write of the same key sent after V finished, and no definite flush_all sent after V
  finished, exists: then V was overwritten and must never be seen again. For a key with one writer this
  is exactly "the latest acknowledged value or a later possibly-written one"; for shared keys it is
  "a value that was not yet certainly overwritten", which is all concurrency allows one to claim.
- A miss is checked against W, the definite write of that key sent last. No W: nothing had to be
  there (if an acknowledged write exists outside the lineage it was lost by a kill or restart before
  a snapshot covered it). Otherwise the miss needs one of, from W's send to the reply: a flush_all, the
  expiry time W asked for, a refused store of that key (memcached unlinks the old value), a snapshot
  load that left records out, the `evictions` counter moving, or pages moving between slab classes
  (`slabs_moved`, reported apart). None of these: an unexplained miss, and the soak fails.
- Pinned keys, written only by the probe, are set, read back on the same connection, then read by a
  fresh connection, with a `stats` sample on each side. With CLOCK eviction at -m 8 a key just stored
  may be evicted before the read, so a miss while `evictions` or `slabs_moved` moved is reported as
  such; a miss while neither moved, no flush_all and no restart happened is a false miss and fails.

Also measured: latency of every model request (it fails when one waits longer than --max-latency
while the server is up, i.e. outside [signal, serving again]; a set of a value over 16 KiB may wait
for the receiving budget, up to 5 s by design, and has --max-latency-large), the server's RSS (VmRSS sampled every
0.25 s and VmHWM before each stop, bound --rss-limit-mb), stops that take too long, and unexpected
exits. Prints a summary and exits 0 when every check held, 1 otherwise, 2 on a usage or start error.
"""

import argparse
import array
import bisect
import hashlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib

now = time.monotonic
INF = float("inf")
# Values over this size take the server's receiving budget and may wait for it (MC_RECV_SMALL).
RECV_SMALL = 16 * 1024


# ---------------------------------------------------------------------------------------------
# Values


def make_value(key, wid, seq, size):
    """The value writer `wid` sends as its write number `seq` of `key`: exactly `size` bytes.

    Layout: "key|wid|seq|size|" + filler + 8 hex digits of CRC32 over everything before them. The
    filler repeats a digest of the header, so two values of the same size differ all along.
    """
    head = b"%s|%d|%d|%d|" % (key, wid, seq, size)
    digest = hashlib.blake2b(head, digest_size=16).hexdigest().encode()
    n = max(0, size - len(head) - 8)
    body = head + (digest * (n // 32 + 1))[:n]
    return body + b"%08x" % zlib.crc32(body)


def value_flags(key, wid, seq):
    return zlib.crc32(b"%s|%d|%d" % (key, wid, seq))


def check_value(key, data, flags):
    """(wid, seq) when `data` is an intact value written for `key`, else a string saying why not."""
    parts = data.split(b"|", 4)
    if len(parts) < 5:
        return "not a soak value (%d bytes: %r...)" % (len(data), bytes(data[:40]))
    try:
        vkey, wid, seq, size = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
    except ValueError:
        return "unreadable header %r" % bytes(data[:60])
    if vkey != key:
        return "value of key %r returned for key %r" % (vkey, key)
    if size != len(data) or make_value(key, wid, seq, size) != data:
        return "torn value for %r (writer %d seq %d: %d bytes, header says %d)" % (
            key, wid, seq, len(data), size)
    if flags is not None and flags != value_flags(key, wid, seq):
        return "flags %d of %r do not belong to writer %d seq %d" % (flags, key, wid, seq)
    return (wid, seq)


def size_phase(t_rel):
    """Value sizes shift every 10 s: small, medium, large, then all mixed."""
    phase = int(t_rel / 10) % 4
    r = random.random()
    if phase == 0 or (phase == 2 and r < 0.2):
        lo, hi = 48, 400
    elif phase == 1:
        lo, hi = 1000, 30000
    elif phase == 2:
        lo, hi = 50000, 400000
    else:
        lo, hi = random.choice(((48, 400), (1000, 30000), (50000, 400000)))
    return int(lo * (hi / lo) ** random.random())


# ---------------------------------------------------------------------------------------------
# Connections


class Down(Exception):
    """The connection failed (closed, reset, refused or timed out)."""


class Conn:
    """One text-protocol connection with a read buffer; every failure raises Down."""

    def __init__(self, port, timeout):
        try:
            self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            raise Down("connect: %s" % e)
        self.buf = bytearray()
        self.timed_out = False
        self.gen = None

    def send(self, data):
        try:
            self.s.sendall(data)
        except socket.timeout:
            self.timed_out = True
            raise Down("send timed out")
        except OSError as e:
            raise Down("send: %s" % e)

    def _fill(self):
        try:
            chunk = self.s.recv(262144)
        except socket.timeout:
            self.timed_out = True
            raise Down("reply timed out")
        except OSError as e:
            raise Down("recv: %s" % e)
        if not chunk:
            raise Down("closed by server")
        self.buf += chunk

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return out
            self._fill()

    def exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        out = bytes(self.buf[:n])
        if self.buf[n:n + 2] != b"\r\n":
            raise Down("value block not followed by CRLF")
        del self.buf[:n + 2]
        return out

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def parse_stats(conn):
    conn.send(b"stats\r\n")
    out = {}
    while True:
        ln = conn.line()
        if ln == b"END":
            return out
        p = ln.split(b" ", 2)
        if len(p) == 3 and p[0] == b"STAT":
            out[p[1].decode()] = p[2].decode()


# ---------------------------------------------------------------------------------------------
# Timeline records


class Write:
    __slots__ = ("key", "wid", "seq", "send", "done", "acked", "refused", "exptime", "gen")

    def __init__(self, key, wid, seq, send, exptime):
        self.key, self.wid, self.seq, self.send, self.exptime = key, wid, seq, send, exptime
        self.gen = None    # the generation that answered (its connection's)
        self.done = INF
        self.acked = False
        self.refused = False


class Flush:
    __slots__ = ("send", "done", "acked")


class Snapshot:
    __slots__ = ("gen", "ss", "se", "items", "ident")

    def __init__(self, gen, ss, se, items, ident):
        self.gen, self.ss, self.se, self.items, self.ident = gen, ss, se, items, ident


class Gen:
    """One server process: launched at start, serving from up, asked to stop at sig, gone at end."""

    def __init__(self, idx, start):
        self.idx, self.start = idx, start
        self.up = INF
        self.sig = INF
        self.end = INF
        self.end_kind = None
        self.loaded = None       # the Snapshot it started from, or None
        self.loaded_items = 0
        self.left_out = 0
        self.samples = []        # (sent, answered, evictions, slabs_moved)
        self.sample_sent = []    # the sent times, for bisect
        self.pid = None

    def add_sample(self, sent, answered, st):
        ev = int(st.get("evictions", 0)) + int(st.get("slab_reassign_evictions_nomem", 0))
        mv = int(st.get("slabs_moved", 0))
        self.samples.append((sent, answered, ev, mv))
        self.sample_sent.append(sent)

    def counters_between(self, lo, hi):
        """(evictions, slabs_moved) growth from before lo to after hi (process start counts 0)."""
        base = (0, 0)
        for s in self.samples:
            if s[1] <= lo:
                base = (s[2], s[3])
            else:
                break
        i = bisect.bisect_left(self.sample_sent, hi)
        top = self.samples[i] if i < len(self.samples) else (self.samples[-1] if self.samples else None)
        if top is None:
            return (0, 0)
        if i >= len(self.samples) and self.end_kind != "term":
            # No sample after hi in this generation: anything may have happened since the last one
            # (after SIGTERM, the last sample was taken with every storing client held).
            return (max(1, top[2] - base[0]), max(1, top[3] - base[1]))
        return (top[2] - base[0], top[3] - base[1])


class Model:
    """Everything the clients and operations did, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.writes = {}        # key -> [Write] in send order
        self.by_id = {}         # (key, wid, seq) -> Write
        self.reads = []         # (key, t0, t1, result, tag): result None (miss) or (wid, seq)
        self.flushes = []
        self.snapshots = []
        self.gens = []
        self.failures = []      # (time, text)
        self.lat_t0 = array.array("d")    # every model request: sent, answered, 0 set / 1 read
        self.lat_t1 = array.array("d")
        self.lat_op = array.array("b")
        self.pinned = {"probes": 0, "hits": 0, "miss_eviction": 0, "miss_page_move": 0,
                       "miss_flush": 0, "false_miss": 0, "skipped": 0, "refused": 0}
        self.counts = {}

    def fail(self, text):
        with self.lock:
            self.failures.append((now(), text))

    def count(self, name, n=1):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def new_write(self, key, wid, seq, exptime):
        with self.lock:
            w = Write(key, wid, seq, now(), exptime)
            self.writes.setdefault(key, []).append(w)
            self.by_id[(key, wid, seq)] = w
            return w


# ---------------------------------------------------------------------------------------------
# The server under test


class Server:
    def __init__(self, opts, model, workdir):
        self.opts, self.model, self.workdir = opts, model, workdir
        self.snap_path = os.path.join(workdir, "cache.snap")
        self.log_path = os.path.join(workdir, "server.log")
        self.port = None
        self.proc = None
        self.gen = None
        self.serving = threading.Event()   # set while the current generation serves
        self.max_rss_kb = 0
        self.rss_samples = 0

    def ident(self):
        try:
            st = os.stat(self.snap_path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def start(self):
        m = self.model
        ident = self.ident()
        prev = m.gens[-1] if m.gens else None
        loaded = None
        if ident is not None:
            for s in reversed(m.snapshots):
                if s.ident == ident:
                    loaded = s
                    break
            if loaded is None:
                # A file no reply told us about (a save finished while the process was killed):
                # written some time after the last known save, before that generation ended.
                known = [s.se for s in m.snapshots if prev is not None and s.gen is prev]
                ss = max(known) if known else (prev.start if prev else 0.0)
                loaded = Snapshot(prev, ss, prev.end if prev else now(), -1, ident)
                m.snapshots.append(loaded)
        for attempt in range(20):
            if self.port is None:
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
                s.close()
            args = [self.opts.bin, "-p", str(self.port), "-l", "127.0.0.1", "-U", "0",
                    "-m", str(self.opts.memory), "-t", str(self.opts.threads),
                    "-c", str(self.opts.conns), "--snapshot-path", self.snap_path]
            if os.geteuid() == 0:
                args += ["-u", "root"]
            args += self.opts.server_arg
            g = Gen(len(m.gens), now())
            g.loaded = loaded
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            log.close()
            g.pid = self.proc.pid
            deadline = now() + 60
            while now() < deadline and self.proc.poll() is None:
                try:
                    c = Conn(self.port, 2)
                    c.send(b"version\r\n")
                    c.line()
                    st = parse_stats(c)
                    c.close()
                    g.up = now()
                    g.loaded_items = int(st.get("snapshot_loaded_items", 0))
                    g.left_out = int(st.get("snapshot_load_left_out", 0))
                    with m.lock:
                        m.gens.append(g)
                    self.gen = g
                    self.serving.set()
                    return g
                except Down:
                    time.sleep(0.05)
            rc = self.proc.poll()
            if rc is None:
                self.proc.kill()
                self.proc.wait()
                raise SystemExit("server did not answer within 60 s of starting")
            if attempt < 19 and ident == self.ident() and "Address already in use" in self.log_tail():
                time.sleep(0.5)
                continue
            raise SystemExit("server exited with status %s at start; log: %s\n%s" % (
                rc, self.log_path, self.log_tail()))
        raise SystemExit("server could not bind port %d" % self.port)

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def read_rss(self, field="VmRSS"):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for ln in f:
                    if ln.startswith(field + ":"):
                        return int(ln.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def note_rss(self):
        kb = max(self.read_rss("VmRSS"), self.read_rss("VmHWM"))
        if kb > self.max_rss_kb:
            self.max_rss_kb = kb

    def stop(self, kind):
        """Stop the current generation with SIGTERM ("term") or SIGKILL ("kill9"); record how."""
        g = self.gen
        self.note_rss()
        self.serving.clear()
        g.sig = now()
        if kind == "term":
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=self.opts.stop_wait)
            except subprocess.TimeoutExpired:
                self.model.fail("SIGTERM: the server was still running %d s later (killed)" %
                                self.opts.stop_wait)
                self.proc.kill()
                rc = self.proc.wait()
                kind = "term-hung"
        else:
            self.proc.kill()
            rc = self.proc.wait()
        g.end = now()
        g.end_kind = kind
        if kind == "term":
            if rc == 0:
                snap = Snapshot(g, g.sig, g.end, -1, self.ident())
                with self.model.lock:
                    self.model.snapshots.append(snap)
            else:
                self.model.fail("SIGTERM: exit status %d (final snapshot failed?)" % rc)
                g.end_kind = "term-failed"
        return rc

    def died(self):
        """The process exited without being asked: record it as a crash at the moment we saw it."""
        g = self.gen
        rc = self.proc.poll()
        self.serving.clear()
        g.sig = g.samples[-1][1] if g.samples else g.up
        g.end = now()
        g.end_kind = "died"
        self.model.fail("server exited unasked with status %s (%s)" % (
            rc, "signal %d" % -rc if rc is not None and rc < 0 else "exit"))
        return rc


# ---------------------------------------------------------------------------------------------
# Model clients


class Soak:
    def __init__(self, opts):
        self.opts = opts
        self.model = Model()
        self.workdir = tempfile.mkdtemp(prefix="cairn-soak-")
        self.server = Server(opts, self.model, self.workdir)
        self.judge = Judge(self.model, opts.detail)
        self.stop = threading.Event()
        self.write_gate = threading.Event()   # cleared while writers must hold (before SIGTERM)
        self.write_gate.set()
        self.quiet = threading.Event()        # cleared while abusers must hold (before SIGTERM)
        self.quiet.set()
        self.writers_busy = 0
        self.busy_lock = threading.Lock()
        self.t_begin = now()
        self.excl_keys = [[b"x%d:%d" % (w, i) for i in range(opts.keys)] for w in range(opts.writers)]
        self.shared_keys = [b"s:%d" % i for i in range(opts.keys // 2)]
        self.all_keys = [k for ks in self.excl_keys for k in ks] + self.shared_keys
        self.pin_keys = [b"pin:%d" % i for i in range(4)]

    # -- helpers shared by the model clients

    def connect(self, timeout=10.0):
        """A connection to the serving generation; waits through restarts. None when the run ends."""
        while not self.stop.is_set():
            if not self.server.serving.wait(0.2):
                continue
            g = self.server.gen
            try:
                c = Conn(self.server.port, timeout)
            except Down:
                time.sleep(0.05)
                continue
            if self.server.gen is g and self.server.serving.is_set():
                c.gen = g   # every reply on c comes from g (a connection does not outlive its server)
                return c
            c.close()
        return None

    def timed(self, t0, op, size=0):
        t1 = now()
        m = self.model
        with m.lock:
            m.lat_t0.append(t0)
            m.lat_t1.append(t1)
            m.lat_op.append((2 if size > RECV_SMALL else 0) if op == "set" else 1)
        return t1

    def enter_write(self):
        """Count this writer busy unless writes are held (then wait); False when it waited."""
        with self.busy_lock:
            self.writers_busy += 1
        if self.write_gate.is_set():
            return True
        with self.busy_lock:
            self.writers_busy -= 1
        self.write_gate.wait(0.5)
        return False

    def do_set(self, conn, w, data, flags):
        conn.send(b"set %s %d %d %d\r\n%s\r\n" % (w.key, flags, w.exptime, len(data), data))
        return conn.line()

    def writer(self, wid, keys):
        m = self.model
        seq = 0
        conn = None
        hot = keys[:max(1, len(keys) // 8)]
        while not self.stop.is_set():
            if conn is None:
                conn = self.connect()
                if conn is None:
                    break
            if not self.enter_write():
                continue
            try:
                key = random.choice(hot) if random.random() < 0.3 else random.choice(keys)
                seq += 1
                size = size_phase(now() - self.t_begin)
                exptime = random.choice((3, 4, 5)) if random.random() < 0.1 else 0
                data = make_value(key, wid, seq, size)
                w = m.new_write(key, wid, seq, exptime)
                w.gen = conn.gen
                try:
                    reply = self.do_set(conn, w, data, value_flags(key, wid, seq))
                except Down as e:
                    w.done = INF if conn.timed_out else now()
                    if conn.timed_out:
                        m.fail("writer %d: set %r (%d bytes) got no reply in 10 s" % (wid, key, size))
                    m.count("writes_unanswered")
                    conn.close()
                    conn = None
                    continue
                t1 = self.timed(w.send, "set", size)
                w.done = t1
                if reply == b"STORED":
                    w.acked = True
                    m.count("writes_acked")
                elif reply.startswith(b"SERVER_ERROR"):
                    w.refused = True
                    m.count("writes_refused")
                    m.count("refused: " + reply.decode(errors="replace"))
                else:
                    m.fail("writer %d: set %r answered %r" % (wid, key, reply))
                    conn.close()
                    conn = None
            finally:
                with self.busy_lock:
                    self.writers_busy -= 1
        if conn:
            conn.close()

    def read_keys(self, conn, keys, tag, kind):
        """One get/gets/mg of `keys`; records a read per key; returns False when the connection died."""
        m = self.model
        t0 = now()
        got = {}
        try:
            if kind == "mg":
                conn.send(b"".join(b"mg %s v f k\r\n" % k for k in keys) + b"mn\r\n")
                for k in keys:
                    ln = conn.line()
                    if ln == b"EN" or ln.startswith(b"EN "):
                        continue
                    p = ln.split()
                    if len(p) < 2 or p[0] != b"VA":
                        m.fail("mg %r answered %r" % (k, ln))
                        return False
                    data = conn.exact(int(p[1]))
                    fl = [int(x[1:]) for x in p[2:] if x.startswith(b"f")]
                    rk = [x[1:] for x in p[2:] if x.startswith(b"k")]
                    if rk and rk[0] != k:
                        m.fail("mg %r answered for key %r" % (k, rk[0]))
                    got[k] = (data, fl[0] if fl else None)
                ln = conn.line()
                if ln != b"MN":
                    m.fail("mn answered %r" % ln)
                    return False
            else:
                conn.send(b"%s %s\r\n" % (kind.encode(), b" ".join(keys)))
                pos = 0
                while True:
                    ln = conn.line()
                    if ln == b"END":
                        break
                    p = ln.split()
                    if len(p) < 4 or p[0] != b"VALUE":
                        m.fail("%s answered %r" % (kind, ln))
                        return False
                    data = conn.exact(int(p[3]))
                    k = p[1]
                    # Replies come in request order, each key at most once per mention.
                    while pos < len(keys) and keys[pos] != k:
                        pos += 1
                    if pos == len(keys):
                        m.fail("%s %r: reply names key %r out of order or never asked" % (
                            kind, keys[:4], k))
                        return False
                    pos += 1
                    got[k] = (data, int(p[2]))
        except Down as e:
            if conn.timed_out:
                m.fail("%s of %d keys got no reply in 10 s" % (kind, len(keys)))
            return False
        t1 = self.timed(t0, kind)
        recs = []
        for k in keys:
            if k in got:
                r = check_value(k, *got[k])
                if isinstance(r, str):
                    m.fail("%s: %s" % (kind, r))
                    continue
                recs.append((k, t0, t1, r, tag))
            else:
                recs.append((k, t0, t1, None, tag))
        with m.lock:
            m.reads.extend(recs)
        return True

    def reader(self, rid):
        conn = None
        while not self.stop.is_set():
            if conn is None:
                conn = self.connect()
                if conn is None:
                    break
            n = random.choice((1, 1, 1, 2, 5, 10))
            keys = list(dict.fromkeys(random.choice(self.all_keys) for _ in range(n)))
            kind = random.choice(("get", "get", "gets", "mg"))
            if not self.read_keys(conn, keys, "read", kind):
                conn.close()
                conn = None
        if conn:
            conn.close()

    def pinned_probe(self):
        """Every second: set each pinned key, read it on the same and on a fresh connection."""
        m = self.model
        seq = 0
        while not self.stop.wait(1.0):
            for key in self.pin_keys:
                if self.stop.is_set():
                    break
                seq += 1
                self.probe_one(key, seq)

    def probe_one(self, key, seq):
        m = self.model
        g = self.server.gen
        conn = mon = fresh = None
        try:
            mon = Conn(self.server.port, 10)
            conn = Conn(self.server.port, 10)
            s0 = now()
            before = parse_stats(mon)
            data = make_value(key, 999, seq, random.randint(48, 200))
            t0 = now()
            conn.send(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(data), data))
            reply = conn.line()
            self.timed(t0, "set")
            if reply != b"STORED":
                m.count("pinned set answered " + reply.decode(errors="replace"))
                with m.lock:
                    m.pinned["refused"] += 1
                return
            results = []
            for c in ("same", "fresh"):
                if c == "fresh":
                    fresh = Conn(self.server.port, 10)
                    c_use = fresh
                else:
                    c_use = conn
                t0 = now()
                c_use.send(b"get %s\r\n" % key)
                ln = c_use.line()
                got = None
                if ln.startswith(b"VALUE "):
                    got = c_use.exact(int(ln.split()[3]))
                    if c_use.line() != b"END":
                        m.fail("pinned get %r: no END" % key)
                elif ln != b"END":
                    m.fail("pinned get %r answered %r" % (key, ln))
                self.timed(t0, "get")
                results.append((c, got))
            after = parse_stats(mon)
            s1 = now()
        except Down:
            m.count("pinned probes cut by restarts")
            with m.lock:
                m.pinned["skipped"] += 1
            return
        finally:
            for c in (conn, mon, fresh):
                if c:
                    c.close()
        if self.server.gen is not g or int(after.get("pid", 0)) != int(before.get("pid", 0)):
            with m.lock:
                m.pinned["skipped"] += 1
            return
        ev = (int(after["evictions"]) - int(before["evictions"]) +
              int(after.get("slab_reassign_evictions_nomem", 0)) -
              int(before.get("slab_reassign_evictions_nomem", 0)))
        mv = int(after.get("slabs_moved", 0)) - int(before.get("slabs_moved", 0))
        with m.lock:
            flushed = any(f.send < s1 and f.done > s0 for f in m.flushes)
            m.pinned["probes"] += 1
            for c, got in results:
                if got is not None:
                    if got != data:
                        r = check_value(key, got, None)
                        m.failures.append((now(), "pinned %r read by %s connection returned %r, "
                                           "not the value just stored" % (key, c, r)))
                    else:
                        m.pinned["hits"] += 1
                elif flushed:
                    m.pinned["miss_flush"] += 1
                elif ev > 0:
                    m.pinned["miss_eviction"] += 1
                elif mv > 0:
                    m.pinned["miss_page_move"] += 1
                else:
                    m.pinned["false_miss"] += 1
                    m.failures.append((now(), "false miss: pinned %r read by the %s connection right "
                                       "after STORED while evictions and slabs_moved stood still" %
                                       (key, c)))

    # -- abusers (each loops until the end; every failure is expected and ignored)

    def abuser_loop(self, fn, pause):
        while not self.stop.is_set():
            if not self.server.serving.wait(0.2) or not self.quiet.wait(0.2):
                continue
            try:
                fn()
            except (OSError, Down):
                pass
            self.stop.wait(pause)

    def raw(self, timeout=2.0):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout)
        return s

    def rst_close(self, s):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        s.close()

    def abuse_multiget_noread(self):
        """get lines of thousands of the model's own keys, never read; held 5-15 s."""
        s = self.raw()
        n = random.choice((3000, 3000, 30000))
        keys = [random.choice(self.pin_keys) for _ in range(n)] + \
            [random.choice(self.all_keys) for _ in range(n // 15)]
        random.shuffle(keys)
        line = b"get " + b" ".join(keys) + b"\r\n"
        self.model.count("abuse: non-reading multi-gets")
        hold = now() + random.uniform(5, 15)
        s.settimeout(0.5)
        while now() < hold and not self.stop.is_set():
            try:
                s.send(line)
            except socket.timeout:
                time.sleep(0.5)
        self.rst_close(s) if random.random() < 0.5 else s.close()

    def abuse_halfset(self):
        """A 1,000,000-byte set with a few bytes sent, then idle for 3-10 s."""
        s = self.raw()
        s.sendall(b"set half:%d 0 0 1000000\r\n%s" % (random.randint(0, 99), b"z" * random.randint(1, 2000)))
        self.model.count("abuse: half-sent values")
        self.stop.wait(random.uniform(3, 10))
        s.close()

    def abuse_garbage(self):
        s = self.raw(1.0)
        blob = bytes(random.getrandbits(8) for _ in range(random.randint(1, 4096)))
        if random.random() < 0.5:
            blob = blob.replace(b"\n", b"\r\n")
        s.sendall(blob)
        self.model.count("abuse: garbage")
        try:
            s.recv(65536)
        except OSError:
            pass
        s.close()

    def abuse_http(self):
        s = self.raw(1.0)
        s.sendall(random.choice((b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
                                 b"POST /set HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
                                 b"OPTIONS * HTTP/1.1\r\n\r\n")))
        self.model.count("abuse: http")
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass
        s.close()

    def abuse_endless(self):
        """A line that never ends: 'get aaaa...' or junk, up to 4 MB or until the server closes."""
        s = self.raw(2.0)
        head = random.choice((b"get ", b"set ", b""))
        s.sendall(head)
        chunk = b"a" * 65536
        self.model.count("abuse: endless lines")
        for _ in range(64):
            if self.stop.is_set():
                break
            s.sendall(chunk)
        s.close()

    def abuse_churn(self):
        """100 connects and disconnects, some vanishing mid-request, some with a reset."""
        for i in range(100):
            if self.stop.is_set() or not self.quiet.is_set():
                return
            s = self.raw(1.0)
            r = random.random()
            if r < 0.3:
                s.sendall(random.choice((b"get pin:0 x0:1", b"set v 0 0 100\r\n" + b"q" * 50,
                                         b"mg pin:1 v", b"gets x0:0 x0:1\r\n", b"stats\r\n")))
            if r < 0.6:
                self.rst_close(s)
            else:
                s.close()
            self.model.count("abuse: connects")

    # -- operations

    def sample(self, conn):
        """One stats sample into the current generation; RSS too."""
        t0 = now()
        st = parse_stats(conn)
        t1 = now()
        g = self.server.gen
        with self.model.lock:
            g.add_sample(t0, t1, st)
        return st

    def judging(self):
        """Judge reads as they settle, so a long run keeps only the last seconds of them."""
        while not self.stop.wait(5.0):
            self.judge.take(now() - 15.0)

    def monitor(self):
        srv = self.server
        conn = None
        while not self.stop.is_set():
            if not srv.serving.is_set():
                if conn:
                    conn.close()
                    conn = None
                srv.serving.wait(0.1)
                continue
            if srv.proc.poll() is not None:
                self.crashed = True
                self.stop.wait(0.1)
                continue
            kb = srv.read_rss()
            srv.rss_samples += 1
            srv.max_rss_kb = max(srv.max_rss_kb, kb)
            try:
                if conn is None:
                    conn = Conn(srv.port, 10)
                self.sample(conn)
            except Down:
                if conn:
                    conn.close()
                conn = None
            self.stop.wait(0.25)
        if conn:
            conn.close()

    def op_conn(self, timeout=30):
        return Conn(self.server.port, timeout)

    def do_snapshot(self):
        m = self.model
        c = self.op_conn()
        try:
            ss = now()
            c.send(b"snapshot\r\n")
            ln = c.line()
            se = now()
            if ln.startswith(b"SNAPSHOT "):
                snap = Snapshot(self.server.gen, ss, se, int(ln.split()[1]), self.server.ident())
                with m.lock:
                    m.snapshots.append(snap)
                m.count("snapshots")
            else:
                m.count("snapshot answered " + ln.decode(errors="replace"))
            self.sample(c)
        finally:
            c.close()

    def do_flush(self):
        m = self.model
        f = Flush()
        f.acked = False
        f.done = INF
        c = self.op_conn()
        try:
            with m.lock:
                f.send = now()
                m.flushes.append(f)
            c.send(b"flush_all\r\n")
            ln = c.line()
            f.done = now()
            f.acked = ln == b"OK"
            if not f.acked:
                m.fail("flush_all answered %r" % ln)
            m.count("flush_all")
        finally:
            c.close()

    def reload_sweep(self, tag):
        """Read every model key once (after a restart, and at the end)."""
        c = self.connect()
        if c is None:
            return
        try:
            for i in range(0, len(self.all_keys), 20):
                if not self.read_keys(c, self.all_keys[i:i + 20], tag, "get"):
                    break
            # A sample after the sweep, so every read in it has one after its reply (at the end the
            # monitor has stopped, and a stop by SIGTERM leaves no later one).
            self.sample(c)
        except Down:
            pass
        finally:
            c.close()

    def restart(self, kind):
        m = self.model
        srv = self.server
        if kind == "term":
            # Writers and abusers hold, so that nothing is stored (nothing can evict) between the
            # last stats sample and the final save; non-reading and half-sent clients stay open.
            self.write_gate.clear()
            self.quiet.clear()
            deadline = now() + 15
            while self.writers_busy and now() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)
            try:
                c = self.op_conn()
                self.sample(c)
                c.close()
            except Down:
                pass
        t_stop = now()
        srv.stop(kind)
        self.write_gate.set()
        self.quiet.set()
        stop_s = now() - t_stop
        m.count("restarts (%s)" % kind)
        with m.lock:
            m.counts.setdefault("stop_seconds_max", 0)
            m.counts["stop_seconds_max"] = max(m.counts["stop_seconds_max"], round(stop_s, 2))
        srv.start()
        self.reload_sweep("reload")

    def operations(self):
        o = self.opts
        plan = []   # (time, what)
        t = self.t_begin
        nxt = {"snapshot": o.snapshot_every, "flush": o.flush_every, "hup": 7.0,
               "restart": o.restart_every}
        kinds = ["term", "kill9"]
        end = self.t_begin + o.seconds
        while not self.stop.is_set():
            rel = now() - self.t_begin
            if now() >= end:
                break
            if self.server.proc.poll() is not None and self.server.serving.is_set():
                self.server.died()
                self.server.start()
                self.reload_sweep("reload")
                continue
            due = min(nxt, key=nxt.get)
            if nxt[due] > rel:
                self.stop.wait(min(0.1, nxt[due] - rel))
                continue
            try:
                if due == "snapshot":
                    self.do_snapshot()
                    nxt[due] = rel + o.snapshot_every
                elif due == "flush":
                    self.do_flush()
                    nxt[due] = rel + o.flush_every
                elif due == "hup":
                    if o.no_sighup:
                        nxt[due] = INF
                        continue
                    os.kill(self.server.proc.pid, signal.SIGHUP)
                    self.model.count("SIGHUP sent")
                    nxt[due] = rel + 11.0
                elif due == "restart":
                    if now() + 8 < end:
                        self.restart(kinds[0])
                        kinds.reverse()
                    nxt[due] = rel + o.restart_every
            except Down as e:
                self.model.count("operation cut: %s" % due)
                nxt[due] = rel + 1.0
        self.stop.set()

    # -- the run

    def run(self):
        o = self.opts
        self.crashed = False
        self.server.start()
        threads = []

        def guarded(fn, *a):
            try:
                fn(*a)
            except Exception as e:
                self.model.fail("soak thread %s crashed: %r (a bug of the soak)" % (fn.__name__, e))
                raise

        def spawn(fn, *a):
            t = threading.Thread(target=guarded, args=(fn,) + a, daemon=True,
                                 name=getattr(fn, "__name__", "client"))
            t.start()
            threads.append(t)

        for w in range(o.writers):
            spawn(self.writer, w, self.excl_keys[w])
        for w in range(o.shared_writers):
            spawn(self.writer, 100 + w, self.shared_keys)
        for r in range(o.readers):
            spawn(self.reader, r)
        spawn(self.pinned_probe)
        spawn(self.monitor)
        spawn(self.judging)
        if not o.no_abuse:
            for _ in range(4):
                spawn(self.abuser_loop, self.abuse_multiget_noread, 0.1)
            for _ in range(6):
                spawn(self.abuser_loop, self.abuse_halfset, 0.2)
            spawn(self.abuser_loop, self.abuse_garbage, 0.05)
            spawn(self.abuser_loop, self.abuse_http, 0.1)
            spawn(self.abuser_loop, self.abuse_endless, 0.5)
            spawn(self.abuser_loop, self.abuse_churn, 0.2)
        self.operations()
        for t in threads:
            t.join(15)
        stuck = [t for t in threads if t.is_alive()]
        if stuck:
            self.model.fail("%d client threads still busy 15 s after the end (%s)" % (
                len(stuck), ", ".join(sorted(t.name for t in stuck))))
        if self.server.proc.poll() is None:
            self.server.serving.set()
            self.stop.clear()
            self.reload_sweep("final")
            self.stop.set()
            self.server.stop("term")
        else:
            self.server.died()


# ---------------------------------------------------------------------------------------------
# Judging the timeline


class Judge:
    def __init__(self, model, detail=0):
        self.m = model
        self.detail = detail
        self.gens = model.gens
        self.chains = {}
        self.sends = {}
        self.res = {"checked": 0, "values": 0, "misses": {}, "unexplained": 0, "bad": 0,
                    "reload_back": 0, "reload_missing": 0}
        self.fails = []

    def refresh(self):
        with self.m.lock:
            self.gen_starts = [g.start for g in self.gens]
            self.flushes = sorted(self.m.flushes, key=lambda f: f.send)

    def take(self, settled):
        """Judge the reads answered before `settled` (when every write sent before them has its
        answer: no model request waits longer than the 10 s socket timeout), dropping them."""
        with self.m.lock:
            reads = self.m.reads
            batch = [r for r in reads if r[2] < settled]
            self.m.reads = [r for r in reads if r[2] >= settled]
        self.refresh()
        self.judge(batch)

    def gen_at(self, t):
        i = bisect.bisect_right(self.gen_starts, t) - 1
        return self.gens[i]

    def chain(self, g):
        """[(gen, definite_until, possible_until)] from g back through the snapshots it descends from;
        the first entry's bounds are filled in per read."""
        if g.idx in self.chains:
            return self.chains[g.idx]
        out = [(g, None, None)]
        snap = g.loaded
        seen = set()
        while snap is not None and snap.gen is not None and snap.gen.idx not in seen:
            seen.add(snap.gen.idx)
            out.append((snap.gen, snap.ss, snap.se))
            snap = snap.gen.loaded
        self.chains[g.idx] = out
        return out

    def lineage(self, g, t0, t1):
        c = self.chain(g)
        return [(g, t0, t1)] + c[1:]

    @staticmethod
    def definite(lin, t, gen=None):
        """Whether an event answered at t (by generation gen, when known) is in the lineage before
        its limit. The generation matters: a reply's time is taken when its thread next runs, which
        can be after that server was killed and the next one started."""
        for g, dlim, _ in lin:
            if (gen is None or g is gen) and g.start < t < dlim:
                return True
        return False

    @staticmethod
    def possible(lin, t):
        for g, _, plim in lin:
            if g.start < t < plim:
                return True
        return False

    def judge_value(self, key, t0, t1, r, lin):
        w = self.m.by_id.get((key,) + r)
        if w is None:
            return "value writer %d seq %d of %r was never sent" % (r[0], r[1], key)
        if w.send >= t1:
            return "value writer %d seq %d of %r read before it was sent" % (r[0], r[1], key)
        if not self.possible(lin, w.send):
            return ("value writer %d seq %d of %r came back though no snapshot in this server's "
                    "lineage was taken after it was sent" % (r[0], r[1], key))
        ws = self.m.writes[key]
        sends = self.sends.get(key)
        if sends is None or len(sends) != len(ws):
            sends = self.sends[key] = [x.send for x in ws]
        i = bisect.bisect_right(sends, w.done) if w.done != INF else len(ws)
        for x in ws[i:]:
            if x.send >= t0:
                break
            if (x.acked or x.refused) and self.definite(lin, x.done, x.gen):
                return ("stale value of %r: writer %d seq %d read, but writer %d seq %d was sent after "
                        "it finished and %s by server %s before the read (read from server %d)" % (
                            key, r[0], r[1], x.wid, x.seq,
                            "acknowledged" if x.acked else "refused (which deletes the old value)",
                            x.gen.idx if x.gen is not None else "?", lin[0][0].idx))
        for f in self.flushes:
            if f.send >= t0:
                break
            if f.acked and f.send > w.done and self.definite(lin, f.done):
                return ("%r: writer %d seq %d read after a flush_all that started after it was "
                        "acknowledged" % (key, r[0], r[1]))
        return None

    def explain_miss(self, key, t0, t1, lin):
        ws = self.m.writes.get(key, [])
        last = None
        any_acked = False
        for x in reversed(ws):
            if x.send >= t0 or not x.acked or x.done >= t0:
                continue
            any_acked = True
            if self.definite(lin, x.done, x.gen):
                last = x
                break
        if last is None:
            return "lost by a restart" if any_acked else "never written"
        w = last
        if w.exptime and t1 >= w.send + w.exptime - 1.0:
            return "expiry"
        for f in self.flushes:
            if f.send >= t1:
                break
            if f.done > w.send and self.possible(lin, f.send):
                return "flush_all"
        for x in ws:
            # A refused set deletes the old value when it is refused, which may be long after it was
            # sent (a value the receiving budget cannot take waits up to 5 s).
            if x.refused and x.done > w.send and x.send < t1 and self.possible(lin, x.send):
                return "store refused (SERVER_ERROR)"
        wg = self.gen_at(w.send)
        ev = mv = 0
        for g, _, plim in lin:
            if g.idx < wg.idx:
                continue
            if g.idx > wg.idx and g.left_out > 0:
                return "snapshot load left records out"
            lo = w.send if g is wg else g.start
            e, p = g.counters_between(lo, plim)
            ev += e
            mv += p
        if ev > 0:
            return "eviction"
        if mv > 0:
            return "slab page move"
        return None

    def describe(self, key, t0, t1, g):
        """The timeline around one read, for --detail."""
        base = self.gens[0].start

        def at(t):
            return "%.4f" % (t - base) if t != INF else "never"

        lin = self.lineage(g, t0, t1)
        out = ["    timeline of %r, read [%s, %s] in generation %d:" % (key, at(t0), at(t1), g.idx)]
        for gg, dl, pl in lin:
            out.append("      lineage: generation %d from %s, definite until %s, possible until %s, "
                       "loaded %d items, left out %d" % (gg.idx, at(gg.start), at(dl), at(pl),
                                                         gg.loaded_items, gg.left_out))
        ws = self.m.writes.get(key, [])
        last = [x for x in ws if x.send < t0][-6:]
        for x in last + [x for x in ws if t0 <= x.send < t1 + 0.2]:
            out.append("      write w%d s%d sent %s done %s %s exptime %d%s" % (
                x.wid, x.seq, at(x.send), at(x.done),
                "acked" if x.acked else "refused" if x.refused else "unanswered", x.exptime,
                ", definite" if x.acked and self.definite(lin, x.done, x.gen) else ""))
        lo = last[0].send if last else t0
        for f in self.flushes:
            if lo - 1 < f.send < t1 + 0.5:
                out.append("      flush_all sent %s done %s" % (at(f.send), at(f.done)))
        for gg, dl, pl in lin:
            sm = [x for x in gg.samples if lo - 0.5 < x[0] < pl + 0.5]
            for x in sm[:3] + (["..."] if len(sm) > 6 else []) + sm[max(3, len(sm) - 3):]:
                out.append("      gen %d stats %s" % (gg.idx, x if x == "..." else
                           "at %s-%s: evictions %d slabs_moved %d" % (at(x[0]), at(x[1]), x[2], x[3])))
        return "\n".join(out)

    def judge(self, reads):
        res = self.res
        fails = self.fails
        for key, t0, t1, r, tag in reads:
            g = self.gen_at(t0)
            if not (g.up <= t0 and t1 <= g.end):
                continue
            lin = self.lineage(g, t0, t1)
            res["checked"] += 1
            if r is not None:
                res["values"] += 1
                why = self.judge_value(key, t0, t1, r, lin)
                if why:
                    res["bad"] += 1
                    fails.append("%s read at %.1f s: %s" % (tag, t0 - self.gens[0].start, why))
                if tag == "reload":
                    res["reload_back"] += 1
                continue
            why = self.explain_miss(key, t0, t1, lin)
            if why is None:
                res["unexplained"] += 1
                fails.append("%s read at %.1f s: miss of %r that nothing explains (a definite write, "
                             "no flush, expiry, refusal, load left-out, eviction or page move since)"
                             % (tag, t0 - self.gens[0].start, key))
                if tag == "reload":
                    res["reload_missing"] += 1
                if res["unexplained"] <= self.detail:
                    fails.append(self.describe(key, t0, t1, g))
                why = "UNEXPLAINED"
            res["misses"][why] = res["misses"].get(why, 0) + 1


def percentile(sorted_xs, p):
    if not sorted_xs:
        return 0.0
    return sorted_xs[min(len(sorted_xs) - 1, int(p / 100.0 * len(sorted_xs)))]


def report(soak, elapsed):
    m = soak.model
    o = soak.opts
    judge = soak.judge
    judge.take(INF)
    res, fails = judge.res, judge.fails
    failures = [t for _, t in m.failures]
    # Latency: only requests that ran while the server was up (between up and the stop signal).
    lat = []
    slow = []
    by_op = {}
    names = {0: "set", 1: "read", 2: "large set"}
    for t0, t1, op in zip(m.lat_t0, m.lat_t1, m.lat_op):
        g = judge.gen_at(t0)
        if not (g.up <= t0 and t1 <= g.sig):
            continue
        lat.append(t1 - t0)
        by_op.setdefault(names[op], []).append(t1 - t0)
        bound = o.max_latency_large if op == 2 else o.max_latency
        if t1 - t0 > bound:
            slow.append((t1 - t0, names[op], t0 - m.gens[0].start, bound))
    lat.sort()
    for d, op, at, bound in sorted(slow, reverse=True)[:10]:
        failures.append("%s took %.2f s at %.1f s while the server was up (bound %.1f s)" % (
            op, d, at, bound))
    if len(slow) > 10:
        failures.append("... %d more requests over their bound" % (len(slow) - 10))
    rss_mb = soak.server.max_rss_kb / 1024.0
    if rss_mb > o.rss_limit_mb:
        failures.append("server RSS reached %.1f MiB, over the bound of %d MiB (-m %d + %d)" % (
            rss_mb, o.rss_limit_mb, o.memory, o.rss_limit_mb - o.memory))
    failures += fails
    c = m.counts
    restarts = {k: v for k, v in c.items() if k.startswith("restarts")}
    abuse = {k[7:]: v for k, v in sorted(c.items()) if k.startswith("abuse: ")}
    other = {k: v for k, v in sorted(c.items())
             if not k.startswith(("restarts", "abuse: ", "writes_"))}
    print("cairn soak: %s, %.0f s, -m %d, -t %d, %d generations" % (
        o.bin, elapsed, o.memory, o.threads, len(m.gens)))
    print("  model requests   %d (sets %d acknowledged, %d refused, %d unanswered)" % (
        len(m.lat_t0), c.get("writes_acked", 0), c.get("writes_refused", 0),
        c.get("writes_unanswered", 0)))
    print("  reads checked    %d (%d values verified, %d wrong)" % (
        res["checked"], res["values"], res["bad"]))
    print("  misses           %s" % (", ".join("%s %d" % kv for kv in sorted(
        res["misses"].items(), key=lambda kv: -kv[1])) or "none"))
    print("  after restarts   %d keys back; %d missing that a snapshot should have kept" % (
        res["reload_back"], res["reload_missing"]))
    p = m.pinned
    print("  pinned probes    %d: %d reads hit, misses: %d during evictions, %d during page moves, "
          "%d after flush_all, %d FALSE; %d small sets refused; %d probes cut by restarts" % (
              p["probes"], p["hits"], p["miss_eviction"], p["miss_page_move"], p["miss_flush"],
              p["false_miss"], p["refused"], p["skipped"]))
    print("  latency          p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.1f ms over %d requests "
          "(bound %.1f s; %.1f s for a set of a value over 16 KiB)" % (
              percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3, percentile(lat, 99.9) * 1e3,
              (lat[-1] if lat else 0) * 1e3, len(lat), o.max_latency, o.max_latency_large))
    for op, xs in sorted(by_op.items()):
        xs.sort()
        print("    %-9s     p50 %.2f ms, p99 %.2f ms, max %.1f ms over %d" % (
            op, percentile(xs, 50) * 1e3, percentile(xs, 99) * 1e3, xs[-1] * 1e3, len(xs)))
    print("  max RSS          %.1f MiB (bound %d MiB; %d samples and VmHWM before each stop)" % (
        rss_mb, o.rss_limit_mb, soak.server.rss_samples))
    print("  restarts         %s" % (", ".join("%s %d" % (k[10:-1], v) for k, v in restarts.items())
                                     or "none"))
    print("  operations       %s" % ", ".join("%s %s" % kv for kv in other.items()))
    print("  abuse            %s" % ", ".join("%s %d" % kv for kv in abuse.items()))
    print("  server log       %s" % soak.server.log_path)
    if failures:
        print("FAIL: %d problems" % len(failures))
        seen = {}
        for f in failures:
            head = re.sub(r"b'[^']*'|[0-9.]+", "#", f)[:70]
            seen[head] = seen.get(head, 0) + 1
            if seen[head] <= 3:
                print("  - " + f)
        dup = sum(v - 3 for v in seen.values() if v > 3)
        if dup:
            print("  (%d more of the kinds above)" % dup)
        return 1
    print("PASS")
    return 0


def main():
    ap = argparse.ArgumentParser(description="chaos soak of the cairn server (see the file's header)")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--bin", default=os.environ.get("CAIRN_BIN") or "./cairn")
    ap.add_argument("--memory", "-m", type=int, default=8, help="server -m (MiB)")
    ap.add_argument("--threads", type=int, default=4, help="server -t")
    ap.add_argument("--conns", type=int, default=1024, help="server -c")
    ap.add_argument("--rss-limit-mb", type=int, default=None,
                    help="bound on the server's RSS (default: -m + 64)")
    ap.add_argument("--max-latency-large", type=float, default=6.5,
                    help="bound for a set of a value over 16 KiB, which may wait for the receiving "
                         "budget (doc/architecture.md: offered again each second, refused after 5 s)")
    ap.add_argument("--max-latency", type=float, default=2.0,
                    help="longest a model request may wait while the server is up (s)")
    ap.add_argument("--writers", type=int, default=3, help="writers with keys of their own")
    ap.add_argument("--shared-writers", type=int, default=2, help="writers sharing one key set")
    ap.add_argument("--readers", type=int, default=3)
    ap.add_argument("--keys", type=int, default=40, help="keys per writer")
    ap.add_argument("--snapshot-every", type=float, default=6.0)
    ap.add_argument("--flush-every", type=float, default=23.0)
    ap.add_argument("--restart-every", type=float, default=17.0,
                    help="seconds between restarts, alternately SIGTERM and SIGKILL")
    ap.add_argument("--stop-wait", type=int, default=20, help="seconds SIGTERM may take")
    ap.add_argument("--no-sighup", action="store_true",
                    help="send no SIGHUP (to look past a server that dies of it)")
    ap.add_argument("--no-abuse", action="store_true", help="model clients and operations only")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--detail", type=int, default=3,
                    help="print the timeline around this many unexplained misses")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (log, snapshot)")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra server argument (repeat)")
    o = ap.parse_args()
    if o.rss_limit_mb is None:
        o.rss_limit_mb = o.memory + 64
    if not os.access(o.bin, os.X_OK):
        print("no server binary at %s (set CAIRN_BIN or --bin)" % o.bin, file=sys.stderr)
        return 2
    o.bin = os.path.abspath(o.bin)
    seed = o.seed if o.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    print("seed %d" % seed)
    soak = Soak(o)
    t = now()
    try:
        soak.run()
    except SystemExit as e:
        soak.stop.set()
        if soak.server.proc and soak.server.proc.poll() is None:
            soak.server.proc.kill()
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    rc = report(soak, now() - t)
    if not o.keep and rc == 0:
        import shutil
        shutil.rmtree(soak.workdir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
