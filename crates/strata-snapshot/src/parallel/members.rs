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
//!
//! Data that does not compress (random bytes, files already compressed) is
//! detected first: three 8 KiB samples of the block are compressed at level 1,
//! and when they do not shrink by 2% the block is stored (level 0) instead of
//! searched for matches that are not there. That decision is a function of the
//! block too, so members stay reproducible.

use std::io;

use libdeflater::{CompressionLvl, Compressor};

/// The highest libdeflate level; larger requests are clamped to it.
pub(super) const MAX_LEVEL: u32 = 12;

/// Blocks smaller than this are always compressed at the chosen level.
const PROBE_MIN: usize = 64 * 1024;
/// Bytes of each of the three samples a block is probed with.
const PROBE_SAMPLE: usize = 8 * 1024;

/// A reusable libdeflate context that encodes one gzip member per block.
pub(super) struct GzipMembers {
    compressor: Compressor,
    /// Level 1 (probing) and level 0 (storing), when the level compresses.
    probe: Option<(Compressor, Compressor)>,
    scratch: Vec<u8>,
}

impl GzipMembers {
    /// A context at `level` (clamped to `0..=`[`MAX_LEVEL`]; 0 stores).
    pub(super) fn new(level: u32) -> io::Result<Self> {
        let number = i32::try_from(level.min(MAX_LEVEL)).map_err(io::Error::other)?;
        let level = CompressionLvl::new(number).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad libdeflate level: {e:?}"),
            )
        })?;
        // libdeflate's levels: 0 stores, 1 is the fastest that searches.
        let probe = match (number > 0, CompressionLvl::new(1), CompressionLvl::new(0)) {
            (true, Ok(fast), Ok(stored)) => Some((Compressor::new(fast), Compressor::new(stored))),
            _ => None,
        };
        Ok(GzipMembers {
            compressor: Compressor::new(level),
            probe,
            scratch: Vec::new(),
        })
    }

    /// True when `data` looks incompressible: its samples do not shrink by 2%
    /// at level 1.
    fn incompressible(&mut self, data: &[u8]) -> bool {
        let Some((fast, _)) = &mut self.probe else {
            return false;
        };
        if data.len() < PROBE_MIN {
            return false;
        }
        let starts = [0, data.len() / 2, data.len() - PROBE_SAMPLE];
        let (mut raw, mut packed) = (0, 0);
        for start in starts {
            let sample = &data[start..start + PROBE_SAMPLE];
            self.scratch
                .resize(fast.deflate_compress_bound(sample.len()), 0);
            match fast.deflate_compress(sample, &mut self.scratch) {
                Ok(n) => packed += n,
                Err(_) => return false,
            }
            raw += sample.len();
        }
        packed * 100 >= raw * 98
    }

    /// Compresses `data` as one whole gzip member into `out` (cleared first).
    pub(super) fn encode(&mut self, data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let store = self.incompressible(data);
        let compressor = match &mut self.probe {
            Some((_, stored)) if store => stored,
            _ => &mut self.compressor,
        };
        let bound = compressor.gzip_compress_bound(data.len());
        out.clear();
        out.resize(bound, 0);
        let written = compressor
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
    fn incompressible_blocks_are_stored_and_still_round_trip() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let random: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let mut enc = GzipMembers::new(4).unwrap();
        let mut out = Vec::new();
        enc.encode(&random, &mut out).unwrap();
        // Stored: the block plus deflate's 5 bytes per 64 KiB and the gzip frame.
        assert!(
            out.len() <= random.len() + random.len() / 1000 + 64,
            "{}",
            out.len()
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&out[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == random);
        // Text still compresses.
        let t = text(1 << 20);
        enc.encode(&t, &mut out).unwrap();
        assert!(out.len() < t.len() / 2);
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
