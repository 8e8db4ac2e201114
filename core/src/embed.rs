//! Turning items into embedding vectors with an ONNX model run by tract.
//!
//! This module (with its children) is the only place that names a tract type: the rest of the
//! crate sees `Vec<f32>` embeddings and [`ImageEmbedder`].

mod dequant;
pub mod image;
pub mod text;

use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::{Error, Result};
pub use image::{preprocess, ImageSpec};
pub use text::TextEmbedder;

/// A loaded, optimised image embedding model: an image in, one vector out.
#[derive(Debug, Clone)]
pub struct ImageEmbedder {
    plan: Arc<TypedRunnableModel>,
    spec: ImageSpec,
    dim: usize,
}

impl ImageEmbedder {
    /// Loads an ONNX image model from its bytes and prepares it for batch-1 inference.
    ///
    /// The model must take one `f32 [N, 3, H, W]` input and give an `f32 [N, D]` embedding
    /// (or `[N, D, h, w]`, which is mean-pooled). Weight-only int8 initializers behind
    /// `DequantizeLinear` are folded back to f32 first, so tract runs its fast f32 kernels.
    ///
    /// # Errors
    /// [`Error::Model`] when the bytes are not an ONNX model tract can run;
    /// [`Error::ModelShape`] when the input or output is not image-shaped.
    pub fn from_onnx_bytes(bytes: &[u8], spec: ImageSpec) -> Result<ImageEmbedder> {
        let onnx = tract_onnx::onnx();
        let mut proto = onnx
            .proto_model_for_read(&mut &*bytes)
            .map_err(|e| Error::Model(format!("not an ONNX file ({e})")))?;
        dequant::fold_dequantize_linear(&mut proto)?;
        let graph = proto
            .graph
            .as_ref()
            .ok_or_else(|| Error::Model("the file has no graph".into()))?;
        let initializers: std::collections::BTreeSet<&str> =
            graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|i| !initializers.contains(i.name.as_str()))
            .collect();
        if inputs.len() != 1 {
            return Err(Error::ModelShape(format!(
                "expected one image input, found {} inputs",
                inputs.len()
            )));
        }
        let side = spec.size as usize;
        let model = onnx
            .model_for_proto_model(&proto)
            .map_err(|e| Error::Model(format!("{e:#}")))?
            .with_input_fact(0, f32::fact([1, 3, side, side]).into())
            .map_err(|e| Error::ModelShape(format!("{e:#}")))?
            .into_optimized()
            .map_err(|e| Error::ModelShape(format!("{e:#}")))?;
        let out = model
            .output_fact(0)
            .map_err(|e| Error::ModelShape(format!("{e:#}")))?;
        let shape = out.shape.as_concrete().map(|s| s.to_vec()).ok_or_else(|| {
            Error::ModelShape("the output shape is not fixed for a single image".into())
        })?;
        let dim = match shape.as_slice() {
            [1, d] | [1, d, _, _] => *d,
            other => {
                return Err(Error::ModelShape(format!(
                    "expected an output of shape [1, D] or [1, D, h, w], got {other:?}"
                )))
            }
        };
        if out.datum_type != f32::datum_type() {
            return Err(Error::ModelShape(format!(
                "the output is {:?}, not f32",
                out.datum_type
            )));
        }
        let plan = model
            .into_runnable()
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        Ok(ImageEmbedder { plan, spec, dim })
    }

    /// Length of the vectors [`ImageEmbedder::embed_image`] returns.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The preprocessing this model expects.
    pub fn spec(&self) -> &ImageSpec {
        &self.spec
    }

    /// Decodes, preprocesses and embeds one encoded image (PNG, JPEG, GIF, BMP, WebP).
    ///
    /// # Errors
    /// [`Error::Image`] naming `item` when the bytes do not decode; [`Error::Inference`] when the
    /// model fails.
    pub fn embed_image(&self, item: &str, bytes: &[u8]) -> Result<Vec<f32>> {
        let input = preprocess(item, bytes, &self.spec)?;
        self.embed_preprocessed(input)
    }

    /// Embeds one image already preprocessed into `3 × size × size` NCHW floats.
    ///
    /// # Errors
    /// [`Error::Invalid`] on a wrong length; [`Error::Inference`] when the model fails.
    pub fn embed_preprocessed(&self, input: Vec<f32>) -> Result<Vec<f32>> {
        let side = self.spec.size as usize;
        let tensor = Tensor::from_shape(&[1, 3, side, side], &input)
            .map_err(|e| Error::Invalid(format!("{e:#}")))?;
        let out = self
            .plan
            .run(tvec!(tensor.into()))
            .map_err(|e| Error::Inference(format!("{e:#}")))?;
        let view = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| Error::Inference(format!("{e:#}")))?;
        let flat: Vec<f32> = view.iter().copied().collect();
        let spatial = flat.len() / self.dim;
        if spatial == 1 {
            return Ok(flat);
        }
        Ok((0..self.dim)
            .map(|c| flat[c * spatial..(c + 1) * spatial].iter().sum::<f32>() / spatial as f32)
            .collect())
    }
}
