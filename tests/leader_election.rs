//! Leader election between real operator processes on the test control plane: only the Lease holder acts (the
//! standby starts no controller and runs no reconcile, yet reports ready); a leader killed with SIGKILL is
//! replaced once its Lease expired, never earlier; a leader stopped with SIGTERM releases the Lease, so its
//! standby takes over without waiting for the expiry; and every action, created before, during and after the
//! handover, runs exactly once (one issue per action in the simulator). A leader that can no longer renew its
//! Lease (its RBAC on the Lease revoked) stops and exits before the Lease expires for its standby. A leader
//! asked to stop while an action's Jira call is in flight finishes that action before it exits and hands over.

use jira_cloud_operator::{
    api::{JiraAction, JiraConnection},
    controller::action::lifecycle::marker_of,
};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use kube::{Api, ResourceExt};
use std::{path::Path, time::Instant};
use testkit::{
    OperatorProcess,
    objects::{create_acme_connection, create_issue_action},
    observed::{action_succeeded, connection_ready, sample_sum},
    tools::{apply, helm_template, kubectl},
    wait::wait_for_object,
};

const LEASE: &str = "jira-operator-leader";
const LEASE_SECONDS: i64 = 4;

fn holder(lease: &Lease) -> &str {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.as_deref())
        .unwrap_or("")
}

fn spec(lease: &Lease) -> LeaseSpec {
    lease.spec.clone().expect("a Lease spec")
}

fn micros(time: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime>) -> i64 {
    time.expect("a timestamp").0.as_microsecond()
}

fn spawn(
    name: &str,
    kubeconfig: &Path,
    sim: &jira_sim::SimHandle,
    namespace: &str,
) -> OperatorProcess {
    OperatorProcess::spawn(
        name,
        kubeconfig,
        &sim.url(),
        &[
            "--watch-namespaces",
            namespace,
            "--leader-elect",
            "--leader-election-namespace",
            namespace,
            "--leader-election-id",
            LEASE,
            "--lease-duration",
            &format!("{LEASE_SECONDS}s"),
            "--renew-deadline",
            "3s",
            "--retry-period",
            "500ms",
        ],
    )
}

/// Reconciles the process ran and actions it finished.
async fn work_done(operator: &OperatorProcess) -> (f64, f64) {
    let metrics = operator.metrics().await;
    (
        sample_sum(&metrics, "jira_operator_reconciles_total"),
        sample_sum(&metrics, "jira_operator_actions_total"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_acts_and_the_lease_moves_on_kill_and_on_shutdown() {
    let env = testkit::env("leader").await;
    let (admin, ns) = (env.client.clone(), env.namespace.as_str());
    let kubeconfig = testkit::plane::shared().kubeconfig_path();
    let sim = jira_sim::start(jira_sim::SimConfig::default())
        .await
        .expect("the simulator starts");
    let leases: Api<Lease> = Api::namespaced(admin.clone(), ns);
    let actions: Api<JiraAction> = Api::namespaced(admin.clone(), ns);

    // A leads; B, started second, stands by and is ready all the same.
    let mut a = spawn("op-a", kubeconfig, &sim, ns);
    wait_for_object(&leases, LEASE, "held by op-a", |l| {
        holder(l).starts_with("op-a_")
    })
    .await;
    a.wait_ready().await;
    let mut b = spawn("op-b", kubeconfig, &sim, ns);
    b.wait_ready().await;

    create_acme_connection(&admin, ns, &sim.url()).await;
    let first = create_issue_action(&admin, ns, "first").await;
    let connections: Api<JiraConnection> = Api::namespaced(admin.clone(), ns);
    wait_for_object(&connections, "acme", "Ready", connection_ready).await;
    wait_for_object(&actions, "first", "Succeeded", action_succeeded).await;

    let (a_reconciles, a_actions) = work_done(&a).await;
    assert!(
        a_reconciles > 0.0 && a_actions == 1.0,
        "the leader did the work"
    );
    assert_eq!(
        work_done(&b).await,
        (0.0, 0.0),
        "the standby acted:\n{}",
        b.log()
    );
    assert!(
        !b.log().contains("leading: starting the controllers"),
        "the standby led:\n{}",
        b.log()
    );
    assert_eq!(
        holder(&leases.get(LEASE).await.unwrap()).split('_').next(),
        Some("op-a")
    );

    // SIGKILL the leader: no release, so B must wait for the Lease to expire, and not a moment less.
    a.signal("KILL");
    let killed = Instant::now();
    assert!(!a.wait_exit().await.success());
    let last_of_a = spec(&leases.get(LEASE).await.unwrap());
    assert!(
        last_of_a
            .holder_identity
            .as_deref()
            .unwrap_or("")
            .starts_with("op-a_"),
        "{last_of_a:?}"
    );
    let second = create_issue_action(&admin, ns, "second").await;
    let taken = spec(
        &wait_for_object(&leases, LEASE, "held by op-b", |l| {
            holder(l).starts_with("op-b_")
        })
        .await,
    );
    let handover = killed.elapsed();
    let waited = micros(taken.acquire_time.as_ref()) - micros(last_of_a.renew_time.as_ref());
    assert!(
        waited >= LEASE_SECONDS * 1_000_000,
        "op-b took the Lease {waited} µs after op-a's last renewal, before it expired"
    );
    assert_eq!(
        taken.lease_transitions,
        Some(last_of_a.lease_transitions.unwrap_or(0) + 1)
    );
    println!(
        "SIGKILL handover: op-b leads {:.2} s after the kill, {:.2} s after op-a's last renewal (lease {LEASE_SECONDS} s, \
         retry 0.5 s)",
        handover.as_secs_f64(),
        waited as f64 / 1e6
    );

    wait_for_object(&actions, "second", "Succeeded", action_succeeded).await;
    let third = create_issue_action(&admin, ns, "third").await;
    wait_for_object(&actions, "third", "Succeeded", action_succeeded).await;
    assert!(
        work_done(&b).await.1 > 0.0,
        "the new leader runs the controllers"
    );

    // SIGTERM the leader with C standing by: B finishes, releases the Lease and exits 0; C takes over at its
    // next retry (a free Lease is no takeover, so the transition count stays).
    let mut c = spawn("op-c", kubeconfig, &sim, ns);
    c.wait_ready().await;
    let before = spec(&leases.get(LEASE).await.unwrap());
    b.signal("TERM");
    let stopped = Instant::now();
    let status = b.wait_exit().await;
    assert!(
        status.success(),
        "op-b exited with {status} after SIGTERM:\n{}",
        b.log()
    );
    let taken = spec(
        &wait_for_object(&leases, LEASE, "held by op-c", |l| {
            holder(l).starts_with("op-c_")
        })
        .await,
    );
    println!(
        "SIGTERM handover: op-c leads {:.2} s after op-b was asked to stop",
        stopped.elapsed().as_secs_f64()
    );
    assert_eq!(
        taken.lease_transitions, before.lease_transitions,
        "op-b released the Lease"
    );
    assert!(b.log().contains("released the leader Lease"), "{}", b.log());
    assert!(
        !b.log().contains("did not finish in time"),
        "op-b's controllers hung:\n{}",
        b.log()
    );
    let fourth = create_issue_action(&admin, ns, "fourth").await;
    wait_for_object(&actions, "fourth", "Succeeded", action_succeeded).await;

    // Every action ran once: one issue each, whatever the leader changes.
    for action in [&first, &second, &third, &fourth] {
        let issues = sim.with_state(|st| st.issues_with_label(&marker_of(action)));
        assert_eq!(issues.len(), 1, "{} created {issues:?}", action.name_any());
    }

    c.signal("TERM");
    assert!(c.wait_exit().await.success());
    assert_eq!(
        holder(&leases.get(LEASE).await.unwrap()),
        "",
        "the last leader released the Lease"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_renew_exits_before_its_lease_expires() {
    let env = testkit::env("leader-lost").await;
    let plane = testkit::plane::shared();
    let release_ns = plane.namespace("leader-lost-operator").await;
    let release = "lost";
    let account = format!("{release}-jira-cloud-operator");
    let manifests = helm_template(
        release,
        &release_ns,
        &[
            "--set",
            "crds.install=false",
            "--set",
            &format!("watchNamespaces={{{}}}", env.namespace),
            "--set",
            "leaderElection.enabled=true",
            "--show-only",
            "templates/serviceaccount.yaml",
            "--show-only",
            "templates/rbac.yaml",
        ],
    );
    apply(&manifests, false);
    let service_account = plane
        .kubeconfig_for(
            &format!("system:serviceaccount:{release_ns}:{account}"),
            &[
                "system:serviceaccounts",
                &format!("system:serviceaccounts:{release_ns}"),
            ],
        )
        .unwrap();
    let sim = jira_sim::start(jira_sim::SimConfig::default())
        .await
        .expect("the simulator starts");
    let args = [
        "--watch-namespaces",
        &env.namespace,
        "--leader-elect",
        "--leader-election-namespace",
        &release_ns,
        "--leader-election-id",
        &account,
        "--lease-duration",
        "6s",
        "--renew-deadline",
        "3s",
        "--retry-period",
        "500ms",
    ];
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), &release_ns);

    // A leads with the chart's RBAC; B (admin) stands by.
    let mut a = OperatorProcess::spawn("op-a", &service_account, &sim.url(), &args);
    wait_for_object(&leases, &account, "held by op-a", |l| {
        holder(l).starts_with("op-a_")
    })
    .await;
    a.wait_ready().await;
    let mut b = OperatorProcess::spawn("op-b", plane.kubeconfig_path(), &sim.url(), &args);
    b.wait_ready().await;

    // A loses its permission on the Lease: it cannot renew, gives up after the renew deadline and exits
    // non-zero while its Lease is still valid, so B takes over only once A is gone.
    let revoked = kubectl(
        &[
            "delete",
            "rolebinding",
            "-n",
            &release_ns,
            &format!("{account}-leader-election"),
        ],
        "",
    );
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let status = a.wait_exit().await;
    assert!(!status.success(), "op-a exited with {status}");
    assert!(a.log().contains("lost the leader Lease"), "{}", a.log());
    let last_of_a = spec(&leases.get(&account).await.unwrap());
    assert!(
        last_of_a
            .holder_identity
            .as_deref()
            .unwrap_or("")
            .starts_with("op-a_"),
        "op-b took the Lease while op-a still ran: {last_of_a:?}"
    );
    let taken = spec(
        &wait_for_object(&leases, &account, "held by op-b", |l| {
            holder(l).starts_with("op-b_")
        })
        .await,
    );
    let waited = micros(taken.acquire_time.as_ref()) - micros(last_of_a.renew_time.as_ref());
    assert!(
        waited >= 6_000_000,
        "op-b took the Lease {waited} µs after op-a's last renewal"
    );
    println!(
        "renewal lost: op-a exited, op-b leads {:.2} s after op-a's last renewal (lease 6 s)",
        waited as f64 / 1e6
    );

    b.signal("TERM");
    assert!(b.wait_exit().await.success());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_stopped_mid_action_finishes_it_before_handing_over() {
    let env = testkit::env("leader-drain").await;
    let (admin, ns) = (env.client.clone(), env.namespace.as_str());
    let kubeconfig = testkit::plane::shared().kubeconfig_path();
    let sim = jira_sim::start(jira_sim::SimConfig::default())
        .await
        .expect("the simulator starts");
    let leases: Api<Lease> = Api::namespaced(admin.clone(), ns);
    let actions: Api<JiraAction> = Api::namespaced(admin.clone(), ns);
    let connections: Api<JiraConnection> = Api::namespaced(admin.clone(), ns);

    let mut a = spawn("op-a", kubeconfig, &sim, ns);
    wait_for_object(&leases, LEASE, "held by op-a", |l| {
        holder(l).starts_with("op-a_")
    })
    .await;
    a.wait_ready().await;
    let mut b = spawn("op-b", kubeconfig, &sim, ns);
    b.wait_ready().await;
    create_acme_connection(&admin, ns, &sim.url()).await;
    wait_for_object(&connections, "acme", "Ready", connection_ready).await;

    // Creating the issue takes 3 s; SIGTERM arrives while the call is in flight.
    sim.set_faults(jira_sim::Faults {
        latency_ms: 3000,
        routes: vec!["/rest/api/3/issue".into()],
        ..Default::default()
    });
    let slow = create_issue_action(&admin, ns, "slow").await;
    wait_for_object(&actions, "slow", "started", |a| {
        a.status.as_ref().is_some_and(|s| s.attempts == 1)
    })
    .await;
    a.signal("TERM");
    let at_signal = actions.get("slow").await.unwrap();
    assert!(
        !action_succeeded(&at_signal),
        "the action finished before SIGTERM"
    );
    let status = a.wait_exit().await;
    assert!(status.success(), "op-a exited with {status}:\n{}", a.log());

    // op-a finished the action itself before it exited; op-b ran nothing of it.
    let done = actions.get("slow").await.unwrap();
    assert!(
        action_succeeded(&done),
        "op-a exited before its in-flight action finished: {:?}",
        done.status
    );
    assert!(!a.log().contains("did not finish in time"), "{}", a.log());
    wait_for_object(&leases, LEASE, "held by op-b", |l| {
        holder(l).starts_with("op-b_")
    })
    .await;
    assert_eq!(
        work_done(&b).await.1,
        0.0,
        "op-b ran an action:\n{}",
        b.log()
    );
    let issues = sim.with_state(|st| st.issues_with_label(&marker_of(&slow)));
    assert_eq!(issues.len(), 1, "{issues:?}");

    b.signal("TERM");
    assert!(b.wait_exit().await.success());
    sim.shutdown().await;
}
