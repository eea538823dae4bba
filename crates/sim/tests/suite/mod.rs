mod authorize;
mod conformance;
mod delegated;
mod queries;
mod routes;
mod support;
