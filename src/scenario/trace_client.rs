//! `[[client]]` tables with `trace = "path"`: a recorded workload replayed instead of a
//! generated one.
//!
//! The trace is read here, while validating, so that a broken trace is refused before a run
//! starts, at the `trace` field's line, with the trace's own line in the message. A trace client
//! takes `format` (required), `rate` (the pace of an untimed trace only), `on-miss` (by default
//! "set" for the read-only formats of cache research), `db` (not for MONITOR, whose lines carry
//! their database), `start` and `stop`, and like any client `read-from` and its connection
//! (`discovery`, `wait`); the fields of a generated workload do not apply. `validate` reads what
//! every client has and calls `workload` here for the rest.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use toml::Spanned;

use super::check::{because, mismatch, rate, required, text, Checked};
use super::error::Problem;
use super::keywords::{choice, optional_choice, Keywords, ON_MISS};
use super::raw::{Field, RawClient, Table};
use crate::sim::config::{OnMiss, Trace, TraceWorkload};
use crate::sim::keyspace::keys::PREFIX_SEPARATOR;
use crate::trace::{self, DatabaseUse, TraceError, TraceFormat};

/// Pace of a trace without timestamps when the client names no `rate`, requests per second.
const UNTIMED_RATE_DEFAULT: f64 = 1000.0;

/// Where trace paths are relative to: the scenario file's folder; and the traces already read.
pub(crate) struct TraceFiles<'c> {
    folder: PathBuf,
    cache: &'c TraceCache,
}

/// Traces read so far, shared by the parses of one grid's variants: a sweep over maxmemory
/// parses the scenario once per size, and reading a 10 M-request trace once per variant cost
/// the load time and the trace's memory again each time (8 copies for an 8-point curve).
#[derive(Default)]
pub struct TraceCache {
    loaded: Mutex<Vec<Cached>>,
}

/// One trace as a client uses it: the file, its format, and the two fields the client sets.
struct Cached {
    file: PathBuf,
    format: TraceFormat,
    source: String,
    read_through: bool,
    prefix_separator: String,
    highest_db: Option<DatabaseUse>,
    trace: Arc<Trace>,
}

impl TraceCache {
    fn find(
        &self,
        file: &Path,
        format: TraceFormat,
        source: &str,
        read_through: bool,
        prefix_separator: &str,
    ) -> Option<(Option<DatabaseUse>, Arc<Trace>)> {
        let loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        loaded
            .iter()
            .find(|c| {
                c.file == file
                    && c.format == format
                    && c.source == source
                    && c.read_through == read_through
                    && c.prefix_separator == prefix_separator
            })
            .map(|c| (c.highest_db, c.trace.clone()))
    }

    fn keep(&self, entry: Cached) {
        self.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }
}

impl<'c> TraceFiles<'c> {
    pub fn relative_to(folder: &Path, cache: &'c TraceCache) -> Self {
        TraceFiles {
            folder: folder.to_path_buf(),
            cache,
        }
    }

    /// The trace at `path` as a client with these `source`, `read_through` and
    /// `prefix_separator` (None: the default) replays it, read once per cache.
    fn load(
        &self,
        path: &str,
        format: TraceFormat,
        read_through: bool,
        prefix_separator: Option<String>,
    ) -> Result<(Option<DatabaseUse>, Arc<Trace>), TraceError> {
        let file = self.folder.join(path);
        let separator = prefix_separator.unwrap_or_else(|| PREFIX_SEPARATOR.to_string());
        if let Some(found) = self
            .cache
            .find(&file, format, path, read_through, &separator)
        {
            return Ok(found);
        }
        let loaded = trace::load(&file, format)?;
        let mut trace = loaded.trace;
        trace.source = path.to_string();
        trace.read_through = read_through;
        trace.prefix_separator = separator.clone();
        let trace = Arc::new(trace);
        self.cache.keep(Cached {
            file,
            format,
            source: path.to_string(),
            read_through,
            prefix_separator: separator,
            highest_db: loaded.highest_db,
            trace: trace.clone(),
        });
        Ok((loaded.highest_db, trace))
    }
}

/// The replayed workload of the client at `path`, whose `trace` field is `trace_field`.
pub(super) fn workload(
    path: &str,
    raw: &Spanned<Table<RawClient>>,
    trace_field: &Field,
    files: &TraceFiles,
    databases: u32,
) -> Checked<TraceWorkload> {
    let fields = raw.get_ref();
    let at = |name: &str| format!("{path}.{name}");
    let trace_path = text(trace_field, &at("trace"), "a trace file path")?;
    if trace_path.is_empty() {
        return Err(mismatch(trace_field, &at("trace"), "a trace file path"));
    }
    reject_generated_fields(path, fields, trace_path)?;
    let format = format(path, raw)?;
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
            rate(
                field,
                &at("rate"),
                "requests per second for an untimed trace",
            )
        })
        .transpose()?;
    let on_miss_default = if format.is_read_through() {
        OnMiss::Set
    } else {
        OnMiss::None
    };
    let on_miss = optional_choice(&fields.on_miss, &at("on-miss"), &ON_MISS, on_miss_default)?;
    let read_through = on_miss == OnMiss::Set;
    let separator = fields
        .prefix_separator
        .as_ref()
        .map(|field| prefix_separator(field, &at("prefix-separator")))
        .transpose()?;
    let (highest_db, trace) = files
        .load(trace_path, format, read_through, separator)
        .map_err(|error| {
            Problem::new(
                trace_field.span(),
                at("trace"),
                format!("cannot load the trace: {error}"),
            )
        })?;
    check_databases(path, trace_field, highest_db, databases)?;
    let rate = pace(path, raw, &trace, rate)?;
    Ok(TraceWorkload { trace, rate })
}

/// Longest `prefix-separator`, in bytes.
const SEPARATOR_BYTES_MAX: usize = 16;

/// A trace client's `prefix-separator`: a non-empty string of at most 16 bytes.
fn prefix_separator(field: &Field, path: &str) -> Checked<String> {
    let expected = "a prefix separator (a string of 1 to 16 bytes, such as \":\" or \"/\")";
    let separator = text(field, path, expected)?;
    if separator.is_empty() || separator.len() > SEPARATOR_BYTES_MAX {
        return Err(mismatch(field, path, expected));
    }
    Ok(separator.to_string())
}

/// Refuses the fields only a generated workload reads.
fn reject_generated_fields(path: &str, fields: &RawClient, trace_path: &str) -> Checked<()> {
    let generated: [(&str, Option<Range<usize>>); 6] = [
        ("keyspace", fields.keyspace.as_ref().map(Spanned::span)),
        ("commands", fields.commands.as_ref().map(Spanned::span)),
        ("value-size", fields.value_size.as_ref().map(Spanned::span)),
        ("ttl", fields.ttl.as_ref().map(Spanned::span)),
        ("rate-kind", fields.rate_kind.as_ref().map(Spanned::span)),
        ("fields", fields.fields.as_ref().map(Spanned::span)),
    ];
    match generated
        .into_iter()
        .find_map(|(name, span)| Some((name, span?)))
    {
        None => Ok(()),
        Some((name, span)) => Err(Problem::new(
            span,
            format!("{path}.{name}"),
            format!(
                "`{name}` does not apply to a client with trace = {trace_path:?}: it replays \
                 the recorded requests"
            ),
        )),
    }
}

/// The trace's `format`, which a trace client must give.
fn format(path: &str, raw: &Spanned<Table<RawClient>>) -> Checked<TraceFormat> {
    let formats: [(&str, TraceFormat); 5] = TraceFormat::ALL.map(|format| (format.name(), format));
    let format_field = required(
        &raw.get_ref().format,
        &raw.span(),
        path,
        "format",
        &format!(
            "trace needs format: one of {}",
            super::keywords::names(&formats).join(", ")
        ),
    )?;
    choice(
        format_field,
        &format!("{path}.format"),
        &formats as &Keywords<_>,
    )
}

/// Refuses a MONITOR trace that uses more databases than the server has.
fn check_databases(
    path: &str,
    trace_field: &Field,
    highest_db: Option<DatabaseUse>,
    databases: u32,
) -> Checked<()> {
    let Some(used) = highest_db else {
        return Ok(());
    };
    if used.db < databases {
        return Ok(());
    }
    Err(because(
        mismatch(
            trace_field,
            &format!("{path}.trace"),
            format!(
                "a trace using databases 0 to {} (databases = {})",
                databases.saturating_sub(1),
                databases
            ),
        ),
        format!("its line {} uses database {}", used.line, used.db),
    ))
}

/// The pace of an untimed trace (every record at time 0): the client's `rate`, or the default.
/// A timed trace keeps its records' times, and a `rate` for it is refused.
fn pace(
    path: &str,
    raw: &Spanned<Table<RawClient>>,
    trace: &Trace,
    rate: Option<f64>,
) -> Checked<Option<f64>> {
    let untimed = trace.records.untimed();
    match (untimed, rate) {
        (true, rate) => Ok(Some(rate.unwrap_or(UNTIMED_RATE_DEFAULT))),
        (false, None) => Ok(None),
        (false, Some(_)) => {
            let span = raw
                .get_ref()
                .rate
                .as_ref()
                .map_or(raw.span(), Spanned::span);
            Err(Problem::new(
                span,
                format!("{path}.rate"),
                "`rate` does not apply to this trace: its records carry their own times (rate \
                 paces untimed traces, such as lirs)",
            ))
        }
    }
}
