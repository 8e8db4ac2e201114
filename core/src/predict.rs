//! The head's guesses: class probabilities of items, and what they predict.

/// Class probabilities of some items of the pool under the current head.
///
/// Single-label projects: each row sums to 1 (softmax). Multi-label projects: each column is an
/// independent `P(item has class)`, and the predicted set is every class at or above
/// [`MULTI_LABEL_THRESHOLD`].
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Predictions {
    pub classes: usize,
    pub multi_label: bool,
    /// The items, in row order.
    pub items: Vec<usize>,
    /// `items.len() × classes`, row-major.
    pub probabilities: Vec<f32>,
}

/// A multi-label class is predicted when its probability reaches this.
pub const MULTI_LABEL_THRESHOLD: f32 = 0.5;

impl Predictions {
    /// Number of items predicted.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item is predicted (no head yet).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Probabilities of row `r`.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.probabilities[r * self.classes..(r + 1) * self.classes]
    }

    /// The row of item `item`, if predicted (linear search: for a few items; index with
    /// [`Predictions::by_item`] for many).
    pub fn of(&self, item: usize) -> Option<&[f32]> {
        self.items
            .iter()
            .position(|&i| i == item)
            .map(|r| self.row(r))
    }

    /// Keeps `previous`'s row for `item` (the item on screen, whose guess must not change under
    /// the person's eyes when a newer refresh lands): replaces or adds it here. Nothing changes
    /// when `previous` has no row for it or counts other classes.
    pub fn keep_row(&mut self, item: usize, previous: &Predictions) {
        if previous.classes != self.classes || previous.multi_label != self.multi_label {
            return;
        }
        let Some(row) = previous.of(item) else {
            return;
        };
        match self.items.iter().position(|&i| i == item) {
            Some(r) => {
                self.probabilities[r * self.classes..(r + 1) * self.classes].copy_from_slice(row)
            }
            None => {
                self.items.push(item);
                self.probabilities.extend_from_slice(row);
            }
        }
    }

    /// Row index of every item of a pool of `n` items (`None`: not predicted).
    pub fn by_item(&self, n: usize) -> Vec<Option<usize>> {
        let mut out = vec![None; n];
        for (r, &i) in self.items.iter().enumerate() {
            if i < n {
                out[i] = Some(r);
            }
        }
        out
    }
}

/// The most probable class of a row of probabilities and its probability (first on ties).
pub fn top(row: &[f32]) -> (usize, f32) {
    let mut best = (0, f32::NEG_INFINITY);
    for (k, &p) in row.iter().enumerate() {
        if p > best.1 {
            best = (k, p);
        }
    }
    best
}

/// The predicted set of a multi-label row: classes at or above [`MULTI_LABEL_THRESHOLD`], and
/// the probability that every decision is right when they are independent (product of
/// `max(p, 1 − p)`).
pub fn predicted_set(row: &[f32]) -> (Vec<usize>, f32) {
    let set = (0..row.len())
        .filter(|&k| row[k] >= MULTI_LABEL_THRESHOLD)
        .collect();
    let confidence = row.iter().map(|&p| p.max(1.0 - p)).product();
    (set, confidence)
}

/// Order of the predictions view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Least sure first (the items most worth checking).
    #[default]
    LeastSure,
    /// Most sure first.
    MostSure,
}

/// Which items the predictions view lists, by who labeled them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BySource {
    #[default]
    All,
    /// Items the person answered.
    Person,
    /// Items only the model labels.
    Model,
}

/// The items of a pool of `n` for the predictions view: filtered by who labels them (`answered`
/// marks the person's items) and by predicted class (`class`: the top class, or a member of the
/// predicted set in multi-label projects), sorted by the probability of the prediction. Items
/// without a prediction come last, in item order. Ties keep item order.
pub fn browse(
    predictions: Option<&Predictions>,
    answered: &[bool],
    sort: SortBy,
    class: Option<usize>,
    source: BySource,
) -> Vec<usize> {
    let n = answered.len();
    let rows = predictions.map(|p| p.by_item(n));
    let guess = |i: usize| -> Option<(f32, bool)> {
        let p = predictions?;
        let r = rows.as_ref()?[i]?;
        let row = p.row(r);
        Some(if p.multi_label {
            let (set, confidence) = predicted_set(row);
            (confidence, class.is_none_or(|c| set.contains(&c)))
        } else {
            let (top_class, probability) = top(row);
            (probability, class.is_none_or(|c| c == top_class))
        })
    };
    let mut listed: Vec<(usize, Option<f32>)> = (0..n)
        .filter(|&i| match source {
            BySource::All => true,
            BySource::Person => answered[i],
            BySource::Model => !answered[i],
        })
        .filter_map(|i| match guess(i) {
            Some((p, true)) => Some((i, Some(p))),
            Some((_, false)) => None,
            None => class.is_none().then_some((i, None)),
        })
        .collect();
    listed.sort_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => match sort {
            SortBy::LeastSure => x.total_cmp(&y),
            SortBy::MostSure => y.total_cmp(&x),
        }
        .then(a.0.cmp(&b.0)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(&b.0),
    });
    listed.into_iter().map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsing_sorts_and_filters() {
        let p = Predictions {
            classes: 2,
            multi_label: false,
            items: vec![0, 1, 2, 3],
            probabilities: vec![0.9, 0.1, 0.4, 0.6, 0.55, 0.45, 0.2, 0.8],
        };
        let answered = [false, true, false, false, false];
        let all = |sort| browse(Some(&p), &answered, sort, None, BySource::All);
        assert_eq!(all(SortBy::LeastSure), vec![2, 1, 3, 0, 4]);
        assert_eq!(all(SortBy::MostSure), vec![0, 3, 1, 2, 4]);
        let dogs = browse(
            Some(&p),
            &answered,
            SortBy::LeastSure,
            Some(1),
            BySource::All,
        );
        assert_eq!(dogs, vec![1, 3]);
        let model = browse(
            Some(&p),
            &answered,
            SortBy::LeastSure,
            None,
            BySource::Model,
        );
        assert_eq!(model, vec![2, 3, 0, 4]);
        let person = browse(None, &answered, SortBy::LeastSure, None, BySource::Person);
        assert_eq!(person, vec![1]);
    }

    #[test]
    fn rows_tops_and_sets() {
        let p = Predictions {
            classes: 3,
            multi_label: false,
            items: vec![4, 2],
            probabilities: vec![0.2, 0.5, 0.3, 0.6, 0.3, 0.1],
        };
        assert_eq!(p.of(2), Some(&[0.6, 0.3, 0.1][..]));
        assert_eq!(p.of(3), None);
        assert_eq!(top(p.row(0)), (1, 0.5));
        assert_eq!(p.by_item(5), vec![None, None, Some(1), None, Some(0)]);
        let (set, conf) = predicted_set(&[0.9, 0.2, 0.5]);
        assert_eq!(set, vec![0, 2]);
        assert!((conf - 0.9 * 0.8 * 0.5).abs() < 1e-6);
    }

    #[test]
    fn a_kept_row_replaces_or_joins() {
        let old = Predictions {
            classes: 2,
            multi_label: false,
            items: vec![4, 7],
            probabilities: vec![0.9, 0.1, 0.3, 0.7],
        };
        let mut new = Predictions {
            classes: 2,
            multi_label: false,
            items: vec![7],
            probabilities: vec![0.6, 0.4],
        };
        new.keep_row(7, &old);
        assert_eq!(new.of(7), Some(&[0.3, 0.7][..]));
        new.keep_row(4, &old);
        assert_eq!(new.of(4), Some(&[0.9, 0.1][..]));
        new.keep_row(5, &old);
        assert_eq!(new.len(), 2);
        let three = Predictions {
            classes: 3,
            multi_label: false,
            items: vec![7],
            probabilities: vec![1.0, 0.0, 0.0],
        };
        new.keep_row(7, &three);
        assert_eq!(new.of(7), Some(&[0.3, 0.7][..]));
    }
}
