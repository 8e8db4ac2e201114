//! Keys of the embedding cache: an item's embedding is reused only for the same content under
//! the same model. The model's key covers its file, its preprocessing and its tokenizer, so any
//! change of model makes every cached embedding unreachable.

use sha2::{Digest, Sha256};

use crate::model::ModelChoice;
use crate::{Error, Result};

/// Hex SHA-256 of `parts`, each prefixed by its length (so `["ab", "c"]` and `["a", "bc"]` differ).
pub fn digest(parts: &[&[u8]]) -> String {
    crate::cache_blocks::hash_hex(&digest_bytes(parts))
}

/// [`digest`] as its 32 bytes.
pub fn digest_bytes(parts: &[&[u8]]) -> [u8; crate::cache_blocks::HASH_BYTES] {
    let mut d = Digester::default();
    for p in parts {
        d.part(p.len() as u64);
        d.update(p);
    }
    d.finish()
}

/// [`digest`] of parts whose bytes come in pieces (a file read in slices, never whole in
/// memory): [`Digester::part`] with each part's length, then its bytes through
/// [`Digester::update`], in as many pieces as they come.
#[derive(Debug, Clone, Default)]
pub struct Digester(Sha256);

impl Digester {
    /// Starts a part of `len` bytes.
    pub fn part(&mut self, len: u64) {
        self.0.update(len.to_le_bytes());
    }

    /// More bytes of the current part.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest's 32 bytes.
    pub fn finish(self) -> [u8; crate::cache_blocks::HASH_BYTES] {
        self.0.finalize().into()
    }

    /// The digest in hex, as [`digest`] gives it.
    pub fn finish_hex(self) -> String {
        crate::cache_blocks::hash_hex(&self.finish())
    }
}

/// The key of `model` loaded from `bytes` (and `tokenizer` for a text model). Where the file
/// was loaded from does not count; how images are prepared does.
pub fn model_key(model: &ModelChoice, bytes: &[u8], tokenizer: Option<&[u8]>) -> String {
    digest(&[bytes, &preparation(model), tokenizer.unwrap_or_default()])
}

/// The parts of [`model_key`] in order, for a [`Digester`]: the model file, then
/// `preparation(model)`, then the tokenizer (empty for an image model).
pub fn preparation(model: &ModelChoice) -> Vec<u8> {
    match model {
        ModelChoice::Image { spec, .. } => {
            serde_json::to_vec(spec).expect("an image spec always serialises")
        }
        ModelChoice::Text { .. } => b"text".to_vec(),
    }
}

/// The key of the embedding of content `content` (an image file's bytes or a text's UTF-8)
/// under the model keyed `model`.
pub fn embedding_key(model: &str, content: &[u8]) -> String {
    key_of_hash(model, &digest(&[content]))
}

/// [`embedding_key`] from the content's hash (`digest(&[content])`, as an embeddings file
/// records it) instead of the content.
pub fn key_of_hash(model: &str, hash: &str) -> String {
    format!("{model}/{hash}")
}

/// Bytes before the codes in a [`compact`] row: the scale.
pub const SCALE_BYTES: usize = 4;

/// The length of the embedding a [`compact`] row of `bytes` bytes holds.
pub fn dim_of_compact(bytes: usize) -> Option<usize> {
    bytes.checked_sub(SCALE_BYTES).filter(|&d| d > 0)
}

/// An embedding as the browser's cache keeps it: its scale (f32 LE) and one 8-bit code per
/// value, as the learner's rows ([`crate::store::CompactRows`]) quantise it — so a cached row
/// becomes exactly the same learner row as the embedding it was made from, in a quarter of the
/// bytes of f32.
pub fn compact(values: &[f32]) -> Vec<u8> {
    let mut codes = vec![0i8; values.len()];
    let scale = crate::store::quantise(values, &mut codes);
    let mut out = Vec::with_capacity(SCALE_BYTES + values.len());
    out.extend(scale.to_le_bytes());
    out.extend(codes.iter().map(|&c| c as u8));
    out
}

/// The values [`compact`] kept (`codes × scale`); `None` for bytes it did not write.
pub fn expand(bytes: &[u8]) -> Option<Vec<f32>> {
    let (scale, codes) = compact_parts(bytes)?;
    Some(codes.iter().map(|&c| f32::from(c as i8) * scale).collect())
}

/// The scale and the codes (each an `i8`'s bits) of [`compact`]'s bytes; `None` without a
/// positive finite scale.
pub fn compact_parts(bytes: &[u8]) -> Option<(f32, &[u8])> {
    let (scale, codes) = bytes.split_first_chunk::<SCALE_BYTES>()?;
    let scale = f32::from_le_bytes(*scale);
    (scale.is_finite() && scale > 0.0).then_some((scale, codes))
}

/// Cached embeddings as one file (for a project zip): per entry, the key's length (u32 LE), the
/// key (UTF-8), the number of values (u32 LE), the values (f32 LE).
pub fn encode_entries(entries: &[(String, Vec<f32>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, values) in entries {
        out.extend((key.len() as u32).to_le_bytes());
        out.extend(key.as_bytes());
        out.extend((values.len() as u32).to_le_bytes());
        for v in values {
            out.extend(v.to_le_bytes());
        }
    }
    out
}

/// Reads what [`encode_entries`] wrote.
///
/// # Errors
/// [`Error::Format`] when the bytes end inside an entry, a key is not UTF-8 or a value is not
/// finite.
pub fn decode_entries(bytes: &[u8]) -> Result<Vec<(String, Vec<f32>)>> {
    let bad = |reason: &str| Error::Format {
        what: "cached embeddings",
        reason: reason.into(),
    };
    let mut rest = bytes;
    let take = |rest: &mut &[u8], n: usize| -> Result<Vec<u8>> {
        if n > rest.len() {
            return Err(bad("the file ends inside an entry"));
        }
        let (part, tail) = rest.split_at(n);
        *rest = tail;
        Ok(part.to_vec())
    };
    let u32_of = |b: Vec<u8>| u32::from_le_bytes(b.try_into().expect("four bytes")) as usize;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let n = u32_of(take(&mut rest, 4)?);
        let key = String::from_utf8(take(&mut rest, n)?).map_err(|_| bad("a key is not text"))?;
        let dim = u32_of(take(&mut rest, 4)?);
        let len = dim
            .checked_mul(4)
            .ok_or_else(|| bad("an entry is too long"))?;
        let values: Vec<f32> = take(&mut rest, len)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("four bytes")))
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(bad("a value is not a finite number"));
        }
        out.push((key, values));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ImageSpec;

    #[test]
    fn a_compact_embedding_is_the_learners_row_in_a_quarter_of_the_bytes() {
        use crate::store::CompactRows;
        let values: Vec<f32> = (0..1280)
            .map(|i| ((i * 37) % 101) as f32 / 13.0 - 3.7)
            .collect();
        let kept = compact(&values);
        assert_eq!(kept.len(), 4 + 1280);
        assert_eq!(dim_of_compact(kept.len()), Some(1280));
        assert_eq!(dim_of_compact(4), None);
        let back = expand(&kept).unwrap();
        let mut direct = CompactRows::new(2);
        direct.set(0, &values).unwrap();
        direct.set(1, &back).unwrap();
        assert_eq!(direct.codes(0), direct.codes(1));
        assert_eq!(expand(&compact(&[0.0; 4])).unwrap(), vec![0.0; 4]);
        assert!(expand(&[1, 2]).is_none());
        assert!(
            expand(&[0, 0, 0, 0, 5]).is_none(),
            "a zero scale is not written"
        );
    }

    #[test]
    fn a_digest_fed_in_pieces_is_the_digest_of_the_whole_parts() {
        let model = ModelChoice::Text {
            url: "m.onnx".into(),
            tokenizer_url: "t.json".into(),
        };
        let (file, tokenizer) = (vec![7u8; 3000], b"{\"vocab\": 1}".to_vec());
        let mut d = Digester::default();
        d.part(file.len() as u64);
        for piece in file.chunks(1024) {
            d.update(piece);
        }
        let how = preparation(&model);
        d.part(how.len() as u64);
        d.update(&how);
        d.part(tokenizer.len() as u64);
        d.update(&tokenizer[..4]);
        d.update(&tokenizer[4..]);
        assert_eq!(d.finish_hex(), model_key(&model, &file, Some(&tokenizer)));
        // The length comes first: the same bytes cut into other parts differ.
        let mut d = Digester::default();
        d.part(1);
        d.update(b"a");
        d.part(2);
        d.update(b"bc");
        assert_eq!(d.finish_hex(), digest(&[b"a", b"bc"]));
        assert_ne!(digest(&[b"a", b"bc"]), digest(&[b"ab", b"c"]));
    }

    #[test]
    fn keys_change_with_content_model_file_and_preprocessing() {
        let image = |size| ModelChoice::Image {
            url: "a.onnx".into(),
            spec: ImageSpec::with_preset(size, crate::model::Preset::ImageNet),
        };
        let moved = ModelChoice::Image {
            url: "blob:elsewhere".into(),
            spec: ImageSpec::with_preset(224, crate::model::Preset::ImageNet),
        };
        let m = model_key(&image(224), b"weights", None);
        assert_eq!(
            m,
            model_key(&moved, b"weights", None),
            "the URL does not count"
        );
        assert_ne!(m, model_key(&image(224), b"weights2", None));
        assert_ne!(m, model_key(&image(240), b"weights", None));
        let text = ModelChoice::Text {
            url: "t.onnx".into(),
            tokenizer_url: "t.json".into(),
        };
        assert_ne!(
            model_key(&text, b"w", Some(b"vocab a")),
            model_key(&text, b"w", Some(b"vocab b"))
        );
        assert_eq!(embedding_key(&m, b"png"), embedding_key(&m, b"png"));
        assert_ne!(embedding_key(&m, b"png"), embedding_key(&m, b"png2"));
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
        assert_eq!(digest(&[]).len(), 64);
    }

    #[test]
    fn cached_entries_round_trip_and_damage_is_refused() {
        let entries = vec![
            ("m/a".to_string(), vec![0.5, -1.25, 3.0]),
            ("m/b".to_string(), vec![]),
        ];
        let bytes = encode_entries(&entries);
        assert_eq!(decode_entries(&bytes).unwrap(), entries);
        for cut in 1..bytes.len() {
            // Any truncation inside an entry is refused, never a panic.
            let r = decode_entries(&bytes[..cut]);
            assert!(r.is_err() || cut == bytes.len() - 8 - 3, "cut {cut}");
        }
        let mut nan = bytes.clone();
        nan[11..15].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(decode_entries(&nan).is_err());
        assert!(decode_entries(&[255, 255, 255, 255]).is_err());
    }
}
