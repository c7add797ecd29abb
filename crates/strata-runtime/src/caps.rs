//! Linux capability sets, with Docker's `--cap-add` / `--cap-drop` rules. Pure.
//!
//! The rules are moby's `oci/caps` `NormalizeLegacyCapabilities` and
//! `TweakCapabilities` (Docker 20.10 and later), together with the docker
//! CLI's `EffectiveCapAddCapDrop`:
//!
//! - names are case-insensitive, the `CAP_` prefix is optional, and surrounding
//!   white space is ignored (the CLI trims it);
//! - an unknown name is an error, `unknown capability: "CAP_FOO"`;
//! - `ALL` in the add list means every capability, less the ones dropped;
//! - `ALL` in the drop list drops the defaults, and the add list is then the set;
//! - a capability both added and dropped is **added**: Docker does not reject
//!   it, the add list takes precedence (CLI and daemon agree on this).

use crate::spec::Capabilities;

/// Every Linux capability up to `CAP_CHECKPOINT_RESTORE` (41 of them), in
/// kernel order: the index of a name is its capability number.
pub const ALL_CAPS: &[&str] = &[
    "CAP_CHOWN",              // 0
    "CAP_DAC_OVERRIDE",       // 1
    "CAP_DAC_READ_SEARCH",    // 2
    "CAP_FOWNER",             // 3
    "CAP_FSETID",             // 4
    "CAP_KILL",               // 5
    "CAP_SETGID",             // 6
    "CAP_SETUID",             // 7
    "CAP_SETPCAP",            // 8
    "CAP_LINUX_IMMUTABLE",    // 9
    "CAP_NET_BIND_SERVICE",   // 10
    "CAP_NET_BROADCAST",      // 11
    "CAP_NET_ADMIN",          // 12
    "CAP_NET_RAW",            // 13
    "CAP_IPC_LOCK",           // 14
    "CAP_IPC_OWNER",          // 15
    "CAP_SYS_MODULE",         // 16
    "CAP_SYS_RAWIO",          // 17
    "CAP_SYS_CHROOT",         // 18
    "CAP_SYS_PTRACE",         // 19
    "CAP_SYS_PACCT",          // 20
    "CAP_SYS_ADMIN",          // 21
    "CAP_SYS_BOOT",           // 22
    "CAP_SYS_NICE",           // 23
    "CAP_SYS_RESOURCE",       // 24
    "CAP_SYS_TIME",           // 25
    "CAP_SYS_TTY_CONFIG",     // 26
    "CAP_MKNOD",              // 27
    "CAP_LEASE",              // 28
    "CAP_AUDIT_WRITE",        // 29
    "CAP_AUDIT_CONTROL",      // 30
    "CAP_SETFCAP",            // 31
    "CAP_MAC_OVERRIDE",       // 32
    "CAP_MAC_ADMIN",          // 33
    "CAP_SYSLOG",             // 34
    "CAP_WAKE_ALARM",         // 35
    "CAP_BLOCK_SUSPEND",      // 36
    "CAP_AUDIT_READ",         // 37
    "CAP_PERFMON",            // 38
    "CAP_BPF",                // 39
    "CAP_CHECKPOINT_RESTORE", // 40
];

/// Docker's default capability set (moby `oci/caps/defaults.go`), in moby's order.
pub const DOCKER_DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The magic value of `--cap-add ALL` / `--cap-drop ALL`.
const ALL: &str = "ALL";

/// A capability list that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CapError {
    /// The name is no Linux capability (shown normalized, as Docker does).
    #[error("unknown capability: {0:?}")]
    Unknown(String),
}

/// The number of `name` (normalized, `CAP_` prefixed), if it is a capability.
pub fn cap_number(name: &str) -> Option<usize> {
    ALL_CAPS.iter().position(|c| *c == name)
}

/// Normalizes one user-given name: trimmed, upper-cased, `CAP_` prefixed;
/// `ALL` is kept as is. Errors on an unknown capability.
fn normalize(raw: &str) -> Result<String, CapError> {
    let upper = raw.trim().to_uppercase();
    if upper == ALL {
        return Ok(upper);
    }
    let name = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    if cap_number(&name).is_none() {
        return Err(CapError::Unknown(name));
    }
    Ok(name)
}

fn normalize_all(raw: &[String]) -> Result<Vec<String>, CapError> {
    raw.iter().map(|c| normalize(c)).collect()
}

/// The capability set of a container started with these `--cap-add` and
/// `--cap-drop` lists, from Docker's default set: sorted in kernel order
/// ([`ALL_CAPS`] order), without duplicates.
///
/// The drop list is checked before the add list, as the daemon does, so with
/// unknown names in both the error names the dropped one.
pub fn effective_caps(add: &[String], drop: &[String]) -> Result<Vec<String>, CapError> {
    let drop = normalize_all(drop)?;
    let add = normalize_all(add)?;
    let has = |list: &[String], name: &str| list.iter().any(|c| c == name);
    let set: Vec<&str> = if has(&add, ALL) {
        // Every capability, less the ones dropped.
        ALL_CAPS
            .iter()
            .copied()
            .filter(|c| !has(&drop, c))
            .collect()
    } else if has(&drop, ALL) {
        // The defaults are gone; the add list is the set.
        add.iter().map(String::as_str).collect()
    } else {
        // Drop from the defaults first, then add (so adding wins).
        DOCKER_DEFAULT_CAPS
            .iter()
            .copied()
            .filter(|c| !has(&drop, c))
            .chain(add.iter().map(String::as_str))
            .collect()
    };
    Ok(sorted(set))
}

/// Sorts capability names in kernel order and removes duplicates; names that
/// are no capability (there are none after normalization) are left out.
fn sorted<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut present = [false; ALL_CAPS.len()];
    for name in names {
        if let Some(n) = cap_number(name) {
            present[n] = true;
        }
    }
    ALL_CAPS
        .iter()
        .zip(present)
        .filter(|(_, on)| *on)
        .map(|(c, _)| (*c).to_owned())
        .collect()
}

/// The process capability sets Docker gives a container running as root:
/// bounding, effective and permitted are `caps`; inheritable and ambient are
/// empty (Docker stopped setting inheritable in 20.10.14, CVE-2022-24769).
pub fn spec_capabilities(caps: &[String]) -> Capabilities {
    spec_capabilities_for_uid(caps, 0)
}

/// As [`spec_capabilities`], for a process running as `uid`: Docker (moby
/// `oci.SetCapabilities`) sets only the bounding set for a non-root user, as
/// `execve` would leave it.
pub fn spec_capabilities_for_uid(caps: &[String], uid: u32) -> Capabilities {
    if uid == 0 {
        Capabilities {
            bounding: caps.to_vec(),
            effective: caps.to_vec(),
            permitted: caps.to_vec(),
            inheritable: Vec::new(),
            ambient: Vec::new(),
        }
    } else {
        Capabilities {
            bounding: caps.to_vec(),
            ..Capabilities::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(list: &[&str]) -> Vec<String> {
        list.iter().map(|c| (*c).to_owned()).collect()
    }

    fn defaults_sorted() -> Vec<String> {
        sorted(DOCKER_DEFAULT_CAPS.iter().copied())
    }

    #[test]
    fn all_caps_is_complete_and_in_kernel_order() {
        assert_eq!(ALL_CAPS.len(), 41);
        assert_eq!(cap_number("CAP_CHOWN"), Some(0));
        assert_eq!(cap_number("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(cap_number("CAP_SETFCAP"), Some(31));
        assert_eq!(cap_number("CAP_CHECKPOINT_RESTORE"), Some(40));
        let mut seen = std::collections::HashSet::new();
        assert!(ALL_CAPS
            .iter()
            .all(|c| c.starts_with("CAP_") && seen.insert(*c)));
    }

    #[test]
    fn defaults_are_dockers_fourteen() {
        assert_eq!(DOCKER_DEFAULT_CAPS.len(), 14);
        assert!(DOCKER_DEFAULT_CAPS.iter().all(|c| cap_number(c).is_some()));
        assert!(!DOCKER_DEFAULT_CAPS.contains(&"CAP_SYS_ADMIN"));
    }

    #[test]
    fn no_tweaks_gives_sorted_defaults() {
        let caps = effective_caps(&[], &[]).unwrap();
        assert_eq!(caps, defaults_sorted());
        assert_eq!(caps.first().map(String::as_str), Some("CAP_CHOWN"));
        assert_eq!(caps.last().map(String::as_str), Some("CAP_SETFCAP"));
    }

    #[test]
    fn add_accepts_any_case_and_optional_prefix() {
        let caps =
            effective_caps(&s(&["sys_admin", "Cap_Net_Admin", " SYS_PTRACE "]), &[]).unwrap();
        for c in [
            "CAP_SYS_ADMIN",
            "CAP_NET_ADMIN",
            "CAP_SYS_PTRACE",
            "CAP_CHOWN",
        ] {
            assert!(caps.iter().any(|x| x == c), "{c} missing from {caps:?}");
        }
        assert_eq!(caps.len(), 17);
        // Kernel order: NET_ADMIN (12) before NET_RAW (13) before SYS_ADMIN (21).
        let pos = |n: &str| caps.iter().position(|c| c == n);
        assert!(pos("CAP_NET_ADMIN") < pos("CAP_NET_RAW"));
        assert!(pos("CAP_NET_RAW") < pos("CAP_SYS_ADMIN"));
    }

    #[test]
    fn drop_removes_and_ignores_absent() {
        let caps = effective_caps(&[], &s(&["chown", "CAP_NET_RAW", "sys_admin"])).unwrap();
        assert_eq!(caps.len(), 12);
        assert!(!caps.iter().any(|c| c == "CAP_CHOWN" || c == "CAP_NET_RAW"));
    }

    #[test]
    fn duplicates_collapse() {
        let caps = effective_caps(&s(&["chown", "CHOWN", "sys_admin", "SYS_ADMIN"]), &[]).unwrap();
        assert_eq!(caps.len(), 15);
    }

    #[test]
    fn add_all_gives_every_cap_less_drops() {
        let caps = effective_caps(&s(&["all"]), &[]).unwrap();
        assert_eq!(caps, s(ALL_CAPS));
        let caps = effective_caps(&s(&["ALL"]), &s(&["sys_admin", "MKNOD"])).unwrap();
        assert_eq!(caps.len(), 39);
        assert!(!caps
            .iter()
            .any(|c| c == "CAP_SYS_ADMIN" || c == "CAP_MKNOD"));
    }

    #[test]
    fn drop_all_keeps_only_adds() {
        assert!(effective_caps(&[], &s(&["ALL"])).unwrap().is_empty());
        let caps = effective_caps(&s(&["net_bind_service", "chown"]), &s(&["all"])).unwrap();
        assert_eq!(caps, s(&["CAP_CHOWN", "CAP_NET_BIND_SERVICE"]));
    }

    #[test]
    fn add_all_and_drop_all_gives_all() {
        // The add list takes precedence, as in the docker CLI and daemon.
        let caps = effective_caps(&s(&["ALL"]), &s(&["ALL"])).unwrap();
        assert_eq!(caps, s(ALL_CAPS));
    }

    #[test]
    fn added_and_dropped_is_added_like_docker() {
        let caps =
            effective_caps(&s(&["CHOWN", "SYS_ADMIN"]), &s(&["chown", "sys_admin"])).unwrap();
        assert!(caps.iter().any(|c| c == "CAP_CHOWN"));
        assert!(caps.iter().any(|c| c == "CAP_SYS_ADMIN"));
    }

    #[test]
    fn unknown_names_error_like_docker() {
        let err = effective_caps(&s(&["foo"]), &[]).unwrap_err();
        assert_eq!(err, CapError::Unknown("CAP_FOO".to_owned()));
        assert_eq!(err.to_string(), r#"unknown capability: "CAP_FOO""#);
        let err = effective_caps(&[], &s(&["cap_bar"])).unwrap_err();
        assert_eq!(err.to_string(), r#"unknown capability: "CAP_BAR""#);
        // CAP_ALL is no magic value.
        let err = effective_caps(&s(&["CAP_ALL"]), &[]).unwrap_err();
        assert_eq!(err.to_string(), r#"unknown capability: "CAP_ALL""#);
        let err = effective_caps(&s(&[""]), &[]).unwrap_err();
        assert_eq!(err.to_string(), r#"unknown capability: "CAP_""#);
        // The drop list is checked first.
        let err = effective_caps(&s(&["foo"]), &s(&["bar"])).unwrap_err();
        assert_eq!(err.to_string(), r#"unknown capability: "CAP_BAR""#);
    }

    #[test]
    fn spec_sets_for_root_and_others() {
        let caps = effective_caps(&[], &[]).unwrap();
        let root = spec_capabilities(&caps);
        assert_eq!(root.bounding, caps);
        assert_eq!(root.effective, caps);
        assert_eq!(root.permitted, caps);
        assert!(root.inheritable.is_empty() && root.ambient.is_empty());
        let user = spec_capabilities_for_uid(&caps, 1000);
        assert_eq!(user.bounding, caps);
        assert!(user.effective.is_empty() && user.permitted.is_empty());
        assert!(user.inheritable.is_empty() && user.ambient.is_empty());
    }
}
