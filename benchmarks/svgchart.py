#!/usr/bin/python3
"""SVG charts of benchmarks/compare's results: self-contained files, no plotting library.

    benchmarks/svgchart.py RESULTS.json [--out PREFIX] [--title TEXT] [--note TEXT]

RESULTS.json is what `benchmarks/compare --json-out` writes (a list with one object per run: load,
server_name, round, ops_per_sec, server_cpu_s_per_mreq, latency_us_p50 ...), or an object
{"title": ..., "note": ..., "runs": [...]} holding such a list (used for figures copied from a
published table, where a run stands for the median of its rounds). Two files are written:

    PREFIX-ratios.svg   per load, cairn / memcached and cairn / Redis for throughput (ops/s) and for
                        server CPU per request, medians over rounds, as grouped bars with their values
                        and a reference line at 1.0 (parity)
    PREFIX-latency.svg  per load, the latency percentiles p50, p90, p99 and p99.9 of each server
                        (medians over rounds) as grouped bars on a log scale, values in microseconds

PREFIX defaults to RESULTS.json without its .json. compare calls write_charts() itself when asked
(--svg-out, or next to --json-out). Percentiles or figures a results file lacks are left out, not drawn
as zero. Only python3's standard library is used; text is in the generic sans-serif font.
"""
import argparse
import json
import math
import os
import statistics
import sys
import textwrap
from xml.sax.saxutils import escape, quoteattr

SERVER_ORDER = ("cairn", "memcached", "redis")
SERVER_LABEL = {"cairn": "cairn", "memcached": "memcached", "redis": "Redis"}
SERVER_COLOUR = {"cairn": "#2b6cb0", "memcached": "#dd8a1f", "redis": "#c53030"}
BASELINES = ("memcached", "redis")
RATIO_METRICS = (  # (field, panel title)
    ("ops_per_sec", "throughput (ops/s): cairn / other, higher is better for cairn"),
    ("server_cpu_s_per_mreq", "server CPU per request: cairn / other, lower is better for cairn"),
)
PERCENTILES = (("latency_us_p50", "p50"), ("latency_us_p90", "p90"), ("latency_us_p99", "p99"),
               ("latency_us_p99_9", "p99.9"))
FONT = 'font-family="sans-serif"'
HALO = ' paint-order="stroke" stroke="#ffffff" stroke-width="3"'  # keeps a value readable over a line


def load_results(path):
    """(runs, title, note) from a compare JSON file (a list) or a {"runs": [...]} object."""
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict):
        return data.get("runs", []), data.get("title"), data.get("note")
    return data, None, None


def load_order(name):
    """Loads sort as compare names them: a-e, then ra-re, then ba-bc, then anything else."""
    family = {"": 0, "r": 1, "b": 2}.get(name[:-1], 3)
    return (family, name)


def medians(runs):
    """{load: {server: {field: median over the rounds}}} for the fields the charts read."""
    fields = [f for f, _ in RATIO_METRICS] + [f for f, _ in PERCENTILES]
    out = {}
    for run in runs:
        out.setdefault(run["load"], {}).setdefault(run["server_name"], []).append(run)
    table = {}
    for load, by_server in out.items():
        for server, server_runs in by_server.items():
            row = {}
            for field in fields:
                vals = [r[field] for r in server_runs
                        if isinstance(r.get(field), (int, float)) and math.isfinite(r[field])]
                if vals:
                    row[field] = statistics.median(vals)
            table.setdefault(load, {})[server] = row
    return table


def ratio_bars(table):
    """[(load, [(metric, baseline, ratio)])]: cairn / baseline where both medians exist and are > 0."""
    groups = []
    for load in sorted(table, key=load_order):
        cairn = table[load].get("cairn", {})
        bars = []
        for metric, _ in RATIO_METRICS:
            for base in BASELINES:
                other = table[load].get(base, {})
                if cairn.get(metric, 0) > 0 and other.get(metric, 0) > 0:
                    bars.append((metric, base, cairn[metric] / other[metric]))
        if bars:
            groups.append((load, bars))
    return groups


def latency_bars(table):
    """[(load, [(percentile field, label, [(server, us)])])] for the percentiles any server has."""
    groups = []
    for load in sorted(table, key=load_order):
        servers = [s for s in SERVER_ORDER if s in table[load]] + sorted(set(table[load]) - set(SERVER_ORDER))
        subs = []
        for field, label in PERCENTILES:
            bars = [(s, table[load][s][field]) for s in servers if table[load][s].get(field, 0) > 0]
            if bars:
                subs.append((field, label, bars))
        if subs:
            groups.append((load, subs))
    return groups


class Svg:
    """An SVG document built as a list of elements; text is escaped, numbers rounded to 0.1."""

    def __init__(self, width, height):
        self.width, self.height = width, height
        self.parts = []

    def add(self, text):
        self.parts.append(text)

    def rect(self, x, y, w, h, fill, cls=None, title=None, data=None, extra=""):
        attrs = f'x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{extra}'
        if cls:
            attrs += f' class="{cls}"'
        for key, value in (data or {}).items():
            attrs += f" data-{key}={quoteattr(str(value))}"
        inner = f"<title>{escape(title)}</title>" if title else ""
        self.add(f"<rect {attrs}>{inner}</rect>" if inner else f"<rect {attrs}/>")

    def line(self, x1, y1, x2, y2, stroke="#888", cls=None, extra=""):
        c = f' class="{cls}"' if cls else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}"{c}{extra}/>')

    def text(self, x, y, s, size=12, anchor="start", cls=None, rotate=False, extra=""):
        c = f' class="{cls}"' if cls else ""
        rot = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" {FONT}{c}{rot}{extra}>'
                 f"{escape(s)}</text>")

    def render(self):
        head = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}">\n'
                f'<rect x="0" y="0" width="{self.width}" height="{self.height}" fill="#ffffff"/>\n')
        return head + "\n".join(self.parts) + "\n</svg>\n"


def data_attrs(load, server, metric):
    """The attributes that tie a value label to its bar (and let a test find both)."""
    return f" data-load={quoteattr(load)} data-server={quoteattr(server)} data-metric={quoteattr(metric)}"


def header(svg, title, note, subtitle):
    """Title, subtitle and note, wrapped to the chart's width; returns the next free y."""
    y = 26
    for line in textwrap.wrap(title, max(20, int((svg.width - 40) / (16 * 0.6)))):
        svg.text(20, y, line, size=16, extra=' font-weight="bold"')
        y += 20
    y -= 2
    chars = max(40, int((svg.width - 40) / (11 * 0.55)))
    for line in [subtitle] + textwrap.wrap(note or "", chars):
        svg.text(20, y, line, size=11, extra=' fill="#444"')
        y += 15
    return y + 6


def text_width(s, size):
    """A generous estimate of a sans-serif line's width (no font metrics without a renderer)."""
    return len(s) * size * 0.64


def legend(svg, x, y, servers, prefix=""):
    """A colour box and a name per server, in one row from (x, y)."""
    for s in servers:
        label = prefix + SERVER_LABEL.get(s, s)
        svg.rect(x, y - 10, 12, 12, SERVER_COLOUR.get(s, "#777"))
        svg.text(x + 16, y, label, size=12)
        x += 28 + text_width(label, 12)


def ratio_title(groups):
    """"cairn relative to" the servers the chart has bars for."""
    names = [SERVER_LABEL[b] for b in BASELINES if any(b == base for _, bars in groups for _, base, _ in bars)]
    return "cairn relative to " + (" and ".join(names) or "the other servers")


def ratios_svg(runs, title=None, note=None):
    """The ratio chart: one panel per metric, per load a bar per baseline, a 1.0 line, values on bars."""
    groups = ratio_bars(medians(runs))
    bar_w, gap, group_gap, left = 34, 4, 28, 60
    n_bars = max((len([b for b in bars if b[0] == m]) for _, bars in groups for m, _ in RATIO_METRICS),
                 default=1)
    group_w = n_bars * (bar_w + gap) + group_gap
    title = title or ratio_title(groups)
    subtitle = "medians over rounds; the dashed line is 1.0 (equal to the other server)"
    width = max(560, left + 20 + len(groups) * group_w)
    panel_h, panel_gap = 220, 70
    svg = Svg(width, 0)
    top = header(svg, title, note, subtitle)
    legend(svg, left, top + 8, [b for b in BASELINES if any(b == base for _, bars in groups for _, base, _ in bars)],
           prefix="cairn / ")
    top += 30
    for metric, panel_title in RATIO_METRICS:
        vals = [r for _, bars in groups for m, _, r in bars if m == metric]
        top_val = max(vals + [1.0]) * 1.15
        y0, y1 = top + 22, top + 22 + panel_h  # plot area, y1 is the zero line
        svg.text(left, top + 12, panel_title, size=13, extra=' font-weight="bold"')

        def ypos(v, y0=y0, y1=y1, top_val=top_val):
            return y1 - (y1 - y0) * v / top_val

        for tick in ticks_linear(top_val):
            svg.line(left, ypos(tick), width - 20, ypos(tick), stroke="#e2e2e2")
            svg.text(left - 6, ypos(tick) + 4, f"{tick:g}", size=10, anchor="end")
        svg.line(left, y1, width - 20, y1, stroke="#333")
        x = left + group_gap / 2
        labels = []  # drawn after the reference line, which passes over the bars but under their values
        for load, bars in groups:
            mine = [(base, r) for m, base, r in bars if m == metric]
            for i, (base, r) in enumerate(mine):
                bx = x + i * (bar_w + gap)
                svg.rect(bx, ypos(r), bar_w, y1 - ypos(r), SERVER_COLOUR[base], cls="bar",
                         title=f"({load}) cairn / {SERVER_LABEL[base]}: {r:.2f}",
                         data={"load": load, "server": base, "metric": metric, "value": f"{r:.2f}"})
                labels.append((bx + bar_w / 2, ypos(r) - 4, f"{r:.2f}", HALO + data_attrs(load, base, metric)))
            if not mine:
                svg.text(x + (n_bars * (bar_w + gap) - gap) / 2, y1 - 6, "not measured", size=9, anchor="middle",
                         extra=' fill="#888"')
            svg.text(x + (n_bars * (bar_w + gap) - gap) / 2, y1 + 16, f"({load})", size=12, anchor="middle")
            x += group_w
        svg.line(left, ypos(1.0), width - 20, ypos(1.0), stroke="#000", cls="reference",
                 extra=f' stroke-width="1.5" stroke-dasharray="6 4" data-value="1.0" data-metric="{metric}"')
        svg.text(width - 22, ypos(1.0) - 4, "1.0", size=10, anchor="end")
        for lx, ly, value, extra in labels:
            svg.text(lx, ly, value, size=11, anchor="middle", cls="value", extra=extra)
        top = y1 + panel_gap - 30
    svg.height = int(top + 20)
    return svg.render()


def ticks_linear(top_val):
    """Round tick values (steps of 1, 2 or 5 times a power of ten) from 0 up to top_val, at most 7."""
    step = 10 ** math.floor(math.log10(top_val / 4)) if top_val > 0 else 1
    for mult in (1, 2, 5, 10):
        if top_val / (step * mult) <= 6:
            step *= mult
            break
    return [i * step for i in range(int(top_val / step) + 1)]


def fmt_us(us):
    """Microseconds as the latency labels print them: whole above 10, one decimal below."""
    return f"{us:,.0f}" if us >= 10 else f"{us:.1f}"


def latency_svg(runs, title=None, note=None):
    """The latency chart: per load and percentile a bar per server, log scale in microseconds."""
    groups = latency_bars(medians(runs))
    bar_w, gap, sub_gap, group_gap, left = 16, 2, 10, 30, 70
    widths = []
    for _, subs in groups:
        widths.append(sum(len(bars) * (bar_w + gap) - gap + sub_gap for _, _, bars in subs) - sub_gap + group_gap)
    title = title or "latency percentiles per load and server"
    subtitle = "microseconds, log scale; medians over rounds of each percentile"
    width = max(560, int(left + 20 + sum(widths)))
    plot_h = 300
    svg = Svg(width, 0)
    servers = [s for s in SERVER_ORDER if any(s == srv for _, subs in groups for _, _, bars in subs
                                               for srv, _ in bars)]
    top = header(svg, title, note, subtitle)
    legend(svg, left, top + 8, servers)
    vals = [us for _, subs in groups for _, _, bars in subs for _, us in bars]
    lo = 10 ** math.floor(math.log10(min(vals))) if vals else 1
    hi = max(vals) * 3 if vals else 10  # room for the rotated labels above the highest bar
    y0, y1 = top + 30, top + 30 + plot_h

    def ypos(v):
        return y1 - (y1 - y0) * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    decade = lo
    while decade <= hi:
        svg.line(left, ypos(decade), width - 20, ypos(decade), stroke="#e2e2e2")
        label = f"{decade / 1000:g} ms" if decade >= 1000 else f"{decade:g} us"
        svg.text(left - 6, ypos(decade) + 4, label, size=10, anchor="end")
        decade *= 10
    svg.line(left, y1, width - 20, y1, stroke="#333")
    x = left + group_gap / 2
    for load, subs in groups:
        start = x
        for field, label, bars in subs:
            sub_start = x
            for server, us in bars:
                svg.rect(x, ypos(us), bar_w, y1 - ypos(us), SERVER_COLOUR.get(server, "#777"), cls="bar",
                         title=f"({load}) {SERVER_LABEL.get(server, server)} {label}: {fmt_us(us)} us",
                         data={"load": load, "server": server, "metric": field, "value": fmt_us(us)})
                svg.text(x + bar_w / 2 + 4, ypos(us) - 4, fmt_us(us), size=9, cls="value", rotate=True,
                         extra=HALO + data_attrs(load, server, field))
                x += bar_w + gap
            x -= gap
            svg.text((sub_start + x) / 2, y1 + 14, label, size=10, anchor="middle")
            x += sub_gap
        x += group_gap - sub_gap
        svg.text((start + x - group_gap) / 2, y1 + 32, f"({load})", size=12, anchor="middle")
    svg.height = int(y1 + 50)
    return svg.render()


def default_note(runs):
    """A line saying how many rounds and how busy the machine was, from compare's own fields."""
    rounds = len({r.get("round") for r in runs})
    note = f"{rounds} round{'s' if rounds != 1 else ''} per load and server"
    secs = sorted({r["test_time_s"] for r in runs if isinstance(r.get("test_time_s"), (int, float))} - {0})
    if secs:
        note += f", {'/'.join(f'{s:g}' for s in secs)} s per timed run"
    loads = [r["loadavg_1m"] for r in runs if isinstance(r.get("loadavg_1m"), (int, float))]
    cpus = {r.get("cpus_online") for r in runs} - {None}
    if loads:
        note += (f"; 1-minute load average {min(loads):.1f}-{max(loads):.1f} at the end of the runs (server and"
                 f" generator included)")
        if cpus:
            note += f" on {max(cpus)} CPUs"
            if max(loads) > max(cpus) + 1:
                note += ": a busy machine, other jobs took CPU from the servers and the generator"
    return note


def write_charts(runs, prefix, title=None, note=None):
    """Writes PREFIX-ratios.svg and PREFIX-latency.svg; returns their paths."""
    note = note if note is not None else default_note(runs)
    os.makedirs(os.path.dirname(prefix) or ".", exist_ok=True)
    paths = []
    for suffix, render, default in (("ratios", ratios_svg, ratio_title(ratio_bars(medians(runs)))),
                                    ("latency", latency_svg, "latency percentiles per load and server")):
        path = f"{prefix}-{suffix}.svg"
        with open(path, "w") as f:
            f.write(render(runs, f"{title}: {default}" if title else None, note))
        paths.append(path)
    return paths


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="compare's --json-out file (or a {\"runs\": [...]} object)")
    p.add_argument("--out", help="output prefix (default: RESULTS without .json)")
    p.add_argument("--title", help="title prefix (default: the file's own title, if any)")
    p.add_argument("--note", help="a line under the title (default: the file's own note, if any)")
    args = p.parse_args()
    runs, title, note = load_results(args.results)
    if not runs:
        sys.exit(f"svgchart: {args.results} holds no runs")
    prefix = args.out or (args.results[:-5] if args.results.endswith(".json") else args.results)
    for path in write_charts(runs, prefix, args.title or title, args.note or note):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
