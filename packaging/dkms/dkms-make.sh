#!/bin/sh
# dkms-make.sh KDIR [TARGET]: builds vusbkey.ko in the current directory (DKMS's build copy of
# /usr/src/vusbkey-VERSION) against the kernel tree or headers directory KDIR, with the
# compilers that kernel was built with. dkms.conf's MAKE runs it. `cargo xtask kmod --kdir`
# makes the same choices in Rust (xtask/src/kdir.rs); this copy is for hosts without the
# project's sources.
# - rustc: the one whose `--version` is exactly the kernel's CONFIG_RUSTC_VERSION_TEXT (the
#   crates in KDIR/rust/*.rmeta load only into the compiler build that wrote them, else
#   E0514): rustc on PATH, root's rustup toolchains, /usr/bin/rustc-X.Y, /usr/bin/rustc.
# - C compiler: LLVM=-NN for a clang-built kernel, else the gcc command its
#   CONFIG_CC_VERSION_TEXT names (x86_64-linux-gnu-gcc-16 on Debian forky).
# Arguments after TARGET (DKMS appends `CC=clang LD=ld.lld` for clang-built kernels, naming
# the unversioned commands) are ignored: the two choices above are the kernel's own.
set -eu

kdir=${1:?usage: dkms-make.sh KDIR [modules|clean]}
target=${2:-modules}

fail() {
	echo "vusbkey: $*" >&2
	exit 1
}

conf=$kdir/include/config/auto.conf
[ -r "$conf" ] || fail "$kdir is not a prepared kernel tree (no include/config/auto.conf): install the kernel's headers"

# value NAME: CONFIG_NAME's value in auto.conf, without the quotes some versions write.
value() {
	sed -n "s/^CONFIG_$1=//p" "$conf" | sed 's/^"\(.*\)"$/\1/'
}

if [ "$target" = clean ]; then
	exec make -C "$kdir" M="$PWD" clean
fi

[ "$(value RUST)" = y ] ||
	fail "the kernel in $kdir is built without Rust (CONFIG_RUST is not set): serve the key with vusbkey-usbip instead"
for file in rust/libcore.rmeta rust/libkernel.rmeta rust/libmacros.so; do
	[ -e "$kdir/$file" ] ||
		fail "$kdir lacks $file, the Rust metadata out-of-tree Rust modules build against (Ubuntu: install linux-lib-rust-\$(uname -r); Debian, Proxmox, Fedora ship none: use vusbkey-usbip)"
done

wanted=$(value RUSTC_VERSION_TEXT)
[ -n "$wanted" ] || fail "$kdir has CONFIG_RUST=y but no CONFIG_RUSTC_VERSION_TEXT: not a 6.12 or later kernel"
rustc=
found=
for candidate in $(command -v rustc || true) /root/.rustup/toolchains/*/bin/rustc /usr/bin/rustc-[0-9]* /usr/bin/rustc; do
	[ -x "$candidate" ] || continue
	text=$("$candidate" --version 2> /dev/null || true)
	if [ "$text" = "$wanted" ]; then
		rustc=$candidate
		break
	fi
	found="$found
  $candidate: $text"
done
[ -n "$rustc" ] ||
	fail "no rustc prints exactly \"$wanted\" (the kernel's CONFIG_RUSTC_VERSION_TEXT): install the rustc that built this kernel (a distribution's own package for \"built from a source tarball\", else \`rustup toolchain install\` of that version); found:${found:- none}"

if [ "$(value CC_IS_CLANG)" = y ]; then
	# Kconfig encodes clang 19.1.7 as 190107.
	cc="LLVM=-$(($(value CLANG_VERSION) / 10000))"
	command -v "clang-${cc#LLVM=-}" > /dev/null ||
		fail "the kernel was built with clang ${cc#LLVM=-}: install clang-${cc#LLVM=-} and lld-${cc#LLVM=-}"
else
	gcc=$(value CC_VERSION_TEXT | cut -d' ' -f1)
	case $gcc in *gcc*) ;; *) gcc=gcc ;; esac
	command -v "$gcc" > /dev/null || fail "the kernel was built with $gcc: install it"
	cc="CC=$gcc"
fi

echo "vusbkey: building against $kdir with $rustc ($wanted) and $cc"
exec make -j"$(nproc)" -C "$kdir" M="$PWD" "$cc" RUSTC="$rustc" modules
