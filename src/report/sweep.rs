//! What `vanish sweep` and `vanish merge` write and print: `sweep.csv`, `sweep.json` (read back
//! by `merge`, which joins shards only if they ran the same scenario, seed, axes and target),
//! the terminal table, and the data of the sweep charts. The figures' columns come
//! from [`columns`](crate::report::columns).

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::grid::{check_shards, merge_runs, Axis, Figures, Shard};
use crate::report::charts::{Recommendation as ChartRecommendation, SweepPoint, SweepSeries};
use crate::report::columns::{self, hit_ratio, Column};
use crate::report::json::Invocation;
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

/// `--sample-rate R` as parts per million: R must be above 0 and at most 1, in steps of 1e-6.
pub fn sample_rate_ppm(rate: f64) -> Result<u32, String> {
    let ppm = (rate * 1e6).round();
    if !(rate > 0.0 && rate <= 1.0) || ppm < 1.0 {
        return Err(format!(
            "expected a share of the keys above 0 and at most 1 (at least 0.000001), found {rate}"
        ));
    }
    Ok(ppm as u32)
}

/// What a sweep ran and how: the scenario (its name, the digest of its effective text with the
/// common `--set`s and `--seed` applied, and its seed) and the command that ran it. Shards of
/// one sweep share all of it but the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepOrigin {
    pub scenario: String,
    pub scenario_digest: String,
    pub seed: u64,
    pub invocation: Invocation,
}

/// A sweep or one shard of it: what `sweep.json` holds, and what `merge` reads back.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepFile {
    pub origin: SweepOrigin,
    pub axes: Vec<Axis>,
    pub runs_total: usize,
    pub target: Option<Target>,
    /// `--shard K/N`; none for a whole sweep.
    pub shard: Option<Shard>,
    /// The runs this file holds, in run order.
    pub rows: Vec<Figures>,
    /// `--fast --sample-rate`: the share of keys the curve followed, parts per million (SHARDS);
    /// none for an exact curve or a full sweep.
    pub sample_rate_ppm: Option<u32>,
}

/// `sweep.json`: where the sweep comes from, the axes, the target, every run and the
/// recommendations.
pub fn to_json(sweep: &SweepFile) -> Value {
    let axes = &sweep.axes;
    let axes_json: Vec<Value> = axes
        .iter()
        .map(|axis| json!({ "key": axis.key, "values": axis.values }))
        .collect();
    let origin = &sweep.origin;
    let mut document = json!({
        "scenario": origin.scenario,
        "scenario_digest": origin.scenario_digest,
        "seed": origin.seed,
        "axes": axes_json,
        "runs_total": sweep.runs_total,
        "runs": sweep.rows.iter().map(|row| run_json(axes, row)).collect::<Vec<_>>(),
    });
    origin.invocation.add_to(&mut document);
    if let Some(target) = &sweep.target {
        document["target"] = target.to_json();
        // Recommendations need every run: a shard has only some.
        if sweep.shard.is_none() {
            document["recommendations"] = Value::Array(
                recommendations(axes, &sweep.rows, target)
                    .into_iter()
                    .map(|r| json!({ "group": r.group, "maxmemory": r.maxmemory }))
                    .collect(),
            );
        }
    }
    if let Some(shard) = sweep.shard {
        document["shard"] = json!(shard.label());
    }
    if let Some(ppm) = sweep.sample_rate_ppm {
        document["sample_rate"] = json!(f64::from(ppm) / 1e6);
    }
    document
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
        let shard = match &document["shard"] {
            Value::Null => None,
            Value::String(text) => Some(Shard::parse(text).map_err(|why| format!("shard: {why}"))?),
            _ => return Err("shard is not a string K/N".to_string()),
        };
        let rows = document["runs"]
            .as_array()
            .ok_or("runs is missing or not a list")?
            .iter()
            .enumerate()
            .map(|(index, run)| {
                run_from_json(&axes, run).map_err(|why| format!("runs[{index}]: {why}"))
            })
            .collect::<Result<_, String>>()?;
        let sample_rate_ppm = match &document["sample_rate"] {
            Value::Null => None,
            rate => Some(
                sample_rate_ppm(rate.as_f64().unwrap_or(f64::NAN))
                    .map_err(|why| format!("sample_rate: {why}"))?,
            ),
        };
        Ok(SweepFile {
            origin: origin_from_json(document)?,
            axes,
            runs_total,
            target,
            shard,
            rows,
            sample_rate_ppm,
        })
    }

    /// Why `other` is not a shard of the same sweep as `self`, if it is not: each difference,
    /// `other`'s value first, worded for the operator. Targets are compared only if `with_targets` (a merge given its
    /// own `--target` does not use the shards').
    pub fn differences(&self, other: &SweepFile, with_targets: bool) -> Vec<String> {
        let (mine, theirs) = (&self.origin, &other.origin);
        let mut reasons = Vec::new();
        let mut differ = |differs: bool, reason: String| {
            if differs {
                reasons.push(reason);
            }
        };
        differ(
            mine.invocation.vanish_version != theirs.invocation.vanish_version,
            format!(
                "made by vanish {} instead of {}",
                theirs.invocation.vanish_version, mine.invocation.vanish_version
            ),
        );
        differ(
            mine.seed != theirs.seed,
            format!("seed {} instead of {}", theirs.seed, mine.seed),
        );
        // Another seed changes the digest too; say only the seed then.
        differ(
            mine.seed == theirs.seed && mine.scenario_digest != theirs.scenario_digest,
            format!(
                "scenario digest {} instead of {} (another scenario, or other --set values)",
                theirs.scenario_digest, mine.scenario_digest
            ),
        );
        differ(
            (&self.axes, self.runs_total) != (&other.axes, other.runs_total),
            format!(
                "axes {} instead of {}",
                axes_text(&other.axes),
                axes_text(&self.axes)
            ),
        );
        differ(
            with_targets && self.target != other.target,
            format!(
                "target {} instead of {} (give merge its own --target to judge them all by it)",
                target_text(other.target.as_ref()),
                target_text(self.target.as_ref())
            ),
        );
        differ(
            matches!((mode(self), mode(other)), (Some(a), Some(b)) if a != b),
            format!(
                "runs {} --fast, unlike the others",
                if mode(other) == Some(true) {
                    "with"
                } else {
                    "without"
                }
            ),
        );
        let rate = |ppm: Option<u32>| match ppm {
            Some(ppm) => format!("sample rate {}", f64::from(ppm) / 1e6),
            None => "no sampling".to_string(),
        };
        differ(
            self.sample_rate_ppm != other.sample_rate_ppm,
            format!(
                "{} instead of {}",
                rate(other.sample_rate_ppm),
                rate(self.sample_rate_ppm)
            ),
        );
        reasons
    }
}

/// Whether a file's runs are `--fast` ones; none for a shard without runs.
fn mode(sweep: &SweepFile) -> Option<bool> {
    sweep.rows.first().map(|row| row.fast)
}

/// Axes as `--vary` would take them: `server.maxmemory=1mb,2mb server.hz=10`.
fn axes_text(axes: &[Axis]) -> String {
    let specs: Vec<String> = axes
        .iter()
        .map(|axis| format!("{}={}", axis.key, axis.values.join(",")))
        .collect();
    format!("[{}]", specs.join(" "))
}

fn target_text(target: Option<&Target>) -> String {
    target.map_or_else(|| "none".to_string(), Target::describe)
}

/// Joins shards into the sweep a single run would have written: refused, saying why, unless
/// they are each shard of one split once, of the same scenario, seed, axes and (unless `target`
/// replaces it) target. `shards` pairs each file with where it was read, for the messages.
pub fn join(
    shards: Vec<(String, SweepFile)>,
    target: Option<Target>,
    invocation: Invocation,
) -> Result<SweepFile, String> {
    let Some((first_place, first)) = shards.first() else {
        return Err("merge needs at least one folder".to_string());
    };
    for (place, shard) in &shards[1..] {
        let reasons = first.differences(shard, target.is_none());
        if !reasons.is_empty() {
            return Err(format!(
                "{place} is not a shard of the same sweep as {first_place}: {}",
                reasons.join("; ")
            ));
        }
    }
    let numbers: Vec<(String, Option<Shard>)> = shards
        .iter()
        .map(|(place, shard)| (place.clone(), shard.shard))
        .collect();
    check_shards(&numbers)?;
    let mut whole = first.clone();
    let rows = shards
        .into_iter()
        .flat_map(|(_, shard)| shard.rows)
        .collect();
    whole.rows = merge_runs(whole.runs_total, rows)?;
    whole.shard = None;
    whole.target = target.or(whole.target);
    whole.origin.invocation = invocation;
    Ok(whole)
}

fn origin_from_json(document: &Value) -> Result<SweepOrigin, String> {
    let text = |field: &str| {
        document[field]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("{field} is missing or not a string"))
    };
    Ok(SweepOrigin {
        scenario: text("scenario")?,
        scenario_digest: text("scenario_digest")?,
        seed: document["seed"]
            .as_u64()
            .ok_or("seed is missing or not a whole number")?,
        invocation: Invocation::from_json(document)?,
    })
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
    let recommended = match target {
        None => Vec::new(),
        Some(target) => recommendations(axes, rows, target)
            .into_iter()
            .filter_map(|r| {
                r.maxmemory.map(|bytes| ChartRecommendation {
                    policy: r.group,
                    maxmemory_bytes: bytes,
                })
            })
            .collect(),
    };
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

    fn sweep(rows: Vec<Figures>, target: Option<Target>, shard: Option<Shard>) -> SweepFile {
        SweepFile {
            origin: SweepOrigin {
                scenario: "small".into(),
                scenario_digest: "fnv1a64:0123456789abcdef".into(),
                seed: u64::MAX,
                invocation: Invocation::new(vec!["vanish".into(), "sweep".into()]),
            },
            axes: axes(),
            runs_total: 2,
            target,
            shard,
            rows,
            sample_rate_ppm: None,
        }
    }

    #[test]
    fn sweep_json_reads_back_what_it_wrote() {
        let target = Target::HitRatioAtLeast(0.5);
        for fast in [false, true] {
            for shard in [None, Some(Shard { index: 1, count: 2 })] {
                let written = sweep(vec![row(0, fast), row(1, fast)], Some(target), shard);
                let document = to_json(&written);
                assert_eq!(document["shard"].as_str().is_some(), shard.is_some());
                assert_eq!(document["command_line"], json!(["vanish", "sweep"]));
                assert_eq!(SweepFile::from_json(&document).unwrap(), written);
            }
        }
    }

    #[test]
    fn a_run_missing_a_field_is_refused_by_name() {
        let document = to_json(&sweep(vec![row(0, false)], None, None));
        for field in ["hits", "peak_used_memory", "maxmemory_policy"] {
            let mut broken = document.clone();
            broken["runs"][0].as_object_mut().unwrap().remove(field);
            let error = SweepFile::from_json(&broken).unwrap_err();
            assert!(
                error.contains("runs[0]") && error.contains(field),
                "{error}"
            );
        }
        for field in ["scenario_digest", "seed", "command_line", "vanish_version"] {
            let mut broken = document.clone();
            broken.as_object_mut().unwrap().remove(field);
            let error = SweepFile::from_json(&broken).unwrap_err();
            assert!(error.contains(field), "{error}");
        }
        let mut broken = document.clone();
        broken["runs"][0]["misses_by_cause"]["vanished"] = json!(3);
        assert!(SweepFile::from_json(&broken).is_err());
    }

    /// Shards that do not belong together are refused with each reason, the other's value first.
    #[test]
    fn shards_of_other_sweeps_are_refused_saying_why() {
        let half = |k: usize| Some(Shard { index: k, count: 2 });
        let first = sweep(vec![row(0, false)], None, half(0));
        let second = sweep(vec![row(1, false)], None, half(1));
        let place = |file: SweepFile| vec![("a".to_string(), first.clone()), ("b".into(), file)];
        let merged = join(place(second.clone()), None, first.origin.invocation.clone()).unwrap();
        assert_eq!(merged.rows, vec![row(0, false), row(1, false)]);
        assert_eq!(merged.shard, None);

        let mut other = second.clone();
        other.origin.seed = 7;
        other.origin.scenario_digest = "fnv1a64:ffffffffffffffff".into();
        let error = join(place(other), None, first.origin.invocation.clone()).unwrap_err();
        assert_eq!(
            error,
            "b is not a shard of the same sweep as a: seed 7 instead of 18446744073709551615"
        );
        let mut other = second.clone();
        other.origin.scenario_digest = "fnv1a64:ffffffffffffffff".into();
        other.target = Some(Target::HitRatioAtLeast(0.9));
        other.axes[1].values.push("allkeys-lfu".into());
        let error = join(place(other.clone()), None, first.origin.invocation.clone()).unwrap_err();
        for reason in [
            "scenario digest fnv1a64:ffffffffffffffff instead of fnv1a64:0123456789abcdef",
            "axes [server.maxmemory=1048576,2097152 server.maxmemory-policy=allkeys-lru,allkeys-lfu]",
            "target a hit ratio of 90.0 % instead of none",
        ] {
            assert!(error.contains(reason), "{reason:?} in {error}");
        }
        // A merge given its own target judges every shard by it, whatever theirs were.
        let mut retargeted = second.clone();
        retargeted.target = Some(Target::HitRatioAtLeast(0.9));
        let target = Some(Target::LossRateAtMost(0.1));
        let merged = join(place(retargeted), target, first.origin.invocation.clone()).unwrap();
        assert_eq!(merged.target, target);
        let mut fast = second.clone();
        fast.rows[0].fast = true;
        let error = join(place(fast), None, first.origin.invocation.clone()).unwrap_err();
        assert!(
            error.ends_with("runs with --fast, unlike the others"),
            "{error}"
        );
        let error = join(place(first.clone()), None, first.origin.invocation.clone()).unwrap_err();
        assert_eq!(error, "shard 1/2 is given twice: a and b");
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
