//! The text embedder: a WordPiece tokenizer (`tokenizers`) and a sentence-embedding ONNX model
//! (token ids and attention mask in, one pooled vector out) run by tract.

use std::sync::Arc;

use tokenizers::{Tokenizer, TruncationParams};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::DimLike;

use crate::{Error, Result};

/// Longest token sequence embedded; longer texts are truncated (MiniLM was trained on 256).
pub const MAX_TOKENS: usize = 256;

/// A loaded sentence embedder: a text in, one unit-length vector out.
#[derive(Debug, Clone)]
pub struct TextEmbedder {
    plan: Arc<TypedRunnableModel>,
    tokenizer: Tokenizer,
    dim: usize,
}

impl TextEmbedder {
    /// Loads an ONNX sentence model (inputs `input_ids` and `attention_mask`, i64 `[1, S]`, in
    /// that order; output f32 `[1, D]`) and its `tokenizer.json`. Weight-only int8 initializers
    /// are folded back to f32 first. Padding is switched off (one text at a time) and texts are
    /// truncated to [`MAX_TOKENS`].
    ///
    /// # Errors
    /// [`Error::Model`] when either file does not load; [`Error::ModelShape`] when the model's
    /// inputs or output are not those of a sentence embedder.
    pub fn from_bytes(onnx_bytes: &[u8], tokenizer_json: &[u8]) -> Result<TextEmbedder> {
        let mut tokenizer = Tokenizer::from_bytes(tokenizer_json)
            .map_err(|e| Error::Model(format!("the tokenizer does not load ({e})")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| Error::Model(format!("the tokenizer does not load ({e})")))?;
        let onnx = tract_onnx::onnx();
        let mut proto = onnx
            .proto_model_for_read(&mut &*onnx_bytes)
            .map_err(|e| Error::Model(format!("not an ONNX file ({e})")))?;
        super::dequant::fold_dequantize_linear(&mut proto)?;
        let model = onnx
            .model_for_proto_model(&proto)
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        super::check_operators(&model)?;
        if model.input_outlets().map_or(0, |i| i.len()) != 2 {
            return Err(Error::ModelShape(
                "a text model needs two inputs: input_ids and attention_mask".into(),
            ));
        }
        let s = model.sym("S");
        let fact = InferenceFact::dt_shape(i64::datum_type(), [1.to_dim(), s.to_dim()]);
        let model = model
            .with_input_fact(0, fact.clone())
            .and_then(|m| m.with_input_fact(1, fact))
            .and_then(|m| m.into_optimized())
            .map_err(|e| Error::ModelShape(format!("{e:#}")))?;
        let out = model
            .output_fact(0)
            .map_err(|e| Error::ModelShape(format!("{e:#}")))?;
        let dim = match out.shape.iter().collect::<Vec<_>>().as_slice() {
            [_, d] => d.to_usize().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            Error::ModelShape(format!(
                "expected an output of shape [1, D], got {:?}",
                out.shape
            ))
        })?;
        super::check_f32_output(out)?;
        let plan = model
            .into_runnable()
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        Ok(TextEmbedder {
            plan,
            tokenizer,
            dim,
        })
    }

    /// Length of the vectors [`TextEmbedder::embed_text`] returns.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The token ids of `text` (with the special tokens the tokenizer adds).
    ///
    /// # Errors
    /// [`Error::Inference`] when the tokenizer fails.
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::Inference(format!("tokenizing failed: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Embeds one text.
    ///
    /// # Errors
    /// [`Error::Inference`] when tokenizing or the model fails.
    pub fn embed_text(&self, text: &str) -> Result<Vec<f32>> {
        let ids: Vec<i64> = self.tokenize(text)?.into_iter().map(i64::from).collect();
        let n = ids.len();
        let ids =
            Tensor::from_shape(&[1, n], &ids).map_err(|e| Error::Inference(format!("{e:#}")))?;
        let mask = Tensor::from_shape(&[1, n], &vec![1i64; n])
            .map_err(|e| Error::Inference(format!("{e:#}")))?;
        let out = self
            .plan
            .run(tvec!(ids.into(), mask.into()))
            .map_err(|e| Error::Inference(format!("{e:#}")))?;
        let view = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| Error::Inference(format!("{e:#}")))?;
        Ok(view.iter().copied().collect())
    }
}
