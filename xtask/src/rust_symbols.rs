//! Rust crates as symbol names carry them: v0 mangling (`_R...`) names a crate
//! `Cs<disambiguator>_<length><name>`, the disambiguator being a hash of that crate's
//! compilation (compiler build, flags, sources). A module links against a kernel's Rust
//! exports only when both name `core`, `kernel`, ... with the same hashes; when modpost
//! reports undefined `_R` symbols, this says which crate differs.

use std::collections::{BTreeMap, BTreeSet};

/// Each crate named in `bytes` (a `Module.symvers`, an object file) with the disambiguators
/// it appears under.
pub(crate) fn crate_hashes(bytes: &[u8]) -> BTreeMap<String, BTreeSet<String>> {
    let mut crates: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut at = 0;
    while let Some(found) = bytes[at..].windows(2).position(|w| w == b"Cs") {
        let start = at + found;
        at = start + 2;
        if let Some((hash, name, end)) = crate_root(&bytes[start + 2..]) {
            crates.entry(name).or_default().insert(hash);
            at = start + 2 + end;
        }
    }
    crates
}

/// After `Cs`: the base-62 disambiguator, `_`, then the decimal length and the crate's name;
/// returns both and how many bytes they took.
fn crate_root(bytes: &[u8]) -> Option<(String, String, usize)> {
    let hash_len = bytes.iter().position(|b| !b.is_ascii_alphanumeric())?;
    if bytes.get(hash_len) != Some(&b'_') {
        return None;
    }
    let rest = &bytes[hash_len + 1..];
    let digits = rest.iter().position(|b| !b.is_ascii_digit())?;
    let len: usize = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let name = rest.get(digits..digits + len)?;
    if len == 0 || !name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
        return None;
    }
    Some((
        String::from_utf8_lossy(&bytes[..hash_len]).into_owned(),
        String::from_utf8_lossy(name).into_owned(),
        hash_len + 1 + digits + len,
    ))
}

/// The Rust symbols modpost reported undefined in a build log
/// (`ERROR: modpost: "_RNv..." [.../vusbkey.ko] undefined!`).
pub(crate) fn undefined(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.contains("undefined!"))
        .filter_map(|line| line.split('"').nth(1))
        .filter(|symbol| symbol.starts_with("_R"))
        .collect()
}

/// For each crate both name whose hashes in the module are not the kernel's: a line saying
/// what each side uses (none when they agree).
pub(crate) fn mismatches(
    kernel: &BTreeMap<String, BTreeSet<String>>,
    module: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    module
        .iter()
        .filter_map(|(name, ours)| {
            let theirs = kernel.get(name)?;
            (!ours.is_subset(theirs)).then(|| {
                format!(
                    "crate `{name}`: the module uses {}, the kernel exports {}",
                    spell(name, ours),
                    spell(name, theirs)
                )
            })
        })
        .collect()
}

/// The crates both name with the same hashes, spelled as in the symbols.
pub(crate) fn shared(
    kernel: &BTreeMap<String, BTreeSet<String>>,
    module: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    module
        .iter()
        .filter(|(name, ours)| {
            kernel
                .get(*name)
                .is_some_and(|theirs| ours.is_subset(theirs))
        })
        .map(|(name, ours)| spell(name, ours))
        .collect()
}

/// `Cs<hash>_<length><name>` for each hash.
fn spell(name: &str, hashes: &BTreeSet<String>) -> String {
    let spelled: Vec<String> = hashes
        .iter()
        .map(|hash| format!("Cs{hash}_{}{name}", name.len()))
        .collect();
    spelled.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of Debian forky's 7.2.12 `Module.symvers`.
    const SYMVERS: &str = "\
0x00000000\t_RNvNtCsbZfwWpAStWS_4core9panicking5panic\tvmlinux\tEXPORT_SYMBOL_GPL\t
0x00000000\t_RNvMNtCsdJ13ReMSUMg_6kernel5allocNtB2_7Flags4bits\tvmlinux\tEXPORT_SYMBOL_GPL\t
0x00000000\tusb_hcd_giveback_urb\tvmlinux\tEXPORT_SYMBOL_GPL\t
";

    #[test]
    fn crates_and_their_hashes_are_read_from_symbol_names() {
        let hashes = crate_hashes(SYMVERS.as_bytes());
        assert_eq!(hashes.keys().collect::<Vec<_>>(), ["core", "kernel"]);
        assert!(hashes["core"].contains("bZfwWpAStWS"));
        assert!(hashes["kernel"].contains("dJ13ReMSUMg"));
        // In an object file, between other bytes.
        let object = b"\0\x7f_RNvCseZyPd6w4txU_12vusbkey_main4init\0Cs\0Csx_\0";
        let hashes = crate_hashes(object);
        assert_eq!(hashes.keys().collect::<Vec<_>>(), ["vusbkey_main"]);
    }

    #[test]
    fn a_crate_hashed_differently_is_named_with_both_spellings() {
        let kernel = crate_hashes(SYMVERS.as_bytes());
        let module = crate_hashes(b"_RNvNtCsOTHERhash_4core3fmt5write _RNvCsdJ13ReMSUMg_6kernel1f");
        assert_eq!(
            mismatches(&kernel, &module),
            ["crate `core`: the module uses CsOTHERhash_4core, the kernel exports CsbZfwWpAStWS_4core"]
        );
        assert!(mismatches(&kernel, &kernel).is_empty());
        assert_eq!(shared(&kernel, &module), ["CsdJ13ReMSUMg_6kernel"]);
    }

    #[test]
    fn modpost_undefined_rust_symbols_are_listed() {
        let log = "  MODPOST Module.symvers\n\
                   ERROR: modpost: \"_RNvNtCsOTHERhash_4core3fmt5write\" [/m/vusbkey.ko] undefined!\n\
                   ERROR: modpost: \"usb_add_hcd\" [/m/vusbkey.ko] undefined!\n";
        assert_eq!(undefined(log), ["_RNvNtCsOTHERhash_4core3fmt5write"]);
    }
}
