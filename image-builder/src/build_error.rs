//! [`BuildError`]: why an image could not be built.

use authkey::{TokenError, VerifyError};

/// Why an image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The token is empty.
    #[error("the token is empty")]
    EmptyToken,
    /// The token is not a well-formed vusbkey token.
    #[error("the token is garbled")]
    GarbledToken(#[source] TokenError),
    /// The token does not verify under the issuer key given.
    #[error("the token is not signed by the issuer key given")]
    WrongIssuer(#[source] VerifyError),
    /// The requested size is not a whole number of 512-byte sectors.
    #[error("an image size is a multiple of 512 bytes; {size} is not")]
    PartialSector {
        /// The size asked for.
        size: u64,
    },
    /// The requested size cannot hold the files.
    #[error(
        "an image of {size} bytes is too small: the minimum for these files is {minimum} bytes"
    )]
    TooSmall {
        /// The size asked for.
        size: u64,
        /// The smallest that works.
        minimum: u64,
    },
    /// The requested size is above [`crate::MAX_SIZE`].
    #[error("an image of {size} bytes is too large: the maximum is {max} bytes")]
    TooLarge {
        /// The size asked for.
        size: u64,
        /// [`crate::MAX_SIZE`].
        max: u64,
    },
    /// No FAT layout fits this size.
    #[error("cannot make a FAT volume of {size} bytes")]
    NoLayout {
        /// The size asked for.
        size: u64,
        /// What `fatfs` said for the last layout tried.
        #[source]
        source: std::io::Error,
    },
}
