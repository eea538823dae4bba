mod api;
mod approvals;
mod binary;
mod requests;
mod safety;
mod support;
mod tenants;
