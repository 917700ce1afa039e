//! The ExternalId: how long `deploy` requires it to be, and the one `policies` generates when
//! the project has none (or one too short).

use crate::Error;

/// The shortest ExternalId `deploy` accepts: the invoke role's trust policy's ExternalId
/// condition is all that keeps other Temporal Cloud tenants from assuming the role, so it
/// must not be guessable.
pub const MIN_LEN: usize = 16;

/// The length of a generated ExternalId (62 symbols: about 238 bits).
pub const GENERATED_LEN: usize = 40;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A new ExternalId of [`GENERATED_LEN`] letters and digits from the operating system's
/// random source (`/dev/urandom`).
pub fn generate() -> Result<String, Error> {
    lw_local::random_symbols(ALPHABET, GENERATED_LEN).map_err(Error::io(
        lw_local::RANDOM_SOURCE,
        "cannot read the random source to generate an ExternalId",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_id_is_long_alphanumeric_and_new_each_time() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        for id in [&a, &b] {
            assert_eq!(id.len(), GENERATED_LEN, "{id}");
            assert!(id.len() >= 32 && id.len() >= MIN_LEN);
            assert!(id.bytes().all(|c| c.is_ascii_alphanumeric()), "{id}");
        }
        assert_ne!(a, b);
    }
}
