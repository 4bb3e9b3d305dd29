//! `--set section.key=value`: edits to the parsed document, made before anything is validated.
//!
//! Editing the document rather than the validated config means an overridden value passes
//! through exactly the checks a value in the file does. Each value keeps a span inside its own
//! `--set` entry (see `error::Sources`), so its errors name the entry instead of a file line.
//! Clients and replicas are addressed by index or by name (`client.0.rate`, `client.web.rate`;
//! an all-digit selector is an index), events by index. Setting a key of `[sentinel]` creates the
//! table if the file has none, which turns Sentinel on.

use std::borrow::Cow;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::error::{Problem, Sources};

/// Whether a section is one table or an array of tables addressed by index or name.
#[derive(Clone, Copy)]
enum Shape {
    Table,
    Array,
}

/// The scenario's sections, in the order an unknown one's message lists them.
const SECTIONS: [(&str, Shape); 7] = [
    ("scenario", Shape::Table),
    ("server", Shape::Table),
    ("persistence", Shape::Table),
    ("replica", Shape::Array),
    ("sentinel", Shape::Table),
    ("client", Shape::Array),
    ("event", Shape::Array),
];

/// The sections' names in the order of the format, which the effective scenario follows.
pub(super) fn section_names() -> impl Iterator<Item = &'static str> {
    SECTIONS.iter().map(|(name, _)| *name)
}

pub(crate) fn apply<'a>(
    document: &mut DeTable<'a>,
    sets: &'a [String],
    sources: &Sources<'_>,
) -> Result<(), Problem> {
    for (index, entry) in sets.iter().enumerate() {
        apply_one(document, entry, sources.set_offset(index))?;
    }
    Ok(())
}

fn apply_one<'a>(document: &mut DeTable<'a>, entry: &'a str, offset: usize) -> Result<(), Problem> {
    let entry_span = offset..offset.saturating_add(entry.len());
    let malformed = |message: String| Problem::new(entry_span.clone(), "", message);
    let Some((path, value_text)) = entry.split_once('=') else {
        return Err(malformed(
            "expected section.key=value, such as server.maxmemory=64mb".to_string(),
        ));
    };
    let mut segments = path.split('.').scan(offset, |start, segment| {
        let span = *start..start.saturating_add(segment.len());
        *start = span.end.saturating_add(1);
        Some((span, segment))
    });
    let section = segments.next().map_or("", |(_, name)| name);
    let Some(&(_, shape)) = SECTIONS.iter().find(|(name, _)| *name == section) else {
        let names: Vec<&str> = SECTIONS.iter().map(|(name, _)| *name).collect();
        let last = SECTIONS.len() - 1;
        return Err(malformed(format!(
            "unknown section `{section}`; expected {} or {}",
            names[..last].join(", "),
            names[last]
        )));
    };
    let table = match shape {
        Shape::Table => section_table(document, section, entry_span.clone())?,
        Shape::Array => {
            let selector = segments.next().map_or("", |(_, selector)| selector);
            array_element(document, section, selector).map_err(malformed)?
        }
    };
    let keys: Vec<(Range<usize>, &str)> = segments.collect();
    let Some(((last_span, last_key), parents)) = keys.split_last() else {
        return Err(malformed(format!("`{path}` names no key inside {section}")));
    };
    let mut table = table;
    for (span, key) in parents {
        let value = table
            .entry(Spanned::new(span.clone(), Cow::Borrowed(*key)))
            .or_insert_with(|| Spanned::new(span.clone(), DeValue::Table(DeTable::new())));
        table = match value.get_mut() {
            DeValue::Table(inner) => inner,
            _ => return Err(malformed(format!("`{key}` is not a table in the scenario"))),
        };
    }
    let value_offset = entry_span.end.saturating_sub(value_text.len());
    table.insert(
        Spanned::new(last_span.clone(), Cow::Borrowed(*last_key)),
        parse_value(value_text, value_offset),
    );
    Ok(())
}

/// A single table (`[scenario]`, `[server]`, `[persistence]`, `[sentinel]`), created if the file
/// has none.
fn section_table<'d, 'a>(
    document: &'d mut DeTable<'a>,
    section: &'a str,
    span: Range<usize>,
) -> Result<&'d mut DeTable<'a>, Problem> {
    let value = document
        .entry(Spanned::new(span.clone(), Cow::Borrowed(section)))
        .or_insert_with(|| Spanned::new(span.clone(), DeValue::Table(DeTable::new())));
    match value.get_mut() {
        DeValue::Table(table) => Ok(table),
        _ => Err(Problem::new(
            span,
            section,
            format!("cannot override a key in `{section}`: it is not a table in the scenario"),
        )),
    }
}

/// One `[[client]]` or `[[event]]` table, by index or (for clients) by name.
fn array_element<'d, 'a>(
    document: &'d mut DeTable<'a>,
    section: &str,
    selector: &str,
) -> Result<&'d mut DeTable<'a>, String> {
    let tables: Vec<&'d mut DeTable<'a>> = match document.get_mut(section).map(Spanned::get_mut) {
        Some(DeValue::Array(items)) => items
            .iter_mut()
            .filter_map(|item| match item.get_mut() {
                DeValue::Table(table) => Some(table),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let names: Vec<String> = tables
        .iter()
        .map(|table| match table.get("name").map(Spanned::get_ref) {
            Some(DeValue::String(name)) => name.to_string(),
            _ => "?".to_string(),
        })
        .collect();
    let position = if !selector.is_empty() && selector.bytes().all(|byte| byte.is_ascii_digit()) {
        selector
            .parse::<usize>()
            .ok()
            .filter(|index| *index < tables.len())
    } else if section == "client" || section == "replica" {
        names.iter().position(|name| name == selector)
    } else {
        None
    };
    let count = tables.len();
    match position.and_then(|index| tables.into_iter().nth(index)) {
        Some(table) => Ok(table),
        None if count == 0 => Err(format!(
            "no `{section}.{selector}`: the scenario has no [[{section}]]"
        )),
        None if section == "client" || section == "replica" => Err(format!(
            "no {section} `{selector}`: the scenario's {section}s are {} (by index 0 to {})",
            names.join(", "),
            count.saturating_sub(1)
        )),
        None => Err(format!(
            "no `{section}.{selector}`: the scenario has {count} events, numbered 0 to {}",
            count.saturating_sub(1)
        )),
    }
}

/// A TOML value if the text is one (`7`, `true`, `{ keys = 10 }`), else the text as a string,
/// so `server.maxmemory=64mb` needs no shell quoting.
fn parse_value(text: &str, offset: usize) -> Spanned<DeValue<'_>> {
    match DeValue::parse(text) {
        Ok(value) => shift(value, offset),
        Err(_) => Spanned::new(
            offset..offset.saturating_add(text.len()),
            DeValue::String(Cow::Borrowed(text)),
        ),
    }
}

/// Moves every span of a value parsed on its own to where it sits in the virtual text.
fn shift(value: Spanned<DeValue<'_>>, offset: usize) -> Spanned<DeValue<'_>> {
    let span = moved(value.span(), offset);
    let inner = match value.into_inner() {
        DeValue::Table(table) => DeValue::Table(
            table
                .into_iter()
                .map(|(key, value)| {
                    let key = Spanned::new(moved(key.span(), offset), key.into_inner());
                    (key, shift(value, offset))
                })
                .collect(),
        ),
        DeValue::Array(items) => {
            DeValue::Array(items.into_iter().map(|item| shift(item, offset)).collect())
        }
        scalar => scalar,
    };
    Spanned::new(span, inner)
}

fn moved(span: Range<usize>, offset: usize) -> Range<usize> {
    span.start.saturating_add(offset)..span.end.saturating_add(offset)
}
