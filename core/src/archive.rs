//! Reading `.zip` archives of images (the `zip` crate, stored and deflated entries), and the
//! self-contained project zip: the project file plus the items' files.

pub mod folders;

use std::io::{Cursor, Read, Write};

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
/// images are compressed already).
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
    for (name, data) in files {
        put(&format!("{ITEMS_FOLDER}{name}"), &data, stored);
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
    let mut read = |name: &str| -> Result<Option<Vec<u8>>> {
        let Ok(mut entry) = archive.by_name(name) else {
            return Ok(None);
        };
        let mut v = Vec::new();
        entry
            .read_to_end(&mut v)
            .map_err(|e| bad(format!("'{name}' could not be read ({e})")))?;
        Ok(Some(v))
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
}
