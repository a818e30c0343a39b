#!/usr/bin/env python3
"""Renders bench/results.json into bench/chart.svg and the results section of BENCHMARKS.md
(between the RESULTS markers), so the numbers in the docs are always the measured ones."""
import json, re
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
r = json.loads((BENCH / "results.json").read_text())
S = r["servers"]
lk, peer, bare = S["latchkey"], S.get("tutorial"), S["bare"]

SCENARIOS = [("anon_get", "Anonymous GET /"), ("user_get", "Logged-in GET /"), ("login", "Login POST"), ("logout", "Logout")]


def row(name, res):
    return (f"| {name} | {res['rps']:,.0f} | {res['p50_ms']:.2f} | {res['p99_ms']:.2f} | {res['cpu_us_per_req']:.1f} | "
            f"{res['rss_before_mb']:.1f} → {res['rss_after_mb']:.1f} | {res['non_2xx']} | {res['body_bad']}"
            f"{' (+' + str(res['exhausted']) + ' no cookie left)' if res.get('exhausted') else ''} |")


lines = [f"Measured {r['date']} on {r['machine']}; {r['connections']} connections, {r['duration_s']} s timed runs "
         "after a warm-up; server on CPU 0, wrk on CPU 1.", "",
         "| Server · scenario | req/s | p50 ms | p99 ms | server CPU µs/req | RSS MB before → after | non-2xx/3xx | bad bodies |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
for key, label in SCENARIOS:
    lines.append(row(f"latchkey · {label}", lk[key]))
    if peer and key in peer:
        lines.append(row(f"tutorial · {label}", peer[key]))
lines.append(row("latchkey · logged-in GET during a login flood", lk["user_get_during_login_flood"]))
lines.append(row(f"latchkey · logged-in GET, {lk['sessions_in_store_for_1m']:,} sessions stored", lk["user_get_1m_sessions"]))
lines.append(row("bare axum · fixed page", bare["user_get"]))
lines.append("")


def ratio(a, b):
    return a / b if b else float("nan")


def million_cost():
    cost = 100 * (1 - ratio(lk["user_get_1m_sessions"]["rps"], lk["user_get"]["rps"]))
    n = f"{lk['sessions_in_store_for_1m']:,}"
    if cost <= 0:
        return f"none measurable: {-cost:.1f}% *more* req/s with {n} sessions than with 1,000 (run-to-run noise)"
    return f"{cost:.1f}% fewer req/s with {n} sessions than with 1,000"


targets = []
if peer:
    targets.append(("Logged-in GET ≥ 10× the tutorial's req/s", f"{ratio(lk['user_get']['rps'], peer['user_get']['rps']):.1f}×"))
    targets.append(("Anonymous GET vs the tutorial (req/s)", f"{ratio(lk['anon_get']['rps'], peer['anon_get']['rps']):.1f}×"))
    targets.append(("Tutorial RSS growth over its anonymous run", f"{peer['anon_get']['rss_delta_mb']:+.1f} MB for {peer['anon_get']['requests']:,} visits"))
targets += [
    ("Logged-in GET CPU within 3× of bare axum", f"{ratio(lk['user_get']['cpu_us_per_req'], bare['user_get']['cpu_us_per_req']):.1f}× ({lk['user_get']['cpu_us_per_req']:.1f} vs {bare['user_get']['cpu_us_per_req']:.1f} µs)"),
    ("Logged-in GET p99 ≤ 5 ms at 32 connections", f"{lk['user_get']['p99_ms']:.2f} ms"),
    ("Anonymous GET: 0 sessions stored, RSS within ±5 MB", f"{lk['anon_get']['sessions_stored']} sessions after {lk['anon_get']['requests'] + lk['anon_get'].get('warmup_requests', 0):,} visits; RSS {lk['anon_get']['rss_delta_mb']:+.1f} MB"),
    ("Logged-in GET p99 ≤ 20 ms during a login flood", f"{lk['user_get_during_login_flood']['p99_ms']:.2f} ms; RSS after the flood {lk['rss_after_login_flood_mb']:.0f} MB"),
    ("1,000,000 sessions cost ≤ 10% of logged-in throughput", million_cost()),
]
pages = r.get("pages")


def page_bytes(p):
    return f"{p['total'] / 1024:.0f} KB (" + ", ".join(f"{f['name']} {f['bytes'] / 1024:.1f} KB" for f in p["files"]) + ")"


if pages:
    targets.append(("Login page WASM + JS ≤ 100 KB brotli (as the browser fetches it)", page_bytes(pages["login"])))
    targets.append(("Sessions page WASM + JS (no target)", page_bytes(pages["sessions"])))
    if "account" in pages:
        targets.append(("Account (passkeys) page WASM + JS (no target)", page_bytes(pages["account"])))
else:
    fe = r.get("front_end", {})
    wasm_js = sum(v["brotli"] for k, v in fe.items() if k.endswith((".wasm", ".js")))
    targets.append(("Front end WASM + JS ≤ 100 KB brotli", f"{wasm_js / 1024:.0f} KB (" + ", ".join(f"{k} {v['brotli'] / 1024:.0f} KB" for k, v in fe.items()) + ")"))
if "hydration_ms" in r:
    targets.append(("Login form interactive ≤ 300 ms after navigation", f"median {r['hydration_ms']['median']:.0f} ms, max {r['hydration_ms']['max']:.0f} ms over {r['hydration_ms']['runs']} loads"))
lines += ["| Target | Measured |", "|---|---|"] + [f"| {t} | {m} |" for t, m in targets]
cmp = r.get("baseline_comparison")
if cmp:
    lines += ["", "This build against the saved earlier build (`bench/run --baseline DIR`), alternating, each on a "
              "fresh database with 1,000 sessions; the spread between one build's rounds is the run-to-run noise.", "",
              "| Build · round | anonymous req/s | logged-in req/s | logged-in CPU µs/req | logged-in p99 ms |",
              "|---|---:|---:|---:|---:|"]
    for label in ("baseline", "current"):
        for i, m in enumerate(cmp[label]):
            lines.append(f"| {label} · {i + 1} | {m['anon_get']['rps']:,.0f} | {m['user_get']['rps']:,.0f} | "
                         f"{m['user_get']['cpu_us_per_req']:.1f} | {m['user_get']['p99_ms']:.2f} |")
stores = r.get("stores")
if stores:
    sq = stores["SQLite"]["user_get"]
    lines += ["", f"The store as a dimension (`bench/run`, same build, one after the other{', ' + r['stores_date'] if r.get('stores_date') else ''}): "
              "latchkey's CPU per request, and the store server's own (all its processes: PostgreSQL's backends, "
              "redis-server), which is what several instances share.", "",
              "| Store · scenario | req/s | p50 ms | p99 ms | latchkey CPU µs/req | store CPU µs/req | bad bodies |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for label, m in stores.items():
        for key, what in (("anon_get", "anonymous GET /"), ("user_get", "logged-in GET /"),
                          ("user_get_during_login_flood", "logged-in GET during a login flood")):
            res = m[key]
            store_cpu = f"{res['store_cpu_us_per_req']:.1f}" if "store_cpu_us_per_req" in res else "–"
            lines.append(f"| {label} · {what} | {res['rps']:,.0f} | {res['p50_ms']:.2f} | {res['p99_ms']:.2f} | "
                         f"{res['cpu_us_per_req']:.1f} | {store_cpu} | {res['body_bad']} |")
        if "two_instances" in m:
            t = m["two_instances"]
            lines.append(f"| {label} · logged-in GET, two instances on one core | {t['rps']:,.0f} | – | {t['p99_ms']:.2f} | "
                         f"{t['cpu_us_per_req']:.1f} | {t['store_cpu_us_per_req']:.1f} | {t['body_bad']} |")
    pg, rd = stores.get("PostgreSQL (users and sessions)"), stores.get("Redis sessions, users in SQLite")
    store_targets = []
    if pg:
        u = pg["user_get"]
        store_targets += [
            ("PostgreSQL logged-in GET ≥ 50% of SQLite's req/s", f"{100 * ratio(u['rps'], sq['rps']):.0f}% ({u['rps']:,.0f} vs {sq['rps']:,.0f})"),
            ("PostgreSQL: latchkey CPU per request ≤ 2× SQLite's", f"{ratio(u['cpu_us_per_req'], sq['cpu_us_per_req']):.2f}× ({u['cpu_us_per_req']:.1f} vs {sq['cpu_us_per_req']:.1f} µs)"),
            ("PostgreSQL logged-in GET p99 ≤ 5 ms", f"{u['p99_ms']:.2f} ms"),
        ]
    if rd:
        u = rd["user_get"]
        store_targets.append(("Redis sessions logged-in GET ≥ 85% of SQLite's req/s", f"{100 * ratio(u['rps'], sq['rps']):.0f}% ({u['rps']:,.0f} vs {sq['rps']:,.0f})"))
    lines += ["", "| Target | Measured |", "|---|---|"] + [f"| {t} | {m} |" for t, m in store_targets]
table = "\n".join(lines)

# A horizontal bar chart of req/s per scenario (log-free, plain SVG).
bars = [(f"latchkey {label}", lk[key]["rps"], "#6a5af9") for key, label in SCENARIOS]
if peer:
    bars += [(f"tutorial {label}", peer[key]["rps"], "#999") for key, label in SCENARIOS]
bars.append(("bare axum fixed page", bare["user_get"]["rps"], "#2a9d8f"))


def bar_chart(title, bars, name):
    width, bar_h, left = 760, 22, 300
    top = max(v for _, v, _ in bars)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{len(bars) * (bar_h + 8) + 50}" font-family="sans-serif" font-size="12">',
           f'<text x="10" y="18" font-size="14" font-weight="bold">{title}</text>']
    for i, (label, v, color) in enumerate(bars):
        y = 34 + i * (bar_h + 8)
        w = (width - left - 90) * v / top
        svg.append(f'<text x="10" y="{y + 15}">{label}</text><rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>'
                   f'<text x="{left + w + 6:.1f}" y="{y + 15}">{v:,.0f}</text>')
    svg.append("</svg>")
    (BENCH / name).write_text("\n".join(svg) + "\n")


bar_chart(f"Requests per second ({r['connections']} connections, {r['date']})", bars, "chart.svg")
if stores:
    colors = {"anon_get": "#2a9d8f", "user_get": "#6a5af9", "user_get_during_login_flood": "#e76f51"}
    what = {"anon_get": "anonymous", "user_get": "logged-in", "user_get_during_login_flood": "logged-in, login flood"}
    bar_chart(f"Requests per second by session store ({r.get('stores_connections', r['connections'])} connections)",
              [(f"{label.split(' (')[0].split(',')[0]} · {what[key]}", m[key]["rps"], colors[key])
               for key in colors for label, m in stores.items()], "stores.svg")

doc = (ROOT / "BENCHMARKS.md").read_text()
doc = re.sub(r"<!-- RESULTS -->.*<!-- /RESULTS -->", "<!-- RESULTS -->\n" + table + "\n<!-- /RESULTS -->", doc, flags=re.S)
(ROOT / "BENCHMARKS.md").write_text(doc)
print(table)
