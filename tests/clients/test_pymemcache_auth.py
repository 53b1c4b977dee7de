#!/usr/bin/python3
"""Client test: text-protocol authentication (-Y) through real clients.

pymemcache has no authentication call: a client authenticates by sending memcached's auth `set`
through its own set() (the value "user password", noreply=False, which returns True on STORED) and
then uses the same connection as usual. libmemcached's memccp authenticates the same way when the
first file it copies holds "user password": it sends every file over one connection.

Starts its own server on a free loopback port with a credentials file: $CAIRN_BIN, or the reference
memcached when CAIRN_TEST_TARGET=memcached (the role tests are cairn's own: memcached has no roles
and reads "bob:pw:app" as the password "pw:app"). Prints one line per failure, then exactly
"N passed, N failed", and exits non-zero when anything failed. Every socket operation has a 5 s
timeout.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheClientError

TIMEOUT = 5.0
MEMCACHED = os.environ.get("CAIRN_TEST_TARGET") == "memcached"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One server process with -Y on a free port, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, auth_file):
        if MEMCACHED:
            binary = os.environ.get("MEMCACHED_BIN") or "/usr/bin/memcached"
        else:
            binary = os.environ.get("CAIRN_BIN")
            if not binary:
                raise SystemExit("CAIRN_BIN is not set (run through make check)")
        for _ in range(3):
            self.port = free_port()
            args = [binary, "-p", str(self.port), "-l", "127.0.0.1", "-U", "0", "-t", "4", "-m", "64",
                    "-Y", auth_file]
            if os.geteuid() == 0:
                args += ["-u", "root"]
            if MEMCACHED:
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


def authenticated(srv, user, password):
    c = client(srv)
    assert c.set("anykey", "%s %s" % (user, password), noreply=False) is True
    return c


def raises_client_error(fn, text):
    try:
        fn()
    except MemcacheClientError as e:
        assert text in str(e), str(e)
        return
    raise AssertionError("no CLIENT_ERROR %s" % text)


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def unauthenticated_refused(srv):
    c = client(srv)
    raises_client_error(lambda: c.get("k"), "unauthenticated")
    # every set is an authentication attempt: "v" is one word
    raises_client_error(lambda: c.set("k", b"v", noreply=False), "bad authentication token format")
    raises_client_error(lambda: c.set("anykey", "alice wrong", noreply=False), "authentication failure")
    raises_client_error(lambda: c.set("anykey", "alice", noreply=False), "bad authentication token format")
    # pymemcache reconnects after an error: the new connection authenticates and stays so
    assert c.set("anykey", "alice secret", noreply=False) is True
    assert c.get("anykey") is None  # the auth set stored nothing
    c.close()


@test
def authenticated_commands(srv):
    c = authenticated(srv, "alice", "secret")
    assert c.set("k", b"hello", noreply=False) is True
    assert c.get("k") == b"hello"
    c.set_many({"a": b"1", "b": b"22"}, noreply=False)
    assert c.get_many(["a", "b", "k", "missing"]) == {"a": b"1", "b": b"22", "k": b"hello"}
    assert c.incr("n", 1) is None
    c.set("n", b"41", noreply=False)
    assert c.incr("n", 1) == 42
    assert c.delete("k", noreply=False) is True
    stats = c.stats()
    assert stats[b"auth_cmds"] >= 1, stats
    assert c.flush_all(noreply=False) is True  # alice is admin
    c.close()


@test
def app_role(srv):
    if MEMCACHED:
        return  # no roles in memcached
    c = authenticated(srv, "bob", "pw")
    assert c.set("k", b"v", noreply=False) is True
    raises_client_error(lambda: c.flush_all(noreply=False), "permission denied")
    # pymemcache dropped the connection after the error: authenticate the new one
    assert c.set("anykey", "bob pw", noreply=False) is True
    assert c.get("k") == b"v"  # nothing was flushed
    assert c.stats()[b"curr_items"] >= 1
    c.close()


@test
def memccp_auth_file_first(srv):
    if shutil.which("memccp") is None:
        print("memccp not installed: its part skipped", flush=True)
        return
    with tempfile.TemporaryDirectory() as d:
        cred = os.path.join(d, "cred")
        data = os.path.join(d, "payload")
        with open(cred, "w") as f:
            f.write("alice secret")
        with open(data, "wb") as f:
            f.write(b"copied")
        r = subprocess.run(["memccp", "--servers=127.0.0.1:%d" % srv.port, cred, data],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        assert r.returncode == 0, r
        # without credentials first, memccp's set is refused and nothing is stored
        r = subprocess.run(["memccp", "--servers=127.0.0.1:%d" % srv.port, os.path.join(d, "payload")],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        assert r.returncode != 0, r
    c = authenticated(srv, "alice", "secret")
    assert c.get("payload") == b"copied"
    assert c.get("cred") is None
    c.close()


def main():
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "auth")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"alice:secret\nbob:pw:app\n")
        os.close(fd)
        for fn in TESTS:
            srv = Server(path)
            try:
                fn(srv)
                passed += 1
            except Exception:
                failed += 1
                print("FAIL %s:\n%s" % (fn.__name__, traceback.format_exc()), flush=True)
            finally:
                status = srv.stop()
                if status != 0:
                    failed += 1
                    print("FAIL %s: server exit status after SIGTERM: %r" % (fn.__name__, status))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
