//! Random symbols from the operating system's random source, for credentials and IDs.

use std::io::Read;

/// The operating system's random source.
pub const RANDOM_SOURCE: &str = "/dev/urandom";

/// `len` symbols of `alphabet` (at most 256 symbols) read from [`RANDOM_SOURCE`], each
/// equally likely: bytes at or above the largest multiple of the alphabet's size are dropped
/// rather than folded in.
pub fn random_symbols(alphabet: &[u8], len: usize) -> std::io::Result<String> {
    let size = alphabet.len();
    if size == 0 || size > 256 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "an alphabet of 1 to 256 symbols",
        ));
    }
    let cut = 256 - 256 % size;
    let mut random = std::fs::File::open(RANDOM_SOURCE)?;
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 64];
    while out.len() < len {
        random.read_exact(&mut bytes)?;
        let symbols = bytes.iter().filter(|&&b| usize::from(b) < cut);
        out.extend(
            symbols
                .map(|&b| char::from(alphabet[usize::from(b) % size]))
                .take(len - out.len()),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_come_from_the_alphabet_and_differ_each_time() {
        let a = random_symbols(b"AB", 64).unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c == 'A' || c == 'B'), "{a}");
        assert_ne!(
            random_symbols(b"0123456789", 32).unwrap(),
            random_symbols(b"0123456789", 32).unwrap()
        );
        assert!(random_symbols(b"", 1).is_err());
    }
}
