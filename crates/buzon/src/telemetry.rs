use crate::config::LogSettings;
use tracing_subscriber::EnvFilter;

/// Installs the tracing subscriber: `RUST_LOG` when set, else `log.level`; text or JSON lines
/// on standard error. Logs carry ids, never message text, contact details or tokens.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if settings.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
