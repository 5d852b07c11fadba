//! The authkey test suite, one binary: official vectors, interoperability (pasetors,
//! OpenSSL), Ed25519 strictness, tampering, properties, and the CLI's messages.

mod bit_flips;
mod cli;
mod ed25519_vectors;
mod fixtures;
mod keys;
mod openssl_interop;
mod paseto_vectors;
mod pasetors_interop;
mod properties;
mod strictness;
mod verify_errors;
