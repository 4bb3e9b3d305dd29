//! `ScenarioError`, and how a byte span becomes a place the user can find.
//!
//! Everything that goes wrong in a scenario is first a `Problem`: a byte span, a field path and a
//! message. Spans index one virtual text made of the file followed by each `--set` entry, so a
//! value from the command line keeps a location and the validator needs no special case for it.
//! `Sources` maps the span back to `FILE:LINE:COLUMN` (with an excerpt) or to the `--set` entry.

use std::fmt;
use std::ops::Range;
use std::path::Path;

/// A scenario that cannot run, rendered as one summary line
/// (`FILE:LINE:COLUMN: FIELD: what was expected, and what was found`) and, for errors in the
/// file, the offending line with a caret under the column.
#[derive(Debug, thiserror::Error)]
#[error("{place}: {}{message}{excerpt}", field_prefix(.field))]
pub struct ScenarioError {
    place: Place,
    field: String,
    message: String,
    excerpt: String,
    #[source]
    io: Option<std::io::Error>,
}

impl ScenarioError {
    pub(crate) fn unreadable(path: &Path, io: std::io::Error) -> Self {
        ScenarioError {
            place: Place::Unreadable(path.display().to_string()),
            field: String::new(),
            message: format!("cannot read the scenario file: {io}"),
            excerpt: String::new(),
            io: Some(io),
        }
    }

    /// 1-based line in the scenario file; `None` for `--set` entries and unreadable files.
    pub fn line(&self) -> Option<usize> {
        match self.place {
            Place::File { line, .. } => Some(line),
            Place::Unreadable(_) | Place::Override(_) => None,
        }
    }

    /// 1-based column, counted in characters.
    pub fn column(&self) -> Option<usize> {
        match self.place {
            Place::File { column, .. } => Some(column),
            Place::Unreadable(_) | Place::Override(_) => None,
        }
    }

    /// Path of the offending field (`client[1].rate`); empty when the error is not about one.
    pub fn field(&self) -> &str {
        &self.field
    }
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

#[derive(Debug)]
enum Place {
    Unreadable(String),
    File {
        name: String,
        line: usize,
        column: usize,
    },
    Override(String),
}

impl fmt::Display for Place {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Unreadable(name) => write!(formatter, "{name}"),
            Place::File { name, line, column } => write!(formatter, "{name}:{line}:{column}"),
            Place::Override(entry) => write!(formatter, "--set {entry}"),
        }
    }
}

/// What is wrong and where, before the span is turned into a line and column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub span: Range<usize>,
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(span: Range<usize>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            span,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The texts a scenario is read from: the file, then the `--set` entries in order, each one
/// byte after the previous (see the module comment).
pub(crate) struct Sources<'a> {
    name: &'a str,
    text: &'a str,
    sets: &'a [String],
}

impl<'a> Sources<'a> {
    pub fn new(name: &'a str, text: &'a str, sets: &'a [String]) -> Self {
        Sources { name, text, sets }
    }

    /// Where `--set` entry `index` starts in the virtual text.
    pub fn set_offset(&self, index: usize) -> usize {
        let before: usize = self
            .sets
            .iter()
            .take(index)
            .map(|entry| entry.len().saturating_add(1))
            .sum();
        self.text.len().saturating_add(1).saturating_add(before)
    }

    pub fn locate(&self, problem: Problem) -> ScenarioError {
        let start = problem.span.start;
        let set_entry = (start > self.text.len())
            .then(|| {
                self.sets.iter().enumerate().find(|(index, entry)| {
                    start <= self.set_offset(*index).saturating_add(entry.len())
                })
            })
            .flatten();
        let (place, excerpt) = match set_entry {
            Some((_, entry)) => (Place::Override(entry.clone()), String::new()),
            None => self.file_place(problem.span),
        };
        ScenarioError {
            place,
            field: problem.field,
            message: problem.message,
            excerpt,
            io: None,
        }
    }

    fn file_place(&self, span: Range<usize>) -> (Place, String) {
        let text = self.text;
        let mut start = span.start.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        // `start` is a character boundary, and so is the byte after a newline.
        let (before, rest) = text.split_at(start);
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let line = before.bytes().filter(|byte| *byte == b'\n').count() + 1;
        let line_prefix = &before[line_start..];
        let column = line_prefix.chars().count() + 1;
        let line_rest = rest.split_once('\n').map_or(rest, |(line, _)| line);
        // A span ending inside a character underlines up to that character.
        let mut end = span.end.saturating_sub(start).min(line_rest.len());
        while !line_rest.is_char_boundary(end) {
            end -= 1;
        }
        let underlined = &line_rest[..end];
        let place = Place::File {
            name: self.name.to_string(),
            line,
            column,
        };
        let excerpt = render_excerpt(
            line,
            &format!("{line_prefix}{line_rest}"),
            column,
            underlined.trim_end().chars().count().max(1),
        );
        (place, excerpt)
    }
}

/// Characters of the offending line shown in an excerpt; longer lines are cut around the column.
const EXCERPT_WIDTH: usize = 100;

/// rustc-style: the line, and carets under the span.
fn render_excerpt(line: usize, line_text: &str, column: usize, caret_count: usize) -> String {
    let gutter = " ".repeat(line.to_string().len());
    // One character per tab keeps the caret under the right column.
    let characters: Vec<char> = line_text
        .trim_end()
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let skipped = if characters.len() > EXCERPT_WIDTH {
        column.saturating_sub(1 + EXCERPT_WIDTH / 2)
    } else {
        0
    };
    let shown: String = characters
        .iter()
        .skip(skipped)
        .take(EXCERPT_WIDTH)
        .collect();
    let (before, marker) = if skipped > 0 { ("...", 3) } else { ("", 0) };
    let after = if skipped + EXCERPT_WIDTH < characters.len() {
        "..."
    } else {
        ""
    };
    format!(
        "\n{gutter} |\n{line} | {before}{shown}{after}\n{gutter} | {}{}",
        " ".repeat(column.saturating_sub(1 + skipped) + marker),
        "^".repeat(caret_count.min(EXCERPT_WIDTH))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_spans_become_line_column_and_excerpt() {
        let text = "[server]\nhz = \"fast\"\n";
        let sources = Sources::new("web.toml", text, &[]);
        let error = sources.locate(Problem::new(14..20, "server.hz", "expected an integer"));
        assert_eq!((error.line(), error.column()), (Some(2), Some(6)));
        assert_eq!(
            error.to_string(),
            "web.toml:2:6: server.hz: expected an integer\n  |\n2 | hz = \"fast\"\n  |      ^^^^^^"
        );
    }

    #[test]
    fn columns_count_characters_and_end_of_file_is_a_place() {
        let text = "name = \"é\" x";
        let sources = Sources::new("f", text, &[]);
        assert_eq!(
            sources.locate(Problem::new(12..13, "", "")).column(),
            Some(12)
        );
        let end = sources.locate(Problem::new(text.len()..text.len(), "", "oops"));
        assert_eq!((end.line(), end.column()), (Some(1), Some(13)));
        assert!(end.to_string().starts_with("f:1:13: oops\n"));
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let text = format!("a = [{}x]", "1, ".repeat(100));
        let sources = Sources::new("f", &text, &[]);
        let column = text.len() - 2;
        let rendered = sources
            .locate(Problem::new(column..column + 1, "a", "bad"))
            .to_string();
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines[2], format!("1 | ...{}", &text[column - 50..]));
        assert_eq!(lines[3].find('^'), lines[2].find('x'));
    }

    #[test]
    fn spans_after_the_file_name_the_set_entry() {
        let sets = ["server.hz=abc".to_string(), "scenario.seed=x".to_string()];
        let sources = Sources::new("f", "abc", &sets);
        for (index, entry) in sets.iter().enumerate() {
            let offset = sources.set_offset(index) + 3;
            let error = sources.locate(Problem::new(offset..offset + 1, "a.b", "bad"));
            assert_eq!(error.line(), None);
            assert_eq!(error.to_string(), format!("--set {entry}: a.b: bad"));
        }
    }
}
