// SPDX-License-Identifier: GPL-2.0

//! One downstream port of the root hub: its status and change bits (USB 2.0 §11.24.2.7)
//! and the port requests usbcore sends to it.
//!
//! Pure state machine, no C: [`RootPort::control`] answers one request and says what the
//! caller must do next (reset the device). Nothing is timed: a reset or a resume completes
//! at once; usbcore does its own waiting.

use crate::roothub::{put, PortRequest, Stall};

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

// Port feature selectors, USB 2.0 §11.24.2 (Table 11-17).
const F_PORT_ENABLE: u16 = 1;
const F_PORT_SUSPEND: u16 = 2;
const F_PORT_RESET: u16 = 4;
const F_PORT_POWER: u16 = 8;
const F_C_PORT_CONNECTION: u16 = 16;
const F_C_PORT_RESET: u16 = 20;
const F_PORT_INDICATOR: u16 = 22;

/// The outcome of a successful request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Bytes written to the request's buffer.
    pub(crate) len: usize,
    /// The port went through a reset: the device must see a bus reset before its next
    /// transfer.
    pub(crate) reset_device: bool,
}

/// One port of the root hub.
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

    /// Whether a change bit is set: the hub's status-change endpoint must report the port.
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

    /// Answers one request to this port; `buf` is the request's data stage (wLength bytes).
    pub(crate) fn control(&mut self, request: PortRequest, buf: &mut [u8]) -> Result<Reply, Stall> {
        match request {
            // §11.24.2.7.
            PortRequest::GetStatus => {
                let [s0, s1] = self.status.to_le_bytes();
                let [c0, c1] = self.change.to_le_bytes();
                Ok(Reply {
                    len: put(buf, &[s0, s1, c0, c1]),
                    reset_device: false,
                })
            }
            PortRequest::SetFeature(feature) => self.set_feature(feature),
            PortRequest::ClearFeature(feature) => self.clear_feature(feature),
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
