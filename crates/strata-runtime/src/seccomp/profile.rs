//! Docker's seccomp profile format (moby `profiles/seccomp`), its parser, and
//! its rendering into the runtime-spec filter for one container.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::spec::{Seccomp, SyscallArg, SyscallRule};

/// A Docker-format profile that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeccompError {
    /// Not JSON, or not of the profile's shape (with line and column).
    #[error("decoding seccomp profile failed: {0}")]
    Json(#[source] serde_json::Error),
    /// Well-formed JSON with a value the profile format does not allow.
    #[error("invalid seccomp profile: {0}")]
    Invalid(String),
    /// A feature the runtime-spec filter Strata writes cannot carry.
    #[error("unsupported seccomp profile: {0}")]
    Unsupported(String),
}

/// A seccomp profile in Docker's format: a default action, and syscall rule
/// groups that may apply only for some capabilities, architectures or kernels.
///
/// Read profiles with [`parse_docker_profile`], which validates them; the
/// derived `Deserialize` only checks their shape. `Serialize` writes Docker's
/// JSON (the same fields, in the same order, as moby writes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerProfile {
    /// Action for syscalls no rule matches (`SCMP_ACT_ERRNO`…).
    pub default_action: String,
    /// errno returned by the default action, when it is `SCMP_ACT_ERRNO`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    /// Fixed architecture list (`SCMP_ARCH_X86_64`…); exclusive with `arch_map`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub architectures: Vec<String>,
    /// Architectures per native architecture: only the entry of the
    /// container's architecture is used.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub arch_map: Vec<ArchMap>,
    /// Rule groups, in order.
    #[serde(default, deserialize_with = "null_default")]
    pub syscalls: Vec<SyscallGroup>,
}

/// A native architecture and the sub-architectures its filter also covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchMap {
    /// `SCMP_ARCH_X86_64`…
    pub architecture: String,
    /// `SCMP_ARCH_X86`, `SCMP_ARCH_X32`… (written `null` when empty, as Docker does).
    #[serde(
        default,
        serialize_with = "empty_as_null",
        deserialize_with = "null_default"
    )]
    pub sub_architectures: Vec<String>,
}

/// One rule group: syscalls sharing an action and argument conditions, kept
/// or left out of the filter by `includes` and `excludes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyscallGroup {
    /// Syscall names (the legacy single `name` is folded in by the parser).
    #[serde(default, deserialize_with = "null_default")]
    pub names: Vec<String>,
    /// `SCMP_ACT_ALLOW`…
    pub action: String,
    /// errno for `SCMP_ACT_ERRNO` (and `SCMP_ACT_TRACE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    /// Argument conditions, all of which must hold.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub args: Vec<SyscallArg>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Conditions that must all hold for the group to apply.
    #[serde(
        default,
        skip_serializing_if = "Filter::is_empty",
        deserialize_with = "null_default"
    )]
    pub includes: Filter,
    /// Conditions any of which leaves the group out.
    #[serde(
        default,
        skip_serializing_if = "Filter::is_empty",
        deserialize_with = "null_default"
    )]
    pub excludes: Filter,
}

/// Conditions on the container (capabilities) and the host (architecture, kernel).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Capability names (`CAP_SYS_ADMIN`), matched exactly against the
    /// container's bounding set.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub caps: Vec<String>,
    /// libseccomp native architecture names (`amd64`, `x86`, `arm64`, `s390x`…).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub arches: Vec<String>,
    /// Kernel version (`"4.8"`) the host must run at least.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<KernelVersion>,
}

impl Filter {
    /// No condition at all.
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

/// A kernel version as Docker compares them: `<kernel>.<major>`, minor
/// revisions and suffixes ignored. Written `"4.8"` in profiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    /// The `4` of `4.8.1-generic`.
    pub kernel: u8,
    /// The `8` of `4.8.1-generic`.
    pub major: u8,
}

impl KernelVersion {
    /// Later than any real kernel: every `minKernel` is satisfied. [`to_spec`]
    /// assumes it.
    pub const NEWEST: KernelVersion = KernelVersion {
        kernel: u8::MAX,
        major: u8::MAX,
    };

    /// The version of a kernel release string (`uname -r`, like
    /// `6.1.0-18-amd64`), or `None` when it does not start with `<n>.<n>`.
    pub fn from_release(release: &str) -> Option<KernelVersion> {
        let mut parts = release.splitn(3, '.');
        let kernel = leading_number(parts.next()?)?;
        let major = leading_number(parts.next()?)?;
        Some(KernelVersion { kernel, major })
    }

    /// Parses a profile's `minKernel` as moby does: exactly `<n>.<n>`, each
    /// 0–255, not `0.0`. The empty string is `0.0` (always satisfied).
    fn parse_min_kernel(text: &str) -> Result<KernelVersion, String> {
        let expected = format!("invalid kernel version: {text:?}, expected \"<kernel>.<major>\"");
        if text.is_empty() {
            return Ok(KernelVersion::default());
        }
        let parts: Vec<&str> = text.splitn(3, '.').collect();
        let [kernel, major] = parts.as_slice() else {
            return Err(expected);
        };
        let (Some(kernel), Some(major)) = (digits(kernel), digits(major)) else {
            return Err(expected);
        };
        if kernel == 0 && major == 0 {
            return Err(format!("{expected}: version cannot be 0.0"));
        }
        Ok(KernelVersion { kernel, major })
    }
}

/// A string of ASCII digits as a `u8` (Go's `ParseUint(s, 10, 8)`).
fn digits(s: &str) -> Option<u8> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The digits a string starts with, as a `u8` (`18-amd64` → 18).
fn leading_number(s: &str) -> Option<u8> {
    let end = s.bytes().take_while(u8::is_ascii_digit).count();
    digits(&s[..end])
}

impl fmt::Display for KernelVersion {
    /// `4.8`; the empty string for `0.0`, as Docker writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kernel > 0 || self.major > 0 {
            write!(f, "{}.{}", self.kernel, self.major)
        } else {
            Ok(())
        }
    }
}

impl Serialize for KernelVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KernelVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid kernel version, expected \"<kernel>.<major>\": {e}"
            ))
        })?;
        KernelVersion::parse_min_kernel(&text).map_err(serde::de::Error::custom)
    }
}

/// `null` reads as the type's default, as Go's `encoding/json` leaves a nil slice.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// An empty list is written `null`, as Go writes a nil slice.
fn empty_as_null<S: Serializer>(list: &[String], serializer: S) -> Result<S::Ok, S::Error> {
    if list.is_empty() {
        serializer.serialize_none()
    } else {
        list.serialize(serializer)
    }
}

/// The profile as read, before validation: moby's `Seccomp` type, with the
/// fields [`DockerProfile`] leaves out so they can be reported.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProfile {
    #[serde(default)]
    default_action: String,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "null_default")]
    architectures: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    arch_map: Vec<ArchMap>,
    #[serde(default, deserialize_with = "null_default")]
    syscalls: Vec<RawSyscall>,
    #[serde(default, deserialize_with = "null_default")]
    flags: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    listener_path: String,
    #[serde(default, deserialize_with = "null_default")]
    listener_metadata: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSyscall {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    names: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    action: String,
    #[serde(default)]
    errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "null_default")]
    args: Vec<RawArg>,
    #[serde(default, deserialize_with = "null_default")]
    comment: String,
    #[serde(default, deserialize_with = "null_default")]
    includes: Filter,
    #[serde(default, deserialize_with = "null_default")]
    excludes: Filter,
}

/// An argument condition; missing numbers are 0, as in Go.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArg {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    value: u64,
    #[serde(default)]
    value_two: u64,
    #[serde(default)]
    op: String,
}

/// The actions runtime-spec (and runc) know.
const ACTIONS: &[&str] = &[
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];

/// The argument comparisons runtime-spec (and runc) know.
const OPERATORS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

fn check_action(action: &str, at: &str) -> Result<(), SeccompError> {
    if action == "SCMP_ACT_NOTIFY" {
        return Err(SeccompError::Unsupported(format!(
            "{at}: SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath), which Strata does not support"
        )));
    }
    if !ACTIONS.contains(&action) {
        return Err(SeccompError::Invalid(format!(
            "{at}: unknown action {action:?} (expected one of {})",
            ACTIONS.join(", ")
        )));
    }
    Ok(())
}

/// Parses and validates a Docker-format profile (the JSON of
/// `--security-opt seccomp=FILE`).
///
/// Besides moby's own checks (`architectures` with `archMap`, `name` with
/// `names`, `minKernel` syntax), it rejects what runc would reject only later
/// (unknown actions and operators, argument indexes past 5, a missing
/// `defaultAction`) and what the runtime-spec filter in [`crate::spec`] has no
/// field for (`flags`, `listenerPath`, `listenerMetadata`, `SCMP_ACT_NOTIFY`).
pub fn parse_docker_profile(json: &[u8]) -> Result<DockerProfile, SeccompError> {
    let raw: RawProfile = serde_json::from_slice(json).map_err(SeccompError::Json)?;
    if raw.default_action.is_empty() {
        // moby treats a profile with neither a default action nor syscalls as
        // "no seccomp"; say so rather than guess.
        return Err(SeccompError::Invalid(
            "defaultAction is missing (to run without seccomp, use seccomp=unconfined)".to_owned(),
        ));
    }
    check_action(&raw.default_action, "defaultAction")?;
    if !raw.architectures.is_empty() && !raw.arch_map.is_empty() {
        return Err(SeccompError::Invalid(
            "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'"
                .to_owned(),
        ));
    }
    for (field, set) in [
        ("flags", !raw.flags.is_empty()),
        ("listenerPath", !raw.listener_path.is_empty()),
        ("listenerMetadata", !raw.listener_metadata.is_empty()),
    ] {
        if set {
            return Err(SeccompError::Unsupported(format!(
                "{field} is not supported by Strata's runtime spec"
            )));
        }
    }
    let mut syscalls = Vec::with_capacity(raw.syscalls.len());
    for (i, call) in raw.syscalls.into_iter().enumerate() {
        let at = format!("syscalls[{i}]");
        let names = if call.name.is_empty() {
            call.names
        } else if call.names.is_empty() {
            vec![call.name]
        } else {
            return Err(SeccompError::Invalid(format!(
                "{at}: both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'"
            )));
        };
        check_action(&call.action, &format!("{at}.action"))?;
        let mut args = Vec::with_capacity(call.args.len());
        for (j, arg) in call.args.into_iter().enumerate() {
            if arg.index > 5 {
                return Err(SeccompError::Invalid(format!(
                    "{at}.args[{j}]: index {} is out of range (a syscall has arguments 0 to 5)",
                    arg.index
                )));
            }
            if !OPERATORS.contains(&arg.op.as_str()) {
                return Err(SeccompError::Invalid(format!(
                    "{at}.args[{j}]: unknown op {:?} (expected one of {})",
                    arg.op,
                    OPERATORS.join(", ")
                )));
            }
            args.push(SyscallArg {
                index: arg.index,
                value: arg.value,
                value_two: arg.value_two,
                op: arg.op,
            });
        }
        syscalls.push(SyscallGroup {
            names,
            action: call.action,
            errno_ret: call.errno_ret,
            args,
            comment: Some(call.comment).filter(|c| !c.is_empty()),
            includes: call.includes,
            excludes: call.excludes,
        });
    }
    Ok(DockerProfile {
        default_action: raw.default_action,
        default_errno_ret: raw.default_errno_ret,
        architectures: raw.architectures,
        arch_map: raw.arch_map,
        syscalls,
    })
}

/// Go architecture (`GOARCH`) → libseccomp native name and seccomp
/// architecture: moby's `goToNative` and `nativeToSeccomp` tables.
const ARCHES: &[(&str, &str, &str)] = &[
    ("386", "x86", "SCMP_ARCH_X86"),
    ("amd64", "amd64", "SCMP_ARCH_X86_64"),
    ("arm", "arm", "SCMP_ARCH_ARM"),
    ("arm64", "arm64", "SCMP_ARCH_AARCH64"),
    ("mips64", "mips64", "SCMP_ARCH_MIPS64"),
    ("mips64p32", "mips64n32", "SCMP_ARCH_MIPS64N32"),
    ("mips64le", "mipsel64", "SCMP_ARCH_MIPSEL64"),
    ("mips64p32le", "mipsel64n32", "SCMP_ARCH_MIPSEL64N32"),
    ("mipsle", "mipsel", "SCMP_ARCH_MIPSEL"),
    ("ppc", "ppc", "SCMP_ARCH_PPC"),
    ("ppc64", "ppc64", "SCMP_ARCH_PPC64"),
    ("ppc64le", "ppc64le", "SCMP_ARCH_PPC64LE"),
    ("s390", "s390", "SCMP_ARCH_S390"),
    ("s390x", "s390x", "SCMP_ARCH_S390X"),
    ("riscv64", "riscv64", "SCMP_ARCH_RISCV64"),
];

/// Renders the profile into the runtime-spec filter for a container with the
/// bounding capability set `caps`, on the Go architecture `arch` (`amd64`,
/// `arm64`…), as moby's `setupSeccomp` does.
///
/// Kernel conditions (`minKernel`) are taken as satisfied, as on any kernel
/// Strata supports (5.x and later; the oldest condition in Docker's profile is
/// 4.8). Use [`to_spec_with_kernel`] to decide them for a given kernel.
pub fn to_spec(profile: &DockerProfile, caps: &[String], arch: &str) -> Seccomp {
    to_spec_with_kernel(profile, caps, arch, KernelVersion::NEWEST)
}

/// As [`to_spec`], for a host running `kernel` (see [`KernelVersion::from_release`]).
///
/// - architectures: the profile's `architectures`, then the `archMap` entry of
///   `arch` (its architecture and sub-architectures); an unknown `arch` gets
///   none from the map, as in moby;
/// - a group is left out when `excludes` names `arch`, names any capability in
///   `caps`, or its `minKernel` is at most `kernel`;
/// - a group is left out when `includes` names architectures but not `arch`,
///   names a capability not in `caps`, or its `minKernel` is above `kernel`;
/// - the groups kept become rules in order, with their action, errno and args.
pub fn to_spec_with_kernel(
    profile: &DockerProfile,
    caps: &[String],
    arch: &str,
    kernel: KernelVersion,
) -> Seccomp {
    let (native, seccomp_arch) = ARCHES
        .iter()
        .find(|(go, _, _)| *go == arch)
        .map_or(("", None), |(_, native, scmp)| (*native, Some(*scmp)));
    let mut architectures = profile.architectures.clone();
    if let Some(entry) =
        seccomp_arch.and_then(|a| profile.arch_map.iter().find(|m| m.architecture == a))
    {
        architectures.push(entry.architecture.clone());
        architectures.extend(entry.sub_architectures.iter().cloned());
    }
    let has_cap = |c: &String| caps.contains(c);
    let syscalls = profile
        .syscalls
        .iter()
        .filter(|group| {
            let ex = &group.excludes;
            let excluded = ex.arches.iter().any(|a| a == native)
                || ex.caps.iter().any(has_cap)
                || ex.min_kernel.is_some_and(|min| min <= kernel);
            let inc = &group.includes;
            let included = (inc.arches.is_empty() || inc.arches.iter().any(|a| a == native))
                && inc.caps.iter().all(has_cap)
                && inc.min_kernel.is_none_or(|min| min <= kernel);
            !excluded && included
        })
        .map(|group| SyscallRule {
            names: group.names.clone(),
            action: group.action.clone(),
            errno_ret: group.errno_ret,
            args: group.args.clone(),
        })
        .collect();
    Seccomp {
        default_action: profile.default_action.clone(),
        default_errno_ret: profile.default_errno_ret,
        architectures,
        syscalls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<DockerProfile, SeccompError> {
        parse_docker_profile(json.as_bytes())
    }

    fn err(json: &str) -> String {
        parse(json).unwrap_err().to_string()
    }

    #[test]
    fn minimal_profile() {
        let p = parse(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#).unwrap();
        assert_eq!(p.default_action, "SCMP_ACT_ALLOW");
        assert!(p.syscalls.is_empty() && p.arch_map.is_empty());
        let spec = to_spec(&p, &[], "amd64");
        assert_eq!(spec.default_action, "SCMP_ACT_ALLOW");
        assert!(spec.architectures.is_empty() && spec.syscalls.is_empty());
    }

    #[test]
    fn legacy_name_is_folded_and_nulls_are_empty() {
        let p = parse(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":null,"syscalls":[
                {"name":"chmod","action":"SCMP_ACT_ERRNO","errnoRet":13,"args":null,"includes":null,"excludes":{}}]}"#,
        )
        .unwrap();
        assert_eq!(p.syscalls[0].names, ["chmod"]);
        assert_eq!(p.syscalls[0].errno_ret, Some(13));
        assert!(p.syscalls[0].includes.is_empty() && p.syscalls[0].excludes.is_empty());
        let spec = to_spec(&p, &[], "arm64");
        assert_eq!(spec.syscalls[0].errno_ret, Some(13));
    }

    #[test]
    fn validation_errors_are_clear() {
        assert!(err("{").starts_with("decoding seccomp profile failed: "));
        assert!(err(r#"{"defaultAction": 3}"#).contains("line 1"));
        assert!(err("{}").contains("defaultAction is missing"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_NOPE"}"#)
            .contains(r#"defaultAction: unknown action "SCMP_ACT_NOPE""#));
        assert_eq!(
            err(r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["A"],"archMap":[{"architecture":"A","subArchitectures":["B"]}]}"#),
            "invalid seccomp profile: both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'"
        );
        assert_eq!(
            err(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"accept","names":["accept"],"action":"SCMP_ACT_ALLOW"}]}"#),
            "invalid seccomp profile: syscalls[0]: both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'"
        );
        assert!(err(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["a"],"action":"ALLOW"}]}"#
        )
        .contains(r#"syscalls[0].action: unknown action "ALLOW""#));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#)
            .contains("syscalls[0].args[0]: index 6 is out of range"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]}"#)
            .contains(r#"syscalls[0].args[0]: unknown op "EQ""#));
        assert!(
            err(r#"{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_LOG"]}"#)
                .starts_with("unsupported seccomp profile: flags")
        );
        assert!(
            err(r#"{"defaultAction":"SCMP_ACT_ERRNO","listenerPath":"/run/agent.sock"}"#)
                .contains("listenerPath")
        );
        assert!(err(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["a"],"action":"SCMP_ACT_NOTIFY"}]}"#)
            .contains("SCMP_ACT_NOTIFY"));
    }

    #[test]
    fn min_kernel_syntax_is_mobys() {
        let filter = |v: &str| {
            serde_json::from_str::<Filter>(&format!(r#"{{"arches":["s390x"],"minKernel":{v}}}"#))
        };
        for bad in [
            "3",
            "3.12",
            "true",
            r#""0.0""#,
            r#""3""#,
            r#"".3""#,
            r#""3.""#,
            r#""true""#,
            r#""3.12.1""#,
            r#""4.15abc""#,
            r#""+4.1""#,
            r#""4.256""#,
        ] {
            let e = filter(bad).unwrap_err().to_string();
            assert!(e.contains("invalid kernel version"), "{bad}: {e}");
        }
        for (good, out) in [
            ("null", r#"{"arches":["s390x"]}"#),
            (r#""""#, r#"{"arches":["s390x"],"minKernel":""}"#),
            (r#""0.5""#, r#"{"arches":["s390x"],"minKernel":"0.5"}"#),
            (r#""4.15""#, r#"{"arches":["s390x"],"minKernel":"4.15"}"#),
            (r#""50.0""#, r#"{"arches":["s390x"],"minKernel":"50.0"}"#),
        ] {
            let f = filter(good).unwrap();
            assert_eq!(serde_json::to_string(&f).unwrap(), out);
        }
    }

    #[test]
    fn kernel_release_parsing() {
        let k = |k, m| {
            Some(KernelVersion {
                kernel: k,
                major: m,
            })
        };
        assert_eq!(KernelVersion::from_release("6.18.44-fc-v669"), k(6, 18));
        assert_eq!(KernelVersion::from_release("4.8"), k(4, 8));
        assert_eq!(KernelVersion::from_release("3.12-1-amd64"), k(3, 12));
        assert_eq!(KernelVersion::from_release("3.12-rc5"), k(3, 12));
        assert_eq!(KernelVersion::from_release("6"), None);
        assert_eq!(KernelVersion::from_release("x.y"), None);
        assert!(
            KernelVersion {
                kernel: 4,
                major: 8
            } < KernelVersion {
                kernel: 4,
                major: 15
            }
        );
        assert!(
            KernelVersion {
                kernel: 4,
                major: 15
            } < KernelVersion {
                kernel: 5,
                major: 0
            }
        );
    }

    const CONDITIONAL: &str = r#"{
        "defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
        ],
        "syscalls": [
            {"names": ["chmod"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["syslog"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYSLOG"]}},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["both"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYSLOG", "CAP_SYS_TIME"]}},
            {"names": ["x86only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x86"]}},
            {"names": ["notarm"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["arm64"]}},
            {"names": ["new"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.10"}},
            {"names": ["old"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}}
        ]
    }"#;

    fn names(spec: &Seccomp) -> Vec<&str> {
        spec.syscalls.iter().map(|r| r.names[0].as_str()).collect()
    }

    fn caps(list: &[&str]) -> Vec<String> {
        list.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn includes_and_excludes_like_moby() {
        let p = parse(CONDITIONAL).unwrap();
        let spec = to_spec(&p, &[], "amd64");
        assert_eq!(
            names(&spec),
            ["chmod", "ptrace", "x86only", "notarm", "new"]
        );
        assert_eq!(
            spec.architectures,
            ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        );
        let spec = to_spec(&p, &caps(&["CAP_SYSLOG"]), "amd64");
        assert_eq!(
            names(&spec),
            ["chmod", "syslog", "ptrace", "x86only", "notarm", "new"]
        );
        let spec = to_spec(
            &p,
            &caps(&["CAP_SYSLOG", "CAP_SYS_TIME", "CAP_SYS_ADMIN"]),
            "amd64",
        );
        assert_eq!(
            names(&spec),
            ["chmod", "syslog", "both", "x86only", "notarm", "new"]
        );
        let spec = to_spec(&p, &[], "arm64");
        assert_eq!(names(&spec), ["chmod", "ptrace", "new"]);
        assert_eq!(spec.architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
        let spec = to_spec(&p, &[], "386");
        assert_eq!(
            names(&spec),
            ["chmod", "ptrace", "x86only", "notarm", "new"]
        );
        assert!(spec.architectures.is_empty());
        // An unknown architecture matches no arch condition and maps to nothing.
        let spec = to_spec(&p, &[], "sparc64");
        assert_eq!(names(&spec), ["chmod", "ptrace", "notarm", "new"]);
        assert!(spec.architectures.is_empty());
    }

    #[test]
    fn kernel_conditions() {
        let p = parse(CONDITIONAL).unwrap();
        let k = |kernel, major| KernelVersion { kernel, major };
        let spec = to_spec_with_kernel(&p, &[], "amd64", k(5, 4));
        assert_eq!(
            names(&spec),
            ["chmod", "ptrace", "x86only", "notarm", "old"]
        );
        let spec = to_spec_with_kernel(&p, &[], "amd64", k(5, 10));
        assert_eq!(
            names(&spec),
            ["chmod", "ptrace", "x86only", "notarm", "new"]
        );
        let spec = to_spec_with_kernel(&p, &[], "amd64", k(6, 1));
        assert_eq!(
            names(&spec),
            ["chmod", "ptrace", "x86only", "notarm", "new"]
        );
    }

    #[test]
    fn fixed_architectures_pass_through() {
        let p = parse(r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["chmod"],"action":"SCMP_ACT_ERRNO"}]}"#).unwrap();
        let spec = to_spec(&p, &[], "arm64");
        assert_eq!(spec.architectures, ["SCMP_ARCH_X86_64"]);
        assert_eq!(spec.syscalls.len(), 1);
    }

    #[test]
    fn profile_json_round_trips() {
        let p = parse(CONDITIONAL).unwrap();
        let json = serde_json::to_vec(&p).unwrap();
        assert_eq!(parse_docker_profile(&json).unwrap(), p);
    }
}
