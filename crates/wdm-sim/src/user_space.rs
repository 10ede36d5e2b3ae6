//! The user address space of the one process the simulation's applications run in.
//!
//! A request from user mode carries user addresses (a `SYNTH_BUFFER`'s `BufferAddress` is
//! one, in `DirectMusic`'s process). On Windows such an address may be unmapped, freed by
//! another thread at any moment, or not a user address at all; a driver must never read it
//! directly, only through a routine that checks and survives a fault (`MmCopyMemory`).
//!
//! The model: clients [`map`](UserSpace::map) byte buffers, and the simulation decides where
//! they live. Their addresses are made-up numbers in `[USER_SPACE_BASE, USER_PROBE_ADDRESS)`
//! that the host has not mapped (1 TiB and up on 64-bit hosts: Linux and macOS put programs,
//! heaps and libraries far above 16 TiB), so a driver that dereferences one directly crashes
//! the test with a segmentation fault, as Windows would bugcheck, instead of silently reading
//! host memory (a test checks this in a child process: `tests::mm`). The verifier cannot
//! turn such a read into a finding: that would need a fault handler around the driver's
//! code, which safe Rust on the host does not have. Each mapping is followed by an unmapped
//! guard of at least 64 KiB and addresses are never reused, so a range that runs past a
//! buffer's end, or an address of a buffer already unmapped, is unreadable. [`USER_PROBE_ADDRESS`] is the simulation's
//! `MmUserProbeAddress`: the first address that is not user space. It is far below the real
//! x64 value (`0x7FFF_FFFF_0000`) so that the host's own memory, where the simulation's pool
//! blocks live, counts as system space; a driver must read the variable, never assume it.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::current::{try_current, with_state};

/// The lowest address the simulation maps user buffers at.
#[cfg(target_pointer_width = "64")]
pub const USER_SPACE_BASE: usize = 0x0000_0100_0000_0000;
/// The lowest address the simulation maps user buffers at.
#[cfg(target_pointer_width = "32")]
pub const USER_SPACE_BASE: usize = 0x0001_0000;

/// The simulation's `MmUserProbeAddress`: user space is `[0, USER_PROBE_ADDRESS)`.
#[cfg(target_pointer_width = "64")]
pub const USER_PROBE_ADDRESS: usize = 0x0000_1000_0000_0000;
/// The simulation's `MmUserProbeAddress`: user space is `[0, USER_PROBE_ADDRESS)`.
#[cfg(target_pointer_width = "32")]
pub const USER_PROBE_ADDRESS: usize = 0x0800_0000;

/// Mappings start on this boundary and are followed by at least this much unmapped space.
pub const USER_GRANULARITY: usize = 0x1_0000;

/// Why a buffer could not be mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The user address space is used up (addresses are never reused).
    Exhausted,
}

/// The mapped user buffers, by start address.
#[derive(Debug)]
pub struct UserSpace {
    mapped: BTreeMap<usize, Vec<u8>>,
    next: usize,
}

impl Default for UserSpace {
    fn default() -> Self {
        Self {
            mapped: BTreeMap::new(),
            next: USER_SPACE_BASE,
        }
    }
}

impl UserSpace {
    /// Maps a copy of `bytes` (at least one byte of address space) at a fresh user address
    /// and returns it.
    ///
    /// # Errors
    /// [`MapError::Exhausted`] when no room is left below [`USER_PROBE_ADDRESS`].
    pub fn map(&mut self, bytes: &[u8]) -> Result<usize, MapError> {
        let address = self.next;
        let span = bytes
            .len()
            .max(1)
            .checked_next_multiple_of(USER_GRANULARITY)
            .and_then(|span| span.checked_add(USER_GRANULARITY))
            .ok_or(MapError::Exhausted)?;
        let next = address.checked_add(span).ok_or(MapError::Exhausted)?;
        if next > USER_PROBE_ADDRESS {
            return Err(MapError::Exhausted);
        }
        self.mapped.insert(address, bytes.to_vec());
        self.next = next;
        Ok(address)
    }

    /// Unmaps the buffer mapped at `address`; false if none starts there.
    pub fn unmap(&mut self, address: usize) -> bool {
        self.mapped.remove(&address).is_some()
    }

    /// Whether `address` is a user address (below [`USER_PROBE_ADDRESS`]).
    #[must_use]
    pub const fn is_user_address(address: usize) -> bool {
        address < USER_PROBE_ADDRESS
    }

    /// The readable bytes from `address` on, up to `len`: the part of one mapped buffer that
    /// starts at `address` (empty when `address` is not mapped). Shorter than `len` when the
    /// range runs past the buffer into unmapped space.
    #[must_use]
    pub fn readable(&self, address: usize, len: usize) -> &[u8] {
        let Some((&start, bytes)) = self.mapped.range(..=address).next_back() else {
            return &[];
        };
        let offset = address - start;
        let Some(rest) = bytes.get(offset..) else {
            return &[];
        };
        &rest[..rest.len().min(len)]
    }

    /// Buffers mapped now.
    #[must_use]
    pub fn mapped(&self) -> usize {
        self.mapped.len()
    }
}

/// A user buffer of the applications' process, mapped while this value lives (what
/// `VirtualAlloc` or a heap block is to dmusic.dll). Its [`address`](Self::address) is a user
/// address the driver may only read through `MmCopyMemory`.
#[derive(Debug)]
pub struct UserBuffer {
    address: usize,
    len: usize,
}

impl UserBuffer {
    /// Maps a copy of `bytes` in the current machine's user space.
    ///
    /// # Errors
    /// [`MapError::Exhausted`] when the user address space is used up.
    ///
    /// # Panics
    /// When no machine is installed on this thread.
    pub fn map(bytes: &[u8]) -> Result<Self, MapError> {
        let address = with_state("user buffer", |m| m.user.map(bytes))?;
        Ok(Self {
            address,
            len: bytes.len(),
        })
    }

    /// The buffer's user address.
    #[must_use]
    pub const fn address(&self) -> usize {
        self.address
    }

    /// Its length in bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no bytes.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for UserBuffer {
    fn drop(&mut self) {
        // The machine may already be gone (nothing is mapped then).
        if let Some(state) = try_current()
            && let Ok(mut state) = state.try_borrow_mut()
        {
            state.user.unmap(self.address);
        }
    }
}

/// A buffer in the simulation's nonpaged pool, as another kernel component would hand one to
/// the driver (a `KernelMode` request): a system address `MmCopyMemory` can read. Freed when
/// dropped.
#[derive(Debug)]
pub struct KernelBuffer {
    address: usize,
    len: usize,
}

/// The pool tag of [`KernelBuffer`]s (`SimK`), apart from any driver's.
pub const KERNEL_BUFFER_TAG: u32 = u32::from_ne_bytes(*b"SimK");

impl KernelBuffer {
    /// A pool block holding a copy of `bytes`; `None` when the pool refuses (fault
    /// injection).
    ///
    /// # Panics
    /// When no machine is installed on this thread.
    #[must_use]
    pub fn new(bytes: &[u8]) -> Option<Self> {
        with_state("kernel buffer", |m| {
            let address = m.allocate_pool("kernel buffer", bytes.len(), KERNEL_BUFFER_TAG, true);
            if address == 0 {
                return None;
            }
            m.pool.write(address, bytes);
            Some(Self {
                address,
                len: bytes.len(),
            })
        })
    }

    /// The buffer's system address.
    #[must_use]
    pub const fn address(&self) -> usize {
        self.address
    }

    /// Its length in bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no bytes.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for KernelBuffer {
    fn drop(&mut self) {
        if let Some(state) = try_current()
            && let Ok(mut state) = state.try_borrow_mut()
        {
            state.free_pool(self.address, KERNEL_BUFFER_TAG);
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::{MapError, USER_GRANULARITY, USER_PROBE_ADDRESS, USER_SPACE_BASE, UserSpace};

    #[test]
    fn buffers_are_readable_only_where_mapped() {
        let mut space = UserSpace::default();
        let a = space.map(&[1, 2, 3, 4]).unwrap();
        let b = space.map(&vec![9; 70_000]).unwrap();
        assert_eq!(a, USER_SPACE_BASE);
        assert!(b >= a + 4 + USER_GRANULARITY, "a guard follows each buffer");
        assert!(UserSpace::is_user_address(b) && !UserSpace::is_user_address(USER_PROBE_ADDRESS));
        assert_eq!(space.readable(a, 4), &[1, 2, 3, 4]);
        assert_eq!(space.readable(a + 1, 2), &[2, 3]);
        assert_eq!(space.readable(a + 2, 100), &[3, 4], "stops at the end");
        assert!(space.readable(a + 4, 1).is_empty(), "the guard is unmapped");
        assert!(space.readable(a - 1, 1).is_empty(), "below every mapping");
        assert_eq!(space.readable(b + 69_999, 5), &[9]);
        assert_eq!(space.mapped(), 2);
        assert!(space.unmap(a));
        assert!(!space.unmap(a), "once");
        assert!(space.readable(a, 4).is_empty(), "unmapped for good");
        let c = space.map(&[]).unwrap();
        assert!(c > b, "addresses are never reused");
        assert!(
            space.readable(c, 1).is_empty(),
            "an empty buffer has no bytes"
        );
    }

    #[test]
    fn the_space_ends_below_the_probe_address() {
        let mut space = UserSpace {
            next: USER_PROBE_ADDRESS - 2 * USER_GRANULARITY,
            ..UserSpace::default()
        };
        assert!(space.map(&[0; 8]).is_ok());
        assert_eq!(space.map(&[0; 8]), Err(MapError::Exhausted));
    }
}
