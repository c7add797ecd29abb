//! Tarballs built entry by entry, with no sanitising: the tool for hostile inputs.

use std::io::Write;

/// Builds an in-memory tar archive. Names and link targets are written verbatim
/// (even `../x` or `/etc/passwd`), which the `tar` crate's safe API refuses to do.
#[derive(Default)]
pub struct TarBuilder {
    out: Vec<u8>,
}

impl TarBuilder {
    /// An empty archive.
    pub fn new() -> Self {
        TarBuilder::default()
    }

    fn header(kind: tar::EntryType, name: &str, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        let raw = name.as_bytes();
        assert!(
            raw.len() <= 100,
            "TarBuilder names are limited to 100 bytes"
        );
        let old = h.as_old_mut();
        old.name = [0; 100];
        old.name[..raw.len()].copy_from_slice(raw);
        h
    }

    fn push(&mut self, mut h: tar::Header, data: &[u8]) -> &mut Self {
        h.set_cksum();
        self.out.write_all(h.as_bytes()).unwrap();
        self.out.write_all(data).unwrap();
        let pad = (512 - data.len() % 512) % 512;
        self.out.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.file_with(name, data, 0o644, 0, 0)
    }

    /// A regular file with mode and owner.
    pub fn file_with(
        &mut self,
        name: &str,
        data: &[u8],
        mode: u32,
        uid: u64,
        gid: u64,
    ) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Regular, name, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        self.push(h, data)
    }

    /// A header claiming `size` bytes followed by no data at all (for size-limit tests).
    pub fn file_header_only(&mut self, name: &str, size: u64) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Regular, name, 0o644, size);
        h.set_cksum();
        self.out.write_all(h.as_bytes()).unwrap();
        self
    }

    /// A directory.
    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.dir_with(name, 0o755)
    }

    /// A directory with a mode.
    pub fn dir_with(&mut self, name: &str, mode: u32) -> &mut Self {
        let h = Self::header(tar::EntryType::Directory, name, mode, 0);
        self.push(h, &[])
    }

    fn link(&mut self, kind: tar::EntryType, name: &str, target: &str) -> &mut Self {
        let mut h = Self::header(kind, name, 0o777, 0);
        let raw = target.as_bytes();
        assert!(
            raw.len() <= 100,
            "TarBuilder link targets are limited to 100 bytes"
        );
        let old = h.as_old_mut();
        old.linkname = [0; 100];
        old.linkname[..raw.len()].copy_from_slice(raw);
        self.push(h, &[])
    }

    /// A symbolic link `name -> target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.link(tar::EntryType::Symlink, name, target)
    }

    /// A hard link `name` to the archive path `target`.
    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.link(tar::EntryType::Link, name, target)
    }

    /// A character device.
    pub fn char_device(&mut self, name: &str, major: u32, minor: u32) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Char, name, 0o666, 0);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        self.push(h, &[])
    }

    /// A FIFO.
    pub fn fifo(&mut self, name: &str) -> &mut Self {
        let h = Self::header(tar::EntryType::Fifo, name, 0o644, 0);
        self.push(h, &[])
    }

    /// A PAX extended header with the given records, applying to the next entry.
    pub fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut body = Vec::new();
        for (k, v) in records {
            // "%d %s=%s\n" where the length counts itself.
            let rest = k.len() + v.len() + 3;
            let mut len = rest + 1;
            while len != rest + len.to_string().len() {
                len = rest + len.to_string().len();
            }
            body.extend_from_slice(format!("{len} {k}=").as_bytes());
            body.extend_from_slice(v);
            body.push(b'\n');
        }
        let h = Self::header(
            tar::EntryType::XHeader,
            "PaxHeader",
            0o644,
            body.len() as u64,
        );
        self.push(h, &body)
    }

    /// Appends raw data (padded to a block) after a header written by
    /// [`file_header_only`](Self::file_header_only), then the end marker.
    pub fn finish_with_data(&mut self, data: &[u8]) -> Vec<u8> {
        self.out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.out.extend(std::iter::repeat_n(0u8, pad));
        self.finish()
    }

    /// The archive with its end-of-archive marker.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        out.extend(std::iter::repeat_n(0u8, 1024));
        out
    }
}
