//! Docker's default seccomp profile, as data.
//!
//! Reproduces moby's `profiles/seccomp/default.json` (and `default_linux.go`,
//! which generates it) at commit `00f3d189e420d485e42d15fe494f96d272284e0e`,
//! the Docker 23/24 profile: it allows `futex_waitv`, `memfd_secret`,
//! `process_mrelease` and `set_mempolicy_home_node`, and predates
//! `cachestat`, `fchmodat2` and `map_shadow_stack`. The rule groups keep the
//! file's order; a test checks the table against the file, byte for byte.

use super::profile::{ArchMap, DockerProfile, Filter, KernelVersion, SyscallGroup};
use crate::spec::SyscallArg;

/// `EPERM`: the errno of the default action.
const EPERM: u32 = 1;
/// `ENOSYS`: what `clone3` returns without `CAP_SYS_ADMIN`, so that libc
/// falls back to `clone`, whose flags the filter can inspect.
const ENOSYS: u32 = 38;
/// `AF_VSOCK`: the one socket family the profile denies.
const AF_VSOCK: u64 = 40;
/// `personality(2)` values allowed: `PER_LINUX`, `PER_LINUX32`, `UNAME26`,
/// `PER_LINUX32 | UNAME26`, and `0xffffffff` (query the current persona).
const PERSONALITIES: [u64; 5] = [0x0, 0x0008, 0x20000, 0x20008, 0xffff_ffff];
/// `CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
/// CLONE_NEWNET | CLONE_NEWCGROUP`: `clone` may set none of them without
/// `CAP_SYS_ADMIN` (= 2114060288).
const CLONE_NAMESPACE_FLAGS: u64 =
    0x0002_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000 | 0x0200_0000;

/// `(native architecture, sub-architectures)`, moby's `arches()`.
const ARCH_MAP: &[(&str, &[&str])] = &[
    ("SCMP_ARCH_X86_64", &["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
    ("SCMP_ARCH_AARCH64", &["SCMP_ARCH_ARM"]),
    (
        "SCMP_ARCH_MIPS64",
        &["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"],
    ),
    (
        "SCMP_ARCH_MIPS64N32",
        &["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"],
    ),
    (
        "SCMP_ARCH_MIPSEL64",
        &["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"],
    ),
    (
        "SCMP_ARCH_MIPSEL64N32",
        &["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"],
    ),
    ("SCMP_ARCH_S390X", &["SCMP_ARCH_S390"]),
    ("SCMP_ARCH_RISCV64", &[]),
];

/// Allowed unconditionally, in the file's order.
#[rustfmt::skip]
const ALWAYS_ALLOWED: &[&str] = &[
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
    "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
    "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
    "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
    "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
    "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
    "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
    "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
    "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
    "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
    "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
    "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
    "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
    "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill",
    "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
    "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr",
    "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
    "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
    "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
    "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
    "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd",
    "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep",
    "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect",
    "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2",
    "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
    "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
    "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
    "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
    "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
    "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
    "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
    "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
    "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
    "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask",
    "uname", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
    "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
];

/// Allowed with `CAP_SYS_ADMIN` (which also lifts the `clone` flag filter).
#[rustfmt::skip]
const SYS_ADMIN: &[&str] = &[
    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
    "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
    "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
    "syslog", "umount", "umount2", "unshare",
];

/// Groups allowed by one capability each, after the `CAP_SYS_ADMIN` ones.
const BY_CAPABILITY: &[(&str, &[&str])] = &[
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYS_CHROOT", &["chroot"]),
    (
        "CAP_SYS_MODULE",
        &["delete_module", "init_module", "finit_module"],
    ),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_PTRACE",
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    (
        "CAP_SYS_TIME",
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
    ),
    ("CAP_SYS_TTY_CONFIG", &["vhangup"]),
    (
        "CAP_SYS_NICE",
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
    ),
    ("CAP_SYSLOG", &["syslog"]),
    ("CAP_BPF", &["bpf"]),
    ("CAP_PERFMON", &["perf_event_open"]),
];

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A rule group with `action` for `names`, no condition yet.
fn group(names: &[&str], action: &str) -> SyscallGroup {
    SyscallGroup {
        names: strings(names),
        action: action.to_owned(),
        errno_ret: None,
        args: Vec::new(),
        comment: None,
        includes: Filter::default(),
        excludes: Filter::default(),
    }
}

fn allow(names: &[&str]) -> SyscallGroup {
    group(names, "SCMP_ACT_ALLOW")
}

impl SyscallGroup {
    fn arg(mut self, index: u32, value: u64, op: &str) -> Self {
        self.args.push(SyscallArg {
            index,
            value,
            value_two: 0,
            op: op.to_owned(),
        });
        self
    }
    fn only_arches(mut self, arches: &[&str]) -> Self {
        self.includes.arches = strings(arches);
        self
    }
    fn only_caps(mut self, caps: &[&str]) -> Self {
        self.includes.caps = strings(caps);
        self
    }
    fn min_kernel(mut self, kernel: u8, major: u8) -> Self {
        self.includes.min_kernel = Some(KernelVersion { kernel, major });
        self
    }
    fn unless_caps(mut self, caps: &[&str]) -> Self {
        self.excludes.caps = strings(caps);
        self
    }
    fn unless_arches(mut self, arches: &[&str]) -> Self {
        self.excludes.arches = strings(arches);
        self
    }
}

/// Docker's default seccomp profile (moby 23/24 `profiles/seccomp/default.json`):
/// deny with `EPERM` by default, allow the syscalls a normal program needs,
/// and allow the privileged ones only with the capability that governs them.
pub fn docker_default() -> DockerProfile {
    let mut syscalls = vec![
        allow(ALWAYS_ALLOWED),
        // Harmless since 4.8 made ptrace respect seccomp.
        allow(&["process_vm_readv", "process_vm_writev", "ptrace"]).min_kernel(4, 8),
        allow(&["socket"]).arg(0, AF_VSOCK, "SCMP_CMP_NE"),
    ];
    syscalls.extend(
        PERSONALITIES
            .iter()
            .map(|&p| allow(&["personality"]).arg(0, p, "SCMP_CMP_EQ")),
    );
    syscalls.extend([
        allow(&["sync_file_range2", "swapcontext"]).only_arches(&["ppc64le"]),
        allow(&[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ])
        .only_arches(&["arm", "arm64"]),
        allow(&["arch_prctl"]).only_arches(&["amd64", "x32"]),
        allow(&["modify_ldt"]).only_arches(&["amd64", "x32", "x86"]),
        allow(&[
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
            "s390_runtime_instr",
        ])
        .only_arches(&["s390", "s390x"]),
        allow(&["riscv_flush_icache"]).only_arches(&["riscv64"]),
        allow(&["open_by_handle_at"]).only_caps(&["CAP_DAC_READ_SEARCH"]),
        allow(SYS_ADMIN).only_caps(&["CAP_SYS_ADMIN"]),
        // Without CAP_SYS_ADMIN, clone may not create namespaces.
        allow(&["clone"])
            .arg(0, CLONE_NAMESPACE_FLAGS, "SCMP_CMP_MASKED_EQ")
            .unless_caps(&["CAP_SYS_ADMIN"])
            .unless_arches(&["s390", "s390x"]),
        SyscallGroup {
            comment: Some("s390 parameter ordering for clone is different".to_owned()),
            ..allow(&["clone"])
                .arg(1, CLONE_NAMESPACE_FLAGS, "SCMP_CMP_MASKED_EQ")
                .only_arches(&["s390", "s390x"])
                .unless_caps(&["CAP_SYS_ADMIN"])
        },
        // clone3 passes its flags in memory the filter cannot read: make libc
        // fall back to clone.
        SyscallGroup {
            errno_ret: Some(ENOSYS),
            ..group(&["clone3"], "SCMP_ACT_ERRNO").unless_caps(&["CAP_SYS_ADMIN"])
        },
    ]);
    syscalls.extend(
        BY_CAPABILITY
            .iter()
            .map(|(cap, names)| allow(names).only_caps(&[cap])),
    );
    DockerProfile {
        default_action: "SCMP_ACT_ERRNO".to_owned(),
        default_errno_ret: Some(EPERM),
        architectures: Vec::new(),
        arch_map: ARCH_MAP
            .iter()
            .map(|(arch, subs)| ArchMap {
                architecture: (*arch).to_owned(),
                sub_architectures: strings(subs),
            })
            .collect(),
        syscalls,
    }
}
