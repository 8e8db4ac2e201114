//! Exports of what the user labeled.

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

fn csv_field(s: &str) -> String {
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
}
