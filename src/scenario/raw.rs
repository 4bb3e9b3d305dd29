//! The serde mirror of a scenario file: its shape, not its meaning.
//!
//! These types check only structure: which tables exist, which keys they may hold (unknown keys
//! are refused with toml's own message, which lists the expected ones) and which are required.
//! Every leaf is a `Spanned<Scalar>`, whatever type it should have, so that `validate` can say
//! "expected an integer from 1 to 500, found "fast"" with a location instead of serde's
//! type-centred wording. toml's errors carry a byte span but no field path; `field_path_at`
//! recovers the path from the document.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, Range};

use serde::de::{self, value::MapAccessDeserializer};
use serde::Deserialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::error::Problem;

/// Any TOML value that is not a table or an array; `validate` decides what it must be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Integer(i128),
    Float(f64),
    String(String),
    Boolean(bool),
}

pub(crate) type Field = Spanned<Scalar>;

impl fmt::Display for Scalar {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Integer(integer) => write!(formatter, "{integer}"),
            Scalar::Float(float) => write!(formatter, "{float:?}"),
            Scalar::String(string) => write!(formatter, "{string:?}"),
            Scalar::Boolean(boolean) => write!(formatter, "{boolean}"),
        }
    }
}

struct ScalarVisitor;

impl<'de> de::Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string, number or boolean")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Scalar, E> {
        Ok(Scalar::Boolean(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Scalar, E> {
        Ok(Scalar::Integer(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Scalar, E> {
        Ok(Scalar::Integer(value.into()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Scalar, E> {
        Ok(Scalar::Integer(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Scalar, E> {
        Ok(Scalar::String(value.to_string()))
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawFile {
    pub scenario: Spanned<Table<RawScenario>>,
    #[serde(default)]
    pub server: Table<RawServer>,
    pub persistence: Option<Spanned<Table<RawPersistence>>>,
    #[serde(default)]
    pub replica: Vec<Spanned<Table<RawReplica>>>,
    pub sentinel: Option<Spanned<Table<RawSentinel>>>,
    #[serde(default)]
    pub client: Vec<Spanned<Table<RawClient>>>,
    #[serde(default)]
    pub event: Vec<Spanned<Table<RawEvent>>>,
}

/// `[persistence]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawPersistence {
    /// `"3600 1 300 100 60 10000"` as in redis.conf, or `""` for none.
    pub save: Option<Field>,
    pub appendonly: Option<Field>,
    pub appendfsync: Option<Field>,
}

/// A `[[replica]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawReplica {
    pub name: Field,
    pub replica_priority: Option<Field>,
    /// A duration, or `{ dist = "uniform", min, max }` / `{ dist = "lognormal", median, p99 }`.
    pub lag: Option<Spanned<RawValueSize>>,
    /// A size per second: how fast a full resynchronisation's snapshot crosses the link.
    pub bandwidth: Option<Field>,
    /// What the primary's event loop fills of its kernel send buffer on this link, a size.
    pub send_buffer: Option<Field>,
    /// The send buffer's size (`SO_SNDBUF`), which a SHUTDOWN's direct write fills.
    pub send_buffer_max: Option<Field>,
    /// The replica's kernel receive buffer, a size.
    pub receive_buffer: Option<Field>,
}

/// `[sentinel]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawSentinel {
    /// The node each Sentinel runs beside, by name. Not with `sentinels`.
    pub hosts: Option<Spanned<Vec<Field>>>,
    /// How many Sentinels, placed round-robin over the nodes. Not with `hosts`.
    pub sentinels: Option<Field>,
    pub quorum: Option<Field>,
    pub down_after_milliseconds: Option<Field>,
    pub failover_timeout: Option<Field>,
    pub parallel_syncs: Option<Field>,
}

/// A TOML table read into `T`. A bare derived struct would also accept an array and fill its
/// fields in order (`[[server]]` would put a table into `maxmemory`), with a baffling message.
#[derive(Debug, Default)]
pub(crate) struct Table<T>(T);

impl<T> Deref for Table<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

struct TableVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> de::Visitor<'de> for TableVisitor<T> {
    type Value = Table<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a table")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Table<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Table)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TableVisitor(PhantomData))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawScenario {
    pub name: Field,
    pub seed: Option<Field>,
    pub duration: Field,
    pub sample_every: Option<Field>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawServer {
    pub memory_model: Option<Field>,
    pub maxmemory: Option<Field>,
    pub maxmemory_policy: Option<Field>,
    pub maxmemory_samples: Option<Field>,
    pub maxmemory_eviction_tenacity: Option<Field>,
    pub lfu_log_factor: Option<Field>,
    pub lfu_decay_time: Option<Field>,
    pub hz: Option<Field>,
    pub databases: Option<Field>,
    pub active_expire_effort: Option<Field>,
    pub active_expire: Option<Field>,
    pub latency_tracking: Option<Field>,
    pub repl_backlog_size: Option<Field>,
    pub repl_ping_replica_period: Option<Field>,
    pub repl_timeout: Option<Field>,
    pub repl_diskless_sync_delay: Option<Field>,
    pub min_replicas_to_write: Option<Field>,
    pub min_replicas_max_lag: Option<Field>,
    pub replica_serve_stale_data: Option<Field>,
    pub replica_read_only: Option<Field>,
    pub replica_ignore_maxmemory: Option<Field>,
    /// `"replica 256mb 64mb 60"`, as redis.conf writes it (several classes may follow).
    pub client_output_buffer_limit: Option<Field>,
    pub shutdown_timeout: Option<Field>,
    /// A size, or a percentage of maxmemory (`"10%"`).
    pub maxmemory_clients: Option<Field>,
    pub maxclients: Option<Field>,
    pub hash_max_listpack_entries: Option<Field>,
    pub hash_max_listpack_value: Option<Field>,
    pub zset_max_listpack_entries: Option<Field>,
    pub zset_max_listpack_value: Option<Field>,
    pub set_max_intset_entries: Option<Field>,
    pub list_max_listpack_size: Option<Field>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawClient {
    pub name: Field,
    /// Required for a generated workload; for a trace, the pace of an untimed one.
    pub rate: Option<Field>,
    pub rate_kind: Option<Field>,
    pub db: Option<Field>,
    pub start: Option<Field>,
    pub stop: Option<Field>,
    /// Required for a generated workload, refused with a trace.
    pub keyspace: Option<Spanned<Table<RawKeyspace>>>,
    /// Command name → weight. Sorted by name here; `validate` restores file order from the spans.
    /// Required for a generated workload, refused with a trace.
    pub commands: Option<Spanned<BTreeMap<Spanned<String>, Field>>>,
    pub value_size: Option<Spanned<RawValueSize>>,
    pub ttl: Option<Spanned<Table<RawTtl>>>,
    pub on_miss: Option<Field>,
    pub fields: Option<Field>,
    /// A recorded workload to replay, relative to the scenario file's folder.
    pub trace: Option<Field>,
    pub format: Option<Field>,
    /// What ends a trace key's prefix in reports (default `:`).
    pub prefix_separator: Option<Field>,
    pub read_from: Option<Field>,
    /// Connections in the client's pool.
    pub connections: Option<Field>,
    /// Commands per round trip.
    pub pipeline: Option<Field>,
    /// How the client finds the primary after a failover: `"sentinel"` or `"fixed"`.
    pub discovery: Option<Field>,
    pub discovery_delay: Option<Field>,
    /// `WAIT numreplicas timeout` after each write.
    pub wait: Option<Spanned<Table<RawWait>>>,
}

/// A client's `wait = { replicas = 1, timeout = "100ms" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawWait {
    pub replicas: Field,
    pub timeout: Field,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawKeyspace {
    pub keys: Field,
    pub prefix: Option<Field>,
    pub popularity: Option<Field>,
    pub skew: Option<Field>,
    pub hot_keys: Option<Field>,
    pub hot_share: Option<Field>,
}

/// `value-size`: a plain size, or a table naming a distribution.
#[derive(Debug)]
pub(crate) enum RawValueSize {
    Fixed(Scalar),
    Distribution(Box<RawDistribution>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawDistribution {
    pub dist: Field,
    pub min: Option<Field>,
    pub max: Option<Field>,
    pub mean: Option<Field>,
    pub stddev: Option<Field>,
    pub median: Option<Field>,
    pub p99: Option<Field>,
}

struct ValueSizeVisitor;

impl<'de> de::Visitor<'de> for ValueSizeVisitor {
    type Value = RawValueSize;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .write_str("a size, or a table such as { dist = \"uniform\", min = 100, max = 1000 }")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<RawValueSize, E> {
        ScalarVisitor.visit_bool(value).map(RawValueSize::Fixed)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<RawValueSize, E> {
        ScalarVisitor.visit_i64(value).map(RawValueSize::Fixed)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<RawValueSize, E> {
        ScalarVisitor.visit_u64(value).map(RawValueSize::Fixed)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<RawValueSize, E> {
        ScalarVisitor.visit_f64(value).map(RawValueSize::Fixed)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<RawValueSize, E> {
        ScalarVisitor.visit_str(value).map(RawValueSize::Fixed)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawValueSize, A::Error> {
        RawDistribution::deserialize(MapAccessDeserializer::new(map))
            .map(|distribution| RawValueSize::Distribution(Box::new(distribution)))
    }
}

impl<'de> Deserialize<'de> for RawValueSize {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueSizeVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawTtl {
    pub share: Option<Field>,
    pub min: Field,
    pub max: Field,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawEvent {
    pub at: Field,
    #[serde(rename = "do")]
    pub action: Field,
    pub db: Option<Field>,
    pub keys: Option<Spanned<Vec<Field>>>,
    pub pattern: Option<Field>,
    pub directive: Option<Field>,
    pub value: Option<Field>,
    pub client: Option<Field>,
    pub node: Option<Field>,
    pub to: Option<Field>,
    /// SHUTDOWN's flags: `"nosave now"`.
    pub flags: Option<Field>,
    /// A partition's sides: arrays of node and client names.
    pub sides: Option<Spanned<Vec<Spanned<Vec<Field>>>>>,
}

/// Parses the TOML syntax of the file, without looking at what the keys mean.
pub(crate) fn parse_document(text: &str) -> Result<Spanned<DeTable<'_>>, Problem> {
    let (document, errors) = DeTable::parse_recoverable(text);
    match errors.first() {
        None => Ok(document),
        Some(error) => Err(toml_problem(error, &document)),
    }
}

/// Reads the (possibly overridden) document into the mirror types.
pub(crate) fn deserialize(document: Spanned<DeTable<'_>>) -> Result<RawFile, Problem> {
    RawFile::deserialize(toml::de::Deserializer::from(document.clone()))
        .map_err(|error| toml_problem(&error, &document))
}

fn toml_problem(error: &toml::de::Error, document: &Spanned<DeTable<'_>>) -> Problem {
    let span = error.span().unwrap_or_else(|| document.span());
    // The root table's span is empty at 0, which the first table's header also covers. An
    // error outside every key (a stray character between tables) names no field either.
    let field = if span == document.span() {
        None
    } else {
        field_path_at(document.get_ref(), span.start)
    };
    let message = error.message().trim_end();
    match field {
        Some(field) => Problem::new(span, field, message),
        None => Problem::new(span, "", message),
    }
}

/// The dotted path (`client[1].keyspace.skew`) of the deepest key or value at `offset`.
fn field_path_at(table: &DeTable<'_>, offset: usize) -> Option<String> {
    table.iter().find_map(|(key, value)| {
        let name = key.get_ref();
        let deeper = match value.get_ref() {
            DeValue::Table(inner) => {
                field_path_at(inner, offset).map(|rest| format!("{name}.{rest}"))
            }
            DeValue::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
                let inside = match item.get_ref() {
                    DeValue::Table(inner) => field_path_at(inner, offset),
                    _ => None,
                };
                match inside {
                    Some(rest) => Some(format!("{name}[{index}].{rest}")),
                    None => covers(&item.span(), offset).then(|| format!("{name}[{index}]")),
                }
            }),
            _ => None,
        };
        deeper.or_else(|| {
            (covers(&key.span(), offset) || covers(&value.span(), offset)).then(|| name.to_string())
        })
    })
}

fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || span.start == offset
}
