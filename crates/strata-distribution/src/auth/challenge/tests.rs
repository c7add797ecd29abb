#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;
use crate::auth::Actions;

#[test]
fn docker_hub_bearer_challenge_parses() {
    let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#;
    let c: Challenge = h.parse().unwrap();
    assert_eq!(c.scheme, AuthScheme::Bearer);
    assert_eq!(c.realm(), Some("https://auth.docker.io/token"));
    assert_eq!(c.service(), Some("registry.docker.io"));
    let scopes = c.scopes().unwrap();
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].name, "samalba/my-app");
    assert_eq!(scopes[0].actions, "pull,push".parse::<Actions>().unwrap());
    assert_eq!(c.to_string(), h);
}

#[test]
fn several_challenges_share_one_header() {
    let h = r#"Basic realm="x", Bearer realm="https://auth/token",service="registry",scope="repository:a/b:pull,push repository:c:pull""#;
    let all = Challenge::parse_all(h).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], Challenge::basic("x"));
    assert_eq!(all[1].scheme, AuthScheme::Bearer);
    assert_eq!(all[1].scopes().unwrap().len(), 2);
    let bare = Challenge::parse_all("Negotiate, Basic realm=x").unwrap();
    assert_eq!(bare[0].scheme, AuthScheme::Other("Negotiate".into()));
    assert!(bare[0].params.is_empty());
    assert_eq!(bare[1].realm(), Some("x"));
}

#[test]
fn schemes_and_names_are_case_insensitive() {
    let c: Challenge = r#"bEARER REALM="r" , Service = s"#.parse().unwrap();
    assert_eq!(c.scheme, AuthScheme::Bearer);
    assert_eq!(c.params[0], ("realm".into(), "r".into()));
    assert_eq!(c.param("SERVICE"), Some("s"));
}

#[test]
fn quoted_strings_unescape_and_format_back() {
    let c: Challenge = r#"Basic realm="a \"quoted\" \\ realm, with comma""#
        .parse()
        .unwrap();
    assert_eq!(c.realm(), Some(r#"a "quoted" \ realm, with comma"#));
    assert_eq!(c.to_string().parse::<Challenge>().unwrap(), c);
    let utf8: Challenge = "Basic realm=\"régistre\"".parse().unwrap();
    assert_eq!(utf8.realm(), Some("régistre"));
}

#[test]
fn token68_is_kept_without_breaking_the_rest() {
    let all = Challenge::parse_all("Negotiate YII/ab+c==, Basic realm=\"x\"").unwrap();
    assert_eq!(all[0].token68.as_deref(), Some("YII/ab+c=="));
    assert_eq!(all[1], Challenge::basic("x"));
    let one: Challenge = "Custom abc=".parse().unwrap();
    assert_eq!(one.token68.as_deref(), Some("abc="));
    assert_eq!(one.to_string(), "Custom abc=");
}

#[test]
fn insufficient_scope_errors_are_kept() {
    let c = Challenge::bearer("https://a/token", "reg", &[Scope::catalog()])
        .with_param("error", "insufficient_scope");
    let s = c.to_string();
    assert_eq!(
        s,
        r#"Bearer realm="https://a/token",service="reg",scope="registry:catalog:*",error="insufficient_scope""#
    );
    assert_eq!(s.parse::<Challenge>().unwrap(), c);
    assert_eq!(c.param("error"), Some("insufficient_scope"));
}

#[test]
fn malformed_headers_are_errors() {
    for bad in [
        "",
        " , ",
        "Bearer realm=\"unterminated",
        "Bearer realm=\"x\" service=\"y\"",
        "Bearer realm=\"x\",=",
        "Bearer realm=\"x\",service=",
        "=x",
        "Bearer\"x\"",
        "Basic abc def",
    ] {
        assert!(
            matches!(
                Challenge::parse_all(bad),
                Err(Error::InvalidChallenge { .. })
            ),
            "{bad:?} should be refused"
        );
    }
    assert!("Basic realm=x, Bearer realm=y"
        .parse::<Challenge>()
        .is_err());
}

proptest! {
    #[test]
    fn arbitrary_headers_never_panic(s in "\\PC{0,60}") {
        let _ = Challenge::parse_all(&s);
    }

    #[test]
    fn formatted_challenges_parse_back(
        realm in "\\PC{0,20}",
        service in "[ -~]{0,20}",
    ) {
        let c = Challenge::bearer(&realm, &service, &[]);
        prop_assert_eq!(c.to_string().parse::<Challenge>().unwrap(), c);
    }
}
