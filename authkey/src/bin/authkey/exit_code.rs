//! Exit codes: one per way of failing, so that scripts can tell them apart.

/// Exit codes other than 0 (success) and 2 (usage errors, reported by clap); the table
/// is `exit_codes.txt`, shown in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    Other = 1,
    Unreadable = 3,
    Malformed = 4,
    UnknownKey = 5,
    BadSignature = 6,
    WrongVm = 7,
    NotYetValid = 8,
    Expired = 9,
}

/// An error and the exit code it maps to.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: Code,
    pub(crate) error: anyhow::Error,
}

/// Attaching an exit code to an error.
pub(crate) trait WithCode<T> {
    /// Maps the error to a [`Failure`] with `code`.
    fn code(self, code: Code) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> WithCode<T> for Result<T, E> {
    fn code(self, code: Code) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            code,
            error: e.into(),
        })
    }
}
