//! The tests every storage driver must pass, run against a fresh, empty driver.

use std::io::Read;

use super::{Content, Storage};
use crate::error::Error;

fn read_all(content: Content) -> Vec<u8> {
    let mut out = Vec::new();
    match content {
        Content::File(mut f) => f.read_to_end(&mut out),
        Content::Stream(mut s) => s.read_to_end(&mut out),
    }
    .map(drop)
    .unwrap_or_else(|e| panic!("read: {e}"));
    out
}

/// Runs the suite; panics on the first failure.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub fn run(s: &dyn Storage) {
    // get/put/stat, and absent objects.
    assert!(matches!(s.get("a/b"), Err(Error::NotFound(_))));
    assert_eq!(s.stat("a/b").unwrap(), None);
    s.put("a/b", b"one").unwrap();
    assert_eq!(s.get("a/b").unwrap(), b"one");
    s.put("a/b", b"second").unwrap();
    assert_eq!(s.get("a/b").unwrap(), b"second");
    assert_eq!(s.stat("a/b").unwrap().unwrap().size, 6);
    // open at an offset.
    let (content, size) = s.open("a/b", 2).unwrap();
    assert_eq!((read_all(content), size), (b"cond".to_vec(), 6));
    assert!(matches!(s.open("nope", 0), Err(Error::NotFound(_))));
    // list: sorted children, objects and prefixes alike; absent prefix is empty.
    s.put("a/c/d", b"x").unwrap();
    s.put("a/0", b"x").unwrap();
    assert_eq!(s.list("a").unwrap(), ["0", "b", "c"]);
    assert!(s.list("zz").unwrap().is_empty());
    // append, then rename into place.
    {
        let mut w = s.append("up/data").unwrap();
        w.write_all(b"hello ").unwrap();
        w.flush().unwrap();
    }
    {
        let mut w = s.append("up/data").unwrap();
        w.write_all(b"world").unwrap();
        w.flush().unwrap();
    }
    assert_eq!(s.get("up/data").unwrap(), b"hello world");
    s.rename("up/data", "blobs/x").unwrap();
    assert_eq!(s.get("blobs/x").unwrap(), b"hello world");
    assert_eq!(s.stat("up/data").unwrap(), None);
    assert!(matches!(
        s.rename("up/data", "blobs/y"),
        Err(Error::NotFound(_))
    ));
    // touch: the modification time moves forward; absent is fine.
    let before = s.stat("blobs/x").unwrap().unwrap().modified;
    std::thread::sleep(std::time::Duration::from_millis(20));
    s.touch("blobs/x").unwrap();
    assert!(s.stat("blobs/x").unwrap().unwrap().modified > before);
    s.touch("nope").unwrap();
    // delete: objects and prefixes, absent is fine.
    s.delete("a").unwrap();
    assert_eq!(s.stat("a/b").unwrap(), None);
    assert!(s.list("a").unwrap().is_empty());
    s.delete("a").unwrap();
    // bad keys never reach the driver's medium.
    assert!(s.put("../escape", b"x").is_err());
    assert!(s.get("/etc/passwd").is_err());
}

use std::io::Write;
