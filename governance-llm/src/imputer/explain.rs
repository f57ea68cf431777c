//! Per-predictor contributions to an imputation, by occlusion: the prediction minus the
//! prediction with that predictor hidden. A hidden predictor is encoded as missing, the same
//! way training hides predictors, so the network has learned to predict without it.

use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, TensorData};

use super::table::ColumnEncoding;
use super::{
    ImputationTable, PREDICT_CHUNK_ROWS, TrainedImputer, encode_rows, feature_spans, read_values,
};
use crate::{Error, Result};

impl TrainedImputer {
    /// Returns, for each of `rows`, one contribution per predictor (in the order of
    /// [`TrainedImputer::predictors`]): how much the prediction moves when that predictor is
    /// hidden. For a numeric target it is in the target's units. For a categorical target it
    /// is the change in probability of the class predicted with every predictor present.
    pub fn contributions(&self, table: &ImputationTable, rows: &[usize]) -> Result<Vec<Vec<f32>>> {
        for (name, _) in &self.predictors {
            table.column(name)?;
        }
        if let Some(&row) = rows.iter().find(|&&row| row >= table.num_rows()) {
            return Err(Error::InvalidInput(format!(
                "row {row} is beyond the table's {} rows",
                table.num_rows()
            )));
        }
        let spans = feature_spans(&self.predictors);
        let width = self.width();
        let variants = spans.len() + 1;
        let device = self.config.device.device();
        let mut contributions = Vec::with_capacity(rows.len());
        // Each row becomes `variants` network rows, so chunks shrink to keep memory bounded.
        for chunk in rows.chunks((PREDICT_CHUNK_ROWS / variants).max(1)) {
            let encoded = encode_rows(&self.predictors, table, chunk);
            let mut input = Vec::with_capacity(chunk.len() * variants * width);
            for row in encoded.chunks(width) {
                input.extend_from_slice(row);
                for span in &spans {
                    let start = input.len();
                    input.extend_from_slice(row);
                    let hidden = &mut input[start + span.start..start + span.start + span.width];
                    hidden.fill(0.0);
                    if span.numeric {
                        hidden[1] = 1.0;
                    }
                }
            }
            let output = self.network.forward(Tensor::<2>::from_data(
                TensorData::new(input, [chunk.len() * variants, width]),
                &device,
            ));
            match &self.target_encoding {
                ColumnEncoding::Numeric { std, .. } => {
                    let values = read_values(output)?;
                    for row in values.chunks(variants) {
                        let scale = *std as f32;
                        contributions.push(
                            row[1..]
                                .iter()
                                .map(|without| (row[0] - without) * scale)
                                .collect(),
                        );
                    }
                }
                ColumnEncoding::Categorical { categories } => {
                    let probabilities = read_values(softmax(output, 1))?;
                    for row in probabilities.chunks(variants * categories.len()) {
                        let mut outputs = row.chunks(categories.len());
                        let Some(full) = outputs.next() else {
                            continue;
                        };
                        let class = super::argmax(full).0;
                        contributions.push(
                            outputs
                                .map(|without| full[class] - without[class])
                                .collect(),
                        );
                    }
                }
            }
        }
        Ok(contributions)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ColumnValues, ImputerConfig, TableColumn};
    use super::*;

    /// `y` follows `a` closely and ignores `noise`.
    fn table() -> ImputationTable {
        let rows = 400;
        let a: Vec<Option<f64>> = (0..rows).map(|i| Some((i % 17) as f64)).collect();
        let noise: Vec<Option<f64>> = (0..rows).map(|i| Some(((i * 7) % 5) as f64)).collect();
        let y: Vec<Option<f64>> = (0..rows)
            .map(|i| (i % 10 != 0).then_some(3.0 * (i % 17) as f64))
            .collect();
        ImputationTable::new(vec![
            TableColumn {
                name: "a".into(),
                values: ColumnValues::Numeric(a),
            },
            TableColumn {
                name: "noise".into(),
                values: ColumnValues::Numeric(noise),
            },
            TableColumn {
                name: "y".into(),
                values: ColumnValues::Numeric(y),
            },
        ])
        .expect("table")
    }

    #[test]
    fn informative_predictor_contributes_most() {
        let config = ImputerConfig {
            hidden: 16,
            epochs: 30,
            predictor_dropout: 0.3,
            ..Default::default()
        };
        let model = TrainedImputer::train(&config, &table(), "y").expect("training");
        let rows = [0, 10, 20, 30, 40];
        let contributions = model.contributions(&table(), &rows).expect("contributions");
        assert_eq!(contributions.len(), rows.len());
        let mean = |index: usize| -> f32 {
            contributions
                .iter()
                .map(|row| row[index].abs())
                .sum::<f32>()
                / rows.len() as f32
        };
        assert_eq!(contributions[0].len(), 2);
        assert!(mean(0) > 2.0 * mean(1), "a {} noise {}", mean(0), mean(1));
    }

    #[test]
    fn row_outside_table_is_rejected() {
        let model = TrainedImputer::train(&ImputerConfig::default(), &table(), "y").expect("train");
        let error = model.contributions(&table(), &[400]).expect_err("row 400");
        assert!(error.to_string().contains("400"), "{error}");
    }
}
