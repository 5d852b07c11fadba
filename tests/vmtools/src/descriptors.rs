//! The descriptors a usbdevfs node reads back (device descriptor, then every configuration),
//! parsed for what the hostile host needs: the mass-storage interface and its bulk endpoints.

use thiserror::Error;

const DT_CONFIG: u8 = 2;
const DT_INTERFACE: u8 = 4;
const DT_ENDPOINT: u8 = 5;
const CLASS_MASS_STORAGE: u8 = 0x08;
const PROTOCOL_BULK_ONLY: u8 = 0x50;
const TRANSFER_BULK: u8 = 0x02;

/// What the descriptors did not contain.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DescriptorError {
    /// A descriptor runs past the end of the bytes read (their count given).
    #[error("descriptors truncated after {0} bytes")]
    Truncated(usize),
    /// No interface of class 08h protocol 50h with one bulk IN and one bulk OUT endpoint.
    #[error("no Bulk-Only mass-storage interface with bulk IN and OUT endpoints")]
    NoBulkOnlyInterface,
}

/// The Bulk-Only interface of the first configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkOnly {
    /// `bInterfaceNumber`.
    pub interface: u8,
    /// Address of the bulk-IN endpoint (bit 7 set).
    pub ep_in: u8,
    /// Address of the bulk-OUT endpoint.
    pub ep_out: u8,
    /// `wMaxPacketSize` of bulk-IN.
    pub max_packet: u16,
    /// `bNumConfigurations` of the device descriptor.
    pub configurations: u8,
}

/// Finds the Bulk-Only interface of the first configuration in the bytes read from a
/// usbdevfs node.
pub fn parse(bytes: &[u8]) -> Result<BulkOnly, DescriptorError> {
    let truncated = DescriptorError::Truncated(bytes.len());
    let device = bytes.get(..18).ok_or(truncated.clone())?;
    let configurations = device[17];
    let start = usize::from(device[0]).max(18);
    let header = bytes.get(start..start + 4).ok_or(truncated.clone())?;
    if header[1] != DT_CONFIG {
        return Err(DescriptorError::NoBulkOnlyInterface);
    }
    let total = usize::from(u16::from_le_bytes([header[2], header[3]]));
    let mut config = bytes.get(start..start + total).ok_or(truncated.clone())?;
    let mut interface: Option<u8> = None;
    let (mut ep_in, mut ep_out, mut max_packet) = (None, None, 0);
    while let [len, ..] = *config {
        let len = usize::from(len).max(2);
        let desc = config.get(..len).ok_or(truncated.clone())?;
        config = &config[len..];
        match desc[1] {
            DT_INTERFACE if desc.len() >= 9 => {
                if ep_in.is_some() && ep_out.is_some() {
                    break;
                }
                let bulk_only = desc[5] == CLASS_MASS_STORAGE && desc[7] == PROTOCOL_BULK_ONLY;
                interface = bulk_only.then_some(desc[2]);
                (ep_in, ep_out) = (None, None);
            }
            DT_ENDPOINT
                if desc.len() >= 7 && interface.is_some() && desc[3] & 0x03 == TRANSFER_BULK =>
            {
                if desc[2] & 0x80 != 0 {
                    ep_in = Some(desc[2]);
                    max_packet = u16::from_le_bytes([desc[4], desc[5]]);
                } else {
                    ep_out = Some(desc[2]);
                }
            }
            _ => {}
        }
    }
    match (interface, ep_in, ep_out) {
        (Some(interface), Some(ep_in), Some(ep_out)) => Ok(BulkOnly {
            interface,
            ep_in,
            ep_out,
            max_packet,
            configurations,
        }),
        _ => Err(DescriptorError::NoBulkOnlyInterface),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stick() -> Vec<u8> {
        let mut d = vec![18, 1, 0, 2, 0, 0, 0, 64, 0x09, 0x12, 1, 0, 0, 1, 1, 2, 3, 1];
        d.extend([9, 2, 32, 0, 1, 1, 0, 0x80, 50]);
        d.extend([9, 4, 0, 0, 2, 8, 6, 0x50, 0]);
        d.extend([7, 5, 0x81, 2, 0, 2, 0]);
        d.extend([7, 5, 0x02, 2, 0, 2, 0]);
        d
    }

    #[test]
    fn finds_the_bulk_only_interface() {
        assert_eq!(
            parse(&stick()),
            Ok(BulkOnly {
                interface: 0,
                ep_in: 0x81,
                ep_out: 0x02,
                max_packet: 512,
                configurations: 1
            })
        );
    }

    #[test]
    fn rejects_truncated_and_foreign_descriptors() {
        assert_eq!(parse(&[18, 1]), Err(DescriptorError::Truncated(2)));
        let mut hid = stick();
        hid[18 + 9 + 5] = 3;
        assert_eq!(parse(&hid), Err(DescriptorError::NoBulkOnlyInterface));
        let mut cut = stick();
        cut.truncate(cut.len() - 3);
        assert_eq!(parse(&cut), Err(DescriptorError::Truncated(cut.len())));
    }
}
