// SPDX-License-Identifier: GPL-2.0
/*
 * vusbkey: C glue. Only what Rust-for-Linux 6.12 cannot express or has no
 * bindings for: module parameters, the static hc_driver / platform_driver /
 * sysfs tables (their entries call the Rust side), and one-line wrappers around
 * macros, inline functions and struct fields. No logic lives here; see
 * README.md for why this is a C shim and not a bindgen step.
 */

#include <linux/device.h>
#include <linux/kobject.h>
#include <linux/kstrtox.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <linux/usb.h>
#include <linux/usb/hcd.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include "shim.h"

#define DRIVER_NAME "vusbkey"

/*
 * Per-CPU workqueues say so from 6.17 on (WQ_PERCPU); 7.x warns at alloc_workqueue when a
 * workqueue has neither WQ_PERCPU nor WQ_UNBOUND. Earlier lines are per-CPU by default.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#define VUSBKEY_WQ_PERCPU WQ_PERCPU
#else
#define VUSBKEY_WQ_PERCPU 0
#endif

/*
 * In C, not in Rust's module! macro: 6.12's macro takes `author`, 7.x's `authors`.
 */
MODULE_AUTHOR("vusbkey developers");

/* ---- module parameters (read-only once loaded; checked by params.rs) ---- */

static ushort vendor_id = 0x1209;
module_param(vendor_id, ushort, 0444);
MODULE_PARM_DESC(vendor_id, "USB idVendor (default 0x1209, pid.codes)");

static ushort product_id = 0x0001;
module_param(product_id, ushort, 0444);
MODULE_PARM_DESC(product_id, "USB idProduct (default 0x0001, the pid.codes test PID)");

static char *serial[VUSBKEY_MAX_PORTS];
static unsigned int nr_serials;
module_param_array(serial, charp, &nr_serials, 0444);
MODULE_PARM_DESC(serial, "iSerialNumber of each port's device, comma-separated, 12-126 chars of 0-9A-F each (default: first 16 hex digits of the port's image SHA-256)");

static char *manufacturer;
module_param(manufacturer, charp, 0444);
MODULE_PARM_DESC(manufacturer, "iManufacturer string (default \"vusbkey\")");

static char *product;
module_param(product, charp, 0444);
MODULE_PARM_DESC(product, "iProduct string (default \"vusbkey authentication key\")");

static char *speed;
module_param(speed, charp, 0444);
MODULE_PARM_DESC(speed, "the devices' speed: \"super\" (USB 3.2 Gen 1, on a SuperSpeed root hub beside a USB 2.0 one) or \"high\" (USB 2.0) (default \"high\")");

void vusbkey_get_params(struct vusbkey_params *out)
{
	out->vendor_id = vendor_id;
	out->product_id = product_id;
	out->nr_serials = nr_serials;
	out->manufacturer = manufacturer;
	out->product = product;
	out->speed = speed;
}

const char *vusbkey_param_serial(u32 index)
{
	return index < nr_serials && index < VUSBKEY_MAX_PORTS ? serial[index] : NULL;
}

/* ---- the HCD ---- */

/*
 * The frame number (USB 2.0 §8.4.3.1: 11 bits, one per millisecond). Nothing here is timed
 * by frames, so it is the monotonic clock in milliseconds. In C because the kernel crate's
 * clock API differs between the lines the module builds for (Ktime in 6.12, Instant in 7.x).
 */
static int vusbkey_get_frame_number(struct usb_hcd *hcd)
{
	return ktime_to_ms(ktime_get()) & 0x7ff;
}

/*
 * HCD_USB3 | HCD_SHARED: usb_add_hcd makes both HCDs' root hubs SuperSpeed; the primary
 * HCD's is the USB 2.0 one, as xhci_gen_setup and dummy_hcd's dummy_setup make it.
 */
static int vusbkey_ss_reset(struct usb_hcd *hcd)
{
	if (usb_hcd_is_primary_hcd(hcd)) {
		hcd->speed = HCD_USB2;
		hcd->self.root_hub->speed = USB_SPEED_HIGH;
	}
	return 0;
}

/*
 * HCD_BH: URBs are given back in softirq context, never inside urb_enqueue, which may run
 * the transfer in its caller (port.rs).
 */
#define VUSBKEY_HC_DRIVER(hcd_flags, reset_fn) {			\
	.description = DRIVER_NAME,					\
	.product_desc = "vusbkey virtual host controller",		\
	.hcd_priv_size = sizeof(void *),				\
	.flags = (hcd_flags) | HCD_BH,					\
	.reset = (reset_fn),						\
	.start = vusbkey_rs_start,					\
	.stop = vusbkey_rs_stop,					\
	.get_frame_number = vusbkey_get_frame_number,			\
	.urb_enqueue = vusbkey_rs_urb_enqueue,				\
	.urb_dequeue = vusbkey_rs_urb_dequeue,				\
	.endpoint_disable = vusbkey_rs_endpoint_disable,		\
	.hub_status_data = vusbkey_rs_hub_status_data,			\
	.hub_control = vusbkey_rs_hub_control,				\
	.bus_suspend = vusbkey_rs_bus_suspend,				\
	.bus_resume = vusbkey_rs_bus_resume,				\
}

/* speed=high: one HCD, its root hub USB 2.0. */
static const struct hc_driver vusbkey_hc_driver = VUSBKEY_HC_DRIVER(HCD_USB2, NULL);
/* speed=super: a USB 2.0 primary HCD and a SuperSpeed shared one. */
static const struct hc_driver vusbkey_ss_hc_driver =
	VUSBKEY_HC_DRIVER(HCD_USB3 | HCD_SHARED, vusbkey_ss_reset);

static void vusbkey_hcd_init(struct usb_hcd *hcd, u32 sg_tablesize)
{
	hcd->self.sg_tablesize = sg_tablesize;
	hcd->self.no_sg_constraint = 1;
	hcd->has_tt = 0;
	*(void **)hcd->hcd_priv = NULL;
}

struct usb_hcd *vusbkey_hcd_create(struct platform_device *pdev, u32 sg_tablesize,
				   bool super_speed)
{
	const struct hc_driver *driver = super_speed ? &vusbkey_ss_hc_driver : &vusbkey_hc_driver;
	struct usb_hcd *hcd = usb_create_hcd(driver, &pdev->dev, dev_name(&pdev->dev));

	if (hcd) {
		vusbkey_hcd_init(hcd, sg_tablesize);
		platform_set_drvdata(pdev, hcd);
	}
	return hcd;
}

struct usb_hcd *vusbkey_hcd_create_shared(struct platform_device *pdev, struct usb_hcd *primary,
					  u32 sg_tablesize)
{
	struct usb_hcd *hcd = usb_create_shared_hcd(&vusbkey_ss_hc_driver, &pdev->dev,
						    dev_name(&pdev->dev), primary);

	if (hcd)
		vusbkey_hcd_init(hcd, sg_tablesize);
	return hcd;
}

/*
 * No device_wakeup_enable() on the controller: a virtual controller cannot wake the system
 * from sleep, and the platform device is not wakeup-capable, so the call would only fail
 * (drivers/base/power/wakeup.c). The root hub's own remote wakeup, which runtime PM uses,
 * is usbcore's (register_root_hub sets it capable).
 */
int vusbkey_hcd_add(struct usb_hcd *hcd) { return usb_add_hcd(hcd, 0, 0); }
void vusbkey_hcd_remove(struct usb_hcd *hcd) { usb_remove_hcd(hcd); }
void vusbkey_hcd_get(struct usb_hcd *hcd) { usb_get_hcd(hcd); }
void vusbkey_hcd_put(struct usb_hcd *hcd) { usb_put_hcd(hcd); }
void *vusbkey_hcd_priv(struct usb_hcd *hcd) { return *(void **)hcd->hcd_priv; }
void vusbkey_hcd_set_priv(struct usb_hcd *hcd, void *priv) { *(void **)hcd->hcd_priv = priv; }
struct usb_hcd *vusbkey_pdev_hcd(struct platform_device *pdev) { return platform_get_drvdata(pdev); }
struct usb_hcd *vusbkey_dev_hcd(struct device *dev) { return dev_get_drvdata(dev); }

void vusbkey_hcd_set_running(struct usb_hcd *hcd, bool running)
{
	hcd->state = running ? HC_STATE_RUNNING : HC_STATE_SUSPENDED;
	if (running)
		hcd->uses_new_polling = 1;
}

bool vusbkey_hcd_hw_accessible(struct usb_hcd *hcd) { return HCD_HW_ACCESSIBLE(hcd); }
void vusbkey_hcd_poll_rh_status(struct usb_hcd *hcd) { usb_hcd_poll_rh_status(hcd); }
void vusbkey_hcd_resume_root_hub(struct usb_hcd *hcd) { usb_hcd_resume_root_hub(hcd); }

/* ---- URBs ---- */

int vusbkey_urb_link(struct usb_hcd *hcd, struct urb *urb) { return usb_hcd_link_urb_to_ep(hcd, urb); }
int vusbkey_urb_check_unlink(struct usb_hcd *hcd, struct urb *urb, int status)
{
	return usb_hcd_check_unlink_urb(hcd, urb, status);
}
void vusbkey_urb_unlink(struct usb_hcd *hcd, struct urb *urb) { usb_hcd_unlink_urb_from_ep(hcd, urb); }
void vusbkey_urb_giveback(struct usb_hcd *hcd, struct urb *urb, int status)
{
	/* HCD_BH: usbcore queues the URB for its BH under a lock that BH takes too, expecting
	 * its caller to be in interrupt context (hcd.c); softirqs stay off meanwhile, and the
	 * completion runs, on this CPU, when they are back on. */
	local_bh_disable();
	usb_hcd_giveback_urb(hcd, urb, status);
	local_bh_enable();
}

void vusbkey_urb_get_info(struct urb *urb, struct vusbkey_urb_info *out)
{
	out->pipe = urb->pipe;
	out->transfer_flags = urb->transfer_flags;
	out->length = urb->transfer_buffer_length;
	out->num_sgs = urb->num_sgs;
	out->buffer = urb->transfer_buffer;
	out->sg = urb->sg;
	out->setup = urb->setup_packet;
}

int vusbkey_urb_unlinked(struct urb *urb) { return urb->unlinked; }
void vusbkey_urb_set_actual_length(struct urb *urb, u32 len) { urb->actual_length = len; }
struct usb_host_endpoint *vusbkey_urb_ep(struct urb *urb) { return urb->ep; }
u32 vusbkey_urb_portnum(struct urb *urb) { return urb->dev->portnum; }
struct urb *vusbkey_urb_next(struct urb *urb) { return urb->hcpriv; }
void vusbkey_urb_set_next(struct urb *urb, struct urb *next) { urb->hcpriv = next; }

void vusbkey_urb_leaked(struct urb *urb)
{
	WARN(1, DRIVER_NAME ": URB %p dropped without giveback: its submitter waits forever\n", urb);
}

/* ---- scatterlists, locks, workqueue ---- */

struct scatterlist *vusbkey_sg_next(struct scatterlist *sg) { return sg_next(sg); }
void *vusbkey_sg_virt(struct scatterlist *sg) { return sg_virt(sg); }
u32 vusbkey_sg_len(struct scatterlist *sg) { return sg->length; }

unsigned long vusbkey_spin_lock_irqsave(spinlock_t *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

void vusbkey_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}

bool vusbkey_spin_trylock_irqsave(spinlock_t *lock, unsigned long *flags)
{
	return spin_trylock_irqsave(lock, *flags);
}

void vusbkey_spin_assert_is_held(spinlock_t *lock)
{
	lockdep_assert_held(lock);
}

/*
 * Able to make progress under memory pressure (it serves a disk); per-CPU, so the worker
 * runs on the CPU of the submitter, which then waits: no cross-CPU wake-up per URB. A work
 * item never runs concurrently with itself, and the HCD has one, so URBs still run one at
 * a time, in order.
 */
struct workqueue_struct *vusbkey_alloc_workqueue(void)
{
	return alloc_workqueue(DRIVER_NAME, WQ_MEM_RECLAIM | WQ_HIGHPRI | VUSBKEY_WQ_PERCPU, 0);
}

unsigned int vusbkey_noio_save(void) { return memalloc_noio_save(); }
void vusbkey_noio_restore(unsigned int flags) { memalloc_noio_restore(flags); }
bool vusbkey_gfp_allows_blocking(gfp_t flags) { return gfpflags_allow_blocking(flags); }

/* ---- sysfs: port 1's attributes on the platform device, every port's in ports/N/ ---- */

static ssize_t connected_emit(char *buf, int ret)
{
	return ret < 0 ? ret : sysfs_emit(buf, "%d\n", ret);
}

static ssize_t connected_parse(struct device *dev, u32 port, const char *buf, size_t count)
{
	bool on;
	int ret = kstrtobool(buf, &on);

	if (!ret)
		ret = vusbkey_rs_connected_store(dev, port, on);
	return ret < 0 ? ret : count;
}

static ssize_t image_sha256_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%.64s\n", vusbkey_rs_image_sha256(1));
}
static DEVICE_ATTR_RO(image_sha256);

static ssize_t image_size_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", vusbkey_rs_image_size(1));
}
static DEVICE_ATTR_RO(image_size);

static ssize_t connected_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return connected_emit(buf, vusbkey_rs_connected_show(dev, 1));
}

static ssize_t connected_store(struct device *dev, struct device_attribute *attr,
			       const char *buf, size_t count)
{
	return connected_parse(dev, 1, buf, count);
}
static DEVICE_ATTR_RW(connected);

static struct attribute *vusbkey_attrs[] = {
	&dev_attr_image_sha256.attr,
	&dev_attr_image_size.attr,
	&dev_attr_connected.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vusbkey);

/* ports/N: a kobject per port, under a "ports" kobject of the platform device. */
struct vusbkey_port_kobj {
	struct kobject kobj;
	struct device *dev;	/* the platform device, bound while the kobject exists */
	u32 port;
};

#define to_port_kobj(k) container_of(k, struct vusbkey_port_kobj, kobj)

static ssize_t port_image_sha256_show(struct kobject *kobj, struct kobj_attribute *attr,
				      char *buf)
{
	return sysfs_emit(buf, "%.64s\n", vusbkey_rs_image_sha256(to_port_kobj(kobj)->port));
}

static ssize_t port_image_size_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", vusbkey_rs_image_size(to_port_kobj(kobj)->port));
}

static ssize_t port_connected_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	struct vusbkey_port_kobj *p = to_port_kobj(kobj);

	return connected_emit(buf, vusbkey_rs_connected_show(p->dev, p->port));
}

static ssize_t port_connected_store(struct kobject *kobj, struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	struct vusbkey_port_kobj *p = to_port_kobj(kobj);

	return connected_parse(p->dev, p->port, buf, count);
}

static struct kobj_attribute port_attr_image_sha256 =
	__ATTR(image_sha256, 0444, port_image_sha256_show, NULL);
static struct kobj_attribute port_attr_image_size =
	__ATTR(image_size, 0444, port_image_size_show, NULL);
static struct kobj_attribute port_attr_connected =
	__ATTR(connected, 0644, port_connected_show, port_connected_store);

static struct attribute *port_attrs[] = {
	&port_attr_image_sha256.attr,
	&port_attr_image_size.attr,
	&port_attr_connected.attr,
	NULL,
};
ATTRIBUTE_GROUPS(port);

static void port_release(struct kobject *kobj)
{
	kfree(to_port_kobj(kobj));
}

static const struct kobj_type port_ktype = {
	.release = port_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = port_groups,
};

/* The one platform device's: set by vusbkey_ports_sysfs_add, cleared by _remove. */
static struct kobject *vusbkey_ports_kobj;
static struct vusbkey_port_kobj *vusbkey_port_kobjs[VUSBKEY_MAX_PORTS];

void vusbkey_ports_sysfs_remove(void)
{
	int i;

	for (i = 0; i < VUSBKEY_MAX_PORTS; i++) {
		if (vusbkey_port_kobjs[i]) {
			/* Removes the files; returns once their running callbacks have. */
			kobject_del(&vusbkey_port_kobjs[i]->kobj);
			kobject_put(&vusbkey_port_kobjs[i]->kobj);
			vusbkey_port_kobjs[i] = NULL;
		}
	}
	kobject_put(vusbkey_ports_kobj);
	vusbkey_ports_kobj = NULL;
}

int vusbkey_ports_sysfs_add(struct platform_device *pdev, u32 ports)
{
	struct device *dev = &pdev->dev;
	u32 i;
	int ret;

	if (ports > VUSBKEY_MAX_PORTS)
		return -EINVAL;
	vusbkey_ports_kobj = kobject_create_and_add("ports", &dev->kobj);
	if (!vusbkey_ports_kobj)
		return -ENOMEM;
	for (i = 0; i < ports; i++) {
		struct vusbkey_port_kobj *p = kzalloc(sizeof(*p), GFP_KERNEL);

		if (!p) {
			vusbkey_ports_sysfs_remove();
			return -ENOMEM;
		}
		p->dev = dev;
		p->port = i + 1;
		ret = kobject_init_and_add(&p->kobj, &port_ktype, vusbkey_ports_kobj, "%u", i + 1);
		if (ret) {
			/* The kobject was initialised: its release frees it. */
			kobject_put(&p->kobj);
			vusbkey_ports_sysfs_remove();
			return ret;
		}
		vusbkey_port_kobjs[i] = p;
	}
	return 0;
}

/* ---- platform driver and its one device ---- */

static struct platform_driver vusbkey_driver = {
	.probe = vusbkey_rs_probe,
	.remove = vusbkey_rs_remove,
	.driver = {
		.name = DRIVER_NAME,
		.dev_groups = vusbkey_groups,
		/* Only this module creates the device; no binding through sysfs. */
		.suppress_bind_attrs = true,
		/*
		 * Probe within platform_device_register(), even with driver_async_probe=*:
		 * vusbkey_platform_register() reports a failed probe, and the module's init
		 * then checks the root hub.
		 */
		.probe_type = PROBE_FORCE_SYNCHRONOUS,
	},
};

static struct platform_device *vusbkey_pdev;

int vusbkey_platform_register(void)
{
	int ret = platform_driver_register(&vusbkey_driver);

	if (ret)
		return ret;
	vusbkey_pdev = platform_device_register_simple(DRIVER_NAME, PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(vusbkey_pdev)) {
		platform_driver_unregister(&vusbkey_driver);
		return PTR_ERR(vusbkey_pdev);
	}
	/* Probe failures do not fail platform_device_register(): report them. */
	if (!device_is_bound(&vusbkey_pdev->dev)) {
		platform_device_unregister(vusbkey_pdev);
		platform_driver_unregister(&vusbkey_driver);
		return -ENODEV;
	}
	return 0;
}

struct usb_hcd *vusbkey_platform_hcd(void) { return platform_get_drvdata(vusbkey_pdev); }

void vusbkey_platform_unregister(void)
{
	platform_device_unregister(vusbkey_pdev);
	platform_driver_unregister(&vusbkey_driver);
}
