//! Each [`authkey::VerifyError`] and [`authkey::TokenError`], its order, and the
//! validity-period boundaries.

use std::time::Duration;

use authkey::paseto;
use authkey::{Claims, ClaimsError, ClaimsInput, TokenError, VerifyError, VerifyOptions};
use authkey::{UnverifiedToken, IMPLICIT_ASSERTION};
use time::macros::datetime;

use crate::fixtures::{self, EXP, NBF, OTHER_VM, VM};

fn verify(token: &str, options: &VerifyOptions) -> Result<Claims, VerifyError> {
    authkey::verify(token, &[fixtures::issuer().public_key()], options)
}

fn at(time: time::OffsetDateTime) -> VerifyOptions {
    VerifyOptions {
        vm: Some(VM),
        ..VerifyOptions::at(time)
    }
}

/// Signs raw claims JSON with the issuer key and a correct footer.
fn sign_raw(json: &str) -> String {
    let key = fixtures::issuer();
    let footer = format!(r#"{{"kid":"{}"}}"#, key.public_key().kid());
    paseto::sign(&key, json.as_bytes(), footer.as_bytes(), IMPLICIT_ASSERTION)
}

fn malformed(result: Result<Claims, VerifyError>) -> TokenError {
    match result {
        Err(VerifyError::Malformed(e)) => e,
        other => panic!("expected a malformed token, got {other:?}"),
    }
}

#[test]
fn a_valid_token_verifies_with_several_trusted_keys() {
    let trusted = [
        fixtures::other_issuer().public_key(),
        fixtures::issuer().public_key(),
    ];
    let claims = authkey::verify(&fixtures::token(), &trusted, &fixtures::options());
    assert_eq!(claims.expect("verifies"), fixtures::claims());
}

#[test]
fn unknown_key() {
    let token = fixtures::token();
    let trusted = [fixtures::other_issuer().public_key()];
    assert!(matches!(
        authkey::verify(&token, &trusted, &fixtures::options()),
        Err(VerifyError::UnknownKey { trusted: 1, .. })
    ));
    assert!(matches!(
        authkey::verify(&token, &[], &fixtures::options()),
        Err(VerifyError::UnknownKey { trusted: 0, .. })
    ));
}

#[test]
fn bad_signature() {
    let token = fixtures::token();
    let decoded = paseto::DecodedToken::decode(&token).expect("decodes");
    let mut signature = decoded.signature();
    signature[5] ^= 0x10;
    let forged = format!(
        "{}{}.{}",
        paseto::HEADER,
        base64_url([decoded.message(), &signature].concat()),
        base64_url(decoded.footer().to_vec())
    );
    assert!(matches!(
        verify(&forged, &fixtures::options()),
        Err(VerifyError::BadSignature { .. })
    ));
}

fn base64_url(bytes: Vec<u8>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn wrong_vm_comes_before_time_checks() {
    let options = VerifyOptions {
        vm: Some(OTHER_VM),
        ..VerifyOptions::at(datetime!(2030-01-01 00:00 UTC))
    };
    let err = verify(&fixtures::token(), &options).expect_err("wrong VM");
    assert!(matches!(err, VerifyError::WrongVm { expected, .. } if expected == OTHER_VM));
    let any_vm = VerifyOptions::at(datetime!(2025-01-15 00:00 UTC));
    assert!(
        verify(&fixtures::token(), &any_vm).is_ok(),
        "no VM given: any VM"
    );
}

#[test]
fn validity_boundaries_with_and_without_skew() {
    let token = fixtures::token();
    assert!(verify(&token, &at(NBF)).is_ok(), "valid from nbf");
    assert!(matches!(
        verify(&token, &at(NBF - time::Duration::SECOND)),
        Err(VerifyError::NotYetValid { .. })
    ));
    assert!(verify(&token, &at(EXP - time::Duration::SECOND)).is_ok());
    assert!(
        matches!(verify(&token, &at(EXP)), Err(VerifyError::Expired { .. })),
        "exp is exclusive"
    );
    let skewed = |time, secs| VerifyOptions {
        skew: Duration::from_secs(secs),
        ..at(time)
    };
    let early = NBF - time::Duration::minutes(5);
    assert!(verify(&token, &skewed(early, 300)).is_ok());
    assert!(matches!(
        verify(&token, &skewed(early, 299)),
        Err(VerifyError::NotYetValid { .. })
    ));
    let late = EXP + time::Duration::minutes(5);
    assert!(verify(&token, &skewed(late, 301)).is_ok());
    assert!(matches!(
        verify(&token, &skewed(late, 300)),
        Err(VerifyError::Expired { .. })
    ));
    assert!(
        verify(&token, &skewed(late, u64::MAX)).is_ok(),
        "a huge skew saturates instead of overflowing"
    );
}

/// Whether a [`TokenError`] is the one a case expects.
type IsExpected = fn(&TokenError) -> bool;

#[test]
fn structural_errors() {
    let token = fixtures::token();
    let options = fixtures::options();
    let (body, footer) = token.rsplit_once('.').expect("has a footer");
    let cases: Vec<(String, IsExpected)> = vec![
        (token.replacen("v4.public.", "v4.local.", 1), |e| {
            matches!(e, TokenError::WrongHeader)
        }),
        (token.replacen("v4.public.", "v3.public.", 1), |e| {
            matches!(e, TokenError::WrongHeader)
        }),
        (format!("{token}="), |e| {
            matches!(e, TokenError::Base64("footer"))
        }),
        (format!("{body}.{footer}.x"), |e| {
            matches!(e, TokenError::Base64("footer"))
        }),
        (format!("{body}."), |e| {
            matches!(e, TokenError::EmptyFooterSection)
        }),
        (body.to_owned(), |e| matches!(e, TokenError::MissingFooter)),
        (format!("{}AAAA.{footer}", paseto::HEADER), |e| {
            matches!(e, TokenError::TooShort(3))
        }),
        (format!("{}{}", paseto::HEADER, "A".repeat(9000)), |e| {
            matches!(e, TokenError::TooLong { .. })
        }),
        (format!(" {token}"), |e| {
            matches!(e, TokenError::WrongHeader)
        }),
    ];
    for (bad, expected) in cases {
        let err = malformed(verify(&bad, &options));
        assert!(expected(&err), "{bad:.60}: {err:?}");
        assert!(UnverifiedToken::parse(&bad).is_err());
    }
}

#[test]
fn footer_must_be_exactly_a_key_id() {
    let key = fixtures::issuer();
    let kid = key.public_key().kid().to_string();
    let json = fixtures::claims().to_json().expect("valid");
    for footer in [
        format!(r#"{{"kid":"{}"}}"#, kid.to_uppercase()),
        format!(r#"{{"kid":"{kid}","wpk":"x"}}"#),
        r#"{"kid":"abc"}"#.to_owned(),
        "not json".to_owned(),
        "{}".to_owned(),
    ] {
        let token = paseto::sign(&key, &json, footer.as_bytes(), IMPLICIT_ASSERTION);
        let err = malformed(verify(&token, &fixtures::options()));
        assert!(matches!(err, TokenError::Footer(_)), "{footer}: {err:?}");
    }
}

#[test]
fn signed_but_invalid_claims_are_malformed() {
    let valid = String::from_utf8(fixtures::claims().to_json().expect("valid")).expect("UTF-8");
    let cases = [
        valid.replace("\"jti\"", "\"extra\":1,\"jti\""),
        valid.replace(",\"jti\":\"00112233445566778899aabbccddeeff\"", ""),
        valid.replace("vm:6c3a2b5e", "vm:6C3A2B5E"),
        valid.replace("vm:", "host:"),
        valid.replace("\"vusbkey\"", "\"\""),
        valid.replace("\"vusbkey\"", "\"a\\u001bb\""),
        valid.replace("2025-02-01T00:00:00Z", "2025-01-01T00:00:00Z"),
        valid.replace("2025-02-01T00:00:00Z", "2025-02-01 00:00:00"),
        "[]".to_owned(),
    ];
    for json in cases {
        assert_ne!(json, valid);
        let err = malformed(verify(&sign_raw(&json), &fixtures::options()));
        assert!(matches!(err, TokenError::Claims(_)), "{json}: {err:?}");
    }
    assert!(verify(&sign_raw(&valid), &fixtures::options()).is_ok());
}

#[test]
fn claims_input_rules() {
    let mut input = ClaimsInput::new(VM, Duration::ZERO);
    assert!(matches!(input.to_claims(), Err(ClaimsError::ZeroValidity)));
    input.valid_for = Duration::from_secs(u64::MAX);
    assert!(matches!(
        input.to_claims(),
        Err(ClaimsError::OutOfRange("exp"))
    ));
    input.valid_for = Duration::from_millis(1500);
    input.issued_at = datetime!(2025-01-01 12:00:00.75 +02:00);
    input.not_before = Some(datetime!(2025-06-01 00:00 UTC));
    input.issuer = "ops\nteam".to_owned();
    assert!(matches!(
        input.to_claims(),
        Err(ClaimsError::ControlCharacters("iss"))
    ));
    input.issuer = "ops".to_owned();
    let claims = input.to_claims().expect("valid");
    assert_eq!(
        claims.iat,
        datetime!(2025-01-01 10:00 UTC),
        "UTC, whole seconds"
    );
    assert_eq!(claims.exp, datetime!(2025-06-01 00:00:01 UTC));
    assert_eq!(claims.jti.len(), 32);
    assert_ne!(
        claims.jti,
        input.to_claims().expect("valid").jti,
        "random jti"
    );
}
