//! CSV rows (RFC 4180) with the line each starts on.
//!
//! The `csv` crate skips blank lines but then reports a record's position as that of the blank
//! lines before it, so errors would name the wrong line; this reader is small and exact instead.
//! Fields are separated by commas; a field that starts with `"` is quoted, may hold commas,
//! newlines and `""` (one quote), and must be followed by a comma or the end of the row. A quote
//! inside an unquoted field is an ordinary byte. Blank lines are skipped.

use super::error::shown;
use super::input::{LineError, Lines};

/// The fields of one row, in one reused buffer.
#[derive(Default)]
pub(super) struct Row {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Row {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `index`, which must be below `len()`.
    pub fn get(&self, index: usize) -> &[u8] {
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1],
        };
        &self.bytes[start..self.ends[index]]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|index| self.get(index))
    }
}

/// Why a row could not be read.
pub(super) enum RowError {
    Line(LineError),
    /// The line and what is wrong.
    Malformed(u64, String),
}

pub(super) struct Rows {
    lines: Lines,
}

impl Rows {
    pub fn new(lines: Lines) -> Self {
        Rows { lines }
    }

    /// Reads the next row into `row`; returns the line it starts on, or `None` at the end.
    pub fn next_row(&mut self, row: &mut Row) -> Result<Option<u64>, RowError> {
        row.bytes.clear();
        row.ends.clear();
        let limit = self.lines.line_bytes_max();
        let mut start_line = None;
        let mut quoted = false;
        loop {
            let Some((number, line)) = self.lines.next_line().map_err(RowError::Line)? else {
                return match start_line {
                    None => Ok(None),
                    Some(start) => Err(RowError::Malformed(
                        start,
                        "expected a closing '\"', found the end of the file".to_string(),
                    )),
                };
            };
            if start_line.is_none() {
                if line.is_empty() {
                    continue;
                }
                start_line = Some(number);
            } else {
                // The line break belongs to the quoted field that spans it.
                row.bytes.push(b'\n');
            }
            quoted =
                split(line, quoted, row).map_err(|message| RowError::Malformed(number, message))?;
            // A quoted field left open would otherwise gather the rest of the file.
            if quoted && row.bytes.len() > limit {
                return Err(RowError::Malformed(
                    start_line.unwrap_or(number),
                    format!(
                        "expected a row of at most {limit} bytes, found a quoted field still \
                         open at line {number}"
                    ),
                ));
            }
            if !quoted {
                return Ok(start_line);
            }
        }
    }
}

/// Adds the fields of `line` to `row`, `quoted` saying whether the line starts inside a quoted
/// field; returns whether it ends inside one.
fn split(line: &[u8], mut quoted: bool, row: &mut Row) -> Result<bool, String> {
    let mut index = 0;
    let mut field_start = !quoted;
    loop {
        if field_start {
            field_start = false;
            if line.get(index) == Some(&b'"') {
                quoted = true;
                index += 1;
            }
        }
        if quoted {
            match line[index..].iter().position(|byte| *byte == b'"') {
                None => {
                    row.bytes.extend_from_slice(&line[index..]);
                    return Ok(true);
                }
                Some(offset) => {
                    row.bytes.extend_from_slice(&line[index..index + offset]);
                    index += offset + 1;
                    if line.get(index) == Some(&b'"') {
                        row.bytes.push(b'"');
                        index += 1;
                        continue;
                    }
                    quoted = false;
                    match line.get(index) {
                        None | Some(b',') => {}
                        Some(_) => {
                            return Err(format!(
                                "expected ',' after a closing '\"', found {}",
                                shown(&line[index..])
                            ))
                        }
                    }
                }
            }
        } else {
            let end = line[index..]
                .iter()
                .position(|byte| *byte == b',')
                .map_or(line.len(), |offset| index + offset);
            row.bytes.extend_from_slice(&line[index..end]);
            index = end;
        }
        row.ends.push(row.bytes.len());
        if index >= line.len() {
            return Ok(false);
        }
        // At a comma: another field follows, perhaps an empty one at the end of the line.
        index += 1;
        field_start = true;
        if index == line.len() {
            row.ends.push(row.bytes.len());
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn rows(text: &str) -> Result<Vec<(u64, Vec<String>)>, String> {
        rows_limited(text, 1 << 20)
    }

    fn rows_limited(text: &str, limit: usize) -> Result<Vec<(u64, Vec<String>)>, String> {
        let input: Box<dyn io::BufRead> = Box::new(io::Cursor::new(text.as_bytes().to_vec()));
        let mut rows = Rows::new(Lines::with_limit(input, limit));
        let mut row = Row::default();
        let mut out = Vec::new();
        loop {
            match rows.next_row(&mut row) {
                Ok(None) => return Ok(out),
                Ok(Some(line)) => out.push((
                    line,
                    row.iter()
                        .map(|field| String::from_utf8_lossy(field).into_owned())
                        .collect(),
                )),
                Err(RowError::Malformed(line, message)) => {
                    return Err(format!("{line}: {message}"))
                }
                Err(RowError::Line(error)) => return Err(error.into_trace_error("").to_string()),
            }
        }
    }

    fn row(line: u64, fields: &[&str]) -> (u64, Vec<String>) {
        (line, fields.iter().map(|field| field.to_string()).collect())
    }

    #[test]
    fn fields_quotes_and_line_numbers() {
        let text = "a,b\n\n\"c,d\",\"e\"\"f\"\r\n\n,x,\n\"multi\nline\",g\nh\"i,\"\"\nlast";
        assert_eq!(
            rows(text),
            Ok(vec![
                row(1, &["a", "b"]),
                row(3, &["c,d", "e\"f"]),
                row(5, &["", "x", ""]),
                row(6, &["multi\nline", "g"]),
                row(8, &["h\"i", ""]),
                row(9, &["last"]),
            ])
        );
    }

    #[test]
    fn broken_quotes_name_the_line() {
        assert_eq!(
            rows("a\n\"b\"c,d\n"),
            Err("2: expected ',' after a closing '\"', found \"c,d\"".to_string())
        );
        assert_eq!(
            rows("a\n\n\"open\nstill open\n"),
            Err("3: expected a closing '\"', found the end of the file".to_string())
        );
    }

    #[test]
    fn rows_and_lines_past_the_limit_are_refused() {
        assert_eq!(
            rows_limited("a\n\"open\n01234567\nmore\n", 8),
            Err(
                "2: expected a row of at most 8 bytes, found a quoted field still open at line 3"
                    .to_string()
            )
        );
        assert_eq!(
            rows_limited("a\n012345678\n", 8),
            Err(
                ":2: expected a line of at most 8 bytes, found a longer one (is this the \
                 declared format?)"
                    .to_string()
            )
        );
    }
}
