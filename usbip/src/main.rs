//! `vusbkey-usbip`: serves vusbkey's key disk over USB/IP, for hosts whose kernel has no
//! Rust. A thin shell over the `vusbkey_usbip` library.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use vusbkey_device::Speed;
use vusbkey_usbip::identity::IdentityOptions;
use vusbkey_usbip::image::Image;
use vusbkey_usbip::key::Key;
use vusbkey_usbip::manifest::{self, Manifest};
use vusbkey_usbip::{attach, embedded, log, server};

/// Serve vusbkey's USB key disk over USB/IP (for kernels without Rust; where the kernel has
/// Rust, `vusbkey.ko` is the faster path).
#[derive(Parser)]
#[command(name = "vusbkey-usbip", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Attach the key(s) to this host's vhci-hcd through a socketpair: no network listener
    /// at all (the default way). Runs until SIGTERM or SIGINT, then detaches. Needs root.
    Attach {
        /// The manifest kept while it runs: per attached key, its vhci-hcd port, USB bus id
        /// (B-P: QEMU's hostbus and hostport), the VM and expiry its token claims, the
        /// image's sha256 and path, tab-separated as vusbkey.ko's `vusbkey.ports`. Removed on
        /// exit. Give each running vusbkey-usbip its own.
        #[arg(long, value_name = "FILE", default_value = manifest::DEFAULT_PATH)]
        manifest: PathBuf,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Listen for standard USB/IP clients (`usbip list -r HOST`, `usbip attach -r HOST -b
    /// 1-1`). USB/IP has NO authentication: anyone who can reach the address can attach
    /// the key. Keep the default loopback address, or use it inside a tunnel.
    Serve {
        /// Address to listen on. Any address but loopback exposes the key to the network.
        #[arg(long, default_value_t = SocketAddr::from(([127, 0, 0, 1], server::DEFAULT_PORT)))]
        listen: SocketAddr,
        #[command(flatten)]
        keys: KeyArgs,
    },
}

#[derive(Args)]
struct KeyArgs {
    /// A key image (from `image-builder build`); repeat for several keys, one device each.
    /// Default: the image compiled in by `cargo xtask usbip --image FILE`.
    #[arg(long, value_name = "FILE")]
    image: Vec<PathBuf>,
    /// USB serial number of each device, in the order of the images (default: the first 16
    /// hex digits of the image's SHA-256, upper case, as vusbkey.ko derives it).
    #[arg(long, value_delimiter = ',')]
    serial: Vec<String>,
    /// USB idVendor (default 0x1209, pid.codes).
    #[arg(long, value_parser = parse_u16)]
    vendor_id: Option<u16>,
    /// USB idProduct (default 0x0001).
    #[arg(long, value_parser = parse_u16)]
    product_id: Option<u16>,
    /// USB manufacturer string (default "vusbkey").
    #[arg(long)]
    manufacturer: Option<String>,
    /// USB product string (default "vusbkey authentication key").
    #[arg(long)]
    product: Option<String>,
    /// Speed of the device(s): `super` is USB 3 on vhci-hcd's SuperSpeed hub, where
    /// usb-storage moves up to 1 MiB per command; `high` is USB 2.0, for a VM whose USB
    /// controller has no USB 3 ports (QEMU `usb-ehci`; `qemu-xhci` takes both).
    #[arg(long, value_enum, default_value_t = SpeedArg::Super)]
    speed: SpeedArg,
}

/// `--speed`.
#[derive(Clone, Copy, ValueEnum)]
enum SpeedArg {
    Super,
    High,
}

impl From<SpeedArg> for Speed {
    fn from(speed: SpeedArg) -> Self {
        match speed {
            SpeedArg::Super => Speed::Super,
            SpeedArg::High => Speed::High,
        }
    }
}

/// A 16-bit id, hexadecimal with `0x` or decimal.
fn parse_u16(s: &str) -> Result<u16, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|e| format!("{s:?} is not a 16-bit id (0x1209 or 4617): {e}"))
}

impl KeyArgs {
    /// The keys to serve, validated.
    fn keys(&self) -> Result<Vec<Key>, String> {
        let images = if self.image.is_empty() {
            let bytes = embedded::IMAGE.ok_or(
                "no image: pass --image FILE, or build a binary with the image compiled in \
                 (cargo xtask usbip --image FILE)",
            )?;
            vec![Image::new("compiled-in image".to_owned(), Arc::from(bytes))
                .map_err(|e| e.to_string())?]
        } else {
            self.image
                .iter()
                .map(|path| Image::load(path).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?
        };
        if self.serial.len() > images.len() {
            return Err(format!(
                "{} serial numbers for {} images",
                self.serial.len(),
                images.len()
            ));
        }
        let options = IdentityOptions {
            vendor_id: self.vendor_id,
            product_id: self.product_id,
            manufacturer: self.manufacturer.clone(),
            product: self.product.clone(),
        };
        images
            .into_iter()
            .enumerate()
            .map(|(i, image)| {
                let serial = self.serial.get(i).map(String::as_str);
                Key::new(image, &options, serial, self.speed.into(), i as u32)
                    .map_err(|e| e.to_string())
            })
            .collect()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Attach { manifest, keys } => keys.keys().and_then(|keys| {
            attach::run(&keys, &Manifest::new(manifest)).map_err(|e| e.to_string())
        }),
        Command::Serve { listen, keys } => keys.keys().and_then(|keys| serve(listen, &keys)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error("error", e);
            ExitCode::FAILURE
        }
    }
}

fn serve(listen: SocketAddr, keys: &[Key]) -> Result<(), String> {
    let listener =
        TcpListener::bind(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    if !server::is_loopback(&bound) {
        log::warn(
            "serve",
            format!(
                "listening on {bound}, which is not loopback: USB/IP has no authentication, \
                 so anyone who can reach it can attach the key"
            ),
        );
    }
    for key in keys {
        log::info(&key.exported.busid, format!("exporting {}", key.describe()));
    }
    log::info(
        "serve",
        format!("listening on {bound} (USB/IP has no authentication)"),
    );
    server::run(&listener, keys).map_err(|e| e.to_string())
}
