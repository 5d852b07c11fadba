# smoke: the module loads, says its version, and unloads cleanly.
check smoke-insmod insmod /vusbkey/vusbkey.ko
check smoke-version-logged sh -c 'dmesg | grep -qE "vusbkey [0-9]+\.[0-9]+\.[0-9]+ loaded"'
check smoke-rmmod rmmod vusbkey
check smoke-unload-logged sh -c 'dmesg | grep -q "vusbkey unloaded"'
kernel_log_clean smoke-kernel-log
