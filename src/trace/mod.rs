//! Recorded workloads: trace files in, an interned `sim::config::Trace` out.
//!
//! This layer reads files so that the core never has to: the scenario layer calls `load` for
//! each trace client while validating, and the engine replays the records. One module per format
//! turns the file into records (`csv_trace`, `monitor`, `oracle`, `lirs`, `time_id_size`) and
//! hands them to a `TraceBuilder` (`builder`), which interns key names in order of first
//! appearance and enforces the size limits; `input` opens the file, decompressing `.gz` on the
//! fly. Every problem is a `TraceError` naming the file and the line (the byte offset, for the
//! binary format); nothing here panics on bad input.
//!
//! Text and binary reads are linear and streaming: one pass, one reused line buffer, and an
//! allocation only for each new key name.

mod builder;
mod csv_rows;
mod csv_trace;
mod error;
mod input;
mod lirs;
mod monitor;
mod monitor_commands;
mod oracle;
mod time_id_size;

#[cfg(test)]
mod tests;

use std::path::Path;

use crate::sim::config::Trace;

pub use error::{Location, TraceError};
pub use input::LINE_BYTES_MAX;

use builder::TraceBuilder;

/// More requests than this are refused (each costs the simulator about 32 bytes).
pub const RECORDS_MAX: u64 = 200_000_000;
/// More distinct keys than this are refused.
pub const DISTINCT_KEYS_MAX: u64 = 50_000_000;
/// The largest value Redis accepts (`proto-max-bulk-len`); larger SETs in Redis formats are errors.
pub const VALUE_BYTES_MAX: u64 = 512 << 20;
/// TTLs are clamped to 10 years: no run is that long (30 days at most), so a longer TTL behaves
/// the same, and the engine's deadline arithmetic cannot overflow.
pub const TTL_MS_MAX: u64 = 10 * 365 * 86_400_000;

/// The file formats a trace can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TraceFormat {
    /// `t_ms,op,key,value_size,ttl_ms` with that header; SET, GET, DEL, EXPIRE.
    Csv,
    /// `redis-cli MONITOR` output.
    Monitor,
    /// libCacheSim's binary oracleGeneral: 24-byte little-endian records, reads only.
    OracleGeneral,
    /// One integer key per line (the LIRS traces), reads only, untimed.
    Lirs,
    /// `time,id,size` lines, no header, reads only.
    TimeIdSize,
}

impl TraceFormat {
    pub const ALL: [TraceFormat; 5] = [
        TraceFormat::Csv,
        TraceFormat::Monitor,
        TraceFormat::OracleGeneral,
        TraceFormat::Lirs,
        TraceFormat::TimeIdSize,
    ];

    /// The scenario spelling (`format = "oracle-general"`).
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Csv => "csv",
            TraceFormat::Monitor => "monitor",
            TraceFormat::OracleGeneral => "oracle-general",
            TraceFormat::Lirs => "lirs",
            TraceFormat::TimeIdSize => "time-id-size",
        }
    }

    /// A format by its scenario spelling, ignoring case.
    pub fn parse(text: &str) -> Option<TraceFormat> {
        TraceFormat::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(text))
    }

    /// Cache-research formats hold only reads: a read that misses inserts the object.
    pub fn is_read_through(self) -> bool {
        matches!(
            self,
            TraceFormat::OracleGeneral | TraceFormat::Lirs | TraceFormat::TimeIdSize
        )
    }

    /// Whether records carry their database (MONITOR's `[db client]`); the others use the
    /// client's.
    pub fn has_databases(self) -> bool {
        self == TraceFormat::Monitor
    }
}

/// A loaded trace and what the loader noticed on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedTrace {
    /// `source` is the path as given; records' `db` is 0 unless the format carries databases
    /// (`per_record_db`).
    pub trace: Trace,
    /// Valid lines that are not replayed (MONITOR commands other than reads, writes, deletes and
    /// expiries).
    pub skipped_lines: u64,
    /// The highest database a record uses, and the first line using it (MONITOR only).
    pub highest_db: Option<DatabaseUse>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseUse {
    pub db: u32,
    pub line: u64,
}

/// Reads the trace at `path` (decompressing it if the name ends in `.gz`).
pub fn load(path: &Path, format: TraceFormat) -> Result<LoadedTrace, TraceError> {
    let opened = input::open(path)?;
    let input = opened.input;
    let mut builder = TraceBuilder::new(&path.display().to_string());
    match format {
        TraceFormat::Csv => csv_trace::read(input, &mut builder)?,
        TraceFormat::Monitor => monitor::read(input, &mut builder)?,
        TraceFormat::OracleGeneral => oracle::read(input, opened.plain_bytes, &mut builder)?,
        TraceFormat::Lirs => lirs::read(input, &mut builder)?,
        TraceFormat::TimeIdSize => time_id_size::read(input, &mut builder)?,
    }
    builder.finish(format)
}

/// Reads the trace at `path`; `load` also reports skipped lines and databases.
pub fn load_trace(path: &Path, format: TraceFormat) -> Result<Trace, TraceError> {
    load(path, format).map(|loaded| loaded.trace)
}

/// The message for a time earlier than the one before it.
fn decreasing(
    what: &str,
    previous: impl std::fmt::Display,
    found: impl std::fmt::Display,
) -> String {
    format!("expected {what} of at least {previous} (times must not decrease), found {found}")
}

/// An unsigned decimal field, or the message saying what it should have been.
fn unsigned(field: &[u8], what: &str) -> Result<u64, String> {
    let text = field.trim_ascii();
    let parsed = std::str::from_utf8(text)
        .ok()
        .filter(|text| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()))
        .and_then(|text| text.parse::<u64>().ok());
    parsed.ok_or_else(|| format!("expected {what}, found {}", error::shown(field)))
}

/// A value size in bytes, at most `limit`.
fn size_at_most(field: &[u8], what: &str, limit: u64) -> Result<u32, String> {
    let expected = format!("{what} (an integer number of bytes, at most {limit})");
    unsigned(field, &expected)
        .ok()
        .filter(|bytes| *bytes <= limit)
        .and_then(|bytes| u32::try_from(bytes).ok())
        .ok_or_else(|| format!("expected {expected}, found {}", error::shown(field)))
}
