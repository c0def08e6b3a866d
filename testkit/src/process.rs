//! The operator binary as a child process: started with a kubeconfig, every Atlassian service at the
//! simulator and the test defaults below, its output in a log file, its /metrics and health endpoints on free
//! loopback ports, killed when dropped. Under the suite's leak audit its log level becomes `trace` and its log
//! and metrics are kept. The crash hook of the action controller is an environment variable (`env`).

use crate::wait::DEADLINE;
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

/// Flags every test operator gets unless its `args` name the flag: sites on 127.0.0.1, no pacing, a short
/// request timeout, text logs at info, and a create outcome window far below the production 10 minutes (the
/// simulator's search lag is tiny).
const DEFAULTS: &[(&str, &str)] = &[
    ("--allowed-site-hosts", "127.0.0.1"),
    ("--jira-requests-per-second", "0"),
    ("--jira-timeout", "10s"),
    ("--create-outcome-window", "3s"),
    ("--log-format", "text"),
    ("--log-level", "info"),
];

/// The operator binary of this build: cargo puts it in the profile directory, beside the `deps` directory of
/// the test or bench binary that runs.
pub fn operator_binary() -> PathBuf {
    sibling_binary("jira-cloud-operator")
}

/// A binary of the workspace built into the same profile directory as the running test or bench binary.
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("the test binary's directory");
    let profile = if deps.ends_with("deps") {
        deps.parent().expect("the profile directory")
    } else {
        deps
    };
    profile.join(name)
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// How to start an operator process.
#[derive(Clone, Debug, Default)]
pub struct Launch<'a> {
    /// Its POD_NAME (the prefix of its leader-election identity) and the prefix of its temporary log file.
    pub name: &'a str,
    /// Its kubeconfig; the shared control plane's admin kubeconfig when `None`.
    pub kubeconfig: Option<&'a Path>,
    /// Namespaces to watch (`--watch-namespaces`); when empty, `args` decide.
    pub watch: &'a [&'a str],
    /// Arguments after the defaults; a default whose flag appears here is left out.
    pub args: &'a [&'a str],
    /// Environment variables (the environment is otherwise empty).
    pub env: &'a [(&'a str, &'a str)],
    /// A log file its output is appended to (kept across restarts); a fresh temporary file when `None`.
    pub log: Option<&'a Path>,
    /// The operator binary; this build's ([`operator_binary`]) when `None`.
    pub binary: Option<&'a Path>,
}

enum Log {
    Temporary(tempfile::NamedTempFile),
    Kept(PathBuf),
}

impl Log {
    fn path(&self) -> &Path {
        match self {
            Log::Temporary(file) => file.path(),
            Log::Kept(path) => path,
        }
    }
}

/// The operator binary, running as a child process. Killed when dropped.
pub struct OperatorProcess {
    child: Child,
    /// Port of /metrics.
    pub metrics_port: u16,
    /// Port of /healthz and /readyz.
    pub health_port: u16,
    log: Log,
    name: String,
}

impl OperatorProcess {
    /// Starts the operator with `kubeconfig`, every Atlassian service at `sim_url`, the test defaults and
    /// `args`. `name` becomes its POD_NAME.
    pub fn spawn(
        name: &str,
        kubeconfig: &Path,
        sim_url: &url::Url,
        args: &[&str],
    ) -> OperatorProcess {
        OperatorProcess::launch(
            sim_url,
            Launch {
                name,
                kubeconfig: Some(kubeconfig),
                args,
                ..Launch::default()
            },
        )
    }

    /// Starts the operator as `launch` says, every Atlassian service at `sim_url`.
    pub fn launch(sim_url: &url::Url, launch: Launch) -> OperatorProcess {
        let (metrics_port, health_port) = (free_port(), free_port());
        let log = match launch.log {
            Some(path) => Log::Kept(path.to_path_buf()),
            None => Log::Temporary(
                tempfile::Builder::new()
                    .prefix(&format!("{}-", launch.name))
                    .suffix(".log")
                    .tempfile()
                    .expect("log file"),
            ),
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log.path())
            .expect("log file");
        let kubeconfig = launch
            .kubeconfig
            .unwrap_or_else(|| crate::plane::shared().kubeconfig_path());
        let watch = launch.watch.join(",");
        let mut args: Vec<&str> = Vec::new();
        if !watch.is_empty() {
            args.extend(["--watch-namespaces", &watch]);
        }
        args.extend(["--jira-api-url", sim_url.as_str()]);
        args.extend(["--jira-auth-url", sim_url.as_str()]);
        for (flag, value) in DEFAULTS {
            let given = launch
                .args
                .iter()
                .any(|a| a == flag || a.strip_prefix(flag).is_some_and(|v| v.starts_with('=')));
            if !given {
                args.extend([*flag, *value]);
            }
        }
        args.extend_from_slice(launch.args);
        let metrics_addr = format!("--metrics-addr=127.0.0.1:{metrics_port}");
        let health_addr = format!("--health-addr=127.0.0.1:{health_port}");
        args.extend([metrics_addr.as_str(), health_addr.as_str()]);
        let binary = launch
            .binary
            .map_or_else(operator_binary, Path::to_path_buf);
        let child = Command::new(binary)
            .env_clear()
            .env("KUBECONFIG", kubeconfig)
            .env("POD_NAME", launch.name)
            .envs(launch.env.iter().copied())
            .args(crate::plane::audit::operator_args(&args))
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("start the operator binary");
        OperatorProcess {
            child,
            metrics_port,
            health_port,
            log,
            name: launch.name.into(),
        }
    }

    /// Everything the process logged so far (with every earlier run that shared its log file).
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.log.path()).unwrap_or_default()).into_owned()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// GET `path` on the health port (status code, body); `None` when nothing answers.
    pub async fn health(&self, path: &str) -> Option<(u16, String)> {
        get(self.health_port, path).await
    }

    /// The /metrics text (empty when nothing answers).
    pub async fn metrics(&self) -> String {
        get(self.metrics_port, "/metrics")
            .await
            .map(|(_, body)| body)
            .unwrap_or_default()
    }

    /// Waits until /readyz answers 200; panics with the log when the process exits or the deadline passes.
    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some((200, _)) = self.health("/readyz").await {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("process status") {
                panic!(
                    "operator {} exited with {status} before it was ready:\n{}",
                    self.name,
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "operator {} never became ready:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends `signal` (`TERM`, `KILL`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {}", self.pid());
    }

    /// SIGKILL, then waits for the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (SIGKILL after 30 s); returns whether it exited by itself with success.
    pub async fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("process status") {
                return status.success();
            }
            if Instant::now() > deadline {
                self.kill();
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the process to exit (panics after the deadline) and returns its status.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("process status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "operator {} did not exit:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("process status").is_none()
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!(
                "--- last lines of operator {} ---\n{}",
                self.name,
                tail.join("\n")
            );
        }
        crate::plane::audit::keep_metrics(self.metrics_port);
        self.kill();
        crate::plane::audit::keep_log(self.log.path());
    }
}

async fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .ok()?;
    let response = client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}
