//! Round trips, reproducibility, ratio and failure behaviour.

use std::io::{self, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::*;

const B: usize = DEFAULT_GZIP_BLOCK_SIZE;
const GZIP6: Codec = Codec::Gzip { level: 6 };
const ZSTD3: Codec = Codec::Zstd { level: 3 };
const MEMBERS4: Codec = Codec::GzipMembers { level: 4 };
const M: usize = DEFAULT_GZIP_MEMBER_BLOCK_SIZE;

/// Incompressible bytes from a xorshift64 generator.
fn random_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Highly compressible, log-like text built from a small vocabulary.
fn text(len: usize) -> Vec<u8> {
    const WORDS: [&str; 12] = [
        "layer", "image", "manifest", "sha256", "config", "rootfs", "usr", "lib", "etc", "blob",
        "digest", "tar",
    ];
    let mut out = Vec::with_capacity(len + 64);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut line = 0u64;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        line += 1;
        let words = WORDS[(x % 12) as usize];
        let other = WORDS[((x >> 8) % 12) as usize];
        out.extend_from_slice(format!("{line:08} {words}/{other} {}\n", x % 1000).as_bytes());
    }
    out.truncate(len);
    out
}

/// Compresses `data` in `chunk`-sized writes.
fn compress(data: &[u8], codec: Codec, threads: usize, chunk: usize, block: usize) -> Vec<u8> {
    let mut c = ParallelCompressor::with_block_size(Vec::new(), codec, threads, block);
    for piece in data.chunks(chunk) {
        c.write_all(piece).unwrap();
    }
    assert_eq!(c.bytes_in(), data.len() as u64);
    c.finish().unwrap()
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut single = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut single)
        .unwrap();
    let mut multi = Vec::new();
    flate2::read::MultiGzDecoder::new(gz)
        .read_to_end(&mut multi)
        .unwrap();
    assert_eq!(single, multi);
    single
}

fn unzstd(zst: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ::zstd::stream::read::Decoder::new(zst)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Pipes `input` through a system tool; returns (success, stdout).
fn pipe(tool: &str, args: &[&str], input: &[u8]) -> (bool, Vec<u8>) {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    (output.status.success(), output.stdout)
}

/// Asserts equality without dumping megabytes when it fails.
fn assert_same(a: &[u8], b: &[u8], what: &str) {
    let first = a.iter().zip(b).position(|(x, y)| x != y);
    assert!(
        a == b,
        "{what}: lengths {} vs {}, first difference at {first:?}",
        a.len(),
        b.len()
    );
}

fn edge_inputs() -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> = [0, 1, B - 1, B, B + 1, 5 * B + 123]
        .iter()
        .map(|&n| text(n))
        .collect();
    inputs.push(random_bytes(3 * B + 17, 7));
    inputs
}

#[test]
fn gzip_round_trips_through_flate2_for_edge_sizes() {
    for input in edge_inputs() {
        for threads in [1, 2] {
            let gz = compress(&input, GZIP6, threads, 65537, B);
            assert_same(&gunzip(&gz), &input, &format!("{} bytes", input.len()));
        }
    }
}

#[test]
fn gzip_output_is_accepted_and_decoded_by_system_gzip() {
    for input in edge_inputs() {
        let gz = compress(&input, GZIP6, 2, 7919, B);
        assert!(pipe("/usr/bin/gzip", &["-t"], &gz).0, "gzip -t rejected it");
        let (ok, back) = pipe("/usr/bin/gzip", &["-dc"], &gz);
        assert!(ok, "gzip -dc failed");
        assert_same(&back, &input, "gzip -dc");
    }
}

#[test]
fn zstd_round_trips_through_the_zstd_crate_and_system_zstd() {
    let block = MIN_BLOCK_SIZE;
    let mut inputs: Vec<Vec<u8>> = [0, 1, block - 1, block, block + 1, 9 * block + 5]
        .iter()
        .map(|&n| text(n))
        .collect();
    inputs.push(random_bytes(2 * block + 3, 11));
    for input in inputs {
        let zst = compress(&input, ZSTD3, 2, 65537, block);
        assert_same(&unzstd(&zst), &input, "zstd crate");
        let (ok, back) = pipe("/usr/bin/zstd", &["-dc"], &zst);
        assert!(ok, "zstd -dc failed");
        assert_same(&back, &input, "zstd -dc");
    }
}

#[test]
fn zstd_with_default_block_size_round_trips_many_frames() {
    let input = text(3 * DEFAULT_ZSTD_BLOCK_SIZE + 99);
    let zst = compress(&input, ZSTD3, 2, 1 << 20, DEFAULT_ZSTD_BLOCK_SIZE);
    let (ok, back) = pipe("/usr/bin/zstd", &["-dc"], &zst);
    assert!(ok, "zstd -dc failed");
    assert_same(&back, &input, "zstd -dc");
}

#[test]
fn every_gzip_level_round_trips_and_levels_above_nine_act_as_nine() {
    let input = text(2 * B + 1000);
    for level in 0..=9 {
        let gz = compress(&input, Codec::Gzip { level }, 2, B, B);
        assert_same(&gunzip(&gz), &input, &format!("level {level}"));
    }
    let nine = compress(&input, Codec::Gzip { level: 9 }, 2, B, B);
    let above = compress(&input, Codec::Gzip { level: 42 }, 2, B, B);
    assert_same(&above, &nine, "level 42");
}

#[test]
fn gzip_output_is_identical_for_any_thread_count() {
    // Which worker gets which block varies from run to run: repeat.
    for input in [
        text(40 * MIN_BLOCK_SIZE + 3),
        random_bytes(9 * MIN_BLOCK_SIZE, 3),
    ] {
        for level in [1, 6] {
            let codec = Codec::Gzip { level };
            let one = compress(&input, codec, 1, 65537, MIN_BLOCK_SIZE);
            for threads in [0, 2, 8, 2, 8, 3] {
                let many = compress(&input, codec, threads, 65537, MIN_BLOCK_SIZE);
                assert_same(&many, &one, &format!("level {level}, {threads} threads"));
            }
        }
    }
}

#[test]
fn zstd_output_is_identical_for_any_thread_count() {
    let input = text(40 * MIN_BLOCK_SIZE + 3);
    let one = compress(&input, ZSTD3, 1, 65537, MIN_BLOCK_SIZE);
    for threads in [0, 2, 8, 2, 8, 3] {
        let many = compress(&input, ZSTD3, threads, 65537, MIN_BLOCK_SIZE);
        assert_same(&many, &one, &format!("{threads} threads"));
    }
}

#[test]
fn output_is_identical_for_any_write_chunking() {
    let input = text(3 * MIN_BLOCK_SIZE + 5);
    for codec in [GZIP6, MEMBERS4, ZSTD3] {
        let whole = compress(&input, codec, 2, input.len(), MIN_BLOCK_SIZE);
        for chunk in [1, 7, 65537] {
            let chunked = compress(&input, codec, 2, chunk, MIN_BLOCK_SIZE);
            assert_same(
                &chunked,
                &whole,
                &format!("{codec:?} in {chunk}-byte writes"),
            );
        }
    }
}

#[test]
fn gzip_header_is_fixed_for_reproducible_builds() {
    let gz = compress(b"abc", GZIP6, 2, 1, B);
    assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    let crc = crc32fast::hash(b"abc").to_le_bytes();
    assert_eq!(&gz[gz.len() - 8..gz.len() - 4], &crc);
    assert_eq!(&gz[gz.len() - 4..], &3u32.to_le_bytes());
}

#[test]
fn gzip_ratio_is_within_two_percent_of_single_stream_gzip() {
    let input = text(4 << 20);
    for level in [1, 6, 9] {
        let ours = compress(&input, Codec::Gzip { level }, 2, 1 << 20, B).len();
        let mut reference =
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        reference.write_all(&input).unwrap();
        let reference = reference.finish().unwrap().len();
        let excess = ours as f64 / reference as f64 - 1.0;
        assert!(excess < 0.02, "level {level}: {ours} vs {reference} bytes");
    }
}

#[test]
fn flush_writes_completed_blocks_without_changing_the_output() {
    let input = text(5 * MIN_BLOCK_SIZE);
    let plain = compress(&input, GZIP6, 2, 4096, MIN_BLOCK_SIZE);
    let mut c = ParallelCompressor::with_block_size(Vec::new(), GZIP6, 2, MIN_BLOCK_SIZE);
    for piece in input.chunks(40_000) {
        c.write_all(piece).unwrap();
        c.flush().unwrap();
    }
    assert_same(&c.finish().unwrap(), &plain, "flushed");
}

/// A sink that accepts `room` bytes, then fails every write.
struct FullDisk {
    room: usize,
}

impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.room < buf.len() {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        self.room -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn sink_errors_surface_from_write_or_finish_and_stick() {
    let input = random_bytes(20 * MIN_BLOCK_SIZE, 5);
    for (codec, threads, room) in [
        (GZIP6, 1, 0),
        (GZIP6, 1, 100_000),
        (GZIP6, 2, 100_000),
        (GZIP6, 8, 300_000),
        (GZIP6, 2, 1 << 30),
        (MEMBERS4, 1, 0),
        (MEMBERS4, 2, 100_000),
        (MEMBERS4, 8, 300_000),
        (MEMBERS4, 2, 1 << 30),
    ] {
        let sink = FullDisk { room };
        let mut c = ParallelCompressor::with_block_size(sink, codec, threads, MIN_BLOCK_SIZE);
        let written = input
            .chunks(10_000)
            .try_for_each(|piece| c.write_all(piece));
        if let Err(e) = written {
            assert_eq!(e.kind(), io::ErrorKind::StorageFull);
            assert_eq!(
                c.write(b"x").unwrap_err().kind(),
                io::ErrorKind::StorageFull
            );
        }
        match c.finish() {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::StorageFull),
            Ok(_) => assert_eq!(room, 1 << 30, "error was swallowed"),
        }
    }
}

#[test]
fn dropping_without_finish_stops_workers_without_hanging() {
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        for threads in [1, 2, 8] {
            for codec in [GZIP6, MEMBERS4, ZSTD3] {
                let mut c =
                    ParallelCompressor::with_block_size(Vec::new(), codec, threads, MIN_BLOCK_SIZE);
                c.write_all(&text(30 * MIN_BLOCK_SIZE + 1)).unwrap();
                drop(c);
            }
        }
        drop(ParallelCompressor::new(Vec::new(), GZIP6, 4));
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("drop hung or panicked");
}

#[test]
fn bytes_in_counts_every_accepted_byte() {
    let mut c = ParallelCompressor::new(Vec::new(), ZSTD3, 2);
    assert_eq!(c.bytes_in(), 0);
    c.write_all(&[0; 1000]).unwrap();
    c.write_all(&[1; MIN_BLOCK_SIZE * 3]).unwrap();
    assert_eq!(c.bytes_in(), 1000 + 3 * MIN_BLOCK_SIZE as u64);
}

// ---- Gzip members (libdeflate) ----

/// Decodes every member with flate2's MultiGzDecoder.
fn gunzip_members(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(gz)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn member_edge_inputs(block: usize) -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> = [0, 1, block - 1, block, block + 1, 3 * block + 123]
        .iter()
        .map(|&n| text(n))
        .collect();
    inputs.push(random_bytes(2 * block + 17, 9));
    inputs
}

#[test]
fn members_round_trip_through_flate2_and_system_gzip_for_edge_sizes() {
    for block in [MIN_BLOCK_SIZE, B, M] {
        for input in member_edge_inputs(block) {
            let what = format!("{} bytes in {block}-byte members", input.len());
            for threads in [1, 2] {
                let gz = compress(&input, MEMBERS4, threads, 65537, block);
                assert_same(&gunzip_members(&gz), &input, &what);
            }
            let gz = compress(&input, MEMBERS4, 2, 7919, block);
            assert!(pipe("/usr/bin/gzip", &["-t"], &gz).0, "gzip -t: {what}");
            let (ok, back) = pipe("/usr/bin/gzip", &["-dc"], &gz);
            assert!(ok, "gzip -dc failed: {what}");
            assert_same(&back, &input, &what);
        }
    }
}

#[test]
fn members_round_trip_through_python_gzip_when_available() {
    let Ok(status) = Command::new("python3")
        .arg("-c")
        .arg("import gzip")
        .status()
    else {
        return;
    };
    if !status.success() {
        return;
    }
    let input = text(3 * MIN_BLOCK_SIZE + 5);
    let gz = compress(&input, MEMBERS4, 2, 65537, MIN_BLOCK_SIZE);
    let script =
        "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))";
    let (ok, back) = pipe("python3", &["-c", script], &gz);
    assert!(ok, "python3 gzip failed");
    assert_same(&back, &input, "python3 gzip");
}

#[test]
fn every_member_level_round_trips_and_levels_above_twelve_act_as_twelve() {
    let input = text(2 * MIN_BLOCK_SIZE + 1000);
    for level in 0..=12 {
        let gz = compress(&input, Codec::GzipMembers { level }, 2, B, MIN_BLOCK_SIZE);
        assert_same(&gunzip_members(&gz), &input, &format!("level {level}"));
    }
    let twelve = compress(
        &input,
        Codec::GzipMembers { level: 12 },
        2,
        B,
        MIN_BLOCK_SIZE,
    );
    let above = compress(
        &input,
        Codec::GzipMembers { level: 99 },
        2,
        B,
        MIN_BLOCK_SIZE,
    );
    assert_same(&above, &twelve, "level 99");
}

#[test]
fn member_output_is_identical_for_any_thread_count() {
    // Which worker gets which block varies from run to run: repeat.
    for input in [
        text(40 * MIN_BLOCK_SIZE + 3),
        random_bytes(9 * MIN_BLOCK_SIZE, 3),
    ] {
        for level in [1, 6, 12] {
            let codec = Codec::GzipMembers { level };
            let one = compress(&input, codec, 1, 65537, MIN_BLOCK_SIZE);
            for threads in [0, 2, 8, 2, 8, 3] {
                let many = compress(&input, codec, threads, 65537, MIN_BLOCK_SIZE);
                assert_same(&many, &one, &format!("level {level}, {threads} threads"));
            }
        }
    }
    let input = text(3 * M + 1);
    let one = compress(&input, MEMBERS4, 1, 65537, M);
    for threads in [2, 8] {
        let many = compress(&input, MEMBERS4, threads, 65537, M);
        assert_same(&many, &one, &format!("1 MiB members, {threads} threads"));
    }
}

#[test]
fn members_are_independent_gzip_members_one_per_block() {
    let input = text(2 * MIN_BLOCK_SIZE + 10);
    let gz = compress(&input, MEMBERS4, 2, 65537, MIN_BLOCK_SIZE);
    assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    // The last member holds the last 10 bytes.
    assert_eq!(&gz[gz.len() - 4..], &10u32.to_le_bytes());
    // A single-member reader stops after the first block: the caveat of
    // this format, which is why layer readers must be multi-member.
    let mut first = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut first)
        .unwrap();
    assert_same(&first, &input[..MIN_BLOCK_SIZE], "first member");
    // An empty input is one valid (empty) member.
    let empty = compress(&[], MEMBERS4, 2, 1, MIN_BLOCK_SIZE);
    assert!(gunzip_members(&empty).is_empty());
    assert!(pipe("/usr/bin/gzip", &["-t"], &empty).0);
}

#[test]
fn member_ratio_is_within_two_percent_of_single_stream_gzip() {
    // Ratio guard: 1 MiB libdeflate members against one zlib-rs stream at
    // the same level (on this text the members are ~10% smaller at 6 and 9;
    // the rootfs corpus numbers are in examples/bench.rs's results).
    let input = text(4 << 20);
    for level in [1, 6, 9] {
        let ours = compress(&input, Codec::GzipMembers { level }, 2, 1 << 20, M).len();
        let mut reference =
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        reference.write_all(&input).unwrap();
        let reference = reference.finish().unwrap().len();
        let excess = ours as f64 / reference as f64 - 1.0;
        eprintln!(
            "level {level}: {ours} vs {reference} bytes ({:+.2}%)",
            100.0 * excess
        );
        assert!(excess < 0.02, "level {level}: {ours} vs {reference} bytes");
    }
}
