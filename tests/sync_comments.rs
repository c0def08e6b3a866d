//! Comments come with the issue search when its embedded page holds all of them; only the issues with more
//! comments than that page are read with `issue/{id}/comment`. Either way the comment counts per user per day
//! are the ones the simulator's comments give.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use jira_cloud_operator::jira::time::day_number;
use jira_cloud_operator::jira::{JiraClient, RequestStats};
use jira_cloud_operator::sync::{self, SyncOptions, SyncOutcome};
use jira_sim::SimHandle;
use jira_sim::routes::EMBEDDED_COMMENTS;
use testkit::sim::*;

const COMMENT_PAGES: &str = "GET /rest/api/3/issue/{id}/comment";
const SEARCH: &str = "POST /rest/api/3/search/jql";

fn requests(d: &RequestStats, endpoint: &str) -> u64 {
    d.by_endpoint.get(endpoint).map_or(0, |e| e.requests)
}

/// (account, day number) -> comments created or edited that day in `[from, to)`, from the simulator's state:
/// a comment counts for its author on its creation and for its last editor on its last edit.
fn expected(
    sim: &SimHandle,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<(String, i32), u32> {
    let (lo, hi) = (from.timestamp_millis(), to.timestamp_millis());
    sim.with_state(|st| {
        let mut out = BTreeMap::new();
        let mut count = |who: Option<u32>, at: i64| {
            if let Some(who) = who
                && (lo..hi).contains(&at)
            {
                let day = day_number(DateTime::from_timestamp_millis(at).unwrap().date_naive());
                let account = st.users[who as usize].account_id.clone();
                *out.entry((account, day)).or_insert(0) += 1;
            }
        };
        for c in st.comments.iter().filter(|c| !c.deleted) {
            count(c.author, c.created_ms);
            if c.updated_ms != c.created_ms {
                count(c.update_author, c.updated_ms);
            }
        }
        out
    })
}

/// The comment counts a sync keeps, as [`expected`] gives them.
fn counted(out: &SyncOutcome) -> BTreeMap<(String, i32), u32> {
    out.cache
        .activity()
        .iter()
        .flat_map(|(account, days)| {
            days.iter()
                .filter(|d| d.comments > 0)
                .map(move |d| ((account.to_owned(), d.day), d.comments))
        })
        .collect()
}

/// A 30-day sync at `now`, incremental from `cache` when given.
async fn sync_at(
    client: &JiraClient,
    now: DateTime<Utc>,
    cache: Option<sync::SyncCache>,
) -> SyncOutcome {
    sync::run(
        client,
        &SyncOptions {
            window_days: 30,
            now,
        },
        cache,
    )
    .await
    .expect("the sync")
}

fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    sync::window_for(now, 30)
        .0
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
}

/// Adds a comment to `issue` by `author` at `at`, edited by `editor` at `edited` if given.
fn comment(
    sim: &SimHandle,
    issue: &str,
    author: &str,
    at: DateTime<Utc>,
    edit: Option<(&str, DateTime<Utc>)>,
) {
    sim.with_state(|st| {
        let ix = st.issue_ref(issue).expect("the issue");
        let who = st.user_by_account(author);
        st.add_comment(ix, who, "a comment".into(), at.timestamp_millis());
        if let Some((editor, when)) = edit {
            let editor = st.user_by_account(editor);
            let c = st.comments.last_mut().expect("the comment");
            c.update_author = editor;
            c.updated_ms = when.timestamp_millis();
            let issue = st.issues[ix as usize].as_mut().expect("live issue");
            issue.updated_ms = issue.updated_ms.max(when.timestamp_millis());
        }
    });
}

#[tokio::test]
async fn comments_that_fit_the_embedded_page_need_no_comment_request() {
    let sim = start(handwritten()).await;
    let now = Utc::now();
    // A third comment on a small issue, edited by someone else later.
    comment(
        &sim,
        "ENG-3",
        "u-carol",
        now - Duration::days(6),
        Some(("u-alice", now - Duration::hours(3))),
    );
    let client = JiraClient::connect(classic_admin(&sim)).await.unwrap();
    let before = client.request_stats();
    let out = sync_at(&client, now, None).await;
    let delta = client.request_stats().since(&before);
    assert_eq!(requests(&delta, COMMENT_PAGES), 0, "{delta:?}");
    assert_eq!(
        requests(&delta, SEARCH),
        1,
        "one search page holds the issues and their comments"
    );
    let want = expected(&sim, window_start(now), out.cache.horizon());
    assert_eq!(
        want.values().sum::<u32>(),
        6,
        "alice 1d, bob 3d + his edit 2d, the app 1d, carol 6d + alice's edit; not frank's 45-day-old comment"
    );
    assert_eq!(counted(&out), want);
    sim.shutdown().await;
}

#[tokio::test]
async fn issues_with_more_comments_than_the_embedded_page_are_paged_full_and_incremental() {
    let sim = start(handwritten()).await;
    let now = Utc::now();
    let first_now = now - Duration::minutes(10);
    // ENG-1: 150 comments before the window, then 100 in it (some edited), besides its three: 253 in all, far
    // more than the search embeds. Newest first, the first comment page holds 100 of the 102 in the window,
    // the second reaches the old ones: two pages, not three.
    let users = ["u-alice", "u-bob", "u-carol", "u-dave", "u-frank"];
    for i in 0..150 {
        comment(
            &sim,
            "ENG-1",
            users[i % users.len()],
            first_now - Duration::days(40) - Duration::minutes(i as i64),
            None,
        );
    }
    for i in 0..100 {
        let at = first_now - Duration::hours(1) - Duration::minutes(7 * i as i64);
        let edit = (i % 10 == 0).then(|| (users[(i + 1) % users.len()], at + Duration::minutes(3)));
        comment(&sim, "ENG-1", users[i % users.len()], at, edit);
    }
    let total = sim.with_state(|st| st.issue(st.issue_ref("ENG-1").unwrap()).comments.len());
    assert!(total > EMBEDDED_COMMENTS);
    let client = JiraClient::connect(classic_admin(&sim)).await.unwrap();
    let before = client.request_stats();
    let first = sync_at(&client, first_now, None).await;
    let delta = client.request_stats().since(&before);
    assert_eq!(
        requests(&delta, COMMENT_PAGES),
        2,
        "only ENG-1 is paged, and only until its comments before the window: {delta:?}"
    );
    let want = expected(&sim, window_start(first_now), first.cache.horizon());
    assert_eq!(want.values().sum::<u32>(), 100 + 10 + 3 + 1);
    assert_eq!(counted(&first), want);

    // After the first sync: a comment on ENG-1 (paged: one page reaches what the first sync saw) and one on
    // ENG-3 (embedded), an edit of an older comment on ENG-3.
    comment(&sim, "ENG-1", "u-dave", now - Duration::minutes(5), None);
    comment(
        &sim,
        "ENG-3",
        "u-frank",
        now - Duration::minutes(4),
        Some(("u-carol", now - Duration::minutes(3))),
    );
    let before = client.request_stats();
    let second = sync_at(&client, now, Some(first.cache.clone())).await;
    let delta = client.request_stats().since(&before);
    assert!(second.stats.incremental);
    assert_eq!(requests(&delta, COMMENT_PAGES), 1, "{delta:?}");
    assert_eq!(requests(&delta, SEARCH), 1, "{delta:?}");
    let want = expected(&sim, window_start(now), second.cache.horizon());
    assert_eq!(want.values().sum::<u32>(), 100 + 10 + 3 + 1 + 3);
    assert_eq!(counted(&second), want);

    // A full sync from scratch counts the same.
    let full = sync_at(&client, now, None).await;
    assert_eq!(counted(&full), want);
    sim.shutdown().await;
}
