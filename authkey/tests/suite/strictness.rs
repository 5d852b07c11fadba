//! Signatures that ed25519-dalek's plain `verify` (and, for mixed-order keys, even
//! `verify_strict`) accepts, and that authkey rejects: small-order keys, non-canonical key
//! encodings, keys with a small-order component, small-order `R`. Plus non-canonical `S`,
//! which every verifier here rejects.

use authkey::{paseto, KeyError, PublicKey, SecretKey, VerifyError, WeakKey, IMPLICIT_ASSERTION};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use sha2::{Digest as _, Sha512};

use crate::fixtures;

/// `k = SHA-512(R ‖ A ‖ M) mod L`, the Ed25519 challenge.
fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let digest: [u8; 64] = Sha512::new()
        .chain_update(r)
        .chain_update(a)
        .chain_update(message)
        .finalize()
        .into();
    Scalar::from_bytes_mod_order_wide(&digest)
}

fn plain_verify(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(key)
        .and_then(|k| k.verify(message, &Signature::from_bytes(signature)))
        .is_ok()
}

fn signature(r: &[u8; 32], s: &Scalar) -> [u8; 64] {
    let mut sig = [0; 64];
    sig[..32].copy_from_slice(r);
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

#[test]
fn identity_key_signs_everything_for_plain_verify_but_is_rejected() {
    let identity = EdwardsPoint::default().compress().to_bytes();
    let forged = signature(&identity, &Scalar::ZERO);
    for message in [&b"any message"[..], b"another one"] {
        assert!(
            plain_verify(&identity, message, &forged),
            "plain verify accepts"
        );
    }
    assert!(matches!(
        PublicKey::from_bytes(&identity),
        Err(KeyError::Weak(WeakKey::SmallOrder))
    ));
}

#[test]
fn every_small_order_key_is_rejected_and_one_forges_for_plain_verify() {
    for point in EIGHT_TORSION {
        assert!(matches!(
            PublicKey::from_bytes(&point.compress().to_bytes()),
            Err(KeyError::Weak(WeakKey::SmallOrder))
        ));
    }
    // Under a key A of order 8, with s = 0, plain verify accepts R whenever R = -[k]A:
    // try the small-order R values over a few messages.
    let key = EIGHT_TORSION[1].compress().to_bytes();
    let forged = (0u8..=255).any(|message| {
        EIGHT_TORSION.iter().any(|r| {
            let sig = signature(&r.compress().to_bytes(), &Scalar::ZERO);
            plain_verify(&key, &[message], &sig)
        })
    });
    assert!(forged, "a forgery under an order-8 key passes plain verify");
}

#[test]
fn non_canonical_key_encodings_are_rejected() {
    // "Negative zero": the identity with the sign bit set; plain verify accepts the
    // trivial forgery under it.
    let mut negative_zero = [0; 32];
    negative_zero[0] = 1;
    negative_zero[31] = 0x80;
    let identity_r = EdwardsPoint::default().compress().to_bytes();
    assert!(plain_verify(
        &negative_zero,
        b"m",
        &signature(&identity_r, &Scalar::ZERO)
    ));
    assert!(PublicKey::from_bytes(&negative_zero).is_err());

    // y = p + d for small d: non-canonical encodings of points, whatever their order.
    let mut decodable = 0;
    for d in 0u8..19 {
        for sign in [0, 0x80] {
            let mut bytes = [0xff; 32];
            bytes[0] = 0xed + d; // p = 2^255 - 19 = 0x7fff..ffed
            bytes[31] = 0x7f | sign;
            if CompressedEdwardsY(bytes).decompress().is_some() {
                decodable += 1;
                assert!(
                    matches!(
                        PublicKey::from_bytes(&bytes),
                        Err(KeyError::Weak(WeakKey::NonCanonical | WeakKey::SmallOrder))
                    ),
                    "y = p + {d}, sign {sign:#x}"
                );
            }
        }
    }
    assert!(decodable > 2, "some non-canonical encodings decode");
}

#[test]
fn mixed_order_key_forges_for_verify_strict_but_is_rejected() {
    // A = aB + T, T of order 8: when 8 divides k, [s]B - [k]A = R for s = r + k a.
    let a = Scalar::from_bytes_mod_order([0x42; 32]);
    let key_point = ED25519_BASEPOINT_POINT * a + EIGHT_TORSION[1];
    let key = key_point.compress().to_bytes();
    let (message, sig) = (0u64..)
        .find_map(|i| {
            let r = Scalar::from_bytes_mod_order_wide(&Sha512::digest(i.to_le_bytes()).into());
            let r_bytes = (ED25519_BASEPOINT_POINT * r).compress().to_bytes();
            let message = format!("message {i}").into_bytes();
            let k = challenge(&r_bytes, &key, &message);
            k.as_bytes()[0]
                .is_multiple_of(8)
                .then(|| (message, signature(&r_bytes, &(r + k * a))))
        })
        .expect("one k in eight is a multiple of 8");
    let dalek = VerifyingKey::from_bytes(&key).expect("decodes");
    assert!(
        !dalek.is_weak(),
        "not small-order, so dalek's weak-key check passes it"
    );
    assert!(dalek.verify(&message, &Signature::from_bytes(&sig)).is_ok());
    assert!(dalek
        .verify_strict(&message, &Signature::from_bytes(&sig))
        .is_ok());
    assert!(matches!(
        PublicKey::from_bytes(&key),
        Err(KeyError::Weak(WeakKey::MixedOrder))
    ));
}

#[test]
fn small_order_r_token_passes_plain_verify_but_not_ours() {
    // With R = identity and s = k a, [s]B - [k]A = identity = R: a "signature" that
    // commits to no nonce. Plain verify accepts it; verify_strict does not.
    let seed = fixtures::ISSUER_SEED;
    let a = ed25519_dalek::SigningKey::from_bytes(&seed).to_scalar();
    let key = SecretKey::from_seed(&seed).public_key();
    let message = fixtures::claims().to_json().expect("valid");
    let footer = format!(r#"{{"kid":"{}"}}"#, key.kid()).into_bytes();
    let signed = paseto::pae(&[
        paseto::HEADER.as_bytes(),
        &message,
        &footer,
        IMPLICIT_ASSERTION,
    ]);
    let identity = EdwardsPoint::default().compress().to_bytes();
    let k = challenge(&identity, &key.to_bytes(), &signed);
    let sig = signature(&identity, &(k * a));
    assert!(
        plain_verify(&key.to_bytes(), &signed, &sig),
        "plain verify accepts"
    );
    assert!(key.verify_signature(&signed, &sig).is_err());
    let token = format!(
        "{}{}.{}",
        paseto::HEADER,
        URL_SAFE_NO_PAD.encode([message.as_slice(), &sig].concat()),
        URL_SAFE_NO_PAD.encode(&footer)
    );
    assert!(matches!(
        authkey::verify(&token, &[key], &fixtures::options()),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn non_canonical_s_is_rejected() {
    // s + L verifies the same equation; a malleable verifier would accept it.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let token = fixtures::token();
    let decoded = paseto::DecodedToken::decode(&token).expect("decodes");
    let mut sig = decoded.signature();
    let mut carry = 0u16;
    for (byte, l) in sig[32..].iter_mut().zip(L) {
        carry += u16::from(*byte) + u16::from(l);
        *byte = carry as u8;
        carry >>= 8;
    }
    let key = fixtures::issuer().public_key();
    let signed = decoded.signed_bytes(IMPLICIT_ASSERTION);
    assert!(key.verify_signature(&signed, &decoded.signature()).is_ok());
    assert!(key.verify_signature(&signed, &sig).is_err());
}
