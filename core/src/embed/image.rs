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

/// Why a JPEG is damaged in a way its decoder would not say: it ends before its picture does
/// (no end-of-image marker after the first scan: a truncated file decodes to a partial picture
/// without an error). The segments before the scan are walked by their lengths, so an EXIF
/// thumbnail's own end marker is not mistaken for the picture's. `None` for other formats.
pub fn cut_short(bytes: &[u8]) -> Option<&'static str> {
    const CUT: &str = "the JPEG is cut short (it ends before its picture does): the file is \
                       damaged or was not copied whole";
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    loop {
        // Fill bytes may pad a marker.
        while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        match (bytes.get(i), bytes.get(i + 1)) {
            (Some(0xFF), Some(0xD9)) => return None,
            (Some(0xFF), Some(0xDA)) => {
                let scan = &bytes[i + 2..];
                let ended = scan.windows(2).any(|w| w == [0xFF, 0xD9]);
                return (!ended).then_some(CUT);
            }
            (Some(0xFF), Some(&m)) if (0xD0..=0xD7).contains(&m) || m == 0x01 => i += 2,
            (Some(0xFF), Some(_)) => {
                let len = match (bytes.get(i + 2), bytes.get(i + 3)) {
                    (Some(&a), Some(&b)) => usize::from(a) << 8 | usize::from(b),
                    _ => return Some(CUT),
                };
                i += 2 + len;
            }
            (None, _) | (_, None) => return Some(CUT),
            // Not a marker where one must be: leave it to the decoder.
            _ => return None,
        }
    }
}

/// The first steps of [`preprocess`]: decoded, alpha composited onto white, RGB, resized to
/// `size × size` (what an exported classifier takes as 0–255 values).
///
/// # Errors
/// [`Error::Image`] naming `item` when the bytes are not a supported image.
pub fn resized_rgb(item: &str, bytes: &[u8], size: u32) -> Result<RgbImage> {
    if let Some(reason) = cut_short(bytes) {
        return Err(Error::Image {
            item: item.to_string(),
            reason: reason.to_string(),
        });
    }
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

    #[test]
    fn a_truncated_jpeg_is_refused_and_a_whole_one_is_not() {
        let mut img = RgbImage::new(48, 48);
        for (x, y, px) in img.enumerate_pixels_mut() {
            *px = image::Rgb([(x * 5) as u8, (y * 5) as u8, 90]);
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&img)
            .unwrap();
        assert_eq!(cut_short(&jpeg), None);
        assert!(resized_rgb("whole.jpg", &jpeg, 16).is_ok());
        // Cut at 60%: the decoder would give a partial picture; the check refuses it.
        let cut = &jpeg[..jpeg.len() * 6 / 10];
        assert!(cut_short(cut).is_some());
        let e = resized_rgb("cut.jpg", cut, 16).unwrap_err().to_string();
        assert!(e.contains("cut.jpg") && e.contains("cut short"), "{e}");
        // Cut inside the header segments, too.
        assert!(cut_short(&jpeg[..30]).is_some());
        // Not a JPEG: not this check's business.
        assert_eq!(cut_short(b"\x89PNG...."), None);
    }
}
