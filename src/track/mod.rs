//! `aibc run`, `status`, `cancel`, `logs`: starting an image build and following it to the
//! last replica, in a terminal, in Azure DevOps or as JSON.

pub mod follow;
pub mod github;
pub mod logs;
pub mod metadata;
pub mod model;
pub mod poll;
pub mod report;
pub mod summary;
