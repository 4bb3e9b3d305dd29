//! The effective scenario: the document a run actually used, written back as TOML.
//!
//! A run's folder keeps `scenario.toml` so that the run can be repeated from it alone. Copying
//! the file as given would drop the `--set` overrides and `--seed`, so instead the parsed
//! document is taken after the overrides are applied (the same edit `parse` validates), the seed
//! is written in explicitly, and relative trace paths are joined to the scenario's folder so
//! they still resolve from elsewhere. Comments and layout of the original are not kept: sections
//! come in the order of the format, every value inline. Keys keep the order they were written
//! in (an override's after the file's), since the order of `commands` decides the draws.
//! The same text, with trace paths as written, is what a sweep's digest identifies.

use std::borrow::Cow;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::{Spanned, Value};

use super::error::{Problem, Sources};
use super::overrides::{self, section_names};
use super::raw;

/// The overridden document as TOML text, `scenario.seed` set to `seed_override` or the
/// document's own seed; trace paths joined to `trace_folder` when one is given.
pub(super) fn render(
    text: &str,
    sets: &[String],
    seed_override: Option<u64>,
    sources: &Sources<'_>,
    trace_folder: Option<&Path>,
) -> Result<String, Problem> {
    let mut document = raw::parse_document(text)?;
    overrides::apply(document.get_mut(), sets, sources)?;
    let document = document.get_mut();
    let seed = seed_override.or(take_seed(document));
    if let Some(folder) = trace_folder {
        rewrite_trace_paths(document, folder);
    }
    Ok(sections_text(document, seed))
}

/// Removes `scenario.seed` from the document and returns it if it is a whole number.
fn take_seed(document: &mut DeTable<'_>) -> Option<u64> {
    let scenario = match document.get_mut("scenario").map(Spanned::get_mut) {
        Some(DeValue::Table(scenario)) => scenario,
        _ => return None,
    };
    let seed = scenario.remove("seed")?;
    let integer = seed.get_ref().as_integer()?;
    u64::from_str_radix(integer.as_str(), integer.radix()).ok()
}

/// Each client's relative `trace` path joined to `folder`.
fn rewrite_trace_paths(document: &mut DeTable<'_>, folder: &Path) {
    let Some(DeValue::Array(clients)) = document.get_mut("client").map(Spanned::get_mut) else {
        return;
    };
    for client in clients.iter_mut() {
        let DeValue::Table(client) = client.get_mut() else {
            continue;
        };
        if let Some(trace) = client.get_mut("trace") {
            if let DeValue::String(path) = trace.get_mut() {
                let joined = folder.join(path.as_ref()).to_string_lossy().into_owned();
                *path = Cow::Owned(joined);
            }
        }
    }
}

/// The sections in the order of the format (`[scenario]` first, with its seed), then anything
/// else the document holds, so nothing is dropped.
fn sections_text(document: &DeTable<'_>, seed: Option<u64>) -> String {
    let mut parts = Vec::new();
    let known: Vec<&str> = section_names().collect();
    let others = document
        .keys()
        .map(|key| key.get_ref().as_ref())
        .filter(|name| !known.contains(name));
    for name in known.iter().copied().chain(others) {
        let Some(value) = document.get(name) else {
            continue;
        };
        let mut part = String::new();
        match value.get_ref() {
            DeValue::Table(table) => {
                part.push_str(&format!("[{}]\n", key_text(name)));
                if let (Some(seed), "scenario") = (seed, name) {
                    part.push_str(&format!("seed = {seed}\n"));
                }
                part.push_str(&entries_text(table));
            }
            DeValue::Array(items) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(table) => {
                            part.push_str(&format!(
                                "[[{}]]\n{}\n",
                                key_text(name),
                                entries_text(table)
                            ));
                        }
                        // Not a table: validation refuses it; keep it rather than drop it.
                        other => {
                            part.push_str(&format!("{} = {}\n", key_text(name), value_text(other)))
                        }
                    }
                }
            }
            other => part.push_str(&format!("{} = {}\n", key_text(name), value_text(other))),
        }
        parts.push(part.trim_end().to_string());
    }
    let mut text = parts.join("\n\n");
    text.push('\n');
    text
}

/// A table's entries in the order they were written, one `key = value` line each.
fn entries_text(table: &DeTable<'_>) -> String {
    ordered(table)
        .into_iter()
        .map(|(key, value)| format!("{} = {}\n", key_text(key), value_text(value)))
        .collect()
}

/// A table's entries by where their keys were written: the file's first, then each override's.
fn ordered<'t>(table: &'t DeTable<'_>) -> Vec<(&'t str, &'t DeValue<'t>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
        .into_iter()
        .map(|(key, value)| (key.get_ref().as_ref(), value.get_ref()))
        .collect()
}

/// A bare key if TOML allows one, else a quoted one.
fn key_text(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

/// A value written inline, as TOML.
fn value_text(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(text) => Value::String(text.to_string()).to_string(),
        // The integer as written, radix prefix included: valid TOML of any size.
        DeValue::Integer(integer) => integer.to_string(),
        DeValue::Float(float) => match float.as_str().parse::<f64>() {
            Ok(number) => Value::Float(number).to_string(),
            Err(_) => float.as_str().to_string(),
        },
        DeValue::Boolean(boolean) => boolean.to_string(),
        DeValue::Datetime(datetime) => Value::Datetime(*datetime).to_string(),
        DeValue::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|item| value_text(item.get_ref()))
                .collect();
            format!("[{}]", items.join(", "))
        }
        DeValue::Table(table) => {
            let entries: Vec<String> = ordered(table)
                .into_iter()
                .map(|(key, value)| format!("{} = {}", key_text(key), value_text(value)))
                .collect();
            if entries.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", entries.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use crate::scenario::{effective_text, parse, Overrides};
    use crate::sim::config::{SimConfig, Workload};

    /// The configuration with its traces' sources (the paths as written, which reports show)
    /// blanked: the effective text writes them joined to the scenario's folder.
    fn without_trace_sources(mut config: SimConfig) -> SimConfig {
        for client in &mut config.clients {
            if let Workload::Trace(workload) = &mut client.workload {
                std::sync::Arc::make_mut(&mut workload.trace).source.clear();
            }
        }
        config
    }

    fn bundled() -> Vec<PathBuf> {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut paths: Vec<PathBuf> = fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        paths
    }

    /// Every bundled scenario, with an override and another seed, validates to the same
    /// configuration from its effective text alone, even read from another folder.
    #[test]
    fn the_effective_text_alone_gives_the_same_configuration() {
        let overrides = Overrides {
            seed: Some(u64::MAX),
            sets: vec!["server.hz=20".to_string()],
        };
        for path in bundled() {
            let name = path.display().to_string();
            let text = fs::read_to_string(&path).unwrap();
            let expected = parse(&name, &text, &overrides).unwrap();
            let folder = path.parent().unwrap();
            let effective = effective_text(&name, &text, &overrides, Some(folder)).unwrap();
            let elsewhere = parse("elsewhere/scenario.toml", &effective, &Overrides::default())
                .unwrap_or_else(|error| panic!("{name}: {error}\n{effective}"));
            assert!(
                without_trace_sources(elsewhere) == without_trace_sources(expected),
                "{name}:\n{effective}"
            );
            assert!(effective.starts_with("[scenario]\nseed = 18446744073709551615\n"));
        }
    }

    /// The order of `commands` decides the draws: it is kept as written, an override's too.
    #[test]
    fn keys_keep_the_order_they_were_written_in() {
        let text = "[scenario]\nname = \"t\"\nseed = 1\nduration = \"1s\"\n\n[[client]]\n\
                    name = \"app\"\nrate = 10\nkeyspace = { keys = 10, prefix = \"k:\" }\n\
                    commands = { GET = 80, SET = 15, DEL = 5 }\n";
        let effective = effective_text("s.toml", text, &Overrides::default(), None).unwrap();
        assert!(
            effective.contains("commands = { GET = 80, SET = 15, DEL = 5 }\n"),
            "{effective}"
        );
        let overrides = Overrides {
            seed: None,
            sets: vec!["client.app.commands={ SET = 1, GET = 2 }".to_string()],
        };
        let effective = effective_text("s.toml", text, &overrides, None).unwrap();
        assert!(
            effective.contains("commands = { SET = 1, GET = 2 }\n"),
            "{effective}"
        );
        let expected = parse("s.toml", text, &overrides).unwrap();
        let again = parse("s.toml", &effective, &Overrides::default()).unwrap();
        assert_eq!(again, expected);
    }

    #[test]
    fn without_a_trace_folder_paths_stay_as_written() {
        let text = "[scenario]\nname = \"t\"\nseed = 0x10\nduration = \"1s\"\n\n\
                    [[client]]\nname = \"replay\"\ntrace = \"traces/a.csv\"\nformat = \"csv\"\n";
        let effective = effective_text("s.toml", text, &Overrides::default(), None).unwrap();
        assert!(
            effective.contains("trace = \"traces/a.csv\""),
            "{effective}"
        );
        assert!(effective.contains("seed = 16\n"), "{effective}");
        let moved = effective_text(
            "s.toml",
            text,
            &Overrides::default(),
            Some(Path::new("/data")),
        )
        .unwrap();
        assert!(moved.contains("trace = \"/data/traces/a.csv\""), "{moved}");
    }
}
