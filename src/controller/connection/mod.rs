//! The JiraConnection controller: reads the connection's Secrets, checks the credentials, syncs the site on its
//! schedule, writes the JiraUser inventory and the status of the contract.
//!
//! Triggers: a change of the spec (generation) or of the `jiracloud.io/sync-requested` or
//! `jiracloud.io/accept-listing` annotation (status writes do not trigger: a predicate hashes only those), a
//! change of a referenced Secret (metadata-only watch, only when the operator watches a list of namespaces: a
//! cluster-wide install neither lists nor watches Secrets, and re-reads a connection's Secrets every
//! `settings.secret_recheck` instead), and the requeue at `status.nextSyncTime`. Errors retry with per-object
//! exponential backoff and jitter. Syncs run at most `settings.concurrency` at a time over all namespaces, each
//! keeping its incremental-sync cache in memory and in ConfigMaps owned by the connection ([`stored_cache`]). A
//! sync that Jira rate limits for longer than the client waits is parked and resumes at Jira's time from its
//! last completed step ([`parking`]).

mod parking;
mod reconcile;
mod record;
mod state;
mod stored_cache;

use self::{
    reconcile::Reconcile,
    state::{State, key_of},
};
use super::{
    Context, conditions, panics,
    wiring::{self, Backoff, Retries},
};
use crate::api::{ANNOTATION_ACCEPT_LISTING, ANNOTATION_SYNC_REQUESTED, JiraConnection};
use crate::error::{Classify, Failure};
use futures::{FutureExt, StreamExt, future};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, ResourceExt,
    core::PartialObjectMeta,
    runtime::{
        Controller, PredicateConfig, WatchStreamExt,
        controller::{Action, Config},
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};
use std::{
    hash::{DefaultHasher, Hash, Hasher},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::Semaphore;
use tracing::{Instrument, debug, info, info_span, warn};

/// The controller's name in metrics.
pub const CONTROLLER: &str = "jiraconnection";

/// The backoff after a transient failure (network, 5xx, 429, apiserver errors): 5 s doubling up to 5 minutes.
const TRANSIENT: Backoff = Backoff {
    base: Duration::from_secs(5),
    cap: Duration::from_secs(300),
};
/// The backoff after a failure that needs a change (credentials, permissions, spec): 1 minute doubling up to an
/// hour. A change of the spec or of a referenced Secret retries at once anyway.
const PERMANENT: Backoff = Backoff {
    base: Duration::from_secs(60),
    cap: Duration::from_secs(3600),
};
/// Longest Event note.
const NOTE_MAX: usize = 1000;

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A failure of the contract, already written to the conditions.
    #[error("{}: {}", .0.reason, .0.message)]
    Reported(Failure),
    /// The apiserver refused a write or a read.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The reconcile panicked (caught; recorded in the status).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Classify for Error {
    fn reason(&self) -> &'static str {
        match self {
            Error::Reported(f) => f.reason,
            Error::Kube(_) => "KubernetesError",
            Error::Internal(_) => super::panics::INTERNAL_ERROR,
        }
    }

    /// The apiserver and a panic are retried as transient.
    fn is_transient(&self) -> bool {
        match self {
            Error::Reported(f) => f.transient,
            Error::Kube(_) | Error::Internal(_) => true,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Reported(f) => f.retry_after,
            Error::Kube(_) | Error::Internal(_) => None,
        }
    }
}

/// Runs the JiraConnection controller until `shutdown` completes: one watch per namespace of
/// `settings.watch_namespaces` (or one over all namespaces), in-flight reconciles finish before it returns.
pub async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()> + Send + 'static) {
    let shutdown = shutdown.boxed().shared();
    let state = Arc::new(State {
        syncs: Semaphore::new(usize::from(ctx.settings.concurrency.max(1))),
        caches: Mutex::default(),
        parked: Mutex::default(),
        statuses: Mutex::default(),
        retries: Retries::new(TRANSIENT, PERMANENT),
        organization_failed: Mutex::default(),
        secret_recheck: ctx
            .settings
            .watch_namespaces
            .is_empty()
            .then_some(ctx.settings.secret_recheck),
        ctx: ctx.clone(),
    });
    future::join_all(
        wiring::scopes(&ctx.settings)
            .into_iter()
            .map(|ns| run_in(state.clone(), ns, shutdown.clone())),
    )
    .await;
}

/// The part of a connection whose change asks for a reconcile: the spec (generation), the sync request and the
/// acceptance of a listing.
fn spec_or_request(c: &JiraConnection) -> Option<u64> {
    let mut h = DefaultHasher::new();
    c.metadata.generation.hash(&mut h);
    c.annotations().get(ANNOTATION_SYNC_REQUESTED).hash(&mut h);
    c.annotations().get(ANNOTATION_ACCEPT_LISTING).hash(&mut h);
    Some(h.finish())
}

/// The connections of the Secret's namespace that reference it.
fn referencing(
    store: &Store<JiraConnection>,
    namespace: Option<&str>,
    name: &str,
) -> Vec<ObjectRef<JiraConnection>> {
    store
        .state()
        .iter()
        .filter(|c| c.namespace().as_deref() == namespace && c.spec.secret_names().contains(&name))
        .map(|c| ObjectRef::from_obj(c.as_ref()))
        .collect()
}

async fn run_in(
    state: Arc<State>,
    namespace: Option<String>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = &state.ctx.client;
    let connections: Api<JiraConnection> = wiring::scoped(client, namespace.as_deref());
    // Secrets are watched by metadata only: their values are read when a connection needs them.
    let secrets: Api<PartialObjectMeta<Secret>> = wiring::scoped(client, namespace.as_deref());
    let (reader, writer) = reflector::store();
    let on_delete = state.clone();
    let triggers = watcher(connections, watcher::Config::default().any_semantic())
        .reflect(writer)
        .filter_map(move |event| {
            future::ready(match event {
                Ok(watcher::Event::Apply(c) | watcher::Event::InitApply(c)) => Some(Ok(c)),
                Ok(watcher::Event::Delete(c)) => {
                    on_delete.forget(&c);
                    None
                }
                Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                Err(e) => Some(Err(e)),
            })
        })
        // A long TTL: an entry that expires lets one status-only update through, which only requeues.
        .predicate_filter(
            spec_or_request,
            PredicateConfig::default().ttl(Duration::from_secs(7 * 86400)),
        );
    let store = reader.clone();
    info!(
        namespace = namespace.as_deref().unwrap_or("*"),
        "starting the JiraConnection controller"
    );
    let mut controller = Controller::for_stream(triggers, reader);
    if namespace.is_some() {
        let secret_events =
            watcher(secrets, watcher::Config::default().any_semantic()).touched_objects();
        controller = controller.watches_stream(secret_events, move |secret| {
            referencing(
                &store,
                secret.metadata.namespace.as_deref(),
                &secret.name_any(),
            )
        });
    }
    controller
        .with_config(Config::default().concurrency(state.ctx.settings.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, state)
        .for_each(|result| {
            if let Err(e) = result {
                debug!(error = %e, "reconcile ended with an error");
            }
            future::ready(())
        })
        .await;
}

fn error_policy(connection: Arc<JiraConnection>, error: &Error, state: Arc<State>) -> Action {
    let (failures, delay) = state.retries.failed(connection.as_ref(), error);
    // Unwatched Secrets are re-read at least this often, so that a fixed Secret is noticed.
    let delay = state.secret_recheck.map_or(delay, |r| delay.min(r));
    state
        .ctx
        .metrics
        .reconcile_failed(CONTROLLER, error.reason());
    warn!(
        namespace = connection.namespace().unwrap_or_default(),
        name = connection.name_any(),
        reason = error.reason(),
        failures,
        retry_in_seconds = delay.as_secs(),
        "JiraConnection reconcile failed: {error}"
    );
    Action::requeue(delay)
}

async fn reconcile(connection: Arc<JiraConnection>, state: Arc<State>) -> Result<Action, Error> {
    let (namespace, name) = key_of(&connection);
    let span = info_span!("reconcile", namespace = %namespace, name = %name);
    let _timer = state.ctx.metrics.reconcile_started(CONTROLLER);
    let reconcile = Reconcile {
        state: &state,
        connection: &connection,
        generation: connection.metadata.generation,
        key: (namespace, name),
    };
    let conditions = || {
        state
            .current_status(&connection)
            .map(|s| s.conditions)
            .unwrap_or_default()
    };
    let marks = (conditions::READY, crate::api::condition_status::FALSE);
    let work = reconcile.run().instrument(span);
    let result = match panics::guard(&state.ctx, connection.as_ref(), marks, conditions, work).await
    {
        Ok(result) => result,
        Err(panic) => {
            // The next reconcile starts from the recorded status, not from what this process last wrote.
            state
                .statuses
                .lock()
                .expect("not poisoned")
                .remove(&key_of(&connection));
            Err(Error::Internal(panic))
        }
    };
    state.ctx.clients.report_requests(&state.ctx.metrics);
    if result.is_ok() {
        state.retries.clear(connection.as_ref());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::record::until;
    use super::*;
    use crate::api::JiraConnectionStatus;
    use crate::api::{BasicAuth, BasicAuthSecretRef, ConnectionAuth, JiraConnectionSpec};
    use chrono::Utc;

    fn connection(generation: i64, request: Option<&str>) -> JiraConnection {
        let mut c = JiraConnection::new(
            "acme",
            JiraConnectionSpec {
                site_url: "https://acme.atlassian.net".into(),
                auth: ConnectionAuth {
                    basic: Some(BasicAuth {
                        secret_ref: BasicAuthSecretRef {
                            name: "jira-basic".into(),
                            email_key: "email".into(),
                            api_token_key: "apiToken".into(),
                        },
                    }),
                    service_account: None,
                },
                organization: None,
                sync: Default::default(),
                inventory: Default::default(),
            },
        );
        c.metadata.namespace = Some("it".into());
        c.metadata.generation = Some(generation);
        if let Some(r) = request {
            c.metadata.annotations =
                Some([(ANNOTATION_SYNC_REQUESTED.to_string(), r.to_string())].into());
        }
        c
    }

    #[test]
    fn status_writes_do_not_trigger_but_spec_and_requests_do() {
        let base = connection(1, None);
        let mut with_status = base.clone();
        with_status.status = Some(JiraConnectionStatus {
            observed_generation: Some(1),
            ..Default::default()
        });
        with_status.metadata.resource_version = Some("99".into());
        assert_eq!(spec_or_request(&base), spec_or_request(&with_status));
        assert_ne!(
            spec_or_request(&base),
            spec_or_request(&connection(2, None))
        );
        assert_ne!(
            spec_or_request(&base),
            spec_or_request(&connection(1, Some("now")))
        );
        assert_ne!(
            spec_or_request(&connection(1, Some("a"))),
            spec_or_request(&connection(1, Some("b")))
        );
        let mut accepting = base.clone();
        accepting.metadata.annotations =
            Some([(ANNOTATION_ACCEPT_LISTING.to_string(), "v1".to_string())].into());
        assert_ne!(spec_or_request(&base), spec_or_request(&accepting));
    }

    #[test]
    fn secrets_map_to_the_connections_that_reference_them() {
        let (reader, mut writer) = reflector::store::<JiraConnection>();
        let mut other = connection(1, None);
        other.metadata.name = Some("other".into());
        other.spec.auth.basic.as_mut().unwrap().secret_ref.name = "other-secret".into();
        let mut elsewhere = connection(1, None);
        elsewhere.metadata.namespace = Some("elsewhere".into());
        for c in [connection(1, None), other, elsewhere] {
            writer.apply_watcher_event(&watcher::Event::Apply(c));
        }
        let refs = referencing(&reader, Some("it"), "jira-basic");
        assert_eq!(refs.len(), 1);
        assert_eq!(
            (refs[0].name.as_str(), refs[0].namespace.as_deref()),
            ("acme", Some("it"))
        );
        assert!(referencing(&reader, Some("it"), "unrelated").is_empty());
    }

    #[test]
    fn backoff_doubles_up_to_a_cap_with_jitter() {
        assert_eq!(TRANSIENT.delay(1, 0.0), Duration::from_secs(5));
        assert_eq!(TRANSIENT.delay(2, 0.0), Duration::from_secs(10));
        assert_eq!(TRANSIENT.delay(4, 0.0), Duration::from_secs(40));
        assert_eq!(TRANSIENT.delay(30, 0.0), Duration::from_secs(300));
        assert_eq!(PERMANENT.delay(1, 0.0), Duration::from_secs(60));
        assert_eq!(PERMANENT.delay(100, 0.0), Duration::from_secs(3600));
        assert_eq!(TRANSIENT.delay(1, 1.0), Duration::from_secs(6));
        assert_eq!(TRANSIENT.delay(1, -1.0), Duration::from_secs(4));
    }

    #[test]
    fn errors_classify() {
        let reported = Error::Reported(Failure::permanent("InvalidCredentials", "m"));
        assert_eq!(reported.reason(), "InvalidCredentials");
        assert!(!reported.is_transient());
        assert_eq!(reported.retry_after(), None);
        let throttled = Error::Reported(Failure::of(&crate::jira::JiraError::RateLimited {
            reason: "jira-quota-tenant-based".into(),
            retry_after: Duration::from_secs(900),
        }));
        assert!(throttled.is_transient());
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(900)));
        assert_eq!(until(Utc::now(), Utc::now()), Duration::from_secs(1));
    }
}
