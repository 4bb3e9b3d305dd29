//! Deterministic shards of a grid (`--shard K/N`), and joining the runs of every shard again.

use super::Figures;

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

/// The rows of every shard in run order, refused unless they are each run of a grid of
/// `runs_total` exactly once.
pub fn merge_runs(runs_total: usize, mut rows: Vec<Figures>) -> Result<Vec<Figures>, String> {
    rows.sort_by_key(|row| row.run);
    let duplicates = rows.windows(2).any(|pair| pair[0].run == pair[1].run);
    let beyond: Vec<usize> = rows
        .iter()
        .map(|row| row.run)
        .filter(|run| *run >= runs_total)
        .collect();
    let missing: Vec<usize> = (0..runs_total)
        .filter(|run| rows.binary_search_by_key(run, |row| row.run).is_err())
        .collect();
    if !duplicates && beyond.is_empty() && missing.is_empty() {
        return Ok(rows);
    }
    Err(format!(
        "the shards do not make one sweep: {} of {runs_total} runs present{}{}{}",
        rows.len(),
        if duplicates { ", some twice" } else { "" },
        if beyond.is_empty() {
            String::new()
        } else {
            format!(", runs {beyond:?} beyond the grid")
        },
        if missing.is_empty() {
            String::new()
        } else {
            format!(", missing runs {missing:?}")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
