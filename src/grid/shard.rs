//! Deterministic shards of a grid (`--shard K/N`), and joining the runs of every shard again:
//! the digest that tells whether shards ran the same scenario, the check that they are the N
//! shards of one split, each once, and the check that their runs make the whole grid.

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

    /// `K/N`, as `--shard` takes it.
    pub fn label(&self) -> String {
        format!("{}/{}", self.index + 1, self.count)
    }

    /// Whether run `run` (its index in the grid) belongs to this shard: runs are dealt round
    /// robin, so every shard gets a similar mix of sizes.
    pub fn owns(&self, run: usize) -> bool {
        run % self.count == self.index
    }
}

/// A stable digest of a scenario's effective text: 64-bit FNV-1a (offset basis
/// 0xcbf29ce484222325, prime 0x100000001b3) over its UTF-8 bytes, written `fnv1a64:` and 16
/// hex digits. The same on every machine; it tells apart scenarios, it does not resist forgery.
pub fn scenario_digest(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("fnv1a64:{hash:016x}")
}

/// Checks that `shards` (where each comes from, and its `--shard`; none for a whole sweep,
/// which is shard 1/1) are the N shards of one split, each once.
pub fn check_shards(shards: &[(String, Option<Shard>)]) -> Result<(), String> {
    let whole = Shard { index: 0, count: 1 };
    let Some((first_place, first)) = shards.first() else {
        return Err("merge needs at least one folder".to_string());
    };
    let first = first.unwrap_or(whole);
    let mut seen: Vec<Option<&str>> = vec![None; first.count];
    for (place, shard) in shards {
        let shard = shard.unwrap_or(whole);
        if shard.count != first.count {
            return Err(format!(
                "{place} is shard {} but {first_place} is shard {}: shards of different splits",
                shard.label(),
                first.label()
            ));
        }
        if let Some(earlier) = seen[shard.index] {
            return Err(format!(
                "shard {} is given twice: {earlier} and {place}",
                shard.label()
            ));
        }
        seen[shard.index] = Some(place);
    }
    let missing: Vec<String> = (0..first.count)
        .filter(|index| seen[*index].is_none())
        .map(|index| format!("{}/{}", index + 1, first.count))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("missing shards: {}", missing.join(", ")))
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

    #[test]
    fn the_digest_is_fnv1a_64() {
        // The published test vectors of 64-bit FNV-1a.
        assert_eq!(scenario_digest(""), "fnv1a64:cbf29ce484222325");
        assert_eq!(scenario_digest("a"), "fnv1a64:af63dc4c8601ec8c");
        assert_eq!(scenario_digest("foobar"), "fnv1a64:85944171f73967e8");
    }

    #[test]
    fn shards_must_be_each_shard_of_one_split_once() {
        let shard = |k: usize, n: usize| Some(Shard::parse(&format!("{k}/{n}")).unwrap());
        let named = |list: &[Option<Shard>]| -> Vec<(String, Option<Shard>)> {
            list.iter()
                .enumerate()
                .map(|(i, s)| (format!("dir{i}"), *s))
                .collect()
        };
        assert!(check_shards(&named(&[shard(2, 2), shard(1, 2)])).is_ok());
        assert!(check_shards(&named(&[None])).is_ok());
        let error = check_shards(&named(&[shard(1, 3), shard(1, 3), shard(2, 3)])).unwrap_err();
        assert_eq!(error, "shard 1/3 is given twice: dir0 and dir1");
        let error = check_shards(&named(&[shard(1, 4), shard(3, 4)])).unwrap_err();
        assert_eq!(error, "missing shards: 2/4, 4/4");
        let error = check_shards(&named(&[shard(1, 3), shard(2, 4)])).unwrap_err();
        assert!(
            error.contains("dir1 is shard 2/4 but dir0 is shard 1/3"),
            "{error}"
        );
        let error = check_shards(&named(&[None, shard(2, 2)])).unwrap_err();
        assert!(error.contains("shard 2/2 but dir0 is shard 1/1"), "{error}");
    }
}
