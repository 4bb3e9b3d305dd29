//! `TraceError`: what is wrong with a trace file, and where.
//!
//! A trace can hold hundreds of millions of requests, so an error has to point at one of them:
//! text formats by 1-based line, the binary format by the byte offset of the record (in the
//! decompressed stream for `.gz` files). The rendering follows the scenario errors:
//! `FILE:LINE: expected ..., found ...`.

use std::fmt;
use std::io;

/// A trace that cannot be loaded: `traces/shop.csv:1234: expected t_ms (an integer number of
/// milliseconds), found "soon"`.
#[derive(Debug, thiserror::Error)]
#[error("{path}{location}: {message}")]
pub struct TraceError {
    path: String,
    location: Location,
    message: String,
    #[source]
    io: Option<io::Error>,
}

/// Where in the file a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (it cannot be opened, or holds no requests).
    File,
    /// A 1-based line of a text format.
    Line(u64),
    /// The byte offset of a binary record.
    Byte(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line(line) => write!(formatter, ":{line}"),
            Location::Byte(offset) => write!(formatter, ": byte {offset}"),
        }
    }
}

impl TraceError {
    pub(super) fn new(path: &str, location: Location, message: impl Into<String>) -> Self {
        TraceError {
            path: path.to_string(),
            location,
            message: message.into(),
            io: None,
        }
    }

    pub(super) fn io(path: &str, location: Location, io: io::Error) -> Self {
        let message = match location {
            Location::File => format!("cannot read the trace: {io}"),
            _ => format!("cannot read the trace here: {io}"),
        };
        TraceError {
            path: path.to_string(),
            location,
            message,
            io: Some(io),
        }
    }

    /// The file, as it was given to the loader.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn location(&self) -> Location {
        self.location
    }

    /// What was expected and what was found, without the place.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// How a field's text is shown after "found": quoted, invalid UTF-8 replaced, long text cut.
pub(super) fn shown(bytes: &[u8]) -> String {
    const SHOWN_BYTES_MAX: usize = 60;
    let cut = bytes.len() > SHOWN_BYTES_MAX;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN_BYTES_MAX)]);
    if cut {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_or_byte_then_message() {
        let line = TraceError::new("t.csv", Location::Line(12), "expected x, found y");
        assert_eq!(line.to_string(), "t.csv:12: expected x, found y");
        let byte = TraceError::new("t.bin", Location::Byte(48), "bad");
        assert_eq!(byte.to_string(), "t.bin: byte 48: bad");
        let file = TraceError::new("t", Location::File, "no requests");
        assert_eq!(file.to_string(), "t: no requests");
        assert_eq!((file.path(), file.location()), ("t", Location::File));
    }

    #[test]
    fn found_text_is_quoted_and_cut() {
        assert_eq!(shown(b"PUT"), "\"PUT\"");
        assert_eq!(shown(&[b'a'; 61]), format!("\"{}\"...", "a".repeat(60)));
        assert_eq!(shown(&[0xff]), "\"\u{fffd}\"");
    }
}
