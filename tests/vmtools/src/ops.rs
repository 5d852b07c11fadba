//! The hostile host's vocabulary: one [`Op`] per thing a VM can do to the device through
//! usbdevfs. Generating them (`generate`) is kept apart from carrying them out (`execute`).

use std::fmt;

use crate::bot::Cbw;
use crate::usbfs::Setup;

/// An endpoint, named by role so that a plan does not depend on the device's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The Bulk-Only interface's bulk-IN endpoint.
    BulkIn,
    /// The Bulk-Only interface's bulk-OUT endpoint.
    BulkOut,
    /// Any other address (the kernel refuses most before they reach the device).
    Raw(u8),
}

/// The data stage a host attempts after a CBW, whatever the CBW announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataStage {
    /// Straight to the status stage.
    None,
    /// Reads this many bytes from bulk-IN.
    In(u32),
    /// Writes this many bytes to bulk-OUT.
    Out(u32),
}

/// What cuts a command short while its data URBs are in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interruption {
    /// DISCARDURB of every data URB.
    Unlink,
    /// USBDEVFS_RESET (a port reset) with the URBs queued.
    PortReset,
    /// Bulk-Only Mass Storage Reset on the control pipe.
    MassStorageReset,
    /// CLEAR_HALT of bulk-IN.
    ClearHalt,
}

/// One action of the hostile host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// USBDEVFS_CONTROL; `data` is sent for OUT requests (its length is `wLength`).
    Control {
        /// The SETUP packet.
        setup: Setup,
        /// OUT data.
        data: Vec<u8>,
        /// Milliseconds.
        timeout_ms: u32,
    },
    /// A control URB (SUBMITURB, any `wLength`), unlinked after `unlink_after_us` if given.
    ControlUrb {
        /// The SETUP packet.
        setup: Setup,
        /// Microseconds before DISCARDURB.
        unlink_after_us: Option<u32>,
    },
    /// USBDEVFS_BULK of `len` bytes (OUT data may start with a valid-looking CBW).
    Bulk {
        /// Where.
        ep: Endpoint,
        /// Bytes.
        len: u32,
        /// Milliseconds.
        timeout_ms: u32,
        /// OUT data begins with a CBW signature.
        cbw_prefix: bool,
    },
    /// A CBW of `wire_len` bytes (31 is valid), a data stage, and a status read of
    /// `status_len` bytes (13 is valid; 0 skips it). A stalled stage is cleared when
    /// `clear_stalls`, as usb-storage does.
    Command {
        /// The wrapper, malformed or not.
        cbw: Cbw,
        /// Bytes of it sent (zero-padded past 31).
        wire_len: u32,
        /// What the host then does.
        data: DataStage,
        /// Bytes read for the CSW.
        status_len: u32,
        /// CLEAR_HALT after a stall.
        clear_stalls: bool,
    },
    /// Several bulk URBs at once, waited for `wait_ms`, the rest unlinked.
    Urbs {
        /// Endpoint and length of each.
        urbs: Vec<(Endpoint, u32)>,
        /// Milliseconds.
        wait_ms: u32,
    },
    /// A large READ whose data URBs are interrupted `after_us` into the transfer.
    Interrupted {
        /// The (valid) READ command.
        cbw: Cbw,
        /// IN URBs queued for its data.
        urbs: u8,
        /// Bytes each.
        urb_len: u32,
        /// Microseconds before the interruption.
        after_us: u32,
        /// What interrupts it.
        by: Interruption,
    },
    /// USBDEVFS_CLEAR_HALT.
    ClearHalt(Endpoint),
    /// USBDEVFS_RESETEP.
    ResetEp(Endpoint),
    /// USBDEVFS_SETINTERFACE.
    SetInterface {
        /// Interface number.
        interface: u32,
        /// Alternate setting.
        alt: u32,
    },
    /// USBDEVFS_SETCONFIGURATION (-1: unconfigured).
    SetConfiguration(i32),
    /// USBDEVFS_CLAIMINTERFACE.
    Claim(u32),
    /// USBDEVFS_RELEASEINTERFACE.
    Release(u32),
    /// USBDEVFS_RESET.
    PortReset,
    /// A proper Reset Recovery: Bulk-Only Mass Storage Reset, CLEAR_HALT IN, CLEAR_HALT OUT.
    ResetRecovery,
    /// Gives the interface back to usb-storage (CONNECT) and takes it away again
    /// (DISCONNECT) `after_ms` later, in the middle of its probing.
    DriverBounce {
        /// Milliseconds usb-storage gets.
        after_ms: u32,
    },
}

impl Op {
    /// Whether the op takes the interface away from this descriptor (it is claimed again
    /// before the next op that needs it).
    pub fn drops_claim(&self) -> bool {
        matches!(
            self,
            Op::SetConfiguration(_)
                | Op::Release(_)
                | Op::PortReset
                | Op::DriverBounce { .. }
                | Op::Interrupted {
                    by: Interruption::PortReset,
                    ..
                }
        )
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::BulkIn => write!(f, "in"),
            Endpoint::BulkOut => write!(f, "out"),
            Endpoint::Raw(a) => write!(f, "ep{a:#04x}"),
        }
    }
}

/// The CBW in one line: signature, tag, length, flags, LUN, CB length and CB.
struct ShowCbw<'a>(&'a Cbw);

impl fmt::Display for ShowCbw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        write!(
            f,
            "sig={:08x} tag={:08x} len={} flags={:02x} lun={:02x} cblen={} cb=",
            c.signature, c.tag, c.data_len, c.flags, c.lun, c.cb_len
        )?;
        c.cb.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let setup = |f: &mut fmt::Formatter<'_>, s: &Setup| {
            write!(
                f,
                "{:02x} {:02x} v={:04x} i={:04x} l={}",
                s.request_type, s.request, s.value, s.index, s.length
            )
        };
        match self {
            Op::Control {
                setup: s,
                timeout_ms,
                ..
            } => {
                write!(f, "control ")?;
                setup(f, s)?;
                write!(f, " timeout={timeout_ms}ms")
            }
            Op::ControlUrb {
                setup: s,
                unlink_after_us,
            } => {
                write!(f, "control-urb ")?;
                setup(f, s)?;
                write!(f, " unlink={unlink_after_us:?}us")
            }
            Op::Bulk {
                ep,
                len,
                timeout_ms,
                cbw_prefix,
            } => write!(
                f,
                "bulk {ep} len={len} timeout={timeout_ms}ms cbw-prefix={cbw_prefix}"
            ),
            Op::Command {
                cbw,
                wire_len,
                data,
                status_len,
                clear_stalls,
            } => write!(
                f,
                "command {} wire={wire_len} data={data:?} status={status_len} clear={clear_stalls}",
                ShowCbw(cbw)
            ),
            Op::Urbs { urbs, wait_ms } => {
                write!(f, "urbs wait={wait_ms}ms")?;
                urbs.iter()
                    .try_for_each(|(ep, len)| write!(f, " {ep}:{len}"))
            }
            Op::Interrupted {
                cbw,
                urbs,
                urb_len,
                after_us,
                by,
            } => write!(
                f,
                "interrupted {} urbs={urbs}x{urb_len} after={after_us}us by={by:?}",
                ShowCbw(cbw)
            ),
            Op::ClearHalt(ep) => write!(f, "clear-halt {ep}"),
            Op::ResetEp(ep) => write!(f, "reset-ep {ep}"),
            Op::SetInterface { interface, alt } => write!(f, "set-interface {interface} alt={alt}"),
            Op::SetConfiguration(c) => write!(f, "set-configuration {c}"),
            Op::Claim(i) => write!(f, "claim {i}"),
            Op::Release(i) => write!(f, "release {i}"),
            Op::PortReset => write!(f, "port-reset"),
            Op::ResetRecovery => write!(f, "reset-recovery"),
            Op::DriverBounce { after_ms } => write!(f, "driver-bounce after={after_ms}ms"),
        }
    }
}
