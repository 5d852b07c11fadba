//! The official PASETO v4 test vectors (paseto-standard/test-vectors `v4.json`, vendored
//! as `tests/data/paseto-v4.json`): every v4.public vector, and every vector that must fail.

use authkey::paseto::{self, DecodedToken};
use authkey::{PublicKey, SecretKey};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let text = include_str!("../data/paseto-v4.json");
    let json: Value = serde_json::from_str(text).expect("vector file is JSON");
    json["tests"].as_array().expect("tests array").clone()
}

fn hex32(value: &Value) -> [u8; 32] {
    let mut out = [0; 32];
    hex::decode_to_slice(value.as_str().expect("hex string"), &mut out).expect("32 hex bytes");
    out
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

#[test]
fn v4_public_vectors_sign_and_verify_exactly() {
    let mut checked = 0;
    for v in vectors()
        .iter()
        .filter(|v| v["expect-fail"] == false && text(&v["token"]).starts_with("v4.public."))
    {
        let name = text(&v["name"]);
        let secret = SecretKey::from_seed(&hex32(&v["secret-key-seed"]));
        let public = PublicKey::from_bytes(&hex32(&v["public-key"])).expect(name);
        assert_eq!(
            secret.public_key(),
            public,
            "{name}: seed gives the public key"
        );
        let from_pem = SecretKey::from_pem(text(&v["secret-key-pem"])).expect(name);
        assert_eq!(from_pem.public_key(), public, "{name}: secret PEM");
        let public_pem = PublicKey::from_pem(text(&v["public-key-pem"])).expect(name);
        assert_eq!(public_pem, public, "{name}: public PEM");
        assert_eq!(
            public.to_pem().trim(),
            text(&v["public-key-pem"]).trim(),
            "{name}"
        );

        let (payload, footer, implicit) = (
            text(&v["payload"]).as_bytes(),
            text(&v["footer"]).as_bytes(),
            text(&v["implicit-assertion"]).as_bytes(),
        );
        let token = paseto::sign(&secret, payload, footer, implicit);
        assert_eq!(
            token,
            text(&v["token"]),
            "{name}: our token is the vector's"
        );

        let decoded = DecodedToken::decode(&token).expect(name);
        assert_eq!(decoded.message(), payload, "{name}");
        assert_eq!(decoded.footer(), footer, "{name}");
        decoded.verify(&public, implicit).expect(name);
        assert!(
            decoded.verify(&public, b"another assertion").is_err(),
            "{name}: the implicit assertion is authenticated"
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "4-S-1, 4-S-2, 4-S-3");
}

#[test]
fn expect_fail_vectors_are_rejected() {
    let mut checked = 0;
    for v in vectors().iter().filter(|v| v["expect-fail"] == true) {
        let name = text(&v["name"]);
        // 4-F-1 gives a public key for a local token; the others give a local
        // (symmetric) key, which must not work as a public key either.
        let key_hex = if v["public-key"].is_string() {
            &v["public-key"]
        } else {
            &v["key"]
        };
        let implicit = text(&v["implicit-assertion"]).as_bytes();
        let accepted = match (
            PublicKey::from_bytes(&hex32(key_hex)),
            DecodedToken::decode(text(&v["token"])),
        ) {
            (Ok(key), Ok(decoded)) => decoded.verify(&key, implicit).is_ok(),
            _ => false,
        };
        assert!(!accepted, "{name} must fail");
        checked += 1;
    }
    assert_eq!(checked, 5, "4-F-1 .. 4-F-5");
}

#[test]
fn local_tokens_are_refused_by_header() {
    for v in vectors()
        .iter()
        .filter(|v| text(&v["token"]).starts_with("v4.local."))
    {
        assert!(matches!(
            DecodedToken::decode(text(&v["token"])),
            Err(authkey::TokenError::WrongHeader)
        ));
    }
}
