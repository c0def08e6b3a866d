//! The command-line tools of the chart and process tests: `helm` and `kubectl` from the control plane's
//! binaries directory, `kubectl` with the shared control plane's admin kubeconfig by default.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

/// The chart's directory.
pub fn chart_dir() -> PathBuf {
    crate::plane::workspace_root().join("charts/jira-cloud-operator")
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

/// The path of a control plane binary (`helm`, `kubectl`, ...).
pub fn tool(name: &str) -> PathBuf {
    crate::plane::bin_dir()
        .expect("control plane binaries")
        .join(name)
}

/// Runs helm with `args`.
pub fn helm(args: &[&str]) -> Output {
    Command::new(tool("helm"))
        .args(args)
        .output()
        .expect("run helm")
}

/// Runs kubectl with the admin kubeconfig of the shared control plane, `stdin` as its input.
pub fn kubectl(args: &[&str], stdin: &str) -> Output {
    kubectl_as(crate::plane::shared().kubeconfig_path(), args, stdin)
}

/// Runs kubectl with `kubeconfig`, `stdin` as its input.
pub fn kubectl_as(kubeconfig: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(tool("kubectl"))
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
