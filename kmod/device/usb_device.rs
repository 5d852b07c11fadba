//! The device as the host controller driver sees it: reset, control transfers and bulk
//! transfers, dispatched to chapter 9, the Bulk-Only Transport and the logical unit.

use super::block::BlockDevice;
use super::bot::{Bot, Context};
use super::chapter9::{Event, State, Usb};
use super::descriptors::INTERFACE_NUMBER;
use super::endpoints::{Endpoints, Stall};
use super::handshake::Handshake;
use super::identity::{Identity, IdentityError};
use super::logical_unit::LogicalUnit;
use super::setup::{self, Request};
use super::sg::copy_prefix;
use super::speed::Speed;

/// A USB mass-storage device (Bulk-Only Transport, SCSI transparent command set) with one
/// read-only logical unit backed by `D`, at high speed or SuperSpeed.
pub struct Device<'a, D: BlockDevice> {
    identity: Identity<'a>,
    disk: D,
    usb: Usb,
    endpoints: Endpoints,
    bot: Bot,
    unit: LogicalUnit,
}

impl<'a, D: BlockDevice> Device<'a, D> {
    /// Validates the identity. The device starts in the Default state, as after a bus
    /// reset, connected at `speed` (which only a new device can change, as a real device
    /// changes speed only by a new connection).
    pub fn new(identity: Identity<'a>, disk: D, speed: Speed) -> Result<Self, IdentityError> {
        identity.validate()?;
        Ok(Self {
            identity,
            disk,
            usb: Usb::new(speed),
            endpoints: Endpoints::new(),
            bot: Bot::new(),
            unit: LogicalUnit::new(),
        })
    }

    /// Bus/port reset: back to the Default state (address 0, unconfigured, halts cleared,
    /// BOT idle, sense cleared, medium loaded and not locked).
    pub fn bus_reset(&mut self) {
        self.usb = Usb::new(self.usb.speed());
        self.endpoints = Endpoints::new();
        self.bot.reset();
        self.unit = LogicalUnit::new();
    }

    /// One whole control transfer on endpoint 0. `setup` is the 8-byte SETUP packet. For an
    /// IN request, `data` is the host's buffer (len = what the URB allows, which may be
    /// < wLength); fill it and return Ok(bytes written). For OUT, `data` holds the host's
    /// data stage; return Ok(bytes consumed). Err(Stall) = protocol stall of ep0 (the next
    /// SETUP clears it).
    pub fn control(&mut self, setup: &[u8; 8], data: &mut [u8]) -> Result<usize, Stall> {
        let request = setup::parse(setup);
        let configured = self.usb.state() == State::Configured;
        match request {
            // BOT 1.0 §3.1: readies the device for the next CBW; stall conditions stay,
            // but an invalid CBW's stall can now be cleared (the rest of Reset Recovery,
            // BOT 1.0 §5.3.4).
            Request::BulkOnlyReset(INTERFACE_NUMBER) if configured => {
                self.bot.reset();
                self.endpoints.unwedge();
                self.unit.bulk_only_reset();
                Ok(0)
            }
            // BOT 1.0 §3.2: one logical unit, LUN 0.
            Request::GetMaxLun(INTERFACE_NUMBER) if configured => Ok(copy_prefix(data, &[0])),
            request => {
                let (n, event) =
                    self.usb
                        .standard(request, &mut self.endpoints, &self.identity, data)?;
                match event {
                    Event::None => {}
                    Event::InterfaceReset => {
                        self.bot.reset();
                        self.unit.configured();
                    }
                    Event::Deconfigured => self.bot.reset(),
                }
                Ok(n)
            }
        }
    }

    /// One whole bulk-OUT transfer (a CBW, or OUT data). Ok(bytes accepted) or Err(Stall)
    /// if the endpoint is halted (or the device is not configured, so has no such
    /// endpoint). A data-out stage may come in any number of transfers of any size.
    pub fn bulk_out(&mut self, data: &[u8]) -> Result<usize, Stall> {
        if self.usb.state() != State::Configured {
            return Err(Stall);
        }
        let cx = Context {
            unit: &mut self.unit,
            endpoints: &mut self.endpoints,
            disk: &self.disk,
            identity: &self.identity,
        };
        self.bot.bulk_out(data, cx)
    }

    /// One whole bulk-IN transfer into the scatter-gather segments `bufs`, filled in order
    /// (the HCD maps a URB's sg list into these slices, or passes one slice); READ data is
    /// copied by [`BlockDevice::read`] straight into them. Ok(n) with n less than the total
    /// length is a short transfer. A data-in stage may be read in any number of transfers.
    ///
    /// If the device must halt bulk-IN after sending what it has (BOT cases 4/5), it
    /// returns Ok(n) and the NEXT bulk_in returns Err(Stall) until
    /// CLEAR_FEATURE(ENDPOINT_HALT) (or, after an invalid CBW, until Reset Recovery). When
    /// it has no data at all for a data-in stage (cases 4 and 8), the halt is already in
    /// place for the first bulk_in. Reading while the device has nothing to send (no
    /// command, or a data-out stage) returns Err(Handshake::Nak) and changes nothing: the
    /// HCD keeps the transfer pending and tries it again after the next transfer.
    pub fn bulk_in(&mut self, bufs: &mut [&mut [u8]]) -> Result<usize, Handshake> {
        if self.usb.state() != State::Configured {
            return Err(Handshake::Stall);
        }
        let cx = Context {
            unit: &mut self.unit,
            endpoints: &mut self.endpoints,
            disk: &self.disk,
            identity: &self.identity,
        };
        self.bot.bulk_in(bufs, cx)
    }

    /// The speed the device is connected at.
    pub fn speed(&self) -> Speed {
        self.usb.speed()
    }

    /// Device address assigned by SET_ADDRESS (0 before).
    pub fn address(&self) -> u8 {
        self.usb.address()
    }

    /// Whether SET_CONFIGURATION(1) is in effect.
    pub fn is_configured(&self) -> bool {
        self.usb.state() == State::Configured
    }
}
