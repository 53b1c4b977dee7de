#!/usr/bin/python3
"""Client test: RESP authentication through real clients, redis-py (Debian's python3-redis) and
redis-cli (redis-tools).

The server requires authentication: cairn with --requirepass x and -Y FILE (a mode 0600 file with
alice:secret and bob:pw:app), or, with --redis (or CAIRN_TEST_TARGET=redis), redis-server 7.0 with
requirepass x and ACL users alice (every command) and bob (every command but the server-wide ones
cairn keeps for admins): the same expectations hold for both, which is how they were checked.

redis-py: password= (AUTH pass), username= and password= (AUTH user pass), the errors it raises for
NOAUTH, WRONGPASS and NOPERM, a MULTI/EXEC pipeline, CLIENT LIST's user and ACL WHOAMI, and
protocol=3 (HELLO 3 AUTH) when this redis-py has it (5.0 and later; Debian 12 ships 4.3).
redis-cli: -a, --user/--pass, -3 (HELLO 3 AUTH), and what it prints for a wrong password, no password
and a refused command; node-redis (test_node_redis_auth.mjs) with RESP2 and RESP3 when it is
installed. Every socket operation and redis-cli call is bounded. Exits non-zero when
anything failed; 77 (skip) when redis-cli is missing (the redis-py cases need redis-py, which the shell
wrapper checks).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import redis

TIMEOUT = 5.0
TARGET_REDIS = os.environ.get("CAIRN_TEST_TARGET") == "redis" or "--redis" in sys.argv[1:]
CLI = os.environ.get("REDIS_CLI") or shutil.which("redis-cli")
BOB_DENIED = ["-flushall", "-flushdb", "-shutdown", "-config|set", "-config|resetstat", "-config|rewrite",
              "-save", "-bgsave", "-debug"]


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
    """The server under test, requiring authentication, on free loopback ports."""

    def __init__(self):
        self.proc = None
        self.tmpdir = tempfile.mkdtemp(prefix="cairn-redis-auth-")
        if TARGET_REDIS:
            binary = os.environ.get("REDIS_BIN") or "/usr/bin/redis-server"
        else:
            binary = os.environ.get("CAIRN_BIN")
            if not binary:
                raise SystemExit("CAIRN_BIN is not set (run through make check, or pass --redis)")
            creds = os.path.join(self.tmpdir, "creds")
            fd = os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, b"alice:secret\nbob:pw:app\n")
            os.close(fd)
        for _ in range(3):
            self.port = free_port()
            if TARGET_REDIS:
                args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", self.tmpdir, "--daemonize", "no", "--requirepass", "x"]
            else:
                args = [binary, "-p", str(free_port()), "-U", "0", "-l", "127.0.0.1",
                        "--resp-port=%d" % self.port, "-t", "4", "-m", "64", "--requirepass", "x", "-Y", creds]
                if os.geteuid() == 0:
                    args += ["-u", "root"]
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            if wait_listening(self.proc, self.port):
                if TARGET_REDIS:
                    self.add_redis_users()
                return
            self.stop()
        raise SystemExit("server %s did not start" % binary)

    def add_redis_users(self):
        r = redis.Redis(host="127.0.0.1", port=self.port, password="x", socket_timeout=TIMEOUT)
        r.execute_command("ACL", "SETUSER", "alice", "on", ">secret", "~*", "+@all")
        r.execute_command("ACL", "SETUSER", "bob", "on", ">pw", "~*", "+@all", *BOB_DENIED)
        r.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


SRV = None


def client(**kw):
    return redis.Redis(host="127.0.0.1", port=SRV.port, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT,
                       **kw)


class RedisPy(unittest.TestCase):
    def test_requirepass(self):
        r = client(password="x")
        self.assertTrue(r.ping())
        self.assertTrue(r.set("py:k", "v"))
        self.assertEqual(r.get("py:k"), b"v")
        self.assertEqual(r.acl_whoami(), "default")
        r.close()

    def test_user(self):
        r = client(username="alice", password="secret")
        self.assertEqual(r.acl_whoami(), "alice")
        me = [c for c in r.client_list() if c["id"] == str(r.client_id())]
        self.assertEqual(me[0]["user"], "alice")
        self.assertTrue(r.flushdb())
        r.close()

    def test_no_password(self):
        r = client()
        with self.assertRaises(redis.exceptions.AuthenticationError) as cm:
            r.get("py:k")
        self.assertIn("Authentication required", str(cm.exception))
        r.close()

    def test_wrong_password(self):
        for kw in ({"password": "nope"}, {"username": "alice", "password": "x"}, {"username": "carol",
                                                                                   "password": "secret"}):
            r = client(**kw)
            # redis-py 4.3 raises AuthenticationError for a password alone, ResponseError for a user
            with self.assertRaises((redis.exceptions.AuthenticationError, redis.exceptions.ResponseError),
                                   msg=repr(kw)) as cm:
                r.ping()
            self.assertIn("invalid username-password pair", str(cm.exception))
            r.close()

    def test_app_role(self):
        r = client(username="bob", password="pw")
        self.assertTrue(r.set("py:bob", "1"))
        self.assertEqual(r.incr("py:bob"), 2)
        with self.assertRaises(redis.exceptions.NoPermissionError) as cm:
            r.flushall()
        self.assertEqual(str(cm.exception), "this user has no permissions to run the 'flushall' command")
        with self.assertRaises(redis.exceptions.NoPermissionError) as cm:
            r.config_set("maxmemory", "0")
        self.assertEqual(str(cm.exception), "this user has no permissions to run the 'config|set' command")
        self.assertIn("maxmemory", r.config_get("maxmemory"))
        r.close()

    def test_transaction_after_auth(self):
        r = client(username="bob", password="pw")
        p = r.pipeline(transaction=True)
        p.set("py:t", "a").append("py:t", "b").get("py:t")
        self.assertEqual(p.execute(), [True, 2, b"ab"])
        p = r.pipeline(transaction=True)
        p.set("py:t", "c").flushall()
        with self.assertRaises(redis.exceptions.ResponseError):
            p.execute()
        self.assertEqual(r.get("py:t"), b"ab", "the refused transaction ran nothing")
        r.close()

    def test_resp3(self):
        try:
            r = client(protocol=3, username="alice", password="secret")
        except TypeError:
            self.skipTest("redis-py %s has no RESP3" % redis.__version__)
        self.assertTrue(r.ping())
        self.assertEqual(r.acl_whoami(), "alice")
        r.close()


def cli(*args):
    p = subprocess.run([CLI, "-h", "127.0.0.1", "-p", str(SRV.port), "--no-auth-warning"] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return p.stdout.decode()


@unittest.skipIf(CLI is None, "redis-cli is not installed")
class RedisCli(unittest.TestCase):
    def test_password(self):
        self.assertEqual(cli("-a", "x", "PING"), "PONG\n")

    def test_user(self):
        self.assertEqual(cli("--user", "alice", "--pass", "secret", "ACL", "WHOAMI"), "alice\n")
        self.assertEqual(cli("--user", "bob", "--pass", "pw", "SET", "cli:k", "v"), "OK\n")

    def test_resp3(self):
        self.assertEqual(cli("-3", "--user", "alice", "--pass", "secret", "ACL", "WHOAMI"), "alice\n")

    def test_wrong_password(self):
        self.assertEqual(cli("-a", "nope", "PING"),
                         "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n"
                         "NOAUTH Authentication required.\n\n")

    def test_no_password(self):
        self.assertEqual(cli("PING"), "NOAUTH Authentication required.\n\n")

    def test_refused(self):
        self.assertEqual(cli("--user", "bob", "--pass", "pw", "FLUSHALL"),
                         "NOPERM this user has no permissions to run the 'flushall' command\n\n")
        self.assertEqual(cli("-3", "--user", "bob", "--pass", "pw", "CONFIG", "SET", "maxmemory", "0"),
                         "NOPERM this user has no permissions to run the 'config|set' command\n\n")


NODE_MODULES = os.path.join(os.environ.get("NODE_REDIS_PREFIX") or "/usr/local/lib/cairn-test-node",
                            "node_modules")


@unittest.skipIf(shutil.which("node") is None or not os.path.isdir(os.path.join(NODE_MODULES, "redis")),
                 "node or node-redis is not installed")
class NodeRedis(unittest.TestCase):
    def test_node_redis(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_node_redis_auth.mjs")
        env = dict(os.environ, NODE_PATH=NODE_MODULES)
        p = subprocess.run(["node", script, str(SRV.port)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stdout.decode())


def main():
    global SRV
    SRV = Server()
    try:
        argv = [a for a in sys.argv if a != "--redis"]
        prog = unittest.main(argv=argv, exit=False, verbosity=2)
        ok = prog.result.wasSuccessful()
    finally:
        SRV.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
