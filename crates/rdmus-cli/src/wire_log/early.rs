//! Whether a device ran early: a message's first byte on the wire before the
//! time the application asked for it.

use super::WireByte;
use smf::Timeline;

/// How early or late messages started against their presentation times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Margins {
    /// The smallest (first byte start − presentation time), 100 ns; negative
    /// means a message started early.
    pub least: i64,
    /// Messages that started early.
    pub early: usize,
}

/// Margins of the messages of `timeline` on `observed`, which must carry
/// the timeline's bytes one for one; `presented` maps a message's exact
/// time to the presentation time the pin was given (the millisecond grid of
/// `KSMUSICFORMAT`, or the exact time). `None` when the wire differs or is
/// empty.
#[must_use]
pub fn margins(
    timeline: &Timeline,
    observed: &[WireByte],
    presented: impl Fn(u64) -> u64,
) -> Option<Margins> {
    if observed.len() != timeline.byte_count() {
        return None;
    }
    let mut at = 0;
    let mut result: Option<Margins> = None;
    for message in &timeline.messages {
        let bytes = observed.get(at..at + message.bytes.len())?;
        if bytes
            .iter()
            .map(|b| b.byte)
            .ne(message.bytes.iter().copied())
        {
            return None;
        }
        at += message.bytes.len();
        let Some(first) = bytes.first() else {
            continue;
        };
        let due = i64::try_from(presented(message.time)).unwrap_or(i64::MAX);
        let margin = first.time - due;
        let early = usize::from(margin < 0);
        result = Some(match result {
            None => Margins {
                least: margin,
                early,
            },
            Some(m) => Margins {
                least: m.least.min(margin),
                early: m.early + early,
            },
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use smf::{MessageKind, SmfFormat, TimedMessage};

    fn timeline() -> Timeline {
        let mut t = Timeline::empty(SmfFormat::SingleTrack);
        for (time, bytes) in [(10_000u64, vec![0x90, 0x3C, 0x40]), (52_083, vec![0xC0, 5])] {
            t.messages.push(TimedMessage {
                time,
                track: 0,
                kind: MessageKind::Channel,
                bytes,
            });
        }
        t
    }

    fn wire(items: &[(i64, u8)]) -> Vec<WireByte> {
        items
            .iter()
            .map(|&(time, byte)| WireByte { time, byte })
            .collect()
    }

    #[test]
    fn least_margin_and_early_count() {
        let observed = wire(&[
            (10_500, 0x90),
            (13_700, 0x3C),
            (16_900, 0x40),
            (51_000, 0xC0),
            (54_200, 5),
        ]);
        let exact = margins(&timeline(), &observed, |t| t).unwrap();
        assert_eq!(
            exact,
            Margins {
                least: -1_083,
                early: 1
            }
        );
        // On the KSMUSICFORMAT grid the program change was asked for at 5 ms.
        let grid = margins(&timeline(), &observed, |t| {
            crate::irp::round_to_ms(t) * 10_000
        })
        .unwrap();
        assert_eq!(
            grid,
            Margins {
                least: 500,
                early: 0
            }
        );
    }

    #[test]
    fn a_different_wire_has_no_margins() {
        let short = wire(&[(10_500, 0x90), (13_700, 0x3C), (16_900, 0x40)]);
        assert_eq!(margins(&timeline(), &short, |t| t), None);
        let wrong = wire(&[
            (10_500, 0x90),
            (13_700, 0x3C),
            (16_900, 0x41),
            (51_000, 0xC0),
            (54_200, 5),
        ]);
        assert_eq!(margins(&timeline(), &wrong, |t| t), None);
    }
}
