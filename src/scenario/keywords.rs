//! The words a scenario chooses with: one table per choice, each (keyword, value) listed once.
//!
//! Reading a choice looks its keyword up in the table (ignoring case), an unknown word is
//! refused with the table's keywords as the expected values, and a message that names the
//! choice back takes the spelling from the same table entry. Choices that carry parameters
//! (`popularity = "zipf"` with its `skew`) map to a kind, which the validator matches on
//! exhaustively: a keyword added here without its arm does not compile.

use super::check::{mismatch, one_of, Checked};
use super::raw::{Field, Scalar};
use crate::sim::config::{AppendFsync, Arrivals, MemoryModel, OnMiss};

/// A choice's keywords, each with the value it stands for.
pub(super) type Keywords<T> = [(&'static str, T)];

/// The table's entry for the field's keyword (compared ignoring case), or an error listing the
/// keywords.
pub(super) fn lookup<'t, T>(
    field: &Field,
    path: &str,
    table: &'t Keywords<T>,
) -> Checked<&'t (&'static str, T)> {
    let found = match field.get_ref() {
        Scalar::String(text) => table
            .iter()
            .find(|(keyword, _)| keyword.eq_ignore_ascii_case(text)),
        _ => None,
    };
    found.ok_or_else(|| mismatch(field, path, one_of(&names(table))))
}

/// The value the field's keyword stands for.
pub(super) fn choice<T: Copy>(field: &Field, path: &str, table: &Keywords<T>) -> Checked<T> {
    lookup(field, path, table).map(|(_, value)| *value)
}

/// The value of an optional keyword field, `default` when it is absent.
pub(super) fn optional_choice<T: Copy>(
    field: &Option<Field>,
    path: &str,
    table: &Keywords<T>,
    default: T,
) -> Checked<T> {
    field
        .as_ref()
        .map_or(Ok(default), |field| choice(field, path, table))
}

/// The keywords, in table order.
pub(super) fn names<T>(table: &Keywords<T>) -> Vec<&'static str> {
    table.iter().map(|(keyword, _)| *keyword).collect()
}

/// `server.memory-model`.
pub(super) const MEMORY_MODELS: [(&str, MemoryModel); 2] =
    [("redis", MemoryModel::Redis), ("raw", MemoryModel::Raw)];

/// A client's `rate-kind`.
pub(super) const ARRIVALS: [(&str, Arrivals); 2] =
    [("poisson", Arrivals::Poisson), ("fixed", Arrivals::Fixed)];

/// A client's `on-miss`.
pub(super) const ON_MISS: [(&str, OnMiss); 2] = [("none", OnMiss::None), ("set", OnMiss::Set)];

/// `persistence.appendfsync`.
pub(super) const APPENDFSYNC: [(&str, AppendFsync); 3] = [
    ("always", AppendFsync::Always),
    ("everysec", AppendFsync::Everysec),
    ("no", AppendFsync::No),
];

/// A keyspace's `popularity`; each kind takes its own parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PopularityKind {
    Uniform,
    Zipf,
    Sequential,
    Hotset,
}

pub(super) const POPULARITIES: [(&str, PopularityKind); 4] = [
    ("uniform", PopularityKind::Uniform),
    ("zipf", PopularityKind::Zipf),
    ("sequential", PopularityKind::Sequential),
    ("hotset", PopularityKind::Hotset),
];

/// A keyspace without `popularity` draws its keys uniformly.
pub(super) const POPULARITY_DEFAULT: (&str, PopularityKind) = POPULARITIES[0];

/// A value size's `dist`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ValueDistribution {
    Uniform,
    Normal,
    Lognormal,
}

pub(super) const VALUE_DISTRIBUTIONS: [(&str, ValueDistribution); 3] = [
    ("uniform", ValueDistribution::Uniform),
    ("normal", ValueDistribution::Normal),
    ("lognormal", ValueDistribution::Lognormal),
];

/// A replication link lag's `dist`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LagDistribution {
    Uniform,
    Lognormal,
}

pub(super) const LAG_DISTRIBUTIONS: [(&str, LagDistribution); 2] = [
    ("uniform", LagDistribution::Uniform),
    ("lognormal", LagDistribution::Lognormal),
];

/// A client's `discovery`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DiscoveryKind {
    /// Asks a Sentinel every `discovery-delay`.
    Sentinel,
    Fixed,
}

pub(super) const DISCOVERY: [(&str, DiscoveryKind); 2] = [
    ("sentinel", DiscoveryKind::Sentinel),
    ("fixed", DiscoveryKind::Fixed),
];

/// `read-from` words other than a replica's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadFromKind {
    Primary,
    AnyReplica,
}

/// Compared exactly, as replica names are.
pub(super) const READ_FROM: [(&str, ReadFromKind); 2] = [
    ("primary", ReadFromKind::Primary),
    ("replica", ReadFromKind::AnyReplica),
];

/// An event's `do`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKind {
    FlushDb,
    FlushAll,
    Del,
    ConfigSet,
    Select,
    Crash,
    Kill,
    Shutdown,
    Restart,
    Failover,
    Pause,
    Resume,
    LinkDown,
    LinkUp,
    Partition,
    Heal,
}

pub(super) const EVENT_ACTIONS: [(&str, EventKind); 16] = [
    ("flushdb", EventKind::FlushDb),
    ("flushall", EventKind::FlushAll),
    ("del", EventKind::Del),
    ("config-set", EventKind::ConfigSet),
    ("select", EventKind::Select),
    ("crash", EventKind::Crash),
    ("kill", EventKind::Kill),
    ("shutdown", EventKind::Shutdown),
    ("restart", EventKind::Restart),
    ("failover", EventKind::Failover),
    ("pause", EventKind::Pause),
    ("resume", EventKind::Resume),
    ("link-down", EventKind::LinkDown),
    ("link-up", EventKind::LinkUp),
    ("partition", EventKind::Partition),
    ("heal", EventKind::Heal),
];

/// One of SHUTDOWN's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ShutdownFlag {
    Save,
    NoSave,
    Now,
    Force,
}

pub(super) const SHUTDOWN_FLAGS: [(&str, ShutdownFlag); 4] = [
    ("save", ShutdownFlag::Save),
    ("nosave", ShutdownFlag::NoSave),
    ("now", ShutdownFlag::Now),
    ("force", ShutdownFlag::Force),
];

/// The directives a `config-set` event may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Directive {
    Maxmemory,
    MaxmemoryPolicy,
    MaxmemorySamples,
    MaxmemoryEvictionTenacity,
    LfuLogFactor,
    LfuDecayTime,
    Hz,
    ActiveExpireEffort,
    MaxmemoryClients,
}

pub(super) const CONFIG_SET_DIRECTIVES: [(&str, Directive); 9] = [
    ("maxmemory", Directive::Maxmemory),
    ("maxmemory-policy", Directive::MaxmemoryPolicy),
    ("maxmemory-samples", Directive::MaxmemorySamples),
    (
        "maxmemory-eviction-tenacity",
        Directive::MaxmemoryEvictionTenacity,
    ),
    ("lfu-log-factor", Directive::LfuLogFactor),
    ("lfu-decay-time", Directive::LfuDecayTime),
    ("hz", Directive::Hz),
    ("active-expire-effort", Directive::ActiveExpireEffort),
    ("maxmemory-clients", Directive::MaxmemoryClients),
];

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Spanned;

    /// Every entry reads back as its own value, under any case, and no keyword or value is
    /// listed twice; `every` lists each variant once (its exhaustive `match` in the caller
    /// fails to compile when a variant is added).
    fn round_trips<T: Copy + PartialEq + std::fmt::Debug>(table: &Keywords<T>, every: &[T]) {
        for (index, (keyword, value)) in table.iter().enumerate() {
            for spelling in [keyword.to_string(), keyword.to_ascii_uppercase()] {
                let field = Spanned::new(0..1, Scalar::String(spelling));
                assert_eq!(choice(&field, "path", table), Ok(*value), "{keyword}");
            }
            let same_keyword = table.iter().filter(|(other, _)| other == keyword).count();
            let same_value = table.iter().filter(|(_, other)| other == value).count();
            assert_eq!(
                (same_keyword, same_value),
                (1, 1),
                "entry {index}: {keyword}"
            );
        }
        for variant in every {
            assert!(
                table.iter().any(|(_, value)| value == variant),
                "{variant:?} has no keyword"
            );
        }
        let field = Spanned::new(0..1, Scalar::String("no-such-word".to_string()));
        let refused = choice(&field, "path", table).expect_err("unknown keyword");
        assert!(refused.message.contains(&one_of(&names(table))));
    }

    #[test]
    fn memory_models() {
        let every = |model| match model {
            MemoryModel::Redis | MemoryModel::Raw => model,
        };
        round_trips(
            &MEMORY_MODELS,
            &[MemoryModel::Redis, MemoryModel::Raw].map(every),
        );
    }

    #[test]
    fn arrivals() {
        let every = |arrivals| match arrivals {
            Arrivals::Poisson | Arrivals::Fixed => arrivals,
        };
        round_trips(&ARRIVALS, &[Arrivals::Poisson, Arrivals::Fixed].map(every));
    }

    #[test]
    fn on_miss() {
        let every = |on_miss| match on_miss {
            OnMiss::None | OnMiss::Set => on_miss,
        };
        round_trips(&ON_MISS, &[OnMiss::None, OnMiss::Set].map(every));
    }

    #[test]
    fn appendfsync() {
        let every = |fsync| match fsync {
            AppendFsync::Always | AppendFsync::Everysec | AppendFsync::No => fsync,
        };
        let all = [AppendFsync::Always, AppendFsync::Everysec, AppendFsync::No];
        round_trips(&APPENDFSYNC, &all.map(every));
    }

    #[test]
    fn popularities() {
        use PopularityKind::*;
        let every = |kind| match kind {
            Uniform | Zipf | Sequential | Hotset => kind,
        };
        round_trips(
            &POPULARITIES,
            &[Uniform, Zipf, Sequential, Hotset].map(every),
        );
        assert_eq!(POPULARITY_DEFAULT, ("uniform", Uniform));
    }

    #[test]
    fn value_distributions() {
        use ValueDistribution::*;
        let every = |kind| match kind {
            Uniform | Normal | Lognormal => kind,
        };
        round_trips(
            &VALUE_DISTRIBUTIONS,
            &[Uniform, Normal, Lognormal].map(every),
        );
    }

    #[test]
    fn lag_distributions() {
        use LagDistribution::*;
        let every = |kind| match kind {
            Uniform | Lognormal => kind,
        };
        round_trips(&LAG_DISTRIBUTIONS, &[Uniform, Lognormal].map(every));
    }

    #[test]
    fn discovery() {
        use DiscoveryKind::*;
        let every = |kind| match kind {
            Sentinel | Fixed => kind,
        };
        round_trips(&DISCOVERY, &[Sentinel, Fixed].map(every));
    }

    #[test]
    fn read_from() {
        use ReadFromKind::*;
        let every = |kind| match kind {
            Primary | AnyReplica => kind,
        };
        round_trips(&READ_FROM, &[Primary, AnyReplica].map(every));
    }

    #[test]
    fn event_actions() {
        use EventKind::*;
        let every = |kind| match kind {
            FlushDb | FlushAll | Del | ConfigSet | Select | Crash | Kill | Shutdown | Restart
            | Failover | Pause | Resume | LinkDown | LinkUp | Partition | Heal => kind,
        };
        let all = [
            FlushDb, FlushAll, Del, ConfigSet, Select, Crash, Kill, Shutdown, Restart, Failover,
            Pause, Resume, LinkDown, LinkUp, Partition, Heal,
        ];
        round_trips(&EVENT_ACTIONS, &all.map(every));
    }

    #[test]
    fn config_set_directives() {
        use Directive::*;
        let every = |directive| match directive {
            Maxmemory
            | MaxmemoryPolicy
            | MaxmemorySamples
            | MaxmemoryEvictionTenacity
            | LfuLogFactor
            | LfuDecayTime
            | Hz
            | ActiveExpireEffort
            | MaxmemoryClients => directive,
        };
        let all = [
            Maxmemory,
            MaxmemoryPolicy,
            MaxmemorySamples,
            MaxmemoryEvictionTenacity,
            LfuLogFactor,
            LfuDecayTime,
            Hz,
            ActiveExpireEffort,
            MaxmemoryClients,
        ];
        round_trips(&CONFIG_SET_DIRECTIVES, &all.map(every));
    }
}
