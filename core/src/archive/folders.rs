//! The items sorted into class folders (`<class>/<name>`, the layout of ImageNet-style folders
//! and most trainers' "image folder" loaders), as a zip written piece by piece: each file is
//! added and the finished bytes before it handed out at once, so a 50,000-image pool never sits
//! in memory as one zip.

use std::cell::RefCell;
use std::io::{Cursor, Seek, SeekFrom, Write};
use std::rc::Rc;

use super::names::{safe_path, UniqueNames};
use crate::export::{prediction_rows, LabelSource};
use crate::predict::Predictions;
use crate::{Error, Result, Session};

/// Folder of items nobody (or no confident enough prediction) labels.
pub const UNLABELED: &str = "unlabeled";

/// The folders of every item of the pool, in item order: the person's classes, else (with
/// `threshold`) the model's when its probability reaches it, else [`UNLABELED`]. A multi-label
/// item goes into each of its classes' folders ("none of these" and empty sets: unlabeled).
pub fn folder_plan(
    session: &Session,
    predictions: Option<&Predictions>,
    threshold: Option<f32>,
) -> Vec<Vec<String>> {
    prediction_rows(session, predictions)
        .map(|row| {
            let take = match row.source {
                Some(LabelSource::Person) => true,
                Some(LabelSource::Model) => {
                    threshold.zip(row.probability).is_some_and(|(t, p)| p >= t)
                }
                None => false,
            };
            if take && !row.labels.is_empty() {
                row.labels.iter().map(|c| folder_name(c)).collect()
            } else {
                vec![UNLABELED.to_string()]
            }
        })
        .collect()
}

/// A class name as one safe path segment: no separators, no leading dots, not empty.
pub fn folder_name(class: &str) -> String {
    let cleaned: String = class
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '\0' => '_',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "_".to_string()
    } else {
        cleaned
    }
}

/// The last path segment of an item name (`cats/a.jpg` → `a.jpg`).
pub fn file_name(item: &str) -> &str {
    item.rsplit(['/', '\\']).next().unwrap_or(item)
}

/// Where the zip's bytes go: everything before `kept` has been handed out; what follows is kept
/// until no later write can seek back into it.
#[derive(Debug, Default)]
struct Chunks {
    kept: u64,
    buf: Vec<u8>,
    pos: u64,
}

/// The zip writer's end of [`Chunks`] (shared: the writer does not give its sink back).
#[derive(Debug, Default, Clone)]
struct ChunkSink(Rc<RefCell<Chunks>>);

impl Chunks {
    /// Hands out the bytes before `upto`.
    fn take_before(&mut self, upto: u64) -> Vec<u8> {
        let n = (upto.saturating_sub(self.kept) as usize).min(self.buf.len());
        self.kept += n as u64;
        self.buf.drain(..n).collect()
    }
}

impl Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut this = self.0.borrow_mut();
        let this = &mut *this;
        if this.pos < this.kept {
            return Err(std::io::Error::other(
                "the zip writer went back past handed-out bytes",
            ));
        }
        let at = (this.pos - this.kept) as usize;
        let end = at + data.len();
        if this.buf.len() < end {
            this.buf.resize(end, 0);
        }
        this.buf[at..end].copy_from_slice(data);
        this.pos += data.len() as u64;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for ChunkSink {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let mut this = self.0.borrow_mut();
        let end = this.kept + this.buf.len() as u64;
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => end.checked_add_signed(d),
            SeekFrom::Current(d) => this.pos.checked_add_signed(d),
        };
        match target {
            Some(p) if p >= this.kept => {
                this.pos = p;
                Ok(p)
            }
            _ => Err(std::io::Error::other(
                "the zip writer went back past handed-out bytes",
            )),
        }
    }
}

/// A zip written entry by entry; [`StreamingZip::add`] and [`StreamingZip::finish`] return the
/// bytes that are final, to be appended to the output in order.
#[derive(Debug)]
pub struct StreamingZip {
    zip: zip::ZipWriter<ChunkSink>,
    chunks: ChunkSink,
    names: UniqueNames,
}

impl Default for StreamingZip {
    fn default() -> Self {
        StreamingZip::new()
    }
}

impl StreamingZip {
    pub fn new() -> StreamingZip {
        let chunks = ChunkSink::default();
        StreamingZip {
            zip: zip::ZipWriter::new(chunks.clone()),
            chunks,
            names: UniqueNames::default(),
        }
    }

    /// Adds `bytes` as `folder/name`, made a safe relative path ([`safe_path`]: never `..` or
    /// absolute; a repeated path gets ` (2)`, ` (3)`… before its extension); images are
    /// stored, other files deflated. Returns the bytes now final.
    ///
    /// # Errors
    /// [`Error::Format`] when the zip cannot be written (a file over the zip format's limits).
    pub fn add(
        &mut self,
        folder: &str,
        name: &str,
        bytes: &[u8],
        deflate: bool,
    ) -> Result<Vec<u8>> {
        let joined = format!("{folder}/{name}");
        let path = self
            .names
            .take(&safe_path(&joined).unwrap_or_else(|| "_".to_string()));
        let before = self.chunks.0.borrow().pos;
        let method = if deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        self.zip
            .start_file(path, options)
            .and_then(|()| self.zip.write_all(bytes).map_err(Into::into))
            .map_err(|e| Error::Format {
                what: "zip",
                reason: e.to_string(),
            })?;
        // Starting this entry finished the previous one: everything before it is final.
        Ok(self.chunks.0.borrow_mut().take_before(before))
    }

    /// Ends the zip (the central directory); returns the rest of its bytes.
    ///
    /// # Errors
    /// As [`StreamingZip::add`].
    pub fn finish(self) -> Result<Vec<u8>> {
        self.zip.finish().map_err(|e| Error::Format {
            what: "zip",
            reason: e.to_string(),
        })?;
        let mut chunks = self.chunks.0.borrow_mut();
        let end = chunks.kept + chunks.buf.len() as u64;
        Ok(chunks.take_before(end))
    }
}

/// A text project's folder export: one `<class>.csv` (`item,text`) per folder of
/// [`folder_plan`], and `all.csv` with every item's `item,text,label,source,probability`.
pub fn texts_by_class_zip(
    session: &Session,
    predictions: Option<&Predictions>,
    texts: &[String],
    threshold: Option<f32>,
) -> Vec<u8> {
    let plan = folder_plan(session, predictions, threshold);
    let mut per_folder: std::collections::BTreeMap<&str, String> = Default::default();
    let field = |s: &str| crate::export::csv_field(s);
    for (item, folders) in plan.iter().enumerate() {
        for f in folders {
            let csv = per_folder
                .entry(f.as_str())
                .or_insert_with(|| "item,text\n".to_string());
            csv.push_str(&format!(
                "{},{}\n",
                field(session.item_name(item)),
                field(texts.get(item).map_or("", String::as_str))
            ));
        }
    }
    let mut all = String::from("item,text,label,source,probability\n");
    for (row, folders) in prediction_rows(session, predictions).zip(&plan) {
        let taken = folders.first().is_some_and(|f| f != UNLABELED);
        let (label, source, probability) = if taken {
            (
                row.labels.join(";"),
                row.source.map_or("", LabelSource::as_str),
                row.probability.map(|p| p.to_string()).unwrap_or_default(),
            )
        } else {
            Default::default()
        };
        all.push_str(&format!(
            "{},{},{},{source},{probability}\n",
            field(session.item_name(row.item)),
            field(texts.get(row.item).map_or("", String::as_str)),
            field(&label)
        ));
    }
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in per_folder
        .iter()
        .map(|(f, csv)| (format!("{f}.csv"), csv.as_str()))
        .chain(std::iter::once(("all.csv".to_string(), all.as_str())))
    {
        w.start_file(name, options)
            .and_then(|()| w.write_all(data.as_bytes()).map_err(Into::into))
            .expect("writing to memory cannot fail");
    }
    w.finish()
        .expect("writing to memory cannot fail")
        .into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn session() -> (Session, Predictions) {
        let items = ["cats/a.png", "more/a.png", "c.png", "dup/a.png"]
            .map(String::from)
            .to_vec();
        let mut s = Session::new(items, vec!["cat".into(), "dog/wolf".into()]).unwrap();
        s.set_queue(vec![0]);
        s.answer(0).unwrap();
        let p = Predictions {
            classes: 2,
            multi_label: false,
            items: vec![1, 2, 3],
            probabilities: vec![0.95, 0.05, 0.4, 0.6, 0.2, 0.8],
        };
        (s, p)
    }

    #[test]
    fn plans_follow_the_threshold_and_person_labels_win() {
        let (s, p) = session();
        assert_eq!(
            folder_plan(&s, Some(&p), None),
            vec![
                vec!["cat"],
                vec!["unlabeled"],
                vec!["unlabeled"],
                vec!["unlabeled"]
            ]
        );
        assert_eq!(
            folder_plan(&s, Some(&p), Some(0.7)),
            vec![
                vec!["cat"],
                vec!["cat"],
                vec!["unlabeled"],
                vec!["dog_wolf"]
            ]
        );
        assert_eq!(folder_name("../x"), "_x");
        assert_eq!(file_name("dup/a.png"), "a.png");
    }

    #[test]
    fn a_streamed_zip_reads_back_whole_and_is_handed_out_as_it_goes() {
        let (s, p) = session();
        let plan = folder_plan(&s, Some(&p), Some(0.7));
        let mut zip = StreamingZip::new();
        let mut out = Vec::new();
        let mut largest_kept = 0;
        for (item, folders) in plan.iter().enumerate() {
            let bytes = vec![item as u8; 10_000 + item];
            for f in folders {
                out.extend(
                    zip.add(f, file_name(s.item_name(item)), &bytes, false)
                        .unwrap(),
                );
                largest_kept = largest_kept.max(zip.chunks.0.borrow().buf.len());
            }
        }
        out.extend(zip.finish().unwrap());
        // Only about the latest file is ever held.
        assert!(largest_kept < 11_000, "{largest_kept}");
        let mut back = zip::ZipArchive::new(Cursor::new(out)).unwrap();
        let mut names: Vec<String> = back.file_names().map(str::to_string).collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                "cat/a (2).png",
                "cat/a.png",
                "dog_wolf/a.png",
                "unlabeled/c.png"
            ]
        );
        let mut f = back.by_name("unlabeled/c.png").unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        assert_eq!(data, vec![2u8; 10_002]);
    }

    #[test]
    fn texts_go_into_one_csv_per_class_and_one_with_the_label_column() {
        let (s, p) = session();
        let texts: Vec<String> = ["meow", "purr, purr", "woof", "howl"]
            .map(String::from)
            .to_vec();
        let bytes = texts_by_class_zip(&s, Some(&p), &texts, Some(0.7));
        let mut back = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut read = |name: &str| {
            let mut text = String::new();
            back.by_name(name)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        };
        assert_eq!(
            read("cat.csv"),
            "item,text\ncats/a.png,meow\nmore/a.png,\"purr, purr\"\n"
        );
        assert_eq!(read("unlabeled.csv"), "item,text\nc.png,woof\n");
        assert!(read("all.csv").contains("dup/a.png,howl,dog/wolf,model,0.8\n"));
    }
}
