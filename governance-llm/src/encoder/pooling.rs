//! Turning per-token hidden vectors into one unit-length sentence vector.

use burn::tensor::Tensor;

/// Smallest norm a vector is divided by, so that a zero vector stays zero instead of turning
/// into NaN. sentence-transformers' `Normalize` (PyTorch's `F.normalize`) uses the same floor.
const NORM_FLOOR: f32 = 1e-12;

/// Returns the mean of each row's hidden vectors over its real tokens, `[batch, hidden]`.
/// `hidden` is `[batch, length, hidden]` and `mask` `[batch, length]` with 1 for a real token
/// and 0 for padding.
pub fn masked_mean(hidden: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let [batch, _, width] = hidden.dims();
    let mask = mask.unsqueeze_dim::<3>(2);
    let summed = (hidden * mask.clone()).sum_dim(1);
    // Every row has at least [CLS] and [SEP]; the floor only guards against an empty row.
    let counts = mask.sum_dim(1).clamp_min(1e-9);
    (summed / counts).reshape([batch, width])
}

/// Scales each row of `[batch, width]` to unit Euclidean length.
pub fn l2_normalize(vectors: Tensor<2>) -> Tensor<2> {
    let norms = vectors
        .clone()
        .powi_scalar(2)
        .sum_dim(1)
        .sqrt()
        .clamp_min(NORM_FLOOR);
    vectors / norms
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;
    use crate::backend::cpu_device;

    #[test]
    fn mean_skips_padding() {
        let device = cpu_device();
        let hidden = Tensor::<3>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 100.0, 100.0], [1, 3, 2]),
            &device,
        );
        let mask = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0, 0.0], [1, 3]), &device);
        let pooled = masked_mean(hidden, mask)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 values");
        assert_eq!(pooled, vec![2.0, 3.0]);
    }

    #[test]
    fn normalize_gives_unit_rows() {
        let device = cpu_device();
        let vectors = Tensor::<2>::from_data(
            TensorData::new(vec![3.0f32, 4.0, 0.0, 0.0], [2, 2]),
            &device,
        );
        let normalized = l2_normalize(vectors)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 values");
        assert_eq!(normalized, vec![0.6, 0.8, 0.0, 0.0]);
    }
}
