//! Capacity planning: `vanish sweep` runs a grid of scenario variants (`--vary` axes, lists or
//! geometric ranges), finds for each policy the smallest maxmemory that meets a target, and can
//! split the grid into deterministic shards whose outputs `vanish merge` joins into exactly the
//! file a single run writes.

use crate::sim::ledger::PerCause;
use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::compare::Variant;
use crate::report::charts::{Recommendation as ChartRecommendation, SweepPoint, SweepSeries};
use crate::report::json::by_cause;
use crate::report::ratio;
use crate::report::summary::{human_bytes, thousands};
use crate::scenario::units::parse_size_bytes;
use crate::sim::config::MaxmemoryPolicy;
use crate::sim::engine::RunOutput;
use crate::sim::ledger::Cause;
use crate::sim::reference::curve::{CurvePoint, Distances};

/// Most runs one sweep may ask for.
pub const RUNS_MAX: usize = 10_000;

/// One `--vary` axis: a scenario key and its values, as `--set` would take them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

impl Axis {
    /// `key=v1,v2,...` or `key=A..B:N` (N points spaced geometrically from A to B; sizes in
    /// redis.conf units, or plain numbers).
    pub fn parse(spec: &str) -> Result<Axis, String> {
        let (key, values) = spec.split_once('=').ok_or_else(|| {
            format!("--vary {spec}: expected section.key=v1,v2,... or section.key=A..B:N")
        })?;
        let key = key.trim().to_string();
        if key.is_empty() {
            return Err(format!("--vary {spec}: the key is empty"));
        }
        let values = match values.split_once("..") {
            Some((low, rest)) => {
                let (high, count) = rest.rsplit_once(':').ok_or_else(|| {
                    format!("--vary {spec}: a range needs a point count, as in 64mb..2gb:12")
                })?;
                let count: usize = count
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (2..=1000).contains(n))
                    .ok_or_else(|| {
                        format!(
                            "--vary {spec}: the point count must be a whole number from 2 to 1000"
                        )
                    })?;
                geometric(low.trim(), high.trim(), count)
                    .map_err(|why| format!("--vary {spec}: {why}"))?
            }
            None => values
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
                .collect(),
        };
        if values.is_empty() {
            return Err(format!("--vary {spec}: no values"));
        }
        Ok(Axis { key, values })
    }

    pub fn is_maxmemory(&self) -> bool {
        self.key == "server.maxmemory"
    }
}

/// `count` values from `low` to `high` with a constant ratio. Sizes become whole bytes; other
/// numbers keep up to six significant digits.
fn geometric(low: &str, high: &str, count: usize) -> Result<Vec<String>, String> {
    let as_size = |text: &str| parse_size_bytes(text).ok().map(|bytes| bytes as f64);
    let (a, b, whole) = match (as_size(low), as_size(high)) {
        (Some(a), Some(b)) => (a, b, true),
        _ => {
            let number = |text: &str| {
                text.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("{text:?} is neither a size nor a number"))
            };
            (number(low)?, number(high)?, false)
        }
    };
    if a <= 0.0 || b <= 0.0 {
        return Err("a geometric range needs positive ends".to_string());
    }
    let step = libm::pow(b / a, 1.0 / (count - 1) as f64);
    Ok((0..count)
        .map(|i| {
            let value = if i == count - 1 {
                b
            } else {
                a * libm::pow(step, i as f64)
            };
            if whole {
                format!("{}", libm::round(value) as u64)
            } else {
                format!("{}", (value * 1e6).round() / 1e6)
            }
        })
        .collect())
}

/// Every combination of the axes' values, the first axis varying slowest; each as `--set`s.
pub fn grid(axes: &[Axis]) -> Vec<Vec<String>> {
    let mut points: Vec<Vec<String>> = vec![Vec::new()];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |value| {
                    let mut next = prefix.clone();
                    next.push(format!("{}={value}", axis.key));
                    next
                })
            })
            .collect();
    }
    points
}

/// The K-th of N deterministic slices of a grid (`--shard K/N`, K from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let parsed = text.split_once('/').and_then(|(k, n)| {
            let k: usize = k.trim().parse().ok()?;
            let n: usize = n.trim().parse().ok()?;
            // `then`, not `then_some`: k − 1 must not be computed when k is 0.
            (n >= 1 && (1..=n).contains(&k)).then(|| Shard {
                index: k - 1,
                count: n,
            })
        });
        parsed.ok_or_else(|| format!("--shard {text}: expected K/N with 1 ≤ K ≤ N, as in 2/8"))
    }

    /// Whether run `run` (its index in the grid) belongs to this shard: runs are dealt round
    /// robin, so every shard gets a similar mix of sizes.
    pub fn owns(&self, run: usize) -> bool {
        run % self.count == self.index
    }
}

/// A target a configuration must meet: `hit-ratio>=0.95` or `loss-rate<=0.001`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    HitRatioAtLeast(f64),
    /// Acknowledged writes lost / acknowledged writes.
    LossRateAtMost(f64),
}

impl Target {
    pub fn parse(text: &str) -> Result<Target, String> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let share = |value: &str, what: &str| {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| (0.0..=1.0).contains(v))
                .ok_or_else(|| format!("--target {text}: the {what} must be a number from 0 to 1"))
        };
        if let Some(value) = compact.strip_prefix("hit-ratio>=") {
            return share(value, "hit ratio").map(Target::HitRatioAtLeast);
        }
        if let Some(value) = compact.strip_prefix("loss-rate<=") {
            return share(value, "loss rate").map(Target::LossRateAtMost);
        }
        Err(format!(
            "--target {text}: expected hit-ratio>=X or loss-rate<=X (X from 0 to 1)"
        ))
    }

    pub fn describe(&self) -> String {
        match self {
            Target::HitRatioAtLeast(at_least) => {
                format!("a hit ratio of {:.1} %", at_least * 100.0)
            }
            Target::LossRateAtMost(at_most) => {
                format!("a loss rate of at most {:.3} %", at_most * 100.0)
            }
        }
    }

    /// The hit ratio a chart marks, for hit-ratio targets.
    pub fn hit_ratio(&self) -> Option<f64> {
        match self {
            Target::HitRatioAtLeast(at_least) => Some(*at_least),
            Target::LossRateAtMost(_) => None,
        }
    }

    fn met_by(&self, row: &SweepRow) -> bool {
        match self {
            Target::HitRatioAtLeast(at_least) => {
                row.reads > 0 && row.hits as f64 / row.reads as f64 >= *at_least
            }
            Target::LossRateAtMost(at_most) => !row.fast && row.loss_rate() <= *at_most,
        }
    }

    fn to_json(self) -> Value {
        match self {
            Target::HitRatioAtLeast(at_least) => json!({ "hit_ratio_at_least": at_least }),
            Target::LossRateAtMost(at_most) => json!({ "loss_rate_at_most": at_most }),
        }
    }

    fn from_json(value: &Value) -> Option<Target> {
        value["hit_ratio_at_least"]
            .as_f64()
            .map(Target::HitRatioAtLeast)
            .or_else(|| {
                value["loss_rate_at_most"]
                    .as_f64()
                    .map(Target::LossRateAtMost)
            })
    }
}

/// One run's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepRow {
    pub run: usize,
    /// The varied values, in axis order.
    pub values: Vec<String>,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    pub reads: u64,
    pub hits: u64,
    pub misses: u64,
    pub misses_by_cause: PerCause<u64>,
    pub evicted_keys: u64,
    pub expired_keys: u64,
    pub oom_rejected: u64,
    /// Keys removed for any reason but an overwrite.
    pub keys_lost: u64,
    pub acknowledged_writes: u64,
    pub acknowledged_writes_lost: u64,
    pub peak_used_memory: u64,
    /// Computed by the one-pass curve (`--fast`): only reads, hits and the split of misses into
    /// cold (never-written) and capacity (evicted) misses are known.
    pub fast: bool,
}

impl SweepRow {
    /// A row of the one-pass LRU curve.
    pub fn from_curve(
        run: usize,
        variant: &Variant,
        point: &CurvePoint,
        cold_misses: u64,
    ) -> SweepRow {
        let misses = point.reads - point.hits;
        let mut misses_by_cause = PerCause::default();
        misses_by_cause[Cause::NeverWritten] = cold_misses.min(misses);
        misses_by_cause[Cause::Evicted] = misses - cold_misses.min(misses);
        SweepRow {
            run,
            values: values_of(variant),
            maxmemory: variant.config.server.maxmemory_bytes,
            maxmemory_policy: variant.config.server.maxmemory_policy.as_str().to_string(),
            reads: point.reads,
            hits: point.hits,
            misses,
            misses_by_cause,
            evicted_keys: 0,
            expired_keys: 0,
            oom_rejected: 0,
            keys_lost: 0,
            acknowledged_writes: 0,
            acknowledged_writes_lost: 0,
            peak_used_memory: 0,
            fast: true,
        }
    }

    pub fn new(run: usize, variant: &Variant, output: &RunOutput) -> SweepRow {
        let keys_lost = Cause::ALL
            .iter()
            .filter(|cause| **cause != Cause::Overwritten)
            .map(|cause| output.totals.removals_by_cause[cause])
            .sum();
        SweepRow {
            run,
            values: variant
                .sets
                .iter()
                .map(|set| {
                    set.split_once('=')
                        .map_or(set.clone(), |(_, v)| v.to_string())
                })
                .collect(),
            maxmemory: variant.config.server.maxmemory_bytes,
            maxmemory_policy: variant.config.server.maxmemory_policy.as_str().to_string(),
            reads: output.reads,
            hits: output.hits,
            misses: output.misses,
            misses_by_cause: output.totals.misses_by_cause,
            evicted_keys: output.nodes.iter().map(|n| n.evicted_keys).sum(),
            expired_keys: output.nodes.iter().map(|n| n.expired_keys).sum(),
            oom_rejected: output.totals.rejected_by_cause[Cause::OomRejected],
            keys_lost,
            acknowledged_writes: output.acknowledged_writes,
            acknowledged_writes_lost: output.acknowledged_writes_lost,
            peak_used_memory: output.peak_used_memory,
            fast: false,
        }
    }

    pub fn hit_ratio(&self) -> f64 {
        ratio(self.hits, self.reads)
    }

    /// Acknowledged writes lost / acknowledged writes.
    pub fn loss_rate(&self) -> f64 {
        ratio(self.acknowledged_writes_lost, self.acknowledged_writes)
    }
}

/// The varied values of a variant, in axis order.
fn values_of(variant: &Variant) -> Vec<String> {
    variant
        .sets
        .iter()
        .map(|set| {
            set.split_once('=')
                .map_or(set.clone(), |(_, v)| v.to_string())
        })
        .collect()
}

/// Runs the one-pass curve for every group of a grid (the axes other than maxmemory): one pass
/// per group, a row per size. Only lru-exact and allkeys-lru have a one-pass curve.
pub fn fast_rows(
    axes: &[Axis],
    runs: &[usize],
    variants: &[Variant],
) -> Result<Vec<SweepRow>, String> {
    use rayon::prelude::*;
    let size_axis = axes
        .iter()
        .position(Axis::is_maxmemory)
        .ok_or("--fast computes the curve over maxmemory: vary server.maxmemory")?;
    for variant in variants {
        // The curve is one node's request stream: events and replica reads change what it sees.
        let config = &variant.config;
        let replica_reads = config
            .clients
            .iter()
            .any(|c| c.read_from != crate::sim::config::ReadFrom::Primary);
        if !config.events.is_empty() || replica_reads {
            return Err(format!(
                "--fast computes one node's curve from its requests alone; this scenario has {} \
                 event(s){}; run without --fast",
                config.events.len(),
                if replica_reads {
                    " and clients reading from replicas"
                } else {
                    ""
                }
            ));
        }
        let policy = variant.config.server.maxmemory_policy;
        if !matches!(
            policy,
            MaxmemoryPolicy::LruExact | MaxmemoryPolicy::AllkeysLru
        ) {
            return Err(format!(
                "--fast has a one-pass curve for lru-exact and allkeys-lru only, not {}; run without --fast",
                policy.as_str()
            ));
        }
    }
    let group_of = |variant: &Variant| {
        let mut values = values_of(variant);
        values.remove(size_axis);
        values
    };
    let mut groups: Vec<Vec<String>> = Vec::new();
    for variant in variants {
        let group = group_of(variant);
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    let curves: Vec<Distances> = groups
        .par_iter()
        .map(|group| {
            let first = variants.iter().find(|v| &group_of(v) == group);
            // Every group has at least the variant it came from.
            first.map_or_else(Distances::empty, |variant| {
                Distances::measure(&variant.config)
            })
        })
        .collect();
    Ok(runs
        .iter()
        .zip(variants)
        .map(|(&run, variant)| {
            let group = groups
                .iter()
                .position(|g| *g == group_of(variant))
                .unwrap_or(0);
            let curve = &curves[group];
            let point = curve.point(variant.config.server.maxmemory_bytes);
            SweepRow::from_curve(run, variant, &point, curve.cold_reads())
        })
        .collect())
}

fn header(axes: &[Axis]) -> Vec<String> {
    let mut header = vec!["run".to_string()];
    header.extend(axes.iter().map(|axis| axis.key.clone()));
    header.extend(
        [
            "maxmemory",
            "maxmemory_policy",
            "reads",
            "hits",
            "misses",
            "hit_ratio",
        ]
        .map(String::from),
    );
    header.extend(crate::report::cause_columns("misses"));
    header.extend(
        [
            "evicted_keys",
            "expired_keys",
            "oom_rejected",
            "keys_lost",
            "acknowledged_writes",
            "acknowledged_writes_lost",
            "peak_used_memory",
        ]
        .map(String::from),
    );
    header
}

/// `sweep.csv`.
pub fn write_csv<W: std::io::Write>(
    output: W,
    axes: &[Axis],
    rows: &[SweepRow],
) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(output);
    writer
        .write_record(header(axes))
        .map_err(std::io::Error::other)?;
    for row in rows {
        let mut record = vec![row.run.to_string()];
        record.extend(row.values.iter().cloned());
        record.extend([
            row.maxmemory.to_string(),
            row.maxmemory_policy.clone(),
            row.reads.to_string(),
            row.hits.to_string(),
            row.misses.to_string(),
            format!("{:.6}", row.hit_ratio()),
        ]);
        record.extend(
            Cause::ALL
                .iter()
                .map(|c| row.misses_by_cause[c].to_string()),
        );
        // The one-pass curve does not know these: left empty rather than a false zero.
        let unknown = |value: u64| {
            if row.fast {
                String::new()
            } else {
                value.to_string()
            }
        };
        record.extend([
            unknown(row.evicted_keys),
            unknown(row.expired_keys),
            unknown(row.oom_rejected),
            unknown(row.keys_lost),
            unknown(row.acknowledged_writes),
            unknown(row.acknowledged_writes_lost),
            unknown(row.peak_used_memory),
        ]);
        writer
            .write_record(&record)
            .map_err(std::io::Error::other)?;
    }
    writer.flush()
}

/// A policy's (or, generally, a group's) smallest maxmemory meeting the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// The values of the axes other than maxmemory (the policy, usually).
    pub group: String,
    /// None when no size in the sweep meets the target.
    pub maxmemory: Option<u64>,
}

/// For each combination of the non-maxmemory axes, the smallest maxmemory that meets `target`.
/// Empty unless `server.maxmemory` is one of the axes.
pub fn recommendations(axes: &[Axis], rows: &[SweepRow], target: &Target) -> Vec<Recommendation> {
    let Some(size_axis) = axes.iter().position(Axis::is_maxmemory) else {
        return Vec::new();
    };
    let group_of = |row: &SweepRow| {
        row.values
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != size_axis)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut groups: Vec<String> = Vec::new();
    for row in rows {
        let group = group_of(row);
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let maxmemory = rows
                .iter()
                .filter(|row| group_of(row) == group && target.met_by(row))
                .map(|row| row.maxmemory)
                .min();
            Recommendation { group, maxmemory }
        })
        .collect()
}

/// The sweep charts' data: one series per group (the axes other than maxmemory), its points
/// by size, and each group's recommended size. None unless maxmemory is an axis.
pub fn chart_series(
    axes: &[Axis],
    rows: &[SweepRow],
    target: Option<&Target>,
) -> Option<(Vec<SweepSeries>, Vec<ChartRecommendation>)> {
    let size_axis = axes.iter().position(Axis::is_maxmemory)?;
    let group_of = |row: &SweepRow| {
        let mut values = row.values.clone();
        values.remove(size_axis);
        values.join(" ")
    };
    let mut series: Vec<SweepSeries> = Vec::new();
    for row in rows {
        let group = group_of(row);
        let point = SweepPoint {
            maxmemory_bytes: row.maxmemory,
            hit_ratio: row.hit_ratio(),
            keys_lost: row.keys_lost,
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

/// Which runs meet the target, by their varied values (for sweeps without a size axis).
pub fn variants_meeting(rows: &[SweepRow], target: &Target) -> String {
    let (meeting, missing): (Vec<&SweepRow>, Vec<&SweepRow>) =
        rows.iter().partition(|row| target.met_by(row));
    let names = |rows: &[&SweepRow]| {
        if rows.is_empty() {
            "none".to_string()
        } else {
            rows.iter()
                .map(|r| r.values.join(" "))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    format!(
        "{} {}: {}; does not: {}",
        if meeting.len() == 1 {
            "one variant meets"
        } else {
            "these variants meet"
        },
        target.describe(),
        names(&meeting),
        names(&missing)
    )
}

/// "allkeys-lfu needs 1.40 GiB for a 95.0 % hit ratio; allkeys-lru needs ...".
pub fn recommendation_text(
    recommendations: &[Recommendation],
    target: &Target,
    rows: &[SweepRow],
) -> String {
    let largest = rows.iter().map(|r| r.maxmemory).max().unwrap_or(0);
    let mut parts = Vec::new();
    for recommendation in recommendations {
        let who = if recommendation.group.is_empty() {
            "the scenario".to_string()
        } else {
            recommendation.group.clone()
        };
        parts.push(match recommendation.maxmemory {
            Some(bytes) => format!(
                "{who} needs {} for {}",
                human_bytes(bytes),
                target.describe()
            ),
            None => format!(
                "{who} does not reach {} with up to {}",
                target.describe(),
                human_bytes(largest)
            ),
        });
    }
    parts.join("; ")
}

/// `sweep.json`: the axes, the target, every run and the recommendations.
pub fn to_json(
    axes: &[Axis],
    runs_total: usize,
    target: Option<&Target>,
    rows: &[SweepRow],
    shard: Option<Shard>,
) -> Value {
    let axes_json: Vec<Value> = axes
        .iter()
        .map(|axis| json!({ "key": axis.key, "values": axis.values }))
        .collect();
    let rows_json: Vec<Value> = rows
        .iter()
        .map(|row| {
            let values: serde_json::Map<String, Value> = axes
                .iter()
                .zip(&row.values)
                .map(|(axis, value)| (axis.key.clone(), json!(value)))
                .collect();
            json!({
                "run": row.run,
                "values": values,
                "maxmemory": row.maxmemory,
                "maxmemory_policy": row.maxmemory_policy,
                "reads": row.reads,
                "hits": row.hits,
                "misses": row.misses,
                "hit_ratio": row.hit_ratio(),
                "misses_by_cause": by_cause(&row.misses_by_cause),
                "evicted_keys": row.evicted_keys,
                "expired_keys": row.expired_keys,
                "oom_rejected": row.oom_rejected,
                "keys_lost": row.keys_lost,
                "acknowledged_writes": row.acknowledged_writes,
                "acknowledged_writes_lost": row.acknowledged_writes_lost,
                "loss_rate": row.loss_rate(),
                "peak_used_memory": row.peak_used_memory,
            })
        })
        .collect();
    let rows_json: Vec<Value> = rows
        .iter()
        .zip(rows_json)
        .map(|(row, mut value)| {
            if row.fast {
                for unknown in [
                    "evicted_keys",
                    "expired_keys",
                    "oom_rejected",
                    "keys_lost",
                    "acknowledged_writes",
                    "acknowledged_writes_lost",
                    "loss_rate",
                    "peak_used_memory",
                ] {
                    value[unknown] = Value::Null;
                }
                value["fast"] = json!(true);
            }
            value
        })
        .collect();
    let mut document = json!({
        "axes": axes_json,
        "runs_total": runs_total,
        "runs": rows_json,
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
    pub rows: Vec<SweepRow>,
}

/// Rebuilds the rows of a `sweep.json` (for `vanish merge`).
pub fn rows_from_json(document: &Value) -> Result<SweepFile, String> {
    let field = |value: &Value, name: &str| -> Result<u64, String> {
        value[name]
            .as_u64()
            .ok_or_else(|| format!("sweep.json: a run lacks {name}"))
    };
    let axes: Vec<Axis> = document["axes"]
        .as_array()
        .ok_or("sweep.json: no axes")?
        .iter()
        .map(|axis| {
            Ok(Axis {
                key: axis["key"]
                    .as_str()
                    .ok_or("sweep.json: an axis lacks its key")?
                    .to_string(),
                values: axis["values"]
                    .as_array()
                    .ok_or("sweep.json: an axis lacks its values")?
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
            })
        })
        .collect::<Result<_, String>>()?;
    let runs_total = document["runs_total"]
        .as_u64()
        .ok_or("sweep.json: no runs_total")? as usize;
    let target = Target::from_json(&document["target"]);
    let mut rows = Vec::new();
    for run in document["runs"].as_array().ok_or("sweep.json: no runs")? {
        let mut misses_by_cause = PerCause::default();
        for cause in Cause::ALL {
            misses_by_cause[cause] = run["misses_by_cause"][cause.name()].as_u64().unwrap_or(0);
        }
        rows.push(SweepRow {
            run: field(run, "run")? as usize,
            values: axes
                .iter()
                .map(|axis| {
                    run["values"][&axis.key]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect(),
            maxmemory: field(run, "maxmemory")?,
            maxmemory_policy: run["maxmemory_policy"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            reads: field(run, "reads")?,
            hits: field(run, "hits")?,
            misses: field(run, "misses")?,
            misses_by_cause,
            evicted_keys: run["evicted_keys"].as_u64().unwrap_or(0),
            expired_keys: run["expired_keys"].as_u64().unwrap_or(0),
            oom_rejected: run["oom_rejected"].as_u64().unwrap_or(0),
            keys_lost: run["keys_lost"].as_u64().unwrap_or(0),
            acknowledged_writes: run["acknowledged_writes"].as_u64().unwrap_or(0),
            acknowledged_writes_lost: run["acknowledged_writes_lost"].as_u64().unwrap_or(0),
            peak_used_memory: run["peak_used_memory"].as_u64().unwrap_or(0),
            fast: run["fast"].as_bool().unwrap_or(false),
        });
    }
    Ok(SweepFile {
        axes,
        runs_total,
        target,
        rows,
    })
}

/// The terminal table of a sweep.
pub fn table(axes: &[Axis], rows: &[SweepRow]) -> String {
    let mut out = String::new();
    let widths: Vec<usize> = axes
        .iter()
        .enumerate()
        .map(|(i, axis)| {
            rows.iter()
                .map(|r| r.values[i].len())
                .chain([axis.key.len()])
                .max()
                .unwrap_or(8)
        })
        .collect();
    for (axis, width) in axes.iter().zip(&widths) {
        let _ = write!(out, "{:<width$}  ", axis.key);
    }
    let _ = writeln!(
        out,
        "{:>9}  {:>12}  {:>12}  {:>12}",
        "hit ratio", "misses", "evicted", "keys lost"
    );
    for row in rows {
        for (value, width) in row.values.iter().zip(&widths) {
            let shown = if value.bytes().all(|b| b.is_ascii_digit()) && value.len() > 6 {
                value
                    .parse()
                    .map(human_bytes)
                    .unwrap_or_else(|_| value.clone())
            } else {
                value.clone()
            };
            let _ = write!(out, "{shown:<width$}  ");
        }
        let _ = writeln!(
            out,
            "{:>8.2}%  {:>12}  {:>12}  {:>12}",
            row.hit_ratio() * 100.0,
            thousands(row.misses),
            thousands(row.evicted_keys),
            thousands(row.keys_lost)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_geometric_and_lists_are_kept() {
        let axis = Axis::parse("server.maxmemory=64mb..1gb:5").unwrap();
        assert_eq!(
            axis.values,
            vec![
                "67108864",
                "134217728",
                "268435456",
                "536870912",
                "1073741824"
            ]
        );
        let axis = Axis::parse("server.maxmemory-policy=allkeys-lru, allkeys-lfu").unwrap();
        assert_eq!(axis.values, vec!["allkeys-lru", "allkeys-lfu"]);
        let axis = Axis::parse("client.0.rate=100..10000:3").unwrap();
        assert_eq!(axis.values, vec!["100", "1000", "10000"]);
        assert!(Axis::parse("server.maxmemory=1mb..2mb").is_err());
        assert!(Axis::parse("server.maxmemory=1mb..2mb:1").is_err());
        assert!(Axis::parse("server.maxmemory=0..2mb:3").is_err());
        assert!(Axis::parse("maxmemory").is_err());
    }

    #[test]
    fn grids_vary_the_first_axis_slowest() {
        let axes = [
            Axis {
                key: "a".into(),
                values: vec!["1".into(), "2".into()],
            },
            Axis {
                key: "b".into(),
                values: vec!["x".into(), "y".into()],
            },
        ];
        let points = grid(&axes);
        assert_eq!(points.len(), 4);
        assert_eq!(points[1], vec!["a=1", "b=y"]);
    }

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> = (1..=3)
            .map(|k| Shard::parse(&format!("{k}/3")).unwrap())
            .collect();
        for run in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.owns(run)).count(), 1);
        }
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert!(Shard::parse("x").is_err());
    }

    #[test]
    fn targets() {
        assert_eq!(
            Target::parse("hit-ratio >= 0.95").unwrap(),
            Target::HitRatioAtLeast(0.95)
        );
        assert_eq!(
            Target::parse("loss-rate<=0.001").unwrap(),
            Target::LossRateAtMost(0.001)
        );
        assert!(Target::parse("hit-ratio>=1.5").is_err());
        assert!(Target::parse("loss-rate>=0.001").is_err());
        assert!(Target::parse("loss-rate<=2").is_err());
    }
}
