# kmod_async: vusbkey.ko loads, serves and unloads on a kernel booted with
# driver_async_probe=* (issue 15): the hub driver may then probe the root hub after
# usb_add_hcd returns, and the module's init must wait for it before it checks that the
# hub driver powered the port. Sourced by /init after /vusbkey/lib.sh.
# vusbkey-timeout: 600
# vusbkey-append: driver_async_probe=*

KO=/vusbkey/vusbkey.ko
IMG_SHA=$(sha256sum /vusbkey/image.img | cut -d' ' -f1)

echo 0 > /sys/module/usb_storage/parameters/delay_use
kernel_log_baseline
check kmod-async-cmdline grep -q 'driver_async_probe=\*' /proc/cmdline

# Three loads: a race between the init and the hub driver's probe shows as a failed
# insmod ("the hub driver did not power the root hub's ports").
loads=0
for i in 1 2 3; do
	insmod "$KO" || break
	sd=$(wait_for 10 disk_of vusbkey && disk_of vusbkey) || break
	sha256sum "/dev/$sd" | grep -q "^$IMG_SHA" || break
	rmmod vusbkey || break
	loads=$i
done
if [ $loads = 3 ]; then
	pass kmod-async-insmod "3 loads, disk read whole each time"
else
	fail kmod-async-insmod "load $((loads + 1)): $(dmesg | grep vusbkey | tail -n 1)"
fi
grep -q '^vusbkey ' /proc/modules && rmmod vusbkey
kernel_log_clean kmod-async-log
