use super::*;

fn rules(lines: &[&str]) -> IgnoreRules {
    let text = lines.join("\n");
    IgnoreRules::parse(&text).unwrap_or_else(|e| panic!("{lines:?}: {e}"))
}

/// moby/patternmatcher `TestMatches`, one pattern each: (pattern, path,
/// excluded). Its cases on the path "/" (the context root) are left out: the
/// root is never excluded here.
const PATTERNMATCHER_CASES: &[(&str, &str, bool)] = &[
    ("**", "file", true),
    ("**", "file/", true),
    ("**/", "file", true),
    ("**/", "file/", true),
    ("**", "dir/file", true),
    ("**/", "dir/file", true),
    ("**", "dir/file/", true),
    ("**/", "dir/file/", true),
    ("**/**", "dir/file", true),
    ("**/**", "dir/file/", true),
    ("dir/**", "dir/file", true),
    ("dir/**", "dir/file/", true),
    ("dir/**", "dir/dir2/file", true),
    ("dir/**", "dir/dir2/file/", true),
    ("**/dir", "dir", true),
    ("**/dir", "dir/file", true),
    ("**/dir2/*", "dir/dir2/file", true),
    ("**/dir2/*", "dir/dir2/file/", true),
    ("**/dir2/**", "dir/dir2/dir3/file", true),
    ("**/dir2/**", "dir/dir2/dir3/file/", true),
    ("**file", "file", true),
    ("**file", "dir/file", true),
    ("**/file", "dir/file", true),
    ("**file", "dir/dir/file", true),
    ("**/file", "dir/dir/file", true),
    ("**/file*", "dir/dir/file", true),
    ("**/file*", "dir/dir/file.txt", true),
    ("**/file*txt", "dir/dir/file.txt", true),
    ("**/file*.txt", "dir/dir/file.txt", true),
    ("**/file*.txt*", "dir/dir/file.txt", true),
    ("**/**/*.txt", "dir/dir/file.txt", true),
    ("**/**/*.txt2", "dir/dir/file.txt", false),
    ("**/*.txt", "file.txt", true),
    ("**/**/*.txt", "file.txt", true),
    ("a**/*.txt", "a/file.txt", true),
    ("a**/*.txt", "a/dir/file.txt", true),
    ("a**/*.txt", "a/dir/dir/file.txt", true),
    ("a/*.txt", "a/dir/file.txt", false),
    ("a/*.txt", "a/file.txt", true),
    ("a/*.txt**", "a/file.txt", true),
    ("a[b-d]e", "ae", false),
    ("a[b-d]e", "ace", true),
    ("a[b-d]e", "aae", false),
    ("a[^b-d]e", "aze", true),
    (".*", ".foo", true),
    (".*", "foo", false),
    ("abc.def", "abcdef", false),
    ("abc.def", "abc.def", true),
    ("abc.def", "abcZdef", false),
    ("abc?def", "abcZdef", true),
    ("abc?def", "abcdef", false),
    ("**/foo/bar", "foo/bar", true),
    ("**/foo/bar", "dir/foo/bar", true),
    ("**/foo/bar", "dir/dir2/foo/bar", true),
    ("abc/**", "abc", false),
    ("abc/**", "abc/def", true),
    ("abc/**", "abc/def/ghi", true),
    ("**/.foo", ".foo", true),
    ("**/.foo", "bar.foo", false),
    ("a(b)c/def", "a(b)c/def", true),
    ("a(b)c/def", "a(b)c/xyz", false),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
    (
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        true,
    ),
    (
        "dist/*.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        true,
    ),
    ("a\\\\", "a\\", true),
    ("a\\*b", "a*b", true),
];

/// Go's `filepath.Match` table as moby runs it through the ignore matcher,
/// where a matching parent directory counts: (pattern, path, excluded).
const GO_TABLE_WITH_PARENTS: &[(&str, &str, bool)] = &[
    ("abc", "abc", true),
    ("*", "abc", true),
    ("*c", "abc", true),
    ("a*", "a", true),
    ("a*", "abc", true),
    ("a*", "ab/c", true),
    ("a*/b", "abc/b", true),
    ("a*/b", "a/c/b", false),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
    ("a*b?c*x", "abxbbxdbxebxczzx", true),
    ("a*b?c*x", "abxbbxdbxebxczzy", false),
    ("ab[c]", "abc", true),
    ("ab[^c]", "abc", false),
    ("ab[^e-g]", "abc", true),
    ("a?b", "a☺b", true),
    ("a???b", "a☺b", false),
    ("[a-ζ]*", "α", true),
    ("*[a-ζ]", "A", false),
    ("a?b", "a/b", false),
    ("a*b", "a/b", false),
    ("[\\]a]", "]", true),
    ("[\\-x]", "-", true),
    ("[\\-x]", "a", false),
    ("*x", "xxx", true),
];

#[test]
fn single_patterns_match_like_moby_patternmatcher() {
    for &(pattern, path, want) in PATTERNMATCHER_CASES.iter().chain(GO_TABLE_WITH_PARENTS) {
        let rules = rules(&[pattern]);
        assert_eq!(
            rules.is_excluded(path),
            want,
            "pattern {pattern:?} path {path:?}"
        );
    }
}

/// (rules, path, excluded): moby's multi-pattern cases, the examples of the
/// Dockerfile reference, and rule-order cases.
const RULE_SET_CASES: &[(&[&str], &str, bool)] = &[
    (&["**", "!util/docker/web"], "util/docker/web/foo", false),
    (
        &["**", "!util/docker/web", "util/docker/web/foo"],
        "util/docker/web/foo",
        true,
    ),
    (
        &[
            "**",
            "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        ],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        false,
    ),
    (
        &["**", "!dist/*.whl"],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        false,
    ),
    (
        &["*/temp*", "*/*/temp*", "temp?"],
        "somedir/temporary.txt",
        true,
    ),
    (&["*/temp*", "*/*/temp*", "temp?"], "somedir/temp", true),
    (
        &["*/temp*", "*/*/temp*", "temp?"],
        "somedir/temp/inside",
        true,
    ),
    (
        &["*/temp*", "*/*/temp*", "temp?"],
        "somedir/subdir/temporary.txt",
        true,
    ),
    (&["*/temp*", "*/*/temp*", "temp?"], "tempa", true),
    (&["*/temp*", "*/*/temp*", "temp?"], "temp", false),
    (&["*/temp*", "*/*/temp*", "temp?"], "temporary.txt", false),
    (&["*/temp*", "*/*/temp*", "temp?"], "a/b/c/temp", false),
    (&["*.md", "!README.md"], "CHANGELOG.md", true),
    (&["*.md", "!README.md"], "README.md", false),
    (&["*.md", "!README.md"], "docs/guide.md", false),
    (
        &["*.md", "!README*.md", "README-secret.md"],
        "README-secret.md",
        true,
    ),
    (
        &["*.md", "!README*.md", "README-secret.md"],
        "README-public.md",
        false,
    ),
    (
        &["*.md", "README-secret.md", "!README*.md"],
        "README-secret.md",
        false,
    ),
    (&["**/*.go"], "main.go", true),
    (&["**/*.go"], "cmd/tool/main.go", true),
    (&["**/*.go"], "cmd/tool/main.gox", false),
    (&["*", "!foo"], "foo/bar", false),
    (&["*", "!foo"], "baz", true),
    (&["docs", "!docs/README.md"], "docs/README.md", false),
    (&["docs", "!docs/README.md"], "docs/other.md", true),
    (&["docs/", "!docs/README.md"], "docs/README.md", false),
    (&["docs/*", "!docs/README.md"], "docs/README.md", false),
    (&["!fileutils.go", "*.go"], "fileutils.go", true),
    (&["*.go", "!fileutils.go"], "fileutils.go", false),
    (&[], "anything/at/all", false),
    (&["# only a comment"], "anything", false),
    (&["*.go"], ".", false),
    (&["**"], "", false),
    (&["*.go"], "./main.go", true),
    (&["*.go"], "/main.go", true),
    (&["*.go"], "sub//../main.go", true),
    (&["node_modules"], "node_modules/a/b/c.js", true),
    (&["node_modules"], "src/node_modules/a.js", false),
    (&["**/node_modules"], "src/node_modules/a.js", true),
    (&["Dockerfile", ".dockerignore"], "Dockerfile", true),
    (&["?"], "é", true),
    (&["\\*"], "*", true),
    (&["\\*"], "a", false),
    (&["\\d"], "d", true),
    (&["\\d"], "1", false),
    (&["a^b"], "a^b", true),
    (&["[*]"], "*", true),
    (&["**file"], "myfile", true),
    (&["**.go"], "main.go", true),
    (&["**/file*"], "dirfile", false),
    (&["a**b"], "a/x/b", true),
    (&["a**b"], "axb", false),
    (&["**/a/**/b"], "x/a/b", true),
    (&["**/a/**/b"], "x/a/y/z/b/c", true),
    (&["**/a/**/b"], "x/ab", false),
];

#[test]
fn rule_sets_exclude_like_docker() {
    for &(lines, path, want) in RULE_SET_CASES {
        assert_eq!(
            rules(lines).is_excluded(path),
            want,
            "rules {lines:?} path {path:?}"
        );
    }
}

/// (line, the rule it becomes): Docker's cleaning of each line.
const NORMALIZATION_CASES: &[(&str, &str)] = &[
    ("foo", "foo"),
    ("/foo", "foo"),
    ("foo/", "foo"),
    ("./foo/", "foo"),
    ("foo//bar", "foo/bar"),
    ("foo/./bar", "foo/bar"),
    ("foo/../bar", "bar"),
    ("/../foo", "foo"),
    ("../foo", "../foo"),
    ("a/../..", ".."),
    ("  foo  ", "foo"),
    ("\tfoo\r", "foo"),
    (" #foo", "#foo"),
    ("!foo", "!foo"),
    ("! foo ", "!foo"),
    ("!/foo/", "!foo"),
    ("!!foo", "!!foo"),
    ("./!foo", "!foo"),
    ("/", "/"),
    ("**/", "**"),
    ("foo /", "foo"),
];

#[test]
fn lines_are_cleaned_like_docker_reads_them() {
    for &(line, want) in NORMALIZATION_CASES {
        assert_eq!(rules(&[line]).patterns(), [want], "line {line:?}");
    }
}

#[test]
fn a_pattern_climbing_out_of_the_context_matches_nothing_inside_it() {
    let rules = rules(&["../secret"]);
    assert!(!rules.is_excluded("secret"));
    assert!(!rules.is_excluded("a/secret"));
}

#[test]
fn comments_blank_lines_and_byte_order_mark_are_dropped() {
    let rules =
        IgnoreRules::parse("\u{feff}# comment\r\n\r\n   \n*.log\r\n#!keep.log\n").expect("valid");
    assert_eq!(rules.patterns(), ["*.log"]);
    assert!(rules.is_excluded("keep.log"));
    let byte_order_mark_then_pattern = IgnoreRules::parse("\u{feff}build").expect("valid");
    assert_eq!(byte_order_mark_then_pattern.patterns(), ["build"]);
}

#[test]
fn a_file_of_comments_is_empty() {
    assert!(IgnoreRules::parse("").expect("valid").is_empty());
    assert!(IgnoreRules::parse("# a\n\n  \n").expect("valid").is_empty());
    assert!(IgnoreRules::default().is_empty());
    assert!(!IgnoreRules::parse("a").expect("valid").is_empty());
}

#[test]
fn patterns_keep_file_order_and_mark_exceptions() {
    let rules = rules(&[
        "# build output",
        "target",
        "!target/keep",
        "/*.md",
        "**/.git/",
    ]);
    assert_eq!(
        rules.patterns(),
        ["target", "!target/keep", "*.md", "**/.git"]
    );
}

#[test]
fn a_bare_exclamation_mark_is_refused_with_its_line() {
    for (text, line) in [("!", 1), ("a\n\n  !  \n", 3), ("a\n!/", 2)] {
        assert_eq!(
            IgnoreRules::parse(text),
            Err(IgnoreError::BareException { line }),
            "{text:?}"
        );
    }
}

#[test]
fn malformed_patterns_are_refused_with_their_line() {
    let cases = [
        ("[", 1, "["),
        ("ok\n!a[", 2, "a["),
        ("[]a]", 1, "[]a]"),
        ("[-x]", 1, "[-x]"),
        ("[a-b-c]", 1, "[a-b-c]"),
        ("a\\", 1, "a\\"),
        ("[z-a]", 1, "[z-a]"),
        // moby/moby#52203: valid for filepath.Match, refused by the regexp.
        ("[Local-Only]/", 1, "[Local-Only]"),
    ];
    for (text, line, pattern) in cases {
        match IgnoreRules::parse(text) {
            Err(IgnoreError::Pattern { line: got, error }) => {
                assert_eq!(got, line, "{text:?}");
                assert_eq!(error.pattern(), pattern, "{text:?}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn error_messages_name_the_line_and_pattern() {
    let error = IgnoreRules::parse("ok\n[").expect_err("malformed");
    let message = error.to_string();
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("\"[\""), "{message}");
}

/// (rules, directory, may include below).
const DESCEND_CASES: &[(&[&str], &str, bool)] = &[
    (&["*"], "foo", false),
    (&["*", "!foo/bar"], "foo", true),
    (&["*", "!foo/bar"], "baz", false),
    (&["*", "!foo/bar"], "foo/bar", false),
    (&["*", "!foo/bar/baz"], "foo/bar", true),
    (&["*", "!foo"], "foo", false),
    (&["*", "!**/*.go"], "any/depth", true),
    (&["**", "!subdir/**/*.py"], "subdir", true),
    (&["**", "!subdir/**/*.py"], "subdir/deeper/still", true),
    (&["**", "!subdir/**/*.py"], "other", false),
    (&["*", "!foo*/x"], "foobar", true),
    (&["*", "!foo*/x"], "bar", false),
    (&["*", "!a/*/c"], "a/b", true),
    (&["*", "!a/*/c"], "a/b/c/d", false),
    (&["*", "!a/*/c"], "a/b/d", false),
    (&["*", "!a/**"], "a/b/c", true),
    (&["*", "!**"], "x", true),
    (&["*", "!**file"], "x", true),
    (&["*", "!?/x"], "ab", false),
    (&["*", "!?/x"], "a", true),
    (&["*", "![ab]/x"], "b", true),
    (&["*", "![ab]/x"], "c", false),
    (&["*", "!x"], "", true),
    (&["*", "!x"], ".", true),
    (&["*"], "", false),
    (&["*", "!foo/bar"], "./foo/", true),
    (&["*", "!foo/bar"], "/foo", true),
];

#[test]
fn may_include_below_sees_exceptions_that_reach_inside_a_directory() {
    for &(lines, dir, want) in DESCEND_CASES {
        assert_eq!(
            rules(lines).may_include_below(dir),
            want,
            "rules {lines:?} dir {dir:?}"
        );
    }
}

#[test]
fn skipping_a_directory_never_loses_an_included_file() {
    // Brute force over a small tree: whenever may_include_below says no, no
    // path below the excluded directory is included.
    let rule_sets: &[&[&str]] = &[
        &["*", "!a/b"],
        &["**", "!**/*.go"],
        &["a", "!a/*/c", "a/x"],
        &["*/", "!?/b*"],
        &["**/b", "!a/b/c", "a/**"],
    ];
    let names = ["a", "b", "c", "x.go"];
    let mut paths = Vec::new();
    for first in names {
        paths.push(first.to_owned());
        for second in names {
            paths.push(format!("{first}/{second}"));
            for third in names {
                paths.push(format!("{first}/{second}/{third}"));
            }
        }
    }
    for lines in rule_sets {
        let rules = rules(lines);
        for dir in &paths {
            if !rules.is_excluded(dir) || rules.may_include_below(dir) {
                continue;
            }
            let below = format!("{dir}/");
            for path in paths.iter().filter(|path| path.starts_with(&below)) {
                assert!(
                    rules.is_excluded(path),
                    "rules {lines:?} dir {dir:?} path {path:?}"
                );
            }
        }
    }
}

#[test]
fn clean_agrees_with_go_path_clean() {
    let cases = [
        ("", "."),
        (".", "."),
        ("/", "/"),
        ("//", "/"),
        ("abc", "abc"),
        ("abc/def", "abc/def"),
        ("a/b/c", "a/b/c"),
        ("..", ".."),
        ("../..", "../.."),
        ("../../abc", "../../abc"),
        ("/abc", "/abc"),
        ("abc/", "abc"),
        ("abc//def//ghi", "abc/def/ghi"),
        ("abc/./def", "abc/def"),
        ("/./abc/def", "/abc/def"),
        ("abc/def/ghi/../jkl", "abc/def/jkl"),
        ("abc/def/../ghi/../jkl", "abc/jkl"),
        ("abc/def/..", "abc"),
        ("abc/def/../..", "."),
        ("/abc/def/../..", "/"),
        ("abc/def/../../..", ".."),
        ("/abc/def/../../..", "/"),
        ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
        ("abc/./../def", "def"),
        ("abc//./../def", "def"),
        ("abc/../../././../def", "../../def"),
    ];
    for (path, want) in cases {
        assert_eq!(clean(path), want, "{path:?}");
    }
}
