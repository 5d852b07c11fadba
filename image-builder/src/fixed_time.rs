//! The one timestamp of a build, given to `fatfs` instead of the clock.
//!
//! `fatfs` asks a `&'static` [`TimeProvider`] for the time whenever it creates or writes
//! a file. [`FIXED_TIME`] answers with the time set by [`with_time`] on this thread (the
//! DOS epoch outside it), so builds on different threads do not interfere.

use std::cell::Cell;

use fatfs::{Date, DateTime, Time, TimeProvider};
use time::{OffsetDateTime, UtcOffset};

thread_local! {
    static NOW: Cell<Option<DateTime>> = const { Cell::new(None) };
}

/// The provider to put in `fatfs::FsOptions`.
pub(crate) static FIXED_TIME: FixedTime = FixedTime;

/// A [`TimeProvider`] reading the time set by [`with_time`].
#[derive(Debug)]
pub(crate) struct FixedTime;

impl TimeProvider for FixedTime {
    fn get_current_date(&self) -> Date {
        self.get_current_date_time().date
    }

    fn get_current_date_time(&self) -> DateTime {
        NOW.with(Cell::get).unwrap_or(DOS_EPOCH)
    }
}

const DOS_EPOCH: DateTime = DateTime {
    date: Date {
        year: 1980,
        month: 1,
        day: 1,
    },
    time: Time {
        hour: 0,
        min: 0,
        sec: 0,
        millis: 0,
    },
};

/// Runs `f` with [`FIXED_TIME`] answering `time` on this thread.
pub(crate) fn with_time<R>(time: OffsetDateTime, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<DateTime>);
    impl Drop for Reset {
        fn drop(&mut self) {
            NOW.with(|now| now.set(self.0));
        }
    }
    let _reset = Reset(NOW.with(|now| now.replace(Some(dos_time(time)))));
    f()
}

/// The last FAT timestamp.
const DOS_END: DateTime = DateTime {
    date: Date {
        year: 2107,
        month: 12,
        day: 31,
    },
    time: Time {
        hour: 23,
        min: 59,
        sec: 58,
        millis: 0,
    },
};

/// `time` in UTC as a FAT timestamp, clamped to 1980-01-01 .. 2107-12-31, whole seconds
/// (FAT stores modification times in units of two seconds).
pub(crate) fn dos_time(time: OffsetDateTime) -> DateTime {
    let Some(utc) = time.checked_to_offset(UtcOffset::UTC) else {
        return if time.year() < 1980 {
            DOS_EPOCH
        } else {
            DOS_END
        };
    };
    if utc.year() < 1980 {
        return DOS_EPOCH;
    }
    if utc.year() > 2107 {
        return DOS_END;
    }
    DateTime {
        date: Date {
            year: utc.year() as u16,
            month: u8::from(utc.month()).into(),
            day: utc.day().into(),
        },
        time: Time {
            hour: utc.hour().into(),
            min: utc.minute().into(),
            sec: utc.second().into(),
            millis: 0,
        },
    }
}
