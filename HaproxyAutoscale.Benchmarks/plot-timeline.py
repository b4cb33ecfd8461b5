#!/usr/bin/env python3
"""Plots a `simulate --timeline` CSV as an SVG (no dependencies): arrivals per second (grey, right axis), active
servers (blue) and the oracle's servers (orange dashed, left axis), for one backend.
Usage: plot-timeline.py TIMELINE.csv BACKEND OUT.svg"""
import csv
import sys

path, backend, out = sys.argv[1:4]
rows = [r for r in csv.DictReader(open(path)) if r["backend"] == backend]
if not rows:
    sys.exit(f"{path}: no row for backend {backend}")
width, height, left, right, top, bottom = 900, 320, 50, 60, 20, 40
n = len(rows)
arrivals = [int(r["arrivals"]) for r in rows]
active = [int(r["active"]) for r in rows]
oracle = [int(r["oracle"]) for r in rows]
max_servers = max(max(active), max(oracle), 1) + 1
max_arrivals = max(max(arrivals), 1)
x = lambda i: left + (width - left - right) * i / max(n - 1, 1)
y_servers = lambda v: top + (height - top - bottom) * (1 - v / max_servers)
y_arrivals = lambda v: top + (height - top - bottom) * (1 - v / max_arrivals)


def polyline(values, scale, style):
    points = " ".join(f"{x(i):.1f},{scale(v):.1f}" for i, v in enumerate(values))
    return f'<polyline fill="none" points="{points}" {style}/>'


def steps(values, scale, style):
    # Servers change in steps: draw them as such.
    points = []
    for i, v in enumerate(values):
        if i:
            points.append(f"{x(i):.1f},{scale(values[i - 1]):.1f}")
        points.append(f"{x(i):.1f},{scale(v):.1f}")
    return f'<polyline fill="none" points="{" ".join(points)}" {style}/>'


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
       '<rect width="100%" height="100%" fill="white"/>',
       polyline(arrivals, y_arrivals, 'stroke="#bbb" stroke-width="1"'),
       steps(oracle, y_servers, 'stroke="#e8710a" stroke-width="2" stroke-dasharray="5,3"'),
       steps(active, y_servers, 'stroke="#1a73e8" stroke-width="2"')]
for v in range(0, max_servers + 1):
    svg.append(f'<text x="{left - 8}" y="{y_servers(v) + 4:.1f}" text-anchor="end">{v}</text>')
svg.append(f'<text x="{width - right + 8}" y="{y_arrivals(max_arrivals) + 4:.1f}">{max_arrivals}/s</text>')
svg.append(f'<text x="{width - right + 8}" y="{y_arrivals(0) + 4:.1f}">0/s</text>')
minutes = n // 60
for m in range(0, minutes + 1, max(1, minutes // 10)):
    svg.append(f'<text x="{x(m * 60):.1f}" y="{height - bottom + 16}" text-anchor="middle">{m} min</text>')
svg.append(f'<text x="{left}" y="{height - 6}">{backend}: active servers (blue), oracle (orange, dashed), arrivals per second (grey, right axis)</text>')
svg.append("</svg>")
open(out, "w").write("\n".join(svg) + "\n")
print(f"{out}: {n} seconds")
