//! Halt state of the bulk endpoints (USB 2.0 §9.4.5, §9.4.9; BOT 1.0 §6.6.1).

/// The endpoint was halted: the HCD completes the URB with -EPIPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall;

/// One of the two bulk endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bulk {
    In,
    Out,
}

/// Halt state of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Halt {
    /// Not halted.
    Running,
    /// Halted until CLEAR_FEATURE(ENDPOINT_HALT).
    Halted,
    /// Halted after an invalid CBW: CLEAR_FEATURE(ENDPOINT_HALT) is acknowledged but
    /// ignored until a Bulk-Only Mass Storage Reset (BOT 1.0 §6.6.1, Linux's "wedge").
    Wedged,
}

/// Halt state of bulk-IN and bulk-OUT.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoints {
    bulk_in: Halt,
    bulk_out: Halt,
}

impl Endpoints {
    /// Neither endpoint halted: the state after a bus reset, SET_CONFIGURATION or
    /// SET_INTERFACE (USB 2.0 §9.1.1.5).
    pub(crate) const fn new() -> Self {
        Self {
            bulk_in: Halt::Running,
            bulk_out: Halt::Running,
        }
    }

    fn get_mut(&mut self, ep: Bulk) -> &mut Halt {
        match ep {
            Bulk::In => &mut self.bulk_in,
            Bulk::Out => &mut self.bulk_out,
        }
    }

    /// Whether transfers on `ep` stall (GET_STATUS reports bit 0, Halt).
    pub(crate) fn is_halted(&self, ep: Bulk) -> bool {
        let halt = match ep {
            Bulk::In => self.bulk_in,
            Bulk::Out => self.bulk_out,
        };
        halt != Halt::Running
    }

    /// SET_FEATURE(ENDPOINT_HALT), or the device halting bulk-IN (BOT 1.0 §6.7.2).
    pub(crate) fn halt(&mut self, ep: Bulk) {
        let halt = self.get_mut(ep);
        if *halt == Halt::Running {
            *halt = Halt::Halted;
        }
    }

    /// Invalid CBW: stall both pipes until Reset Recovery (BOT 1.0 §6.6.1).
    pub(crate) fn wedge(&mut self) {
        self.bulk_in = Halt::Wedged;
        self.bulk_out = Halt::Wedged;
    }

    /// CLEAR_FEATURE(ENDPOINT_HALT) (USB 2.0 §9.4.1): clears a halt, but not a wedge.
    pub(crate) fn clear_halt(&mut self, ep: Bulk) {
        let halt = self.get_mut(ep);
        if *halt == Halt::Halted {
            *halt = Halt::Running;
        }
    }

    /// Bulk-Only Mass Storage Reset: the wedge goes but the stall stays until the host
    /// clears it (BOT 1.0 §3.1, §5.3.4).
    pub(crate) fn unwedge(&mut self) {
        for ep in [Bulk::In, Bulk::Out] {
            let halt = self.get_mut(ep);
            if *halt == Halt::Wedged {
                *halt = Halt::Halted;
            }
        }
    }
}
