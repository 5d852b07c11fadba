//! The image-builder test suite, one binary: reproducibility, the real FAT tools
//! (`fsck.fat`, `mtools`, `mkfs.fat`), inspection, and the CLI's messages.

mod cli;
mod errors;
mod fixtures;
mod foreign_images;
mod inspection;
mod reproducible;
mod tools;
