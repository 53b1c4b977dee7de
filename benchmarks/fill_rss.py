#!/usr/bin/python3
"""Fill a cache server far past its memory limit with fixed-size values and report its RSS.

Starts cairn (and, for comparison in the same run, memcached when it is installed) with the same
-m and -t on free loopback ports, sets N keys "key:<i>" with VALUE_SIZE-byte values (pipelined, in
batches), then reads VmRSS/VmHWM from /proc and curr_items / evictions from `stats`.

    benchmarks/fill_rss.py [--cairn ./cairn] [--memory 64] [--keys 1500000] [--value-size 100]
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, port, memory, threads):
    args = [binary, "-p", str(port), "-l", "127.0.0.1", "-U", "0", "-m", str(memory), "-t", str(threads)]
    if os.geteuid() == 0:
        args += ["-u", "root"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            return proc, socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{binary} did not start on port {port}")


def read_until(sock, buf, token):
    while token not in buf:
        chunk = sock.recv(1 << 20)
        if not chunk:
            sys.exit("server closed the connection")
        buf += chunk
    return buf


def fill(sock, keys, value_size, batch=1000):
    value = b"v" * value_size
    for start_i in range(0, keys, batch):
        n = min(batch, keys - start_i)
        req = b"".join(b"set key:%d 0 0 %d\r\n%s\r\n" % (i, value_size, value)
                       for i in range(start_i, start_i + n))
        sock.sendall(req)
        buf = b""
        while buf.count(b"\r\n") < n:
            chunk = sock.recv(1 << 20)
            if not chunk:
                sys.exit("server closed the connection while filling")
            buf += chunk
        if buf.count(b"STORED\r\n") != n:
            sys.exit("unexpected reply while filling: %r" % buf[:200])


def stats(sock):
    sock.sendall(b"stats\r\n")
    buf = read_until(sock, b"", b"END\r\n")
    out = {}
    for line in buf.decode().split("\r\n"):
        parts = line.split(" ")
        if len(parts) == 3 and parts[0] == "STAT":
            out[parts[1]] = parts[2]
    return out


def rss_kib(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            fields[key] = rest.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def measure(name, binary, args):
    port = free_port()
    proc, sock = start(binary, port, args.memory, args.threads)
    try:
        t0 = time.time()
        fill(sock, args.keys, args.value_size)
        elapsed = time.time() - t0
        st = stats(sock)
        rss, hwm = rss_kib(proc.pid)
        items = int(st["curr_items"])
        print(f"{name:10s} rss={rss / 1024:7.1f} MiB  peak={hwm / 1024:7.1f} MiB  "
              f"items={items:8d}  items/MiB={items / args.memory:7.0f}  "
              f"evictions={st.get('evictions')}  fill={elapsed:5.1f}s")
    finally:
        sock.close()
        proc.terminate()
        proc.wait(timeout=10)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cairn", default="./cairn")
    p.add_argument("--memcached", default=shutil.which("memcached"))
    p.add_argument("--memory", type=int, default=64)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--keys", type=int, default=1500000)
    p.add_argument("--value-size", type=int, default=100)
    args = p.parse_args()
    print(f"-m {args.memory} -t {args.threads}: {args.keys} sets of {args.value_size}-byte values")
    measure("cairn", args.cairn, args)
    if args.memcached:
        measure("memcached", args.memcached, args)


if __name__ == "__main__":
    main()
