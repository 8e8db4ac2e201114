//! A compact index of many names (the item names of the embeddings files a tab opened: a
//! million of them), found by their exact text. The names are kept end to end in one string
//! and found through a sorted list of their 64-bit hashes: about 16 bytes a name besides its
//! text, where a `HashMap<String, u32>` takes about 90 (a `String` and a bucket each, the
//! buckets a power of two). Deterministic: the hash has fixed keys.

use std::hash::{DefaultHasher, Hash, Hasher};

/// Names numbered in the order they were added (entry 0, 1, …).
#[derive(Debug, Default, Clone)]
pub struct NameIndex {
    /// Every name, one after another.
    text: String,
    /// Where each entry's name ends in `text`.
    ends: Vec<usize>,
    /// (hash of the name, entry), sorted.
    sorted: Vec<(u64, u32)>,
}

fn hash(name: &str) -> u64 {
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

impl NameIndex {
    /// Adds `names` as the next entries, numbered on from [`NameIndex::len`]; each `String`
    /// is dropped once copied (a million of them need not be held twice).
    ///
    /// # Panics
    /// Past `u32::MAX` entries.
    pub fn extend(&mut self, names: impl IntoIterator<Item = impl AsRef<str>>) {
        for name in names {
            let name = name.as_ref();
            let entry = u32::try_from(self.ends.len()).expect("fewer than 2³² names");
            self.text.push_str(name);
            self.ends.push(self.text.len());
            self.sorted.push((hash(name), entry));
        }
        self.sorted.sort_unstable();
    }

    /// Entries added.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The name of `entry`.
    pub fn name(&self, entry: u32) -> Option<&str> {
        let e = entry as usize;
        let end = *self.ends.get(e)?;
        let start = if e == 0 { 0 } else { self.ends[e - 1] };
        Some(&self.text[start..end])
    }

    /// The entry named `name`; the last added of several so named.
    pub fn get(&self, name: &str) -> Option<u32> {
        let h = hash(name);
        let from = self.sorted.partition_point(|&(k, _)| k < h);
        self.sorted[from..]
            .iter()
            .take_while(|&&(k, _)| k == h)
            .map(|&(_, entry)| entry)
            .filter(|&entry| self.name(entry) == Some(name))
            .last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_by_their_exact_text_the_last_of_equals_winning() {
        let mut index = NameIndex::default();
        assert!(index.is_empty());
        assert_eq!(index.get("a.png"), None);
        index.extend(["a.png", "dir/b.png", "", "é/ü.png"].map(String::from));
        index.extend(["a.png".to_string(), "c.png".to_string()]);
        assert_eq!(index.len(), 6);
        assert_eq!(index.get("dir/b.png"), Some(1));
        assert_eq!(index.get(""), Some(2));
        assert_eq!(index.get("é/ü.png"), Some(3));
        assert_eq!(index.get("a.png"), Some(4), "the later of two equal names");
        assert_eq!(index.get("c.png"), Some(5));
        assert_eq!(index.get("b.png"), None, "a tail is not the name");
        assert_eq!(index.get("A.png"), None);
        assert_eq!(index.name(3), Some("é/ü.png"));
        assert_eq!(index.name(6), None);
        // Many names: each found as itself.
        let many: Vec<String> = (0..20_000).map(|i| format!("photos/{i}.jpg")).collect();
        let mut big = NameIndex::default();
        big.extend(many.clone());
        for (i, n) in many.iter().enumerate() {
            assert_eq!(big.get(n), Some(i as u32));
        }
    }
}
