//! `lambda_runtime` panics on a malformed Runtime API answer (it `expect`s headers); this
//! keeps those panics' default message off stderr, so [`super::serve_guarded`] can report
//! them as an error instead. Every other panic prints as before.

use std::{any::Any, path::Path, sync::Once};

/// The crates whose panics [`serve_guarded`](super::serve_guarded) turns into an error, as
/// their source directories start (`lambda_runtime-1.5.0`, or a git checkout's
/// `lambda-runtime`).
const RUNTIME_CRATES: &[&str] = &[
    "lambda_runtime",
    "lambda-runtime",
    "lambda-extension",
    "lambda_extension",
];

/// Installs, once per process, a panic hook that is silent for panics raised in
/// [`RUNTIME_CRATES`] and hands every other panic to the hook that was there before.
pub(super) fn quiet_runtime_panics() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_runtime = info.location().is_some_and(|l| raised_in_runtime(l.file()));
            if !in_runtime {
                previous(info);
            }
        }));
    });
}

/// Whether the source file `file` (a panic's location) belongs to one of [`RUNTIME_CRATES`].
fn raised_in_runtime(file: &str) -> bool {
    Path::new(file).components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        RUNTIME_CRATES.iter().any(|p| c.starts_with(p))
    })
}

/// A panic's message, when it has one.
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_runtime_crates_panics_are_quieted() {
        for inside in [
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lambda_runtime-1.5.0/src/layers/api_response.rs",
            "/root/.cargo/git/checkouts/aws-lambda-rust-runtime-0a1b/2c3d/lambda-runtime/src/lib.rs",
            "/root/.cargo/registry/src/index.crates.io-x/lambda-extension-1.1.1/src/extension.rs",
        ] {
            assert!(raised_in_runtime(inside), "{inside}");
        }
        for outside in [
            "crates/lw-runtime/src/lambda/mod.rs",
            "/root/.cargo/registry/src/index.crates.io-x/temporalio-sdk-1.1.1/src/lib.rs",
            "src/main.rs",
        ] {
            assert!(!raised_in_runtime(outside), "{outside}");
        }
    }

    #[test]
    fn a_panic_message_is_read_whatever_its_type() {
        assert_eq!(panic_text(&"static text"), "static text");
        assert_eq!(panic_text(&String::from("formatted")), "formatted");
        assert_eq!(panic_text(&42_u8), "no message");
    }
}
