//! SCSI sense data: the error codes this device reports and their fixed format
//! (SPC-4, fixed format sense data).

/// Sense key, additional sense code and qualifier, and the INFORMATION field if valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sense {
    key: u8,
    asc: u8,
    ascq: u8,
    information: Option<u32>,
}

// Sense keys (SPC-4, sense key descriptions).
const NOT_READY: u8 = 0x02;
const MEDIUM_ERROR: u8 = 0x03;
const ILLEGAL_REQUEST: u8 = 0x05;
const UNIT_ATTENTION: u8 = 0x06;
const DATA_PROTECT: u8 = 0x07;

/// Length of fixed-format sense data as this device returns it.
pub(crate) const FIXED_SENSE_LEN: usize = 18;

impl Sense {
    const fn new(key: u8, asc: u8, ascq: u8) -> Self {
        Self {
            key,
            asc,
            ascq,
            information: None,
        }
    }

    /// 02h/3Ah/00h: the medium was ejected (START STOP UNIT with LOEJ).
    pub(crate) const MEDIUM_NOT_PRESENT: Self = Self::new(NOT_READY, 0x3a, 0x00);
    /// 05h/20h/00h: any command this device does not implement.
    pub(crate) const INVALID_COMMAND_OPERATION_CODE: Self = Self::new(ILLEGAL_REQUEST, 0x20, 0);
    /// 05h/21h/00h: the LBA range goes past the last block.
    pub(crate) const LBA_OUT_OF_RANGE: Self = Self::new(ILLEGAL_REQUEST, 0x21, 0x00);
    /// 05h/24h/00h: a CDB field asks for something this device does not do.
    pub(crate) const INVALID_FIELD_IN_CDB: Self = Self::new(ILLEGAL_REQUEST, 0x24, 0x00);
    /// 05h/39h/00h: MODE SENSE of saved values (no saved pages).
    pub(crate) const SAVING_PARAMETERS_NOT_SUPPORTED: Self = Self::new(ILLEGAL_REQUEST, 0x39, 0);
    /// 05h/53h/02h: eject while PREVENT ALLOW MEDIUM REMOVAL prevents it.
    pub(crate) const MEDIUM_REMOVAL_PREVENTED: Self = Self::new(ILLEGAL_REQUEST, 0x53, 0x02);
    /// 06h/28h/00h: a medium was loaded (NOT READY TO READY CHANGE).
    pub(crate) const MEDIUM_MAY_HAVE_CHANGED: Self = Self::new(UNIT_ATTENTION, 0x28, 0x00);
    /// 06h/29h/00h: POWER ON, RESET, OR BUS DEVICE RESET OCCURRED.
    pub(crate) const RESET_OCCURRED: Self = Self::new(UNIT_ATTENTION, 0x29, 0x00);
    /// 07h/27h/00h: WRITE PROTECTED; every write is refused with it.
    pub(crate) const WRITE_PROTECTED: Self = Self::new(DATA_PROTECT, 0x27, 0x00);

    /// 03h/11h/00h UNRECOVERED READ ERROR at `lba` (in the INFORMATION field when it fits, as
    /// SBC-3 asks for read errors).
    pub(crate) fn unrecovered_read_error(lba: u64) -> Self {
        Self {
            information: u32::try_from(lba).ok(),
            ..Self::new(MEDIUM_ERROR, 0x11, 0x00)
        }
    }
}

/// Fixed-format sense data (SPC-4, fixed format sense data) for `sense`, or NO SENSE.
pub(crate) fn fixed_format(sense: Option<Sense>) -> [u8; FIXED_SENSE_LEN] {
    let sense = sense.unwrap_or(Sense::new(0, 0, 0));
    // RESPONSE CODE 70h: current error; VALID (bit 7) when INFORMATION is meaningful.
    let response_code = if sense.information.is_some() {
        0xf0
    } else {
        0x70
    };
    let [i0, i1, i2, i3] = sense.information.unwrap_or(0).to_be_bytes();
    // ADDITIONAL SENSE LENGTH: bytes after byte 7.
    let additional = (FIXED_SENSE_LEN as u8).saturating_sub(8);
    #[rustfmt::skip]
    let bytes = [
        response_code, 0, sense.key, i0, i1, i2, i3, additional,
        0, 0, 0, 0, sense.asc, sense.ascq, 0, 0, 0, 0,
    ];
    bytes
}
