//! The one error type of the download path; the driver maps every variant to
//! `STATUS_INVALID_PARAMETER`, except [`DownloadError::OutOfMemory`]
//! (`STATUS_INSUFFICIENT_RESOURCES`).

use core::fmt;

/// Why a download buffer (or an unload) was refused. The store is unchanged by a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DownloadError {
    /// The buffer is shorter than its header, than `cbSize`, or than an item it holds.
    Truncated,
    /// The offset table is empty, runs past `cbSize`, or holds an offset outside the data.
    BadOffsetTable,
    /// An item refers to an offset-table index that does not exist (or to index 0 where the
    /// main item cannot be meant).
    BadIndex,
    /// An offset-table index is used twice: a region, articulation or extension-chunk chain
    /// loops, or two owners share one item.
    Cycle,
    /// `dwDLType` is not one the synth takes (1 to 6).
    UnknownType,
    /// The wave is not PCM, mono, 8 or 16 bits with a non-zero rate, or a streaming or
    /// one-shot buffer's `cbWaveData` is not its data's size in whole frames.
    BadWave,
    /// A wave articulation names no buffer, or buffers that are not streaming or one-shot
    /// waves of one kind and one format (a one-shot articulation names exactly one).
    BadWaveArticulation,
    /// The wave data, or the appended guard samples after it, run past the buffer.
    TruncatedWave,
    /// A region's key or velocity range is not within 0..=127 with low <= high.
    BadRegion,
    /// A region links to a wave download id that is not downloaded.
    UnknownWave,
    /// The download id is already in use.
    DuplicateId,
    /// Unload of a download id that is not downloaded.
    NotFound,
    /// Unload of a wave that a downloaded instrument or wave articulation still plays.
    WaveInUse,
    /// Memory for the parsed download (its region and articulation lists, the store's
    /// tables) could not be allocated: not the buffer's fault.
    OutOfMemory,
}

impl From<alloc::collections::TryReserveError> for DownloadError {
    fn from(_: alloc::collections::TryReserveError) -> Self {
        Self::OutOfMemory
    }
}

/// `Vec::with_capacity`, asked fallibly (a driver must not abort when memory runs out).
///
/// # Errors
/// [`DownloadError::OutOfMemory`].
pub fn try_with_capacity<T>(capacity: usize) -> Result<alloc::vec::Vec<T>, DownloadError> {
    let mut items = alloc::vec::Vec::new();
    items.try_reserve_exact(capacity)?;
    Ok(items)
}

/// `Vec::push`, asked fallibly.
///
/// # Errors
/// [`DownloadError::OutOfMemory`] (the vector is unchanged).
pub fn try_push<T>(items: &mut alloc::vec::Vec<T>, item: T) -> Result<(), DownloadError> {
    items.try_reserve(1)?;
    items.push(item);
    Ok(())
}

impl fmt::Display for DownloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "download buffer is truncated",
            Self::BadOffsetTable => "download offset table is invalid",
            Self::BadIndex => "download item refers to a missing offset-table index",
            Self::Cycle => "download item used twice (a chain loops)",
            Self::UnknownType => "download type is not supported",
            Self::BadWave => "wave format is not PCM mono 8/16-bit",
            Self::BadWaveArticulation => "wave articulation buffers are missing or mismatched",
            Self::TruncatedWave => "wave data runs past the buffer",
            Self::BadRegion => "region key or velocity range is invalid",
            Self::UnknownWave => "region links to a wave that is not downloaded",
            Self::DuplicateId => "download id already in use",
            Self::NotFound => "download id not downloaded",
            Self::WaveInUse => "wave is still used by a downloaded instrument or wave articulation",
            Self::OutOfMemory => "no memory for the download",
        })
    }
}
