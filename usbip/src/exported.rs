//! An exported device as USB/IP describes it (`struct usbip_usb_device` and its
//! interfaces), read from the device model itself with GET_DESCRIPTOR, so that nothing here
//! restates the descriptors.

use vusbkey_device::{BlockDevice, Device, Identity, Speed};

use crate::op::{put_string, BUSID_LEN, PATH_LEN};

/// One interface as `OP_REP_DEVLIST` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    /// `bInterfaceClass`.
    pub class: u8,
    /// `bInterfaceSubClass`.
    pub subclass: u8,
    /// `bInterfaceProtocol`.
    pub protocol: u8,
}

/// What a client learns about a device before it imports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedDevice {
    /// A sysfs-like path naming the device (informational).
    pub path: String,
    /// The bus id a client imports it by, e.g. `1-1`.
    pub busid: String,
    /// Bus number.
    pub busnum: u32,
    /// Device number on the bus.
    pub devnum: u32,
    /// The speed it runs at (`enum usb_device_speed` on the wire).
    pub speed: Speed,
    /// `idVendor`.
    pub vendor_id: u16,
    /// `idProduct`.
    pub product_id: u16,
    /// `bcdDevice`.
    pub bcd_device: u16,
    /// `bDeviceClass`, `bDeviceSubClass`, `bDeviceProtocol`.
    pub class: [u8; 3],
    /// `bConfigurationValue` of the configuration a client should select.
    pub configuration_value: u8,
    /// `bNumConfigurations`.
    pub num_configurations: u8,
    /// The interfaces of that configuration.
    pub interfaces: Vec<Interface>,
}

/// The device model refused a GET_DESCRIPTOR it must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the device model did not return its {0} descriptor")]
pub struct DescriptorError(&'static str);

const DT_DEVICE: u8 = 1;
const DT_CONFIGURATION: u8 = 2;
const DT_INTERFACE: u8 = 4;

/// GET_DESCRIPTOR (USB 2.0 §9.4.3) of `len` bytes into a fresh buffer.
fn get_descriptor<D: BlockDevice>(
    device: &mut Device<'_, D>,
    kind: u8,
    len: u16,
) -> Option<Vec<u8>> {
    let [len_lo, len_hi] = len.to_le_bytes();
    let setup = [0x80, 6, 0, kind, 0, 0, len_lo, len_hi];
    let mut buf = vec![0u8; usize::from(len)];
    let n = device.control(&setup, &mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

impl ExportedDevice {
    /// Describes the device `identity` + `disk` would be at `speed`, at `busnum`-`devnum`.
    pub fn probe<D: BlockDevice>(
        identity: Identity<'_>,
        disk: D,
        speed: Speed,
        busnum: u32,
        devnum: u32,
    ) -> Result<Self, DescriptorError> {
        let mut device =
            Device::new(identity, disk, speed).map_err(|_| DescriptorError("device"))?;
        let d = get_descriptor(&mut device, DT_DEVICE, 18)
            .filter(|d| d.len() == 18)
            .ok_or(DescriptorError("device"))?;
        let header = get_descriptor(&mut device, DT_CONFIGURATION, 9)
            .filter(|c| c.len() == 9)
            .ok_or(DescriptorError("configuration"))?;
        let total = u16::from_le_bytes([header[2], header[3]]);
        let config = get_descriptor(&mut device, DT_CONFIGURATION, total)
            .filter(|c| c.len() == usize::from(total))
            .ok_or(DescriptorError("configuration"))?;
        // Walk the descriptors of the configuration (USB 2.0 §9.4.3: the configuration,
        // then its interfaces and endpoints, each starting with bLength, bDescriptorType).
        let mut interfaces = Vec::new();
        let mut rest = &config[..];
        while let [len, kind, ..] = *rest {
            let len = usize::from(len);
            if len < 2 || len > rest.len() {
                return Err(DescriptorError("configuration"));
            }
            if kind == DT_INTERFACE && len >= 9 {
                interfaces.push(Interface {
                    class: rest[5],
                    subclass: rest[6],
                    protocol: rest[7],
                });
            }
            rest = &rest[len..];
        }
        Ok(Self {
            path: format!("/sys/devices/platform/vusbkey-usbip/usb{busnum}/{busnum}-{devnum}"),
            busid: format!("{busnum}-{devnum}"),
            busnum,
            devnum,
            speed,
            vendor_id: u16::from_le_bytes([d[8], d[9]]),
            product_id: u16::from_le_bytes([d[10], d[11]]),
            bcd_device: u16::from_le_bytes([d[12], d[13]]),
            class: [d[4], d[5], d[6]],
            configuration_value: config[5],
            num_configurations: d[17],
            interfaces,
        })
    }

    /// `devid` of the commands for this device: `(busnum << 16) | devnum`.
    pub fn devid(&self) -> u32 {
        (self.busnum << 16) | (self.devnum & 0xffff)
    }

    /// Appends `struct usbip_usb_device` (312 bytes).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_string(out, &self.path, PATH_LEN);
        put_string(out, &self.busid, BUSID_LEN);
        for word in [self.busnum, self.devnum, self.speed.linux_value()] {
            out.extend_from_slice(&word.to_be_bytes());
        }
        for half in [self.vendor_id, self.product_id, self.bcd_device] {
            out.extend_from_slice(&half.to_be_bytes());
        }
        out.extend_from_slice(&self.class);
        out.push(self.configuration_value);
        out.push(self.num_configurations);
        out.push(self.interfaces.len() as u8);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::identity::{DeviceIdentity, IdentityOptions};
    use crate::image::Image;

    /// `struct usbip_usb_device` of the first key at `speed`, as `OP_REP_DEVLIST` and
    /// `OP_REP_IMPORT` carry it.
    fn record(speed: Speed) -> Vec<u8> {
        let image = Image::new("t.img".into(), Arc::from(vec![0u8; 4096])).unwrap();
        let identity = DeviceIdentity::new(&IdentityOptions::default(), &image, None).unwrap();
        let device = ExportedDevice::probe(identity.identity(), image.disk(), speed, 1, 1).unwrap();
        let mut out = Vec::new();
        device.encode(&mut out);
        out
    }

    #[test]
    fn record_is_the_model_at_its_speed() {
        for (speed, wire) in [(Speed::High, 3u32), (Speed::Super, 5)] {
            let r = record(speed);
            assert_eq!(r.len(), 312);
            assert!(r.starts_with(b"/sys/devices/platform/vusbkey-usbip/usb1/1-1\0"));
            assert!(r[256..].starts_with(b"1-1\0"));
            #[rustfmt::skip]
            let tail = [
                0, 0, 0, 1, 0, 0, 0, 1,         // busnum 1, devnum 1
                0, 0, 0, wire as u8,            // speed (enum usb_device_speed)
                0x12, 0x09, 0x00, 0x01, 0x01, 0x00, // 1209:0001, bcdDevice 1.00
                0, 0, 0,                        // class per interface
                1, 1, 1,                        // configuration 1 of 1, one interface
            ];
            assert_eq!(r[288..], tail, "{speed:?}");
        }
    }
}
