//! Sizes and durations as users write them, turned into bytes and microseconds.
//!
//! Sizes follow redis.conf, not SI or IEC: `k` is 1000 but `kb` is 1024, so `256mb` is
//! 268,435,456 bytes as Redis means it (crates such as `bytesize` read it as 256,000,000).
//! Durations always carry a unit, because a bare `30` in a scenario is ambiguous; only `0` may
//! stand alone. Parts add up (`2m30s`) and may have a decimal fraction (`10.5s`), read exactly
//! in integers: a fraction that does not come to whole microseconds (`1.5us`) is refused. Sizes
//! take whole numbers only, as redis.conf does. Both reject rather than wrap when the result
//! does not fit in a `u64`.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnitError {
    #[error("it does not start with a whole number")]
    MissingNumber,
    #[error("it has a fraction (sizes are whole numbers of bytes or of a unit)")]
    Fraction,
    #[error("it is not a whole number of microseconds (the virtual clock's tick)")]
    BelowMicrosecond,
    #[error("it has no unit (only 0 may stand alone)")]
    MissingUnit,
    #[error("unknown unit \"{unit}\" (expected one of {expected})")]
    UnknownUnit { unit: String, expected: String },
    #[error("it is too large")]
    Overflow,
}

/// Size units and their bytes, as redis.conf reads them (ignoring case); a bare number, or `b`,
/// is bytes.
const SIZE_UNITS: [(&str, u64); 6] = [
    ("k", 1_000),
    ("kb", 1 << 10),
    ("m", 1_000_000),
    ("mb", 1 << 20),
    ("g", 1_000_000_000),
    ("gb", 1 << 30),
];
/// Duration units and their microseconds (ignoring case).
const DURATION_UNITS: [(&str, u64); 6] = [
    ("us", 1),
    ("ms", 1_000),
    ("s", 1_000_000),
    ("m", 60_000_000),
    ("h", 3_600_000_000),
    ("d", 86_400_000_000),
];

/// A size such as `64mb` or `1000`, in bytes.
pub fn parse_size_bytes(text: &str) -> Result<u64, UnitError> {
    let (number, unit) = split_number(text)?;
    let multiplier = if unit.is_empty() || unit.eq_ignore_ascii_case("b") {
        1
    } else {
        multiplier(&SIZE_UNITS, unit).ok_or_else(|| {
            unknown_unit(
                unit,
                format!("{} or none for bytes", unit_names(&SIZE_UNITS)),
            )
        })?
    };
    number.checked_mul(multiplier).ok_or(UnitError::Overflow)
}

/// A duration such as `500ms`, `2h` or `2m30s`, in microseconds.
pub fn parse_duration_us(text: &str) -> Result<u64, UnitError> {
    if !text.is_empty() && text.bytes().all(|byte| byte == b'0') {
        return Ok(0);
    }
    let mut total_us: u64 = 0;
    let mut rest = text;
    loop {
        let (number, fraction, after_number) = split_decimal(rest)?;
        let unit_end = after_number
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after_number.len());
        let (unit, remaining) = after_number.split_at(unit_end);
        if unit.is_empty() {
            return Err(UnitError::MissingUnit);
        }
        let multiplier_us = multiplier(&DURATION_UNITS, unit)
            .ok_or_else(|| unknown_unit(unit, unit_names(&DURATION_UNITS)))?;
        let fraction_us = fraction_us(fraction, multiplier_us)?;
        let part_us = number
            .checked_mul(multiplier_us)
            .and_then(|whole_us| whole_us.checked_add(fraction_us))
            .ok_or(UnitError::Overflow)?;
        total_us = total_us.checked_add(part_us).ok_or(UnitError::Overflow)?;
        if remaining.is_empty() {
            return Ok(total_us);
        }
        rest = remaining;
    }
}

/// Splits `10.5s` into `(10, "5", "s")`: whole digits, the digits after a decimal point (empty
/// without one), and the rest.
fn split_decimal(text: &str) -> Result<(u64, &str, &str), UnitError> {
    let (number, rest) = split_digits(text)?;
    let Some(after_point) = rest.strip_prefix('.') else {
        return Ok((number, "", rest));
    };
    let fraction_end = after_point
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after_point.len());
    let (fraction, rest) = after_point.split_at(fraction_end);
    if fraction.is_empty() {
        return Err(UnitError::MissingNumber);
    }
    Ok((number, fraction, rest))
}

/// The microseconds of the decimal digits `fraction` of a unit of `multiplier_us`, exactly.
fn fraction_us(fraction: &str, multiplier_us: u64) -> Result<u64, UnitError> {
    // A microsecond is at least 10^-11 of the largest unit (a day), so digits past 11 must
    // be zeros; 30 keeps the arithmetic inside u128.
    if fraction.len() > 30 {
        return Err(UnitError::BelowMicrosecond);
    }
    let mut numerator: u128 = 0;
    let mut denominator: u128 = 1;
    for digit in fraction.bytes() {
        numerator = numerator * 10 + u128::from(digit - b'0');
        denominator *= 10;
    }
    let scaled = numerator * u128::from(multiplier_us);
    if !scaled.is_multiple_of(denominator) {
        return Err(UnitError::BelowMicrosecond);
    }
    // Below one unit, so it fits whenever the unit does.
    u64::try_from(scaled / denominator).map_err(|_| UnitError::Overflow)
}

/// Splits `64mb` into `(64, "mb")`; the number must be plain decimal digits, as in redis.conf.
fn split_number(text: &str) -> Result<(u64, &str), UnitError> {
    let (number, rest) = split_digits(text)?;
    if rest.starts_with('.') {
        return Err(UnitError::Fraction);
    }
    Ok((number, rest))
}

/// The leading decimal digits of `text` as a number, and the rest.
fn split_digits(text: &str) -> Result<(u64, &str), UnitError> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, rest) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(UnitError::MissingNumber);
    }
    // Only digits are left, so the one way `parse` can fail is overflow.
    let number = digits.parse().map_err(|_| UnitError::Overflow)?;
    Ok((number, rest))
}

fn multiplier(units: &[(&str, u64)], unit: &str) -> Option<u64> {
    units
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))
        .map(|(_, multiplier)| *multiplier)
}

fn unit_names(units: &[(&str, u64)]) -> String {
    let names: Vec<&str> = units.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

fn unknown_unit(unit: &str, expected: String) -> UnitError {
    UnitError::UnknownUnit {
        unit: unit.to_string(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_reads_back_under_any_case_and_is_listed_once() {
        for (units, parse) in [
            (
                &SIZE_UNITS,
                parse_size_bytes as fn(&str) -> Result<u64, UnitError>,
            ),
            (&DURATION_UNITS, parse_duration_us),
        ] {
            for (name, multiplier) in units {
                assert_eq!(parse(&format!("2{name}")), Ok(2 * multiplier), "{name}");
                let upper = format!("2{}", name.to_ascii_uppercase());
                assert_eq!(parse(&upper), Ok(2 * multiplier), "{name}");
                assert_eq!(units.iter().filter(|(other, _)| other == name).count(), 1);
            }
            let refused = parse("2parsecs").expect_err("not a unit");
            assert!(
                refused.to_string().contains(&unit_names(units)),
                "{refused}"
            );
        }
    }

    #[test]
    fn sizes_use_redis_units() {
        let cases = [
            ("0", 0),
            ("100", 100),
            ("100b", 100),
            ("1k", 1_000),
            ("1kb", 1_024),
            ("3m", 3_000_000),
            ("64mb", 67_108_864),
            ("256mb", 268_435_456),
            ("2g", 2_000_000_000),
            ("2gb", 2_147_483_648),
            ("17179869183gb", u64::MAX - (1 << 30) + 1),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_size_bytes(text), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn size_units_ignore_case() {
        for text in ["64MB", "64Mb", "64mB", "64mb"] {
            assert_eq!(parse_size_bytes(text), Ok(64 << 20), "{text}");
        }
        assert_eq!(parse_size_bytes("1K"), Ok(1_000));
        assert_eq!(parse_size_bytes("1GB"), Ok(1 << 30));
    }

    #[test]
    fn size_overflow_is_an_error() {
        assert_eq!(parse_size_bytes("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_size_bytes("18446744073709551616"),
            Err(UnitError::Overflow)
        );
        assert_eq!(parse_size_bytes("17179869184gb"), Err(UnitError::Overflow));
        assert_eq!(
            parse_size_bytes("18446744073709552k"),
            Err(UnitError::Overflow)
        );
    }

    #[test]
    fn size_garbage_is_an_error() {
        assert_eq!(parse_size_bytes("1.5gb"), Err(UnitError::Fraction));
        for text in ["", "mb", "-1", "+1", " 1", "0x10", "1k500"] {
            assert!(parse_size_bytes(text).is_err(), "{text}");
        }
        assert_eq!(
            parse_size_bytes("12xb"),
            Err(unknown_unit(
                "xb",
                "k, kb, m, mb, g, gb or none for bytes".to_string()
            ))
        );
        assert_eq!(
            parse_size_bytes("1 mb"),
            Err(unknown_unit(
                " mb",
                "k, kb, m, mb, g, gb or none for bytes".to_string()
            ))
        );
        assert_eq!(parse_size_bytes("kb"), Err(UnitError::MissingNumber));
    }

    #[test]
    fn durations_in_microseconds() {
        let cases = [
            ("0", 0),
            ("0s", 0),
            ("500us", 500),
            ("500ms", 500_000),
            ("30s", 30_000_000),
            ("10m", 600_000_000),
            ("2h", 7_200_000_000),
            ("1d", 86_400_000_000),
            ("1D", 86_400_000_000),
            ("500MS", 500_000),
            ("2H", 7_200_000_000),
            ("2m30s", 150_000_000),
            ("1h30m", 5_400_000_000),
            ("1d2h3m4s5ms6us", 93_784_005_006),
            // Decimals, exactly.
            ("10.5s", 10_500_000),
            ("1.5ms", 1_500),
            ("0.25s", 250_000),
            ("1.000001s", 1_000_001),
            ("2.5m30.5s", 180_500_000),
            ("0.5d", 43_200_000_000),
            ("2.000us", 2),
        ];
        for (text, micros) in cases {
            assert_eq!(parse_duration_us(text), Ok(micros), "{text}");
        }
    }

    #[test]
    fn duration_needs_a_unit_except_zero() {
        assert_eq!(parse_duration_us("30"), Err(UnitError::MissingUnit));
        assert_eq!(parse_duration_us("00"), Ok(0));
    }

    #[test]
    fn duration_overflow_is_an_error() {
        assert_eq!(parse_duration_us("18446744073709551615us"), Ok(u64::MAX));
        assert_eq!(parse_duration_us("213503983d"), Err(UnitError::Overflow));
        assert_eq!(parse_duration_us("213503982d9h"), Err(UnitError::Overflow));
        assert_eq!(
            parse_duration_us("99999999999999999999s"),
            Err(UnitError::Overflow)
        );
    }

    #[test]
    fn duration_garbage_is_an_error() {
        assert_eq!(
            parse_duration_us("5y"),
            Err(unknown_unit("y", "us, ms, s, m, h, d".to_string()))
        );
        assert_eq!(parse_duration_us("1.5us"), Err(UnitError::BelowMicrosecond));
        assert_eq!(
            parse_duration_us("0.0000001s"),
            Err(UnitError::BelowMicrosecond)
        );
        assert_eq!(parse_duration_us("1.s"), Err(UnitError::MissingNumber));
        assert_eq!(parse_duration_us("1m30"), Err(UnitError::MissingUnit));
        assert_eq!(
            parse_duration_us("1m 30s"),
            Err(unknown_unit("m ", "us, ms, s, m, h, d".to_string()))
        );
        for text in ["", "s", "-1s", "1 s", "1sec", "1ns", "1s-"] {
            assert!(parse_duration_us(text).is_err(), "{text}");
        }
    }
}
