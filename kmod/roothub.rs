// SPDX-License-Identifier: GPL-2.0

//! The root hub: one USB 2.0 downstream port, its status/change bits and the hub class
//! requests (USB 2.0 chapter 11) usbcore sends to it.
//!
//! Pure state machine, no C: [`RootPort::control`] answers one request and says what the
//! caller must do next (reset the device). Nothing is timed: a reset or a resume completes
//! at once; usbcore does its own waiting.

/// The port number of our only port.
const PORT: u16 = 1;

// wPortStatus bits, USB 2.0 §11.24.2.7.1 (Table 11-21).
const PORT_CONNECTION: u16 = 1 << 0;
const PORT_ENABLE: u16 = 1 << 1;
const PORT_SUSPEND: u16 = 1 << 2;
const PORT_RESET: u16 = 1 << 4;
const PORT_POWER: u16 = 1 << 8;
const PORT_LOW_SPEED: u16 = 1 << 9;
const PORT_HIGH_SPEED: u16 = 1 << 10;

// wPortChange bits, USB 2.0 §11.24.2.7.2 (Table 11-22).
const C_PORT_CONNECTION: u16 = 1 << 0;
const C_PORT_SUSPEND: u16 = 1 << 2;
const C_PORT_RESET: u16 = 1 << 4;

// Feature selectors, USB 2.0 §11.24.2 (Table 11-17).
const F_C_HUB_LOCAL_POWER: u16 = 0;
const F_C_HUB_OVER_CURRENT: u16 = 1;
const F_PORT_ENABLE: u16 = 1;
const F_PORT_SUSPEND: u16 = 2;
const F_PORT_RESET: u16 = 4;
const F_PORT_POWER: u16 = 8;
const F_C_PORT_CONNECTION: u16 = 16;
const F_C_PORT_RESET: u16 = 20;
const F_PORT_INDICATOR: u16 = 22;

// Hub class requests as usbcore encodes them: bmRequestType << 8 | bRequest
// (include/linux/usb/hcd.h), USB 2.0 §11.24.2 (Table 11-15).
const CLEAR_HUB_FEATURE: u16 = 0x2001;
const CLEAR_PORT_FEATURE: u16 = 0x2301;
const GET_HUB_DESCRIPTOR: u16 = 0xa006;
const GET_HUB_STATUS: u16 = 0xa000;
const GET_PORT_STATUS: u16 = 0xa300;
const SET_HUB_FEATURE: u16 = 0x2003;
const SET_PORT_FEATURE: u16 = 0x2303;

/// Hub descriptor type, USB 2.0 §11.23.2.1 (Table 11-13).
const DT_HUB: u8 = 0x29;

/// The hub descriptor, USB 2.0 §11.23.2.1: one port; wHubCharacteristics 0x0011 =
/// per-port power switching, not compound, no over-current protection; power good at once;
/// the port's device is removable; PortPwrCtrlMask all ones (USB 1.1 compatibility).
const HUB_DESCRIPTOR: [u8; 9] = [9, DT_HUB, 1, 0x11, 0x00, 0, 0, 0x00, 0xff];

/// A hub request the root hub does not support: usbcore turns it into a protocol stall.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Stall;

/// The outcome of a successful request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Bytes written to the request's buffer.
    pub(crate) len: usize,
    /// The port went through a reset: the device must see a bus reset before its next
    /// transfer.
    pub(crate) reset_device: bool,
}

/// The root hub's single port.
pub(crate) struct RootPort {
    /// wPortStatus.
    status: u16,
    /// wPortChange.
    change: u16,
    /// Whether the device is plugged in (the `connected` sysfs attribute).
    plugged: bool,
}

impl RootPort {
    /// An unpowered port; `plugged` says whether the device is attached.
    pub(crate) const fn new(plugged: bool) -> Self {
        Self {
            status: 0,
            change: 0,
            plugged,
        }
    }

    /// Whether the device is plugged in.
    pub(crate) fn plugged(&self) -> bool {
        self.plugged
    }

    /// Whether the hub driver has powered the port (USB 2.0 §11.11).
    pub(crate) fn powered(&self) -> bool {
        self.status & PORT_POWER != 0
    }

    /// Whether the port is enabled and not suspended: the device can take transfers.
    pub(crate) fn active(&self) -> bool {
        self.status & (PORT_ENABLE | PORT_SUSPEND) == PORT_ENABLE
    }

    /// Whether the port is suspended.
    pub(crate) fn suspended(&self) -> bool {
        self.status & PORT_SUSPEND != 0
    }

    /// Whether a change bit is set: the hub's status-change endpoint must report port 1.
    pub(crate) fn has_changes(&self) -> bool {
        self.change != 0
    }

    /// Plugs or unplugs the device; returns whether anything changed.
    /// On a powered port, connection shows at once with C_PORT_CONNECTION (§11.24.2.7.2.1);
    /// an unplug also disables the port (§11.5.1.* : Disconnected state).
    pub(crate) fn set_plugged(&mut self, plugged: bool) -> bool {
        if plugged == self.plugged {
            return false;
        }
        self.plugged = plugged;
        if self.status & PORT_POWER != 0 {
            if plugged {
                self.status |= PORT_CONNECTION;
            } else {
                self.status &= PORT_POWER;
            }
            self.change |= C_PORT_CONNECTION;
        }
        true
    }

    /// Answers one hub class request; `buf` is the request's data stage (wLength bytes).
    pub(crate) fn control(
        &mut self,
        type_req: u16,
        value: u16,
        index: u16,
        buf: &mut [u8],
    ) -> Result<Reply, Stall> {
        match type_req {
            // §11.24.2.1: the hub has no local power or over-current changes to clear.
            CLEAR_HUB_FEATURE => match value {
                F_C_HUB_LOCAL_POWER | F_C_HUB_OVER_CURRENT => Ok(Reply::default()),
                _ => Err(Stall),
            },
            // §11.24.2.12: only C_HUB_* features exist, and they cannot be set.
            SET_HUB_FEATURE => Err(Stall),
            // §11.24.2.5.
            GET_HUB_DESCRIPTOR => {
                if value >> 8 != u16::from(DT_HUB) {
                    return Err(Stall);
                }
                Ok(Reply {
                    len: put(buf, &HUB_DESCRIPTOR),
                    reset_device: false,
                })
            }
            // §11.24.2.6: local power good, no over-current; no changes.
            GET_HUB_STATUS => Ok(Reply {
                len: put(buf, &[0; 4]),
                reset_device: false,
            }),
            // §11.24.2.7; wValue 0 is the only status type of a USB 2.0 hub.
            GET_PORT_STATUS => {
                if index != PORT || value != 0 {
                    return Err(Stall);
                }
                let [s0, s1] = self.status.to_le_bytes();
                let [c0, c1] = self.change.to_le_bytes();
                Ok(Reply {
                    len: put(buf, &[s0, s1, c0, c1]),
                    reset_device: false,
                })
            }
            SET_PORT_FEATURE if index & 0xff == PORT => self.set_feature(value),
            CLEAR_PORT_FEATURE if index == PORT => self.clear_feature(value),
            _ => Err(Stall),
        }
    }

    /// SetPortFeature, §11.24.2.13.
    fn set_feature(&mut self, feature: u16) -> Result<Reply, Stall> {
        let mut reply = Reply::default();
        match feature {
            // §11.24.2.7.1.3: only an enabled port can be suspended.
            F_PORT_SUSPEND => {
                if self.status & PORT_ENABLE != 0 {
                    self.status |= PORT_SUSPEND;
                }
            }
            // §11.24.2.7.1.6: power on; an attached device then shows as a connection.
            F_PORT_POWER => {
                if self.status & PORT_POWER == 0 {
                    self.status |= PORT_POWER;
                    if self.plugged {
                        self.status |= PORT_CONNECTION;
                        self.change |= C_PORT_CONNECTION;
                    }
                }
            }
            // §11.24.2.7.1.5 and §11.5.1.5: reset signalling, then the port is enabled at the
            // device's speed (high) and C_PORT_RESET is set; the reset completes at once.
            F_PORT_RESET => {
                if self.status & PORT_CONNECTION != 0 {
                    self.status &= !(PORT_SUSPEND | PORT_RESET | PORT_LOW_SPEED);
                    self.status |= PORT_ENABLE | PORT_HIGH_SPEED;
                    self.change |= C_PORT_RESET;
                    reply.reset_device = true;
                }
            }
            // Change bits cannot be set; a USB 2.0 hub ignores the request (§11.24.2.13).
            16..=20 => {}
            // PORT_ENABLE is not settable (§11.24.2.7.1.2); no TEST or INDICATOR support.
            _ => return Err(Stall),
        }
        Ok(reply)
    }

    /// ClearPortFeature, §11.24.2.2.
    fn clear_feature(&mut self, feature: u16) -> Result<Reply, Stall> {
        match feature {
            // §11.24.2.7.1.2: disable the port.
            F_PORT_ENABLE => self.status &= !(PORT_ENABLE | PORT_SUSPEND),
            // §11.24.2.7.1.3: resume; completes at once and sets C_PORT_SUSPEND.
            F_PORT_SUSPEND => {
                if self.status & PORT_SUSPEND != 0 {
                    self.status &= !PORT_SUSPEND;
                    self.change |= C_PORT_SUSPEND;
                }
            }
            // §11.24.2.7.1.6: power off: every status bit goes.
            F_PORT_POWER => self.status = 0,
            F_PORT_INDICATOR => {}
            // §11.24.2.7.2: acknowledge a change.
            F_C_PORT_CONNECTION..=F_C_PORT_RESET => {
                self.change &= !(1 << (feature - F_C_PORT_CONNECTION));
            }
            _ => return Err(Stall),
        }
        Ok(Reply::default())
    }
}

/// Copies as much of `data` as fits into `buf`; returns the number of bytes copied.
fn put(buf: &mut [u8], data: &[u8]) -> usize {
    let n = buf.len().min(data.len());
    buf[..n].copy_from_slice(&data[..n]);
    n
}
