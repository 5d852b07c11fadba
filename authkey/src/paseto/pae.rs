//! Pre-authentication encoding (PAE), PASETO's unambiguous encoding of a list of strings.

/// `LE64(n) ‖ LE64(len(p1)) ‖ p1 ‖ …`, where `LE64` is 64-bit little-endian with the
/// most significant bit cleared.
pub fn pae(pieces: &[&[u8]]) -> Vec<u8> {
    let le64 = |n: usize| (n as u64 & (u64::MAX >> 1)).to_le_bytes();
    let total = 8 + pieces.iter().map(|p| 8 + p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&le64(pieces.len()));
    for piece in pieces {
        out.extend_from_slice(&le64(piece.len()));
        out.extend_from_slice(piece);
    }
    out
}
