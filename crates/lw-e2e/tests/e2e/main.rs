//! The end-to-end suite, one test binary: the greeting function (the example's own `main.rs`,
//! built here as `e2e-greeting`), its fault-injecting twin (`greeting-faults`) and its twin
//! with state per process and configuration per invocation (`greeting-state`), driven
//! through real parts: the `temporal` dev server, the Runtime API emulator, `lw-local` with
//! the server's Worker Controller, `cargo lambda watch`, nginx as a TLS front, moto as KMS and
//! an OTLP/gRPC receiver.
//!
//! One binary (one link, one shared dev server per process); each module is one subject.
//! Run one with `cargo test -p lw-e2e --test e2e -- <module>::`.

mod common;

mod faults;
mod lifecycle;
mod managed;
mod rejections;
mod runtime_api;
mod serverless;
mod state;
mod tls;
mod versions;
