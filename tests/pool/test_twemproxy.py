#!/usr/bin/python3
"""A pool of three cairn nodes behind nutcracker (twemproxy), in memcache or redis mode.

    test_twemproxy.py memcache    memcached text protocol, `hash: md5`
    test_twemproxy.py redis       RESP through redis-py, `hash: fnv1a_64`

The proxy runs with ketama distribution, auto_eject_hosts, server_failure_limit 1 and a 2 s
server_retry_timeout, and names its servers node0..node2 so that the continuum does not depend on the
random ports. The test computes twemproxy's ketama placement itself (pool.py) and checks:
  - every key set through the proxy is on exactly one node, the one ketama predicts, and the spread
    over the nodes is within bounds; the same key reads back through the proxy (single and
    multi-key gets);
  - a node that saved a snapshot is killed (SIGKILL): the proxy ejects it, every key of the other
    nodes keeps hitting, the dead node's keys miss or fail (never a wrong value), and new keys that
    ketama gave to the dead node land on the live node that the two-node continuum predicts;
  - the node restarted from its snapshot holds its keys again, and after the retry timeout the proxy
    routes to it: its keys hit through the proxy with their values (warm), and the keys written
    elsewhere during the outage route back to it (and miss there).
Every node and the proxy run on free loopback ports and are stopped by PID at the end. Prints one
line per failure, then exactly "N passed, N failed"; exits non-zero when anything failed.
"""
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pool  # noqa: E402

N_KEYS = 300
RETRY_MS = 2000
DEADLINE = 30.0  # seconds for the proxy to eject or take back a node (it takes ~RETRY_MS)

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)
    return cond


class Miss(Exception):
    pass


class ProxyError(Exception):
    """The proxy (or the node) answered an error instead of a value or a miss."""


class McClient:
    """A memcached text-protocol client on one connection, reconnected after an error."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.buf = b""

    def _conn(self):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            self.buf = b""
        return self.sock

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProxyError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProxyError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _call(self, fn):
        try:
            return fn(self._conn())
        except ProxyError:
            self.close()
            raise
        except OSError as e:
            self.close()
            raise ProxyError(str(e))

    def set(self, key, value):
        def run(s):
            s.sendall(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(value), value))
            line = self._line()
            if line != b"STORED":
                raise ProxyError(line.decode(errors="replace"))
        self._call(run)

    def get_multi(self, keys):
        def run(s):
            s.sendall(b"get " + b" ".join(keys) + b"\r\n")
            found = {}
            while True:
                line = self._line()
                if line == b"END":
                    return found
                parts = line.split()
                if len(parts) != 4 or parts[0] != b"VALUE":
                    raise ProxyError(line.decode(errors="replace"))
                found[parts[1]] = self._bytes(int(parts[3]))
        return self._call(run)

    def get(self, key):
        return self.get_multi([key]).get(key)

    def snapshot(self):
        def run(s):
            s.sendall(b"snapshot\r\n")
            return self._line()
        return self._call(run)


class RespClient:
    """redis-py on one port; errors from the proxy become ProxyError."""

    def __init__(self, port):
        import redis
        self.redis = redis
        self.r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, socket_connect_timeout=5)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except self.redis.exceptions.RedisError as e:
            raise ProxyError(str(e))

    def set(self, key, value):
        if self._call(self.r.set, key, value) is not True:
            raise ProxyError("SET did not answer OK")

    def get(self, key):
        return self._call(self.r.get, key)

    def get_multi(self, keys):
        values = self._call(self.r.mget, keys)
        return {k: v for k, v in zip(keys, values) if v is not None}

    def snapshot(self):
        return self._call(self.r.save)

    def close(self):
        self.r.close()


def try_get(client, key):
    """The value, None for a miss, or "error" when the proxy answered an error."""
    try:
        return client.get(key)
    except ProxyError:
        return "error"


def wait_until(cond, seconds=DEADLINE):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def holders(node_clients, key):
    return [i for i, c in enumerate(node_clients) if try_get(c, key) not in (None, "error")]


def run(mode, tmpdir):
    names = ["node0", "node1", "node2"]
    redis_mode = mode == "redis"
    hash_name, hash_fn = ("fnv1a_64", pool.hash_fnv1a_64) if redis_mode else ("md5", pool.hash_md5)
    client_cls = RespClient if redis_mode else McClient
    procs = []
    try:
        nodes = [pool.Node("cairn", n, tmpdir) for n in names]
        for n in nodes:
            n.start()
            procs.append(n)
        proxy = pool.Nutcracker(tmpdir, [(n.name, n.addr()) for n in nodes], redis=redis_mode,
                                hash_name=hash_name, retry_ms=RETRY_MS)
        proxy.start()
        procs.append(proxy)
        scenario(names, nodes, proxy, hash_fn, client_cls)
    finally:
        for p in reversed(procs):
            p.stop()


def scenario(names, nodes, proxy, hash_fn, client_cls):
    rnd = random.Random(20261204)
    keys = [b"user:%08x" % rnd.getrandbits(32) for _ in range(N_KEYS)]
    value = {k: b"v-" + k + b"-%d" % i for i, k in enumerate(keys)}
    where = pool.placement(names, keys, hash_fn)
    px = client_cls(proxy.port)
    direct = [client_cls(n.port) for n in nodes]

    # All nodes up: placement, spread, reads through the proxy.
    stored = 0
    for k in keys:
        try:
            px.set(k, value[k])
            stored += 1
        except ProxyError as e:
            print("set %s: %s" % (k, e))
    check(stored == N_KEYS, "all %d sets through the proxy stored (%d)" % (N_KEYS, stored))
    found = {k: holders(direct, k) for k in keys}
    check(all(len(h) == 1 for h in found.values()),
          "every key on exactly one node (%d are not)" % sum(len(h) != 1 for h in found.values()))
    wrong = [k for k in keys if found[k] != [where[k]]]
    check(not wrong, "every key on the node ketama predicts (%d are not, e.g. %s on %s, predicted %s)"
          % (len(wrong), wrong[:1], found[wrong[0]] if wrong else "", where[wrong[0]] if wrong else ""))
    spread = [sum(1 for k in keys if where[k] == i) for i in range(3)]
    check(all(N_KEYS // 6 <= s <= N_KEYS // 2 for s in spread),
          "spread within N/6..N/2 per node: %s" % spread)
    print("spread over the nodes: %s" % spread)
    check(all(try_get(px, k) == value[k] for k in keys), "every key reads back through the proxy")
    check(all(try_get(px, k) == value[k] for k in keys), "and again (same key, same node)")
    batch = keys[:40]
    try:
        got = px.get_multi(batch)
    except ProxyError as e:
        got = {"error": str(e)}
    check(got == {k: value[k] for k in batch}, "a 40-key multi-get across the nodes through the proxy")

    # Snapshot the node with the most keys, then SIGKILL it.
    victim = max(range(3), key=lambda i: spread[i])
    vkeys = [k for k in keys if where[k] == victim]
    live_keys = [k for k in keys if where[k] != victim]
    try:
        reply = direct[victim].snapshot()
    except ProxyError as e:
        reply = str(e)
    check(reply in (True, b"OK") or (isinstance(reply, bytes) and reply.startswith(b"SNAPSHOT %d "
                                                                                  % len(vkeys))),
          "the victim saved its %d keys: %r" % (len(vkeys), reply))
    direct[victim].close()
    nodes[victim].kill()

    # The proxy ejects it: a get of its key answers a miss (not an error) once it is out.
    check(wait_until(lambda: try_get(px, vkeys[0]) is None),
          "the proxy ejects the killed node within %ds" % DEADLINE)
    bad_live = [k for k in live_keys if try_get(px, k) != value[k]]
    check(not bad_live, "every key of the live nodes hits during the outage (%d of %d do not)"
          % (len(bad_live), len(live_keys)))
    wrong_value = [k for k in vkeys if try_get(px, k) not in (None, "error")]
    check(not wrong_value, "the dead node's keys miss or fail, never a value (%d)" % len(wrong_value))

    # New keys that belong to the dead node go to the live node of the two-node continuum.
    live_names = [n for i, n in enumerate(names) if i != victim]
    live_index = [i for i in range(3) if i != victim]
    extra = [b"new:%08x" % rnd.getrandbits(32) for _ in range(600)]
    extra_where = pool.placement(names, extra, hash_fn)
    remap = [k for k in extra if extra_where[k] == victim][:40]
    remap_where = {k: live_index[i] for k, i in pool.placement(live_names, remap, hash_fn).items()}
    unstored = list(remap)

    def set_the_rest():  # a set fails while the proxy is trying the dead node again
        for k in list(unstored):
            try:
                px.set(k, b"r-" + k)
                unstored.remove(k)
            except ProxyError:
                pass
        return not unstored
    wait_until(set_the_rest)
    check(not unstored, "sets of the dead node's new keys stored during the outage (%d not)"
          % len(unstored))
    misplaced = [k for k in remap if holders(direct, k) != [remap_where[k]]]
    check(not misplaced, "they land where the two-node continuum puts them (%d do not)"
          % len(misplaced))
    check(len({remap_where[k] for k in remap}) == 2, "and on both live nodes")

    # Restart the victim from its snapshot: warm, and the proxy takes it back.
    nodes[victim].start()
    direct[victim] = client_cls(nodes[victim].port)
    cold = [k for k in vkeys if try_get(direct[victim], k) != value[k]]
    check(not cold, "the restarted node loaded its keys from the snapshot (%d of %d missing)"
          % (len(cold), len(vkeys)))
    check(wait_until(lambda: try_get(px, vkeys[0]) == value[vkeys[0]]),
          "the proxy routes to the restarted node again within %ds" % DEADLINE)
    bad_back = [k for k in vkeys if try_get(px, k) != value[k]]
    check(not bad_back, "every key of the restarted node hits through the proxy (%d of %d do not)"
          % (len(bad_back), len(vkeys)))
    bad_live = [k for k in live_keys if try_get(px, k) != value[k]]
    check(not bad_live, "and the other nodes' keys still hit (%d do not)" % len(bad_live))
    back = [k for k in remap if try_get(px, k) is not None]
    check(not back, "keys written elsewhere during the outage route back to it (miss): %d hit"
          % len(back))
    px.close()
    for c in direct:
        c.close()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "memcache"
    if mode not in ("memcache", "redis"):
        raise SystemExit("usage: test_twemproxy.py memcache|redis")
    # timeout(1) stops the test with SIGTERM: exit through the finally blocks that stop the nodes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    tmpdir = tempfile.mkdtemp(prefix="cairn-pool-")
    try:
        run(mode, tmpdir)
    except Exception as e:  # a crash is a failure, with what is known so far
        import traceback
        traceback.print_exc()
        check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        if failed:
            print("logs kept in " + tmpdir)
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
