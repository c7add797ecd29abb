//! Zstd blocks as independent frames.
//!
//! Every block becomes one complete zstd frame (content size recorded in the
//! frame header, content checksum on, as the `zstd` tool does by default). A
//! zstd stream may be a sequence of frames and decoders concatenate their
//! contents, so the joined frames decode to the joined blocks.

use std::io;

use ::zstd::bulk::Compressor;

/// A reusable zstd compression context that encodes one frame per block.
pub(super) struct ZstdFrames {
    compressor: Compressor<'static>,
}

impl ZstdFrames {
    /// A context at `level` (zstd clamps out-of-range levels itself).
    pub(super) fn new(level: i32) -> io::Result<Self> {
        let mut compressor = Compressor::new(level)?;
        compressor.include_checksum(true)?;
        Ok(ZstdFrames { compressor })
    }

    /// Compresses `data` as one whole frame into `out` (cleared first).
    pub(super) fn encode(&mut self, data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        out.reserve(::zstd::zstd_safe::compress_bound(data.len()));
        self.compressor.compress_to_buffer(data, out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenated_frames_decode_to_concatenated_blocks() {
        let mut enc = ZstdFrames::new(3).unwrap();
        let mut stream = Vec::new();
        let mut out = Vec::new();
        for part in [&b"hello "[..], b"", b"zstd frames"] {
            enc.encode(part, &mut out).unwrap();
            stream.extend_from_slice(&out);
        }
        let back = ::zstd::stream::decode_all(&stream[..]).unwrap();
        assert_eq!(back, b"hello zstd frames");
    }

    #[test]
    fn empty_block_still_makes_a_frame() {
        let mut out = Vec::new();
        ZstdFrames::new(3).unwrap().encode(&[], &mut out).unwrap();
        assert_eq!(&out[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
    }

    #[test]
    fn a_frame_encodes_the_same_whatever_the_context_did_before() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{} word{} ", (i * 7919) % 1000, i % 7).into_bytes())
            .collect();
        for level in [1, 3, 9] {
            let mut reused = ZstdFrames::new(level).unwrap();
            for i in 0..6 {
                let data = &text[(i + 1) * 100_000..][..100_000];
                let mut fresh = Vec::new();
                ZstdFrames::new(level)
                    .unwrap()
                    .encode(data, &mut fresh)
                    .unwrap();
                let mut other = Vec::new();
                reused
                    .encode(&text[i * 7919..][..150_000], &mut other)
                    .unwrap();
                reused.encode(data, &mut other).unwrap();
                assert!(
                    fresh == other,
                    "level {level}, frame {i} depends on history"
                );
            }
        }
    }
}
