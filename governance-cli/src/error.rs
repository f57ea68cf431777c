//! Errors of the command-line tool and their exit codes.

use std::process::ExitCode;

use governance::apply::ApplyError;

/// Exit code of a data, run or verification failure.
pub const EXIT_DATA: u8 = 1;
/// Exit code of a usage or config error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of an I/O or server error.
pub const EXIT_IO: u8 = 3;

/// A failed command, with the exit code that its kind maps to.
#[derive(Debug)]
pub enum CliError {
    /// Bad input data, a failed run or a failed verification (exit code 1).
    Data(String),
    /// A bad argument or config (exit code 2).
    Usage(String),
    /// A file, folder or server could not be used (exit code 3).
    Io(String),
    /// An error of the SDK, mapped to its exit code by [`CliError::exit_code`].
    Governance(governance::Error),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Data(message) | CliError::Usage(message) | CliError::Io(message) => {
                formatter.write_str(message)
            }
            CliError::Governance(error) => write!(formatter, "{error}"),
        }
    }
}

impl From<governance::Error> for CliError {
    fn from(error: governance::Error) -> Self {
        CliError::Governance(error)
    }
}

/// Returns true when an I/O error is somewhere in `error`'s chain of causes, as for a file
/// that cannot be written or a server that cannot be reached, or when connecting to
/// PostgreSQL failed, with or without TLS, or the server rejected the authentication.
fn caused_by_io(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = current {
        if cause.is::<std::io::Error>() {
            return true;
        }
        if let Some(
            ApplyError::PostgresConnect { .. }
            | ApplyError::PostgresTls { .. }
            | ApplyError::PostgresAuthentication { .. },
        ) = cause.downcast_ref::<ApplyError>()
        {
            return true;
        }
        current = cause.source();
    }
    false
}

impl CliError {
    /// Returns the process exit code of this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Data(_) => EXIT_DATA,
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Io(_) => EXIT_IO,
            CliError::Governance(error) => match error {
                governance::Error::Config { .. } => EXIT_USAGE,
                governance::Error::Io { .. } => EXIT_IO,
                other if caused_by_io(other) => EXIT_IO,
                _ => EXIT_DATA,
            },
        }
    }

    /// Prints the error and its causes to standard error and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("error: {self}");
        if let CliError::Governance(error) = self {
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
        }
        ExitCode::from(self.exit_code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_errors_map_to_codes() {
        let config = CliError::from(governance::Error::config("rules", "bad"));
        assert_eq!(config.exit_code(), EXIT_USAGE);
        let io = CliError::from(governance::Error::io(
            "x.csv",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
        assert_eq!(io.exit_code(), EXIT_IO);
        let stage_io = CliError::from(governance::Error::stage(
            "postgres_sink",
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        ));
        assert_eq!(stage_io.exit_code(), EXIT_IO);
        let data = CliError::from(governance::Error::InvalidInput("bad row".into()));
        assert_eq!(data.exit_code(), EXIT_DATA);
    }
}
