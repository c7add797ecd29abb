//! [`Instruction::expand`] cases: which fields are expanded and how errors are located.

use super::*;
use crate::error::Span;

fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

fn instruction(text: &str) -> Instruction {
    let df = crate::parse(&format!("FROM scratch\n{text}\n")).unwrap();
    df.stages[0].instructions[0].clone()
}

fn expanded(text: &str, vars: &[(&str, &str)]) -> Command {
    instruction(text).expand('\\', &env(vars)).unwrap().command
}

#[test]
fn expand_env_and_label_removes_quotes() {
    let vars = &[("V", "1.0"), ("NAME", "app")];
    let kv = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: v.into(),
    };
    assert_eq!(
        expanded("ENV a=\"x y\" b=$V c=${NAME}-${V} d='$V'", vars),
        Command::Env(vec![
            kv("a", "x y"),
            kv("b", "1.0"),
            kv("c", "app-1.0"),
            kv("d", "$V")
        ])
    );
    assert_eq!(
        expanded("ENV PATH /opt/$NAME/bin:\"$PATH\"", vars),
        Command::Env(vec![kv("PATH", "/opt/app/bin:")])
    );
    assert_eq!(
        expanded("LABEL \"org.$NAME\"=\"v $V\"", vars),
        Command::Label(vec![kv("org.app", "v 1.0")])
    );
}

#[test]
fn expand_copy_fields_but_not_heredoc_words() {
    let vars = &[
        ("SRC", "a b"),
        ("U", "app"),
        ("STAGE", "build"),
        ("D", "/dst"),
    ];
    let Command::Copy(copy) = expanded(
        "COPY --from=$STAGE --chown=$U:$U --chmod=${M:-755} \"$SRC\" c* $D/",
        vars,
    ) else {
        panic!("not a copy")
    };
    assert_eq!(copy.sources, ["a b", "c*"]);
    assert_eq!(copy.dest, "/dst/");
    assert_eq!(copy.from.as_deref(), Some("build"));
    assert_eq!(copy.chown.as_deref(), Some("app:app"));
    assert_eq!(copy.chmod.as_deref(), Some("755"));

    let df = crate::parse("FROM a\nCOPY <<\"EOF\" $D/x\n$U\nEOF\n").unwrap();
    let copy = df.stages[0].instructions[0]
        .expand('\\', &env(vars))
        .unwrap();
    let Command::Copy(copy) = copy.command else {
        panic!("not a copy")
    };
    assert_eq!(copy.sources, ["<<\"EOF\""]);
    assert_eq!(copy.dest, "/dst/x");
    assert_eq!(copy.heredocs[0].content, "$U\n");
}

#[test]
fn expand_lists_and_single_words() {
    let vars = &[
        ("P", "80 443"),
        ("U", "app"),
        ("V", "/data"),
        ("S", "SIGTERM"),
    ];
    assert_eq!(
        expanded("EXPOSE $P 53/udp", vars),
        Command::Expose(vec!["80".into(), "443".into(), "53/udp".into()])
    );
    assert_eq!(
        expanded("VOLUME $V '/b'", vars),
        Command::Volume(vec!["/data".into(), "/b".into()])
    );
    assert_eq!(
        expanded("USER $U:${G:-$U}", vars),
        Command::User("app:app".into())
    );
    assert_eq!(
        expanded("WORKDIR $V/app", vars),
        Command::Workdir("/data/app".into())
    );
    assert_eq!(
        expanded("STOPSIGNAL $S", vars),
        Command::StopSignal("SIGTERM".into())
    );
    assert_eq!(
        expanded("ARG A=$U B", vars),
        Command::Arg(vec![
            ArgDecl {
                name: "A".into(),
                default: Some("app".into())
            },
            ArgDecl {
                name: "B".into(),
                default: None
            },
        ])
    );
}

#[test]
fn expand_leaves_run_cmd_and_others_alone() {
    for text in [
        "RUN echo $HOME",
        "CMD echo $HOME",
        "ENTRYPOINT [\"$X\"]",
        "SHELL [\"$X\"]",
        "ONBUILD RUN $X",
        "MAINTAINER $X",
        "HEALTHCHECK CMD $X",
    ] {
        let i = instruction(text);
        assert_eq!(
            i.expand('\\', &env(&[("X", "y"), ("HOME", "/root")]))
                .unwrap(),
            i,
            "{text}"
        );
    }
}

#[test]
fn expand_errors_carry_the_instruction_span() {
    let df = crate::parse("FROM a\n  WORKDIR ${DIR:?set DIR}\n").unwrap();
    let i = &df.stages[0].instructions[0];
    let e = i.expand('\\', &env(&[])).unwrap_err();
    assert_eq!(e.span, Span::new(2, 3));
    assert_eq!(e.text, "WORKDIR ${DIR:?set DIR}");
    assert_eq!(
        e.to_string(),
        "line 2:3: failed to process \"${DIR:?set DIR}\": DIR: set DIR"
    );
}
