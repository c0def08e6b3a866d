//! Corporate networks, with the operator binary on the real apiserver: the simulator served over TLS with a
//! certificate of a private CA (a TLS front in this test, as a TLS-inspecting proxy or an internal gateway would
//! present) is refused without `--ca-bundle` and trusted with it; and an `HTTPS_PROXY` carries the Jira
//! traffic to a site whose host name only the proxy can resolve.

use jira_cloud_operator::api::{JiraConnection, find_condition};
use kube::Api;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};
use testkit::{
    Launch, OperatorProcess, objects::create_acme_connection, observed::connection_ready,
    wait::wait_for_object,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// A host name that never resolves (RFC 2606): only the proxy knows where it is.
const CORPORATE_HOST: &str = "jira.corp.test";

/// A private CA and a serving certificate it signed for `localhost` and [`CORPORATE_HOST`].
struct PrivateCa {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn private_ca() -> PrivateCa {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "Corporate Root CA (test)");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let serving =
        CertificateParams::new(vec!["localhost".to_string(), CORPORATE_HOST.to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = serving.signed_by(&key, &ca).unwrap();
    PrivateCa {
        ca_pem: ca.pem(),
        chain: vec![cert.der().clone(), ca.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// Serves TLS with the private CA's certificate on a free loopback port, forwarding the plain bytes to
/// `upstream` (the simulator).
async fn tls_front(upstream: SocketAddr, ca: &PrivateCa) -> SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(ca.chain.clone(), ca.key.clone_key())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake: nothing to forward.
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                if let Ok(mut plain) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    addr
}

/// An HTTP CONNECT proxy on a free loopback port: [`CORPORATE_HOST`] leads to `corporate`, any other host is
/// resolved as usual. Records the target of every tunnel.
async fn connect_proxy(corporate: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = Arc::new(Mutex::new(Vec::new()));
    let seen = tunnels.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut client = BufReader::new(stream);
                let mut request = String::new();
                if client.read_line(&mut request).await.is_err() {
                    return;
                }
                loop {
                    let mut header = String::new();
                    match client.read_line(&mut header).await {
                        Ok(n) if n > 0 && header != "\r\n" => {}
                        _ => break,
                    }
                }
                let Some(target) = request
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split(' ').next())
                    .map(str::to_string)
                else {
                    let _ = client
                        .get_mut()
                        .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                        .await;
                    return;
                };
                seen.lock().unwrap().push(target.clone());
                let upstream = match target.rsplit_once(':') {
                    Some((CORPORATE_HOST, _)) => TcpStream::connect(corporate).await,
                    _ => TcpStream::connect(target.as_str()).await,
                };
                let Ok(mut upstream) = upstream else {
                    let _ = client
                        .get_mut()
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
                        .await;
                    return;
                };
                if client
                    .get_mut()
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (addr, tunnels)
}

fn ready(c: &JiraConnection) -> Option<(String, String)> {
    let cond = find_condition(&c.status.as_ref()?.conditions, "Ready")?;
    Some((cond.status.clone(), cond.message.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_is_refused_without_the_bundle_and_trusted_with_it() {
    let env = testkit::env("private-ca").await;
    let ns = env.namespace.as_str();
    let sim = jira_sim::start(jira_sim::SimConfig::default())
        .await
        .unwrap();
    let ca = private_ca();
    let front = tls_front(sim.addr(), &ca).await;
    let site = url::Url::parse(&format!("https://localhost:{}/", front.port())).unwrap();
    create_acme_connection(&env.client, ns, &site).await;
    let kubeconfig = testkit::plane::shared().kubeconfig_path().to_path_buf();
    let connections: Api<JiraConnection> = Api::namespaced(env.client.clone(), ns);

    let mut untrusting = OperatorProcess::spawn(
        "no-bundle",
        &kubeconfig,
        &site,
        &[
            "--watch-namespaces",
            ns,
            "--allowed-site-hosts",
            "localhost",
        ],
    );
    untrusting.wait_ready().await;
    let refused = wait_for_object(&connections, "acme", "refused for its certificate", |c| {
        ready(c).is_some_and(|(status, message)| {
            status == "False" && message.to_lowercase().contains("certificate")
        })
    })
    .await;
    assert!(
        refused.status.as_ref().unwrap().users.is_none(),
        "nothing was synced through an untrusted certificate"
    );
    untrusting.signal("TERM");
    assert!(untrusting.wait_exit().await.success());

    let bundle = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bundle.path(), &ca.ca_pem).unwrap();
    let bundle_path = bundle.path().to_str().unwrap();
    let mut trusting = OperatorProcess::spawn(
        "ca-bundle",
        &kubeconfig,
        &site,
        &[
            "--watch-namespaces",
            ns,
            "--allowed-site-hosts",
            "localhost",
            "--ca-bundle",
            bundle_path,
        ],
    );
    trusting.wait_ready().await;
    let synced = wait_for_object(&connections, "acme", "Ready", connection_ready).await;
    let users = synced.status.unwrap().users.expect("user counts");
    assert!(users.synced > 0, "{users:?}");
    assert!(
        trusting
            .log()
            .contains("trusting the extra CA certificates of --ca-bundle"),
        "{}",
        trusting.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_ca_bundle_stops_the_operator_with_a_clear_message() {
    let not_pem = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(not_pem.path(), "this is not a certificate\n").unwrap();
    let site = url::Url::parse("https://localhost:9/").unwrap();
    let kubeconfig = testkit::plane::shared().kubeconfig_path().to_path_buf();
    for (name, path) in [
        ("no-such-bundle", "/nonexistent/ca.crt"),
        ("not-a-bundle", not_pem.path().to_str().unwrap()),
    ] {
        let mut operator = OperatorProcess::spawn(name, &kubeconfig, &site, &["--ca-bundle", path]);
        let status = operator.wait_exit().await;
        assert!(!status.success(), "{name}: {status}");
        let log = operator.log();
        assert!(
            log.contains(&format!("--ca-bundle {path}")),
            "{name}: {log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_carries_the_jira_traffic() {
    let env = testkit::env("https-proxy").await;
    let ns = env.namespace.as_str();
    let sim = jira_sim::start(jira_sim::SimConfig::default())
        .await
        .unwrap();
    let ca = private_ca();
    let front = tls_front(sim.addr(), &ca).await;
    let (proxy, tunnels) = connect_proxy(front).await;
    let site = url::Url::parse(&format!("https://{CORPORATE_HOST}:{}/", front.port())).unwrap();
    create_acme_connection(&env.client, ns, &site).await;
    let bundle = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bundle.path(), &ca.ca_pem).unwrap();
    let proxy_url = format!("http://{proxy}");
    let mut operator = OperatorProcess::launch(
        &site,
        Launch {
            name: "proxied",
            watch: &[ns],
            args: &[
                "--allowed-site-hosts",
                CORPORATE_HOST,
                "--ca-bundle",
                bundle.path().to_str().unwrap(),
            ],
            env: &[
                ("HTTPS_PROXY", &proxy_url),
                ("NO_PROXY", "127.0.0.1,localhost"),
            ],
            ..Launch::default()
        },
    );
    operator.wait_ready().await;
    let connections: Api<JiraConnection> = Api::namespaced(env.client.clone(), ns);
    wait_for_object(&connections, "acme", "Ready", connection_ready).await;
    let targets = tunnels.lock().unwrap().clone();
    let expected = format!("{CORPORATE_HOST}:{}", front.port());
    assert!(
        targets.contains(&expected),
        "no tunnel to {expected}: {targets:?}"
    );
}
