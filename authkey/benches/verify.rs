//! Criterion benchmark: verifying one token against two trusted keys, as the agent does.

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use authkey::{sign, verify, ClaimsInput, SecretKey, VerifyOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use uuid::Uuid;

fn token_verify(c: &mut Criterion) {
    let issuer = SecretKey::from_seed(&[7; 32]);
    let other = SecretKey::from_seed(&[9; 32]);
    let vm = Uuid::from_u128(1);
    let claims = ClaimsInput::new(vm, Duration::from_secs(3600))
        .to_claims()
        .expect("claims");
    let token = sign(&issuer, &claims).expect("sign");
    let trusted = [other.public_key(), issuer.public_key()];
    let mut options = VerifyOptions::at(claims.iat);
    options.vm = Some(vm);
    c.bench_function("token_verify", |b| {
        b.iter(|| verify(black_box(&token), &trusted, &options).expect("verifies"))
    });
}

criterion_group!(benches, token_verify);
criterion_main!(benches);
