use thiserror::Error;

/// Every failure mpqlab reports to a user. Messages are written for people, not for logs.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    #[error("unknown codec '{0}'")]
    UnknownCodec(String),
    #[error("codec '{codec}' has no parameter '{name}' (it has: {known})")]
    UnknownParam { codec: String, name: String, known: String },
    #[error("parameter '{name}': {reason}")]
    BadParam { name: String, reason: String },
    #[error("{codec} cannot encode this input: {reason}")]
    Unsupported { codec: String, reason: String },
    #[error("input too large: {0}")]
    TooLarge(String),
    #[error("not a valid {format} file: {reason}")]
    Decode { format: String, reason: String },
    #[error("{codec} encoder failed: {reason}")]
    Encode { codec: String, reason: String },
    #[error("unrecognised file format{0}")]
    UnknownFormat(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cancelled")]
    Cancelled,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn decode(format: &str, reason: impl std::fmt::Display) -> Self {
        // Libraries' messages sometimes end in a newline; ours are one line.
        Error::Decode { format: format.to_string(), reason: reason.to_string().trim().to_string() }
    }
    pub fn encode(codec: &str, reason: impl std::fmt::Display) -> Self {
        Error::Encode { codec: codec.to_string(), reason: reason.to_string() }
    }
    pub fn unsupported(codec: &str, reason: impl std::fmt::Display) -> Self {
        Error::Unsupported { codec: codec.to_string(), reason: reason.to_string() }
    }
}
