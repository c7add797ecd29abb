//! HEALTHCHECK: `NONE`, or flags and `CMD`; durations in Go's syntax.

use crate::ast::{CommandLine, Healthcheck};
use crate::error::Error;
use crate::flags::Kind;
use crate::instructions::Ctx;
use crate::words::Word;

/// The shortest interval Docker accepts (other than zero).
const MINIMUM_NANOS: u64 = 1_000_000;

/// Parses HEALTHCHECK's arguments.
pub(crate) fn parse(ctx: &Ctx<'_>) -> Result<Healthcheck, Error> {
    let rest = ctx.split.rest;
    let type_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if type_len == 0 {
        return Err(ctx.error("HEALTHCHECK requires at least one argument"));
    }
    let kind = rest[..type_len].to_ascii_uppercase();
    let args = rest[type_len..].trim_start();
    if kind == "NONE" {
        if !args.is_empty() || !ctx.split.flags.is_empty() {
            return Err(ctx.error("HEALTHCHECK NONE takes no arguments"));
        }
        return Ok(Healthcheck::None);
    }
    let flags = ctx.flags(&[
        ("interval", Kind::String),
        ("timeout", Kind::String),
        ("start-period", Kind::String),
        ("start-interval", Kind::String),
        ("retries", Kind::String),
    ])?;
    if kind != "CMD" {
        return Err(ctx.error(format!("unknown type {kind:?} in HEALTHCHECK (try CMD)")));
    }
    let (test, _) = ctx.command_line(args)?;
    let empty = match &test {
        CommandLine::Shell(s) => s.is_empty(),
        CommandLine::Exec(v) => v.is_empty(),
    };
    if empty {
        return Err(ctx.error("missing command after HEALTHCHECK CMD"));
    }
    let flag = |name: &str| -> Option<&Word> {
        let prefix = format!("--{name}=");
        ctx.split.flags.iter().find(|w| w.text.starts_with(&prefix))
    };
    let interval = |name: &str| -> Result<Option<u64>, Error> {
        let Some(value) = flags.string(name) else {
            return Ok(None);
        };
        let at = |message: String| {
            ctx.error_at(
                flag(name).map_or(ctx.split.keyword_offset, |w| w.offset),
                message,
            )
        };
        let nanos = parse_duration(&value).map_err(|m| at(format!("--{name}: {m}")))?;
        if nanos != 0 && nanos < MINIMUM_NANOS as i128 {
            return Err(at(format!("interval {name:?} cannot be less than 1ms")));
        }
        Ok(Some(nanos as u64))
    };
    let retries = match flags.string("retries") {
        None => None,
        Some(value) => {
            let at = flag("retries").map_or(ctx.split.keyword_offset, |w| w.offset);
            let n: i64 = value
                .parse()
                .map_err(|_| ctx.error_at(at, format!("--retries: invalid syntax {value:?}")))?;
            if n < 0 {
                return Err(ctx.error_at(at, format!("--retries cannot be negative ({n})")));
            }
            Some(u32::try_from(n).map_err(|_| {
                ctx.error_at(at, format!("--retries: value out of range {value:?}"))
            })?)
        }
    };
    Ok(Healthcheck::Check {
        test,
        interval: interval("interval")?,
        timeout: interval("timeout")?,
        start_period: interval("start-period")?,
        start_interval: interval("start-interval")?,
        retries,
    })
}

/// Go's `time.ParseDuration`, in nanoseconds: `300ms`, `-1.5h`, `2h45m`; units ns, us
/// (µs), ms, s, m, h; a bare `0` is allowed.
pub(crate) fn parse_duration(text: &str) -> Result<i128, String> {
    let invalid = || format!("invalid duration {text:?}");
    let (negative, mut s) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !s.is_empty() {
        let int_len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (int, after) = s.split_at(int_len);
        let (frac, after) = match after.strip_prefix('.') {
            Some(f) => {
                let n = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
                f.split_at(n)
            }
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale: i128 = match unit {
            "" => return Err(format!("missing unit in duration {text:?}")),
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("unknown unit {unit:?} in duration {text:?}")),
        };
        let whole: i128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| invalid())?
        };
        let mut part = whole.checked_mul(scale).ok_or_else(invalid)?;
        if !frac.is_empty() {
            // Fractions beyond nanoseconds are truncated, as Go does.
            let digits = &frac[..frac.len().min(18)];
            let numerator: i128 = digits.parse().map_err(|_| invalid())?;
            part += numerator * scale / 10i128.pow(digits.len() as u32);
        }
        total = total
            .checked_add(part)
            .filter(|t| *t <= i64::MAX as i128)
            .ok_or_else(invalid)?;
        s = after;
    }
    Ok(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("30s"), Ok(30_000_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("500ms"), Ok(500_000_000));
        assert_eq!(parse_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration(".5s"), Ok(500_000_000));
        assert_eq!(parse_duration("10µs"), Ok(10_000));
        assert_eq!(parse_duration("-2s"), Ok(-2_000_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
    }

    #[test]
    fn bad_durations() {
        assert_eq!(
            parse_duration("30"),
            Err("missing unit in duration \"30\"".into())
        );
        assert_eq!(
            parse_duration("5y"),
            Err("unknown unit \"y\" in duration \"5y\"".into())
        );
        assert_eq!(parse_duration(""), Err("invalid duration \"\"".into()));
        assert_eq!(parse_duration("s"), Err("invalid duration \"s\"".into()));
        assert!(parse_duration("9999999999h").is_err());
    }
}
