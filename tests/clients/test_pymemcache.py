#!/usr/bin/python3
"""Client-library test: the server driven by pymemcache (Client and HashClient).

Starts its own server(s) on free loopback ports: $CAIRN_BIN, or the reference memcached when
CAIRN_TEST_TARGET=memcached. Prints one line per failure, then exactly "N passed, N failed", and
exits non-zero when anything failed. Every socket operation has a 5 s timeout.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import traceback

from pymemcache.client.base import Client
from pymemcache.client.hash import HashClient
from pymemcache.exceptions import MemcacheClientError, MemcacheServerError

TIMEOUT = 5.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One server process on a free port, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self):
        memcached = os.environ.get("CAIRN_TEST_TARGET") == "memcached"
        if memcached:
            binary = os.environ.get("MEMCACHED_BIN") or "/usr/bin/memcached"
        else:
            binary = os.environ.get("CAIRN_BIN")
            if not binary:
                raise SystemExit("CAIRN_BIN is not set (run through make check)")
        for _ in range(3):
            self.port = free_port()
            args = [binary, "-p", str(self.port), "-l", "127.0.0.1", "-U", "0", "-t", "4", "-m", "64"]
            if os.geteuid() == 0:
                args += ["-u", "root"]
            if memcached:
                args += ["-B", "ascii"]
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            if self._wait_listening():
                return
            self.stop()
        raise SystemExit("server %s did not start" % binary)

    def _wait_listening(self):
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.01)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode


def client(srv):
    return Client(("127.0.0.1", srv.port), connect_timeout=TIMEOUT, timeout=TIMEOUT)


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def set_get(srv):
    c = client(srv)
    assert c.set("k", b"hello") is True
    assert c.get("k") == b"hello"
    assert c.get("nosuch") is None
    assert c.get("nosuch", default=b"d") == b"d"
    c.set("bin", b"a\r\nb\x00c\r\n")
    assert c.get("bin") == b"a\r\nb\x00c\r\n"
    c.set("empty", b"")
    assert c.get("empty") == b""


@test
def flags_roundtrip(srv):
    c = client(srv)
    assert c.set("f", b"v", flags=4294967295, noreply=False) is True
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    raw.sendall(b"get f\r\n")
    data = b""
    while not data.endswith(b"END\r\n"):
        chunk = raw.recv(4096)
        if not chunk:
            break
        data += chunk
    raw.close()
    assert data == b"VALUE f 4294967295 1\r\nv\r\nEND\r\n", data


@test
def get_many(srv):
    c = client(srv)
    c.set_many({"a": b"1", "b": b"22", "c": b"333"})
    got = c.get_many(["a", "b", "missing", "c"])
    assert got == {"a": b"1", "b": b"22", "c": b"333"}, got
    assert c.get_many([]) == {}


@test
def add_replace_append_prepend(srv):
    c = client(srv)
    assert c.add("k", b"mid", noreply=False) is True
    assert c.add("k", b"x", noreply=False) is False
    assert c.replace("nosuch", b"x", noreply=False) is False
    assert c.append("k", b"_end", noreply=False) is True
    assert c.prepend("k", b"start_", noreply=False) is True
    assert c.get("k") == b"start_mid_end"
    assert c.replace("k", b"new", noreply=False) is True
    assert c.get("k") == b"new"
    assert c.append("nosuch", b"x", noreply=False) is False


@test
def noreply_default(srv):
    c = client(srv)
    # pymemcache sends noreply by default for storage commands
    assert c.set("n1", b"v") is True
    assert c.add("n1", b"w") is True  # noreply: the client cannot know
    assert c.get("n1") == b"v"
    c.delete("n1")
    assert c.get("n1") is None


@test
def cas(srv):
    c = client(srv)
    c.set("k", b"v1")
    value, token = c.gets("k")
    assert value == b"v1" and token
    assert c.cas("k", b"v2", int(token) + 12345) is False
    assert c.cas("k", b"v2", token) is True
    assert c.cas("k", b"v3", token) is False
    assert c.cas("nosuch", b"v", token) is None
    assert c.get("k") == b"v2"
    _, token2 = c.gets("k")
    assert token2 != token
    many = c.gets_many(["k", "nosuch"])
    assert list(many.keys()) == ["k"] and many["k"][0] == b"v2"


@test
def incr_decr(srv):
    c = client(srv)
    assert c.incr("n", 1) is None
    c.set("n", b"10")
    assert c.incr("n", 5) == 15
    assert c.decr("n", 20) == 0
    c.set("w", b"18446744073709551615")
    assert c.incr("w", 2) == 1
    c.set("s", b"abc")
    try:
        c.incr("s", 1)
        raise AssertionError("incr of a non-numeric value succeeded")
    except MemcacheClientError:
        pass
    assert c.get("s") == b"abc"


@test
def delete_touch_flush(srv):
    c = client(srv)
    c.set("k", b"v")
    assert c.delete("k", noreply=False) is True
    assert c.delete("k", noreply=False) is False
    c.set("t", b"v")
    assert c.touch("t", 100, noreply=False) is True
    assert c.touch("nosuch", 100, noreply=False) is False
    c.set("f", b"v")
    assert c.flush_all(noreply=False) is True
    assert c.get("f") is None and c.get("t") is None


@test
def touch_expires(srv):
    c = client(srv)
    c.set("t", b"v")
    assert c.touch("t", 1, noreply=False) is True
    assert c.get("t") == b"v"
    time.sleep(2.5)
    assert c.get("t") is None


@test
def expiry(srv):
    c = client(srv)
    c.set("e", b"v", expire=1)
    assert c.get("e") == b"v"
    time.sleep(2.5)
    assert c.get("e") is None


@test
def version_and_stats(srv):
    c = client(srv)
    version = c.version()
    assert version.startswith(b"1.6.18"), version
    stats = c.stats()
    assert stats[b"threads"] == 4, stats.get(b"threads")
    assert stats[b"limit_maxbytes"] == 64 * 1024 * 1024
    before = stats[b"cmd_get"]
    c.get("x")
    assert c.stats()[b"cmd_get"] == before + 1
    settings = c.stats("settings")
    assert settings[b"maxbytes"] == 64 * 1024 * 1024
    c.set("x", b"1")
    assert c.stats("items")


@test
def too_large(srv):
    c = client(srv)
    try:
        c.set("big", b"x" * (2 * 1024 * 1024), noreply=False)
        raise AssertionError("a 2 MiB value was stored")
    except MemcacheServerError as e:
        assert b"object too large for cache" in str(e).encode(), e
    c.set("small", b"ok", noreply=False)
    assert c.get("small") == b"ok"


@test
def long_keys(srv):
    c = client(srv)
    k250 = "k" * 250
    c.set(k250, b"v", noreply=False)
    assert c.get(k250) == b"v"
    try:
        c.set("k" * 251, b"v")
        raise AssertionError("a 251-byte key was accepted by the client")
    except MemcacheClientError:
        pass


@test
def many_values(srv):
    c = client(srv)
    values = {"m%d" % i: (b"%d" % i) * (i % 50 + 1) for i in range(500)}
    assert c.set_many(values, noreply=False) == []
    assert c.get_many(list(values)) == values


def hash_client_test(servers):
    hc = HashClient([("127.0.0.1", s.port) for s in servers], connect_timeout=TIMEOUT,
                    timeout=TIMEOUT, use_pooling=False)
    values = {"h%d" % i: b"v%d" % i for i in range(300)}
    for k, v in values.items():
        assert hc.set(k, v, noreply=False) is True
    for k, v in values.items():
        assert hc.get(k) == v, k
    assert hc.get_many(list(values)) == values
    assert hc.incr("h_counter", 1) is None
    hc.set("h_counter", b"1")
    assert hc.incr("h_counter", 41) == 42
    counts = []
    for s in servers:
        counts.append(client(s).stats()[b"curr_items"])
    assert sum(counts) == 301, counts
    assert all(n > 50 for n in counts), counts
    assert hc.delete("h1", noreply=False) is True
    assert hc.get("h1") is None


def main():
    passed = failed = 0
    srv = Server()
    try:
        for fn in TESTS:
            try:
                client(srv).flush_all(noreply=False)
                fn(srv)
                passed += 1
            except Exception:
                failed += 1
                print("FAIL %s:\n%s" % (fn.__name__, traceback.format_exc()), flush=True)
    finally:
        status = srv.stop()
        if status != 0:
            failed += 1
            print("FAIL server exit status after SIGTERM: %r" % status)
    pool = [Server(), Server()]
    try:
        hash_client_test(pool)
        passed += 1
    except Exception:
        failed += 1
        print("FAIL hash_client:\n%s" % traceback.format_exc(), flush=True)
    finally:
        for s in pool:
            s.stop()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
