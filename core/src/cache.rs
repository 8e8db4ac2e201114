//! Keys of the embedding cache: an item's embedding is reused only for the same content under
//! the same model. The model's key covers its file, its preprocessing and its tokenizer, so any
//! change of model makes every cached embedding unreachable.

use sha2::{Digest, Sha256};

use crate::model::ModelChoice;

/// Hex SHA-256 of `parts`, each prefixed by its length (so `["ab", "c"]` and `["a", "bc"]` differ).
pub fn digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of `model` loaded from `bytes` (and `tokenizer` for a text model). Where the file
/// was loaded from does not count; how images are prepared does.
pub fn model_key(model: &ModelChoice, bytes: &[u8], tokenizer: Option<&[u8]>) -> String {
    let how = match model {
        ModelChoice::Image { spec, .. } => {
            serde_json::to_vec(spec).expect("an image spec always serialises")
        }
        ModelChoice::Text { .. } => b"text".to_vec(),
    };
    digest(&[bytes, &how, tokenizer.unwrap_or_default()])
}

/// The key of the embedding of content `content` (an image file's bytes or a text's UTF-8)
/// under the model keyed `model`.
pub fn embedding_key(model: &str, content: &[u8]) -> String {
    format!("{model}/{}", digest(&[content]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ImageSpec;

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
}
