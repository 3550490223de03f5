//! Running the checker over a model and reporting one verdict per property.

use serde::Serialize;

/// The outcome of checking one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An `always` or `eventually` property held on every path of a complete search.
    Holds,
    /// An `always` or `eventually` property has a counterexample.
    Violated,
    /// A `sometimes` property has an example.
    Found,
    /// A `sometimes` property has no example in a complete search.
    NotFound,
}

/// What a model says it should find, so that a variant's counterexample is a
/// pass and not a failure.
pub trait Expectations: crate::diagram::Diagram {
    /// The verdict this configuration is meant to produce for `property`.
    fn expected(&self, property: &str) -> Verdict;
}
