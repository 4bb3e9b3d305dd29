//! Opening a trace: buffered reads, with `.gz` files decompressed on the fly, and line splitting
//! that reuses one buffer.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::error::{Location, TraceError};

/// Large reads: traces are read once, front to back.
const BUFFER_BYTES: usize = 256 * 1024;

/// The file's bytes, decompressed when its name ends in `.gz` (concatenated gzip members are
/// read as one stream, as `zcat` does).
pub(super) fn open(path: &Path) -> Result<Box<dyn BufRead>, TraceError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|io| TraceError::io(&shown, Location::File, io))?;
    let gzipped = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("gz"));
    let raw: Box<dyn Read> = if gzipped {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    Ok(Box::new(BufReader::with_capacity(BUFFER_BYTES, raw)))
}

/// A line's 1-based number and its bytes.
pub(super) type NumberedLine<'a> = (u64, &'a [u8]);

/// A line that could not be read (a gzip stream that is corrupt or cut short, say).
pub(super) struct UnreadableLine {
    pub number: u64,
    pub io: io::Error,
}

/// Lines without their `\n` or `\r\n`, numbered from 1.
pub(super) struct Lines {
    input: Box<dyn BufRead>,
    buffer: Vec<u8>,
    number: u64,
}

impl Lines {
    pub fn new(input: Box<dyn BufRead>) -> Self {
        Lines {
            input,
            buffer: Vec::new(),
            number: 0,
        }
    }

    pub fn next_line(&mut self) -> Result<Option<NumberedLine<'_>>, UnreadableLine> {
        self.buffer.clear();
        let read = self
            .input
            .read_until(b'\n', &mut self.buffer)
            .map_err(|io| UnreadableLine {
                number: self.number + 1,
                io,
            })?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let mut line = self.buffer.as_slice();
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest;
        }
        if let Some(rest) = line.strip_suffix(b"\r") {
            line = rest;
        }
        Ok(Some((self.number, line)))
    }
}

/// Reads until `buffer` is full or the input ends; returns how many bytes were read.
pub(super) fn fill(input: &mut dyn BufRead, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
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

    #[test]
    fn fill_stops_at_the_end() {
        let mut input = io::Cursor::new(vec![7u8; 30]);
        let mut buffer = [0u8; 24];
        assert_eq!(fill(&mut input, &mut buffer).expect("in memory"), 24);
        assert_eq!(fill(&mut input, &mut buffer).expect("in memory"), 6);
        assert_eq!(fill(&mut input, &mut buffer).expect("in memory"), 0);
    }
}
