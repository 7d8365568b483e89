//! certverify: the unified certificate query and verification platform for Shanghai's
//! List of Recognized Overseas Occupational Qualifications.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod health;
pub mod holders;
pub mod idempotency;
pub mod issuers;
pub mod notify;
pub mod openapi;
pub mod ops;
pub mod page;
pub mod policy;
pub mod problems;
pub mod records;
pub mod registry;
pub mod report;
pub mod requests;
pub mod sim;
pub mod startup;
pub mod web;
