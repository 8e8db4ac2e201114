//! Turning what a person drops in into items: image file lists (with class folders), label CSVs,
//! and text tables (CSV, TSV, JSON Lines, plain lines).

use std::collections::BTreeMap;

use crate::{Error, Result};

/// File name endings read as images (lowercase, without the dot).
pub const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "webp", "gif", "bmp"];

/// Whether `path` names a file Quarry reads as an image (by its ending, case-insensitive).
/// Hidden files and macOS resource forks (`._x.jpg`, `__MACOSX/`) are not.
pub fn is_image_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.starts_with('.') || path.split('/').any(|c| c == "__MACOSX") {
        return false;
    }
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// A set of image files laid out for a project.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageLayout {
    /// Item names: each file's path below the common folder, `/`-separated, in input order.
    pub items: Vec<String>,
    /// Index into the input paths of each item.
    pub sources: Vec<usize>,
    /// Class names found as folders (`cats/1.jpg`), sorted; empty when the files are not laid
    /// out one folder per class.
    pub classes: Vec<String>,
    /// The class of each item, when `classes` is not empty.
    pub labels: Vec<Option<usize>>,
    /// Paths that were left out, and why.
    pub ignored: Vec<(String, String)>,
}

/// Folder names that hold unlabeled images, never a class.
pub const UNLABELED_FOLDERS: [&str; 4] = ["unlabeled", "unlabelled", "unsorted", "unknown"];

/// Lays out image `paths` (relative paths as a folder picker, a drop or a zip gives them).
///
/// Non-images and repeated paths are ignored (listed in [`ImageLayout::ignored`]). The folder
/// all files share is stripped. If then at least two subfolders hold images, each subfolder is a
/// class and the files in it (at any depth) are labeled with it; files at the top, and in a
/// folder named like [`UNLABELED_FOLDERS`], are unlabeled. The setup screen shows the classes
/// found, so a person whose folders mean something else can clear them.
pub fn layout_images(paths: &[String]) -> ImageLayout {
    let mut out = ImageLayout::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut kept: Vec<(usize, Vec<&str>)> = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let clean = p.trim_start_matches("./").trim_start_matches('/');
        if !is_image_path(clean) {
            out.ignored
                .push((p.clone(), "not a PNG, JPEG, WebP, GIF or BMP image".into()));
        } else if !seen.insert(clean) {
            out.ignored.push((p.clone(), "listed twice".into()));
        } else {
            kept.push((i, clean.split('/').filter(|c| !c.is_empty()).collect()));
        }
    }
    // Strip the folders every file shares (never the file name itself).
    let mut common = 0;
    while kept.iter().all(|(_, c)| c.len() > common + 1)
        && kept.windows(2).all(|w| w[0].1[common] == w[1].1[common])
        && !kept.is_empty()
    {
        common += 1;
    }
    let folders: std::collections::BTreeSet<&str> = kept
        .iter()
        .filter(|(_, c)| c.len() - common >= 2)
        .map(|(_, c)| c[common])
        .filter(|f| !UNLABELED_FOLDERS.contains(&f.to_ascii_lowercase().as_str()))
        .collect();
    if folders.len() >= 2 {
        out.classes = folders.iter().map(|f| f.to_string()).collect();
    }
    for (i, c) in kept {
        let rest = &c[common..];
        out.items.push(rest.join("/"));
        out.sources.push(i);
        out.labels.push(
            (rest.len() >= 2)
                .then(|| out.classes.iter().position(|k| k == rest[0]))
                .flatten(),
        );
    }
    out
}

/// Rows of a label file: `item,label` with an optional header row. Returns (item, label)
/// pairs in file order.
///
/// # Errors
/// [`Error::Format`] when the CSV is malformed or a row does not have two fields.
pub fn read_label_csv(text: &str) -> Result<Vec<(String, String)>> {
    let bad = |reason: String| Error::Format {
        what: "label file",
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("line {}: {e}", n + 1)))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() < 2 || record[0].is_empty() || record[1].is_empty() {
            return Err(bad(format!(
                "line {} should be 'item,label' but is '{}'",
                n + 1,
                record.iter().collect::<Vec<_>>().join(",")
            )));
        }
        if n == 0 && record[0].eq_ignore_ascii_case("item") {
            continue;
        }
        out.push((record[0].to_string(), record[1].to_string()));
    }
    Ok(out)
}

/// Matches label rows to `items`: by the whole item name, else by the file name when only one
/// item has it. Returns per item the label text, and the rows that matched no item.
pub fn match_labels(
    items: &[String],
    rows: &[(String, String)],
) -> (Vec<Option<String>>, Vec<String>) {
    let mut by_name: BTreeMap<&str, Option<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let base = item.rsplit('/').next().unwrap_or(item);
        by_name
            .entry(base)
            .and_modify(|e| *e = None)
            .or_insert(Some(i));
    }
    let full: BTreeMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut labels = vec![None; items.len()];
    let mut unmatched = Vec::new();
    for (item, label) in rows {
        let base = item.rsplit('/').next().unwrap_or(item);
        match full
            .get(item.as_str())
            .copied()
            .or_else(|| by_name.get(base).copied().flatten())
        {
            Some(i) => labels[i] = Some(label.clone()),
            None => unmatched.push(item.clone()),
        }
    }
    (labels, unmatched)
}

/// The shape of a text file, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// Comma-separated with a header row.
    Csv,
    /// Tab-separated with a header row.
    Tsv,
    /// One JSON object per line.
    JsonLines,
    /// One item per line.
    Lines,
}

impl TextFormat {
    /// The format of a file called `name`, by its ending (`.csv`, `.tsv`, `.jsonl`/`.ndjson`,
    /// `.txt`); `None` for anything else.
    pub fn from_file_name(name: &str) -> Option<TextFormat> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => TextFormat::Csv,
            "tsv" | "tab" => TextFormat::Tsv,
            "jsonl" | "ndjson" => TextFormat::JsonLines,
            "txt" => TextFormat::Lines,
            _ => return None,
        })
    }
}

/// A text file read as a table: named columns (fields), one row per record.
#[derive(Debug, Clone, PartialEq)]
pub struct TextTable {
    /// Column names (for `.txt`: `["text"]`).
    pub columns: Vec<String>,
    /// Cells, `rows[r][c]`; a missing field is empty.
    pub rows: Vec<Vec<String>>,
    /// What was left out and why, when only part of the file could be read (a quote that never
    /// closes: the rows before its line are offered).
    pub warning: Option<String>,
}

/// The line (1-based) of a CSV/TSV text where a quoted field opens and never closes, if any:
/// the csv reader would take the whole rest of the file into that one field.
fn unclosed_quote(text: &str, delimiter: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut line, mut opened) = (1, 0);
    let mut in_quotes = false;
    let mut field_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else if b == b'"' && field_start {
            in_quotes = true;
            opened = line;
        }
        if b == b'\n' {
            line += 1;
        }
        field_start = !in_quotes && (b == delimiter || b == b'\n' || (b == b'\r'));
        i += 1;
    }
    in_quotes.then_some(opened)
}

/// Reads `text` as `format`.
///
/// # Errors
/// [`Error::Format`] naming the line when the file is malformed (unbalanced quotes, a JSON line
/// that is not an object), or when it holds no rows.
pub fn read_text_table(text: &str, format: TextFormat) -> Result<TextTable> {
    let bad = |reason: String| Error::Format {
        what: "text file",
        reason,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let table = match format {
        TextFormat::Csv | TextFormat::Tsv => {
            let delimiter = if format == TextFormat::Csv {
                b','
            } else {
                b'\t'
            };
            // A quote that never closes: read the rows before its line, say what was left out.
            let (text, warning) = match unclosed_quote(text, delimiter) {
                Some(1) => {
                    return Err(bad(
                        "line 1 opens a quote (\") that never closes, so no row can be read".into(),
                    ))
                }
                Some(line) => {
                    let cut = text
                        .match_indices('\n')
                        .nth(line - 2)
                        .map_or(text.len(), |(at, _)| at + 1);
                    let warning = format!(
                        "line {line} opens a quote (\") that never closes: the rows before it \
                         were read, line {line} and everything after it were left out (close \
                         the quote and open the file again to get them)"
                    );
                    (&text[..cut], Some(warning))
                }
                None => (text, None),
            };
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .from_reader(text.as_bytes());
            let columns: Vec<String> = reader
                .headers()
                .map_err(|e| bad(format!("the header row: {e}")))?
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    if h.trim().is_empty() {
                        format!("column {}", i + 1)
                    } else {
                        h.trim().to_string()
                    }
                })
                .collect();
            let mut rows = Vec::new();
            for record in reader.records() {
                let record = record.map_err(|e| {
                    let line = e.position().map_or(0, |p| p.line());
                    bad(format!("line {line}: {e}"))
                })?;
                let mut row: Vec<String> = record.iter().map(str::to_string).collect();
                row.resize(columns.len(), String::new());
                rows.push(row);
            }
            TextTable {
                columns,
                rows,
                warning,
            }
        }
        TextFormat::JsonLines => {
            let mut columns: Vec<String> = Vec::new();
            let mut objects = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let value: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| bad(format!("line {}: {e}", n + 1)))?;
                let serde_json::Value::Object(map) = value else {
                    return Err(bad(format!("line {} is not a JSON object", n + 1)));
                };
                for k in map.keys() {
                    if !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
                objects.push(map);
            }
            let rows = objects
                .iter()
                .map(|m| {
                    columns
                        .iter()
                        .map(|c| match m.get(c) {
                            None | Some(serde_json::Value::Null) => String::new(),
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            TextTable {
                columns,
                rows,
                warning: None,
            }
        }
        TextFormat::Lines => {
            // Counted first: a list grown by doubling passes through 1.5 times its size (wasm
            // memory keeps its highest point).
            let lines = || text.lines().filter(|l| !l.trim().is_empty());
            let mut rows = Vec::with_capacity(lines().count());
            rows.extend(lines().map(|l| vec![l.to_string()]));
            TextTable {
                columns: vec!["text".into()],
                rows,
                warning: None,
            }
        }
    };
    if table.rows.is_empty() {
        return Err(bad("it has no rows".into()));
    }
    Ok(table)
}

impl TextTable {
    /// The column most likely to hold the text: named like `text`/`sentence`/`review`/…,
    /// else the one with the longest cells on average.
    pub fn guess_text_column(&self) -> usize {
        const NAMES: [&str; 8] = [
            "text",
            "sentence",
            "review",
            "content",
            "body",
            "message",
            "comment",
            "utterance",
        ];
        if let Some(i) = self
            .columns
            .iter()
            .position(|c| NAMES.contains(&c.to_ascii_lowercase().as_str()))
        {
            return i;
        }
        (0..self.columns.len())
            .max_by_key(|&c| self.rows.iter().map(|r| r[c].len()).sum::<usize>())
            .unwrap_or(0)
    }

    /// A column named like a label (`label`, `class`, `category`, …), if any.
    pub fn guess_label_column(&self) -> Option<usize> {
        const NAMES: [&str; 6] = ["label", "labels", "class", "category", "topic", "sentiment"];
        self.columns
            .iter()
            .position(|c| NAMES.contains(&c.to_ascii_lowercase().as_str()))
    }

    /// The texts of column `text` (empty cells dropped) and, with `label`, the label of each
    /// (empty = unlabeled). Returns (texts, labels, number of rows dropped as empty).
    pub fn texts(
        &self,
        text: usize,
        label: Option<usize>,
    ) -> (Vec<String>, Vec<Option<String>>, usize) {
        texts_and_labels(self.rows.iter().map(|row| {
            let l = label.and_then(|l| row.get(l).cloned());
            (row.get(text).cloned(), l)
        }))
    }

    /// [`TextTable::texts`] of a table not needed afterwards: the texts are moved out of it,
    /// not copied (a table of a million texts is about 100 MB).
    pub fn into_texts(
        self,
        text: usize,
        label: Option<usize>,
    ) -> (Vec<String>, Vec<Option<String>>, usize) {
        texts_and_labels(self.rows.into_iter().map(|mut row| {
            // The label first: a copy where it is the text's own column.
            let l = label.and_then(|l| match l == text {
                true => row.get(l).cloned(),
                false => row.get_mut(l).map(std::mem::take),
            });
            (row.get_mut(text).map(std::mem::take), l)
        }))
    }
}

/// Each row's (text, label) cells trimmed: rows with an empty text dropped (counted), an empty
/// label as none.
fn texts_and_labels(
    cells: impl Iterator<Item = (Option<String>, Option<String>)>,
) -> (Vec<String>, Vec<Option<String>>, usize) {
    // A cell without surrounding spaces is kept as it is, not copied.
    let trimmed = |s: String| match s.trim() {
        t if t.len() == s.len() => s,
        t => t.to_string(),
    };
    let rows = cells.size_hint().0;
    let (mut texts, mut labels) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    let mut dropped = 0;
    for (text, label) in cells {
        match text.map(trimmed).filter(|t| !t.is_empty()) {
            Some(t) => {
                texts.push(t);
                labels.push(label.map(trimmed).filter(|l| !l.is_empty()));
            }
            None => dropped += 1,
        }
    }
    (texts, labels, dropped)
}

/// Distinct label texts in first-seen order: the classes a label column or file defines.
pub fn classes_of(labels: &[Option<String>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in labels.iter().flatten() {
        if !out.contains(l) {
            out.push(l.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn class_folders_become_classes() {
        let l = layout_images(&strings(&[
            "pets/cats/1.jpg",
            "pets/dogs/2.PNG",
            "pets/cats/notes.txt",
            "pets/dogs/.DS_Store",
            "pets/cats/sub/3.webp",
            "__MACOSX/pets/cats/._1.jpg",
        ]));
        assert_eq!(
            l.items,
            strings(&["cats/1.jpg", "dogs/2.PNG", "cats/sub/3.webp"])
        );
        assert_eq!(l.sources, vec![0, 1, 4]);
        assert_eq!(l.classes, strings(&["cats", "dogs"]));
        assert_eq!(l.labels, vec![Some(0), Some(1), Some(0)]);
        assert_eq!(l.ignored.len(), 3);
    }

    #[test]
    fn top_level_and_unlabeled_folders_stay_unlabeled() {
        let flat = layout_images(&strings(&["photos/a.jpg", "photos/b.gif"]));
        assert_eq!(flat.items, strings(&["a.jpg", "b.gif"]));
        assert!(flat.classes.is_empty() && flat.labels == vec![None, None]);
        let single = layout_images(&strings(&["x/a.jpg", "x/c/b.jpg", "x/c/e.jpg"]));
        assert!(single.classes.is_empty(), "one folder is no class list");
        let mixed = layout_images(&strings(&[
            "x/a.jpg",
            "x/c/b.jpg",
            "x/d/e.jpg",
            "x/Unlabeled/f.jpg",
        ]));
        assert_eq!(mixed.classes, strings(&["c", "d"]));
        assert_eq!(mixed.labels, vec![None, Some(0), Some(1), None]);
        let one = layout_images(&strings(&["a.bmp", "a.bmp"]));
        assert_eq!(one.items, strings(&["a.bmp"]));
        assert_eq!(one.ignored[0].1, "listed twice");
    }

    #[test]
    fn label_files_match_by_path_or_unique_file_name() {
        let rows = read_label_csv(
            "item,label\ncats/1.jpg,cat\n2.jpg, dog \n\"x,y.jpg\",cat\nnope.jpg,cat\n",
        )
        .unwrap();
        assert_eq!(rows[1], ("2.jpg".to_string(), "dog".to_string()));
        let items = strings(&["cats/1.jpg", "a/2.jpg", "x,y.jpg", "b/1.jpg"]);
        let (labels, unmatched) = match_labels(&items, &rows);
        assert_eq!(labels[0].as_deref(), Some("cat"));
        assert_eq!(labels[1].as_deref(), Some("dog"));
        assert_eq!(labels[2].as_deref(), Some("cat"));
        assert_eq!(labels[3], None);
        assert_eq!(unmatched, strings(&["nope.jpg"]));
        assert_eq!(classes_of(&labels), strings(&["cat", "dog"]));
        let err = read_label_csv("a.jpg\n").unwrap_err().to_string();
        assert!(err.contains("line 1 should be 'item,label'"), "{err}");
    }

    #[test]
    fn text_tables_in_every_format() {
        let csv = read_text_table(
            "\u{feff}id,review,label\n1,\"Great, really\",pos\n2,,neg\n3,Bad,\n",
            TextFormat::Csv,
        )
        .unwrap();
        assert_eq!(csv.columns, strings(&["id", "review", "label"]));
        assert_eq!(csv.guess_text_column(), 1);
        assert_eq!(csv.guess_label_column(), Some(2));
        let (texts, labels, dropped) = csv.texts(1, Some(2));
        assert_eq!(texts, strings(&["Great, really", "Bad"]));
        assert_eq!(labels, vec![Some("pos".to_string()), None]);
        assert_eq!(dropped, 1);
        // Moved out of the table, the same; also with spaces to trim and the text's own column
        // as the label.
        assert_eq!(csv.clone().into_texts(1, Some(2)), (texts, labels, dropped));
        let spaced = read_text_table("t,l\n  a b ,x\n c,\n ,y\n", TextFormat::Csv).unwrap();
        for (text, label) in [(0, Some(1)), (0, Some(0)), (1, None), (0, None)] {
            assert_eq!(
                spaced.clone().into_texts(text, label),
                spaced.texts(text, label),
                "{text} {label:?}"
            );
        }

        let tsv = read_text_table("text\tlabel\nhello world\tgreeting\n", TextFormat::Tsv).unwrap();
        assert_eq!(tsv.texts(0, Some(1)).0, strings(&["hello world"]));

        let jsonl = read_text_table(
            "{\"t\":\"a\",\"n\":1}\n\n{\"t\":\"b\",\"x\":null}\n",
            TextFormat::JsonLines,
        )
        .unwrap();
        assert_eq!(jsonl.columns, strings(&["n", "t", "x"]));
        assert_eq!(jsonl.rows[0], strings(&["1", "a", ""]));

        let lines = read_text_table("one\n\ntwo\r\n", TextFormat::Lines).unwrap();
        assert_eq!(lines.rows.len(), 2);
        assert_eq!(
            TextFormat::from_file_name("X.JSONL"),
            Some(TextFormat::JsonLines)
        );
        assert_eq!(TextFormat::from_file_name("x.pdf"), None);
    }

    #[test]
    fn malformed_text_files_name_the_line() {
        let e = read_text_table("{\"a\":1}\n[1]\n", TextFormat::JsonLines)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2 is not a JSON object"), "{e}");
        let e = read_text_table("{oops\n", TextFormat::JsonLines)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
        assert!(read_text_table("h\n", TextFormat::Csv).is_err());
        assert!(read_text_table("\n \n", TextFormat::Lines).is_err());
    }

    #[test]
    fn a_quote_that_never_closes_names_its_line_and_keeps_the_rows_before() {
        let text = "text,label\n\"fine, quoted\",a\nplain,b\n\"broken,c\nlater,d\nmore,e\n";
        let t = read_text_table(text, TextFormat::Csv).unwrap();
        assert_eq!(t.rows, vec![vec!["fine, quoted", "a"], vec!["plain", "b"]]);
        let w = t.warning.unwrap();
        assert!(w.contains("line 4 opens a quote"), "{w}");
        // Escaped quotes, quotes inside a field and quoted newlines are not unclosed.
        let ok = "t\n\"say \"\"hi\"\"\"\n5\" tall\n\"two\nlines\"\n";
        let t = read_text_table(ok, TextFormat::Csv).unwrap();
        assert_eq!(t.warning, None);
        assert_eq!(t.rows.len(), 3);
        // TSV too; on the header line nothing can be offered.
        let t = read_text_table("a\tb\nx\ty\n\"z\tw\n", TextFormat::Tsv).unwrap();
        assert_eq!(t.rows.len(), 1);
        assert!(t.warning.unwrap().contains("line 3"));
        let e = read_text_table("\"a,b\nc,d\n", TextFormat::Csv).unwrap_err();
        assert!(e.to_string().contains("line 1 opens a quote"), "{e}");
    }
}
