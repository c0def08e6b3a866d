//! Starting and stopping the simulator: the library API used by tests, benches and the binary.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::app::{App, Shared};
use crate::faults::{FaultEngine, Faults};
use crate::index_lag::RecentWrites;
use crate::received::{ReceivedRequest, RequestLog};
use crate::scenario::{Scenario, default_scenario};
use crate::search_cache::SearchCache;
use crate::state::State;
use crate::stats::{Collector, Stats};

/// Configuration of a simulator instance.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The organisation to serve.
    pub scenario: Scenario,
    /// Lifetime of OAuth access tokens (`expires_in`).
    pub token_lifetime: Duration,
    /// Address to bind (default 127.0.0.1).
    pub bind: IpAddr,
    /// Port (default 0 = any free port).
    pub port: u16,
    /// Faults in force from the start.
    pub faults: Faults,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            scenario: default_scenario(),
            token_lifetime: Duration::from_secs(3600),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            faults: Faults::default(),
        }
    }
}

/// A running simulator. Dropping it without [`SimHandle::shutdown`] leaves the server running until the
/// runtime stops.
pub struct SimHandle {
    addr: SocketAddr,
    shared: App,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts a simulator in the background of the current tokio runtime.
pub async fn start(config: SimConfig) -> io::Result<SimHandle> {
    let state = State::from_scenario(config.scenario, crate::format::now_ms())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let faults = FaultEngine::default();
    faults.set(config.faults);
    let shared = std::sync::Arc::new(Shared {
        state: RwLock::new(state),
        stats: Collector::default(),
        faults,
        token_lifetime: config.token_lifetime,
        search_cache: Mutex::new(SearchCache::default()),
        request_counter: std::sync::atomic::AtomicU64::new(1),
        received: RequestLog::default(),
        recent_writes: Mutex::new(RecentWrites::default()),
    });
    let listener = TcpListener::bind(SocketAddr::new(config.bind, config.port)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, shared.clone(), stopped));
    Ok(SimHandle {
        addr,
        shared,
        stop,
        task,
    })
}

async fn accept_loop(listener: TcpListener, shared: App, mut stopped: watch::Receiver<bool>) {
    let router = crate::routes::router::build(shared.clone());
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = stopped.changed() => break,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let shared = shared.clone();
        let mut stop = stopped.clone();
        conns.spawn(async move {
            let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let router = router.clone();
                shared
                    .received
                    .record(req.method(), req.uri(), req.headers());
                let drop = shared.faults.should_drop(
                    req.method().as_str(),
                    req.uri().path(),
                    &shared.stats,
                );
                let lost = (!drop)
                    .then(|| {
                        shared.faults.after_processing(
                            req.method(),
                            req.uri().path(),
                            &shared.stats,
                        )
                    })
                    .flatten();
                async move {
                    if drop {
                        return Err(io::Error::other("connection dropped by fault injection"));
                    }
                    let response = match router.oneshot(req).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    };
                    match lost {
                        Some(lost) => lost.deliver(response).await,
                        None => Ok(response),
                    }
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    if tokio::time::timeout(Duration::from_secs(2), async {
        while conns.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        conns.abort_all();
    }
}

impl SimHandle {
    /// Base URL, `http://127.0.0.1:<port>/` (site = api = auth host).
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.addr))
            .expect("a socket address makes a valid URL")
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// cloudId of the site.
    pub fn cloud_id(&self) -> String {
        self.shared.state.read().cloud_id.clone()
    }

    /// Organisation id for the Admin API.
    pub fn org_id(&self) -> String {
        self.shared.state.read().org_id.clone()
    }

    /// Gateway base URL, `http://127.0.0.1:<port>/ex/jira/<cloudId>/`.
    pub fn gateway_url(&self) -> url::Url {
        self.url()
            .join(&format!("ex/jira/{}/", self.cloud_id()))
            .expect("valid gateway URL")
    }

    /// Request counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    /// Zeroes the request counters.
    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }

    /// Replaces the faults in force (same as `POST /__sim/faults`).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.set(faults);
    }

    /// The requests received outside the control plane, oldest first (the last
    /// [`RECEIVED_LIMIT`](crate::received::RECEIVED_LIMIT)), recorded as they arrived: before any fault,
    /// authentication or routing, so also those answered by a fault, dropped or still waiting.
    pub fn received_requests(&self) -> Vec<ReceivedRequest> {
        self.shared.received.snapshot()
    }

    /// Forgets the received requests (same as `DELETE /__sim/requests`).
    pub fn clear_received_requests(&self) {
        self.shared.received.clear();
    }

    /// Runs `f` with exclusive access to the simulated state (for assertions or direct changes).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.shared.state.write())
    }

    /// Stops accepting connections, lets in-flight requests finish (2 s at most) and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
