//! A ledger row assembled on the stack from padded parts, each copied at a fixed width.
//!
//! A row of `ledger.csv` is a handful of short parts (time, node and db, key, event to actor,
//! detail), most repeated from the row before. Appending each to the output took a `memmove`
//! call of its own length, a sixth of the writer's time in a 10 M-request replay; a copy of a
//! width known when compiling is a few vector moves instead. So each part is kept padded to a
//! fixed width, copied whole into a stack row at the row's end so far, and the end advanced by
//! the part's true length: the next part overwrites the padding. The row is built in the
//! output buffer itself, past its end so far, and becomes part of it only once complete.

/// Bytes of a row built here: the widest of every part together. A row that needs more (long
/// client or node names, a long detail) is formatted the ordinary way. The output buffer keeps
/// this much room past its end.
pub const ROW_BYTES: usize = 384;

/// Widest key number's decimal (`u64::MAX` has 20 digits).
const NUMBER_BYTES: usize = 20;

/// A piece of text and its copy padded to `N` bytes, when it fits.
pub struct Piece<const N: usize> {
    text: String,
    padded: [u8; N],
}

impl<const N: usize> Default for Piece<N> {
    fn default() -> Self {
        Piece {
            text: String::new(),
            padded: [0; N],
        }
    }
}

impl<const N: usize> Piece<N> {
    /// The text, to be edited; call [`Piece::padded`] after.
    pub fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    /// Refreshes the padded copy from the text.
    pub fn padded(&mut self) {
        if let Some(head) = self.padded.get_mut(..self.text.len()) {
            head.copy_from_slice(self.text.as_bytes());
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A row being assembled in `bytes` (the output buffer's room); `None` from a `put` means it
/// does not fit, and the row is left to the ordinary formatting.
pub struct Row<'a> {
    bytes: &'a mut [u8],
    end: usize,
}

impl<'a> Row<'a> {
    pub fn new(bytes: &'a mut [u8]) -> Row<'a> {
        Row { bytes, end: 0 }
    }

    /// Appends `piece`: all `N` bytes copied, the end moved by its length.
    #[inline]
    pub fn put<const N: usize>(&mut self, piece: &Piece<N>) -> Option<()> {
        if piece.text.len() > N {
            return None;
        }
        self.bytes
            .get_mut(self.end..self.end + N)?
            .copy_from_slice(&piece.padded);
        self.end += piece.text.len();
        Some(())
    }

    /// Appends the decimal of `number`, copied at the widest number's width.
    #[inline]
    pub fn put_number(&mut self, mut number: u64) -> Option<()> {
        // The digits end in the middle, so that a full-width copy from their first is in bounds.
        let mut digits = [0u8; 2 * NUMBER_BYTES];
        let mut first = NUMBER_BYTES;
        // Two digits a division.
        while number >= 100 {
            let pair = (number % 100) as usize * 2;
            number /= 100;
            first -= 2;
            digits[first..first + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        if number >= 10 {
            let pair = number as usize * 2;
            first -= 2;
            digits[first..first + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        } else {
            first -= 1;
            digits[first] = b'0' + number as u8;
        }
        self.bytes
            .get_mut(self.end..self.end + NUMBER_BYTES)?
            .copy_from_slice(&digits[first..first + NUMBER_BYTES]);
        self.end += NUMBER_BYTES - first;
        Some(())
    }

    /// Appends `text` of any length (rare parts).
    pub fn put_str(&mut self, text: &str) -> Option<()> {
        self.bytes
            .get_mut(self.end..self.end + text.len())?
            .copy_from_slice(text.as_bytes());
        self.end += text.len();
        Some(())
    }

    /// The row's length so far.
    pub fn length(&self) -> usize {
        self.end
    }
}

/// `00`, `01`, ... `99`.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

#[cfg(test)]
mod tests {
    use super::*;

    fn piece<const N: usize>(text: &str) -> Piece<N> {
        let mut piece = Piece::default();
        piece.text_mut().push_str(text);
        piece.padded();
        piece
    }

    #[test]
    fn parts_follow_each_other_without_their_padding() {
        let mut room = [0; ROW_BYTES];
        let mut row = Row::new(&mut room);
        let long: Piece<8> = piece("abcdefgh");
        let short: Piece<8> = piece("xy");
        for put in [
            row.put(&piece::<8>("one,")),
            row.put_number(0),
            row.put_number(u64::MAX),
            row.put_number(1_000_000),
            row.put_number(9),
            row.put_number(10),
            row.put_number(12_345),
            row.put_number(99_999_999),
            row.put_number(100_000_000),
            row.put(&long),
            row.put(&short),
            row.put_str(",\n"),
        ] {
            assert_eq!(put, Some(()));
        }
        let length = row.length();
        let text = String::from_utf8_lossy(&room[..length]).into_owned();
        assert_eq!(
            text,
            "one,0184467440737095516151000000910123459999999910000000\
                   0abcdefghxy,\n"
        );
    }

    #[test]
    fn numbers_are_their_decimals() {
        let around_powers = (0..20).flat_map(|power| {
            let at = 10u64.pow(power);
            [at - 1, at, at + 1, at.saturating_mul(7) / 3]
        });
        for number in around_powers.chain([u64::MAX, u64::MAX - 1, 123_456_789_012]) {
            let mut room = [0; ROW_BYTES];
            let mut row = Row::new(&mut room);
            assert_eq!(row.put_number(number), Some(()));
            let length = row.length();
            assert_eq!(&room[..length], number.to_string().as_bytes(), "{number}");
        }
    }

    #[test]
    fn a_part_too_wide_or_a_full_row_is_refused() {
        let mut room = [0; ROW_BYTES];
        let mut row = Row::new(&mut room);
        assert_eq!(row.put(&piece::<4>("12345")), None);
        let wide: Piece<ROW_BYTES> = piece("x");
        assert_eq!(row.put(&wide), Some(()));
        assert_eq!(row.put(&wide), None);
        assert_eq!(row.length(), 1);
        let rest = "y".repeat(ROW_BYTES - NUMBER_BYTES);
        assert_eq!(row.put_str(&rest), Some(()));
        assert_eq!(row.put_number(7), None);
        assert_eq!(row.put_str(&"z".repeat(NUMBER_BYTES - 1)), Some(()));
        assert_eq!(row.put_str("z"), None);
        assert_eq!(row.length(), ROW_BYTES);
    }
}
