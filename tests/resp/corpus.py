#!/usr/bin/python3
"""Side-by-side RESP corpus: the same bytes to two servers, the replies compared byte for byte.

Side A, the reference, is always redis-server (Debian 12's 7.0.15). Side B, the subject, is cairn
(--cairn BIN) or a second redis-server (--redis-only, which validates the corpus and this runner:
every case must pass redis against redis, run after run). Both servers are started here on free
loopback ports and stopped here, by PID, with bounded waits.

Each case (tests/resp/cases/*.txt, format in tests/resp/README.md) runs on both sides at once, after
a FLUSHALL sent to each server on a separate control connection. It opens fresh connections, writes
its bytes (in one write, or split at every byte or at given offsets with small pauses), and reads
until the server closes the connection or stays quiet. The replies are parsed as RESP only to apply
the case's masks (values that may legitimately differ: TTLs, ids, times, INFO bodies, the order of
KEYS); everything else is compared byte for byte, and so is whether the server closed the
connection.

Standard library only; run with /usr/bin/python3. Exit status: 0 when every case that ran matched
(known differences excepted, see --strict), 1 when one differed, 2 on a usage or start error.
"""

import argparse
import difflib
import glob
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------------------------
# How the servers are started. Keep the settings of both sides in step: whatever a reply of the
# corpus depends on (CONFIG GET, OBJECT FREQ's policy error, MEMORY ...) must be configured alike.
#
#   redis-server                              cairn
#   --maxmemory 64mb                          -m 64          (CONFIG GET maxmemory: 67108864)
#   --maxmemory-policy allkeys-lru            (its only policy; CONFIG GET: allkeys-lru)
#   --save '' --appendonly no                 (no persistence of its own; CONFIG GET save: "")
#   --databases 1 --timeout 0                 (one database: SELECT 0 only; no idle timeout)
# ---------------------------------------------------------------------------------------------

REDIS_SETTINGS = [
    '--maxmemory', '64mb',
    '--maxmemory-policy', 'allkeys-lru',
    '--databases', '1',
    '--timeout', '0',
]


def redis_argv(binary, port, workdir, removed_commands):
    argv = [binary, '--save', '', '--appendonly', 'no', '--port', str(port),
            '--bind', '127.0.0.1', '--daemonize', 'no', '--dir', workdir] + REDIS_SETTINGS
    for name in removed_commands:
        argv += ['--rename-command', name, '']
    return argv


# The cairn command line, in one place. {bin}: the binary; {port}: its memcached port; {resp_port}:
# its RESP port. '-u root' is added when the runner runs as root (cairn refuses root otherwise).
CAIRN_ARGV = ['{bin}', '-p', '{port}', '--resp-port={resp_port}', '-U', '0',
              '-l', '127.0.0.1', '-m', '64', '-t', '4']
CAIRN_ROOT_ARGS = ['-u', 'root']


def cairn_argv(binary, port, resp_port):
    argv = [a.format(bin=binary, port=port, resp_port=resp_port) for a in CAIRN_ARGV]
    if os.geteuid() == 0:
        argv += CAIRN_ROOT_ARGS
    return argv


# Commands of the data types cairn does not have. With --strings-only (the default with --cairn),
# the reference redis-server is started with each of these renamed to "" (removed), so that it
# answers them exactly as a strings-and-keys server must:
#   -ERR unknown command 'lpush', with args beginning with: 'k' 'v'
# and cases marked "needs: types" (which create lists, hashes... to get WRONGTYPE) are skipped.
NON_STRING_COMMANDS = (
    # list
    'blmove blmpop blpop brpop brpoplpush lindex linsert llen lmove lmpop lpop lpos lpush lpushx '
    'lrange lrem lset ltrim rpop rpoplpush rpush rpushx '
    # hash
    'hdel hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget hmset hrandfield hscan hset '
    'hsetnx hstrlen hvals '
    # set
    'sadd scard sdiff sdiffstore sinter sintercard sinterstore sismember smembers smismember smove '
    'spop srandmember srem sscan sunion sunionstore '
    # sorted set
    'bzmpop bzpopmax bzpopmin zadd zcard zcount zdiff zdiffstore zincrby zinter zintercard '
    'zinterstore zlexcount zmpop zmscore zpopmax zpopmin zrandmember zrange zrangebylex '
    'zrangebyscore zrangestore zrank zrem zremrangebylex zremrangebyrank zremrangebyscore '
    'zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore zunion zunionstore '
    # stream
    'xack xadd xautoclaim xclaim xdel xgroup xinfo xlen xpending xrange xread xreadgroup '
    'xrevrange xsetid xtrim '
    # geo
    'geoadd geodist geohash geopos georadius georadius_ro georadiusbymember georadiusbymember_ro '
    'geosearch geosearchstore '
    # hyperloglog
    'pfadd pfcount pfdebug pfmerge pfselftest'
).split()

DEFAULT_QUIET = 0.15      # seconds without a byte that end a read
GRACE = 0.02              # once every request is answered: how long to wait for stray bytes
CASE_DEADLINE = 30.0      # hard bound on one case on one side
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


# ------------------------------------------------------------------------------------------------
# Escapes and words
# ------------------------------------------------------------------------------------------------

class CaseError(Exception):
    pass


class StartError(Exception):
    pass


_SIMPLE_ESCAPES = {'r': b'\r', 'n': b'\n', 't': b'\t', '0': b'\0', 's': b' ', '\\': b'\\',
                   '"': b'"', "'": b"'"}


def unescape(text):
    """Decodes \\r \\n \\t \\0 \\s (space) \\\\ \\" \\' \\xHH, and \\{N*TEXT}: TEXT (itself
    unescaped) repeated N times. Every other character stands for itself (UTF-8)."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != '\\':
            out += c.encode('utf-8')
            i += 1
            continue
        if i + 1 >= len(text):
            raise CaseError('a lone backslash at the end of %r' % text)
        e = text[i + 1]
        if e in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[e]
            i += 2
        elif e == 'x' and re.match(r'[0-9a-fA-F]{2}$', text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        elif e == '{' and re.match(r'\{(\d+)\*([^}]*)\}', text[i + 1:]):
            m = re.match(r'\{(\d+)\*([^}]*)\}', text[i + 1:])
            out += unescape(m.group(2)) * int(m.group(1))
            i += 1 + m.end()
        else:
            raise CaseError('unknown escape \\%s in %r' % (e, text))
    return bytes(out)


_REP_RE = re.compile(r'\{(\d+)\*([^}]*)\}$')


def split_words(text):
    """Splits a cmd: line into arguments. Bare words are taken as written (a backslash is a
    backslash); "double quotes" decode the escapes of unescape(); 'single quotes' are literal except
    \\' and \\\\. A bare word {N*TEXT} stands for TEXT repeated N times."""
    words = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in ' \t':
            i += 1
        if i >= n:
            return words
        word = bytearray()
        if text[i] == '"':
            j = i + 1
            raw = []
            while j < n and text[j] != '"':
                if text[j] == '\\' and j + 1 < n:
                    raw.append(text[j:j + 2])
                    j += 2
                else:
                    raw.append(text[j])
                    j += 1
            if j >= n:
                raise CaseError('unbalanced double quote in %r' % text)
            word += unescape(''.join(raw))
            i = j + 1
        elif text[i] == "'":
            j = i + 1
            while j < n and text[j] != "'":
                if text[j] == '\\' and j + 1 < n and text[j + 1] in "'\\":
                    word += text[j + 1].encode()
                    j += 2
                else:
                    word += text[j].encode('utf-8')
                    j += 1
            if j >= n:
                raise CaseError('unbalanced single quote in %r' % text)
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in ' \t':
                j += 1
            bare = text[i:j]
            m = _REP_RE.match(bare)
            word += (m.group(2).encode() * int(m.group(1))) if m else bare.encode('utf-8')
            i = j
        if i < n and text[i] not in ' \t':
            raise CaseError('a quoted word must be followed by a blank in %r' % text)
        words.append(bytes(word))


def multibulk(words):
    out = [b'*%d\r\n' % len(words)]
    for w in words:
        out.append(b'$%d\r\n%s\r\n' % (len(w), w))
    return b''.join(out)


def escape(data):
    """Bytes as readable text: printable ASCII as is, \\r \\n \\t \\\\, everything else \\xHH."""
    out = []
    for b in data:
        if b == 0x5c:
            out.append('\\\\')
        elif b == 13:
            out.append('\\r')
        elif b == 10:
            out.append('\\n')
        elif b == 9:
            out.append('\\t')
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append('\\x%02x' % b)
    return ''.join(out)


# ------------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------------

class Mask:
    def __init__(self, conn, path, kind, args, text):
        self.conn = conn      # connection number (1-based)
        self.path = path      # list of ints (1-based, negative from the end) or '*'
        self.kind = kind
        self.args = args
        self.text = text


MASK_KINDS = {'int', 'num', 'any', 'type', 'shape', 'fields', 'time', 'sorted', 'sorted-pairs'}


class Case:
    def __init__(self, name, where):
        self.name = name
        self.where = where
        self.steps = []          # ('write', conn, [pieces]) ('sleep', s) ('scan', conn, words)
        self.split = None        # None | 'every' | 'lines' | [offsets]
        self.pause = None
        self.quiet = DEFAULT_QUIET
        self.masks = []
        self.needs = set()
        self.expect = None
        self.expect_eof = None
        self.notes = []
        self.conn = 1

    def add_write(self, data):
        if self.steps and self.steps[-1][0] == 'write' and self.steps[-1][1] == self.conn:
            self.steps[-1][2].append(data)
        else:
            self.steps.append(('write', self.conn, [data]))


def parse_range(arg):
    if '..' not in arg:
        raise CaseError('a range is LO..HI (either may be empty): %r' % arg)
    lo, hi = arg.split('..', 1)
    for bound in (lo, hi):
        if bound and not re.match(r'^(now|nowms|-?\d+)([+-]\d+)?$|^-?\d+(\.\d+)?$', bound):
            raise CaseError('bad range bound %r' % bound)
    return lo, hi


def eval_bound(bound, now):
    if not bound:
        return None
    m = re.match(r'^(now|nowms)([+-]\d+)?$', bound)
    if m:
        base = int(now) if m.group(1) == 'now' else int(now * 1000)
        return base + (int(m.group(2)) if m.group(2) else 0)
    return float(bound) if '.' in bound else int(bound)


def parse_mask(value):
    parts = value.split(None, 2)
    if len(parts) < 2:
        raise CaseError('mask: PATH KIND [ARGS]')
    path_text, kind = parts[0], parts[1]
    args = parts[2] if len(parts) > 2 else ''
    if kind not in MASK_KINDS:
        raise CaseError('unknown mask kind %r' % kind)
    conn = 1
    if ':' in path_text:
        c, path_text = path_text.split(':', 1)
        conn = int(c)
    path = []
    for p in path_text.split('.'):
        if p == '*':
            path.append('*')
        elif re.match(r'^-?[1-9]\d*$', p):
            path.append(int(p))
        else:
            raise CaseError('bad mask path %r' % value)
    if kind in ('int', 'num'):
        args = parse_range(args.strip())
    elif kind == 'fields':
        args = [f for f in re.split(r'[ ,]+', args.strip()) if f]
        if not args:
            raise CaseError('fields needs field names')
    return Mask(conn, path, kind, args, value)


_LINE_RE = re.compile(r'^([a-z][a-z-]*)(?:\s+x(\d+))?:(?:\s(.*))?$')


def load_cases(paths):
    cases = []
    seen = {}
    for path in paths:
        base = os.path.splitext(os.path.basename(path))[0]
        case = None
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                where = '%s:%d' % (os.path.relpath(path), lineno)
                line = line.rstrip()
                if not line.strip() or line.lstrip().startswith('#'):
                    continue
                try:
                    if line.startswith('--- '):
                        name = line[4:].strip()
                        if not re.match(r'^[A-Za-z0-9_.+-]+$', name):
                            raise CaseError('bad case name %r' % name)
                        full = '%s/%s' % (base, name)
                        if full in seen:
                            raise CaseError('case %s already defined at %s' % (full, seen[full]))
                        seen[full] = where
                        case = Case(full, where)
                        cases.append(case)
                        continue
                    if case is None:
                        raise CaseError('a directive before the first "--- name" line')
                    m = _LINE_RE.match(line.strip())
                    if not m:
                        raise CaseError('not a directive: %r' % line)
                    key, rep, value = m.group(1), m.group(2), (m.group(3) or '')
                    rep = int(rep) if rep else 1
                    if rep != 1 and key not in ('cmd', 'inline', 'send'):
                        raise CaseError('only cmd, inline and send take xN')
                    apply_directive(case, key, value, rep)
                except (CaseError, ValueError) as e:
                    raise CaseError('%s: %s' % (where, e))
    for case in cases:
        if not any(s[0] in ('write', 'scan') for s in case.steps):
            raise CaseError('%s: case %s sends nothing' % (case.where, case.name))
    return cases


def apply_directive(case, key, value, rep):
    if key == 'cmd':
        words = split_words(value)
        if not words:
            raise CaseError('cmd: with no words')
        case.add_write(multibulk(words) * rep)
    elif key == 'inline':
        case.add_write((unescape(value) + b'\r\n') * rep)
    elif key == 'send':
        case.add_write(unescape(value) * rep)
    elif key == 'sleep':
        case.steps.append(('sleep', float(value)))
    elif key == 'conn':
        case.conn = int(value)
        if case.conn < 1:
            raise CaseError('connections are numbered from 1')
        case.steps.append(('conn', case.conn))
    elif key == 'scan-all':
        case.steps.append(('scan', case.conn, split_words(value)))
    elif key == 'split':
        v = value.strip()
        if v in ('every', 'lines'):
            case.split = v
        else:
            case.split = sorted(int(x) for x in v.split(','))
    elif key == 'pause':
        case.pause = float(value)
    elif key == 'quiet':
        case.quiet = float(value)
    elif key == 'mask':
        case.masks.append(parse_mask(value))
    elif key == 'needs':
        for n in value.split():
            if n not in ('types',):
                raise CaseError('unknown need %r' % n)
            case.needs.add(n)
    elif key == 'expect':
        case.expect = (case.expect or b'') + unescape(value)
    elif key == 'expect-eof':
        if value.strip() not in ('yes', 'no'):
            raise CaseError('expect-eof: yes|no')
        case.expect_eof = value.strip() == 'yes'
    elif key == 'note':
        case.notes.append(value)
    else:
        raise CaseError('unknown directive %r' % key)


# ------------------------------------------------------------------------------------------------
# RESP: counting requests (to know when every reply is in) and parsing replies
# ------------------------------------------------------------------------------------------------

_INT_RE = re.compile(rb'^-?(0|[1-9][0-9]*)$')
# Commands after which the number of replies is not one per request, or the server may close.
_UNCERTAIN = {b'quit', b'subscribe', b'psubscribe', b'ssubscribe', b'monitor', b'shutdown',
              b'unsubscribe', b'punsubscribe', b'sunsubscribe', b'sync', b'psync'}


def count_requests(data):
    """(complete requests in data, uncertain). Uncertain: something in data may make the server
    close the connection or answer other than once per request (protocol errors, QUIT, CLIENT REPLY,
    pub/sub...); then reads wait for the close or the quiet time instead of the reply count."""
    i = 0
    n = len(data)
    count = 0
    while i < n:
        if data[i] == 0x2a:  # '*'
            e = data.find(b'\r', i)
            if e < 0 or e + 1 >= n:
                return count, (n - i > 65536 or e >= 0)
            if not _INT_RE.match(data[i + 1:e]) or data[e + 1] != 0x0a:
                return count, True
            nargs = int(data[i + 1:e])
            i = e + 2
            if nargs <= 0:
                continue
            args = []
            for _ in range(nargs):
                if i >= n:
                    return count, False
                if data[i] != 0x24:  # '$'
                    return count, True
                e = data.find(b'\r', i)
                if e < 0 or e + 1 >= n:
                    return count, (n - i > 65536 or e >= 0)
                if not _INT_RE.match(data[i + 1:e]) or data[e + 1] != 0x0a:
                    return count, True
                ln = int(data[i + 1:e])
                if ln < 0:
                    return count, True
                if e + 2 + ln + 2 > n:
                    return count, False
                args.append(data[e + 2:e + 2 + ln])
                i = e + 2 + ln + 2
            count += 1
            if classify(args):
                return count, True
        else:
            e = data.find(b'\n', i)
            if e < 0:
                return count, n - i > 65536
            line = data[i:e]
            i = e + 1
            if b'"' in line or b"'" in line or b'\0' in line:
                return count + 1, True
            args = line.split()
            if not args:
                continue
            count += 1
            if classify(args):
                return count, True
    return count, False


def classify(args):
    """True when this request may close the connection or change the reply count."""
    if not args:
        return False
    name = args[0].lower()
    if name in _UNCERTAIN:
        return True
    if name == b'client' and len(args) > 1 and args[1].lower() in (b'reply', b'kill'):
        return True
    return False


class Node:
    __slots__ = ('t', 'start', 'hdr_end', 'end', 'children', 'line')

    def __init__(self, t, start, hdr_end, end, children, line):
        self.t = t
        self.start = start
        self.hdr_end = hdr_end
        self.end = end
        self.children = children
        self.line = line


class Incomplete(Exception):
    pass


class Malformed(Exception):
    pass


def parse_value(buf, i):
    """One RESP2/RESP3 value at buf[i:]: (Node, next offset). Raises Incomplete or Malformed."""
    if i >= len(buf):
        raise Incomplete()
    t = chr(buf[i])
    e = buf.find(b'\r\n', i)
    if e < 0:
        raise Incomplete()
    line = bytes(buf[i + 1:e])
    if t in '+-:_,#(':
        return Node(t, i, e + 2, e + 2, None, line), e + 2
    if t in '$=!':
        if not _INT_RE.match(line):
            raise Malformed()
        ln = int(line)
        if ln < 0:
            return Node(t, i, e + 2, e + 2, None, line), e + 2
        end = e + 2 + ln + 2
        if end > len(buf):
            raise Incomplete()
        if buf[end - 2:end] != b'\r\n':
            raise Malformed()
        return Node(t, i, e + 2, end, None, line), end
    if t in '*~>%|':
        if not _INT_RE.match(line):
            raise Malformed()
        cnt = int(line)
        if cnt < 0:
            return Node(t, i, e + 2, e + 2, None, line), e + 2
        if t in '%|':
            cnt *= 2
        children = []
        j = e + 2
        for _ in range(cnt):
            child, j = parse_value(buf, j)
            children.append(child)
        return Node(t, i, e + 2, j, children, line), j
    raise Malformed()


def parse_all(buf):
    """Top-level values of buf and the offset of the first byte not parsed (junk or incomplete)."""
    nodes = []
    i = 0
    while i < len(buf):
        try:
            node, j = parse_value(buf, i)
        except (Incomplete, Malformed, RecursionError):
            break
        nodes.append(node)
        i = j
    return nodes, i


class ReplyCounter:
    """Counts complete top-level replies as bytes arrive, parsing each only once."""

    def __init__(self):
        self.pos = 0
        self.count = 0
        self.stuck = False

    def update(self, buf):
        while not self.stuck and self.pos < len(buf):
            try:
                _, j = parse_value(buf, self.pos)
            except Incomplete:
                return self.count
            except (Malformed, RecursionError):
                self.stuck = True
                return self.count
            self.pos = j
            self.count += 1
        return self.count


# ------------------------------------------------------------------------------------------------
# Running one case against one server
# ------------------------------------------------------------------------------------------------

class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buf = bytearray()
        self.sent = bytearray()
        self.synthetic = 0        # replies added by scan-all
        self.closed = False
        self.write_error = None
        self.counter = ReplyCounter()

    def pump(self, timeout):
        """Waits up to timeout for bytes and reads what is there; True when something (or EOF)
        arrived."""
        if self.closed:
            return False
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        got = False
        while True:
            try:
                d = self.sock.recv(1 << 16)
            except BlockingIOError:
                return got
            except (ConnectionResetError, OSError):
                self.closed = True
                return True
            if not d:
                self.closed = True
                return True
            self.buf += d
            got = True

    def write(self, data, deadline, record=True):
        view = memoryview(data)
        while view and not self.closed and self.write_error is None:
            if time.monotonic() > deadline:
                self.write_error = 'timeout'
                return
            r, w, _ = select.select([self.sock], [self.sock], [], 0.5)
            if r:
                self.pump(0)
            if w:
                try:
                    k = self.sock.send(view)
                except BlockingIOError:
                    continue
                except (BrokenPipeError, ConnectionResetError, OSError) as e:
                    self.write_error = e.__class__.__name__
                    return
                if record:
                    self.sent += view[:k]
                view = view[k:]
        self.pump(0)

    def wait(self, quiet, deadline, grace):
        """Reads until every request sent is answered (then waits grace for stray bytes), the
        connection is closed, or no byte arrives for quiet seconds."""
        nreq, uncertain = count_requests(bytes(self.sent))
        nreq += self.synthetic
        while not self.closed and time.monotonic() < deadline:
            nrep = self.counter.update(self.buf)
            if not uncertain and nrep >= nreq and not self.counter.stuck:
                if grace <= 0 or not self.pump(grace):
                    return
                continue
            if not self.pump(quiet):
                return

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def split_pieces(pieces, split):
    data = b''.join(pieces)
    if split is None:
        return [data]
    if split == 'lines':
        return [p for p in pieces if p]
    if split == 'every':
        return [data[i:i + 1] for i in range(len(data))]
    out = []
    prev = 0
    for off in split:
        if prev < off <= len(data):
            out.append(data[prev:off])
            prev = off
    out.append(data[prev:])
    return [p for p in out if p]


def scan_all(conn, words, deadline):
    """Iterates SCAN <cursor> words... to cursor 0 on conn and adds one synthetic reply to its
    transcript: the sorted set of keys returned, or the first error."""
    cursor = b'0'
    keys = set()
    for _ in range(100000):
        start = len(conn.buf)
        conn.write(multibulk([b'SCAN', cursor] + list(words)), deadline, record=False)
        while True:
            try:
                node, _ = parse_value(conn.buf, start)
                break
            except Incomplete:
                if conn.closed or time.monotonic() > deadline:
                    reply = b'-SCAN-ALL: no complete reply\r\n'
                    del conn.buf[start:]
                    conn.buf += reply
                    conn.synthetic += 1
                    conn.counter.pos = len(conn.buf)
                    conn.counter.count += 1
                    return
                conn.pump(0.5)
            except Malformed:
                node = None
                break
        raw = bytes(conn.buf[start:])
        del conn.buf[start:]
        if (node is None or node.t != '*' or len(node.children) != 2
                or node.children[0].t != '$' or node.children[1].t != '*'):
            out = raw if node is not None and node.t == '-' else b'-SCAN-ALL: odd reply ' + \
                escape(raw[:200]).encode() + b'\r\n'
            break
        c0 = node.children[0]
        cursor = raw[c0.hdr_end - start:c0.end - 2 - start]
        for k in node.children[1].children:
            keys.add(raw[k.hdr_end - start:k.end - 2 - start])
        if cursor == b'0':
            out = multibulk(sorted(keys))
            break
    else:
        out = b'-SCAN-ALL: the cursor never came back to 0\r\n'
    conn.buf += out
    conn.synthetic += 1
    conn.counter.pos = len(conn.buf)
    conn.counter.count += 1


def run_case_on(port, case, result):
    """Runs case against the server on port; result gets {conn: (bytes, closed)} or 'error'."""
    deadline = time.monotonic() + CASE_DEADLINE
    conns = {}
    current = 1
    pause = case.pause
    if pause is None:
        pause = 0.002 if case.split == 'every' else 0.02
    try:
        def get(c):
            if c not in conns:
                conns[c] = Conn(port)
            return conns[c]

        get(1)
        for step in case.steps:
            if step[0] == 'write':
                conn = get(step[1])
                pieces = split_pieces(step[2], case.split)
                for k, piece in enumerate(pieces):
                    if k:
                        conn.pump(pause)
                    conn.write(piece, deadline)
            elif step[0] == 'sleep':
                if current in conns:
                    conns[current].wait(case.quiet, deadline, 0)
                time.sleep(step[1])
            elif step[0] == 'conn':
                if current in conns:
                    conns[current].wait(case.quiet, deadline, 0)
                current = step[1]
                get(current)
            elif step[0] == 'scan':
                conn = get(step[1])
                conn.wait(case.quiet, deadline, 0)
                conn.counter.update(conn.buf)
                scan_all(conn, step[2], deadline)
        for c in sorted(conns):
            conns[c].wait(case.quiet, deadline, GRACE)
        result['conns'] = {c: (bytes(conns[c].buf), conns[c].closed) for c in sorted(conns)}
    except Exception as e:  # noqa: BLE001 - any failure is reported as the case's result
        result['error'] = '%s: %s' % (e.__class__.__name__, e)
    finally:
        for c in conns.values():
            c.close()


# ------------------------------------------------------------------------------------------------
# Masks and comparison
# ------------------------------------------------------------------------------------------------

def select_nodes(nodes, path):
    level = nodes
    found = []
    for depth, p in enumerate(path):
        if p == '*':
            chosen = list(level)
        else:
            idx = p - 1 if p > 0 else len(level) + p
            chosen = [level[idx]] if 0 <= idx < len(level) else []
        if depth == len(path) - 1:
            found = chosen
        else:
            nxt = []
            for n in chosen:
                if n.children:
                    nxt.extend(n.children)
            level = nxt
            if not chosen:
                return []
    return found


def payload(buf, node):
    if node.t in '$=!':
        return bytes(buf[node.hdr_end:node.end - 2]) if node.end > node.hdr_end else None
    return node.line


def check_mask(mask, buf, node, now):
    """None when node satisfies the mask, else the reason."""
    kind = mask.kind
    if kind in ('int', 'num'):
        if kind == 'int':
            if node.t != ':':
                return 'not an integer reply'
            text = node.line
        else:
            if node.t not in ':$,':
                return 'not a number reply'
            text = payload(buf, node)
        try:
            v = float(text) if kind == 'num' else int(text)
        except (TypeError, ValueError):
            return 'not a number: %r' % text
        lo, hi = (eval_bound(b, now) for b in mask.args)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            return '%s outside %s..%s' % (text.decode(), lo, hi)
        return None
    if kind in ('any', 'type', 'shape', 'sorted', 'sorted-pairs'):
        if kind in ('sorted', 'sorted-pairs') and node.children is None:
            return 'not an aggregate'
        return None
    if kind == 'fields':
        if node.t not in '$=':
            return 'not a bulk or verbatim string'
        body = payload(buf, node) or b''
        missing = [f for f in mask.args
                   if not re.search(rb'(^|[\r\n ,#:])' + re.escape(f.encode()) + rb'[:=]', body)]
        return ('missing fields: %s' % ' '.join(missing)) if missing else None
    if kind == 'time':
        if node.t != '*' or not node.children or len(node.children) != 2 or \
                any(c.t != '$' for c in node.children):
            return 'not an array of two bulk strings'
        s, us = (payload(buf, c) for c in node.children)
        if not s.isdigit() or not us.isdigit():
            return 'not digits'
        if abs(int(s) - now) > 60 or int(us) > 999999:
            return 'time out of range: %s %s' % (s.decode(), us.decode())
        return None
    return 'unknown mask'


def render(buf, node, marks):
    """The node as a tuple of items: ('b', bytes) for bytes compared as they are, ('m', text) for
    a masked value. Adjacent byte items are not merged; compare with flatten()."""
    mask = marks.get(id(node))
    if mask is not None and mask.kind not in ('sorted', 'sorted-pairs'):
        if mask.kind == 'type':
            tok = '<type %s>' % node.t
        elif mask.kind == 'shape':
            tok = '<shape %s%s>' % (node.t, node.line.decode('latin-1'))
        else:
            tok = '<%s>' % mask.text.split(None, 1)[1]
        return (('m', tok),)
    if node.children is None:
        return (('b', bytes(buf[node.start:node.end])),)
    parts = [render(buf, c, marks) for c in node.children]
    if mask is not None and mask.kind == 'sorted':
        parts.sort()
    elif mask is not None and mask.kind == 'sorted-pairs':
        parts = sorted(parts[k] + parts[k + 1] for k in range(0, len(parts) - 1, 2))
    out = [('b', bytes(buf[node.start:node.hdr_end]))]
    for p in parts:
        out.extend(p)
    return tuple(out)


def flatten(items):
    """Merges adjacent byte items, so that equal transcripts compare equal however they were cut."""
    out = []
    for kind, v in items:
        if kind == 'b' and out and out[-1][0] == 'b':
            out[-1] = ('b', out[-1][1] + v)
        elif kind != 'b' or v:
            out.append((kind, v))
    return out


def normalize(buf, closed, masks, now, failures, label):
    nodes, stop = parse_all(buf)
    marks = {}
    for mask in masks:
        sel = select_nodes(nodes, mask.path)
        if not sel:
            failures.append('%s: mask %r matches no reply' % (label, mask.text))
        for node in sel:
            why = check_mask(mask, buf, node, now)
            if why:
                failures.append('%s: mask %r: %s' % (label, mask.text, why))
            else:
                marks[id(node)] = mask
    items = []
    for n in nodes:
        items.extend(render(buf, n, marks))
    items.append(('b', bytes(buf[stop:])))
    items.append(('m', '[closed]' if closed else '[open]'))
    return flatten(items)


def display_lines(items):
    """A normalized transcript as text lines: one per RESP line, bytes escaped, masks as <...>."""
    lines = []
    for kind, v in items:
        if kind == 'm':
            lines.append(v)
            continue
        text = escape(v)
        while text:
            k = text.find('\\r\\n')
            if k < 0:
                lines.append(text)
                break
            lines.append(text[:k + 4])
            text = text[k + 4:]
    return lines


def compare(case, res_a, res_b, label_a, label_b):
    """(ok, reasons, detail lines)."""
    now = time.time()
    reasons = []
    detail = []
    for label, res in ((label_a, res_a), (label_b, res_b)):
        if 'error' in res:
            reasons.append('%s: %s' % (label, res['error']))
    if reasons:
        return False, reasons, detail
    conns = sorted(set(res_a['conns']) | set(res_b['conns']))
    for c in conns:
        a_buf, a_closed = res_a['conns'].get(c, (b'', False))
        b_buf, b_closed = res_b['conns'].get(c, (b'', False))
        masks = [m for m in case.masks if m.conn == c]
        failures = []
        na = normalize(a_buf, a_closed, masks, now, failures, label_a)
        nb = normalize(b_buf, b_closed, masks, now, failures, label_b)
        if c == 1 and case.expect is not None and a_buf != case.expect:
            reasons.append('%s differs from the case\'s expect' % label_a)
            detail.append('  expect:      %s' % escape(case.expect))
            detail.append('  %-12s %s' % (label_a + ':', escape(a_buf)))
        if c == 1 and case.expect_eof is not None and a_closed != case.expect_eof:
            reasons.append('%s %s the connection, the case expects otherwise'
                           % (label_a, 'closed' if a_closed else 'did not close'))
        reasons.extend(failures)
        if na != nb:
            reasons.append('connection %d differs' % c)
            la, lb = display_lines(na), display_lines(nb)
            detail.append('  connection %d (--- %s, +++ %s):' % (c, label_a, label_b))
            for ln in difflib.unified_diff(la, lb, label_a, label_b, n=3, lineterm=''):
                detail.append('    ' + ln)
    return not reasons, reasons, detail


# ------------------------------------------------------------------------------------------------
# Servers
# ------------------------------------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, label, make_argv, nports, workdir):
        self.label = label
        self.make_argv = make_argv   # ports -> argv
        self.nports = nports
        self.workdir = workdir
        self.proc = None
        self.ports = None
        self.log = None
        self.control = None

    def start(self):
        last = None
        for _attempt in range(3):
            self.ports = [free_port() for _ in range(self.nports)]
            argv = self.make_argv(*self.ports)
            logpath = os.path.join(self.workdir, 'server.log')
            self.log = open(logpath, 'ab')
            self.log.write(('\n=== %s\n' % ' '.join(argv)).encode())
            self.log.flush()
            try:
                self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, cwd=self.workdir)
            except OSError as e:
                raise StartError('cannot start %s: %s' % (argv[0], e))
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                if all(self._ready(p) for p in self.ports):
                    return
                time.sleep(0.05)
            last = 'exited with %s' % self.proc.poll() if self.proc.poll() is not None \
                else 'not listening after %.0f s' % START_TIMEOUT
            self.stop()
        with open(os.path.join(self.workdir, 'server.log'), 'rb') as f:
            tail = f.read()[-2000:].decode('utf-8', 'replace')
        raise StartError('%s did not start (%s); its log ends:\n%s' % (self.label, last, tail))

    @staticmethod
    def _ready(port):
        try:
            s = socket.create_connection(('127.0.0.1', port), timeout=0.5)
            s.close()
            return True
        except OSError:
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.control is not None:
            try:
                self.control.close()
            except OSError:
                pass
            self.control = None
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    pass
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None

    def flushall(self, port):
        """FLUSHALL on the control connection (RESP2, database 0); reconnects when needed."""
        for _attempt in range(2):
            try:
                if self.control is None:
                    self.control = socket.create_connection(('127.0.0.1', port), timeout=5)
                self.control.sendall(b'*1\r\n$8\r\nFLUSHALL\r\n')
                got = b''
                while not got.endswith(b'\r\n'):
                    d = self.control.recv(4096)
                    if not d:
                        raise OSError('closed')
                    got += d
                if got != b'+OK\r\n':
                    return 'FLUSHALL answered %s' % escape(got)
                return None
            except OSError as e:
                try:
                    if self.control:
                        self.control.close()
                except OSError:
                    pass
                self.control = None
                last = str(e)
        return 'FLUSHALL failed: %s' % last


# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------

def load_known(path):
    known = {}
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                parts = line.split(None, 1)
                known[parts[0]] = parts[1] if len(parts) > 1 else ''
    return known


def main():
    ap = argparse.ArgumentParser(description='Compare RESP replies of cairn (or a second '
                                 'redis-server) with redis-server, case by case.')
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument('--cairn', metavar='BIN', help='the cairn binary to test')
    mode.add_argument('--redis-only', action='store_true',
                      help='compare two redis-servers (validates the corpus and the runner)')
    ap.add_argument('--redis', metavar='BIN', default='redis-server',
                    help='the reference redis-server (default: redis-server)')
    ap.add_argument('--strings-only', dest='strings_only', action='store_true', default=None,
                    help='remove the commands of lists, hashes, sets, sorted sets, streams, geo '
                    'and HyperLogLog from the redis-server(s) and skip "needs: types" cases '
                    '(default with --cairn)')
    ap.add_argument('--all-types', dest='strings_only', action='store_false',
                    help='keep those commands (default with --redis-only)')
    ap.add_argument('--cairn-port', choices=('resp', 'mc'), default='resp',
                    help='which cairn port the cases use: its RESP port (default) or its '
                    'memcached port, where only cases whose first byte is "*" run')
    ap.add_argument('--filter', metavar='SUBSTR', action='append',
                    help='run only cases whose name contains SUBSTR (repeatable: any of them)')
    ap.add_argument('--cases', metavar='GLOB', default=os.path.join(HERE, 'cases', '*.txt'),
                    help='case files (default: tests/resp/cases/*.txt)')
    ap.add_argument('--known', metavar='FILE', default=os.path.join(HERE, 'known_differences.txt'),
                    help='known differences on cairn (default: tests/resp/known_differences.txt)')
    ap.add_argument('--strict', action='store_true',
                    help='count known differences as failures')
    ap.add_argument('--runs', type=int, default=1, help='run the corpus this many times')
    ap.add_argument('--verbose', '-v', action='store_true',
                    help='show the differences, bytes escaped')
    ap.add_argument('--dump', action='store_true',
                    help="print every case's reference replies (escaped)")
    ap.add_argument('--list', action='store_true', help='list the cases and exit')
    args = ap.parse_args()

    try:
        cases = load_cases(sorted(glob.glob(args.cases)))
    except CaseError as e:
        print('corpus: %s' % e, file=sys.stderr)
        return 2
    if args.filter:
        cases = [c for c in cases if any(f in c.name for f in args.filter)]
    if args.list:
        for c in cases:
            print(c.name)
        return 0
    if not cases:
        print('corpus: no cases', file=sys.stderr)
        return 2
    strings_only = args.strings_only if args.strings_only is not None else bool(args.cairn)
    removed = NON_STRING_COMMANDS if strings_only else []

    redis_bin = shutil.which(args.redis) or args.redis
    if not os.access(redis_bin, os.X_OK):
        print('corpus: no redis-server at %s' % args.redis, file=sys.stderr)
        return 2
    known = load_known(args.known) if args.cairn else {}
    all_names = {c.name for c in load_cases(sorted(glob.glob(args.cases)))}
    for name in sorted(set(known) - all_names):
        print('# %s names no case: %s' % (os.path.relpath(args.known), name), file=sys.stderr)

    tmp = tempfile.mkdtemp(prefix='resp-corpus-')
    dir_a = os.path.join(tmp, 'a')
    dir_b = os.path.join(tmp, 'b')
    os.mkdir(dir_a)
    os.mkdir(dir_b)
    side_a = Server('redis', lambda p: redis_argv(redis_bin, p, dir_a, removed), 1, dir_a)
    if args.cairn:
        cairn_bin = os.path.abspath(args.cairn)
        side_b = Server('cairn', lambda p, rp: cairn_argv(cairn_bin, p, rp), 2, dir_b)
        label_b = 'cairn'
    else:
        side_b = Server('redis#2', lambda p: redis_argv(redis_bin, p, dir_b, removed), 1, dir_b)
        label_b = 'redis#2'
    label_a = 'redis'

    def port_b():
        if args.cairn:
            return side_b.ports[1] if args.cairn_port == 'resp' else side_b.ports[0]
        return side_b.ports[0]

    failed_total = 0
    rc = None
    try:
        try:
            side_a.start()
            side_b.start()
        except StartError as e:
            print('corpus: %s' % e, file=sys.stderr)
            rc = 2
        if rc is None:
            for side in (side_a, side_b):
                argv = side.make_argv(*side.ports)
                if '--rename-command' in argv:   # the long list of renames, summarized
                    k = argv.index('--rename-command')
                    argv = argv[:k] + ['(%d commands removed: --rename-command NAME "")'
                                       % len(removed)]
                print('# %s: %s' % (side.label, shlex.join(argv)))
            for run in range(args.runs):
                failed_total += run_corpus(cases, args, strings_only, side_a, side_b, port_b,
                                           label_a, label_b, known, run)
    finally:
        side_b.stop()
        side_a.stop()
    if failed_total == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print('# server logs kept in %s' % tmp)
    if rc is not None:
        return rc
    return 0 if failed_total == 0 else 1


def run_corpus(cases, args, strings_only, side_a, side_b, port_b, label_a, label_b, known, run):
    """Runs every case once, prints a line for each and the summary; returns the failures."""
    counts = {'ok': 0, 'DIFF': 0, 'SKIP': 0, 'KNOWN': 0}
    t0 = time.monotonic()
    for case in cases:
        status, why, detail = run_one(case, args, strings_only, side_a, side_b,
                                      port_b, label_a, label_b, known)
        counts[status] += 1
        line = '%-5s %s' % (status, case.name)
        if why:
            line += '  (%s)' % why
        print(line, flush=True)
        if detail and (args.verbose or args.dump):
            for d in detail:
                print(d)
    summary = '%d cases: %d ok, %d DIFF, %d SKIP' % (
        len(cases), counts['ok'], counts['DIFF'], counts['SKIP'])
    if known:
        summary += ', %d known differences' % counts['KNOWN']
    if args.runs > 1:
        summary = 'run %d/%d: %s' % (run + 1, args.runs, summary)
    print('%s (%.1f s)' % (summary, time.monotonic() - t0), flush=True)
    return counts['DIFF'] + (counts['KNOWN'] if args.strict else 0)


def run_one(case, args, strings_only, side_a, side_b, port_b, label_a, label_b, known):
    if 'types' in case.needs and strings_only:
        return 'SKIP', 'needs other data types; the reference is strings-only', []
    if args.cairn and args.cairn_port == 'mc':
        started = set()
        for step in case.steps:
            if step[0] in ('write', 'scan') and step[1] not in started:
                started.add(step[1])
                if step[0] == 'write' and not b''.join(step[2]).startswith(b'*'):
                    return 'SKIP', 'a connection does not start with "*", which RESP on the ' \
                        'memcached port needs', []
    for side in (side_a, side_b):
        if not side.alive():
            side.stop()
            side.start()
    for side, port in ((side_a, side_a.ports[0]), (side_b, port_b())):
        err = side.flushall(port)
        if err:
            return 'DIFF', '%s: %s' % (side.label, err), []
    res_a, res_b = {}, {}
    ta = threading.Thread(target=run_case_on, args=(side_a.ports[0], case, res_a))
    tb = threading.Thread(target=run_case_on, args=(port_b(), case, res_b))
    ta.start()
    tb.start()
    ta.join()
    tb.join()
    ok, reasons, detail = compare(case, res_a, res_b, label_a, label_b)
    for side in (side_a, side_b):
        if not side.alive():
            ok = False
            reasons.append('%s exited with status %s' % (side.label, side.proc.poll()))
    if args.dump and 'conns' in res_a:
        for c, (buf, closed) in res_a['conns'].items():
            text = escape(buf)
            if len(text) > 2000:
                text = text[:2000] + '... (%d bytes in all)' % len(buf)
            print('  [%s conn %d%s] %s' % (label_a, c, ', closed' if closed else '', text))
    if ok:
        if case.name in known:
            return 'ok', 'listed in known_differences.txt but matched', detail
        return 'ok', '', detail
    if case.name in known:
        return 'KNOWN', known[case.name] or '; '.join(reasons), detail
    return 'DIFF', '; '.join(reasons), detail


if __name__ == '__main__':
    sys.exit(main())
