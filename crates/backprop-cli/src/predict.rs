//! `backprop predict --model FILE --input FILE|-`: predictions for new rows.
//!
//! Input: a CSV file (plain or gzip), standard input (`-`, CSV, plain or gzip), an IDX images
//! file (plain or gzip), or `mnist:DIR` (its `t10k` images). CSV columns are matched to the
//! model's stored feature names, in any order; extra columns, the target among them, are
//! ignored; a missing feature column is an error naming it (see
//! [`backprop_data::tabular::ModelInputStream`]).
//!
//! Streaming: CSV input is read record by record and predicted in chunks of
//! [`CHUNK_ROWS`] rows, so memory does not grow with the input; gzip is decoded as a stream.
//! IDX input is read whole (at most 1 GiB decompressed, as for training), since one IDX file is
//! one array.
//!
//! Output (see [`crate::predict_output`]) goes to stdout, or with `--out FILE` to a temporary
//! file renamed into place at the end, so that a failure leaves no half-written file.

use crate::exit::CliError;
use crate::model_file::LoadedModel;
use crate::output_file::AtomicFile;
use crate::predict_output::{OutputFormat, PredictionWriter};
use crate::report::say;
use backprop::Matrix;
use backprop_data::idx::GZIP_MAGIC;
use backprop_data::mnist::candidate_names;
use backprop_data::spec::MNIST_PREFIX;
use backprop_data::tabular::{list_names, ModelInputStream, CHUNK_ROWS};
use backprop_data::{read_idx_file, IdxArray};
use clap::Args;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Flags of `backprop predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file (.safetensors).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// The rows: FILE.csv[.gz], - for CSV on standard input, an IDX images file, or mnist:DIR
    /// (its t10k images).
    #[arg(long, value_name = "FILE|-")]
    pub input: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: OutputFormat,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print no notes on stderr (warnings still appear).
    #[arg(short, long)]
    pub quiet: bool,
}

/// Raw features and the line (or image index) of each row.
type FeatureChunk = (Matrix<f32>, Vec<u64>);

/// The rows to predict.
enum Rows {
    Csv(Box<ModelInputStream>),
    Images { pixels: Matrix<f32>, next: usize },
}

impl Rows {
    /// The next chunk: features and the line (or image index) of each row.
    fn next_chunk(&mut self) -> Result<Option<FeatureChunk>, CliError> {
        match self {
            Rows::Csv(input) => Ok(input
                .next_chunk(CHUNK_ROWS)?
                .map(|chunk| (chunk.features, chunk.lines))),
            Rows::Images { pixels, next } => {
                let end = (*next + CHUNK_ROWS).min(pixels.rows());
                if *next >= end {
                    return Ok(None);
                }
                let indices: Vec<usize> = (*next..end).collect();
                *next = end;
                Ok(Some((
                    pixels.select_rows(&indices),
                    indices.iter().map(|&i| i as u64).collect(),
                )))
            }
        }
    }
}

/// Runs `backprop predict`.
pub fn run(arguments: &PredictArgs) -> Result<(), CliError> {
    let model = LoadedModel::load(&arguments.model)?;
    // Fails before any work when the output cannot be created.
    let mut out_file = arguments
        .out
        .as_deref()
        .map(AtomicFile::create)
        .transpose()?;
    let (mut rows, index_name) = open_rows(&arguments.input, &model, arguments.quiet)?;
    let written = match &mut out_file {
        Some(file) => {
            let name = file.path().display().to_string();
            let writer = BufWriter::new(file.file());
            write_all(&mut rows, &model, writer, arguments.format, index_name)
                .map_err(|error| error.into_cli(&name))?
        }
        None => {
            let writer = BufWriter::new(io::stdout().lock());
            match write_all(&mut rows, &model, writer, arguments.format, index_name) {
                Ok(written) => written,
                // A closed pipe (`| head`) ends the output; that is not a failure.
                Err(Failure::Write(error)) if error.kind() == io::ErrorKind::BrokenPipe => {
                    return Ok(())
                }
                Err(error) => return Err(error.into_cli("standard output")),
            }
        }
    };
    if let Rows::Csv(input) = &rows {
        for warning in input.warnings() {
            say(format_args!("warning: {warning}"));
        }
    }
    if let Some(file) = out_file {
        let name = file.path().display().to_string();
        file.commit()?;
        if !arguments.quiet {
            say(format_args!("wrote {written} predictions to {name}"));
        }
    }
    Ok(())
}

/// Why writing stopped: bad input (or a model error), or a failed write.
enum Failure {
    Input(CliError),
    Write(io::Error),
}

impl Failure {
    fn into_cli(self, destination: &str) -> CliError {
        match self {
            Failure::Input(error) => error,
            Failure::Write(error) => CliError::io(format!("{destination}: cannot write"), error),
        }
    }
}

/// Predicts every chunk and writes it; returns the number of rows.
fn write_all<W: Write>(
    rows: &mut Rows,
    model: &LoadedModel,
    out: W,
    format: OutputFormat,
    index_name: &'static str,
) -> Result<u64, Failure> {
    let mut writer =
        PredictionWriter::start(out, format, model, index_name).map_err(Failure::Write)?;
    while let Some((features, indices)) = rows.next_chunk().map_err(Failure::Input)? {
        let predictions = model.predict(&features).map_err(Failure::Input)?;
        writer
            .write_chunk(&indices, &predictions)
            .map_err(Failure::Write)?;
    }
    let (_, written) = writer.finish().map_err(Failure::Write)?;
    Ok(written)
}

/// Opens `--input`: CSV (file or `-`), an IDX images file, or `mnist:DIR`.
fn open_rows(
    input: &str,
    model: &LoadedModel,
    quiet: bool,
) -> Result<(Rows, &'static str), CliError> {
    if let Some(dir) = input.strip_prefix(MNIST_PREFIX) {
        let dir = Path::new(dir);
        let names = candidate_names("t10k-images-idx3-ubyte");
        let path = names
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file())
            .ok_or_else(|| {
                CliError::usage(format!(
                    "{input}: no test images file; looked for {}",
                    names.join(", ")
                ))
            })?;
        return Ok((images(read_idx_file(&path)?, model)?, "image"));
    }
    let path = Path::new(input);
    if input != "-" && looks_like_idx(path) {
        return Ok((images(read_idx_file(path)?, model)?, "image"));
    }
    let specs = model.feature_specs()?;
    let mut csv = if input == "-" {
        ModelInputStream::from_reader(Box::new(io::stdin().lock()), "<stdin>".into(), &specs)?
    } else {
        ModelInputStream::open(path, &specs)?
    };
    csv.set_missing_fills(&model.missing_fills());
    let ignored = csv.ignored_columns();
    if !quiet && !ignored.is_empty() {
        say(format_args!(
            "note: {}: ignoring column(s) the model does not use: {}",
            csv.file(),
            list_names(&ignored)
        ));
    }
    Ok((Rows::Csv(Box::new(csv)), "line"))
}

/// Images as rows of pixels in [0, 1], checked against the model's width.
fn images(array: IdxArray, model: &LoadedModel) -> Result<Rows, CliError> {
    let (count, pixels_per_image) = match array.dims[..] {
        [count, rows, cols] => (count, rows * cols),
        [count, pixels] => (count, pixels),
        _ => {
            return Err(CliError::usage(format!(
                "{}: an IDX file of dimensions {:?} is not a list of images",
                array.source_name, array.dims
            )))
        }
    };
    if pixels_per_image != model.input_width() {
        return Err(CliError::usage(format!(
            "{}: images of {pixels_per_image} pixels, but the model {} takes {} inputs",
            array.source_name,
            model.name(),
            model.input_width()
        )));
    }
    let values = array
        .data
        .iter()
        .map(|&pixel| f32::from(pixel) / 255.0)
        .collect();
    let pixels = Matrix::from_vec(count, pixels_per_image, values)
        .map_err(|error| CliError::usage(format!("{}: {error}", array.source_name)))?;
    Ok(Rows::Images { pixels, next: 0 })
}

/// True when the file (gzip decoded) starts like an IDX file of unsigned bytes.
fn looks_like_idx(path: &Path) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4];
    if file.read_exact(&mut head[..2]).is_err() {
        return false;
    }
    let rest = io::Cursor::new(head[..2].to_vec()).chain(file);
    let mut reader: Box<dyn Read> = if head[..2] == GZIP_MAGIC {
        Box::new(flate2::read::MultiGzDecoder::new(rest))
    } else {
        Box::new(rest)
    };
    reader.read_exact(&mut head).is_ok() && matches!(head, [0, 0, 0x08, 1..=4])
}
