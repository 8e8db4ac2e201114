//! Image decoding and preprocessing, identical to what the export script documents
//! (assets/models/export_efficientnet_lite0.py).

use image::{imageops::FilterType, DynamicImage, RgbImage};

use crate::{Error, Result};

pub use crate::model::ImageSpec;
use crate::model::{ChannelOrder, Layout};

/// Decodes `bytes` and returns the `3 × size × size` input for `spec`, in its layout and
/// channel order.
///
/// Steps: decode (first frame of a GIF); composite any alpha channel onto white; RGB; resize to
/// `size × size` with a triangle (bilinear) filter, ignoring aspect ratio; `(x - mean) / std`;
/// BGR and NHWC when the spec says so.
///
/// # Errors
/// [`Error::Image`] naming `item` when the bytes are not a supported image.
pub fn preprocess(item: &str, bytes: &[u8], spec: &ImageSpec) -> Result<Vec<f32>> {
    let resized = resized_rgb(item, bytes, spec.size)?;
    let plane = (spec.size * spec.size) as usize;
    let mut out = vec![0.0f32; 3 * plane];
    for (i, px) in resized.pixels().enumerate() {
        for c in 0..3 {
            let value = (f32::from(px[c]) - spec.mean[c]) / spec.std[c];
            let slot = match spec.channels {
                ChannelOrder::Rgb => c,
                ChannelOrder::Bgr => 2 - c,
            };
            match spec.layout {
                Layout::Nchw => out[slot * plane + i] = value,
                Layout::Nhwc => out[i * 3 + slot] = value,
            }
        }
    }
    Ok(out)
}

/// The first steps of [`preprocess`]: decoded, alpha composited onto white, RGB, resized to
/// `size × size` (what an exported classifier takes as 0–255 values).
///
/// # Errors
/// [`Error::Image`] naming `item` when the bytes are not a supported image.
pub fn resized_rgb(item: &str, bytes: &[u8], size: u32) -> Result<RgbImage> {
    let img = image::load_from_memory(bytes).map_err(|e| Error::Image {
        item: item.to_string(),
        reason: e.to_string(),
    })?;
    let rgb = flatten_on_white(img);
    Ok(image::imageops::resize(
        &rgb,
        size,
        size,
        FilterType::Triangle,
    ))
}

fn flatten_on_white(img: DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in rgb.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(src[3]);
        for c in 0..3 {
            // Integer compositing with rounding, as PIL's alpha_composite over opaque white does.
            let v = (u32::from(src[c]) * a + 255 * (255 - a) + 127) / 255;
            dst[c] = v as u8;
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(img: DynamicImage) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, image::ImageFormat::Png).unwrap();
        buf.into_inner()
    }

    #[test]
    fn transparent_pixels_become_white() {
        let img = image::RgbaImage::from_pixel(4, 4, image::Rgba([0, 0, 0, 0]));
        let spec = ImageSpec {
            size: 2,
            mean: [0.0; 3],
            std: [1.0; 3],
            ..ImageSpec::efficientnet_lite()
        };
        let x = preprocess("t.png", &png(DynamicImage::ImageRgba8(img)), &spec).unwrap();
        assert_eq!(x, vec![255.0; 12]);
    }

    #[test]
    fn layout_is_nchw_and_scaled() {
        let img = image::RgbImage::from_pixel(3, 3, image::Rgb([255, 127, 0]));
        let x = preprocess(
            "c.png",
            &png(DynamicImage::ImageRgb8(img)),
            &ImageSpec::efficientnet_lite(),
        )
        .unwrap();
        let plane = 224 * 224;
        assert_eq!(x.len(), 3 * plane);
        assert_eq!((x[0], x[plane], x[2 * plane]), (1.0, 0.0, -127.0 / 128.0));
    }

    #[test]
    fn corrupt_bytes_name_the_item() {
        let err = preprocess(
            "broken.jpg",
            b"not an image",
            &ImageSpec::efficientnet_lite(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("broken.jpg"), "{err}");
    }
}
