use super::*;

/// Go's `path/filepath` match_test.go table: (pattern, name, matches).
const GO_MATCH_CASES: &[(&str, &str, bool)] = &[
    ("abc", "abc", true),
    ("*", "abc", true),
    ("*c", "abc", true),
    ("a*", "a", true),
    ("a*", "abc", true),
    ("a*", "ab/c", false),
    ("a*/b", "abc/b", true),
    ("a*/b", "a/c/b", false),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
    ("a*b?c*x", "abxbbxdbxebxczzx", true),
    ("a*b?c*x", "abxbbxdbxebxczzy", false),
    ("ab[c]", "abc", true),
    ("ab[b-d]", "abc", true),
    ("ab[e-g]", "abc", false),
    ("ab[^c]", "abc", false),
    ("ab[^b-d]", "abc", false),
    ("ab[^e-g]", "abc", true),
    ("a\\*b", "a*b", true),
    ("a\\*b", "ab", false),
    ("a?b", "a☺b", true),
    ("a[^a]b", "a☺b", true),
    ("a???b", "a☺b", false),
    ("a[^a][^a][^a]b", "a☺b", false),
    ("[a-ζ]*", "α", true),
    ("*[a-ζ]", "A", false),
    ("a?b", "a/b", false),
    ("a*b", "a/b", false),
    ("[\\]a]", "]", true),
    ("[\\-]", "-", true),
    ("[x\\-]", "x", true),
    ("[x\\-]", "-", true),
    ("[x\\-]", "z", false),
    ("[\\-x]", "x", true),
    ("[\\-x]", "-", true),
    ("[\\-x]", "a", false),
    ("*x", "xxx", true),
];

/// Further cases on the edges of the syntax: (pattern, name, matches).
const EDGE_CASES: &[(&str, &str, bool)] = &[
    ("", "", true),
    ("", "a", false),
    ("*", "", true),
    ("*", "a/b", false),
    ("**", "abc", true),
    ("**", "a/b", false),
    ("*/*", "a/b", true),
    ("*/*", "a/b/c", false),
    ("?", "", false),
    ("?", "/", false),
    ("a[/]b", "a/b", true),
    ("a[^x]b", "a/b", true),
    ("[!a]", "!", true),
    ("[!a]", "b", false),
    ("[^!a]", "b", true),
    ("[z-a]", "m", false),
    ("[^z-a]", "m", true),
    ("[a-c]", "-", false),
    ("\\[a]", "[a]", true),
    ("a]", "a]", true),
    ("[[]", "[", true),
    ("[*]", "*", true),
    ("[*]", "a", false),
    ("*.go", "main.go", true),
    ("*.go", ".go", true),
    ("*.go", "cmd/main.go", false),
    ("src/*/mod.rs", "src/a/mod.rs", true),
    ("src/*/mod.rs", "src/a/b/mod.rs", false),
    ("file?.txt", "file1.txt", true),
    ("file?.txt", "file10.txt", false),
    ("☺*", "☺☺", true),
    (
        "a*a*a*a*a*a*a*a*b",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        false,
    ),
];

#[test]
fn matches_agree_with_go_filepath_match() {
    for &(pattern, name, want) in GO_MATCH_CASES.iter().chain(EDGE_CASES) {
        let compiled = Pattern::new(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
        assert_eq!(
            compiled.matches(name),
            want,
            "pattern {pattern:?} name {name:?}"
        );
    }
}

#[test]
fn malformed_patterns_are_refused_like_err_bad_pattern() {
    let bad = [
        "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "a/b[", "ab\\",
        "[a\\", "[a-", "[a-\\", "*[", "a*b[c", "[]", "[^]", "[a-]]",
    ];
    for pattern in bad {
        let error = Pattern::new(pattern).expect_err(pattern);
        assert_eq!(error.pattern(), pattern);
    }
}

#[test]
fn a_late_error_is_found_even_when_an_early_chunk_cannot_match() {
    // Go validates the whole pattern, not just the part it got to.
    assert!(Pattern::new("x*[").is_err());
    assert!(Pattern::new("nomatch/\\").is_err());
}

#[test]
fn error_message_names_the_pattern() {
    let error = Pattern::new("ab[").expect_err("unclosed class");
    let message = error.to_string();
    assert!(message.contains("\"ab[\""), "{message}");
    assert!(message.contains("]"), "{message}");
    assert_eq!(error.reason(), UNCLOSED_CLASS);
}

#[test]
fn leftmost_chunk_placement_is_kept_as_go_does() {
    // A backtracking glob would match (`*`="a", `[^x]`="/", `*`="b"); Go
    // places the class at "a", leaving "/b" for a `*` that cannot take it.
    let pattern = Pattern::new("*[^x]*").expect("valid");
    assert!(!pattern.matches("a/b"));
    assert!(pattern.matches("ab"));
}

#[test]
fn last_chunk_after_a_star_must_end_the_name() {
    let pattern = Pattern::new("*ab").expect("valid");
    assert!(pattern.matches("abab"));
    assert!(pattern.matches("xab"));
    assert!(!pattern.matches("abx"));
}

#[test]
fn has_meta_sees_only_go_magic_characters() {
    let cases = [
        ("plain/file.txt", false),
        ("", false),
        ("a*", true),
        ("a?", true),
        ("[ab]", true),
        ("a\\b", true),
        ("a]", false),
        ("{a,b}", false),
        ("!a", false),
        ("a^b", false),
    ];
    for (text, want) in cases {
        assert_eq!(has_meta(text), want, "{text:?}");
        if let Ok(pattern) = Pattern::new(text) {
            assert_eq!(pattern.has_meta(), want, "{text:?}");
        }
    }
}

#[test]
fn pattern_round_trips_through_from_str_and_display() {
    for text in ["a*b", "[^a-z]?", "dir/\\*", ""] {
        let pattern: Pattern = text.parse().expect("valid");
        assert_eq!(pattern.to_string(), text);
        assert_eq!(pattern.as_str(), text);
    }
    assert!("[".parse::<Pattern>().is_err());
}

#[test]
fn class_parser_reports_reversed_ranges() {
    let mut chars = "z-a]".chars();
    let class = Class::parse(&mut chars).expect("valid in Go");
    assert!(class.has_reversed_range());
    let mut chars = "a-z]rest".chars();
    let class = Class::parse(&mut chars).expect("valid");
    assert!(!class.has_reversed_range());
    assert_eq!(chars.as_str(), "rest");
}
