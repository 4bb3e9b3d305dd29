//! `[[event]]` tables: what an operator or a fault does at a given time.
//!
//! `do` picks the action from `keywords::EVENT_ACTIONS`; each action takes its own parameters
//! (`parameters_of`), and any other parameter given is refused so that a typo in `do` is not
//! silent. Nodes are named as `replicas::node` reads them; partitions are read in `faults`.

use std::ops::Range;

use toml::Spanned;

use super::check::{
    because, before_end, database, integer_in, list_or_none, mismatch, one_of, optional, policy,
    reject_inapplicable, required, size_bytes, span_of, text, Checked,
};
use super::error::Problem;
use super::faults;
use super::keywords::{
    lookup, Directive, EventKind, ShutdownFlag, CONFIG_SET_DIRECTIVES, EVENT_ACTIONS,
    SHUTDOWN_FLAGS,
};
use super::limits::{
    ACTIVE_EXPIRE_EFFORT, HZ, LFU_DECAY_TIME, LFU_LOG_FACTOR, MAXMEMORY_EVICTION_TENACITY,
    MAXMEMORY_SAMPLES,
};
use super::output_limits;
use super::raw::{Field, RawEvent, Scalar, Table};
use super::replicas;
use crate::sim::config::{
    ClientConfig, ConfigChange, EventAction, EventConfig, KeySelection, MaxmemoryPolicy,
    ReplicaConfig, ServerConfig, ShutdownFlags,
};

/// What an event is checked against: the scenario read so far.
pub(super) struct World<'w> {
    pub scenario_duration_us: u64,
    pub server: &'w ServerConfig,
    pub clients: &'w [ClientConfig],
    pub replicas: &'w [ReplicaConfig],
}

pub(super) fn event(
    index: usize,
    raw: &Spanned<Table<RawEvent>>,
    world: &World<'_>,
) -> Checked<EventConfig> {
    let fields = raw.get_ref();
    let path = format!("event[{index}]");
    let at_us = before_end(
        &fields.at,
        &format!("{path}.at"),
        world.scenario_duration_us,
    )?;
    let &(name, kind) = lookup(&fields.action, &format!("{path}.do"), &EVENT_ACTIONS)?;
    let context = format!("do = \"{name}\"");
    let allowed = parameters_of(kind);
    reject_inapplicable(&given_parameters(fields), allowed, &path, &context)?;
    let why = format!("{context} needs {}", allowed.join(" and "));
    let event = Event {
        raw,
        fields,
        path,
        context,
        why,
        world,
    };
    Ok(EventConfig {
        at_us,
        action: event.action(kind)?,
    })
}

/// The parameters each action takes.
fn parameters_of(kind: EventKind) -> &'static [&'static str] {
    match kind {
        EventKind::FlushDb => &["db"],
        EventKind::Del => &["db", "keys", "pattern"],
        EventKind::ConfigSet => &["directive", "value"],
        EventKind::Select => &["client", "db"],
        EventKind::Crash
        | EventKind::Kill
        | EventKind::Restart
        | EventKind::Pause
        | EventKind::Resume
        | EventKind::LinkDown
        | EventKind::LinkUp => &["node"],
        EventKind::Shutdown => &["node", "flags"],
        EventKind::Failover => &["to"],
        EventKind::Partition => &["sides"],
        EventKind::FlushAll | EventKind::Heal => &[],
    }
}

fn given_parameters(fields: &RawEvent) -> [(&'static str, Option<Range<usize>>); 10] {
    [
        ("db", span_of(&fields.db)),
        ("keys", fields.keys.as_ref().map(Spanned::span)),
        ("pattern", span_of(&fields.pattern)),
        ("directive", span_of(&fields.directive)),
        ("value", span_of(&fields.value)),
        ("client", span_of(&fields.client)),
        ("node", span_of(&fields.node)),
        ("to", span_of(&fields.to)),
        ("flags", span_of(&fields.flags)),
        ("sides", fields.sides.as_ref().map(Spanned::span)),
    ]
}

/// One event being read, with what its messages need.
struct Event<'e> {
    raw: &'e Spanned<Table<RawEvent>>,
    fields: &'e RawEvent,
    path: String,
    /// `do = "..."`, as messages quote it.
    context: String,
    /// Why a missing parameter is needed.
    why: String,
    world: &'e World<'e>,
}

impl<'e> Event<'e> {
    fn action(&self, kind: EventKind) -> Checked<EventAction> {
        Ok(match kind {
            EventKind::Crash => EventAction::Crash { node: self.node()? },
            EventKind::Kill => EventAction::Kill { node: self.node()? },
            EventKind::Shutdown => EventAction::Shutdown {
                node: self.node()?,
                flags: self.shutdown_flags()?,
            },
            EventKind::Restart => EventAction::Restart { node: self.node()? },
            EventKind::Pause => EventAction::Pause { node: self.node()? },
            EventKind::Resume => EventAction::Resume { node: self.node()? },
            EventKind::LinkDown => EventAction::LinkDown {
                node: self.link_node()?,
            },
            EventKind::LinkUp => EventAction::LinkUp {
                node: self.link_node()?,
            },
            EventKind::Partition => EventAction::Partition(self.partition()?),
            EventKind::Heal => EventAction::Heal,
            EventKind::Failover => EventAction::Failover {
                to: self.failover_to()?,
            },
            EventKind::FlushDb => EventAction::FlushDb { db: self.db()? },
            EventKind::FlushAll => EventAction::FlushAll,
            EventKind::Del => EventAction::Del {
                db: self.db()?,
                keys: key_selection(self.fields, &self.raw.span(), &self.path)?,
            },
            EventKind::ConfigSet => EventAction::ConfigSet(self.config_change()?),
            EventKind::Select => self.select()?,
        })
    }

    fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    fn required(&self, field: &'e Option<Field>, name: &str) -> Checked<&'e Field> {
        required(field, &self.raw.span(), &self.path, name, &self.why)
    }

    fn db(&self) -> Checked<u32> {
        let databases = self.world.server.databases;
        optional(&self.fields.db, 0, |field| {
            database(field, &self.at("db"), databases)
        })
    }

    /// The node a fault hits; the primary unless named.
    fn node(&self) -> Checked<usize> {
        self.fields.node.as_ref().map_or(Ok(0), |field| {
            replicas::node(field, &self.at("node"), self.world.replicas)
        })
    }

    /// `flags = "nosave now"`: any of SHUTDOWN's flags, each once; none is a plain SHUTDOWN.
    fn shutdown_flags(&self) -> Checked<ShutdownFlags> {
        let Some(field) = &self.fields.flags else {
            return Ok(ShutdownFlags::default());
        };
        let path = self.at("flags");
        let expected = "SHUTDOWN's flags separated by spaces: save, nosave, now, force";
        let words = text(field, &path, expected)?;
        let mut flags = ShutdownFlags::default();
        for word in words.split_whitespace() {
            let lower = word.to_ascii_lowercase();
            let Some(&(_, flag)) = SHUTDOWN_FLAGS.iter().find(|(name, _)| *name == lower) else {
                return Err(because(
                    mismatch(field, &path, expected),
                    format!("{word:?} is not one of them"),
                ));
            };
            let seen = match flag {
                ShutdownFlag::Save => std::mem::replace(&mut flags.save, true),
                ShutdownFlag::NoSave => std::mem::replace(&mut flags.nosave, true),
                ShutdownFlag::Now => std::mem::replace(&mut flags.now, true),
                ShutdownFlag::Force => std::mem::replace(&mut flags.force, true),
            };
            if seen {
                return Err(because(
                    mismatch(field, &path, expected),
                    format!("{word:?} is given twice"),
                ));
            }
        }
        if flags.save && flags.nosave {
            // SHUTDOWN answers "-ERR syntax error" to both.
            return Err(because(
                mismatch(field, &path, expected),
                "save and nosave contradict each other",
            ));
        }
        Ok(flags)
    }

    /// The node whose replication link breaks or comes back.
    fn link_node(&self) -> Checked<usize> {
        // Any node may be the one with a link: after a failover, node 0 is a replica.
        if self.world.replicas.is_empty() {
            return Err(Problem::new(
                self.fields.action.span(),
                self.at("do"),
                format!(
                    "{} needs a [[replica]]: only a replica has a replication link",
                    self.context
                ),
            ));
        }
        let field = self.required(&self.fields.node, "node")?;
        replicas::node(field, &self.at("node"), self.world.replicas)
    }

    fn partition(&self) -> Checked<crate::sim::config::Partition> {
        let sides = self.fields.sides.as_ref().ok_or_else(|| {
            Problem::new(
                self.raw.span(),
                &self.path,
                "missing field `sides` (do = \"partition\" needs sides = [[\"primary\", \"web\"], [\"r1\"]]: arrays of node and client names)",
            )
        })?;
        faults::partition(sides, &self.path, self.world.replicas, self.world.clients)
    }

    /// The replica to promote; `None` lets Sentinel's rules pick.
    fn failover_to(&self) -> Checked<Option<usize>> {
        if self.world.replicas.is_empty() {
            return Err(Problem::new(
                self.fields.action.span(),
                self.at("do"),
                "do = \"failover\" needs a [[replica]] to promote",
            ));
        }
        let Some(field) = &self.fields.to else {
            return Ok(None);
        };
        match replicas::node(field, &self.at("to"), self.world.replicas)? {
            0 => Err(mismatch(field, &self.at("to"), "a replica's name")),
            node => Ok(Some(node)),
        }
    }

    fn config_change(&self) -> Checked<ConfigChange> {
        config_change(
            self.required(&self.fields.directive, "directive")?,
            self.required(&self.fields.value, "value")?,
            &self.path,
            self.world.server.maxmemory_policy,
        )
    }

    fn select(&self) -> Checked<EventAction> {
        let clients = self.world.clients;
        let client_field = self.required(&self.fields.client, "client")?;
        let name = text(client_field, &self.at("client"), "a client name")?;
        let client_names: Vec<&str> = clients.iter().map(|client| client.name.as_str()).collect();
        let client = client_names
            .iter()
            .position(|known| *known == name)
            .ok_or_else(|| {
                mismatch(
                    client_field,
                    &self.at("client"),
                    format!("the name of a [[client]] ({})", list_or_none(&client_names)),
                )
            })?;
        if clients[client]
            .trace()
            .is_some_and(|trace| trace.per_record_db)
        {
            return Err(because(
                mismatch(
                    client_field,
                    &self.at("client"),
                    "a client whose database can change",
                ),
                "it replays MONITOR lines, which name their own databases",
            ));
        }
        let db_field = self.required(&self.fields.db, "db")?;
        let db = database(db_field, &self.at("db"), self.world.server.databases)?;
        Ok(EventAction::Select { client, db })
    }
}

fn key_selection(raw: &RawEvent, event_span: &Range<usize>, path: &str) -> Checked<KeySelection> {
    match (&raw.keys, &raw.pattern) {
        (Some(_), Some(pattern)) => Err(Problem::new(
            pattern.span(),
            format!("{path}.pattern"),
            "expected either keys or pattern for do = \"del\", found both",
        )),
        (None, None) => Err(Problem::new(
            event_span.clone(),
            path,
            "do = \"del\" needs keys = [\"a\", \"b\"] or pattern = \"prefix:*\", found neither",
        )),
        (None, Some(pattern)) => {
            let pattern_path = format!("{path}.pattern");
            let text = text(
                pattern,
                &pattern_path,
                "a glob pattern such as \"session:*\"",
            )?;
            if text.is_empty() {
                return Err(mismatch(pattern, &pattern_path, "a non-empty glob pattern"));
            }
            Ok(KeySelection::Pattern(text.to_string()))
        }
        (Some(keys), None) => {
            if keys.get_ref().is_empty() {
                return Err(Problem::new(
                    keys.span(),
                    format!("{path}.keys"),
                    "expected at least one key name, found an empty list",
                ));
            }
            let names = keys
                .get_ref()
                .iter()
                .enumerate()
                .map(|(index, key)| {
                    text(key, &format!("{path}.keys[{index}]"), "a key name").map(str::to_string)
                })
                .collect::<Checked<Vec<_>>>()?;
            Ok(KeySelection::Keys(names))
        }
    }
}

fn config_change(
    directive: &Field,
    value: &Field,
    path: &str,
    server_policy: MaxmemoryPolicy,
) -> Checked<ConfigChange> {
    let &(_, directive) = lookup(
        directive,
        &format!("{path}.directive"),
        &CONFIG_SET_DIRECTIVES,
    )?;
    let path = format!("{path}.value");
    // CONFIG SET takes strings, so "20" means 20 here.
    let value = &match value.get_ref() {
        Scalar::String(text) => match text.parse::<i128>() {
            Ok(integer) => Spanned::new(value.span(), Scalar::Integer(integer)),
            Err(_) => value.clone(),
        },
        _ => value.clone(),
    };
    Ok(match directive {
        Directive::Maxmemory => ConfigChange::Maxmemory(size_bytes(value, &path)?),
        Directive::MaxmemoryPolicy => {
            ConfigChange::MaxmemoryPolicy(policy_switch(value, &path, server_policy)?)
        }
        Directive::MaxmemorySamples => {
            ConfigChange::MaxmemorySamples(integer_in(value, &path, MAXMEMORY_SAMPLES)?)
        }
        Directive::MaxmemoryEvictionTenacity => ConfigChange::MaxmemoryEvictionTenacity(
            integer_in(value, &path, MAXMEMORY_EVICTION_TENACITY)?,
        ),
        Directive::LfuLogFactor => {
            ConfigChange::LfuLogFactor(integer_in(value, &path, LFU_LOG_FACTOR)?)
        }
        Directive::LfuDecayTime => {
            ConfigChange::LfuDecayTime(integer_in(value, &path, LFU_DECAY_TIME)?)
        }
        Directive::Hz => ConfigChange::Hz(integer_in(value, &path, HZ)?),
        Directive::ActiveExpireEffort => {
            ConfigChange::ActiveExpireEffort(integer_in(value, &path, ACTIVE_EXPIRE_EFFORT)?)
        }
        Directive::MaxmemoryClients => {
            ConfigChange::MaxmemoryClients(output_limits::maxmemory_clients(value, &path)?)
        }
    })
}

/// A run-time policy change. The reference policies evict as a classic cache does, from the first
/// command on, with bookkeeping Redis's policies do not keep: they can be neither left nor
/// entered mid-run.
fn policy_switch(
    value: &Field,
    path: &str,
    server_policy: MaxmemoryPolicy,
) -> Checked<MaxmemoryPolicy> {
    let wanted = policy(value, path)?;
    if wanted == server_policy || !(wanted.is_reference() || server_policy.is_reference()) {
        return Ok(wanted);
    }
    if server_policy.is_reference() {
        return Err(because(
            mismatch(
                value,
                path,
                format!("\"{}\", the server's policy", server_policy.as_str()),
            ),
            "a reference policy cannot be switched away from at run time",
        ));
    }
    let redis_policies: Vec<&str> = MaxmemoryPolicy::ALL.map(MaxmemoryPolicy::as_str).to_vec();
    Err(because(
        mismatch(value, path, one_of(&redis_policies)),
        "a reference policy cannot be switched to at run time; set it in [server]",
    ))
}
