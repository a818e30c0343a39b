#!/usr/bin/env python3
"""A rolling restart behind nginx, under load (issue 14): two latchkey instances on one
PostgreSQL (users and sessions), deploy/nginx.conf in front; logged-in page views and logins run
through nginx for DURATION seconds while each instance in turn gets SIGTERM and is started
again. Reports failed requests, sessions lost and latency; writes bench/rolling.json.

Run by bench/rolling (which installs nginx); reuses bench.py's pinned, boosted processes."""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import BENCH, LK_PASSWORD, LOAD_CPU, PG, ROOT, Server, boosted, free_port, login, psql, wrk_one  # noqa: E402

def logged_in(base, cookie):
    req = urllib.request.Request(base + "/", headers={"Cookie": cookie})
    with urllib.request.urlopen(req) as res:
        return "Welcome, " in res.read().decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--sessions", type=int, default=200)
    args = ap.parse_args()
    binary = ROOT / "target/release/latchkey"
    work = Path(tempfile.mkdtemp(prefix="latchkey-rolling-"))
    db = f"latchkey_rolling_{os.getpid()}"
    psql(f"CREATE DATABASE {db}")
    ports = [free_port(), free_port()]
    front = free_port()
    public = f"http://127.0.0.1:{front}"

    config = (ROOT / "Leptos.toml").read_text()
    config = config.replace('public-url = ""', f'public-url = "{public}"')
    config = config.replace('trusted-proxy-header = ""', 'trusted-proxy-header = "X-Forwarded-For"')
    config = config.replace("trusted-proxies = []", 'trusted-proxies = ["127.0.0.1"]')
    # The logins come from one address: the point is restarts, not throttling.
    config = config.replace("max-failures-per-address = 50", "max-failures-per-address = 100000000")
    (work / "Leptos.toml").write_text(config)
    env = {"LATCHKEY_CONFIG": str(work / "Leptos.toml"), "DATABASE_URL": f"{PG}/{db}", "LEPTOS_ENV": "PROD",
           "LEPTOS_SITE_ROOT": str(ROOT / "target/site"), "RUST_LOG": "warn,latchkey::server=info",
           # Instances sharing a store must share one secret (64 random bytes, base64).
           "LATCHKEY_SESSION_KEY": base64.b64encode(os.urandom(64)).decode(),
           "LATCHKEY_SECRETS_KEY": base64.b64encode(os.urandom(64)).decode()}

    nginx_conf = (ROOT / "deploy/nginx.conf").read_text()
    nginx_conf = nginx_conf.replace("127.0.0.1:3001", f"127.0.0.1:{ports[0]}").replace("127.0.0.1:3002", f"127.0.0.1:{ports[1]}")
    nginx_conf = nginx_conf.replace("listen 80;", f"listen 127.0.0.1:{front};")
    (work / "nginx.conf").write_text(
        f"pid {work}/nginx.pid;\nerror_log {work}/nginx-error.log warn;\nworker_processes 1;\n"
        f"events {{ worker_connections 4096; }}\nhttp {{\naccess_log off;\n"
        f"client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;\n{nginx_conf}\n}}\n")
    try:
        for user in READERS + [FLOODER]:
            subprocess.run([binary, "user", "add", user], input=LK_PASSWORD + "\n", text=True,
                           env={**os.environ, **env}, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        raise
    start = lambda i: Server(f"instance-{i}", [binary], env={**env, "LEPTOS_SITE_ADDR": f"127.0.0.1:{ports[i]}"})
    instances = [start(0), start(1)]
    nginx = subprocess.Popen(boosted(["nginx", "-c", work / "nginx.conf", "-g", "daemon off;"], LOAD_CPU))
    try:
        deadline = time.time() + 10
        while True:
            try:
                urllib.request.urlopen(public + "/healthz")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        cookies = [login(public, public, READERS[i % len(READERS)]) for i in range(args.sessions)]
        results = {}

        def load(name, env_, conns):
            results[name] = wrk_one(public + ("/api/login" if name == "logins" else "/"), args.duration, conns, env_)

        threads = [
            threading.Thread(target=load, args=("pages", {"COOKIE": cookies[0], "EXPECT": "Welcome, "}, 16)),
            threading.Thread(target=load, args=("logins", {"METHOD": "POST", "ORIGIN": public,
                                                           "BODY": f"username={FLOODER}&password={LK_PASSWORD}",
                                                           "EXPECT": f'"{FLOODER}"'}, 4)),
        ]
        began = time.time()
        for t in threads:
            t.start()
        restarts = []
        # Each instance in turn: SIGTERM, wait for it to exit, start it again (ready when it
        # logs "listening on"). The other one carries the traffic meanwhile.
        for i, at in enumerate((args.duration * 0.25, args.duration * 0.6)):
            time.sleep(max(0.0, began + at - time.time()))
            t0 = time.time()
            instances[i].stop()
            stopped = time.time()
            instances[i] = start(i)
            restarts.append({"instance": i, "t0": t0, "stop_s": round(stopped - t0, 3),
                             "back_in_s": round(time.time() - t0, 3)})
        for t in threads:
            t.join()
        # A load whose wrk run failed left no result: that is a failed benchmark, not 0 failures.
        missing = {"pages", "logins"} - results.keys()
        if missing:
            raise SystemExit(f"rolling restart: no result from {sorted(missing)} (see above)")
        lost = sum(not logged_in(public, c) for c in cookies)
        failed = sum(r["bad"] + r["socket_errors"] for r in results.values())
        # What nginx saw of the restarts: each line a request it passed to the other instance.
        errors = (work / "nginx-error.log").read_text() if (work / "nginx-error.log").exists() else ""
        retried = sum(1 for line in errors.splitlines() if "upstream" in line)
        report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "duration_s": args.duration,
                  "instances": 2, "store": "postgresql (users and sessions)", "restarts": [
                      {k: v for k, v in r.items() if k != "t0"} for r in restarts],
                  "load": results, "failed_requests": failed, "sessions_checked": len(cookies),
                  "sessions_lost": lost,
                  "upstream_errors_retried_by_nginx": retried}
        (BENCH / "rolling.json").write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report, indent=2))
        if failed or lost:
            raise SystemExit(f"rolling restart: {failed} failed request(s), {lost} session(s) lost")
    finally:
        nginx.terminate()
        nginx.wait()
        for s in instances:
            s.stop()
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
