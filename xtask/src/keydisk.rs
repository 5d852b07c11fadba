//! The key material of the demo and the tests: an issuer key, a token for the demo VM,
//! the FAT image the module carries, and the same image with the token altered.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use authkey::{ClaimsInput, PublicKey, SecretKey};
use image_builder::BuildOptions;
use uuid::{uuid, Uuid};

use crate::paths::Paths;

/// The VM the demo token is for (QEMU `-uuid`).
pub(crate) const VM_UUID: Uuid = uuid!("5655534b-0000-4000-8000-000000000001");
/// Another VM: a copy of the demo VM started elsewhere.
pub(crate) const OTHER_UUID: Uuid = uuid!("5655534b-0000-4000-8000-000000000002");
/// A third VM, for the third port of the module with one port per VM.
pub(crate) const THIRD_UUID: Uuid = uuid!("5655534b-0000-4000-8000-000000000003");
/// How long the demo token is valid.
const VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// Files under `target/keys/`.
pub(crate) struct KeyDisk {
    /// The trusted issuer's public key (SPKI PEM).
    pub(crate) issuer_public: PathBuf,
    /// A public key the guest trusts in the "untrusted" scenario instead.
    pub(crate) other_public: PathBuf,
    /// The image with a valid token for [`VM_UUID`].
    pub(crate) image: PathBuf,
    /// The image with one character of the token's signed body changed.
    pub(crate) tampered: PathBuf,
    /// The token itself.
    pub(crate) token: String,
}

/// Makes the keys once (kept in `target/keys/`) and a fresh token and images each time.
pub(crate) fn make(paths: &Paths) -> anyhow::Result<KeyDisk> {
    let dir = paths.target().join("keys");
    std::fs::create_dir_all(&dir)?;
    let issuer = key(&dir, "issuer")?;
    key(&dir, "other")?;
    let claims = ClaimsInput::new(VM_UUID, VALIDITY).to_claims()?;
    let token = authkey::sign(&issuer, &claims)?;
    let image = build_image(issuer.public_key(), &token, None)?;
    let tampered = tamper(&image, &token)?;
    let disk = KeyDisk {
        issuer_public: dir.join("issuer.pub"),
        other_public: dir.join("other.pub"),
        image: dir.join("image.img"),
        tampered: dir.join("tampered.img"),
        token,
    };
    std::fs::write(&disk.image, image)?;
    std::fs::write(&disk.tampered, tampered)?;
    Ok(disk)
}

impl KeyDisk {
    /// The same token and issuer key in an image of `size` bytes (for the benchmarks).
    pub(crate) fn image_of_size(&self, size: u64) -> anyhow::Result<Vec<u8>> {
        let issuer = PublicKey::load_pem_file(&self.issuer_public)?;
        build_image(issuer, &self.token, Some(size))
    }
}

/// Images for a module with a port per VM, port 1 first: for each `(vm, size)`, a token for
/// `vm` signed by the demo issuer in a `size`-byte image, `target/keys/<name>N.img`.
pub(crate) fn images_for(
    paths: &Paths,
    name: &str,
    vms: &[(Uuid, u64)],
) -> anyhow::Result<Vec<PathBuf>> {
    let dir = paths.target().join("keys");
    std::fs::create_dir_all(&dir)?;
    let issuer = key(&dir, "issuer")?;
    let mut images = Vec::new();
    for (port, (vm, size)) in (1..).zip(vms) {
        let claims = ClaimsInput::new(*vm, VALIDITY).to_claims()?;
        let token = authkey::sign(&issuer, &claims)?;
        let path = dir.join(format!("{name}{port}.img"));
        std::fs::write(
            &path,
            build_image(issuer.public_key(), &token, Some(*size))?,
        )?;
        images.push(path);
    }
    Ok(images)
}

/// An image holding `token` and the issuer's public key; `size` None is the smallest.
fn build_image(issuer: PublicKey, token: &str, size: Option<u64>) -> anyhow::Result<Vec<u8>> {
    let mut options = BuildOptions::new(token);
    options.issuer = Some(issuer);
    options.size = size;
    Ok(image_builder::build(&options)?)
}

/// Loads `NAME.key`, or generates it with `NAME.pub` beside it.
fn key(dir: &Path, name: &str) -> anyhow::Result<SecretKey> {
    let secret = dir.join(format!("{name}.key"));
    if secret.exists() {
        return SecretKey::load_pem_file(&secret)
            .with_context(|| format!("loading {}", secret.display()));
    }
    let key = SecretKey::generate();
    key.save_pem_file(&secret, false)?;
    key.public_key()
        .save_pem_file(&dir.join(format!("{name}.pub")), false)?;
    Ok(key)
}

/// A copy of `image` with one base64url character in the middle of the token's signed
/// body replaced: the FAT volume stays valid, the signature no longer matches.
fn tamper(image: &[u8], token: &str) -> anyhow::Result<Vec<u8>> {
    let Some(at) = image
        .windows(token.len())
        .position(|w| w == token.as_bytes())
    else {
        bail!("the token is not stored contiguously in the image");
    };
    let body = "v4.public.".len();
    let index = at + body + (token.len() - body) / 4;
    let mut tampered = image.to_vec();
    tampered[index] = if tampered[index] == b'A' { b'B' } else { b'A' };
    Ok(tampered)
}
