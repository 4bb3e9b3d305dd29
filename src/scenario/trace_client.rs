//! `[[client]]` tables with `trace = "path"`: a recorded workload replayed instead of a
//! generated one.
//!
//! The trace is read here, while validating, so that a broken trace is refused before a run
//! starts, at the `trace` field's line, with the trace's own line in the message. A trace client
//! takes `format` (required), `rate` (the pace of an untimed trace only), `on-miss` (by default
//! "set" for the read-only formats of cache research), `db` (not for MONITOR, whose lines carry
//! their database), `start` and `stop`, and like any client `read-from` and its connection
//! (`discovery`, `wait`; set in `validate`); the fields of a generated workload do not apply. The
//! client's generated-workload fields are filled with harmless values, since the engine replays
//! `ClientConfig::trace` instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::Spanned;

use super::check::{because, keyword, mismatch, number_where, required, text, Checked};
use super::error::Problem;
use super::raw::{Field, RawClient, Table};
use super::validate::{on_miss, Common, FIELDS_DEFAULT, RATE_MAX, VALUE_BYTES_DEFAULT};
use crate::sim::config::{
    Arrivals, ClientConfig, CommandKind, KeyspaceConfig, OnMiss, Popularity, Trace, ValueSize,
    MICROS_PER_SECOND,
};
use crate::sim::engine::workload::UNTIMED_TRACE_RATE;
use crate::trace::{self, LoadedTrace, TraceError, TraceFormat};

/// Where trace paths are relative to: the scenario file's folder.
pub(crate) struct TraceFiles {
    folder: PathBuf,
}

impl TraceFiles {
    pub fn relative_to(folder: &Path) -> Self {
        TraceFiles {
            folder: folder.to_path_buf(),
        }
    }

    fn load(&self, path: &str, format: TraceFormat) -> Result<LoadedTrace, TraceError> {
        trace::load(&self.folder.join(path), format)
    }
}

pub(super) fn client(
    path: &str,
    raw: &Spanned<Table<RawClient>>,
    common: Common,
    trace_field: &Field,
    files: &TraceFiles,
    databases: u32,
) -> Checked<ClientConfig> {
    let fields = raw.get_ref();
    let at = |name: &str| format!("{path}.{name}");
    let trace_path = text(trace_field, &at("trace"), "a trace file path")?;
    if trace_path.is_empty() {
        return Err(mismatch(trace_field, &at("trace"), "a trace file path"));
    }
    let generated = [
        ("keyspace", fields.keyspace.as_ref().map(Spanned::span)),
        ("commands", fields.commands.as_ref().map(Spanned::span)),
        ("value-size", fields.value_size.as_ref().map(Spanned::span)),
        ("ttl", fields.ttl.as_ref().map(Spanned::span)),
        ("rate-kind", fields.rate_kind.as_ref().map(Spanned::span)),
        ("fields", fields.fields.as_ref().map(Spanned::span)),
    ];
    if let Some((name, Some(span))) = generated.into_iter().find(|(_, span)| span.is_some()) {
        return Err(Problem::new(
            span,
            at(name),
            format!(
                "`{name}` does not apply to a client with trace = {trace_path:?}: it replays \
                 the recorded requests"
            ),
        ));
    }
    let names = TraceFormat::ALL.map(TraceFormat::name);
    let format_field = required(
        &fields.format,
        &raw.span(),
        path,
        "format",
        &format!("trace needs format: one of {}", names.join(", ")),
    )?;
    let name = keyword(format_field, &at("format"), &names)?;
    let format = TraceFormat::parse(name)
        .ok_or_else(|| mismatch(format_field, &at("format"), "a trace format"))?;
    if let (true, Some(db)) = (format.has_databases(), &fields.db) {
        return Err(Problem::new(
            db.span(),
            at("db"),
            "`db` does not apply to format = \"monitor\": MONITOR lines carry their database",
        ));
    }
    let rate = fields
        .rate
        .as_ref()
        .map(|field| {
            number_where(
                field,
                &at("rate"),
                format!(
                    "a positive number of requests per second for an untimed trace (at most \
                     {RATE_MAX})"
                ),
                |rate| rate > 0.0 && rate <= RATE_MAX,
            )
        })
        .transpose()?;
    let default_on_miss = if format.is_read_through() {
        OnMiss::Set
    } else {
        OnMiss::None
    };
    let on_miss = on_miss(&fields.on_miss, &at("on-miss"), default_on_miss)?;
    let loaded = files.load(trace_path, format).map_err(|error| {
        Problem::new(
            trace_field.span(),
            at("trace"),
            format!("cannot load the trace: {error}"),
        )
    })?;
    if let Some(used) = loaded.highest_db {
        if used.db >= databases {
            return Err(because(
                mismatch(
                    trace_field,
                    &at("trace"),
                    format!(
                        "a trace using databases 0 to {} (databases = {})",
                        databases.saturating_sub(1),
                        databases
                    ),
                ),
                format!("its line {} uses database {}", used.line, used.db),
            ));
        }
    }
    let mut trace = loaded.trace;
    // The engine paces an untimed trace by the client's rate: record k at k / rate seconds.
    let untimed = trace.records.iter().all(|record| record.time_us == 0);
    let rate = match (untimed, rate) {
        (true, rate) => rate.unwrap_or(UNTIMED_TRACE_RATE),
        (false, None) => mean_rate(&trace),
        (false, Some(_)) => {
            let span = fields.rate.as_ref().map_or(raw.span(), Spanned::span);
            return Err(Problem::new(
                span,
                at("rate"),
                "`rate` does not apply to this trace: its records carry their own times (rate \
                 paces untimed traces, such as lirs)",
            ));
        }
    };
    trace.source = trace_path.to_string();
    trace.read_through = on_miss == OnMiss::Set;
    let keys = trace.key_names.len() as u64;
    Ok(ClientConfig {
        name: common.name,
        rate,
        arrivals: Arrivals::Fixed,
        db: common.db,
        start_us: common.start_us,
        stop_us: common.stop_us,
        keyspace: KeyspaceConfig {
            keys,
            prefix: String::new(),
            popularity: Popularity::Uniform,
        },
        commands: vec![(CommandKind::Get, 1)],
        value_size: ValueSize::Fixed(VALUE_BYTES_DEFAULT),
        ttl: None,
        on_miss,
        fields: FIELDS_DEFAULT,
        trace: Some(Arc::new(trace)),
        read_from: crate::sim::config::ReadFrom::Primary,
        connection: crate::sim::config::ConnectionConfig::default(),
    })
}

/// Requests per second over the trace's span, for reports.
fn mean_rate(trace: &Trace) -> f64 {
    let span_us = trace
        .records
        .last()
        .map_or(0, |record| record.time_us)
        .max(1);
    trace.records.len() as f64 * MICROS_PER_SECOND as f64 / span_us as f64
}
