//! [`build`] and [`minimum_size`]: format a volume and write the files, reproducibly.

use std::io::{self, Cursor, Seek as _, SeekFrom, Write as _};

use fatfs::{FileSystem, FsOptions};

use crate::contents::Contents;
use crate::fixed_time::{dos_time, with_time, FIXED_TIME};
use crate::{geometry, label_entry, BuildError, BuildOptions, Label, MAX_SIZE, SECTOR_SIZE};

/// Builds the image: the bytes of a FAT volume holding the files of [`crate`].
pub fn build(options: &BuildOptions) -> Result<Vec<u8>, BuildError> {
    let contents = Contents::new(options)?;
    let minimum = minimum(&contents, &options.label)?;
    let Some(size) = options.size else {
        return image(&contents, &options.label, minimum);
    };
    if size % SECTOR_SIZE != 0 {
        return Err(BuildError::PartialSector { size });
    }
    if size < minimum {
        return Err(BuildError::TooSmall { size, minimum });
    }
    if size > MAX_SIZE {
        return Err(BuildError::TooLarge {
            size,
            max: MAX_SIZE,
        });
    }
    image(&contents, &options.label, size)
}

/// The size of the smallest image holding the files of `options`, in bytes.
pub fn minimum_size(options: &BuildOptions) -> Result<u64, BuildError> {
    minimum(&Contents::new(options)?, &options.label)
}

fn minimum(contents: &Contents, label: &Label) -> Result<u64, BuildError> {
    let mut sectors = 1;
    loop {
        let size = sectors * SECTOR_SIZE;
        match image(contents, label, size) {
            Ok(_) => return Ok(size),
            Err(e) if size >= MAX_SIZE => return Err(e),
            Err(_) => sectors += 1,
        }
    }
}

/// The image of exactly `size` bytes, with the first layout that holds the files.
fn image(contents: &Contents, label: &Label, size: u64) -> Result<Vec<u8>, BuildError> {
    let no_layout = |source| BuildError::NoLayout { size, source };
    let len = usize::try_from(size).map_err(|e| no_layout(io::Error::other(e)))?;
    let mut last_error = io::Error::other("no FAT layout tried");
    for layout in geometry::layouts(size, label, contents.volume_id) {
        let mut disk = Cursor::new(vec![0; len]);
        match with_time(contents.timestamp, || {
            write(&mut disk, layout, label, contents)
        }) {
            Ok(()) => return Ok(disk.into_inner()),
            Err(e) => last_error = e,
        }
    }
    Err(no_layout(last_error))
}

/// Formats `disk` with `layout`, labels it, and writes the files.
fn write(
    disk: &mut Cursor<Vec<u8>>,
    layout: fatfs::FormatVolumeOptions,
    label: &Label,
    contents: &Contents,
) -> io::Result<()> {
    fatfs::format_volume(&mut *disk, layout)?;
    label_entry::write(disk.get_mut(), label, dos_time(contents.timestamp))?;
    disk.seek(SeekFrom::Start(0))?;
    let fs = FileSystem::new(&mut *disk, FsOptions::new().time_provider(&FIXED_TIME))?;
    {
        let root = fs.root_dir();
        for (name, bytes) in &contents.files {
            let mut file = root.create_file(name)?;
            file.write_all(bytes)?;
            file.flush()?;
        }
    }
    fs.unmount()
}
