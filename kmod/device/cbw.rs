//! Bulk-Only Transport wrappers: parsing the Command Block Wrapper and encoding the Command
//! Status Wrapper (BOT 1.0 §5.1, §5.2).

/// A CBW is exactly 31 bytes (BOT 1.0 §5.1).
pub(crate) const CBW_LEN: usize = 31;
/// A CSW is exactly 13 bytes (BOT 1.0 §5.2).
pub(crate) const CSW_LEN: usize = 13;
/// `dCBWSignature` "USBC" (BOT 1.0 §5.1).
const CBW_SIGNATURE: u32 = 0x4342_5355;
/// `dCSWSignature` "USBS" (BOT 1.0 §5.2).
const CSW_SIGNATURE: u32 = 0x5342_5355;
/// `bmCBWFlags` bit 7: data-in (device to host); bits 6..0 are reserved (BOT 1.0 §5.1).
const FLAG_DATA_IN: u8 = 0x80;
/// Longest command block (`bCBWCBLength` is 1..=16, BOT 1.0 §5.1).
const MAX_CDB_LEN: u8 = 16;

/// What the host expects for the data stage (BOT 1.0 §6.7: Hn, Hi, Ho).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostExpects {
    /// Hn: `dCBWDataTransferLength` is zero.
    Nothing,
    /// Hi: that many bytes from the device.
    In(u32),
    /// Ho: that many bytes to the device.
    Out(u32),
}

/// A valid and meaningful CBW.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cbw {
    /// `dCBWTag`: only echoed into `dCSWTag`.
    pub(crate) tag: u32,
    /// Direction and length of the data stage.
    pub(crate) host: HostExpects,
    cdb: [u8; MAX_CDB_LEN as usize],
    cdb_len: u8,
}

impl Cbw {
    /// The command block, `bCBWCBLength` bytes.
    pub(crate) fn cdb(&self) -> &[u8] {
        self.cdb.get(..usize::from(self.cdb_len)).unwrap_or(&[])
    }
}

/// The bytes are not a valid (BOT 1.0 §6.2.1) or not a meaningful (BOT 1.0 §6.2.2) CBW.
/// The device handles both the same way: stall until Reset Recovery (BOT 1.0 §6.6.1; the
/// response to a CBW that is not meaningful is unspecified, so it gets the same one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidCbw;

/// Parses a CBW. Whether it arrived after a CSW or a reset is the caller's concern.
pub(crate) fn parse(bytes: &[u8]) -> Result<Cbw, InvalidCbw> {
    // BOT 1.0 §6.2.1: valid means 31 bytes long and the right signature.
    let bytes: &[u8; CBW_LEN] = bytes.try_into().map_err(|_| InvalidCbw)?;
    let [s0, s1, s2, s3, t0, t1, t2, t3, l0, l1, l2, l3, flags, lun, cdb_len, cdb @ ..] = *bytes;
    if u32::from_le_bytes([s0, s1, s2, s3]) != CBW_SIGNATURE {
        return Err(InvalidCbw);
    }
    // BOT 1.0 §6.2.2: meaningful means no reserved bit set, a LUN the device has (Get Max
    // LUN reports 0; bits 7..4 of bCBWLUN are reserved) and bCBWCBLength in 1..=16
    // (bits 7..5 reserved).
    if flags & !FLAG_DATA_IN != 0 || lun != 0 || !(1..=MAX_CDB_LEN).contains(&cdb_len) {
        return Err(InvalidCbw);
    }
    let length = u32::from_le_bytes([l0, l1, l2, l3]);
    let host = match (length, flags & FLAG_DATA_IN != 0) {
        (0, _) => HostExpects::Nothing,
        (n, true) => HostExpects::In(n),
        (n, false) => HostExpects::Out(n),
    };
    Ok(Cbw {
        tag: u32::from_le_bytes([t0, t1, t2, t3]),
        host,
        cdb,
        cdb_len,
    })
}

/// `bCSWStatus` (BOT 1.0 §5.2, Table 5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CswStatus {
    /// 00h: command passed.
    Passed = 0,
    /// 01h: command failed (the host asks REQUEST SENSE).
    Failed = 1,
    /// 02h: phase error (the host does Reset Recovery).
    PhaseError = 2,
}

/// A Command Status Wrapper waiting to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Csw {
    pub(crate) tag: u32,
    /// Never more than the CBW's `dCBWDataTransferLength` (BOT 1.0 §6.7).
    pub(crate) residue: u32,
    pub(crate) status: CswStatus,
}

impl Csw {
    /// The 13 bytes on the wire (BOT 1.0 §5.2).
    pub(crate) fn to_bytes(self) -> [u8; CSW_LEN] {
        let [s0, s1, s2, s3] = CSW_SIGNATURE.to_le_bytes();
        let [t0, t1, t2, t3] = self.tag.to_le_bytes();
        let [r0, r1, r2, r3] = self.residue.to_le_bytes();
        [
            s0,
            s1,
            s2,
            s3,
            t0,
            t1,
            t2,
            t3,
            r0,
            r1,
            r2,
            r3,
            self.status as u8,
        ]
    }
}
