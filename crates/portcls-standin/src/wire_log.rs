//! The wire log as `rdmus play --wire` writes it (crates/rdmus-cli/src/wire_log/tsv.rs): a
//! `time_us<TAB>hex` header, then one line per byte: its start in µs from presentation time 0
//! (one fractional digit when not a whole µs), a tab, two hex digits.

use alloc::string::String;
use core::fmt::Write;

use crate::card::WireByte;

/// The header line.
pub const HEADER: &str = "time_us\thex";

/// The TSV text of `wire`.
#[must_use]
pub fn to_tsv(wire: &[WireByte]) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{HEADER}");
    push_lines(&mut out, wire);
    out
}

/// Appends the lines of `wire` (no header) to `out`: the log written piece by piece.
pub fn push_lines(out: &mut String, wire: &[WireByte]) {
    for byte in wire {
        let sign = if byte.time < 0 { "-" } else { "" };
        let abs = byte.time.unsigned_abs();
        let (us, tenth) = (abs / 10, abs % 10);
        let _ = if tenth == 0 {
            writeln!(out, "{sign}{us}\t{:02x}", byte.byte)
        } else {
            writeln!(out, "{sign}{us}.{tenth}\t{:02x}", byte.byte)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::to_tsv;
    use crate::card::WireByte;

    #[test]
    fn bytes_are_written_like_rdmus_play_writes_them() {
        let wire = [
            WireByte {
                time: 0,
                byte: 0x90,
            },
            WireByte {
                time: 3205,
                byte: 0x3C,
            },
            WireByte {
                time: -10,
                byte: 0x0A,
            },
        ];
        assert_eq!(to_tsv(&wire), "time_us\thex\n0\t90\n320.5\t3c\n-1\t0a\n");
    }
}
