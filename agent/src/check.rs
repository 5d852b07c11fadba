//! [`check`]: every check in order, from the local configuration to the rollback state.

use std::fmt;
use std::path::Path;

use authkey::{UnverifiedToken, VerifyError, VerifyOptions};
use image_builder::ReadError;
use time::OffsetDateTime;

use crate::discovery::{wait_for_key_disk, DiscoveryError};
use crate::rollback::RollbackState;
use crate::trust::load_trusted_keys;
use crate::verdict::{Accepted, Reason, Refusal};
use crate::vm::read_vm_uuid;
use crate::Config;

/// Checks, in this order: the trusted keys, this VM's UUID and the rollback state can be
/// read (else [`Reason::Config`], before waiting for any disk); the key disk is there and
/// readable; it holds a token; the token verifies (signature, VM, validity period); it
/// is not older than the newest accepted token. Records the accepted token's `iat` when
/// rollback protection is on.
pub fn check(config: &Config) -> Result<Accepted, Refusal> {
    let trusted = load_trusted_keys(&config.trusted_dir).map_err(config_error)?;
    let vm = read_vm_uuid(&config.vm_uuid_file).map_err(config_error)?;
    let mut state = match config.rollback.enabled {
        true => Some(RollbackState::load(&config.rollback.state_file).map_err(config_error)?),
        false => None,
    };

    let disk = wait_for_key_disk(&config.device).map_err(|e| {
        let reason = match e {
            DiscoveryError::NotFound { .. } => Reason::NoDevice,
            DiscoveryError::Unreadable(_) => Reason::UnreadableImage,
        };
        Refusal::new(reason, &e)
    })?;
    let token = disk.volume.into_token().map_err(|e| {
        let reason = match e {
            ReadError::NotFat(_) | ReadError::Io(_) => Reason::UnreadableImage,
            ReadError::NoToken | ReadError::Empty => Reason::NoToken,
            ReadError::TooLarge { .. } | ReadError::NotText => Reason::Malformed,
        };
        let token_file = TokenFile(&disk.path, e);
        Refusal::new(reason, &token_file)
    })?;

    let options = VerifyOptions {
        vm: Some(vm),
        at: OffsetDateTime::now_utc(),
        skew: config.skew(),
    };
    let claims = authkey::verify(&token, &trusted, &options).map_err(|e| {
        let reason = match e {
            VerifyError::Malformed(_) => Reason::Malformed,
            VerifyError::UnknownKey { .. } => Reason::UntrustedKey,
            VerifyError::BadSignature { .. } => Reason::BadSignature,
            VerifyError::WrongVm { .. } => Reason::WrongVm,
            VerifyError::NotYetValid { .. } => Reason::NotYetValid,
            VerifyError::Expired { .. } => Reason::Expired,
        };
        Refusal::new(reason, &e)
    })?;
    // Verified, so it parses; the key id is only for the report.
    let kid = *UnverifiedToken::parse(&token)
        .map_err(|e| Refusal::new(Reason::Malformed, &e))?
        .kid();

    if let Some(state) = &mut state {
        state
            .check(claims.iat)
            .map_err(|e| Refusal::new(Reason::RolledBack, &e))?;
        state.record(claims.iat).map_err(config_error)?;
    }
    Ok(Accepted {
        vm,
        claims,
        kid,
        device: disk.path,
    })
}

fn config_error(error: impl std::error::Error) -> Refusal {
    Refusal::new(Reason::Config, &error)
}

/// A token file that could not be read, and on which disk.
#[derive(Debug)]
struct TokenFile<'a>(&'a Path, ReadError);

impl fmt::Display for TokenFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.display(), self.1)
    }
}

impl std::error::Error for TokenFile<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.1.source()
    }
}
