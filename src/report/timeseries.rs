//! `timeseries.csv`: one row per sample of the run.

use std::io::{self, Write};

use crate::sim::engine::Sample;
use crate::sim::ledger::Cause;

/// Writes the time series. Counts are per sample interval; `*_per_s` are those counts divided by
/// the interval, with two decimals; `lag_bytes_<replica>` is how far behind the primary's stream
/// each replica is.
pub fn write_timeseries<W: Write>(
    output: W,
    samples: &[Sample],
    interval_us: u64,
    replica_names: &[String],
) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(output);
    let mut header: Vec<String> = [
        "time_s",
        "used_memory",
        "keys",
        "expires",
        "expired_per_s",
        "evicted_per_s",
        "hits",
        "misses",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(crate::report::cause_columns("misses"));
    header.push("errors".to_string());
    header.extend(replica_names.iter().map(|name| format!("lag_bytes_{name}")));
    writer.write_record(&header).map_err(io::Error::other)?;
    let per_second = |count: u64| format!("{:.2}", count as f64 * 1e6 / interval_us.max(1) as f64);
    for sample in samples {
        let mut row = vec![
            format!(
                "{}.{:06}",
                sample.time_us / 1_000_000,
                sample.time_us % 1_000_000
            ),
            sample.used_memory.to_string(),
            sample.keys.to_string(),
            sample.expires.to_string(),
            per_second(sample.expired),
            per_second(sample.evicted),
            sample.hits.to_string(),
            sample.misses_by_cause.iter().sum::<u64>().to_string(),
        ];
        row.extend(
            Cause::ALL
                .iter()
                .map(|cause| sample.misses_by_cause[cause].to_string()),
        );
        row.push(sample.errors.to_string());
        row.extend(sample.replica_lag_bytes.iter().map(u64::to_string));
        writer.write_record(&row).map_err(io::Error::other)?;
    }
    writer.flush()
}
