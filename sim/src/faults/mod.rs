//! Fault injection: rate limiting (429 with Jira's headers), server errors, latency (also the way to
//! make a site that hangs), dropped connections and a Server/Data Center disguise before a request is
//! processed (`limits`); answers lost after processing (`late`), empty users listings (`listing`), redirects
//! (`redirect`); the search index lag is read by the search routes. Set through `POST /__sim/faults`
//! or `SimHandle::set_faults`; control routes (`/__sim/...`) are never affected.

mod config;
mod engine;
mod late;
mod limits;
mod listing;
mod redirect;

pub use config::{
    AfterProcessingFault, DropFault, EmptyListingFault, Faults, RateLimitFault, RedirectFault,
    ServerErrorFault,
};
pub(crate) use engine::FaultEngine;
