//! [`Error`]: what can go wrong, each message leading with what to do and naming where the
//! bad value came from (the flag, the `[package.metadata.lambdaworker]` key, the file). The
//! underlying error, when there is one, is the [`source`](std::error::Error::source), not
//! repeated in the message: print an error with [`crate::error_chain`].

use std::{ops::RangeInclusive, path::PathBuf, process::ExitStatus};

use crate::{
    MetadataKey,
    package::{Arch, Glibc, MissingFile},
};

mod construct;
use construct::{mib, position};

/// Why a `cargo lambdaworker` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // The project and the binary.
    /// `cargo metadata` failed to run or answered something unreadable.
    #[error("cargo metadata failed; check the manifest path and that `cargo` is on PATH")]
    Metadata(#[source] cargo_metadata::Error),
    /// The selected package does not depend on `lambdaworker` (or `lw-runtime`).
    #[error(
        "add `lambdaworker` to [dependencies] of `{package}` and call `lambdaworker::run_worker` \
         from its main: without it the binary cannot serve Lambda invocations"
    )]
    NotAWorker {
        /// The package.
        package: String,
    },
    /// `--package` names no package of the workspace.
    #[error(
        "name a package of this workspace with --package: there is no `{name}` (packages: {})",
        .packages.join(", ")
    )]
    NoSuchPackage {
        /// The name given.
        name: String,
        /// The workspace's packages.
        packages: Vec<String>,
    },
    /// `--bin` or `--example` names no target.
    #[error("check the name: no {kind} target named `{name}` in {place}")]
    NoSuchTarget {
        /// `binary` or `example`.
        kind: &'static str,
        /// The name given.
        name: String,
        /// The package or manifest searched.
        place: String,
    },
    /// The package has no binary target.
    #[error(
        "add a binary (src/main.rs calling lambdaworker::run_worker), or run `cargo \
         lambdaworker new`: no binary target in {place}"
    )]
    NoBinary {
        /// The package or manifest searched.
        place: String,
    },
    /// Several binaries could be the function.
    #[error(
        "choose one with --bin (or --package): {place} has several binaries: {}",
        .names.join(", ")
    )]
    SeveralBinaries {
        /// The package or manifest searched.
        place: String,
        /// The binaries.
        names: Vec<String>,
    },

    // `new`.
    /// `new` was given a name cargo would refuse.
    #[error(
        "choose a name of ASCII letters, digits, `-` and `_`, starting with a letter: `{name}` \
         is not a valid package name"
    )]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// `new`'s folder exists and is not empty.
    #[error("choose another name or folder: {} exists and is not empty", .dir.display())]
    FolderNotEmpty {
        /// The folder.
        dir: PathBuf,
    },

    // Builds and files.
    /// A build could not start (no `cargo`, or `cargo zigbuild`, to run).
    #[error("check that cargo runs (`$CARGO` or `cargo` on PATH): `{command}` could not start")]
    BuildStart {
        /// The command.
        command: String,
        /// Why it could not start.
        #[source]
        source: std::io::Error,
    },
    /// A build failed.
    #[error("fix the build errors above: `{command}` failed ({status})")]
    Build {
        /// The command that ran.
        command: String,
        /// How it ended.
        status: ExitStatus,
    },
    /// A file could not be read or written.
    #[error("{}: {action}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    // `package`: a refusal writes nothing.
    /// `--include` names no file, or no archive path after `=`.
    #[error(
        "name a file or folder to include, and optionally where it goes: PATH or \
         PATH=ARCHIVE_PATH, not `{value}`"
    )]
    IncludeWithoutName {
        /// The value given.
        value: String,
    },
    /// An included file or folder could not be read.
    #[error("not packaged: check --include {}: it cannot be read", .path.display())]
    Include {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An archive path outside the zip (absolute, `..`) or in the binary's place.
    #[error("write `{instead}` instead of `{value}` in {from}: its archive path {problem}")]
    ArchivePath {
        /// Where the value came from: `--include`, or the metadata entry.
        from: String,
        /// The value given.
        value: String,
        /// What the archive path is (`is absolute; …`).
        problem: &'static str,
        /// The same include with an archive path inside the zip.
        instead: String,
    },
    /// A symbolic link inside an included folder.
    #[error(
        "not packaged: replace the symbolic link {} with the file itself, or --include what it \
         points to directly: links inside an included folder are not followed (one can point \
         outside the project, or back at its own folder)",
        .link.display()
    )]
    IncludeLink {
        /// The link.
        link: PathBuf,
    },
    /// Something in an include that is neither a file nor a folder.
    #[error(
        "not packaged: remove {} from the include, or include its folder's files one by one: \
         it is not a regular file or folder (a FIFO, socket or device cannot be archived)",
        .path.display()
    )]
    IncludeSpecial {
        /// The FIFO, socket or device.
        path: PathBuf,
    },
    /// An included `temporal.toml` is not UTF-8.
    #[error("not packaged: save {file} as UTF-8 text")]
    ConfigNotUtf8 {
        /// The entry, as [`crate::package::Entries::describe`] names it.
        file: String,
        /// Where the bytes stop being UTF-8.
        #[source]
        source: std::str::Utf8Error,
    },
    /// The packaged `temporal.toml` is not TOML. The parser's own error is not kept: it
    /// quotes the offending line, which may hold a secret.
    #[error(
        "not packaged: fix the TOML of {file}{}: {reason}",
        position(*.line, *.column)
    )]
    ConfigToml {
        /// The entry, as [`crate::package::Entries::describe`] names it.
        file: String,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// 1-based column (in characters), when known.
        column: Option<usize>,
        /// The parser's reason, without the quoted source.
        reason: String,
    },
    /// Files the packaged `temporal.toml` references are not in the package.
    #[error("not packaged:{}", .files.iter().map(|f| format!("\n{f}")).collect::<String>())]
    NotInPackage {
        /// Each reference and where it points.
        files: Vec<MissingFile>,
    },
    /// The build needs cargo-zigbuild, which does not run.
    #[error(
        "not packaged: install cargo-zigbuild and zig (`pip install cargo-zigbuild`, which \
         brings PyPI's ziglang, or `cargo install --locked cargo-zigbuild` and zig from \
         ziglang.org), with `cargo-zigbuild` on PATH: building for another architecture or \
         host, or for a glibc floor, links with zig"
    )]
    NoCrossLinker,
    /// rustc has no standard library for the target.
    #[error(
        "not packaged: run `rustup target add {triple}`: rustc has no standard library for \
         {triple}, which the build needs"
    )]
    NoTargetStd {
        /// The target triple.
        triple: &'static str,
    },
    /// `--compiler cargo` on a host whose own binaries Lambda cannot run.
    #[error(
        "use --compiler zig (or auto): a plain cargo build on this {host} host does not make \
         a Linux {} binary with glibc, which Lambda runs",
        .arch.lambda_name()
    )]
    NotNative {
        /// The host, `os arch`.
        host: String,
        /// The Lambda architecture asked for.
        arch: Arch,
    },
    /// The built binary is not an ELF executable for the function's architecture.
    #[error(
        "not packaged: {} is {found}, but Lambda's {} runs only a Linux ELF executable for \
         {}; package with --target {} (and --compiler zig to cross-build), or give the \
         architecture the binary was built for",
        .binary.display(), .arch.lambda_name(), .arch.lambda_name(), .arch.lambda_name()
    )]
    NotLambdaExecutable {
        /// The binary.
        binary: PathBuf,
        /// What it is.
        found: String,
        /// The architecture asked for.
        arch: Arch,
    },
    /// The binary needs a newer glibc than the floor.
    #[error(
        "not packaged: {} needs glibc {needs}, newer than the floor {floor} (provided.al2023 has \
         2.34); package with --compiler zig, which links for {}.{floor}, or build for musl",
        .binary.display(), .arch.triple()
    )]
    GlibcTooNew {
        /// The binary.
        binary: PathBuf,
        /// The glibc version it needs.
        needs: Glibc,
        /// The newest allowed (`--glibc`).
        floor: Glibc,
        /// The architecture it was built for.
        arch: Arch,
    },
    /// The zip could not be written.
    #[error("not packaged: cannot write {entry} into the zip")]
    Zip {
        /// The entry being written.
        entry: String,
        /// The cause.
        #[source]
        source: zip::result::ZipError,
    },
    /// The zip is over `--max-size` (it is written, for inspection).
    #[error(
        "make the package smaller or raise --max-size: {} is {:.2} MiB, over the budget of \
         {:.2} MiB",
        .zip.display(), mib(*.bytes), mib(*.max_bytes)
    )]
    TooLarge {
        /// The zip.
        zip: PathBuf,
        /// Its size.
        bytes: u64,
        /// The budget.
        max_bytes: u64,
    },

    // Flag values and deploy settings.
    /// `--env` without `=`.
    #[error("write NAME=VALUE, not `{value}`")]
    EnvWithoutValue {
        /// The value given.
        value: String,
    },
    /// A `--glibc` that is not MAJOR.MINOR within what Lambda's runtimes have.
    #[error("write --glibc as 2.26 (provided.al2) up to 2.34 (provided.al2023), not `{value}`")]
    BadGlibc {
        /// The value given.
        value: String,
    },
    /// A `--compiler` other than auto, cargo or zig.
    #[error("use auto, cargo or zig, not `{value}`")]
    UnknownCompiler {
        /// The value given.
        value: String,
    },
    /// An architecture other than x86_64 or arm64.
    #[error("use x86_64 or arm64, not `{value}`")]
    UnknownArch {
        /// The value given.
        value: String,
    },
    /// A setting `deploy` needs is neither a flag nor in the metadata.
    #[error(
        "set {flag} or {at}: {why} (`cargo lambdaworker policies` needs no settings: it \
         generates an ExternalId and prints the roles to create and the lines to paste)"
    )]
    MissingSetting {
        /// The flag, with its value's placeholder (`--invoke-role ARN`).
        flag: &'static str,
        /// The metadata key.
        at: MetadataKey,
        /// Why it is needed.
        why: &'static str,
    },
    /// A metadata value has the wrong type.
    #[error("make {at} {expected}, not `{found}`")]
    MetadataValue {
        /// The key (`env.NAME`, `include[2]` for an entry).
        at: MetadataKey,
        /// What it must be (`a string`).
        expected: &'static str,
        /// What it is.
        found: String,
    },
    /// A number, from a flag or the metadata, is out of range.
    #[error(
        "set {flag} or {at} between {} and {}{unit}, not {value}",
        .range.start(), .range.end()
    )]
    OutOfRange {
        /// The flag.
        flag: &'static str,
        /// The metadata key.
        at: MetadataKey,
        /// What is allowed.
        range: RangeInclusive<u64>,
        /// The unit, after the range (` (MB)`), or empty.
        unit: &'static str,
        /// The value given.
        value: u64,
    },
    /// A role ARN, ExternalId or capacity provider ARN that is not one.
    #[error("give {flag} (or {at}) {expected}, not `{value}`")]
    InvalidValue {
        /// The flag.
        flag: &'static str,
        /// The metadata key.
        at: MetadataKey,
        /// What it must be (`a role ARN like arn:aws:iam::123456789012:role/NAME`).
        expected: &'static str,
        /// The value given.
        value: String,
    },
    /// An ExternalId too short to keep other Temporal Cloud tenants out.
    #[error(
        "run `cargo lambdaworker policies` to generate a new ExternalId (it prints the invoke \
         role's trust policy with it, to update, and the line to paste), then set it as \
         {from}: the ExternalId set there now has {len} characters, fewer than {min}; the \
         trust policy's ExternalId condition is the only thing that keeps other Temporal \
         Cloud tenants from assuming your invoke role, so it must not be guessable"
    )]
    ExternalIdTooShort {
        /// Where it came from: the flag (`--external-id`) or the metadata key and manifest.
        from: String,
        /// Its length.
        len: usize,
        /// The shortest accepted.
        min: usize,
    },
    /// A per-instance concurrency without a capacity provider.
    #[error(
        "set --capacity-provider ARN or {at} too: a per-instance concurrency applies to Lambda \
         Managed Instances, which run on a capacity provider"
    )]
    ConcurrencyWithoutProvider {
        /// The capacity provider's metadata key.
        at: MetadataKey,
    },
    /// `--env` or the metadata's `env` sets a variable `deploy` sets.
    #[error(
        "remove {name} from --env and the metadata's env: deploy sets it to the version it \
         registers (use --build-id / --deployment)"
    )]
    ReservedEnv {
        /// The variable.
        name: String,
    },
    /// A percentage outside 0 to 100.
    #[error("give {flag} a percentage between 0 and 100, not {value}")]
    Percent {
        /// The flag (`--ramp`, `--percent`).
        flag: &'static str,
        /// The value given.
        value: f32,
    },
    /// The function must be created and no execution role is set.
    #[error(
        "to create the function {function}, set --execution-role ARN or `execution-role` in \
         [package.metadata.lambdaworker] (the role it runs as; `cargo lambdaworker policies` \
         prints its trust policy), or deploy to an existing function with --function-name"
    )]
    NoExecutionRole {
        /// The function.
        function: String,
    },

    // The services.
    /// The local AWS or dev server failed.
    #[error(transparent)]
    Local(#[from] lw_local::LocalError),
    /// AWS refused or failed a step.
    #[error("{fix}: {step} failed: {detail}")]
    Aws {
        /// What to do.
        fix: String,
        /// The step.
        step: String,
        /// AWS's answer (error code and message).
        detail: String,
    },
    /// The Temporal server refused a step.
    #[error("{fix}: {step} failed: {code}: {message}")]
    Temporal {
        /// What to do.
        fix: String,
        /// The step.
        step: String,
        /// The gRPC status code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// Connecting to Temporal (or reading its configuration) failed, as a worker would report
    /// it.
    #[error(transparent)]
    Connect(#[from] lw_runtime::Error),

    // What is deployed.
    /// The build id exists without a Lambda compute config.
    #[error(
        "give this build another --build-id: {deployment}/{build_id} already exists without a \
         Lambda compute config (a worker polling with that build id created it), so Temporal \
         would never invoke the function for it"
    )]
    BuildIdPolled {
        /// The Worker Deployment.
        deployment: String,
        /// The build id.
        build_id: String,
    },
    /// The build id is registered with another Lambda version.
    #[error(
        "give this build another --build-id: {deployment}/{build_id} is already registered \
         with {arn}, which does not run this package (a build id must keep meaning one code, \
         or Pinned workflows would change code mid-run)"
    )]
    BuildIdTaken {
        /// The Worker Deployment.
        deployment: String,
        /// The build id.
        build_id: String,
        /// The Lambda version it is registered with.
        arn: String,
    },
    /// `promote` or `ramp` of a version that is not registered.
    #[error(
        "deploy {deployment}/{build_id} first (`cargo lambdaworker deploy`): no such version in \
         namespace {namespace} (`cargo lambdaworker status` lists them)"
    )]
    NoSuchVersion {
        /// The Worker Deployment.
        deployment: String,
        /// The build id.
        build_id: String,
        /// The namespace.
        namespace: String,
    },
}
