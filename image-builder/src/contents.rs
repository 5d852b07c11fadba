//! [`Contents`]: the files of an image, its volume id and its timestamp.

use authkey::{UnverifiedToken, VerifyOptions};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::{manifest, BuildError, BuildOptions, ISSUER_FILE, MANIFEST_FILE, TOKEN_FILE};

/// What goes on the volume, derived from [`BuildOptions`] alone.
#[derive(Debug)]
pub(crate) struct Contents {
    /// `(name, bytes)` in the order written: token, issuer key, manifest.
    pub(crate) files: Vec<(&'static str, Vec<u8>)>,
    /// The first four bytes of the manifest's SHA-256.
    pub(crate) volume_id: u32,
    /// Every timestamp on the volume.
    pub(crate) timestamp: OffsetDateTime,
}

impl Contents {
    /// Checks the token (and, with an issuer key, its signature) and lays out the files.
    pub(crate) fn new(options: &BuildOptions) -> Result<Self, BuildError> {
        let token = options.token.trim();
        if token.is_empty() {
            return Err(BuildError::EmptyToken);
        }
        let claims = UnverifiedToken::parse(token)
            .map_err(BuildError::GarbledToken)?
            .claims()
            .clone();
        let mut files = vec![(TOKEN_FILE, format!("{token}\n").into_bytes())];
        if let Some(issuer) = &options.issuer {
            // Checked at the start of validity: only the key matters here.
            authkey::verify(
                token,
                std::slice::from_ref(issuer),
                &VerifyOptions::at(claims.nbf),
            )
            .map_err(BuildError::WrongIssuer)?;
            files.push((ISSUER_FILE, issuer.to_pem().into_bytes()));
        }
        let listed: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (*n, c.as_slice())).collect();
        let manifest = manifest::render(&listed).into_bytes();
        let digest = Sha256::digest(&manifest);
        let volume_id = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        files.push((MANIFEST_FILE, manifest));
        Ok(Self {
            files,
            volume_id,
            timestamp: options.timestamp.unwrap_or(claims.iat),
        })
    }
}
