//! Cross-verification with an independent PASETO implementation, `pasetors` (which signs
//! with `ed25519-compact`), in both directions.

use authkey::paseto::{self, DecodedToken};
use authkey::{SecretKey, VerifyError, IMPLICIT_ASSERTION};
use pasetors::claims::{Claims as PasetorsClaims, ClaimsValidationRules};
use pasetors::keys::{AsymmetricPublicKey, AsymmetricSecretKey};
use pasetors::token::UntrustedToken;
use pasetors::version4::{PublicToken, V4};
use pasetors::Public;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::fixtures::{self, VM};

fn pasetors_keys(seed: [u8; 32]) -> (AsymmetricSecretKey<V4>, AsymmetricPublicKey<V4>) {
    let public = SecretKey::from_seed(&seed).public_key().to_bytes();
    let secret = AsymmetricSecretKey::<V4>::from(&[seed, public].concat())
        .expect("pasetors secret key: seed and public key");
    let public = AsymmetricPublicKey::<V4>::from(&public).expect("pasetors public key");
    (secret, public)
}

#[test]
fn pasetors_verifies_our_tokens() {
    let key = fixtures::issuer();
    let (_, public) = pasetors_keys(fixtures::ISSUER_SEED);
    let token = fixtures::token();
    let untrusted = UntrustedToken::<Public, V4>::try_from(&token).expect("pasetors parses it");
    let footer = format!(r#"{{"kid":"{}"}}"#, key.public_key().kid());
    let trusted = PublicToken::verify(
        &public,
        &untrusted,
        Some(footer.as_bytes()),
        Some(IMPLICIT_ASSERTION),
    )
    .expect("pasetors verifies our token");
    assert_eq!(
        trusted.payload().as_bytes(),
        fixtures::claims().to_json().expect("valid")
    );
    assert!(
        PublicToken::verify(&public, &untrusted, None, None).is_err(),
        "without our implicit assertion the token does not verify"
    );
}

#[test]
fn pasetors_validates_our_claims_format() {
    let key = fixtures::issuer();
    let (_, public) = pasetors_keys(fixtures::ISSUER_SEED);
    let input = authkey::ClaimsInput::new(VM, std::time::Duration::from_secs(3600));
    let claims = input.to_claims().expect("valid");
    let token = authkey::sign(&key, &claims).expect("signs");
    let untrusted = UntrustedToken::<Public, V4>::try_from(&token).expect("parses");
    let mut rules = ClaimsValidationRules::new();
    rules.validate_issuer_with(authkey::DEFAULT_ISSUER);
    rules.validate_audience_with(authkey::DEFAULT_AUDIENCE);
    rules.validate_subject_with(&claims.sub);
    rules.validate_token_identifier_with(&claims.jti);
    pasetors::public::verify(&public, &untrusted, &rules, None, Some(IMPLICIT_ASSERTION))
        .expect("pasetors accepts our iat/nbf/exp and the other claims");
}

#[test]
fn we_verify_pasetors_tokens() {
    let key = fixtures::other_issuer();
    let (secret, _) = pasetors_keys(fixtures::OTHER_SEED);
    let footer = format!(r#"{{"kid":"{}"}}"#, key.public_key().kid());
    let json = fixtures::claims().to_json().expect("valid");
    let token = PublicToken::sign(
        &secret,
        &json,
        Some(footer.as_bytes()),
        Some(IMPLICIT_ASSERTION),
    )
    .expect("pasetors signs");
    assert_eq!(
        token,
        paseto::sign(&key, &json, footer.as_bytes(), IMPLICIT_ASSERTION),
        "Ed25519 is deterministic: both implementations make the same token"
    );
    let claims = authkey::verify(&token, &[key.public_key()], &fixtures::options())
        .expect("we verify the pasetors token");
    assert_eq!(claims, fixtures::claims());

    let without_assertion =
        PublicToken::sign(&secret, &json, Some(footer.as_bytes()), None).expect("pasetors signs");
    assert!(matches!(
        authkey::verify(
            &without_assertion,
            &[key.public_key()],
            &fixtures::options()
        ),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn we_read_claims_made_by_pasetors() {
    let key = fixtures::issuer();
    let (secret, _) = pasetors_keys(fixtures::ISSUER_SEED);
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("valid");
    let rfc3339 = |t: OffsetDateTime| t.format(&Rfc3339).expect("formats");
    let mut claims = PasetorsClaims::new().expect("claims");
    claims.issuer("pasetors issuer").expect("iss");
    claims.subject(&format!("vm:{VM}")).expect("sub");
    claims.audience("vusbkey-agent").expect("aud");
    claims.token_identifier("0123456789abcdef").expect("jti");
    claims.issued_at(&rfc3339(now)).expect("iat");
    claims.not_before(&rfc3339(now)).expect("nbf");
    claims
        .expiration(&rfc3339(now + Duration::hours(1)))
        .expect("exp");
    let footer = format!(r#"{{"kid":"{}"}}"#, key.public_key().kid());
    let token = PublicToken::sign(
        &secret,
        claims.to_string().expect("JSON").as_bytes(),
        Some(footer.as_bytes()),
        Some(IMPLICIT_ASSERTION),
    )
    .expect("pasetors signs");
    let options = authkey::VerifyOptions {
        vm: Some(VM),
        ..authkey::VerifyOptions::at(now)
    };
    let ours = authkey::verify(&token, &[key.public_key()], &options).expect("verifies");
    assert_eq!(ours.iss, "pasetors issuer");
    assert_eq!(ours.exp, now + Duration::hours(1));
    let decoded = DecodedToken::decode(&token).expect("decodes");
    assert_eq!(decoded.footer(), footer.as_bytes());
}
