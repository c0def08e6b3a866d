//! The data a license policy needs, and the `report` subcommand, on the real apiserver and the simulator.
//!
//! What the JiraUsers, the JiraConnection and its stored sync cache remember across syncs and operator restarts, with the simulator
//! serving the hand-written scenario (`testkit/scenarios/handwritten.yaml`): the latest activity ever
//! observed (`lastActiveDate` survives the usage window), when a user was first seen holding a license
//! (`firstSeenTime`), the connection's first sync (`firstSyncTime`), and, with an organization, the roles of each
//! user and the Admin API's per-product last-active dates. Dates are derived from the operator's own clock (the
//! status's usage window) or from the simulator's instants, never from where the wall clock stands.

use chrono::{DateTime, NaiveDate, Utc};
use jira_cloud_operator::api::{JiraConnection, JiraUser, JiraUserStatus, ProductLastActive};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use std::process::{Command, Output};
use testkit::{
    InProcess,
    connection::*,
    observed::has,
    settings,
    sim::{self, handwritten},
};

fn status_of<'a>(users: &'a [JiraUser], account_id: &str) -> &'a JiraUserStatus {
    users
        .iter()
        .find(|u| u.spec.account_id == account_id)
        .and_then(|u| u.status.as_ref())
        .unwrap_or_else(|| panic!("no JiraUser status for {account_id}"))
}

fn first_sync_time(c: &JiraConnection) -> Time {
    c.status
        .as_ref()
        .and_then(|s| s.first_sync_time.clone())
        .expect("status.firstSyncTime after a sync")
}

/// The last day of the usage window of the connection's last sync: the operator's today.
fn operator_today(c: &JiraConnection) -> NaiveDate {
    let to = &c.status.as_ref().unwrap().usage.as_ref().unwrap().to;
    to.parse().expect("a date")
}

/// `accountId -> firstSeenTime` of the JiraUsers.
fn first_seen(users: &[JiraUser]) -> Vec<(String, Option<Time>)> {
    let mut v: Vec<(String, Option<Time>)> = users
        .iter()
        .map(|u| {
            (
                u.spec.account_id.clone(),
                u.status.as_ref().and_then(|s| s.first_seen_time.clone()),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_activity_first_seen_and_first_sync_survive_the_window_re_syncs_and_a_restart() {
    let env = testkit::env("usage-history").await;
    let (client, ns) = (env.client.clone(), env.namespace.as_str());
    let sim = sim::start(handwritten()).await;
    // Bob holds no license at the first sync.
    sim.with_state(|s| {
        let bob = s.user_by_account("u-bob").unwrap();
        let core = s.group_ref(None, Some("jira-core-users")).unwrap();
        s.remove_member(core, bob);
    });
    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.put_admin_secret().await;
    let mut spec = basic_spec(&sim.url(), "jira-basic");
    spec.sync.usage_window_days = 60;
    env.create_connection("acme", spec).await;
    let first = env.wait_ready("acme", None).await;
    let first_sync = first_sync_time(&first);
    assert_eq!(
        Some(&first_sync),
        first.status.as_ref().unwrap().last_sync_time.as_ref(),
        "the first sync is the last one"
    );
    let users = env.jira_users("acme", "").await;
    // Frank was active 40 and 45 days ago: inside the 60-day window.
    let frank = status_of(&users, "u-frank").clone();
    let frank_last: NaiveDate = frank
        .last_active_date
        .as_deref()
        .expect("frank's activity in the window")
        .parse()
        .unwrap();
    assert_eq!(frank.active_days, 2);
    let seen = first_seen(&users);
    for (account, time) in &seen {
        let holds = !status_of(&users, account).products.is_empty();
        assert_eq!(time.is_some(), holds, "{account}: first seen iff a holder");
        if let Some(t) = time {
            assert!(t <= &first_sync, "{account} seen by the first sync");
        }
    }
    assert!(status_of(&users, "u-bob").first_seen_time.is_none());

    // The window shrinks to 7 days: Frank's activity leaves it, his last activity stays.
    env.patch_spec("acme", serde_json::json!({"sync": {"usageWindowDays": 7}}))
        .await;
    let shrunk = env
        .wait_for("acme", "a sync over 7 days", |c| {
            has(c, "Ready", "True", "Synced")
                && c.status
                    .as_ref()
                    .and_then(|s| s.usage.as_ref())
                    .is_some_and(|u| u.window_days == 7)
        })
        .await;
    let window_from: NaiveDate = shrunk
        .status
        .as_ref()
        .unwrap()
        .usage
        .as_ref()
        .unwrap()
        .from
        .parse()
        .unwrap();
    assert!(frank_last < window_from, "the activity left the window");
    let users = env.jira_users("acme", "").await;
    let frank = status_of(&users, "u-frank");
    assert_eq!(frank.last_active_date, Some(frank_last.to_string()));
    assert_eq!(frank.active_days, 0, "no activity in the window");
    assert_eq!(first_sync_time(&shrunk), first_sync);
    assert_eq!(first_seen(&users), seen, "first seen times stay");

    // An earlier sync (long ago) saw the admin active 120 days before today: the operator is restarted (no
    // memory but the objects) and syncs again.
    operator.stop().await;
    let today = operator_today(&shrunk);
    let long_ago = (today - chrono::Days::new(120)).to_string();
    let api: Api<JiraUser> = Api::namespaced(client.clone(), ns);
    let admin_name = users
        .iter()
        .find(|u| u.spec.account_id == "u-admin")
        .unwrap()
        .name_any();
    api.patch(
        &admin_name,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"status": {"lastActiveDate": long_ago}})),
    )
    .await
    .expect("patch the admin's status");
    // Meanwhile Bob got a license.
    sim.with_state(|s| {
        let bob = s.user_by_account("u-bob").unwrap();
        let core = s.group_ref(None, Some("jira-core-users")).unwrap();
        s.add_member(core, bob);
    });
    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.request_sync("acme", "after-restart").await;
    let restarted = env.wait_ready("acme", Some("after-restart")).await;
    assert_eq!(first_sync_time(&restarted), first_sync, "across a restart");
    let users = env.jira_users("acme", "").await;
    assert_eq!(
        status_of(&users, "u-admin").last_active_date,
        Some(long_ago),
        "an activity 120 days ago keeps its date"
    );
    assert_eq!(
        status_of(&users, "u-frank").last_active_date,
        Some(frank_last.to_string())
    );
    let bob_seen = status_of(&users, "u-bob")
        .first_seen_time
        .clone()
        .expect("bob seen holding a license");
    assert!(bob_seen >= first_sync);
    let others: Vec<_> = first_seen(&users)
        .into_iter()
        .filter(|(a, _)| a != "u-bob")
        .collect();
    let before: Vec<_> = seen.into_iter().filter(|(a, _)| a != "u-bob").collect();
    assert_eq!(others, before, "first seen times stay across a restart");

    // An unchanged re-sync writes no JiraUser, and continues the history.
    let versions = env.resource_versions("acme").await;
    env.request_sync("acme", "unchanged").await;
    let unchanged = env.wait_ready("acme", Some("unchanged")).await;
    assert_eq!(env.resource_versions("acme").await, versions);
    assert_eq!(
        unchanged.status.as_ref().unwrap().activity_history_from,
        None
    );

    // The operator stops for longer than the usage window (its last successful sync 40 days before today):
    // the next sync cannot continue the history, which starts again with its window.
    operator.stop().await;
    let connections: Api<JiraConnection> = Api::namespaced(client.clone(), ns);
    let long_ago = (today - chrono::Days::new(40))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    connections
        .patch_status(
            "acme",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"status": {"lastSyncTime": long_ago}})),
        )
        .await
        .expect("patch the last sync time");
    let _operator =
        InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.request_sync("acme", "after-a-gap").await;
    let gap = env.wait_ready("acme", Some("after-a-gap")).await;
    let st = gap.status.as_ref().unwrap();
    assert_eq!(
        st.activity_history_from.as_deref(),
        Some(st.usage.as_ref().unwrap().from.as_str()),
        "the history starts again with the window"
    );
    assert_eq!(first_sync_time(&gap), first_sync);
}

fn day_of(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap()
        .date_naive()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_product_last_active_with_an_organization() {
    let env = testkit::env("usage-roles").await;
    let (client, ns) = (env.client.clone(), env.namespace.as_str());
    let sim = sim::start(handwritten()).await;
    // Alice viewed Jira Software 3 days ago and Jira Service Management 100 days ago; she never used Jira.
    let (software_ms, service_desk_ms) = sim.with_state(|s| {
        let now = Utc::now().timestamp_millis();
        let alice = s.user_by_account("u-alice").unwrap();
        let times = (now - 3 * 86_400_000, now - 100 * 86_400_000);
        s.users[alice as usize].last_active = vec![
            ("jira-software".into(), times.0),
            ("jira-servicedesk".into(), times.1),
        ];
        times
    });
    let _operator =
        InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.put_admin_secret().await;
    env.put_secret("atlassian-admin", &[("apiKey", "sim-admin-key")])
        .await;
    let spec = with_organization(
        basic_spec(&sim.url(), "jira-basic"),
        &sim.org_id(),
        "atlassian-admin",
    );
    env.create_connection("acme", spec).await;
    env.wait_for("acme", "the organization synced", |c| {
        has(c, "Ready", "True", "Synced") && has(c, "OrganizationSynced", "True", "Complete")
    })
    .await;
    let users = env.jira_users("acme", "").await;

    // The site admins' group has admin access to every product, as does jira-admins.
    let every_product_admin = [
        "product-admin:jira-core",
        "product-admin:jira-product-discovery",
        "product-admin:jira-servicedesk",
        "product-admin:jira-software",
    ];
    let admin = status_of(&users, "u-admin");
    let mut expected = vec!["org-admin", "site-admin"];
    expected.extend(every_product_admin);
    assert_eq!(admin.roles, expected);
    assert_eq!(admin.role.as_deref(), Some("org-admin"), "the highest");
    let alice = status_of(&users, "u-alice");
    assert_eq!(alice.roles, every_product_admin);
    assert_eq!(alice.role.as_deref(), Some("product-admin"));
    for plain in ["u-bob", "u-frank", "u-viewer"] {
        let u = status_of(&users, plain);
        assert!(u.roles.is_empty(), "{plain}: {:?}", u.roles);
        assert_eq!(u.role.as_deref(), Some("user"), "{plain}");
    }

    let entry = |product: &str, date: Option<String>| ProductLastActive {
        product: product.into(),
        date,
    };
    assert_eq!(
        alice.product_last_active,
        vec![
            entry("jira-core", None),
            entry("jira-servicedesk", Some(day_of(service_desk_ms))),
            entry("jira-software", Some(day_of(software_ms))),
        ]
    );
    assert_eq!(
        status_of(&users, "u-bob").product_last_active,
        vec![entry("jira-core", None)],
        "access without a use"
    );
}

// The report: `jira-cloud-operator report` run as a process with a kubeconfig, against a connection the
// operator synced from the simulator's hand-written scenario, whose license holders and their activity are
// known in advance:
// - Jira Software: the admin (never active), Alice (active in the last two days), Frank (active 40 and 45 days
//   before the simulator started);
// - Jira Core: Bob (active in the last three days), the viewer (never active);
// - Jira Service Management: Alice; Jira Product Discovery: nobody.
//
// The connection's window is 60 days and it synced once, so its history covers 60 days: 30 days decide
// everyone, 90 days leave the never-active admin unknown.

fn report(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jira-cloud-operator"))
        .env_clear()
        .env("KUBECONFIG", testkit::plane::shared().kubeconfig_path())
        .arg("report")
        .args(args)
        .output()
        .expect("run the report")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}

/// `product -> [holders, active, inactive, unknownYet]` of a JSON report.
fn figures(json: &serde_json::Value) -> Vec<(String, [u64; 4])> {
    json.as_array()
        .expect("an array")
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}"));
            (
                r["product"].as_str().unwrap().to_owned(),
                [n("holders"), n("active"), n("inactive"), n("unknownYet")],
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_counts_holders_by_activity_as_a_table_csv_and_json() {
    let env = testkit::env("report").await;
    let (client, ns) = (env.client.clone(), env.namespace.as_str());
    let sim = sim::start(handwritten()).await;
    let _operator =
        InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.put_admin_secret().await;
    let mut spec = basic_spec(&sim.url(), "jira-basic");
    spec.sync.usage_window_days = 60;
    env.create_connection("acme", spec).await;
    env.wait_ready("acme", None).await;

    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["-n", ns, "-o", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&stdout(&report(&all))).expect("JSON")
    };
    let owned = |v: Vec<(&str, [u64; 4])>| -> Vec<(String, [u64; 4])> {
        v.into_iter().map(|(p, f)| (p.to_owned(), f)).collect()
    };

    // Over the usage window (60 days): only the admin and the viewer are inactive.
    let window = json(&[]);
    assert_eq!(
        figures(&window),
        owned(vec![
            ("jira-core", [2, 1, 1, 0]),
            ("jira-product-discovery", [0, 0, 0, 0]),
            ("jira-servicedesk", [1, 1, 0, 0]),
            ("jira-software", [3, 2, 1, 0]),
        ])
    );
    let software = &window[3];
    assert_eq!(software["seats"], 50);
    assert_eq!(software["inactiveDays"], 60);
    assert_eq!(software["connection"], "acme");
    assert_eq!(software["namespace"], ns);
    assert_eq!(software["monthlySavings"], serde_json::Value::Null);

    // 30 days: Frank is inactive too; two Jira Software seats at 8.60 a month.
    let month = json(&[
        "--inactive-days",
        "30",
        "--seat-price",
        "jira-software=8.60",
    ]);
    assert_eq!(figures(&month)[3], ("jira-software".into(), [3, 1, 2, 0]));
    assert_eq!(month[3]["monthlySavings"], "17.20");
    assert_eq!(month[3]["currency"], "USD");
    assert_eq!(month[0]["monthlySavings"], serde_json::Value::Null);

    // 90 days: beyond the history, the never-active admin is unknown yet; Frank was active within them.
    let quarter = json(&["--inactive-days", "90"]);
    assert_eq!(figures(&quarter)[3], ("jira-software".into(), [3, 2, 0, 1]));
    assert_eq!(figures(&quarter)[0], ("jira-core".into(), [2, 1, 0, 1]));

    // The table: a header and a line per product, aligned; the namespace only with -A.
    let table = stdout(&report(&["-n", ns, "acme", "--inactive-days", "30"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "CONNECTION",
            "PRODUCT",
            "SEATS",
            "HOLDERS",
            "ACTIVE",
            "INACTIVE",
            "UNKNOWN-YET",
            "INACTIVE-DAYS",
            "RECLAIMABLE-BY-POLICY",
            "MONTHLY-SAVINGS"
        ]
    );
    let software: Vec<&str> = lines[4].split_whitespace().collect();
    assert_eq!(
        software,
        [
            "acme",
            "jira-software",
            "50",
            "3",
            "1",
            "2",
            "0",
            "30",
            "-",
            "-"
        ]
    );
    let column = lines[0].find("HOLDERS").unwrap();
    assert_eq!(&lines[4][column..column + 1], "3", "aligned:\n{table}");
    let every = stdout(&report(&["-A"]));
    assert!(every.starts_with("NAMESPACE"), "{every}");
    assert!(
        every
            .lines()
            .any(|l| l.starts_with(ns) && l.contains("jira-software")),
        "{every}"
    );

    // CSV: a header and one record per product.
    let csv = stdout(&report(&[
        "-n",
        ns,
        "-o",
        "csv",
        "--seat-price",
        "jira-core=5",
        "--currency",
        "EUR",
    ]));
    let records: Vec<&str> = csv.lines().collect();
    assert_eq!(
        records[0],
        "namespace,connection,product,seats,holders,active,inactive,unknownYet,inactiveDays,reclaimableByPolicy,monthlySavings,currency"
    );
    assert_eq!(
        records[1],
        format!("{ns},acme,jira-core,100,2,1,1,0,60,,5.00,EUR")
    );
    assert_eq!(records.len(), 5);

    // Clear errors, and nothing written.
    let missing = report(&["-n", ns, "nope"]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("JiraConnection nope not found"), "{err}");
    let bad = report(&["--seat-price", "jira-software=cheap"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("invalid amount 'cheap'"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

fn last_stats(c: &JiraConnection) -> jira_cloud_operator::api::SyncStats {
    c.status
        .as_ref()
        .and_then(|s| s.last_sync_stats.clone())
        .expect("status.lastSyncStats after a sync")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_operator_continues_the_incremental_sync_from_the_stored_cache() {
    let env = testkit::env("usage-stored-cache").await;
    let (client, ns) = (env.client.clone(), env.namespace.as_str());
    let sim = sim::start(handwritten()).await;
    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.put_admin_secret().await;
    env.create_connection("acme", basic_spec(&sim.url(), "jira-basic"))
        .await;
    let first = env.wait_ready("acme", None).await;
    assert!(
        !last_stats(&first).incremental,
        "the first sync is a full one"
    );
    let counts = |users: &[JiraUser], account: &str| status_of(users, account).activity.clone();
    let before = env.jira_users("acme", "").await;

    // A daily sync: one comment and one worklog deletion (a deletion names no author: only the cache knows
    // whose worklog it was). A sync counts the events up to 90 s before it starts, from where the previous one
    // stopped: these are 88 s old, and the sync starts more than 2 s later.
    let comment_and_delete = async |commenter: &str, deleted_of: &str| {
        let at = (Utc::now() - chrono::Duration::seconds(88)).timestamp_millis();
        sim.with_state(|s| {
            let commenter = s.user_by_account(commenter);
            let owner = s.user_by_account(deleted_of);
            let issue = s.issue_ref("ENG-1").expect("ENG-1");
            s.add_comment(issue, commenter, "a comment".into(), at);
            let worklog = s
                .worklogs
                .iter()
                .find(|w| w.author == owner && !w.deleted)
                .expect("a worklog")
                .id;
            assert!(s.delete_worklog(worklog, at));
        });
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    };
    comment_and_delete("u-alice", "u-dave").await;
    env.request_sync("acme", "daily").await;
    let daily = last_stats(&env.wait_ready("acme", Some("daily")).await);
    assert!(daily.incremental);
    let after_daily = env.jira_users("acme", "").await;
    assert_eq!(
        counts(&after_daily, "u-dave").worklogs,
        counts(&before, "u-dave").worklogs + 1
    );
    // The cache is stored beside the connection, owned by it.
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let index = configmaps.get("acme-sync-cache").await.expect("the index");
    assert_eq!(
        index.owner_references()[0].uid,
        first.uid().unwrap(),
        "owned by the connection"
    );

    // The same changes while the operator is down: the restarted operator's first sync costs what the daily
    // one did, and knows whose worklog was deleted.
    operator.stop().await;
    comment_and_delete("u-frank", "u-bob").await;
    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.request_sync("acme", "after-restart").await;
    let restarted = env.wait_ready("acme", Some("after-restart")).await;
    let stats = last_stats(&restarted);
    assert!(
        stats.incremental,
        "the restarted operator's first sync is incremental"
    );
    assert!(
        stats.api_requests <= daily.api_requests,
        "no more requests than the daily sync: {stats:?} vs {daily:?}"
    );
    let after = env.jira_users("acme", "").await;
    assert_eq!(
        counts(&after, "u-frank").comments,
        counts(&after_daily, "u-frank").comments + 1
    );
    assert_eq!(
        counts(&after, "u-bob").worklogs,
        counts(&after_daily, "u-bob").worklogs + 1,
        "the deletion counts for bob"
    );

    // A tenant points the index at a ConfigMap that is not a shard: the operator refuses it and runs a full
    // sync with the same figures, then stores its cache again.
    operator.stop().await;
    configmaps
        .patch(
            "acme-sync-cache",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"data": {"shards": "kube-root-ca.crt"}})),
        )
        .await
        .expect("patch the index");
    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.request_sync("acme", "tampered").await;
    let tampered = env.wait_ready("acme", Some("tampered")).await;
    assert!(!last_stats(&tampered).incremental, "a full sync");
    let again = env.jira_users("acme", "").await;
    assert_eq!(counts(&again, "u-frank"), counts(&after, "u-frank"));
    let index = configmaps.get("acme-sync-cache").await.expect("the index");
    let shards = index.data.unwrap_or_default()["shards"].clone();
    assert!(shards.starts_with("acme-sync-cache-"), "{shards}");
    operator.stop().await;
    sim.shutdown().await;
}
