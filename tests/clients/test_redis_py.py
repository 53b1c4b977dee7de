#!/usr/bin/python3
"""Client-library test: the server's RESP side driven by redis-py (Debian's python3-redis).

Starts its own server on free loopback ports and runs unittest cases through redis-py's Redis
client: strings and their options, counters, ranges, bitmaps, key commands, expiry (with NX/XX/GT/LT),
KEYS/SCAN over a few thousand keys, pipelines with and without MULTI/EXEC, WATCH, CLIENT, INFO,
CONFIG GET, HELLO, and, for cairn, one keyspace shared with memcached's text protocol (pymemcache).

Target: cairn by default ($CAIRN_BIN -p P -U 0 -l 127.0.0.1 --resp-port=R, -u root as root). With
--redis (or CAIRN_TEST_TARGET=redis) the same expectations run against a real redis-server
($REDIS_BIN or /usr/bin/redis-server, started without persistence); that is how the test itself is
checked against Redis 7.0. The cross-protocol cases are skipped there.

RESP3: redis-py gained protocol=3 in 5.0; with an older redis-py (Debian 12 ships 4.3) the RESP3
case is skipped. Every socket operation has a 5 s timeout. Exits non-zero when anything failed.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import redis

try:
    from pymemcache.client.base import Client as MemcacheClient
except ImportError:  # the cross-protocol cases are skipped
    MemcacheClient = None

TIMEOUT = 5.0
TARGET_REDIS = os.environ.get("CAIRN_TEST_TARGET") == "redis" or "--redis" in sys.argv[1:]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(proc, port):
    end = time.monotonic() + 5
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.01)
    return False


class Server:
    """The server under test on free loopback ports: resp_port for RESP; mc_port (cairn only) for
    memcached's protocols. Stopped with SIGTERM, then SIGKILL."""

    def __init__(self):
        self.proc = None
        self.mc_port = None
        self.tmpdir = None
        if TARGET_REDIS:
            binary = os.environ.get("REDIS_BIN") or "/usr/bin/redis-server"
            self.tmpdir = tempfile.mkdtemp(prefix="cairn-redis-py-")
        else:
            binary = os.environ.get("CAIRN_BIN")
            if not binary:
                raise SystemExit("CAIRN_BIN is not set (run through make check, or pass --redis)")
        for _ in range(3):
            self.resp_port = free_port()
            if TARGET_REDIS:
                args = [binary, "--port", str(self.resp_port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", self.tmpdir, "--daemonize", "no"]
            else:
                self.mc_port = free_port()
                args = [binary, "-p", str(self.mc_port), "-U", "0", "-l", "127.0.0.1",
                        "--resp-port=%d" % self.resp_port, "-t", "4", "-m", "64"]
                if os.geteuid() == 0:
                    args += ["-u", "root"]
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            if wait_listening(self.proc, self.resp_port):
                return
            self.stop()
        raise SystemExit("server %s did not start" % binary)

    def stop(self):
        status = self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                status = None
        else:
            status = self.proc.returncode
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        return status


SRV = None


def client(**kw):
    return redis.Redis(host="127.0.0.1", port=SRV.resp_port, socket_timeout=TIMEOUT,
                       socket_connect_timeout=TIMEOUT, **kw)


def resp3_client():
    """A protocol=3 client, or None when this redis-py has no RESP3 (before 5.0)."""
    try:
        return client(protocol=3)
    except TypeError:
        return None


class Base(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def tearDown(self):
        self.r.close()

    def assertTTL(self, key, lo, hi):
        t = self.r.ttl(key)
        self.assertTrue(lo <= t <= hi, "ttl %r = %r, want %r..%r" % (key, t, lo, hi))

    def assertPTTL(self, key, lo, hi):
        t = self.r.pttl(key)
        self.assertTrue(lo <= t <= hi, "pttl %r = %r, want %r..%r" % (key, t, lo, hi))

    def raw(self, *args):
        """One command's reply without redis-py's response callbacks."""
        conn = self.r.connection_pool.get_connection(args[0])
        try:
            conn.send_command(*args)
            return conn.read_response()
        finally:
            self.r.connection_pool.release(conn)

    def assertError(self, fragment, fn, *args, **kw):
        with self.assertRaises(redis.ResponseError) as cm:
            fn(*args, **kw)
        self.assertIn(fragment, str(cm.exception))


class Strings(Base):
    def test_set_get(self):
        r = self.r
        self.assertIs(r.set("k", "hello"), True)
        self.assertEqual(r.get("k"), b"hello")
        self.assertIsNone(r.get("nosuch"))
        binary = b"a\r\nb\x00c\r\n\xff"
        r.set(b"bin\x00key", binary)
        self.assertEqual(r.get(b"bin\x00key"), binary)
        r.set("empty", b"")
        self.assertEqual(r.get("empty"), b"")
        self.assertEqual(r.ttl("k"), -1)
        r.set("n", 12345)
        self.assertEqual(r.get("n"), b"12345")
        d = client(decode_responses=True)
        d.set("uni", "h\u00e9llo \u2603")
        self.assertEqual(d.get("uni"), "h\u00e9llo \u2603")
        self.assertEqual(r.strlen("uni"), len("h\u00e9llo \u2603".encode()))
        d.close()

    def test_set_expiry_options(self):
        r = self.r
        self.assertIs(r.set("ex", "v", ex=100), True)
        self.assertTTL("ex", 99, 100)
        self.assertIs(r.set("px", "v", px=100000), True)
        self.assertPTTL("px", 98000, 100000)
        now = int(time.time())
        self.assertIs(r.set("exat", "v", exat=now + 200), True)
        self.assertTTL("exat", 198, 200)
        self.assertIs(r.set("pxat", "v", pxat=(now + 300) * 1000), True)
        self.assertTTL("pxat", 298, 300)
        self.assertEqual(r.expiretime("exat"), now + 200)
        self.assertError("invalid expire time in 'set' command", r.set, "bad", "v", ex=0)
        self.assertError("invalid expire time in 'set' command", r.set, "bad", "v", px=-5)
        self.assertIsNone(r.get("bad"))
        # a plain SET clears the TTL; KEEPTTL keeps it
        r.set("ex", "w")
        self.assertEqual(r.ttl("ex"), -1)
        r.set("ex", "v", ex=100)
        self.assertIs(r.set("ex", "w2", keepttl=True), True)
        self.assertEqual(r.get("ex"), b"w2")
        self.assertTTL("ex", 99, 100)
        # short expiry really expires
        r.set("short", "v", px=100)
        self.assertEqual(r.get("short"), b"v")
        time.sleep(0.3)
        self.assertIsNone(r.get("short"))
        self.assertEqual(r.exists("short"), 0)

    def test_set_nx_xx_get(self):
        r = self.r
        self.assertIsNone(r.set("k", "v", xx=True))
        self.assertIsNone(r.get("k"))
        self.assertIs(r.set("k", "v1", nx=True), True)
        self.assertIsNone(r.set("k", "v2", nx=True))
        self.assertEqual(r.get("k"), b"v1")
        self.assertIs(r.set("k", "v3", xx=True), True)
        self.assertEqual(r.get("k"), b"v3")
        # SET ... GET returns the old value (nil when there was none)
        self.assertEqual(r.set("k", "v4", get=True), b"v3")
        self.assertEqual(r.get("k"), b"v4")
        self.assertIsNone(r.set("new", "n1", get=True))
        self.assertEqual(r.get("new"), b"n1")
        # NX + GET (allowed from 7.0): no write when the key exists, old value returned
        self.assertEqual(r.set("k", "v5", nx=True, get=True), b"v4")
        self.assertEqual(r.get("k"), b"v4")
        self.assertEqual(r.set("k", "v6", xx=True, get=True), b"v4")
        self.assertEqual(r.get("k"), b"v6")
        self.assertError("syntax error", r.execute_command, "SET", "k", "v", "NX", "XX")
        self.assertError("syntax error", r.execute_command, "SET", "k", "v", "EX", "10", "PX", "100")
        self.assertError("syntax error", r.execute_command, "SET", "k", "v", "KEEPTTL", "EX", "10")
        self.assertError("value is not an integer", r.execute_command, "SET", "k", "v", "EX", "ten")

    def test_legacy_setters(self):
        r = self.r
        self.assertIs(r.setnx("k", "a"), True)
        self.assertIs(r.setnx("k", "b"), False)
        self.assertEqual(r.get("k"), b"a")
        self.assertIs(r.setex("e", 50, "v"), True)
        self.assertTTL("e", 49, 50)
        self.assertIs(r.psetex("p", 50000, "v"), True)
        self.assertPTTL("p", 48000, 50000)
        self.assertEqual(r.getset("k", "c"), b"a")
        self.assertIsNone(r.getset("fresh", "x"))
        self.assertEqual(r.get("k"), b"c")

    def test_mget_mset_msetnx(self):
        r = self.r
        self.assertIs(r.mset({"a": "1", "b": "2", "c": "3"}), True)
        self.assertEqual(r.mget(["a", "b", "missing", "c"]), [b"1", b"2", None, b"3"])
        self.assertEqual(r.mget("a", "a"), [b"1", b"1"])
        self.assertIs(r.msetnx({"x": "1", "y": "2"}), True)
        self.assertIs(r.msetnx({"y": "new", "z": "3"}), False)
        self.assertEqual(r.mget("x", "y", "z"), [b"1", b"2", None])
        big = {"m%d" % i: "v%d" % i for i in range(1000)}
        r.mset(big)
        self.assertEqual(r.mget(list(big)), [v.encode() for v in big.values()])
        self.assertError("wrong number of arguments", r.execute_command, "MSET", "a", "1", "b")

    def test_counters(self):
        r = self.r
        self.assertEqual(r.incr("c"), 1)
        self.assertEqual(r.incr("c"), 2)
        self.assertEqual(r.incrby("c", 40), 42)
        self.assertEqual(r.decr("c"), 41)
        self.assertEqual(r.decrby("c", 50), -9)
        self.assertEqual(r.decr("fresh"), -1)
        self.assertEqual(r.get("c"), b"-9")
        r.set("c", "9223372036854775806")
        self.assertEqual(r.incr("c"), 9223372036854775807)
        self.assertError("increment or decrement would overflow", r.incr, "c")
        r.set("s", "abc")
        self.assertError("value is not an integer or out of range", r.incr, "s")
        r.set("sp", " 1")
        self.assertError("value is not an integer or out of range", r.incr, "sp")
        self.assertError("value is not an integer or out of range", r.incrby, "c", "1.5")
        # a counter keeps its TTL
        r.set("t", "5", ex=100)
        r.incr("t")
        self.assertTTL("t", 99, 100)

    def test_incrbyfloat(self):
        r = self.r
        r.set("f", "10.50")
        self.assertAlmostEqual(r.incrbyfloat("f", 0.1), 10.6)
        self.assertEqual(r.get("f"), b"10.6")
        self.assertAlmostEqual(r.incrbyfloat("f", -5), 5.6)
        self.assertEqual(r.get("f"), b"5.6")
        r.set("g", "5.0e3")
        self.assertEqual(r.incrbyfloat("g", "2.0e2"), 5200.0)
        self.assertEqual(r.get("g"), b"5200")
        self.assertEqual(r.incrbyfloat("new", 3), 3.0)
        self.assertEqual(r.get("new"), b"3")
        r.set("s", "abc")
        self.assertError("value is not a valid float", r.incrbyfloat, "s", 1)
        self.assertError("increment would produce NaN or Infinity", r.incrbyfloat, "new", "inf")

    def test_append_strlen_ranges(self):
        r = self.r
        self.assertEqual(r.append("k", "Hello"), 5)
        self.assertEqual(r.append("k", " World"), 11)
        self.assertEqual(r.get("k"), b"Hello World")
        self.assertEqual(r.strlen("k"), 11)
        self.assertEqual(r.strlen("nosuch"), 0)
        self.assertEqual(r.getrange("k", 0, 4), b"Hello")
        self.assertEqual(r.getrange("k", -5, -1), b"World")
        self.assertEqual(r.getrange("k", 6, 100), b"World")
        self.assertEqual(r.getrange("k", 5, 2), b"")
        self.assertEqual(r.getrange("nosuch", 0, 10), b"")
        self.assertEqual(r.setrange("k", 6, "Redis"), 11)
        self.assertEqual(r.get("k"), b"Hello Redis")
        self.assertEqual(r.setrange("pad", 5, "x"), 6)
        self.assertEqual(r.get("pad"), b"\x00" * 5 + b"x")
        self.assertEqual(r.setrange("k", 13, "!"), 14)
        self.assertEqual(r.get("k"), b"Hello Redis\x00\x00!")
        self.assertEqual(r.setrange("nothing", 0, ""), 0)
        self.assertEqual(r.exists("nothing"), 0)
        self.assertError("offset is out of range", r.setrange, "k", -1, "x")

    def test_getdel_getex(self):
        r = self.r
        r.set("k", "v")
        self.assertEqual(r.getdel("k"), b"v")
        self.assertIsNone(r.getdel("k"))
        self.assertEqual(r.exists("k"), 0)
        r.set("k", "v")
        self.assertEqual(r.getex("k"), b"v")
        self.assertEqual(r.ttl("k"), -1)
        self.assertEqual(r.getex("k", ex=100), b"v")
        self.assertTTL("k", 99, 100)
        self.assertEqual(r.getex("k", px=50000), b"v")
        self.assertPTTL("k", 48000, 50000)
        self.assertEqual(r.getex("k", exat=int(time.time()) + 300), b"v")
        self.assertTTL("k", 298, 300)
        self.assertEqual(r.getex("k", pxat=int(time.time() * 1000) + 400000), b"v")
        self.assertTTL("k", 398, 400)
        self.assertEqual(r.getex("k", persist=True), b"v")
        self.assertEqual(r.ttl("k"), -1)
        self.assertIsNone(r.getex("nosuch", ex=10))
        self.assertError("syntax error", r.execute_command, "GETEX", "k", "EX", "10", "PERSIST")


class Bitmaps(Base):
    def test_setbit_getbit_bitcount_bitpos(self):
        r = self.r
        self.assertEqual(r.setbit("b", 7, 1), 0)
        self.assertEqual(r.setbit("b", 7, 1), 1)
        self.assertEqual(r.get("b"), b"\x01")
        self.assertEqual(r.setbit("b", 17, 1), 0)
        self.assertEqual(r.get("b"), b"\x01\x00\x40")
        self.assertEqual(r.getbit("b", 17), 1)
        self.assertEqual(r.getbit("b", 1000), 0)
        self.assertEqual(r.getbit("nosuch", 3), 0)
        r.set("f", "foobar")
        self.assertEqual(r.bitcount("f"), 26)
        self.assertEqual(r.bitcount("f", 1, 1), 6)
        self.assertEqual(r.bitcount("f", -2, -1), 7)
        self.assertEqual(r.bitcount("f", 5, 30, "BIT"), 17)
        self.assertEqual(r.bitcount("nosuch"), 0)
        r.set("p", b"\xff\xf0\x00")
        self.assertEqual(r.bitpos("p", 0), 12)
        self.assertEqual(r.bitpos("p", 1, 2), -1)
        self.assertEqual(r.bitpos("p", 0, 2, -1), 16)
        self.assertEqual(r.bitpos("p", 1, 7, 15, "BIT"), 7)
        self.assertEqual(r.bitpos("nosuch", 0), 0)
        self.assertEqual(r.bitpos("nosuch", 1), -1)
        self.assertError("bit offset is not an integer", r.setbit, "b", -1, 1)
        self.assertError("bit is not an integer", r.execute_command, "SETBIT", "b", "1", "2")
        self.assertError("must be 1 or 0", r.execute_command, "BITPOS", "p", "2")

    def test_setbit_keeps_ttl(self):
        r = self.r
        r.set("k", "a", ex=100)
        self.assertEqual(r.setbit("k", 6, 1), 0)
        self.assertEqual(r.get("k"), b"c")
        self.assertTTL("k", 98, 100)

    def test_bitop(self):
        r = self.r
        r.set("a", b"\xf0\x0f")
        r.set("b", b"\xff")
        self.assertEqual(r.bitop("AND", "d", "a", "b"), 2)
        self.assertEqual(r.get("d"), b"\xf0\x00")
        self.assertEqual(r.bitop("OR", "d", "a", "b"), 2)
        self.assertEqual(r.get("d"), b"\xff\x0f")
        self.assertEqual(r.bitop("XOR", "d", "a", "b"), 2)
        self.assertEqual(r.get("d"), b"\x0f\x0f")
        self.assertEqual(r.bitop("NOT", "d", "a"), 2)
        self.assertEqual(r.get("d"), b"\x0f\xf0")
        r.set("d", "x", ex=100)
        self.assertEqual(r.bitop("OR", "d", "a"), 2)
        self.assertEqual(r.ttl("d"), -1)
        self.assertEqual(r.bitop("OR", "d", "nosuch1", "nosuch2"), 0)
        self.assertEqual(r.exists("d"), 0)
        self.assertError("single source key", r.bitop, "NOT", "d", "a", "b")
        self.assertError("syntax error", r.bitop, "NAND", "d", "a")

    def test_bitfield(self):
        r = self.r
        bf = r.bitfield("f")
        bf.set("i8", 0, 100).get("u8", 0).set("u4", 8, 15).get("i4", 8)
        self.assertEqual(bf.execute(), [0, 100, 0, -1])
        bf = r.bitfield("c")
        bf.incrby("u2", 100, 1).overflow("SAT").incrby("u2", 102, 1)
        self.assertEqual(bf.execute(), [1, 1])
        bf = r.bitfield("c")
        for _ in range(3):
            bf.incrby("u2", 100, 1).overflow("SAT").incrby("u2", 102, 1).overflow("WRAP")
        self.assertEqual(bf.execute(), [2, 2, 3, 3, 0, 3])
        bf = r.bitfield("c", default_overflow="FAIL")
        bf.incrby("u2", 102, 1).get("u2", 102)
        self.assertEqual(bf.execute(), [None, 3])
        bf = r.bitfield("h")
        bf.set("u8", "#1", 200).get("u8", 8)
        self.assertEqual(bf.execute(), [0, 200])
        self.assertEqual(r.execute_command("BITFIELD_RO", "h", "GET", "u8", "8", "GET", "i8", "8"), [200, -56])
        self.assertError("Invalid bitfield type", r.execute_command, "BITFIELD", "h", "GET", "u64", "0")
        self.assertError("only supports the GET", r.execute_command, "BITFIELD_RO", "h", "SET", "u8", "0", "1")

    def test_lcs(self):
        r = self.r
        r.mset({"a": "ohmytext", "b": "mynewtext"})
        self.assertEqual(r.execute_command("LCS", "a", "b"), b"mytext")
        self.assertEqual(r.execute_command("LCS", "a", "b", "LEN"), 6)
        self.assertEqual(self.raw("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
                         [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6])
        self.assertError("please just use IDX", r.execute_command, "LCS", "a", "b", "LEN", "IDX")

    def test_dump_restore(self):
        r = self.r
        r.set("s", "the-quick-brown-fox-" * 5, ex=100)
        payload = r.dump("s")
        self.assertEqual(payload[:1], b"\x00")
        self.assertTrue(r.restore("t", 0, payload))
        self.assertEqual(r.get("t"), r.get("s"))
        self.assertEqual(r.ttl("t"), -1)
        self.assertTrue(r.restore("t", 5000, payload, replace=True))
        self.assertPTTL("t", 4000, 5000)
        self.assertError("BUSYKEY", r.restore, "t", 0, payload)
        self.assertError("checksum", r.restore, "u", 0, payload[:-1] + bytes([payload[-1] ^ 1]))
        self.assertIsNone(r.dump("nosuch"))

    def test_bits_in_transaction(self):
        r = self.r
        p = r.pipeline(transaction=True)
        p.setbit("t", 3, 1).bitop("NOT", "u", "t").bitcount("u").getbit("u", 3)
        self.assertEqual(p.execute(), [0, 1, 7, 0])


class Keys(Base):
    def test_delete_exists_touch_type(self):
        r = self.r
        r.mset({"a": "1", "b": "2", "c": "3"})
        self.assertEqual(r.exists("a"), 1)
        self.assertEqual(r.exists("a", "b", "nosuch", "a"), 3)
        self.assertEqual(r.touch("a", "b", "nosuch"), 2)
        self.assertEqual(r.type("a"), b"string")
        self.assertEqual(r.type("nosuch"), b"none")
        self.assertEqual(r.delete("a", "b", "nosuch"), 2)
        self.assertEqual(r.delete("a"), 0)
        self.assertEqual(r.unlink("c", "nosuch"), 1)
        self.assertEqual(r.dbsize(), 0)

    def test_rename(self):
        r = self.r
        r.set("src", "v", ex=100)
        self.assertIs(r.rename("src", "dst"), True)
        self.assertIsNone(r.get("src"))
        self.assertEqual(r.get("dst"), b"v")
        self.assertTTL("dst", 99, 100)
        self.assertError("no such key", r.rename, "src", "x")
        r.set("other", "o")
        self.assertIs(r.rename("dst", "other"), True)  # overwrites, TTL travels
        self.assertEqual(r.get("other"), b"v")
        self.assertTTL("other", 99, 100)
        r.set("a", "1")
        r.set("b", "2")
        self.assertIs(r.renamenx("a", "b"), False)
        self.assertEqual(r.get("a"), b"1")
        self.assertIs(r.renamenx("a", "c"), True)
        self.assertEqual(r.mget("a", "c"), [None, b"1"])
        self.assertError("no such key", r.renamenx, "a", "d")
        self.assertIs(r.rename("c", "c"), True)
        self.assertEqual(r.get("c"), b"1")

    def test_expire_family(self):
        r = self.r
        self.assertIs(r.expire("nosuch", 10), False)
        self.assertEqual(r.ttl("nosuch"), -2)
        self.assertEqual(r.pttl("nosuch"), -2)
        self.assertEqual(r.expiretime("nosuch"), -2)
        r.set("k", "v")
        self.assertEqual(r.ttl("k"), -1)
        self.assertEqual(r.pttl("k"), -1)
        self.assertEqual(r.expiretime("k"), -1)
        self.assertIs(r.persist("k"), False)
        self.assertIs(r.expire("k", 100), True)
        self.assertTTL("k", 99, 100)
        self.assertIs(r.pexpire("k", 200000), True)
        self.assertPTTL("k", 198000, 200000)
        when = int(time.time()) + 500
        self.assertIs(r.expireat("k", when), True)
        self.assertEqual(r.expiretime("k"), when)
        self.assertEqual(r.pexpiretime("k"), when * 1000)
        self.assertIs(r.pexpireat("k", when * 1000 + 250), True)
        self.assertEqual(r.pexpiretime("k"), when * 1000 + 250)
        self.assertIs(r.persist("k"), True)
        self.assertEqual(r.ttl("k"), -1)
        # a past or non-positive time deletes the key
        self.assertIs(r.expire("k", 0), True)
        self.assertEqual(r.exists("k"), 0)
        r.set("k", "v")
        self.assertIs(r.expireat("k", int(time.time()) - 10), True)
        self.assertEqual(r.exists("k"), 0)
        r.set("k", "v")
        self.assertIs(r.pexpire("k", -1), True)
        self.assertEqual(r.exists("k"), 0)
        # really expires
        r.set("k", "v")
        self.assertIs(r.pexpire("k", 100), True)
        time.sleep(0.3)
        self.assertEqual(r.ttl("k"), -2)
        self.assertIsNone(r.get("k"))
        self.assertError("value is not an integer", r.execute_command, "EXPIRE", "k", "x")

    def test_expire_nx_xx_gt_lt(self):
        r = self.r
        r.set("k", "v")
        # no TTL: XX and GT refuse (no TTL counts as infinite), NX and LT set
        self.assertIs(r.expire("k", 100, xx=True), False)
        self.assertIs(r.expire("k", 100, gt=True), False)
        self.assertEqual(r.ttl("k"), -1)
        self.assertIs(r.expire("k", 100, nx=True), True)
        self.assertTTL("k", 99, 100)
        self.assertIs(r.expire("k", 200, nx=True), False)
        self.assertIs(r.expire("k", 200, xx=True), True)
        self.assertTTL("k", 199, 200)
        self.assertIs(r.expire("k", 100, gt=True), False)
        self.assertIs(r.expire("k", 300, gt=True), True)
        self.assertTTL("k", 299, 300)
        self.assertIs(r.expire("k", 400, lt=True), False)
        self.assertIs(r.expire("k", 50, lt=True), True)
        self.assertTTL("k", 49, 50)
        r.persist("k")
        self.assertIs(r.expire("k", 70, lt=True), True)
        self.assertTTL("k", 69, 70)
        self.assertIs(r.pexpire("k", 80000, gt=True), True)
        self.assertPTTL("k", 78000, 80000)
        self.assertIs(r.pexpire("k", 10000, nx=True), False)
        when = int(time.time()) + 1000
        self.assertIs(r.expireat("k", when, xx=True), True)
        self.assertEqual(r.expiretime("k"), when)
        self.assertIs(r.expireat("k", when - 10, gt=True), False)
        self.assertIs(r.pexpireat("k", when * 1000 - 10000, lt=True), True)
        self.assertEqual(r.expiretime("k"), when - 10)
        self.assertError("NX and XX, GT or LT options at the same time are not compatible",
                         r.execute_command, "EXPIRE", "k", "10", "NX", "XX")
        self.assertError("GT and LT options at the same time are not compatible",
                         r.execute_command, "EXPIRE", "k", "10", "GT", "LT")
        self.assertError("Unsupported option", r.execute_command, "EXPIRE", "k", "10", "YY")

    def test_keys_scan(self):
        r = self.r
        n = 3000
        names = set()
        with r.pipeline(transaction=False) as p:
            for i in range(n):
                kind = ("user", "item", "misc")[i % 3]
                name = "%s:%d" % (kind, i)
                names.add(name.encode())
                p.set(name, i)
            p.execute()
        self.assertEqual(r.dbsize(), n)
        self.assertEqual(set(r.keys("*")), names)
        self.assertEqual(len(r.keys()), n)
        users = {k for k in names if k.startswith(b"user:")}
        self.assertEqual(set(r.keys("user:*")), users)
        self.assertEqual(set(r.keys("user:1?")), {b"user:12", b"user:15", b"user:18"})
        self.assertEqual(set(r.keys("[im]*:1")), {b"item:1"})
        self.assertEqual(r.keys("nomatch*"), [])

        # a full SCAN walk: every key once, the cursor back at 0
        seen = []
        cursor, rounds = 0, 0
        while True:
            cursor, batch = r.scan(cursor, count=100)
            seen.extend(batch)
            rounds += 1
            self.assertLess(rounds, 10 * n, "SCAN does not terminate")
            if cursor == 0:
                break
        self.assertEqual(len(seen), len(set(seen)), "SCAN returned duplicates on a stable table")
        self.assertEqual(set(seen), names)

        got = list(r.scan_iter(match="item:*", count=50))
        self.assertEqual(len(got), len(set(got)))
        self.assertEqual(set(got), {k for k in names if k.startswith(b"item:")})
        got = list(r.scan_iter(match="misc:2??", count=1000))
        self.assertEqual(set(got), {b"misc:%d" % i for i in range(200, 300) if i % 3 == 2})
        self.assertEqual(list(r.scan_iter(match="nomatch*", count=500)), [])
        # the type filter: all strings
        self.assertEqual(len(set(r.scan_iter(count=1000, _type="string"))), n)
        self.assertEqual(list(r.scan_iter(count=1000, _type="list")), [])
        self.assertError("invalid cursor", r.execute_command, "SCAN", "abc")

    def test_randomkey_dbsize_flush(self):
        r = self.r
        self.assertIsNone(r.randomkey())
        self.assertEqual(r.dbsize(), 0)
        keys = {b"r%d" % i for i in range(20)}
        r.mset({k: b"v" for k in keys})
        self.assertEqual(r.dbsize(), 20)
        for _ in range(20):
            self.assertIn(r.randomkey(), keys)
        self.assertIs(r.flushall(), True)
        self.assertEqual(r.dbsize(), 0)
        self.assertIsNone(r.randomkey())
        r.mset({k: b"v" for k in keys})
        self.assertIs(r.flushdb(), True)
        self.assertEqual(r.dbsize(), 0)
        r.mset({k: b"v" for k in keys})
        self.assertIs(r.flushall(asynchronous=True), True)
        self.assertEqual(r.dbsize(), 0)
        r.set("a", "1")
        self.assertIs(r.execute_command("FLUSHALL", "SYNC"), True)
        self.assertEqual(r.dbsize(), 0)


class Pipelines(Base):
    def test_pipeline_without_transaction(self):
        r = self.r
        with r.pipeline(transaction=False) as p:
            p.set("a", "1").incr("a").get("a").mget("a", "nosuch").delete("a").exists("a")
            self.assertEqual(p.execute(), [True, 2, b"2", [b"2", None], 1, 0])
        with r.pipeline(transaction=False) as p:
            for i in range(2000):
                p.set("p%d" % i, "v%d" % i)
            for i in range(2000):
                p.get("p%d" % i)
            res = p.execute()
        self.assertEqual(res[:2000], [True] * 2000)
        self.assertEqual(res[2000:], [b"v%d" % i for i in range(2000)])
        # an error in the middle does not stop the rest
        r.set("s", "text")
        with r.pipeline(transaction=False) as p:
            p.set("x", "1").incr("s").incr("x")
            res = p.execute(raise_on_error=False)
        self.assertIs(res[0], True)
        self.assertIsInstance(res[1], redis.ResponseError)
        self.assertEqual(res[2], 2)

    def test_pipeline_with_transaction(self):
        r = self.r
        with r.pipeline() as p:  # MULTI ... EXEC
            p.set("a", "1").incr("a").incrby("a", 10).get("a").set("b", "x", ex=100).ttl("b")
            self.assertEqual(p.execute(), [True, 2, 12, b"12", True, 100])
        # a runtime error inside EXEC: the other commands still run
        r.set("s", "text")
        with r.pipeline() as p:
            p.set("x", "1").incr("s").incr("x")
            res = p.execute(raise_on_error=False)
        self.assertIs(res[0], True)
        self.assertIsInstance(res[1], redis.ResponseError)
        self.assertEqual(res[2], 2)
        self.assertEqual(r.get("x"), b"2")
        # a queueing error (wrong arity) aborts the whole transaction: EXECABORT
        with r.pipeline() as p:
            p.set("y", "1")
            p.execute_command("INCR")
            p.set("z", "1")
            with self.assertRaises(redis.ResponseError) as cm:
                p.execute()
        self.assertIn("wrong number of arguments", str(cm.exception))
        self.assertEqual(r.exists("y", "z"), 0)
        # an unknown command is also a queueing error
        with r.pipeline() as p:
            p.set("y", "1")
            p.execute_command("NOSUCHCOMMAND", "a")
            with self.assertRaises(redis.ResponseError) as cm:
                p.execute()
        self.assertIn("unknown command", str(cm.exception))
        self.assertEqual(r.exists("y"), 0)
        # the connection is usable afterwards
        self.assertIs(r.ping(), True)

    def test_transaction_atomic_counters(self):
        # four threads, each with its own MULTI/EXEC batches of INCRs: no update lost
        # (each EXEC's ten replies are consecutive: nothing ran between them)
        errors = []

        def work():
            try:
                c = client()
                for _ in range(50):
                    with c.pipeline() as p:
                        for _ in range(10):
                            p.incr("counter")
                        res = p.execute()
                        if res != list(range(res[0], res[0] + 10)):
                            errors.append(res)
                c.close()
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(self.r.get("counter"), b"2000")

    def test_watch(self):
        r = self.r
        other = client()
        r.set("w", "1")
        # untouched: EXEC runs
        with r.pipeline() as p:
            p.watch("w")
            self.assertEqual(p.get("w"), b"1")  # immediate mode after WATCH
            p.multi()
            p.set("w", "2")
            self.assertEqual(p.execute(), [True])
        self.assertEqual(r.get("w"), b"2")
        # another client changes the key: WatchError, nothing applied
        with r.pipeline() as p:
            p.watch("w")
            other.set("w", "from-other")
            p.multi()
            p.set("w", "mine")
            p.set("side", "effect")
            with self.assertRaises(redis.WatchError):
                p.execute()
        self.assertEqual(r.get("w"), b"from-other")
        self.assertEqual(r.exists("side"), 0)
        # a watched key that did not exist and then is created
        with r.pipeline() as p:
            p.watch("absent")
            other.set("absent", "now")
            p.multi()
            p.set("absent", "mine")
            with self.assertRaises(redis.WatchError):
                p.execute()
        # deleted / expired by another client
        for change in (lambda: other.delete("w"), lambda: other.expire("w", 100),
                       lambda: other.append("w", "x"), lambda: other.incr("cnt")):
            r.set("w", "5")
            r.set("cnt", "1")
            with r.pipeline() as p:
                p.watch("w", "cnt")
                change()
                p.multi()
                p.set("w", "mine")
                with self.assertRaises(redis.WatchError):
                    p.execute()
        # UNWATCH forgets
        with r.pipeline() as p:
            p.watch("w")
            other.set("w", "again")
            p.unwatch()
            p.multi()
            p.set("w", "mine")
            self.assertEqual(p.execute(), [True])
        self.assertEqual(r.get("w"), b"mine")

        # the transaction() helper retries until its watched read is unchanged
        r.set("bal", "10")
        calls = []

        def tx(p):
            v = int(p.get("bal"))
            if not calls:
                other.incrby("bal", 5)  # interferes once
            calls.append(v)
            p.multi()
            p.set("bal", v * 2)

        r.transaction(tx, "bal")
        self.assertEqual(calls, [10, 15])
        self.assertEqual(r.get("bal"), b"30")
        other.close()

    def test_multi_errors(self):
        r = self.r
        self.assertError("EXEC without MULTI", r.execute_command, "EXEC")
        self.assertError("DISCARD without MULTI", r.execute_command, "DISCARD")
        conn = r.connection_pool.get_connection("MULTI")
        try:
            conn.send_command("MULTI")
            self.assertEqual(conn.read_response(), b"OK")
            conn.send_command("MULTI")
            with self.assertRaises(redis.ResponseError) as cm:
                conn.read_response()
            self.assertIn("MULTI calls can not be nested", str(cm.exception))
            conn.send_command("SET", "q", "1")
            self.assertEqual(conn.read_response(), b"QUEUED")
            conn.send_command("WATCH", "q")
            with self.assertRaises(redis.ResponseError) as cm:
                conn.read_response()
            self.assertIn("WATCH inside MULTI is not allowed", str(cm.exception))
            conn.send_command("DISCARD")
            self.assertEqual(conn.read_response(), b"OK")
        finally:
            r.connection_pool.release(conn)
        self.assertEqual(r.exists("q"), 0)


class Connection(Base):
    def test_ping_echo_select(self):
        r = self.r
        self.assertIs(r.ping(), True)
        self.assertEqual(r.echo("hello\x00world"), b"hello\x00world")
        self.assertEqual(self.raw("PING", "msg"), b"msg")
        self.assertEqual(self.raw("PING"), b"PONG")
        self.assertIs(r.select(0), True)
        self.assertError("DB index is out of range", r.select, 99999)
        self.assertError("value is not an integer or out of range", r.execute_command, "SELECT", "x")
        t = r.time()
        self.assertLess(abs(t[0] + t[1] / 1e6 - time.time()), 5)

    def test_client_commands(self):
        r = client(client_name="first")
        try:
            self.assertEqual(r.client_getname(), "first")
            self.assertIs(r.client_setname("renamed"), True)
            self.assertEqual(r.client_getname(), "renamed")
            my_id = r.client_id()
            self.assertIsInstance(my_id, int)
            self.assertGreater(my_id, 0)
            other = client()
            self.assertIsNone(other.client_getname())
            other_id = other.client_id()
            self.assertNotEqual(other_id, my_id)
            clients = r.client_list()
            by_id = {int(c["id"]): c for c in clients}
            self.assertIn(my_id, by_id)
            self.assertIn(other_id, by_id)
            self.assertEqual(by_id[my_id]["name"], "renamed")
            self.assertEqual(by_id[other_id]["name"], "")
            me = by_id[my_id]
            # each field checked on its own, so one difference does not hide the others
            for field in ("laddr", "fd", "age", "idle", "db", "multi"):
                with self.subTest(field=field):
                    self.assertIn(field, me)
            with self.subTest(field="cmd"):
                self.assertEqual(me["cmd"], "client|list")  # Redis 7.0 names a subcommand so
            conn = r.connection_pool.get_connection("CLIENT")  # the one connection r has used
            local = "%s:%d" % conn._sock.getsockname()[:2]
            r.connection_pool.release(conn)
            with self.subTest(field="addr"):
                self.assertEqual(me.get("addr"), local)  # the client's side: ip:port
            with self.subTest(field="laddr"):
                self.assertEqual(me.get("laddr"), "127.0.0.1:%d" % SRV.resp_port)  # the server's side
            with self.subTest(field="db"):
                self.assertEqual(me.get("db"), "0")
            with self.subTest(field="multi"):
                self.assertEqual(me.get("multi"), "-1")
            only = r.client_list(client_id=[str(other_id)])
            self.assertEqual([int(c["id"]) for c in only], [other_id])
            info = r.client_info()
            self.assertEqual(int(info["id"]), my_id)
            self.assertEqual(info["name"], "renamed")
            self.assertError("Client names cannot contain spaces", r.client_setname, "a b")
            self.assertIs(r.client_setname(""), True)
            self.assertIsNone(r.client_getname())
            other.close()
        finally:
            r.close()

    def test_hello(self):
        r = self.r
        reply = r.execute_command("HELLO", "2")
        fields = dict(zip(reply[::2], reply[1::2]))
        self.assertEqual(fields[b"proto"], 2)
        for f in (b"server", b"version", b"id", b"mode", b"role", b"modules"):
            self.assertIn(f, fields)
        self.assertEqual(fields[b"id"], r.client_id())
        reply = r.execute_command("HELLO", "2", "SETNAME", "via-hello")
        self.assertEqual(r.client_getname(), "via-hello")
        self.assertError("NOPROTO", r.execute_command, "HELLO", "4")
        self.assertIs(r.ping(), True)

    def test_info(self):
        r = self.r
        info = r.info()
        for field in ("redis_version", "used_memory", "keyspace_hits", "keyspace_misses",
                      "connected_clients", "uptime_in_seconds"):
            self.assertIn(field, info)
        self.assertIsInstance(info["used_memory"], int)
        with self.subTest(field="used_memory"):
            self.assertGreater(info["used_memory"], 0)  # Redis counts its own allocations too
        self.assertEqual(r.info("keyspace"), {})
        r.set("a", "1")
        r.set("b", "2", ex=100)
        ks = r.info("keyspace")
        self.assertEqual(ks["db0"]["keys"], 2)
        with self.subTest(field="expires"):
            self.assertEqual(ks["db0"]["expires"], 1)
        stats = r.info("stats")
        hits, misses = stats["keyspace_hits"], stats["keyspace_misses"]
        r.get("a")
        r.get("a")
        r.get("nosuch")
        stats = r.info("stats")
        self.assertEqual(stats["keyspace_hits"], hits + 2)
        self.assertEqual(stats["keyspace_misses"], misses + 1)
        mem = r.info("memory")
        self.assertIn("used_memory", mem)
        self.assertIn("maxmemory", mem)
        self.assertNotIn("keyspace_hits", mem)
        self.assertIn("redis_version", r.info("server"))
        self.assertIn("connected_clients", r.info("clients"))
        everything = r.info("everything")
        self.assertIn("used_memory", everything)
        self.assertIn("db0", everything)

    def test_config_get(self):
        r = self.r
        got = r.config_get("maxmemory")
        self.assertEqual(list(got), ["maxmemory"])
        self.assertTrue(got["maxmemory"].isdigit(), got)
        self.assertEqual(r.config_get("no-such-parameter"), {})

    def test_errors(self):
        r = self.r
        self.assertError("unknown command", r.execute_command, "NOSUCHCOMMAND", "x")
        self.assertError("wrong number of arguments for 'get' command", r.execute_command, "GET")
        self.assertError("wrong number of arguments for 'set' command", r.execute_command, "SET", "k")
        self.assertIs(r.ping(), True)

    def test_large_values(self):
        r = self.r
        big = bytes(range(256)) * 2000  # 512000 bytes, every byte value
        self.assertIs(r.set("big", big), True)
        self.assertEqual(r.get("big"), big)
        self.assertEqual(r.strlen("big"), len(big))
        self.assertEqual(r.getrange("big", 256000, 256003), b"\x00\x01\x02\x03")
        self.assertEqual(r.append("big", b"tail"), len(big) + 4)
        self.assertEqual(r.get("big")[-4:], b"tail")

    def test_resp3(self):
        r3 = resp3_client()
        if r3 is None:
            self.skipTest("redis-py %s has no protocol=3 (added in 5.0)" % redis.__version__)
        try:
            self.assertIs(r3.set("k", "v"), True)
            self.assertEqual(r3.get("k"), b"v")
            self.assertIsNone(r3.get("nosuch"))
            self.assertEqual(r3.mget("k", "nosuch"), [b"v", None])
            self.assertEqual(r3.incr("n"), 1)
            self.assertEqual(r3.incrbyfloat("n", 1.5), 2.5)
            self.assertEqual(r3.ttl("k"), -1)
            self.assertEqual(r3.exists("k", "nosuch"), 1)
            cfg = r3.config_get("maxmemory")
            self.assertIn("maxmemory", {k.decode() if isinstance(k, bytes) else k for k in cfg})
            with r3.pipeline() as p:
                p.set("a", "1").incr("a").get("a")
                self.assertEqual(p.execute(), [True, 2, b"2"])
        finally:
            r3.close()


@unittest.skipIf(TARGET_REDIS, "redis-server has no memcached protocol")
@unittest.skipIf(MemcacheClient is None, "pymemcache is not installed")
class CrossProtocol(Base):
    def setUp(self):
        super().setUp()
        self.mc = MemcacheClient(("127.0.0.1", SRV.mc_port), connect_timeout=TIMEOUT,
                                 timeout=TIMEOUT)

    def tearDown(self):
        self.mc.close()
        super().tearDown()

    def test_memcached_to_redis(self):
        r, mc = self.r, self.mc
        self.assertIs(mc.set("mk", b"from memcached", noreply=False), True)
        self.assertEqual(r.get("mk"), b"from memcached")
        self.assertEqual(r.exists("mk"), 1)
        self.assertEqual(r.type("mk"), b"string")
        self.assertEqual(r.ttl("mk"), -1)
        mc.set("bin", b"a\r\nb\x00c", noreply=False)
        self.assertEqual(r.get("bin"), b"a\r\nb\x00c")
        mc.set("ttl", b"v", expire=100, noreply=False)
        self.assertTTL("ttl", 98, 100)
        mc.set("num", b"41", noreply=False)
        self.assertEqual(r.incr("num"), 42)
        self.assertIn(b"mk", r.keys("*"))
        self.assertEqual(set(r.scan_iter(count=100)), {b"mk", b"bin", b"ttl", b"num"})
        self.assertEqual(r.dbsize(), 4)

    def test_redis_to_memcached(self):
        r, mc = self.r, self.mc
        r.set("rk", "from redis")
        self.assertEqual(mc.get("rk"), b"from redis")
        r.set("num", "7")
        self.assertEqual(mc.incr("num", 3, noreply=False), 10)
        self.assertEqual(r.get("num"), b"10")
        r.append("rk", "!")
        self.assertEqual(mc.get("rk"), b"from redis!")
        r.mset({"m1": "a", "m2": "b"})
        self.assertEqual(mc.get_many(["m1", "m2", "none"]), {"m1": b"a", "m2": b"b"})
        r.set("ex", "v", ex=1)
        self.assertEqual(mc.get("ex"), b"v")
        r.pexpire("ex", 100)
        time.sleep(0.3)
        self.assertIsNone(mc.get("ex"))
        self.assertEqual(r.delete("rk"), 1)
        self.assertIsNone(mc.get("rk"))

    def test_memcached_changes_seen_by_redis(self):
        r, mc = self.r, self.mc
        r.set("k", "v1")
        mc.set("k", b"v2", noreply=False)
        self.assertEqual(r.get("k"), b"v2")
        mc.append("k", b"+", noreply=False)
        self.assertEqual(r.get("k"), b"v2+")
        self.assertIs(mc.delete("k", noreply=False), True)
        self.assertIsNone(r.get("k"))
        r.set("w", "1")
        with r.pipeline() as p:
            p.watch("w")
            mc.set("w", b"changed by memcached", noreply=False)
            p.multi()
            p.set("w", "mine")
            with self.assertRaises(redis.WatchError):
                p.execute()
        self.assertEqual(r.get("w"), b"changed by memcached")
        mc.set("k2", b"v", noreply=False)
        self.assertIs(mc.flush_all(noreply=False), True)
        # nothing is left to list or read at once; memcached's flush_all invalidates lazily (as
        # memcached does: its curr_items also counts flushed items until they are reclaimed), so the
        # counts, like Redis's for keys that expired but were not yet evicted, reach 0 once the
        # background reclaim has passed (FLUSHALL over RESP empties them at once)
        self.assertEqual(r.keys("*"), [])
        deadline = time.monotonic() + 5
        while r.dbsize() != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        with self.subTest(what="dbsize"):
            self.assertEqual(r.dbsize(), 0)
        with self.subTest(what="info keyspace"):
            self.assertEqual(r.info("keyspace"), {})
        self.assertEqual(list(r.scan_iter(count=100)), [])
        self.assertEqual(r.exists("w", "k2"), 0)
        self.assertIsNone(r.get("w"))
        self.assertIsNone(r.randomkey())


def main():
    global SRV
    argv = [a for a in sys.argv if a != "--redis"]
    SRV = Server()
    print("redis-py %s against %s (RESP port %d)" % (
        redis.__version__, "redis-server" if TARGET_REDIS else "cairn", SRV.resp_port), flush=True)
    ok = False
    try:
        prog = unittest.main(argv=argv, exit=False, verbosity=2)
        ok = prog.result.wasSuccessful()
    finally:
        status = SRV.stop()
        if status != 0:
            print("FAIL server exit status after SIGTERM: %r" % status)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
