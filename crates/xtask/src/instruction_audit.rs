//! The kernel's floating-point rules, checked on the shipped code: by the package
//! step on every image it builds (so in `cargo xtask test`), and by
//! `cargo xtask instruction-audit` on the packaged images or any other build.
//!
//! Microsoft's rules ("Using Floating Point in a WDM Driver", "Using extended
//! processor features in Windows drivers"): kernel code that touches the
//! floating-point or vector registers must bracket that use with
//! `KeSaveExtendedProcessorState` / `KeRestoreExtendedProcessorState`, except
//! where the kernel itself keeps the state safe:
//! - x86: the kernel saves none of it for a driver. No instruction may read or
//!   write x87, MMX, SSE (XMM, MXCSR) or AVX (YMM, ZMM, mask) state.
//! - x64: the ABI makes XMM registers ordinary (the kernel saves the volatile
//!   ones, callees the rest), so SSE is allowed; x87 and MMX are not allowed at
//!   all, and AVX (any VEX, EVEX or XOP instruction on a vector or mask
//!   register, or any YMM/ZMM/mask register) needs the save, which rdmus never
//!   does, so none may appear.
//! - ARM64: nothing to check. The kernel saves and restores the floating-point
//!   and NEON registers itself, so a driver may use them freely (the rule above
//!   names only x86 and x64).
//!
//! rdmus uses no floating point and never saves the state, so the audit's
//! answer must be "no such instruction" for x86, and none but SSE for x64.
//!
//! How the instructions are found: every function of the image, as the link's
//! map (`/MAP`, build.rs) lists them (the publics and the static symbols), is
//! decoded from its first byte by iced-x86 (a complete x86/x64 decoder that
//! gives each instruction's registers, encoding and CPUID features). LLVM puts
//! an x86 function's jump tables into `.text` after its last instruction (the
//! i686 Windows target is position-independent: each 32-bit entry is relative
//! to a base the function makes with `call next; pop reg`; x64 keeps its
//! tables in `.rdata`), so decoding stops at the first address an instruction
//! of the function reads as memory ahead of itself; what follows, to the next
//! function, must be table entries that land on instructions decoded in that
//! function (relative to such a base or to the table, or absolute), then
//! `int3` padding.
//! Anything else (an undecodable byte, an instruction running into the next
//! function or into data, data that is not a jump table) fails the audit: the
//! audit never guesses what is code.

use std::collections::BTreeSet;
use std::fmt;

use iced_x86::{
    CpuidFeature, Decoder, DecoderOptions, EncodingKind, FastFormatter, Instruction,
    InstructionInfoFactory, Mnemonic, OpKind, Register,
};
use object::LittleEndian as LE;
use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile, PeFile32, PeFile64};

use crate::cmd::{TaskError, TaskResult};
use crate::image::Machine;

/// The padding lld-link puts between functions in a code section (`int3`).
const CODE_PADDING: u8 = 0xcc;

/// The processor state an instruction reads or writes, beyond the integer registers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "four independent register files an instruction may touch together"
)]
pub struct StateUse {
    /// The x87 floating-point unit: its stack `ST(i)`, control, status or environment.
    pub x87: bool,
    /// The MMX registers (`MM0`..`MM7`, aliased on the x87 stack), 3DNow! included.
    pub mmx: bool,
    /// The SSE registers (`XMM0`..) or `MXCSR`, legacy-encoded.
    pub sse: bool,
    /// AVX state: VEX/EVEX/XOP on vector or mask registers, `YMM`, `ZMM`, `k` or AMX tiles.
    pub avx: bool,
}

impl StateUse {
    /// Whether the instruction touches none of the states.
    #[must_use]
    pub fn is_none(self) -> bool {
        self == Self::default()
    }

    /// What of this use `machine`'s kernel rules forbid (see the module documentation).
    #[must_use]
    pub fn forbidden_on(self, machine: Machine) -> Self {
        match machine {
            Machine::X86 => self,
            Machine::Amd64 => Self { sse: false, ..self },
            Machine::Arm64 => Self::default(),
        }
    }
}

impl fmt::Display for StateUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (self.x87, "x87"),
            (self.mmx, "MMX"),
            (self.sse, "SSE"),
            (self.avx, "AVX"),
        ]
        .into_iter()
        .filter_map(|(used, name)| used.then_some(name))
        .collect();
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join("+"))
        }
    }
}

/// The extended state `instruction` uses (its `info` from iced-x86's [`InstructionInfoFactory`]).
#[must_use]
pub fn state_use(instruction: &Instruction, factory: &mut InstructionInfoFactory) -> StateUse {
    let mut used = StateUse::default();
    let mut vector_or_mask = false;
    for register in factory
        .info(instruction)
        .used_registers()
        .iter()
        .map(iced_x86::UsedRegister::register)
    {
        used.x87 |= register.is_st();
        used.mmx |= register.is_mm();
        used.sse |= register.is_xmm();
        used.avx |= register.is_ymm() || register.is_zmm() || register.is_k() || register.is_tmm();
        vector_or_mask |= register.is_vector_register() || register.is_k();
    }
    for feature in instruction.cpuid_features() {
        match feature {
            // Every x87 instruction, also those naming no ST(i): fninit, fldcw, fnstsw, fwait.
            CpuidFeature::FPU
            | CpuidFeature::FPU287
            | CpuidFeature::FPU287XL_ONLY
            | CpuidFeature::FPU387
            | CpuidFeature::FPU387SL_ONLY
            | CpuidFeature::CYRIX_FPU => used.x87 = true,
            // emms and femms name no register but reset the MMX/x87 tag word.
            CpuidFeature::MMX | CpuidFeature::D3NOW | CpuidFeature::CYRIX_D3NOW => {
                used.mmx = true;
            }
            // fxsave/fxrstor and the xsave family move the whole state.
            CpuidFeature::FXSR => {
                used.x87 = true;
                used.mmx = true;
                used.sse = true;
            }
            CpuidFeature::XSAVE
            | CpuidFeature::XSAVEOPT
            | CpuidFeature::XSAVEC
            | CpuidFeature::XSAVES => {
                used.x87 = true;
                used.mmx = true;
                used.sse = true;
                used.avx = true;
            }
            _ => {}
        }
    }
    match instruction.mnemonic() {
        // fwait checks the x87 status word for pending exceptions (its CPUID
        // feature is the 8086's, as the instruction predates the 8087).
        Mnemonic::Wait => used.x87 = true,
        // MXCSR, SSE's control register, which iced-x86 has no register for.
        Mnemonic::Ldmxcsr | Mnemonic::Stmxcsr => used.sse = true,
        Mnemonic::Vldmxcsr | Mnemonic::Vstmxcsr => used.avx = true,
        _ => {}
    }
    let encoding = instruction.encoding();
    if matches!(
        encoding,
        EncodingKind::VEX | EncodingKind::EVEX | EncodingKind::XOP | EncodingKind::MVEX
    ) && vector_or_mask
    {
        // A VEX-encoded XMM instruction also zeroes the upper half of its YMM
        // register: AVX state. (VEX on general registers only, BMI's andn or
        // shlx, touches no extended state.)
        used.avx = true;
        used.sse = false;
    }
    if encoding == EncodingKind::D3NOW {
        used.mmx = true;
    }
    used
}

/// One function of the image, as the link map names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Its first byte's RVA.
    pub rva: u32,
    /// Its symbol, demangled where it is a Rust one.
    pub name: String,
}

/// The functions a link map (lld-link's `/MAP`: "Publics by Value" and "Static symbols")
/// places inside the `code` ranges (`[start, end)` RVAs), sorted by RVA; at an address with
/// several symbols (folded by `/OPT:ICF`, or a stdcall alias) the first listed is kept.
/// `image_base` turns the map's `Rva+Base` column into RVAs; `machine` says whether the
/// symbols carry x86's C decoration.
#[must_use]
pub fn map_functions(
    map: &str,
    image_base: u64,
    code: &[(u32, u32)],
    machine: Machine,
) -> Vec<Function> {
    let mut functions: Vec<Function> = Vec::new();
    for line in map.lines() {
        let mut fields = line.split_whitespace();
        let (Some(address), Some(symbol), Some(va)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        // `0001:00000350`: section:offset; anything else is a header or a section line.
        let is_address = address.len() == 13
            && address.as_bytes()[4] == b':'
            && address
                .bytes()
                .enumerate()
                .all(|(index, byte)| index == 4 || byte.is_ascii_hexdigit());
        if !is_address || va.len() != 16 {
            continue;
        }
        let Some(rva) = u64::from_str_radix(va, 16)
            .ok()
            .and_then(|va| va.checked_sub(image_base))
            .and_then(|rva| u32::try_from(rva).ok())
        else {
            continue;
        };
        if code.iter().any(|&(start, end)| (start..end).contains(&rva)) {
            functions.push(Function {
                rva,
                name: demangle(symbol, machine),
            });
        }
    }
    functions.sort_by_key(|function| function.rva);
    functions.dedup_by_key(|function| function.rva);
    functions
}

/// The link's timestamp a map records (` Timestamp is 6b16185a (...)`), which lld-link
/// also writes into the image's file header: a map of another link gives other functions.
#[must_use]
pub fn map_timestamp(map: &str) -> Option<u32> {
    map.lines().find_map(|line| {
        let hex = line.trim_start().strip_prefix("Timestamp is ")?;
        u32::from_str_radix(hex.split_whitespace().next()?, 16).ok()
    })
}

/// A symbol of the map as a reader knows it: x86's C decoration (`_`, `@`, `@N`) off, a
/// Rust symbol demangled without its hash.
#[must_use]
pub fn demangle(symbol: &str, machine: Machine) -> String {
    let plain = if machine == Machine::X86 {
        crate::import_audit::conventions::undecorate(symbol)
    } else {
        symbol
    };
    rustc_demangle::try_demangle(plain)
        .map_or_else(|_| plain.to_owned(), |rust| format!("{rust:#}"))
}

/// One instruction that uses state its machine forbids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Its RVA.
    pub rva: u32,
    /// The function it is in (`None`: before the first function the map names).
    pub function: Option<String>,
    /// Its offset from the start of that function.
    pub offset: u32,
    /// The instruction, as iced-x86's fast formatter writes it.
    pub text: String,
    /// The forbidden state it uses.
    pub state: StateUse,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RVA {:#x} {}+{:#x}: {} ({})",
            self.rva,
            self.function.as_deref().unwrap_or("(no function)"),
            self.offset,
            self.text,
            self.state
        )
    }
}

/// Why the audit could not tell code from data: it refuses to guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Bytes that decode as no instruction, or as one cut off by the function's end.
    Undecodable {
        /// Where.
        rva: u32,
        /// In which function.
        function: String,
    },
    /// An instruction that runs into the data (a jump table) an earlier one reads.
    Overlap {
        /// The instruction's RVA.
        rva: u32,
        /// In which function.
        function: String,
        /// Where the function's code ends (the table starts).
        end: u32,
    },
    /// Bytes after a function's code that are neither jump-table entries nor padding.
    UnexplainedData {
        /// Where.
        rva: u32,
        /// In which function.
        function: String,
    },
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undecodable { rva, function } => {
                write!(f, "{function}: undecodable bytes at RVA {rva:#x}")
            }
            Self::Overlap { rva, function, end } => write!(
                f,
                "{function}: the instruction at RVA {rva:#x} runs past {end:#x}, \
                 the end of the function's code"
            ),
            Self::UnexplainedData { rva, function } => write!(
                f,
                "{function}: bytes at RVA {rva:#x}, after its code, are neither jump-table \
                 entries nor padding"
            ),
        }
    }
}

/// What the audit of one image's code found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeAudit {
    /// Functions decoded.
    pub functions: usize,
    /// Instructions decoded.
    pub instructions: usize,
    /// Bytes of jump tables (data in the code section) skipped.
    pub table_bytes: usize,
    /// Bytes of padding skipped.
    pub padding_bytes: usize,
    /// Every instruction that breaks the machine's rules.
    pub findings: Vec<Finding>,
    /// Every instruction's state use, forbidden or not (how much SSE an x64 image has).
    pub used: Vec<(StateUse, usize)>,
}

impl CodeAudit {
    /// Whether no instruction breaks the rules.
    #[must_use]
    pub fn passes(&self) -> bool {
        self.findings.is_empty()
    }

    /// Instructions whose state use `pick` selects, allowed or not.
    #[must_use]
    pub fn count_using(&self, pick: fn(StateUse) -> bool) -> usize {
        self.used
            .iter()
            .filter(|(state, _)| pick(*state))
            .map(|(_, count)| count)
            .sum()
    }
}

/// One contiguous run of code: the bytes of an executable section from `rva`.
#[derive(Debug, Clone, Copy)]
pub struct CodeSection<'a> {
    /// The section's RVA.
    pub rva: u32,
    /// Its bytes (as much of its virtual size as the file holds).
    pub bytes: &'a [u8],
}

/// Audits the code of `sections` (of an image whose preferred base is `image_base`) for
/// `machine`, function by function as `functions` (sorted by RVA) start them.
///
/// # Errors
/// Bytes the audit cannot tell to be code or data ([`Unreadable`]).
pub fn audit_code(
    machine: Machine,
    image_base: u64,
    sections: &[CodeSection<'_>],
    functions: &[Function],
) -> Result<CodeAudit, Unreadable> {
    let mut audit = CodeAudit::default();
    if machine == Machine::Arm64 {
        return Ok(audit);
    }
    let bitness = if machine == Machine::X86 { 32 } else { 64 };
    let mut factory = InstructionInfoFactory::new();
    let mut formatter = FastFormatter::new();
    for section in sections {
        let section_end = section
            .rva
            .saturating_add(u32::try_from(section.bytes.len()).unwrap_or(u32::MAX));
        // The regions: from the section start (if no function starts there) and from
        // each function in the section, each to the next start.
        let mut starts: Vec<(u32, Option<&str>)> = functions
            .iter()
            .filter(|function| (section.rva..section_end).contains(&function.rva))
            .map(|function| (function.rva, Some(function.name.as_str())))
            .collect();
        if starts.first().is_none_or(|&(rva, _)| rva != section.rva) {
            starts.insert(0, (section.rva, None));
        }
        for (index, &(start, name)) in starts.iter().enumerate() {
            let end = starts.get(index + 1).map_or(section_end, |&(rva, _)| rva);
            let region = Region {
                section_rva: section.rva,
                bytes: section.bytes,
                start,
                end,
                name,
            };
            region.audit(
                machine,
                bitness,
                image_base,
                &mut factory,
                &mut formatter,
                &mut audit,
            )?;
            if name.is_some() {
                audit.functions += 1;
            }
        }
    }
    Ok(audit)
}

/// One function's bytes `[start, end)` in its section.
struct Region<'a> {
    section_rva: u32,
    bytes: &'a [u8],
    start: u32,
    end: u32,
    name: Option<&'a str>,
}

impl Region<'_> {
    fn label(&self) -> String {
        self.name.map_or_else(
            || {
                format!(
                    "(code at {:#x}, before any function of the map)",
                    self.start
                )
            },
            str::to_owned,
        )
    }

    fn slice(&self, from: u32, to: u32) -> &[u8] {
        let offset = |rva: u32| usize::try_from(rva - self.section_rva).unwrap_or(usize::MAX);
        self.bytes.get(offset(from)..offset(to)).unwrap_or_default()
    }

    fn audit(
        &self,
        machine: Machine,
        bitness: u32,
        image_base: u64,
        factory: &mut InstructionInfoFactory,
        formatter: &mut FastFormatter,
        audit: &mut CodeAudit,
    ) -> Result<(), Unreadable> {
        let code = self.slice(self.start, self.end);
        let mut decoder = Decoder::with_ip(
            bitness,
            code,
            image_base + u64::from(self.start),
            DecoderOptions::NONE,
        );
        let to_rva = |va: u64| {
            va.checked_sub(image_base)
                .and_then(|rva| u32::try_from(rva).ok())
        };
        // Instruction starts (for the jump tables' entries) and the data read ahead.
        let mut boundaries = BTreeSet::new();
        let mut tables = BTreeSet::new();
        // The return addresses of `call next`: the bases of position-independent tables.
        let mut bases = BTreeSet::new();
        let mut instruction = Instruction::default();
        let mut rva = self.start;
        while rva < self.end {
            if tables.first().is_some_and(|&table| rva >= table) {
                break;
            }
            decoder.decode_out(&mut instruction);
            if instruction.is_invalid() {
                return Err(Unreadable::Undecodable {
                    rva,
                    function: self.label(),
                });
            }
            let next = to_rva(instruction.next_ip()).unwrap_or(u32::MAX);
            boundaries.insert(rva);
            audit.instructions += 1;
            let state = state_use(&instruction, factory);
            if !state.is_none() {
                match audit.used.iter_mut().find(|(used, _)| *used == state) {
                    Some((_, count)) => *count += 1,
                    None => audit.used.push((state, 1)),
                }
            }
            let forbidden = state.forbidden_on(machine);
            if !forbidden.is_none() {
                let mut text = String::new();
                formatter.format(&instruction, &mut text);
                audit.findings.push(Finding {
                    rva,
                    function: self.name.map(str::to_owned),
                    offset: rva - self.start,
                    text,
                    state: forbidden,
                });
            }
            if instruction.mnemonic() == Mnemonic::Call
                && instruction.op0_kind() != OpKind::Memory
                && instruction.op0_kind() != OpKind::Register
                && instruction.near_branch_target() == instruction.next_ip()
            {
                bases.insert(next);
            }
            if let Some(table) = data_read_ahead(&instruction, bitness)
                .and_then(to_rva)
                .filter(|&table| table >= next && table < self.end)
            {
                tables.insert(table);
            }
            rva = next;
        }
        let code_end = tables.first().copied().unwrap_or(self.end);
        if rva > code_end {
            return Err(Unreadable::Overlap {
                rva: boundaries.last().copied().unwrap_or(self.start),
                function: self.label(),
                end: code_end,
            });
        }
        if tables.is_empty() {
            return Ok(());
        }
        self.check_tables(&tables, &bases, &boundaries, image_base, audit)
    }

    /// `[first table, end)` must be jump-table entries (4 bytes each, absolute, or relative
    /// to their table or to one of the function's `call next` `bases`, landing on an
    /// instruction of this function), then padding.
    fn check_tables(
        &self,
        tables: &BTreeSet<u32>,
        bases: &BTreeSet<u32>,
        boundaries: &BTreeSet<u32>,
        image_base: u64,
        audit: &mut CodeAudit,
    ) -> Result<(), Unreadable> {
        let Some(&first) = tables.first() else {
            return Ok(());
        };
        let lands = |target: Option<u32>| target.is_some_and(|target| boundaries.contains(&target));
        let mut at = first;
        while at.saturating_add(4) <= self.end {
            let Ok(word) = <[u8; 4]>::try_from(self.slice(at, at + 4)) else {
                break;
            };
            let entry = u32::from_le_bytes(word);
            let table = tables.range(..=at).next_back().copied().unwrap_or(first);
            let absolute = u64::from(entry)
                .checked_sub(image_base)
                .and_then(|rva| u32::try_from(rva).ok());
            let offset = i32::from_le_bytes(word);
            let relative = std::iter::once(table)
                .chain(bases.iter().copied())
                .any(|base| lands(base.checked_add_signed(offset)));
            if !(lands(absolute) || relative) {
                break;
            }
            audit.table_bytes += 4;
            at += 4;
        }
        let rest = self.slice(at, self.end);
        match rest.iter().position(|&byte| byte != CODE_PADDING) {
            None => {
                audit.padding_bytes += rest.len();
                Ok(())
            }
            Some(index) => Err(Unreadable::UnexplainedData {
                rva: at + u32::try_from(index).unwrap_or(0),
                function: self.label(),
            }),
        }
    }
}

/// The address an instruction reads data at, when the instruction itself fixes it: a
/// RIP-relative operand (x64: `lea rcx, [rip+table]`), or on x86 an absolute
/// displacement with no base register (`mov ecx, [table+ecx*4]`).
fn data_read_ahead(instruction: &Instruction, bitness: u32) -> Option<u64> {
    let has_memory =
        (0..instruction.op_count()).any(|operand| instruction.op_kind(operand) == OpKind::Memory);
    if !has_memory {
        return None;
    }
    if instruction.is_ip_rel_memory_operand() {
        return Some(instruction.ip_rel_memory_address());
    }
    (bitness == 32 && instruction.memory_base() == Register::None)
        .then(|| instruction.memory_displacement64())
}

/// The result of auditing one image file.
#[derive(Debug, Clone)]
pub struct ImageAudit {
    /// The machine.
    pub machine: Machine,
    /// The code audit (empty for ARM64).
    pub code: CodeAudit,
}

impl fmt::Display for ImageAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.machine == Machine::Arm64 {
            return writeln!(
                f,
                "ARM64: not audited: the kernel saves the floating-point and NEON registers itself"
            );
        }
        let code = &self.code;
        writeln!(
            f,
            "{}: {} functions, {} instructions decoded ({} bytes of jump tables, {} of padding); \
             x87 {}, MMX {}, SSE {}, AVX {} instructions; {} forbidden",
            self.machine,
            code.functions,
            code.instructions,
            code.table_bytes,
            code.padding_bytes,
            code.count_using(|state| state.x87),
            code.count_using(|state| state.mmx),
            code.count_using(|state| state.sse),
            code.count_using(|state| state.avx),
            code.findings.len()
        )?;
        let mut by_function: Vec<(&str, usize)> = Vec::new();
        for finding in &code.findings {
            let name = finding.function.as_deref().unwrap_or("(no function)");
            match by_function
                .iter_mut()
                .find(|(function, _)| *function == name)
            {
                Some((_, count)) => *count += 1,
                None => by_function.push((name, 1)),
            }
        }
        by_function.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (function, count) in &by_function {
            writeln!(f, "  FORBIDDEN {count:>5} in {function}")?;
        }
        for finding in code.findings.iter().take(20) {
            writeln!(f, "  FORBIDDEN {finding}")?;
        }
        if code.findings.len() > 20 {
            writeln!(f, "  ... and {} more", code.findings.len() - 20)?;
        }
        Ok(())
    }
}

/// Audits a driver image for `machine` with its link `map`.
///
/// # Errors
/// The file is not a PE image of the machine, or its code cannot be told from data.
pub fn audit_image(data: &[u8], machine: Machine, map: &str) -> Result<ImageAudit, String> {
    if machine.is_64_bit() {
        let file = PeFile64::parse(data).map_err(|error| error.to_string())?;
        audit_parsed(&file, machine, map)
    } else {
        let file = PeFile32::parse(data).map_err(|error| error.to_string())?;
        audit_parsed(&file, machine, map)
    }
}

fn audit_parsed<Pe: ImageNtHeaders>(
    file: &PeFile<'_, Pe>,
    machine: Machine,
    map: &str,
) -> Result<ImageAudit, String> {
    let image_base = file.nt_headers().optional_header().image_base();
    let stamp = file.nt_headers().file_header().time_date_stamp.get(LE);
    if let Some(map_stamp) = map_timestamp(map).filter(|&map_stamp| map_stamp != stamp) {
        return Err(format!(
            "the link map is another link's (timestamp {map_stamp:#010x}, the image's {stamp:#010x})"
        ));
    }
    let mut sections = Vec::new();
    for section in file.section_table().iter() {
        let characteristics = section.characteristics.get(LE).0;
        if characteristics & pe::IMAGE_SCN_MEM_EXECUTE.0 == 0 {
            continue;
        }
        let bytes = section
            .pe_data(file.data())
            .map_err(|error| error.to_string())?;
        let virtual_size = usize::try_from(section.virtual_size.get(LE)).unwrap_or(usize::MAX);
        sections.push(CodeSection {
            rva: section.virtual_address.get(LE),
            bytes: &bytes[..bytes.len().min(virtual_size)],
        });
    }
    let ranges: Vec<(u32, u32)> = sections
        .iter()
        .map(|section| {
            let length = u32::try_from(section.bytes.len()).unwrap_or(u32::MAX);
            (section.rva, section.rva.saturating_add(length))
        })
        .collect();
    let functions = map_functions(map, image_base, &ranges, machine);
    if functions.is_empty() && machine != Machine::Arm64 {
        return Err(String::from("the link map names no function in the code"));
    }
    let code = audit_code(machine, image_base, &sections, &functions)
        .map_err(|error| error.to_string())?;
    Ok(ImageAudit { machine, code })
}

/// Audits the packaged images (`cargo xtask package` first) with their link maps.
///
/// # Errors
/// An image or map is missing, code cannot be told from data, or an instruction breaks
/// its machine's rules.
pub fn run() -> TaskResult {
    let mut failed = Vec::new();
    for machine in crate::package::MACHINES.iter().copied() {
        if machine == Machine::Arm64 {
            print!(
                "{}",
                ImageAudit {
                    machine,
                    code: CodeAudit::default(),
                }
            );
            continue;
        }
        let path = crate::package::package_root()
            .join(machine.package_dir())
            .join("rdmus.sys");
        let map_path = crate::package::link_map_path(machine);
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|error| {
                TaskError::new(format!(
                    "could not read {}: {error}; run `cargo xtask package` first",
                    path.display()
                ))
            })
        };
        let data = read(&path)?;
        let map = String::from_utf8_lossy(&read(&map_path)?).into_owned();
        let audit = audit_image(&data, machine, &map)
            .map_err(|error| TaskError::new(format!("{}: {error}", path.display())))?;
        print!("{audit}");
        if !audit.code.passes() {
            failed.push(machine.to_string());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "instructions that break the kernel's floating-point rules in the {} image \
             (the FORBIDDEN lines above)",
            failed.join(" and ")
        )))
    }
}

#[cfg(test)]
#[path = "instruction_audit_tests.rs"]
mod tests;
