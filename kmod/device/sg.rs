//! Copying into the host's transfer buffers: one slice, or a scatter-gather list filled in
//! order.

/// Copies as much of `src` as fits into the start of `dst`; returns the bytes copied.
pub(crate) fn copy_prefix(dst: &mut [u8], src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    match (dst.get_mut(..n), src.get(..n)) {
        (Some(d), Some(s)) => {
            d.copy_from_slice(s);
            n
        }
        _ => 0,
    }
}

/// Fills the segments in order with at most `limit` bytes, asking `produce(done, dst)` to
/// write each piece straight into its final place (`done` = bytes produced before `dst`).
/// Stops at the first error. Returns the bytes produced (excluding the failed piece) and
/// the error, if any.
pub(crate) fn fill<E>(
    bufs: &mut [&mut [u8]],
    limit: u64,
    mut produce: impl FnMut(u64, &mut [u8]) -> Result<(), E>,
) -> (u64, Result<(), E>) {
    let mut done = 0u64;
    for seg in bufs.iter_mut() {
        let room = limit.saturating_sub(done);
        if room == 0 {
            break;
        }
        let take = usize::try_from(room).map_or(seg.len(), |room| room.min(seg.len()));
        let Some(dst) = seg.get_mut(..take) else {
            break;
        };
        if dst.is_empty() {
            continue;
        }
        if let Err(e) = produce(done, dst) {
            return (done, Err(e));
        }
        done = done.saturating_add(to_u64(take));
    }
    (done, Ok(()))
}

/// `usize` to `u64`, lossless on every target Linux supports (saturates otherwise).
pub(crate) fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `u64` to `usize`, saturating (a length bigger than memory is capped, never wrapped).
pub(crate) fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
