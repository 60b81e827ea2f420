//! How `predict` writes its rows: CSV (the default) or one JSON object, streamed.
//!
//! - Classification: the input line (or the image's index), the predicted class name and one
//!   probability column per class, `p_{class}`.
//! - Regression: the predicted value, or `prediction_{j}` for each of several outputs, in the
//!   targets' units.
//!
//! JSON is one object, `{"model", "task", "classes", "predictions": [...]}`, written as the
//! rows come so that it never has to be held in memory.

use crate::model_file::LoadedModel;
use backprop::train::Task;
use backprop::Matrix;
use clap::ValueEnum;
use serde_json::{json, Map, Value};
use std::io::{self, Write};

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One CSV row per input row, with a header.
    Csv,
    /// One JSON object holding a list of predictions.
    Json,
}

/// Where the rows go.
enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json(W),
}

/// Writes predictions in one format.
pub struct PredictionWriter<W: Write> {
    sink: Sink<W>,
    task: Task,
    classes: Vec<String>,
    outputs: usize,
    index_name: &'static str,
    rows: u64,
}

impl<W: Write> PredictionWriter<W> {
    /// Starts the output: the CSV header, or the JSON object's opening. `index_name` is the
    /// name of the first column (`line`, or `image` for IDX input).
    pub fn start(
        mut out: W,
        format: OutputFormat,
        model: &LoadedModel,
        index_name: &'static str,
    ) -> io::Result<Self> {
        let classes = model.classes.clone();
        let outputs = model.output_width();
        let sink = match format {
            OutputFormat::Csv => {
                let mut header = vec![index_name.to_string()];
                match model.task {
                    Task::Classification => {
                        header.push("prediction".into());
                        header.extend(classes.iter().map(|class| format!("p_{class}")));
                    }
                    Task::Regression if outputs == 1 => header.push("prediction".into()),
                    Task::Regression => {
                        header.extend((0..outputs).map(|j| format!("prediction_{j}")))
                    }
                }
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(&header).map_err(io::Error::other)?;
                Sink::Csv(Box::new(writer))
            }
            OutputFormat::Json => {
                let task = backprop::model::task_name(model.task);
                write!(
                    out,
                    "{{\"model\":{},\"task\":{},\"classes\":{},\"predictions\":[",
                    json!(model.name()),
                    json!(task),
                    if model.task == Task::Classification {
                        json!(classes)
                    } else {
                        Value::Null
                    }
                )?;
                Sink::Json(out)
            }
        };
        Ok(Self {
            sink,
            task: model.task,
            classes,
            outputs,
            index_name,
            rows: 0,
        })
    }

    /// Writes one chunk: `indices[i]` is row i's line (or image index); `predictions` are
    /// probabilities or values.
    pub fn write_chunk(&mut self, indices: &[u64], predictions: &Matrix<f32>) -> io::Result<()> {
        let labels = match self.task {
            Task::Classification => predictions.argmax_rows(),
            Task::Regression => Vec::new(),
        };
        for (row, &index) in indices.iter().enumerate() {
            let values = predictions.row(row);
            match &mut self.sink {
                Sink::Csv(writer) => {
                    writer
                        .write_field(index.to_string())
                        .map_err(io::Error::other)?;
                    if let Some(&label) = labels.get(row) {
                        writer
                            .write_field(self.classes.get(label).map_or("", String::as_str))
                            .map_err(io::Error::other)?;
                    }
                    for value in values {
                        writer
                            .write_field(value.to_string())
                            .map_err(io::Error::other)?;
                    }
                    writer
                        .write_record(None::<&[u8]>)
                        .map_err(io::Error::other)?;
                }
                Sink::Json(out) => {
                    let mut object = Map::new();
                    object.insert(self.index_name.into(), json!(index));
                    if let Some(&label) = labels.get(row) {
                        object.insert("prediction".into(), json!(self.classes.get(label)));
                        let probabilities: Map<String, Value> = self
                            .classes
                            .iter()
                            .cloned()
                            .zip(values.iter().map(|&p| json!(p)))
                            .collect();
                        object.insert("probabilities".into(), Value::Object(probabilities));
                    } else if self.outputs == 1 {
                        object.insert("prediction".into(), json!(values[0]));
                    } else {
                        object.insert("prediction".into(), json!(values));
                    }
                    let separator = if self.rows == 0 { "" } else { "," };
                    write!(out, "{separator}{}", Value::Object(object))?;
                }
            }
            self.rows += 1;
        }
        Ok(())
    }

    /// Ends the output and flushes it; returns the writer and the number of rows written.
    pub fn finish(self) -> io::Result<(W, u64)> {
        let mut out = match self.sink {
            Sink::Csv(writer) => writer
                .into_inner()
                .map_err(|error| io::Error::new(error.error().kind(), error.to_string()))?,
            Sink::Json(mut out) => {
                writeln!(out, "]}}")?;
                out
            }
        };
        out.flush()?;
        Ok((out, self.rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use backprop::model::{Model, ModelMetadata};
    use backprop::{Cost, NetworkConfig};
    use std::path::PathBuf;

    fn classifier() -> LoadedModel {
        let config = NetworkConfig::new(&[2, 3], Cost::SoftmaxCrossEntropy).with_seed(1);
        let mut metadata = ModelMetadata::describe(&config, Task::Classification);
        metadata.preprocessing.class_names = Some(vec!["a,b".into(), "c".into(), "d".into()]);
        let model = Model::new(config.init().unwrap(), metadata).unwrap();
        LoadedModel {
            model,
            path: PathBuf::from("m.safetensors"),
            task: Task::Classification,
            classes: vec!["a,b".into(), "c".into(), "d".into()],
        }
    }

    #[test]
    fn csv_names_are_quoted_and_json_is_one_object() {
        let model = classifier();
        let predictions = Matrix::from_rows(&[[0.5f32, 0.25, 0.25]]).unwrap();
        let mut csv =
            PredictionWriter::start(Vec::new(), OutputFormat::Csv, &model, "line").unwrap();
        csv.write_chunk(&[2], &predictions).unwrap();
        let (bytes, rows) = csv.finish().unwrap();
        assert_eq!(rows, 1);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "line,prediction,\"p_a,b\",p_c,p_d\n2,\"a,b\",0.5,0.25,0.25\n"
        );
        let mut json =
            PredictionWriter::start(Vec::new(), OutputFormat::Json, &model, "line").unwrap();
        json.write_chunk(
            &[2, 3],
            &Matrix::from_rows(&[[0.5f32, 0.25, 0.25], [0.0, 0.0, 1.0]]).unwrap(),
        )
        .unwrap();
        let (bytes, _) = json.finish().unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["predictions"][1]["prediction"], "d");
        assert_eq!(value["predictions"][0]["probabilities"]["a,b"], 0.5);
    }
}
