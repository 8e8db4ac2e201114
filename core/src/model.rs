//! What a model is and how items become its input: plain data shared by the page (which lets the
//! person choose) and the worker (which runs it). The tract side is in [`crate::embed`].

/// Memory layout of an image input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Layout {
    /// `[N, 3, H, W]` (PyTorch).
    #[default]
    Nchw,
    /// `[N, H, W, 3]` (TensorFlow).
    Nhwc,
}

/// Order of the colour channels in an image input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ChannelOrder {
    #[default]
    Rgb,
    Bgr,
}

/// How an image becomes the model's input tensor, and which output is the embedding.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageSpec {
    /// Side of the square input, in pixels.
    pub size: u32,
    /// Per-channel value subtracted from the 0–255 pixel value (in RGB order).
    pub mean: [f32; 3],
    /// Per-channel divisor applied after the subtraction (in RGB order).
    pub std: [f32; 3],
    /// Input layout.
    #[serde(default)]
    pub layout: Layout,
    /// Channel order the model expects.
    #[serde(default)]
    pub channels: ChannelOrder,
    /// Name of the output used as the embedding; `None`: the first output.
    #[serde(default)]
    pub output: Option<String>,
}

/// A named preprocessing preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// `(x − 127) / 128`, values in about [−1, 1] (EfficientNet-Lite, MobileNet, Inception).
    MinusOneToOne,
    /// ImageNet mean/std on [0, 1] values (most torchvision models).
    ImageNet,
    /// CLIP's mean/std on [0, 1] values.
    Clip,
    /// Values in [0, 1].
    ZeroToOne,
}

impl Preset {
    /// Every preset, for pickers.
    pub const ALL: [Preset; 4] = [
        Preset::MinusOneToOne,
        Preset::ImageNet,
        Preset::Clip,
        Preset::ZeroToOne,
    ];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::MinusOneToOne => "minus-one-to-one",
            Preset::ImageNet => "imagenet",
            Preset::Clip => "clip",
            Preset::ZeroToOne => "zero-to-one",
        }
    }

    /// For people.
    pub fn description(self) -> &'static str {
        match self {
            Preset::MinusOneToOne => "[-1, 1]: (x − 127) / 128, as EfficientNet-Lite and MobileNet",
            Preset::ImageNet => "ImageNet mean/std (most torchvision models)",
            Preset::Clip => "CLIP mean/std",
            Preset::ZeroToOne => "[0, 1]: x / 255",
        }
    }

    /// The preset with this [`Preset::name`].
    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// `(mean, std)` on the 0–255 scale.
    pub fn mean_std(self) -> ([f32; 3], [f32; 3]) {
        let scaled = |m: [f32; 3], s: [f32; 3]| (m.map(|v| v * 255.0), s.map(|v| v * 255.0));
        match self {
            Preset::MinusOneToOne => ([127.0; 3], [128.0; 3]),
            Preset::ImageNet => scaled([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            Preset::Clip => scaled(
                [0.481_454_66, 0.457_827_5, 0.408_210_73],
                [0.268_629_54, 0.261_302_6, 0.275_777_1],
            ),
            Preset::ZeroToOne => ([0.0; 3], [255.0; 3]),
        }
    }
}

impl ImageSpec {
    /// EfficientNet-Lite's TF-style scaling: 224×224 NCHW RGB, `(x - 127) / 128`.
    pub fn efficientnet_lite() -> ImageSpec {
        ImageSpec::with_preset(224, Preset::MinusOneToOne)
    }

    /// A `size`×`size` NCHW RGB input scaled as `preset`, first output.
    pub fn with_preset(size: u32, preset: Preset) -> ImageSpec {
        let (mean, std) = preset.mean_std();
        ImageSpec {
            size,
            mean,
            std,
            layout: Layout::Nchw,
            channels: ChannelOrder::Rgb,
            output: None,
        }
    }
}

/// One input or output of a model as the file declares it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TensorInfo {
    /// Name in the graph.
    pub name: String,
    /// Element type as ONNX names it (`f32`, `i64`, …).
    pub dtype: String,
    /// Dimensions; `None` where symbolic (batch, sequence).
    pub shape: Vec<Option<usize>>,
}

impl TensorInfo {
    /// Whether its elements are floating point (usable as an embedding).
    pub fn is_float(&self) -> bool {
        matches!(self.dtype.as_str(), "f32" | "f16" | "f64" | "bf16")
    }
}

/// What kind of embedder a model looks like, from its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ModelKind {
    /// One float input of rank 4 with 3 channels.
    Image,
    /// Integer inputs of rank 2 (token ids, attention mask).
    Text,
}

/// A model file's inputs and outputs, and a proposed way to use it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelInfo {
    pub inputs: Vec<TensorInfo>,
    pub outputs: Vec<TensorInfo>,
    pub kind: ModelKind,
    /// For image models: the input size and layout read from the input's shape (EfficientNet-Lite
    /// scaling until the person chooses).
    pub proposed: Option<ImageSpec>,
}

/// Which model embeds a project's items.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ModelChoice {
    /// An image model at `url` (the app's own file or an object URL of the person's file).
    Image { url: String, spec: ImageSpec },
    /// A sentence model and its `tokenizer.json`.
    Text { url: String, tokenizer_url: String },
}

impl ModelChoice {
    /// The model's URL.
    pub fn url(&self) -> &str {
        match self {
            ModelChoice::Image { url, .. } | ModelChoice::Text { url, .. } => url,
        }
    }
}
