//! Gzip as a sequence of members, one per block, compressed by libdeflate.
//!
//! libdeflate compresses a whole buffer at once and has no preset dictionary
//! and no flush modes: its last deflate block always carries the "final"
//! bit. So instead of one deflate stream (the pigz scheme of
//! [`super::gzip`]), every block becomes a complete gzip member: the fixed
//! 10-byte header libdeflate writes (mtime 0, no name, OS 255 "unknown"),
//! the raw deflate data, and the member's own CRC-32 / size trailer.
//!
//! RFC 1952 (section 2.2) defines a gzip file as a series of members, and
//! every mainstream reader decompresses them back to back: `gzip -d`, pigz,
//! Go's `compress/gzip` (multistream is its default, so Docker, containerd
//! and skopeo), Python's `gzip`, flate2's `MultiGzDecoder`. A reader that
//! stops after the first member (flate2's plain `GzDecoder`, Python's
//! `zlib.decompress(.., 31)`) silently returns only the first block.
//!
//! Matches cannot reach across members, which costs ratio compared with a
//! dictionary; larger blocks (1 MiB) make that loss small, and libdeflate's
//! better parsing more than makes up for it at the same level.
//!
//! Each member is a pure function of (block, level): libdeflate initializes
//! its match finder for every call and reads only the given input, so a
//! reused compressor gives the same bytes as a fresh one (tested below).

use std::io;

use libdeflater::{CompressionLvl, Compressor};

/// The highest libdeflate level; larger requests are clamped to it.
pub(super) const MAX_LEVEL: u32 = 12;

/// A reusable libdeflate context that encodes one gzip member per block.
pub(super) struct GzipMembers {
    compressor: Compressor,
}

impl GzipMembers {
    /// A context at `level` (clamped to `0..=`[`MAX_LEVEL`]; 0 stores).
    pub(super) fn new(level: u32) -> io::Result<Self> {
        let level = i32::try_from(level.min(MAX_LEVEL)).map_err(io::Error::other)?;
        let level = CompressionLvl::new(level).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad libdeflate level: {e:?}"),
            )
        })?;
        Ok(GzipMembers {
            compressor: Compressor::new(level),
        })
    }

    /// Compresses `data` as one whole gzip member into `out` (cleared first).
    pub(super) fn encode(&mut self, data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let bound = self.compressor.gzip_compress_bound(data.len());
        out.clear();
        out.resize(bound, 0);
        let written = self
            .compressor
            .gzip_compress(data, out)
            .map_err(|e| io::Error::other(format!("libdeflate: {e}")))?;
        out.truncate(written);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn text(len: usize) -> Vec<u8> {
        let mut x = 1u64;
        let mut out = Vec::with_capacity(len + 32);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(format!("{} word{} ", x % 1000, x % 7).as_bytes());
        }
        out.truncate(len);
        out
    }

    #[test]
    fn concatenated_members_decode_to_concatenated_blocks() {
        let mut enc = GzipMembers::new(6).unwrap();
        let mut stream = Vec::new();
        let mut out = Vec::new();
        let input = text(300_000);
        for part in [&input[..1], &[][..], &input[1..200_000], &input[200_000..]] {
            enc.encode(part, &mut out).unwrap();
            stream.extend_from_slice(&out);
        }
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&stream[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == input);
    }

    #[test]
    fn member_header_is_fixed_for_reproducible_builds() {
        let mut out = Vec::new();
        GzipMembers::new(6)
            .unwrap()
            .encode(b"abc", &mut out)
            .unwrap();
        assert_eq!(&out[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        assert_eq!(&out[out.len() - 4..], &3u32.to_le_bytes());
        GzipMembers::new(1).unwrap().encode(b"", &mut out).unwrap();
        assert_eq!(out[8], 4, "XFL marks the fastest levels");
        let mut back = vec![1u8];
        flate2::read::GzDecoder::new(&out[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, [1], "an empty member is still a valid member");
    }

    #[test]
    fn levels_above_the_maximum_act_as_the_maximum_and_all_round_trip() {
        let input = text(100_000);
        let mut top = Vec::new();
        GzipMembers::new(MAX_LEVEL)
            .unwrap()
            .encode(&input, &mut top)
            .unwrap();
        let mut above = Vec::new();
        GzipMembers::new(99)
            .unwrap()
            .encode(&input, &mut above)
            .unwrap();
        assert_eq!(top, above);
        for level in 0..=MAX_LEVEL {
            let mut out = Vec::new();
            GzipMembers::new(level)
                .unwrap()
                .encode(&input, &mut out)
                .unwrap();
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&out[..])
                .read_to_end(&mut back)
                .unwrap();
            assert!(back == input, "level {level}");
        }
    }

    #[test]
    fn incompressible_input_fits_the_bound() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..1_100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for level in [0, 1, 6, 12] {
            let mut out = Vec::new();
            GzipMembers::new(level)
                .unwrap()
                .encode(&data, &mut out)
                .unwrap();
            assert!(out.len() >= data.len());
        }
    }

    #[test]
    fn a_member_encodes_the_same_whatever_the_context_did_before() {
        let input = text(2_000_000);
        for level in [1, 6, 9, 12] {
            let mut reused = GzipMembers::new(level).unwrap();
            for i in 0..6 {
                let data = &input[(i + 1) * 200_000..][..131_072];
                let mut fresh = Vec::new();
                GzipMembers::new(level)
                    .unwrap()
                    .encode(data, &mut fresh)
                    .unwrap();
                let mut other = Vec::new();
                reused
                    .encode(&input[i * 7919..][..400_000], &mut other)
                    .unwrap();
                reused.encode(data, &mut other).unwrap();
                assert!(
                    fresh == other,
                    "level {level}, member {i} depends on history"
                );
            }
        }
    }
}
