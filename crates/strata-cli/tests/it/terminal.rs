//! `-i`, `-t` and `exec -it` from a real terminal: util-linux `script` gives
//! the CLI a pseudo-terminal and feeds it the test's input.

use std::process::{Command, Output};

use crate::common::{bin, Strata};
use crate::containers::{code, setup, text};

/// Runs `strata ARGS` on a terminal of its own, typing `input`; returns the
/// exit code and everything the terminal showed.
pub(crate) fn on_terminal(s: &Strata, args: &str, input: &str) -> (i32, String) {
    let mut script = Command::new("script");
    script
        .args(["-qec", &format!("{} {args}", bin()), "/dev/null"])
        .env("STRATA_ROOT", s.root())
        .env_remove("STRATA_LOG");
    let out = feed(script, input);
    (code(&out), text(&out.stdout).replace('\r', ""))
}

/// Runs `cmd` with `input` on a pipe as its stdin.
fn feed(mut cmd: Command, input: &str) -> Output {
    strata_testkit::run_with_stdin(&mut cmd, input.as_bytes())
}

fn terminal_setup() -> Option<Strata> {
    let s = setup()?;
    strata_testkit::require_peer("script", &["--version"])?;
    Some(s)
}

#[test]
fn run_i_feeds_stdin_and_closes_it_at_the_end() {
    let Some(s) = setup() else { return };
    let out = feed(
        s.cmd(&["run", "-i", "--rm", "busybox", "sh", "-c", "wc -l; exit 4"]),
        "one\ntwo\nthree\n",
    );
    assert_eq!(code(&out), 4);
    assert_eq!(text(&out.stdout).trim(), "3");
    assert_eq!(s.ok(&["ps", "-aq"]), "");
}

#[test]
fn run_it_gives_the_container_a_terminal() {
    let Some(s) = terminal_setup() else { return };
    // Output written before the CLI could attach is not lost.
    let (rc, shown) = on_terminal(&s, "run -t --rm busybox sh -c 'tty; exit 3'", "");
    assert_eq!((rc, shown.as_str()), (3, "/dev/pts/0\n"));
    // An interactive shell, typed into.
    let (rc, shown) = on_terminal(
        &s,
        "run -it --name shell busybox sh",
        "echo $((6 * 7)); stty size; exit 5\n",
    );
    assert_eq!(rc, 5, "{shown}");
    assert!(shown.contains("\n42\n"), "{shown}");
    // The terminal's output is in the log, as Docker keeps it.
    assert!(s.ok(&["logs", "shell"]).contains("42"));
    assert_eq!(
        s.ok(&[
            "inspect",
            "-f",
            "{{.Config.Tty}} {{.Config.OpenStdin}}",
            "shell"
        ]),
        "true true\n"
    );
    s.ok(&["rm", "shell"]);
}

#[test]
fn exec_it_runs_a_shell_on_a_terminal_in_the_container() {
    let Some(s) = terminal_setup() else { return };
    s.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "60"]);
    let (rc, shown) = on_terminal(
        &s,
        "exec -it box sh",
        "echo in-$(hostname | wc -c); tty; exit 6\n",
    );
    assert_eq!(rc, 6, "{shown}");
    assert!(shown.contains("\nin-13\n"), "{shown}");
    assert!(shown.contains("/dev/pts/"), "{shown}");
    // Without -t, no terminal: stdin is a pipe.
    let out = feed(
        s.cmd(&["exec", "-i", "box", "sh", "-c", "tty; cat"]),
        "piped\n",
    );
    assert_eq!(text(&out.stdout), "not a tty\npiped\n");
    s.ok(&["rm", "-f", "box"]);
}
