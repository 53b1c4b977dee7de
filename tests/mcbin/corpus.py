#!/usr/bin/python3
"""Side-by-side corpus for memcached's binary protocol: the same bytes to two servers, the answers
compared packet by packet.

Side A, the reference, is always memcached (Debian 12's 1.6.18, /usr/bin/memcached). Side B, the
subject, is cairn (--cairn BIN) or a second memcached (--memcached-only, which validates the corpus
and this runner: every case must pass memcached against memcached, run after run). Both servers are
started here on free loopback ports with the same settings and stopped here, by PID, with bounded
waits.

Each case (CASES below, built with struct.pack) runs on both sides at once, after a text flush_all
on a separate control connection. A case is a list of steps run in order on fresh connections:
binary writes (one write, or cut into single bytes or at given offsets), text writes (to read a
value back over the text protocol, or to set one), sleeps. After each write the runner reads until
the step's end: by default the reply to a NOOP it appends (opaque SENTINEL), or for text the reply
to an "mn" it appends; else until the server closes the connection or stays quiet. The replies are
parsed into packets (binary) or lines (text) and compared after normalising what legitimately
differs: CAS values are compared by their relation (each distinct CAS becomes #1, #2... in order of
appearance), the VERSION body and STAT values are masked, and a case may allow a TTL range.

Standard library only; run with /usr/bin/python3. Exit status: 0 when every case matched (known
differences excepted, see --strict), 1 when one differed, 2 on a usage or start error.
"""

import argparse
import difflib
import os
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------------------------------------------
# How the servers are started: the same settings on both sides (the item size limit and memory
# decide which values are too large). '-u root' is added when the runner runs as root.
# ------------------------------------------------------------------------------------------------

COMMON_ARGS = ['-U', '0', '-l', '127.0.0.1', '-m', '64', '-t', '4', '-I', '1m', '-c', '1024']
ITEM_SIZE_MAX = 1 << 20


EXTRA_ARGS = []               # --server-arg: more options for both servers


def server_argv(binary, port):
    argv = [binary, '-p', str(port)] + COMMON_ARGS + EXTRA_ARGS
    if os.geteuid() == 0:
        argv += ['-u', 'root']
    return argv


SENTINEL = 0x5E171E1D     # the opaque of the NOOP that ends a binary step
QUIET = 0.3               # seconds without a byte that end a read with no sentinel answer
CLOSE_QUIET = 0.5         # the same for steps that expect the server to close
CASE_DEADLINE = 30.0      # hard bound on one case on one side
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
SPLIT_PAUSE = 0.001       # between the pieces of a split write
GRACE = 0.02              # after a step's end: how long to wait for stray bytes

# ------------------------------------------------------------------------------------------------
# The protocol: opcodes, statuses, packets
# ------------------------------------------------------------------------------------------------

REQ = 0x80
RES = 0x81

OPS = {
    'GET': 0x00, 'SET': 0x01, 'ADD': 0x02, 'REPLACE': 0x03, 'DELETE': 0x04, 'INCREMENT': 0x05,
    'DECREMENT': 0x06, 'QUIT': 0x07, 'FLUSH': 0x08, 'GETQ': 0x09, 'NOOP': 0x0a, 'VERSION': 0x0b,
    'GETK': 0x0c, 'GETKQ': 0x0d, 'APPEND': 0x0e, 'PREPEND': 0x0f, 'STAT': 0x10, 'SETQ': 0x11,
    'ADDQ': 0x12, 'REPLACEQ': 0x13, 'DELETEQ': 0x14, 'INCREMENTQ': 0x15, 'DECREMENTQ': 0x16,
    'QUITQ': 0x17, 'FLUSHQ': 0x18, 'APPENDQ': 0x19, 'PREPENDQ': 0x1a, 'VERBOSITY': 0x1b,
    'TOUCH': 0x1c, 'GAT': 0x1d, 'GATQ': 0x1e, 'SASL_LIST_MECHS': 0x20, 'SASL_AUTH': 0x21,
    'SASL_STEP': 0x22, 'GATK': 0x23, 'GATKQ': 0x24,
}
OP_NAMES = {v: k for k, v in OPS.items()}
globals().update(OPS)

ST_OK, ST_ENOENT, ST_EEXISTS, ST_E2BIG, ST_EINVAL, ST_NOT_STORED, ST_BADVAL = 0, 1, 2, 3, 4, 5, 6
ST_AUTH_ERROR, ST_AUTH_CONTINUE, ST_UNKNOWN, ST_ENOMEM = 0x20, 0x21, 0x81, 0x82

HEADER = struct.Struct('>BBHBBHIIQ')  # magic opcode keylen extlen datatype vbucket/status
#                                       bodylen opaque cas


def default_opaque(op, key):
    """A request's opaque unless given: derived from the request, so the same on both sides."""
    return zlib.crc32(bytes([op]) + key) & 0xffffffff


def pkt(op, key=b'', extras=b'', value=b'', cas=0, opaque=None, magic=REQ, keylen=None,
        extlen=None, bodylen=None, datatype=0, vbucket=0):
    """One request. keylen/extlen/bodylen override the header's lengths (for malformed requests);
    the payload is always extras + key + value as given."""
    if isinstance(key, str):
        key = key.encode()
    if isinstance(value, str):
        value = value.encode()
    if opaque is None:
        opaque = default_opaque(op, key)
    kl = len(key) if keylen is None else keylen
    el = len(extras) if extlen is None else extlen
    bl = len(extras) + len(key) + len(value) if bodylen is None else bodylen
    return HEADER.pack(magic, op, kl, el, datatype, vbucket, bl, opaque, cas) + extras + key + value


def get(key, op=GET, **kw):
    return pkt(op, key, **kw)


def store(op, key, value, flags=0, exp=0, cas=0, **kw):
    return pkt(op, key, struct.pack('>II', flags, exp), value, cas=cas, **kw)


def set_(key, value, flags=0, exp=0, cas=0, op=SET, **kw):
    return store(op, key, value, flags, exp, cas, **kw)


def delete(key, cas=0, op=DELETE, **kw):
    return pkt(op, key, cas=cas, **kw)


def incr(key, delta=1, initial=0, exp=0, cas=0, op=INCREMENT, **kw):
    return pkt(op, key, struct.pack('>QQI', delta, initial, exp), cas=cas, **kw)


def decr(key, delta=1, initial=0, exp=0, cas=0, op=DECREMENT, **kw):
    return incr(key, delta, initial, exp, cas, op=op, **kw)


def concat(op, key, value, cas=0, **kw):
    return pkt(op, key, b'', value, cas=cas, **kw)


def touch(key, exp, op=TOUCH, **kw):
    return pkt(op, key, struct.pack('>I', exp), **kw)


def flush(exp=None, op=FLUSH, **kw):
    return pkt(op, b'', b'' if exp is None else struct.pack('>I', exp), **kw)


def simple(op, **kw):
    return pkt(op, **kw)


def stat(key=b'', **kw):
    return pkt(STAT, key, **kw)


def noop(opaque=None):
    return pkt(NOOP, opaque=opaque)


SENTINEL_PKT = pkt(NOOP, opaque=SENTINEL)


def parse_packets(buf):
    """Complete packets at the start of buf: ([(header tuple, extras, key, value)], offset of the
    first byte not parsed). Stops at an incomplete packet or at a byte that is not a response's
    magic."""
    out = []
    i = 0
    n = len(buf)
    while i + 24 <= n:
        h = HEADER.unpack_from(buf, i)
        if h[0] != RES:
            break
        magic, op, kl, el, dt, status, bl, opaque, cas = h
        if i + 24 + bl > n:
            break
        body = bytes(buf[i + 24:i + 24 + bl])
        ext = body[:el]
        key = body[el:el + kl]
        val = body[el + kl:]
        out.append((h, ext, key, val))
        i += 24 + bl
    return out, i


def has_sentinel_reply(buf):
    pkts, _ = parse_packets(buf)
    return any(p[0][1] == NOOP and p[0][7] == SENTINEL for p in pkts)


# ------------------------------------------------------------------------------------------------
# Cases and steps
# ------------------------------------------------------------------------------------------------

class Bin:
    """Binary bytes written on connection conn (or a function of the side's Ctx returning them, for
    requests that carry a CAS read earlier). end: 'noop' (append the sentinel NOOP and read up to
    its reply), 'close' (read until the server closes, or CLOSE_QUIET), 'quiet' (read until QUIET).
    split: None (one write), 'bytes' (one byte a write) or a list of offsets."""

    def __init__(self, data, conn=1, end='noop', split=None, shut_wr=False):
        self.data = data
        self.conn = conn
        self.end = end
        self.split = split
        self.shut_wr = shut_wr    # half-close the connection after the write
        self.kind = 'bin'


class Text:
    """Text-protocol bytes on connection conn; end 'mn' appends "mn\\r\\n" and reads up to "MN"."""

    def __init__(self, data, conn=2, end='mn', split=None):
        self.data = data.encode() if isinstance(data, str) else data
        self.conn = conn
        self.end = end
        self.split = split
        self.shut_wr = False
        self.kind = 'text'


class Sleep:
    def __init__(self, seconds):
        self.seconds = seconds
        self.kind = 'sleep'


class Case:
    """name: 'area/what'. statuses: when given, the statuses the reference must answer (every
    response packet but the sentinel's, in order): a check that the case tests what it says.
    ttl: (lo, hi): the TTL fields of text answers (mg t, ms/mg ... t) must lie in lo..hi.
    fresh: restart both servers before the case (answers that depend on the servers' history, such
    as which slab classes hold memory)."""

    def __init__(self, name, steps, statuses=None, ttl=None, note='', fresh=False):
        self.name = name
        self.steps = steps
        self.statuses = statuses
        self.ttl = ttl
        self.note = note
        self.fresh = fresh


class Ctx:
    """What a side has received so far in a case, for steps that are functions of it."""

    def __init__(self):
        self.packets = []
        self.text = b''

    def last_cas(self):
        for h, _e, _k, _v in reversed(self.packets):
            if h[8]:
                return h[8]
        return 0

    def text_cas(self):
        """The CAS of the last "VALUE k f n CAS" line or of the last meta "c<CAS>" flag."""
        found = 0
        for m in re.finditer(rb'^(?:VALUE \S+ \d+ \d+ (\d+)|(?:VA|HD) .*?\bc(\d+)\b.*?)\r$',
                             self.text, re.M):
            found = int(m.group(1) or m.group(2))
        return found


CASES = []


def case(name, *steps, **kw):
    CASES.append(Case(name, list(steps), **kw))


K250 = b'k' * 250
K251 = b'k' * 251
EXTRAS_SET = struct.pack('>II', 0, 0)


def value_limit(nkey, flags):
    """The largest value memcached 1.6.18 stores with -I 1m (64-bit): the item header (48 bytes),
    the CAS (8), the key and its NUL, the value's CRLF, and 4 bytes of flags when they are not 0,
    must fit in the item size limit. Checked against memcached by the statuses of limits/*."""
    return ITEM_SIZE_MAX - 48 - 8 - (nkey + 1) - 2 - (4 if flags else 0)


def build_cases():
    # -- GET family ----------------------------------------------------------------------------
    case('get/miss', Bin(get('nosuch')), statuses=[ST_ENOENT])
    case('get/hit', Bin(set_('k', 'hello', flags=0x12345678) + get('k')),
         statuses=[0, 0])
    case('get/getk-hit-and-miss', Bin(set_('k', 'v', flags=5) + get('k', op=GETK)
                                      + get('nosuch', op=GETK)),
         statuses=[0, 0, ST_ENOENT])
    case('get/getq-miss-silent', Bin(get('nosuch', op=GETQ)), statuses=[])
    case('get/getkq-miss-silent', Bin(get('nosuch', op=GETKQ)), statuses=[])
    case('get/quiet-pipeline',
         Bin(set_('a', 'A') + set_('c', 'CC', flags=3)
             + get('a', op=GETQ) + get('b', op=GETQ) + get('c', op=GETKQ) + get('d', op=GETKQ)
             + get('a', op=GETK) + get('e', op=GETQ)),
         statuses=[0, 0, 0, 0, 0])
    case('get/quiet-pipeline-then-more',
         Bin(set_('x', '1', op=SETQ) + get('x', op=GETQ) + get('y', op=GETQ) + noop(opaque=7)
             + get('x', op=GETKQ) + get('y', op=GETKQ)),
         statuses=[0, 0, 0])
    case('get/empty-value', Bin(set_('e', '') + get('e') + get('e', op=GETK)),
         statuses=[0, 0, 0])
    case('get/binary-value', Bin(set_('b', b'a\r\nb\x00c\r\n\x80\xff') + get('b')))
    case('get/binary-key', Bin(set_(b'k e\x00y\xff\r\n', 'v') + get(b'k e\x00y\xff\r\n', op=GETK)),
         statuses=[0, 0])
    case('get/getq-hit-without-noop', Bin(set_('k', 'v', op=SETQ) + get('k', op=GETQ)
                                          + get('n', op=GETKQ), end='quiet'),
         statuses=[0], note='a quiet hit is sent without waiting for a NOOP')
    case('get/keylen-0', Bin(pkt(GET)), statuses=[ST_EINVAL])
    case('get/keylen-0-getq', Bin(pkt(GETQ)), statuses=[ST_EINVAL])
    case('get/with-extras', Bin(pkt(GET, b'k', b'\0\0\0\0')), statuses=[ST_EINVAL])
    case('get/with-value', Bin(pkt(GET, b'k', b'', b'xyz')), statuses=[ST_EINVAL])
    case('get/getk-with-extras', Bin(pkt(GETK, b'k', b'\0\0\0\0')), statuses=[ST_EINVAL])
    case('get/cas-in-request-ignored', Bin(set_('k', 'v') + get('k', cas=12345)),
         statuses=[0, 0])
    case('get/opaque-echo', Bin(set_('k', 'v', opaque=0) + get('k', opaque=0xffffffff)
                                + get('n', opaque=0x80000001) + get('k', op=GETK, opaque=1)))
    case('get/datatype-vbucket-ignored', Bin(set_('k', 'v', datatype=1, vbucket=7)
                                             + get('k', datatype=0xff, vbucket=0xffff)))

    # -- SET / ADD / REPLACE ---------------------------------------------------------------------
    case('set/basic', Bin(set_('k', 'v1') + set_('k', 'v2', flags=9) + get('k')),
         statuses=[0, 0, 0])
    case('set/setq-silent', Bin(set_('k', 'v', op=SETQ) + get('k')), statuses=[0])
    case('set/setq-cas-mismatch', Bin(set_('k', 'v') + set_('k', 'w', cas=1 << 60, op=SETQ)
                                      + get('k')),
         statuses=[0, ST_EEXISTS, 0])
    case('set/setq-error-without-noop', Bin(store(ADDQ, 'k', 'v') + store(ADDQ, 'k', 'w'),
                                            end='quiet'),
         statuses=[ST_EEXISTS])
    case('set/empty-value-with-flags', Bin(set_('k', '', flags=7, exp=100) + get('k', op=GETK)),
         Text('get k\r\n'))
    case('set/cas-missing-key', Bin(set_('nosuch', 'v', cas=77)), statuses=[ST_ENOENT])
    case('set/cas-match-then-stale',
         Bin(set_('k', 'v1') + get('k')),
         Bin(lambda c: set_('k', 'v2', cas=c.last_cas())),
         Bin(lambda c: set_('k', 'v3', cas=c.last_cas() - 1 if c.last_cas() > 1 else 1 << 60)
             + get('k')),
         statuses=[0, 0, 0, ST_EEXISTS, 0])
    case('set/cas-of-response', Bin(set_('k', 'v1') + set_('k', 'v2') + get('k')
                                    + set_('j', 'v') + get('j', op=GETK)))
    case('add/new-and-exists', Bin(pkt(ADD, b'k', EXTRAS_SET, b'v') + pkt(ADD, b'k', EXTRAS_SET, b'w')
                                   + get('k')),
         statuses=[0, ST_EEXISTS, 0])
    case('add/addq', Bin(store(ADDQ, 'k', 'v') + store(ADDQ, 'k', 'w') + get('k')),
         statuses=[ST_EEXISTS, 0])
    case('add/with-cas-existing',
         Bin(set_('k', 'v') + get('k')),
         Bin(lambda c: store(ADD, 'k', 'w', cas=c.last_cas()) + get('k')),
         note='a CAS on ADD makes it a compare-and-swap in memcached')
    case('add/with-cas-missing', Bin(store(ADD, 'k', 'w', cas=5) + get('k')),
         statuses=[ST_ENOENT, ST_ENOENT])
    case('add/with-wrong-cas-existing', Bin(set_('k', 'v') + store(ADD, 'k', 'w', cas=1 << 60)
                                            + get('k')))
    case('replace/miss-and-hit', Bin(store(REPLACE, 'k', 'v') + set_('k', 'a')
                                     + store(REPLACE, 'k', 'b', flags=2) + get('k')),
         statuses=[ST_ENOENT, 0, 0, 0])
    case('replace/replaceq', Bin(store(REPLACEQ, 'k', 'v') + set_('k', 'a', op=SETQ)
                                 + store(REPLACEQ, 'k', 'b') + get('k')),
         statuses=[ST_ENOENT, 0])
    case('replace/with-cas',
         Bin(set_('k', 'v') + get('k')),
         Bin(lambda c: store(REPLACE, 'k', 'w', cas=c.last_cas())
             + store(REPLACE, 'k', 'x', cas=1 << 60) + store(REPLACEQ, 'k', 'y', cas=1 << 60)
             + get('k')))
    for op in ('SET', 'ADD', 'REPLACE', 'SETQ'):
        o = OPS[op]
        case('set/%s-extlen-0' % op.lower(), Bin(pkt(o, b'k', b'', b'12345678v')),
             statuses=[ST_EINVAL])
        case('set/%s-extlen-4' % op.lower(), Bin(pkt(o, b'k', b'\0\0\0\0', b'v')),
             statuses=[ST_EINVAL])
        case('set/%s-extlen-12' % op.lower(), Bin(pkt(o, b'k', b'\0' * 12, b'v')),
             statuses=[ST_EINVAL])
        case('set/%s-keylen-0' % op.lower(), Bin(pkt(o, b'', EXTRAS_SET, b'v')),
             statuses=[ST_EINVAL])
    case('set/bodylen-below-key-and-extras', Bin(pkt(SET, b'key', EXTRAS_SET, bodylen=9)),
         statuses=[ST_UNKNOWN])
    case('set/bodylen-below-key', Bin(pkt(SET, b'key', EXTRAS_SET, bodylen=2)),
         statuses=[ST_UNKNOWN])
    case('set/value-split-across-writes',
         Bin(set_('k', 'x' * 3000) + get('k'), split=[5, 24, 33, 40, 1000, 2000, 3030]))
    case('set/one-byte-writes', Bin(set_('k', 'hello', flags=1) + get('k', op=GETK), split='bytes'))
    case('set/large-value', Bin(set_('big', bytes(range(256)) * 2000) + get('big')))
    case('set/datatype-nonzero', Bin(set_('k', 'v', datatype=1) + get('k')))

    # -- flags and expiration --------------------------------------------------------------------
    for f in (0, 1, 0x7fffffff, 0x80000000, 0xffffffff):
        case('flags/roundtrip-%x' % f, Bin(set_('f', 'v', flags=f) + get('f') + get('f', op=GETK)),
             Text('get f\r\ngets f\r\nmg f f v\r\n'))
    case('exp/absolute-past', Bin(set_('k', 'v', exp=1000000000) + get('k')),
         statuses=[0, ST_ENOENT])
    case('exp/relative-over-30-days', Bin(set_('k', 'v', exp=2592001) + get('k')),
         statuses=[0, ST_ENOENT], note='over 30 days is an absolute time: 1970, the past')
    case('exp/relative-30-days', Bin(set_('k', 'v', exp=2592000) + get('k')),
         Text('mg k t\r\n'), statuses=[0, 0], ttl=(2591990, 2592000))
    now = int(time.time())
    case('exp/ffffffff', Bin(set_('k', 'v', exp=0xffffffff) + get('k')), Text('mg k t v\r\n'),
         ttl=(0xffffffff - now - 600, 0xffffffff - now + 5))
    case('exp/80000000', Bin(set_('k', 'v', exp=0x80000000) + get('k')), Text('mg k t v\r\n'),
         ttl=(0x80000000 - now - 600, 0x80000000 - now + 5))
    case('exp/relative-ttl', Bin(set_('k', 'v', exp=100)), Text('mg k t v\r\n'),
         ttl=(98, 100))
    case('exp/expires',
         Bin(set_('k', 'v', exp=2) + set_('p', 'w') + incr('n', 1, 5, exp=2) + get('k')),
         Sleep(3.2),
         Bin(get('k') + get('p') + get('n') + get('k', op=GETQ)),
         statuses=[0, 0, 0, 0, ST_ENOENT, 0, ST_ENOENT])

    # -- DELETE ----------------------------------------------------------------------------------
    case('delete/hit-miss', Bin(set_('k', 'v') + delete('k') + delete('k') + get('k')),
         statuses=[0, 0, ST_ENOENT, ST_ENOENT])
    case('delete/deleteq', Bin(set_('k', 'v') + delete('k', op=DELETEQ) + delete('k', op=DELETEQ)
                               + get('k')),
         statuses=[0, ST_ENOENT, ST_ENOENT])
    case('delete/with-cas',
         Bin(set_('k', 'v') + get('k')),
         Bin(lambda c: delete('k', cas=1 << 60) + delete('k', cas=c.last_cas()) + get('k')),
         statuses=[0, 0, ST_EEXISTS, 0, ST_ENOENT])
    case('delete/with-extras', Bin(set_('k', 'v') + pkt(DELETE, b'k', b'\0\0\0\0')),
         statuses=[0, ST_EINVAL])
    case('delete/with-value', Bin(pkt(DELETE, b'k', b'', b'v')), statuses=[ST_EINVAL])
    case('delete/keylen-0', Bin(pkt(DELETE)), statuses=[ST_EINVAL])
    case('delete/deleteq-keylen-0', Bin(pkt(DELETEQ)), statuses=[ST_EINVAL])

    # -- INCREMENT / DECREMENT -------------------------------------------------------------------
    case('incr/create-with-initial', Bin(incr('n', 5, 10) + incr('n', 5, 10) + get('n')),
         Text('get n\r\n'), statuses=[0, 0, 0])
    case('decr/create-with-initial', Bin(decr('n', 5, 10) + decr('n', 3, 10) + decr('n', 100)
                                         + get('n')),
         statuses=[0, 0, 0, 0])
    case('incr/no-create-ffffffff', Bin(incr('n', 1, 5, exp=0xffffffff)
                                        + decr('n', 1, 5, exp=0xffffffff) + get('n')),
         statuses=[ST_ENOENT, ST_ENOENT, ST_ENOENT])
    case('incr/quiet-no-create-ffffffff', Bin(incr('n', 1, 5, exp=0xffffffff, op=INCREMENTQ)),
         statuses=[ST_ENOENT])
    case('incr/existing-ignores-initial', Bin(set_('n', '7', flags=3) + incr('n', 1, 100, exp=0xffffffff)
                                              + get('n')),
         statuses=[0, 0, 0])
    case('incr/initial-max', Bin(incr('n', 1, (1 << 64) - 1) + incr('n', 1) + get('n')))
    case('incr/wrap', Bin(set_('n', '18446744073709551615') + incr('n', 1) + get('n')),
         statuses=[0, 0, 0])
    case('incr/wrap-large-delta', Bin(set_('n', '10') + incr('n', (1 << 64) - 5) + get('n')))
    case('decr/below-zero', Bin(set_('n', '3') + decr('n', 10) + get('n')), statuses=[0, 0, 0])
    case('incr/length-grows', Bin(set_('n', '99') + incr('n', 1)), Text('get n\r\n'))
    case('decr/length-shrinks', Bin(set_('n', '100') + decr('n', 1) + get('n')),
         Text('get n\r\n'))
    case('incr/non-numeric', Bin(set_('n', 'abc') + incr('n', 1) + decr('n', 1) + get('n')),
         statuses=[0, ST_BADVAL, ST_BADVAL, 0])
    case('incr/non-numeric-quiet', Bin(set_('n', 'abc') + incr('n', 1, op=INCREMENTQ)
                                       + decr('n', 1, op=DECREMENTQ)),
         statuses=[0, ST_BADVAL, ST_BADVAL])
    case('incr/too-long-number', Bin(set_('n', '18446744073709551616') + incr('n', 1)),
         statuses=[0, ST_BADVAL])
    case('incr/leading-space-and-zeros', Bin(set_('n', ' 12') + incr('n', 1) + set_('m', '007')
                                             + incr('m', 1) + set_('o', '12 ') + incr('o', 1)))
    case('incr/negative-text', Bin(set_('n', '-1') + incr('n', 1)))
    case('incr/empty-value', Bin(set_('n', '') + incr('n', 1)))
    case('incr/quiet-success', Bin(incr('n', 1, 1, op=INCREMENTQ) + incr('n', 2, op=INCREMENTQ)
                                   + decr('n', 1, op=DECREMENTQ) + get('n')),
         statuses=[0])
    case('incr/with-cas',
         Bin(set_('n', '1') + get('n')),
         Bin(lambda c: incr('n', 1, cas=1 << 60) + incr('n', 1, cas=c.last_cas()) + get('n')),
         statuses=[0, 0, ST_EEXISTS, 0, 0])
    case('incr/cas-on-missing-with-initial', Bin(incr('n', 1, 9, cas=123) + get('n')))
    for op in ('INCREMENT', 'DECREMENTQ'):
        o = OPS[op]
        case('incr/%s-extlen-0' % op.lower(), Bin(pkt(o, b'n')), statuses=[ST_EINVAL])
        case('incr/%s-extlen-8' % op.lower(), Bin(pkt(o, b'n', b'\0' * 7 + b'\1')),
             statuses=[ST_EINVAL])
        case('incr/%s-extlen-21' % op.lower(), Bin(pkt(o, b'n', b'\0' * 21)),
             statuses=[ST_EINVAL])
        case('incr/%s-keylen-0' % op.lower(), Bin(pkt(o, b'', b'\0' * 20)),
             statuses=[ST_EINVAL])
        case('incr/%s-with-value' % op.lower(), Bin(pkt(o, b'n', b'\0' * 20, b'5')),
             statuses=[ST_EINVAL])
    case('incr/create-with-past-expiry', Bin(incr('n', 1, 7, exp=1000000000) + get('n')))
    case('incr/create-with-ttl', Bin(incr('n', 1, 7, exp=100)), Text('mg n t v\r\n'), ttl=(98, 100))
    case('incr/delta-0', Bin(set_('n', '007') + incr('n', 0) + get('n')))
    case('decr/max-by-one', Bin(set_('n', '18446744073709551615') + decr('n', 1) + get('n')))
    case('incr/after-append', Bin(set_('n', '1') + concat(APPEND, 'n', '0') + incr('n', 5) + get('n')))
    case('incr/twenty-digit-zeros', Bin(set_('n', '00000000000000000001') + incr('n', 1) + get('n')))
    case('incr/then-text-incr', Bin(incr('n', 1, 41)), Text('incr n 1\r\nget n\r\n'),
         Bin(get('n')))

    # -- APPEND / PREPEND ------------------------------------------------------------------------
    case('append/hit-keeps-flags', Bin(set_('k', 'mid', flags=42) + concat(APPEND, 'k', '_end')
                                       + concat(PREPEND, 'k', 'start_') + get('k')),
         statuses=[0, 0, 0, 0])
    case('append/miss', Bin(concat(APPEND, 'k', 'x') + concat(PREPEND, 'k', 'x') + get('k')),
         statuses=[ST_NOT_STORED, ST_NOT_STORED, ST_ENOENT])
    case('append/quiet', Bin(set_('k', 'v') + concat(APPENDQ, 'k', '1') + concat(PREPENDQ, 'k', '0')
                             + concat(APPENDQ, 'nosuch', 'x') + concat(PREPENDQ, 'nosuch', 'x')
                             + get('k')),
         statuses=[0, ST_NOT_STORED, ST_NOT_STORED, 0])
    case('append/with-cas',
         Bin(set_('k', 'v') + get('k')),
         Bin(lambda c: concat(APPEND, 'k', 'x', cas=1 << 60) + concat(APPEND, 'k', 'y', cas=c.last_cas())
             + get('k')),
         statuses=[0, 0, ST_EEXISTS, 0, 0])
    case('append/empty', Bin(set_('k', 'v') + concat(APPEND, 'k', '') + get('k')))
    case('append/with-extras', Bin(set_('k', 'v') + pkt(APPEND, b'k', EXTRAS_SET, b'x')),
         statuses=[0, ST_EINVAL])
    case('append/prepend-keylen-0', Bin(pkt(PREPEND, b'', b'', b'x')), statuses=[ST_EINVAL])
    case('append/appendq-with-extras', Bin(pkt(APPENDQ, b'k', b'\0\0\0\0', b'x')),
         statuses=[ST_EINVAL])
    case('append/binary-data', Bin(set_('k', b'\0\r\n') + concat(APPEND, 'k', b'\xff\x00')
                                   + concat(PREPEND, 'k', b'\r\n') + get('k')))

    # -- TOUCH / GAT -----------------------------------------------------------------------------
    case('touch/hit-miss', Bin(set_('k', 'v', flags=6) + touch('k', 100) + touch('nosuch', 100)),
         Text('mg k t v\r\n'), statuses=[0, 0, ST_ENOENT], ttl=(98, 100))
    case('touch/to-zero', Bin(set_('k', 'v', exp=100) + touch('k', 0)), Text('mg k t\r\n'))
    case('touch/absolute-past', Bin(set_('k', 'v') + touch('k', 1000000000) + get('k')))
    case('gat/hit-miss', Bin(set_('k', 'val', flags=11) + touch('k', 200, op=GAT)
                             + touch('nosuch', 200, op=GAT)),
         Text('mg k t\r\n'), statuses=[0, 0, ST_ENOENT], ttl=(198, 200))
    case('gat/gatk', Bin(set_('k', 'val', flags=11) + touch('k', 0, op=GATK)
                         + touch('nosuch', 0, op=GATK)),
         statuses=[0, 0, ST_ENOENT])
    case('gat/quiet', Bin(set_('k', 'val') + touch('k', 300, op=GATQ) + touch('n', 300, op=GATQ)
                          + touch('k', 300, op=GATKQ) + touch('n', 300, op=GATKQ)),
         Text('mg k t\r\n'), statuses=[0, 0, 0], ttl=(298, 300))
    case('gat/absolute-past', Bin(set_('k', 'v') + touch('k', 1000000000, op=GAT) + get('k')))
    case('gat/ffffffff', Bin(set_('k', 'v') + touch('k', 0xffffffff, op=GAT) + get('k')),
         Text('mg k t\r\n'), ttl=(0xffffffff - now - 600, 0xffffffff - now + 5))
    case('gat/cas-unchanged', Bin(set_('k', 'v') + get('k') + touch('k', 100, op=GAT)
                                  + touch('k', 100) + get('k')))
    for op in ('TOUCH', 'GAT', 'GATQ', 'GATK', 'GATKQ'):
        o = OPS[op]
        case('touch/%s-extlen-0' % op.lower(), Bin(set_('k', 'v') + pkt(o, b'k')),
             statuses=[0, ST_EINVAL])
        case('touch/%s-extlen-8' % op.lower(), Bin(set_('k', 'v') + pkt(o, b'k', b'\0' * 8)),
             statuses=[0, ST_EINVAL])
        case('touch/%s-keylen-0' % op.lower(), Bin(pkt(o, b'', b'\0\0\0\1')),
             statuses=[ST_EINVAL])
    case('touch/with-value', Bin(set_('k', 'v') + pkt(TOUCH, b'k', b'\0\0\0\0', b'xyz')),
         note='memcached does not check the body length of TOUCH/GAT: the extra bytes are read as '
         'the next request')
    case('touch/gat-with-value-noop', Bin(set_('k', 'v') + pkt(GAT, b'k', b'\0\0\0\0', noop(9))))

    # -- FLUSH -----------------------------------------------------------------------------------
    case('flush/plain', Bin(set_('a', '1') + set_('b', '2') + flush() + get('a') + get('b')),
         statuses=[0, 0, 0, ST_ENOENT, ST_ENOENT])
    case('flush/flushq', Bin(set_('a', '1') + flush(op=FLUSHQ) + get('a')),
         statuses=[0, ST_ENOENT])
    case('flush/exp-0', Bin(set_('a', '1') + flush(0) + get('a') + set_('a', '2') + get('a')),
         statuses=[0, 0, ST_ENOENT, 0, 0])
    case('flush/delayed',
         Bin(set_('a', '1') + flush(2) + get('a')),
         Sleep(3.2),
         Bin(get('a') + set_('b', '2') + get('b')),
         statuses=[0, 0, 0, ST_ENOENT, 0, 0])
    case('flush/ffffffff', Bin(set_('a', '1') + flush(0xffffffff) + get('a')))
    case('flush/absolute-past', Bin(set_('a', '1') + flush(1000000000) + get('a') + set_('b', '2')
                                    + get('b')))
    case('flush/extlen-2', Bin(pkt(FLUSH, b'', b'\0\0')), statuses=[ST_EINVAL])
    case('flush/extlen-8', Bin(pkt(FLUSH, b'', b'\0' * 8)), statuses=[ST_EINVAL])
    case('flush/with-key', Bin(pkt(FLUSH, b'k')), statuses=[ST_EINVAL])
    case('flush/with-value', Bin(pkt(FLUSHQ, b'', b'\0\0\0\0', b'x')), statuses=[ST_EINVAL])

    # -- NOOP / VERSION / QUIT -------------------------------------------------------------------
    case('noop/basic', Bin(noop(1) + noop(2) + noop(0xffffffff)), statuses=[0, 0, 0])
    case('noop/with-key', Bin(pkt(NOOP, b'k')), statuses=[ST_EINVAL])
    case('noop/with-extras', Bin(pkt(NOOP, b'', b'\0\0\0\0')), statuses=[ST_EINVAL])
    case('noop/with-value', Bin(pkt(NOOP, b'', b'', b'v')), statuses=[ST_EINVAL])
    case('version/basic', Bin(simple(VERSION)), statuses=[0])
    case('version/with-key', Bin(pkt(VERSION, b'k')), statuses=[ST_EINVAL])
    case('version/with-value', Bin(pkt(VERSION, b'', b'', b'x')), statuses=[ST_EINVAL])
    case('quit/quit', Bin(simple(QUIT) + get('k'), end='close'), statuses=[0])
    case('quit/quitq', Bin(simple(QUITQ) + get('k'), end='close'), statuses=[])
    case('quit/after-pipeline', Bin(set_('k', 'v', op=SETQ) + get('k', op=GETKQ) + simple(QUITQ),
                                    end='close'),
         statuses=[0])
    case('quit/with-key', Bin(pkt(QUIT, b'k')), statuses=[ST_EINVAL])
    case('quit/quitq-with-extras', Bin(pkt(QUITQ, b'', b'\0\0\0\0')), statuses=[ST_EINVAL])

    # -- STAT ------------------------------------------------------------------------------------
    case('stat/all', Bin(set_('k', 'v') + stat()))
    case('stat/settings', Bin(stat('settings')))
    case('stat/items', Bin(set_('k', 'v') + stat('items')), fresh=True)
    case('stat/slabs', Bin(set_('k', 'v') + stat('slabs')), fresh=True)
    case('stat/sizes', Bin(stat('sizes')), fresh=True)
    case('stat/nosuch', Bin(stat('nosuch')), statuses=[ST_ENOENT])
    case('stat/reset', Bin(stat('reset') + stat('reset-more')))
    case('stat/detail', Bin(stat('detail on') + set_('a:1', 'v') + get('a:2') + stat('detail dump')
                            + stat('detail off') + stat('detail') + stat('detail bogus')))
    case('stat/with-extras', Bin(pkt(STAT, b'', b'\0\0\0\0')), statuses=[ST_EINVAL])
    case('stat/with-value-after-key', Bin(set_('k', 'v') + pkt(STAT, b'items', b'', noop(9))),
         note='memcached does not check the body length of STAT: the rest is the next request',
         fresh=True)
    case('stat/text-after-binary-set', Bin(set_('k', 'v')), Text('stats items\r\n'), fresh=True)

    # -- VERBOSITY, SASL, unknown opcodes --------------------------------------------------------
    case('verbosity/with-extras', Bin(pkt(VERBOSITY, b'', b'\0\0\0\1')),
         note='no VERBOSITY in 1.6.18: an unknown command, and its body is skipped twice')
    case('verbosity/no-extras', Bin(pkt(VERBOSITY)), statuses=[ST_UNKNOWN])
    case('sasl/list-mechs', Bin(simple(SASL_LIST_MECHS)), statuses=[ST_UNKNOWN])
    case('sasl/list-mechs-with-key', Bin(pkt(SASL_LIST_MECHS, b'k')), statuses=[ST_EINVAL])
    case('sasl/auth-plain', Bin(pkt(SASL_AUTH, b'PLAIN', b'', b'\0user\0pass')),
         statuses=[ST_UNKNOWN])
    case('sasl/step', Bin(pkt(SASL_STEP, b'PLAIN', b'', b'more')), statuses=[ST_UNKNOWN])
    case('sasl/auth-keylen-0', Bin(pkt(SASL_AUTH, b'', b'', b'x')), statuses=[ST_EINVAL])
    case('sasl/auth-with-extras', Bin(pkt(SASL_AUTH, b'PLAIN', b'\0\0\0\0', b'x')),
         statuses=[ST_EINVAL])
    case('sasl/then-get', Bin(pkt(SASL_AUTH, b'PLAIN', b'', b'\0u\0p') + set_('k', 'v') + get('k')),
         statuses=[ST_UNKNOWN, 0, 0])
    for op in (0x1f, 0x25, 0x30, 0x3f, 0x48, 0xfe, 0xff):
        case('unknown/op-%02x' % op, Bin(pkt(op)), statuses=[ST_UNKNOWN])
    case('unknown/with-key', Bin(pkt(0x30, b'key') + noop(3)),
         note='memcached skips an unknown command\'s body after its key and extras: it eats the '
         'next bytes')
    case('unknown/with-key-and-filler', Bin(pkt(0x30, b'key') + b'\0\0\0' + noop(3)),
         statuses=[ST_UNKNOWN, 0])
    case('unknown/with-value', Bin(pkt(0x31, b'', b'', b'abcdef') + noop(3)),
         statuses=[ST_UNKNOWN, 0])
    case('unknown/with-extras', Bin(pkt(0x32, b'', b'\0\0') + b'\0\0' + noop(3)),
         statuses=[ST_UNKNOWN, 0])
    case('unknown/then-set-get', Bin(pkt(0x40) + set_('k', 'v') + get('k')),
         statuses=[ST_UNKNOWN, 0, 0])
    case('unknown/quiet-looking', Bin(pkt(0x25) + pkt(0x26) + get('k', op=GETQ)),
         statuses=[ST_UNKNOWN, ST_UNKNOWN])

    # -- framing ---------------------------------------------------------------------------------
    many = b''.join(set_('m%d' % i, 'v%d' % i, flags=i, op=SETQ) for i in range(50))
    many += b''.join(get('m%d' % i, op=GETKQ) for i in range(0, 60, 3))
    many += b''.join(incr('c%d' % i, i, i) for i in range(10))
    case('framing/many-per-packet', Bin(many))
    case('framing/one-byte-writes', Bin(set_('a', 'A', op=SETQ) + get('a', op=GETK)
                                        + get('b', op=GETQ) + incr('n', 3, 4) + stat('nosuch'),
                                        split='bytes'))
    case('framing/split-header', Bin(set_('k', 'value') + get('k'), split=[1, 10, 23, 24, 30, 37]))
    case('framing/zero-first-byte-is-text', Bin(pkt(GET, b'k', magic=0x00) + b'\r\n', end='close'))
    case('framing/response-magic-first', Bin(pkt(NOOP, magic=RES), end='close'))
    case('framing/bad-magic-after-good', Bin(get('k') + pkt(GET, b'k', magic=0x81), end='close'),
         statuses=[ST_ENOENT])
    case('framing/bad-magic-00-after-good', Bin(get('k') + pkt(GET, b'k', magic=0x00), end='close'),
         statuses=[ST_ENOENT])
    case('framing/text-after-binary', Bin(get('k') + b'get k\r\nget otherkey\r\nget k\r\n',
                                          end='close'),
         statuses=[ST_ENOENT])
    case('framing/binary-after-text', Text('get k\r\n' + 'mn\r\n', conn=1, end='quiet'),
         Bin(get('k'), end='quiet'))
    case('framing/keylen-over-bodylen', Bin(pkt(GET, b'key', bodylen=2), end='close'),
         statuses=[ST_UNKNOWN])
    case('framing/extlen-over-bodylen', Bin(pkt(GET, b'', b'\0\0\0\0', bodylen=2), end='close'))
    case('framing/partial-header-then-rest', Bin(get('k')[:12], end='quiet'), Bin(get('k')[12:]))
    case('framing/partial-body-then-rest', Bin(set_('k', 'abcdef')[:36], end='quiet'),
         Bin(set_('k', 'abcdef')[36:] + get('k')))
    case('framing/huge-bodylen-set', Bin(pkt(SET, b'k', EXTRAS_SET, b'', bodylen=0x7fffffff),
                                         end='quiet'),
         statuses=[], note='memcached holds the E2BIG answer while it swallows the body, which never ends')
    case('framing/huge-keylen', Bin(pkt(GET, b'k' * 300, bodylen=300), end='close'),
         statuses=[ST_EINVAL])
    case('framing/keylen-20000-sent', Bin(pkt(GET, b'k' * 20000), end='close'),
         note='memcached reads at most 16 KB of header, extras and key: it closes without a reply')
    case('framing/keylen-65535', Bin(pkt(GET, b'', keylen=0xffff, bodylen=0xffff), end='quiet'),
         note='memcached waits for the whole key before it judges the length')
    case('framing/many-noops', Bin(b''.join(noop(i) for i in range(1000))))
    case('framing/large-pipelined-gets',
         Bin(set_('big', b'b' * (value_limit(3, 0)), op=SETQ) + get('big', op=GETQ) * 4
             + get('big', op=GETKQ) + get('nosuch', op=GETKQ) + get('big', op=GETK)),
         note='5 MB of answers to one write: the server must keep reading as it writes')
    case('framing/error-inside-quiet-pipeline', Bin(set_('a', '1', op=SETQ) + get('a', op=GETKQ)
                                                    + get(K251, op=GETQ) + get('a', op=GETK)),
         statuses=[0, ST_EINVAL])
    case('framing/sasl-body-swallowed', Bin(pkt(SASL_AUTH, b'PLAIN', b'', b'x' * 100000)
                                            + get('k')),
         statuses=[ST_UNKNOWN, ST_ENOENT])
    case('framing/half-close', Bin(set_('k', 'v') + get('k') + noop(5), end='close', shut_wr=True))
    case('framing/half-close-mid-packet', Bin(set_('k', 'v') + get('k')[:10], end='close',
                                              shut_wr=True))
    case('framing/stat-inside-quiet-pipeline', Bin(set_('a', '1', op=SETQ) + stat('nosuch')
                                                   + get('a', op=GETKQ) + stat('settings')
                                                   + get('a', op=GETQ)))
    case('framing/two-connections', Bin(set_('k', 'one', op=SETQ), conn=1),
         Bin(get('k', op=GETK), conn=2), Bin(delete('k'), conn=1), Bin(get('k'), conn=2))

    # -- keys ------------------------------------------------------------------------------------
    case('keys/250', Bin(set_(K250, 'v') + get(K250, op=GETK) + delete(K250) + incr(K250, 1, 1)
                         + concat(APPEND, K250, 'x') + touch(K250, 10) + get(K250)),
         Text(b'get ' + K250 + b'\r\n'),
         statuses=[0, 0, 0, 0, 0, 0, 0])
    case('keys/250-getk-miss', Bin(get(K250, op=GETK) + touch(K250, 5, op=GATK)),
         statuses=[ST_ENOENT, ST_ENOENT])
    case('keys/251-get', Bin(get(K251)), statuses=[ST_EINVAL])
    case('keys/251-getkq', Bin(get(K251, op=GETKQ)), statuses=[ST_EINVAL])
    case('keys/251-set', Bin(set_(K251, 'v')), statuses=[ST_EINVAL])
    case('keys/251-setq', Bin(set_(K251, 'v', op=SETQ)), statuses=[ST_EINVAL])
    case('keys/251-delete', Bin(delete(K251)), statuses=[ST_EINVAL])
    case('keys/251-incr', Bin(incr(K251)), statuses=[ST_EINVAL])
    case('keys/251-append', Bin(concat(APPEND, K251, 'x')), statuses=[ST_EINVAL])
    case('keys/251-touch', Bin(touch(K251, 1)), statuses=[ST_EINVAL])
    case('keys/251-stat', Bin(stat(K251)), statuses=[ST_EINVAL])
    case('keys/unknown-op-251', Bin(pkt(0x50, K251)), statuses=[ST_EINVAL])
    case('keys/space-and-control-bytes', Bin(set_(b'a b', '1') + set_(b'a\x01b', '2')
                                             + set_(b'\x80', '3') + get(b'a b', op=GETK)
                                             + get(b'a\x01b', op=GETK) + get(b'\x80', op=GETK)),
         Text(b'get a\x01b\r\n'))

    # -- the item size limit (-I 1m on both) -----------------------------------------------------
    lim3 = value_limit(3, 0)
    case('limits/value-at-limit', Bin(set_('big', b'v' * lim3) + get('big')), statuses=[0, 0])
    case('limits/value-over-limit', Bin(set_('big', b'v' * (lim3 + 1)) + get('big')),
         statuses=[ST_E2BIG, ST_ENOENT])
    lim3f = value_limit(3, 1)
    case('limits/flags-value-at-limit', Bin(set_('big', b'v' * lim3f, flags=1) + get('big')),
         statuses=[0, 0])
    case('limits/flags-value-over-limit', Bin(set_('big', b'v' * (lim3f + 1), flags=1)
                                             + get('big')),
         statuses=[ST_E2BIG, ST_ENOENT])
    lim250 = value_limit(250, 0)
    case('limits/key-250-value-at-limit', Bin(set_(K250, b'v' * lim250) + get(K250, op=GETKQ)),
         statuses=[0, 0])
    case('limits/key-250-value-over-limit', Bin(set_(K250, b'v' * (lim250 + 1))),
         statuses=[ST_E2BIG])
    case('limits/setq-over-limit', Bin(set_('big', b'v' * (lim3 + 1), op=SETQ) + get('big')),
         statuses=[ST_E2BIG, ST_ENOENT])
    case('limits/add-over-limit', Bin(store(ADDQ, 'big', b'v' * (lim3 + 100))),
         statuses=[ST_E2BIG])
    case('limits/over-limit-set-drops-old', Bin(set_('big', 'small') + set_('big', b'v' * (2 << 20))
                                                + get('big')),
         statuses=[0, ST_E2BIG, ST_ENOENT])
    case('limits/over-limit-replace-keeps-old', Bin(set_('big', 'small')
                                                    + store(REPLACE, 'big', b'v' * (2 << 20))
                                                    + get('big')),
         statuses=[0, ST_E2BIG, 0])
    case('limits/append-past-limit', Bin(set_('big', b'v' * (lim3 - 10))
                                         + concat(APPEND, 'big', b'w' * 20) + get('big')))
    case('limits/append-value-over-limit', Bin(set_('big', b'v')
                                               + concat(APPEND, 'big', b'w' * (2 << 20))
                                               + get('big')))
    case('limits/text-reads-binary-max', Bin(set_('big', b'z' * lim3, flags=0)),
         Text('mg big s f\r\n'))

    # -- across protocols ------------------------------------------------------------------------
    case('xproto/bin-set-text-get', Bin(set_('k', 'hello', flags=0xdeadbeef)),
         Text('get k\r\ngets k\r\nmg k v f c s t\r\n'), statuses=[0])
    case('xproto/text-set-bin-get', Text('set k 77 0 5\r\nhello\r\nms j 2 F5 T100\r\nhi\r\n'),
         Bin(get('k') + get('j', op=GETK) + get('k', op=GETKQ)))
    case('xproto/text-cas-to-bin', Text('set k 0 0 1\r\na\r\ngets k\r\n'),
         Bin(lambda c: set_('k', 'b', cas=c.text_cas()) + get('k')),
         Text('gets k\r\n'))
    case('xproto/bin-cas-to-text', Bin(set_('k', 'a') + get('k')),
         Text('gets k\r\n'),
         Bin(lambda c: set_('k', 'b', cas=c.text_cas())),
         Text('mg k c v\r\n'))
    case('xproto/bin-cas-to-text-cas', Bin(set_('k', 'a') + get('k')),
         Text(lambda c: b'cas k 0 0 1 %d\r\nx\r\ncas k 0 0 1 %d\r\ny\r\n'
              % (c.last_cas(), c.last_cas())),
         Bin(get('k')))
    case('xproto/bin-incr-text-get', Bin(incr('n', 1, 99)), Text('get n\r\nincr n 1\r\n'),
         Bin(get('n') + incr('n', 1)))
    case('xproto/text-incr-bin-incr', Text('set n 5 0 2\r\n10\r\nincr n 5\r\n'),
         Bin(incr('n', 5) + get('n')))
    case('xproto/bin-delete-text-get', Bin(set_('k', 'v') + delete('k')), Text('get k\r\n'))
    case('xproto/text-append-bin-get', Text('set k 3 0 1\r\na\r\nappend k 0 0 1\r\nb\r\n'),
         Bin(concat(PREPEND, 'k', 'z') + get('k')), Text('get k\r\n'))
    case('xproto/bin-touch-text-ttl', Bin(set_('k', 'v') + touch('k', 500)), Text('mg k t\r\n'),
         ttl=(498, 500))
    case('xproto/text-ttl-bin-gat', Text('set k 0 100 1\r\nv\r\n'),
         Bin(touch('k', 0, op=GAT)), Text('mg k t\r\n'))
    case('xproto/bin-flush-text', Text('set k 0 0 1\r\nv\r\n'), Bin(flush()), Text('get k\r\n'))
    case('xproto/text-noreply-then-bin', Text('set k 0 0 1 noreply\r\nv\r\n'),
         Bin(get('k', op=GETK)))
    case('xproto/binary-key-text-get', Bin(set_(b'\xff\xfe', 'v')), Text(b'get \xff\xfe\r\n'))
    case('xproto/meta-flags-bin', Text('ms k 3 F4294967295\r\nabc\r\n'), Bin(get('k')))
    case('xproto/meta-invalidate-bin', Bin(set_('k', 'v')), Text('md k I T30\r\n'),
         Bin(get('k')), Text('mg k v c\r\n'))


build_cases()

# ------------------------------------------------------------------------------------------------
# Running one case against one server
# ------------------------------------------------------------------------------------------------


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.closed = False
        self.write_error = None

    def pump(self, buf, timeout):
        """Waits up to timeout for bytes and appends what is there to buf; True when something (or
        EOF) arrived."""
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
            except OSError:
                self.closed = True
                return True
            if not d:
                self.closed = True
                return True
            buf += d
            got = True

    def write(self, data, buf, deadline):
        """Writes data, reading into buf meanwhile (a server may answer while we still write)."""
        view = memoryview(data)
        while view and not self.closed and self.write_error is None:
            if time.monotonic() > deadline:
                self.write_error = 'timeout'
                return
            r, w, _ = select.select([self.sock], [self.sock], [], 0.5)
            if r:
                self.pump(buf, 0)
            if w:
                try:
                    k = self.sock.send(view)
                except BlockingIOError:
                    continue
                except OSError as e:
                    self.write_error = e.__class__.__name__
                    return
                view = view[k:]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def pieces_of(data, split):
    if split is None:
        return [data]
    if split == 'bytes':
        return [data[i:i + 1] for i in range(len(data))]
    out = []
    prev = 0
    for off in split:
        if prev < off <= len(data):
            out.append(data[prev:off])
            prev = off
    out.append(data[prev:])
    return [p for p in out if p]


def run_case_on(port, case, result):
    """Runs case against the server at port; result['steps'] = [(step, bytes, closed, error)]."""
    conns = {}
    ctx = Ctx()
    steps = []
    deadline = time.monotonic() + CASE_DEADLINE
    try:
        for st in case.steps:
            if st.kind == 'sleep':
                time.sleep(st.seconds)
                continue
            c = conns.get(st.conn)
            if c is None:
                c = conns[st.conn] = Conn(port)
            data = st.data(ctx) if callable(st.data) else st.data
            if isinstance(data, str):
                data = data.encode()
            if st.kind == 'bin' and st.end == 'noop':
                data += SENTINEL_PKT
            elif st.kind == 'text' and st.end == 'mn':
                data += b'mn\r\n'
            buf = bytearray()
            was_closed = c.closed
            for piece in pieces_of(data, st.split):
                c.write(piece, buf, deadline)
                if st.split is not None:
                    c.pump(buf, SPLIT_PAUSE)
            if st.shut_wr:
                try:
                    c.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            if st.kind == 'bin' and st.end == 'noop':
                done = has_sentinel_reply
                quiet = QUIET
            elif st.kind == 'text' and st.end == 'mn':
                def done(b):
                    return b.endswith(b'MN\r\n')
                quiet = QUIET
            elif st.end == 'close':
                def done(_b):
                    return False
                quiet = CLOSE_QUIET
            else:
                def done(_b):
                    return False
                quiet = QUIET
            while not c.closed and time.monotonic() < deadline:
                if done(buf):
                    if not c.pump(buf, GRACE):
                        break
                elif not c.pump(buf, quiet):
                    break
            if st.kind == 'bin':
                ctx.packets += parse_packets(buf)[0]
            else:
                ctx.text += bytes(buf)
            steps.append((st, bytes(buf), c.closed and not was_closed,
                          'already closed' if was_closed else c.write_error))
    except OSError as e:
        result['error'] = '%s: %s' % (e.__class__.__name__, e)
    finally:
        for c in conns.values():
            c.close()
    result['steps'] = steps


# ------------------------------------------------------------------------------------------------
# Normalising and rendering
# ------------------------------------------------------------------------------------------------

def show(data, limit=120):
    """Bytes as readable text; long runs are summarised by length and CRC so they still compare."""
    if len(data) > limit:
        return '<%d bytes, crc32 %08x, starts %s>' % (len(data), zlib.crc32(data),
                                                     show(data[:24]))
    out = []
    for b in data:
        if b == 0x5c:
            out.append('\\\\')
        elif b == 13:
            out.append('\\r')
        elif b == 10:
            out.append('\\n')
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append('\\x%02x' % b)
    return ''.join(out)


class Norm:
    """The normalisation state of one side in one case: CAS values by order of appearance."""

    def __init__(self, case):
        self.case = case
        self.cas = {}

    def cas_name(self, v):
        if v == 0:
            return '0'
        if v not in self.cas:
            self.cas[v] = '#%d' % (len(self.cas) + 1)
        return self.cas[v]

    def packet(self, h, ext, key, val):
        magic, op, kl, el, dt, status, bl, opaque, cas = h
        name = OP_NAMES.get(op, '0x%02x' % op)
        if op == NOOP and opaque == SENTINEL:
            return 'NOOP (end of step) status=%d cas=%s' % (status, self.cas_name(cas))
        body = str(bl)
        shown_val = show(val)
        if op == VERSION and status == 0:
            body, shown_val = '*', '<version>'
        elif op == STAT and status == 0 and kl > 0:
            body, shown_val = '%d+*' % (el + kl), '*'
        line = '%s status=0x%04x keylen=%d extlen=%d datatype=%d bodylen=%s opaque=0x%08x ' \
               'cas=%s' % (name, status, kl, el, dt, body, opaque, self.cas_name(cas))
        if ext:
            line += ' extras=%s' % ext.hex()
        if key:
            line += ' key=%s' % show(key)
        if val or op == STAT:
            line += ' value=%s' % shown_val
        return line

    def binary(self, buf):
        pkts, used = parse_packets(buf)
        lines = [self.packet(*p) for p in pkts]
        if used < len(buf):
            rest = buf[used:]
            if len(rest) >= 24 and rest[0] == RES:
                lines.append('incomplete packet: %d of %d bytes: %s' % (
                    len(rest), 24 + HEADER.unpack_from(rest)[6], show(rest[:48])))
            else:
                lines.append('not a packet: %s' % show(rest))
        return lines

    def ttl(self, token):
        lo, hi = self.case.ttl if self.case.ttl else (None, None)
        n = int(token[1:])
        if lo is not None and lo <= n <= hi:
            return 't<%d..%d>' % (lo, hi)
        return token

    def meta_flags(self, tokens):
        out = []
        for t in tokens:
            if re.match(r'^c\d+$', t):
                t = 'c' + self.cas_name(int(t[1:]))
            elif re.match(r'^t-?\d+$', t):
                t = self.ttl(t)
            out.append(t)
        return out

    def text(self, buf):
        lines = []
        i = 0
        while i < len(buf):
            e = buf.find(b'\r\n', i)
            if e < 0:
                lines.append('unterminated: %s' % show(buf[i:]))
                break
            line = buf[i:e].decode('latin-1')
            i = e + 2
            words = line.split(' ')
            if words[0] == 'VALUE' and len(words) >= 4 and words[3].isdigit():
                if len(words) == 5 and words[4].isdigit():
                    words[4] = self.cas_name(int(words[4]))
                n = int(words[3])
                lines.append(show(' '.join(words).encode('latin-1'), 400))
                lines.append('  data: %s' % show(buf[i:i + n + 2]))
                i += n + 2
                continue
            if words[0] == 'VA' and len(words) >= 2 and words[1].isdigit():
                n = int(words[1])
                lines.append(show(' '.join(words[:2] + self.meta_flags(words[2:]))
                                  .encode('latin-1'), 400))
                lines.append('  data: %s' % show(buf[i:i + n + 2]))
                i += n + 2
                continue
            if words[0] in ('HD', 'EN', 'NF', 'NS', 'EX', 'MN'):
                lines.append(show(' '.join(words[:1] + self.meta_flags(words[1:]))
                                  .encode('latin-1'), 400))
                continue
            if words[0] == 'STAT' and len(words) >= 3:
                lines.append('STAT %s *' % show(words[1].encode('latin-1')))
                continue
            if words[0] == 'VERSION':
                lines.append('VERSION *')
                continue
            lines.append(show(buf[i - len(line) - 2:i - 2]))
        return lines


def render(case, result):
    """The normalised transcript of one side: a list of lines."""
    norm = Norm(case)
    out = []
    for st, data, closed, err in result.get('steps', []):
        out.append('[conn %d %s%s]' % (st.conn, st.kind, ' split' if st.split else ''))
        out += ['  ' + l for l in (norm.binary(data) if st.kind == 'bin' else norm.text(data))]
        if err:
            out.append('  (write: %s)' % err)
        if closed:
            out.append('  [closed by the server]')
    if 'error' in result:
        out.append('runner error: %s' % result['error'])
    return out


def reference_statuses(result):
    got = []
    for st, data, _closed, _err in result.get('steps', []):
        if st.kind != 'bin':
            continue
        for h, _e, _k, _v in parse_packets(data)[0]:
            if not (h[1] == NOOP and h[7] == SENTINEL):
                got.append(h[5])
    return got


# ------------------------------------------------------------------------------------------------
# Servers
# ------------------------------------------------------------------------------------------------

class StartError(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, label, binary, workdir):
        self.label = label
        self.binary = binary
        self.workdir = workdir
        self.proc = None
        self.port = None
        self.log = None
        self.control = None

    def argv(self):
        return server_argv(self.binary, self.port)

    def start(self):
        for _attempt in range(3):
            self.port = free_port()
            self.log = open(os.path.join(self.workdir, '%s.log' % self.label), 'ab')
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self.log,
                                         stderr=subprocess.STDOUT, cwd=self.workdir)
            end = time.monotonic() + START_TIMEOUT
            while time.monotonic() < end and self.proc.poll() is None:
                try:
                    socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                    return
                except OSError:
                    time.sleep(0.02)
            self.stop()
        raise StartError('%s did not start: %s' % (self.label, shlex.join(self.argv())))

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

    def flush_all(self):
        """A text flush_all on the control connection; reconnects when needed."""
        last = ''
        for _attempt in range(2):
            try:
                if self.control is None:
                    self.control = socket.create_connection(('127.0.0.1', self.port), timeout=5)
                self.control.sendall(b'flush_all\r\n')
                got = b''
                while not got.endswith(b'\r\n'):
                    d = self.control.recv(4096)
                    if not d:
                        raise OSError('closed')
                    got += d
                if got != b'OK\r\n':
                    return 'flush_all answered %s' % show(got)
                return None
            except OSError as e:
                try:
                    if self.control:
                        self.control.close()
                except OSError:
                    pass
                self.control = None
                last = str(e)
        return 'flush_all failed: %s' % last


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


def run_one(case, side_a, side_b, label_a, label_b, known, args):
    # Under --server-arg every case gets fresh servers instead of a flush_all (-F refuses it, and
    # with -C memcached hides what is stored in the second of a flush_all).
    fresh = case.fresh or bool(EXTRA_ARGS)
    for side in (side_a, side_b):
        if fresh or not side.alive():
            side.stop()
            side.start()
    for side in (side_a, side_b):
        err = None if fresh else side.flush_all()
        if err:
            return 'DIFF', '%s: %s' % (side.label, err), []
    res_a, res_b = {}, {}
    ta = threading.Thread(target=run_case_on, args=(side_a.port, case, res_a))
    tb = threading.Thread(target=run_case_on, args=(side_b.port, case, res_b))
    ta.start()
    tb.start()
    ta.join()
    tb.join()
    lines_a = render(case, res_a)
    lines_b = render(case, res_b)
    reasons = []
    detail = []
    if case.statuses is not None and not EXTRA_ARGS:   # the statuses assume the usual settings
        got = reference_statuses(res_a)
        if got != case.statuses:
            return 'BADCASE', 'the reference answered statuses %s, the case expects %s' % (
                got, case.statuses), ['  ' + l for l in lines_a]
    if lines_a != lines_b:
        reasons.append('answers differ')
        detail = ['  ' + l.rstrip('\n') for l in difflib.unified_diff(
            lines_a, lines_b, label_a, label_b, n=3, lineterm='')]
    for side in (side_a, side_b):
        if not side.alive():
            reasons.append('%s exited with status %s' % (side.label, side.proc.poll()))
    if args.dump:
        detail = ['  ' + l for l in lines_a] + (['  ---'] + detail if detail else [])
    if not reasons:
        if case.name in known:
            return 'ok', 'listed in known_differences.txt but matched', detail
        return 'ok', '', detail
    if case.name in known:
        return 'KNOWN', known[case.name] or '; '.join(reasons), detail
    return 'DIFF', '; '.join(reasons), detail


def main():
    ap = argparse.ArgumentParser(description="Compare cairn's binary-protocol answers (or a "
                                 "second memcached's) with memcached's, case by case.")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument('--cairn', metavar='BIN', help='the cairn binary to test')
    mode.add_argument('--memcached-only', action='store_true',
                      help='compare two memcacheds (validates the corpus and the runner)')
    ap.add_argument('--memcached', metavar='BIN', default='/usr/bin/memcached',
                    help='the reference memcached (default: /usr/bin/memcached)')
    ap.add_argument('--filter', metavar='SUBSTR', action='append',
                    help='run only cases whose name contains SUBSTR (repeatable: any of them)')
    ap.add_argument('--known', metavar='FILE', default=os.path.join(HERE, 'known_differences.txt'),
                    help='known differences on cairn (default: tests/mcbin/known_differences.txt)')
    ap.add_argument('--strict', action='store_true', help='count known differences as failures')
    ap.add_argument('--runs', type=int, default=1, help='run the corpus this many times')
    ap.add_argument('--verbose', '-v', action='store_true',
                    help='show the differences (normalised transcripts, bytes escaped)')
    ap.add_argument('--dump', action='store_true',
                    help="print the reference's normalised answer to every case")
    ap.add_argument('--list', action='store_true', help='list the cases and exit')
    ap.add_argument('--server-arg', metavar='ARG', action='append', default=[],
                    help='one more command-line argument for both servers (repeatable), e.g. -C or '
                    '-F; cases then compare the servers under that setting')
    args = ap.parse_args()
    EXTRA_ARGS.extend(args.server_arg)

    cases = CASES
    if args.filter:
        cases = [c for c in cases if any(f in c.name for f in args.filter)]
    names = [c.name for c in CASES]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        print('corpus: cases defined twice: %s' % ' '.join(sorted(dup)), file=sys.stderr)
        return 2
    if args.list:
        for c in cases:
            print(c.name)
        return 0
    if not cases:
        print('corpus: no cases', file=sys.stderr)
        return 2
    if not os.access(args.memcached, os.X_OK):
        print('corpus: no memcached at %s' % args.memcached, file=sys.stderr)
        return 2
    known = load_known(args.known) if args.cairn else {}
    for name in sorted(set(known) - set(names)):
        print('# %s names no case: %s' % (os.path.relpath(args.known), name), file=sys.stderr)

    tmp = tempfile.mkdtemp(prefix='mcbin-corpus-')
    side_a = Server('memcached', args.memcached, tmp)
    if args.cairn:
        side_b = Server('cairn', os.path.abspath(args.cairn), tmp)
    else:
        side_b = Server('memcached#2', args.memcached, tmp)
    failed = 0
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
                print('# %s: %s' % (side.label, shlex.join(side.argv())))
            for run in range(args.runs):
                failed += run_corpus(cases, side_a, side_b, known, args, run)
    finally:
        side_b.stop()
        side_a.stop()
    if failed == 0 and rc is None:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print('# server logs kept in %s' % tmp)
    if rc is not None:
        return rc
    return 0 if failed == 0 else 1


def run_corpus(cases, side_a, side_b, known, args, run):
    counts = {'ok': 0, 'DIFF': 0, 'KNOWN': 0, 'BADCASE': 0}
    t0 = time.monotonic()
    for case in cases:
        status, why, detail = run_one(case, side_a, side_b, side_a.label, side_b.label, known,
                                      args)
        counts[status] += 1
        line = '%-7s %s' % (status, case.name)
        if why:
            line += '  (%s)' % why
        print(line, flush=True)
        if detail and (args.verbose or args.dump or status == 'BADCASE'):
            for d in detail:
                print(d)
    summary = '%d cases: %d ok, %d DIFF, %d BADCASE' % (
        len(cases), counts['ok'], counts['DIFF'], counts['BADCASE'])
    if known:
        summary += ', %d known differences' % counts['KNOWN']
    if args.runs > 1:
        summary = 'run %d/%d: %s' % (run + 1, args.runs, summary)
    print('%s (%.1f s)' % (summary, time.monotonic() - t0), flush=True)
    return counts['DIFF'] + counts['BADCASE'] + (counts['KNOWN'] if args.strict else 0)


if __name__ == '__main__':
    sys.exit(main())
