#!/usr/bin/python3
"""benchmarks/svgchart.py on a canned compare results file (tests/bench/compare-canned.json).

The file holds loads a (three rounds per server, so the charts must take medians), b (one round, cairn's
p99.9 missing) and ba (cairn and memcached only). The charts are written by running svgchart.py as a
user would, then parsed with xml.etree: every bar expected is there exactly once with its value label,
no other bar is, bar heights follow the values, and each ratio panel has its reference line at 1.0.
"""
import math
import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
SVGCHART = os.path.join(SRCDIR, "benchmarks", "svgchart.py")
CANNED = os.path.join(HERE, "compare-canned.json")
NS = "{http://www.w3.org/2000/svg}"

# cairn / other, medians over rounds, as the labels print them (worked out by hand from the file)
RATIOS = {
    ("a", "memcached", "ops_per_sec"): "1.50",          # 120 / 80
    ("a", "redis", "ops_per_sec"): "0.92",              # 120 / 130
    ("a", "memcached", "server_cpu_s_per_mreq"): "0.75",  # 9 / 12
    ("a", "redis", "server_cpu_s_per_mreq"): "1.00",      # 9 / 9: its top is the reference line
    ("b", "memcached", "ops_per_sec"): "6.00",
    ("b", "redis", "ops_per_sec"): "1.50",
    ("b", "memcached", "server_cpu_s_per_mreq"): "0.25",
    ("b", "redis", "server_cpu_s_per_mreq"): "0.75",
    ("ba", "memcached", "ops_per_sec"): "1.50",
    ("ba", "memcached", "server_cpu_s_per_mreq"): "0.40",
}

P = ("latency_us_p50", "latency_us_p90", "latency_us_p99", "latency_us_p99_9")
LATENCY = {}
for load, server, values in (
        ("a", "cairn", ("450", "850", "1,500", "3,000")),
        ("a", "memcached", ("550", "1,050", "2,050", "4,050")),
        ("a", "redis", ("650", "1,250", "2,500", "5,100")),
        ("b", "cairn", ("8.3", "120", "250", None)),
        ("b", "memcached", ("5,000", "9,000", "20,000", "45,000")),
        ("b", "redis", ("1,000", "2,000", "3,000", "8,000")),
        ("ba", "cairn", ("300", "400", "700", "900")),
        ("ba", "memcached", ("350", "500", "900", "1,200"))):
    for field, value in zip(P, values):
        if value is not None:
            LATENCY[(load, server, field)] = value


def key(el):
    return (el.get("data-load"), el.get("data-server"), el.get("data-metric"))


class Charts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="svgchart-test.")
        prefix = os.path.join(cls.tmp.name, "canned")
        out = subprocess.run([sys.executable, SVGCHART, CANNED, "--out", prefix], capture_output=True,
                             text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"svgchart.py failed ({out.returncode}): {out.stderr}")
        cls.ratios = ET.parse(prefix + "-ratios.svg").getroot()  # raises on XML that is not well-formed
        cls.latency = ET.parse(prefix + "-latency.svg").getroot()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def bars(self, root):
        return [el for el in root.iter(NS + "rect") if el.get("class") == "bar"]

    def labels(self, root):
        return [el for el in root.iter(NS + "text") if el.get("class") == "value"]

    def check_bars_and_labels(self, root, expected):
        bars = self.bars(root)
        self.assertEqual(sorted(key(b) for b in bars), sorted(expected), "one bar per (load, server, metric)")
        for b in bars:
            self.assertEqual(b.get("data-value"), expected[key(b)], key(b))
            self.assertGreater(float(b.get("height")), 0, key(b))
        labels = self.labels(root)
        self.assertEqual(sorted(key(t) for t in labels), sorted(expected), "one value label per bar")
        for t in labels:
            self.assertEqual(t.text, expected[key(t)], key(t))

    def test_root_is_svg(self):
        for root in (self.ratios, self.latency):
            self.assertEqual(root.tag, NS + "svg")
            self.assertGreater(float(root.get("width")), 0)
            self.assertGreater(float(root.get("height")), 0)

    def test_ratio_bars(self):
        self.check_bars_and_labels(self.ratios, RATIOS)

    def test_ratio_reference_line(self):
        refs = [el for el in self.ratios.iter(NS + "line") if el.get("class") == "reference"]
        self.assertEqual(sorted(r.get("data-metric") for r in refs), ["ops_per_sec", "server_cpu_s_per_mreq"])
        for ref in refs:
            y_ref = float(ref.get("y1"))
            self.assertEqual(y_ref, float(ref.get("y2")), "horizontal")
            for b in self.bars(self.ratios):
                if b.get("data-metric") != ref.get("data-metric"):
                    continue
                # bars stand on a common zero line; the line is where a bar of value 1.0 would end
                bottom = float(b.get("y")) + float(b.get("height"))
                one = bottom - y_ref
                self.assertAlmostEqual(float(b.get("height")), one * float(b.get("data-value")), delta=1.0,
                                       msg=key(b))
        cpu_redis = [b for b in self.bars(self.ratios) if key(b) == ("a", "redis", "server_cpu_s_per_mreq")][0]
        cpu_ref = [r for r in refs if r.get("data-metric") == "server_cpu_s_per_mreq"][0]
        self.assertAlmostEqual(float(cpu_redis.get("y")), float(cpu_ref.get("y1")), delta=0.15)

    def test_latency_bars(self):
        self.check_bars_and_labels(self.latency, LATENCY)

    def test_latency_heights_follow_values(self):
        bars = self.bars(self.latency)
        value = {key(b): float(b.get("data-value").replace(",", "")) for b in bars}
        height = {key(b): float(b.get("height")) for b in bars}
        for k1 in value:
            for k2 in value:
                if value[k1] < value[k2]:
                    self.assertLess(height[k1], height[k2], (k1, k2))
        # a log scale: equal ratios of values make equal differences of height
        a = height[("ba", "memcached", "latency_us_p99")] - height[("ba", "cairn", "latency_us_p50")]   # 900 / 300
        b = height[("b", "redis", "latency_us_p99")] - height[("b", "redis", "latency_us_p50")]       # 3000 / 1000
        self.assertAlmostEqual(a, b, delta=0.2)
        self.assertFalse(math.isclose(height[("a", "cairn", "latency_us_p50")],
                                      height[("a", "cairn", "latency_us_p90")]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
