mod authorize;
mod conformance;
mod delegated;
mod itsm;
mod queries;
mod routes;
mod support;
