//! Support of the reliability and security suite (`faults_*`, `bad_input_*`, `secrets_*`, `parsers_*`): a
//! seeded random generator, so every failure names the seed that reproduces it, and small polling helpers.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::time::{Duration, Instant};

/// SplitMix64: a tiny deterministic generator; the same seed gives the same sequence on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// An index into a slice of length `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A duration uniformly drawn from `lo..hi`.
    pub fn duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = hi.saturating_sub(lo).as_millis() as u64;
        lo + Duration::from_millis(self.below(span.max(1)))
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Polls `check` every 200 ms until it returns `Some`, panicking with `what` after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The operator binary, started with the admin kubeconfig of the shared control plane, every Atlassian service
/// at the simulator, watching one namespace, its stdout and stderr in a log file. Killed when dropped.
pub struct Binary {
    child: std::process::Child,
    log: std::path::PathBuf,
    /// Port of /metrics.
    pub metrics_port: u16,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Binary {
    /// Starts the binary; `log` receives its output (appended), `args` come last.
    pub fn start(
        namespace: &str,
        sim_url: &url::Url,
        log: &std::path::Path,
        args: &[&str],
    ) -> Binary {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("a log file");
        let metrics_port = free_port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_jira-cloud-operator"))
            .env_clear()
            .env("KUBECONFIG", testenv::shared().kubeconfig_path())
            .args(["--watch-namespaces", namespace])
            .args(["--jira-api-url", sim_url.as_str()])
            .args(["--jira-auth-url", sim_url.as_str()])
            .args(["--allowed-site-hosts", "127.0.0.1"])
            .args(["--create-outcome-window", "3s"])
            .args(["--jira-requests-per-second", "0"])
            .arg(format!("--metrics-addr=127.0.0.1:{metrics_port}"))
            .arg(format!("--health-addr=127.0.0.1:{}", free_port()))
            .args(testenv::audit::operator_args(args))
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().expect("a log file"))
            .stderr(file)
            .spawn()
            .expect("the operator binary starts");
        Binary {
            child,
            log: log.to_path_buf(),
            metrics_port,
        }
    }

    /// Everything logged to the file so far (by every run that shared it).
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// SIGKILL, then waits for the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (SIGKILL after 30 s); returns whether it exited by itself with success.
    pub async fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("the process status") {
                return status.success();
            }
            if Instant::now() > deadline {
                self.kill();
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("the process status").is_none()
    }

    /// The /metrics text (empty when nothing answers).
    pub async fn metrics(&self) -> String {
        let url = format!("http://127.0.0.1:{}/metrics", self.metrics_port);
        match reqwest::get(url).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("--- last lines of the operator ---\n{}", tail.join("\n"));
        }
        testenv::audit::keep_metrics(self.metrics_port);
        self.kill();
        testenv::audit::keep_log(&self.log);
    }
}
