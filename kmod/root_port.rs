// SPDX-License-Identifier: GPL-2.0

//! One downstream port of a root hub: its status and change bits (USB 2.0 §11.24.2.7, USB
//! 3.2 §10.16.2.6) and the port requests usbcore sends to it.
//!
//! Pure state machine, no C: [`RootPort::control`] answers one request and says what the
//! caller must do next (reset the device). Nothing is timed: a reset, a resume or a link
//! state change completes at once; usbcore does its own waiting.

use crate::roothub::{put, PortRequest, Protocol, Stall};

// wPortStatus bits, USB 2.0 §11.24.2.7.1 (Table 11-21); the SuperSpeed ones share bits 0-4
// (USB 3.2 Table 10-13).
const PORT_CONNECTION: u16 = 1 << 0;
const PORT_ENABLE: u16 = 1 << 1;
const PORT_SUSPEND: u16 = 1 << 2;
const PORT_RESET: u16 = 1 << 4;
const PORT_POWER: u16 = 1 << 8;
const PORT_LOW_SPEED: u16 = 1 << 9;
const PORT_HIGH_SPEED: u16 = 1 << 10;

// SuperSpeed wPortStatus, USB 3.2 Table 10-13: the link state in bits 5-8, power in bit 9,
// the speed in bits 10-12 (0: 5 Gb/s).
const SS_PORT_LINK_STATE: u16 = 0xf << 5;
const SS_PORT_POWER: u16 = 1 << 9;

// Link states, USB 3.2 §10.16.2.6.1 (PORT_LINK_STATE values).
const LINK_U0: u8 = 0x0;
const LINK_U1: u8 = 0x1;
const LINK_U2: u8 = 0x2;
const LINK_U3: u8 = 0x3;
const LINK_SS_DISABLED: u8 = 0x4;
const LINK_RX_DETECT: u8 = 0x5;

// wPortChange bits, USB 2.0 §11.24.2.7.2 (Table 11-22), USB 3.2 Table 10-14.
const C_PORT_CONNECTION: u16 = 1 << 0;
const C_PORT_SUSPEND: u16 = 1 << 2;
const C_PORT_RESET: u16 = 1 << 4;
const C_BH_PORT_RESET: u16 = 1 << 5;
const C_PORT_LINK_STATE: u16 = 1 << 6;

// Port feature selectors, USB 2.0 §11.24.2 (Table 11-17), USB 3.2 Table 10-9.
const F_PORT_ENABLE: u16 = 1;
const F_PORT_SUSPEND: u16 = 2;
const F_PORT_RESET: u16 = 4;
const F_PORT_LINK_STATE: u16 = 5;
const F_PORT_POWER: u16 = 8;
const F_C_PORT_CONNECTION: u16 = 16;
const F_C_PORT_OVER_CURRENT: u16 = 19;
const F_C_PORT_RESET: u16 = 20;
const F_PORT_INDICATOR: u16 = 22;
const F_PORT_U1_TIMEOUT: u16 = 23;
const F_PORT_U2_TIMEOUT: u16 = 24;
const F_C_PORT_LINK_STATE: u16 = 25;
const F_C_PORT_CONFIG_ERROR: u16 = 26;
const F_PORT_REMOTE_WAKE_MASK: u16 = 27;
const F_BH_PORT_RESET: u16 = 28;
const F_C_BH_PORT_RESET: u16 = 29;
const F_FORCE_LINKPM_ACCEPT: u16 = 30;

/// The outcome of a successful request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Bytes written to the request's buffer.
    pub(crate) len: usize,
    /// The port went through a reset: the device must see a bus reset before its next
    /// transfer.
    pub(crate) reset_device: bool,
}

/// One port of a root hub.
pub(crate) struct RootPort {
    /// The hub's protocol, which lays out `status` and names the features.
    protocol: Protocol,
    /// wPortStatus.
    status: u16,
    /// wPortChange.
    change: u16,
    /// Whether the device is plugged in (the `connected` sysfs attribute).
    plugged: bool,
}

impl RootPort {
    /// An unpowered port of a `protocol` hub; `plugged` says whether the device is attached.
    pub(crate) const fn new(protocol: Protocol, plugged: bool) -> Self {
        Self {
            protocol,
            status: 0,
            change: 0,
            plugged,
        }
    }

    /// The power bit of this port's status.
    fn power_bit(&self) -> u16 {
        match self.protocol {
            Protocol::Usb2 => PORT_POWER,
            Protocol::Usb3 => SS_PORT_POWER,
        }
    }

    /// The SuperSpeed link state (USB 3.2 §10.16.2.6.1).
    fn link_state(&self) -> u8 {
        ((self.status & SS_PORT_LINK_STATE) >> 5) as u8
    }

    fn set_link_state(&mut self, state: u8) {
        self.status = (self.status & !SS_PORT_LINK_STATE) | (u16::from(state) << 5);
    }

    /// Whether the device is plugged in.
    pub(crate) fn plugged(&self) -> bool {
        self.plugged
    }

    /// Whether the hub driver has powered the port (USB 2.0 §11.11, USB 3.2 §10.16.2.6.1).
    pub(crate) fn powered(&self) -> bool {
        self.status & self.power_bit() != 0
    }

    /// Whether the port is enabled and not suspended: the device can take transfers. A
    /// SuperSpeed link in U1 or U2 wakes by itself on traffic (USB 3.2 §7.2.4.2).
    pub(crate) fn active(&self) -> bool {
        self.status & PORT_ENABLE != 0 && !self.suspended()
    }

    /// Whether the port is suspended (USB 2.0 SUSPEND; SuperSpeed link in U3).
    pub(crate) fn suspended(&self) -> bool {
        match self.protocol {
            Protocol::Usb2 => self.status & PORT_SUSPEND != 0,
            Protocol::Usb3 => self.link_state() == LINK_U3,
        }
    }

    /// Whether a change bit is set: the hub's status-change endpoint must report the port.
    pub(crate) fn has_changes(&self) -> bool {
        self.change != 0
    }

    /// The device shows on a powered port: USB 2.0 §11.24.2.7.2.1; a SuperSpeed link
    /// trains to U0 at once (USB 3.2 §10.16.2.6.1: Rx.Detect, Polling, U0), but the port
    /// is enabled only by the reset that follows, as on a USB 2.0 port.
    fn connect(&mut self) {
        self.status |= PORT_CONNECTION;
        if self.protocol == Protocol::Usb3 {
            self.set_link_state(LINK_U0);
        }
        self.change |= C_PORT_CONNECTION;
    }

    /// The device is gone from a powered port: only power is left (USB 2.0 §11.5.1.*,
    /// Disconnected state); a SuperSpeed link looks for a device (Rx.Detect).
    fn disconnect(&mut self) {
        self.status &= self.power_bit();
        if self.protocol == Protocol::Usb3 {
            self.set_link_state(LINK_RX_DETECT);
        }
        self.change |= C_PORT_CONNECTION;
    }

    /// Plugs or unplugs the device; returns whether anything changed.
    pub(crate) fn set_plugged(&mut self, plugged: bool) -> bool {
        if plugged == self.plugged {
            return false;
        }
        self.plugged = plugged;
        // A SuperSpeed port the hub driver took off the bus (SS.Disabled) sees nothing until
        // it is back in Rx.Detect.
        if self.powered()
            && !(self.protocol == Protocol::Usb3 && self.link_state() == LINK_SS_DISABLED)
        {
            if plugged {
                self.connect();
            } else {
                self.disconnect();
            }
        }
        true
    }

    /// Answers one request to this port; `buf` is the request's data stage (wLength bytes).
    pub(crate) fn control(&mut self, request: PortRequest, buf: &mut [u8]) -> Result<Reply, Stall> {
        match request {
            // USB 2.0 §11.24.2.7, USB 3.2 §10.16.2.6.
            PortRequest::GetStatus => {
                let [s0, s1] = self.status.to_le_bytes();
                let [c0, c1] = self.change.to_le_bytes();
                Ok(Reply {
                    len: put(buf, &[s0, s1, c0, c1]),
                    reset_device: false,
                })
            }
            // USB 3.2 §10.16.2.5: the link has no errors to count.
            PortRequest::GetErrorCount => Ok(Reply {
                len: put(buf, &[0, 0]),
                reset_device: false,
            }),
            PortRequest::SetFeature(feature, selector) => match self.protocol {
                Protocol::Usb2 => self.set_feature(feature),
                Protocol::Usb3 => self.ss_set_feature(feature, selector),
            },
            PortRequest::ClearFeature(feature) => match self.protocol {
                Protocol::Usb2 => self.clear_feature(feature),
                Protocol::Usb3 => self.ss_clear_feature(feature),
            },
        }
    }

    /// PORT_POWER set: power on; an attached device then shows as a connection (USB 2.0
    /// §11.24.2.7.1.6, USB 3.2 §10.16.2.6.1).
    fn power_on(&mut self) {
        if !self.powered() {
            self.status |= self.power_bit();
            if self.protocol == Protocol::Usb3 {
                self.set_link_state(LINK_RX_DETECT);
            }
            if self.plugged {
                self.connect();
            }
        }
    }

    /// SetPortFeature of a USB 2.0 port, §11.24.2.13.
    fn set_feature(&mut self, feature: u16) -> Result<Reply, Stall> {
        let mut reply = Reply::default();
        match feature {
            // §11.24.2.7.1.3: only an enabled port can be suspended.
            F_PORT_SUSPEND => {
                if self.status & PORT_ENABLE != 0 {
                    self.status |= PORT_SUSPEND;
                }
            }
            F_PORT_POWER => self.power_on(),
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

    /// ClearPortFeature of a USB 2.0 port, §11.24.2.2.
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

    /// SetPortFeature of a SuperSpeed port, USB 3.2 §10.16.2.10; `selector` is the high
    /// byte of wIndex.
    fn ss_set_feature(&mut self, feature: u16, selector: u8) -> Result<Reply, Stall> {
        let mut reply = Reply::default();
        match feature {
            F_PORT_POWER => self.power_on(),
            // §10.16.2.10.1: the host moves the link. U3 suspends an enabled port and U0
            // resumes it, completing at once with C_PORT_LINK_STATE (§10.16.2.6.2: set on
            // the U3 to U0 transition); U1 and U2 are taken as asked (no exit latency here);
            // SS.Disabled takes the port off the bus and Rx.Detect puts it back, where an
            // attached device connects again (§10.16.2.6.1).
            F_PORT_LINK_STATE => match selector {
                LINK_U3 if self.status & PORT_ENABLE != 0 => self.set_link_state(LINK_U3),
                LINK_U0 | LINK_U1 | LINK_U2 if self.status & PORT_ENABLE != 0 => {
                    if self.link_state() == LINK_U3 && selector == LINK_U0 {
                        self.change |= C_PORT_LINK_STATE;
                    }
                    self.set_link_state(selector);
                }
                LINK_U0 | LINK_U1 | LINK_U2 | LINK_U3 => {}
                LINK_SS_DISABLED => {
                    self.status &= !(PORT_CONNECTION | PORT_ENABLE);
                    self.set_link_state(LINK_SS_DISABLED);
                }
                LINK_RX_DETECT => {
                    if self.link_state() == LINK_SS_DISABLED {
                        self.set_link_state(LINK_RX_DETECT);
                        if self.plugged {
                            self.connect();
                        }
                    }
                }
                _ => return Err(Stall),
            },
            // §10.16.2.10.5 and .2: a warm or hot reset; either ends with the port enabled in
            // U0 at 5 Gb/s and C_PORT_RESET (and C_BH_PORT_RESET for a warm one) set, at
            // once.
            F_PORT_RESET | F_BH_PORT_RESET => {
                if self.status & PORT_CONNECTION != 0 {
                    self.status = SS_PORT_POWER | PORT_CONNECTION | PORT_ENABLE;
                    self.set_link_state(LINK_U0);
                    self.change |= C_PORT_RESET;
                    if feature == F_BH_PORT_RESET {
                        self.change |= C_BH_PORT_RESET;
                    }
                    reply.reset_device = true;
                }
            }
            // §10.16.2.10.3, .4, .6, .7: the link has no low-power timers, the port no wake
            // events to mask, LPM no requests to force; taken, with nothing to do.
            F_PORT_U1_TIMEOUT
            | F_PORT_U2_TIMEOUT
            | F_PORT_REMOTE_WAKE_MASK
            | F_FORCE_LINKPM_ACCEPT => {}
            // No SUSPEND on a SuperSpeed port (the link state is), change bits cannot be
            // set, no over-current or TEST.
            _ => return Err(Stall),
        }
        Ok(reply)
    }

    /// ClearPortFeature of a SuperSpeed port, USB 3.2 §10.16.2.2.
    fn ss_clear_feature(&mut self, feature: u16) -> Result<Reply, Stall> {
        let bit = match feature {
            // §10.16.2.6.1: power off: every status bit goes.
            F_PORT_POWER => {
                self.status = 0;
                return Ok(Reply::default());
            }
            // §10.16.2.6.2: acknowledge a change.
            F_C_PORT_CONNECTION => C_PORT_CONNECTION,
            F_C_PORT_OVER_CURRENT => 1 << 3,
            F_C_PORT_RESET => C_PORT_RESET,
            F_C_BH_PORT_RESET => C_BH_PORT_RESET,
            F_C_PORT_LINK_STATE => C_PORT_LINK_STATE,
            F_C_PORT_CONFIG_ERROR => 1 << 7,
            // No ENABLE or SUSPEND to clear on a SuperSpeed port (the link state is set).
            _ => return Err(Stall),
        };
        self.change &= !bit;
        Ok(Reply::default())
    }
}
