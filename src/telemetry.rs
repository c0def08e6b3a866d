//! Logging: structured JSON (the default in a cluster) or human-readable text, filtered by a level directive.

use std::{fmt, io::IsTerminal, str::FromStr};
use tracing_subscriber::{EnvFilter, fmt::format::FmtSpan, prelude::*};

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, with the span fields (namespace, name) of the resource being reconciled.
    #[default]
    Json,
    /// Human-readable lines for local runs.
    Text,
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "json",
            Self::Text => "text",
        })
    }
}

/// A log filter was not understood.
#[derive(Debug, thiserror::Error)]
#[error("invalid log level {directive:?}: {source}")]
pub struct FilterError {
    directive: String,
    #[source]
    source: tracing_subscriber::filter::ParseError,
}

/// Parses a level or a filter directive (`info`, `debug`, `info,jira_cloud_operator=debug`).
pub fn filter(directive: &str) -> Result<EnvFilter, FilterError> {
    EnvFilter::from_str(directive).map_err(|source| FilterError {
        directive: directive.to_string(),
        source,
    })
}

/// Installs the global subscriber. Fails when a subscriber is already installed.
pub fn init(format: LogFormat, filter: EnvFilter) -> anyhow::Result<()> {
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_span_events(FmtSpan::NONE),
            )
            .try_init()?,
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .compact()
                    .with_ansi(std::io::stdout().is_terminal()),
            )
            .try_init()?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_directives_parse() {
        assert!(filter("info").is_ok());
        assert!(filter("warn,jira_cloud_operator=debug").is_ok());
        let err = filter("info,=[").unwrap_err();
        assert!(err.to_string().contains("invalid log level"), "{err}");
    }

    #[test]
    fn formats_print_as_their_flag_values() {
        assert_eq!(LogFormat::Json.to_string(), "json");
        assert_eq!(LogFormat::Text.to_string(), "text");
    }
}
