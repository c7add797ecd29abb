//! Byte ranges on the wire, for uploads and for blob downloads.
//!
//! Uploads use the spec's bare form: a chunk `PATCH` says `Content-Range: 0-1023`
//! ([`ByteRange`]; `bytes 0-1023/*` and `bytes=0-1023` are read too), and the
//! registry reports what it holds with `Range: 0-1023` ([`UploadProgress`]).
//! Downloads use RFC 9110: `Range: bytes=0-1023`, `bytes=1024-` or `bytes=-512`
//! ([`RangeRequest`], one range only), answered by `Content-Range: bytes
//! 0-1023/4096` or, with 416, `bytes */4096` ([`ContentRange`]).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// An inclusive range of byte offsets, `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte, inclusive.
    pub end: u64,
}

impl ByteRange {
    /// The range `start..=end`; `None` when `end < start`.
    pub fn new(start: u64, end: u64) -> Option<Self> {
        (start <= end).then_some(ByteRange { start, end })
    }

    /// Number of bytes in the range (never zero).
    pub fn size(&self) -> u64 {
        // `0-18446744073709551615` holds 2^64 bytes: saturate rather than wrap.
        (self.end - self.start).saturating_add(1)
    }

    /// Checks that an upload chunk starts where the `received` bytes end,
    /// as the spec requires; otherwise the registry answers 416.
    pub fn check_continues(&self, received: u64) -> Result<()> {
        if self.start == received {
            Ok(())
        } else {
            Err(Error::RangeNotSatisfiable {
                input: self.to_string(),
                reason: format!(
                    "the upload holds {received} bytes, so the next chunk starts there"
                ),
            })
        }
    }
}

impl fmt::Display for ByteRange {
    /// `0-1023`, the upload form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

impl FromStr for ByteRange {
    type Err = Error;

    /// An upload `Content-Range`: `0-1023`, also `bytes 0-1023/*`, `bytes 0-1023/2048`, `bytes=0-1023`.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidRange {
            input: s.to_owned(),
            reason,
        };
        let body = strip_unit(s.trim(), &[' ', '=']).unwrap_or(s.trim());
        let (range, total) = body.split_once('/').unwrap_or((body, "*"));
        if total != "*" {
            number(total).ok_or_else(|| invalid("bad total length"))?;
        }
        let (start, end) = range
            .split_once('-')
            .ok_or_else(|| invalid("expected START-END"))?;
        let (start, end) = number(start)
            .zip(number(end))
            .ok_or_else(|| invalid("expected START-END in decimal"))?;
        ByteRange::new(start, end).ok_or_else(|| invalid("end before start"))
    }
}

/// What an upload session holds, as its `Range: 0-<last byte>` header says.
///
/// An empty upload is written `0-0`, as distribution does; the form cannot
/// tell it from a one-byte upload, so a client resuming at offset 1 of an
/// empty upload gets a 416 and starts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UploadProgress {
    /// Bytes received so far: the offset of the next chunk.
    pub received: u64,
}

impl fmt::Display for UploadProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0-{}", self.received.saturating_sub(1))
    }
}

impl FromStr for UploadProgress {
    type Err = Error;

    /// `0-1023` (also `bytes=0-1023`) means 1024 bytes received.
    fn from_str(s: &str) -> Result<Self> {
        let range: ByteRange = s.parse()?;
        if range.start != 0 {
            return Err(Error::InvalidRange {
                input: s.to_owned(),
                reason: "an upload's range starts at 0",
            });
        }
        Ok(UploadProgress {
            received: range.end.saturating_add(1),
        })
    }
}

/// A blob download's `Range` header: one range of RFC 9110's `bytes` unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeRequest {
    /// `bytes=START-END`.
    FromTo(u64, u64),
    /// `bytes=START-`: to the end.
    From(u64),
    /// `bytes=-N`: the last `N` bytes.
    Suffix(u64),
}

impl RangeRequest {
    /// The bytes of content of `size` bytes this request selects, with the
    /// end clamped to the content; `RangeNotSatisfiable` (416) when none are.
    pub fn resolve(&self, size: u64) -> Result<ByteRange> {
        let last = size.checked_sub(1);
        let range = match (*self, last) {
            (RangeRequest::FromTo(start, end), Some(last)) if start <= last => {
                ByteRange::new(start, end.min(last))
            }
            (RangeRequest::From(start), Some(last)) if start <= last => ByteRange::new(start, last),
            (RangeRequest::Suffix(n), Some(last)) if n > 0 => {
                ByteRange::new(size.saturating_sub(n), last)
            }
            _ => None,
        };
        range.ok_or_else(|| Error::RangeNotSatisfiable {
            input: self.to_string(),
            reason: format!("no byte of it lies within the {size} bytes of the content"),
        })
    }
}

impl fmt::Display for RangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeRequest::FromTo(s, e) => write!(f, "bytes={s}-{e}"),
            RangeRequest::From(s) => write!(f, "bytes={s}-"),
            RangeRequest::Suffix(n) => write!(f, "bytes=-{n}"),
        }
    }
}

impl FromStr for RangeRequest {
    type Err = Error;

    /// Several ranges or another unit are `UnsupportedRange`: a server then
    /// ignores the header and sends the whole blob, as RFC 9110 allows.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidRange {
            input: s.to_owned(),
            reason,
        };
        let unsupported = |reason| Error::UnsupportedRange {
            input: s.to_owned(),
            reason,
        };
        let (unit, set) = s
            .trim()
            .split_once('=')
            .ok_or_else(|| invalid("expected bytes=…"))?;
        if !unit.trim().eq_ignore_ascii_case("bytes") {
            return Err(unsupported("only the bytes unit is served"));
        }
        if set.contains(',') {
            return Err(unsupported("only a single range is served"));
        }
        let (start, end) = set
            .trim()
            .split_once('-')
            .ok_or_else(|| invalid("expected START-END"))?;
        let request = match (start, end) {
            ("", n) => RangeRequest::Suffix(number(n).ok_or_else(|| invalid("bad suffix length"))?),
            (s, "") => RangeRequest::From(number(s).ok_or_else(|| invalid("bad start"))?),
            (s, e) => {
                let (s, e) = number(s)
                    .zip(number(e))
                    .ok_or_else(|| invalid("bad range"))?;
                if e < s {
                    return Err(invalid("end before start"));
                }
                RangeRequest::FromTo(s, e)
            }
        };
        Ok(request)
    }
}

/// A response's `Content-Range`: `bytes 0-1023/4096`, `bytes 0-1023/*` or `bytes */4096`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentRange {
    /// The bytes sent; `None` in a 416's `bytes */TOTAL`.
    pub range: Option<ByteRange>,
    /// The whole content's length, when known.
    pub total: Option<u64>,
}

impl ContentRange {
    /// `bytes S-E/TOTAL`.
    pub fn new(range: ByteRange, total: u64) -> Self {
        ContentRange {
            range: Some(range),
            total: Some(total),
        }
    }

    /// `bytes */TOTAL`, sent with a 416.
    pub fn unsatisfied(total: u64) -> Self {
        ContentRange {
            range: None,
            total: Some(total),
        }
    }
}

impl fmt::Display for ContentRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes ")?;
        match self.range {
            Some(r) => write!(f, "{r}")?,
            None => f.write_str("*")?,
        }
        match self.total {
            Some(t) => write!(f, "/{t}"),
            None => f.write_str("/*"),
        }
    }
}

impl FromStr for ContentRange {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidRange {
            input: s.to_owned(),
            reason,
        };
        let body = strip_unit(s.trim(), &[' ']).ok_or_else(|| invalid("expected bytes …"))?;
        let (range, total) = body
            .trim_start()
            .split_once('/')
            .ok_or_else(|| invalid("missing /"))?;
        let total = match total {
            "*" => None,
            t => Some(number(t).ok_or_else(|| invalid("bad total length"))?),
        };
        let range = match range {
            "*" => None,
            r => Some(r.parse::<ByteRange>().map_err(|_| invalid("bad range"))?),
        };
        match (range, total) {
            (None, None) => Err(invalid("neither range nor length")),
            (Some(r), Some(t)) if r.end >= t => Err(invalid("range past the total length")),
            _ => Ok(ContentRange { range, total }),
        }
    }
}

/// `s` without a leading case-insensitive `bytes` and one of `seps`.
fn strip_unit<'a>(s: &'a str, seps: &[char]) -> Option<&'a str> {
    s.get(..5).filter(|u| u.eq_ignore_ascii_case("bytes"))?;
    s.get(5..)?.strip_prefix(seps)
}

/// A decimal number: digits only, no sign, no overflow.
fn number(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests;
