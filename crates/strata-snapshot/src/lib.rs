//! Strata's layer codec (WIP).
mod error;
pub mod guard;
pub mod path;
pub use error::{Error, Result};
