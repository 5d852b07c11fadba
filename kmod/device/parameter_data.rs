//! Parameter data returned by the data-in commands: INQUIRY data and VPD pages, mode
//! parameters, capacities.

use super::block::BlockDevice;
use super::cdb::{InquiryPage, ModeSenseFormat, VPD_PAGES};
use super::identity::{Identity, INQUIRY_PRODUCT_LEN, INQUIRY_REVISION_LEN, INQUIRY_VENDOR_LEN};
use super::reply::Reply;

/// PERIPHERAL QUALIFIER 000b, PERIPHERAL DEVICE TYPE 00h: direct access block device
/// (SPC-4, standard INQUIRY data).
const DIRECT_ACCESS_DEVICE: u8 = 0x00;
/// RMB: the medium is removable (it can be ejected with START STOP UNIT), as on USB keys.
const REMOVABLE: u8 = 0x80;
/// VERSION 02h and RESPONSE DATA FORMAT 2, as Linux's f_mass_storage reports: no claim of
/// SPC-2+ conformance (whose mandatory REPORT LUNS this device lacks).
const VERSION: u8 = 0x02;
const RESPONSE_DATA_FORMAT: u8 = 0x02;
/// Standard INQUIRY data length (SPC-4): ADDITIONAL LENGTH is 31.
const STANDARD_INQUIRY_LEN: u8 = 36;
/// DEVICE-SPECIFIC PARAMETER of the mode parameter header: WP, write protected
/// (SBC-3, mode parameter header).
const WRITE_PROTECT: u8 = 0x80;
/// Caching mode page code and PAGE LENGTH (SBC-3, Caching mode page).
const CACHING_PAGE: u8 = 0x08;
const CACHING_PAGE_LEN: u8 = 0x12;
/// Formatted media, in a READ FORMAT CAPACITIES descriptor (UFI 1.0, READ FORMAT CAPACITIES).
const FORMATTED_MEDIA: u8 = 0x02;

/// INQUIRY data for `page` (SPC-4, INQUIRY; VPD pages).
pub(crate) fn inquiry(page: InquiryPage, identity: &Identity<'_>) -> Reply {
    let mut r = Reply::new();
    match page {
        InquiryPage::Standard => {
            r.extend(&[
                DIRECT_ACCESS_DEVICE,
                REMOVABLE,
                VERSION,
                RESPONSE_DATA_FORMAT,
                STANDARD_INQUIRY_LEN.saturating_sub(5),
                0,
                0,
                0,
            ]);
            r.extend_padded(identity.inquiry_vendor, INQUIRY_VENDOR_LEN);
            r.extend_padded(identity.inquiry_product, INQUIRY_PRODUCT_LEN);
            r.extend_padded(identity.inquiry_revision, INQUIRY_REVISION_LEN);
        }
        InquiryPage::SupportedPages => {
            // SPC-4, Supported VPD Pages.
            r.extend(&[DIRECT_ACCESS_DEVICE, 0x00, 0, 0]);
            r.extend(&VPD_PAGES);
            set_length_byte(&mut r, 3, 4);
        }
        InquiryPage::UnitSerialNumber => {
            // SPC-4, Unit Serial Number VPD page: the USB serial number, which is ASCII hex digits.
            r.extend(&[DIRECT_ACCESS_DEVICE, 0x80, 0, 0]);
            r.extend(identity.serial.as_bytes());
            set_length_byte(&mut r, 3, 4);
        }
        InquiryPage::DeviceIdentification => {
            // SPC-4, Device Identification VPD page: one designator, T10 vendor ID based (type 1), ASCII (code set
            // 2), for the logical unit (association 0): vendor, product, serial number.
            r.extend(&[DIRECT_ACCESS_DEVICE, 0x83, 0, 0, 0x02, 0x01, 0x00, 0]);
            r.extend_padded(identity.inquiry_vendor, INQUIRY_VENDOR_LEN);
            r.extend_padded(identity.inquiry_product, INQUIRY_PRODUCT_LEN);
            r.extend(identity.serial.as_bytes());
            set_length_byte(&mut r, 7, 8);
            set_length_byte(&mut r, 3, 4);
        }
    }
    r
}

/// Stores the length of the reply after byte `from` into byte `at`.
fn set_length_byte(r: &mut Reply, at: usize, from: usize) {
    let n = r.len().saturating_sub(from);
    r.set(at, u8::try_from(n).unwrap_or(u8::MAX));
}

/// Mode parameters: the header without block descriptors (allowed whatever DBD says,
/// SPC-4 MODE SENSE(6)) and the Caching page, whose current values are all zero (read cache
/// enabled, no write cache) and of which nothing is changeable.
pub(crate) fn mode_sense(format: ModeSenseFormat) -> Reply {
    let mut r = Reply::new();
    match format {
        // SPC-4, mode parameter header (6): MODE DATA LENGTH, MEDIUM TYPE, DEVICE-SPECIFIC
        // PARAMETER, BLOCK DESCRIPTOR LENGTH.
        ModeSenseFormat::Six => {
            r.extend(&[0, 0, WRITE_PROTECT, 0]);
        }
        // SPC-4, mode parameter header (10): the same with two-byte lengths.
        ModeSenseFormat::Ten => {
            r.extend(&[0, 0, 0, WRITE_PROTECT, 0, 0, 0, 0]);
        }
    }
    r.extend(&[CACHING_PAGE, CACHING_PAGE_LEN]);
    r.extend(&[0; CACHING_PAGE_LEN as usize]);
    // MODE DATA LENGTH counts the bytes after itself.
    match format {
        ModeSenseFormat::Six => set_length_byte(&mut r, 0, 1),
        ModeSenseFormat::Ten => {
            let n = u16::try_from(r.len().saturating_sub(2)).unwrap_or(u16::MAX);
            let [hi, lo] = n.to_be_bytes();
            r.set(0, hi);
            r.set(1, lo);
        }
    }
    r
}

/// The address of the last logical block.
fn last_lba<D: BlockDevice>(disk: &D) -> u64 {
    disk.block_count().saturating_sub(1)
}

/// READ CAPACITY(10) data (SBC-3, READ CAPACITY(10) parameter data): past 2^32 - 2 blocks the address reads
/// FFFFFFFFh and the host must use READ CAPACITY(16).
pub(crate) fn read_capacity_10<D: BlockDevice>(disk: &D) -> Reply {
    let lba = u32::try_from(last_lba(disk)).unwrap_or(u32::MAX);
    let mut r = Reply::new();
    r.extend(&lba.to_be_bytes());
    r.extend(&disk.block_size().to_be_bytes());
    r
}

/// READ CAPACITY(16) data (SBC-3, READ CAPACITY(16) parameter data): no protection, no thin provisioning, one
/// logical block per physical block.
pub(crate) fn read_capacity_16<D: BlockDevice>(disk: &D) -> Reply {
    let mut r = Reply::new();
    r.extend(&last_lba(disk).to_be_bytes());
    r.extend(&disk.block_size().to_be_bytes());
    r.extend(&[0; 20]);
    r
}

/// READ FORMAT CAPACITIES data (UFI 1.0, READ FORMAT CAPACITIES): a capacity list header and the
/// current/maximum capacity descriptor.
pub(crate) fn format_capacities<D: BlockDevice>(disk: &D) -> Reply {
    let blocks = u32::try_from(disk.block_count()).unwrap_or(u32::MAX);
    let [_, s0, s1, s2] = disk.block_size().to_be_bytes();
    let mut r = Reply::new();
    // CAPACITY LIST LENGTH: one 8-byte descriptor.
    r.extend(&[0, 0, 0, 8]);
    r.extend(&blocks.to_be_bytes());
    r.extend(&[FORMATTED_MEDIA, s0, s1, s2]);
    r
}
