#!/usr/bin/python3
"""Client-library test: pylibmc (libmemcached) authenticating with SASL PLAIN over the binary protocol.

The server runs with -Y (users alice:secret, admin, and bob:pw, role app): a client with the right
password reads and writes; one with a wrong password, or none, gets libmemcached's AUTHENTICATION
FAILURE; bob reads alice's items and his flush_all leaves them in place (the server refuses it with
"Auth failure."; libmemcached does not report a flush's refusal, as with memcached's -F).

Starts its own cairn ($CAIRN_BIN) on a free loopback port. Prints one line per failure, then exactly
"N passed, N failed", and exits non-zero when anything failed. Socket operations are bounded by
timeouts.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
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
    """cairn with a credentials file on a free port, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, users_path):
        binary = os.environ.get("CAIRN_BIN")
        if not binary:
            raise SystemExit("CAIRN_BIN is not set (run through make check)")
        for _ in range(3):
            self.port = free_port()
            args = [binary, "-p", str(self.port), "-l", "127.0.0.1", "-U", "0", "-t", "4", "-m", "64",
                    "-Y", users_path]
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


def client(srv, username=None, password=None):
    kw = {}
    if username is not None:
        kw = {"username": username, "password": password}
    return pylibmc.Client(["127.0.0.1:%d" % srv.port], binary=True,
                          behaviors={"connect_timeout": int(TIMEOUT * 1000),
                                     "receive_timeout": int(TIMEOUT * 1e6),
                                     "send_timeout": int(TIMEOUT * 1e6)}, **kw)


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def right_password(srv):
    c = client(srv, "alice", "secret")
    assert c.set("k", b"hello") is True
    assert c.get("k") == b"hello"
    assert c.set("n", b"1") is True
    assert c.incr("n", 1) == 2
    assert c.get("n") == b"2"
    assert c.delete("k") is True
    assert c.get("k") is None


@test
def wrong_password(srv):
    try:
        client(srv, "alice", "wrong").set("x", b"1")
    except pylibmc.Error as e:
        assert "AUTHENTICATION FAILURE" in str(e), str(e)
    else:
        raise AssertionError("a wrong password was accepted")
    assert client(srv, "alice", "secret").get("x") is None


@test
def no_credentials(srv):
    """A client that does not authenticate is refused (the server closes its connection)."""
    c = client(srv)
    try:
        got = c.set("y", b"1")
    except pylibmc.Error:
        got = False
    assert not got, "an unauthenticated set succeeded"
    assert client(srv, "alice", "secret").get("y") is None


@test
def app_user(srv):
    a = client(srv, "alice", "secret")
    assert a.set("shared", b"v") is True
    b = client(srv, "bob", "pw")
    assert b.get("shared") == b"v"
    assert b.set("mine", b"w") is True
    try:
        b.flush_all()
    except pylibmc.Error:
        pass
    assert a.get("shared") == b"v", "an app user's flush_all flushed"
    assert a.get("mine") == b"w"


def main():
    passed = failed = 0
    fd, users = tempfile.mkstemp(prefix="cairn-sasl-users-")
    os.fchmod(fd, 0o600)
    os.write(fd, b"alice:secret\nbob:pw:app\n")
    os.close(fd)
    srv = Server(users)
    try:
        for fn in TESTS:
            try:
                client(srv, "alice", "secret").flush_all()
                fn(srv)
                passed += 1
            except Exception:
                failed += 1
                print("FAIL %s:\n%s" % (fn.__name__, traceback.format_exc()), flush=True)
    finally:
        status = srv.stop()
        os.unlink(users)
        if status != 0:
            failed += 1
            print("FAIL server exit status after SIGTERM: %r" % status)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
