//! `authkey`: Ed25519 keys, PASETO v4.public tokens and their strict verification for vusbkey.
//!
//! A token says "VM `<uuid>` may run between `nbf` and `exp`", signed by an issuer key.
//! The image builder puts it on the virtual USB key; the guest agent verifies it.
//!
//! # Token format
//! A [PASETO v4.public] token is `v4.public.<payload>.<footer>`, where the payload is
//! base64url(claims JSON ‖ Ed25519 signature) and the footer base64url(footer JSON). The signature covers the pre-authentication encoding
//! (PAE) of the header, the claims, the footer and the *implicit assertion*
//! [`IMPLICIT_ASSERTION`] (`vusbkey-token-v1`): a PASETO token made for another purpose,
//! even with the same key, never verifies as a vusbkey token, and vice versa.
//!
//! - Claims (see [`Claims`]): `iss`, `sub` = `vm:<uuid, lowercase>`, `aud`, `iat`, `nbf`,
//!   `exp` (RFC 3339 strings), `jti` (128 random bits, hex). Unknown claims are rejected.
//! - Footer: exactly `{"kid":"<hex>"}`, where the key id ([`KeyId`]) is the SHA-256 of the
//!   issuer public key's SubjectPublicKeyInfo DER, i.e. of what
//!   `openssl pkey -pubin -in pub.pem -outform DER | sha256sum` hashes.
//!
//! # Keys
//! Private keys are PKCS#8 **v1** PEM (`BEGIN PRIVATE KEY`, what OpenSSL writes and what
//! OpenSSL 3.0 can read), written with mode 0600; public keys are SPKI PEM.
//!
//! # Strictness
//! [`verify`] takes no algorithm from the token, picks the trusted key by `kid`, checks
//! the signature with `verify_strict` (canonical `S`, no small-order `R` or key), and
//! [`PublicKey`] refuses keys that are not canonical encodings of points in the
//! prime-order subgroup. Every failure is a distinct [`VerifyError`] variant.
//!
//! # Contents
//! - [`SecretKey`], [`PublicKey`], [`KeyId`], [`KeyError`], [`WeakKey`]: keys and PEM files.
//! - [`Claims`], [`ClaimsInput`], [`ClaimsError`]: what a token says, and how to make it.
//! - [`sign`], [`SignError`]: issue a token.
//! - [`UnverifiedToken`], [`TokenError`]: read a token without trusting it (inspection).
//! - [`verify`], [`VerifyOptions`], [`VerifyError`]: the only way to trust a token.
//! - [`paseto`]: the PASETO v4.public primitive itself, with an explicit implicit assertion.
//!
//! [PASETO v4.public]: https://github.com/paseto-standard/paseto-spec/blob/master/docs/01-Protocol-Versions/Version4.md

mod claims;
mod claims_error;
mod claims_input;
mod footer;
mod key_error;
mod key_id;
pub mod paseto;
mod pem_file;
mod public_key;
mod rfc3339;
mod secret_key;
mod sign;
mod token_error;
mod unverified;
mod verify;

pub use claims::Claims;
pub use claims_error::ClaimsError;
pub use claims_input::ClaimsInput;
pub use key_error::{KeyError, WeakKey};
pub use key_id::{KeyId, KeyIdSyntax};
pub use public_key::PublicKey;
pub use secret_key::SecretKey;
pub use sign::{sign, SignError};
pub use token_error::TokenError;
pub use unverified::UnverifiedToken;
pub use verify::{verify, VerifyError, VerifyOptions};

/// The PASETO implicit assertion of every vusbkey token: authenticated, never transmitted.
pub const IMPLICIT_ASSERTION: &[u8] = b"vusbkey-token-v1";

/// The `iss` claim when none is given.
pub const DEFAULT_ISSUER: &str = "vusbkey";

/// The `aud` claim when none is given: the guest agent.
pub const DEFAULT_AUDIENCE: &str = "vusbkey-agent";
