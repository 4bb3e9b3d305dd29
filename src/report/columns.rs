//! The columns of a run's figures, defined once: the name files give each, how its value comes
//! from [`Figures`], how CSV and JSON write it, and how `vanish merge` reads it back.
//! `sweep.csv`, `sweep.json`, `compare.csv` and `compare.json` each pick their columns from here.

use serde_json::{json, Map, Value};

use crate::grid::Figures;
use crate::report::json::by_cause;
use crate::report::{cause_columns, ratio};
use crate::sim::ledger::{Cause, PerCause};

/// A figure of a run, as a column of the files that list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Maxmemory,
    MaxmemoryPolicy,
    Reads,
    Hits,
    Misses,
    HitRatio,
    MissesByCause,
    EvictedKeys,
    ExpiredKeys,
    OomRejected,
    KeysLost,
    AcknowledgedWrites,
    AcknowledgedWritesLost,
    LossRate,
    PeakUsedMemory,
}

/// How a column's value is held in [`Figures`].
enum Cell {
    /// A count; read back as a whole number.
    Count(fn(&Figures) -> u64, fn(&mut Figures) -> &mut u64),
    Text(fn(&Figures) -> &str, fn(&mut Figures) -> &mut String),
    /// Derived from counts and written with six decimals; not read back.
    Ratio(fn(&Figures) -> f64),
    /// One count per cause: a CSV column per cause (`misses_expired`, ...), a JSON object of
    /// the causes with a non-zero count.
    PerCause(
        fn(&Figures) -> &PerCause<u64>,
        fn(&mut Figures) -> &mut PerCause<u64>,
    ),
}

/// What the one-pass curve (`--fast`) knows of a column.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Always,
    /// Only a full run knows it: empty in CSV and null in JSON for a `--fast` row.
    FullRunOnly,
}

struct Spec {
    name: &'static str,
    cell: Cell,
    known: Known,
}

impl Column {
    /// `sweep.csv`'s figures, after the run and the varied values.
    pub const SWEEP_CSV: [Column; 14] = [
        Column::Maxmemory,
        Column::MaxmemoryPolicy,
        Column::Reads,
        Column::Hits,
        Column::Misses,
        Column::HitRatio,
        Column::MissesByCause,
        Column::EvictedKeys,
        Column::ExpiredKeys,
        Column::OomRejected,
        Column::KeysLost,
        Column::AcknowledgedWrites,
        Column::AcknowledgedWritesLost,
        Column::PeakUsedMemory,
    ];

    /// Every column, as `sweep.json` lists a run's figures (its object keys are sorted, so
    /// the order here does not show).
    pub const ALL: [Column; 15] = [
        Column::Maxmemory,
        Column::MaxmemoryPolicy,
        Column::Reads,
        Column::Hits,
        Column::Misses,
        Column::HitRatio,
        Column::MissesByCause,
        Column::EvictedKeys,
        Column::ExpiredKeys,
        Column::OomRejected,
        Column::KeysLost,
        Column::AcknowledgedWrites,
        Column::AcknowledgedWritesLost,
        Column::LossRate,
        Column::PeakUsedMemory,
    ];

    /// `compare.csv`'s figures, after the variant.
    pub const COMPARE_CSV: [Column; 14] = [
        Column::Maxmemory,
        Column::MaxmemoryPolicy,
        Column::Reads,
        Column::Hits,
        Column::Misses,
        Column::HitRatio,
        Column::MissesByCause,
        Column::EvictedKeys,
        Column::ExpiredKeys,
        Column::OomRejected,
        Column::PeakUsedMemory,
        Column::AcknowledgedWrites,
        Column::AcknowledgedWritesLost,
        Column::LossRate,
    ];

    fn spec(self) -> Spec {
        use Cell::{Count, Ratio, Text};
        use Known::{Always, FullRunOnly};
        let (name, cell, known) = match self {
            Column::Maxmemory => (
                "maxmemory",
                Count(|f| f.maxmemory, |f| &mut f.maxmemory),
                Always,
            ),
            Column::MaxmemoryPolicy => (
                "maxmemory_policy",
                Text(|f| &f.maxmemory_policy, |f| &mut f.maxmemory_policy),
                Always,
            ),
            Column::Reads => ("reads", Count(|f| f.reads, |f| &mut f.reads), Always),
            Column::Hits => ("hits", Count(|f| f.hits, |f| &mut f.hits), Always),
            Column::Misses => ("misses", Count(|f| f.misses, |f| &mut f.misses), Always),
            Column::HitRatio => ("hit_ratio", Ratio(hit_ratio), Always),
            Column::MissesByCause => (
                "misses_by_cause",
                Cell::PerCause(|f| &f.misses_by_cause, |f| &mut f.misses_by_cause),
                Always,
            ),
            Column::EvictedKeys => (
                "evicted_keys",
                Count(|f| f.evicted_keys, |f| &mut f.evicted_keys),
                FullRunOnly,
            ),
            Column::ExpiredKeys => (
                "expired_keys",
                Count(|f| f.expired_keys, |f| &mut f.expired_keys),
                FullRunOnly,
            ),
            Column::OomRejected => (
                "oom_rejected",
                Count(|f| f.oom_rejected, |f| &mut f.oom_rejected),
                FullRunOnly,
            ),
            Column::KeysLost => (
                "keys_lost",
                Count(|f| f.keys_lost, |f| &mut f.keys_lost),
                FullRunOnly,
            ),
            Column::AcknowledgedWrites => (
                "acknowledged_writes",
                Count(|f| f.acknowledged_writes, |f| &mut f.acknowledged_writes),
                FullRunOnly,
            ),
            Column::AcknowledgedWritesLost => (
                "acknowledged_writes_lost",
                Count(
                    |f| f.acknowledged_writes_lost,
                    |f| &mut f.acknowledged_writes_lost,
                ),
                FullRunOnly,
            ),
            Column::LossRate => ("loss_rate", Ratio(loss_rate), FullRunOnly),
            Column::PeakUsedMemory => (
                "peak_used_memory",
                Count(|f| f.peak_used_memory, |f| &mut f.peak_used_memory),
                FullRunOnly,
            ),
        };
        Spec { name, cell, known }
    }
}

/// Hits over reads, rounded for output (0 without reads).
pub fn hit_ratio(row: &Figures) -> f64 {
    ratio(row.hits, row.reads)
}

/// Acknowledged writes lost over acknowledged writes, rounded for output.
pub fn loss_rate(row: &Figures) -> f64 {
    ratio(row.acknowledged_writes_lost, row.acknowledged_writes)
}

/// Whether `row` knows the column's value (a `--fast` row knows only what the curve gives).
fn known(spec: &Spec, row: &Figures) -> bool {
    spec.known == Known::Always || !row.fast
}

/// The CSV header cells of `columns`.
pub fn csv_header(columns: &[Column]) -> Vec<String> {
    let mut header = Vec::new();
    for column in columns {
        let spec = column.spec();
        match spec.cell {
            Cell::PerCause(..) => {
                let prefix = spec.name.trim_end_matches("_by_cause");
                header.extend(cause_columns(prefix));
            }
            _ => header.push(spec.name.to_string()),
        }
    }
    header
}

/// A row's CSV cells for `columns`: what the row does not know is left empty rather than a
/// false zero.
pub fn csv_cells(columns: &[Column], row: &Figures) -> Vec<String> {
    let mut cells = Vec::new();
    for column in columns {
        let spec = column.spec();
        let known = known(&spec, row);
        match spec.cell {
            Cell::PerCause(get, _) => {
                assert!(known, "every row knows {}", spec.name);
                cells.extend(get(row).iter().map(u64::to_string));
            }
            _ if !known => cells.push(String::new()),
            Cell::Count(get, _) => cells.push(get(row).to_string()),
            Cell::Text(get, _) => cells.push(get(row).to_string()),
            Cell::Ratio(get) => cells.push(format!("{:.6}", get(row))),
        }
    }
    cells
}

/// A row's JSON fields for `columns`, added to `object`: what the row does not know is null.
pub fn json_fields(columns: &[Column], row: &Figures, object: &mut Map<String, Value>) {
    for column in columns {
        let spec = column.spec();
        let value = match spec.cell {
            _ if !known(&spec, row) => Value::Null,
            Cell::Count(get, _) => json!(get(row)),
            Cell::Text(get, _) => json!(get(row)),
            Cell::Ratio(get) => json!(get(row)),
            Cell::PerCause(get, _) => Value::Object(by_cause(get(row))),
        };
        object.insert(spec.name.to_string(), value);
    }
}

/// Reads `columns` of a run back from its JSON object into `row` (whose `fast` is already set).
/// A missing or malformed field is an error naming it; derived ratios are not read.
pub fn read_json(columns: &[Column], object: &Value, row: &mut Figures) -> Result<(), String> {
    for column in columns {
        let spec = column.spec();
        let value = &object[spec.name];
        if !known(&spec, row) {
            if !value.is_null() {
                return Err(format!("{} is given for a --fast run", spec.name));
            }
            continue;
        }
        let malformed = |what: &str| format!("{} is missing or not {what}", spec.name);
        match spec.cell {
            Cell::Count(_, set) => {
                *set(row) = value.as_u64().ok_or_else(|| malformed("a whole number"))?
            }
            Cell::Text(_, set) => {
                *set(row) = value
                    .as_str()
                    .ok_or_else(|| malformed("a string"))?
                    .to_string();
            }
            Cell::Ratio(_) => {}
            Cell::PerCause(_, set) => {
                *set(row) =
                    per_cause_from_json(value).map_err(|why| format!("{}: {why}", spec.name))?;
            }
        }
    }
    Ok(())
}

/// The inverse of [`by_cause`]: an object of counts keyed by cause name, a cause left out
/// counting 0 (`by_cause` writes only non-zero counts).
fn per_cause_from_json(value: &Value) -> Result<PerCause<u64>, String> {
    let object = value
        .as_object()
        .ok_or("not an object of counts by cause")?;
    let mut counts = PerCause::default();
    for (name, count) in object {
        let cause = Cause::ALL
            .into_iter()
            .find(|cause| cause.name() == name)
            .ok_or_else(|| format!("{name} is not a cause"))?;
        counts[cause] = count
            .as_u64()
            .ok_or_else(|| format!("{name} is not a whole number"))?;
    }
    Ok(counts)
}
