//! Bundled demo datasets: what the labeling UI may see of them.

use crate::{Error, Result};

/// A demo set's manifest (`demo.json`): its title, class names and item file names. Ground truth
/// is kept elsewhere (`truth.csv`) and never reaches the UI.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DemoManifest {
    /// Human title of the set.
    pub title: String,
    /// Class names, in button order.
    pub classes: Vec<String>,
    /// Item names: image file names relative to the set's `images/` folder, or ids of texts.
    pub items: Vec<String>,
    /// For a text set, the text of each item (same order as `items`); absent for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub texts: Option<Vec<String>>,
}

impl DemoManifest {
    /// Parses and checks a manifest.
    ///
    /// # Errors
    /// [`Error::Format`] when the JSON is malformed, has fewer than two classes, no items, or a
    /// repeated item name.
    pub fn from_json(text: &str) -> Result<DemoManifest> {
        let m: DemoManifest = serde_json::from_str(text).map_err(|e| Error::Format {
            what: "demo manifest",
            reason: e.to_string(),
        })?;
        let bad = |reason: String| Error::Format {
            what: "demo manifest",
            reason,
        };
        if m.classes.len() < 2 {
            return Err(bad("it names fewer than two classes".into()));
        }
        if m.items.is_empty() {
            return Err(bad("it lists no items".into()));
        }
        let mut names = m.items.clone();
        names.sort();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(bad(format!("item '{}' is listed twice", w[0])));
        }
        if let Some(texts) = &m.texts {
            if texts.len() != m.items.len() {
                return Err(bad(format!(
                    "it lists {} items but {} texts",
                    m.items.len(),
                    texts.len()
                )));
            }
        }
        Ok(m)
    }

    /// Class ids of every item, in manifest order, from a ground-truth CSV (`item,label` with a
    /// header row, labels being class names). For simulations and tests; the UI never sees it.
    ///
    /// # Errors
    /// [`Error::Format`] when an item has no row or its label is not one of the classes.
    pub fn truth_ids(&self, truth_csv: &str) -> Result<Vec<usize>> {
        let map: std::collections::BTreeMap<&str, &str> = truth_csv
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(','))
            .collect();
        self.items
            .iter()
            .map(|item| {
                map.get(item.as_str())
                    .and_then(|l| self.classes.iter().position(|c| c == l))
                    .ok_or_else(|| Error::Format {
                        what: "ground truth",
                        reason: format!("no known label for {item}"),
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_manifests_are_rejected() {
        assert!(DemoManifest::from_json("{").is_err());
        assert!(DemoManifest::from_json(r#"{"title":"t","classes":["a"],"items":["x"]}"#).is_err());
        assert!(DemoManifest::from_json(
            r#"{"title":"t","classes":["a","b"],"items":["x","y"],"texts":["q"]}"#
        )
        .is_err());
        assert!(
            DemoManifest::from_json(r#"{"title":"t","classes":["a","b"],"items":["x","x"]}"#)
                .is_err()
        );
        let ok = DemoManifest::from_json(r#"{"title":"t","classes":["a","b"],"items":["x"]}"#);
        assert_eq!(ok.unwrap().items, vec!["x"]);
    }

    #[test]
    fn bundled_demos_parse() {
        for set in ["emoji", "fashion"] {
            let path = format!(
                "{}/../assets/demo/{set}/demo.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let m = DemoManifest::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
            assert!(m.items.len() >= 500, "{set}");
        }
    }
}
