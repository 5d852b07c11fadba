//! Every single-bit flip of a valid token is rejected (split in two tests so that the
//! harness runs the halves in parallel).

use std::ops::Range;

use crate::fixtures;

/// Flips each bit of the token bytes in `bytes` (clamped to the token) and checks that
/// `verify` rejects every result; returns how many flips were made.
fn flip_each_bit(bytes: Range<usize>) -> usize {
    let token = fixtures::token();
    let trusted = [fixtures::issuer().public_key()];
    let options = fixtures::options();
    authkey::verify(&token, &trusted, &options).expect("the original verifies");
    let mut flips = 0;
    for index in bytes.start.min(token.len())..bytes.end.min(token.len()) {
        for bit in 0..8 {
            let mut flipped = token.clone().into_bytes();
            flipped[index] ^= 1 << bit;
            // A flip that makes invalid UTF-8 cannot even be passed as a token.
            if let Ok(flipped) = String::from_utf8(flipped) {
                assert!(
                    authkey::verify(&flipped, &trusted, &options).is_err(),
                    "flipping bit {bit} of byte {index} was accepted"
                );
            }
            flips += 1;
        }
    }
    flips
}

const HALF: usize = 240;

#[test]
fn every_bit_flip_in_the_first_bytes_is_rejected() {
    assert_eq!(flip_each_bit(0..HALF), HALF * 8);
}

#[test]
fn every_bit_flip_in_the_remaining_bytes_is_rejected() {
    let len = fixtures::token().len();
    assert!(len > HALF);
    assert_eq!(flip_each_bit(HALF..usize::MAX), (len - HALF) * 8);
}
