//! Logging: structured JSON (the default in a cluster) or human-readable text, filtered by a level directive.
//!
//! A JSON line is one flat object: `timestamp`, `level`, `target`, the fields of every enclosing span (outermost
//! first, inner ones win; so a reconcile's `namespace` and `name` are top-level keys), `spans` (the span names,
//! `outer:inner`), then the event's own fields, `message` included. tracing-subscriber's own JSON format nests
//! span fields next to the span's name under the same `name` key, which would hide the resource's name.

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};
use std::{fmt, io::IsTerminal, str::FromStr};
use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    EnvFilter,
    fmt::{
        FmtContext, FormatEvent, FormattedFields, MakeWriter,
        format::{JsonFields, Writer},
    },
    prelude::*,
    registry::LookupSpan,
};

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

/// Installs the global subscriber, writing to stdout. Fails when a subscriber is already installed.
pub fn init(format: LogFormat, filter: EnvFilter) -> anyhow::Result<()> {
    subscriber(
        format,
        filter,
        std::io::stdout,
        std::io::stdout().is_terminal(),
    )
    .try_init()?;
    Ok(())
}

/// The subscriber of [`init`], writing to `writer` (colours only in text with `ansi`).
fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
    ansi: bool,
) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let registry = tracing_subscriber::registry().with(filter);
    let (json, text) = match format {
        LogFormat::Json => (
            Some(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(FlatJson)
                    .with_writer(writer),
            ),
            None,
        ),
        LogFormat::Text => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .compact()
                    .with_ansi(ansi)
                    .with_writer(writer),
            ),
        ),
    };
    registry.with(json).with(text)
}

/// The flat JSON line format (see the module documentation).
struct FlatJson;

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Utc::now()
                .to_rfc3339_opts(SecondsFormat::Micros, true)
                .into(),
        );
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        if let Some(scope) = ctx.event_scope() {
            let mut names = Vec::new();
            for span in scope.from_root() {
                names.push(span.name());
                let extensions = span.extensions();
                let fields = extensions
                    .get::<FormattedFields<JsonFields>>()
                    .map(|f| f.as_str())
                    .unwrap_or("");
                if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) {
                    line.extend(fields);
                }
            }
            line.insert("spans".into(), names.join(":").into());
        }
        event.record(&mut Fields(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Records an event's fields into a JSON object.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    fn capture(format: LogFormat, emit: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let subscriber = subscriber(format, filter("info").unwrap(), buffer.clone(), false);
        tracing::subscriber::with_default(subscriber, emit);
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn json_lines_carry_the_resource_namespace_and_name_at_the_top_level() {
        let out = capture(LogFormat::Json, || {
            let outer = tracing::info_span!("reconciling object", object.reason = "object updated");
            let _outer = outer.enter();
            let inner = tracing::info_span!("reconcile", namespace = "it-saas", name = "acme");
            let _inner = inner.enter();
            tracing::info!(users = 812_u64, ready = true, "sync complete");
            tracing::debug!("filtered out");
        });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "{out}");
        let line: Value = serde_json::from_str(lines[0]).expect("one JSON object per line");
        assert_eq!(line["namespace"], "it-saas");
        assert_eq!(line["name"], "acme");
        assert_eq!(line["object.reason"], "object updated");
        assert_eq!(line["spans"], "reconciling object:reconcile");
        assert_eq!(line["message"], "sync complete");
        assert_eq!(line["users"], 812);
        assert_eq!(line["ready"], true);
        assert_eq!(line["level"], "INFO");
        assert!(
            line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
    }

    #[test]
    fn text_lines_are_plain_without_colours() {
        let out = capture(LogFormat::Text, || {
            let span = tracing::info_span!("reconcile", namespace = "it-saas", name = "acme");
            let _span = span.enter();
            tracing::warn!(error = "boom", "sync failed");
        });
        assert!(
            out.contains("WARN") && out.contains("sync failed") && out.contains("name=\"acme\""),
            "{out}"
        );
        assert!(!out.contains('\u{1b}'), "{out:?}");
    }

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
