mod api;
mod approvals;
mod binary;
mod policies;
mod requests;
mod safety;
mod support;
mod tenants;
