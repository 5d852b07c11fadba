# dkms: vusbkey.ko as DKMS builds it on an operator's host (issue 14): `cargo xtask package`'s
# vusbkey-dkms .deb unpacked, `dkms add` and `dkms build` against this kernel's headers
# directory (`kernel --headers`), the result at /vusbkey/dkms/vusbkey.ko. Sourced by /init
# after /vusbkey/lib.sh. Checks that the module is for this kernel, then runs kmod.sh's
# smoke subset on it (load, enumeration, whole-disk hashes buffered and O_DIRECT, read-only
# mount with the token, writes refused, unplug/replug, 20 insmod/rmmod cycles, rmmod under
# reads, kernel log clean).
# Needs: what kmod.sh needs, /vusbkey/tests/kmod.sh.
# vusbkey-module: dkms
# vusbkey-append: vusbkey.kmod=smoke
# vusbkey-timeout: 900

DKMS_KO=/vusbkey/dkms/vusbkey.ko

progress "dkms: the module DKMS built from the package"
# (modinfo wants /lib/modules/$(uname -r)/modules.dep, which this VM has not: read .modinfo.)
check dkms-vermagic sh -c "tr '\\0' '\\n' < $DKMS_KO | grep '^vermagic=$(uname -r) '"
# The smoke subset on DKMS's module, in a subshell: kmod.sh's variables and helpers stay its own.
(KMOD_KO=$DKMS_KO && . /vusbkey/tests/kmod.sh)
