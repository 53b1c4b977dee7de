"""Shared pieces of the pool tests and benchmarks/pool-compare: nodes (cairn, memcached,
redis-server) and nutcracker (twemproxy) on free loopback ports, and the ketama placement that
twemproxy and libmemcached compute, written out here so that the tests can predict which node holds
each key.

Every process is started with a bounded wait for its port and stopped by its PID (SIGTERM, then
SIGKILL, or SIGKILL at once for Node.kill); the tests stop everything they started in `finally`.
"""
import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import time

NUTCRACKER = shutil.which("nutcracker") or "/usr/sbin/nutcracker"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, seconds=10):
    """True once 127.0.0.1:port accepts a connection; False if proc exits or time runs out."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def stop_proc(proc, sig=signal.SIGTERM, wait=10):
    """Signals proc by its PID and reaps it (SIGKILL when it outlives `wait`); its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


class Node:
    """One cache server on a free loopback port: kind is "cairn", "memcached" or "redis".

    A cairn node keeps its snapshot at <tmpdir>/<name>.snap, so that restart() brings it back warm.
    """

    def __init__(self, kind, name, tmpdir, threads=2, port=None):
        self.kind, self.name, self.tmpdir, self.threads = kind, name, tmpdir, threads
        self.port = port
        self.proc = None
        self.snapshot = os.path.join(tmpdir, name + ".snap")

    def args(self):
        if self.kind == "cairn":
            binary = os.environ.get("CAIRN_BIN")
            if not binary:
                raise SystemExit("CAIRN_BIN is not set (run through make check)")
            args = [binary, "-p", str(self.port), "-l", "127.0.0.1", "-t", str(self.threads),
                    "-m", "64", "--snapshot-path", self.snapshot]
        elif self.kind == "memcached":
            args = [os.environ.get("MEMCACHED_BIN") or "/usr/bin/memcached", "-p", str(self.port),
                    "-l", "127.0.0.1", "-U", "0", "-t", str(self.threads), "-m", "64"]
        else:
            return [os.environ.get("REDIS_BIN") or "/usr/bin/redis-server", "--port", str(self.port),
                    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", self.tmpdir, "--logfile", os.path.join(self.tmpdir, self.name + ".log")]
        if os.geteuid() == 0:
            args += ["-u", "root"]
        return args

    def start(self):
        """Starts the node (on a fresh free port the first time, on the same port after)."""
        fresh = self.port is None
        for _ in range(3 if fresh else 1):
            if fresh:
                self.port = free_port()
            log = open(os.path.join(self.tmpdir, self.name + ".out"), "ab")
            self.proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log)
            log.close()
            if wait_port(self.port, self.proc, 20):
                return self
            stop_proc(self.proc, signal.SIGKILL)
        raise SystemExit("%s node %s did not start on port %d" % (self.kind, self.name, self.port))

    def kill(self):
        return stop_proc(self.proc, signal.SIGKILL)

    def stop(self):
        return stop_proc(self.proc)

    def addr(self):
        return "127.0.0.1:%d" % self.port


class Nutcracker:
    """nutcracker with one pool: servers given as (name, "host:port") pairs, each with weight 1 and
    its name, so that the ketama continuum depends on the names alone (not on the random ports); a
    server whose name is None is listed without one (its continuum name is then "host:port")."""

    def __init__(self, tmpdir, servers, redis=False, hash_name="fnv1a_64", retry_ms=2000,
                 extra=None):
        self.tmpdir = tmpdir
        self.port = free_port()
        self.stats_port = free_port()
        self.conf = os.path.join(tmpdir, "nutcracker-%d.yml" % self.port)
        lines = ["pool:",
                 "  listen: 127.0.0.1:%d" % self.port,
                 "  hash: %s" % hash_name,
                 "  distribution: ketama",
                 "  redis: %s" % ("true" if redis else "false"),
                 "  timeout: 2000",
                 "  auto_eject_hosts: true",
                 "  server_retry_timeout: %d" % retry_ms,
                 "  server_failure_limit: 1"]
        lines += ["  " + x for x in (extra or [])]
        lines.append("  servers:")
        lines += ["    - %s:1 %s" % (addr, name) if name else "    - %s:1" % addr
                  for name, addr in servers]
        self.text = "\n".join(lines) + "\n"
        with open(self.conf, "w") as f:
            f.write(self.text)
        self.proc = None

    def start(self):
        log = os.path.join(self.tmpdir, "nutcracker-%d.log" % self.port)
        self.proc = subprocess.Popen(
            [NUTCRACKER, "-c", self.conf, "-o", log, "-s", str(self.stats_port), "-a", "127.0.0.1",
             "-p", os.path.join(self.tmpdir, "nutcracker-%d.pid" % self.port), "-v", "4"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(self.port, self.proc, 20):
            stop_proc(self.proc, signal.SIGKILL)
            raise SystemExit("nutcracker did not start (configuration %s, log %s)" % (self.conf, log))
        return self

    def stop(self):
        return stop_proc(self.proc)


# --- ketama, as twemproxy (nc_ketama.c) and libmemcached's weighted ketama build it ---------------
#
# Each live server gets floor(weight share * 160 / 4 * live servers) * 4 points (160 for equal
# weights): for i in 0..39 the md5 of "<name>-<i>" gives four 32-bit points, its bytes 4k..4k+3 read
# little-endian. The name is the server's configured name, else "host:port" (just "host" on port
# 11211). A key goes to the first point at or above the key's hash, wrapping to the first point.

def _f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def continuum(names, weights=None):
    """The sorted (point, server index) list for the given server names (all live)."""
    weights = weights or [1] * len(names)
    total = sum(weights)
    points = []
    for idx, name in enumerate(names):
        pct = _f32(_f32(weights[idx]) / _f32(total))
        per_server = int(_f32(_f32(_f32(pct * 160) / 4) * len(names)) + 0.0000000001) * 4
        for i in range(per_server // 4):
            digest = hashlib.md5(("%s-%d" % (name, i)).encode()).digest()
            for k in range(4):
                points.append((struct.unpack_from("<I", digest, 4 * k)[0], idx))
    points.sort(key=lambda p: p[0])
    return points


def hash_fnv1a_64(key):
    """twemproxy's fnv1a_64: FNV-1a with the 64-bit constants, computed in 32 bits (as it does)."""
    h = 0xcbf29ce484222325 & 0xffffffff
    for b in key:
        h ^= (b - 256 if b > 127 else b) & 0xffffffff  # a (signed) char widened to 32 bits
        h = (h * (0x100000001b3 & 0xffffffff)) & 0xffffffff
    return h


def hash_md5(key):
    return struct.unpack_from("<I", hashlib.md5(key).digest(), 0)[0]


def dispatch(points, h):
    """The server index of the first point >= h (wrapping), as ketama_dispatch finds it."""
    lo, hi = 0, len(points)
    while lo < hi:
        mid = (lo + hi) // 2
        if points[mid][0] < h:
            lo = mid + 1
        else:
            hi = mid
    return points[lo if lo < len(points) else 0][1]


def placement(names, keys, hash_fn=hash_fnv1a_64):
    """{key: index into names} for keys (bytes) over the live servers `names`."""
    points = continuum(names)
    return {k: dispatch(points, hash_fn(k)) for k in keys}


# --- libmemcached's unweighted ketama (pylibmc's behaviors={"ketama": True}) ------------------------
#
# 100 points per server, one per "<host:port>-<i>" (i from 0; "<host>-<i>" on port 11211), each the
# key hash of that string; the key hash stays libmemcached's default, Bob Jenkins' one-at-a-time.
# Keys are dispatched as above. (With "ketama_weighted": True libmemcached builds twemproxy's
# continuum instead, with md5 keys: placement(["host:port", ...], keys, hash_md5).)

def hash_one_at_a_time(key):
    h = 0
    for b in key:
        h = (h + ((b - 256 if b > 127 else b) & 0xffffffff)) & 0xffffffff
        h = (h + (h << 10)) & 0xffffffff
        h ^= h >> 6
    h = (h + (h << 3)) & 0xffffffff
    h ^= h >> 11
    return (h + (h << 15)) & 0xffffffff


def placement_libmemcached(addrs, keys):
    """{key: index into addrs} under libmemcached's unweighted ketama with its default hash."""
    points = []
    for idx, addr in enumerate(addrs):
        name = addr[:-len(":11211")] if addr.endswith(":11211") else addr
        points += [(hash_one_at_a_time(("%s-%d" % (name, i)).encode()), idx) for i in range(100)]
    points.sort()
    return {k: dispatch(points, hash_one_at_a_time(k)) for k in keys}
