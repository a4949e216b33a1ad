//! (in progress)
pub mod config;
