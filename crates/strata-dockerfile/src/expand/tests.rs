//! Expansion cases, most of them from BuildKit's `envVarTest`, `wordsTest` and
//! `TestProcessWithMatches`.

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

const ENV: &[(&str, &str)] = &[
    ("PWD", "/home"),
    ("SHELL", "bash"),
    ("KOREAN", "한국어"),
    ("NULL", ""),
];

/// An expansion case: input, variables, expected result.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

fn word(input: &str) -> Result<String, Error> {
    expand_word(input, '\\', &env(ENV))
}

#[test]
fn quotes_and_escapes() {
    let cases = [
        ("hello", "hello"),
        ("he'll'o", "hello"),
        ("he\\'llo", "he'llo"),
        ("abc\\tdef", "abctdef"),
        ("\"abc\\tdef\"", "abc\\tdef"),
        ("\"abc\\\\tdef\"", "abc\\tdef"),
        ("'abc\\tdef'", "abc\\tdef"),
        ("hello\\", "hello"),
        ("hello\\\\", "hello\\"),
        ("\"hel'lo\"", "hel'lo"),
        ("'hello\\'", "hello\\"),
        ("\"''\"", "''"),
        ("'\"hello\"'", "\"hello\""),
        ("안'녕'하세요", "안녕하세요"),
        ("안녕\\'하세요", "안녕'하세요"),
    ];
    for (input, expected) in cases {
        assert_eq!(word(input).unwrap(), expected, "{input}");
    }
}

#[test]
fn plain_variables() {
    let cases = [
        ("$.", "$."),
        ("he$1x", "hex"),
        ("he$.x", "he$.x"),
        ("he$pwd.", "he."),
        ("he$PWD", "he/home"),
        ("he\\$PWD", "he$PWD"),
        ("he\\\\$PWD", "he\\/home"),
        ("\"he\\$PWD\"", "he$PWD"),
        ("\"he\\\\$PWD\"", "he\\/home"),
        ("\\${}", "${}"),
        ("he\\${}xx", "he${}xx"),
        ("he${hi}xx", "hexx"),
        ("he${PWD}", "he/home"),
        ("'he${XX}'", "he${XX}"),
        ("\"he${PWD}\"", "he/home"),
        ("\"he'$PWD'\"", "he'/home'"),
        ("'$PWD'", "$PWD"),
        ("'\\$PWD'", "\\$PWD"),
        ("$KOREAN", "한국어"),
    ];
    for (input, expected) in cases {
        assert_eq!(word(input).unwrap(), expected, "{input}");
    }
}

#[test]
fn modifiers() {
    let cases = [
        ("he${XXX:-000}xx", "he000xx"),
        ("he${PWD:-000}xx", "he/homexx"),
        ("he${XXX:-$PWD}xx", "he/homexx"),
        ("he${XXX:-${PWD:-yyy}}xx", "he/homexx"),
        ("he${XXX:-${YYY:-yyy}}xx", "heyyyxx"),
        ("he${PWD?}", "he/home"),
        ("he${PWD:?}", "he/home"),
        ("he${NULL?}", "he"),
        ("he${XXX:+${PWD}}xx", "hexx"),
        ("he${PWD:+${XXX}}xx", "hexx"),
        ("he${PWD:+${SHELL}}xx", "hebashxx"),
        ("he${XXX:+000}xx", "hexx"),
        ("he${PWD:+000}xx", "he000xx"),
        ("he${PWD:+${PWD}:}xx", "he/home:xx"),
        ("he${XXX:-\\$PWD:}xx", "he$PWD:xx"),
        ("he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"),
        ("${NULL-d}|${NULL:-d}|${XXX-d}", "|d|d"),
        ("${NULL+a}|${NULL:+a}|${XXX+a}", "a||"),
    ];
    for (input, expected) in cases {
        assert_eq!(word(input).unwrap(), expected, "{input}");
    }
}

#[test]
fn malformed_words_are_errors() {
    for input in [
        "he'llo",
        "he\\\\'llo",
        "\"hello",
        "\"hello\\\"",
        "'hello",
        "${}",
        "${}aaa",
        "he${}xx",
        "he${.}",
        "he${XXX:YYY}",
        "he${XXX?}",
        "he${XXX:?}",
        "he${NULL:?}",
        "he${PWD",
        "he${PWD:=000}xx",
        "${FOO=aaa}",
    ] {
        assert!(word(input).is_err(), "{input} should fail");
    }
}

#[test]
fn error_messages_follow_buildkit() {
    let message = |input: &str| word(input).unwrap_err().message;
    assert_eq!(
        message("${XXX:?}"),
        "failed to process \"${XXX:?}\": XXX: is not allowed to be unset"
    );
    assert_eq!(
        message("${NULL:?}"),
        "failed to process \"${NULL:?}\": NULL: is not allowed to be empty"
    );
    assert_eq!(
        message("${XXX?need it}"),
        "failed to process \"${XXX?need it}\": XXX: need it"
    );
    assert_eq!(
        message("${abc"),
        "failed to process \"${abc\": syntax error: missing '}'"
    );
    assert_eq!(
        message("${a:-x"),
        "failed to process \"${a:-x\": syntax error: missing '}'"
    );
    assert_eq!(
        message("${}"),
        "failed to process \"${}\": syntax error: bad substitution"
    );
    assert_eq!(
        message("'a"),
        "failed to process \"'a\": unexpected end of statement while looking for matching single-quote"
    );
    let e = word("${a").unwrap_err();
    assert_eq!(e.span, Span::default());
    assert_eq!(e.text, "${a");
}

#[test]
fn undefined_variable_is_empty() {
    assert_eq!(word("a${UNSET}b$UNSET").unwrap(), "ab");
}

#[test]
fn backtick_escape() {
    let lookup = env(ENV);
    assert_eq!(
        expand_word("C:\\dir`$PWD", '`', &lookup).unwrap(),
        "C:\\dir$PWD"
    );
    assert_eq!(expand_word("\"a`\"b\"", '`', &lookup).unwrap(), "a\"b");
    assert_eq!(expand_word("`${x}", '`', &lookup).unwrap(), "${x}");
    assert_eq!(expand_words("a` b c", '`', &lookup).unwrap(), ["a b", "c"]);
}

#[test]
fn pattern_modifiers() {
    let cases: &[Case<'_>] = &[
        (
            "${FOO#()[]{\\}^$.\\*\\?|\\\\}",
            &[("FOO", "()[]{}^$.*?|\\x")],
            "x",
        ),
        ("${FOO%%\\**}", &[("FOO", "xx**")], "xx"),
        ("${FOO#*x*y}", &[("FOO", "xxyy")], "y"),
        ("${FOO#*}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "x")], "xyy"),
        ("${FOO##*x}", &[("FOO", "xxyy")], "yy"),
        ("${FOO#?\\?}", &[("FOO", "???y")], "?y"),
        ("${ABC:-.}${FOO%x}${ABC:-.}", &[("FOO", "xxyy")], ".xxyy."),
        ("${FOO%%\\**\\*}", &[("FOO", "a***yy*")], "a"),
        ("${FOO%y*}", &[("FOO", "xxyy")], "xxy"),
        (
            "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
            &[("FOO", "/foo*/*/*.txt"), ("NEEDLE", "\\*/")],
            "/foo.*/*.txt - /foo..*.txt",
        ),
        (
            "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
            &[("FOO", "/tmp/tmp/bar.txt"), ("NEEDLE", "/tmp")],
            "/tmp/bar.txt - /bar.txt",
        ),
        (
            "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
            &[
                ("FOO", "/a/foo/b/c.txt"),
                ("NEEDLE", "/?/"),
                ("REPLACEMENT", "/"),
            ],
            "/foo/b/c.txt - /foo/c.txt",
        ),
        (
            "${FOO//\\//\\/}",
            &[("FOO", "/tmp/foo.txt")],
            "\\/tmp\\/foo.txt",
        ),
        ("${FOO/$BAR/ww}", &[("FOO", "xxyy"), ("BAR", "")], "wwxxyy"),
        ("${FOO///}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO///}", &[], ""),
    ];
    for (input, vars, expected) in cases {
        assert_eq!(
            expand_word(input, '\\', &env(vars)).unwrap(),
            *expected,
            "{input}"
        );
    }
    for input in ["${FOO//ww}", "${FOO//}", "${FOO#\\x}"] {
        assert!(
            expand_word(input, '\\', &env(&[("FOO", "xxyy")])).is_err(),
            "{input}"
        );
    }
}

#[test]
fn words_split_on_unquoted_whitespace() {
    let vars: &[(&str, &str)] = &[
        ("hi", "hi"),
        ("space", "abc  def"),
        ("leading", "  ab c"),
        ("trailing", "ab c   "),
    ];
    let cases: &[(&str, &[&str])] = &[
        ("hello", &["hello"]),
        ("hello${hi}bye", &["hellohibye"]),
        ("hello${space}bye", &["helloabc", "defbye"]),
        ("hello\"${space}\"bye", &["helloabc  defbye"]),
        ("hello \"${space}\"bye", &["hello", "abc  defbye"]),
        ("hello${leading}def", &["hello", "ab", "cdef"]),
        ("hello\"${leading}\" def", &["hello  ab c", "def"]),
        ("hello${trailing}", &["helloab", "c"]),
        ("hello${trailing}d", &["helloab", "c", "d"]),
        ("hello\"${trailing}\"d", &["helloab c   d"]),
        ("hel\\ lo", &["hel lo"]),
        ("  80/tcp   443 ", &["80/tcp", "443"]),
        ("\"\"", &[]),
        ("${undefined}", &[]),
    ];
    for (input, expected) in cases {
        assert_eq!(
            expand_words(input, '\\', &env(vars)).unwrap(),
            *expected,
            "{input}"
        );
    }
    assert!(expand_words("\"open", '\\', &env(vars)).is_err());
}
