#!/usr/bin/env python3
"""latchkey's side-by-side benchmark: latchkey (SQLite), the express-session tutorial app (the
peer, if present) and a bare axum page (the ceiling), each driven in turn by wrk.

Method: server pinned to CPU 0, wrk to CPU 1, each in its own session with a raised autogroup
priority; 32 connections; warm-up, then a timed run. Every response body is checked (see
check.lua), so an error page cannot pass for speed. Results go to bench/results.json; render.py
turns them into BENCHMARKS.md's table and chart.
"""
import argparse, atexit, base64, hashlib, json, os, re, secrets, shutil, sqlite3, subprocess, sys, tempfile, time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TICK = os.sysconf("SC_CLK_TCK")
SERVER_CPU, LOAD_CPU = "0", "1"
LK_PASSWORD = "benchmark-password"
# The session cookie latchkey sets in PROD (Secure, so `__Host-`); builds before it set the plain
# name, so a run against one says so here.
COOKIE_NAME = os.environ.get("LATCHKEY_BENCH_COOKIE", "__Host-latchkey_session")


def sh(cmd, **kw):
    print("+", " ".join(map(str, cmd)), file=sys.stderr)
    return subprocess.run(cmd, check=True, **kw)


def boosted(cmd, cpu):
    """Pinned to `cpu`, own session, autogroup niceness -10 (plain nice does not cross sessions)."""
    prio = "echo -10 > /proc/self/autogroup 2>/dev/null; exec \"$@\""
    return ["taskset", "-c", cpu, "setsid", "sh", "-c", prio, "sh", *map(str, cmd)]


class Server:
    def __init__(self, name, cmd, env=None, cwd=ROOT, ready=r"listening on http://(\S+)|Server Running at port (\d+)"):
        self.name = name
        self.proc = subprocess.Popen(boosted(cmd, SERVER_CPU), cwd=cwd, env={**os.environ, **(env or {})},
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"{name} exited before it was ready")
            m = re.search(ready, line)
            if m:
                self.base = "http://" + (m.group(1) if m.group(1) else f"127.0.0.1:{m.group(2)}")
                break
        else:
            raise SystemExit(f"{name} did not start")
        # The real server is the exec'd child of setsh: find the pid that owns the socket's process tree.
        self.pid = self.proc.pid
        # Never left running by a run that fails halfway (it would take CPU from the next one).
        atexit.register(self.stop)
        import threading
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for _ in self.proc.stdout:
            pass

    def cpu_ticks(self):
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def rss_kb(self):
        m = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{self.pid}/status").read_text())
        return int(m.group(1))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wrk(base, path, seconds, conns, env):
    cmd = boosted(["wrk", "-t", "2", "-c", str(conns), "-d", f"{seconds}s", "--latency",
                   "-s", BENCH / "check.lua", base + path], LOAD_CPU)
    out = subprocess.run(cmd, env={**os.environ, "THREADS": "2", **env}, capture_output=True, text=True).stdout
    res = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    res["requests"] = int(m.group(1))
    res["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"CHECK ok=(\d+) bad=(\d+) exhausted=(\d+)", out)
    res["body_ok"], res["body_bad"], res["exhausted"] = map(int, m.groups())
    m = re.search(r"LATENCY p50=(\d+) p99=(\d+)", out)
    res["p50_ms"], res["p99_ms"] = int(m.group(1)) / 1000, int(m.group(2)) / 1000
    return res


def wrk_one(url, seconds, conns, env):
    """wrk on one thread through check.lua, for the rolling-restart and soak scripts: requests,
    req/s, good and bad answers, socket errors, p50 and p99 (ms)."""
    cmd = boosted(["wrk", "-t", "1", "-c", str(conns), "-d", f"{seconds}s", "--latency",
                   "-s", BENCH / "check.lua", url], LOAD_CPU)
    out = subprocess.run(cmd, env={**os.environ, "THREADS": "1", **env}, capture_output=True, text=True).stdout
    ok, bad, _ = map(int, re.search(r"CHECK ok=(\d+) bad=(\d+) exhausted=(\d+)", out).groups())
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p50, p99 = map(int, re.search(r"LATENCY p50=(\d+) p99=(\d+)", out).groups())
    return {"requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "ok": ok, "bad": bad, "socket_errors": sum(map(int, m.groups())) if m else 0,
            "p50_ms": p50 / 1000, "p99_ms": p99 / 1000}


PG = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"


def psql(sql, db="test"):
    subprocess.run(["psql", f"{PG}/{db}", "-qc", sql], check=True, capture_output=True)


def login(base, origin, user):
    """Logs `user` in over HTTP; returns its session cookie (`name=value`)."""
    req = urllib.request.Request(base + "/api/login", method="POST",
                                 data=f"username={user}&password={LK_PASSWORD}".encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": origin,
                                          "Accept": "application/json"})
    with urllib.request.urlopen(req) as res:
        cookies = [c.split(";")[0] for c in res.headers.get_all("Set-Cookie")]
    # (The device cookie comes too.)
    return next(c for c in cookies if "latchkey_session=" in c)


def store_ticks(name):
    """CPU ticks (user + system) of every process called `name` (the store's server and its
    backends: PostgreSQL runs one process per connection)."""
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        comm, rest = stat.split("(", 1)[1].rsplit(")", 1)
        if comm == name:
            f = rest.split()
            total += int(f[11]) + int(f[12])
    return total


def measure(server, path, env, args, warmup=True, duration=None, store=None):
    """One scenario: warm-up, then a timed run. `store`: the process name of the store's server
    (`postgres`, `redis-server`), whose CPU per request is reported too."""
    warm = wrk(server.base, path, args.warmup, args.connections, env) if warmup else {"requests": 0, "body_bad": 0}
    rss0, cpu0 = server.rss_kb(), server.cpu_ticks()
    store0 = store_ticks(store) if store else 0
    res = wrk(server.base, path, duration or args.duration, args.connections, env)
    res["warmup_requests"], res["warmup_bad"] = warm["requests"], warm["body_bad"]
    cpu1 = server.cpu_ticks()
    res["cpu_us_per_req"] = (cpu1 - cpu0) / TICK * 1e6 / max(res["requests"], 1)
    if store:
        res["store_cpu_us_per_req"] = (store_ticks(store) - store0) / TICK * 1e6 / max(res["requests"], 1)
    res["rss_before_mb"], res["rss_after_mb"] = rss0 / 1024, server.rss_kb() / 1024
    print(f"  {server.name:9} {path:12} {res['rps']:>9.0f} req/s p50 {res['p50_ms']:.2f} ms p99 {res['p99_ms']:.2f} ms "
          f"cpu {res['cpu_us_per_req']:.1f} us/req bad {res['body_bad']} non2xx {res['non_2xx']}", file=sys.stderr)
    return res


def seed_sessions(db, count, user_id=1, name="user1", cookie_name=None):
    """Inserts `count` live sessions for user1 straight into latchkey's SQLite schema and
    returns their cookies (the same encoding tower-sessions uses: base64url of the id's 16
    little-endian bytes; the store keys rows by SHA-256 of those bytes)."""
    now = int(time.time())
    data = json.dumps({"uid": user_id, "auth": {"name": name, "created": now, "seen": now, "user_agent": "wrk"}}).encode()
    con = sqlite3.connect(db)
    cookies, rows = [], []
    for _ in range(count):
        raw = secrets.token_bytes(16)
        cookies.append((cookie_name or COOKIE_NAME) + "=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
        rows.append((hashlib.sha256(raw).digest(), user_id, data, now + 86400, now))
        if len(rows) == 50_000:
            con.executemany("INSERT INTO sessions (id_hash, user_id, data, expires_at, created_at) VALUES (?,?,?,?,?)", rows)
            rows = []
    con.executemany("INSERT INTO sessions (id_hash, user_id, data, expires_at, created_at) VALUES (?,?,?,?,?)", rows)
    con.commit()
    # A bulk insert leaves a write-ahead log of its whole size behind, which every read then
    # searches; the server's own writes are checkpointed as they go. Fold it in, as they are.
    busy, log, done = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        print(f"  warning: the checkpoint after seeding was blocked ({done} of {log} pages)", file=sys.stderr)
    con.close()
    return cookies


def session_count(db):
    con = sqlite3.connect(db)
    n = con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    con.close()
    return n


def during_login_flood(server, cookie, login_body, args, store=None):
    """Logged-in page views while a flood of correct logins runs: hashing must not starve pages."""
    flood = subprocess.Popen(boosted(["wrk", "-t", "1", "-c", "32", "-d", f"{args.duration + 2}s", "-s", BENCH / "check.lua",
                                      server.base + "/api/login"], LOAD_CPU),
                             env={**os.environ, "METHOD": "POST", "BODY": login_body, "THREADS": "1", "ORIGIN": server.base},
                             stdout=subprocess.DEVNULL)
    try:
        time.sleep(1)  # let the flood saturate the server before measuring under it
        return measure(server, "/", {"COOKIE": cookie, "EXPECT": "Welcome, "}, args, warmup=False, store=store)
    finally:
        flood.wait(args.duration + 30)


STORES = [
    # (label, users database, session store, process name of the store's server)
    ("SQLite", "sqlite", "", None),
    ("Redis sessions, users in SQLite", "sqlite", "redis", "redis-server"),
    ("PostgreSQL (users and sessions)", "postgres", "", "postgres"),
]


def pin_store(name, cpus):
    """Sets the CPU affinity of every process called `name` (and their threads; PostgreSQL's
    new backends inherit the postmaster's) to `cpus` (a CPU list, or a {pid: set} of masks to
    restore); returns what each had before."""
    before = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() != name:
                    continue
                pid = int(d.name)
                before[pid] = os.sched_getaffinity(pid)
            except OSError:
                continue
            mask = cpus.get(pid) if isinstance(cpus, dict) else cpus
            if mask is None:
                continue
            cpu_list = mask if isinstance(mask, str) else ",".join(map(str, sorted(mask)))
            done = subprocess.run(["taskset", "-a", "-p", "-c", cpu_list, d.name], capture_output=True, text=True)
            if done.returncode != 0:
                print(f"  warning: cannot pin {name} ({pid}): {done.stderr.strip()}", file=sys.stderr)
    return before


def store_niceness(name, nice):
    """Sets the autogroup niceness of every process called `name` (that of its session's
    group; `nice`: a number, or a {pid: number} to restore); returns what each had before."""
    before = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if (d / "comm").read_text().strip() != name:
                continue
            pid = int(d.name)
            before[pid] = int((d / "autogroup").read_text().split()[-1])
            value = nice.get(pid) if isinstance(nice, dict) else nice
            if value is not None:
                (d / "autogroup").write_text(str(value))
        except (OSError, ValueError) as err:
            print(f"  warning: cannot set the priority of {name} ({d.name}): {err}", file=sys.stderr)
    return before


def store_runs(binary, base_config, base_env, work, args, login_body):
    """The store as a dimension: the anonymous, logged-in and login-flood scenarios for each
    store this project's machines run, one after the other on one build; then two instances on
    one PostgreSQL (on two cores this shows what a second instance costs the shared store per
    request, not a throughput gain)."""
    out = {}
    tag = f"latchkey_bench_{os.getpid()}"
    # Instances sharing a store must share one secret (64 random bytes, base64).
    base_env = {**base_env, "LATCHKEY_SESSION_KEY": base64.b64encode(os.urandom(64)).decode(),
                "LATCHKEY_SECRETS_KEY": base64.b64encode(os.urandom(64)).decode()}
    # The store servers stand for other machines: they run beside the load generator (CPU 1),
    # not on the server's core, for the duration of these runs, and with its priority. (At
    # their own nice 0, wrk's raised group took CPU 1 whenever both wanted it and the store
    # answered late: Redis pages at 83% of SQLite's rate with latchkey's core 7% idle, against
    # 92-96% with the store raised too; BENCHMARKS.md, 2026-12-06.)
    saved = {name: pin_store(name, LOAD_CPU) for name in ("postgres", "redis-server")}
    niceness = {name: store_niceness(name, -10) for name in ("postgres", "redis-server")}
    try:
        for label, users, sessions, store_proc in STORES:
            out[label] = one_store(binary, base_config, base_env, work, args, login_body, tag, users, sessions, store_proc)
    finally:
        for name, masks in saved.items():
            # (Backends started meanwhile inherited the pinned mask and end with their connections.)
            pin_store(name, masks)
        for name, nice in niceness.items():
            store_niceness(name, nice)
    return out


def one_store(binary, base_config, base_env, work, args, login_body, tag, users, sessions, store_proc):
    """One store's three scenarios (and, for PostgreSQL, two instances), on a fresh database."""
    config = base_config
    env = dict(base_env)
    if users == "postgres":
        psql(f"DROP DATABASE IF EXISTS {tag} WITH (FORCE)")
        psql(f"CREATE DATABASE {tag}")
        env["DATABASE_URL"] = f"{PG}/{tag}"
    else:
        env["DATABASE_URL"] = f"sqlite://{work / (tag + '.db')}"
        (work / (tag + ".db")).unlink(missing_ok=True)
    if sessions == "redis":
        config = config.replace('store = ""', f'store = "{REDIS}/?key_prefix={tag}:"')
    cfg = work / f"stores-{users}-{sessions or 'same'}.toml"
    cfg.write_text(config)
    env["LATCHKEY_CONFIG"] = str(cfg)
    for name in ("user1", "user2"):
        subprocess.run([binary, "user", "add", name], input=LK_PASSWORD + "\n", text=True,
                       env={**os.environ, **env}, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    server = None
    try:
        server = Server(f"lk-{users}{'+' + sessions if sessions else ''}", [binary], env=env)
        cookie = login(server.base, server.base, "user1")
        m = {}
        m["anon_get"] = measure(server, "/", {"EXPECT": 'name="password"'}, args, store=store_proc)
        m["user_get"] = measure(server, "/", {"COOKIE": cookie, "EXPECT": "Welcome, "}, args, store=store_proc)
        m["user_get_during_login_flood"] = during_login_flood(server, cookie, login_body, args, store=store_proc)
        server.stop()
        server = None
        if users == "postgres":
            m["two_instances"] = two_instances(binary, env, args, cookie)
    finally:
        if server:
            server.stop()
        if users == "postgres":
            psql(f"DROP DATABASE IF EXISTS {tag} WITH (FORCE)")
        if sessions == "redis":
            subprocess.run(["sh", "-c", f"redis-cli --scan --pattern '{tag}:*' | xargs -r redis-cli DEL"],
                           check=True, capture_output=True)
    return m


def two_instances(binary, env, args, cookie):
    """Two instances on one PostgreSQL, both on the server core, each driven by its own half of
    the connections: the PostgreSQL CPU per request with a second instance against one."""
    servers = []
    try:
        for i in (0, 1):
            servers.append(Server(f"pg-instance-{i}", [binary], env=env))
        half = max(args.connections // 2, 1)
        for s in servers:
            wrk(s.base, "/", args.warmup, half, {"COOKIE": cookie, "EXPECT": "Welcome, "})
        cpu0 = [s.cpu_ticks() for s in servers]
        store0 = store_ticks("postgres")
        runs = [subprocess.Popen(boosted(["wrk", "-t", "1", "-c", str(half), "-d", f"{args.duration}s", "--latency",
                                          "-s", BENCH / "check.lua", s.base + "/"], LOAD_CPU),
                                 env={**os.environ, "THREADS": "1", "COOKIE": cookie, "EXPECT": "Welcome, "},
                                 stdout=subprocess.PIPE, text=True) for s in servers]
        outs = [p.communicate(timeout=args.duration + 30)[0] for p in runs]
        store1 = store_ticks("postgres")
        cpu1 = [s.cpu_ticks() for s in servers]
    finally:
        for s in servers:
            s.stop()
    requests = sum(int(re.search(r"(\d+) requests in", o).group(1)) for o in outs)
    bad = sum(int(re.search(r"CHECK ok=\d+ bad=(\d+)", o).group(1)) for o in outs)
    return {"rps": sum(float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1)) for o in outs),
            "requests": requests, "body_bad": bad,
            "p99_ms": max(int(re.search(r"LATENCY p50=\d+ p99=(\d+)", o).group(1)) for o in outs) / 1000,
            "cpu_us_per_req": sum(b - a for a, b in zip(cpu0, cpu1)) / TICK * 1e6 / max(requests, 1),
            "store_cpu_us_per_req": (store1 - store0) / TICK * 1e6 / max(requests, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--stores-only", action="store_true",
                    help="only the store comparison, merged into the existing bench/results.json")
    ap.add_argument("--compare-only", action="store_true",
                    help="only the --baseline comparison, merged into the existing bench/results.json")
    ap.add_argument("--peer", default=str(ROOT.parent / "shared/peers/express-session-tutorial"))
    ap.add_argument("--baseline", help="a saved earlier release build (DIR/latchkey, DIR/hash.txt, DIR/site, "
                    "optionally DIR/Leptos.toml): "
                    "measured against this build in the same run, alternating, before the rest")
    ap.add_argument("--baseline-cookie", default=COOKIE_NAME,
                    help="the session cookie's name in the baseline build (before __Host-: latchkey_session)")
    args = ap.parse_args()

    if not args.skip_build:
        sh(["cargo", "leptos", "build", "--release", "--precompress", "--split"], cwd=ROOT)
        sh(["cargo", "build", "--release", "--example", "bare", "--features", "ssr"], cwd=ROOT)

    work = Path(tempfile.mkdtemp(prefix="latchkey-bench-"))
    db = work / "latchkey.db"
    config = (ROOT / "Leptos.toml").read_text()
    # A login flood from one address with the right password is the point of the login
    # scenario, so the throttle limits are lifted here (and only here).
    config = config.replace("max-failures-per-account = 5", "max-failures-per-account = 100000000")
    config = config.replace("max-failures-per-address = 50", "max-failures-per-address = 100000000")
    # The cap on a user's sessions stays at its default: the login runs log in as user2, so
    # they trim user2's oldest sessions (as every real login does) and never the logged-in
    # runs' user1 cookie.
    (work / "Leptos.toml").write_text(config)
    env = {"LATCHKEY_CONFIG": str(work / "Leptos.toml"), "DATABASE_URL": f"sqlite://{db}", "LEPTOS_ENV": "PROD",
           "LEPTOS_SITE_ADDR": "127.0.0.1:0", "LEPTOS_SITE_ROOT": "target/site", "RUST_LOG": "warn,latchkey=error"}
    # The server logs "listening on" at info; keep that one line.
    env["RUST_LOG"] = "warn,latchkey::server=info"
    binary = ROOT / "target/release/latchkey"
    # PROD refuses to start while user1 has the public demo password, so the benchmark user gets
    # its own.
    for name in ("user1", "user2"):
        subprocess.run([binary, "user", "add", name], input=LK_PASSWORD + "\n", text=True, env={**os.environ, **env}, cwd=ROOT, check=True)

    login_body = f"username=user2&password={LK_PASSWORD}"
    if args.compare_only:
        if not args.baseline:
            sys.exit("--compare-only needs --baseline DIR")
        results = json.loads((BENCH / "results.json").read_text())
        results["baseline_comparison"] = compare(Path(args.baseline), binary, env, work, args)
        results["baseline_comparison"]["baseline_cookie"] = args.baseline_cookie
        results["baseline_comparison"]["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        (BENCH / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        shutil.rmtree(work, ignore_errors=True)
        return
    if args.stores_only:
        results = json.loads((BENCH / "results.json").read_text())
        results["stores"] = store_runs(binary, config, env, work, args, login_body)
        results["stores_date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        results["stores_connections"] = args.connections
        (BENCH / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        shutil.rmtree(work, ignore_errors=True)
        return

    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
               "connections": args.connections, "duration_s": args.duration, "servers": {}}
    if args.baseline:
        results["baseline_comparison"] = compare(Path(args.baseline), binary, env, work, args)
        results["baseline_comparison"]["baseline_cookie"] = args.baseline_cookie
    peer_login_body = "username=user1&password=mypassword"  # the tutorial's hard-coded login

    # --- latchkey -------------------------------------------------------------------------
    lk = Server("latchkey", [binary], env=env)
    r = results["servers"]["latchkey"] = {}
    # Long enough for well over 100,000 anonymous visits (warm-up included).
    r["anon_get"] = measure(lk, "/", {"EXPECT": 'name="password"'}, args, duration=max(args.duration, 20))
    r["anon_get"]["sessions_stored"] = session_count(db)
    # RSS change across the timed run (after warm-up: start-up buffers are freed by then).
    r["anon_get"]["rss_delta_mb"] = r["anon_get"]["rss_after_mb"] - r["anon_get"]["rss_before_mb"]
    cookie = seed_sessions(db, 1)[0]
    seed_sessions(db, 999)
    # What each page's cold load fetches of the front end (the login page's is the budget);
    # measured while nothing else runs. A failure here is reported, and the run goes on.
    pages = subprocess.run(["node", BENCH / "pages.cjs", lk.base, cookie], capture_output=True, text=True)
    if pages.returncode == 0:
        results["pages"] = json.loads(pages.stdout)
    else:
        print(f"  pages.cjs failed: {pages.stderr[-2000:]}", file=sys.stderr)
    r["user_get"] = measure(lk, "/", {"COOKIE": cookie, "EXPECT": "Welcome, "}, args)
    # One million stored sessions, measured right after the 1,000-session run (same process
    # state, nothing else in between).
    # Other people's sessions (no user here): no real user can hold a million (the session cap).
    seed_sessions(db, 1_000_000 - session_count(db), user_id=None)
    r["sessions_in_store_for_1m"] = session_count(db)
    r["user_get_1m_sessions"] = measure(lk, "/", {"COOKIE": cookie, "EXPECT": "Welcome, "}, args)
    r["login"] = measure(lk, "/api/login", {"METHOD": "POST", "BODY": login_body, "EXPECT": '"user2"', "ORIGIN": lk.base}, args)
    cookies_file = work / "latchkey-cookies.txt"
    cookies_file.write_text("\n".join(seed_sessions(db, 300_000)) + "\n")
    r["logout"] = measure(lk, "/api/logout", {"METHOD": "POST", "COOKIE_FILE": str(cookies_file), "EXPECT_STATUS": "200", "ORIGIN": lk.base}, args, warmup=False)
    r["user_get_during_login_flood"] = during_login_flood(lk, cookie, login_body, args)
    r["rss_after_login_flood_mb"] = lk.rss_kb() / 1024
    hydration = subprocess.run(["node", BENCH / "hydration.cjs", lk.base + "/", "15"], capture_output=True, text=True, check=True)
    results["hydration_ms"] = json.loads(hydration.stdout)
    lk.stop()

    # --- the store as a dimension ---------------------------------------------------------
    results["stores"] = store_runs(binary, config, env, work, args, login_body)
    results.pop("stores_date", None)
    results.pop("stores_connections", None)

    # --- bare axum ------------------------------------------------------------------------
    bare = Server("bare", [ROOT / "target/release/examples/bare"])
    results["servers"]["bare"] = {"user_get": measure(bare, "/", {"EXPECT": "Welcome, user1"}, args)}
    bare.stop()

    # --- the tutorial app -----------------------------------------------------------------
    peer_dir = Path(args.peer)
    if (peer_dir / "app.js").exists():
        pwork = work / "peer"
        shutil.copytree(peer_dir, pwork, ignore=shutil.ignore_patterns("node_modules"))
        sh(["npm", "ci", "--no-fund", "--no-audit", "--silent"], cwd=pwork)
        port = free_port()
        peer = Server("tutorial", ["node", "app.js"], env={"PORT": str(port)}, cwd=pwork)
        p = results["servers"]["tutorial"] = {}
        rss0 = peer.rss_kb()
        p["anon_get"] = measure(peer, "/", {"EXPECT": 'name="password"'}, args)
        p["anon_get"]["rss_delta_mb"] = (peer.rss_kb() - rss0) / 1024
        out = work / "peer-cookies"
        p["login"] = measure(peer, "/user", {"METHOD": "POST", "BODY": peer_login_body, "EXPECT": "Hey there", "COOKIE_OUT": str(out)}, args)
        peer_cookies = [l for f in work.glob("peer-cookies.*") for l in f.read_text().splitlines()]
        (work / "peer-cookies.txt").write_text("\n".join(peer_cookies) + "\n")
        p["user_get"] = measure(peer, "/", {"COOKIE": peer_cookies[0], "EXPECT": "Welcome User"}, args)
        p["logout"] = measure(peer, "/logout", {"COOKIE_FILE": str(work / "peer-cookies.txt"), "EXPECT_STATUS": "302"}, args, warmup=False)
        peer.stop()

    results["front_end"] = front_end_sizes()
    (BENCH / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {BENCH / 'results.json'}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)


def compare(baseline, binary, env, work, args, rounds=2):
    """The same build-independent scenarios (anonymous and logged-in `GET /`, 1,000 stored
    sessions) on an earlier build and on this one, alternating `rounds` times, each on a fresh
    database: the spread between rounds of one build is the run-to-run noise."""
    out = {"baseline": [], "current": []}
    builds = [("baseline", baseline / "latchkey", str(baseline / "site"), args.baseline_cookie),
              ("current", binary, "target/site", COOKIE_NAME)]
    for n in range(rounds):
        for label, exe, site, cookie_name in builds:
            db = work / f"compare-{label}-{n}.db"
            e = {**env, "DATABASE_URL": f"sqlite://{db}", "LEPTOS_SITE_ROOT": site}
            # An earlier build reads its own configuration file (DIR/Leptos.toml), if given.
            if label == "baseline" and (baseline / "Leptos.toml").exists():
                e["LATCHKEY_CONFIG"] = str(baseline / "Leptos.toml")
            subprocess.run([exe, "user", "add", "user1"], input=LK_PASSWORD + "\n", text=True,
                           env={**os.environ, **e}, cwd=ROOT, check=True)
            server = Server(f"{label}-{n}", [exe], env=e)
            cookie = seed_sessions(db, 1, cookie_name=cookie_name)[0]
            seed_sessions(db, 999, cookie_name=cookie_name)
            out[label].append({
                "anon_get": measure(server, "/", {"EXPECT": 'name="password"'}, args),
                "user_get": measure(server, "/", {"COOKIE": cookie, "EXPECT": "Welcome, "}, args),
            })
            server.stop()
    return out


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def front_end_sizes():
    """Raw and brotli sizes of the release front end (brotli via Node's zlib, quality 11)."""
    pkg = ROOT / "target/site/pkg"
    # With hash-files, the release build's names are listed beside its binary (older builds'
    # files may still lie in pkg/).
    hashes = dict(l.split(":", 1) for l in (ROOT / "target/release/hash.txt").read_text().split("\n") if ":" in l)
    names = [f"latchkey.{hashes[k].strip()}.{k}" for k in ("css", "js", "wasm")]
    sizes = {}
    for f in (pkg / n for n in names):
        if True:
            br = subprocess.run(["node", "-e", "const z=require('zlib');const b=require('fs').readFileSync(process.argv[1]);"
                                 "process.stdout.write(String(z.brotliCompressSync(b,{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length))",
                                 str(f)], capture_output=True, text=True, check=True).stdout
            sizes[f.name] = {"raw": f.stat().st_size, "brotli": int(br)}
    return sizes


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) // 1024 // 1024
    return f"{os.cpu_count()} × {cpu}, {mem} GiB RAM, {os.uname().sysname} {os.uname().release}"


if __name__ == "__main__":
    main()
