//! A small fixed-capacity buffer for SCSI parameter data (INQUIRY, MODE SENSE, READ
//! CAPACITY, sense data), kept in the device between the calls of a split data-in phase.

/// Room for the largest reply: the Device Identification VPD page with a 126-character
/// serial number (8 + 8 + 16 + 126 bytes).
pub(crate) const REPLY_CAPACITY: usize = 160;

/// Parameter data being built or sent.
pub(crate) struct Reply {
    bytes: [u8; REPLY_CAPACITY],
    len: usize,
}

impl Reply {
    /// An empty reply.
    pub(crate) const fn new() -> Self {
        Self {
            bytes: [0; REPLY_CAPACITY],
            len: 0,
        }
    }

    /// Appends bytes. The capacity covers every reply a validated identity can produce;
    /// anything past it would be dropped, never written out of bounds.
    pub(crate) fn extend(&mut self, src: &[u8]) {
        for &b in src {
            if let Some(slot) = self.bytes.get_mut(self.len) {
                *slot = b;
                self.len = self.len.saturating_add(1);
            }
        }
    }

    /// Appends `s` left-aligned in a field of `width` bytes, padded with spaces
    /// (SPC-4, ASCII data fields).
    pub(crate) fn extend_padded(&mut self, s: &str, width: usize) {
        for b in s.bytes().chain(core::iter::repeat(b' ')).take(width) {
            self.extend(&[b]);
        }
    }

    /// Overwrites the byte at `at` (for length fields known only at the end).
    pub(crate) fn set(&mut self, at: usize, value: u8) {
        if let Some(slot) = self.bytes.get_mut(..self.len).and_then(|b| b.get_mut(at)) {
            *slot = value;
        }
    }

    /// Cuts the reply to the command's ALLOCATION LENGTH (SPC-4, ALLOCATION LENGTH field).
    pub(crate) fn truncate(&mut self, allocation: usize) {
        self.len = self.len.min(allocation);
    }

    /// Bytes built so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The reply bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}
