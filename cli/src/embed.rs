//! `quarry embed`: embeds a folder of images, a zip, a file list or a text table natively (tract
//! on every core), into an embeddings file ([`quarry_core::vectors_file`]) that the app opens
//! and `quarry merge` joins. The same preprocessing, model key and content hashes as the app.
//!
//! ```text
//! quarry embed photos/ --out photos.safetensors                    # the bundled image model
//! quarry embed photos/ --out part-1.safetensors --shard 1/4        # a deterministic quarter
//! quarry embed notes.csv --out notes.safetensors --text-column body  # the bundled text model
//! quarry merge part-*.safetensors --out photos.safetensors
//! ```
//!
//! Resumable: rows are appended to `OUT.partial` as they are made; a run interrupted and
//! started again with the same arguments continues where it stopped. An input that cannot be
//! embedded (not a readable image, a damaged file) is listed as left out, like in the app.

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use quarry_core::cache;
use quarry_core::cache_blocks::{self, HASH_BYTES};
use quarry_core::embed::{Embedder, ImageEmbedder, TextEmbedder};
use quarry_core::import::{is_image_path, read_text_table, TextFormat};
use quarry_core::model::{ChannelOrder, ImageSpec, Layout, ModelChoice, Preset};
use quarry_core::vectors_file::{
    inputs_digest, shard_of, shards_needed, LeftOut, Precision, Shard, VectorsFile,
    MAX_HEADER_BYTES,
};
use rayon::prelude::*;

use crate::Flags;

pub const USAGE: &str = "usage: quarry embed <folder | file.zip | list.txt | table.csv|.tsv|.jsonl> \
--out FILE.safetensors [--model efficientnet-lite0 | minilm | model.onnx] [--size N] \
[--preset minus-one-to-one|imagenet|clip|zero-to-one] [--layout nchw|nhwc] [--bgr] [--output NAME] \
[--tokenizer tokenizer.json] [--text-column NAME] [--shard i/n] [--precision f16|f32] [--threads N] \
[--assets DIR]; quarry merge A.safetensors B.safetensors … --out FILE.safetensors";

/// Inputs embedded between two writes of the partial file (per thread).
const CHUNK_PER_THREAD: usize = 16;

/// One input: its name (as the app names it) and where its content is.
struct Input {
    name: String,
    content: Content,
}

enum Content {
    File(PathBuf),
    Bytes(Vec<u8>),
    Text(String),
}

impl Input {
    /// The content's bytes: a file is read, what is in memory is lent.
    fn bytes(&self) -> Result<Cow<'_, [u8]>, String> {
        match &self.content {
            Content::File(p) => fs::read(p)
                .map(Cow::Owned)
                .map_err(|e| format!("could not be read ({e})")),
            Content::Bytes(b) => Ok(Cow::Borrowed(b)),
            Content::Text(t) => Ok(Cow::Borrowed(t.as_bytes())),
        }
    }
}

/// Embeds one input's content with `model` (a text model takes texts, an image model files).
fn embed(model: &Embedder, input: &Input, bytes: &[u8]) -> Result<Vec<f32>, String> {
    match (model, &input.content) {
        (Embedder::Text(m), Content::Text(t)) => m.embed_text(t).map_err(|e| e.to_string()),
        (Embedder::Image(m), Content::File(_) | Content::Bytes(_)) => {
            m.embed_image(&input.name, bytes).map_err(|e| e.to_string())
        }
        (Embedder::Image(_), Content::Text(_)) => Err("an image model cannot embed a text".into()),
        (Embedder::Text(_), _) => Err("a text model cannot embed an image".into()),
    }
}

struct Args {
    input: PathBuf,
    out: PathBuf,
    model: Option<String>,
    size: Option<u32>,
    preset: Option<Preset>,
    layout: Option<Layout>,
    bgr: bool,
    output: Option<String>,
    tokenizer: Option<PathBuf>,
    text_column: Option<String>,
    shard: Option<(usize, usize)>,
    precision: Precision,
    threads: Option<usize>,
    assets: Option<PathBuf>,
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut input = None;
    let mut a = Args {
        input: PathBuf::new(),
        out: PathBuf::new(),
        model: None,
        size: None,
        preset: None,
        layout: None,
        bgr: false,
        output: None,
        tokenizer: None,
        text_column: None,
        shard: None,
        precision: Precision::F16,
        threads: None,
        assets: None,
    };
    let mut out = None;
    let mut f = Flags::new(argv);
    while let Some(flag) = f.next_flag() {
        match flag {
            "--out" => out = Some(PathBuf::from(f.value(flag)?)),
            "--model" => a.model = Some(f.value(flag)?),
            "--size" => a.size = Some(f.number(flag)? as u32),
            "--preset" => {
                let v = f.value(flag)?;
                a.preset = Some(Preset::from_name(&v).ok_or_else(|| {
                    let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
                    format!("--preset takes {}, not '{v}'", names.join(", "))
                })?)
            }
            "--layout" => {
                a.layout = Some(match f.value(flag)?.as_str() {
                    "nchw" => Layout::Nchw,
                    "nhwc" => Layout::Nhwc,
                    v => return Err(format!("--layout takes nchw or nhwc, not '{v}'")),
                })
            }
            "--bgr" => a.bgr = true,
            "--output" => a.output = Some(f.value(flag)?),
            "--tokenizer" => a.tokenizer = Some(f.value(flag)?.into()),
            "--text-column" => a.text_column = Some(f.value(flag)?),
            "--shard" => a.shard = Some(shard_flag(&f.value(flag)?)?),
            "--precision" => {
                a.precision = match f.value(flag)?.as_str() {
                    "f16" => Precision::F16,
                    "f32" => Precision::F32,
                    v => return Err(format!("--precision takes f16 or f32, not '{v}'")),
                }
            }
            "--threads" => a.threads = Some(f.number(flag)?.max(1)),
            "--assets" => a.assets = Some(f.value(flag)?.into()),
            other if other.starts_with("--") => {
                return Err(format!("unknown flag {other}; {USAGE}"))
            }
            other if input.is_none() => input = Some(PathBuf::from(other)),
            other => {
                return Err(format!(
                    "one input only (a folder, zip, list or table), not also '{other}'"
                ))
            }
        }
    }
    a.input = input.ok_or_else(|| format!("what to embed is missing; {USAGE}"))?;
    a.out = out.ok_or_else(|| format!("--out is missing; {USAGE}"))?;
    Ok(a)
}

/// `i/n` with `1 ≤ i ≤ n` → (0-based index, count).
fn shard_flag(v: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard takes i/n with 1 ≤ i ≤ n (like 2/8), not '{v}'");
    let (i, n) = v.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if i == 0 || i > n {
        return Err(bad());
    }
    Ok((i - 1, n))
}

/// Where the bundled models are: `--assets`, `$QUARRY_ASSETS`, `./assets`, or the repository's
/// `assets/` (beside the build).
fn assets_dir(given: Option<&Path>) -> Result<PathBuf, String> {
    let candidates = given
        .map(Path::to_path_buf)
        .into_iter()
        .chain(std::env::var_os("QUARRY_ASSETS").map(PathBuf::from))
        .chain([
            PathBuf::from("assets"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets"),
        ]);
    for dir in candidates {
        if dir.join("models").is_dir() {
            return Ok(dir);
        }
    }
    Err("the bundled models were not found: give --assets DIR (the folder holding models/) or a model file".into())
}

/// The run's inputs, sorted by name, and the text table's or folder's count of what was not
/// taken. Texts if the input is a text table.
fn inputs(path: &Path, text_column: Option<&str>) -> Result<(Vec<Input>, bool), String> {
    let shown = path.display();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let lower = name.to_ascii_lowercase();
    let mut out = Vec::new();
    let texts = if path.is_dir() {
        walk(path, path, &mut out)?;
        false
    } else if lower.ends_with(".zip") {
        let bytes = fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
        let mut skipped = 0;
        quarry_core::archive::for_each_zip_image(&bytes, &mut skipped, |n, b| {
            out.push(Input {
                name: n.to_string(),
                content: Content::Bytes(b),
            })
        })
        .map_err(|e| format!("{shown}: {e}"))?;
        false
    } else if lower.ends_with(".txt") || lower.ends_with(".lst") {
        if let Some(list) = file_list(path)? {
            out = list;
            false
        } else {
            text_inputs(path, TextFormat::Lines, text_column, &mut out)?;
            true
        }
    } else if let Some(format) = TextFormat::from_file_name(&name) {
        text_inputs(path, format, text_column, &mut out)?;
        true
    } else {
        return Err(format!(
            "{shown}: not a folder, a .zip, a file list (.txt) or a text table (.csv, .tsv, .jsonl)"
        ));
    };
    out.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = out.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!("{shown}: the name '{}' is there twice", w[0].name));
    }
    Ok((out, texts))
}

/// Every image below `dir`, named by its path relative to `root` with `/` separators.
fn walk(root: &Path, dir: &Path, out: &mut Vec<Input>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if is_image_path(&name) {
            out.push(Input {
                name,
                content: Content::File(path),
            });
        }
    }
    Ok(())
}

/// A `.txt` whose lines are all image paths is a file list (paths relative to the list's
/// folder, or absolute); items are named by the line as given, `/`-separated.
fn file_list(path: &Path) -> Result<Option<Vec<Input>>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() || !lines.iter().all(|l| is_image_path(&l.replace('\\', "/"))) {
        return Ok(None);
    }
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(Some(
        lines
            .into_iter()
            .map(|l| Input {
                name: l.replace('\\', "/"),
                content: Content::File(base.join(l)),
            })
            .collect(),
    ))
}

/// The texts of a table, named `#1`, `#2`, … as the app names them (rows with an empty text
/// are not items, as in the app).
fn text_inputs(
    path: &Path,
    format: TextFormat,
    column: Option<&str>,
    out: &mut Vec<Input>,
) -> Result<(), String> {
    let shown = path.display();
    let text = fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let table = read_text_table(&text, format).map_err(|e| format!("{shown}: {e}"))?;
    if let Some(w) = &table.warning {
        eprintln!("quarry: {shown}: {w}");
    }
    let c = match column {
        Some(name) => table
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| {
                format!(
                    "{shown} has no column '{name}' (it has {})",
                    table.columns.join(", ")
                )
            })?,
        None => table.guess_text_column(),
    };
    let (texts, _, _) = table.texts(c, None);
    out.extend(texts.into_iter().enumerate().map(|(i, t)| Input {
        name: format!("#{}", i + 1),
        content: Content::Text(t),
    }));
    Ok(())
}

/// Loads the model and its key as the app computes it.
fn model(args: &Args, texts: bool) -> Result<(Embedder, String), String> {
    let bundled = |file: &str| -> Result<PathBuf, String> {
        Ok(assets_dir(args.assets.as_deref())?
            .join("models")
            .join(file))
    };
    let read = |p: &Path| fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let name = args.model.clone().unwrap_or_else(|| {
        if texts {
            "minilm"
        } else {
            "efficientnet-lite0"
        }
        .to_string()
    });
    if texts {
        let (onnx, tokenizer) = match name.as_str() {
            "minilm" => (
                bundled("minilm_l6_int8.onnx")?,
                bundled("minilm_tokenizer.json")?,
            ),
            path => (
                PathBuf::from(path),
                args.tokenizer
                    .clone()
                    .ok_or("a text model needs --tokenizer tokenizer.json")?,
            ),
        };
        let (bytes, tok) = (read(&onnx)?, read(&tokenizer)?);
        let m = TextEmbedder::from_bytes(&bytes, &tok)
            .map_err(|e| format!("{}: {e}", onnx.display()))?;
        let choice = ModelChoice::Text {
            url: String::new(),
            tokenizer_url: String::new(),
        };
        let key = cache::model_key(&choice, &bytes, Some(&tok));
        return Ok((Embedder::Text(Box::new(m)), key));
    }
    let (path, mut spec) = match name.as_str() {
        "efficientnet-lite0" => (
            bundled("efficientnet_lite0_int8.onnx")?,
            ImageSpec::efficientnet_lite(),
        ),
        "minilm" => return Err("minilm is a text model: give a text table".into()),
        path => (
            PathBuf::from(path),
            ImageSpec::with_preset(224, Preset::ImageNet),
        ),
    };
    if let Some(size) = args.size {
        spec.size = size;
    }
    if let Some(p) = args.preset {
        let (mean, std) = p.mean_std();
        spec.mean = mean;
        spec.std = std;
    }
    if let Some(l) = args.layout {
        spec.layout = l;
    }
    if args.bgr {
        spec.channels = ChannelOrder::Bgr;
    }
    if args.output.is_some() {
        spec.output.clone_from(&args.output);
    }
    let bytes = read(&path)?;
    let m = ImageEmbedder::from_onnx_bytes(&bytes, spec.clone())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let key = cache::model_key(
        &ModelChoice::Image {
            url: String::new(),
            spec,
        },
        &bytes,
        None,
    );
    Ok((Embedder::Image(m), key))
}

/// What one input became.
enum Row {
    Done {
        hash: [u8; HASH_BYTES],
        values: Vec<f32>,
    },
    LeftOut(String),
}

pub fn run(argv: &[String]) -> Result<(), String> {
    let args = parse(argv)?;
    let (mut all, texts) = inputs(&args.input, args.text_column.as_deref())?;
    let names: Vec<String> = all.iter().map(|i| i.name.clone()).collect();
    let needed = shards_needed(&names);
    if needed > args.shard.map_or(1, |(_, count)| count) {
        return Err(format!(
            "{} inputs: their names and hashes would make a file header over the {} MB a \
             safetensors file may have (Python's reader refuses more too); split the run into \
             {needed} shards or more (--shard i/{needed}) and open the shards in the app together",
            names.len(),
            MAX_HEADER_BYTES / 1_000_000
        ));
    }
    let shard = args.shard.map(|(index, count)| Shard {
        index,
        count,
        inputs: names.len(),
        inputs_digest: inputs_digest(&names),
    });
    if let Some(s) = &shard {
        all.retain(|i| shard_of(&i.name, s.count) == s.index);
    }
    let (model, model_key) = model(&args, texts)?;
    let dim = model.dim();
    let partial = PathBuf::from(format!("{}.partial", args.out.display()));
    let header = serde_json::json!({
        "model_key": model_key,
        "dim": dim,
        "inputs_digest": inputs_digest(&all.iter().map(|i| i.name.clone()).collect::<Vec<_>>()),
    })
    .to_string();
    let mut rows: Vec<Option<Row>> = (0..all.len()).map(|_| None).collect();
    let resumed = resume(&partial, &header, dim, &mut rows)?;
    let todo: Vec<usize> = (0..all.len()).filter(|&i| rows[i].is_none()).collect();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    let shown = shard.as_ref().map_or(String::new(), |s| {
        format!(" (shard {}/{})", s.index + 1, s.count)
    });
    eprintln!(
        "quarry: {} inputs{shown}, {resumed} done before; embedding {} on {threads} threads",
        all.len(),
        todo.len()
    );
    let bar = ProgressBar::new(all.len() as u64).with_position(resumed as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta} {msg}")
            .map_err(|e| e.to_string())?,
    );
    let mut log = BufWriter::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&partial)
            .map_err(|e| format!("{}: {e}", partial.display()))?,
    );
    let start = Instant::now();
    for chunk in todo.chunks(CHUNK_PER_THREAD * threads) {
        let made: Vec<(usize, Row)> = pool.install(|| {
            chunk
                .par_iter()
                .map(|&i| {
                    let input = &all[i];
                    let row = match input.bytes() {
                        Err(e) => Row::LeftOut(e),
                        Ok(bytes) => match embed(&model, input, &bytes) {
                            Ok(values) => Row::Done {
                                hash: cache::digest_bytes(&[&bytes]),
                                values,
                            },
                            Err(e) => Row::LeftOut(e),
                        },
                    };
                    (i, row)
                })
                .collect()
        });
        for (i, row) in made {
            append(&mut log, i, &row).map_err(|e| format!("{}: {e}", partial.display()))?;
            if let Row::LeftOut(reason) = &row {
                let line = format!("{} was left out: {reason}", all[i].name);
                // A hidden bar (not a terminal) prints nothing: the line goes to stderr as is.
                if bar.is_hidden() {
                    eprintln!("{line}");
                } else {
                    bar.println(line);
                }
            }
            rows[i] = Some(row);
        }
        log.flush()
            .map_err(|e| format!("{}: {e}", partial.display()))?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let mut file = VectorsFile {
        model_key,
        dim,
        shard,
        ..VectorsFile::default()
    };
    for (input, row) in all.iter().zip(rows) {
        match row.expect("every input was embedded or left out") {
            Row::Done { hash, values } => {
                file.items.push(input.name.clone());
                file.hashes.push(hash);
                file.values.extend(values);
            }
            Row::LeftOut(reason) => file.left_out.push(LeftOut {
                item: input.name.clone(),
                reason,
            }),
        }
    }
    write_file(&file, args.precision, &args.out)?;
    let _ = fs::remove_file(&partial);
    eprintln!(
        "quarry: wrote {} embeddings ({} left out) to {} — {:.1} items/s",
        file.items.len(),
        file.left_out.len(),
        args.out.display(),
        todo.len() as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// Writes `file` to `out` through a temporary file (a crash never leaves half a file).
pub fn write_file(file: &VectorsFile, precision: Precision, out: &Path) -> Result<(), String> {
    let bytes = file.to_bytes(precision).map_err(|e| e.to_string())?;
    let tmp = PathBuf::from(format!("{}.tmp", out.display()));
    fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))
}

/// One record of the partial file: the input's index (u32 LE), then 1, the hash (64 hex
/// bytes) and the values (f32 LE), or 0, the reason's length (u32 LE) and the reason.
fn append(w: &mut impl Write, i: usize, row: &Row) -> std::io::Result<()> {
    w.write_all(&(i as u32).to_le_bytes())?;
    match row {
        Row::Done { hash, values } => {
            w.write_all(&[1])?;
            w.write_all(cache_blocks::hash_hex(hash).as_bytes())?;
            for v in values {
                w.write_all(&v.to_le_bytes())?;
            }
        }
        Row::LeftOut(reason) => {
            w.write_all(&[0])?;
            w.write_all(&(reason.len() as u32).to_le_bytes())?;
            w.write_all(reason.as_bytes())?;
        }
    }
    Ok(())
}

/// Reads what an interrupted run left in `partial` into `rows` (a record cut short by the
/// interruption is dropped, and the file cut back to the last whole record). A new file gets
/// `header`; a file of another run (other model or inputs) is refused. Returns the rows found.
fn resume(
    partial: &Path,
    header: &str,
    dim: usize,
    rows: &mut [Option<Row>],
) -> Result<usize, String> {
    let shown = partial.display();
    let mut bytes = Vec::new();
    match File::open(partial) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)
                .map_err(|e| format!("{shown}: {e}"))?;
        }
        Err(_) => {
            fs::write(partial, format!("{header}\n")).map_err(|e| format!("{shown}: {e}"))?;
            return Ok(0);
        }
    }
    let Some(end) = bytes.iter().position(|&b| b == b'\n') else {
        fs::write(partial, format!("{header}\n")).map_err(|e| format!("{shown}: {e}"))?;
        return Ok(0);
    };
    if &bytes[..end] != header.as_bytes() {
        return Err(format!(
            "{shown} is left from a run with another model or other inputs: delete it to start again"
        ));
    }
    let mut at = end + 1;
    let mut found = 0;
    let take = |at: &mut usize, n: usize| -> Option<&[u8]> {
        let s = bytes.get(*at..*at + n)?;
        *at += n;
        Some(s)
    };
    let mut whole = at;
    loop {
        let mut next = at;
        let Some(idx) = take(&mut next, 4) else { break };
        let i = u32::from_le_bytes(idx.try_into().expect("4 bytes")) as usize;
        let Some(kind) = take(&mut next, 1) else {
            break;
        };
        let row = if kind[0] == 1 {
            // A hash that is not hex is a damaged record: embedded again, like a cut one.
            let Some(hash) = take(&mut next, 64)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(cache_blocks::hash_bytes)
            else {
                break;
            };
            let Some(v) = take(&mut next, 4 * dim) else {
                break;
            };
            Row::Done {
                hash,
                values: v
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            }
        } else {
            let Some(len) = take(&mut next, 4) else { break };
            let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
            let Some(r) = take(&mut next, len) else { break };
            Row::LeftOut(String::from_utf8_lossy(r).into_owned())
        };
        let Some(slot) = rows.get_mut(i) else {
            return Err(format!(
                "{shown} is damaged (row {i} of {}): delete it to start again",
                rows.len()
            ));
        };
        if slot.replace(row).is_none() {
            found += 1;
        }
        at = next;
        whole = at;
    }
    if whole < bytes.len() {
        OpenOptions::new()
            .write(true)
            .open(partial)
            .and_then(|f| f.set_len(whole as u64))
            .map_err(|e| format!("{shown}: {e}"))?;
    }
    Ok(found)
}

/// `quarry merge A B … --out F`.
pub fn merge(argv: &[String]) -> Result<(), String> {
    let mut parts = Vec::new();
    let mut out = None;
    let mut precision = Precision::F16;
    let mut f = Flags::new(argv);
    while let Some(flag) = f.next_flag() {
        match flag {
            "--out" => out = Some(PathBuf::from(f.value(flag)?)),
            "--precision" => {
                precision = match f.value(flag)?.as_str() {
                    "f32" => Precision::F32,
                    "f16" => Precision::F16,
                    v => return Err(format!("--precision takes f16 or f32, not '{v}'")),
                }
            }
            other if other.starts_with("--") => {
                return Err(format!("unknown flag {other}; {USAGE}"))
            }
            other => parts.push(PathBuf::from(other)),
        }
    }
    let out = out.ok_or_else(|| format!("--out is missing; {USAGE}"))?;
    if parts.is_empty() {
        return Err(format!("no files to merge; {USAGE}"));
    }
    let files = parts
        .iter()
        .map(|p| {
            let bytes = fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            VectorsFile::from_bytes(&bytes).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let merged = quarry_core::vectors_file::merge(files).map_err(|e| {
        let names: Vec<String> = parts.iter().map(|p| p.display().to_string()).collect();
        format!("{e} (parts in order: {})", names.join(", "))
    })?;
    write_file(&merged, precision, &out)?;
    eprintln!(
        "quarry: merged {} files: {} embeddings, {} left out, into {}",
        parts.len(),
        merged.items.len(),
        merged.left_out.len(),
        out.display()
    );
    Ok(())
}
