//! What `vanish sweep` and `vanish merge` write and print: `sweep.csv`, `sweep.json` (read back
//! by `merge`), the terminal table, and the data of the sweep charts. The figures' columns come
//! from [`columns`](crate::report::columns).

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::grid::{Axis, Figures, Shard};
use crate::report::charts::{Recommendation as ChartRecommendation, SweepPoint, SweepSeries};
use crate::report::columns::{self, hit_ratio, Column};
use crate::report::summary::{human_bytes, thousands};
use crate::report::target::{group_of, recommendations, Target};

/// `sweep.csv`.
pub fn write_csv<W: std::io::Write>(
    output: W,
    axes: &[Axis],
    rows: &[Figures],
) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(output);
    let mut header = vec!["run".to_string()];
    header.extend(axes.iter().map(|axis| axis.key.clone()));
    header.extend(columns::csv_header(&Column::SWEEP_CSV));
    writer.write_record(header).map_err(std::io::Error::other)?;
    for row in rows {
        let mut record = vec![row.run.to_string()];
        record.extend(row.values.iter().cloned());
        record.extend(columns::csv_cells(&Column::SWEEP_CSV, row));
        writer
            .write_record(&record)
            .map_err(std::io::Error::other)?;
    }
    writer.flush()
}

/// A run of `sweep.json`.
fn run_json(axes: &[Axis], row: &Figures) -> Value {
    assert_eq!(row.values.len(), axes.len(), "a value per axis");
    let values: Map<String, Value> = axes
        .iter()
        .zip(&row.values)
        .map(|(axis, value)| (axis.key.clone(), json!(value)))
        .collect();
    let mut object = Map::new();
    object.insert("run".to_string(), json!(row.run));
    object.insert("values".to_string(), Value::Object(values));
    columns::json_fields(&Column::ALL, row, &mut object);
    if row.fast {
        object.insert("fast".to_string(), json!(true));
    }
    Value::Object(object)
}

/// `sweep.json`: the axes, the target, every run and the recommendations.
pub fn to_json(
    axes: &[Axis],
    runs_total: usize,
    target: Option<&Target>,
    rows: &[Figures],
    shard: Option<Shard>,
) -> Value {
    let axes_json: Vec<Value> = axes
        .iter()
        .map(|axis| json!({ "key": axis.key, "values": axis.values }))
        .collect();
    let mut document = json!({
        "axes": axes_json,
        "runs_total": runs_total,
        "runs": rows.iter().map(|row| run_json(axes, row)).collect::<Vec<_>>(),
    });
    if let Some(target) = target {
        document["target"] = target.to_json();
        // Recommendations need every run: a shard has only some.
        if shard.is_none() {
            document["recommendations"] = Value::Array(
                recommendations(axes, rows, target)
                    .into_iter()
                    .map(|r| json!({ "group": r.group, "maxmemory": r.maxmemory }))
                    .collect(),
            );
        }
    }
    if let Some(shard) = shard {
        document["shard"] = json!(format!("{}/{}", shard.index + 1, shard.count));
    }
    document
}

/// A `sweep.json` read back (for `vanish merge`).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepFile {
    pub axes: Vec<Axis>,
    pub runs_total: usize,
    pub target: Option<Target>,
    pub rows: Vec<Figures>,
}

impl SweepFile {
    /// Reads a `sweep.json` back; a missing or malformed field is an error naming it, never a 0.
    pub fn from_json(document: &Value) -> Result<SweepFile, String> {
        let axes: Vec<Axis> = document["axes"]
            .as_array()
            .ok_or("axes is missing or not a list")?
            .iter()
            .map(axis_from_json)
            .collect::<Result<_, String>>()?;
        let runs_total = document["runs_total"]
            .as_u64()
            .ok_or("runs_total is missing or not a whole number")?
            as usize;
        let target = Target::from_json(&document["target"])?;
        let rows = document["runs"]
            .as_array()
            .ok_or("runs is missing or not a list")?
            .iter()
            .enumerate()
            .map(|(index, run)| {
                run_from_json(&axes, run).map_err(|why| format!("runs[{index}]: {why}"))
            })
            .collect::<Result<_, String>>()?;
        Ok(SweepFile {
            axes,
            runs_total,
            target,
            rows,
        })
    }

    /// Whether `other` is a shard of the same sweep (same axes, size and target).
    pub fn same_sweep(&self, other: &SweepFile) -> bool {
        (&self.axes, self.runs_total, &self.target)
            == (&other.axes, other.runs_total, &other.target)
    }
}

fn axis_from_json(axis: &Value) -> Result<Axis, String> {
    let key = axis["key"]
        .as_str()
        .ok_or("an axis's key is missing or not a string")?;
    let values = axis["values"]
        .as_array()
        .ok_or_else(|| format!("axis {key}: values is missing or not a list"))?
        .iter()
        .map(|value| {
            value
                .as_str()
                .map(String::from)
                .ok_or_else(|| format!("axis {key}: a value is not a string"))
        })
        .collect::<Result<_, String>>()?;
    Ok(Axis {
        key: key.to_string(),
        values,
    })
}

/// The inverse of [`run_json`].
fn run_from_json(axes: &[Axis], run: &Value) -> Result<Figures, String> {
    let index = run["run"]
        .as_u64()
        .ok_or("run is missing or not a whole number")? as usize;
    let values = axes
        .iter()
        .map(|axis| {
            run["values"][&axis.key]
                .as_str()
                .map(String::from)
                .ok_or_else(|| format!("values.{} is missing or not a string", axis.key))
        })
        .collect::<Result<_, String>>()?;
    // Only --fast runs carry the flag: a run without it is a full run.
    let fast = match &run["fast"] {
        Value::Null => false,
        Value::Bool(fast) => *fast,
        _ => return Err("fast is not true or false".to_string()),
    };
    let mut row = Figures {
        run: index,
        values,
        fast,
        ..Figures::default()
    };
    columns::read_json(&Column::ALL, run, &mut row)?;
    Ok(row)
}

/// The terminal table of a sweep.
pub fn table(axes: &[Axis], rows: &[Figures]) -> String {
    let mut out = String::new();
    let widths: Vec<usize> = axes
        .iter()
        .enumerate()
        .map(|(i, axis)| {
            rows.iter()
                .map(|r| r.values[i].len())
                .fold(axis.key.len(), usize::max)
        })
        .collect();
    for (axis, width) in axes.iter().zip(&widths) {
        let _ = write!(out, "{:<width$}  ", axis.key);
    }
    let _ = writeln!(
        out,
        "{:>9}  {:>12}  {:>12}  {:>12}  {:>12}",
        "hit ratio", "misses", "evicted", "oom", "keys lost"
    );
    for row in rows {
        for (value, width) in row.values.iter().zip(&widths) {
            let _ = write!(out, "{:<width$}  ", shown_value(value));
        }
        let _ = writeln!(
            out,
            "{:>8.2}%  {:>12}  {:>12}  {:>12}  {:>12}",
            hit_ratio(row) * 100.0,
            thousands(row.misses),
            full_run_count(row, row.evicted_keys),
            full_run_count(row, row.oom_rejected),
            full_run_count(row, row.keys_lost)
        );
    }
    out
}

/// A count only a full run knows: a `--fast` row never computed it (its files leave it empty
/// or null), so the table says so rather than print a false 0.
fn full_run_count(row: &Figures, count: u64) -> String {
    if row.fast {
        "not computed".to_string()
    } else {
        thousands(count)
    }
}

/// A varied value as the table shows it: long whole numbers (sizes in bytes) in binary units.
fn shown_value(value: &str) -> String {
    if value.bytes().all(|b| b.is_ascii_digit()) && value.len() > 6 {
        value
            .parse()
            .map(human_bytes)
            .unwrap_or_else(|_| value.to_string())
    } else {
        value.to_string()
    }
}

/// The sweep charts' data: one series per group (the axes other than maxmemory), its points
/// by size, and each group's recommended size. None unless maxmemory is an axis.
pub fn chart_series(
    axes: &[Axis],
    rows: &[Figures],
    target: Option<&Target>,
) -> Option<(Vec<SweepSeries>, Vec<ChartRecommendation>)> {
    let size_axis = axes.iter().position(Axis::is_maxmemory)?;
    let mut series: Vec<SweepSeries> = Vec::new();
    for row in rows {
        let group = group_of(row, size_axis);
        let point = SweepPoint {
            maxmemory_bytes: row.maxmemory,
            hit_ratio: hit_ratio(row),
            keys_lost: (!row.fast).then_some(row.keys_lost),
            oom_rejected: (!row.fast).then_some(row.oom_rejected),
        };
        match series.iter_mut().find(|s| s.policy == group) {
            Some(existing) => existing.points.push(point),
            None => series.push(SweepSeries {
                policy: group,
                points: vec![point],
            }),
        }
    }
    for one in &mut series {
        one.points.sort_by_key(|p| p.maxmemory_bytes);
    }
    // Without a target nothing is recommended.
    let recommended = target
        .map(|target| {
            recommendations(axes, rows, target)
                .into_iter()
                .filter_map(|r| {
                    r.maxmemory.map(|bytes| ChartRecommendation {
                        policy: r.group,
                        maxmemory_bytes: bytes,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some((series, recommended))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ledger::Cause;

    fn axes() -> Vec<Axis> {
        vec![
            Axis {
                key: "server.maxmemory".into(),
                values: vec!["1048576".into(), "2097152".into()],
            },
            Axis {
                key: "server.maxmemory-policy".into(),
                values: vec!["allkeys-lru".into()],
            },
        ]
    }

    fn row(run: usize, fast: bool) -> Figures {
        let mut row = Figures {
            run,
            values: vec![["1048576", "2097152"][run].into(), "allkeys-lru".into()],
            maxmemory: 1 << (20 + run),
            maxmemory_policy: "allkeys-lru".into(),
            reads: 100,
            hits: 60,
            misses: 40,
            fast,
            ..Figures::default()
        };
        row.misses_by_cause[Cause::Evicted] = 30;
        row.misses_by_cause[Cause::NeverWritten] = 10;
        if !fast {
            row.evicted_keys = 7;
            row.keys_lost = 8;
            row.acknowledged_writes = 50;
            row.acknowledged_writes_lost = 1;
            row.peak_used_memory = 999;
        }
        row
    }

    #[test]
    fn sweep_json_reads_back_what_it_wrote() {
        let target = Target::HitRatioAtLeast(0.5);
        for fast in [false, true] {
            let rows = vec![row(0, fast), row(1, fast)];
            let document = to_json(&axes(), 2, Some(&target), &rows, None);
            let file = SweepFile::from_json(&document).unwrap();
            assert_eq!(file.axes, axes());
            assert_eq!(file.runs_total, 2);
            assert_eq!(file.target, Some(target));
            assert_eq!(file.rows, rows);
        }
    }

    #[test]
    fn a_run_missing_a_field_is_refused_by_name() {
        let document = to_json(&axes(), 2, None, &[row(0, false)], None);
        for field in ["hits", "peak_used_memory", "maxmemory_policy"] {
            let mut broken = document.clone();
            broken["runs"][0].as_object_mut().unwrap().remove(field);
            let error = SweepFile::from_json(&broken).unwrap_err();
            assert!(
                error.contains("runs[0]") && error.contains(field),
                "{error}"
            );
        }
        let mut broken = document.clone();
        broken["runs"][0]["misses_by_cause"]["vanished"] = json!(3);
        assert!(SweepFile::from_json(&broken).is_err());
    }

    #[test]
    fn the_table_shows_oom_and_says_what_fast_never_computed() {
        let mut full = row(0, false);
        full.oom_rejected = 756_919;
        let text = table(&axes(), &[full, row(1, true)]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].contains("evicted           oom     keys lost"),
            "{text}"
        );
        assert!(lines[1].contains("756,919"), "{text}");
        assert!(
            lines[2].ends_with("not computed  not computed  not computed"),
            "{text}"
        );
        assert!(!lines[2].contains(" 0 "), "{text}");
    }

    #[test]
    fn csv_columns_match_their_cells() {
        let mut csv = Vec::new();
        write_csv(&mut csv, &axes(), &[row(0, false), row(1, true)]).unwrap();
        let text = String::from_utf8(csv).unwrap();
        let widths: Vec<usize> = text.lines().map(|l| l.split(',').count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{text}");
        // What the curve does not know is empty, not 0.
        assert!(text.lines().nth(2).unwrap().ends_with(",,,,,,,"), "{text}");
    }
}
