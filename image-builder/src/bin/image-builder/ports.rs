//! `image-builder ports`.

use crate::cli::PortsArgs;

/// Prints the table of the loaded module's ports.
pub(crate) fn run(args: &PortsArgs) -> anyhow::Result<()> {
    print!("{}", image_builder::ports(&args.sysfs, &args.dev)?);
    Ok(())
}
