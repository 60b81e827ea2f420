//! Loaded data in the form rank 0 broadcasts it (`--data-distribution broadcast`): a header of
//! bytes, then its f32 matrices in a fixed order.
//!
//! - The header holds everything but the matrices' values: names, class names, labels, the
//!   categorical columns, the summary lines, and each matrix's shape.
//! - [`unpack_header`] builds the same [`Loaded`] with zeroed matrices of those shapes;
//!   [`matrices_mut`] lists the matrices of a [`Loaded`] in one order, so that rank 0 sends
//!   from its own matrices and the other ranks receive straight into theirs, with no copy.
//! - A header that does not parse is an error, not a panic (it cannot happen between ranks of
//!   the same binary, but a decoder should not trust its input).

use super::load::Loaded;
use crate::exit::CliError;
use backprop::Matrix;
use backprop_data::{CategoricalColumn, Dataset, Targets};

/// The header of `loaded`: everything but the values of its matrices.
pub fn pack_header(loaded: &Loaded) -> Vec<u8> {
    let mut writer = Writer(Vec::new());
    writer.number(u64::from(loaded.input_kind == "image"));
    writer.strings(&loaded.summary);
    writer.optional_string(loaded.target_name.as_deref());
    writer.dataset(&loaded.data);
    writer.number(u64::from(loaded.test.is_some()));
    if let Some(test) = &loaded.test {
        writer.dataset(test);
    }
    writer.0
}

/// The [`Loaded`] a header describes, every matrix zero; [`matrices_mut`] then fills them.
pub fn unpack_header(header: &[u8]) -> Result<Loaded, CliError> {
    let mut reader = Reader { bytes: header };
    let input_kind = if reader.number()? == 1 {
        "image"
    } else {
        "tabular"
    };
    let summary = reader.strings()?;
    let target_name = reader.optional_string()?;
    let data = reader.dataset()?;
    let test = match reader.number()? {
        0 => None,
        _ => Some(reader.dataset()?),
    };
    if !reader.bytes.is_empty() {
        return Err(malformed("bytes after its end"));
    }
    Ok(Loaded {
        data,
        test,
        input_kind,
        summary,
        target_name,
        // Only rank 0 writes the model file, and rank 0 read the data itself.
        missing_fills: Vec::new(),
        // Hashed again from what arrived.
        data_sha256: None,
    })
}

/// The matrices of `loaded`, in the order they are broadcast.
pub fn matrices_mut(loaded: &mut Loaded) -> Vec<&mut [f32]> {
    let mut matrices = Vec::with_capacity(4);
    for dataset in std::iter::once(&mut loaded.data).chain(loaded.test.as_mut()) {
        matrices.push(dataset.features.as_mut_slice());
        if let Targets::Values(values) = &mut dataset.targets {
            matrices.push(values.as_mut_slice());
        }
    }
    matrices
}

fn malformed(reason: &str) -> CliError {
    CliError::Runtime(format!(
        "the data header broadcast by rank 0 does not parse: {reason}"
    ))
}

/// Little-endian u64 numbers and length-prefixed UTF-8 strings.
struct Writer(Vec<u8>);

impl Writer {
    fn number(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    fn string(&mut self, text: &str) {
        self.number(text.len() as u64);
        self.0.extend_from_slice(text.as_bytes());
    }

    fn strings(&mut self, texts: &[String]) {
        self.number(texts.len() as u64);
        for text in texts {
            self.string(text);
        }
    }

    fn optional_string(&mut self, text: Option<&str>) {
        self.number(u64::from(text.is_some()));
        if let Some(text) = text {
            self.string(text);
        }
    }

    fn shape(&mut self, matrix: &Matrix<f32>) {
        self.number(matrix.rows() as u64);
        self.number(matrix.cols() as u64);
    }

    fn dataset(&mut self, dataset: &Dataset) {
        self.string(&dataset.name);
        self.strings(&dataset.feature_names);
        self.number(dataset.categories.len() as u64);
        for column in &dataset.categories {
            self.string(&column.name);
            self.strings(&column.categories);
        }
        self.shape(&dataset.features);
        match &dataset.targets {
            Targets::Classes {
                labels,
                class_names,
            } => {
                self.number(0);
                self.strings(class_names);
                self.number(labels.len() as u64);
                for &label in labels {
                    self.number(label as u64);
                }
            }
            Targets::Values(values) => {
                self.number(1);
                self.shape(values);
            }
        }
    }
}

/// Reads what [`Writer`] wrote, checking every length against the bytes left.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, count: usize) -> Result<&[u8], CliError> {
        if count > self.bytes.len() {
            return Err(malformed("it ends early"));
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(taken)
    }

    fn number(&mut self) -> Result<u64, CliError> {
        let bytes = self.take(8)?;
        Ok(u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8])))
    }

    /// A count or size, at most the bytes left (every counted item takes at least one byte).
    fn count(&mut self) -> Result<usize, CliError> {
        let count = usize::try_from(self.number()?).map_err(|_| malformed("a count overflows"))?;
        if count > self.bytes.len() {
            return Err(malformed("a count is larger than the header"));
        }
        Ok(count)
    }

    fn string(&mut self) -> Result<String, CliError> {
        let length = self.count()?;
        String::from_utf8(self.take(length)?.to_vec()).map_err(|_| malformed("a name is not UTF-8"))
    }

    fn strings(&mut self) -> Result<Vec<String>, CliError> {
        let count = self.count()?;
        (0..count).map(|_| self.string()).collect()
    }

    fn optional_string(&mut self) -> Result<Option<String>, CliError> {
        match self.number()? {
            0 => Ok(None),
            _ => self.string().map(Some),
        }
    }

    /// A zero matrix of the shape read; its values come in the matrix broadcasts.
    fn zero_matrix(&mut self) -> Result<Matrix<f32>, CliError> {
        let rows = usize::try_from(self.number()?).map_err(|_| malformed("rows overflow"))?;
        let cols = usize::try_from(self.number()?).map_err(|_| malformed("columns overflow"))?;
        rows.checked_mul(cols)
            .filter(|&values| values <= isize::MAX as usize / 4)
            .ok_or_else(|| malformed("a matrix is too large"))?;
        Ok(Matrix::zeros(rows, cols))
    }

    fn dataset(&mut self) -> Result<Dataset, CliError> {
        let name = self.string()?;
        let feature_names = self.strings()?;
        let columns = self.count()?;
        let categories = (0..columns)
            .map(|_| {
                Ok(CategoricalColumn {
                    name: self.string()?,
                    categories: self.strings()?,
                })
            })
            .collect::<Result<Vec<_>, CliError>>()?;
        let features = self.zero_matrix()?;
        let targets = match self.number()? {
            0 => {
                let class_names = self.strings()?;
                let count = self.count()?;
                let labels = (0..count)
                    .map(|_| {
                        usize::try_from(self.number()?).map_err(|_| malformed("a label overflows"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Targets::Classes {
                    labels,
                    class_names,
                }
            }
            _ => Targets::Values(self.zero_matrix()?),
        };
        Dataset::new(name, features, feature_names, targets)
            .map(|dataset| dataset.with_categories(categories))
            .map_err(|error| malformed(&error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the other ranks end with: the header unpacked, then each matrix copied from the
    /// sender's, as the broadcasts do.
    fn round_trip(mut sent: Loaded) -> (Loaded, Loaded) {
        let mut received = unpack_header(&pack_header(&sent)).unwrap();
        let sources = matrices_mut(&mut sent);
        let targets = matrices_mut(&mut received);
        assert_eq!(sources.len(), targets.len());
        for (source, target) in sources.into_iter().zip(targets) {
            assert_eq!(source.len(), target.len());
            target.copy_from_slice(source);
        }
        (sent, received)
    }

    fn assert_same(sent: &Loaded, received: &Loaded) {
        assert_eq!(received.data, sent.data);
        assert_eq!(received.test, sent.test);
        assert_eq!(received.input_kind, sent.input_kind);
        assert_eq!(received.summary, sent.summary);
        assert_eq!(received.target_name, sent.target_name);
        assert_eq!(received.data.sha256(), sent.data.sha256());
    }

    #[test]
    fn classes_with_a_test_part_and_categories_arrive_whole() {
        let features = Matrix::from_fn(5, 3, |row, col| row as f32 * 0.5 - col as f32 / 3.0);
        let names = vec!["a".to_string(), "colour=red".into(), "colour=blue".into()];
        let targets = Targets::Classes {
            labels: vec![0, 2, 1, 1, 0],
            class_names: vec!["x".into(), "y".into(), "zé".into()],
        };
        let data = Dataset::new("set", features, names, targets)
            .unwrap()
            .with_categories(vec![CategoricalColumn {
                name: "colour".into(),
                categories: vec!["blue".into(), "red".into()],
            }]);
        let mut test = data.clone();
        test.features.as_mut_slice()[0] = f32::NAN.copysign(-1.0);
        let sent = Loaded {
            data,
            test: Some(test),
            input_kind: "image",
            summary: vec!["data x: 5 rows".into(), String::new()],
            target_name: None,
            missing_fills: Vec::new(),
            data_sha256: None,
        };
        let (sent, received) = round_trip(sent);
        assert_eq!(
            received.test.as_ref().unwrap().features.as_slice()[0].to_bits(),
            sent.test.as_ref().unwrap().features.as_slice()[0].to_bits()
        );
        assert_eq!(received.data, sent.data);
        assert_eq!(received.input_kind, "image");
    }

    #[test]
    fn regression_values_arrive_whole() {
        let features = Matrix::from_fn(4, 2, |row, col| (row * 2 + col) as f32 - 3.25);
        let values = Matrix::from_fn(4, 2, |row, col| row as f32 * 1e-7 + col as f32);
        let data = Dataset::new(
            "r",
            features,
            vec!["p".into(), "q".into()],
            Targets::Values(values),
        )
        .unwrap();
        let sent = Loaded {
            data,
            test: None,
            input_kind: "tabular",
            summary: Vec::new(),
            target_name: Some("price".into()),
            missing_fills: Vec::new(),
            data_sha256: None,
        };
        let (sent, received) = round_trip(sent);
        assert_same(&sent, &received);
    }

    #[test]
    fn a_cut_or_padded_header_is_an_error() {
        let data = Dataset::new(
            "t",
            Matrix::zeros(2, 1),
            vec!["f".into()],
            Targets::Classes {
                labels: vec![0, 1],
                class_names: vec!["a".into(), "b".into()],
            },
        )
        .unwrap();
        let loaded = Loaded {
            data,
            test: None,
            input_kind: "tabular",
            summary: Vec::new(),
            target_name: None,
            missing_fills: Vec::new(),
            data_sha256: None,
        };
        let header = pack_header(&loaded);
        for cut in [0, 7, 8, header.len() / 2, header.len() - 1] {
            let error = unpack_header(&header[..cut]).expect_err("a cut header fails");
            assert!(error.to_string().contains("does not parse"), "{error}");
        }
        let mut padded = header.clone();
        padded.push(0);
        assert!(unpack_header(&padded).is_err());
        // A label past the classes is refused by the data set's own check.
        let mut bad_label = header;
        let at = bad_label.len() - 8;
        bad_label[at] = 5;
        assert!(unpack_header(&bad_label).is_err());
    }
}
