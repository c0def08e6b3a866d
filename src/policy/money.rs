//! Decimal money amounts as whole cents, so savings add up exactly.

/// An amount in hundredths of the currency unit.
pub type Cents = u64;

/// Parses a decimal amount with at most two decimals (`8.6`, `8.60`, `12`) into cents.
pub fn parse_cents(text: &str) -> Option<Cents> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (units, fraction) = match text.split_once('.') {
        Some((u, f)) if digits(f) && f.len() <= 2 => (u, f),
        Some(_) => return None,
        None => (text, ""),
    };
    if !digits(units) {
        return None;
    }
    let units: Cents = units.parse().ok()?;
    let fraction: Cents = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<Cents>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    units.checked_mul(100)?.checked_add(fraction)
}

/// Formats cents with two decimals (`954.60`).
pub fn format_cents(cents: Cents) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_in_cents() {
        assert_eq!(parse_cents("8.60"), Some(860));
        assert_eq!(parse_cents("8.6"), Some(860));
        assert_eq!(parse_cents("12"), Some(1200));
        assert_eq!(parse_cents("0.05"), Some(5));
        assert_eq!(format_cents(860 * 111), "954.60");
        assert_eq!(format_cents(5), "0.05");
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for bad in [
            "",
            ".5",
            "8.",
            "8.600",
            "-1",
            "1e3",
            "8,60",
            "99999999999999999999",
        ] {
            assert_eq!(parse_cents(bad), None, "{bad}");
        }
    }
}
