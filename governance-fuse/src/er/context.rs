//! Context of a pair within its tables: how the right record ranks among every right record
//! by TF-IDF cosine to the left record, and the reverse.
//!
//! A pair whose records are each other's best match is far more likely a match than one with
//! the same cosine where both records have a closer neighbour. These ranks come from the
//! records alone, never from labels, so they are honest features for a classifier and honest
//! comparisons for the Fellegi-Sunter model. Only the `k` best neighbours of each record are
//! kept, so memory grows with `k` times the records rather than with the product of the sizes.

use rayon::prelude::*;

use super::compare::SparseVector;

/// The `k` most similar records of the other table for every record of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    k: usize,
    /// Per record: (row of the other table, cosine), best first.
    lists: Vec<Vec<(u32, f32)>>,
}

impl Neighbours {
    /// Finds the `k` nearest records of `targets` for every vector of `queries`, by cosine of
    /// the unit-length vectors, through an inverted index over `targets`. Ties keep the lower
    /// row first, so the lists do not depend on thread scheduling.
    pub fn build(queries: &[SparseVector], targets: &[SparseVector], k: usize) -> Self {
        let k = k.max(1);
        let mut postings: std::collections::HashMap<u32, Vec<(u32, f32)>> =
            std::collections::HashMap::new();
        for (row, vector) in targets.iter().enumerate() {
            for &(token, weight) in vector.entries() {
                postings
                    .entry(token)
                    .or_default()
                    .push((row as u32, weight));
            }
        }
        let lists = queries
            .par_iter()
            .map_init(
                || vec![0f32; targets.len()],
                |scores, query| {
                    let mut touched: Vec<u32> = Vec::new();
                    for &(token, weight) in query.entries() {
                        if let Some(list) = postings.get(&token) {
                            for &(row, other) in list {
                                if scores[row as usize] == 0.0 {
                                    touched.push(row);
                                }
                                scores[row as usize] += weight * other;
                            }
                        }
                    }
                    let mut best: Vec<(u32, f32)> = touched
                        .iter()
                        .map(|&row| (row, scores[row as usize]))
                        .collect();
                    for &row in &touched {
                        scores[row as usize] = 0.0;
                    }
                    best.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    best.truncate(k);
                    best
                },
            )
            .collect();
        Self { k, lists }
    }

    /// Number of neighbours kept per record.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Rank of `target` among the neighbours of `query`, 1 for the best; `k + 1` when it is not
    /// among the `k` kept.
    pub fn rank(&self, query: usize, target: u32) -> usize {
        self.lists
            .get(query)
            .and_then(|list| list.iter().position(|&(row, _)| row == target))
            .map_or(self.k + 1, |position| position + 1)
    }

    /// Cosine of the best neighbour of `query`; 0 when it shares no token with any record.
    pub fn best_score(&self, query: usize) -> f32 {
        self.lists
            .get(query)
            .and_then(|list| list.first())
            .map_or(0.0, |&(_, score)| score)
    }

    /// The kept neighbours of `query`, best first.
    pub fn of(&self, query: usize) -> &[(u32, f32)] {
        self.lists.get(query).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::super::compare::TfIdf;
    use super::*;

    #[test]
    fn ranks_follow_cosine() {
        let left = ["apple iphone 8", "samsung galaxy s9"];
        let right = ["iphone 8 apple black", "galaxy s9 samsung", "apple watch"];
        let model = TfIdf::fit(left.iter().chain(right.iter()).copied());
        let queries: Vec<_> = left.iter().map(|text| model.vectorize(text)).collect();
        let targets: Vec<_> = right.iter().map(|text| model.vectorize(text)).collect();
        let neighbours = Neighbours::build(&queries, &targets, 2);
        assert_eq!(neighbours.rank(0, 0), 1);
        assert_eq!(neighbours.rank(0, 2), 2);
        assert_eq!(neighbours.rank(1, 1), 1);
        // Record 2 shares nothing with the second query, so it is not kept.
        assert_eq!(neighbours.rank(1, 2), 3);
        assert!(neighbours.best_score(1) > 0.99);
    }
}
