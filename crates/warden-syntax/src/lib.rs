//! Warden's syntax layer: text in, [`Parse`] out.
//!
//! The parser never fails. [`parse`] returns the tree it could build, the
//! full token table (trivia included) and every syntax error with its span.
//! This crate knows nothing of names, types, salsa, IO or the editor.
//!
//! API boundary: everything downstream reaches the tree through [`Parse`].

pub mod ast;
mod format;
pub mod lexer;
mod parser;
pub mod print;

pub use format::format_source;
pub use parser::{Parse, parse, parse_expr};
