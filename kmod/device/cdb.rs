//! SCSI command descriptor blocks: bytes from the host to typed commands (SPC-4, SBC-3).
//! Only fields that ask for something this device does not do are rejected; reserved and
//! obsolete bits are ignored, as SPC-4's definition of "reserved" allows.

/// Operation codes this device knows.
pub(crate) mod opcode {
    pub(crate) const TEST_UNIT_READY: u8 = 0x00;
    pub(crate) const REQUEST_SENSE: u8 = 0x03;
    pub(crate) const READ_6: u8 = 0x08;
    pub(crate) const WRITE_6: u8 = 0x0a;
    pub(crate) const INQUIRY: u8 = 0x12;
    pub(crate) const MODE_SENSE_6: u8 = 0x1a;
    pub(crate) const START_STOP_UNIT: u8 = 0x1b;
    pub(crate) const PREVENT_ALLOW_MEDIUM_REMOVAL: u8 = 0x1e;
    pub(crate) const READ_FORMAT_CAPACITIES: u8 = 0x23;
    pub(crate) const READ_CAPACITY_10: u8 = 0x25;
    pub(crate) const READ_10: u8 = 0x28;
    pub(crate) const WRITE_10: u8 = 0x2a;
    pub(crate) const VERIFY_10: u8 = 0x2f;
    pub(crate) const SYNCHRONIZE_CACHE_10: u8 = 0x35;
    pub(crate) const MODE_SENSE_10: u8 = 0x5a;
    pub(crate) const READ_16: u8 = 0x88;
    pub(crate) const WRITE_16: u8 = 0x8a;
    pub(crate) const SERVICE_ACTION_IN_16: u8 = 0x9e;
    pub(crate) const READ_12: u8 = 0xa8;
    pub(crate) const WRITE_12: u8 = 0xaa;
}

/// SERVICE ACTION IN(16) service action READ CAPACITY(16) (SBC-3).
const SA_READ_CAPACITY_16: u8 = 0x10;

/// Which INQUIRY data is asked for (SPC-4, INQUIRY; vital product data pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InquiryPage {
    /// Standard INQUIRY data (EVPD 0).
    Standard,
    /// VPD 00h, Supported VPD Pages.
    SupportedPages,
    /// VPD 80h, Unit Serial Number.
    UnitSerialNumber,
    /// VPD 83h, Device Identification.
    DeviceIdentification,
}

/// VPD page codes this device returns, in ascending order (SPC-4, Supported VPD Pages).
pub(crate) const VPD_PAGES: [u8; 3] = [0x00, 0x80, 0x83];

/// MODE SENSE(6) or (10): the header format (SPC-4, mode parameter header formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModeSenseFormat {
    /// MODE SENSE(6): 4-byte header.
    Six,
    /// MODE SENSE(10): 8-byte header.
    Ten,
}

/// A parsed SCSI command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// TEST UNIT READY (SPC-4).
    TestUnitReady,
    /// REQUEST SENSE, fixed format (SPC-4).
    RequestSense { allocation: u8 },
    /// INQUIRY (SPC-4).
    Inquiry { page: InquiryPage, allocation: u16 },
    /// MODE SENSE(6) / MODE SENSE(10) of the Caching page or of all pages (SPC-4); the only page is the Caching page, and its current, default and
    /// changeable values are the same bytes, so only the header format matters.
    ModeSense {
        format: ModeSenseFormat,
        allocation: u16,
    },
    /// PREVENT ALLOW MEDIUM REMOVAL (SBC-3).
    PreventAllowMediumRemoval { prevent: bool },
    /// START STOP UNIT (SBC-3).
    StartStopUnit { load_eject: bool, start: bool },
    /// READ CAPACITY(10) (SBC-3).
    ReadCapacity10,
    /// READ CAPACITY(16) (SBC-3).
    ReadCapacity16 { allocation: u32 },
    /// READ FORMAT CAPACITIES (MMC-5, UFI 1.0).
    ReadFormatCapacities { allocation: u16 },
    /// READ(6), READ(10), READ(12), READ(16) (SBC-3).
    Read { lba: u64, blocks: u32 },
    /// VERIFY(10) without byte check (SBC-3).
    Verify { lba: u64, blocks: u32 },
    /// SYNCHRONIZE CACHE(10) (SBC-3); `blocks` 0 means to the last block.
    SynchronizeCache { lba: u64, blocks: u32 },
    /// WRITE(6), WRITE(10), WRITE(12), WRITE(16): always refused.
    Write { blocks: u32 },
    /// Any other operation code.
    Unsupported(u8),
}

/// Why a CDB is not executed as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CdbError {
    /// `bCBWCBLength` is shorter than the command's CDB: the device cannot tell what data
    /// stage the host meant (BOT 1.0 §6.7, a phase error, as Linux's f_mass_storage).
    TooShort,
    /// A field asks for something this device does not do (05h/24h/00h).
    InvalidField,
    /// MODE SENSE of saved values (05h/39h/00h).
    SavingParametersNotSupported,
}

/// The first `N` bytes of the CDB.
fn take<const N: usize>(cdb: &[u8]) -> Result<[u8; N], CdbError> {
    cdb.get(..N)
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .ok_or(CdbError::TooShort)
}

fn be16(b: [u8; 2]) -> u16 {
    u16::from_be_bytes(b)
}

fn be32(b: [u8; 4]) -> u32 {
    u32::from_be_bytes(b)
}

/// PROTECT field (bits 7..5 of byte 1) of READ/VERIFY: this device has no protection
/// information, so it must be zero (SBC-3, READ(10): RDPROTECT).
fn no_protection(byte1: u8) -> Result<(), CdbError> {
    if byte1 >> 5 == 0 {
        Ok(())
    } else {
        Err(CdbError::InvalidField)
    }
}

/// PMI and LOGICAL BLOCK ADDRESS of READ CAPACITY: with PMI zero the address must be zero
/// (SBC-3, READ CAPACITY(10)).
fn capacity_fields(lba: u64, pmi_byte: u8) -> Result<(), CdbError> {
    if pmi_byte & 1 == 0 && lba != 0 {
        Err(CdbError::InvalidField)
    } else {
        Ok(())
    }
}

/// Parses a CDB (`bCBWCBLength` bytes, at least one).
pub(crate) fn parse(cdb: &[u8]) -> Result<Command, CdbError> {
    use opcode::*;
    let Some(&op) = cdb.first() else {
        return Err(CdbError::TooShort);
    };
    match op {
        TEST_UNIT_READY => take::<6>(cdb).map(|_| Command::TestUnitReady),
        REQUEST_SENSE => {
            let [_, b1, _, _, allocation, _] = take(cdb)?;
            // DESC: descriptor-format sense data is not supported (SPC-4, REQUEST SENSE).
            if b1 & 1 != 0 {
                return Err(CdbError::InvalidField);
            }
            Ok(Command::RequestSense { allocation })
        }
        INQUIRY => {
            let [_, b1, page_code, a0, a1, _] = take(cdb)?;
            // EVPD (bit 0); bit 1 is the obsolete CMDDT, which asks for data not provided.
            let page = match (b1 & 0b11, page_code) {
                (0, 0) => InquiryPage::Standard,
                (1, 0x00) => InquiryPage::SupportedPages,
                (1, 0x80) => InquiryPage::UnitSerialNumber,
                (1, 0x83) => InquiryPage::DeviceIdentification,
                // SPC-4, INQUIRY: EVPD 0 with a page code, or a page not supported.
                _ => return Err(CdbError::InvalidField),
            };
            Ok(Command::Inquiry {
                page,
                allocation: be16([a0, a1]),
            })
        }
        MODE_SENSE_6 => {
            let [_, _, b2, subpage, allocation, _] = take(cdb)?;
            mode_sense(ModeSenseFormat::Six, b2, subpage, u16::from(allocation))
        }
        MODE_SENSE_10 => {
            let [_, _, b2, subpage, _, _, _, a0, a1, _] = take(cdb)?;
            mode_sense(ModeSenseFormat::Ten, b2, subpage, be16([a0, a1]))
        }
        PREVENT_ALLOW_MEDIUM_REMOVAL => {
            let [_, _, _, _, b4, _] = take(cdb)?;
            // PREVENT 00b allow, 01b prevent; 1xb (persistent/obsolete) not supported.
            match b4 & 0b11 {
                0 => Ok(Command::PreventAllowMediumRemoval { prevent: false }),
                1 => Ok(Command::PreventAllowMediumRemoval { prevent: true }),
                _ => Err(CdbError::InvalidField),
            }
        }
        START_STOP_UNIT => {
            let [_, _, _, _, b4, _] = take(cdb)?;
            // POWER CONDITION (bits 7..4) other than 0h is not supported.
            if b4 >> 4 != 0 {
                return Err(CdbError::InvalidField);
            }
            Ok(Command::StartStopUnit {
                load_eject: b4 & 0b10 != 0,
                start: b4 & 0b01 != 0,
            })
        }
        READ_FORMAT_CAPACITIES => {
            let [_, _, _, _, _, _, _, a0, a1, _] = take(cdb)?;
            Ok(Command::ReadFormatCapacities {
                allocation: be16([a0, a1]),
            })
        }
        READ_CAPACITY_10 => {
            let [_, _, l0, l1, l2, l3, _, _, pmi, _] = take(cdb)?;
            capacity_fields(u64::from(be32([l0, l1, l2, l3])), pmi)?;
            Ok(Command::ReadCapacity10)
        }
        SERVICE_ACTION_IN_16 => {
            let [_, b1, l0, l1, l2, l3, l4, l5, l6, l7, a0, a1, a2, a3, pmi, _] = take(cdb)?;
            // Only READ CAPACITY(16); other service actions are other commands.
            if b1 & 0x1f != SA_READ_CAPACITY_16 {
                return Ok(Command::Unsupported(op));
            }
            capacity_fields(u64::from_be_bytes([l0, l1, l2, l3, l4, l5, l6, l7]), pmi)?;
            Ok(Command::ReadCapacity16 {
                allocation: be32([a0, a1, a2, a3]),
            })
        }
        READ_6 => {
            let [_, b1, b2, b3, n, _] = take(cdb)?;
            Ok(Command::Read {
                lba: u64::from(be32([0, b1 & 0x1f, b2, b3])),
                blocks: blocks_6(n),
            })
        }
        READ_10 => {
            let [_, b1, l0, l1, l2, l3, _, n0, n1, _] = take(cdb)?;
            no_protection(b1)?;
            Ok(Command::Read {
                lba: u64::from(be32([l0, l1, l2, l3])),
                blocks: u32::from(be16([n0, n1])),
            })
        }
        READ_12 => {
            let [_, b1, l0, l1, l2, l3, n0, n1, n2, n3, _, _] = take(cdb)?;
            no_protection(b1)?;
            Ok(Command::Read {
                lba: u64::from(be32([l0, l1, l2, l3])),
                blocks: be32([n0, n1, n2, n3]),
            })
        }
        READ_16 => {
            let [_, b1, l0, l1, l2, l3, l4, l5, l6, l7, n0, n1, n2, n3, _, _] = take(cdb)?;
            no_protection(b1)?;
            Ok(Command::Read {
                lba: u64::from_be_bytes([l0, l1, l2, l3, l4, l5, l6, l7]),
                blocks: be32([n0, n1, n2, n3]),
            })
        }
        VERIFY_10 => {
            let [_, b1, l0, l1, l2, l3, _, n0, n1, _] = take(cdb)?;
            no_protection(b1)?;
            // BYTCHK (bits 2..1) other than 00b would need a data-out stage to compare.
            if b1 & 0b110 != 0 {
                return Err(CdbError::InvalidField);
            }
            Ok(Command::Verify {
                lba: u64::from(be32([l0, l1, l2, l3])),
                blocks: u32::from(be16([n0, n1])),
            })
        }
        SYNCHRONIZE_CACHE_10 => {
            let [_, _, l0, l1, l2, l3, _, n0, n1, _] = take(cdb)?;
            Ok(Command::SynchronizeCache {
                lba: u64::from(be32([l0, l1, l2, l3])),
                blocks: u32::from(be16([n0, n1])),
            })
        }
        WRITE_6 => {
            let [_, _, _, _, n, _] = take(cdb)?;
            Ok(Command::Write {
                blocks: blocks_6(n),
            })
        }
        WRITE_10 => {
            let [_, _, _, _, _, _, _, n0, n1, _] = take(cdb)?;
            Ok(Command::Write {
                blocks: u32::from(be16([n0, n1])),
            })
        }
        WRITE_12 => {
            let [_, _, _, _, _, _, n0, n1, n2, n3, _, _] = take(cdb)?;
            Ok(Command::Write {
                blocks: be32([n0, n1, n2, n3]),
            })
        }
        WRITE_16 => {
            let [_, _, _, _, _, _, _, _, _, _, n0, n1, n2, n3, _, _] = take(cdb)?;
            Ok(Command::Write {
                blocks: be32([n0, n1, n2, n3]),
            })
        }
        _ => Ok(Command::Unsupported(op)),
    }
}

/// READ(6)/WRITE(6) TRANSFER LENGTH: 0 means 256 blocks (SBC-3, READ(6)).
fn blocks_6(n: u8) -> u32 {
    if n == 0 {
        256
    } else {
        u32::from(n)
    }
}

/// MODE SENSE page control, page code and subpage code (SPC-4, MODE SENSE(6)).
fn mode_sense(
    format: ModeSenseFormat,
    b2: u8,
    subpage: u8,
    allocation: u16,
) -> Result<Command, CdbError> {
    // PC 11b asks for saved values; there are none (SPC-4, MODE SENSE(6): PC field).
    if b2 >> 6 == 0b11 {
        return Err(CdbError::SavingParametersNotSupported);
    }
    match (b2 & 0x3f, subpage) {
        // 08h/00h the Caching page; 3Fh/00h all pages; 3Fh/FFh all pages and subpages
        // (there are no subpages).
        (0x08, 0x00) | (0x3f, 0x00 | 0xff) => Ok(Command::ModeSense { format, allocation }),
        _ => Err(CdbError::InvalidField),
    }
}
