//! Opening a trace: buffered reads, with `.gz` files decompressed on the fly, and line splitting
//! that reuses one buffer and never holds more than `LINE_BYTES_MAX` of a line.
//!
//! Only regular files are read: a device or a FIFO (`/dev/zero`, a named pipe) has no end to
//! check against, and `check` would grow without bound reading it. A line longer than the limit
//! is refused at its number as soon as the limit is passed, so a small `.gz` that inflates to one
//! line of gigabytes costs at most the limit.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::error::{Location, TraceError};

/// Large reads: traces are read once, front to back.
const BUFFER_BYTES: usize = 256 * 1024;

/// The longest line a text trace may have, without its line break. A MONITOR line holds a SET's
/// whole value (escaped, up to 4 bytes a byte), so this admits values of 16 MiB and more; every
/// other format's lines are under a hundred bytes, plus a key of at most 64 KiB.
pub const LINE_BYTES_MAX: usize = 64 << 20;

/// An opened trace: its bytes (decompressed), and the file's length when that is the length of
/// the bytes (not gzipped), for formats whose records have a fixed size.
pub(super) struct Opened {
    pub input: Box<dyn BufRead>,
    pub plain_bytes: Option<u64>,
}

/// The file's bytes, decompressed when its name ends in `.gz` (concatenated gzip members are
/// read as one stream, as `zcat` does). Anything but a regular file is refused.
pub(super) fn open(path: &Path) -> Result<Opened, TraceError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|io| TraceError::io(&shown, Location::File, io))?;
    let metadata = file
        .metadata()
        .map_err(|io| TraceError::io(&shown, Location::File, io))?;
    if !metadata.is_file() {
        return Err(TraceError::new(
            &shown,
            Location::File,
            "expected a regular file, found a device, pipe or folder (a stream has no end to \
             check): save the trace to a file, gzipped if it is large",
        ));
    }
    let gzipped = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("gz"));
    let (raw, plain_bytes): (Box<dyn Read>, _) = if gzipped {
        (Box::new(MultiGzDecoder::new(file)), None)
    } else {
        (Box::new(file), Some(metadata.len()))
    };
    Ok(Opened {
        input: Box::new(BufReader::with_capacity(BUFFER_BYTES, raw)),
        plain_bytes,
    })
}

/// A line's 1-based number and its bytes.
pub(super) type NumberedLine<'a> = (u64, &'a [u8]);

/// A line that could not be read.
pub(super) enum LineError {
    /// A gzip stream that is corrupt or cut short, say.
    Unreadable { number: u64, io: io::Error },
    /// Longer than the limit (counted without the line break).
    TooLong { number: u64, limit: usize },
}

impl LineError {
    pub fn into_trace_error(self, path: &str) -> TraceError {
        match self {
            LineError::Unreadable { number, io } => {
                TraceError::io(path, Location::Line(number), io)
            }
            LineError::TooLong { number, limit } => TraceError::new(
                path,
                Location::Line(number),
                format!(
                    "expected a line of at most {limit} bytes, found a longer one (is this \
                     the declared format?)"
                ),
            ),
        }
    }
}

/// Lines without their `\n` or `\r\n`, numbered from 1, each at most `line_bytes_max` long.
pub(super) struct Lines {
    input: Box<dyn BufRead>,
    buffer: Vec<u8>,
    number: u64,
    /// `LINE_BYTES_MAX`, lowered only by tests.
    line_bytes_max: usize,
}

impl Lines {
    pub fn new(input: Box<dyn BufRead>) -> Self {
        Lines::with_limit(input, LINE_BYTES_MAX)
    }

    pub fn with_limit(input: Box<dyn BufRead>, line_bytes_max: usize) -> Self {
        Lines {
            input,
            buffer: Vec::new(),
            number: 0,
            line_bytes_max,
        }
    }

    pub fn line_bytes_max(&self) -> usize {
        self.line_bytes_max
    }

    pub fn next_line(&mut self) -> Result<Option<NumberedLine<'_>>, LineError> {
        self.buffer.clear();
        let number = self.number + 1;
        // Room for the longest line and its `\r\n`: reading stops there, so a line without end
        // never costs more than this.
        let room = self.line_bytes_max as u64 + 2;
        let read = self
            .input
            .as_mut()
            .take(room)
            .read_until(b'\n', &mut self.buffer)
            .map_err(|io| LineError::Unreadable { number, io })?;
        if read == 0 {
            return Ok(None);
        }
        self.number = number;
        let mut line = self.buffer.as_slice();
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest;
        }
        if let Some(rest) = line.strip_suffix(b"\r") {
            line = rest;
        }
        if line.len() > self.line_bytes_max {
            return Err(LineError::TooLong {
                number,
                limit: self.line_bytes_max,
            });
        }
        Ok(Some((number, line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_stripped() {
        let input: Box<dyn BufRead> = Box::new(io::Cursor::new(b"a\r\nb\n\nc".to_vec()));
        let mut lines = Lines::new(input);
        let mut seen = Vec::new();
        while let Some((number, line)) = lines.next_line().ok().flatten() {
            seen.push((number, line.to_vec()));
        }
        let expected: Vec<(u64, Vec<u8>)> = vec![
            (1, b"a".to_vec()),
            (2, b"b".to_vec()),
            (3, Vec::new()),
            (4, b"c".to_vec()),
        ];
        assert_eq!(seen, expected);
    }

    fn read_all(bytes: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, (u64, usize)> {
        let input: Box<dyn BufRead> = Box::new(io::Cursor::new(bytes.to_vec()));
        let mut lines = Lines::with_limit(input, limit);
        let mut seen = Vec::new();
        loop {
            match lines.next_line() {
                Ok(Some((_, line))) => seen.push(line.to_vec()),
                Ok(None) => return Ok(seen),
                Err(LineError::TooLong { number, limit }) => return Err((number, limit)),
                Err(LineError::Unreadable { .. }) => panic!("in memory"),
            }
        }
    }

    #[test]
    fn lines_up_to_the_limit_pass_and_longer_ones_are_refused_at_their_number() {
        assert_eq!(
            read_all(b"abcd\r\nefgh\nij", 4),
            Ok(vec![b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()])
        );
        assert_eq!(read_all(b"abcd\nabcde\nx\n", 4), Err((2, 4)));
        assert_eq!(read_all(b"a\nabcde", 4), Err((2, 4)));
        assert_eq!(read_all(b"abcd\r\r\n", 4), Err((1, 4)));
    }

    #[test]
    fn a_line_without_end_costs_at_most_the_limit() {
        let input: Box<dyn BufRead> = Box::new(io::BufReader::new(io::repeat(b'0')));
        let mut lines = Lines::with_limit(input, 1 << 20);
        assert!(matches!(
            lines.next_line(),
            Err(LineError::TooLong { number: 1, .. })
        ));
        assert!(
            lines.buffer.capacity() <= 2 << 20,
            "{}",
            lines.buffer.capacity()
        );
    }
}
