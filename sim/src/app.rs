//! The application state every handler shares: the simulated site, counters, faults, the request log, the
//! search cache and the recent writes the search index lags behind.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use crate::faults::FaultEngine;
use crate::index_lag::RecentWrites;
use crate::received::RequestLog;
use crate::search_cache::SearchCache;
use crate::state::State;
use crate::stats::Collector;

/// State shared by every request.
pub(crate) struct Shared {
    pub(crate) state: RwLock<State>,
    pub(crate) stats: Collector,
    pub(crate) faults: FaultEngine,
    pub(crate) token_lifetime: Duration,
    pub(crate) search_cache: Mutex<SearchCache>,
    pub(crate) request_counter: std::sync::atomic::AtomicU64,
    pub(crate) received: RequestLog,
    pub(crate) recent_writes: Mutex<RecentWrites>,
}

/// Shared application state handed to handlers.
pub(crate) type App = Arc<Shared>;

/// Reads the state; the closure must not block.
pub(crate) fn read<R>(app: &App, f: impl FnOnce(&State) -> R) -> R {
    f(&app.state.read())
}
