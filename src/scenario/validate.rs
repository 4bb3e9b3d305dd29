//! Raw scenario → `SimConfig`: types, ranges, units, cross-field rules and resource limits.
//!
//! Each check names the field and says what it expected next to what it found, at the span of
//! the value (or of the table, for a missing field). Checks stop at the first problem. The
//! resource limits (`limits`) are checked here, over all clients, before a run starts. A client
//! is read here down to its generated workload; a client that replays a trace has its workload
//! read in `trace_client`, and events are read in `events`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;

use super::check::{
    because, before_end, boolean, database, duration_value_us, folder_name_violation,
    format_duration, integer_in, mismatch, name_rule_violation, number_where, optional, policy,
    rate, reject_inapplicable, required, size_bytes, size_where, span_of, text, Checked, NAME_RULE,
};
use super::error::Problem;
use super::events::{self, World};
use super::faults;
use super::keywords::{
    choice, lookup, optional_choice, PopularityKind, ValueDistribution, ARRIVALS, MEMORY_MODELS,
    ON_MISS, POPULARITIES, POPULARITY_DEFAULT, VALUE_DISTRIBUTIONS,
};
use super::limits::*;
use super::output_limits;
use super::raw::{
    Field, RawClient, RawDistribution, RawFile, RawKeyspace, RawScenario, RawServer, RawTtl,
    RawValueSize, Scalar, Table,
};
use super::replicas;
use super::trace_client::{self, TraceFiles};
use crate::sim::config::{
    Arrivals, ClientConfig, CommandKind, GeneratedWorkload, KeyspaceConfig, MaxmemoryPolicy,
    OnMiss, Popularity, ReplicaConfig, ServerConfig, SimConfig, TtlConfig, ValueSize, Workload,
    MICROS_PER_SECOND,
};
use crate::sim::ledger::Actor;

/// Checks `raw` and builds the `SimConfig`, reading trace clients' traces through `traces`.
pub(crate) fn validate(
    raw: &RawFile,
    seed_override: Option<u64>,
    traces: &TraceFiles,
) -> Checked<SimConfig> {
    let header = scenario(&raw.scenario, seed_override)?;
    let server = server(&raw.server)?;
    let replicas = replicas::replicas(&raw.replica)?;
    let persistence = replicas::persistence(raw.persistence.as_ref())?;
    let clients = clients(&raw.client, &header, &server, &replicas, traces)?;
    let sentinel = faults::sentinel(raw.sentinel.as_ref(), &replicas, &clients)?;
    check_resources(&clients, &raw.client, header.duration_us)?;
    check_clairvoyance(&server, &raw.server, &clients)?;
    let world = World {
        scenario_duration_us: header.duration_us,
        server: &server,
        clients: &clients,
        replicas: &replicas,
    };
    let events = raw
        .event
        .iter()
        .enumerate()
        .map(|(index, raw_event)| events::event(index, raw_event, &world))
        .collect::<Checked<Vec<_>>>()?;
    if clients.is_empty() && events.is_empty() {
        return Err(Problem::new(
            raw.scenario.span(),
            "scenario",
            "expected at least one [[client]] or [[event]], found neither: nothing would happen",
        ));
    }
    Ok(SimConfig {
        name: header.name,
        seed: header.seed,
        duration_us: header.duration_us,
        sample_every_us: header.sample_every_us,
        server,
        persistence,
        replicas,
        sentinel,
        clients,
        events,
    })
}

struct Header {
    name: String,
    seed: u64,
    duration_us: u64,
    sample_every_us: u64,
}

fn scenario(raw: &Spanned<Table<RawScenario>>, seed_override: Option<u64>) -> Checked<Header> {
    let fields = raw.get_ref();
    let name = text(&fields.name, "scenario.name", "a name")?;
    if let Some(problem) = folder_name_violation(name) {
        let expected = format!("{NAME_RULE} (it names the output folder)");
        return Err(because(
            mismatch(&fields.name, "scenario.name", expected),
            problem,
        ));
    }
    let seed_in_file = fields
        .seed
        .as_ref()
        .map(|seed| integer_in(seed, "scenario.seed", 0..=u64::MAX))
        .transpose()?;
    let seed = seed_override.or(seed_in_file).ok_or_else(|| {
        Problem::new(
            raw.span(),
            "scenario",
            "missing field `seed` (an integer; or pass --seed)",
        )
    })?;
    let duration_us = duration_value_us(&fields.duration, "scenario.duration")?;
    if duration_us == 0 || duration_us > DURATION_US_MAX {
        return Err(mismatch(
            &fields.duration,
            "scenario.duration",
            format!(
                "a duration from 1us to {}",
                format_duration(DURATION_US_MAX)
            ),
        ));
    }
    let sample_every_us_min = SAMPLE_EVERY_US_MIN.max(duration_us.div_ceil(SAMPLES_MAX));
    let sample_every_us = optional(&fields.sample_every, MICROS_PER_SECOND, |field| {
        let sample_every_us = duration_value_us(field, "scenario.sample-every")?;
        if (sample_every_us_min..=duration_us).contains(&sample_every_us) {
            Ok(sample_every_us)
        } else {
            Err(mismatch(
                field,
                "scenario.sample-every",
                format!(
                    "a duration from {} to {} (at most {SAMPLES_MAX} samples per run)",
                    format_duration(sample_every_us_min),
                    format_duration(duration_us)
                ),
            ))
        }
    })?;
    Ok(Header {
        name: name.to_string(),
        seed,
        duration_us,
        sample_every_us,
    })
}

fn server(raw: &RawServer) -> Checked<ServerConfig> {
    let mut server = ServerConfig::default();
    if let Some(field) = &raw.memory_model {
        server.memory_model = choice(field, "server.memory-model", &MEMORY_MODELS)?;
    }
    if let Some(field) = &raw.maxmemory {
        server.maxmemory_bytes = size_bytes(field, "server.maxmemory")?;
    }
    if let Some(field) = &raw.maxmemory_policy {
        server.maxmemory_policy = policy(field, "server.maxmemory-policy")?;
    }
    if let Some(field) = &raw.latency_tracking {
        server.latency_tracking = boolean(field, "server.latency-tracking")?;
    }
    if let Some(field) = &raw.active_expire {
        server.active_expire_enabled = boolean(field, "server.active-expire")?;
    }
    if let Some(field) = &raw.replica_serve_stale_data {
        server.replica_serve_stale_data = boolean(field, "server.replica-serve-stale-data")?;
    }
    if let Some(field) = &raw.replica_read_only {
        server.replica_read_only = boolean(field, "server.replica-read-only")?;
    }
    if let Some(field) = &raw.replica_ignore_maxmemory {
        server.replica_ignore_maxmemory = boolean(field, "server.replica-ignore-maxmemory")?;
    }
    if let Some(field) = &raw.repl_backlog_size {
        let bytes = size_bytes(field, "server.repl-backlog-size")?;
        if !(16 * 1024..=1 << 30).contains(&bytes) {
            return Err(mismatch(
                field,
                "server.repl-backlog-size",
                "a size from 16kb to 1gb",
            ));
        }
        server.repl_backlog_size = bytes;
    }
    if let Some(field) = &raw.repl_ping_replica_period {
        server.repl_ping_replica_period_s =
            integer_in(field, "server.repl-ping-replica-period", 1..=3600)?;
    }
    if let Some(field) = &raw.client_output_buffer_limit {
        output_limits::read(field, "server.client-output-buffer-limit", &mut server)?;
    }
    if let Some(field) = &raw.maxmemory_clients {
        server.maxmemory_clients =
            output_limits::maxmemory_clients(field, "server.maxmemory-clients")?;
    }
    if let Some(field) = &raw.list_max_listpack_size {
        server.list_max_listpack_size = list_max_listpack_size(field)?;
    }
    #[rustfmt::skip]
    let integers = [
        (&mut server.maxmemory_samples, &raw.maxmemory_samples, "maxmemory-samples", MAXMEMORY_SAMPLES),
        (&mut server.maxmemory_eviction_tenacity, &raw.maxmemory_eviction_tenacity, "maxmemory-eviction-tenacity", MAXMEMORY_EVICTION_TENACITY),
        (&mut server.lfu_log_factor, &raw.lfu_log_factor, "lfu-log-factor", LFU_LOG_FACTOR),
        (&mut server.lfu_decay_time, &raw.lfu_decay_time, "lfu-decay-time", LFU_DECAY_TIME),
        (&mut server.hz, &raw.hz, "hz", HZ),
        (&mut server.databases, &raw.databases, "databases", DATABASES),
        (&mut server.active_expire_effort, &raw.active_expire_effort, "active-expire-effort", ACTIVE_EXPIRE_EFFORT),
        (&mut server.hash_max_listpack_entries, &raw.hash_max_listpack_entries, "hash-max-listpack-entries", ENCODING_THRESHOLD),
        (&mut server.hash_max_listpack_value, &raw.hash_max_listpack_value, "hash-max-listpack-value", ENCODING_THRESHOLD),
        (&mut server.zset_max_listpack_entries, &raw.zset_max_listpack_entries, "zset-max-listpack-entries", ENCODING_THRESHOLD),
        (&mut server.zset_max_listpack_value, &raw.zset_max_listpack_value, "zset-max-listpack-value", ENCODING_THRESHOLD),
        (&mut server.set_max_intset_entries, &raw.set_max_intset_entries, "set-max-intset-entries", ENCODING_THRESHOLD),
        (&mut server.repl_timeout_s, &raw.repl_timeout, "repl-timeout", REPL_TIMEOUT_S),
        (&mut server.repl_diskless_sync_delay_s, &raw.repl_diskless_sync_delay, "repl-diskless-sync-delay", REPL_DISKLESS_SYNC_DELAY_S),
        (&mut server.min_replicas_to_write, &raw.min_replicas_to_write, "min-replicas-to-write", MIN_REPLICAS_TO_WRITE),
        (&mut server.min_replicas_max_lag_s, &raw.min_replicas_max_lag, "min-replicas-max-lag", MIN_REPLICAS_MAX_LAG_S),
        (&mut server.shutdown_timeout_s, &raw.shutdown_timeout, "shutdown-timeout", SHUTDOWN_TIMEOUT_S),
        (&mut server.maxclients, &raw.maxclients, "maxclients", MAXCLIENTS),
    ];
    for (value, field, directive, range) in integers {
        if let Some(field) = field {
            *value = integer_in(field, &format!("server.{directive}"), range)?;
        }
    }
    Ok(server)
}

fn list_max_listpack_size(field: &Field) -> Checked<i32> {
    let size = match field.get_ref() {
        Scalar::Integer(size) => i32::try_from(*size).ok(),
        _ => None,
    };
    size.filter(|size| (-5..=-1).contains(size) || (1..=65535).contains(size))
        .ok_or_else(|| {
            mismatch(
                field,
                "server.list-max-listpack-size",
                "-5 to -1 (a size class; -2 = 8 KB per node) or 1 to 65535 (entries per node)",
            )
        })
}

/// The `[[client]]` tables, in order; names must differ.
fn clients(
    raw: &[Spanned<Table<RawClient>>],
    header: &Header,
    server: &ServerConfig,
    replicas: &[ReplicaConfig],
    traces: &TraceFiles,
) -> Checked<Vec<ClientConfig>> {
    // Ledger rows name a client in 16 bits (the slot's writer field).
    if let Some(extra) = raw.get(Actor::CLIENTS_MAX) {
        return Err(Problem::new(
            extra.span(),
            format!("client[{}]", Actor::CLIENTS_MAX),
            format!("at most {} clients", Actor::CLIENTS_MAX),
        ));
    }
    let mut clients: Vec<ClientConfig> = Vec::with_capacity(raw.len());
    for (index, raw_client) in raw.iter().enumerate() {
        let path = format!("client[{index}]");
        let fields = raw_client.get_ref();
        let common = common(&path, fields, header.duration_us, server.databases)?;
        let workload = workload(&path, raw_client, server.databases, traces)?;
        let read_from =
            replicas::read_from(&fields.read_from, &format!("{path}.read-from"), replicas)?;
        let client = ClientConfig {
            name: common.name,
            db: common.db,
            start_us: common.start_us,
            stop_us: common.stop_us,
            read_from,
            connection: faults::connection(fields, &path)?,
            connections: optional(&fields.connections, 1, |field| {
                integer_in(field, &format!("{path}.connections"), CONNECTIONS)
            })?,
            pipeline: optional(&fields.pipeline, 1, |field| {
                integer_in(field, &format!("{path}.pipeline"), PIPELINE)
            })?,
            workload,
        };
        if let Some(earlier) = clients.iter().position(|other| other.name == client.name) {
            return Err(mismatch(
                &fields.name,
                &format!("{path}.name"),
                format!("a name no other client has (client[{earlier}] is already called that)"),
            ));
        }
        clients.push(client);
    }
    Ok(clients)
}

/// What a client sends: its trace, or the requests it generates.
fn workload(
    path: &str,
    raw: &Spanned<Table<RawClient>>,
    databases: u32,
    traces: &TraceFiles,
) -> Checked<Workload> {
    let fields = raw.get_ref();
    if let Some(trace) = &fields.trace {
        return trace_client::workload(path, raw, trace, traces, databases).map(Workload::Trace);
    }
    if let Some(format) = &fields.format {
        return Err(Problem::new(
            format.span(),
            format!("{path}.format"),
            "`format` does not apply without trace = \"path\": it says how to read the trace file",
        ));
    }
    if let Some(separator) = &fields.prefix_separator {
        return Err(Problem::new(
            separator.span(),
            format!("{path}.prefix-separator"),
            "`prefix-separator` does not apply without trace = \"path\": a generated keyspace is \
             grouped by its `prefix`",
        ));
    }
    generated(path, raw).map(Workload::Generated)
}

fn generated(path: &str, raw: &Spanned<Table<RawClient>>) -> Checked<GeneratedWorkload> {
    let fields = raw.get_ref();
    let at = |name: &str| format!("{path}.{name}");
    let why = "a client needs rate, keyspace and commands, or trace and format";
    let rate = rate(
        required(&fields.rate, &raw.span(), path, "rate", why)?,
        &at("rate"),
        "commands per second",
    )?;
    let missing =
        |name: &str| Problem::new(raw.span(), path, format!("missing field `{name}` ({why})"));
    let raw_keyspace = fields
        .keyspace
        .as_ref()
        .ok_or_else(|| missing("keyspace"))?;
    let raw_commands = fields
        .commands
        .as_ref()
        .ok_or_else(|| missing("commands"))?;
    let arrivals = optional_choice(
        &fields.rate_kind,
        &at("rate-kind"),
        &ARRIVALS,
        Arrivals::Poisson,
    )?;
    let commands = commands(raw_commands, &at("commands"))?;
    let ttl = fields
        .ttl
        .as_ref()
        .map(|raw_ttl| ttl(raw_ttl.get_ref(), &at("ttl")))
        .transpose()?;
    // EXPIRE draws its TTL from the ttl range; without one it would send EXPIRE key 0, which
    // deletes the key: surely not what the user meant.
    if ttl.is_none()
        && commands
            .iter()
            .any(|(kind, _)| *kind == CommandKind::Expire)
    {
        return Err(Problem::new(
            raw_commands.span(),
            at("commands.EXPIRE"),
            "EXPIRE needs a TTL range to draw from: add ttl = { min = \"...\", max = \"...\" } to this client".to_string(),
        ));
    }
    Ok(GeneratedWorkload {
        rate,
        arrivals,
        keyspace: keyspace(raw_keyspace, &at("keyspace"))?,
        commands,
        value_size: value_size(fields.value_size.as_ref(), &at("value-size"))?,
        ttl,
        on_miss: optional_choice(&fields.on_miss, &at("on-miss"), &ON_MISS, OnMiss::None)?,
        fields: optional(&fields.fields, FIELDS_DEFAULT, |field| {
            integer_in(field, &at("fields"), FIELDS)
        })?,
    })
}

/// What every client has, whether it generates its requests or replays a trace.
struct Common {
    name: String,
    db: u32,
    start_us: u64,
    stop_us: Option<u64>,
}

fn common(
    path: &str,
    fields: &RawClient,
    scenario_duration_us: u64,
    databases: u32,
) -> Checked<Common> {
    let at = |name: &str| format!("{path}.{name}");
    let name = text(&fields.name, &at("name"), "a name")?;
    if let Some(problem) = name_rule_violation(name) {
        return Err(because(
            mismatch(&fields.name, &at("name"), NAME_RULE),
            problem,
        ));
    }
    let db = optional(&fields.db, 0, |field| database(field, &at("db"), databases))?;
    let start_us = optional(&fields.start, 0, |field| {
        before_end(field, &at("start"), scenario_duration_us)
    })?;
    let stop_us = fields
        .stop
        .as_ref()
        .map(|field| {
            let stop_us = duration_value_us(field, &at("stop"))?;
            if stop_us > start_us {
                Ok(stop_us)
            } else {
                Err(mismatch(
                    field,
                    &at("stop"),
                    format!("a time after start ({})", format_duration(start_us)),
                ))
            }
        })
        .transpose()?;
    Ok(Common {
        name: name.to_string(),
        db,
        start_us,
        stop_us,
    })
}

fn keyspace(raw: &Spanned<Table<RawKeyspace>>, path: &str) -> Checked<KeyspaceConfig> {
    let fields = raw.get_ref();
    let at = |name: &str| format!("{path}.{name}");
    let keys = integer_in(&fields.keys, &at("keys"), KEYS)?;
    let prefix = optional(&fields.prefix, "key:", |field| {
        text(field, &at("prefix"), "a key prefix")
    })?;
    let (name, kind) = match &fields.popularity {
        Some(field) => *lookup(field, &at("popularity"), &POPULARITIES)?,
        None => POPULARITY_DEFAULT,
    };
    let context = format!("popularity = \"{name}\"");
    let parameters = [
        ("skew", span_of(&fields.skew)),
        ("hot-keys", span_of(&fields.hot_keys)),
        ("hot-share", span_of(&fields.hot_share)),
    ];
    let share = |field: &Option<Field>, name: &str, default: f64| {
        optional(field, default, |field| {
            number_where(
                field,
                &at(name),
                "a share greater than 0 and at most 1",
                |share| share > 0.0 && share <= 1.0,
            )
        })
    };
    let popularity = match kind {
        PopularityKind::Zipf => {
            reject_inapplicable(&parameters, &["skew"], path, &context)?;
            let skew = optional(&fields.skew, 0.99, |field| {
                number_where(
                    field,
                    &at("skew"),
                    "a skew greater than 0 and at most 10",
                    |skew| skew > 0.0 && skew <= 10.0,
                )
            })?;
            Popularity::Zipf { skew }
        }
        PopularityKind::Hotset => {
            reject_inapplicable(&parameters, &["hot-keys", "hot-share"], path, &context)?;
            Popularity::Hotset {
                hot_key_share: share(&fields.hot_keys, "hot-keys", 0.2)?,
                hot_access_share: share(&fields.hot_share, "hot-share", 0.8)?,
            }
        }
        PopularityKind::Sequential => {
            reject_inapplicable(&parameters, &[], path, &context)?;
            Popularity::Sequential
        }
        PopularityKind::Uniform => {
            reject_inapplicable(&parameters, &[], path, &context)?;
            Popularity::Uniform
        }
    };
    Ok(KeyspaceConfig {
        keys,
        prefix: prefix.to_string(),
        popularity,
    })
}

fn commands(
    raw: &Spanned<BTreeMap<Spanned<String>, Field>>,
    path: &str,
) -> Checked<Vec<(CommandKind, u32)>> {
    let mut entries: Vec<_> = raw.get_ref().iter().collect();
    // The map is sorted by name; the spans give back the order the user wrote.
    entries.sort_by_key(|(name, _)| name.span().start);
    let mut seen = BTreeSet::new();
    let mut commands = Vec::new();
    for (name, weight) in entries {
        let field_path = format!("{path}.{}", name.get_ref());
        let known = || {
            let names: Vec<&str> = CommandKind::generated().map(|kind| kind.name()).collect();
            names.join(", ")
        };
        let generated = CommandKind::parse(name.get_ref()).filter(|kind| kind.is_generated());
        let kind = generated.ok_or_else(|| {
            Problem::new(
                name.span(),
                &field_path,
                format!(
                    "expected one of the commands {}, found {:?}",
                    known(),
                    name.get_ref()
                ),
            )
        })?;
        if !seen.insert(kind) {
            return Err(Problem::new(
                name.span(),
                &field_path,
                format!(
                    "{} is listed twice (command names ignore case)",
                    kind.name()
                ),
            ));
        }
        let weight = integer_in(weight, &field_path, COMMAND_WEIGHT)?;
        if weight > 0 {
            commands.push((kind, weight));
        }
    }
    if commands.is_empty() {
        let found = if raw.get_ref().is_empty() {
            "an empty table"
        } else {
            "only zero weights"
        };
        return Err(Problem::new(
            raw.span(),
            path,
            format!("expected at least one command with a positive weight, such as {{ GET = 80, SET = 20 }}, found {found}"),
        ));
    }
    Ok(commands)
}

fn value_size(raw: Option<&Spanned<RawValueSize>>, path: &str) -> Checked<ValueSize> {
    let Some(raw) = raw else {
        return Ok(ValueSize::Fixed(VALUE_BYTES_DEFAULT));
    };
    match raw.get_ref() {
        RawValueSize::Fixed(scalar) => {
            let field = Spanned::new(raw.span(), scalar.clone());
            value_bytes(&field, path).map(ValueSize::Fixed)
        }
        RawValueSize::Distribution(distribution) => {
            value_distribution(distribution, raw.span(), path)
        }
    }
}

fn value_distribution(raw: &RawDistribution, span: Range<usize>, path: &str) -> Checked<ValueSize> {
    let &(name, kind) = lookup(&raw.dist, &format!("{path}.dist"), &VALUE_DISTRIBUTIONS)?;
    let parameters = [
        ("min", span_of(&raw.min)),
        ("max", span_of(&raw.max)),
        ("mean", span_of(&raw.mean)),
        ("stddev", span_of(&raw.stddev)),
        ("median", span_of(&raw.median)),
        ("p99", span_of(&raw.p99)),
    ];
    let needed: [&str; 2] = match kind {
        ValueDistribution::Uniform => ["min", "max"],
        ValueDistribution::Normal => ["mean", "stddev"],
        ValueDistribution::Lognormal => ["median", "p99"],
    };
    let context = format!("dist = \"{name}\"");
    reject_inapplicable(&parameters, &needed, path, &context)?;
    let why = format!("{context} needs {}", needed.join(" and "));
    let parameter = Parameter {
        span,
        path,
        why: &why,
    };
    match kind {
        ValueDistribution::Uniform => uniform_sizes(raw, &parameter),
        ValueDistribution::Normal => normal_sizes(raw, &parameter),
        ValueDistribution::Lognormal => lognormal_sizes(raw, &parameter),
    }
}

/// Where a distribution's parameters are and why they are needed, for their messages.
struct Parameter<'p> {
    span: Range<usize>,
    path: &'p str,
    why: &'p str,
}

impl Parameter<'_> {
    fn needed<'f>(&self, field: &'f Option<Field>, name: &str) -> Checked<&'f Field> {
        required(field, &self.span, self.path, name, self.why)
    }

    fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }
}

fn uniform_sizes(raw: &RawDistribution, parameter: &Parameter<'_>) -> Checked<ValueSize> {
    let min = value_bytes(parameter.needed(&raw.min, "min")?, &parameter.at("min"))?;
    let max_field = parameter.needed(&raw.max, "max")?;
    let max = value_bytes(max_field, &parameter.at("max"))?;
    if max < min {
        return Err(mismatch(
            max_field,
            &parameter.at("max"),
            format!("a size of at least min ({min} bytes)"),
        ));
    }
    Ok(ValueSize::Uniform { min, max })
}

fn normal_sizes(raw: &RawDistribution, parameter: &Parameter<'_>) -> Checked<ValueSize> {
    let max_bytes = VALUE_BYTES_MAX as f64;
    let mean = size_where(
        parameter.needed(&raw.mean, "mean")?,
        &parameter.at("mean"),
        "a mean size from 0 to 512mb",
        |mean| (0.0..=max_bytes).contains(&mean),
    )?;
    let stddev = size_where(
        parameter.needed(&raw.stddev, "stddev")?,
        &parameter.at("stddev"),
        "a standard deviation from 0 to 512mb",
        |stddev| (0.0..=max_bytes).contains(&stddev),
    )?;
    Ok(ValueSize::Normal { mean, stddev })
}

fn lognormal_sizes(raw: &RawDistribution, parameter: &Parameter<'_>) -> Checked<ValueSize> {
    let max_bytes = VALUE_BYTES_MAX as f64;
    let median = size_where(
        parameter.needed(&raw.median, "median")?,
        &parameter.at("median"),
        "a median size greater than 0 and at most 512mb",
        |median| median > 0.0 && median <= max_bytes,
    )?;
    let p99 = size_where(
        parameter.needed(&raw.p99, "p99")?,
        &parameter.at("p99"),
        &format!("a p99 size greater than the median ({median} bytes) and at most 512mb"),
        |p99| p99 > median && p99 <= max_bytes,
    )?;
    Ok(ValueSize::Lognormal { median, p99 })
}

fn ttl(raw: &RawTtl, path: &str) -> Checked<TtlConfig> {
    let at = |name: &str| format!("{path}.{name}");
    let share = optional(&raw.share, 1.0, |field| {
        number_where(
            field,
            &at("share"),
            "a share of SETs from 0 to 1",
            |share| (0.0..=1.0).contains(&share),
        )
    })?;
    let min_us = duration_value_us(&raw.min, &at("min"))?;
    if !(TTL_US_MIN..=TTL_US_MAX).contains(&min_us) {
        return Err(mismatch(
            &raw.min,
            &at("min"),
            format!("a TTL from 1ms to {}", format_duration(TTL_US_MAX)),
        ));
    }
    let max_us = duration_value_us(&raw.max, &at("max"))?;
    if !(min_us..=TTL_US_MAX).contains(&max_us) {
        return Err(mismatch(
            &raw.max,
            &at("max"),
            format!(
                "a TTL from min ({}) to {}",
                format_duration(min_us),
                format_duration(TTL_US_MAX)
            ),
        ));
    }
    Ok(TtlConfig {
        // share is within [0, 1], so the product fits a u32.
        share_ppm: (share * 1_000_000.0).round() as u32,
        min_us,
        max_us,
    })
}

/// `opt` knows each key's next use, which only a trace can tell.
fn check_clairvoyance(
    server: &ServerConfig,
    raw: &RawServer,
    clients: &[ClientConfig],
) -> Checked<()> {
    let Some(field) = &raw.maxmemory_policy else {
        return Ok(());
    };
    if server.maxmemory_policy != MaxmemoryPolicy::Opt {
        return Ok(());
    }
    match clients.iter().position(|client| client.trace().is_none()) {
        None => Ok(()),
        Some(index) => Err(because(
            mismatch(
                field,
                "server.maxmemory-policy",
                "a policy that does not need to know the future (\"opt\" needs every client to \
                 replay a trace)",
            ),
            format!(
                "client[{index}] ({:?}) generates its requests as it runs",
                clients[index].name
            ),
        )),
    }
}

/// Distinct keys and expected commands, over all clients: the two ways a scenario can ask for
/// more memory or time than any machine has. A trace's keys are its own (they form a family of
/// their own); its records count as commands whether or not the run lasts long enough to send
/// them all.
fn check_resources(
    clients: &[ClientConfig],
    raw: &[Spanned<Table<RawClient>>],
    scenario_duration_us: u64,
) -> Checked<()> {
    let mut keys_by_prefix: BTreeMap<&str, u64> = BTreeMap::new();
    let mut trace_keys = 0u64;
    let mut commands_expected = 0.0;
    for (index, (client, raw_client)) in clients.iter().zip(raw).enumerate() {
        let fields = raw_client.get_ref();
        // Where to point: the trace for a trace client, else the field that asked for the load.
        let at = |field: Option<Range<usize>>, name: &str| match &fields.trace {
            Some(trace) => (trace.span(), format!("client[{index}].trace")),
            None => (
                field.unwrap_or_else(|| raw_client.span()),
                format!("client[{index}].{name}"),
            ),
        };
        match &client.workload {
            Workload::Trace(replay) => {
                trace_keys = trace_keys.saturating_add(replay.trace.key_names.len() as u64);
            }
            Workload::Generated(generated) => {
                let keys = keys_by_prefix
                    .entry(&generated.keyspace.prefix)
                    .or_insert(0);
                *keys = (*keys).max(generated.keyspace.keys);
            }
        }
        let keys_total = keys_by_prefix
            .values()
            .fold(trace_keys, |total, keys| total.saturating_add(*keys));
        if keys_total > DISTINCT_KEYS_MAX {
            let keys_span = fields
                .keyspace
                .as_ref()
                .map(|keyspace| keyspace.get_ref().keys.span());
            let (span, field) = at(keys_span, "keyspace.keys");
            return Err(Problem::new(
                span,
                field,
                too_many_keys(keys_total, trace_keys > 0),
            ));
        }
        commands_expected += commands_expected_of(client, scenario_duration_us);
        if commands_expected > COMMANDS_EXPECTED_MAX {
            let (span, field) = at(span_of(&fields.rate), "rate");
            return Err(Problem::new(
                span,
                field,
                format!(
                    "the clients would send about {commands_expected:.0} commands (rate * active \
                     seconds, or a trace's requests, summed over clients); the limit is \
                     {COMMANDS_EXPECTED_MAX:.0}: lower the rates, shorten the duration or replay \
                     less of the traces"
                ),
            ));
        }
    }
    Ok(())
}

fn too_many_keys(keys_total: u64, with_traces: bool) -> String {
    let memory_gb = keys_total
        .saturating_mul(SIMULATOR_BYTES_PER_KEY)
        .div_ceil(1 << 30);
    let counted = if with_traces {
        "clients sharing a prefix count once, each trace's keys count apart"
    } else {
        "clients sharing a prefix count once"
    };
    format!(
        "the keyspaces add up to {keys_total} distinct keys ({counted}), which would need about \
         {memory_gb} GB of simulator memory; the limit is {DISTINCT_KEYS_MAX} keys"
    )
}

/// A trace's requests, or a generated client's rate over the time it is active.
fn commands_expected_of(client: &ClientConfig, scenario_duration_us: u64) -> f64 {
    match &client.workload {
        Workload::Trace(replay) => replay.trace.records.len() as f64,
        Workload::Generated(generated) => {
            let active_us = client.active_us(scenario_duration_us);
            generated.rate * active_us as f64 / MICROS_PER_SECOND as f64
        }
    }
}

fn value_bytes(field: &Field, path: &str) -> Checked<u32> {
    let bytes = size_bytes(field, path)?;
    u32::try_from(bytes)
        .ok()
        .filter(|bytes| u64::from(*bytes) <= VALUE_BYTES_MAX)
        .ok_or_else(|| mismatch(field, path, "a value size of at most 512mb"))
}
