//! The standard device requests (USB 2.0 chapter 9, USB 3.2 chapter 9): device state
//! (Default, Address, Configured), descriptors, configuration, interface, endpoint halts.

use super::descriptors::{
    self, BULK_IN_ENDPOINT, BULK_OUT_ENDPOINT, CONFIGURATION_VALUE, DT_BOS, DT_CONFIGURATION,
    DT_DEVICE, DT_DEVICE_QUALIFIER, DT_OTHER_SPEED_CONFIGURATION, DT_STRING, INTERFACE_NUMBER,
    LANGUAGE_US_ENGLISH,
};
use super::endpoints::{Bulk, Endpoints, Stall};
use super::identity::Identity;
use super::setup::{Recipient, Request, SET_SEL_LENGTH};
use super::sg::copy_prefix;
use super::speed::Speed;

/// Device state as far as the host can see it (USB 2.0 §9.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// After a bus reset: address 0.
    Default,
    /// Address assigned, not configured.
    Address,
    /// SET_CONFIGURATION(1) in effect.
    Configured,
}

/// USB device state: address and configuration, at the speed of the connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usb {
    speed: Speed,
    address: u8,
    configured: bool,
}

/// What a standard request did beyond its reply, for the rest of the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// Nothing.
    None,
    /// The interface was set up afresh (SET_CONFIGURATION(1), SET_INTERFACE): endpoint
    /// state was reset (USB 2.0 §9.1.1.5) and the transport must be too.
    InterfaceReset,
    /// SET_CONFIGURATION(0): back to the Address state; the interface is gone.
    Deconfigured,
}

/// The endpoint an address names, if this device has it.
enum Endpoint {
    Control,
    Bulk(Bulk),
}

fn endpoint(address: u8) -> Option<Endpoint> {
    match address {
        0x00 | 0x80 => Some(Endpoint::Control),
        BULK_IN_ENDPOINT => Some(Endpoint::Bulk(Bulk::In)),
        BULK_OUT_ENDPOINT => Some(Endpoint::Bulk(Bulk::Out)),
        _ => None,
    }
}

impl Usb {
    /// The Default state (USB 2.0 §9.1.1.3) of a device connected at `speed`.
    pub(crate) const fn new(speed: Speed) -> Self {
        Self {
            speed,
            address: 0,
            configured: false,
        }
    }

    /// The speed of the connection.
    pub(crate) fn speed(&self) -> Speed {
        self.speed
    }

    /// Address assigned by SET_ADDRESS.
    pub(crate) fn address(&self) -> u8 {
        self.address
    }

    /// Current state.
    pub(crate) fn state(&self) -> State {
        match (self.address, self.configured) {
            (_, true) => State::Configured,
            (0, false) => State::Default,
            (_, false) => State::Address,
        }
    }

    /// Carries out a standard request. `data` is the host's data stage buffer; for IN
    /// requests the reply is written to it, cut to wLength and to its length (USB 2.0
    /// §9.3.5). Requests not allowed in the current state stall (USB 2.0 §9.4: "the
    /// behavior is not specified", answered with a Request Error).
    pub(crate) fn standard(
        &mut self,
        request: Request,
        endpoints: &mut Endpoints,
        identity: &Identity<'_>,
        data: &mut [u8],
    ) -> Result<(usize, Event), Stall> {
        let state = self.state();
        let reply = |bytes: &[u8], data: &mut [u8]| Ok((copy_prefix(data, bytes), Event::None));
        match request {
            Request::GetDescriptor {
                descriptor_type,
                index,
                language,
                length,
            } => {
                let limit = usize::from(length).min(data.len());
                let out = data.get_mut(..limit).ok_or(Stall)?;
                let n = descriptor(identity, self.speed, descriptor_type, index, language, out)?;
                Ok((n, Event::None))
            }
            Request::SetAddress(address) => {
                // USB 2.0 §9.4.6: not specified in the Configured state.
                if state == State::Configured {
                    return Err(Stall);
                }
                self.address = address;
                Ok((0, Event::None))
            }
            // USB 3.2 §9.4.11: valid in every state, SuperSpeed only.
            Request::SetIsochDelay if self.speed == Speed::Super => Ok((0, Event::None)),
            _ if state == State::Default => Err(Stall),
            // USB 3.2 §9.4.12: the exit latencies matter only to link power management,
            // which this device does not offer; the data stage is taken whole.
            Request::SetSel if self.speed == Speed::Super => {
                let consumed = usize::from(SET_SEL_LENGTH);
                if data.len() < consumed {
                    return Err(Stall);
                }
                Ok((consumed, Event::None))
            }
            Request::GetStatus(recipient) => {
                // USB 2.0 §9.4.5, Figures 9-4 to 9-6: bus powered, no remote wakeup;
                // interface status reserved (zero); endpoint status bit 0 is Halt.
                let halted = match recipient {
                    Recipient::Device => false,
                    Recipient::Interface(i) if state == State::Configured => {
                        if i != INTERFACE_NUMBER {
                            return Err(Stall);
                        }
                        false
                    }
                    Recipient::Endpoint(ep) => match (endpoint(ep), state) {
                        (Some(Endpoint::Control), _) => false,
                        (Some(Endpoint::Bulk(ep)), State::Configured) => endpoints.is_halted(ep),
                        _ => return Err(Stall),
                    },
                    Recipient::Interface(_) => return Err(Stall),
                };
                reply(&[u8::from(halted), 0], data)
            }
            Request::ClearHalt(ep) | Request::SetHalt(ep) => {
                // Only the bulk endpoints have a halt feature; halting the default
                // control pipe is "neither necessary nor recommended" (USB 2.0 §8.5.3.4).
                let Some(Endpoint::Bulk(ep)) = endpoint(ep) else {
                    return Err(Stall);
                };
                if state != State::Configured {
                    return Err(Stall);
                }
                if matches!(request, Request::SetHalt(_)) {
                    endpoints.halt(ep);
                } else {
                    endpoints.clear_halt(ep);
                }
                Ok((0, Event::None))
            }
            Request::GetConfiguration => {
                let value = if self.configured {
                    CONFIGURATION_VALUE
                } else {
                    0
                };
                reply(&[value], data)
            }
            Request::SetConfiguration(0) => {
                self.configured = false;
                *endpoints = Endpoints::new();
                Ok((0, Event::Deconfigured))
            }
            Request::SetConfiguration(CONFIGURATION_VALUE) => {
                self.configured = true;
                *endpoints = Endpoints::new();
                Ok((0, Event::InterfaceReset))
            }
            Request::GetInterface(INTERFACE_NUMBER) if state == State::Configured => {
                reply(&[0], data)
            }
            Request::SetInterface {
                interface: INTERFACE_NUMBER,
                alternate: 0,
            } if state == State::Configured => {
                *endpoints = Endpoints::new();
                Ok((0, Event::InterfaceReset))
            }
            Request::SetConfiguration(_)
            | Request::GetInterface(_)
            | Request::SetInterface { .. }
            | Request::BulkOnlyReset(_)
            | Request::GetMaxLun(_)
            | Request::SetSel
            | Request::SetIsochDelay
            | Request::Unsupported => Err(Stall),
        }
    }
}

/// Writes the descriptor the host asked for (USB 2.0 §9.4.3) into `out`.
fn descriptor(
    identity: &Identity<'_>,
    speed: Speed,
    descriptor_type: u8,
    index: u8,
    language: u16,
    out: &mut [u8],
) -> Result<usize, Stall> {
    match (descriptor_type, index, speed) {
        (DT_DEVICE, 0, _) => Ok(copy_prefix(out, &descriptors::device(identity, speed))),
        (DT_CONFIGURATION | DT_OTHER_SPEED_CONFIGURATION, 0, Speed::High) => Ok(copy_prefix(
            out,
            &descriptors::configuration(descriptor_type),
        )),
        (DT_DEVICE_QUALIFIER, 0, Speed::High) => {
            Ok(copy_prefix(out, &descriptors::device_qualifier()))
        }
        (DT_CONFIGURATION, 0, Speed::Super) => {
            Ok(copy_prefix(out, &descriptors::super_speed_configuration()))
        }
        (DT_BOS, 0, Speed::Super) => Ok(copy_prefix(out, &descriptors::bos())),
        (DT_STRING, 0, _) => Ok(copy_prefix(out, &descriptors::languages())),
        // USB 2.0 §9.6.7: the string in one of the languages of string descriptor 0.
        (DT_STRING, index, _) if language == LANGUAGE_US_ENGLISH => {
            match identity.usb_string(index) {
                Some(s) => Ok(descriptors::write_string(s, out)),
                None => Err(Stall),
            }
        }
        // Interface and endpoint descriptors only come with the configuration; no BOS at
        // high speed (bcdUSB 0200h); at SuperSpeed no device qualifier or other-speed
        // configuration (USB 3.2 §9.4.3: they describe high-speed operation).
        _ => Err(Stall),
    }
}
