//! Is the built `bootstrap` something Lambda can run: a 64-bit little-endian ELF executable
//! for the function's architecture? Reads the ELF identification and header fields only
//! (five fixed offsets of the System V ABI), which is why no object-file crate is pulled in.

use super::Arch;

/// What a binary turned out to be, when it is not what Lambda needs.
pub fn mismatch(bytes: &[u8], arch: Arch) -> Option<String> {
    let found = describe(bytes);
    (found != Found::Elf64(arch)).then(|| found.to_string())
}

#[derive(Debug, PartialEq, Eq)]
enum Found {
    Elf64(Arch),
    Elf {
        class: u8,
        big_endian: bool,
        kind: u16,
        machine: u16,
    },
    MachO,
    Pe,
    Script,
    Unknown([u8; 4]),
}

const EXEC: u16 = 2;
const DYN: u16 = 3;
/// Not an ELF type: how [`describe`] marks an `ET_DYN` file without an entry point.
const SHARED: u16 = u16::MAX;
const X86_64: u16 = 62;
const AARCH64: u16 = 183;

fn describe(b: &[u8]) -> Found {
    let u16_at = |at: usize, big: bool| -> u16 {
        let pair = [
            b.get(at).copied().unwrap_or(0),
            b.get(at + 1).copied().unwrap_or(0),
        ];
        if big {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    };
    match b {
        [0x7f, b'E', b'L', b'F', class, data, ..] if b.len() >= 20 => {
            let big_endian = *data == 2;
            let (kind, machine) = (u16_at(16, big_endian), u16_at(18, big_endian));
            // A shared library is ET_DYN too, without an entry point (a PIE executable has one).
            let entry = b
                .get(24..32)
                .map_or(0, |e| u64::from_le_bytes(e.try_into().unwrap_or([0; 8])));
            let kind = if kind == DYN && entry == 0 {
                SHARED
            } else {
                kind
            };
            match (class, big_endian, kind, machine) {
                (2, false, EXEC | DYN, X86_64) => Found::Elf64(Arch::X86_64),
                (2, false, EXEC | DYN, AARCH64) => Found::Elf64(Arch::Arm64),
                _ => Found::Elf {
                    class: *class,
                    big_endian,
                    kind,
                    machine,
                },
            }
        }
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..]
        | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..]
        | [0xca, 0xfe, 0xba, 0xbe, ..] => Found::MachO,
        [b'M', b'Z', ..] => Found::Pe,
        [b'#', b'!', ..] => Found::Script,
        _ => {
            let mut head = [0; 4];
            for (h, v) in head.iter_mut().zip(b) {
                *h = *v;
            }
            Found::Unknown(head)
        }
    }
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::Elf64(arch) => write!(f, "a Linux ELF executable for {}", arch.lambda_name()),
            Found::Elf {
                class,
                big_endian,
                kind,
                machine,
            } => {
                let bits = if *class == 1 { "32-bit" } else { "64-bit" };
                let order = if *big_endian {
                    "big-endian"
                } else {
                    "little-endian"
                };
                let kind = match *kind {
                    1 => "relocatable object".to_owned(),
                    EXEC | DYN => "executable".to_owned(),
                    4 => "core dump".to_owned(),
                    SHARED => "shared library".to_owned(),
                    other => format!("file of ELF type {other}"),
                };
                let machine = match *machine {
                    3 => "x86 (i386)".to_owned(),
                    40 => "32-bit ARM".to_owned(),
                    X86_64 => "x86_64".to_owned(),
                    AARCH64 => "arm64".to_owned(),
                    other => format!("ELF machine {other}"),
                };
                write!(f, "a {bits} {order} ELF {kind} for {machine}")
            }
            Found::MachO => f.write_str("a Mach-O (macOS) binary"),
            Found::Pe => f.write_str("a Windows (PE) binary"),
            Found::Script => f.write_str("a script (starts with #!)"),
            Found::Unknown(head) => write!(
                f,
                "not an executable (starts with {:02x} {:02x} {:02x} {:02x})",
                head[0], head[1], head[2], head[3]
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF header: class, data, type, machine.
    fn elf(class: u8, data: u8, kind: u16, machine: u16) -> Vec<u8> {
        let mut h = vec![0x7f, b'E', b'L', b'F', class, data, 1, 0];
        h.resize(16, 0);
        let (k, m) = if data == 2 {
            (kind.to_be_bytes(), machine.to_be_bytes())
        } else {
            (kind.to_le_bytes(), machine.to_le_bytes())
        };
        h.extend(k);
        h.extend(m);
        h.resize(24, 0);
        // An entry point, as an executable has.
        h.extend(0x1000u64.to_le_bytes());
        h.resize(64, 0);
        h
    }

    #[test]
    fn executables_for_the_functions_architecture_pass() {
        assert_eq!(mismatch(&elf(2, 1, DYN, X86_64), Arch::X86_64), None);
        assert_eq!(mismatch(&elf(2, 1, EXEC, AARCH64), Arch::Arm64), None);
        let this = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let here = if cfg!(target_arch = "aarch64") {
            Arch::Arm64
        } else {
            Arch::X86_64
        };
        assert_eq!(mismatch(&this, here), None);
    }

    #[test]
    fn anything_else_is_named() {
        let cases: [(Vec<u8>, &str); 7] = [
            (elf(2, 1, DYN, AARCH64), "a Linux ELF executable for arm64"),
            (
                elf(1, 1, EXEC, 3),
                "a 32-bit little-endian ELF executable for x86 (i386)",
            ),
            (elf(2, 1, 1, X86_64), "ELF relocatable object for x86_64"),
            (
                elf(2, 2, EXEC, 21),
                "64-bit big-endian ELF executable for ELF machine 21",
            ),
            (
                vec![0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1],
                "a Mach-O (macOS) binary",
            ),
            (
                b"#!/bin/sh\necho hi\n".to_vec(),
                "a script (starts with #!)",
            ),
            (
                b"PK\x03\x04".to_vec(),
                "not an executable (starts with 50 4b 03 04)",
            ),
        ];
        for (bytes, want) in cases {
            let got = mismatch(&bytes, Arch::X86_64).expect("refused");
            assert!(got.contains(want), "{got} / {want}");
        }
        assert_eq!(
            mismatch(b"MZ\x90\0", Arch::Arm64).as_deref(),
            Some("a Windows (PE) binary")
        );
        assert!(mismatch(b"", Arch::Arm64).is_some());
        let mut library = elf(2, 1, DYN, X86_64);
        library[24..32].copy_from_slice(&0u64.to_le_bytes());
        assert_eq!(
            mismatch(&library, Arch::X86_64).as_deref(),
            Some("a 64-bit little-endian ELF shared library for x86_64")
        );
        assert!(mismatch(b"\x7fELF\x02\x01", Arch::Arm64).is_some());
    }
}
