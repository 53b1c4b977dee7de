#!/usr/bin/python3
"""Client-library test: the server driven by pylibmc (libmemcached) over the binary protocol.

Every client here is made with binary=True: set/get/get_multi/set_multi/add/replace/delete/incr/
decr/append/prepend/gets/cas/touch/flush_all/get_stats, and values crossing protocols (set by
pylibmc, read with a plain-socket text `get`, and the reverse, flags included).

Starts its own server on a free loopback port: $CAIRN_BIN, or the reference memcached when
CAIRN_TEST_TARGET=memcached (how the expectations were checked). Prints one line per failure, then
exactly "N passed, N failed", and exits non-zero when anything failed. Socket operations are bounded
by timeouts.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import traceback

import pylibmc

TIMEOUT = 2.0


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
    return pylibmc.Client(["127.0.0.1:%d" % srv.port], binary=True,
                          behaviors={"cas": True, "connect_timeout": int(TIMEOUT * 1000),
                                     "receive_timeout": int(TIMEOUT * 1e6),
                                     "send_timeout": int(TIMEOUT * 1e6)})


def text(srv, request, end):
    """Sends request over the text protocol on a fresh socket; reads until the reply ends with end."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    try:
        s.sendall(request)
        data = b""
        while not data.endswith(end):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


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
    assert c.set("bin", b"a\r\nb\x00c\r\n\xff") is True
    assert c.get("bin") == b"a\r\nb\x00c\r\n\xff"
    assert c.set("empty", b"") is True
    assert c.get("empty") == b""
    big = bytes(range(256)) * 2000
    assert c.set("big", big) is True
    assert c.get("big") == big
    key = "k" * 250
    assert c.set(key, b"long key") is True
    assert c.get(key) == b"long key"


@test
def typed_values_and_flags(srv):
    c = client(srv)
    # pylibmc keeps the Python type in the flags: bytes 0, str 16 (text), int 4 (long), bool 2
    # (read back as an int), anything else pickled (1).
    c.set("b", b"raw")
    c.set("s", "text \u00e9")
    c.set("i", 42)
    c.set("t", True)
    c.set("p", [1, "two"])
    assert c.get("b") == b"raw"
    assert c.get("s") == "text \u00e9"
    assert c.get("i") == 42 and isinstance(c.get("i"), int)
    assert c.get("t") == 1
    assert c.get("p") == [1, "two"]
    got = text(srv, b"get b s i t\r\n", b"END\r\n")
    assert got == (b"VALUE b 0 3\r\nraw\r\nVALUE s 16 7\r\ntext \xc3\xa9\r\n"
                   b"VALUE i 4 2\r\n42\r\nVALUE t 2 1\r\n1\r\nEND\r\n"), got
    assert text(srv, b"get p\r\n", b"END\r\n").startswith(b"VALUE p 1 ")


@test
def text_set_binary_get(srv):
    c = client(srv)
    assert text(srv, b"set tb 0 0 5\r\nhello\r\nset ti 4 0 3\r\n123\r\n"
                b"set ts 16 0 2\r\nhi\r\nset tf 4294967295 0 1\r\nx\r\n", b"STORED\r\n" * 4) == \
        b"STORED\r\n" * 4
    assert c.get("tb") == b"hello"
    assert c.get("ti") == 123
    assert c.get("ts") == "hi"
    assert c.get_multi(["tb", "ti", "ts"]) == {"tb": b"hello", "ti": 123, "ts": "hi"}
    # flags pylibmc does not know: it answers the raw bytes (this checks the flags got through)
    try:
        v = c.get("tf")
    except pylibmc.Error:
        v = "error"
    assert v in (b"x", "error"), v


@test
def binary_set_text_get_flags(srv):
    c = client(srv)
    assert c.set("x", b"payload", time=0) is True
    assert c.set("n", 7) is True
    got = text(srv, b"gets x\r\nmg n f v\r\n", b"\r\n7\r\n")
    lines = got.split(b"\r\n")
    assert lines[0].startswith(b"VALUE x 0 7 "), got
    assert lines[1] == b"payload" and lines[2] == b"END", got
    assert lines[3] == b"VA 1 f4", got
    assert lines[4] == b"7", got


@test
def get_multi_set_multi(srv):
    c = client(srv)
    values = {"m%d" % i: (b"%d" % i) * (i % 50 + 1) for i in range(300)}
    assert c.set_multi(values) == []
    got = c.get_multi(list(values) + ["missing1", "missing2"])
    assert got == values, len(got)
    assert c.get_multi([]) == {}
    assert c.get_multi(["missing"]) == {}
    pref = c.get_multi(["1", "2"], key_prefix="m")
    assert pref == {"1": b"1" * 2, "2": b"2" * 3}, pref
    assert c.delete_multi(["m1", "m2", "missing"]) is False
    assert c.get_multi(["m1", "m2", "m3"]) == {"m3": values["m3"]}


@test
def add_replace(srv):
    c = client(srv)
    assert c.add("k", b"first") is True
    assert c.add("k", b"second") is False
    assert c.get("k") == b"first"
    try:
        c.replace("nosuch", b"x")
        raise AssertionError("replace of a missing key did not raise")
    except pylibmc.NotFound:  # libmemcached's binary REPLACE answers NOT FOUND
        pass
    assert c.get("nosuch") is None
    assert c.replace("k", b"third") is True
    assert c.get("k") == b"third"


@test
def delete(srv):
    c = client(srv)
    c.set("k", b"v")
    assert c.delete("k") is True
    assert c.delete("k") is False
    assert c.get("k") is None


@test
def incr_decr(srv):
    c = client(srv)
    try:
        c.incr("nosuch", 1)
        raise AssertionError("incr of a missing key did not raise")
    except pylibmc.NotFound:
        pass
    assert c.get("nosuch") is None
    c.set("n", b"10")
    assert c.incr("n", 5) == 15
    assert c.decr("n", 20) == 0
    assert c.incr("n") == 1
    c.set("big", b"18446744073709551615")
    assert c.incr("big", 1) == 0
    c.set("n", b"99")
    assert c.incr("n", 1) == 100
    assert text(srv, b"get n\r\n", b"END\r\n") == b"VALUE n 0 3\r\n100\r\nEND\r\n"
    c.set("s", b"abc")
    try:
        c.incr("s", 1)
        raise AssertionError("incr of a non-numeric value did not raise")
    except pylibmc.Error:
        pass
    assert c.get("s") == b"abc"
    c.set("i", 5)
    assert c.incr("i", 2) == 7
    assert c.get("i") == 7


@test
def append_prepend(srv):
    c = client(srv)
    c.set("k", b"mid")
    assert c.append("k", b"_end") is True
    assert c.prepend("k", b"start_") is True
    assert c.get("k") == b"start_mid_end"
    assert c.append("nosuch", b"x") is False
    assert c.prepend("nosuch", b"x") is False
    assert c.get("nosuch") is None


@test
def gets_cas(srv):
    c = client(srv)
    c.set("k", b"v1")
    v, cas = c.gets("k")
    assert v == b"v1" and cas, (v, cas)
    assert c.cas("k", b"v2", cas) is True
    assert c.get("k") == b"v2"
    assert c.cas("k", b"v3", cas) is False
    assert c.get("k") == b"v2"
    v, cas2 = c.gets("k")
    assert cas2 != cas
    assert c.gets("nosuch") == (None, None)
    # the CAS pylibmc saw is the one the text protocol shows
    got = text(srv, b"gets k\r\n", b"END\r\n")
    assert got == b"VALUE k 0 2 %d\r\nv2\r\nEND\r\n" % cas2, (got, cas2)


@test
def touch_and_expiry(srv):
    c = client(srv)
    c.set("k", b"v")
    assert c.touch("k", 100) is True
    got = text(srv, b"mg k t\r\n", b"\r\n")
    assert got in (b"HD t100\r\n", b"HD t99\r\n"), got
    assert c.touch("nosuch", 100) is False
    c.set("short", b"v", time=1)
    assert c.get("short") == b"v"
    time.sleep(2.2)
    assert c.get("short") is None


@test
def flush_all(srv):
    c = client(srv)
    c.set_multi({"a": b"1", "b": b"2"})
    assert c.flush_all() is True
    assert c.get_multi(["a", "b"]) == {}
    assert text(srv, b"get a\r\n", b"END\r\n") == b"END\r\n"


@test
def stats_and_version(srv):
    c = client(srv)
    c.set_multi({"a": b"1", "b": b"2", "c": b"3"})
    c.get("a")
    c.get("zz")
    stats = c.get_stats()
    assert len(stats) == 1, stats
    name, st = stats[0]
    assert name.startswith(b"127.0.0.1:%d" % srv.port), name
    st = {k: v.decode() for k, v in st.items()}
    assert int(st["curr_items"]) >= 3, st["curr_items"]  # flushed items count until reclaimed
    assert int(st["get_hits"]) >= 1 and int(st["get_misses"]) >= 1
    assert int(st["pid"]) == srv.proc.pid, (st["pid"], srv.proc.pid)
    version = text(srv, b"version\r\n", b"\r\n")
    assert version == b"VERSION %s\r\n" % st["version"].encode(), (version, st["version"])
    assert int(st["cmd_get"]) >= 2 and int(st["cmd_set"]) >= 3, st
    assert st["limit_maxbytes"] == str(64 << 20), st["limit_maxbytes"]


@test
def many_clients_pipelined(srv):
    clients = [client(srv) for _ in range(4)]
    for n, c in enumerate(clients):
        c.set_multi({"c%d_%d" % (n, i): b"x" * i for i in range(100)})
    for n, c in enumerate(clients):
        got = c.get_multi(["c%d_%d" % (n, i) for i in range(100)])
        assert got == {"c%d_%d" % (n, i): b"x" * i for i in range(100)}


def main():
    passed = failed = 0
    srv = Server()
    try:
        for fn in TESTS:
            try:
                client(srv).flush_all()
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
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
