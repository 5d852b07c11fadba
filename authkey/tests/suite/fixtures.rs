//! Fixed keys, VM and times, so that tokens and messages are reproducible.

use authkey::{Claims, SecretKey, VerifyOptions};
use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

/// The VM tokens are bound to.
pub(crate) const VM: Uuid = Uuid::from_u128(0x6c3a2b5e_1b2c_4d5e_8f90_a1b2c3d4e5f6);

/// Another VM.
pub(crate) const OTHER_VM: Uuid = Uuid::from_u128(0x0badc0de_0000_4000_8000_000000000001);

/// Start of validity of [`claims`].
pub(crate) const NBF: OffsetDateTime = datetime!(2025-01-01 00:00 UTC);

/// End of validity of [`claims`].
pub(crate) const EXP: OffsetDateTime = datetime!(2025-02-01 00:00 UTC);

/// The seed of [`issuer`].
pub(crate) const ISSUER_SEED: [u8; 32] = [0x11; 32];

/// The seed of [`other_issuer`].
pub(crate) const OTHER_SEED: [u8; 32] = [0x22; 32];

/// The issuer key.
pub(crate) fn issuer() -> SecretKey {
    SecretKey::from_seed(&ISSUER_SEED)
}

/// A second key, trusted or not depending on the test.
pub(crate) fn other_issuer() -> SecretKey {
    SecretKey::from_seed(&OTHER_SEED)
}

/// Claims for [`VM`], valid from [`NBF`] to [`EXP`], with a fixed `jti`.
pub(crate) fn claims() -> Claims {
    Claims {
        iss: authkey::DEFAULT_ISSUER.to_owned(),
        sub: Claims::subject_for(VM),
        aud: authkey::DEFAULT_AUDIENCE.to_owned(),
        iat: NBF,
        nbf: NBF,
        exp: EXP,
        jti: "00112233445566778899aabbccddeeff".to_owned(),
    }
}

/// [`claims`] signed by [`issuer`].
pub(crate) fn token() -> String {
    authkey::sign(&issuer(), &claims()).expect("fixture claims are valid")
}

/// Checking for [`VM`] in the middle of the validity period.
pub(crate) fn options() -> VerifyOptions {
    VerifyOptions {
        vm: Some(VM),
        ..VerifyOptions::at(datetime!(2025-01-15 12:00 UTC))
    }
}
