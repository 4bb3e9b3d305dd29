//! `--vary` axes, lists or geometric ranges, and the grid of points they span.

use crate::scenario::units::parse_size_bytes;

/// Most runs one sweep or compare may ask for without `--force`: at a few seconds a run, a day
/// of work on a few cores.
pub const RUNS_MAX: usize = 10_000;
/// Most runs even with `--force`: the grid's points and validated variants are held in memory.
pub const RUNS_FORCED_MAX: usize = 1_000_000;

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
            Some((low, rest)) => range(low, rest).map_err(|why| format!("--vary {spec}: {why}"))?,
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

/// `A..B:N` once split at `..`: `low` is A, `rest` is `B:N`.
fn range(low: &str, rest: &str) -> Result<Vec<String>, String> {
    let (high, count) = rest
        .rsplit_once(':')
        .ok_or("a range needs a point count, as in 64mb..2gb:12")?;
    let count: usize = count
        .trim()
        .parse()
        .ok()
        .filter(|n| (2..=1000).contains(n))
        .ok_or("the point count must be a whole number from 2 to 1000")?;
    geometric(low.trim(), high.trim(), count)
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

/// Refuses a key varied by two axes: the later axis's `--set` would win in every point, and
/// the rows would carry the earlier axis's values beside figures they did not produce.
pub fn check_distinct(axes: &[Axis]) -> Result<(), String> {
    for (index, axis) in axes.iter().enumerate() {
        if let Some(first) = axes[..index].iter().find(|a| a.key == axis.key) {
            let values: Vec<&str> = first
                .values
                .iter()
                .chain(&axis.values)
                .map(String::as_str)
                .collect();
            return Err(format!(
                "the axis {} is given twice; give all its values in one, as in --vary {}={}",
                axis.key,
                axis.key,
                values.join(",")
            ));
        }
    }
    Ok(())
}

/// How many points `points` would give, without building them (saturating).
pub fn grid_size(axes: &[Axis]) -> usize {
    axes.iter()
        .fold(1usize, |size, axis| size.saturating_mul(axis.values.len()))
}

/// Refuses a grid past `RUNS_MAX` unless `force`, and past `RUNS_FORCED_MAX` always.
pub fn check_grid_size(axes: &[Axis], force: bool) -> Result<usize, String> {
    let size = grid_size(axes);
    if size > RUNS_FORCED_MAX {
        return Err(format!(
            "the grid has {size} runs; the limit is {RUNS_FORCED_MAX} even with --force \
             (use fewer points)"
        ));
    }
    if size > RUNS_MAX && !force {
        return Err(format!(
            "the grid has {size} runs (the product of the axes' lengths); the limit is \
             {RUNS_MAX}: use fewer points, or pass --force (with shards over several machines, \
             say)"
        ));
    }
    Ok(size)
}

/// Worker threads for `runs` runs: as requested (all `cores` by default), but at most one per
/// core (more only add switching: 10,000 threads turned a 0.05 s compare into 43 s) and one per
/// run, at least one. Also says whether the cores lowered the request, for a note.
pub fn worker_threads(requested: Option<usize>, cores: usize, runs: usize) -> (usize, bool) {
    let cores = cores.max(1);
    let wanted = requested.unwrap_or(cores).max(1);
    let lowered_by_cores = wanted > cores;
    (wanted.min(cores).min(runs.max(1)), lowered_by_cores)
}

/// Every combination of the axes' values, the first axis varying slowest; each as `--set`s.
pub fn points(axes: &[Axis]) -> Vec<Vec<String>> {
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
    fn an_axis_given_twice_is_refused_by_name() {
        let axes = [
            Axis::parse("server.maxmemory=16mb,32mb").unwrap(),
            Axis::parse("server.hz=10").unwrap(),
            Axis::parse(" server.maxmemory =64mb").unwrap(),
        ];
        let error = check_distinct(&axes).unwrap_err();
        assert!(error.contains("server.maxmemory is given twice"), "{error}");
        assert!(error.contains("server.maxmemory=16mb,32mb,64mb"), "{error}");
        assert!(check_distinct(&axes[..2]).is_ok());
    }

    #[test]
    fn grids_past_the_limit_need_force() {
        let two_ranges = [
            Axis::parse("server.maxmemory=1mb..1gb:500").unwrap(),
            Axis::parse("client.0.rate=10..10000:500").unwrap(),
        ];
        assert_eq!(grid_size(&two_ranges), 250_000);
        let refused = check_grid_size(&two_ranges, false).unwrap_err();
        assert!(
            refused.contains("250000 runs") && refused.contains("--force"),
            "{refused}"
        );
        assert_eq!(check_grid_size(&two_ranges, true), Ok(250_000));
        let three = [
            two_ranges[0].clone(),
            two_ranges[1].clone(),
            two_ranges[1].clone(),
        ];
        assert!(check_grid_size(&three, true).is_err());
        assert_eq!(check_grid_size(&two_ranges[..1], false), Ok(500));
    }

    #[test]
    fn threads_are_bounded_by_the_cores_and_the_runs() {
        assert_eq!(worker_threads(Some(10_000), 2, 100), (2, true));
        assert_eq!(worker_threads(Some(2), 8, 100), (2, false));
        assert_eq!(worker_threads(None, 8, 3), (3, false));
        assert_eq!(worker_threads(Some(0), 8, 3), (1, false));
        assert_eq!(worker_threads(Some(5), 8, 3), (3, false));
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
        let points = points(&axes);
        assert_eq!(points.len(), 4);
        assert_eq!(points[1], vec!["a=1", "b=y"]);
    }
}
