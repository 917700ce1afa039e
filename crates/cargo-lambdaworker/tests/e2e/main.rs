//! `cargo lambdaworker` as a user runs it, on projects outside this workspace: `new`, the
//! project's own test and `dev --watch` ([`dev`]); `package`, cross-built with cargo-zigbuild,
//! and the cross-builds this host cannot do ([`package`]); the README's quick start walked as
//! written, against a dev server and lw-local standing in for Temporal Cloud and AWS
//! ([`quickstart`]).
//!
//! The new projects depend on `lambdaworker` by version, patched to this workspace, with the
//! workspace's Cargo.lock and target directory, so the dependencies are built once (release
//! and cross builds have target folders of their own: see their tests).

#[path = "../common/mod.rs"]
mod common;
mod dev;
mod package;
mod quickstart;
mod support;
