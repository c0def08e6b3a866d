//! The control plane shared by the tests of one binary: started once, on first use, by a thread that lives as
//! long as the process.

use crate::{
    ControlPlane, Error, Options, Result, audit, client_from_kubeconfig, install_crds,
    kubeconfig_yaml, pki::Pki,
};
use k8s_openapi::{
    api::core::v1::Namespace,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};
use std::{
    path::{Path, PathBuf},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
        mpsc,
    },
};

/// The shared control plane of this test binary: started once, by a thread that lives as long as the process,
/// so its processes stop when the test binary exits. Each test gets its own client from it.
pub fn shared() -> &'static SharedPlane {
    audit::install_trace_log();
    static SHARED: OnceLock<Result<SharedPlane, String>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("testenv".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                let plane = runtime.block_on(async {
                    let plane = ControlPlane::start(Options::default()).await?;
                    let version = plane.server_version().await?;
                    Ok::<_, Error>((plane, version))
                });
                match plane {
                    Ok((plane, version)) => {
                        eprintln!("testenv: kube-apiserver {version} at {}", plane.url());
                        let _ = tx.send(Ok(SharedPlane {
                            kubeconfig_path: plane.kubeconfig_path.clone(),
                            version,
                            url: plane.url.clone(),
                            pki: plane.pki.clone(),
                            dir: plane.dir.path().to_path_buf(),
                        }));
                        // Keep the processes (and this thread, which is their parent-death anchor) alive until
                        // the process exits.
                        let _keep = plane;
                        loop {
                            std::thread::park();
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            })
            .expect("spawn the testenv thread");
        rx.recv()
            .unwrap_or_else(|_| Err("the testenv thread died".into()))
    });
    match shared {
        Ok(plane) => plane,
        Err(e) => panic!("the test control plane could not start: {e}"),
    }
}

/// A handle on the shared control plane (see [`shared`]).
pub struct SharedPlane {
    kubeconfig_path: PathBuf,
    version: String,
    url: String,
    pki: Pki,
    dir: PathBuf,
}

static NAMESPACE_SEQ: AtomicU32 = AtomicU32::new(0);

impl SharedPlane {
    /// A client with the admin identity, bound to the caller's tokio runtime.
    pub async fn client(&self) -> Client {
        client_from_kubeconfig(&self.kubeconfig_path)
            .await
            .expect("admin client")
    }

    /// Path of the admin kubeconfig.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// The apiserver URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The version the apiserver reports.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Writes a kubeconfig for a client-certificate identity (see [`ControlPlane::kubeconfig_for`]).
    pub fn kubeconfig_for(&self, user: &str, groups: &[&str]) -> Result<PathBuf> {
        let identity = self.pki.identity(user, groups)?;
        let n = NAMESPACE_SEQ.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("identity-{n}.kubeconfig"));
        std::fs::write(
            &path,
            kubeconfig_yaml(&self.url, &self.pki.ca_pem, &identity),
        )?;
        Ok(path)
    }

    /// Creates a fresh namespace named after `prefix` for one test.
    pub async fn namespace(&self, prefix: &str) -> String {
        let n = NAMESPACE_SEQ.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        let api: Api<Namespace> = Api::all(self.client().await);
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        api.create(&PostParams::default(), &ns)
            .await
            .expect("create namespace");
        name
    }

    /// Installs CRDs (idempotent).
    pub async fn install_crds(&self, crds: &[CustomResourceDefinition]) {
        install_crds(self.client().await, crds)
            .await
            .expect("install CRDs");
    }
}
