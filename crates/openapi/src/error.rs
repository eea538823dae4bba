use thiserror::Error;

/// Why a document could not be imported. Every variant names what to fix; nothing is saved
/// when one is returned.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The integration's name cannot be the first part of an action name.
    #[error(
        "`{0}` cannot name an integration: use 2 to 32 lower-case letters, digits or `_`, starting with a letter (it becomes the first part of every action name), and not a system Steward already has"
    )]
    BadName(String),
    /// Neither JSON nor YAML.
    #[error("the document is neither JSON nor YAML: {0}")]
    Unreadable(String),
    /// Larger than the importer reads.
    #[error("the document is {size} bytes; the importer reads at most {limit}")]
    TooLarge {
        /// The document's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Nested deeper than any real API description.
    #[error("the document nests more than {0} levels deep, which no API description needs")]
    TooDeep(usize),
    /// Not an OpenAPI or Swagger document, or a version the importer does not read.
    #[error("{0}")]
    UnknownVersion(String),
    /// The document's shape is wrong where the importer needs it.
    #[error("the document is malformed at {at}: {problem}")]
    Malformed {
        /// A JSON pointer into the document.
        at: String,
        /// What is wrong there.
        problem: String,
    },
    /// A `$ref` the importer cannot follow.
    #[error("the reference `{reference}` at {at} cannot be followed: {problem}")]
    BadReference {
        /// The reference as written.
        reference: String,
        /// Where it is written.
        at: String,
        /// Why it cannot be followed.
        problem: String,
    },
    /// An operation's schema grew beyond the budget (a hostile or broken document).
    #[error(
        "the schema of {operation} is larger than {limit} bytes once its references are gathered; the importer refuses schemas that large"
    )]
    SchemaTooLarge {
        /// The operation (`METHOD /path`).
        operation: String,
        /// The budget.
        limit: usize,
    },
    /// No operation could become an action.
    #[error("the document has no operations Steward can import{0}")]
    NoOperations(String),
    /// More operations than the importer takes from one document.
    #[error(
        "the document has {count} operations; the importer takes at most {limit} from one document"
    )]
    TooManyOperations {
        /// How many.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// No usable base URL.
    #[error("{0}")]
    BaseUrl(String),
    /// The secret given cannot be matched to a scheme Steward can use.
    #[error("{0}")]
    Scheme(String),
}
