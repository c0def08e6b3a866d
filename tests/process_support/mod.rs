//! Support of the tests that exercise the operator as a process and the Helm chart: `helm template`, `kubectl
//! apply` with the admin kubeconfig, the operator binary spawned with a kubeconfig and flags, and objects the
//! operator works on (a Secret, a JiraConnection and JiraActions against the simulator).

#![allow(dead_code)] // each test binary uses a different part of this module

use jira_cloud_operator::api::{ActionPhase, JiraAction, JiraConnection, find_condition};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client, api::PostParams};
use serde_json::json;
use std::{
    io::Write,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

/// How long a test waits for the operator to reach a state.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// The chart's directory.
pub fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/jira-cloud-operator")
}

/// `helm template <release> <chart> --namespace <namespace> <args>`; panics with helm's message on failure.
pub fn helm_template(release: &str, namespace: &str, args: &[&str]) -> String {
    let chart = chart_dir();
    let mut all = vec![
        "template",
        release,
        chart.to_str().unwrap(),
        "--namespace",
        namespace,
    ];
    all.extend_from_slice(args);
    let out = helm(&all);
    assert!(
        out.status.success(),
        "helm template failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 manifests")
}

/// Runs helm with `args`.
pub fn helm(args: &[&str]) -> std::process::Output {
    let helm = testenv::bin_dir()
        .expect("control plane binaries")
        .join("helm");
    Command::new(helm).args(args).output().expect("run helm")
}

/// Runs kubectl with the admin kubeconfig of the shared control plane, `stdin` as its input.
pub fn kubectl(args: &[&str], stdin: &str) -> std::process::Output {
    kubectl_as(testenv::shared().kubeconfig_path(), args, stdin)
}

/// Runs kubectl with `kubeconfig`, `stdin` as its input.
pub fn kubectl_as(kubeconfig: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let kubectl = testenv::bin_dir()
        .expect("control plane binaries")
        .join("kubectl");
    let mut child = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write manifests to kubectl");
    child.wait_with_output().expect("kubectl output")
}

/// `kubectl apply --server-side` of `manifests` (with `--dry-run=server` when `dry_run`); panics on failure and
/// returns kubectl's output.
pub fn apply(manifests: &str, dry_run: bool) -> String {
    let mut args = vec![
        "apply",
        "--server-side",
        "--field-manager=helm-chart-test",
        "-f",
        "-",
    ];
    if dry_run {
        args.push("--dry-run=server");
    }
    let out = kubectl(&args, manifests);
    assert!(
        out.status.success(),
        "kubectl {} failed:\n{}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The operator binary, running as a child process. Killed when dropped.
pub struct OperatorProcess {
    child: Child,
    /// Port of /metrics.
    pub metrics_port: u16,
    /// Port of /healthz and /readyz.
    pub health_port: u16,
    log: tempfile::NamedTempFile,
    name: String,
}

impl OperatorProcess {
    /// Starts the operator with `kubeconfig`, every Atlassian service at `sim_url`, text logs (unless `args`
    /// choose a `--log-format`), sites allowed on 127.0.0.1 (unless `args` choose `--allowed-site-hosts`), and
    /// `args`.
    /// `name` becomes its POD_NAME (the prefix of its leader-election identity).
    pub fn spawn(
        name: &str,
        kubeconfig: &Path,
        sim_url: &url::Url,
        args: &[&str],
    ) -> OperatorProcess {
        OperatorProcess::spawn_with_env(name, kubeconfig, sim_url, args, &[])
    }

    /// [`OperatorProcess::spawn`] with environment variables `env` (the environment is otherwise empty).
    pub fn spawn_with_env(
        name: &str,
        kubeconfig: &Path,
        sim_url: &url::Url,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> OperatorProcess {
        let (metrics_port, health_port) = (free_port(), free_port());
        let log = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .suffix(".log")
            .tempfile()
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_jira-cloud-operator"))
            .env_clear()
            .env("KUBECONFIG", kubeconfig)
            .env("POD_NAME", name)
            .envs(env.iter().copied())
            .args([
                "--jira-api-url",
                sim_url.as_str(),
                "--jira-auth-url",
                sim_url.as_str(),
            ])
            .args(if args.contains(&"--allowed-site-hosts") {
                &[][..]
            } else {
                &["--allowed-site-hosts", "127.0.0.1"][..]
            })
            .args(["--jira-requests-per-second", "0", "--jira-timeout", "10s"])
            // The simulator's search lag is far below the production window of 10 minutes.
            .args(["--create-outcome-window", "3s"])
            .args(if args.contains(&"--log-format") {
                &[][..]
            } else {
                &["--log-format", "text"][..]
            })
            .arg(format!("--metrics-addr=127.0.0.1:{metrics_port}"))
            .arg(format!("--health-addr=127.0.0.1:{health_port}"))
            .args(testenv::audit::operator_args(
                &[&["--log-level", "info"][..], args].concat(),
            ))
            .stdout(log.reopen().expect("log file"))
            .stderr(log.reopen().expect("log file"))
            .spawn()
            .expect("start the operator binary");
        OperatorProcess {
            child,
            metrics_port,
            health_port,
            log,
            name: name.into(),
        }
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// GET `path` on the health port (status code, body); `None` when nothing answers.
    pub async fn health(&self, path: &str) -> Option<(u16, String)> {
        get(self.health_port, path).await
    }

    /// The /metrics text.
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
        testenv::audit::keep_metrics(self.metrics_port);
        let _ = self.child.kill();
        let _ = self.child.wait();
        testenv::audit::keep_log(self.log.path());
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

/// The value of a counter or gauge sample in Prometheus text (`name{labels}`), summed over the samples whose
/// name and labels start with `prefix`.
pub fn sample_sum(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Creates the Secret `jira-basic` with the simulator's admin credentials and a JiraConnection `acme` to the
/// simulator in `namespace`.
pub async fn create_connection(client: &Client, namespace: &str, sim_url: &url::Url) {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "jira-basic"},
        "stringData": {"email": "admin@example.com", "apiToken": "classic-admin-token"},
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("create the Secret");
    let connection: JiraConnection = serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1",
        "kind": "JiraConnection",
        "metadata": {"name": "acme"},
        "spec": {
            "siteUrl": sim_url.as_str().trim_end_matches('/'),
            "auth": {"basic": {"secretRef": {"name": "jira-basic"}}},
        },
    }))
    .unwrap();
    let connections: Api<JiraConnection> = Api::namespaced(client.clone(), namespace);
    connections
        .create(&PostParams::default(), &connection)
        .await
        .expect("create the JiraConnection");
}

/// Creates a JiraAction `name` on connection `acme` that creates an issue in project OPS.
pub async fn create_issue_action(client: &Client, namespace: &str, name: &str) -> JiraAction {
    let action: JiraAction = serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1",
        "kind": "JiraAction",
        "metadata": {"name": name},
        "spec": {
            "connectionRef": {"name": "acme"},
            "createIssue": {"project": "OPS", "issueType": "Task", "summary": format!("Created by {name}")},
        },
    }))
    .unwrap();
    let actions: Api<JiraAction> = Api::namespaced(client.clone(), namespace);
    actions
        .create(&PostParams::default(), &action)
        .await
        .expect("create the JiraAction")
}

/// Waits until `check` holds for the object `name`; `what` names the awaited state in the panic message.
pub async fn wait_for<K>(api: &Api<K>, name: &str, what: &str, check: impl Fn(&K) -> bool) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        let object = api.get_opt(name).await.expect("get the object");
        if let Some(object) = object.as_ref().filter(|o| check(o)) {
            return object.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{name} never became {what}: {object:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// True when the connection's Ready condition is True.
pub fn connection_ready(c: &JiraConnection) -> bool {
    c.status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, "Ready"))
        .is_some_and(|c| c.status == "True")
}

/// True when the action succeeded.
pub fn action_succeeded(a: &JiraAction) -> bool {
    a.status.as_ref().and_then(|s| s.phase) == Some(ActionPhase::Succeeded)
}
