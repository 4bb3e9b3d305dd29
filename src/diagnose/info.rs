//! `INFO` text, as `redis-cli INFO all` prints it, into named fields with their line numbers.
//!
//! Lines end in `\r\n` or `\n`; sections come in any order; every `name:value` field is kept
//! (unknown ones too: later Redis versions add fields), and a section the dump lacks is
//! reported as not available by whoever needs it. What is refused names its line: a file that
//! is not INFO output at all (no `# Section` before the first field), a line that is neither a
//! section title nor a field (often a truncated last line), a field given twice (two dumps in
//! one file), a value that should be a number and is not.

use std::collections::BTreeMap;

/// Sections a diagnosis reads; the rest are kept but not needed.
pub const SECTIONS_READ: [&str; 7] = [
    "Server",
    "Memory",
    "Persistence",
    "Stats",
    "Replication",
    "Commandstats",
    "Keyspace",
];

/// A line of an INFO dump that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct InfoError {
    /// The file (or URL) the dump came from.
    pub file: String,
    /// 1-based; 0 when the whole file is at fault.
    pub line: usize,
    pub message: String,
}

/// One field's value and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    section: String,
    value: String,
    line: usize,
}

/// A parsed dump: fields by name, and the sections seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InfoDump {
    pub source: String,
    fields: BTreeMap<String, Field>,
    sections: Vec<String>,
}

impl InfoDump {
    pub fn parse(source: &str, text: &str) -> Result<InfoDump, InfoError> {
        let error = |line: usize, message: String| InfoError {
            file: source.to_string(),
            line,
            message,
        };
        let mut dump = InfoDump {
            source: source.to_string(),
            ..InfoDump::default()
        };
        let mut current: Option<String> = None;
        let lines: Vec<&str> = text.split('\n').collect();
        // redis-cli ends every line, the last too: a last line without its break was cut off,
        // and whatever it holds (`db0:keys=1` of `db0:keys=1000,…`) cannot be trusted.
        if let Some(last) = lines.last().filter(|last| !last.trim().is_empty()) {
            if !last.starts_with("# ") {
                return Err(error(
                    lines.len(),
                    format!("the file ends in the middle of a line: truncated? (found `{}`; if the file is whole, end it with a line break)", shorten(last)),
                ));
            }
        }
        for (index, raw) in lines.iter().enumerate() {
            let number = index + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim().is_empty() {
                continue;
            }
            if let Some(title) = line.strip_prefix("# ") {
                let title = title.trim().to_string();
                if dump.sections.contains(&title) {
                    return Err(error(number, format!("section `# {title}` appears twice: two dumps in one file? Give one `INFO all` per file")));
                }
                dump.sections.push(title.clone());
                current = Some(title);
                continue;
            }
            let Some(section) = &current else {
                return Err(error(
                    number,
                    format!("not an INFO dump: `{}` comes before any `# Section` line (save the output of `redis-cli INFO all`)", shorten(line)),
                ));
            };
            let Some((name, value)) = line.split_once(':').filter(|(name, _)| field_name(name))
            else {
                return Err(error(
                    number,
                    format!(
                        "expected `# Section` or `name:value`, found `{}`",
                        shorten(line)
                    ),
                ));
            };
            let field = Field {
                section: section.clone(),
                value: value.to_string(),
                line: number,
            };
            if let Some(first) = dump.fields.insert(name.to_string(), field) {
                return Err(error(
                    number,
                    format!(
                        "field `{name}` appears twice (first at line {}): two dumps in one file?",
                        first.line
                    ),
                ));
            }
        }
        if dump.sections.is_empty() {
            return Err(error(
                0,
                "empty: no INFO sections (save the output of `redis-cli INFO all`)".to_string(),
            ));
        }
        Ok(dump)
    }

    /// Whether the dump has section `title` (`Stats`, `Commandstats`…).
    pub fn has_section(&self, title: &str) -> bool {
        self.sections.iter().any(|s| s == title)
    }

    /// The read sections this dump lacks.
    pub fn missing_sections(&self) -> Vec<&'static str> {
        SECTIONS_READ
            .into_iter()
            .filter(|title| !self.has_section(title))
            .collect()
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|field| field.value.as_str())
    }

    /// A whole number field (`expired_keys`), `None` if absent; refused with its line if the
    /// value is not a number.
    pub fn number(&self, name: &str) -> Result<Option<u64>, InfoError> {
        let Some(field) = self.fields.get(name) else {
            return Ok(None);
        };
        field
            .value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| self.bad(field, name, "a whole number"))
    }

    /// A signed field (`second_repl_offset:-1`).
    pub fn signed(&self, name: &str) -> Result<Option<i64>, InfoError> {
        let Some(field) = self.fields.get(name) else {
            return Ok(None);
        };
        field
            .value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| self.bad(field, name, "a number"))
    }

    /// A `k=v,k=v` field (`db0:keys=1,expires=0,avg_ttl=0`, `cmdstat_get:calls=…`) with whole
    /// number values; other values are kept out (as `ip=` in `slave0:`) unless asked for by
    /// `text_subfield`.
    pub fn subfields(&self, name: &str) -> Result<Option<BTreeMap<String, u64>>, InfoError> {
        let Some(field) = self.fields.get(name) else {
            return Ok(None);
        };
        let mut map = BTreeMap::new();
        for pair in field.value.split(',') {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(self.bad(field, name, "`name=value` pairs"));
            };
            if let Ok(number) = value.trim().parse::<u64>() {
                map.insert(key.to_string(), number);
            }
        }
        Ok(Some(map))
    }

    /// A numeric subfield every Redis this reads prints (`keys` of `db0:`): one missing
    /// means a truncated or foreign line, refused with its line, never read as 0.
    pub fn required_subfield(
        &self,
        name: &str,
        fields: &BTreeMap<String, u64>,
        key: &str,
    ) -> Result<u64, InfoError> {
        match (fields.get(key), self.fields.get(name)) {
            (Some(value), _) => Ok(*value),
            (None, Some(field)) => Err(self.bad(field, name, &format!("a number for `{key}=`"))),
            (None, None) => Err(InfoError {
                file: self.source.clone(),
                line: 0,
                message: format!("no `{name}` line"),
            }),
        }
    }

    /// One textual subfield (`state` of `slave0:`).
    pub fn text_subfield(&self, name: &str, key: &str) -> Option<&str> {
        let field = self.fields.get(name)?;
        field
            .value
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    /// Field names beginning with `prefix` (`cmdstat_`, `db`, `slave`), sorted.
    pub fn names_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        self.fields
            .range(prefix.to_string()..)
            .map(|(name, _)| name.as_str())
            .take_while(move |name| name.starts_with(prefix))
    }

    /// The section a field sits in.
    pub fn section_of(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|field| field.section.as_str())
    }

    fn bad(&self, field: &Field, name: &str, expected: &str) -> InfoError {
        InfoError {
            file: self.source.clone(),
            line: field.line,
            message: format!("`{name}:{}`: expected {expected}", shorten(&field.value)),
        }
    }
}

/// A field name as Redis writes them: letters, digits, `_`, `|` (`cmdstat_client|list`), `-`.
fn field_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '|' | '-' | '.'))
}

/// At most 60 characters of a line, for messages.
fn shorten(line: &str) -> String {
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# Server\nredis_version:7.0.15\nrun_id:abc\nuptime_in_seconds:10\n\n# Stats\nexpired_keys:5\nsome_future_field:yes\n\n# Commandstats\ncmdstat_client|list:calls=2,usec=3,usec_per_call=1.50,rejected_calls=0,failed_calls=0\n\n# Keyspace\ndb0:keys=3,expires=1,avg_ttl=500\n";

    #[test]
    fn lf_and_crlf_read_the_same() {
        let lf = InfoDump::parse("a", SAMPLE).unwrap();
        let crlf = InfoDump::parse("a", &SAMPLE.replace('\n', "\r\n")).unwrap();
        assert_eq!(lf, crlf);
        assert_eq!(lf.number("expired_keys").unwrap(), Some(5));
        assert_eq!(lf.text("run_id"), Some("abc"));
    }

    #[test]
    fn section_order_does_not_matter_and_unknown_fields_are_kept() {
        let reordered = "# Keyspace\ndb0:keys=3,expires=1,avg_ttl=500\n# Stats\nexpired_keys:5\nsome_future_field:yes\n";
        let dump = InfoDump::parse("b", reordered).unwrap();
        assert_eq!(dump.number("expired_keys").unwrap(), Some(5));
        assert_eq!(dump.text("some_future_field"), Some("yes"));
        assert_eq!(dump.subfields("db0").unwrap().unwrap()["keys"], 3);
        assert!(dump.missing_sections().contains(&"Commandstats"));
    }

    #[test]
    fn subfields_and_prefixes() {
        let dump = InfoDump::parse("a", SAMPLE).unwrap();
        let calls = dump.subfields("cmdstat_client|list").unwrap().unwrap();
        assert_eq!(calls["calls"], 2);
        assert!(!calls.contains_key("usec_per_call"));
        let names: Vec<&str> = dump.names_with_prefix("cmdstat_").collect();
        assert_eq!(names, ["cmdstat_client|list"]);
    }

    #[test]
    fn a_truncated_last_line_is_named() {
        let cut = "# Server\nrun_id:abc\n# Stats\nexpired_ke";
        let error = InfoDump::parse("after.txt", cut).unwrap_err();
        assert_eq!(error.line, 4);
        assert!(error.to_string().starts_with("after.txt:4: "), "{error}");
        assert!(error.message.contains("truncated"), "{error}");
    }

    #[test]
    fn a_foreign_file_is_refused_at_its_first_line() {
        let error = InfoDump::parse("x.csv", "time,key\n1,a\n").unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.message.contains("not an INFO dump"), "{error}");
        let error = InfoDump::parse("x.txt", "").unwrap_err();
        assert!(error.message.contains("empty"), "{error}");
        let error = InfoDump::parse("x.txt", "# Server\nthis is prose\nrun_id:a\n").unwrap_err();
        assert_eq!(error.line, 2);
    }

    #[test]
    fn two_dumps_in_one_file_and_bad_numbers_are_refused() {
        let twice = "# Stats\nexpired_keys:1\n# Server\nrun_id:a\nexpired_keys:2\n";
        let error = InfoDump::parse("d", twice).unwrap_err();
        assert_eq!(error.line, 5);
        let dump = InfoDump::parse("d", "# Stats\nexpired_keys:lots\n").unwrap();
        let error = dump.number("expired_keys").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.to_string().contains("expired_keys:lots"));
    }
}
