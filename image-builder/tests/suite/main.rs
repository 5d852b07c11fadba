//! The image-builder test suite, one binary: reproducibility, the real FAT tools
//! (`fsck.fat`, `mtools`, `mkfs.fat`), inspection, the port table, and the CLI's messages.

mod cli;
mod errors;
mod fixtures;
mod foreign_images;
mod inspection;
mod ports;
mod reproducible;
mod tools;
