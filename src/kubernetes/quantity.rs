//! Kubernetes resource quantities (`100m`, `170Mi`, `16Gi`, `1e3`) as
//! numbers: CPU in cores, memory and storage in bytes.

/// The value of a quantity in its base unit; `None` for a malformed one.
pub fn parse(quantity: &str) -> Option<f64> {
    let q = quantity.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        exponent => {
            let digits = exponent.strip_prefix(['e', 'E'])?;
            10f64.powi(digits.parse().ok()?)
        }
    };
    Some(number * scale)
}

/// Bytes, for memory and storage quantities (0 when malformed or absent).
pub fn bytes(quantity: Option<&str>) -> u64 {
    quantity
        .and_then(parse)
        .map_or(0, |v| v.max(0.0).round() as u64)
}

/// Cores, for CPU quantities (0 when malformed or absent).
pub fn cores(quantity: Option<&str>) -> f64 {
    quantity.and_then(parse).map_or(0.0, |v| v.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_as_kubernetes_writes_them() {
        assert_eq!(parse("100m"), Some(0.1));
        assert_eq!(parse("2"), Some(2.0));
        assert_eq!(parse("170Mi"), Some(170.0 * 1024.0 * 1024.0));
        assert_eq!(bytes(Some("16Gi")), 16 << 30);
        assert_eq!(bytes(Some("1k")), 1000);
        assert_eq!(parse("1e3"), Some(1000.0));
        assert_eq!(parse("1.5"), Some(1.5));
        assert_eq!(cores(Some("250000n")), 0.00025);
        assert_eq!(parse("12Qi"), None);
        assert_eq!(parse("Mi"), None);
        assert_eq!(bytes(None), 0);
    }
}
