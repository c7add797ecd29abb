//! Gzip framing and per-block raw deflate, pigz style.
//!
//! Each block is compressed by a fresh (reset) raw deflate stream primed with
//! the previous block's last [`DICT_SIZE`] bytes. Non-final blocks end with a
//! sync flush (an empty stored block, so the output ends on a byte boundary
//! and carries no "last block" bit); the final block ends with a finish. The
//! concatenation of the blocks' outputs is therefore one valid deflate stream.

use std::io;

use flate2::{Compress, Compression, FlushCompress, Status};

/// Bytes of history a deflate stream can refer back to: the dictionary size.
pub(super) const DICT_SIZE: usize = 32 * 1024;

/// The highest deflate level; larger requests are clamped to it.
pub(super) const MAX_LEVEL: u32 = 9;

/// The fixed 10-byte gzip member header for `level`.
///
/// Modification time 0, no file name, OS 255 ("unknown") so the output does
/// not depend on when or where it was made; XFL follows zlib's convention
/// (2 = maximum compression, 4 = fastest).
pub(super) fn header(level: u32) -> [u8; 10] {
    let xfl = match level {
        MAX_LEVEL => 2,
        0 | 1 => 4,
        _ => 0,
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]
}

/// The 8-byte gzip trailer: CRC-32 and input size modulo 2^32, little endian.
pub(super) fn trailer(crc: u32, bytes_in: u64) -> [u8; 8] {
    let mut t = [0u8; 8];
    t[..4].copy_from_slice(&crc.to_le_bytes());
    // ISIZE is defined as the input size modulo 2^32: truncation is intended.
    t[4..].copy_from_slice(&(bytes_in as u32).to_le_bytes());
    t
}

/// A raw deflate encoder that compresses one block at a time.
///
/// Every block gets a freshly initialized `Compress` rather than a `reset` one:
/// reset (zlib's `deflateReset`, also in zlib-rs) keeps the old window and
/// hash chains, and the match finder reads a few bytes past the end of the
/// input, so a reset compressor's output depends on what it compressed before.
/// That made output vary with the thread count (which worker got which block);
/// a fresh state costs ~1% of a block's compression time and is exact.
pub(super) struct DeflateBlocks {
    level: Compression,
}

impl DeflateBlocks {
    /// An encoder at `level` (already clamped to `0..=9`), raw deflate.
    pub(super) fn new(level: u32) -> Self {
        DeflateBlocks {
            level: Compression::new(level),
        }
    }

    /// Compresses `data` into `out` (cleared first).
    ///
    /// `dict` is the preceding input (at most [`DICT_SIZE`] bytes are used);
    /// `last` selects a finishing flush instead of a sync flush.
    pub(super) fn encode(
        &self,
        dict: &[u8],
        data: &[u8],
        last: bool,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let mut compress = Compress::new(self.level, false);
        if !dict.is_empty() {
            let start = dict.len().saturating_sub(DICT_SIZE);
            compress
                .set_dictionary(&dict[start..])
                .map_err(io::Error::other)?;
        }
        out.clear();
        // Deflate's worst case is a little over the input (stored blocks),
        // plus the flush marker; the loop below grows the buffer if needed.
        out.reserve(data.len() + data.len() / 64 + 128);
        let flush = if last {
            FlushCompress::Finish
        } else {
            FlushCompress::Sync
        };
        let mut input = data;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity() / 2 + 1024);
            }
            let before = compress.total_in();
            let status = compress
                .compress_vec(input, out, flush)
                .map_err(io::Error::other)?;
            let used = usize::try_from(compress.total_in() - before).map_err(io::Error::other)?;
            input = input.get(used..).unwrap_or_default();
            let has_room = out.len() < out.capacity();
            match status {
                Status::StreamEnd => return Ok(()),
                // A sync flush is complete once all input is consumed and the
                // compressor stopped without filling the output buffer.
                _ if !last && input.is_empty() && has_room => return Ok(()),
                Status::BufError if has_room => {
                    return Err(io::Error::other("deflate made no progress"));
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_fixed_and_marks_level_in_xfl() {
        assert_eq!(header(6), [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        assert_eq!(header(9)[8], 2);
        assert_eq!(header(1)[8], 4);
    }

    #[test]
    fn trailer_holds_crc_and_size_modulo_four_gib() {
        let t = trailer(0xdead_beef, (1 << 32) + 5);
        assert_eq!(t, [0xef, 0xbe, 0xad, 0xde, 5, 0, 0, 0]);
    }

    #[test]
    fn sync_flushed_blocks_concatenate_into_one_deflate_stream() {
        let text: Vec<u8> = (0..100_000u32)
            .flat_map(|i| format!("line {} ", i % 997).into_bytes())
            .collect();
        let (a, b) = text.split_at(text.len() / 2);
        let enc = DeflateBlocks::new(6);
        let mut first = Vec::new();
        let mut second = Vec::new();
        enc.encode(&[], a, false, &mut first).unwrap();
        assert!(first.ends_with(&[0, 0, 0xff, 0xff]));
        enc.encode(a, b, true, &mut second).unwrap();
        first.extend_from_slice(&second);
        let mut back = Vec::new();
        let mut inflate = flate2::Decompress::new(false);
        back.reserve(text.len() + 1);
        let status = inflate
            .decompress_vec(&first, &mut back, flate2::FlushDecompress::Finish)
            .unwrap();
        assert_eq!(status, Status::StreamEnd);
        assert_eq!(back, text);
    }

    #[test]
    fn incompressible_block_larger_than_reserve_still_encodes() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut out = Vec::new();
        for level in [0, 1, 9] {
            DeflateBlocks::new(level)
                .encode(&[], &data, true, &mut out)
                .unwrap();
            assert!(out.len() >= data.len());
        }
    }

    #[test]
    fn a_block_encodes_the_same_whatever_the_encoder_did_before() {
        // With a reused, reset zlib-rs compressor, block 13 at level 1 of
        // this input came out differently: the regression this guards.
        let mut x = 1u64;
        let mut text = Vec::new();
        while text.len() < 600_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text.extend_from_slice(format!("{} word{} ", x % 1000, x % 7).as_bytes());
        }
        for level in [1, 6, 9] {
            let enc = DeflateBlocks::new(level);
            for i in 0..16 {
                let dict = &text[i * 32768..][..32768];
                let data = &text[(i + 1) * 32768..][..32768];
                let mut fresh = Vec::new();
                DeflateBlocks::new(level)
                    .encode(dict, data, false, &mut fresh)
                    .unwrap();
                let mut other = Vec::new();
                enc.encode(&[], &text[i * 7919..][..65536], true, &mut other)
                    .unwrap();
                enc.encode(dict, data, false, &mut other).unwrap();
                assert!(
                    fresh == other,
                    "level {level}, block {i} depends on history"
                );
            }
        }
    }
}
