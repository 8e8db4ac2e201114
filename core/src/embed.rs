//! Turning items into embedding vectors with an ONNX model run by tract.
//!
//! This module (with its children) is the only place that names a tract type: the rest of the
//! crate sees `Vec<f32>` embeddings and [`ImageEmbedder`].

pub mod classifier;
mod dequant;
pub mod image;
pub mod text;

use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::model::{Layout, ModelInfo, ModelKind, TensorInfo};
use crate::{Error, Result};
pub use image::{preprocess, ImageSpec};
pub use text::TextEmbedder;

/// A loaded model, image or text: what an embedding worker and `quarry embed` hold.
pub enum Embedder {
    Image(ImageEmbedder),
    Text(Box<TextEmbedder>),
}

impl Embedder {
    /// Length of the vectors the model gives.
    pub fn dim(&self) -> usize {
        match self {
            Embedder::Image(m) => m.dim(),
            Embedder::Text(m) => m.dim(),
        }
    }
}

/// A loaded, optimised image embedding model: an image in, one vector out.
#[derive(Debug, Clone)]
pub struct ImageEmbedder {
    plan: Arc<TypedRunnableModel>,
    spec: ImageSpec,
    dim: usize,
    /// How the chosen output is pooled to one vector.
    pooling: Pooling,
}

/// How an output tensor (batch 1) becomes one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pooling {
    /// `[1, D]`: as is.
    None,
    /// `[1, D, h, w]`: mean over h, w.
    ChannelsFirst,
    /// `[1, h, w, D]` or `[1, T, D]` (per token or per patch): mean over the middle axes.
    ChannelsLast,
}

/// Reads an ONNX file's graph, folding weight-only int8 back to f32.
fn read_proto(bytes: &[u8]) -> Result<tract_onnx::pb::ModelProto> {
    let mut proto = tract_onnx::onnx()
        .proto_model_for_read(&mut &*bytes)
        .map_err(|e| Error::Model(format!("not an ONNX file ({e})")))?;
    if proto.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
        return Err(Error::Model("not an ONNX file (it has no graph)".into()));
    }
    dequant::fold_dequantize_linear(&mut proto)?;
    Ok(proto)
}

/// A tract error while building the model, as a person can act on it: an operator tract has no
/// implementation of is named.
fn model_error(e: &TractError) -> Error {
    let text = format!("{e:#}");
    let op = text
        .split("Unimplemented(")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .map(str::to_string);
    match op {
        Some(op) => Error::Model(format!(
            "it uses the operator '{op}', which Quarry's inference engine (tract) cannot run"
        )),
        None => Error::Model(text),
    }
}

/// Fails naming the first operator tract loaded as a placeholder because it cannot run it.
fn check_operators(model: &InferenceModel) -> Result<()> {
    let unknown: Vec<String> = model
        .nodes()
        .iter()
        .filter_map(|n| {
            let name = n.op.name();
            name.strip_prefix("Unimplemented(")
                .map(|rest| rest.trim_end_matches(')').to_string())
        })
        .collect();
    match unknown.first() {
        Some(op) => Err(Error::Model(format!(
            "it uses the operator '{op}'{}, which Quarry's inference engine (tract) cannot run",
            if unknown.len() > 1 {
                format!(" (and {} more)", unknown.len() - 1)
            } else {
                String::new()
            }
        ))),
        None => Ok(()),
    }
}

const ONNX_TYPES: [&str; 17] = [
    "undefined",
    "f32",
    "u8",
    "i8",
    "u16",
    "i16",
    "i32",
    "i64",
    "string",
    "bool",
    "f16",
    "f64",
    "u32",
    "u64",
    "complex64",
    "complex128",
    "bf16",
];

fn tensor_info(v: &tract_onnx::pb::ValueInfoProto) -> TensorInfo {
    use tract_onnx::pb::type_proto::Value;
    let (dtype, shape) = match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(Value::TensorType(t)) => {
            let dims = t
                .shape
                .as_ref()
                .map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match d.value {
                            Some(
                                tract_onnx::pb::tensor_shape_proto::dimension::Value::DimValue(v),
                            ) if v > 0 => Some(v as usize),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let dtype = ONNX_TYPES
                .get(t.elem_type as usize)
                .copied()
                .unwrap_or("unknown");
            (dtype.to_string(), dims)
        }
        _ => ("not a tensor".to_string(), Vec::new()),
    };
    TensorInfo {
        name: v.name.clone(),
        dtype,
        shape,
    }
}

/// Inspects an ONNX file: its inputs and outputs, whether it is an image or a text model, and a
/// proposed preprocessing (input size and layout from the input's shape). Also checks that
/// tract can build the graph, so an unsupported operator is reported before anything else.
///
/// # Errors
/// [`Error::Model`] when the bytes are not ONNX or use an operator tract cannot run (named);
/// [`Error::ModelShape`] when the inputs are neither one image (`[N, 3, H, W]` or `[N, H, W, 3]`,
/// float) nor token ids (integer `[N, S]`), or no output is numeric.
pub fn inspect(bytes: &[u8]) -> Result<ModelInfo> {
    inspect_model(bytes).map(|(info, _)| info)
}

/// [`inspect`], also returning the graph tract built, so loading does not parse it twice.
fn inspect_model(bytes: &[u8]) -> Result<(ModelInfo, InferenceModel)> {
    let proto = read_proto(bytes)?;
    let graph = proto.graph.as_ref().expect("checked by read_proto");
    let initializers: std::collections::BTreeSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<TensorInfo> = graph
        .input
        .iter()
        .filter(|i| !initializers.contains(i.name.as_str()))
        .map(tensor_info)
        .collect();
    let outputs: Vec<TensorInfo> = graph.output.iter().map(tensor_info).collect();
    let model = tract_onnx::onnx()
        .model_for_proto_model(&proto)
        .map_err(|e| model_error(&e))?;
    check_operators(&model)?;
    let numeric = TensorInfo::is_float;
    if !outputs.iter().any(numeric) {
        return Err(Error::ModelShape(format!(
            "no output is a float tensor ({})",
            outputs
                .iter()
                .map(|o| format!("{}: {}", o.name, o.dtype))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let describe = || {
        inputs
            .iter()
            .map(|i| format!("{} {} {:?}", i.name, i.dtype, i.shape))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let integer = |t: &TensorInfo| matches!(t.dtype.as_str(), "i64" | "i32");
    if !inputs.is_empty()
        && inputs.len() <= 3
        && inputs.iter().all(|i| integer(i) && i.shape.len() == 2)
    {
        let info = ModelInfo {
            inputs,
            outputs,
            kind: ModelKind::Text,
            proposed: None,
        };
        return Ok((info, model));
    }
    let [image] = inputs.as_slice() else {
        return Err(Error::ModelShape(format!(
            "it takes neither one image nor token ids: inputs {}",
            describe()
        )));
    };
    let layout = match image.shape.as_slice() {
        [_, Some(3), _, _] => Layout::Nchw,
        [_, _, _, Some(3)] => Layout::Nhwc,
        _ => {
            return Err(Error::ModelShape(format!(
                "its input is not an image ([N, 3, H, W] or [N, H, W, 3]): {}",
                describe()
            )))
        }
    };
    if !numeric(image) {
        return Err(Error::ModelShape(format!(
            "its image input is {}, not float",
            image.dtype
        )));
    }
    let side = match layout {
        Layout::Nchw => image.shape[2],
        Layout::Nhwc => image.shape[1],
    };
    let mut spec = ImageSpec::efficientnet_lite();
    spec.size = side.unwrap_or(224) as u32;
    spec.layout = layout;
    spec.output = outputs.iter().find(|o| numeric(o)).map(|o| o.name.clone());
    let info = ModelInfo {
        inputs,
        outputs,
        kind: ModelKind::Image,
        proposed: Some(spec),
    };
    Ok((info, model))
}

/// Fails unless the model's (first) output fact is f32.
fn check_f32_output(out: &TypedFact) -> Result<()> {
    if out.datum_type != f32::datum_type() {
        return Err(Error::ModelShape(format!(
            "the output is {:?}, not f32",
            out.datum_type
        )));
    }
    Ok(())
}

impl ImageEmbedder {
    /// Loads an ONNX image model from its bytes and prepares it for batch-1 inference.
    ///
    /// The model must take one float image input in `spec`'s layout (`[N, 3, H, W]` or
    /// `[N, H, W, 3]`). The output named in `spec` (else the first) is the embedding: `[N, D]` as
    /// is; `[N, D, h, w]` (NCHW models) or `[N, h, w, D]` / `[N, T, D]` (NHWC models, per-patch
    /// or per-token outputs) mean-pooled to `D`. Weight-only int8 initializers behind
    /// `DequantizeLinear` are folded back to f32 first, so tract runs its fast f32 kernels.
    ///
    /// # Errors
    /// [`Error::Model`] when the bytes are not an ONNX model tract can run (an unsupported
    /// operator is named); [`Error::ModelShape`] when the input or output is not image-shaped or
    /// the named output does not exist.
    pub fn from_onnx_bytes(bytes: &[u8], spec: ImageSpec) -> Result<ImageEmbedder> {
        let (info, mut model) = inspect_model(bytes)?;
        if info.kind != ModelKind::Image {
            return Err(Error::ModelShape(
                "it takes token ids, not an image: open it as a text model".into(),
            ));
        }
        if let Some(name) = &spec.output {
            if !info.outputs.iter().any(|o| &o.name == name) {
                return Err(Error::ModelShape(format!(
                    "the model has no output '{name}'"
                )));
            }
            model
                .select_outputs_by_name([name.as_str()])
                .map_err(|e| Error::ModelShape(format!("{e:#}")))?;
        }
        let side = spec.size as usize;
        let shape = match spec.layout {
            Layout::Nchw => [1, 3, side, side],
            Layout::Nhwc => [1, side, side, 3],
        };
        let model = model
            .with_input_fact(0, f32::fact(shape).into())
            .map_err(|e| Error::ModelShape(format!("{e:#}")))?
            .into_optimized()
            .map_err(|e| Error::ModelShape(format!("{e:#}")))?;
        let out = model
            .output_fact(0)
            .map_err(|e| Error::ModelShape(format!("{e:#}")))?;
        let shape = out.shape.as_concrete().map(|s| s.to_vec()).ok_or_else(|| {
            Error::ModelShape("the output shape is not fixed for a single image".into())
        })?;
        let (dim, pooling) = match (shape.as_slice(), spec.layout) {
            ([1, d], _) => (*d, Pooling::None),
            ([1, d, _, _], Layout::Nchw) => (*d, Pooling::ChannelsFirst),
            ([1, _, _, d], Layout::Nhwc) | ([1, _, d], _) => (*d, Pooling::ChannelsLast),
            (other, _) => {
                return Err(Error::ModelShape(format!(
                    "the output has shape {other:?}; expected [1, D], [1, T, D] or an image-shaped feature map"
                )))
            }
        };
        check_f32_output(out)?;
        let plan = model
            .into_runnable()
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        Ok(ImageEmbedder {
            plan,
            spec,
            dim,
            pooling,
        })
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

    /// Embeds one image already preprocessed into `3 × size × size` floats in the spec's layout.
    ///
    /// # Errors
    /// [`Error::Invalid`] on a wrong length; [`Error::Inference`] when the model fails.
    pub fn embed_preprocessed(&self, input: Vec<f32>) -> Result<Vec<f32>> {
        let side = self.spec.size as usize;
        let shape = match self.spec.layout {
            Layout::Nchw => [1, 3, side, side],
            Layout::Nhwc => [1, side, side, 3],
        };
        let tensor =
            Tensor::from_shape(&shape, &input).map_err(|e| Error::Invalid(format!("{e:#}")))?;
        let out = self
            .plan
            .run(tvec!(tensor.into()))
            .map_err(|e| Error::Inference(format!("{e:#}")))?;
        let view = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| Error::Inference(format!("{e:#}")))?;
        let flat: Vec<f32> = view.iter().copied().collect();
        let d = self.dim;
        let spatial = flat.len() / d;
        Ok(match self.pooling {
            Pooling::None => flat,
            Pooling::ChannelsFirst => (0..d)
                .map(|c| flat[c * spatial..(c + 1) * spatial].iter().sum::<f32>() / spatial as f32)
                .collect(),
            Pooling::ChannelsLast => {
                let mut out = vec![0.0; d];
                for row in flat.chunks_exact(d) {
                    out.iter_mut().zip(row).for_each(|(o, v)| *o += v);
                }
                out.iter_mut().for_each(|o| *o /= spatial as f32);
                out
            }
        })
    }
}
