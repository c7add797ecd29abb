//! Sizes and durations exactly as `github.com/docker/go-units` prints them.

use std::time::Duration;

use super::RenderError;

/// go-units `decimapAbbrs`: the SI (1000-based) units used by `HumanSize`.
const DECIMAL_UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/// Formats a byte count like go-units `HumanSize`: 1000-based units and four
/// significant digits (`1.024kB`, `2.22PB`, `1000kB` for 999999).
pub fn human_size(bytes: u64) -> String {
    human_size_with_precision(bytes, 4)
}

/// Formats a byte count like go-units `HumanSizeWithPrecision`, i.e. Go's
/// `fmt.Sprintf("%.*g%s", precision, size, unit)` after dividing by 1000 while
/// the value is at least 1000. Docker's `images` and `history` use precision 3
/// (`77.8MB`, `1.24MB`, `5.6kB`, `0B`).
pub fn human_size_with_precision(bytes: u64, precision: usize) -> String {
    // u64 -> f64 is what Go does too (`float64(size)`); precision loss above
    // 2^53 bytes is far below what three or four significant digits show.
    decimal_size(bytes as f64, precision)
}

fn decimal_size(mut size: f64, precision: usize) -> String {
    let mut unit = 0;
    while size >= 1000.0 && unit < DECIMAL_UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    let unit = DECIMAL_UNITS.get(unit).copied().unwrap_or_default();
    format!("{}{unit}", format_g(size, precision))
}

/// Go's `%.<precision>g` for a float64: round to `precision` significant
/// digits, drop trailing zeros, and switch to exponent form when the decimal
/// exponent is below -4 or at least the (trimmed) precision.
fn format_g(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value == 0.0 {
        return format!("{sign}0");
    }
    let prec = precision.max(1);
    // Rust's `{:.Ne}` rounds the exact binary value half-to-even, like Go's strconv.
    let scientific = format!("{:.*e}", prec - 1, value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exp: i64 = exponent.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    let nd = digits.len() as i64;
    let dp = exp + 1; // position of the decimal point relative to the digits
    let mut eprec = prec as i64;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    let digit = |i: i64| -> char {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .map_or('0', |d| char::from(*d))
    };
    let mut out = String::from(sign);
    if exp < -4 || exp >= eprec {
        out.push(digit(0));
        if nd > 1 {
            out.push('.');
            (1..nd).for_each(|i| out.push(digit(i)));
        }
        out.push_str(if exp < 0 { "e-" } else { "e+" });
        out.push_str(&format!("{:02}", exp.abs()));
    } else {
        if dp > 0 {
            (0..dp).for_each(|i| out.push(digit(i)));
        } else {
            out.push('0');
        }
        let fraction = (nd - dp).max(0);
        if fraction > 0 {
            out.push('.');
            (0..fraction).for_each(|i| out.push(digit(dp + i)));
        }
    }
    out
}

/// Describes an elapsed time like go-units `HumanDuration`
/// (`Less than a second`, `About a minute`, `3 weeks`, `2 years`), as Docker
/// prints it in `CREATED` / `STATUS` columns (followed by ` ago`).
pub fn human_duration(d: Duration) -> String {
    const MINUTE: u128 = 60_000_000_000;
    const HOUR: u128 = 60 * MINUTE;
    let nanos = d.as_nanos();
    let seconds = d.as_secs();
    let minutes = nanos / MINUTE;
    // Go: int(d.Hours() + 0.5), i.e. hours rounded half up.
    let hours = (nanos + HOUR / 2) / HOUR;
    if seconds < 1 {
        "Less than a second".to_string()
    } else if seconds == 1 {
        "1 second".to_string()
    } else if seconds < 60 {
        format!("{seconds} seconds")
    } else if minutes == 1 {
        "About a minute".to_string()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".to_string()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        // Go truncates here instead of rounding: int(d.Hours()) / 24 / 365.
        format!("{} years", nanos / HOUR / 24 / 365)
    }
}

/// Parses a human size with binary (1024-based) units like go-units
/// `RAMInBytes`: `"100"`, `"512k"`, `"64m"`, `"1g"`, `"32.3 MB"`, `"2KiB"`.
/// Units are case-insensitive and the trailing `b` / `ib` is optional; the
/// byte count is truncated toward zero.
///
/// # Errors
///
/// [`RenderError::InvalidSize`] when there is no valid non-negative number,
/// [`RenderError::InvalidSuffix`] when the unit is not recognised.
pub fn parse_size(s: &str) -> Result<u64, RenderError> {
    let invalid = || RenderError::InvalidSize(s.to_string());
    let sep = s
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        .ok_or_else(invalid)?;
    let (head, suffix) = s.split_at_checked(sep + 1).ok_or_else(invalid)?;
    // A space between the number and the unit is dropped.
    let number = head.strip_suffix(' ').unwrap_or(head);
    let size: f64 = number.parse().map_err(|_| invalid())?;
    if !size.is_finite() || size < 0.0 {
        return Err(invalid());
    }
    if suffix.is_empty() {
        return to_bytes(size).ok_or_else(invalid);
    }
    if suffix.len() > 3 {
        return Err(RenderError::InvalidSuffix(suffix.to_string()));
    }
    let lower = suffix.to_lowercase();
    let bad_suffix = || RenderError::InvalidSuffix(lower.clone());
    let mut chars = lower.chars();
    let multiplier: u64 = match chars.next() {
        Some('b') if lower.len() == 1 => 1,
        Some('k') => 1 << 10,
        Some('m') => 1 << 20,
        Some('g') => 1 << 30,
        Some('t') => 1 << 40,
        Some('p') => 1 << 50,
        _ => return Err(bad_suffix()),
    };
    match chars.as_str() {
        "" | "b" | "ib" => to_bytes(size * multiplier as f64).ok_or_else(invalid),
        _ => Err(bad_suffix()),
    }
}

/// Truncates toward zero like Go's `int64(size)`, refusing values that do not
/// fit in an int64 (where Go's result would be meaningless).
fn to_bytes(size: f64) -> Option<u64> {
    (size < 9_223_372_036_854_775_808.0).then_some(size as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_size_matches_go_units_examples() {
        assert_eq!(human_size(1000), "1kB");
        assert_eq!(human_size(1024), "1.024kB");
        assert_eq!(human_size(1_000_000), "1MB");
        assert_eq!(human_size(1_048_576), "1.049MB");
        assert_eq!(human_size(2_000_000), "2MB");
        assert_eq!(human_size(3_420_000_000), "3.42GB");
        assert_eq!(human_size(5_372_000_000_000), "5.372TB");
        assert_eq!(human_size(2_220_000_000_000_000), "2.22PB");
        assert_eq!(decimal_size(10_000_000_000_000.0 * 1e15, 4), "1e+04YB");
    }

    #[test]
    fn human_size_handles_unit_boundaries() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1023), "1.023kB");
        assert_eq!(human_size(999_999), "1000kB");
        assert_eq!(human_size(1_000_000_000), "1GB");
        assert_eq!(human_size(1_234_567_890_123), "1.235TB");
        assert_eq!(human_size(u64::MAX), "18.45EB");
    }

    #[test]
    fn human_size_uses_three_significant_digits_for_images() {
        assert_eq!(human_size_with_precision(0, 3), "0B");
        assert_eq!(human_size_with_precision(5_600, 3), "5.6kB");
        assert_eq!(human_size_with_precision(77_800_000, 3), "77.8MB");
        assert_eq!(human_size_with_precision(77_834_567, 3), "77.8MB");
        assert_eq!(human_size_with_precision(1_240_000, 3), "1.24MB");
        assert_eq!(human_size_with_precision(999, 3), "999B");
        assert_eq!(human_size_with_precision(1_000, 3), "1kB");
        assert_eq!(human_size_with_precision(999_999, 3), "1e+03kB");
    }

    #[test]
    fn format_g_follows_go_rounding_and_exponent_rules() {
        assert_eq!(format_g(12.5, 2), "12");
        assert_eq!(format_g(13.5, 2), "14");
        assert_eq!(format_g(0.5, 4), "0.5");
        assert_eq!(format_g(0.000_012_34, 3), "1.23e-05");
        assert_eq!(format_g(123_456.0, 0), "1e+05");
        assert_eq!(format_g(-2.5, 4), "-2.5");
    }

    #[test]
    fn human_duration_matches_go_units_at_every_threshold() {
        let minute = 60;
        let hour = 60 * minute;
        let day = 24 * hour;
        let (week, month, year) = (7 * day, 30 * day, 365 * day);
        let secs = Duration::from_secs;
        assert_eq!(
            human_duration(Duration::from_millis(450)),
            "Less than a second"
        );
        assert_eq!(
            human_duration(Duration::from_millis(999)),
            "Less than a second"
        );
        let cases = [
            (1, "1 second"),
            (45, "45 seconds"),
            (59, "59 seconds"),
            (60, "About a minute"),
            (119, "About a minute"),
            (3 * minute, "3 minutes"),
            (35 * minute + 40, "35 minutes"),
            (59 * minute, "59 minutes"),
            (hour, "About an hour"),
            (hour + 29 * minute, "About an hour"),
            (hour + 31 * minute, "2 hours"),
            (3 * hour + 29 * minute, "3 hours"),
            (3 * hour + 31 * minute, "4 hours"),
            (24 * hour, "24 hours"),
            (day + 12 * hour, "36 hours"),
            (2 * day, "2 days"),
            (13 * day + 5 * hour, "13 days"),
            (2 * week, "2 weeks"),
            (2 * week + 4 * day, "2 weeks"),
            (month, "4 weeks"),
            (month + 2 * week, "6 weeks"),
            (2 * month, "2 months"),
            (5 * month + 2 * week, "5 months"),
            (24 * month, "24 months"),
            (24 * month + 2 * week, "2 years"),
            (3 * year + 2 * month, "3 years"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(human_duration(secs(seconds)), expected, "{seconds}s");
        }
    }

    #[test]
    fn parse_size_accepts_go_units_ram_in_bytes_inputs() {
        let cases = [
            ("32", 32),
            ("32b", 32),
            ("32B", 32),
            ("32k", 32 << 10),
            ("32K", 32 << 10),
            ("32kb", 32 << 10),
            ("32Kib", 32 << 10),
            ("32KIB", 32 << 10),
            ("64m", 64 << 20),
            ("32Mb", 32 << 20),
            ("1g", 1 << 30),
            ("32Tb", 32 << 40),
            ("32PB", 32 << 50),
            ("32P", 32 << 50),
            ("32.3", 32),
            ("32.3 mb", (32.3 * 1_048_576.0) as u64),
            ("0.3MB", (0.3 * 1_048_576.0) as u64),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_size(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn parse_size_rejects_what_go_units_rejects() {
        for input in ["", "hello", "-32", " 32 ", "32m b", "1e400"] {
            assert_eq!(
                parse_size(input),
                Err(RenderError::InvalidSize(input.into()))
            );
        }
        assert_eq!(
            parse_size("32bm"),
            Err(RenderError::InvalidSuffix("bm".into()))
        );
        assert_eq!(
            parse_size("32kB2"),
            Err(RenderError::InvalidSize("32kB2".into()))
        );
        assert_eq!(
            parse_size("32mx"),
            Err(RenderError::InvalidSuffix("mx".into()))
        );
        assert_eq!(
            parse_size("32KiBs"),
            Err(RenderError::InvalidSuffix("KiBs".into()))
        );
        let err = parse_size("32q").map_err(|e| e.to_string());
        assert_eq!(err, Err("invalid suffix: 'q'".to_string()));
    }
}
