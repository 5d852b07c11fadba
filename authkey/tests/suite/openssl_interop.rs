//! Interoperability with the real `openssl` binary: key files both ways, and Ed25519
//! signatures over the PASETO pre-authentication encoding both ways.

use std::path::Path;
use std::process::{Command, Output};

use authkey::paseto::{self, DecodedToken};
use authkey::{PublicKey, SecretKey, IMPLICIT_ASSERTION};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;

use crate::fixtures;

fn openssl(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl binary runs");
    output
}

fn openssl_ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = openssl(dir, args);
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn openssl_loads_our_key_files() {
    let dir = TempDir::new().expect("temp dir");
    let key = fixtures::issuer();
    key.save_pem_file(&dir.path().join("sk.pem"), false)
        .expect("saves");
    key.public_key()
        .save_pem_file(&dir.path().join("pk.pem"), false)
        .expect("saves");
    let derived = openssl_ok(dir.path(), &["pkey", "-in", "sk.pem", "-pubout"]);
    assert_eq!(derived, key.public_key().to_pem().as_bytes());
    let reencoded = openssl_ok(dir.path(), &["pkey", "-in", "sk.pem"]);
    assert_eq!(reencoded, key.to_pem().expect("encodes").as_bytes());
    let text = openssl_ok(dir.path(), &["pkey", "-pubin", "-in", "pk.pem", "-text"]);
    assert!(String::from_utf8_lossy(&text).contains("ED25519 Public-Key"));
    let der = openssl_ok(
        dir.path(),
        &["pkey", "-pubin", "-in", "pk.pem", "-outform", "DER"],
    );
    assert_eq!(
        key.public_key().kid().as_bytes().as_slice(),
        Sha256::digest(&der).as_slice(),
        "kid = SHA-256 of the SPKI DER as OpenSSL writes it"
    );
}

#[test]
fn we_load_openssl_generated_keys() {
    let dir = TempDir::new().expect("temp dir");
    openssl_ok(
        dir.path(),
        &["genpkey", "-algorithm", "ed25519", "-out", "sk.pem"],
    );
    openssl_ok(
        dir.path(),
        &["pkey", "-in", "sk.pem", "-pubout", "-out", "pk.pem"],
    );
    let secret = SecretKey::load_pem_file(&dir.path().join("sk.pem")).expect("loads");
    let public = PublicKey::load_pem_file(&dir.path().join("pk.pem")).expect("loads");
    assert_eq!(secret.public_key(), public);
    let openssl_pem = std::fs::read_to_string(dir.path().join("sk.pem")).expect("reads");
    assert_eq!(
        *secret.to_pem().expect("encodes"),
        openssl_pem,
        "same PKCS#8 v1 bytes"
    );
}

#[test]
fn openssl_verifies_our_signature_over_the_pae() {
    let dir = TempDir::new().expect("temp dir");
    let key = fixtures::issuer();
    key.public_key()
        .save_pem_file(&dir.path().join("pk.pem"), false)
        .expect("saves");
    let decoded = DecodedToken::decode(&fixtures::token()).expect("decodes");
    let signed = decoded.signed_bytes(IMPLICIT_ASSERTION);
    std::fs::write(dir.path().join("m2.bin"), &signed).expect("writes");
    std::fs::write(dir.path().join("sig.bin"), decoded.signature()).expect("writes");
    let verify = [
        "pkeyutl", "-verify", "-pubin", "-inkey", "pk.pem", "-rawin", "-in", "m2.bin", "-sigfile",
        "sig.bin",
    ];
    let out = openssl_ok(dir.path(), &verify);
    assert!(String::from_utf8_lossy(&out).contains("Signature Verified Successfully"));

    let mut tampered = signed;
    tampered[20] ^= 1;
    std::fs::write(dir.path().join("m2.bin"), &tampered).expect("writes");
    assert!(!openssl(dir.path(), &verify).status.success());
}

#[test]
fn we_verify_a_token_openssl_signed() {
    let dir = TempDir::new().expect("temp dir");
    openssl_ok(
        dir.path(),
        &["genpkey", "-algorithm", "ed25519", "-out", "sk.pem"],
    );
    openssl_ok(
        dir.path(),
        &["pkey", "-in", "sk.pem", "-pubout", "-out", "pk.pem"],
    );
    let public = PublicKey::load_pem_file(&dir.path().join("pk.pem")).expect("loads");
    let message = fixtures::claims().to_json().expect("valid");
    let footer = format!(r#"{{"kid":"{}"}}"#, public.kid()).into_bytes();
    let signed = paseto::pae(&[
        paseto::HEADER.as_bytes(),
        &message,
        &footer,
        IMPLICIT_ASSERTION,
    ]);
    std::fs::write(dir.path().join("m2.bin"), signed).expect("writes");
    openssl_ok(
        dir.path(),
        &[
            "pkeyutl", "-sign", "-inkey", "sk.pem", "-rawin", "-in", "m2.bin", "-out", "sig.bin",
        ],
    );
    let signature = std::fs::read(dir.path().join("sig.bin")).expect("reads");
    assert_eq!(signature.len(), 64);
    let token = format!(
        "{}{}.{}",
        paseto::HEADER,
        URL_SAFE_NO_PAD.encode([message.as_slice(), &signature].concat()),
        URL_SAFE_NO_PAD.encode(&footer)
    );
    let claims = authkey::verify(&token, &[public], &fixtures::options()).expect("verifies");
    assert_eq!(claims, fixtures::claims());
}
