#!/usr/bin/env python3
"""The status page in a real browser: headless Chromium, driven over its DevTools protocol.

Starts cairn with --metrics-port and some traffic, opens http://127.0.0.1:PORT/ in Chromium and
checks that the page renders live: every chart has data points after a few polls, the tiles show the
server's figures, the hot-key table lists the traffic's keys, the latency chart and table show the traffic's commands, and the page fetched nothing from
elsewhere. Then it stops the server while the browser stays open: the page must show its error state
(banner, "offline", greyed and frozen charts); it restarts the server on the same port and the page
must recover by itself. Screenshots (PNG) of both states go to a temporary folder, or to
$STATUS_PAGE_SCREENSHOT (the live one) when set, which is how doc/status-page.png is made.

Only the standard library: the DevTools endpoint is found with http.client and spoken to with the
small WebSocket client below. Prints a line per check, then exactly "N passed, N failed" (the first
failure ends the run); exit 0 on success, 1 on failure, 77 (skip) without chromium.
"""
import base64
import http.client
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = time.monotonic() + 150  # the whole test; every wait below is bounded by it too


class Failed(Exception):
    pass


PASSED = [0]  # checks that held


def check(cond, what):
    if not cond:
        raise Failed(what)
    PASSED[0] += 1
    print("ok:", what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(fn, timeout, what):
    """Calls fn until it returns something true; that value, or Failed after timeout seconds."""
    end = min(time.monotonic() + timeout, DEADLINE)
    last = None
    while time.monotonic() < end:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise Failed("timed out waiting for %s (last: %r)" % (what, last))


class Server:
    """cairn on loopback with --metrics-port."""

    def __init__(self, binary, port, mport, log):
        self.args = [binary, "-p", str(port), "-l", "127.0.0.1", "-U", "0", "-t", "2", "-m", "64",
                     "--metrics-port", str(mport)]
        if os.getuid() == 0:
            self.args += ["-u", "root"]
        self.port, self.mport, self.log, self.proc = port, mport, log, None

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.mport), timeout=1).close()
                return True
            except OSError:
                return self.proc.poll() is not None and Failed("cairn exited: %d" % self.proc.returncode)
        r = wait_until(up, 15, "cairn to listen")
        if isinstance(r, Failed):
            raise r

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Traffic(threading.Thread):
    """A client storing and reading keys 10 to 40 times a second (the rate swings over a minute; half the
    lookups miss) until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop_flag, self.error = port, threading.Event(), None

    def run(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                f = s.makefile("rwb")
                i = 0
                while not self.stop_flag.is_set():
                    value = b"v" * (100 + (i % 7) * 900)  # several slab classes
                    f.write(b"set k%d 0 0 %d\r\n%s\r\nget k%d k%d-missing\r\n" % (i % 50, len(value), value, i % 50, i))
                    f.flush()
                    if f.readline() != b"STORED\r\n":
                        raise Failed("set was not stored")
                    while f.readline() != b"END\r\n":
                        pass
                    i += 1
                    time.sleep(0.025 + 0.075 * (0.5 + 0.5 * math.sin(time.monotonic() / 10)))
        except Exception as e:  # the test reports it
            self.error = e


class WebSocket:
    """A client of RFC 6455, enough for the DevTools protocol: masked text frames out, unmasked frames
    in (fragmented ones joined), pings answered."""

    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise Failed("the DevTools socket closed during the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise Failed("DevTools refused the WebSocket: %r" % head)

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Failed("the DevTools socket closed")
            buf += chunk
        return buf

    def _frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text):
        self._frame(0x1, text.encode())

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._exact(8))[0]
            mask = self._exact(4) if b1 & 0x80 else None
            payload = self._exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x9:
                self._frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise Failed("DevTools closed the WebSocket")
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if b0 & 0x80:
                    return message.decode()

    def close(self):
        self.sock.close()


class Page:
    """One page target of the DevTools protocol."""

    def __init__(self, ws):
        self.ws, self.next_id = ws, 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise Failed("%s: %s" % (method, msg["error"]))
                return msg["result"]

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise Failed("%s threw %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def screenshot(self, path):
        height = self.eval("Math.ceil(document.querySelector('footer').getBoundingClientRect().bottom)")
        scale = float(os.environ.get("STATUS_PAGE_SCREENSHOT_SCALE", "1"))
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": scale})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print("screenshot:", path)


def start_chromium(binary, tmp):
    """Chromium headless with DevTools on a loopback port it picks, its profile and log in tmp;
    (process, page target URL)."""
    profile = os.path.join(tmp, "profile")
    args = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir=" + profile,
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1280,1500", "--hide-scrollbars", "--force-device-scale-factor=1", "about:blank"]
    log = open(os.path.join(tmp, "chromium.log"), "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    active = os.path.join(profile, "DevToolsActivePort")

    def port():
        if proc.poll() is not None:
            raise Failed("chromium exited (%d); see %s" % (proc.returncode, log.name))
        try:
            with open(active) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None
    dport = wait_until(port, 60, "chromium's DevTools port")

    def page_target():
        conn = http.client.HTTPConnection("127.0.0.1", dport, timeout=5)
        conn.request("GET", "/json/list")
        targets = json.loads(conn.getresponse().read())
        conn.close()
        pages = [t for t in targets if t.get("type") == "page"]
        return pages[0]["webSocketDebuggerUrl"] if pages else None
    return proc, wait_until(page_target, 30, "a page target")


def stop_chromium(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def charts_points(page):
    return page.eval("Object.fromEntries([...document.querySelectorAll('svg.chart')]"
                     ".map(s => [s.id, +(s.dataset.points || 0)]))")


def run(page, server, mport, shots):
    url = "http://127.0.0.1:%d/" % mport
    page.call("Page.enable")
    page.call("Runtime.enable")
    page.call("Page.navigate", url=url)
    wait_until(lambda: page.eval("document.readyState === 'complete' && document.body.dataset.state"),
               20, "the page to load")
    check(page.eval("document.title") == "cairn status", "the page's title is 'cairn status'")
    wait_until(lambda: page.eval("document.body.dataset.state") == "live", 20, "the page to go live")
    check(page.eval("document.getElementById('banner').hidden"), "no error banner while the server answers")

    # A few polls: every chart has data points (the hit-ratio chart: seconds with lookups).
    points = wait_until(lambda: (lambda p: p if all(v >= (1 if k == "chart-slabs" else 4) for k, v in p.items())
                                 else None)(charts_points(page)), 30, "every chart to have data points")
    check(len(points) == 8, "eight charts: %s" % points)
    check(points["chart-slabs"] >= 2, "memory by slab class has a bar per class in use (%d)" % points["chart-slabs"])
    for chart in ("chart-ops", "chart-hit", "chart-evict", "chart-conns", "chart-mem", "chart-lat"):
        d = page.eval("(document.querySelector('#%s path.series') || {}).getAttribute?.('d') || ''" % chart)
        check(d.count("L") >= 3, "%s draws a line through its points (%d segments)" % (chart, d.count("L")))
    bars = page.eval("document.querySelectorAll('#chart-slabs rect.used').length")
    check(bars == points["chart-slabs"], "a used-chunks bar per slab class (%d)" % bars)
    ops = page.eval("document.getElementById('v-ops').textContent")
    check(ops not in ("–", "0"), "the throughput tile shows traffic (%s ops/s)" % ops)
    hit = page.eval("document.getElementById('v-hit').textContent")
    check(hit.endswith("%") and 0 < float(hit[:-1]) < 100, "the hit ratio tile shows hits and misses (%s)" % hit)
    # The items tile agrees with the server (the traffic rewrites the same 50 keys).
    items = wait_until(lambda: page.eval("document.getElementById('v-items').textContent") == "50" or None,
                       10, "the items tile to show 50")
    check(items, "the items tile shows the server's 50 items")
    # The latency table lists the traffic's commands (text get and set) with their counts.
    lat = wait_until(lambda: page.eval("[...document.querySelectorAll('#latency tr')].map(tr => [...tr.cells]"
                                       ".map(c => c.textContent).join(' '))") or None, 10, "the latency table")
    check(any(r.startswith("text get ") for r in lat) and any(r.startswith("text set ") for r in lat),
          "the latency table lists text get and set: %s" % lat[:4])
    check(page.eval("document.getElementById('n-lat').textContent").startswith("p99 "),
          "the latency chart reads out its p99")
    # The traffic rewrites and reads the same 50 keys: the hot-key table lists some of them.
    hot = wait_until(lambda: page.eval("[...document.querySelectorAll('#hot-keys td')].map(td => td.textContent)"
                                       ".filter(t => /^k[0-9]+$/.test(t)).length") or None, 10, "hot keys")
    check(hot, "the hot-key table lists the traffic's keys (%s rows)" % hot)
    # Nothing was fetched from anywhere but this server.
    origins = page.eval("[...new Set(performance.getEntriesByType('resource').map(e => new URL(e.name).origin))]")
    check(origins == ["http://127.0.0.1:%d" % mport], "only this server was asked for anything: %s" % origins)
    warmup = float(os.environ.get("STATUS_PAGE_WARMUP", "0"))  # more history for doc/status-page.png
    if warmup > 0:
        time.sleep(min(warmup, DEADLINE - time.monotonic() - 60))
    page.screenshot(shots["live"])

    # The server stops; the browser stays.
    server.stop()
    wait_until(lambda: page.eval("document.body.dataset.state") == "offline", 10, "the page to go offline")
    check(not page.eval("document.getElementById('banner').hidden"), "the error banner shows")
    banner = page.eval("document.getElementById('banner').textContent")
    check("does not answer" in banner and "frozen" in banner, "the banner says why: %s" % banner)
    check(page.eval("document.getElementById('state').textContent") == "offline", "the state pill says offline")
    check("grayscale" in page.eval("getComputedStyle(document.getElementById('chart-ops')).filter"),
          "the charts are greyed")
    before = page.eval("(document.querySelector('#chart-ops path.series') || {}).getAttribute?.('d') || ''")
    check(before.count("L") >= 3, "the charts keep the data last received")
    time.sleep(2.5)
    check(page.eval("document.querySelector('#chart-ops path.series').getAttribute('d')") == before,
          "the charts stay frozen while the server is away")
    check("failed poll" in page.eval("document.getElementById('updated').textContent"), "failed polls are counted")
    page.screenshot(shots["offline"])

    # The server comes back on the same port: the page recovers by itself.
    server.start()
    wait_until(lambda: page.eval("document.body.dataset.state") == "live", 15, "the page to recover")
    check(page.eval("document.getElementById('banner').hidden"), "the banner is gone once the server answers")
    check(page.eval("getComputedStyle(document.getElementById('chart-ops')).filter") == "none",
          "the charts are in colour again")


def main():
    if os.environ.get("CAIRN_TEST_TARGET") == "memcached":
        print("memcached has no status page: skipped")
        return 77
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium is not installed: skipped")
        return 77
    binary = os.environ.get("CAIRN_BIN", "./cairn")
    tmp = tempfile.mkdtemp(prefix="cairn-status-page-")
    shots = {"live": os.environ.get("STATUS_PAGE_SCREENSHOT") or os.path.join(tmp, "live.png"),
             "offline": os.path.join(tmp, "offline.png")}
    log = open(os.path.join(tmp, "cairn.log"), "wb")
    server = Server(binary, free_port(), free_port(), log)
    browser, ws, traffic, ok = None, None, None, False
    try:
        server.start()
        traffic = Traffic(server.port)
        traffic.start()
        browser, target = start_chromium(chromium, tmp)
        ws = WebSocket(target)
        run(Page(ws), server, server.mport, shots)
        for name, path in shots.items():
            with open(path, "rb") as f:
                head = f.read(24)
            width, height = struct.unpack("!II", head[16:24])
            check(head[:8] == b"\x89PNG\r\n\x1a\n" and width >= 600 and height >= 400,
                  "the %s screenshot is a %dx%d PNG" % (name, width, height))
        ok = True
        print("%d passed, 0 failed" % PASSED[0])
        return 0
    except Failed as e:
        print("FAILED:", e)
        print("%d passed, 1 failed" % PASSED[0])
        return 1
    finally:
        if traffic is not None:
            traffic.stop_flag.set()
        if ws is not None:
            ws.close()
        if browser is not None:
            stop_chromium(browser)
        server.stop()
        log.close()
        shutil.rmtree(os.path.join(tmp, "profile"), ignore_errors=True)
        if ok and os.environ.get("KEEP_TMP") is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("logs and screenshots kept in", tmp)


if __name__ == "__main__":
    os.makedirs(tempfile.gettempdir(), exist_ok=True)
    sys.exit(main())
