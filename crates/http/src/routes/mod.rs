pub mod api;
pub mod billing;
pub mod chat;
pub mod health;
pub mod library;
pub mod openapi;
pub mod reports;
