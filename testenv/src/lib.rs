//! A real Kubernetes control plane for tests, benches and the demo: etcd, kube-apiserver and
//! kube-controller-manager (for garbage collection and namespace deletion), started as child processes on free
//! loopback ports with TLS and client-certificate identities.
//!
//! The binaries come from `KUBEBUILDER_ASSETS` when it is set, otherwise from `hack/test-bins.sh`, which builds
//! them from pinned Go modules into a versioned cache (a second run builds nothing).
//!
//! Child processes are started from one long-lived thread and asked to die with it (`PR_SET_PDEATHSIG`), so no
//! process outlives the test binary, even when a test panics or the binary is killed.

pub mod audit;
mod pki;
mod process;
mod shared;

pub use pki::Identity;
pub use shared::{SharedPlane, shared};

use base64::{Engine, engine::general_purpose::STANDARD};
use k8s_openapi::{
    api::core::v1::Namespace,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client, Config, ResourceExt,
    api::{Patch, PatchParams},
    config::{KubeConfigOptions, Kubeconfig},
};
use pki::Pki;
use process::Supervised;
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    time::{Duration, Instant},
};

/// Errors while starting or using the control plane.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The binaries could not be found or built.
    #[error("control plane binaries: {0}")]
    Binaries(String),
    /// A process failed to start or never became ready.
    #[error("control plane start: {0}")]
    Start(String),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An error from the Kubernetes client.
    #[error(transparent)]
    Kube(#[from] kube::Error),
    /// A kubeconfig could not be built.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A running control plane. Dropping it stops its processes.
pub struct ControlPlane {
    dir: tempfile::TempDir,
    url: String,
    pki: Pki,
    processes: Vec<Supervised>,
    kubeconfig_path: PathBuf,
    apiserver_args: Vec<String>,
}

/// Index of kube-apiserver in `ControlPlane::processes` (etcd is 0).
const APISERVER: usize = 1;

/// What to start.
#[derive(Clone, Debug)]
pub struct Options {
    /// Also start kube-controller-manager (garbage collector and namespace controller).
    pub controller_manager: bool,
    /// How long to wait for readiness.
    pub start_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            controller_manager: true,
            start_timeout: Duration::from_secs(90),
        }
    }
}

/// The directory holding `etcd`, `kube-apiserver`, `kube-controller-manager`, `kubectl` and `helm`.
pub fn bin_dir() -> Result<PathBuf> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("KUBEBUILDER_ASSETS") {
            let dir = PathBuf::from(dir);
            if dir.join("kube-apiserver").exists() && dir.join("etcd").exists() {
                return Ok(dir);
            }
        }
        let script = workspace_root().join("hack/test-bins.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|e| format!("running {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} failed: {}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let dir = stdout.lines().last().unwrap_or_default().trim();
        Ok(PathBuf::from(dir))
    })
    .clone()
    .map_err(Error::Binaries)
}

/// The root of this repository.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testenv sits in the workspace")
        .to_path_buf()
}

/// The file, in a control plane's directory, holding the process id of its owner.
const OWNER_FILE: &str = "owner.pid";

/// Removes the directories of control planes whose owner process is gone. The shared control plane of a test
/// binary lives until the process exits, so nothing removes its directory (etcd data, logs) but this sweep.
fn remove_abandoned_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_name().to_string_lossy().starts_with("testenv-") {
            continue;
        }
        let owner = std::fs::read_to_string(path.join(OWNER_FILE))
            .ok()
            .and_then(|pid| pid.trim().parse::<u32>().ok());
        if let Some(pid) = owner
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl ControlPlane {
    /// Starts etcd, kube-apiserver and (optionally) kube-controller-manager and waits until the apiserver is ready.
    ///
    /// The processes die with the calling thread; use [`shared`] from tests, which starts them from a thread
    /// that lives as long as the process.
    pub async fn start(options: Options) -> Result<Self> {
        // A port found free can be taken by another process before etcd or the apiserver binds it (tests start
        // control planes and servers in parallel): start again on other ports.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match Self::start_once(options.clone()).await {
                Err(Error::Start(message))
                    if attempts < 3 && message.contains("address already in use") =>
                {
                    eprintln!(
                        "testenv: a port was taken while starting, starting again: {message:.200}"
                    );
                }
                result => return result,
            }
        }
    }

    async fn start_once(options: Options) -> Result<Self> {
        let bin = bin_dir()?;
        remove_abandoned_dirs();
        let dir = tempfile::Builder::new().prefix("testenv-").tempdir()?;
        std::fs::write(dir.path().join(OWNER_FILE), std::process::id().to_string())?;
        let pki = Pki::generate(dir.path())?;
        let mut processes = Vec::new();

        let etcd_port = free_port()?;
        let peer_port = free_port()?;
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        processes.push(Supervised::spawn(
            "etcd",
            dir.path(),
            Command::new(bin.join("etcd")).args([
                format!("--data-dir={}", dir.path().join("etcd").display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls=http://127.0.0.1:{peer_port}"),
                format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}"),
                format!("--initial-cluster=default=http://127.0.0.1:{peer_port}"),
                "--unsafe-no-fsync=true".into(),
                "--log-level=warn".into(),
            ]),
        )?);

        let port = free_port()?;
        let url = format!("https://127.0.0.1:{port}");
        let p = |name: &str| dir.path().join(name).display().to_string();
        let apiserver_args: Vec<String> = vec![
            format!("--etcd-servers={etcd_url}"),
            format!("--cert-dir={}", dir.path().display()),
            format!("--secure-port={port}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            "--service-cluster-ip-range=10.0.0.0/24".into(),
            "--allow-privileged=true".into(),
            "--authorization-mode=RBAC".into(),
            format!("--tls-cert-file={}", p("serving.crt")),
            format!("--tls-private-key-file={}", p("serving.key")),
            format!("--client-ca-file={}", p("ca.crt")),
            format!("--service-account-issuer={url}/"),
            format!("--service-account-key-file={}", p("sa.pub")),
            format!("--service-account-signing-key-file={}", p("sa.key")),
            "--disable-admission-plugins=ServiceAccount".into(),
            // As on clusters that enforce it (OpenShift does): setting blockOwnerDeletion needs `update` on the
            // owner's finalizers, so the chart's RBAC is tested against it.
            "--enable-admission-plugins=OwnerReferencesPermissionEnforcement".into(),
            "--v=0".into(),
        ]
        .into_iter()
        .chain(audit::apiserver_flags(dir.path())?)
        .collect();
        processes.push(Supervised::spawn(
            "kube-apiserver",
            dir.path(),
            Command::new(bin.join("kube-apiserver")).args(&apiserver_args),
        )?);

        let admin = pki.identity("admin", &["system:masters"])?;
        let kubeconfig_path = dir.path().join("admin.kubeconfig");
        std::fs::write(&kubeconfig_path, kubeconfig_yaml(&url, &pki.ca_pem, &admin))?;

        let mut plane = Self {
            dir,
            url,
            pki,
            processes,
            kubeconfig_path,
            apiserver_args,
        };
        plane.wait_ready(options.start_timeout).await?;

        if options.controller_manager {
            let kcm_port = free_port()?;
            let kubeconfig = plane.kubeconfig_path.display().to_string();
            let kcm = Supervised::spawn(
                "kube-controller-manager",
                plane.dir.path(),
                Command::new(bin.join("kube-controller-manager")).args([
                    format!("--kubeconfig={kubeconfig}"),
                    format!("--authentication-kubeconfig={kubeconfig}"),
                    format!("--authorization-kubeconfig={kubeconfig}"),
                    "--controllers=garbagecollector,namespace,clusterrole-aggregation".into(),
                    "--leader-elect=false".into(),
                    "--bind-address=127.0.0.1".into(),
                    format!("--secure-port={kcm_port}"),
                    "--v=0".into(),
                ]),
            )?;
            plane.processes.push(kcm);
        }
        Ok(plane)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let client = self.client().await?;
        loop {
            for p in &mut self.processes {
                p.check_alive()?;
            }
            let req = http::Request::get("/readyz")
                .body(Vec::new())
                .expect("request builds");
            match client.request_text(req).await {
                Ok(body) if body.trim() == "ok" => break,
                _ if Instant::now() > deadline => {
                    return Err(Error::Start(format!(
                        "kube-apiserver not ready after {timeout:?}; logs in {}",
                        self.dir.path().display()
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        // The default namespace appears shortly after readiness.
        let namespaces: Api<Namespace> = Api::all(client);
        while namespaces.get_opt("default").await?.is_none() {
            if Instant::now() > deadline {
                return Err(Error::Start("namespace default never appeared".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// The apiserver URL (`https://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Path of a kubeconfig file with the admin identity (for kubectl, helm and child processes).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// A client with the admin identity (`system:masters`).
    pub async fn client(&self) -> Result<Client> {
        client_from_kubeconfig(&self.kubeconfig_path).await
    }

    /// Writes a kubeconfig for a user authenticated by a client certificate (`CN=user`, `O=groups`) and returns
    /// its path. A ServiceAccount is `system:serviceaccount:<ns>:<name>` with the groups
    /// `system:serviceaccounts` and `system:serviceaccounts:<ns>`.
    pub fn kubeconfig_for(&self, user: &str, groups: &[&str]) -> Result<PathBuf> {
        let identity = self.pki.identity(user, groups)?;
        let safe: String = user
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = self.dir.path().join(format!("{safe}.kubeconfig"));
        std::fs::write(
            &path,
            kubeconfig_yaml(&self.url, &self.pki.ca_pem, &identity),
        )?;
        Ok(path)
    }

    /// The kubeconfig of a ServiceAccount identity (see [`ControlPlane::kubeconfig_for`]).
    pub fn kubeconfig_for_service_account(&self, namespace: &str, name: &str) -> Result<PathBuf> {
        let user = format!("system:serviceaccount:{namespace}:{name}");
        let ns_group = format!("system:serviceaccounts:{namespace}");
        self.kubeconfig_for(&user, &["system:serviceaccounts", &ns_group])
    }

    /// Installs (server-side applies) CRDs and waits until they are established and served.
    pub async fn install_crds(&self, crds: &[CustomResourceDefinition]) -> Result<()> {
        install_crds(self.client().await?, crds).await
    }

    /// The version the apiserver reports (`v1.34.4`).
    pub async fn server_version(&self) -> Result<String> {
        Ok(self.client().await?.apiserver_version().await?.git_version)
    }

    /// Stops kube-apiserver (SIGTERM) and starts it again on the same port and etcd, then waits until it is
    /// ready: clients see their connections and watches break, and must re-list.
    pub async fn restart_apiserver(&mut self, timeout: Duration) -> Result<()> {
        self.processes[APISERVER].stop();
        self.processes[APISERVER] = Supervised::spawn(
            "kube-apiserver",
            self.dir.path(),
            Command::new(bin_dir()?.join("kube-apiserver")).args(&self.apiserver_args),
        )?;
        self.wait_ready(timeout).await
    }

    /// Stops every process (also done on drop).
    pub fn stop(&mut self) {
        for p in self.processes.iter_mut().rev() {
            p.stop();
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Builds a client from a kubeconfig file.
pub async fn client_from_kubeconfig(path: &Path) -> Result<Client> {
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig(e.to_string()))?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Kubeconfig(e.to_string()))?;
    Ok(Client::try_from(config)?)
}

/// Server-side applies CRDs and waits until each is established and its resource is served.
pub async fn install_crds(client: Client, crds: &[CustomResourceDefinition]) -> Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply("testenv").force();
    for crd in crds {
        api.patch(&crd.name_any(), &params, &Patch::Apply(crd))
            .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for crd in crds {
        loop {
            let current = api.get(&crd.name_any()).await?;
            let established = current
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| {
                    c.iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                });
            let group = &crd.spec.group;
            let version = &crd.spec.versions[0].name;
            let served = established
                && client
                    .list_api_group_resources(&format!("{group}/{version}"))
                    .await
                    .is_ok_and(|list| {
                        list.resources
                            .iter()
                            .any(|r| r.name == crd.spec.names.plural)
                    });
            if served {
                break;
            }
            if Instant::now() > deadline {
                return Err(Error::Start(format!(
                    "CRD {} never became established",
                    crd.name_any()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

pub(crate) fn kubeconfig_yaml(url: &str, ca_pem: &str, identity: &Identity) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: testenv\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\nusers:\n- name: {user}\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\ncontexts:\n- name: testenv\n  context:\n    cluster: testenv\n    user: {user}\ncurrent-context: testenv\n",
        ca = STANDARD.encode(ca_pem),
        user = "identity",
        cert = STANDARD.encode(&identity.cert_pem),
        key = STANDARD.encode(&identity.key_pem),
    )
}
