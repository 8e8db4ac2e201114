//! How much of a text the screen shows. A browser lays out every character it is given: a
//! single 5 MB line held the page for 0.7–2 s on every render of the labeling card (measured in
//! headless Chromium, nearly all of it layout, not Quarry's code). Texts are kept whole (the model
//! embeds them, exports write them); only what is drawn is cut.

use std::borrow::Cow;

/// Characters of a text on the labeling card.
pub const CARD_CHARS: usize = 4_000;
/// Characters of a text in lists, thumbnails, tooltips and the map's hover card.
pub const LINE_CHARS: usize = 300;

/// `text` as shown with at most `limit` characters: whole when it fits, otherwise its first
/// `limit` characters and a note of how many more there are.
pub fn shown(text: &str, limit: usize) -> Cow<'_, str> {
    match text.char_indices().nth(limit) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => {
            let rest = text[cut..].chars().count();
            let noun = if rest == 1 { "character" } else { "characters" };
            Cow::Owned(format!(
                "{}… ({} more {noun} not shown)",
                &text[..cut],
                grouped(rest)
            ))
        }
    }
}

/// `n` with its digits in groups of three: 5,000,000.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_that_fits_is_shown_whole() {
        assert!(matches!(shown("short", 5), Cow::Borrowed("short")));
        assert_eq!(shown("", 0), "");
    }

    #[test]
    fn a_long_text_is_cut_at_a_character_and_says_how_much_is_left() {
        let text = "é".repeat(1_234_567);
        let s = shown(&text, 4);
        assert_eq!(s, "éééé… (1,234,563 more characters not shown)");
        assert_eq!(shown("abcdef", 5), "abcde… (1 more character not shown)");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
    }
}
