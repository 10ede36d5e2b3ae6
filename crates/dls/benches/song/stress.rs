//! A synthetic song that keeps the synth at full polyphony: 64 notes held together on sustaining
//! GM instruments, for the real-time factor "at 64 voices".

/// Sustaining GM programs (strings, organs, pads, choir, brass), one per melodic channel.
const PROGRAMS: [u8; 15] = [48, 49, 50, 19, 16, 17, 52, 53, 89, 90, 91, 94, 61, 62, 21];
/// Ticks per quarter note; at the default 120 bpm, 192 ticks per second.
const DIVISION: u16 = 96;
const TICKS_PER_SECOND: u32 = 192;

/// A format-0 Standard MIDI File: `notes` notes (spread over the 15 melodic channels, each its
/// own program from [`PROGRAMS`]) start together, are held `seconds` seconds, then released,
/// with one second for the releases.
#[must_use]
pub fn held_notes_smf(notes: usize, seconds: u32) -> Vec<u8> {
    let channels: Vec<u8> = (0u8..16).filter(|&c| c != 9).collect();
    let mut track = Vec::new();
    for (&channel, &program) in channels.iter().zip(&PROGRAMS) {
        track.extend([0, 0xc0 | channel, program]);
    }
    let keys: Vec<(u8, u8)> = (0..notes)
        .map(|n| {
            let channel = channels[n % channels.len()];
            let key = 48 + u8::try_from((n / channels.len()) * 7 % 36).unwrap_or(0);
            (channel, key)
        })
        .collect();
    for &(channel, key) in &keys {
        track.extend([0, 0x90 | channel, key, 100]);
    }
    let mut delta = seconds * TICKS_PER_SECOND;
    for &(channel, key) in &keys {
        push_varlen(&mut track, delta);
        track.extend([0x80 | channel, key, 64]);
        delta = 0;
    }
    push_varlen(&mut track, TICKS_PER_SECOND);
    track.extend([0xff, 0x2f, 0]);

    let mut smf = b"MThd".to_vec();
    smf.extend(6u32.to_be_bytes());
    smf.extend(0u16.to_be_bytes());
    smf.extend(1u16.to_be_bytes());
    smf.extend(DIVISION.to_be_bytes());
    smf.extend(b"MTrk");
    smf.extend(u32::try_from(track.len()).unwrap_or(u32::MAX).to_be_bytes());
    smf.extend(track);
    smf
}

/// A MIDI variable-length quantity.
fn push_varlen(out: &mut Vec<u8>, value: u32) {
    let mut groups = vec![u8::try_from(value & 0x7f).unwrap_or(0)];
    let mut rest = value >> 7;
    while rest > 0 {
        groups.push(u8::try_from(rest & 0x7f).unwrap_or(0) | 0x80);
        rest >>= 7;
    }
    out.extend(groups.iter().rev());
}
