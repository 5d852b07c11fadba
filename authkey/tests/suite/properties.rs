//! Property tests: PAE, token encoding and decoding, claims round trips, and no panic on
//! arbitrary input.

use std::time::Duration;

use authkey::paseto::{self, DecodedToken};
use authkey::{ClaimsInput, UnverifiedToken, VerifyOptions};
use proptest::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::fixtures;

/// Splits a PAE back into its pieces, or `None` if it is not one.
fn unpae(mut bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let next_u64 = |bytes: &mut &[u8]| -> Option<usize> {
        let (head, rest) = bytes.split_first_chunk::<8>()?;
        *bytes = rest;
        usize::try_from(u64::from_le_bytes(*head)).ok()
    };
    let count = next_u64(&mut bytes)?;
    let mut pieces = Vec::new();
    for _ in 0..count {
        let len = next_u64(&mut bytes)?;
        let (piece, rest) = bytes.split_at_checked(len)?;
        pieces.push(piece.to_vec());
        bytes = rest;
    }
    bytes.is_empty().then_some(pieces)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pae_is_invertible(pieces in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..6)) {
        let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(unpae(&paseto::pae(&refs)), Some(pieces));
    }

    #[test]
    fn tokens_round_trip(
        message in prop::collection::vec(any::<u8>(), 0..300),
        footer in prop::collection::vec(any::<u8>(), 0..100),
        implicit in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let key = fixtures::issuer();
        let token = paseto::sign(&key, &message, &footer, &implicit);
        let decoded = DecodedToken::decode(&token).expect("our own token decodes");
        prop_assert_eq!(decoded.message(), message.as_slice());
        prop_assert_eq!(decoded.footer(), footer.as_slice());
        prop_assert!(decoded.verify(&key.public_key(), &implicit).is_ok());
        prop_assert!(decoded.verify(&fixtures::other_issuer().public_key(), &implicit).is_err());
        let mut other = implicit.clone();
        other.push(0);
        prop_assert!(decoded.verify(&key.public_key(), &other).is_err());
    }

    #[test]
    fn claims_round_trip(
        vm in any::<u128>(),
        issuer in "[ -~]{1,40}",
        audience in "[ -~]{1,40}",
        issued in 0i64..200_000_000_000,
        valid_secs in 1u64..100_000_000,
    ) {
        let input = ClaimsInput {
            vm: Uuid::from_u128(vm),
            valid_for: Duration::from_secs(valid_secs),
            not_before: None,
            issued_at: OffsetDateTime::from_unix_timestamp(issued).expect("in range"),
            issuer,
            audience,
        };
        let claims = input.to_claims().expect("valid input");
        prop_assert_eq!(claims.vm_uuid(), Some(input.vm));
        let token = authkey::sign(&fixtures::issuer(), &claims).expect("signs");
        let parsed = UnverifiedToken::parse(&token).expect("parses");
        prop_assert_eq!(parsed.claims(), &claims);
        let options = VerifyOptions { vm: Some(input.vm), ..VerifyOptions::at(claims.nbf) };
        let verified = authkey::verify(&token, &[fixtures::issuer().public_key()], &options);
        prop_assert_eq!(verified.expect("verifies"), claims);
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}", suffix in "[A-Za-z0-9_.=-]{0,200}") {
        let trusted = [fixtures::issuer().public_key()];
        for candidate in [text.clone(), format!("{}{suffix}", paseto::HEADER)] {
            let _ = DecodedToken::decode(&candidate);
            let _ = UnverifiedToken::parse(&candidate);
            prop_assert!(authkey::verify(&candidate, &trusted, &fixtures::options()).is_err());
        }
    }
}
