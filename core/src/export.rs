//! Exports of what the user labeled, and of what the head predicts for the rest.

use crate::predict::{predicted_set, top, Predictions};
use crate::Session;

/// `item,label` CSV (RFC 4180 quoting, `\n` line ends) of every labeled item, in the order the
/// labels were given. Skipped and unlabeled items are absent. A multi-label project writes
/// `item,labels`: one row per labeled item, its classes joined by `;` in class order (empty when
/// none applies).
pub fn labels_csv(session: &Session) -> String {
    if session.is_multi_label() {
        let mut out = String::from("item,labels\n");
        for &item in session.labeled_items() {
            let names: Vec<&str> = session
                .labels_of(item)
                .into_iter()
                .map(|c| session.classes()[c].as_str())
                .collect();
            out.push_str(&csv_field(session.item_name(item)));
            out.push(',');
            out.push_str(&csv_field(&names.join(";")));
            out.push('\n');
        }
        return out;
    }
    let mut out = String::from("item,label\n");
    for a in session.answers() {
        out.push_str(&csv_field(session.item_name(a.item)));
        out.push(',');
        out.push_str(&csv_field(&session.classes()[a.class]));
        out.push('\n');
    }
    out
}

/// Who gave an item's label in a predictions export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelSource {
    /// The person answered (a label, a set, or "none of these").
    Person,
    /// The head's prediction.
    Model,
}

impl LabelSource {
    /// `person` or `model`, as the exports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelSource::Person => "person",
            LabelSource::Model => "model",
        }
    }
}

/// One row of a predictions export: the item's label (several in multi-label projects), who
/// gave it, its probability, and the head's probability of every class.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionRow<'a> {
    pub item: usize,
    pub labels: Vec<&'a str>,
    /// `None`: neither the person nor the head (no head yet, or not embedded) says anything.
    pub source: Option<LabelSource>,
    /// 1 for a person's answer; the head's probability of its label (single-label) or of its
    /// whole set (multi-label: the product of `max(p, 1 − p)`).
    pub probability: Option<f32>,
    /// The head's probability of every class, in class order, when it has a prediction.
    pub probabilities: Option<&'a [f32]>,
}

/// Every item of the pool, in item order: the person's answer where there is one (it always
/// wins), else the head's prediction. Predictions for another number of classes than the
/// session has (a class changed since they were made) are not used.
pub fn prediction_rows<'a>(
    session: &'a Session,
    predictions: Option<&'a Predictions>,
) -> impl Iterator<Item = PredictionRow<'a>> + 'a {
    let predictions = predictions.filter(|p| p.classes == session.classes().len());
    let rows = predictions.map(|p| p.by_item(session.len()));
    let rejected = session.rejected();
    (0..session.len()).map(move |item| {
        let probabilities = rows
            .as_ref()
            .and_then(|r| r[item])
            .zip(predictions)
            .map(|(r, p)| p.row(r));
        let names = |classes: Vec<usize>| -> Vec<&'a str> {
            classes
                .into_iter()
                .map(|c| session.classes()[c].as_str())
                .collect()
        };
        let (labels, source, probability) = if session.is_labeled(item) {
            (
                names(session.labels_of(item)),
                Some(LabelSource::Person),
                Some(1.0),
            )
        } else if rejected.binary_search(&item).is_ok() {
            (Vec::new(), Some(LabelSource::Person), Some(1.0))
        } else if let Some(p) = probabilities {
            if session.is_multi_label() {
                let (set, confidence) = predicted_set(p);
                (names(set), Some(LabelSource::Model), Some(confidence))
            } else {
                let (class, probability) = top(p);
                (
                    names(vec![class]),
                    Some(LabelSource::Model),
                    Some(probability),
                )
            }
        } else {
            (Vec::new(), None, None)
        };
        PredictionRow {
            item,
            labels,
            source,
            probability,
            probabilities,
        }
    })
}

/// Predictions CSV: header `item,label,source,probability`, then with `every_class` one
/// `p_<class>` column per class. One row per item of the pool (see [`prediction_rows`]); `item`
/// is the same name as in [`labels_csv`]; `label` joins a multi-label set with `;`; empty
/// fields where nothing is known.
pub fn predictions_csv(
    session: &Session,
    predictions: Option<&Predictions>,
    every_class: bool,
) -> String {
    let mut out = String::from("item,label,source,probability");
    if every_class {
        for c in session.classes() {
            out.push(',');
            out.push_str(&csv_field(&format!("p_{c}")));
        }
    }
    out.push('\n');
    let classes = session.classes().len();
    for row in prediction_rows(session, predictions) {
        out.push_str(&csv_field(session.item_name(row.item)));
        out.push(',');
        out.push_str(&csv_field(&row.labels.join(";")));
        out.push(',');
        out.push_str(row.source.map_or("", LabelSource::as_str));
        out.push(',');
        if let Some(p) = row.probability {
            out.push_str(&format_probability(p));
        }
        if every_class {
            for k in 0..classes {
                out.push(',');
                if let Some(p) = row.probabilities {
                    out.push_str(&format_probability(p[k]));
                }
            }
        }
        out.push('\n');
    }
    out
}

/// Predictions JSONL: one object per item of the pool, `{"item", "label", "source",
/// "probability", "probabilities"}`; `label` is a class name or `null` (a list in multi-label
/// projects), `source` `"person"`, `"model"` or `null`, `probabilities` an object of class name
/// → probability (with `every_class`, when the head has a prediction).
pub fn predictions_jsonl(
    session: &Session,
    predictions: Option<&Predictions>,
    every_class: bool,
) -> String {
    let mut out = String::new();
    for row in prediction_rows(session, predictions) {
        let label = if session.is_multi_label() {
            serde_json::json!(row.labels)
        } else {
            serde_json::json!(row.labels.first())
        };
        let mut object = serde_json::json!({
            "item": session.item_name(row.item),
            "label": label,
            "source": row.source.map(LabelSource::as_str),
            "probability": row.probability.map(round_probability),
        });
        if let (true, Some(p)) = (every_class, row.probabilities) {
            let map: serde_json::Map<String, serde_json::Value> = session
                .classes()
                .iter()
                .zip(p)
                .map(|(c, &v)| (c.clone(), serde_json::json!(round_probability(v))))
                .collect();
            object["probabilities"] = serde_json::Value::Object(map);
        }
        out.push_str(&object.to_string());
        out.push('\n');
    }
    out
}

/// Probabilities are written with 6 decimals (f32 carries about 7 digits).
fn format_probability(p: f32) -> String {
    let text = format!("{p:.6}");
    let text = text.trim_end_matches('0');
    text.strip_suffix('.').unwrap_or(text).to_string()
}

fn round_probability(p: f32) -> f64 {
    (f64::from(p) * 1e6).round() / 1e6
}

/// One CSV field, quoted (RFC 4180) when it needs to be.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn rows_follow_label_order_and_are_quoted() {
        let items = ["b.png", "a, \"quoted\".png", "c.png"]
            .map(String::from)
            .to_vec();
        let classes = ["cat", "dog"].map(String::from).to_vec();
        let mut s = Session::new(items, classes).unwrap();
        s.set_queue(vec![2, 1, 0]);
        s.answer(1).unwrap();
        s.skip();
        s.answer(0).unwrap();
        expect![[r#"
            item,label
            c.png,dog
            b.png,cat
        "#]]
        .assert_eq(&labels_csv(&s));
        s.undo();
        s.undo();
        s.answer(0).unwrap();
        expect![[r#"
            item,label
            c.png,dog
            "a, ""quoted"".png",cat
        "#]]
        .assert_eq(&labels_csv(&s));
    }

    #[test]
    fn multi_label_rows_join_the_classes() {
        let items = ["a.png", "b.png"].map(String::from).to_vec();
        let classes = ["cat", "dog"].map(String::from).to_vec();
        let mut s = Session::new(items, classes)
            .unwrap()
            .with_multi_label(true)
            .unwrap();
        s.set_queue(vec![1, 0]);
        s.answer_set(&[1, 0]).unwrap();
        s.answer_set(&[]).unwrap();
        expect![[r#"
            item,labels
            b.png,cat;dog
            a.png,
        "#]]
        .assert_eq(&labels_csv(&s));
    }

    #[test]
    fn predictions_cover_the_pool_and_person_labels_win() {
        let items = ["a.png", "b.png", "c.png", "d.png", "e.png"]
            .map(String::from)
            .to_vec();
        let classes = ["cat", "dog"].map(String::from).to_vec();
        let mut s = Session::new(items, classes).unwrap();
        s.set_queue(vec![0, 1, 2]);
        s.answer(1).unwrap();
        s.reject().unwrap();
        let p = Predictions {
            classes: 2,
            multi_label: false,
            items: vec![0, 1, 2, 3],
            probabilities: vec![0.9, 0.1, 0.5, 0.5, 0.25, 0.75, 0.6, 0.4],
        };
        expect![[r#"
            item,label,source,probability,p_cat,p_dog
            a.png,dog,person,1,0.9,0.1
            b.png,,person,1,0.5,0.5
            c.png,dog,model,0.75,0.25,0.75
            d.png,cat,model,0.6,0.6,0.4
            e.png,,,,,
        "#]]
        .assert_eq(&predictions_csv(&s, Some(&p), true));
        expect![[r#"
            {"item":"a.png","label":"dog","probability":1.0,"source":"person"}
            {"item":"b.png","label":null,"probability":1.0,"source":"person"}
            {"item":"c.png","label":"dog","probability":0.75,"source":"model"}
            {"item":"d.png","label":"cat","probability":0.6,"source":"model"}
            {"item":"e.png","label":null,"probability":null,"source":null}
        "#]]
        .assert_eq(&predictions_jsonl(&s, Some(&p), false));
        // Stale predictions (another class count) are not used.
        s.add_class("bird").unwrap();
        assert!(predictions_csv(&s, Some(&p), false).ends_with("d.png,,,\ne.png,,,\n"));
    }

    #[test]
    fn multi_label_predictions_write_sets() {
        let items = ["a.png", "b.png"].map(String::from).to_vec();
        let classes = ["cat", "dog"].map(String::from).to_vec();
        let mut s = Session::new(items, classes)
            .unwrap()
            .with_multi_label(true)
            .unwrap();
        s.set_queue(vec![0]);
        s.answer_set(&[0, 1]).unwrap();
        let p = Predictions {
            classes: 2,
            multi_label: true,
            items: vec![1],
            probabilities: vec![0.8, 0.9],
        };
        expect![[r#"
            item,label,source,probability
            a.png,cat;dog,person,1
            b.png,cat;dog,model,0.72
        "#]]
        .assert_eq(&predictions_csv(&s, Some(&p), false));
    }
}
