//! Seccomp: Docker-format profiles and Docker's default profile. Pure.
//!
//! A Docker profile ([`DockerProfile`], parsed by [`parse_docker_profile`])
//! holds rule groups that apply only for some capabilities, architectures or
//! kernels; [`to_spec`] resolves them for one container into the runtime-spec
//! filter runc installs, as moby's `setupSeccomp` does. [`docker_default`] is
//! Docker's default profile, and [`default_spec`] its filter for a container.

mod default;
mod profile;

pub use default::docker_default;
pub use profile::{
    parse_docker_profile, to_spec, to_spec_with_kernel, ArchMap, DockerProfile, Filter,
    KernelVersion, SeccompError, SyscallGroup,
};

use crate::spec::Seccomp;

/// The filter of Docker's default profile for a container with the bounding
/// capability set `caps` on the Go architecture `arch` (`amd64`, `arm64`…),
/// taking every kernel condition as satisfied (see [`to_spec`]).
pub fn default_spec(caps: &[String], arch: &str) -> Seccomp {
    to_spec(&docker_default(), caps, arch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::{effective_caps, ALL_CAPS};
    use crate::spec::{SyscallArg, SyscallRule};

    fn default_caps() -> Vec<String> {
        effective_caps(&[], &[]).unwrap()
    }

    fn with(add: &[&str]) -> Vec<String> {
        let add: Vec<String> = add.iter().map(|c| (*c).to_owned()).collect();
        effective_caps(&add, &[]).unwrap()
    }

    /// The rules that name `syscall`.
    fn rules<'a>(spec: &'a Seccomp, syscall: &str) -> Vec<&'a SyscallRule> {
        spec.syscalls
            .iter()
            .filter(|r| r.names.iter().any(|n| n == syscall))
            .collect()
    }

    /// Allowed whatever its arguments.
    fn allowed(spec: &Seccomp, syscall: &str) -> bool {
        rules(spec, syscall)
            .iter()
            .any(|r| r.action == "SCMP_ACT_ALLOW" && r.args.is_empty())
    }

    /// Not named by any rule: the default action (EPERM) applies.
    fn denied(spec: &Seccomp, syscall: &str) -> bool {
        rules(spec, syscall).is_empty() && spec.default_action == "SCMP_ACT_ERRNO"
    }

    #[test]
    fn default_profile_for_default_caps_on_amd64() {
        let spec = default_spec(&default_caps(), "amd64");
        assert_eq!(spec.default_action, "SCMP_ACT_ERRNO");
        assert_eq!(spec.default_errno_ret, Some(1));
        assert_eq!(
            spec.architectures,
            ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        );
        for ok in [
            "read",
            "write",
            "execve",
            "arch_prctl",
            "modify_ldt",
            "chroot",
            "futex_waitv",
        ] {
            assert!(allowed(&spec, ok), "{ok} should be allowed");
        }
        // ptrace: allowed on kernels >= 4.8 in this profile.
        assert!(allowed(&spec, "ptrace"));
        for no in [
            "mount",
            "umount2",
            "unshare",
            "setns",
            "keyctl",
            "add_key",
            "reboot",
            "bpf",
            "kexec_load",
            "init_module",
            "open_by_handle_at",
            "perf_event_open",
            "syslog",
            "settimeofday",
            "acct",
            "iopl",
            "swapon",
            "pivot_root",
            "userfaultfd",
            "set_tls",
        ] {
            assert!(denied(&spec, no), "{no} should be denied");
        }
        // clone: only without namespace flags.
        let clone = rules(&spec, "clone");
        assert_eq!(clone.len(), 1);
        assert_eq!(
            clone[0].args,
            [SyscallArg {
                index: 0,
                value: 0x7E02_0000,
                value_two: 0,
                op: "SCMP_CMP_MASKED_EQ".to_owned()
            }]
        );
        // clone3: ENOSYS so libc falls back to clone.
        let clone3 = rules(&spec, "clone3");
        assert_eq!(clone3.len(), 1);
        assert_eq!(
            (clone3[0].action.as_str(), clone3[0].errno_ret),
            ("SCMP_ACT_ERRNO", Some(38))
        );
        // personality: five exact values; socket: all but AF_VSOCK.
        let personality: Vec<u64> = rules(&spec, "personality")
            .iter()
            .map(|r| r.args[0].value)
            .collect();
        assert_eq!(personality, [0, 8, 0x20000, 0x20008, 0xffff_ffff]);
        let socket = rules(&spec, "socket");
        assert_eq!(
            (socket[0].args[0].op.as_str(), socket[0].args[0].value),
            ("SCMP_CMP_NE", 40)
        );
    }

    #[test]
    fn sys_admin_lifts_the_namespace_rules() {
        let spec = default_spec(&with(&["SYS_ADMIN"]), "amd64");
        for ok in [
            "mount",
            "umount2",
            "unshare",
            "setns",
            "clone",
            "clone3",
            "bpf",
            "syslog",
            "sethostname",
        ] {
            assert!(
                allowed(&spec, ok),
                "{ok} should be allowed with CAP_SYS_ADMIN"
            );
        }
        assert!(rules(&spec, "clone3")
            .iter()
            .all(|r| r.action == "SCMP_ACT_ALLOW"));
        assert!(rules(&spec, "clone").iter().all(|r| r.args.is_empty()));
        assert!(denied(&spec, "keyctl") && denied(&spec, "reboot"));
    }

    #[test]
    fn each_capability_unlocks_its_group() {
        for (cap, syscall) in [
            ("SYS_BOOT", "reboot"),
            ("SYS_MODULE", "finit_module"),
            ("SYS_PACCT", "acct"),
            ("SYS_PTRACE", "kcmp"),
            ("SYS_RAWIO", "iopl"),
            ("SYS_TIME", "clock_settime"),
            ("SYS_TTY_CONFIG", "vhangup"),
            ("SYS_NICE", "mbind"),
            ("SYSLOG", "syslog"),
            ("BPF", "bpf"),
            ("PERFMON", "perf_event_open"),
            ("DAC_READ_SEARCH", "open_by_handle_at"),
        ] {
            assert!(
                denied(&default_spec(&default_caps(), "amd64"), syscall),
                "{syscall}"
            );
            assert!(
                allowed(&default_spec(&with(&[cap]), "amd64"), syscall),
                "{cap} → {syscall}"
            );
        }
        // chroot needs CAP_SYS_CHROOT, which is a default.
        let no_chroot = effective_caps(&[], &["SYS_CHROOT".to_owned()]).unwrap();
        assert!(denied(&default_spec(&no_chroot, "amd64"), "chroot"));
    }

    #[test]
    fn architecture_groups() {
        let arm = default_spec(&default_caps(), "arm64");
        assert_eq!(arm.architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
        assert!(allowed(&arm, "set_tls") && allowed(&arm, "cacheflush"));
        assert!(denied(&arm, "arch_prctl") && denied(&arm, "modify_ldt"));
        let x86 = default_spec(&default_caps(), "386");
        assert!(allowed(&x86, "modify_ldt") && denied(&x86, "arch_prctl"));
        assert!(
            x86.architectures.is_empty(),
            "moby's archMap has no x86 entry"
        );
        let s390 = default_spec(&default_caps(), "s390x");
        assert_eq!(s390.architectures, ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"]);
        let clone = rules(&s390, "clone");
        assert_eq!((clone.len(), clone[0].args[0].index), (1, 1));
        assert!(allowed(&s390, "s390_runtime_instr"));
        let riscv = default_spec(&default_caps(), "riscv64");
        assert_eq!(riscv.architectures, ["SCMP_ARCH_RISCV64"]);
        assert!(allowed(&riscv, "riscv_flush_icache"));
        let ppc = default_spec(&default_caps(), "ppc64le");
        assert!(allowed(&ppc, "swapcontext") && ppc.architectures.is_empty());
    }

    #[test]
    fn old_kernels_lose_ptrace() {
        let old = KernelVersion {
            kernel: 4,
            major: 4,
        };
        let spec = to_spec_with_kernel(&docker_default(), &default_caps(), "amd64", old);
        assert!(denied(&spec, "ptrace"));
        let new = KernelVersion::from_release("6.18.44-fc-v669").unwrap();
        let spec = to_spec_with_kernel(&docker_default(), &default_caps(), "amd64", new);
        assert_eq!(spec, default_spec(&default_caps(), "amd64"));
    }

    #[test]
    fn spec_json_round_trips() {
        for caps in [default_caps(), with(&["ALL"])] {
            let spec = default_spec(&caps, "amd64");
            let json = serde_json::to_string(&spec).unwrap();
            let back: Seccomp = serde_json::from_str(&json).unwrap();
            assert_eq!(back, spec);
            assert!(json.contains(r#""defaultErrnoRet":1"#));
            assert!(
                json.contains(r#"{"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}"#)
                    == (caps.len() < ALL_CAPS.len())
            );
        }
    }

    /// The faithfulness check: Docker's own file parses into exactly the table.
    #[test]
    fn default_counts() {
        let table = docker_default();
        assert_eq!(table.syscalls.len(), 31);
        assert_eq!(table.syscalls[0].names.len(), 349);
        assert_eq!(default_spec(&default_caps(), "amd64").syscalls.len(), 13);
    }
}
