//! Leaf checks: one scalar against what a field needs, as "expected X, found Y".
//!
//! Each takes the value and its field path and either returns the value in the unit the core
//! uses or a `Problem` at the value's span. Cross-field rules live in `validate`.

use std::fmt::Display;
use std::ops::{Range, RangeInclusive};

use toml::Spanned;

use super::error::Problem;
use super::limits::RATE_MAX;
use super::raw::{Field, Scalar};
use super::units::{parse_duration_us, parse_size_bytes};
use crate::sim::config::{MaxmemoryPolicy, MICROS_PER_SECOND};

pub(super) type Checked<T> = Result<T, Problem>;

pub(super) fn mismatch(field: &Field, path: &str, expected: impl Display) -> Problem {
    Problem::new(
        field.span(),
        path,
        format!("expected {expected}, found {}", field.get_ref()),
    )
}

pub(super) fn because(problem: Problem, reason: impl Display) -> Problem {
    Problem {
        message: format!("{}: {reason}", problem.message),
        ..problem
    }
}

pub(super) fn optional<'f, T>(
    field: &'f Option<Field>,
    default: T,
    check: impl FnOnce(&'f Field) -> Checked<T>,
) -> Checked<T> {
    field.as_ref().map_or(Ok(default), check)
}

/// A field that only some variants need (`max` for a uniform distribution).
pub(super) fn required<'f>(
    field: &'f Option<Field>,
    table_span: &Range<usize>,
    table_path: &str,
    name: &str,
    why: &str,
) -> Checked<&'f Field> {
    field.as_ref().ok_or_else(|| {
        Problem::new(
            table_span.clone(),
            table_path,
            format!("missing field `{name}` ({why})"),
        )
    })
}

/// Refuses parameters the chosen variant ignores, so a typo in the variant is not silent.
pub(super) fn reject_inapplicable(
    parameters: &[(&str, Option<Range<usize>>)],
    allowed: &[&str],
    path: &str,
    context: &str,
) -> Checked<()> {
    let inapplicable = parameters
        .iter()
        .find(|(name, span)| span.is_some() && !allowed.contains(name));
    match inapplicable {
        Some((name, Some(span))) => Err(Problem::new(
            span.clone(),
            format!("{path}.{name}"),
            format!(
                "`{name}` does not apply to {context}, which takes {}",
                list_or_none(allowed)
            ),
        )),
        _ => Ok(()),
    }
}

pub(super) fn span_of(field: &Option<Field>) -> Option<Range<usize>> {
    field.as_ref().map(Spanned::span)
}

pub(super) fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

pub(super) fn integer_in<T>(field: &Field, path: &str, range: RangeInclusive<T>) -> Checked<T>
where
    T: TryFrom<i128> + PartialOrd + Display,
{
    let value = match field.get_ref() {
        Scalar::Integer(integer) => T::try_from(*integer).ok(),
        _ => None,
    };
    value.filter(|value| range.contains(value)).ok_or_else(|| {
        mismatch(
            field,
            path,
            format!("an integer from {} to {}", range.start(), range.end()),
        )
    })
}

pub(super) fn number_where(
    field: &Field,
    path: &str,
    expected: impl Display,
    accept: impl Fn(f64) -> bool,
) -> Checked<f64> {
    let value = match field.get_ref() {
        Scalar::Integer(integer) => Some(*integer as f64),
        Scalar::Float(float) => Some(*float),
        _ => None,
    };
    value
        .filter(|value| accept(*value))
        .ok_or_else(|| mismatch(field, path, expected))
}

pub(super) fn text<'f>(field: &'f Field, path: &str, expected: &str) -> Checked<&'f str> {
    match field.get_ref() {
        Scalar::String(text) => Ok(text),
        _ => Err(mismatch(field, path, format!("{expected} (a string)"))),
    }
}

pub(super) fn boolean(field: &Field, path: &str) -> Checked<bool> {
    match field.get_ref() {
        Scalar::Boolean(boolean) => Ok(*boolean),
        _ => Err(mismatch(field, path, "true or false")),
    }
}

pub(super) fn one_of(options: &[&str]) -> String {
    let quoted: Vec<String> = options.iter().map(|option| format!("{option:?}")).collect();
    format!("one of {}", quoted.join(", "))
}

/// A client's pace, above 0 and at most `RATE_MAX`; `unit` says of what ("commands per second").
pub(super) fn rate(field: &Field, path: &str, unit: &str) -> Checked<f64> {
    number_where(
        field,
        path,
        format!("a positive number of {unit} (at most {RATE_MAX})"),
        |rate| rate > 0.0 && rate <= RATE_MAX,
    )
}

pub(super) const NAME_RULE: &str = "a name made of letters, digits, '.', '_' and '-'";

/// Why `name` breaks `NAME_RULE`, if it does.
pub(super) fn name_rule_violation(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_string());
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .map(|c| format!("{c:?} is not allowed"))
}

/// The longest scenario name: it names the output folder, `output/<name>/`, and folders beside it
/// with a suffix, well inside the 255 bytes file systems allow a name.
pub(super) const FOLDER_NAME_CHARS_MAX: usize = 100;

/// Why `name` cannot name the output folder, if it cannot: `NAME_RULE`, not `.` or `..`, and at
/// most `FOLDER_NAME_CHARS_MAX` characters.
pub(super) fn folder_name_violation(name: &str) -> Option<String> {
    if let Some(violation) = name_rule_violation(name) {
        return Some(violation);
    }
    if name == "." || name == ".." {
        return Some("it is not a usable folder name".to_string());
    }
    // NAME_RULE admits ASCII only, so bytes are characters.
    (name.len() > FOLDER_NAME_CHARS_MAX).then(|| {
        format!(
            "it has {} characters; at most {FOLDER_NAME_CHARS_MAX} make a folder name",
            name.len()
        )
    })
}

pub(super) fn policy(field: &Field, path: &str) -> Checked<MaxmemoryPolicy> {
    let found = match field.get_ref() {
        Scalar::String(text) => MaxmemoryPolicy::parse(text),
        _ => None,
    };
    found.ok_or_else(|| {
        let names: Vec<&str> = MaxmemoryPolicy::ALL
            .into_iter()
            .chain(MaxmemoryPolicy::REFERENCE)
            .map(MaxmemoryPolicy::as_str)
            .collect();
        mismatch(field, path, one_of(&names))
    })
}

pub(super) fn database(field: &Field, path: &str, databases: u32) -> Checked<u32> {
    let db = match field.get_ref() {
        Scalar::Integer(db) => u32::try_from(*db).ok().filter(|db| *db < databases),
        _ => None,
    };
    db.ok_or_else(|| {
        mismatch(
            field,
            path,
            format!(
                "a database number from 0 to {} (databases = {databases})",
                databases.saturating_sub(1)
            ),
        )
    })
}

pub(super) fn size_bytes(field: &Field, path: &str) -> Checked<u64> {
    let expected = "a size such as 100 (bytes), \"64mb\" or \"1gb\"";
    match field.get_ref() {
        Scalar::Integer(bytes) => {
            u64::try_from(*bytes).map_err(|_| mismatch(field, path, expected))
        }
        Scalar::String(text) => parse_size_bytes(text)
            .map_err(|reason| because(mismatch(field, path, expected), reason)),
        _ => Err(mismatch(field, path, expected)),
    }
}

/// A size that may be fractional, as distribution parameters are.
pub(super) fn size_where(
    field: &Field,
    path: &str,
    expected: &str,
    accept: impl Fn(f64) -> bool,
) -> Checked<f64> {
    match field.get_ref() {
        Scalar::String(_) => {
            let bytes = size_bytes(field, path)? as f64;
            if accept(bytes) {
                Ok(bytes)
            } else {
                Err(mismatch(field, path, expected))
            }
        }
        _ => number_where(field, path, expected, accept),
    }
}

pub(super) fn duration_value_us(field: &Field, path: &str) -> Checked<u64> {
    let expected = "a duration such as \"30s\", \"500ms\" or \"2m30s\"";
    match field.get_ref() {
        Scalar::String(text) => parse_duration_us(text)
            .map_err(|reason| because(mismatch(field, path, expected), reason)),
        Scalar::Integer(0) => Ok(0),
        _ => Err(mismatch(field, path, expected)),
    }
}

/// A point in virtual time strictly before the end of the run.
pub(super) fn before_end(field: &Field, path: &str, scenario_duration_us: u64) -> Checked<u64> {
    let time_us = duration_value_us(field, path)?;
    if time_us < scenario_duration_us {
        Ok(time_us)
    } else {
        Err(mismatch(
            field,
            path,
            format!(
                "a time before the end of the scenario (duration = {})",
                format_duration(scenario_duration_us)
            ),
        ))
    }
}

/// The largest unit that divides the duration exactly: `600000000` → `10m`.
pub(super) fn format_duration(duration_us: u64) -> String {
    let units = [
        ("d", 86_400 * MICROS_PER_SECOND),
        ("h", 3_600 * MICROS_PER_SECOND),
        ("m", 60 * MICROS_PER_SECOND),
        ("s", MICROS_PER_SECOND),
        ("ms", 1_000),
    ];
    units
        .iter()
        .find(|(_, unit_us)| duration_us > 0 && duration_us.is_multiple_of(*unit_us))
        .map_or_else(
            || format!("{duration_us}us"),
            |(unit, unit_us)| format!("{}{unit}", duration_us / unit_us),
        )
}
