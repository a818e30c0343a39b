#!/usr/bin/env python3
"""Soak (issue 14): a mixed load — anonymous pages, logged-in pages, login + logout — at about
70% of what the server sustains, for MINUTES minutes, recording every minute the server's RSS,
open file descriptors, stored sessions and throttle rows, and each load's p99. All should stay
flat. Writes bench/soak.json and bench/soak.svg. Run by bench/soak.

Rate: wrk has no rate limit, so each connection pauses 10 ms between requests (check.lua's
DELAY_MS) and the number of connections is chosen from a short full-speed run of each load."""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import BENCH, LK_PASSWORD, ROOT, Server, seed_sessions, wrk_one  # noqa: E402

# Each load's share of what it sustains alone: together about 70% of the server's one core.
SHARES = {"anonymous": 0.2, "logged_in": 0.4, "login_logout": 0.1}
# Full-speed connections for the capacity runs, and each connection's pause at soak rate.
FULL_CONNS = {"anonymous": 16, "logged_in": 16, "login_logout": 4}
PAUSE_MS = 10

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=20)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="latchkey-soak-"))
    db = work / "latchkey.db"
    config = (ROOT / "Leptos.toml").read_text()
    # As in bench.py: a stream of correct logins from one address is the point. (The account
    # limit too: each minute's wrk run ends with logins in flight, and a login abandoned by
    # its client keeps its counted attempt, so after five minutes user2 was throttled.)
    config = config.replace("max-failures-per-address = 50", "max-failures-per-address = 100000000")
    config = config.replace("max-failures-per-account = 5", "max-failures-per-account = 100000000")
    (work / "Leptos.toml").write_text(config)
    env = {"LATCHKEY_CONFIG": str(work / "Leptos.toml"), "DATABASE_URL": f"sqlite://{db}", "LEPTOS_ENV": "PROD",
           "LEPTOS_SITE_ADDR": "127.0.0.1:0", "LEPTOS_SITE_ROOT": str(ROOT / "target/site"),
           "RUST_LOG": "warn,latchkey::server=info"}
    binary = ROOT / "target/release/latchkey"
    for name in ("user1", "user2"):
        subprocess.run([binary, "user", "add", name], input=LK_PASSWORD + "\n", text=True,
                       env={**os.environ, **env}, cwd=ROOT, check=True, capture_output=True)
    lk = Server("latchkey", [binary], env=env)
    cookie = seed_sessions(db, 1)[0]
    login = {"METHOD": "POST", "BODY": f"username=user2&password={LK_PASSWORD}", "EXPECT": '"user2"',
             "ORIGIN": lk.base, "LOGOUT_AFTER": "1"}
    targets = {
        "anonymous": ("/", {"EXPECT": 'name="password"'}),
        "logged_in": ("/", {"COOKIE": cookie, "EXPECT": "Welcome, "}),
        "login_logout": ("/api/login", login),
    }
    # Capacity: each load alone at full speed for 5 s. At soak rate a connection makes one
    # request per (pause + the request's own time), so the connections needed for `share` of
    # the capacity are share * rate * that interval.
    conns = {}
    for name, (path, e) in targets.items():
        full = wrk_one(lk.base + path, 5, FULL_CONNS[name], e)
        own_time = FULL_CONNS[name] / full["rps"]
        conns[name] = max(1, round(SHARES[name] * full["rps"] * (PAUSE_MS / 1000 + own_time)))
    # check.lua's login-then-logout state is per wrk thread and run_wrk uses one thread.
    conns["login_logout"] = 1
    samples = []
    for minute in range(1, args.minutes + 1):
        results = {}

        def load(name):
            path, e = targets[name]
            # 55 s of load, then the sample: about one a minute.
            results[name] = wrk_one(lk.base + path, 55, conns[name], {**e, "DELAY_MS": str(PAUSE_MS)})

        threads = [threading.Thread(target=load, args=(n,)) for n in targets]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        con = sqlite3.connect(db)
        sessions = con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
        throttle = con.execute("SELECT COUNT(*) FROM login_throttle").fetchone()[0]
        con.close()
        sample = {"minute": minute, "rss_mb": round(lk.rss_kb() / 1024, 1),
                  "open_fds": len(os.listdir(f"/proc/{lk.pid}/fd")), "sessions_stored": sessions,
                  "throttle_rows": throttle,
                  **{f"{n}_rps": round(r["rps"]) for n, r in results.items()},
                  **{f"{n}_p99_ms": r["p99_ms"] for n, r in results.items()},
                  "bad": sum(r["bad"] for r in results.values())}
        samples.append(sample)
        print(json.dumps(sample), file=sys.stderr)
    lk.stop()
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "minutes": args.minutes,
              "shares": SHARES, "connections": conns, "pause_ms": PAUSE_MS,
              "samples": samples}
    (BENCH / "soak.json").write_text(json.dumps(report, indent=2) + "\n")
    chart(samples)


def chart(samples):
    """One small panel per series, minute on x: flat lines are the point."""
    series = [("rss_mb", "RSS MB"), ("open_fds", "open fds"), ("sessions_stored", "sessions stored"),
              ("logged_in_p99_ms", "logged-in p99 ms"), ("login_logout_p99_ms", "login p99 ms")]
    w, h, pad = 260, 120, 30
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * len(series)}" height="{h + 2 * pad}" '
           'font-family="sans-serif" font-size="11">']
    for i, (key, label) in enumerate(series):
        values = [s[key] for s in samples]
        top = max(values) * 1.2 or 1
        x0 = i * w + pad
        pts = " ".join(f"{x0 + (w - 2 * pad) * j / max(len(values) - 1, 1):.1f},{pad + h - h * v / top:.1f}"
                       for j, v in enumerate(values))
        svg.append(f'<text x="{x0}" y="{pad - 10}">{label} (0 – {top:.0f})</text>'
                   f'<rect x="{x0}" y="{pad}" width="{w - 2 * pad}" height="{h}" fill="none" stroke="#ccc"/>'
                   f'<polyline points="{pts}" fill="none" stroke="#5b4ae0" stroke-width="2"/>'
                   f'<text x="{x0}" y="{pad + h + 15}">minute 1 – {len(values)}</text>')
    svg.append("</svg>")
    (BENCH / "soak.svg").write_text("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
