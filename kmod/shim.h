/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vusbkey: the whole C <-> Rust interface, in one header.
 *
 * shim.c implements the `vusbkey_*` functions (one-line wrappers around kernel
 * macros, inline functions and struct fields that Rust-for-Linux 6.12 has no
 * bindings for); the Rust part implements the `vusbkey_rs_*` callbacks. Only
 * pointers to opaque structs and fixed-width integers cross the boundary, so
 * `ffi.rs`, which mirrors this file by hand, is easy to audit against it.
 * Keep the two in the same order.
 */
#ifndef VUSBKEY_SHIM_H
#define VUSBKEY_SHIM_H

#include <linux/spinlock_types.h>
#include <linux/types.h>

struct device;
struct platform_device;
struct scatterlist;
struct urb;
struct usb_hcd;
struct usb_host_endpoint;
struct workqueue_struct;

/* Most root-hub ports, hence images and serial= values (roothub.rs MAX_PORTS). */
#define VUSBKEY_MAX_PORTS 15

/* Module parameters, as given to insmod (NULL strings: not given). */
struct vusbkey_params {
	u16 vendor_id;
	u16 product_id;
	u32 nr_serials;		/* serial= values given; read with vusbkey_param_serial() */
	const char *manufacturer;
	const char *product;
	const char *speed;
};

/* What the Rust side needs to know about an URB, read in one call. */
struct vusbkey_urb_info {
	u32 pipe;
	u32 transfer_flags;
	u32 length;		/* transfer_buffer_length */
	u32 num_sgs;
	void *buffer;		/* transfer_buffer (NULL when num_sgs > 0) */
	struct scatterlist *sg;
	const u8 *setup;	/* 8 bytes, control transfers only */
};

/* ---- implemented in C (shim.c) ---- */

/* Module parameters. */
void vusbkey_get_params(struct vusbkey_params *out);
/* serial=, value `index` (0-based; NULL past the values given). */
const char *vusbkey_param_serial(u32 index);

/* Platform driver and device: register both (probed synchronously) / unregister both. */
int vusbkey_platform_register(void);
void vusbkey_platform_unregister(void);
/* The registered device's HCD (its drvdata). */
struct usb_hcd *vusbkey_platform_hcd(void);

/*
 * The HCD: create (not yet added; also the platform drvdata; with super_speed, the USB 2.0
 * primary of a SuperSpeed pair), create the pair's shared SuperSpeed HCD, add, remove;
 * references.
 */
struct usb_hcd *vusbkey_hcd_create(struct platform_device *pdev, u32 sg_tablesize,
				   bool super_speed);
struct usb_hcd *vusbkey_hcd_create_shared(struct platform_device *pdev, struct usb_hcd *primary,
					  u32 sg_tablesize);
int vusbkey_hcd_add(struct usb_hcd *hcd);
void vusbkey_hcd_remove(struct usb_hcd *hcd);
void vusbkey_hcd_get(struct usb_hcd *hcd);
void vusbkey_hcd_put(struct usb_hcd *hcd);
void *vusbkey_hcd_priv(struct usb_hcd *hcd);
void vusbkey_hcd_set_priv(struct usb_hcd *hcd, void *priv);
struct usb_hcd *vusbkey_pdev_hcd(struct platform_device *pdev);
struct usb_hcd *vusbkey_dev_hcd(struct device *dev);
/* hcd->state = HC_STATE_RUNNING (true) or HC_STATE_SUSPENDED (false). */
void vusbkey_hcd_set_running(struct usb_hcd *hcd, bool running);
bool vusbkey_hcd_hw_accessible(struct usb_hcd *hcd);
void vusbkey_hcd_poll_rh_status(struct usb_hcd *hcd);
void vusbkey_hcd_resume_root_hub(struct usb_hcd *hcd);

/* URB bookkeeping, exactly usbcore's functions. */
int vusbkey_urb_link(struct usb_hcd *hcd, struct urb *urb);
int vusbkey_urb_check_unlink(struct usb_hcd *hcd, struct urb *urb, int status);
void vusbkey_urb_unlink(struct usb_hcd *hcd, struct urb *urb);
/* Process context, interrupts on: softirqs are held off around usb_hcd_giveback_urb. */
void vusbkey_urb_giveback(struct usb_hcd *hcd, struct urb *urb, int status);
void vusbkey_urb_get_info(struct urb *urb, struct vusbkey_urb_info *out);
int vusbkey_urb_unlinked(struct urb *urb);
void vusbkey_urb_set_actual_length(struct urb *urb, u32 len);
struct usb_host_endpoint *vusbkey_urb_ep(struct urb *urb);
/* urb->dev->portnum: the root-hub port of the URB's device (1-based). */
u32 vusbkey_urb_portnum(struct urb *urb);
/* urb->hcpriv: the HCD's own link to the next queued URB. */
struct urb *vusbkey_urb_next(struct urb *urb);
void vusbkey_urb_set_next(struct urb *urb, struct urb *next);
/* WARN: an URB owned by the HCD was dropped without being given back. */
void vusbkey_urb_leaked(struct urb *urb);

/* Scatterlists. */
struct scatterlist *vusbkey_sg_next(struct scatterlist *sg);
void *vusbkey_sg_virt(struct scatterlist *sg);
u32 vusbkey_sg_len(struct scatterlist *sg);

/* sysfs: ports/N/ under the platform device, one per port; removed before the HCD is. */
int vusbkey_ports_sysfs_add(struct platform_device *pdev, u32 ports);
void vusbkey_ports_sysfs_remove(void);

/* Locks and the module's workqueue. */
unsigned long vusbkey_spin_lock_irqsave(spinlock_t *lock);
void vusbkey_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);
/* For the lock Backend methods of later lines (compat.rs). */
bool vusbkey_spin_trylock_irqsave(spinlock_t *lock, unsigned long *flags);
void vusbkey_spin_assert_is_held(spinlock_t *lock);
struct workqueue_struct *vusbkey_alloc_workqueue(void);
/* memalloc_noio_save/restore: allocations in between behave as GFP_NOIO. */
unsigned int vusbkey_noio_save(void);
void vusbkey_noio_restore(unsigned int flags);
/* gfpflags_allow_blocking: whoever passed these flags may sleep. */
bool vusbkey_gfp_allows_blocking(gfp_t flags);

/* ---- implemented in Rust (hc_ops.rs, platform.rs) ---- */

int vusbkey_rs_probe(struct platform_device *pdev);
void vusbkey_rs_remove(struct platform_device *pdev);
/* `port` is 1-based, at most the number of images. */
int vusbkey_rs_connected_show(struct device *dev, u32 port);
int vusbkey_rs_connected_store(struct device *dev, u32 port, bool connected);
const u8 *vusbkey_rs_image_sha256(u32 port);	/* 64 lowercase hex digits */
u64 vusbkey_rs_image_size(u32 port);

int vusbkey_rs_start(struct usb_hcd *hcd);
void vusbkey_rs_stop(struct usb_hcd *hcd);
int vusbkey_rs_urb_enqueue(struct usb_hcd *hcd, struct urb *urb, gfp_t mem_flags);
int vusbkey_rs_urb_dequeue(struct usb_hcd *hcd, struct urb *urb, int status);
void vusbkey_rs_endpoint_disable(struct usb_hcd *hcd, struct usb_host_endpoint *ep);
int vusbkey_rs_hub_status_data(struct usb_hcd *hcd, char *buf);
int vusbkey_rs_hub_control(struct usb_hcd *hcd, u16 type_req, u16 w_value,
			   u16 w_index, char *buf, u16 w_length);
int vusbkey_rs_bus_suspend(struct usb_hcd *hcd);
int vusbkey_rs_bus_resume(struct usb_hcd *hcd);

#endif /* VUSBKEY_SHIM_H */
