# bench-usbip: vusbkey-usbip on Debian 12's stock kernel next to Linux's reference
# (f_mass_storage ro=1 through the gadget configfs on dummy_hcd, serving the same image
# from the initramfs), in one VM run. Each measurement is one `VUSBKEY-METRIC NAME VALUE`
# line; runs alternate between the two so that drift in the host's speed hits both alike.
# vusbkey-timeout: 3600
# vusbkey-flavour: stock
RUNS=$(bench_runs)
IMAGE=/vusbkey/bench/image.img

load_module usb-storage delay_use=0 && load_module sd_mod && load_module vhci-hcd ||
	fail bench-usbip-modules "loading usb-storage, sd_mod or vhci-hcd failed"
progress "bench-usbip: the reference and vusbkey-usbip serving ${IMAGE##*/} ($(wc -c < $IMAGE) bytes)"
ref_gadget_up "$IMAGE" || fail bench-usbip-reference "configfs gadget setup failed"
vusbkey-usbip attach --image "$IMAGE" > /tmp/vusbkey-usbip.log 2>&1 &
server=$!
if ! wait_for 60 disk_of vhci_hcd || ! wait_for 60 disk_of dummy_hcd; then
	fail bench-usbip-disks "vusbkey-usbip disk '$(disk_of vhci_hcd)', reference disk '$(disk_of dummy_hcd)'"
	return
fi
VUS=/dev/$(disk_of vhci_hcd)
REF=/dev/$(disk_of dummy_hcd)
check bench-usbip-same-bytes sh -c "[ \"\$(sha256sum < $VUS)\" = \"\$(sha256sum < $REF)\" ]"

progress "bench-usbip: sequential O_DIRECT reads, 1 MiB blocks, $RUNS runs each"
FIELD=mib_per_s
i=0
while [ $i -lt "$RUNS" ]; do
	metric seq_mib_s.usbip "$(diskread_value "$VUS")"
	metric seq_mib_s.usbip_reference "$(diskread_value "$REF")"
	i=$((i + 1))
done

progress "bench-usbip: random 4 KiB O_DIRECT reads for 10 s, $RUNS runs each"
FIELD=reads_per_s
i=0
while [ $i -lt "$RUNS" ]; do
	metric rand_iops.usbip "$(diskread_value --pattern random --block 4096 --seconds 10 --seed $i "$VUS")"
	metric rand_iops.usbip_reference "$(diskread_value --pattern random --block 4096 --seconds 10 --seed $i "$REF")"
	i=$((i + 1))
done
kill -TERM $server
wait $server
ref_gadget_down
pass bench-usbip-done "$RUNS runs"
