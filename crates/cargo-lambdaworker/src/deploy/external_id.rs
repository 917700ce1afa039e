//! The ExternalId: how long `deploy` requires it to be, and the one `policies` generates when
//! the project has none (or one too short).

use std::io::Read;

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
    const SOURCE: &str = "/dev/urandom";
    let mut random = std::fs::File::open(SOURCE).map_err(Error::io(
        SOURCE,
        "cannot open the random source to generate an ExternalId",
    ))?;
    let mut id = String::with_capacity(GENERATED_LEN);
    let mut bytes = [0u8; 64];
    while id.len() < GENERATED_LEN {
        random.read_exact(&mut bytes).map_err(Error::io(
            SOURCE,
            "cannot read the random source to generate an ExternalId",
        ))?;
        // 248 = 4 × 62: dropping the bytes above keeps every symbol equally likely.
        let symbols = bytes.iter().filter(|&&b| b < 248);
        id.extend(
            symbols
                .map(|&b| char::from(ALPHABET[usize::from(b % 62)]))
                .take(GENERATED_LEN - id.len()),
        );
    }
    Ok(id)
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
