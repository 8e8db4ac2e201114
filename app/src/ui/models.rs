//! The models that ship with the app, and which one embeds a set of items by default.

use quarry_core::model::{ImageSpec, ModelChoice};

use super::state::Items;

/// URL of the bundled image model.
pub const IMAGE_MODEL: &str = "models/efficientnet_lite0_int8.onnx";

/// URL of the bundled text model and its tokenizer.
pub const TEXT_MODEL: &str = "models/minilm_l6_int8.onnx";
pub const TEXT_TOKENIZER: &str = "models/minilm_tokenizer.json";

/// The bundled model for `items`.
pub fn default_model(items: &Items) -> ModelChoice {
    match items {
        Items::Images(_) => ModelChoice::Image {
            url: IMAGE_MODEL.into(),
            spec: ImageSpec::efficientnet_lite(),
        },
        Items::Texts(_) => ModelChoice::Text {
            url: TEXT_MODEL.into(),
            tokenizer_url: TEXT_TOKENIZER.into(),
        },
    }
}
