//! The bus speed the device runs at, set by the port it is connected to: its descriptors
//! and the requests it accepts differ between high speed and SuperSpeed.

/// Speed of the device's connection (`enum usb_device_speed` in Linux).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speed {
    /// USB 2.0 high speed, 480 Mb/s: 512-byte bulk packets; usb-storage sends at most
    /// 240 sectors per command (`scsiglue.c`).
    High,
    /// USB 3.2 Gen 1 SuperSpeed, 5 Gb/s: 1024-byte bulk packets with endpoint companions,
    /// a BOS descriptor; usb-storage sends up to 2048 sectors per command.
    Super,
}

impl Speed {
    /// The value of Linux's `enum usb_device_speed` (`USB_SPEED_HIGH` 3,
    /// `USB_SPEED_SUPER` 5), as USB/IP and the kernel's sysfs use it.
    pub const fn linux_value(self) -> u32 {
        match self {
            Speed::High => 3,
            Speed::Super => 5,
        }
    }
}
