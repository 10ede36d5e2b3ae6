//! The one list of ABI items the ABI test compares (`crates/abi-probe/abi.list`), and the
//! two tables generated from it: the C file mingw-w64's gcc compiles and the Rust source
//! abi-probe's build script writes. Both come from the same parsed lines, so the C and
//! Rust sides cannot drift apart.
//!
//! This file is also compiled into abi-probe's build script (`#[path]`), so it uses std only.
//!
//! Format, one item per line (`#` starts a comment):
//!
//! ```text
//! size      KSMUSICFORMAT               dmusic::KSMUSICFORMAT
//! align     KSMUSICFORMAT               dmusic::KSMUSICFORMAT
//! offset    KSMUSICFORMAT.ByteCount     dmusic::KSMUSICFORMAT.ByteCount
//! fieldsize CM_PARTIAL_RESOURCE_DESCRIPTOR.u.Port  kernel::CM_PARTIAL_RESOURCE_RANGE
//! slot      IMXFVtbl.PutMessage         dmus_com::IMXFVtbl.base.PutMessage
//! const     KSSTATE_RUN                 ks::KSSTATE_RUN
//! guid      IID_IMXF                    dmus_com::IID_IMXF
//! ```
//!
//! A kind may carry a target, `offset@x86_64` or `offset@i686`, for a member that exists on
//! that target only (`#ifdef _WIN64` in the header, `#[cfg]` in dmus-sys); on the other
//! target both tables hold 0 there and the item is not compared.
//!
//! The second column is what the C side names (a type, `Type.member.path`, a macro or a
//! GUID), the third the dmus-sys path (relative to `dmus_sys::`) with the Rust field path.

use std::fmt;

/// What an item measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `sizeof(T)` / `size_of::<T>()`.
    Size,
    /// `__alignof__(T)` / `align_of::<T>()`.
    Align,
    /// `offsetof(T, a.b)` / `offset_of!(T, a.b)`.
    Offset,
    /// The size of a member that dmus-sys names as its own type (C's anonymous members).
    FieldSize,
    /// The offset of a method pointer in a COM vtable struct.
    Slot,
    /// An integer constant, widened to 64 bits (sign-extended when signed).
    Const,
    /// A GUID's 16 bytes.
    Guid,
}

impl Kind {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "size" => Self::Size,
            "align" => Self::Align,
            "offset" => Self::Offset,
            "fieldsize" => Self::FieldSize,
            "slot" => Self::Slot,
            "const" => Self::Const,
            "guid" => Self::Guid,
            _ => return None,
        })
    }

    /// The word the list spells this kind with.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Self::Size => "size",
            Self::Align => "align",
            Self::Offset => "offset",
            Self::FieldSize => "fieldsize",
            Self::Slot => "slot",
            Self::Const => "const",
            Self::Guid => "guid",
        }
    }
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What is measured.
    pub kind: Kind,
    /// The C operand (type, `Type.member`, macro or GUID name).
    pub c: String,
    /// The Rust operand, relative to `dmus_sys::`.
    pub rust: String,
    /// The line number in the list, for messages.
    pub line: usize,
    /// The one target the item exists on (`x86_64`, `i686`), or `None` for both.
    pub only: Option<Target>,
}

/// A target an item can be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// 64-bit x86 (`_WIN64`, `target_arch = "x86_64"`).
    X86_64,
    /// 32-bit x86 (`_X86_`, `target_arch = "x86"`).
    I686,
}

impl Target {
    /// The name in the list and in reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::I686 => "i686",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [Self::X86_64, Self::I686]
            .into_iter()
            .find(|target| target.name() == name)
    }

    fn c_condition(self) -> &'static str {
        match self {
            Self::X86_64 => "defined(_WIN64)",
            Self::I686 => "!defined(_WIN64)",
        }
    }

    fn rust_arch(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::I686 => "x86",
        }
    }
}

impl Item {
    /// The item's name in reports: `offset KSMUSICFORMAT.ByteCount`.
    #[must_use]
    pub fn name(&self) -> String {
        format!("{} {}", self.kind.word(), self.c)
    }

    /// Whether the item is compared on the target named `target`.
    #[must_use]
    pub fn applies_to(&self, target: &str) -> bool {
        self.only.is_none_or(|only| only.name() == target)
    }

    /// The C expression of a value item (`None` for a GUID, which is read by symbol); 0 on
    /// a target the item does not exist on.
    #[must_use]
    pub fn c_expression(&self) -> Option<String> {
        let expression = self.c_value()?;
        Some(match self.only {
            None => expression,
            Some(only) => format!(
                "\n#if {}\n    {expression}\n#else\n    0\n#endif\n   ",
                only.c_condition()
            ),
        })
    }

    /// The Rust expression of a value item (`None` for a GUID); 0 on a target the item
    /// does not exist on.
    #[must_use]
    pub fn rust_expression(&self) -> Option<String> {
        let expression = self.rust_value()?;
        Some(match self.only {
            None => expression,
            Some(only) => {
                let arch = only.rust_arch();
                format!(
                    "{{\n        #[cfg(target_arch = \"{arch}\")]\n        let value = {expression};\n        \
                     #[cfg(not(target_arch = \"{arch}\"))]\n        let value = 0;\n        value\n    }}"
                )
            }
        })
    }

    fn c_value(&self) -> Option<String> {
        let (ty, member) = split_member(&self.c);
        Some(match self.kind {
            Kind::Size => format!("sizeof({})", self.c),
            Kind::Align => format!("__alignof__({})", self.c),
            Kind::Offset | Kind::Slot => format!("offsetof({ty}, {member})"),
            Kind::FieldSize => format!("sizeof((({ty} *)0)->{member})"),
            Kind::Const => format!("(unsigned long long)({})", self.c),
            Kind::Guid => return None,
        })
    }

    fn rust_value(&self) -> Option<String> {
        let (ty, member) = split_member(&self.rust);
        Some(match self.kind {
            Kind::Size | Kind::FieldSize => {
                format!("::core::mem::size_of::<::dmus_sys::{}>() as u64", self.rust)
            }
            Kind::Align => format!(
                "::core::mem::align_of::<::dmus_sys::{}>() as u64",
                self.rust
            ),
            Kind::Offset | Kind::Slot => {
                format!("::core::mem::offset_of!(::dmus_sys::{ty}, {member}) as u64")
            }
            Kind::Const => format!("::dmus_sys::{} as u64", self.rust),
            Kind::Guid => return None,
        })
    }
}

/// `Type.a.b` → (`Type`, `a.b`); a bare name → (name, "").
fn split_member(operand: &str) -> (&str, &str) {
    operand.split_once('.').unwrap_or((operand, ""))
}

/// A line the parser could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "abi.list line {}: {}", self.line, self.reason)
    }
}

/// Parses the list.
///
/// # Errors
/// The first malformed line.
pub fn parse(text: &str) -> Result<Vec<Item>, ListError> {
    let mut items = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let words: Vec<&str> = content.split_whitespace().collect();
        let [kind, c, rust] = words[..] else {
            return Err(ListError {
                line,
                reason: format!("expected `kind C-operand Rust-operand`, found {content:?}"),
            });
        };
        let (kind, only) = match kind.split_once('@') {
            Some((kind, target)) => (
                kind,
                Some(Target::parse(target).ok_or_else(|| ListError {
                    line,
                    reason: format!("unknown target {target:?} (x86_64 or i686)"),
                })?),
            ),
            None => (kind, None),
        };
        let kind = Kind::parse(kind).ok_or_else(|| ListError {
            line,
            reason: format!("unknown kind {kind:?}"),
        })?;
        if only.is_some() && kind == Kind::Guid {
            return Err(ListError {
                line,
                reason: String::from("a GUID is the same on every target"),
            });
        }
        let needs_member = matches!(kind, Kind::Offset | Kind::Slot | Kind::FieldSize);
        if needs_member && (!c.contains('.') || (kind != Kind::FieldSize && !rust.contains('.'))) {
            return Err(ListError {
                line,
                reason: format!("{} needs `Type.member` operands", kind.word()),
            });
        }
        items.push(Item {
            kind,
            c: c.to_owned(),
            rust: rust.to_owned(),
            line,
            only,
        });
    }
    Ok(items)
}

/// The symbol both tables of values are exported under.
pub const VALUES_SYMBOL: &str = "rdmus_abi_values";
/// The symbol of abi-probe's GUID table (the C side defines each GUID under its own name).
pub const GUIDS_SYMBOL: &str = "rdmus_abi_guids";

/// The value items (every kind but GUIDs), in list order: the order of both tables.
pub fn values(items: &[Item]) -> impl Iterator<Item = &Item> {
    items.iter().filter(|item| item.kind != Kind::Guid)
}

/// The GUID items, in list order.
pub fn guids(items: &[Item]) -> impl Iterator<Item = &Item> {
    items.iter().filter(|item| item.kind == Kind::Guid)
}

/// The C symbol a GUID item's bytes are defined under when its header gives a `STATIC_`
/// initializer (ks.h's `DEFINE_GUIDSTRUCT` GUIDs are otherwise only declared).
#[must_use]
pub fn c_guid_symbol(item: &Item) -> String {
    format!("rdmus_abi_guid_{}", item.line)
}

/// The C translation unit: `prelude` (the includes), then the table of values. A GUID is
/// compiled from its header's `STATIC_` initializer when there is one, else it is the
/// header's own `DEFINE_GUID` definition (compiled with `INITGUID`), referenced here so
/// that a name the headers lack fails the compile.
#[must_use]
pub fn c_source(items: &[Item], prelude: &str) -> String {
    let mut parts = vec![
        prelude.to_owned(),
        format!("\nconst unsigned long long {VALUES_SYMBOL}[] = {{\n"),
    ];
    parts.extend(values(items).filter_map(|item| {
        let expression = item.c_expression()?;
        Some(format!("    {expression}, /* abi.list:{} */\n", item.line))
    }));
    parts.push(String::from("};\n"));
    parts.extend(guids(items).map(|item| {
        let symbol = c_guid_symbol(item);
        let name = &item.c;
        format!(
            "#ifdef STATIC_{name}\nconst GUID {symbol} = {{ STATIC_{name} }};\n\
             #else\nconst void *const {symbol}_ref = &{name};\n#endif\n"
        )
    }));
    parts.concat()
}

/// The Rust items abi-probe compiles: the same table of values, and the GUIDs in list order.
#[must_use]
pub fn rust_source(items: &[Item]) -> String {
    let value_count = values(items).count();
    let guid_count = guids(items).count();
    let mut parts = vec![format!(
        "/// The list's values as dmus-sys computes them for this target, in list order.\n\
         #[unsafe(no_mangle)]\n#[used]\npub static {VALUES_SYMBOL}: [u64; {value_count}] = [\n"
    )];
    parts.extend(values(items).filter_map(|item| {
        let expression = item.rust_expression()?;
        Some(format!("    {expression}, // abi.list:{}\n", item.line))
    }));
    parts.push(format!(
        "];\n/// The list's GUIDs as dmus-sys defines them, in list order.\n\
         #[unsafe(no_mangle)]\n#[used]\npub static {GUIDS_SYMBOL}: [::dmus_sys::GUID; {guid_count}] = [\n"
    ));
    parts.extend(
        guids(items)
            .map(|item| format!("    ::dmus_sys::{}, // abi.list:{}\n", item.rust, item.line)),
    );
    parts.push(String::from("];\n"));
    parts.concat()
}
