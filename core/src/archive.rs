//! Reading `.zip` archives of images (the `zip` crate, stored and deflated entries).

use std::io::{Cursor, Read};

use crate::import::is_image_path;
use crate::{Error, Result};

/// Calls `each(path, bytes)` for every image entry of the zip archive `bytes`, in archive order.
/// Folders, non-images and macOS metadata are passed over; `skipped` counts them. Returns the
/// number of images given to `each`.
///
/// # Errors
/// [`Error::Format`] when the bytes are not a zip archive, an entry is encrypted or compressed
/// with a method other than stored/deflate, or an entry is corrupt (named).
pub fn for_each_zip_image(
    bytes: &[u8],
    skipped: &mut usize,
    mut each: impl FnMut(&str, Vec<u8>),
) -> Result<usize> {
    let bad = |reason: String| Error::Format {
        what: "zip archive",
        reason,
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| bad(format!("it is not a readable zip file ({e})")))?;
    let mut images = 0;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| bad(format!("entry {}: {e}", i + 1)))?;
        let name = entry.name().to_string();
        if entry.is_dir() || !is_image_path(&name) {
            *skipped += usize::from(!entry.is_dir());
            continue;
        }
        let mut data = Vec::with_capacity(entry.size().min(64 << 20) as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("'{name}' could not be read ({e})")))?;
        each(&name, data);
        images += 1;
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (i, (name, data)) in files.iter().enumerate() {
            let method = if i % 2 == 0 {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let opts = zip::write::SimpleFileOptions::default().compression_method(method);
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn images_come_out_and_the_rest_is_counted() {
        let bytes = zip_of(&[
            ("set/cats/a.png", b"png bytes png bytes png bytes"),
            ("set/readme.txt", b"hello"),
            ("set/dogs/b.JPG", b"jpeg"),
            ("__MACOSX/set/._b.JPG", b"junk"),
        ]);
        let mut got = Vec::new();
        let mut skipped = 0;
        let n =
            for_each_zip_image(&bytes, &mut skipped, |p, d| got.push((p.to_string(), d))).unwrap();
        assert_eq!(n, 2);
        assert_eq!(skipped, 2);
        assert_eq!(got[0].0, "set/cats/a.png");
        assert_eq!(got[0].1, b"png bytes png bytes png bytes");
        assert_eq!(got[1].1, b"jpeg");
    }

    #[test]
    fn not_a_zip_is_a_clear_error() {
        let e = for_each_zip_image(b"PK nope", &mut 0, |_, _| {}).unwrap_err();
        assert!(e.to_string().contains("not a readable zip file"), "{e}");
        let mut bytes = zip_of(&[("a.png", &[7u8; 4000])]);
        // Corrupt the deflated data.
        for b in &mut bytes[40..80] {
            *b ^= 0x55;
        }
        assert!(for_each_zip_image(&bytes, &mut 0, |_, _| {}).is_err());
    }
}
