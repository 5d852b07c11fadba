//! The Bulk-Only Transport state machine (BOT 1.0 §5.3, §6): CBW, data stage, CSW, over
//! whole bulk transfers of any size, and the thirteen host/device cases of §6.7.

use super::block::{BlockDevice, ReadError};
use super::cbw::{self, Csw, CswStatus, HostExpects};
use super::cdb::{self, CdbError};
use super::endpoints::{Bulk, Endpoints, Stall};
use super::handshake::Handshake;
use super::identity::Identity;
use super::logical_unit::{Data, InData, LogicalUnit, Outcome};
use super::sense::Sense;
use super::sg::{self, copy_prefix, to_usize};

/// Where the transport is between CBW and CSW.
enum Phase {
    /// Waiting for a CBW: after a CSW, a reset or an invalid CBW.
    Idle,
    /// Sending `source` from byte `sent`; `csw` carries the tag and final status, and its
    /// residue counts down the bytes the host still expects.
    DataIn { source: InData, sent: u64, csw: Csw },
    /// Receiving (and discarding: nothing is ever written) `left` more bytes; `csw` is
    /// the status that follows.
    DataOut { left: u32, csw: Csw },
    /// The CSW is ready for the next bulk-IN transfer.
    Status(Csw),
}

/// Everything the transport works on besides its own state.
pub(crate) struct Context<'c, 'a, D: BlockDevice> {
    pub(crate) unit: &'c mut LogicalUnit,
    pub(crate) endpoints: &'c mut Endpoints,
    pub(crate) disk: &'c D,
    pub(crate) identity: &'c Identity<'a>,
}

/// BOT state.
pub(crate) struct Bot {
    phase: Phase,
}

impl Bot {
    /// Ready for a CBW.
    pub(crate) const fn new() -> Self {
        Self { phase: Phase::Idle }
    }

    /// Bulk-Only Mass Storage Reset, SET_CONFIGURATION, SET_INTERFACE, bus reset: ready
    /// for the next CBW (BOT 1.0 §3.1); a pending data stage or CSW is dropped.
    pub(crate) fn reset(&mut self) {
        self.phase = Phase::Idle;
    }

    /// One bulk-OUT transfer: a CBW, or (part of) a data-out stage.
    pub(crate) fn bulk_out<D: BlockDevice>(
        &mut self,
        data: &[u8],
        cx: Context<'_, '_, D>,
    ) -> Result<usize, Stall> {
        if cx.endpoints.is_halted(Bulk::Out) {
            return Err(Stall);
        }
        match &mut self.phase {
            Phase::Idle => self.command(data, cx),
            Phase::DataOut { left, csw } => {
                // The bytes are accepted and thrown away (BOT 1.0 §6.7.3: the device may
                // accept the data): writes are refused, so no command uses them.
                let taken = to_usize(u64::from(*left)).min(data.len());
                let rest = data.get(taken..).unwrap_or(&[]);
                *left = left.saturating_sub(u32::try_from(taken).unwrap_or(u32::MAX));
                if *left == 0 {
                    self.phase = Phase::Status(*csw);
                    if !rest.is_empty() {
                        // More than dCBWDataTransferLength: what follows is host data
                        // arriving before the CSW went out, so it is not a valid CBW.
                        self.invalid_cbw(cx.endpoints);
                    }
                }
            }
            // A CBW not sent after a CSW is not valid (BOT 1.0 §6.2.1).
            Phase::DataIn { .. } | Phase::Status(_) => self.invalid_cbw(cx.endpoints),
        }
        Ok(data.len())
    }

    /// BOT 1.0 §6.6.1: stall bulk-IN and bulk-OUT until Reset Recovery.
    fn invalid_cbw(&mut self, endpoints: &mut Endpoints) {
        endpoints.wedge();
        self.phase = Phase::Idle;
    }

    /// A transfer received while waiting for a CBW.
    fn command<D: BlockDevice>(&mut self, bytes: &[u8], cx: Context<'_, '_, D>) {
        let Ok(cbw) = cbw::parse(bytes) else {
            self.invalid_cbw(cx.endpoints);
            return;
        };
        let cdb = cbw.cdb();
        let opcode = cdb.first().copied().unwrap_or_default();
        let parsed = match cdb::parse(cdb) {
            Ok(command) => Ok(command),
            Err(CdbError::InvalidField) => Err(Sense::INVALID_FIELD_IN_CDB),
            Err(CdbError::SavingParametersNotSupported) => {
                Err(Sense::SAVING_PARAMETERS_NOT_SUPPORTED)
            }
            Err(CdbError::TooShort) => {
                self.phase = unknown_data_stage(cbw.tag, cbw.host, cx.endpoints);
                return;
            }
        };
        let outcome = cx.unit.execute(opcode, parsed, cx.disk, cx.identity);
        self.phase = start(cbw.tag, cbw.host, outcome, cx.unit, cx.endpoints);
    }

    /// One bulk-IN transfer into `bufs`: (part of) a data-in stage, or the CSW.
    pub(crate) fn bulk_in<D: BlockDevice>(
        &mut self,
        bufs: &mut [&mut [u8]],
        cx: Context<'_, '_, D>,
    ) -> Result<usize, Handshake> {
        // A halted endpoint answers every IN token with STALL (USB 2.0 §8.4.5).
        if cx.endpoints.is_halted(Bulk::In) {
            return Err(Handshake::Stall);
        }
        match &mut self.phase {
            // The host reads while the device has nothing to send: NAK, state unchanged
            // (USB 2.0 §8.5.1); the data or CSW goes out once a CBW has produced it.
            Phase::Idle | Phase::DataOut { .. } => Err(Handshake::Nak),
            Phase::Status(csw) => {
                // The CSW is one 13-byte packet; a buffer shorter than that gets the start
                // of it and the rest is lost, as with a packet too large for the host. A
                // zero-length transfer leaves it for the next one.
                let bytes = csw.to_bytes();
                let mut written = 0usize;
                for seg in bufs.iter_mut() {
                    let n = copy_prefix(seg, bytes.get(written..).unwrap_or(&[]));
                    written = written.saturating_add(n);
                }
                if written > 0 {
                    self.phase = Phase::Idle;
                }
                Ok(written)
            }
            Phase::DataIn { source, sent, csw } => {
                let want = source.len().saturating_sub(*sent);
                let start = *sent;
                // A failed read reports the disk offset of the piece it was for.
                let (n, result): (u64, Result<(), u64>) = match source {
                    InData::Reply(reply) => sg::fill(bufs, want, |done, dst| {
                        let from = to_usize(start.saturating_add(done));
                        copy_prefix(dst, reply.as_bytes().get(from..).unwrap_or(&[]));
                        Ok(())
                    }),
                    InData::Disk { offset, .. } => {
                        let base = offset.saturating_add(start);
                        sg::fill(bufs, want, |done, dst| {
                            let at = base.saturating_add(done);
                            cx.disk.read(at, dst).map_err(|ReadError| at)
                        })
                    }
                };
                *sent = sent.saturating_add(n);
                csw.residue = csw
                    .residue
                    .saturating_sub(u32::try_from(n).unwrap_or(u32::MAX));
                if let Err(offset) = result {
                    // The rest of the data cannot be sent: fail the command with the
                    // block that could not be read (SBC-3, READ: UNRECOVERED READ ERROR),
                    // end the data stage early and stall (BOT 1.0 §6.7.2, as case 5).
                    let lba = offset
                        .checked_div(u64::from(cx.disk.block_size()))
                        .unwrap_or_default();
                    cx.unit.read_failed(Sense::unrecovered_read_error(lba));
                    csw.status = CswStatus::Failed;
                    cx.endpoints.halt(Bulk::In);
                    self.phase = Phase::Status(*csw);
                } else if *sent >= source.len() {
                    // All data sent. If the host expected more (cases 4, 5), end the data
                    // stage with a stall; the residue says how much was missing
                    // (BOT 1.0 §6.7.2).
                    if csw.residue > 0 {
                        cx.endpoints.halt(Bulk::In);
                    }
                    self.phase = Phase::Status(*csw);
                }
                Ok(to_usize(n))
            }
        }
    }
}

/// The CDB was too short to know its data stage: phase error (BOT 1.0 §6.7), nothing run.
fn unknown_data_stage(tag: u32, host: HostExpects, endpoints: &mut Endpoints) -> Phase {
    let phase_error = |residue| Csw {
        tag,
        residue,
        status: CswStatus::PhaseError,
    };
    match host {
        HostExpects::Nothing => Phase::Status(phase_error(0)),
        HostExpects::In(h) => {
            endpoints.halt(Bulk::In);
            Phase::Status(phase_error(h))
        }
        HostExpects::Out(h) => Phase::DataOut {
            left: h,
            csw: phase_error(h),
        },
    }
}

/// Matches what the host expects with what the command does (BOT 1.0 §6.7, the thirteen
/// cases) and starts the data stage. The command runs (its state change is committed)
/// unless the two disagree on direction, or the host expects less than the device
/// would receive, or no data while the device has some: those are phase errors, after
/// which the host does Reset Recovery. Residues count bytes not processed: data-out bytes
/// are never processed (writes are refused), so a data-out residue is the full length.
fn start(
    tag: u32,
    host: HostExpects,
    outcome: Outcome,
    unit: &mut LogicalUnit,
    endpoints: &mut Endpoints,
) -> Phase {
    let Outcome {
        data,
        result,
        change,
    } = outcome;
    let status = if result.is_ok() {
        CswStatus::Passed
    } else {
        CswStatus::Failed
    };
    let csw = |residue, status| Csw {
        tag,
        residue,
        status,
    };
    let data = match data {
        Data::In(source) if source.len() == 0 => Data::None,
        Data::Out(0) => Data::None,
        data => data,
    };
    match (host, data) {
        // Case 1, Hn = Dn.
        (HostExpects::Nothing, Data::None) => {
            unit.commit(result, change);
            Phase::Status(csw(0, status))
        }
        // Cases 2 (Hn < Di) and 3 (Hn < Do): phase error.
        (HostExpects::Nothing, Data::In(_) | Data::Out(_)) => {
            Phase::Status(csw(0, CswStatus::PhaseError))
        }
        // Case 4, Hi > Dn: no data, stall bulk-IN, residue = Hi (BOT 1.0 §6.7.2).
        (HostExpects::In(h), Data::None) => {
            unit.commit(result, change);
            endpoints.halt(Bulk::In);
            Phase::Status(csw(h, status))
        }
        // Cases 5 (Hi > Di), 6 (Hi = Di), 7 (Hi < Di: send Hi bytes, then phase error).
        (HostExpects::In(h), Data::In(mut source)) => {
            unit.commit(result, change);
            let status = if source.len() > u64::from(h) {
                source.truncate(u64::from(h));
                CswStatus::PhaseError
            } else {
                status
            };
            Phase::DataIn {
                source,
                sent: 0,
                csw: csw(h, status),
            }
        }
        // Case 8, Hi <> Do: stall bulk-IN, phase error.
        (HostExpects::In(h), Data::Out(_)) => {
            endpoints.halt(Bulk::In);
            Phase::Status(csw(h, CswStatus::PhaseError))
        }
        // Case 9, Ho > Dn: accept and discard the data (BOT 1.0 §6.7.3).
        (HostExpects::Out(h), Data::None) => {
            unit.commit(result, change);
            Phase::DataOut {
                left: h,
                csw: csw(h, status),
            }
        }
        // Case 10, Ho <> Di: accept and discard, phase error.
        (HostExpects::Out(h), Data::In(_)) => Phase::DataOut {
            left: h,
            csw: csw(h, CswStatus::PhaseError),
        },
        // Cases 11 (Ho > Do) and 12 (Ho = Do).
        (HostExpects::Out(h), Data::Out(d)) if d <= u64::from(h) => {
            unit.commit(result, change);
            Phase::DataOut {
                left: h,
                csw: csw(h, status),
            }
        }
        // Case 13, Ho < Do: accept what comes, phase error.
        (HostExpects::Out(h), Data::Out(_)) => Phase::DataOut {
            left: h,
            csw: csw(h, CswStatus::PhaseError),
        },
    }
}
