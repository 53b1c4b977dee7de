#!/usr/bin/python3
"""A tiny memcached-text, meta and RESP server for testing cairn-bench itself, not a cache.

It understands only what cairn-bench sends (one-key `get`, `set` in memcached's text protocol, the
meta commands `ms key len ...` / `mg key v f k`, or RESP arrays `SET key value` / `GET key`; a request
starting with `*` is RESP) and misbehaves on purpose:

    trickle  correct replies, written in random 1..7-byte pieces (replies split anywhere)
    corrupt  correct replies, except that every 20th hit has one byte of its value changed
    garbage  answers every request with a line that is no memcached reply

    benchmarks/fake_server.py MODE PORT_FILE

It listens on a free loopback port, writes the port number to PORT_FILE, and serves until killed.
"""
import os
import random
import socket
import sys
import threading
import time

store = {}


def resp_request(buf, pos):
    """One RESP array of bulk strings at buf[pos:]: (list of arguments, end), or None if incomplete."""
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    count = int(buf[pos + 1:nl])
    args = []
    pos = nl + 2
    for _ in range(count):
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            return None
        size = int(buf[pos + 1:nl])
        if len(buf) < nl + 2 + size + 2:
            return None
        args.append(bytes(buf[nl + 2:nl + 2 + size]))
        pos = nl + 2 + size + 2
    return args, pos


def resp_reply(args, mode, counter):
    if args[0].upper() == b"SET":
        store[args[1]] = args[2]
        return b"+OK\r\n"
    value = value_for(args[1], mode, counter)
    if value is None:
        return b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(value), value)


def value_for(key, mode, counter):
    """The stored value of key as the fake serves it (every 20th hit corrupted in corrupt mode), or None."""
    value = store.get(key)
    if value is None:
        return None
    counter[0] += 1
    if mode == "corrupt" and counter[0] % 20 == 0:
        value = b"#" + value[1:]
    return value


def replies(buf, mode, counter):
    """Parses complete requests at the front of buf; returns (reply bytes, bytes consumed)."""
    out = []
    pos = 0
    while True:
        if buf[pos:pos + 1] == b"*":
            req = resp_request(buf, pos)
            if req is None:
                break
            out.append(resp_reply(req[0], mode, counter))
            pos = req[1]
            if mode == "garbage":
                out[-1] = b"HELLO THERE\r\n"
            continue
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            break
        parts = buf[pos:nl].split(b" ")
        if parts[0] in (b"set", b"ms"):
            size = int(parts[4] if parts[0] == b"set" else parts[2])
            end = nl + 2 + size + 2
            if len(buf) < end:
                break
            store[parts[1]] = bytes(buf[nl + 2:nl + 2 + size])
            out.append(b"STORED\r\n" if parts[0] == b"set" else b"HD\r\n")
            pos = end
        elif parts[0] == b"mg":
            value = value_for(parts[1], mode, counter)
            if value is None:
                out.append(b"EN k%s\r\n" % parts[1])
            else:
                out.append(b"VA %d f0 k%s\r\n%s\r\n" % (len(value), parts[1], value))
            pos = nl + 2
        else:
            value = value_for(parts[1], mode, counter)
            if value is None:
                out.append(b"END\r\n")
            else:
                out.append(b"VALUE %s 0 %d\r\n%s\r\nEND\r\n" % (parts[1], len(value), value))
            pos = nl + 2
        if mode == "garbage":
            out[-1] = b"HELLO THERE\r\n"
    return b"".join(out), pos


def send(conn, data, mode):
    if mode != "trickle":
        conn.sendall(data)
        return
    i = 0
    while i < len(data):
        n = random.randint(1, 7)
        conn.sendall(data[i:i + n])
        i += n
        if random.random() < 0.05:
            time.sleep(0.0005)


def serve(conn, mode):
    buf = b""
    counter = [0]
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            data, used = replies(buf, mode, counter)
            buf = buf[used:]
            try:
                send(conn, data, mode)
            except OSError:
                return


def main():
    mode, port_file = sys.argv[1], sys.argv[2]
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(lsock.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
