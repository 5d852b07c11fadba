//! Criterion benchmark: building a 1 MiB key image.

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use authkey::{sign, ClaimsInput, SecretKey};
use criterion::{criterion_group, criterion_main, Criterion};
use image_builder::{build, BuildOptions};
use uuid::Uuid;

fn image_build_1mib(c: &mut Criterion) {
    let issuer = SecretKey::from_seed(&[7; 32]);
    let claims = ClaimsInput::new(Uuid::from_u128(1), Duration::from_secs(3600))
        .to_claims()
        .expect("claims");
    let mut options = BuildOptions::new(sign(&issuer, &claims).expect("sign"));
    options.issuer = Some(issuer.public_key());
    options.size = Some(1 << 20);
    c.bench_function("image_build_1mib", |b| {
        b.iter(|| build(black_box(&options)).expect("builds"))
    });
}

criterion_group!(benches, image_build_1mib);
criterion_main!(benches);
