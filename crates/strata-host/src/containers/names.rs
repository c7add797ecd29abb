//! Container IDs and generated names.

use std::io::Read;

use crate::error::{Error, Result};

/// 64 random hex characters, as Docker's container IDs.
pub(crate) fn new_id() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(Error::io("read", "/dev/urandom"))?;
    Ok(strata_oci::digest::to_hex(&bytes))
}

const ADJECTIVES: &[&str] = &[
    "admiring", "bold", "brave", "calm", "clever", "eager", "elated", "epic", "focused", "gallant",
    "happy", "jolly", "keen", "kind", "lucid", "nifty", "quirky", "serene", "sharp", "stoic",
    "tender", "vibrant", "wise", "zen",
];

const NAMES: &[&str] = &[
    "babbage", "curie", "darwin", "euler", "faraday", "gauss", "hopper", "hypatia", "kepler",
    "lamport", "lovelace", "mccarthy", "noether", "pascal", "ritchie", "shannon", "thompson",
    "torvalds", "turing", "wozniak",
];

/// A Docker-style `adjective_scientist` name derived from `seed` (an ID), with a
/// numeric suffix when `taken` says the plain one is in use.
pub(crate) fn generate(seed: &str, taken: impl Fn(&str) -> bool) -> String {
    let n = usize::from_str_radix(&seed[..8.min(seed.len())], 16).unwrap_or(0);
    let base = format!(
        "{}_{}",
        ADJECTIVES[n % ADJECTIVES.len()],
        NAMES[(n / ADJECTIVES.len()) % NAMES.len()]
    );
    if !taken(&base) {
        return base;
    }
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|c| !taken(c))
        .unwrap_or(base)
}

/// Docker's name rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub(crate) fn validate(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex() {
        let id = new_id().unwrap();
        assert_eq!(id.len(), 64);
        assert_ne!(id, new_id().unwrap());
    }

    #[test]
    fn generated_names_avoid_taken_ones() {
        let first = generate("00000000", |_| false);
        assert_eq!(first, "admiring_babbage");
        let second = generate("00000000", |n| n == "admiring_babbage");
        assert_eq!(second, "admiring_babbage1");
    }

    #[test]
    fn names_follow_dockers_rule() {
        assert!(validate("web-1.a_b").is_ok());
        for bad in ["", "a", "-x", "has space", "slash/no"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
