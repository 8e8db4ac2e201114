//! Getting the person's files: file and folder pickers, drag-and-drop (folders walked), zips
//! unpacked in the page. Files stay where the browser keeps them; items are addressed by object
//! URLs, so nothing is decoded or copied until it is embedded or shown.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Array, Promise, Uint8Array};
use quarry_core::archive::for_each_zip_image;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, DataTransfer, File, FileSystemDirectoryEntry, FileSystemEntry,
    FileSystemFileEntry, HtmlInputElement, Url,
};

/// One file the person gave, with its path relative to what they picked or dropped.
#[derive(Debug, Clone)]
pub struct Picked {
    /// `/`-separated path (a folder pick or drop keeps the folders; a plain pick is the name).
    pub path: String,
    /// The file's contents, as the browser holds them.
    pub blob: Blob,
}

/// The files of a file `<input>` (with `webkitdirectory`, every file below the folder).
pub fn from_input(input: &HtmlInputElement) -> Vec<Picked> {
    let Some(list) = input.files() else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file| {
            let relative = js_sys::Reflect::get(&file, &"webkitRelativePath".into())
                .ok()
                .and_then(|v| v.as_string())
                .filter(|p| !p.is_empty());
            Picked {
                path: relative.unwrap_or_else(|| file.name()),
                blob: file.into(),
            }
        })
        .collect()
}

/// The entries of a drop, taken synchronously (the list dies with the event).
pub fn drop_entries(data: &DataTransfer) -> Vec<FileSystemEntry> {
    let items = data.items();
    (0..items.length())
        .filter_map(|i| items.get(i))
        .filter(|item| item.kind() == "file")
        .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect()
}

/// The plain files of a drop (no folders), for drops without file-system entries.
pub fn drop_files(data: &DataTransfer) -> Vec<Picked> {
    let Some(list) = data.files() else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file| Picked {
            path: file.name(),
            blob: file.into(),
        })
        .collect()
}

/// Every file below the dropped `entries`, folders walked recursively.
///
/// # Errors
/// The browser's message when a folder cannot be read.
pub async fn walk_entries(entries: Vec<FileSystemEntry>) -> Result<Vec<Picked>, String> {
    let mut out = Vec::new();
    let mut stack = entries;
    while let Some(entry) = stack.pop() {
        let path = entry.full_path().trim_start_matches('/').to_string();
        if entry.is_directory() {
            let dir: FileSystemDirectoryEntry = entry.unchecked_into();
            let reader = dir.create_reader();
            // `readEntries` answers in batches until an empty one.
            loop {
                let batch = JsFuture::from(Promise::new(&mut |resolve, reject| {
                    let _ = reader.read_entries_with_callback_and_callback(&resolve, &reject);
                }))
                .await
                .map_err(|e| format!("the folder {path} could not be read: {e:?}"))?;
                let batch: Array = batch.unchecked_into();
                if batch.length() == 0 {
                    break;
                }
                stack.extend(batch.iter().map(JsCast::unchecked_into::<FileSystemEntry>));
            }
        } else {
            let file_entry: FileSystemFileEntry = entry.unchecked_into();
            let file = JsFuture::from(Promise::new(&mut |resolve, reject| {
                file_entry.file_with_callback_and_callback(&resolve, &reject);
            }))
            .await
            .map_err(|e| format!("{path} could not be read: {e:?}"))?;
            let file: File = file.unchecked_into();
            out.push(Picked {
                path,
                blob: file.into(),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The bytes of `blob`. The browser's copy is freed at once ([`crate::js_bytes::read`]).
pub async fn read_bytes(blob: &Blob) -> Result<Vec<u8>, String> {
    crate::js_bytes::read(blob).await
}

/// The text of `blob`, decoded as `Blob.text()` does (UTF-8, a leading byte-order mark
/// dropped, malformed bytes replaced by U+FFFD). Read as bytes, not with `Blob.text()`: the JS
/// string that makes (40 MiB for a million short texts) stays in the page as garbage until the
/// page's next collection, which an idle page puts off — into a fill of the learner, where the
/// tab's memory is highest.
pub async fn read_text(blob: &Blob) -> Result<String, String> {
    let mut bytes = read_bytes(blob).await?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// The file at `url` (one of the app's own files, or an object URL of the person's), as the
/// browser holds it.
///
/// # Errors
/// The browser's message, or the HTTP status when it is not a success.
pub async fn fetch_blob(url: &str) -> Result<Blob, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{e:?}"))?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let blob = JsFuture::from(response.blob().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(blob.unchecked_into())
}

/// The bytes of the file at `url` ([`fetch_blob`]).
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    read_bytes(&fetch_blob(url).await?).await
}

/// The image entries of zip file `zip` as blobs (held by the browser, not the wasm heap), paths
/// as in the archive. Returns them and how many other entries were passed over.
///
/// # Errors
/// A message naming the zip when it is not a zip or an entry is corrupt.
pub async fn unzip(zip: &Picked) -> Result<(Vec<Picked>, usize), String> {
    let bytes = read_bytes(&zip.blob)
        .await
        .map_err(|e| format!("{} could not be read: {e}", zip.path))?;
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut failed = None;
    for_each_zip_image(&bytes, &mut skipped, |path, data| {
        match blob_of(&data, mime_of(path)) {
            Ok(blob) => out.push(Picked {
                path: path.to_string(),
                blob,
            }),
            Err(e) => failed = Some(e),
        }
    })
    .map_err(|e| format!("{}: {e}", zip.path))?;
    match failed {
        Some(e) => Err(format!("{}: {e}", zip.path)),
        None => Ok((out, skipped)),
    }
}

fn blob_of(data: &[u8], mime: &str) -> Result<Blob, String> {
    let parts = Array::of1(&Uint8Array::from(data));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| format!("{e:?}"))
}

fn mime_of(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        _ => "application/octet-stream",
    }
}

thread_local! {
    /// The blob behind each object URL [`object_url`] made and [`revoke`] has not freed.
    static BLOBS: RefCell<HashMap<String, Blob>> = RefCell::new(HashMap::new());
}

/// An object URL for `blob`, valid until [`revoke`]d or the page closes; [`blob_at`] finds the
/// blob again from it.
pub fn object_url(blob: &Blob) -> Result<String, String> {
    let url = Url::create_object_url_with_blob(blob).map_err(|e| format!("{e:?}"))?;
    BLOBS.with_borrow_mut(|b| b.insert(url.clone(), blob.clone()));
    Ok(url)
}

/// The blob behind object URL `url`, when [`object_url`] made it and it is not revoked.
pub fn blob_at(url: &str) -> Option<Blob> {
    BLOBS.with_borrow(|b| b.get(url).cloned())
}

/// Frees object URLs made by [`object_url`].
pub fn revoke(urls: &[String]) {
    BLOBS.with_borrow_mut(|b| {
        for u in urls.iter().filter(|u| u.starts_with("blob:")) {
            b.remove(u);
            let _ = Url::revoke_object_url(u);
        }
    });
}
