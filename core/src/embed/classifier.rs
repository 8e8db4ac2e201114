//! The project's classifier as one ONNX file: the embedding model's graph followed by the
//! trained head (`Gemm` + `Softmax`; multi-label projects `Gemm` + `Sigmoid`), built on tract-onnx's protobuf types (prost) and encoded
//! by prost, so any ONNX runtime can run it.
//!
//! Image classifiers take one float32 input `pixels`, `N × 3 × H × W`, RGB values 0–255 of the
//! image resized to the model's `H × W`; the model's own scaling (mean/std), channel order and
//! layout are nodes in the graph. Text classifiers keep the text model's inputs (`input_ids`,
//! `attention_mask`). Both have one output `probabilities`, `N × C`, and the class names in the
//! model's metadata under `classes` (a JSON array in output order). In a multi-label project
//! each class's probability is independent (a class applies at ≥ 0.5), and the metadata says
//! `multi_label` = `true`.

use prost::Message;
use tract_onnx::pb::{
    self, attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::dimension,
    type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use super::{ImageEmbedder, Pooling};
use crate::head::{Activation, LinearHead};
use crate::model::{ChannelOrder, ImageSpec, Layout};
use crate::{Error, Result};

/// Name of the exported image classifier's input.
pub const PIXELS: &str = "pixels";
/// Name of the exported classifier's output.
pub const PROBABILITIES: &str = "probabilities";
/// Metadata key holding the class names.
pub const CLASSES_KEY: &str = "classes";
/// Metadata key saying whether the probabilities are independent per class (`true`/`false`).
pub const MULTI_LABEL_KEY: &str = "multi_label";

/// Prefix of every node and tensor the export adds, so none collides with the model's names.
const PREFIX: &str = "quarry_head/";

/// The image classifier: `model` (the embedding model's ONNX bytes, as the project used them)
/// with `spec`'s preprocessing in front and `head` behind.
///
/// # Errors
/// [`Error::Model`] / [`Error::ModelShape`] when the model does not load as it did for
/// embedding; [`Error::Invalid`] when the head does not fit the classes or the model's
/// embedding size.
pub fn image_classifier(
    model: &[u8],
    spec: &ImageSpec,
    head: &LinearHead,
    classes: &[String],
) -> Result<Vec<u8>> {
    let embedder = ImageEmbedder::from_onnx_bytes(model, spec.clone())?;
    check_head(head, classes, embedder.dim())?;
    let mut proto = decode(model)?;
    let opset = opset(&proto);
    let graph = proto.graph.as_mut().expect("checked by decode");
    let output = embedding_output(graph, spec.output.as_deref())?;
    let initializers: std::collections::BTreeSet<String> =
        graph.initializer.iter().map(|t| t.name.clone()).collect();
    let input = graph
        .input
        .iter()
        .position(|i| !initializers.contains(&i.name))
        .ok_or_else(|| Error::ModelShape("the model has no image input".into()))?;
    let original = graph.input.remove(input).name;
    let side = i64::from(spec.size);
    graph.input.insert(
        0,
        value_info(
            PIXELS,
            DataType::Float,
            &[None, Some(3), Some(side), Some(side)],
        ),
    );
    let mut nodes = preprocessing(spec, &original, graph);
    nodes.append(&mut graph.node);
    graph.node = nodes;
    let rank = match embedder.pooling {
        Pooling::None => 2,
        Pooling::ChannelsFirst => 4,
        Pooling::ChannelsLast => embedder_output_rank(graph, &output)
            .unwrap_or(if spec.layout == Layout::Nhwc { 4 } else { 3 }),
    };
    let pooled = pool(graph, &output, embedder.pooling, rank, opset);
    finish(&mut proto, &pooled, head, classes)
}

/// The text classifier: the text model (inputs `input_ids`, `attention_mask`; first output the
/// sentence embedding) with `head` behind. Its tokenizer is not part of ONNX: ship it beside.
///
/// # Errors
/// As [`image_classifier`].
pub fn text_classifier(model: &[u8], head: &LinearHead, classes: &[String]) -> Result<Vec<u8>> {
    let mut proto = decode(model)?;
    let graph = proto.graph.as_mut().expect("checked by decode");
    let output = embedding_output(graph, None)?;
    let dim = graph
        .output
        .iter()
        .find(|o| o.name == output)
        .and_then(|o| super::tensor_info(o).shape.last().copied().flatten())
        .unwrap_or(head.dim);
    check_head(head, classes, dim)?;
    finish(&mut proto, &output, head, classes)
}

fn check_head(head: &LinearHead, classes: &[String], dim: usize) -> Result<()> {
    if head.classes != classes.len() || !head.is_well_formed() {
        return Err(Error::Invalid(format!(
            "the head has {} classes but the project {}; label once more to retrain it",
            head.classes,
            classes.len()
        )));
    }
    if head.dim != dim {
        return Err(Error::Invalid(format!(
            "the head takes {}-d embeddings but the model gives {dim}",
            head.dim
        )));
    }
    Ok(())
}

fn decode(bytes: &[u8]) -> Result<ModelProto> {
    let proto =
        ModelProto::decode(bytes).map_err(|e| Error::Model(format!("not an ONNX file ({e})")))?;
    if proto.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
        return Err(Error::Model("not an ONNX file (it has no graph)".into()));
    }
    Ok(proto)
}

/// The default-domain opset the model imports.
fn opset(proto: &ModelProto) -> i64 {
    proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(13, |o| o.version)
}

fn embedding_output(graph: &GraphProto, name: Option<&str>) -> Result<String> {
    match name {
        Some(n) if graph.output.iter().any(|o| o.name == n) => Ok(n.to_string()),
        Some(n) => Err(Error::ModelShape(format!("the model has no output '{n}'"))),
        None => graph
            .output
            .first()
            .map(|o| o.name.clone())
            .ok_or_else(|| Error::ModelShape("the model has no output".into())),
    }
}

fn embedder_output_rank(graph: &GraphProto, output: &str) -> Option<usize> {
    let dims = super::tensor_info(graph.output.iter().find(|o| o.name == output)?).shape;
    (!dims.is_empty()).then_some(dims.len())
}

fn value_info(name: &str, dtype: DataType, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| pb::tensor_shape_proto::Dimension {
            value: Some(match d {
                Some(v) => dimension::Value::DimValue(*v),
                None => dimension::Value::DimParam("N".into()),
            }),
            denotation: String::new(),
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: dtype as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            denotation: String::new(),
        }),
        doc_string: String::new(),
    }
}

fn float_tensor(name: &str, dims: &[i64], values: Vec<f32>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        float_data: values,
        ..Default::default()
    }
}

fn int_tensor(name: &str, dims: &[i64], values: Vec<i64>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Int64 as i32,
        int64_data: values,
        ..Default::default()
    }
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    output: &str,
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: format!("{PREFIX}{name}"),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: attrs,
        ..Default::default()
    }
}

fn ints(name: &str, values: Vec<i64>) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values,
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..Default::default()
    }
}

/// `(pixels − mean) / std` per RGB channel, then the channel order and layout the model takes;
/// the last node writes `target` (the model's original input name).
fn preprocessing(spec: &ImageSpec, target: &str, graph: &mut GraphProto) -> Vec<NodeProto> {
    let name = |s: &str| format!("{PREFIX}{s}");
    graph.initializer.push(float_tensor(
        &name("mean"),
        &[1, 3, 1, 1],
        spec.mean.to_vec(),
    ));
    graph
        .initializer
        .push(float_tensor(&name("std"), &[1, 3, 1, 1], spec.std.to_vec()));
    let mut steps: Vec<(NodeProto, String)> = Vec::new();
    steps.push((
        node(
            "Sub",
            "sub",
            &[PIXELS, &name("mean")],
            &name("centred"),
            vec![],
        ),
        name("centred"),
    ));
    steps.push((
        node(
            "Div",
            "div",
            &[&name("centred"), &name("std")],
            &name("scaled"),
            vec![],
        ),
        name("scaled"),
    ));
    if spec.channels == ChannelOrder::Bgr {
        graph
            .initializer
            .push(int_tensor(&name("bgr"), &[3], vec![2, 1, 0]));
        let last = steps.last().expect("two steps").1.clone();
        steps.push((
            node(
                "Gather",
                "bgr",
                &[&last, &name("bgr")],
                &name("reordered"),
                vec![int("axis", 1)],
            ),
            name("reordered"),
        ));
    }
    if spec.layout == Layout::Nhwc {
        let last = steps.last().expect("two steps").1.clone();
        steps.push((
            node(
                "Transpose",
                "nhwc",
                &[&last],
                &name("nhwc"),
                vec![ints("perm", vec![0, 2, 3, 1])],
            ),
            name("nhwc"),
        ));
    }
    let mut nodes: Vec<NodeProto> = steps.into_iter().map(|(n, _)| n).collect();
    nodes.last_mut().expect("two steps").output = vec![target.to_string()];
    nodes
}

/// Mean-pools the embedding output as the embedder does; returns the pooled tensor's name.
fn pool(graph: &mut GraphProto, output: &str, pooling: Pooling, rank: usize, opset: i64) -> String {
    let axes: Vec<i64> = match pooling {
        Pooling::None => return output.to_string(),
        Pooling::ChannelsFirst => (2..rank as i64).collect(),
        Pooling::ChannelsLast => (1..rank as i64 - 1).collect(),
    };
    let pooled = format!("{PREFIX}pooled");
    let reduce = if opset >= 18 {
        let axes_name = format!("{PREFIX}pool_axes");
        graph
            .initializer
            .push(int_tensor(&axes_name, &[axes.len() as i64], axes));
        node(
            "ReduceMean",
            "pool",
            &[output, &axes_name],
            &pooled,
            vec![int("keepdims", 0)],
        )
    } else {
        node(
            "ReduceMean",
            "pool",
            &[output],
            &pooled,
            vec![ints("axes", axes), int("keepdims", 0)],
        )
    };
    graph.node.push(reduce);
    pooled
}

/// Adds the head behind `embedding`, makes `probabilities` the only output, drops what no
/// longer feeds it, and writes the class names into the metadata.
fn finish(
    proto: &mut ModelProto,
    embedding: &str,
    head: &LinearHead,
    classes: &[String],
) -> Result<Vec<u8>> {
    let graph = proto.graph.as_mut().expect("checked by decode");
    let (c, d) = (head.classes, head.dim);
    let (weights, bias) = (head.weights.clone(), head.bias.clone());
    let name = |s: &str| format!("{PREFIX}{s}");
    graph.initializer.push(float_tensor(
        &name("weights"),
        &[c as i64, d as i64],
        weights,
    ));
    graph
        .initializer
        .push(float_tensor(&name("bias"), &[c as i64], bias));
    graph.node.push(node(
        "Gemm",
        "gemm",
        &[embedding, &name("weights"), &name("bias")],
        &name("logits"),
        vec![int("transB", 1)],
    ));
    graph.node.push(match head.activation {
        Activation::Softmax => node(
            "Softmax",
            "softmax",
            &[&name("logits")],
            PROBABILITIES,
            vec![int("axis", 1)],
        ),
        Activation::Sigmoid => node(
            "Sigmoid",
            "sigmoid",
            &[&name("logits")],
            PROBABILITIES,
            vec![],
        ),
    });
    graph.output = vec![value_info(
        PROBABILITIES,
        DataType::Float,
        &[None, Some(c as i64)],
    )];
    prune(graph);
    let multi_label = head.activation == Activation::Sigmoid;
    proto
        .metadata_props
        .retain(|p| p.key != CLASSES_KEY && p.key != MULTI_LABEL_KEY);
    proto.metadata_props.push(StringStringEntryProto {
        key: CLASSES_KEY.into(),
        value: serde_json::to_string(classes).expect("strings serialise"),
    });
    proto.metadata_props.push(StringStringEntryProto {
        key: MULTI_LABEL_KEY.into(),
        value: multi_label.to_string(),
    });
    proto.producer_name = "quarry".into();
    let kind = if multi_label {
        "independent probability per class (multi-label: a class applies at >= 0.5)"
    } else {
        "class probabilities"
    };
    proto.doc_string = format!(
        "Quarry classifier: embedding model + linear head over {c} classes; output '{PROBABILITIES}' (N x {c}, {kind}), class names in metadata '{CLASSES_KEY}'."
    );
    Ok(proto.encode_to_vec())
}

/// Removes nodes, initializers and value infos that do not feed the outputs.
fn prune(graph: &mut GraphProto) {
    let mut needed: std::collections::BTreeSet<String> =
        graph.output.iter().map(|o| o.name.clone()).collect();
    let mut keep = vec![false; graph.node.len()];
    for (k, n) in graph.node.iter().enumerate().rev() {
        if n.output.iter().any(|o| needed.contains(o)) {
            keep[k] = true;
            needed.extend(n.input.iter().filter(|i| !i.is_empty()).cloned());
        }
    }
    // Names used inside subgraphs (If, Loop, Scan) are not traced: keep every initializer then.
    if graph.node.iter().any(|n| {
        n.attribute
            .iter()
            .any(|a| a.g.is_some() || !a.graphs.is_empty())
    }) {
        needed.extend(graph.initializer.iter().map(|t| t.name.clone()));
    }
    let mut k = 0;
    graph.node.retain(|_| {
        k += 1;
        keep[k - 1]
    });
    graph.initializer.retain(|t| needed.contains(&t.name));
    graph.value_info.retain(|v| needed.contains(&v.name));
    graph
        .input
        .retain(|i| needed.contains(&i.name) || i.name == PIXELS);
}
