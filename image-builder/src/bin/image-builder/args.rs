//! Parser for image sizes: a number of bytes with an optional binary unit.

/// `4096`, `64K`, `64KiB`, `1M`, `1MiB`, `1G`, `1GiB` (units are powers of 1024).
pub(crate) fn size(text: &str) -> Result<u64, String> {
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let shift = match unit {
        "" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        _ => {
            return Err(format!(
                "unknown unit {unit:?}: use K, M or G (powers of 1024)"
            ))
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("not a size like 1MiB or 65536: {text:?}"))
}
