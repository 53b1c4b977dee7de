"""Client test: Redis Cluster clients against three cairn nodes started from one topology file
(--cluster-config, each node finding its line by its --resp-port).

redis-py's redis.cluster.RedisCluster, given one node only, discovers the others (CLUSTER SLOTS),
sets and gets 200 keys, and each node's DBSIZE shows the keys spread as CLUSTER KEYSLOT and the
slot map say; redis-cli -c follows MOVED: a key set through one node is read back through another;
redis-cli --cluster check and info find the three masters, every slot covered and every key.

Run through test_redis_cluster.sh (CAIRN_BIN names the binary). Prints one line per failed check,
then "N passed, N failed"; exits 1 on a failure.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis
from redis.cluster import RedisCluster

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


RANGES = [(0, 5460), (5461, 10922), (10923, 16383)]


def start(tmp):
    bin_ = os.environ["CAIRN_BIN"]
    ports = []
    while len(ports) < 3:
        p = free_port()
        if p not in ports:
            ports.append(p)
    conf = os.path.join(tmp, "topology.conf")
    with open(conf, "w") as f:
        for i, (lo, hi) in enumerate(RANGES):
            f.write("node%d 127.0.0.1:%d %d-%d\n" % (i, ports[i], lo, hi))
    procs = []
    for p in ports:
        args = [bin_, "-p", "0", "-U", "0", "-l", "127.0.0.1", "-t", "2", "-m", "64",
                "--resp-port=%d" % p, "--cluster-config=" + conf]
        if os.getuid() == 0:
            args += ["-u", "root"]
        procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for p in ports:
        for _ in range(100):
            if listening(p):
                break
            time.sleep(0.05)
    return ports, procs


def owner(slot):
    for i, (lo, hi) in enumerate(RANGES):
        if lo <= slot <= hi:
            return i
    return -1


def test_redis_py(ports):
    rc = RedisCluster(host="127.0.0.1", port=ports[0], socket_timeout=5)
    nodes = sorted(n.port for n in rc.get_nodes())
    check(nodes == sorted(ports), "RedisCluster found nodes %s, want %s" % (nodes, sorted(ports)))
    for i in range(200):
        check(rc.set("user:%d" % i, "v%d" % i) is True, "set user:%d" % i)
    for i in range(200):
        got = rc.get("user:%d" % i)
        check(got == b"v%d" % i, "get user:%d: %r" % (i, got))
    check(rc.mget("{tag}a", "{tag}b") == [None, None], "mget of one hash tag")
    want = [0, 0, 0]
    direct = redis.Redis(host="127.0.0.1", port=ports[0], socket_timeout=5)
    for i in range(200):
        want[owner(direct.execute_command("CLUSTER", "KEYSLOT", "user:%d" % i))] += 1
    for i, p in enumerate(ports):
        n = redis.Redis(host="127.0.0.1", port=p, socket_timeout=5).dbsize()
        check(n == want[i], "node %d DBSIZE %d, want %d" % (i, n, want[i]))
        check(want[i] > 0, "node %d got no keys" % i)
    rc.close()


def cli(port, *args):
    r = subprocess.run(["timeout", "10", "redis-cli", "-c", "-p", str(port)] + list(args),
                       capture_output=True, text=True)
    return r.stdout.strip()


def test_redis_cli(ports):
    if shutil.which("redis-cli") is None:
        print("redis-cli is not installed: its checks skipped")
        return
    # "foo" is slot 12182: node 2's; set it through node 0, read it through node 1
    check(cli(ports[0], "SET", "foo", "bar") == "OK", "redis-cli -c SET through node 0")
    check(cli(ports[1], "GET", "foo") == "bar", "redis-cli -c GET through node 1")
    plain = subprocess.run(["timeout", "10", "redis-cli", "-p", str(ports[0]), "GET", "foo"],
                           capture_output=True, text=True).stdout.strip()
    check(plain == "MOVED 12182 127.0.0.1:%d" % ports[2] or plain.startswith("(error) MOVED 12182"),
          "redis-cli without -c: %r" % plain)


def test_cluster_tools(ports):
    """redis-cli --cluster check and info, the operators' tools, read the topology as Redis's."""
    if shutil.which("redis-cli") is None:
        return
    r = subprocess.run(["timeout", "20", "redis-cli", "--cluster", "check", "127.0.0.1:%d" % ports[1]],
                       capture_output=True, text=True)
    out = r.stdout
    check(r.returncode == 0, "redis-cli --cluster check exits 0: %r" % out)
    check("[OK] All nodes agree about slots configuration." in out, "check: nodes agree: %r" % out)
    check("[OK] All 16384 slots covered." in out, "check: slots covered: %r" % out)
    check(out.count("| 0 slaves.") == 3, "check: three masters listed: %r" % out)
    r = subprocess.run(["timeout", "20", "redis-cli", "--cluster", "info", "127.0.0.1:%d" % ports[0]],
                       capture_output=True, text=True)
    total = sum(redis.Redis(port=p).dbsize() for p in ports)
    check(r.returncode == 0 and ("[OK] %d keys in 3 masters." % total) in r.stdout,
          "redis-cli --cluster info counts %d keys: %r" % (total, r.stdout))


def main():
    tmp = tempfile.mkdtemp(prefix="cairn-cluster-")
    procs = []
    try:
        ports, procs = start(tmp)
        test_redis_py(ports)
        test_redis_cli(ports)
        test_cluster_tools(ports)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
