//! Fixed keys and tokens, and helpers to run tools on images.

use std::path::Path;
use std::process::Command;

use authkey::{Claims, PublicKey, SecretKey};
use time::macros::datetime;

/// The issuer key.
pub(crate) fn issuer() -> SecretKey {
    SecretKey::from_seed(&[0x11; 32])
}

/// The issuer's public key.
pub(crate) fn issuer_public() -> PublicKey {
    issuer().public_key()
}

/// A token for VM `vm` (the last 12 hex digits of its UUID), issued 2025-01-01T00:00:00Z.
pub(crate) fn token_for(vm: u64) -> String {
    let claims = Claims {
        iss: "vusbkey".to_owned(),
        sub: format!("vm:6c3a2b5e-1b2c-4d5e-8f90-{vm:012x}"),
        aud: "vusbkey-agent".to_owned(),
        iat: datetime!(2025-01-01 00:00:01 UTC),
        nbf: datetime!(2025-01-01 00:00 UTC),
        exp: datetime!(2099-01-01 00:00 UTC),
        jti: "00112233445566778899aabbccddeeff".to_owned(),
    };
    authkey::sign(&issuer(), &claims).expect("valid claims")
}

/// The token most tests use.
pub(crate) fn token() -> String {
    token_for(0xa1b2c3d4e5f6)
}

/// Runs a tool, asserting success, and returns its standard output.
pub(crate) fn run_tool(dir: &Path, program: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}
