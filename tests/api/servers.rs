//! Store servers a test starts (and stops) itself: its own port and data directory, so fault
//! tests never touch the machine's shared PostgreSQL and Redis. They need `redis-server` and
//! PostgreSQL's `initdb`/`pg_ctl` on PATH (Debian: packages redis-server, postgresql).

use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn require(program: &str) {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{program} is not on PATH: the fault tests start their own store servers \
         (Debian: apt-get install redis-server postgresql)"
    );
}

fn kill(pid: u32, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal} {pid}");
}

/// A `redis-server` of the test's own, with an append-only file fsynced on every write, so a
/// stop and restart keeps every session.
pub struct OwnRedis {
    dir: TempDir,
    pub port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    pub async fn start() -> Self {
        require("redis-server");
        let mut redis = Self {
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
            child: None,
        };
        redis.launch().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn launch(&mut self) {
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start redis-server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("Ready to accept connections") {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(matches!(ready, Ok(true)), "redis-server did not start");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child = Some(child);
    }

    fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .and_then(Child::id)
            .expect("redis is running")
    }

    /// Stops the server (SIGTERM: it flushes and exits) and waits for it.
    pub async fn stop(&mut self) {
        kill(self.pid(), "TERM");
        self.child.take().unwrap().wait().await.unwrap();
    }

    pub async fn restart(&mut self) {
        self.launch().await;
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers.
    pub fn freeze(&self) {
        kill(self.pid(), "STOP");
    }

    pub fn thaw(&self) {
        kill(self.pid(), "CONT");
    }
}

/// A PostgreSQL cluster of the test's own (initdb in a temporary directory, trust auth).
pub struct OwnPostgres {
    dir: TempDir,
    pub port: u16,
    running: bool,
}

impl OwnPostgres {
    pub async fn start() -> Self {
        require("initdb");
        require("pg_ctl");
        let dir = tempfile::tempdir().unwrap();
        let pg = Self {
            dir,
            port: free_port(),
            running: false,
        };
        if is_root() {
            // PostgreSQL refuses to run as root: hand the directory to its own user.
            pg.run("chown", &["-R", "postgres", &pg.path()]).await;
        }
        pg.as_postgres(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        )
        .await;
        let mut pg = pg;
        pg.restart().await;
        pg
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn path(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn data(&self) -> String {
        format!("{}/data", self.path())
    }

    async fn run(&self, program: &str, args: &[&str]) {
        let out = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    async fn as_postgres(&self, program: &str, args: &[&str]) {
        if is_root() {
            let mut all = vec!["-u", "postgres", "--", program];
            all.extend_from_slice(args);
            self.run("runuser", &all).await;
        } else {
            self.run(program, args).await;
        }
    }

    /// Starts (or starts again) the server and waits until it accepts connections.
    pub async fn restart(&mut self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.path()
        );
        let log = format!("{}/server.log", self.path());
        self.as_postgres(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        )
        .await;
        self.running = true;
    }

    /// The server's processes: the postmaster (first) and its children.
    fn pids(&self) -> Vec<String> {
        let pidfile = std::fs::read_to_string(format!("{}/postmaster.pid", self.data())).unwrap();
        let main = pidfile.lines().next().unwrap().trim().to_owned();
        let children = std::process::Command::new("pgrep")
            .args(["-P", &main])
            .output()
            .unwrap();
        let mut pids = vec![main];
        pids.extend(
            String::from_utf8_lossy(&children.stdout)
                .split_whitespace()
                .map(str::to_owned),
        );
        pids
    }

    /// Freezes every process of this server (SIGSTOP): connections stay open, nothing answers.
    pub fn freeze(&self) {
        for pid in self.pids() {
            kill(pid.parse().unwrap(), "STOP");
        }
    }

    pub fn thaw(&self) {
        for pid in self.pids() {
            kill(pid.parse().unwrap(), "CONT");
        }
    }

    /// Stops the server (fast shutdown: open sessions are cut) and waits for it.
    pub async fn stop(&mut self) {
        self.as_postgres("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])
            .await;
        self.running = false;
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        if self.running {
            // A test that failed while the server was frozen must not leave it (or us) stuck.
            if let Ok(pidfile) = std::fs::read_to_string(format!("{}/postmaster.pid", self.data()))
            {
                if let Some(main) = pidfile.lines().next() {
                    let _ = std::process::Command::new("pkill")
                        .args(["-CONT", "-P", main.trim()])
                        .status();
                    let _ = std::process::Command::new("kill")
                        .args(["-CONT", main.trim()])
                        .status();
                }
            }
            let data = self.data();
            let mut cmd = if is_root() {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", "postgres", "--", "pg_ctl"]);
                c
            } else {
                std::process::Command::new("pg_ctl")
            };
            let _ = cmd
                .args(["-D", &data, "-m", "immediate", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
