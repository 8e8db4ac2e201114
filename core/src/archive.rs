//! Reading `.zip` archives of images (the `zip` crate, stored and deflated entries), and the
//! self-contained project zip: the project file plus the items' files.

pub mod folders;
pub mod names;

use std::io::{Cursor, Read, Write};

use crate::import::is_image_path;
use crate::{Error, Result};
use names::{safe_path, UniqueNames};

/// An entry may inflate to at most this many bytes.
pub const MAX_ENTRY_BYTES: u64 = 512 << 20;
/// All entries of one archive together may inflate to at most this many bytes.
pub const MAX_TOTAL_BYTES: u64 = 4 << 30;
/// An entry of more than [`RATIO_FLOOR`] bytes may inflate at most this many times its packed
/// size (images barely compress; a zip bomb inflates a thousandfold).
pub const MAX_RATIO: u64 = 100;
/// Entries up to this size are not held to [`MAX_RATIO`].
pub const RATIO_FLOOR: u64 = 1 << 20;

/// Reads one entry, refusing a zip bomb before it costs memory: the declared size is checked
/// against [`MAX_ENTRY_BYTES`], [`MAX_RATIO`] and what is left of `budget` before anything is
/// inflated, and no more than the declared size (plus one byte, to catch a lie) is ever read.
fn read_entry<R: Read>(
    entry: &mut zip::read::ZipFile<'_, R>,
    name: &str,
    budget: &mut u64,
) -> std::result::Result<Vec<u8>, String> {
    let declared = entry.size();
    let packed = entry.compressed_size().max(1);
    if declared > MAX_ENTRY_BYTES {
        return Err(format!(
            "'{name}' would inflate to {declared} bytes, more than an entry may ({MAX_ENTRY_BYTES})"
        ));
    }
    if declared > RATIO_FLOOR && declared / packed > MAX_RATIO {
        return Err(format!(
            "'{name}' would inflate {}× ({packed} → {declared} bytes): refused as a zip bomb",
            declared / packed
        ));
    }
    if declared > *budget {
        return Err(format!(
            "'{name}' would take the archive past {MAX_TOTAL_BYTES} bytes inflated: refused"
        ));
    }
    let mut data = Vec::with_capacity(declared as usize);
    entry
        .take(declared + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("'{name}' could not be read ({e})"))?;
    if data.len() as u64 > declared {
        return Err(format!(
            "'{name}' holds more than the {declared} bytes it declares: refused as a zip bomb"
        ));
    }
    *budget -= declared;
    Ok(data)
}

/// Calls `each(path, bytes)` for every image entry of the zip archive `bytes`, in archive order.
/// Folders, non-images and macOS metadata are passed over; `skipped` counts them. Returns the
/// number of images given to `each`. Paths are made safe ([`names::safe_path`]: no `..`, no
/// absolute paths, `/` separators; an entry whose name is nothing but those is skipped) and
/// unique (a repeat gets ` (2)`).
///
/// # Errors
/// [`Error::Format`] when the bytes are not a zip archive, an entry is encrypted or compressed
/// with a method other than stored/deflate, an entry is corrupt, or an entry would inflate
/// beyond the limits ([`MAX_ENTRY_BYTES`], [`MAX_RATIO`], [`MAX_TOTAL_BYTES`]: a zip bomb is
/// refused before it is inflated) — each named.
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
    let mut budget = MAX_TOTAL_BYTES;
    let mut names = UniqueNames::default();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| bad(format!("entry {}: {e}", i + 1)))?;
        let raw = entry.name().to_string();
        let safe = safe_path(&raw);
        let Some(name) = safe.filter(|n| !entry.is_dir() && is_image_path(n)) else {
            *skipped += usize::from(!entry.is_dir());
            continue;
        };
        let data = read_entry(&mut entry, &raw, &mut budget).map_err(bad)?;
        each(&names.take(&name), data);
        images += 1;
    }
    Ok(images)
}

/// Name of the project file inside a self-contained project zip.
pub const PROJECT_ENTRY: &str = "quarry-project.json";
/// Folder of the items' files inside it (each under its item name).
pub const ITEMS_FOLDER: &str = "items/";
/// The texts of a text project inside it (a JSON array, in item order).
pub const TEXTS_ENTRY: &str = "texts.json";
/// The items' cached embeddings inside it ([`crate::cache::encode_entries`]).
pub const EMBEDDINGS_ENTRY: &str = "embeddings.bin";

/// What a self-contained project zip holds beside the items' files.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectZip {
    /// The project file.
    pub project: String,
    /// The texts of a text project.
    pub texts: Option<Vec<String>>,
    /// Cached embeddings ([`crate::cache::decode_entries`] reads them).
    pub embeddings: Option<Vec<u8>>,
}

/// A self-contained project zip: the project file as [`PROJECT_ENTRY`], the texts and
/// embeddings when given, and each of `files` (`(name, bytes)`) under [`ITEMS_FOLDER`] (stored:
/// images are compressed already) by its safe name ([`names::safe_path`]: never `..` or an
/// absolute path, whatever the item was called).
pub fn write_project_zip(
    contents: &ProjectZip,
    files: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut put = |name: &str, data: &[u8], opts| {
        w.start_file(name, opts)
            .and_then(|()| w.write_all(data).map_err(Into::into))
            .expect("writing to memory cannot fail");
    };
    put(PROJECT_ENTRY, contents.project.as_bytes(), deflated);
    if let Some(texts) = &contents.texts {
        let json = serde_json::to_vec(texts).expect("strings serialise");
        put(TEXTS_ENTRY, &json, deflated);
    }
    if let Some(e) = &contents.embeddings {
        put(EMBEDDINGS_ENTRY, e, deflated);
    }
    let mut names = UniqueNames::default();
    for (name, data) in files {
        let safe = names.take(&safe_path(&name).unwrap_or_else(|| "_".to_string()));
        put(&format!("{ITEMS_FOLDER}{safe}"), &data, stored);
    }
    w.finish()
        .expect("writing to memory cannot fail")
        .into_inner()
}

/// A text classifier's zip: the ONNX classifier as `classifier.onnx`, the tokenizer it needs
/// as `tokenizer.json` and a `README.txt` saying how to run them.
pub fn write_text_classifier_zip(onnx: &[u8], tokenizer: &[u8], classes: &[String]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let readme = format!(
        "Quarry text classifier\n\n\
         classifier.onnx: inputs input_ids and attention_mask (int64, N x S), output \
         probabilities (float32, N x {}), class names in the metadata key 'classes':\n{}\n\n\
         tokenizer.json: the tokenizer that makes input_ids (Hugging Face tokenizers format); \
         encode each text with its special tokens, at most 256 tokens, no padding for one text.\n",
        classes.len(),
        serde_json::to_string(classes).expect("strings serialise")
    );
    for (name, data) in [
        ("classifier.onnx", onnx),
        ("tokenizer.json", tokenizer),
        ("README.txt", readme.as_bytes()),
    ] {
        w.start_file(name, deflated)
            .and_then(|()| w.write_all(data).map_err(Into::into))
            .expect("writing to memory cannot fail");
    }
    w.finish()
        .expect("writing to memory cannot fail")
        .into_inner()
}

/// What a self-contained project zip holds beside the items' files; `None` when `bytes` is a
/// zip without a project file (a plain zip of images).
///
/// # Errors
/// [`Error::Format`] when the bytes are not a zip archive or an entry cannot be read.
pub fn read_project_zip(bytes: &[u8]) -> Result<Option<ProjectZip>> {
    let bad = |reason: String| Error::Format {
        what: "project zip",
        reason,
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| bad(format!("it is not a readable zip file ({e})")))?;
    let mut budget = MAX_TOTAL_BYTES;
    let mut read = |name: &str| -> Result<Option<Vec<u8>>> {
        let Ok(mut entry) = archive.by_name(name) else {
            return Ok(None);
        };
        read_entry(&mut entry, name, &mut budget)
            .map(Some)
            .map_err(bad)
    };
    let Some(project) = read(PROJECT_ENTRY)? else {
        return Ok(None);
    };
    let project =
        String::from_utf8(project).map_err(|_| bad(format!("{PROJECT_ENTRY} is not text")))?;
    let texts = match read(TEXTS_ENTRY)? {
        Some(t) => Some(
            serde_json::from_slice(&t)
                .map_err(|e| bad(format!("{TEXTS_ENTRY} is not a list of texts ({e})")))?,
        ),
        None => None,
    };
    let embeddings = read(EMBEDDINGS_ENTRY)?;
    Ok(Some(ProjectZip {
        project,
        texts,
        embeddings,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_zip_holds_the_project_its_files_and_texts() {
        let files = vec![
            ("cats/a.png".to_string(), b"png".to_vec()),
            ("b.jpg".to_string(), b"jpeg".to_vec()),
        ];
        let contents = ProjectZip {
            project: "{\"format\":1}".into(),
            texts: None,
            embeddings: Some(vec![1, 2, 3]),
        };
        let bytes = write_project_zip(&contents, files);
        assert_eq!(read_project_zip(&bytes).unwrap().unwrap(), contents);
        let mut got = Vec::new();
        let mut skipped = 0;
        for_each_zip_image(&bytes, &mut skipped, |p, d| got.push((p.to_string(), d))).unwrap();
        assert_eq!(got[0], ("items/cats/a.png".to_string(), b"png".to_vec()));
        assert_eq!(skipped, 2, "the project file and embeddings are not images");
        let texts = vec!["one".to_string(), "two, \"quoted\"".to_string()];
        let contents = ProjectZip {
            project: "{}".into(),
            texts: Some(texts),
            embeddings: None,
        };
        let bytes = write_project_zip(&contents, Vec::new());
        assert_eq!(read_project_zip(&bytes).unwrap().unwrap(), contents);
        // A plain zip of images is not a project; garbage is an error.
        assert_eq!(read_project_zip(&zip_of(&[("a.png", b"x")])).unwrap(), None);
        assert!(read_project_zip(b"PK not really").is_err());
    }

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

    #[test]
    fn hostile_entry_names_come_in_safe_and_never_go_out_unsafe() {
        let zip = zip_of(&[
            ("../../evil.png", b"a"),
            ("/abs/x.png", b"b"),
            ("C:\\win\\y.png", b"c"),
            ("evil.png", b"d"),
            ("../", b""),
        ]);
        let mut names = Vec::new();
        let mut skipped = 0;
        for_each_zip_image(&zip, &mut skipped, |n, _| names.push(n.to_string())).unwrap();
        assert_eq!(
            names,
            ["evil.png", "abs/x.png", "win/y.png", "evil (2).png"]
        );
        // Writing: whatever the items are called, every entry stays inside the zip's folders.
        let out = write_project_zip(
            &ProjectZip {
                project: "{}".into(),
                texts: None,
                embeddings: None,
            },
            [
                ("../../evil.png".to_string(), b"x".to_vec()),
                ("/etc/y.png".to_string(), b"y".to_vec()),
            ],
        );
        let back = zip::ZipArchive::new(Cursor::new(out)).unwrap();
        let mut written: Vec<&str> = back.file_names().collect();
        written.sort_unstable();
        assert_eq!(
            written,
            ["items/etc/y.png", "items/evil.png", "quarry-project.json"]
        );
    }

    #[test]
    fn a_zip_bomb_is_refused_before_it_is_inflated() {
        // 16 MiB of zeros deflate to ~16 KiB: a 1000× ratio.
        let bomb = zip_of(&[("bomb.png", &vec![0u8; 16 << 20])]);
        assert!(bomb.len() < 100_000);
        let mut seen = 0;
        let e = for_each_zip_image(&bomb, &mut 0, |_, _| seen += 1).unwrap_err();
        assert!(e.to_string().contains("zip bomb"), "{e}");
        assert_eq!(seen, 0);
        // The same entry lying about its size (declares 1,000 bytes): read no further than that.
        let mut liar = bomb.clone();
        let small = 1000u32.to_le_bytes();
        // The uncompressed size: at 22 in the local header (at 0), at 24 in the central one.
        assert_eq!(liar[..4], [0x50, 0x4b, 0x03, 0x04]);
        liar[22..26].copy_from_slice(&small);
        let central = (0..liar.len() - 4)
            .rfind(|&at| liar[at..at + 4] == [0x50, 0x4b, 0x01, 0x02])
            .unwrap();
        liar[central + 24..central + 28].copy_from_slice(&small);
        let e = for_each_zip_image(&liar, &mut 0, |_, _| seen += 1).unwrap_err();
        assert!(e.to_string().contains("bomb.png"), "{e}");
        assert_eq!(seen, 0);
        // The project zip's reader holds to the same limits.
        let project = zip_of(&[(PROJECT_ENTRY, &vec![b' '; 16 << 20])]);
        assert!(read_project_zip(&project)
            .unwrap_err()
            .to_string()
            .contains("zip bomb"));
    }
}
