//! What decides how a failure plays out: `[sentinel]` (who notices the primary is gone and
//! promotes a replica), a client's connection (`discovery`, `discovery-delay`, `wait`), and the
//! sides of a `partition` event.
//!
//! Nodes are named as events name them (`"primary"` is node 0, replica i is node i + 1; see
//! `replicas::node`); a partition also places clients, by name.

use std::ops::RangeInclusive;

use toml::Spanned;

use super::check::{
    because, duration_value_us, format_duration, integer_in, mismatch, one_of, optional, Checked,
};
use super::error::Problem;
use super::keywords::{optional_choice, DiscoveryKind, DISCOVERY};
use super::raw::{Field, RawClient, RawSentinel, RawWait, Scalar, Table};
use crate::sim::config::{
    ClientConfig, ConnectionConfig, Discovery, Partition, ReplicaConfig, SentinelConfig,
    SentinelHost, WaitConfig, MICROS_PER_SECOND,
};

const SENTINELS: RangeInclusive<usize> = 1..=32;
const DOWN_AFTER_MS: RangeInclusive<u64> = 1..=3_600_000;
const FAILOVER_TIMEOUT_MS: RangeInclusive<u64> = 1..=86_400_000;
const PARALLEL_SYNCS: RangeInclusive<u32> = 1..=16;
/// As `ConnectionConfig::default()`.
const DISCOVERY_DELAY_US_DEFAULT: u64 = MICROS_PER_SECOND;
const DISCOVERY_DELAY_US_MAX: u64 = 3_600 * MICROS_PER_SECOND;
const WAIT_REPLICAS: RangeInclusive<u32> = 1..=16;
const WAIT_TIMEOUT_US_MAX: u64 = 60 * MICROS_PER_SECOND;
/// Sides a partition may have; each fits a `u8`.
const SIDES: RangeInclusive<usize> = 2..=16;

/// `[sentinel]`; absent, nothing fails over on its own.
pub(super) fn sentinel(
    raw: Option<&Spanned<Table<RawSentinel>>>,
    replicas: &[ReplicaConfig],
    clients: &[ClientConfig],
) -> Checked<Option<SentinelConfig>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if replicas.is_empty() {
        return Err(Problem::new(
            raw.span(),
            "sentinel",
            "Sentinel needs at least one [[replica]] to promote",
        ));
    }
    let fields: &RawSentinel = raw.get_ref();
    let nodes = replicas.len() + 1;
    let mut config = SentinelConfig::beside_each(nodes);
    if let (Some(_), Some(count)) = (&fields.hosts, &fields.sentinels) {
        return Err(Problem::new(
            count.span(),
            "sentinel.sentinels",
            "expected either hosts (where each Sentinel runs) or sentinels (how many, placed \
             round-robin), found both",
        ));
    }
    config.hosts = match (&fields.hosts, &fields.sentinels) {
        (Some(hosts), _) => sentinel_hosts(hosts, replicas, clients)?,
        (None, Some(count)) => {
            let count = integer_in(count, "sentinel.sentinels", SENTINELS)?;
            (0..count)
                .map(|sentinel| SentinelHost::Node(sentinel % nodes))
                .collect()
        }
        (None, None) => config.hosts,
    };
    // At most 32 Sentinels, so the count fits a u32.
    let sentinels = config.hosts.len() as u32;
    config.quorum = optional(&fields.quorum, sentinels / 2 + 1, |field| {
        integer_in(field, "sentinel.quorum", 1..=sentinels)
            .map_err(|problem| because(problem, format!("there are {sentinels} Sentinels")))
    })?;
    let milliseconds = |field: &Option<Field>, name: &str, range, default_us| {
        optional(field, default_us, |field| {
            integer_in(field, &format!("sentinel.{name}"), range).map(|ms: u64| ms * 1_000)
        })
    };
    config.down_after_us = milliseconds(
        &fields.down_after_milliseconds,
        "down-after-milliseconds",
        DOWN_AFTER_MS,
        config.down_after_us,
    )?;
    config.failover_timeout_us = milliseconds(
        &fields.failover_timeout,
        "failover-timeout",
        FAILOVER_TIMEOUT_MS,
        config.failover_timeout_us,
    )?;
    config.parallel_syncs = optional(&fields.parallel_syncs, config.parallel_syncs, |field| {
        integer_in(field, "sentinel.parallel-syncs", PARALLEL_SYNCS)
    })?;
    Ok(Some(config))
}

/// `hosts = ["primary", "r1", "web"]`: the node each Sentinel runs beside, or the client on
/// whose machine it runs.
fn sentinel_hosts(
    hosts: &Spanned<Vec<Field>>,
    replicas: &[ReplicaConfig],
    clients: &[ClientConfig],
) -> Checked<Vec<SentinelHost>> {
    let count = hosts.get_ref().len();
    if !SENTINELS.contains(&count) {
        let found = if count == 0 {
            "an empty list".to_string()
        } else {
            format!("{count} names")
        };
        return Err(Problem::new(
            hosts.span(),
            "sentinel.hosts",
            format!(
                "expected {} to {} node or client names (one per Sentinel), found {found}",
                SENTINELS.start(),
                SENTINELS.end()
            ),
        ));
    }
    hosts
        .get_ref()
        .iter()
        .enumerate()
        .map(|(index, host)| endpoint(host, &format!("sentinel.hosts[{index}]"), replicas, clients))
        .collect()
}

/// A client's `discovery`, `discovery-delay` and `wait`, generated or replaying a trace.
pub(super) fn connection(fields: &RawClient, path: &str) -> Checked<ConnectionConfig> {
    let at = |name: &str| format!("{path}.{name}");
    let kind = optional_choice(
        &fields.discovery,
        &at("discovery"),
        &DISCOVERY,
        DiscoveryKind::Sentinel,
    )?;
    let discovery = match kind {
        DiscoveryKind::Fixed => {
            if let Some(delay) = &fields.discovery_delay {
                return Err(Problem::new(
                    delay.span(),
                    at("discovery-delay"),
                    "`discovery-delay` does not apply to discovery = \"fixed\": the client keeps \
                     the address it started with and never asks a Sentinel",
                ));
            }
            Discovery::Fixed
        }
        DiscoveryKind::Sentinel => {
            let every_us = optional(
                &fields.discovery_delay,
                DISCOVERY_DELAY_US_DEFAULT,
                |field| positive_duration_us(field, &at("discovery-delay"), DISCOVERY_DELAY_US_MAX),
            )?;
            Discovery::Sentinel { every_us }
        }
    };
    let wait = fields
        .wait
        .as_ref()
        .map(|raw| wait(raw.get_ref(), &at("wait")))
        .transpose()?;
    Ok(ConnectionConfig { discovery, wait })
}

/// `wait = { replicas = 1, timeout = "100ms" }`.
fn wait(raw: &RawWait, path: &str) -> Checked<WaitConfig> {
    let at = |name: &str| format!("{path}.{name}");
    Ok(WaitConfig {
        replicas: integer_in(&raw.replicas, &at("replicas"), WAIT_REPLICAS)?,
        timeout_us: positive_duration_us(&raw.timeout, &at("timeout"), WAIT_TIMEOUT_US_MAX)?,
    })
}

fn positive_duration_us(field: &Field, path: &str, max_us: u64) -> Checked<u64> {
    let us = duration_value_us(field, path)?;
    if (1..=max_us).contains(&us) {
        Ok(us)
    } else {
        Err(mismatch(
            field,
            path,
            format!("a duration from 1us to {}", format_duration(max_us)),
        ))
    }
}

/// A node (`"primary"` or a replica's name) or a client, by name.
fn endpoint(
    field: &Field,
    path: &str,
    replicas: &[ReplicaConfig],
    clients: &[ClientConfig],
) -> Checked<SentinelHost> {
    let node_names: Vec<&str> = std::iter::once("primary")
        .chain(replicas.iter().map(|replica| replica.name.as_str()))
        .collect();
    let client_names: Vec<&str> = clients.iter().map(|client| client.name.as_str()).collect();
    let unknown = || {
        let every_name: Vec<&str> = node_names.iter().chain(&client_names).copied().collect();
        mismatch(
            field,
            path,
            format!("a node or client name ({})", one_of(&every_name)),
        )
    };
    let Scalar::String(name) = field.get_ref() else {
        return Err(unknown());
    };
    let node = node_names.iter().position(|known| known == name);
    let client = client_names.iter().position(|known| known == name);
    match (node, client) {
        (Some(node), Some(client)) => {
            let node = match node {
                0 => "the primary".to_string(),
                replica => format!("replica[{}]", replica - 1),
            };
            Err(because(
                mismatch(field, path, "a name that means one node or one client"),
                format!("{node} and client[{client}] are both called that"),
            ))
        }
        (Some(node), None) => Ok(SentinelHost::Node(node)),
        (None, Some(client)) => Ok(SentinelHost::Client(client)),
        (None, None) => Err(unknown()),
    }
}

/// `sides = [["primary", "web"], ["r1"]]`: each name a node or a client, on one side only;
/// whatever is not named is on the first side.
pub(super) fn partition(
    sides: &Spanned<Vec<Spanned<Vec<Field>>>>,
    path: &str,
    replicas: &[ReplicaConfig],
    clients: &[ClientConfig],
) -> Checked<Partition> {
    let sides_path = format!("{path}.sides");
    let count = sides.get_ref().len();
    if !SIDES.contains(&count) {
        return Err(Problem::new(
            sides.span(),
            &sides_path,
            format!(
                "expected {} to {} sides, such as [[\"primary\", \"web\"], [\"r1\"]], found {count}",
                SIDES.start(),
                SIDES.end()
            ),
        ));
    }
    // The side each node and client is on so far, to name a repetition.
    let mut node_place: Vec<Option<usize>> = vec![None; replicas.len() + 1];
    let mut client_place: Vec<Option<usize>> = vec![None; clients.len()];
    for (side, names) in sides.get_ref().iter().enumerate() {
        let side_path = format!("{sides_path}[{side}]");
        if names.get_ref().is_empty() {
            return Err(Problem::new(
                names.span(),
                side_path,
                "expected at least one node or client name, found an empty list",
            ));
        }
        for (position, field) in names.get_ref().iter().enumerate() {
            let name_path = format!("{side_path}[{position}]");
            let place = match endpoint(field, &name_path, replicas, clients)? {
                SentinelHost::Node(node) => &mut node_place[node],
                SentinelHost::Client(client) => &mut client_place[client],
            };
            if let Some(earlier) = place {
                return Err(because(
                    mismatch(field, &name_path, "a name on one side only"),
                    format!("it is already in sides[{earlier}]"),
                ));
            }
            *place = Some(side);
        }
    }
    // Fewer than 17 sides, so a side is a u8; whatever is not named is on the first side.
    const FIRST_SIDE: usize = 0;
    let side_of = |place: Option<usize>| place.unwrap_or(FIRST_SIDE) as u8;
    Ok(Partition {
        node_side: node_place.into_iter().map(side_of).collect(),
        client_side: client_place.into_iter().map(side_of).collect(),
    })
}
