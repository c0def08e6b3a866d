//! A [`SyncCache`] as a few compressed shards small enough for Kubernetes objects, and back.
//!
//! Each shard is gzip-compressed JSON of the accounts whose hash falls in it: an account's latest active day,
//! its day counts and the worklogs it wrote. The shard count is a power of two chosen from the cache's size and
//! doubled until every shard is under [`MAX_SHARD_BYTES`], so a shard fits a ConfigMap (1 MiB) with room to
//! spare. The same cache always gives the same shards (accounts and worklogs are sorted), so a writer can
//! skip the shards it wrote before. Reading back trusts nothing: a shard that inflates past
//! [`MAX_INFLATED_SHARD_BYTES`], does not parse, lists an account twice or days out of order is refused, and
//! the caller then runs a full sync.

use std::collections::HashMap;
use std::io::{Read, Write};

use chrono::{DateTime, Utc};
use flate2::{Compression, read::GzDecoder, write::GzEncoder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ActivityStore, DayCounts, SyncCache, WorklogAuthor};

/// Largest compressed shard written.
pub const MAX_SHARD_BYTES: usize = 768 * 1024;
/// Largest shard read back once inflated (a shard is refused beyond it).
pub const MAX_INFLATED_SHARD_BYTES: u64 = 64 << 20;
/// The uncompressed JSON one shard is planned to hold (JSON of day counts compresses about fourfold).
const PLANNED_SHARD_JSON: usize = 2 << 20;

/// A sync cache, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The Cloud ID of the site.
    pub cloud_id: String,
    /// The usage window the cache was built for.
    pub window_days: u32,
    /// Events before this instant have been counted.
    pub horizon: DateTime<Utc>,
    /// The compressed shards.
    pub shards: Vec<Vec<u8>>,
}

/// Why a snapshot could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A shard inflates past the limit.
    #[error("a shard inflates past {MAX_INFLATED_SHARD_BYTES} bytes")]
    TooLarge,
    /// A shard is not gzip-compressed JSON of the expected shape.
    #[error("a shard does not parse: {0}")]
    Malformed(String),
    /// The shards contradict themselves.
    #[error("the shards are inconsistent: {0}")]
    Inconsistent(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Shard {
    accounts: Vec<Account>,
}

/// An account as read back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Account {
    /// The account id.
    a: String,
    /// Latest active day (day number).
    #[serde(default)]
    l: Option<i32>,
    /// Day counts: day number, comments, changelog entries, worklogs.
    #[serde(default)]
    d: Vec<(i32, u32, u32, u32)>,
    /// Worklogs written: id, day number of the last update.
    #[serde(default)]
    w: Vec<(u64, i32)>,
}

/// An account as written, borrowed from the cache (a snapshot copies no day counts).
#[derive(Serialize)]
struct AccountOut<'a> {
    a: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    l: Option<i32>,
    #[serde(skip_serializing_if = "Days::is_empty")]
    d: Days<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    w: Vec<(u64, i32)>,
}

/// Day counts written as `[day, comments, changelog, worklogs]`.
struct Days<'a>(&'a [DayCounts]);

impl Days<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Days<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.0
                .iter()
                .map(|c| (c.day, c.comments, c.changelog, c.worklogs)),
        )
    }
}

/// An account to write, with the hash that picks its shard.
struct Written<'a> {
    hash: u64,
    account: AccountOut<'a>,
}

impl SyncCache {
    /// The cache as shards of at most [`MAX_SHARD_BYTES`].
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_within(PLANNED_SHARD_JSON, MAX_SHARD_BYTES)
    }

    fn snapshot_within(&self, planned_json: usize, max_shard: usize) -> Snapshot {
        let mut worklogs: Vec<Vec<(u64, i32)>> = vec![Vec::new(); self.activity.len()];
        for (id, author) in &self.worklog_authors {
            worklogs[author.account as usize].push((*id, author.day));
        }
        let mut estimate = 0;
        let mut accounts: Vec<Written> = Vec::new();
        for (i, account, last, days) in self.activity.entries() {
            let w = &mut worklogs[i as usize];
            if last.is_none() && days.is_empty() && w.is_empty() {
                continue;
            }
            w.sort_unstable();
            estimate += account.len() + 24 + days.len() * 24 + w.len() * 20;
            accounts.push(Written {
                hash: hash(account),
                account: AccountOut {
                    a: account,
                    l: last,
                    d: Days(days),
                    w: std::mem::take(w),
                },
            });
        }
        let mut count = estimate.div_ceil(planned_json).max(1).next_power_of_two();
        loop {
            let shards: Vec<Vec<u8>> = (0..count).map(|i| shard(&accounts, count, i)).collect();
            if count >= accounts.len() || shards.iter().all(|s| s.len() <= max_shard) {
                return Snapshot {
                    cloud_id: self.cloud_id.clone(),
                    window_days: self.window_days,
                    horizon: self.horizon,
                    shards,
                };
            }
            count *= 2;
        }
    }

    /// The cache a snapshot holds.
    pub fn from_snapshot(snapshot: &Snapshot) -> Result<SyncCache, SnapshotError> {
        let mut activity = ActivityStore::default();
        let mut worklog_authors = HashMap::new();
        for bytes in &snapshot.shards {
            let mut json = Vec::new();
            GzDecoder::new(bytes.as_slice())
                .take(MAX_INFLATED_SHARD_BYTES + 1)
                .read_to_end(&mut json)
                .map_err(|e| SnapshotError::Malformed(e.to_string()))?;
            if json.len() as u64 > MAX_INFLATED_SHARD_BYTES {
                return Err(SnapshotError::TooLarge);
            }
            let shard: Shard = serde_json::from_slice(&json)
                .map_err(|e| SnapshotError::Malformed(e.to_string()))?;
            drop(json);
            for account in shard.accounts {
                restore(&mut activity, &mut worklog_authors, account)?;
            }
        }
        Ok(SyncCache {
            cloud_id: snapshot.cloud_id.clone(),
            window_days: snapshot.window_days,
            horizon: snapshot.horizon,
            activity,
            worklog_authors,
        })
    }
}

fn restore(
    activity: &mut ActivityStore,
    worklog_authors: &mut HashMap<u64, WorklogAuthor>,
    account: Account,
) -> Result<(), SnapshotError> {
    if activity.index(&account.a).is_some() {
        return Err(SnapshotError::Inconsistent(format!(
            "account {} is listed twice",
            account.a
        )));
    }
    if account.d.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(SnapshotError::Inconsistent(format!(
            "the days of account {} are not in order",
            account.a
        )));
    }
    let days = account
        .d
        .into_iter()
        .map(|(day, comments, changelog, worklogs)| DayCounts {
            day,
            comments,
            changelog,
            worklogs,
        })
        .collect();
    let idx = activity.restore(&account.a, account.l, days);
    for (id, day) in account.w {
        let author = WorklogAuthor { account: idx, day };
        if worklog_authors.insert(id, author).is_some() {
            return Err(SnapshotError::Inconsistent(format!(
                "worklog {id} has two authors"
            )));
        }
    }
    Ok(())
}

/// A stable hash of an account id, which picks its shard.
fn hash(account: &str) -> u64 {
    let digest = Sha256::digest(account.as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Shard `index` of `count`: the accounts whose hash falls in it, sorted by id, as compressed JSON.
fn shard(accounts: &[Written], count: usize, index: usize) -> Vec<u8> {
    let mut mine: Vec<&AccountOut> = accounts
        .iter()
        .filter(|w| (w.hash % count as u64) as usize == index)
        .map(|w| &w.account)
        .collect();
    mine.sort_unstable_by(|a, b| a.a.cmp(b.a));
    #[derive(Serialize)]
    struct ShardOut<'a> {
        accounts: Vec<&'a AccountOut<'a>>,
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    serde_json::to_writer(&mut encoder, &ShardOut { accounts: mine }).expect("JSON of plain data");
    encoder.flush().expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

#[cfg(test)]
mod tests;
