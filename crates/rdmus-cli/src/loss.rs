//! What a run did not do that the file asked for: IRPs the port refused,
//! bytes that never reached the wire, events and notes the driver dropped,
//! samples clipped, a timer that fell back to the coarse one. The summaries
//! print each count (with where it was read), and `play` exits with
//! [`crate::cli::CliError::Loss`] when any is not zero, unless `--allow-loss`.

use core::fmt;

use crate::sim::WriteTrouble;

/// One kind of loss and how much of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loss {
    /// How many.
    pub count: u64,
    /// Of what, and where the count comes from.
    pub what: String,
}

/// Every loss of a run (only the non-zero ones are kept).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Losses(Vec<Loss>);

impl Losses {
    /// No loss yet.
    #[must_use]
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Notes `count` of `what` (nothing when `count` is 0).
    pub fn add(&mut self, count: u64, what: impl Into<String>) {
        if count > 0 {
            self.0.push(Loss {
                count,
                what: what.into(),
            });
        }
    }

    /// The IRPs of `troubles` and the records the port did not take of them.
    pub fn add_troubles(&mut self, troubles: &[WriteTrouble]) {
        let irps = u64::try_from(troubles.len()).unwrap_or(u64::MAX);
        let records: usize = troubles
            .iter()
            .map(|t| t.expected.saturating_sub(t.records))
            .sum();
        self.add(irps, "IRPs the port did not take whole");
        self.add(
            u64::try_from(records).unwrap_or(u64::MAX),
            "records (events) in them refused by the port",
        );
    }

    /// True when nothing was lost.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The losses.
    #[must_use]
    pub fn as_slice(&self) -> &[Loss] {
        &self.0
    }

    /// One line: "3 IRPs ..., 12 bytes ...".
    #[must_use]
    pub fn one_line(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|loss| format!("{} {}", loss.count, loss.what))
            .collect();
        parts.join("; ")
    }
}

impl fmt::Display for Losses {
    /// `loss:` lines, one per kind, or `loss: none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "loss:        none");
        }
        for loss in &self.0 {
            writeln!(f, "loss:        {} {}", loss.count, loss.what)?;
        }
        Ok(())
    }
}

/// Per-IRP trouble lines printed before they collapse into a count.
pub const TROUBLES_SHOWN: usize = 3;

/// The first [`TROUBLES_SHOWN`] IRP troubles, then one line counting the rest.
pub struct Troubles<'a>(pub &'a [WriteTrouble]);

impl fmt::Display for Troubles<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for trouble in self.0.iter().take(TROUBLES_SHOWN) {
            writeln!(
                f,
                "IRP trouble: IRP {} took {} of {} records: {}",
                trouble.irp, trouble.records, trouble.expected, trouble.reason
            )?;
        }
        let rest = self.0.get(TROUBLES_SHOWN..).unwrap_or_default();
        if !rest.is_empty() {
            let refused: usize = rest
                .iter()
                .map(|t| t.expected.saturating_sub(t.records))
                .sum();
            writeln!(
                f,
                "IRP trouble: and {} more IRPs ({refused} records refused)",
                rest.len()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Losses, Troubles};
    use crate::sim::WriteTrouble;

    fn trouble(irp: usize, records: usize) -> WriteTrouble {
        WriteTrouble {
            irp,
            records,
            expected: 4,
            reason: "record at offset 0: data buffer pool exhausted".into(),
        }
    }

    #[test]
    fn only_non_zero_losses_are_kept_and_printed() {
        let mut losses = Losses::new();
        assert_eq!(losses.to_string(), "loss:        none\n");
        losses.add(0, "samples clipped");
        assert!(losses.is_empty());
        losses.add_troubles(&[trouble(3, 1), trouble(4, 0)]);
        losses.add(12, "bytes not on the wire");
        assert_eq!(
            losses.to_string(),
            "loss:        2 IRPs the port did not take whole\n\
             loss:        7 records (events) in them refused by the port\n\
             loss:        12 bytes not on the wire\n"
        );
        assert_eq!(
            losses.one_line(),
            "2 IRPs the port did not take whole; 7 records (events) in them refused by the port; \
             12 bytes not on the wire"
        );
    }

    #[test]
    fn trouble_lines_collapse_after_the_first_few() {
        let many: Vec<WriteTrouble> = (0..253).map(|i| trouble(i, 0)).collect();
        let text = Troubles(&many).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("IRP trouble: IRP 0 took 0 of 4 records"));
        assert_eq!(
            lines[3],
            "IRP trouble: and 250 more IRPs (1000 records refused)"
        );
        assert_eq!(Troubles(&many[..2]).to_string().lines().count(), 2);
        assert_eq!(Troubles(&[]).to_string(), "");
    }
}
