//! Folding weight-only int8 (`DequantizeLinear` on initializers) back into f32 initializers.
//!
//! The shipped models store large weights as int8 plus a per-channel scale to stay small on the
//! wire. tract can run `DequantizeLinear`, but folding it before optimisation lets tract see plain
//! constant f32 weights and pick its fast kernels.

use tract_onnx::pb::{tensor_proto::DataType, ModelProto, TensorProto};

use crate::{Error, Result};

/// Replaces every `DequantizeLinear` whose inputs are int8/uint8 initializers (scale f32, optional
/// zero point) by an f32 initializer holding the dequantized values. Other nodes are untouched.
///
/// # Errors
/// [`Error::Model`] when such an initializer is malformed (wrong byte length, bad axis).
pub fn fold_dequantize_linear(proto: &mut ModelProto) -> Result<()> {
    let Some(graph) = proto.graph.as_mut() else {
        return Ok(());
    };
    let mut folded = Vec::new();
    let mut keep = Vec::with_capacity(graph.node.len());
    for node in graph.node.drain(..) {
        let foldable = node.op_type == "DequantizeLinear"
            && node
                .input
                .iter()
                .all(|i| graph.initializer.iter().any(|t| &t.name == i));
        if !foldable {
            keep.push(node);
            continue;
        }
        let find = |name: &str| graph.initializer.iter().find(|t| t.name == name);
        let q = find(&node.input[0]).expect("checked above");
        let scale = find(&node.input[1]).expect("checked above");
        let zero = node.input.get(2).and_then(|n| find(n));
        let axis = node
            .attribute
            .iter()
            .find(|a| a.name == "axis")
            .map_or(1, |a| a.i);
        folded.push(dequantize(q, scale, zero, axis, &node.output[0])?);
    }
    graph.node = keep;
    let used: std::collections::BTreeSet<String> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().cloned())
        .collect();
    graph.initializer.retain(|t| used.contains(&t.name));
    graph.initializer.extend(folded);
    Ok(())
}

fn ints(t: &TensorProto) -> Result<Vec<f32>> {
    let raw = if t.raw_data.is_empty() {
        t.int32_data.iter().map(|&v| v as u8).collect::<Vec<u8>>()
    } else {
        t.raw_data.clone()
    };
    match DataType::try_from(t.data_type) {
        Ok(DataType::Int8) => Ok(raw.iter().map(|&b| f32::from(b as i8)).collect()),
        Ok(DataType::Uint8) => Ok(raw.iter().map(|&b| f32::from(b)).collect()),
        _ => Err(Error::Model(format!(
            "DequantizeLinear input '{}' is not 8-bit",
            t.name
        ))),
    }
}

fn floats(t: &TensorProto) -> Result<Vec<f32>> {
    if !t.float_data.is_empty() {
        return Ok(t.float_data.clone());
    }
    if !t.raw_data.len().is_multiple_of(4) {
        return Err(Error::Model(format!(
            "scale '{}' has a truncated buffer",
            t.name
        )));
    }
    Ok(t.raw_data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn dequantize(
    q: &TensorProto,
    scale: &TensorProto,
    zero: Option<&TensorProto>,
    axis: i64,
    output: &str,
) -> Result<TensorProto> {
    let values = ints(q)?;
    let scales = floats(scale)?;
    let zeros = zero
        .map(ints)
        .transpose()?
        .unwrap_or_else(|| vec![0.0; scales.len()]);
    let dims: Vec<usize> = q.dims.iter().map(|&d| d as usize).collect();
    let numel: usize = dims.iter().product();
    if values.len() != numel || zeros.len() != scales.len() {
        return Err(Error::Model(format!(
            "initializer '{}' does not match its shape",
            q.name
        )));
    }
    let rank = dims.len() as i64;
    let axis = if axis < 0 { axis + rank } else { axis };
    let (channels, inner) = if scales.len() == 1 {
        (1, numel)
    } else if (0..rank).contains(&axis) && dims[axis as usize] == scales.len() {
        (scales.len(), dims[axis as usize + 1..].iter().product())
    } else {
        return Err(Error::Model(format!(
            "scale of '{}' does not match axis {axis}",
            q.name
        )));
    };
    let mut out = Vec::with_capacity(numel * 4);
    for (i, v) in values.iter().enumerate() {
        let c = (i / inner) % channels;
        out.extend_from_slice(&((v - zeros[c]) * scales[c]).to_le_bytes());
    }
    Ok(TensorProto {
        name: output.to_string(),
        dims: q.dims.clone(),
        data_type: DataType::Float as i32,
        raw_data: out,
        ..Default::default()
    })
}
