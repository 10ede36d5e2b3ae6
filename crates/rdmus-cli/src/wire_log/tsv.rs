//! The `--wire` TSV format: a `time_us<TAB>hex` header, then one line per
//! byte: the start of the byte in µs from the presentation time of the
//! file's tick 0 (a decimal with one fractional digit when the time is not a
//! whole µs: the logs keep 100 ns resolution), a tab, and the byte as two
//! hex digits.

use core::fmt;
use std::io::{self, BufRead, Write};

use super::WireByte;

/// The header line.
const HEADER: &str = "time_us\thex";

/// Writes `wire` as TSV.
///
/// # Errors
/// Any I/O error of `out`.
pub fn write_tsv<W: Write>(mut out: W, wire: &[WireByte]) -> io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for b in wire {
        let sign = if b.time < 0 { "-" } else { "" };
        let abs = b.time.unsigned_abs();
        let (us, tenth) = (abs / 10, abs % 10);
        if tenth == 0 {
            writeln!(out, "{sign}{us}\t{:02x}", b.byte)?;
        } else {
            writeln!(out, "{sign}{us}.{tenth}\t{:02x}", b.byte)?;
        }
    }
    out.flush()
}

/// Why a TSV wire log could not be read.
#[derive(Debug)]
pub enum TsvError {
    /// Reading failed.
    Io(io::Error),
    /// A line is not `time_us<TAB>hex`.
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for TsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(err) => write!(f, "{err}"),
            Self::BadLine { line, reason } => write!(f, "line {line}: {reason}"),
        }
    }
}

impl std::error::Error for TsvError {}

/// Reads a TSV wire log. Blank lines, `#` comments and the header line are
/// skipped; times may have at most one fractional digit (100 ns).
///
/// # Errors
/// [`TsvError`] for an I/O error or the first malformed line.
pub fn read_tsv<R: BufRead>(input: R) -> Result<Vec<WireByte>, TsvError> {
    let mut wire = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let line = line.map_err(TsvError::Io)?;
        let number = index + 1;
        let text = line.trim_end_matches('\r');
        if text.trim().is_empty() || text.starts_with('#') || text == HEADER {
            continue;
        }
        let bad = |reason| TsvError::BadLine {
            line: number,
            reason,
        };
        let (time, hex) = text
            .split_once('\t')
            .ok_or_else(|| bad("expected time_us<TAB>hex"))?;
        let time = parse_time(time.trim())
            .ok_or_else(|| bad("time is not a number of µs with at most one decimal"))?;
        let hex = hex.trim();
        if hex.len() != 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("byte must be two hex digits"));
        }
        let byte = u8::from_str_radix(hex, 16).map_err(|_| bad("byte must be two hex digits"))?;
        wire.push(WireByte { time, byte });
    }
    Ok(wire)
}

/// Bytes of a log that start before a byte listed ahead of them: the card
/// receives every byte at its time, so such a log is re-sorted by the run,
/// which `record` warns about.
#[must_use]
pub fn out_of_order(wire: &[WireByte]) -> usize {
    let mut latest = i64::MIN;
    let mut early = 0;
    for byte in wire {
        if byte.time < latest {
            early += 1;
        }
        latest = latest.max(byte.time);
    }
    early
}

/// Parses `[-]µs[.d]` into 100 ns units.
fn parse_time(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, tenth) = match digits.split_once('.') {
        Some((whole, frac)) if frac.len() == 1 => (whole, frac),
        Some(_) => return None,
        None => (digits, "0"),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !tenth.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let value = whole
        .parse::<i64>()
        .ok()?
        .checked_mul(10)?
        .checked_add(tenth.parse::<i64>().ok()?)?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_header_and_lines() {
        let mut out = Vec::new();
        let wire = [
            WireByte {
                time: 0,
                byte: 0x90,
            },
            WireByte {
                time: 3_200,
                byte: 0x3C,
            },
            WireByte {
                time: 52_083,
                byte: 0x0A,
            },
        ];
        write_tsv(&mut out, &wire).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "time_us\thex\n0\t90\n320\t3c\n5208.3\t0a\n"
        );
    }

    #[test]
    fn reads_what_it_writes_and_tolerates_comments() {
        let text = "# recorded\ntime_us\thex\n0\t90\r\n\n320\t3C\n-1.5\tff\n";
        let wire = read_tsv(text.as_bytes()).unwrap();
        assert_eq!(
            wire,
            [
                WireByte {
                    time: 0,
                    byte: 0x90
                },
                WireByte {
                    time: 3_200,
                    byte: 0x3C
                },
                WireByte {
                    time: -15,
                    byte: 0xFF
                }
            ]
        );
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let cases = [
            ("0 90\n", "expected time_us<TAB>hex"),
            (
                "x\t90\n",
                "time is not a number of µs with at most one decimal",
            ),
            (
                "1.25\t90\n",
                "time is not a number of µs with at most one decimal",
            ),
            ("1\t9\n", "byte must be two hex digits"),
            ("1\tzz\n", "byte must be two hex digits"),
            ("1\t+9\n", "byte must be two hex digits"),
        ];
        for (text, reason) in cases {
            let input = format!("time_us\thex\n{text}");
            match read_tsv(input.as_bytes()) {
                Err(TsvError::BadLine { line: 2, reason: r }) => assert_eq!(r, reason, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn round_trips(items in proptest::collection::vec((-1_000_000_000i64..1_000_000_000, any::<u8>()), 0..50)) {
            let wire: Vec<WireByte> = items.into_iter().map(|(time, byte)| WireByte { time, byte }).collect();
            let mut out = Vec::new();
            write_tsv(&mut out, &wire).unwrap();
            prop_assert_eq!(read_tsv(out.as_slice()).unwrap(), wire);
        }

        #[test]
        fn reader_never_panics(text in ".{0,200}") {
            let _ = read_tsv(text.as_bytes());
        }
    }

    #[test]
    fn bytes_listed_after_a_later_one_are_counted() {
        let wire = |times: &[i64]| -> Vec<WireByte> {
            times
                .iter()
                .map(|&time| WireByte { time, byte: 0x90 })
                .collect()
        };
        assert_eq!(super::out_of_order(&wire(&[0, 10, 10, 20])), 0);
        assert_eq!(super::out_of_order(&wire(&[0, 30, 10, 20, 40])), 2);
        assert_eq!(super::out_of_order(&[]), 0);
    }
}
