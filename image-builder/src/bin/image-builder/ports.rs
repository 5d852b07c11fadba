//! `image-builder ports`.

use crate::cli::PortsArgs;

/// Prints the table of the loaded module's ports, and on stderr why a disk's token could
/// not be read (that port's line shows no VM and expiry).
pub(crate) fn run(args: &PortsArgs) -> anyhow::Result<()> {
    let ports = image_builder::ports(&args.sysfs, &args.dev)?;
    print!("{}", ports.table);
    for error in ports.unreadable {
        eprintln!("image-builder: warning: {:#}", anyhow::Error::from(error));
    }
    Ok(())
}
