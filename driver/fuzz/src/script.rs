//! A client's session as bytes: the fuzzer's input decoded into a machine set-up and a list of
//! operations, and the encoder the seed corpus is written with.
//!
//! The format is a plain byte stream, so that libFuzzer's mutations (flips, inserted and
//! erased bytes, spliced inputs) land on meaningful fields: a set-up of four bytes (devices
//! and FIFO, card fault, the pool allocation to fail, aggregation and a failure rate), then
//! operations, each an opcode byte and its fields. Integers are little-endian; a byte string
//! is a length (one byte, or two for writes and downloads) and its bytes. Input that runs out
//! reads as zeros, so every input decodes; at most [`MAX_OPS`] operations are read.

/// Operations read from one input at most (bounds the time one input takes).
pub const MAX_OPS: usize = 48;

/// The machine and devices an input starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Setup {
    /// Which devices `PnP` adds: bit 0 the MPU-401 card, bit 1 the root-enumerated synth
    /// (none set: both).
    pub devices: u8,
    /// The card's FIFO: 1 byte (the original MPU-401) or 16.
    pub fifo16: bool,
    /// A broken card: 0 none, 1 never ACKs, 2 never drains, 3 absent (other values: none).
    pub card_fault: u8,
    /// Fail this pool allocation (1-based; 0: none).
    pub fail_nth: u8,
    /// Fail each pool allocation with this chance, in units of 0.1 % (0: never), as Driver
    /// Verifier's low-resources simulation does.
    pub fail_permille: u8,
    /// The port passes each pin's own `IUnknown` to `NewStream` as `OuterUnknown` (aggregation).
    pub outer_unknown: bool,
}

/// One thing a client (or `PnP`, or the wire) does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `KsCreatePin` on factory `factory` of filter `filter`, MIDI or `DirectMusic` format.
    OpenPin {
        /// Filter index (modulo the filters registered).
        filter: u8,
        /// Pin factory id (out of range on purpose at times).
        factory: u8,
        /// `DirectMusic` (true) or MIDI (false).
        dmusic: bool,
    },
    /// The port's wave sink on factory `factory` of filter `filter`.
    OpenSink {
        /// Filter index.
        filter: u8,
        /// Pin factory id.
        factory: u8,
        /// Sample rate: an index into [`RATES`].
        rate: u8,
        /// Channels (0 and more than 2 are invalid).
        channels: u8,
        /// Bits per sample: an index into [`BITS`].
        bits: u8,
        /// Frames per render (0 is invalid).
        period: u16,
        /// Clock drift, ppm.
        drift: i16,
        /// Render-ahead, frames.
        latency: u16,
    },
    /// A KS state change of an open pin or sink (one step at a time, as KS walks).
    SetState {
        /// Stream index (modulo the streams open).
        stream: u8,
        /// `KSSTATE` 0..=3 (modulo 4).
        state: u8,
    },
    /// One render IRP: `data` as the pin's format frames it (or not).
    Write {
        /// Stream index.
        stream: u8,
        /// Presentation time, ms after now (negative: late).
        time_ms: i16,
        /// The buffer.
        data: Vec<u8>,
    },
    /// One capture IRP of `len` bytes.
    Read {
        /// Stream index.
        stream: u8,
        /// Buffer length.
        len: u16,
    },
    /// A property request from an application.
    Property {
        /// Filter index.
        filter: u8,
        /// 0 filter, 1 pin factory, 2 open pin, 3 node (modulo 4).
        target: u8,
        /// The factory, stream or node index.
        index: u8,
        /// Property set: an index into the harness's set list.
        set: u8,
        /// Property id.
        id: u8,
        /// 0 GET, 1 SET, 2 BASICSUPPORT, 3 any other flags (`flags`).
        verb: u8,
        /// The instance bytes after the `KSPROPERTY`.
        instance: Vec<u8>,
        /// The value buffer's length.
        value_len: u16,
        /// Its first bytes (the rest is zero).
        value: Vec<u8>,
    },
    /// `KSPROPERTY_SYNTH_DLS_DOWNLOAD` of one buffer of a small real collection, with bytes
    /// changed and the size claimed off by `size_delta`.
    Download {
        /// Filter index.
        filter: u8,
        /// Which buffer of the collection (modulo their count).
        buffer: u8,
        /// Added to the true size in the request (the buffer is mapped at its true size).
        size_delta: i8,
        /// (offset modulo the length, byte `XOR`ed in).
        flips: Vec<(u16, u8)>,
    },
    /// `KSPROPERTY_SYNTH_DLS_DOWNLOAD` of arbitrary bytes.
    DownloadRaw {
        /// Filter index.
        filter: u8,
        /// The buffer.
        data: Vec<u8>,
    },
    /// `KSPROPERTY_SYNTH_DLS_UNLOAD` of a handle a download returned, or of a made-up one.
    Unload {
        /// Filter index.
        filter: u8,
        /// Index of a handle (modulo those held); 0xFF: `bogus` instead.
        handle: u8,
        /// A made-up handle.
        bogus: u32,
    },
    /// Closes a stream (walked down to STOP first, as KS does).
    Close {
        /// Stream index.
        stream: u8,
    },
    /// Virtual time passes.
    Run {
        /// Duration, in units of 100 µs.
        tenths_ms: u16,
    },
    /// MIDI bytes arrive at the card's input, back to back, starting now.
    Input {
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Audio pulled from a wave sink.
    Pull {
        /// Stream index.
        stream: u8,
        /// Frames.
        frames: u16,
    },
    /// Device power: D3 (off) or back to D0.
    Power {
        /// Device index (modulo the devices).
        device: u8,
        /// To D3 (true) or D0.
        off: bool,
    },
}

/// The sample rates [`Op::OpenSink`] picks from (0 and an absurd rate included on purpose).
pub const RATES: [u32; 8] = [48_000, 44_100, 22_050, 96_000, 11_025, 0, 1, 4_000_000];
/// The sample sizes [`Op::OpenSink`] picks from.
pub const BITS: [u16; 4] = [16, 8, 24, 0];

/// Opcodes, in [`Op`]'s order.
const OPCODES: u8 = 15;

/// Reads the input as a stream; past its end every read is zero.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn is_empty(&self) -> bool {
        self.at >= self.data.len()
    }

    fn u8(&mut self) -> u8 {
        let byte = self.data.get(self.at).copied().unwrap_or(0);
        self.at = self.at.saturating_add(1);
        byte
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let start = self.at.min(self.data.len());
        let end = self.at.saturating_add(len).min(self.data.len());
        self.at = self.at.saturating_add(len);
        self.data[start..end].to_vec()
    }

    fn short_bytes(&mut self) -> Vec<u8> {
        let len = usize::from(self.u8());
        self.bytes(len)
    }

    fn long_bytes(&mut self) -> Vec<u8> {
        let len = usize::from(self.u16());
        self.bytes(len)
    }
}

/// Decodes an input: its set-up and at most [`MAX_OPS`] operations.
#[must_use]
pub fn decode(data: &[u8]) -> (Setup, Vec<Op>) {
    let mut r = Reader { data, at: 0 };
    let flags = r.u8();
    let setup = Setup {
        devices: flags & 3,
        fifo16: flags & 4 != 0,
        card_fault: r.u8(),
        fail_nth: r.u8(),
        fail_permille: 0,
        outer_unknown: false,
    };
    let options = r.u8();
    let setup = Setup {
        outer_unknown: options & 1 != 0,
        fail_permille: (options >> 1) % 32,
        ..setup
    };
    let mut ops = Vec::new();
    while !r.is_empty() && ops.len() < MAX_OPS {
        ops.push(decode_op(&mut r));
    }
    (setup, ops)
}

fn decode_op(r: &mut Reader<'_>) -> Op {
    match r.u8() % OPCODES {
        0 => Op::OpenPin {
            filter: r.u8(),
            factory: r.u8(),
            dmusic: r.u8() & 1 != 0,
        },
        1 => Op::OpenSink {
            filter: r.u8(),
            factory: r.u8(),
            rate: r.u8(),
            channels: r.u8(),
            bits: r.u8(),
            period: r.u16(),
            drift: i16::from_le_bytes([r.u8(), r.u8()]),
            latency: r.u16(),
        },
        2 => Op::SetState {
            stream: r.u8(),
            state: r.u8(),
        },
        3 => Op::Write {
            stream: r.u8(),
            time_ms: i16::from_le_bytes([r.u8(), r.u8()]),
            data: r.long_bytes(),
        },
        4 => Op::Read {
            stream: r.u8(),
            len: r.u16(),
        },
        5 => Op::Property {
            filter: r.u8(),
            target: r.u8(),
            index: r.u8(),
            set: r.u8(),
            id: r.u8(),
            verb: r.u8(),
            instance: r.short_bytes(),
            value_len: r.u16(),
            value: r.short_bytes(),
        },
        6 => {
            let filter = r.u8();
            let buffer = r.u8();
            let size_delta = i8::from_le_bytes([r.u8()]);
            let count = r.u8() % 16;
            let flips = (0..count).map(|_| (r.u16(), r.u8())).collect();
            Op::Download {
                filter,
                buffer,
                size_delta,
                flips,
            }
        }
        7 => Op::DownloadRaw {
            filter: r.u8(),
            data: r.long_bytes(),
        },
        8 => Op::Unload {
            filter: r.u8(),
            handle: r.u8(),
            bogus: r.u32(),
        },
        9 => Op::Close { stream: r.u8() },
        10 | 11 => Op::Run { tenths_ms: r.u16() },
        12 => Op::Input {
            bytes: r.short_bytes(),
        },
        13 => Op::Pull {
            stream: r.u8(),
            frames: r.u16(),
        },
        _ => Op::Power {
            device: r.u8(),
            off: r.u8() & 1 != 0,
        },
    }
}

/// Appends a length-prefixed byte string (lengths are cut to the prefix's range).
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8], long: bool) {
    if long {
        let len = bytes.len().min(usize::from(u16::MAX));
        out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes());
        out.extend_from_slice(&bytes[..len]);
    } else {
        let len = bytes.len().min(usize::from(u8::MAX));
        out.push(u8::try_from(len).unwrap_or(u8::MAX));
        out.extend_from_slice(&bytes[..len]);
    }
}

/// Encodes a set-up and operations as [`decode`] reads them (seeds are written with it).
#[must_use]
pub fn encode(setup: &Setup, ops: &[Op]) -> Vec<u8> {
    let mut out = vec![
        (setup.devices & 3) | if setup.fifo16 { 4 } else { 0 },
        setup.card_fault,
        setup.fail_nth,
        u8::from(setup.outer_unknown) | ((setup.fail_permille % 32) << 1),
    ];
    for op in ops {
        encode_op(&mut out, op);
    }
    out
}

fn encode_op(out: &mut Vec<u8>, op: &Op) {
    match op {
        Op::OpenPin {
            filter,
            factory,
            dmusic,
        } => out.extend_from_slice(&[0, *filter, *factory, u8::from(*dmusic)]),
        Op::OpenSink {
            filter,
            factory,
            rate,
            channels,
            bits,
            period,
            drift,
            latency,
        } => {
            out.extend_from_slice(&[1, *filter, *factory, *rate, *channels, *bits]);
            out.extend_from_slice(&period.to_le_bytes());
            out.extend_from_slice(&drift.to_le_bytes());
            out.extend_from_slice(&latency.to_le_bytes());
        }
        Op::SetState { stream, state } => out.extend_from_slice(&[2, *stream, *state]),
        Op::Write {
            stream,
            time_ms,
            data,
        } => {
            out.extend_from_slice(&[3, *stream]);
            out.extend_from_slice(&time_ms.to_le_bytes());
            put_bytes(out, data, true);
        }
        Op::Read { stream, len } => {
            out.extend_from_slice(&[4, *stream]);
            out.extend_from_slice(&len.to_le_bytes());
        }
        Op::Property {
            filter,
            target,
            index,
            set,
            id,
            verb,
            instance,
            value_len,
            value,
        } => {
            out.extend_from_slice(&[5, *filter, *target, *index, *set, *id, *verb]);
            put_bytes(out, instance, false);
            out.extend_from_slice(&value_len.to_le_bytes());
            put_bytes(out, value, false);
        }
        Op::Download {
            filter,
            buffer,
            size_delta,
            flips,
        } => {
            out.extend_from_slice(&[6, *filter, *buffer, size_delta.to_le_bytes()[0]]);
            let count = flips.len().min(15);
            out.push(u8::try_from(count).unwrap_or(15));
            for (offset, xor) in &flips[..count] {
                out.extend_from_slice(&offset.to_le_bytes());
                out.push(*xor);
            }
        }
        Op::DownloadRaw { filter, data } => {
            out.extend_from_slice(&[7, *filter]);
            put_bytes(out, data, true);
        }
        Op::Unload {
            filter,
            handle,
            bogus,
        } => {
            out.extend_from_slice(&[8, *filter, *handle]);
            out.extend_from_slice(&bogus.to_le_bytes());
        }
        Op::Close { stream } => out.extend_from_slice(&[9, *stream]),
        Op::Run { tenths_ms } => {
            out.push(10);
            out.extend_from_slice(&tenths_ms.to_le_bytes());
        }
        Op::Input { bytes } => {
            out.push(12);
            put_bytes(out, bytes, false);
        }
        Op::Pull { stream, frames } => {
            out.extend_from_slice(&[13, *stream]);
            out.extend_from_slice(&frames.to_le_bytes());
        }
        Op::Power { device, off } => out.extend_from_slice(&[14, *device, u8::from(*off)]),
    }
}

#[cfg(test)]
mod tests {
    use super::{Op, Setup, decode, encode};

    #[test]
    fn what_is_encoded_decodes_back() {
        let setup = Setup {
            devices: 3,
            fifo16: true,
            card_fault: 2,
            fail_nth: 7,
            fail_permille: 12,
            outer_unknown: true,
        };
        let ops = vec![
            Op::OpenPin {
                filter: 1,
                factory: 4,
                dmusic: true,
            },
            Op::OpenSink {
                filter: 1,
                factory: 2,
                rate: 0,
                channels: 2,
                bits: 0,
                period: 480,
                drift: -30,
                latency: 96,
            },
            Op::SetState {
                stream: 0,
                state: 3,
            },
            Op::Write {
                stream: 0,
                time_ms: -5,
                data: vec![1, 2, 3],
            },
            Op::Read {
                stream: 1,
                len: 300,
            },
            Op::Property {
                filter: 0,
                target: 2,
                index: 1,
                set: 3,
                id: 4,
                verb: 0,
                instance: vec![9; 8],
                value_len: 12,
                value: vec![5],
            },
            Op::Download {
                filter: 1,
                buffer: 2,
                size_delta: -3,
                flips: vec![(17, 0x80)],
            },
            Op::DownloadRaw {
                filter: 1,
                data: vec![0; 40],
            },
            Op::Unload {
                filter: 1,
                handle: 0xFF,
                bogus: 0xDEAD,
            },
            Op::Close { stream: 0 },
            Op::Run { tenths_ms: 250 },
            Op::Input {
                bytes: vec![0x90, 60, 100],
            },
            Op::Pull {
                stream: 0,
                frames: 480,
            },
            Op::Power {
                device: 0,
                off: true,
            },
        ];
        assert_eq!(decode(&encode(&setup, &ops)), (setup, ops));
    }

    #[test]
    fn every_input_decodes_and_a_short_one_reads_zeros() {
        let (setup, ops) = decode(&[0x07, 1]);
        assert_eq!(
            setup,
            Setup {
                devices: 3,
                fifo16: true,
                card_fault: 1,
                fail_nth: 0,
                fail_permille: 0,
                outer_unknown: false,
            }
        );
        assert!(ops.is_empty());
        let (_, ops) = decode(&[0, 0, 0, 0, 3]);
        assert_eq!(
            ops,
            [Op::Write {
                stream: 0,
                time_ms: 0,
                data: Vec::new(),
            }]
        );
    }
}
