//! Bounds on what a document may cost to read: every input path (manifests,
//! requests, data files, fixtures, request bodies) has one, and a document
//! beyond it is refused with a coded error before it is built in memory.

/// How large and how deep a document may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputLimits {
    /// The largest document, in bytes (`E0407` beyond).
    pub max_bytes: usize,
    /// The deepest nesting of lists and objects (`E0408` beyond); at most
    /// [`InputLimits::DEEPEST`].
    pub max_depth: usize,
}

impl InputLimits {
    /// The deepest nesting any limit may allow: conversion is iterative, but
    /// the values built are walked recursively afterwards (by the type
    /// check, by the evaluator), and this keeps each walk's stack small.
    pub const DEEPEST: usize = 128;

    /// The deepest one JSON parse reads (`serde_json`'s recursion limit): a
    /// text nested deeper is refused as malformed, whatever the limit says.
    /// What is read apart from the text around it, or written inside more
    /// JSON, must keep within it.
    pub const PARSE_DEEPEST: usize = 127;

    /// Inputs to decide: a manifest, a request, a test fixture.
    pub const INPUT: InputLimits = InputLimits {
        max_bytes: 8 << 20,
        max_depth: 64,
    };

    /// Data documents (`--data`, `data … = file(…)`): a catalog of a
    /// hundred thousand apps is about 60 MB.
    pub const DATA: InputLimits = InputLimits {
        max_bytes: 512 << 20,
        max_depth: 64,
    };

    /// A policy file or a JSON file a policy names (a schema).
    pub const POLICY_FILE: InputLimits = InputLimits {
        max_bytes: 16 << 20,
        max_depth: 64,
    };

    /// The most values a document may hold (the items of its lists and the
    /// entries of its objects; in YAML, every scalar, key and collection):
    /// one per 16 bytes of the size limit. A
    /// list of empty objects (`[{},{},…]`) costs hundreds of bytes of memory
    /// per three bytes of text; this keeps memory proportional to the limit.
    pub fn max_values(&self) -> usize {
        (self.max_bytes / 16).max(1024)
    }

    /// The same limits, with the depth clamped to [`InputLimits::DEEPEST`].
    pub fn clamped(self) -> InputLimits {
        InputLimits {
            max_bytes: self.max_bytes,
            max_depth: self.max_depth.min(Self::DEEPEST),
        }
    }
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits::INPUT
    }
}
