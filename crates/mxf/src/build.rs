//! Turning MIDI messages into events: one event per message when it fits,
//! else pieces of at most one pool buffer, every piece but the last flagged
//! `DMUS_KEF_EVENT_INCOMPLETE`.

use crate::midi::{Parsed, SysExEnd};
use crate::raw::{BuildError, Chain, EventPool, INLINE_CAPACITY};
use dmus_sys::dmusic::DMUS_KEF;

/// The most bytes one event can carry with `pool`'s buffers.
pub fn piece_capacity<P: EventPool + ?Sized>(pool: &P) -> usize {
    pool.buffer_size()
        .min(usize::from(u16::MAX))
        .max(INLINE_CAPACITY)
}

/// Appends `bytes` (one message, or a part of one) to `chain` as events at
/// `time`. When `ends_message` is false even the last piece is flagged
/// incomplete (more of the message follows later). Returns the events added.
///
/// # Errors
/// [`BuildError`] when the pool runs out; the pieces built before stay in
/// `chain`.
pub fn push_bytes<P: EventPool + ?Sized>(
    chain: &mut Chain,
    pool: &mut P,
    time: i64,
    channel_group: u16,
    bytes: &[u8],
    ends_message: bool,
) -> Result<usize, BuildError> {
    let capacity = piece_capacity(pool);
    let mut added = 0;
    let mut rest = bytes;
    // One iteration per piece: bounded by bytes.len() / capacity + 1.
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at(rest.len().min(capacity));
        let flags = if tail.is_empty() && ends_message {
            DMUS_KEF::EVENT_COMPLETE
        } else {
            DMUS_KEF::EVENT_INCOMPLETE
        };
        chain.push_back(Chain::event(pool, time, channel_group, flags, piece)?);
        added += 1;
        rest = tail;
    }
    Ok(added)
}

/// Appends what the parser recognised to `chain` (see [`push_bytes`]).
///
/// # Errors
/// [`BuildError`] when the pool runs out.
pub fn push_parsed<P: EventPool + ?Sized>(
    chain: &mut Chain,
    pool: &mut P,
    item: Parsed<'_>,
    channel_group: u16,
) -> Result<usize, BuildError> {
    match item {
        Parsed::Message { bytes, time } => {
            push_bytes(chain, pool, time, channel_group, bytes, true)
        }
        Parsed::Realtime { byte, time } => {
            push_bytes(chain, pool, time, channel_group, &[byte], true)
        }
        Parsed::SysEx {
            bytes, time, end, ..
        } => push_bytes(
            chain,
            pool,
            time,
            channel_group,
            bytes,
            end != SysExEnd::Continues,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::{CountingPool, FixedPool};

    #[test]
    fn long_messages_split_into_incomplete_pieces() {
        let mut pool = CountingPool::<_, 64>::new(FixedPool::leaked(16, 8, 10).unwrap());
        let mut chain = Chain::new();
        let sysex: Vec<u8> = core::iter::once(0xF0)
            .chain(1..=20)
            .chain(core::iter::once(0xF7))
            .collect();
        assert_eq!(push_bytes(&mut chain, &mut pool, 5, 2, &sysex, true), Ok(3));
        assert_eq!(
            push_bytes(&mut chain, &mut pool, 6, 2, &[0x90, 1, 2], false),
            Ok(1)
        );
        let flags: Vec<bool> = chain.iter().map(|e| e.is_incomplete()).collect();
        assert_eq!(flags, [true, true, false, true]);
        let joined: Vec<u8> = chain
            .iter()
            .take(3)
            .flat_map(|e| e.data().to_vec())
            .collect();
        assert_eq!(joined, sysex);
        assert_eq!(
            chain.iter().map(|e| e.data().len()).collect::<Vec<_>>(),
            [10, 10, 2, 3]
        );
        chain.free(&mut pool);
        pool.check().unwrap();
    }

    #[test]
    fn exhaustion_keeps_the_pieces_built() {
        let mut pool = CountingPool::<_, 64>::new(FixedPool::leaked(16, 1, 10).unwrap());
        let mut chain = Chain::new();
        assert_eq!(
            push_bytes(&mut chain, &mut pool, 0, 1, &[0x11; 25], true),
            Err(BuildError::NoBuffer)
        );
        assert_eq!(chain.len(), 1);
        chain.free(&mut pool);
        pool.check().unwrap();
    }
}
