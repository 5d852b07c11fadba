//! The check of `cargo xtask test` that the module's Rust side declares `kmod/shim.h`
//! exactly: bindgen reads the header with the debug kernel's include paths, syn reads its
//! output and `kmod/*.rs`, and every function (the `vusbkey_*` of `ffi.rs`, the
//! `vusbkey_rs_*` callbacks defined with `#[no_mangle]`) must have the same name, argument
//! types and return type on both sides, and every shared struct the same fields, in order.
//!
//! Types are compared as the ABI sees them: C integer aliases as fixed-width integers
//! (the kernel's `c_char` is `u8`: `-funsigned-char`), typedefs resolved through bindgen's
//! output, and structs by their C name, which `ffi.rs` states in each struct's first doc
//! line (`` `struct urb` ``).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};
use syn::parse::ParseStream;
use syn::{Attribute, FnArg, ForeignItem, Ident, Item, ReturnType, Token, Type};

use crate::kernel::{self, Flavour};
use crate::line::Line;
use crate::paths::Paths;
use crate::results::Check;
use crate::setup;

/// A function's argument types and return type, canonical.
type Signature = (Vec<String>, String);

/// One side of the interface, canonical.
#[derive(Default)]
struct Interface {
    functions: BTreeMap<String, Signature>,
    /// Shared structs by C name: their fields, name and canonical type, in order.
    structs: BTreeMap<String, Vec<(String, String)>>,
}

/// How the C side names things: its typedefs and its struct names.
#[derive(Default)]
struct CNames {
    aliases: HashMap<String, Type>,
    structs: BTreeSet<String>,
}

/// The check: `host/kmod-ffi-mirror`.
pub(crate) fn check(paths: &Paths) -> Check {
    Check::host("kmod-ffi-mirror", run_check(paths))
}

fn run_check(paths: &Paths) -> anyhow::Result<String> {
    let kmod = paths.root.join("kmod");
    let kernel = kernel::build(paths, Line::V6_12, Flavour::Debug)?;
    let bindings = bindgen(&kmod.join("shim.h"), &kernel.build_dir)?;
    let file = syn::parse_file(&bindings).context("parsing bindgen's output")?;
    let (c, names) = c_side(&file)?;
    let rust = rust_side(&kmod, &names)?;
    let drift = compare(&c, &rust);
    if !drift.is_empty() {
        bail!("kmod/ffi.rs and shim.h differ: {}", drift.join("; "));
    }
    Ok(format!(
        "{} functions, {} structs agree",
        c.functions.len(),
        c.structs.len()
    ))
}

/// bindgen's Rust for the `vusbkey_*` declarations of `header`, parsed against the kernel
/// tree `build` (an `O=` build directory, its `source` link the source tree) with the
/// kernel's include paths and the C flags that change types.
fn bindgen(header: &Path, build: &Path) -> anyhow::Result<String> {
    let src = build.join("source");
    let (s, b) = (src.display(), build.display());
    let clang = [
        "-nostdinc".to_owned(),
        format!("-I{s}/arch/x86/include"),
        format!("-I{b}/arch/x86/include/generated"),
        format!("-I{s}/include"),
        format!("-I{b}/include"),
        format!("-I{s}/arch/x86/include/uapi"),
        format!("-I{b}/arch/x86/include/generated/uapi"),
        format!("-I{s}/include/uapi"),
        format!("-I{b}/include/generated/uapi"),
        "-include".to_owned(),
        format!("{s}/include/linux/kconfig.h"),
        "-include".to_owned(),
        format!("{s}/include/linux/compiler_types.h"),
        "-D__KERNEL__".to_owned(),
        "-DMODULE".to_owned(),
        "-D__BINDGEN__".to_owned(),
        "--target=x86_64-linux-gnu".to_owned(),
        "-std=gnu11".to_owned(),
        "-funsigned-char".to_owned(),
        "-fno-builtin".to_owned(),
        "-w".to_owned(),
    ];
    let output = Command::new(setup::bindgen())
        .arg(header)
        .args(["--allowlist-function", "vusbkey_.*"])
        .args(["--allowlist-type", "vusbkey_.*"])
        .args(["--opaque-type", "spinlock"])
        .args(["--use-core", "--ctypes-prefix", "ffi", "--no-layout-tests"])
        .arg("--no-doc-comments")
        .arg("--")
        .args(clang)
        .output()
        .context("running bindgen (cargo xtask setup installs it)")?;
    if !output.status.success() {
        bail!(
            "bindgen on {}: {}",
            header.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The interface bindgen saw, and the C side's names.
fn c_side(file: &syn::File) -> anyhow::Result<(Interface, CNames)> {
    let mut names = CNames::default();
    for item in &file.items {
        match item {
            Item::Type(alias) => {
                names
                    .aliases
                    .insert(alias.ident.to_string(), (*alias.ty).clone());
            }
            Item::Struct(s) => {
                names.structs.insert(s.ident.to_string());
            }
            _ => {}
        }
    }
    let no_renames = HashMap::new();
    let canon = |ty: &Type| canonical(ty, &no_renames, &names);
    let mut c = Interface::default();
    for item in &file.items {
        match item {
            Item::ForeignMod(block) => {
                for f in &block.items {
                    if let ForeignItem::Fn(f) = f {
                        c.functions
                            .insert(f.sig.ident.to_string(), signature(&f.sig, &canon)?);
                    }
                }
            }
            Item::Struct(s) if s.ident.to_string().starts_with("vusbkey_") => {
                c.structs
                    .insert(s.ident.to_string(), fields(&s.fields, &canon)?);
            }
            _ => {}
        }
    }
    Ok((c, names))
}

/// The interface the Rust sources `kmod/*.rs` declare and define.
fn rust_side(kmod: &Path, names: &CNames) -> anyhow::Result<Interface> {
    let ffi_rs = kmod.join("ffi.rs");
    let ffi = syn::parse_file(&std::fs::read_to_string(&ffi_rs)?)
        .with_context(|| format!("parsing {}", ffi_rs.display()))?;
    // Rust name -> C struct name, from the doc lines.
    let mut renames = HashMap::new();
    let mut structs = Vec::new();
    for item in &ffi.items {
        match item {
            Item::Macro(m) if m.mac.path.is_ident("opaque") => {
                for (attrs, ident) in m.mac.parse_body_with(opaque_body)? {
                    renames.insert(ident.to_string(), c_struct_name(&attrs, &ident)?);
                }
            }
            Item::Struct(s) => {
                renames.insert(s.ident.to_string(), c_struct_name(&s.attrs, &s.ident)?);
                structs.push(s);
            }
            _ => {}
        }
    }
    let canon = |ty: &Type| canonical(ty, &renames, names);
    let mut rust = Interface::default();
    for s in structs {
        rust.structs.insert(
            renames[&s.ident.to_string()].clone(),
            fields(&s.fields, &canon)?,
        );
    }
    for item in &ffi.items {
        if let Item::ForeignMod(block) = item {
            for f in &block.items {
                if let ForeignItem::Fn(f) = f {
                    rust.functions
                        .insert(f.sig.ident.to_string(), signature(&f.sig, &canon)?);
                }
            }
        }
    }
    let mut sources: Vec<_> = std::fs::read_dir(kmod)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    sources.retain(|p| p.extension().is_some_and(|e| e == "rs"));
    sources.sort();
    for path in sources {
        let file = syn::parse_file(&std::fs::read_to_string(&path)?)
            .with_context(|| format!("parsing {}", path.display()))?;
        for item in &file.items {
            if let Item::Fn(f) = item {
                if f.sig.abi.is_some() && f.attrs.iter().any(no_mangle) {
                    rust.functions
                        .insert(f.sig.ident.to_string(), signature(&f.sig, &canon)?);
                }
            }
        }
    }
    Ok(rust)
}

/// The body of ffi.rs's `opaque!`: `/// doc` lines and a name, then `;`, repeated.
fn opaque_body(input: ParseStream<'_>) -> syn::Result<Vec<(Vec<Attribute>, Ident)>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let attrs = input.call(Attribute::parse_outer)?;
        let ident = input.parse()?;
        input.parse::<Token![;]>()?;
        out.push((attrs, ident));
    }
    Ok(out)
}

/// `#[no_mangle]` or `#[unsafe(no_mangle)]`.
fn no_mangle(attr: &Attribute) -> bool {
    attr.path().is_ident("no_mangle")
        || (attr.path().is_ident("unsafe")
            && attr
                .meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string() == "no_mangle"))
}

/// The C struct a Rust struct mirrors: `` `struct NAME` `` in its first doc line.
fn c_struct_name(attrs: &[Attribute], ident: &Ident) -> anyhow::Result<String> {
    let doc = attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    });
    doc.as_deref()
        .and_then(|d| d.split_once("`struct "))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .with_context(|| format!("ffi.rs: {ident} does not say which `struct NAME` it mirrors"))
}

fn signature(sig: &syn::Signature, canon: &impl Fn(&Type) -> String) -> anyhow::Result<Signature> {
    if sig.variadic.is_some() {
        bail!("{}: variadic", sig.ident);
    }
    let args = sig
        .inputs
        .iter()
        .map(|arg| match arg {
            FnArg::Typed(t) => Ok(canon(&t.ty)),
            FnArg::Receiver(_) => bail!("{}: has a receiver", sig.ident),
        })
        .collect::<anyhow::Result<_>>()?;
    let ret = match &sig.output {
        ReturnType::Default => "()".to_owned(),
        ReturnType::Type(_, ty) => canon(ty),
    };
    Ok((args, ret))
}

fn fields(
    fields: &syn::Fields,
    canon: &impl Fn(&Type) -> String,
) -> anyhow::Result<Vec<(String, String)>> {
    fields
        .iter()
        .map(|f| {
            let name = f.ident.as_ref().context("a tuple struct")?.to_string();
            Ok((name, canon(&f.ty)))
        })
        .collect()
}

/// A type as the ABI sees it. `renames` maps Rust struct names to C ones; `names` resolves
/// the C side's typedefs and knows its structs.
fn canonical(ty: &Type, renames: &HashMap<String, String>, names: &CNames) -> String {
    match ty {
        Type::Ptr(p) => {
            let kind = if p.mutability.is_some() {
                "mut"
            } else {
                "const"
            };
            format!("*{kind} {}", canonical(&p.elem, renames, names))
        }
        Type::Tuple(t) if t.elems.is_empty() => "()".to_owned(),
        Type::Paren(p) => canonical(&p.elem, renames, names),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return "?".to_owned();
            };
            let name = last.ident.to_string();
            if let Some(c) = renames.get(&name) {
                return format!("struct {c}");
            }
            // Integers first: the kernel's `u16` is a typedef of `__u16`, which is one of
            // `c_ushort`, which is `u16` again.
            if let Some(int) = integer(&name) {
                return int.to_owned();
            }
            if let Some(target) = names.aliases.get(&name) {
                return canonical(target, renames, names);
            }
            if names.structs.contains(&name) {
                return format!("struct {name}");
            }
            match name.as_str() {
                "bool" | "c_void" => name,
                _ => format!("?{name}"),
            }
        }
        _ => "?".to_owned(),
    }
}

/// The fixed-width integer of a Rust integer type or C integer alias (x86_64, LP64, the
/// kernel's unsigned `char`).
fn integer(name: &str) -> Option<&'static str> {
    Some(match name {
        "u8" | "c_char" | "c_uchar" => "u8",
        "i8" | "c_schar" => "i8",
        "u16" | "c_ushort" => "u16",
        "i16" | "c_short" => "i16",
        "u32" | "c_uint" => "u32",
        "i32" | "c_int" => "i32",
        "u64" | "c_ulong" | "c_ulonglong" | "usize" => "u64",
        "i64" | "c_long" | "c_longlong" | "isize" => "i64",
        _ => return None,
    })
}

/// Every difference between the two sides, one line each.
fn compare(c: &Interface, rust: &Interface) -> Vec<String> {
    let mut drift = Vec::new();
    differences(
        &c.functions,
        &rust.functions,
        "",
        &mut drift,
        |(args, ret)| format!("({}) -> {ret}", args.join(", ")),
    );
    differences(&c.structs, &rust.structs, "struct ", &mut drift, |fields| {
        let fields: Vec<_> = fields.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        format!("{{{}}}", fields.join(", "))
    });
    drift
}

/// The differences between the C and the Rust declarations of one kind (`what`: `""` for
/// functions, `"struct "`), appended to `drift`.
fn differences<T: PartialEq>(
    c: &BTreeMap<String, T>,
    rust: &BTreeMap<String, T>,
    what: &str,
    drift: &mut Vec<String>,
    show: impl Fn(&T) -> String,
) {
    for (name, decl) in c {
        match rust.get(name) {
            None => drift.push(format!("{what}{name} is in shim.h, not in the Rust side")),
            Some(r) if r != decl => drift.push(format!(
                "{what}{name} is {} in shim.h, {} in Rust",
                show(decl),
                show(r)
            )),
            Some(_) => {}
        }
    }
    for name in rust.keys().filter(|name| !c.contains_key(*name)) {
        drift.push(format!("{what}{name} is in the Rust side, not in shim.h"));
    }
}
