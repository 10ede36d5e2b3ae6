//! Decoding the port I/O instructions the emulated MPU-401 answers (x86-64): `in`/`out` with a
//! byte, word or dword operand, the port in `dx` or an 8-bit immediate (Intel SDM vol. 2,
//! IN: `E4 ib`, `E5 ib`, `EC`, `ED`; OUT: `E6 ib`, `E7 ib`, `EE`, `EF`; `66` makes the
//! 32-bit forms 16-bit). Wine does not emulate them (issue 14's trial): the instruction faults
//! and the stand-in's exception handler steps over it after doing its work.

/// Where the port number comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortOperand {
    /// The `dx` register.
    Dx,
    /// An 8-bit immediate.
    Immediate(u8),
}

/// One decoded `in` or `out`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortIo {
    /// `true` for `out` (write to the port), `false` for `in`.
    pub write: bool,
    /// Operand size in bytes: 1 (`al`), 2 (`ax`) or 4 (`eax`).
    pub size: u8,
    /// The port operand.
    pub port: PortOperand,
    /// Instruction length in bytes (what the handler adds to `rip`).
    pub length: u8,
}

impl PortIo {
    /// The port number, given `dx`.
    #[must_use]
    pub fn port_number(&self, dx: u16) -> u16 {
        match self.port {
            PortOperand::Dx => dx,
            PortOperand::Immediate(port) => u16::from(port),
        }
    }
}

/// Decodes the instruction at the start of `code`, if it is an `in` or `out` (with at most
/// one operand-size prefix); `None` for anything else or a truncated instruction.
#[must_use]
pub fn decode(code: &[u8]) -> Option<PortIo> {
    let (prefixed, rest) = match code.split_first()? {
        (0x66, rest) => (true, rest),
        _ => (false, code),
    };
    let prefix_len = u8::from(prefixed);
    let (&opcode, operands) = rest.split_first()?;
    let wide = if prefixed { 2 } else { 4 };
    let (write, size, immediate) = match opcode {
        0xE4 => (false, 1, true),
        0xE5 => (false, wide, true),
        0xE6 => (true, 1, true),
        0xE7 => (true, wide, true),
        0xEC => (false, 1, false),
        0xED => (false, wide, false),
        0xEE => (true, 1, false),
        0xEF => (true, wide, false),
        _ => return None,
    };
    if immediate {
        let &port = operands.first()?;
        Some(PortIo {
            write,
            size,
            port: PortOperand::Immediate(port),
            length: prefix_len + 2,
        })
    } else {
        Some(PortIo {
            write,
            size,
            port: PortOperand::Dx,
            length: prefix_len + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{PortIo, PortOperand, decode};

    #[test]
    fn the_dx_byte_forms_the_driver_uses_decode() {
        // `in al, dx` and `out dx, al` (driver/arch/x86_64.rs), followed by other code.
        assert_eq!(
            decode(&[0xEC, 0x90]),
            Some(PortIo {
                write: false,
                size: 1,
                port: PortOperand::Dx,
                length: 1
            })
        );
        assert_eq!(
            decode(&[0xEE]),
            Some(PortIo {
                write: true,
                size: 1,
                port: PortOperand::Dx,
                length: 1
            })
        );
    }

    #[test]
    fn immediate_and_wide_forms_decode_with_their_lengths() {
        let io = decode(&[0xE6, 0x31]).expect("out imm8, al");
        assert!(io.write);
        assert_eq!((io.size, io.length, io.port_number(0)), (1, 2, 0x31));
        let io = decode(&[0x66, 0xED]).expect("in ax, dx");
        assert_eq!((io.write, io.size, io.length), (false, 2, 2));
        assert_eq!(io.port_number(0x330), 0x330);
        let io = decode(&[0xE5, 0x60]).expect("in eax, imm8");
        assert_eq!((io.size, io.length), (4, 2));
    }

    #[test]
    fn other_and_truncated_instructions_are_refused() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[0x90]), None);
        assert_eq!(decode(&[0x0F, 0x20, 0xC0]), None, "mov rax, cr0");
        assert_eq!(decode(&[0xE4]), None, "immediate missing");
        assert_eq!(decode(&[0x66]), None, "prefix alone");
        assert_eq!(decode(&[0x66, 0x66, 0xEC]), None, "one prefix at most");
    }
}
