mod authorize;
mod conformance;
mod delegated;
mod itsm;
mod okta;
mod queries;
mod routes;
mod support;
