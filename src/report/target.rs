//! What a sweep concludes: the target a configuration must meet (`--target`), which runs meet
//! it, and for each policy the smallest maxmemory that does.

use serde_json::{json, Value};

use crate::grid::{Axis, Figures};
use crate::report::columns::loss_rate;
use crate::report::summary::human_bytes;

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

    /// Whether a run meets the target; a `--fast` run does not know its losses.
    fn met_by(&self, row: &Figures) -> bool {
        match self {
            Target::HitRatioAtLeast(at_least) => {
                row.reads > 0 && row.hits as f64 / row.reads as f64 >= *at_least
            }
            Target::LossRateAtMost(at_most) => !row.fast && loss_rate(row) <= *at_most,
        }
    }

    pub fn to_json(self) -> Value {
        match self {
            Target::HitRatioAtLeast(at_least) => json!({ "hit_ratio_at_least": at_least }),
            Target::LossRateAtMost(at_most) => json!({ "loss_rate_at_most": at_most }),
        }
    }

    /// The inverse of [`Target::to_json`]; `null` is no target.
    pub fn from_json(value: &Value) -> Result<Option<Target>, String> {
        if value.is_null() {
            return Ok(None);
        }
        let share = |name: &str| value.get(name).map(|share| share.as_f64());
        match (share("hit_ratio_at_least"), share("loss_rate_at_most")) {
            (Some(Some(at_least)), None) => Ok(Some(Target::HitRatioAtLeast(at_least))),
            (None, Some(Some(at_most))) => Ok(Some(Target::LossRateAtMost(at_most))),
            _ => Err("target is not one hit_ratio_at_least or loss_rate_at_most".to_string()),
        }
    }
}

/// A policy's (or, generally, a group's) smallest maxmemory meeting the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// The values of the axes other than maxmemory (the policy, usually).
    pub group: String,
    /// None when no size in the sweep meets the target.
    pub maxmemory: Option<u64>,
}

/// The values of a row on the axes other than `size_axis`, joined by spaces: its group.
pub fn group_of(row: &Figures, size_axis: usize) -> String {
    let mut values = row.values.clone();
    values.remove(size_axis);
    values.join(" ")
}

/// For each combination of the non-maxmemory axes, the smallest maxmemory that meets `target`.
/// Empty unless `server.maxmemory` is one of the axes.
pub fn recommendations(axes: &[Axis], rows: &[Figures], target: &Target) -> Vec<Recommendation> {
    let Some(size_axis) = axes.iter().position(Axis::is_maxmemory) else {
        return Vec::new();
    };
    let mut groups: Vec<String> = Vec::new();
    for row in rows {
        let group = group_of(row, size_axis);
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let maxmemory = rows
                .iter()
                .filter(|row| group_of(row, size_axis) == group && target.met_by(row))
                .map(|row| row.maxmemory)
                .min();
            Recommendation { group, maxmemory }
        })
        .collect()
}

/// Which runs meet the target, by their varied values (for sweeps without a size axis).
pub fn variants_meeting(rows: &[Figures], target: &Target) -> String {
    let (meeting, missing): (Vec<&Figures>, Vec<&Figures>) =
        rows.iter().partition(|row| target.met_by(row));
    let names = |rows: &[&Figures]| {
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
    rows: &[Figures],
) -> String {
    // Every recommendation is a group of some row: with any to print there is a row.
    let largest = rows.iter().map(|r| r.maxmemory).fold(0, u64::max);
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn targets_read_back_what_they_write() {
        for target in [Target::HitRatioAtLeast(0.9), Target::LossRateAtMost(0.01)] {
            assert_eq!(Target::from_json(&target.to_json()), Ok(Some(target)));
        }
        assert_eq!(Target::from_json(&Value::Null), Ok(None));
        assert!(Target::from_json(&json!({ "hit_ratio_at_least": "high" })).is_err());
    }
}
