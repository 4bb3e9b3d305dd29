//! INFO: the fields of `INFO everything` on Redis 7.0.15 against vanish's INFO text (what it
//! writes to info-<node>.txt), after the same short command sequence (redis-fidelity.md 7).

use vanish::sim::config::{CommandKind, ServerConfig};
use vanish::sim::server::{Argument, Reply};

use crate::redis::{Info, RedisServer, Reply as Resp};
use crate::sim::{Family, SimNode};
use crate::table::Table;

/// The sections vanish prints, in Redis's order (CPU, Modules, Latencystats and Cluster are
/// deliberately left out by vanish).
const SECTIONS: [&str; 9] = [
    "Server",
    "Clients",
    "Memory",
    "Persistence",
    "Stats",
    "Replication",
    "Commandstats",
    "Errorstats",
    "Keyspace",
];

/// Commands the harness itself sends to the real server before the sequence; their
/// commandstats lines are not part of the comparison.
const HARNESS_COMMANDS: [&str; 1] = ["cmdstat_config|resetstat"];

/// The sequence, as (real command, simulated command). Keys: key:1..3 strings (two with a
/// TTL), key:4 and key:5 never written, key:6 a counter, key:7 a hash.
fn run_sequence(
    real: &mut crate::redis::Connection,
    sim: &mut SimNode,
) -> Vec<(String, String, String)> {
    let value = |ttl_ms| Argument::Value { len: 1, ttl_ms };
    let field = Argument::Field { id: 0, len: 1 };
    let steps: Vec<(Vec<&str>, CommandKind, u64, Argument)> = vec![
        (
            vec!["SET", "key:1", "v", "PX", "100000"],
            CommandKind::Set,
            1,
            value(Some(100_000)),
        ),
        (
            vec!["SET", "key:2", "v", "PX", "200000"],
            CommandKind::Set,
            2,
            value(Some(200_000)),
        ),
        (vec!["SET", "key:3", "v"], CommandKind::Set, 3, value(None)),
        (vec!["GET", "key:1"], CommandKind::Get, 1, Argument::None),
        (vec!["GET", "key:2"], CommandKind::Get, 2, Argument::None),
        (vec!["GET", "key:4"], CommandKind::Get, 4, Argument::None),
        (vec!["GET", "key:5"], CommandKind::Get, 5, Argument::None),
        (vec!["INCR", "key:6"], CommandKind::Incr, 6, Argument::None),
        (vec!["INCR", "key:6"], CommandKind::Incr, 6, Argument::None),
        (
            vec!["HSET", "key:7", "field0", "v"],
            CommandKind::Hset,
            7,
            field,
        ),
        (vec!["GET", "key:7"], CommandKind::Get, 7, Argument::None),
    ];
    let mut transcript = Vec::new();
    for (args, command, id, argument) in steps {
        let real_reply = match real.call(&args).expect("sequence") {
            Resp::Error(error) => format!("-{}", error.split(' ').next().unwrap_or("")),
            Resp::Bulk(None) => "nil".to_string(),
            Resp::Bulk(Some(_)) | Resp::Simple(_) => "ok".to_string(),
            Resp::Integer(n) => n.to_string(),
            other => format!("{other:?}"),
        };
        let key = sim.key(0, id);
        sim.advance_ms(1);
        let sim_reply = match sim.run(command, key, argument) {
            Reply::Error(error) => format!("-{}", error.prefix()),
            Reply::Miss => "nil".to_string(),
            Reply::Hit | Reply::Ok => "ok".to_string(),
            Reply::Integer(n) => n.to_string(),
            Reply::Continued => "continued".to_string(),
        };
        transcript.push((args.join(" "), real_reply, sim_reply));
    }
    transcript
}

#[test]
fn info_fields_and_the_counters_vanish_models() {
    let server = RedisServer::start(&[]);
    let mut real = server.connect();
    // Forget the readiness PING; RESETSTAT's own line is then the only harness line.
    real.must(&["CONFIG", "RESETSTAT"]);
    let mut sim = SimNode::new(
        ServerConfig::default(),
        &[Family {
            prefix: "key:",
            count: 8,
        }],
    );
    let transcript = run_sequence(&mut real, &mut sim);
    let real_info = real.info("everything");
    let sim_info = Info::parse(&sim.info_text());

    let mut replies = Table::new("the command sequence", &["command", "real", "vanish"]);
    for (command, r, s) in &transcript {
        replies.row(vec![command.clone(), r.clone(), s.clone()], r == s);
    }

    // 1. Field names, section by section: same set and order (Commandstats: same set; Redis
    //    prints it in its command table's hash order, which is seeded at random per process,
    //    vanish sorts by name).
    let mut names = Table::new(
        &format!("INFO everything field names ({})", server.version()),
        &["section", "only in Redis", "only in vanish", "order"],
    );
    for section in SECTIONS {
        let mut real_names = real_info.names(section);
        real_names.retain(|name| !HARNESS_COMMANDS.contains(&name.as_str()));
        let sim_names = sim_info.names(section);
        let only_real: Vec<&String> = real_names
            .iter()
            .filter(|n| !sim_names.contains(n))
            .collect();
        let only_sim: Vec<&String> = sim_names
            .iter()
            .filter(|n| !real_names.contains(n))
            .collect();
        let order_matters = section != "Commandstats";
        let same_order = real_names == sim_names;
        let order = if !order_matters {
            "not compared".to_string()
        } else if same_order {
            "same".to_string()
        } else {
            first_order_difference(&real_names, &sim_names)
        };
        let ok = only_real.is_empty() && only_sim.is_empty() && (same_order || !order_matters);
        names.row(
            vec![
                section.to_string(),
                format!("{only_real:?}"),
                format!("{only_sim:?}"),
                order,
            ],
            ok,
        );
    }

    // 2. Values vanish models exactly.
    let mut values = Table::new("INFO values that must match", &["field", "real", "vanish"]);
    let mut exact = |field: &str, real: Option<String>, simulated: Option<String>| {
        let ok = real == simulated;
        values.row(
            vec![
                field.to_string(),
                real.unwrap_or_else(|| "(absent)".into()),
                simulated.unwrap_or_else(|| "(absent)".into()),
            ],
            ok,
        );
    };
    for field in [
        "keyspace_hits",
        "keyspace_misses",
        "expired_keys",
        "evicted_keys",
        "total_error_replies",
    ] {
        exact(
            field,
            real_info.get(field).map(String::from),
            sim_info.get(field).map(String::from),
        );
    }
    // The harness's CONFIG RESETSTAT counts as one processed command on the real server.
    exact(
        "total_commands_processed (real − 1 for RESETSTAT)",
        Some((real_info.u64("total_commands_processed") - 1).to_string()),
        sim_info.get("total_commands_processed").map(String::from),
    );
    for part in ["keys", "expires"] {
        exact(
            &format!("db0 {part}"),
            real_info.subfields("db0").get(part).cloned(),
            sim_info.subfields("db0").get(part).cloned(),
        );
    }
    let mut commands: Vec<String> = real_info
        .names("Commandstats")
        .into_iter()
        .chain(sim_info.names("Commandstats"))
        .filter(|name| !HARNESS_COMMANDS.contains(&name.as_str()))
        .collect();
    commands.sort();
    commands.dedup();
    for command in commands {
        for part in ["calls", "rejected_calls", "failed_calls"] {
            exact(
                &format!("{command} {part}"),
                real_info.subfields(&command).get(part).cloned(),
                sim_info.subfields(&command).get(part).cloned(),
            );
        }
    }
    for name in real_info
        .names("Errorstats")
        .into_iter()
        .chain(sim_info.names("Errorstats"))
    {
        exact(
            &format!("{name} count"),
            real_info.subfields(&name).get("count").cloned(),
            sim_info.subfields(&name).get("count").cloned(),
        );
    }

    let failures = replies.failures() + names.failures() + values.failures();
    let text = format!("{}{}{}", replies.render(), names.render(), values.render());
    println!("{text}");
    assert!(
        failures == 0,
        "{failures} rows differ (names: same set and order; values: exact):{text}"
    );
}

/// Where two name lists first disagree, for the table.
fn first_order_difference(real: &[String], simulated: &[String]) -> String {
    let position = real
        .iter()
        .zip(simulated)
        .position(|(a, b)| a != b)
        .unwrap_or(real.len().min(simulated.len()));
    format!(
        "differs at #{position}: real {:?}, vanish {:?}",
        real.get(position),
        simulated.get(position)
    )
}
