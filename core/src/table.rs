//! Reading embeddings and labels from CSV (the simulator's text inputs).

use crate::matrix::Matrix;
use crate::{Error, Result};

fn bad(what: &'static str, reason: String) -> Error {
    Error::Format { what, reason }
}

/// Parses numeric rows (comma-separated; a non-numeric first row is taken as a header).
///
/// # Errors
/// [`Error::Format`] on an empty file, ragged rows, or a value that is not a finite number.
pub fn read_embeddings_csv(text: &str) -> Result<Matrix> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<f32>> = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad("embeddings CSV", e.to_string()))?;
        let parsed: std::result::Result<Vec<f32>, _> =
            record.iter().map(|v| v.trim().parse::<f32>()).collect();
        match parsed {
            Ok(row) => {
                if let Some(i) = row.iter().position(|v| !v.is_finite()) {
                    return Err(bad(
                        "embeddings CSV",
                        format!("line {}, column {}: NaN or infinite", line + 1, i + 1),
                    ));
                }
                rows.push(row);
            }
            Err(_) if line == 0 => continue,
            Err(e) => return Err(bad("embeddings CSV", format!("line {}: {e}", line + 1))),
        }
    }
    if rows.is_empty() {
        return Err(bad("embeddings CSV", "no rows".into()));
    }
    Matrix::from_rows(&rows).map_err(|e| bad("embeddings CSV", e.to_string()))
}

/// Parses a one-column CSV of labels: class ids (0, 1, …) or class names. An optional header is
/// skipped when it is the only non-numeric value in an otherwise numeric column, or when it reads
/// `label`. Names become ids in sorted order; returns the ids and the class names.
///
/// # Errors
/// [`Error::Format`] on an empty file or a row with more than one column.
pub fn read_labels_csv(text: &str) -> Result<(Vec<usize>, Vec<String>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut values = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad("labels CSV", e.to_string()))?;
        if record.len() != 1 {
            return Err(bad(
                "labels CSV",
                format!("line {} has {} columns, expected 1", line + 1, record.len()),
            ));
        }
        values.push(record[0].trim().to_string());
    }
    let numeric = |v: &String| v.parse::<usize>().is_ok();
    if values.first().is_some_and(|v| {
        v.eq_ignore_ascii_case("label") || (!numeric(v) && values[1..].iter().all(numeric))
    }) {
        values.remove(0);
    }
    if values.is_empty() {
        return Err(bad("labels CSV", "no labels".into()));
    }
    if values.iter().all(numeric) {
        let ids: Vec<usize> = values.iter().map(|v| v.parse().expect("numeric")).collect();
        let n = ids.iter().max().map_or(0, |m| m + 1);
        return Ok((ids, (0..n).map(|i| i.to_string()).collect()));
    }
    let mut names = values.clone();
    names.sort();
    names.dedup();
    let ids = values
        .iter()
        .map(|v| names.binary_search(v).expect("present"))
        .collect();
    Ok((ids, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_with_and_without_header() {
        assert_eq!(
            read_embeddings_csv("a,b\n1,2\n3,4\n").unwrap().row(1),
            &[3.0, 4.0]
        );
        assert_eq!(read_embeddings_csv("1,2\n3,4").unwrap().rows(), 2);
        assert!(read_embeddings_csv("1,2\n3\n").is_err());
        assert!(read_embeddings_csv("1,NaN\n").is_err());
        assert!(read_embeddings_csv("").is_err());
        assert!(read_embeddings_csv("1,2\n3,x\n").is_err());
    }

    #[test]
    fn labels_as_ids_or_names() {
        assert_eq!(
            read_labels_csv("label\n0\n2\n1\n").unwrap().0,
            vec![0, 2, 1]
        );
        let (ids, names) = read_labels_csv("dog\ncat\ndog\n").unwrap();
        assert_eq!(
            (ids, names),
            (vec![1, 0, 1], vec!["cat".to_string(), "dog".to_string()])
        );
        assert!(read_labels_csv("0,1\n").is_err());
        assert!(read_labels_csv("").is_err());
    }
}
