//! `[[replica]]` tables, a client's `read-from`, `[persistence]`, and the node names events
//! refer to.

use std::ops::{Range, RangeInclusive};

use toml::Spanned;

use super::check::boolean;
use super::check::{
    duration_value_us, integer_in, mismatch, optional, reject_inapplicable, required, size_bytes,
    span_of, text, Checked,
};
use super::error::Problem;
use super::keywords::{
    choice, lookup, LagDistribution, ReadFromKind, APPENDFSYNC, LAG_DISTRIBUTIONS, READ_FROM,
};
use super::raw::{Field, RawPersistence, RawReplica, RawValueSize, Scalar, Table};
use crate::sim::config::{
    LinkLag, PersistenceConfig, ReadFrom, ReplicaConfig, SocketBuffers,
    DEFAULT_BANDWIDTH_BYTES_PER_S,
};

/// `[persistence]`: `save` points as redis.conf writes them, `appendonly`, `appendfsync`.
pub(super) fn persistence(
    raw: Option<&Spanned<Table<RawPersistence>>>,
) -> Checked<PersistenceConfig> {
    let mut config = PersistenceConfig::default();
    let Some(raw) = raw else {
        return Ok(config);
    };
    let fields: &RawPersistence = raw.get_ref();
    if let Some(field) = &fields.save {
        let expected = "save points as in redis.conf, such as \"3600 1 300 100\", or \"\" for none";
        let Scalar::String(text) = field.get_ref() else {
            return Err(mismatch(field, "persistence.save", expected));
        };
        let numbers: Option<Vec<u64>> = text.split_whitespace().map(|n| n.parse().ok()).collect();
        match numbers {
            Some(numbers) if numbers.len() % 2 == 0 && numbers.iter().all(|n| *n > 0) => {
                config.save_points = numbers.chunks(2).map(|pair| (pair[0], pair[1])).collect();
            }
            _ => return Err(mismatch(field, "persistence.save", expected)),
        }
    }
    if let Some(field) = &fields.appendonly {
        config.appendonly = boolean(field, "persistence.appendonly")?;
    }
    if let Some(field) = &fields.appendfsync {
        config.appendfsync = choice(field, "persistence.appendfsync", &APPENDFSYNC)?;
    }
    Ok(config)
}

/// A node named in an event: `"primary"` or a replica's name.
pub(super) fn node(field: &Field, path: &str, replicas: &[ReplicaConfig]) -> Checked<usize> {
    let expected = || {
        let mut names = vec!["\"primary\"".to_string()];
        names.extend(replicas.iter().map(|r| format!("{:?}", r.name)));
        format!("one of {}", names.join(", "))
    };
    match field.get_ref() {
        Scalar::String(name) if name == "primary" => Ok(0),
        Scalar::String(name) => replicas
            .iter()
            .position(|r| &r.name == name)
            .map(|index| index + 1)
            .ok_or_else(|| mismatch(field, path, expected())),
        _ => Err(mismatch(field, path, expected())),
    }
}

/// Most replicas a primary may have here.
pub const REPLICAS_MAX: usize = 16;
/// A link lag longer than this is surely a mistake (the replica would time out).
const LAG_US_MAX: u64 = 60_000_000;
/// Link lag when none is given: a replica on the same network.
const LAG_US_DEFAULT: u64 = 1_000;
/// Kernel socket buffers: from one page to `net.core.[rw]mem_max`'s ceiling.
const SOCKET_BUFFER_BYTES: RangeInclusive<u64> = 4 << 10..=2 << 30;
/// Link bandwidth, bytes per second: from a modem-like 1kb/s to 100gb/s.
const BANDWIDTH_BYTES_PER_S: RangeInclusive<u64> = 1 << 10..=100 << 30;

pub(super) fn replicas(raw: &[Spanned<Table<RawReplica>>]) -> Checked<Vec<ReplicaConfig>> {
    if let Some(extra) = raw.get(REPLICAS_MAX) {
        return Err(Problem::new(
            extra.span(),
            format!("replica[{REPLICAS_MAX}]"),
            format!("at most {REPLICAS_MAX} replicas per primary"),
        ));
    }
    let mut replicas: Vec<ReplicaConfig> = Vec::with_capacity(raw.len());
    for (index, raw_replica) in raw.iter().enumerate() {
        let fields: &RawReplica = raw_replica.get_ref();
        let at = |name: &str| format!("replica[{index}].{name}");
        let name = text(&fields.name, &at("name"), "a name")?;
        let valid = !name.is_empty()
            && name != "primary"
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        let unique = !replicas.iter().any(|other| other.name == name);
        if !valid || !unique {
            return Err(mismatch(
                &fields.name,
                &at("name"),
                "a unique name of letters, digits, '.', '_' and '-' other than \"primary\"",
            ));
        }
        let priority = optional(&fields.replica_priority, 100, |field| {
            integer_in(field, &at("replica-priority"), 0..=1_000_000)
        })?;
        let lag = match &fields.lag {
            Some(raw_lag) => link_lag(raw_lag, &at("lag"))?,
            None => LinkLag::Fixed { us: LAG_US_DEFAULT },
        };
        let bandwidth_bytes_per_s =
            optional(&fields.bandwidth, DEFAULT_BANDWIDTH_BYTES_PER_S, |field| {
                bandwidth(field, &at("bandwidth"))
            })?;
        let defaults = SocketBuffers::LOOPBACK;
        let send_max_bytes = optional(&fields.send_buffer_max, defaults.send_max_bytes, |field| {
            socket_buffer(field, &at("send-buffer-max"))
        })?;
        let send_bytes = optional(&fields.send_buffer, defaults.send_bytes, |field| {
            socket_buffer(field, &at("send-buffer"))
        })?;
        if send_bytes > send_max_bytes {
            let field = fields
                .send_buffer
                .as_ref()
                .or(fields.send_buffer_max.as_ref());
            if let Some(field) = field {
                return Err(mismatch(
                    field,
                    &at("send-buffer"),
                    format!("send-buffer at most send-buffer-max ({send_max_bytes} bytes)"),
                ));
            }
        }
        let buffers = SocketBuffers {
            send_bytes,
            send_max_bytes,
            receive_bytes: optional(&fields.receive_buffer, defaults.receive_bytes, |field| {
                socket_buffer(field, &at("receive-buffer"))
            })?,
        };
        replicas.push(ReplicaConfig {
            name: name.to_string(),
            priority,
            lag,
            bandwidth_bytes_per_s,
            buffers,
        });
    }
    Ok(replicas)
}

/// A kernel socket buffer: Linux never goes below one page (`tcp_wmem[0]`, `tcp_rmem[0]`).
fn socket_buffer(field: &Field, path: &str) -> Checked<u64> {
    let bytes = size_bytes(field, path)?;
    if SOCKET_BUFFER_BYTES.contains(&bytes) {
        Ok(bytes)
    } else {
        Err(mismatch(
            field,
            path,
            "a socket buffer size from 4kb to 2gb",
        ))
    }
}

/// `bandwidth = "100mb"`: a size per second.
fn bandwidth(field: &Field, path: &str) -> Checked<u64> {
    let bytes_per_s = size_bytes(field, path)?;
    if BANDWIDTH_BYTES_PER_S.contains(&bytes_per_s) {
        Ok(bytes_per_s)
    } else {
        Err(mismatch(
            field,
            path,
            "a bandwidth from 1kb to 100gb (bytes per second)",
        ))
    }
}

fn lag_us(field: &Field, path: &str) -> Checked<u64> {
    let us = duration_value_us(field, path)?;
    if us > LAG_US_MAX {
        return Err(mismatch(field, path, "a lag of at most 60s (repl-timeout)"));
    }
    Ok(us)
}

fn link_lag(raw: &Spanned<RawValueSize>, path: &str) -> Checked<LinkLag> {
    let span: Range<usize> = raw.span();
    match raw.get_ref() {
        RawValueSize::Fixed(scalar) => {
            let field = Spanned::new(span, scalar.clone());
            Ok(LinkLag::Fixed {
                us: lag_us(&field, path)?,
            })
        }
        RawValueSize::Distribution(distribution) => {
            let at = |name: &str| format!("{path}.{name}");
            let &(name, kind) = lookup(&distribution.dist, &at("dist"), &LAG_DISTRIBUTIONS)?;
            let parameters = [
                ("min", span_of(&distribution.min)),
                ("max", span_of(&distribution.max)),
                ("mean", span_of(&distribution.mean)),
                ("stddev", span_of(&distribution.stddev)),
                ("median", span_of(&distribution.median)),
                ("p99", span_of(&distribution.p99)),
            ];
            let context = format!("dist = \"{name}\"");
            match kind {
                LagDistribution::Uniform => {
                    reject_inapplicable(&parameters, &["min", "max"], path, &context)?;
                    let why = "dist = \"uniform\" needs min and max";
                    let min_field = required(&distribution.min, &span, path, "min", why)?;
                    let max_field = required(&distribution.max, &span, path, "max", why)?;
                    let min_us = lag_us(min_field, &at("min"))?;
                    let max_us = lag_us(max_field, &at("max"))?;
                    if max_us < min_us {
                        return Err(mismatch(max_field, &at("max"), "a lag at least min"));
                    }
                    Ok(LinkLag::Uniform { min_us, max_us })
                }
                LagDistribution::Lognormal => {
                    reject_inapplicable(&parameters, &["median", "p99"], path, &context)?;
                    let why = "dist = \"lognormal\" needs median and p99";
                    let median_field = required(&distribution.median, &span, path, "median", why)?;
                    let p99_field = required(&distribution.p99, &span, path, "p99", why)?;
                    let median_us = lag_us(median_field, &at("median"))?;
                    let p99_us = lag_us(p99_field, &at("p99"))?;
                    if median_us == 0 || p99_us <= median_us {
                        return Err(mismatch(
                            p99_field,
                            &at("p99"),
                            "a p99 above a non-zero median",
                        ));
                    }
                    Ok(LinkLag::Lognormal {
                        median_us: median_us as f64,
                        p99_us: p99_us as f64,
                    })
                }
            }
        }
    }
}

/// `read-from = "primary" | "replica" | "<replica name>"`.
pub(super) fn read_from(
    field: &Option<Field>,
    path: &str,
    replicas: &[ReplicaConfig],
) -> Checked<ReadFrom> {
    let Some(field) = field else {
        return Ok(ReadFrom::Primary);
    };
    let expected = || {
        let mut names: Vec<String> = READ_FROM
            .iter()
            .map(|(keyword, _)| format!("{keyword:?}"))
            .collect();
        names.extend(replicas.iter().map(|r| format!("{:?}", r.name)));
        format!("one of {}", names.join(", "))
    };
    let Scalar::String(value) = field.get_ref() else {
        return Err(mismatch(field, path, expected()));
    };
    // Compared exactly, as replica names are; "replica" means any only when there is one.
    let word = READ_FROM
        .iter()
        .find(|(keyword, _)| keyword == value)
        .map(|(_, kind)| *kind);
    match word {
        Some(ReadFromKind::Primary) => Ok(ReadFrom::Primary),
        Some(ReadFromKind::AnyReplica) if !replicas.is_empty() => Ok(ReadFrom::AnyReplica),
        Some(ReadFromKind::AnyReplica) | None => replicas
            .iter()
            .position(|r| &r.name == value)
            .map(ReadFrom::Replica)
            .ok_or_else(|| mismatch(field, path, expected())),
    }
}
