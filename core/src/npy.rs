//! Reading NumPy `.npy` files: float embeddings and integer labels.

use crate::matrix::Matrix;
use crate::{Error, Result};

/// The decoded header and payload of an `.npy` file.
struct Npy<'a> {
    descr: String,
    shape: Vec<usize>,
    data: &'a [u8],
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Format {
        what: ".npy file",
        reason: reason.into(),
    }
}

fn parse(bytes: &[u8]) -> Result<Npy<'_>> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("it does not start with the NumPy magic bytes"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(format!("unsupported format version {v}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("truncated header"))?;
    let field = |key: &str| -> Result<&str> {
        let at = header
            .find(&format!("'{key}':"))
            .ok_or_else(|| bad(format!("no '{key}' in header")))?;
        Ok(header[at + key.len() + 3..].trim_start())
    };
    let descr = field("descr")?;
    let descr = descr
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap_or("")
        .to_string();
    if field("fortran_order")?.starts_with("True") {
        return Err(bad(
            "Fortran-ordered arrays are not supported; save with order='C'",
        ));
    }
    let shape_text = field("shape")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("malformed shape"))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| bad(format!("malformed shape '{inner}'")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Npy {
        descr,
        shape,
        data: &bytes[start + header_len..],
    })
}

fn values(npy: &Npy<'_>) -> Result<Vec<f64>> {
    let count: usize = npy.shape.iter().product();
    let (size, read): (usize, fn(&[u8]) -> f64) = match npy.descr.as_str() {
        "<f4" => (4, |b| {
            f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }),
        "<f8" => (8, |b| f64::from_le_bytes(b.try_into().expect("8 bytes"))),
        "<i4" => (4, |b| {
            f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }),
        "<i8" => (8, |b| {
            i64::from_le_bytes(b.try_into().expect("8 bytes")) as f64
        }),
        "|u1" => (1, |b| f64::from(b[0])),
        "|i1" => (1, |b| f64::from(b[0] as i8)),
        other => {
            return Err(bad(format!(
                "unsupported dtype '{other}' (use float32/float64/int32/int64)"
            )))
        }
    };
    if npy.data.len() < count * size {
        return Err(bad(format!(
            "shape {:?} needs {} bytes, file has {}",
            npy.shape,
            count * size,
            npy.data.len()
        )));
    }
    Ok(npy.data[..count * size]
        .chunks_exact(size)
        .map(read)
        .collect())
}

/// Reads a 2-D float (or integer) array as an `f32` matrix.
///
/// # Errors
/// [`Error::Format`] when the file is not a C-ordered 2-D numeric `.npy`, is truncated, is empty,
/// or holds NaN or infinite values.
pub fn read_matrix(bytes: &[u8]) -> Result<Matrix> {
    let npy = parse(bytes)?;
    let [rows, cols] = npy.shape[..] else {
        return Err(bad(format!(
            "expected a 2-D array, got shape {:?}",
            npy.shape
        )));
    };
    if rows == 0 || cols == 0 {
        return Err(bad("the array is empty"));
    }
    let v = values(&npy)?;
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(bad(format!(
            "row {} holds a NaN or infinite value",
            i / cols
        )));
    }
    Matrix::new(rows, cols, v.into_iter().map(|x| x as f32).collect())
}

/// Reads a 1-D integer array of class ids.
///
/// # Errors
/// [`Error::Format`] when the file is not a 1-D array of non-negative whole numbers.
pub fn read_labels(bytes: &[u8]) -> Result<Vec<usize>> {
    let npy = parse(bytes)?;
    if npy.shape.len() != 1 {
        return Err(bad(format!(
            "expected a 1-D array of labels, got shape {:?}",
            npy.shape
        )));
    }
    values(&npy)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if v >= 0.0 && v.fract() == 0.0 {
                Ok(v as usize)
            } else {
                Err(bad(format!("label {i} is {v}, not a class id")))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn reads_floats_and_labels() {
        let payload: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let m = read_matrix(&npy("<f4", "(2, 3)", &payload)).unwrap();
        assert_eq!(m.row(1), &[4.0, 5.0, 6.0]);
        let labels: Vec<u8> = [0i64, 2, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            read_labels(&npy("<i8", "(3,)", &labels)).unwrap(),
            vec![0, 2, 1]
        );
    }

    #[test]
    fn bad_files_are_explained() {
        let nan: Vec<u8> = [1.0f32, f32::NAN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let cases = [
            (b"hello".to_vec(), "magic"),
            (npy("<f4", "(2, 3)", &[0; 8]), "needs 24 bytes"),
            (npy("<f4", "(1, 2)", &nan), "NaN"),
            (npy("<f4", "(0, 3)", &[]), "empty"),
            (npy("<f4", "(6,)", &[0; 24]), "2-D"),
            (npy("<U3", "(1, 1)", &[0; 12]), "dtype"),
        ];
        for (bytes, want) in cases {
            let err = read_matrix(&bytes).unwrap_err().to_string();
            assert!(err.contains(want), "{err} should mention {want}");
        }
        let frac: Vec<u8> = [0.5f64].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(read_labels(&npy("<f8", "(1,)", &frac)).is_err());
    }
}
