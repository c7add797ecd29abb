//! Chain IDs: the identity of a layer *stack*, as the OCI image spec defines it.
//!
//! `ChainID(L0) = DiffID(L0)`, `ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))`.
//! Unpacked snapshots are keyed by chain ID, so two images with the same base layers
//! share them.

use crate::digest::{Algorithm, Digest, Digester};

/// The chain ID of every prefix of `diff_ids`: element `i` identifies layers `0..=i`.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = match out.last() {
            None => diff_id.clone(),
            Some(parent) => {
                let mut d = Digester::new(Algorithm::Sha256);
                d.update(parent.to_string().as_bytes());
                d.update(b" ");
                d.update(diff_id.to_string().as_bytes());
                d.finish()
            }
        };
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_spec_formula() {
        let a = Digest::sha256_of(b"a");
        let b = Digest::sha256_of(b"b");
        let ids = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(ids[0], a);
        assert_eq!(ids[1], Digest::sha256_of(format!("{a} {b}").as_bytes()));
        assert!(chain_ids(&[]).is_empty());
    }
}
