//! Reading the person's own data: files, folders, drops and zips become a [`Draft`] for the
//! setup screen, and the setup screen's choices change it. Knows only `state`, `files` and
//! `core`; starting a project from the draft is the project lifecycle's
//! ([`super::project::start_draft`]).

use leptos::prelude::*;
use quarry_core::import::{
    classes_of, layout_images, match_labels, read_label_csv, read_text_table, TextFormat,
};
use quarry_core::project::ItemSource;

use super::files::{object_url, read_text, revoke, unzip, Picked};
use super::models::default_model;
use super::state::{AppState, Draft, Items, Phase, TableChoice};

fn is_zip(p: &Picked) -> bool {
    p.path.to_ascii_lowercase().ends_with(".zip")
}

fn is_label_csv(p: &Picked) -> bool {
    p.path.to_ascii_lowercase().ends_with(".csv")
}

pub(super) async fn draft_of(picked: Vec<Picked>, title: String) -> Result<Draft, String> {
    let images_given = picked
        .iter()
        .any(|p| is_zip(p) || quarry_core::import::is_image_path(&p.path));
    if !images_given {
        if let [one] = picked.as_slice() {
            if TextFormat::from_file_name(&one.path).is_some() {
                return text_draft(one).await;
            }
        }
    }
    // One zip and nothing else is kept with a saved project, so reopening needs nothing.
    let zip = match picked.as_slice() {
        [one] if is_zip(one) => Some((one.path.clone(), one.blob.clone())),
        _ => None,
    };
    let mut files = Vec::new();
    let mut label_files = Vec::new();
    let mut notes = Vec::new();
    for p in picked {
        if is_zip(&p) {
            let (inner, skipped) = unzip(&p).await?;
            if skipped > 0 {
                notes.push(format!(
                    "{}: {skipped} entries that are not images were left out",
                    p.path
                ));
            }
            files.extend(inner);
        } else if is_label_csv(&p) {
            label_files.push(p);
        } else {
            files.push(p);
        }
    }
    let paths: Vec<String> = files.iter().map(|p| p.path.clone()).collect();
    let layout = layout_images(&paths);
    if layout.items.is_empty() {
        return Err(format!(
            "no images found among {} files: Quarry reads PNG, JPEG, WebP, GIF and BMP, \
             folders of them and .zip archives of them (for texts, open one .csv, .tsv, .jsonl or .txt file)",
            paths.len()
        ));
    }
    let ignored = layout.ignored.len();
    if ignored > 0 {
        let examples: Vec<&str> = layout
            .ignored
            .iter()
            .take(3)
            .map(|(p, _)| p.as_str())
            .collect();
        notes.push(format!(
            "{ignored} files were left out (not images or repeated), e.g. {}",
            examples.join(", ")
        ));
    }
    let mut urls = Vec::with_capacity(layout.items.len());
    for &src in &layout.sources {
        match object_url(&files[src].blob) {
            Ok(u) => urls.push(u),
            Err(e) => {
                revoke(&urls);
                return Err(format!(
                    "the browser refused to open {}: {e}",
                    files[src].path
                ));
            }
        }
    }
    let mut labels: Vec<Option<String>> = layout
        .labels
        .iter()
        .map(|l| l.map(|k| layout.classes[k].clone()))
        .collect();
    for csv in &label_files {
        let text = read_text(&csv.blob)
            .await
            .map_err(|e| format!("{}: {e}", csv.path))?;
        let rows = read_label_csv(&text).map_err(|e| format!("{}: {e}", csv.path))?;
        let (found, unmatched) = match_labels(&layout.items, &rows);
        for (l, f) in labels.iter_mut().zip(found) {
            if f.is_some() {
                *l = f;
            }
        }
        if !unmatched.is_empty() {
            notes.push(format!(
                "{}: {} rows name no opened image (e.g. {})",
                csv.path,
                unmatched.len(),
                unmatched[0]
            ));
        }
    }
    Ok(Draft {
        title: format!("{} images from {title}", layout.items.len()),
        classes: {
            // Class folders in name order, then classes only a label file names.
            let mut classes = layout.classes.clone();
            classes.extend(
                classes_of(&labels)
                    .into_iter()
                    .filter(|c| !layout.classes.contains(c)),
            );
            classes
        },
        names: layout.items,
        items: Items::Images(urls),
        source: match &zip {
            Some((name, _)) => ItemSource::Zip { name: name.clone() },
            None => ItemSource::Files,
        },
        zip: zip.map(|(_, blob)| blob),
        model: default_model(&Items::Images(Vec::new())),
        custom_model: None,
        multi_label: false,
        labels,
        notes,
        table: None,
    })
}

async fn text_draft(file: &Picked) -> Result<Draft, String> {
    let format = TextFormat::from_file_name(&file.path).expect("checked by the caller");
    let text = read_text(&file.blob)
        .await
        .map_err(|e| format!("{} could not be read: {e}", file.path))?;
    let table = read_text_table(&text, format).map_err(|e| format!("{}: {e}", file.path))?;
    drop(text);
    let choice = TableChoice {
        text: table.guess_text_column(),
        label: table.guess_label_column(),
        table,
    };
    let mut draft = Draft {
        title: file.path.clone(),
        names: Vec::new(),
        items: Items::Texts(Vec::new().into()),
        source: ItemSource::Files,
        zip: None,
        classes: Vec::new(),
        labels: Vec::new(),
        notes: Vec::new(),
        table: None,
        model: default_model(&Items::Texts(Vec::new().into())),
        custom_model: None,
        multi_label: false,
    };
    fill_from_table(&mut draft, choice);
    Ok(draft)
}

/// Makes the column named `column` a text draft's texts, when the table has it.
pub(super) fn use_text_column(draft: &mut Draft, column: &str) {
    let Some(mut choice) = draft.table.take() else {
        return;
    };
    if let Some(c) = choice.table.columns.iter().position(|n| n == column) {
        choice.text = c;
    }
    fill_from_table(draft, choice);
}

/// Rebuilds a text draft's items and labels from `choice`. The draft keeps the table to choose
/// other columns from, unless it has one column (a `.txt`: nothing to choose): its texts are
/// then moved out of it, not copied.
fn fill_from_table(draft: &mut Draft, choice: TableChoice) {
    let column = choice.table.columns[choice.text].clone();
    draft.notes = choice.table.warning.iter().cloned().collect();
    let ((texts, labels, dropped), kept) = if choice.table.columns.len() == 1 {
        (choice.table.into_texts(choice.text, choice.label), None)
    } else {
        (choice.table.texts(choice.text, choice.label), Some(choice))
    };
    draft.names = (1..=texts.len()).map(|i| format!("#{i}")).collect();
    draft.source = ItemSource::Texts {
        name: draft.title.clone(),
        column,
    };
    draft.items = Items::Texts(texts.into());
    draft.classes = proposed_classes(&labels, draft.multi_label);
    draft.labels = labels;
    if dropped > 0 {
        draft
            .notes
            .push(format!("{dropped} rows with an empty text were left out"));
    }
    draft.table = kept;
}

/// The classes given labels name: each distinct label, or in a multi-label project each
/// distinct `;`-separated part.
fn proposed_classes(labels: &[Option<String>], multi_label: bool) -> Vec<String> {
    if !multi_label {
        return classes_of(labels);
    }
    let parts: Vec<Option<String>> = labels
        .iter()
        .flatten()
        .flat_map(|l| split_set(l))
        .map(Some)
        .collect();
    classes_of(&parts)
}

/// The classes of a multi-label cell `a;b`.
pub(super) fn split_set(label: &str) -> Vec<String> {
    label
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Makes the draft a multi-label project or not; the proposed classes follow.
pub fn set_multi_label(state: AppState, on: bool) {
    state.draft.update(|d| {
        if let Some(d) = d.as_mut() {
            d.multi_label = on;
            if on {
                // `a;b` proposals become classes a and b, in place.
                let mut classes: Vec<String> = Vec::new();
                for part in d.classes.iter().flat_map(|c| split_set(c)) {
                    if !classes.contains(&part) {
                        classes.push(part);
                    }
                }
                d.classes = classes;
            } else if d.table.is_some() {
                d.classes = proposed_classes(&d.labels, false);
            }
        }
    });
}

/// Chooses which columns of a text table hold the texts and the labels.
pub fn choose_columns(state: AppState, text: usize, label: Option<usize>) {
    state.draft.update(|d| {
        if let Some(d) = d.as_mut() {
            if let Some(mut choice) = d.table.take() {
                choice.text = text;
                choice.label = label;
                fill_from_table(d, choice);
            }
        }
    });
}

/// Class names from what the person typed: one per line, or a comma-separated list on one line.
pub fn parse_class_list(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let parts: Vec<&str> = if lines.len() == 1 {
        lines[0].split(',').collect()
    } else {
        lines
    };
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Drops the draft and goes back to the start screen.
pub fn cancel_draft(state: AppState) {
    if let Some(old) = state.draft.get_untracked() {
        revoke(old.items.object_urls());
    }
    state.draft.set(None);
    state.phase.set(Phase::Start);
}
