//! Bulk-Only Transport wire formats: the 31-byte Command Block Wrapper the host sends and
//! the 13-byte Command Status Wrapper the device answers with.

use thiserror::Error;

/// `dCBWSignature`, "USBC".
pub const CBW_SIGNATURE: u32 = 0x4342_5355;
/// `dCSWSignature`, "USBS".
pub const CSW_SIGNATURE: u32 = 0x5342_5355;
/// A valid CBW's length.
pub const CBW_LEN: usize = 31;
/// A CSW's length.
pub const CSW_LEN: usize = 13;
/// `bmCBWFlags` bit for device-to-host data.
pub const FLAG_IN: u8 = 0x80;

/// A Command Block Wrapper, valid or not: every field is free, and `cb_len` need not match
/// the command block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cbw {
    /// `dCBWSignature`.
    pub signature: u32,
    /// `dCBWTag`.
    pub tag: u32,
    /// `dCBWDataTransferLength`.
    pub data_len: u32,
    /// `bmCBWFlags`.
    pub flags: u8,
    /// `bCBWLUN` (the whole byte, reserved bits included).
    pub lun: u8,
    /// `bCBWCBLength` (the whole byte).
    pub cb_len: u8,
    /// `CBWCB`, zero-padded to 16 bytes on the wire.
    pub cb: [u8; 16],
}

impl Cbw {
    /// A well-formed CBW for `cdb` (at most 16 bytes) on LUN 0.
    pub fn new(tag: u32, data_len: u32, data_in: bool, cdb: &[u8]) -> Self {
        let mut cb = [0; 16];
        let n = cdb.len().min(16);
        cb[..n].copy_from_slice(&cdb[..n]);
        Self {
            signature: CBW_SIGNATURE,
            tag,
            data_len,
            flags: if data_in { FLAG_IN } else { 0 },
            lun: 0,
            cb_len: n as u8,
            cb,
        }
    }

    /// The 31 bytes on the wire.
    pub fn to_bytes(&self) -> [u8; CBW_LEN] {
        let mut b = [0; CBW_LEN];
        b[0..4].copy_from_slice(&self.signature.to_le_bytes());
        b[4..8].copy_from_slice(&self.tag.to_le_bytes());
        b[8..12].copy_from_slice(&self.data_len.to_le_bytes());
        b[12] = self.flags;
        b[13] = self.lun;
        b[14] = self.cb_len;
        b[15..].copy_from_slice(&self.cb);
        b
    }
}

/// `bCSWStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CswStatus {
    /// 00h.
    Passed,
    /// 01h.
    Failed,
    /// 02h.
    PhaseError,
}

/// A Command Status Wrapper, checked for signature and status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Csw {
    /// `dCSWTag`.
    pub tag: u32,
    /// `dCSWDataResidue`.
    pub residue: u32,
    /// `bCSWStatus`.
    pub status: CswStatus,
}

/// Why bytes are not a CSW.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CswError {
    /// Not 13 bytes.
    #[error("CSW of {0} bytes")]
    Length(usize),
    /// Wrong `dCSWSignature`.
    #[error("CSW signature {0:#010x}")]
    Signature(u32),
    /// `bCSWStatus` above 2.
    #[error("CSW status {0:#04x}")]
    Status(u8),
}

impl Csw {
    /// Parses what the device sent in the status stage.
    pub fn parse(bytes: &[u8]) -> Result<Self, CswError> {
        let b: &[u8; CSW_LEN] = bytes
            .try_into()
            .map_err(|_| CswError::Length(bytes.len()))?;
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        if word(0) != CSW_SIGNATURE {
            return Err(CswError::Signature(word(0)));
        }
        let status = match b[12] {
            0 => CswStatus::Passed,
            1 => CswStatus::Failed,
            2 => CswStatus::PhaseError,
            other => return Err(CswError::Status(other)),
        };
        Ok(Self {
            tag: word(4),
            residue: word(8),
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbw_layout() {
        let b = Cbw::new(0x1122_3344, 36, true, &[0x12, 0, 0, 0, 36, 0]).to_bytes();
        assert_eq!(&b[..4], b"USBC");
        assert_eq!(&b[4..8], &[0x44, 0x33, 0x22, 0x11]);
        assert_eq!(&b[8..12], &[36, 0, 0, 0]);
        assert_eq!((b[12], b[13], b[14], b[15], b[19]), (0x80, 0, 6, 0x12, 36));
    }

    #[test]
    fn csw_parsing() {
        let mut b = *b"USBS\x07\0\0\0\x10\0\0\0\x01";
        assert_eq!(
            Csw::parse(&b),
            Ok(Csw {
                tag: 7,
                residue: 16,
                status: CswStatus::Failed
            })
        );
        assert_eq!(Csw::parse(&b[..12]), Err(CswError::Length(12)));
        b[12] = 3;
        assert_eq!(Csw::parse(&b), Err(CswError::Status(3)));
        b[0] = b'X';
        assert_eq!(Csw::parse(&b), Err(CswError::Signature(0x5342_5358)));
    }
}
