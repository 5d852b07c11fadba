//! Key files: PKCS#8 v1 and SPKI PEM, file modes, no silent overwrite, key ids.

use std::os::unix::fs::PermissionsExt as _;

use authkey::{KeyError, PublicKey, SecretKey};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use tempfile::TempDir;

use crate::fixtures;

#[test]
fn secret_key_pem_is_pkcs8_v1() {
    let pem = fixtures::issuer().to_pem().expect("encodes");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert_eq!(der.len(), 48, "no embedded public key");
    assert_eq!(&der[2..5], &[0x02, 0x01, 0x00], "version 0 = v1");
}

#[test]
fn v2_secret_keys_load_and_must_match() {
    let dalek = ed25519_dalek::SigningKey::from_bytes(&fixtures::ISSUER_SEED);
    let v2 = dalek.to_pkcs8_pem(LineEnding::LF).expect("encodes");
    let loaded = SecretKey::from_pem(&v2).expect("v2 loads");
    assert_eq!(loaded.public_key(), fixtures::issuer().public_key());
    let mismatched = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: fixtures::ISSUER_SEED,
        public_key: Some(ed25519_dalek::pkcs8::PublicKeyBytes(
            fixtures::other_issuer().public_key().to_bytes(),
        )),
    }
    .to_pkcs8_pem(LineEnding::LF)
    .expect("encodes");
    assert!(SecretKey::from_pem(&mismatched).is_err());
}

#[test]
fn public_key_pem_matches_the_pkcs8_crate() {
    let public = fixtures::issuer().public_key();
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(&public.to_bytes()).expect("valid");
    let reference = dalek.to_public_key_pem(LineEnding::LF).expect("encodes");
    assert_eq!(public.to_pem(), reference);
    assert_eq!(PublicKey::from_pem(&reference).expect("parses"), public);
}

#[test]
fn files_have_exact_modes_and_are_not_overwritten() {
    let dir = TempDir::new().expect("temp dir");
    let (secret_path, public_path) = (dir.path().join("sk.pem"), dir.path().join("pk.pem"));
    let key = fixtures::issuer();
    key.save_pem_file(&secret_path, false).expect("saves");
    key.public_key()
        .save_pem_file(&public_path, false)
        .expect("saves");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&secret_path), 0o600);
    assert_eq!(mode(&public_path), 0o644);

    let other = fixtures::other_issuer();
    assert!(matches!(
        other.save_pem_file(&secret_path, false),
        Err(KeyError::Exists { .. })
    ));
    assert!(matches!(
        other.public_key().save_pem_file(&public_path, false),
        Err(KeyError::Exists { .. })
    ));
    let still = SecretKey::load_pem_file(&secret_path).expect("loads");
    assert_eq!(still.public_key(), key.public_key(), "unchanged");

    std::fs::set_permissions(&secret_path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    other.save_pem_file(&secret_path, true).expect("forced");
    assert_eq!(mode(&secret_path), 0o600, "a replaced key file is 0600 too");
    let replaced = SecretKey::load_pem_file(&secret_path).expect("loads");
    assert_eq!(replaced.public_key(), other.public_key());
}

#[test]
fn unusable_key_files_say_which_file_and_why() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("garbage.pem");
    std::fs::write(&path, "hello").expect("writes");
    let err = PublicKey::load_pem_file(&path).expect_err("garbage");
    assert!(matches!(err, KeyError::InFile { .. }));
    let secret_path = dir.path().join("sk.pem");
    fixtures::issuer()
        .save_pem_file(&secret_path, false)
        .expect("saves");
    assert!(
        PublicKey::load_pem_file(&secret_path).is_err(),
        "a private key is not a public key"
    );
    assert!(matches!(
        SecretKey::load_pem_file(&dir.path().join("missing.pem")),
        Err(KeyError::Read { .. })
    ));
}

#[test]
fn key_ids_differ_and_debug_hides_secrets() {
    let (a, b) = (fixtures::issuer(), fixtures::other_issuer());
    assert_ne!(a.public_key().kid(), b.public_key().kid());
    let shown = format!("{a:?}");
    assert_eq!(shown, format!("SecretKey(kid {})", a.public_key().kid()));
    assert_eq!(a.public_key().kid().to_string().len(), 64);
    let parsed: authkey::KeyId = a.public_key().kid().to_string().parse().expect("parses");
    assert_eq!(parsed, a.public_key().kid());
}
