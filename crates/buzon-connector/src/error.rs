/// What went wrong talking to a platform: core's `PlatformError`, under the name connectors use.
pub use buzon_core::PlatformError as ConnectorError;
