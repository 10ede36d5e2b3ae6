//! The registry of COM objects the simulation hands out (`IInterruptSync` here; the port model's
//! port, allocator, master clock, service groups, resource lists): their reference counts, so
//! an over-release is caught and references left at unload are reported.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// One object the sim handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComRecord {
    /// Its interface name, for messages (`"IInterruptSync"`).
    pub kind: &'static str,
    /// References held.
    pub refs: u32,
}

/// Why a `Release` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseError {
    /// The address is no object the sim handed out.
    Unknown,
    /// The count is already 0 (the object is gone).
    OverRelease {
        /// Its interface name.
        kind: &'static str,
    },
}

/// Objects by address.
#[derive(Debug, Default)]
pub struct ComRegistry {
    objects: BTreeMap<usize, ComRecord>,
}

impl ComRegistry {
    /// A new object at `object`, with one reference (the creator's).
    pub fn register(&mut self, object: usize, kind: &'static str) {
        self.objects.insert(object, ComRecord { kind, refs: 1 });
    }

    /// `AddRef`: the new count, or `None` for an object the sim does not know (or one whose
    /// count already reached 0).
    pub fn add_ref(&mut self, object: usize) -> Option<u32> {
        let record = self.objects.get_mut(&object).filter(|r| r.refs > 0)?;
        record.refs += 1;
        Some(record.refs)
    }

    /// `Release`: the new count; at 0 the caller destroys the object.
    ///
    /// # Errors
    /// [`ReleaseError`] for an unknown object or a count already at 0; nothing changes then.
    pub fn release(&mut self, object: usize) -> Result<u32, ReleaseError> {
        let record = self.objects.get_mut(&object).ok_or(ReleaseError::Unknown)?;
        if record.refs == 0 {
            return Err(ReleaseError::OverRelease { kind: record.kind });
        }
        record.refs -= 1;
        Ok(record.refs)
    }

    /// The record of `object`.
    #[must_use]
    pub fn get(&self, object: usize) -> Option<ComRecord> {
        self.objects.get(&object).copied()
    }

    /// Objects still referenced, by address.
    #[must_use]
    pub fn outstanding(&self) -> Vec<(usize, ComRecord)> {
        self.objects
            .iter()
            .filter(|(_, r)| r.refs > 0)
            .map(|(&a, &r)| (a, r))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_addref_and_release_and_over_release_is_refused() {
        let mut com = ComRegistry::default();
        com.register(0x100, "IInterruptSync");
        assert_eq!(com.add_ref(0x100), Some(2));
        assert_eq!(
            com.outstanding(),
            [(
                0x100,
                ComRecord {
                    kind: "IInterruptSync",
                    refs: 2
                }
            )]
        );
        assert_eq!(com.release(0x100), Ok(1));
        assert_eq!(com.release(0x100), Ok(0));
        assert!(com.outstanding().is_empty());
        assert_eq!(
            com.release(0x100),
            Err(ReleaseError::OverRelease {
                kind: "IInterruptSync"
            })
        );
        assert_eq!(com.add_ref(0x100), None);
        assert_eq!(com.release(0x200), Err(ReleaseError::Unknown));
    }
}
