use std::collections::BTreeMap;

use strata_dockerfile::parse;

use super::*;

fn planned(text: &str, target: Option<&str>) -> Result<Plan> {
    let df = parse(text)?;
    let scope = global_scope(&df, &BTreeMap::new(), &BTreeMap::new())?;
    plan(&df, target, &scope)
}

#[test]
fn unused_stages_are_not_needed() {
    let p = planned(
        "FROM busybox AS a\nRUN x\nFROM busybox AS unused\nRUN false\nFROM scratch\nCOPY --from=a /x /x\n",
        None,
    )
    .unwrap();
    assert_eq!(p.target, 2);
    assert_eq!(p.needed, vec![0, 2]);
    assert_eq!(p.stages[2].deps, vec![0]);
    assert_eq!(p.stages[2].base, BaseRef::Scratch);
}

#[test]
fn target_selects_a_stage_and_its_dependencies() {
    let p = planned(
        "FROM busybox AS base\nFROM base AS mid\nFROM busybox AS other\n",
        Some("MID"),
    )
    .unwrap();
    assert_eq!(p.target, 1);
    assert_eq!(p.needed, vec![0, 1]);
    assert_eq!(p.stages[1].base, BaseRef::Stage(0));
}

#[test]
fn unknown_target_is_an_error() {
    let e = planned("FROM busybox AS a\n", Some("nope")).unwrap_err();
    assert!(e.to_string().contains("\"nope\""), "{e}");
}

#[test]
fn copy_from_an_index_depends_on_that_stage() {
    let p = planned("FROM busybox\nFROM busybox\nCOPY --from=0 /a /a\n", None).unwrap();
    assert_eq!(p.stages[1].deps, vec![0]);
}

#[test]
fn copy_from_an_unknown_name_is_an_image() {
    let p = planned("FROM busybox\nCOPY --from=debian:bookworm /a /a\n", None).unwrap();
    assert!(p.stages[0].deps.is_empty());
}

#[test]
fn using_a_stage_before_its_definition_is_an_error() {
    let e = planned(
        "FROM busybox\nCOPY --from=later /a /a\nFROM busybox AS later\n",
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("before it is defined"), "{e}");
}

#[test]
fn global_args_expand_in_from_and_build_args_override_them() {
    let df = parse("ARG BASE=busybox\nARG TAG\nFROM ${BASE}:${TAG:-latest}\n").unwrap();
    let scope = global_scope(&df, &BTreeMap::new(), &BTreeMap::new()).unwrap();
    let p = plan(&df, None, &scope).unwrap();
    assert_eq!(p.stages[0].base, BaseRef::Image("busybox:latest".into()));
    let args = BTreeMap::from([("TAG".to_owned(), "1.36".to_owned())]);
    let scope = global_scope(&df, &args, &BTreeMap::new()).unwrap();
    let p = plan(&df, None, &scope).unwrap();
    assert_eq!(p.stages[0].base, BaseRef::Image("busybox:1.36".into()));
}

#[test]
fn a_blank_base_is_an_error_naming_the_line() {
    let e = planned("ARG B\nFROM $B\n", None).unwrap_err();
    assert_eq!(e.span().map(|s| s.line), Some(2));
}

#[test]
fn declaring_an_automatic_arg_keeps_its_value() {
    let df = parse("ARG TARGETARCH\nARG UNSET\nFROM busybox:$TARGETARCH$UNSET\n").unwrap();
    let automatic = BTreeMap::from([("TARGETARCH".to_owned(), "amd64".to_owned())]);
    let scope = global_scope(&df, &BTreeMap::new(), &automatic).unwrap();
    let p = plan(&df, None, &scope).unwrap();
    assert_eq!(p.stages[0].base, BaseRef::Image("busybox:amd64".into()));
}
