//! Printing an [`Inspection`] for people.

use image_builder::{Inspection, ManifestCheck};

/// Prints the volume, its files and the manifest check; returns whether the manifest is
/// present and right.
pub(crate) fn print(inspection: &Inspection) -> bool {
    let id = inspection.volume_id;
    println!(
        "volume:    {} bytes, {}, label {:?}, id {:04X}-{:04X}",
        inspection.size,
        inspection.fat_type,
        inspection.label.trim_end(),
        id >> 16,
        id & 0xffff
    );
    println!("files:");
    for file in &inspection.files {
        println!(
            "  {:<12} {:>6}  {}  {}",
            file.name, file.size, file.modified, file.sha256
        );
    }
    match &inspection.manifest {
        ManifestCheck::Missing => println!("manifest:  MISSING"),
        ManifestCheck::Unreadable(line) => println!("manifest:  UNREADABLE line {line:?}"),
        ManifestCheck::Checked { listed, problems } if problems.is_empty() => {
            println!("manifest:  OK, {listed} listed");
            return true;
        }
        ManifestCheck::Checked { problems, .. } => {
            println!("manifest:  FAILED");
            for problem in problems {
                println!("  {problem}");
            }
        }
    }
    false
}
