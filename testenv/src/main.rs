//! `testenv`: runs a local control plane until interrupted, for the demo and for people.
//!
//! `testenv --kubeconfig-out <path> [--crds <file>...]` starts etcd, kube-apiserver and kube-controller-manager,
//! installs the given CRD files, writes an admin kubeconfig to the path, prints `ready <apiserver-url>` and
//! waits for SIGTERM or SIGINT, then stops everything.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use std::{path::PathBuf, process::ExitCode};
use testenv::{ControlPlane, Options};
use tokio::signal::unix::{SignalKind, signal};

fn usage() -> ExitCode {
    eprintln!("usage: testenv --kubeconfig-out <path> [--crds <file.yaml>]...");
    ExitCode::from(2)
}

fn read_crds(path: &PathBuf) -> Result<Vec<CustomResourceDefinition>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            serde::Deserialize::deserialize(doc).map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect::<Result<Vec<serde_json::Value>, _>>()?
        .into_iter()
        .filter(|v| !v.is_null())
        .map(|v| serde_json::from_value(v).map_err(|e| format!("{}: {e}", path.display())))
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut kubeconfig_out = None;
    let mut crd_files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--kubeconfig-out", Some(v)) => kubeconfig_out = Some(PathBuf::from(v)),
            ("--crds", Some(v)) => crd_files.push(PathBuf::from(v)),
            _ => return usage(),
        }
    }
    let Some(kubeconfig_out) = kubeconfig_out else {
        return usage();
    };
    let mut crds = Vec::new();
    for file in &crd_files {
        match read_crds(file) {
            Ok(mut found) => crds.append(&mut found),
            Err(e) => {
                eprintln!("testenv: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut plane = match ControlPlane::start(Options::default()).await {
        Ok(plane) => plane,
        Err(e) => {
            eprintln!("testenv: {e}");
            return ExitCode::FAILURE;
        }
    };
    let setup = async {
        plane.install_crds(&crds).await?;
        std::fs::copy(plane.kubeconfig_path(), &kubeconfig_out)?;
        plane.server_version().await
    };
    match setup.await {
        Ok(version) => println!("ready {} kube-apiserver {version}", plane.url()),
        Err(e) => {
            eprintln!("testenv: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    plane.stop();
    ExitCode::SUCCESS
}
