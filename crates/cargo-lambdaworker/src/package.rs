//! `cargo lambdaworker package`: a deployable, reproducible Lambda zip in
//! `target/lambda/<name>/bootstrap.zip`, as cargo-lambda lays it out.
//!
//! `bootstrap` at the root (0755), included files (0644) at their archive paths, entries
//! sorted, timestamps fixed (1980-01-01), deflate: the same inputs give the same bytes.
//! Before anything is written: every path `temporal.toml` references must be in the
//! package (relative to `/var/task`), plain-text private keys draw a warning, and the
//! binary's glibc requirement must fit `provided.al2023` (glibc 2.34).

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
};

use crate::{Error, Project};

/// The newest glibc `provided.al2023` has.
pub const AL2023_GLIBC: (u32, u32) = (2, 34);
/// Where Lambda unpacks the zip.
pub const TASK_ROOT: &str = "/var/task";

/// What to package, besides the binary ([`Project`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// `--include` sources and their archive paths.
    pub includes: Vec<(PathBuf, String)>,
    /// `x86_64` or `arm64`.
    pub arch: Arch,
    /// Fail when the zip is larger (bytes).
    pub max_zip_bytes: Option<u64>,
    /// The cargo profile to build with; `release` when `None`.
    pub profile: Option<String>,
}

impl Request {
    /// The profile's name and the folder cargo writes it to (`dev` → `debug`).
    fn profile(&self) -> (&str, &str) {
        match self.profile.as_deref() {
            None | Some("release") => ("release", "release"),
            Some("dev") | Some("debug") => ("dev", "debug"),
            Some(other) => (other, other),
        }
    }
}

/// The Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arch {
    /// x86_64 (built natively here).
    #[default]
    X86_64,
    /// arm64 / Graviton (needs cargo-zigbuild).
    Arm64,
}

impl Arch {
    /// The Rust target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }
}

impl std::str::FromStr for Arch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "x86_64" | "x86-64" | "amd64" => Ok(Arch::X86_64),
            "arm64" | "aarch64" => Ok(Arch::Arm64),
            other => Err(format!("use x86_64 or arm64, not `{other}`")),
        }
    }
}

/// Parses `--include PATH[=ARCHIVE_PATH]`: a file or folder and where it goes in the zip
/// (its own name by default).
pub fn parse_include(v: &str) -> Result<(PathBuf, String), String> {
    match v.split_once('=') {
        Some((s, d)) => Ok((PathBuf::from(s), d.trim_matches('/').to_owned())),
        None => {
            let p = PathBuf::from(v);
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or(format!("--include {v}: name a file or folder"))?;
            Ok((p, name))
        }
    }
}

/// Files to archive: archive path → contents (sorted by path).
pub type Entries = BTreeMap<String, Vec<u8>>;

/// Reads `--include` sources (files, or folders recursively) into archive entries.
pub fn collect(includes: &[(PathBuf, String)]) -> Result<Entries, String> {
    let mut out = Entries::new();
    for (src, dest) in includes {
        add(&mut out, src, dest)?;
    }
    if out.contains_key("bootstrap") {
        return Err(
            "an --include would be archived as `bootstrap`, which is the binary's \
                    place; include it under another name"
                .into(),
        );
    }
    Ok(out)
}

fn add(out: &mut Entries, src: &Path, dest: &str) -> Result<(), String> {
    let meta = std::fs::metadata(src).map_err(|e| format!("--include {}: {e}", src.display()))?;
    if meta.is_dir() {
        let mut children: Vec<_> = std::fs::read_dir(src)
            .map_err(|e| format!("--include {}: {e}", src.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        children.sort();
        for c in children {
            let name = c
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            add(out, &c, &format!("{dest}/{name}"))?;
        }
        return Ok(());
    }
    let bytes = std::fs::read(src).map_err(|e| format!("--include {}: {e}", src.display()))?;
    out.insert(dest.to_owned(), bytes);
    Ok(())
}

/// Checks the `temporal.toml` at the package root, if any: every `*_path` it names must be
/// in the package once unpacked in `/var/task`. Returns warnings (plain-text secrets).
pub fn check_config(entries: &Entries) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    for (path, bytes) in entries {
        let text = String::from_utf8_lossy(bytes);
        if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
            warnings.push(format!(
                "{path} is a private key in plain text inside the zip; anyone who can read the \
                 function's code can read it. Prefer a KMS-encrypted value (TEMPORAL_TLS_CLIENT_KEY_DATA \
                 listed in LAMBDAWORKER_KMS_DECRYPT, or `client_key_data = \"kms:...\"`): see \
                 docs/configuration.md, \"KMS-encrypted secrets\""
            ));
        }
    }
    let Some(toml_bytes) = entries.get("temporal.toml") else {
        return Ok(warnings);
    };
    let text = std::str::from_utf8(toml_bytes)
        .map_err(|_| "temporal.toml is not UTF-8 text; save it as UTF-8".to_owned())?;
    let table: toml::Table =
        toml::from_str(text).map_err(|e| format!("temporal.toml: malformed TOML: {e}"))?;
    let Some(toml::Value::Table(profiles)) = table.get("profile") else {
        return Ok(warnings);
    };
    let mut missing = Vec::new();
    for (profile, p) in profiles {
        let Some(p) = p.as_table() else { continue };
        if p.get("api_key")
            .and_then(toml::Value::as_str)
            .is_some_and(|k| !k.is_empty() && !k.starts_with("kms:"))
        {
            warnings.push(format!(
                "temporal.toml: `profile.{profile}.api_key` is in plain text inside the zip; \
                 prefer `api_key = \"kms:...\"` or a KMS-encrypted TEMPORAL_API_KEY (see \
                 docs/configuration.md, \"KMS-encrypted secrets\")"
            ));
        }
        let Some(tls) = p.get("tls").and_then(toml::Value::as_table) else {
            continue;
        };
        if tls
            .get("client_key_data")
            .and_then(toml::Value::as_str)
            .is_some_and(|k| !k.starts_with("kms:"))
        {
            warnings.push(format!(
                "temporal.toml: `profile.{profile}.tls.client_key_data` is a private key in plain \
                 text; prefer `kms:...` (see docs/configuration.md)"
            ));
        }
        for key in ["client_cert_path", "client_key_path", "server_ca_cert_path"] {
            let Some(value) = tls.get(key).and_then(toml::Value::as_str) else {
                continue;
            };
            let in_package = match value.strip_prefix(TASK_ROOT) {
                Some(rest) => rest.trim_start_matches('/').to_owned(),
                None if Path::new(value).is_absolute() => {
                    missing.push(format!(
                        "temporal.toml: `profile.{profile}.tls.{key}` = `{value}` is outside \
                         {TASK_ROOT}, so it is not in the package; write it relative to \
                         temporal.toml and --include the file"
                    ));
                    continue;
                }
                None => value.trim_start_matches("./").to_owned(),
            };
            if !entries.contains_key(&in_package) {
                missing.push(format!(
                    "temporal.toml: `profile.{profile}.tls.{key}` = `{value}` resolves to \
                     {TASK_ROOT}/{in_package}, which is not in the package; add \
                     --include <file>={in_package}"
                ));
            }
        }
    }
    if missing.is_empty() {
        Ok(warnings)
    } else {
        Err(missing.join("\n"))
    }
}

/// The newest `GLIBC_x.y` symbol version the binary needs, if it links glibc.
pub fn glibc_requirement(binary: &[u8]) -> Option<(u32, u32)> {
    let needle = b"GLIBC_";
    let mut best: Option<(u32, u32)> = None;
    let mut i = 0;
    while let Some(pos) = binary[i..].windows(needle.len()).position(|w| w == needle) {
        let start = i + pos + needle.len();
        let digits: String = binary[start..]
            .iter()
            .take(12)
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|b| *b as char)
            .collect();
        let mut parts = digits.split('.').filter_map(|p| p.parse::<u32>().ok());
        if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
            best = best.max(Some((major, minor)));
        }
        i = start;
    }
    best
}

/// Writes a deterministic zip: `bootstrap` (0755) first, then `entries` (0644) sorted.
pub fn write_zip(bootstrap: &[u8], entries: &Entries) -> Result<Vec<u8>, String> {
    use zip::{CompressionMethod, DateTime, write::SimpleFileOptions};
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default());
        let mut file = |name: &str, mode: u32, bytes: &[u8]| -> Result<(), String> {
            zip.start_file(name, options.unix_permissions(mode))
                .map_err(|e| format!("zip {name}: {e}"))?;
            zip.write_all(bytes).map_err(|e| format!("zip {name}: {e}"))
        };
        file("bootstrap", 0o755, bootstrap)?;
        for (name, bytes) in entries {
            file(name, 0o644, bytes)?;
        }
        zip.finish().map_err(|e| format!("zip: {e}"))?;
    }
    Ok(out.into_inner())
}

/// Builds the binary with the project's release profile (or the one asked for) and returns
/// its path.
pub fn build(project: &Project, req: &Request) -> Result<PathBuf, Error> {
    let mut cmd = crate::cargo();
    let (profile, folder) = req.profile();
    let triple = match req.arch {
        Arch::X86_64 => {
            cmd.args(["build", "--profile", profile]);
            None
        }
        Arch::Arm64 => {
            let zig = crate::cargo()
                .args(["zigbuild", "--version"])
                .output()
                .is_ok_and(|o| o.status.success());
            if !zig {
                return Err(Error::Package(
                    "arm64 (Graviton) needs a cross linker: install cargo-zigbuild and zig \
                     (`cargo install cargo-zigbuild` and `pip install ziglang`) and `rustup \
                     target add aarch64-unknown-linux-gnu`, or package for --target x86_64"
                        .into(),
                ));
            }
            cmd.args([
                "zigbuild",
                "--profile",
                profile,
                "--target",
                req.arch.triple(),
            ]);
            Some(req.arch.triple())
        }
    };
    cmd.arg("--manifest-path").arg(project.manifest());
    cmd.args(project.build_args());
    crate::progress(&format!(
        "building {} for {} with the {profile} profile",
        project.name,
        req.arch.triple()
    ));
    crate::run_build(cmd)?;
    Ok(project.binary(folder, triple))
}

/// The whole command: checks, build, zip, report. Returns the zip's path.
pub fn package(project: &Project, req: &Request) -> Result<PathBuf, Error> {
    // Check what can be checked before the (slow) build.
    let entries = collect(&req.includes).map_err(Error::Package)?;
    let warnings = check_config(&entries).map_err(|e| Error::Package(format!("\n{e}")))?;
    for w in &warnings {
        crate::progress(&format!("warning: {w}"));
    }
    let binary = build(project, req)?;
    let bytes =
        std::fs::read(&binary).map_err(Error::io(&binary, "cannot read the built binary"))?;
    if let Some(v) = glibc_requirement(&bytes)
        && v > AL2023_GLIBC
    {
        return Err(Error::Package(format!(
            "{} needs glibc {}.{}, newer than provided.al2023's {}.{}; build \
             for musl (x86_64-unknown-linux-musl) or with cargo-zigbuild targeting \
             {}.{}.{}",
            binary.display(),
            v.0,
            v.1,
            AL2023_GLIBC.0,
            AL2023_GLIBC.1,
            req.arch.triple(),
            AL2023_GLIBC.0,
            AL2023_GLIBC.1
        )));
    }
    let zip = write_zip(&bytes, &entries).map_err(Error::Package)?;
    let out_dir = project.lambda_dir();
    std::fs::create_dir_all(&out_dir).map_err(Error::io(&out_dir, "cannot create the folder"))?;
    let out = out_dir.join("bootstrap.zip");
    std::fs::write(&out, &zip).map_err(Error::io(&out, "cannot write the zip"))?;
    let mib = |n: usize| n as f64 / 1024.0 / 1024.0;
    println!(
        "{}: bootstrap {:.2} MiB (glibc {}), zip {:.2} MiB, {} other file(s)",
        out.display(),
        mib(bytes.len()),
        glibc_requirement(&bytes)
            .map(|(a, b)| format!("{a}.{b}"))
            .unwrap_or_else(|| "none".into()),
        mib(zip.len()),
        entries.len()
    );
    if let Some(max) = req.max_zip_bytes
        && zip.len() as u64 > max
    {
        return Err(Error::Package(format!(
            "{}: {:.2} MiB is over the --max-size budget of {:.2} MiB",
            out.display(),
            mib(zip.len()),
            max as f64 / 1024.0 / 1024.0
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(files: &[(&str, &str)]) -> Entries {
        files
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn referenced_files_must_be_in_the_package() {
        let toml = "[profile.default]\naddress = \"h:7233\"\n[profile.default.tls]\n\
                    client_cert_path = \"certs/client.pem\"\nclient_key_path = \"/var/task/certs/client.key\"\n";
        let e = check_config(&entries(&[("temporal.toml", toml)])).unwrap_err();
        assert!(
            e.contains("`profile.default.tls.client_cert_path` = `certs/client.pem`"),
            "{e}"
        );
        assert!(
            e.contains("/var/task/certs/client.key, which is not in the package"),
            "{e}"
        );
        let ok = check_config(&entries(&[
            ("temporal.toml", toml),
            ("certs/client.pem", "-----BEGIN CERTIFICATE-----"),
            ("certs/client.key", "-----BEGIN PRIVATE KEY-----"),
        ]))
        .unwrap();
        assert_eq!(ok.len(), 1, "{ok:?}");
        assert!(
            ok[0].contains("certs/client.key is a private key in plain text"),
            "{ok:?}"
        );
        assert!(ok[0].contains("KMS"), "{ok:?}");
        let abs = "[profile.default.tls]\nserver_ca_cert_path = \"/home/me/ca.pem\"\n";
        let e = check_config(&entries(&[("temporal.toml", abs)])).unwrap_err();
        assert!(e.contains("outside /var/task"), "{e}");
    }

    #[test]
    fn plaintext_api_keys_warn_and_kms_values_do_not() {
        let w = check_config(&entries(&[(
            "temporal.toml",
            "[profile.default]\napi_key = \"secret\"\n",
        )]))
        .unwrap();
        assert!(w[0].contains("api_key` is in plain text"), "{w:?}");
        let w = check_config(&entries(&[(
            "temporal.toml",
            "[profile.default]\napi_key = \"kms:AQID\"\n",
        )]))
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn zips_are_deterministic_with_modes_and_order() {
        let e = entries(&[("z.txt", "z"), ("a/b.pem", "cert"), ("temporal.toml", "x")]);
        let one = write_zip(b"\x7fELF binary", &e).unwrap();
        let two = write_zip(b"\x7fELF binary", &e).unwrap();
        assert_eq!(one, two);
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(one)).unwrap();
        let names: Vec<String> = (0..z.len())
            .map(|i| z.by_index(i).unwrap().name().unwrap().into_owned())
            .collect();
        assert_eq!(names, ["bootstrap", "a/b.pem", "temporal.toml", "z.txt"]);
        assert_eq!(z.by_index(0).unwrap().unix_mode(), Some(0o100755));
        assert_eq!(z.by_index(1).unwrap().unix_mode(), Some(0o100644));
    }

    #[test]
    fn glibc_versions_are_read_from_the_binary() {
        assert_eq!(
            glibc_requirement(b"..GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.17\0"),
            Some((2, 34))
        );
        assert_eq!(glibc_requirement(b"static musl binary"), None);
    }

    #[test]
    fn includes_and_architectures_parse() {
        assert_eq!(
            parse_include("d/certs=certs/").unwrap(),
            (PathBuf::from("d/certs"), "certs".to_owned())
        );
        assert_eq!(parse_include("d/temporal.toml").unwrap().1, "temporal.toml");
        assert_eq!("arm64".parse::<Arch>(), Ok(Arch::Arm64));
        assert!(
            "sparc"
                .parse::<Arch>()
                .unwrap_err()
                .contains("x86_64 or arm64")
        );
    }
}
