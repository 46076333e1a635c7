//! Numbers as people read them on a projector: few digits, units always shown.

/// `1234` → `1.2 KB`, `2_500_000` → `2.50 MB` (decimal units, as file sizes are usually shown).
pub fn bytes(n: usize) -> String {
    let x = n as f64;
    if n < 1000 {
        format!("{n} B")
    } else if x < 1e6 {
        format!("{:.1} KB", x / 1e3)
    } else {
        format!("{:.2} MB", x / 1e6)
    }
}

/// Decibels with two decimals; `None` (an exact reconstruction) as `∞ (exact)`.
pub fn db(x: Option<f64>) -> String {
    match x {
        Some(v) => format!("{v:.2} dB"),
        None => "∞ (exact)".into(),
    }
}

/// Milliseconds with sensible precision.
pub fn ms(x: f64) -> String {
    if x < 10.0 { format!("{x:.2} ms") } else if x < 1000.0 { format!("{x:.1} ms") } else { format!("{:.2} s", x / 1e3) }
}

/// A unitless index like SSIM with four decimals, or a dash when not defined.
pub fn index(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn formats() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(9713), "9.7 KB");
        assert_eq!(bytes(2_500_000), "2.50 MB");
        assert_eq!(db(Some(26.787)), "26.79 dB");
        assert_eq!(db(None), "∞ (exact)");
        assert_eq!(ms(3.257), "3.26 ms");
        assert_eq!(ms(1234.0), "1.23 s");
        assert_eq!(index(Some(0.85322)), "0.8532");
        assert_eq!(index(None), "—");
    }
}
