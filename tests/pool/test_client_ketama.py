#!/usr/bin/python3
"""A pool of three cairn nodes spread by the client: libmemcached's consistent hashing (pylibmc).

  - behaviors={"ketama": True} (libmemcached's ketama, its default one-at-a-time hash) and
    {"ketama_weighted": True} (md5: the continuum twemproxy builds for unnamed servers): every key is
    on exactly one node, the one the test computes (pool.py), within spread bounds, and a second
    client reads every key back (same key, same node) and in one get_multi;
  - where nutcracker is installed, nutcracker with `hash: md5` and unnamed servers reads every key
    that the ketama_weighted client placed (a proxy and clients can share the pool);
  - with remove_failed and retry_timeout 1 s, a node that saved a snapshot is killed (SIGKILL): every
    key of the other nodes keeps reading and writing, the dead node's keys fail (libmemcached 1.1
    marks the node down and fails them fast: ServerDown) or miss, never a wrong value; restarted from
    its snapshot, the node serves its keys again through the same client once the retry timeout
    has passed (warm).
Nodes run on free loopback ports and are stopped by PID at the end. Prints one line per failure,
then exactly "N passed, N failed"; exits non-zero when anything failed.
"""
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import time

import pylibmc

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pool  # noqa: E402

N_KEYS = 300
DEADLINE = 30.0

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


def try_get(client, key):
    try:
        return client.get(key)
    except pylibmc.Error:
        return "error"


def wait_until(cond, seconds=DEADLINE):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def text_command(port, line):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(line + b"\r\n")
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf.strip()


def placement_checks(label, client, direct, keys, predicted):
    value = {k: b"%s-%s" % (label.encode(), k) for k in keys}
    unstored = [k for k in keys if not client.set(k, value[k])]
    check(not unstored, "%s: every set stored (%d not)" % (label, len(unstored)))
    found = {k: [i for i, d in enumerate(direct) if d.get(k) == value[k]] for k in keys}
    check(all(len(h) == 1 for h in found.values()), "%s: every key on exactly one node" % label)
    wrong = [k for k in keys if found[k] != [predicted[k]]]
    check(not wrong, "%s: every key on the node the continuum predicts (%d are not)"
          % (label, len(wrong)))
    # The continuum hangs on the nodes' random ports: 600 random port triples gave 66..139 of 300
    # keys per node, so the bounds are wide enough never to fail by chance.
    spread = [sum(1 for k in keys if predicted[k] == i) for i in range(3)]
    check(all(len(keys) // 10 <= s <= len(keys) * 3 // 5 for s in spread),
          "%s: spread within N/10..3N/5 per node: %s" % (label, spread))
    print("%s: spread over the nodes %s" % (label, spread))
    return value


def shared_with_nutcracker(nodes, keys, value):
    """nutcracker with `hash: md5` and unnamed servers builds the continuum of libmemcached's
    weighted ketama: a proxy and such clients can share one pool. Skipped without nutcracker."""
    if not os.access(pool.NUTCRACKER, os.X_OK):
        print("nutcracker is not installed: the shared-pool check is skipped")
        return
    proxy = pool.Nutcracker(nodes[0].tmpdir, [(None, n.addr()) for n in nodes], hash_name="md5")
    try:
        proxy.start()
        through = pylibmc.Client(["127.0.0.1:%d" % proxy.port])
        check(all(through.get(k) == value[k] for k in keys),
              "nutcracker (md5, unnamed servers) reads every key that ketama_weighted placed")
    finally:
        proxy.stop()


def run(tmpdir):
    nodes = []
    try:
        for i in range(3):
            nodes.append(pool.Node("cairn", "node%d" % i, tmpdir).start())
        scenario(nodes)
    finally:
        for n in reversed(nodes):
            n.stop()


def scenario(nodes):
    addrs = [n.addr() for n in nodes]
    direct = [pylibmc.Client([a]) for a in addrs]
    rnd = random.Random(20261204)
    keys = [b"user:%08x" % rnd.getrandbits(32) for _ in range(N_KEYS)]

    # Placement under both of libmemcached's ketama flavours.
    weighted = pylibmc.Client(addrs, behaviors={"ketama_weighted": True})
    wvalue = placement_checks("ketama_weighted", weighted, direct, keys,
                              pool.placement(addrs, keys, pool.hash_md5))
    shared_with_nutcracker(nodes, keys, wvalue)
    for d in direct:
        d.flush_all()
    behaviors = {"ketama": True, "remove_failed": 1, "retry_timeout": 1, "connect_timeout": 2000}
    client = pylibmc.Client(addrs, behaviors=behaviors)
    where = pool.placement_libmemcached(addrs, keys)
    value = placement_checks("ketama", client, direct, keys, where)
    other = pylibmc.Client(addrs, behaviors=behaviors)
    check(all(other.get(k) == value[k] for k in keys), "a second client reads every key back")
    check(other.get_multi(keys[:40]) == {k: value[k] for k in keys[:40]},
          "and 40 keys in one get_multi")

    # Snapshot one node and kill it.
    victim = 1
    vkeys = [k for k in keys if where[k] == victim]
    live_keys = [k for k in keys if where[k] != victim]
    reply = text_command(nodes[victim].port, b"snapshot")
    check(reply.startswith(b"SNAPSHOT %d " % len(vkeys)), "the victim saved its %d keys: %r"
          % (len(vkeys), reply))
    direct[victim].disconnect_all()
    nodes[victim].kill()

    check(try_get(client, vkeys[0]) in (None, "error"), "the first get of a dead node's key fails")
    bad_live = [k for k in live_keys if client.get(k) != value[k]]
    check(not bad_live, "every key of the live nodes hits during the outage (%d of %d do not)"
          % (len(bad_live), len(live_keys)))
    unstored = 0
    for k in live_keys[:50]:
        try:
            unstored += not client.set(k, value[k] + b"'")
        except pylibmc.Error:
            unstored += 1
    check(unstored == 0, "sets of live nodes' keys are stored during the outage (%d not)" % unstored)
    check(all(client.get(k) == value[k] + b"'" for k in live_keys[:50]), "and read back")
    for k in live_keys[:50]:
        client.set(k, value[k])
    wrong_value = [k for k in vkeys if try_get(client, k) not in (None, "error")]
    check(not wrong_value, "the dead node's keys miss or fail, never a value (%d)" % len(wrong_value))

    # Restart it from its snapshot: the same client uses it again after retry_timeout.
    nodes[victim].start()
    cold = [k for k in vkeys if direct[victim].get(k) != value[k]]
    check(not cold, "the restarted node loaded its keys from the snapshot (%d of %d missing)"
          % (len(cold), len(vkeys)))
    check(wait_until(lambda: try_get(client, vkeys[0]) == value[vkeys[0]]),
          "the client uses the restarted node again within %ds" % DEADLINE)
    bad_back = [k for k in vkeys if try_get(client, k) != value[k]]
    check(not bad_back, "every key of the restarted node hits (%d of %d do not)"
          % (len(bad_back), len(vkeys)))
    bad_live = [k for k in live_keys if try_get(client, k) != value[k]]
    check(not bad_live, "and the other nodes' keys still hit (%d do not)" % len(bad_live))


def main():
    # timeout(1) stops the test with SIGTERM: exit through the finally blocks that stop the nodes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    tmpdir = tempfile.mkdtemp(prefix="cairn-pool-")
    try:
        run(tmpdir)
    except Exception as e:
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
