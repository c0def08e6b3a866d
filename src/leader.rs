//! Leader election on a `coordination.k8s.io/v1` Lease, so that several replicas never act at once.
//!
//! The algorithm is the one of client-go's leaderelection package:
//! - a candidate acquires the Lease when nobody holds it, or when the holder's record has not changed for a
//!   whole lease duration *as observed by the candidate's own clock* (so clock skew between nodes does not
//!   matter); writes use the Lease's resourceVersion, so of two candidates racing for it only one wins;
//! - the leader renews every retry period; when it has not renewed successfully for the renew deadline
//!   (shorter than the lease duration), or finds another holder, it stops leading. Because the deadline is
//!   counted from the moment the last successful renewal was *sent*, the leader stops before any standby can
//!   consider the Lease expired;
//! - on graceful shutdown the leader keeps renewing while its work finishes, then releases the Lease by
//!   clearing `holderIdentity`, so a standby takes over at its next retry instead of after a lease duration.

use crate::server::Readiness;
use chrono::Utc;
use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::MicroTime,
    jiff::Timestamp,
};
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};
use std::{
    future::Future,
    time::{Duration, Instant},
};
use tokio::{sync::watch, task::JoinHandle};

/// Settings of the election.
#[derive(Clone, Debug)]
pub struct Config {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This candidate's identity, unique per process.
    pub identity: String,
    /// How long a Lease stays valid after its last renewal, as seen by the standbys.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it stops leading.
    pub renew_deadline: Duration,
    /// Time between two attempts to acquire or renew.
    pub retry_period: Duration,
}

impl Config {
    /// Checks the timings: `retry_period < renew_deadline < lease_duration`, whole seconds of lease duration.
    pub fn validate(&self) -> Result<(), String> {
        if self.lease_duration <= self.renew_deadline {
            return Err(format!(
                "the lease duration ({:?}) must be longer than the renew deadline ({:?})",
                self.lease_duration, self.renew_deadline
            ));
        }
        if self.renew_deadline <= self.retry_period.mul_f64(1.2) {
            return Err(format!(
                "the renew deadline ({:?}) must be longer than 1.2 × the retry period ({:?})",
                self.renew_deadline, self.retry_period
            ));
        }
        if self.lease_duration.as_secs() == 0 || self.lease_duration.subsec_nanos() != 0 {
            return Err(format!(
                "the lease duration ({:?}) must be a whole number of seconds",
                self.lease_duration
            ));
        }
        if self.retry_period.is_zero() {
            return Err("the retry period must not be zero".into());
        }
        Ok(())
    }
}

/// A unique identity for this process: the pod name (or host name) and a random suffix, so a restarted process
/// never mistakes its predecessor's Lease for its own.
pub fn default_identity() -> String {
    let host = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "jira-cloud-operator".into());
    format!("{host}_{:08x}", rand::random::<u32>())
}

/// What the candidate does after reading the Lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The Lease is ours: renew it.
    Renew,
    /// The Lease is free or expired: take it (a new term).
    Acquire,
    /// Another candidate holds a valid Lease.
    Wait,
}

/// Decides from the Lease's spec (`None` when it does not exist), this candidate's identity, and how long the
/// Lease's record has been seen unchanged by this candidate. `default_duration` applies when the Lease names
/// no duration.
pub fn decide(
    spec: Option<&LeaseSpec>,
    identity: &str,
    unchanged_for: Duration,
    default_duration: Duration,
) -> Decision {
    let holder = spec
        .and_then(|s| s.holder_identity.as_deref())
        .filter(|h| !h.is_empty());
    match holder {
        Some(holder) if holder == identity => Decision::Renew,
        None => Decision::Acquire,
        Some(_) => {
            let duration = spec
                .and_then(|s| s.lease_duration_seconds)
                .filter(|s| *s > 0)
                .map_or(default_duration, |s| {
                    Duration::from_secs(s.unsigned_abs().into())
                });
            if unchanged_for >= duration {
                Decision::Acquire
            } else {
                Decision::Wait
            }
        }
    }
}

/// The spec this candidate writes for a decision (`None` for [`Decision::Wait`]).
pub fn next_spec(
    current: Option<&LeaseSpec>,
    decision: Decision,
    identity: &str,
    lease_duration: Duration,
    now: Timestamp,
) -> Option<LeaseSpec> {
    let current = current.cloned().unwrap_or_default();
    let duration = i32::try_from(lease_duration.as_secs()).unwrap_or(i32::MAX);
    match decision {
        Decision::Wait => None,
        Decision::Renew => Some(LeaseSpec {
            lease_duration_seconds: Some(duration),
            renew_time: Some(MicroTime(now)),
            ..current
        }),
        Decision::Acquire => {
            let taken_over = current
                .holder_identity
                .as_deref()
                .is_some_and(|h| !h.is_empty() && h != identity);
            let transitions = current.lease_transitions.unwrap_or(0);
            Some(LeaseSpec {
                holder_identity: Some(identity.to_string()),
                lease_duration_seconds: Some(duration),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(if taken_over {
                    transitions + 1
                } else {
                    transitions
                }),
                ..current
            })
        }
    }
}

/// The spec that releases a Lease held by this candidate.
pub fn released_spec(current: &LeaseSpec, now: Timestamp) -> LeaseSpec {
    LeaseSpec {
        holder_identity: None,
        lease_duration_seconds: Some(1),
        renew_time: Some(MicroTime(now)),
        ..current.clone()
    }
}

fn now() -> Timestamp {
    Timestamp::from_microsecond(Utc::now().timestamp_micros())
        .expect("the current time is a valid timestamp")
}

/// The part of a Lease whose change shows that its holder is alive.
#[derive(Clone, Debug, PartialEq)]
struct Record {
    holder: Option<String>,
    renew_time: Option<Timestamp>,
    transitions: Option<i32>,
}

impl Record {
    fn of(spec: Option<&LeaseSpec>) -> Self {
        Self {
            holder: spec.and_then(|s| s.holder_identity.clone()),
            renew_time: spec.and_then(|s| s.renew_time.as_ref()).map(|t| t.0),
            transitions: spec.and_then(|s| s.lease_transitions),
        }
    }
}

/// A candidate for one Lease.
pub struct Elector {
    api: Api<Lease>,
    config: Config,
    observed: Option<(Record, Instant)>,
}

/// Why leading ended.
#[derive(Debug, thiserror::Error)]
pub enum ElectionError {
    /// The Lease could not be renewed within the renew deadline, or another candidate holds it.
    #[error("lost the leader Lease {namespace}/{name}: {reason}")]
    Lost {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        name: String,
        /// What happened.
        reason: String,
    },
}

impl Elector {
    /// A candidate with the given settings.
    pub fn new(client: Client, config: Config) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            config,
            observed: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Reads the Lease and acquires or renews it when [`decide`] says so. True when this candidate holds the
    /// Lease afterwards; a lost race (a conflict) is `Ok(false)`.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let lease = self.api.get_opt(&self.config.name).await?;
        let spec = lease.as_ref().and_then(|l| l.spec.as_ref());
        let record = Record::of(spec);
        let seen = Instant::now();
        let unchanged_since = match &self.observed {
            Some((previous, at)) if *previous == record => *at,
            _ => {
                self.observed = Some((record, seen));
                seen
            }
        };
        let identity = &self.config.identity;
        let decision = decide(
            spec,
            identity,
            seen.duration_since(unchanged_since),
            self.config.lease_duration,
        );
        let Some(new_spec) = next_spec(spec, decision, identity, self.config.lease_duration, now())
        else {
            return Ok(false);
        };
        if decision == Decision::Acquire {
            let previous = spec
                .and_then(|s| s.holder_identity.as_deref())
                .unwrap_or("");
            tracing::info!(lease = %self.config.name, previous, "acquiring the leader Lease");
        }
        let result = match lease {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.config.name.clone()),
                        namespace: Some(self.config.namespace.clone()),
                        ..Default::default()
                    },
                    spec: Some(new_spec.clone()),
                };
                self.api.create(&PostParams::default(), &lease).await
            }
            Some(mut lease) => {
                lease.spec = Some(new_spec.clone());
                // The resourceVersion read above makes this a compare-and-swap.
                self.api
                    .replace(&self.config.name, &PostParams::default(), &lease)
                    .await
            }
        };
        match result {
            Ok(_) => {
                self.observed = Some((Record::of(Some(&new_spec)), Instant::now()));
                Ok(true)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up if this candidate holds it, so a standby takes over at once.
    pub async fn release(&mut self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            return Ok(());
        };
        let Some(spec) = lease
            .spec
            .as_ref()
            .filter(|s| s.holder_identity.as_deref() == Some(&self.config.identity))
        else {
            return Ok(());
        };
        lease.spec = Some(released_spec(spec, now()));
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn lost(&self, reason: String) -> ElectionError {
        ElectionError::Lost {
            namespace: self.config.namespace.clone(),
            name: self.config.name.clone(),
            reason,
        }
    }

    /// Waits (as a hot standby) until this candidate holds the Lease; false when `shutdown` came first.
    async fn acquire(
        &mut self,
        shutdown: &mut watch::Receiver<bool>,
        readiness: &Readiness,
    ) -> bool {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => return true,
                Ok(false) => readiness.set(true),
                Err(e) => {
                    tracing::warn!(lease = %self.config.name, error = %e, "reading the leader Lease failed")
                }
            }
            let pause = self
                .config
                .retry_period
                .mul_f64(rand::random_range(1.0..1.2));
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = shutdown.wait_for(|stop| *stop) => return false,
            }
        }
    }

    /// Renews until `done` resolves; an error when the Lease is lost first.
    async fn hold(&mut self, done: impl Future<Output = ()>) -> Result<(), ElectionError> {
        tokio::pin!(done);
        let mut last_renewal = Instant::now();
        loop {
            tokio::select! {
                () = &mut done => return Ok(()),
                () = tokio::time::sleep(self.config.retry_period) => {}
            }
            let sent = Instant::now();
            let attempt =
                tokio::time::timeout(self.config.renew_deadline, self.try_acquire_or_renew()).await;
            match attempt {
                Ok(Ok(true)) => last_renewal = sent,
                Ok(Ok(false)) => return Err(self.lost("another candidate holds it".into())),
                Ok(Err(e)) => {
                    tracing::warn!(lease = %self.config.name, error = %e, "renewing the leader Lease failed")
                }
                Err(_) => {
                    tracing::warn!(lease = %self.config.name, "renewing the leader Lease timed out")
                }
            }
            if last_renewal.elapsed() >= self.config.renew_deadline {
                return Err(self.lost(format!("not renewed for {:?}", self.config.renew_deadline)));
            }
        }
    }
}

/// Resolves once `rx` holds `true` (or its sender is gone). The future is `Send + Sync`, as kube-runtime's
/// graceful shutdown trigger must be.
pub async fn when_set(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Waits for `work` to finish. Once `shutdown` turns true, `work` (which is expected to be stopping) gets at most
/// `grace` more; then it is aborted, as a crash would stop it, and a warning says so.
pub async fn join_with_grace(
    work: &mut JoinHandle<()>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let overdue = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        _ = &mut *work => {}
        () = overdue => {
            tracing::warn!(?grace, "in-flight reconciles did not finish in time after the shutdown request; stopping them");
            work.abort();
        }
    }
}

/// How a [`run`] ended without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Shut down while standing by; the work never ran.
    WhileStandby,
    /// The work ran and finished (after a shutdown request, or by itself); the Lease was released.
    Released,
}

/// Stands by until this candidate holds the Lease, then runs `work` while renewing it. `work` gets a future that
/// resolves when it must stop. A shutdown (`shutdown` turns true) stops the work, waits for it (at most `grace`,
/// see [`join_with_grace`]), and releases the Lease. When the Lease is lost the work is told to stop and gets until the Lease could expire for the
/// standbys (lease duration − renew deadline), then the error is returned: the caller should exit.
pub async fn run<W, F>(
    mut elector: Elector,
    mut shutdown: watch::Receiver<bool>,
    readiness: Readiness,
    grace: Duration,
    work: W,
) -> Result<Ended, ElectionError>
where
    W: FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send + Sync>>) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    if !elector.acquire(&mut shutdown, &readiness).await {
        return Ok(Ended::WhileStandby);
    }
    let identity = elector.config.identity.clone();
    tracing::info!(lease = %elector.config.name, identity, "leading: starting the controllers");
    let (stop, stopped) = watch::channel(false);
    let forward = {
        let mut shutdown = shutdown.clone();
        let stop = stop.clone();
        async move {
            let _ = shutdown.wait_for(|s| *s).await;
            let _ = stop.send(true);
        }
    };
    let mut running = tokio::spawn(work(Box::pin(when_set(stopped))));
    let forwarder = tokio::spawn(forward);
    readiness.set(true);
    let held = elector
        .hold(join_with_grace(&mut running, shutdown.clone(), grace))
        .await;
    forwarder.abort();
    match held {
        Ok(()) => {
            if let Err(e) = elector.release().await {
                tracing::warn!(lease = %elector.config.name, error = %e, "releasing the leader Lease failed; it expires by itself");
            } else {
                tracing::info!(lease = %elector.config.name, "released the leader Lease");
            }
            Ok(Ended::Released)
        }
        Err(lost) => {
            tracing::error!(error = %lost, "stopping the controllers");
            let _ = stop.send(true);
            let grace = elector
                .config
                .lease_duration
                .saturating_sub(elector.config.renew_deadline);
            if tokio::time::timeout(grace, &mut running).await.is_err() {
                running.abort();
            }
            Err(lost)
        }
    }
}

#[cfg(test)]
mod tests;
