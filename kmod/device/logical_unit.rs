//! The logical unit: executes parsed SCSI commands against the read-only disk and keeps
//! the SCSI state (sense data, unit attention, medium removal, medium presence).
//!
//! Execution is split in two so the transport can refuse a command without side effects
//! (a BOT phase error): [`LogicalUnit::execute`] only computes the [`Outcome`], and
//! [`LogicalUnit::commit`] applies its state change once the transport runs the command.

use super::block::BlockDevice;
use super::cdb::{opcode, Command};
use super::identity::Identity;
use super::parameter_data;
use super::reply::Reply;
use super::sense::{self, Sense};
use super::sg::{to_u64, to_usize};

/// Source of a data-in stage.
pub(crate) enum InData {
    /// Parameter data, already cut to the allocation length.
    Reply(Reply),
    /// Disk bytes `[offset, offset + len)`, copied straight into the host's buffers.
    Disk { offset: u64, len: u64 },
}

impl InData {
    /// Bytes this source holds.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Self::Reply(r) => to_u64(r.len()),
            Self::Disk { len, .. } => *len,
        }
    }

    /// Keeps only the first `max` bytes.
    pub(crate) fn truncate(&mut self, max: u64) {
        match self {
            Self::Reply(r) => r.truncate(to_usize(max)),
            Self::Disk { len, .. } => *len = (*len).min(max),
        }
    }
}

/// The data stage the command calls for (BOT 1.0 §6.7: Dn, Di, Do).
pub(crate) enum Data {
    /// Dn: no data.
    None,
    /// Di: data to the host.
    In(InData),
    /// Do: that many bytes from the host (only writes, which are then refused).
    Out(u64),
}

/// State change a command makes when it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing beyond the sense data.
    None,
    /// The pending unit attention was reported.
    ClearUnitAttention,
    /// PREVENT ALLOW MEDIUM REMOVAL.
    PreventRemoval(bool),
    /// START STOP UNIT loaded (true) or ejected (false) the medium.
    Medium(bool),
}

/// What a command does: its data stage, its status, its state change.
pub(crate) struct Outcome {
    pub(crate) data: Data,
    /// GOOD, or CHECK CONDITION with this sense data.
    pub(crate) result: Result<(), Sense>,
    pub(crate) change: Change,
}

impl Outcome {
    fn good() -> Self {
        Self {
            data: Data::None,
            result: Ok(()),
            change: Change::None,
        }
    }

    fn fail(sense: Sense) -> Self {
        Self {
            result: Err(sense),
            ..Self::good()
        }
    }

    fn change(change: Change) -> Self {
        Self {
            change,
            ..Self::good()
        }
    }

    /// Parameter data cut to the ALLOCATION LENGTH (SPC-4, ALLOCATION LENGTH field).
    fn reply(mut reply: Reply, allocation: usize) -> Self {
        reply.truncate(allocation);
        Self {
            data: Data::In(InData::Reply(reply)),
            ..Self::good()
        }
    }
}

/// SCSI state of the single logical unit (LUN 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogicalUnit {
    /// Sense data of the last command, reported by REQUEST SENSE (SPC-4, sense data).
    sense: Option<Sense>,
    /// Pending unit attention condition (SAM-5, unit attention conditions).
    unit_attention: Option<Sense>,
    /// PREVENT ALLOW MEDIUM REMOVAL state (SBC-3).
    prevent_removal: bool,
    /// False after an eject (START STOP UNIT, LOEJ 1, START 0).
    medium_loaded: bool,
}

impl LogicalUnit {
    /// Power-on state: no sense, medium loaded.
    pub(crate) const fn new() -> Self {
        Self {
            sense: None,
            unit_attention: None,
            prevent_removal: false,
            medium_loaded: true,
        }
    }

    /// The interface was (re)configured (SET_CONFIGURATION, SET_INTERFACE): like Linux's
    /// f_mass_storage, the unit reports a reset (06h/29h/00h, SAM-5 unit attention) and forgets
    /// sense data and the medium-removal prevention.
    pub(crate) fn configured(&mut self) {
        self.sense = None;
        self.prevent_removal = false;
        self.unit_attention = Some(Sense::RESET_OCCURRED);
    }

    /// Bulk-Only Mass Storage Reset (BOT 1.0 §3.1): the interrupted command's sense data is
    /// dropped; the host's medium-removal prevention and any unit attention stay.
    pub(crate) fn bulk_only_reset(&mut self) {
        self.sense = None;
    }

    /// A disk read failed during the data stage of a READ.
    pub(crate) fn read_failed(&mut self, sense: Sense) {
        self.sense = Some(sense);
    }

    /// Works out what the command does, without doing it.
    pub(crate) fn execute<D: BlockDevice>(
        &self,
        op: u8,
        command: Result<Command, Sense>,
        disk: &D,
        identity: &Identity<'_>,
    ) -> Outcome {
        // SAM-5, unit attention conditions: a pending unit attention fails any command but
        // INQUIRY and REQUEST SENSE, before the CDB is looked at, and is then cleared.
        if let Some(ua) = self.unit_attention {
            if op != opcode::INQUIRY && op != opcode::REQUEST_SENSE {
                return Outcome {
                    change: Change::ClearUnitAttention,
                    ..Outcome::fail(ua)
                };
            }
        }
        let command = match command {
            Ok(command) => command,
            Err(sense) => return Outcome::fail(sense),
        };
        if needs_medium(command) && !self.medium_loaded {
            // NOT READY, MEDIUM NOT PRESENT (02h/3Ah/00h).
            return Outcome::fail(Sense::MEDIUM_NOT_PRESENT);
        }
        match command {
            Command::TestUnitReady => Outcome::good(),
            Command::RequestSense { allocation } => {
                // SPC-4 REQUEST SENSE: report the sense data, which is then cleared (commit
                // stores the command's own, empty, sense). With a unit attention pending
                // and no other sense data, report the unit attention and clear it (SAM-5,
                // unit attention conditions).
                let (reported, change) = match (self.sense, self.unit_attention) {
                    (None, Some(ua)) => (Some(ua), Change::ClearUnitAttention),
                    (sense, _) => (sense, Change::None),
                };
                let mut reply = Reply::new();
                reply.extend(&sense::fixed_format(reported));
                Outcome {
                    change,
                    ..Outcome::reply(reply, usize::from(allocation))
                }
            }
            Command::Inquiry { page, allocation } => Outcome::reply(
                parameter_data::inquiry(page, identity),
                usize::from(allocation),
            ),
            Command::ModeSense { format, allocation } => {
                Outcome::reply(parameter_data::mode_sense(format), usize::from(allocation))
            }
            Command::PreventAllowMediumRemoval { prevent } => {
                Outcome::change(Change::PreventRemoval(prevent))
            }
            Command::StartStopUnit { load_eject, start } => self.start_stop(load_eject, start),
            Command::ReadCapacity10 => {
                Outcome::reply(parameter_data::read_capacity_10(disk), usize::MAX)
            }
            Command::ReadCapacity16 { allocation } => Outcome::reply(
                parameter_data::read_capacity_16(disk),
                to_usize(u64::from(allocation)),
            ),
            Command::ReadFormatCapacities { allocation } => Outcome::reply(
                parameter_data::format_capacities(disk),
                usize::from(allocation),
            ),
            Command::Read { lba, blocks } => match disk_range(disk, lba, blocks) {
                Ok((_, 0)) => Outcome::good(),
                Ok((offset, len)) => Outcome {
                    data: Data::In(InData::Disk { offset, len }),
                    ..Outcome::good()
                },
                Err(sense) => Outcome::fail(sense),
            },
            // The disk is memory: verifying it is checking the range (BYTCHK 0 only).
            Command::Verify { lba, blocks } | Command::SynchronizeCache { lba, blocks } => {
                match disk_range(disk, lba, blocks) {
                    Ok(_) => Outcome::good(),
                    Err(sense) => Outcome::fail(sense),
                }
            }
            Command::Write { blocks } => {
                // The CDB asks for a data-out stage, which the transport runs (and
                // discards); the command then fails: DATA PROTECT, WRITE PROTECTED
                // (SBC-3, write protection). Nothing reaches the disk.
                let len = u64::from(blocks).saturating_mul(u64::from(disk.block_size()));
                Outcome {
                    data: if len == 0 { Data::None } else { Data::Out(len) },
                    ..Outcome::fail(Sense::WRITE_PROTECTED)
                }
            }
            Command::Unsupported(_) => Outcome::fail(Sense::INVALID_COMMAND_OPERATION_CODE),
        }
    }

    /// START STOP UNIT (SBC-3): power conditions are not modelled; LOEJ ejects or
    /// loads the medium.
    fn start_stop(&self, load_eject: bool, start: bool) -> Outcome {
        match (load_eject, start) {
            (false, false) => Outcome::good(),
            (false, true) if self.medium_loaded => Outcome::good(),
            (false, true) => Outcome::fail(Sense::MEDIUM_NOT_PRESENT),
            (true, true) if self.medium_loaded => Outcome::good(),
            (true, true) => Outcome::change(Change::Medium(true)),
            // SBC-3, PREVENT ALLOW MEDIUM REMOVAL: removal prevented.
            (true, false) if self.prevent_removal => Outcome::fail(Sense::MEDIUM_REMOVAL_PREVENTED),
            (true, false) => Outcome::change(Change::Medium(false)),
        }
    }

    /// Applies a command's result and state change: the sense data becomes the command's
    /// (none when it passed, which is how REQUEST SENSE clears it).
    pub(crate) fn commit(&mut self, result: Result<(), Sense>, change: Change) {
        self.sense = result.err();
        match change {
            Change::None => {}
            Change::ClearUnitAttention => self.unit_attention = None,
            Change::PreventRemoval(prevent) => self.prevent_removal = prevent,
            Change::Medium(loaded) => {
                self.medium_loaded = loaded;
                if loaded {
                    // NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED (06h/28h/00h).
                    self.unit_attention = Some(Sense::MEDIUM_MAY_HAVE_CHANGED);
                }
            }
        }
    }
}

/// Whether the command touches the medium (and so fails while it is ejected).
fn needs_medium(command: Command) -> bool {
    !matches!(
        command,
        Command::RequestSense { .. }
            | Command::Inquiry { .. }
            | Command::ModeSense { .. }
            | Command::PreventAllowMediumRemoval { .. }
            | Command::StartStopUnit { .. }
            | Command::Unsupported(_)
    )
}

/// Byte offset and length of `blocks` blocks from `lba`, or LBA OUT OF RANGE when they go
/// past the last block (SBC-3, READ commands).
fn disk_range<D: BlockDevice>(disk: &D, lba: u64, blocks: u32) -> Result<(u64, u64), Sense> {
    let block_size = u64::from(disk.block_size());
    let end = lba.checked_add(u64::from(blocks));
    match end {
        Some(end) if end <= disk.block_count() => {
            let offset = lba.checked_mul(block_size);
            let len = u64::from(blocks).checked_mul(block_size);
            match (offset, len) {
                (Some(offset), Some(len)) => Ok((offset, len)),
                _ => Err(Sense::LBA_OUT_OF_RANGE),
            }
        }
        _ => Err(Sense::LBA_OUT_OF_RANGE),
    }
}
