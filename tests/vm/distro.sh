# distro: vusbkey.ko on Debian forky's own kernel binary, unmodified (issue 14). Sourced by
# /init after /vusbkey/lib.sh. Checks that the VM runs the kernel xtask fetched, loads that
# kernel's own modules, runs kmod.sh's smoke subset (load, enumeration, whole-disk hashes
# buffered and O_DIRECT, read-only mount with the token, writes refused, unplug/replug, 20
# insmod/rmmod cycles, rmmod under reads, kernel log clean), the same on the module forky's
# DKMS built from vusbkey-dkms, then that the only taint left is the module's: out-of-tree
# (O) and unsigned (E). Needs: /vusbkey/distro.env (the
# kernel's release and package version), its modules under /lib/modules/$(uname -r)
# (load_module), /vusbkey/tests/kmod.sh and what it needs.
# vusbkey-flavour: distro
# vusbkey-append: vusbkey.kmod=smoke
# vusbkey-timeout: 300

. /vusbkey/distro.env
# What loading an out-of-tree module without a signature taints the kernel with.
TAINT_OUT_OF_TREE=4096
TAINT_UNSIGNED=8192

# taint_flags VALUE: the letters of the set bits of /proc/sys/kernel/tainted, as the kernel
# prints them in oopses (O = out-of-tree, E = unsigned, W = warning, ...).
taint_flags() {
	local letters=PFSRMBUDAWCIOELKXTNJ bit=0 out=""
	while [ $bit -lt 20 ]; do
		[ $((($1 >> bit) & 1)) = 1 ] && out="$out$(echo $letters | cut -c$((bit + 1)))"
		bit=$((bit + 1))
	done
	echo "${out:-none}"
}

progress "distro: Debian's kernel $DISTRO_RELEASE ($DISTRO_VERSION), its modules"

release=$(uname -r)
if [ "$release" = "$DISTRO_RELEASE" ] && grep -q "Debian $DISTRO_VERSION " /proc/version; then
	pass distro-kernel "$(cut -d' ' -f1-3 /proc/version), Debian $DISTRO_VERSION"
else
	fail distro-kernel "expected $DISTRO_RELEASE (Debian $DISTRO_VERSION), running: $(cat /proc/version)"
fi
check distro-vermagic sh -c "modinfo -F vermagic /vusbkey/vusbkey.ko | grep '^$DISTRO_RELEASE '"
taint_boot=$(cat /proc/sys/kernel/tainted)
if [ "$taint_boot" = 0 ]; then
	pass distro-taint-boot
else
	fail distro-taint-boot "tainted before vusbkey: $taint_boot ($(taint_flags "$taint_boot"))"
fi
for module in usb-storage sd_mod vfat nls_cp437 nls_ascii; do
	check "distro-modprobe-$module" load_module "$module"
done

# The smoke subset, in a subshell: kmod.sh's variables and helpers stay its own.
(. /vusbkey/tests/kmod.sh)

# Again on the module forky's own DKMS built from `cargo xtask package`'s vusbkey-dkms (dpkg
# -i in the build root, dkms build against the prepared tree, dpkg --purge), its checks
# named dkms-kmod-*.
progress "distro: the module Debian's DKMS built from vusbkey-dkms"
check distro-dkms-vermagic sh -c "modinfo -F vermagic /vusbkey/dkms/vusbkey.ko | grep '^$DISTRO_RELEASE '"
(KMOD_KO=/vusbkey/dkms/vusbkey.ko RESULT_PREFIX=dkms- && . /vusbkey/tests/kmod.sh)

# Taint flags stay set once set: what is there now is everything since boot.
taint=$(cat /proc/sys/kernel/tainted)
expected=$((TAINT_OUT_OF_TREE | TAINT_UNSIGNED))
if [ "$taint" = $expected ]; then
	pass distro-taint "$taint ($(taint_flags "$taint")): out-of-tree and unsigned only"
else
	fail distro-taint "$taint ($(taint_flags "$taint")), expected $expected (OE: out-of-tree and unsigned only)"
fi
