//! Migrations, embedded per engine. The two folders hold the same file names in the same order.

use crate::{Engine, StoreError};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::AnyPool;
use std::borrow::Cow;

macro_rules! migration_set {
    ($folder:literal, [$(($version:literal, $name:literal)),* $(,)?]) => {
        &[$(($version, $name, include_str!(concat!("../migrations/", $folder, "/", $name)))),*]
    };
}

/// (version, file name, SQL) for SQLite.
pub(crate) const SQLITE: &[(i64, &str, &str)] = migration_set!(
    "sqlite",
    [
        (1, "0001_accounts.sql"),
        (2, "0002_messages.sql"),
        (3, "0003_queues.sql"),
        (4, "0004_moderation.sql"),
        (5, "0005_web.sql"),
        (6, "0006_admin.sql"),
        (7, "0007_reports.sql"),
        (8, "0008_metric_changes.sql"),
        (9, "0009_conversation_kind.sql"),
        (10, "0010_unparsed.sql"),
        (11, "0011_profiles.sql"),
        (12, "0012_early_statuses.sql"),
        (13, "0013_status_references.sql"),
        (14, "0014_live_changes.sql"),
        (15, "0015_service_hours.sql"),
        (16, "0016_alerts.sql"),
        (17, "0017_incidents.sql"),
        (18, "0018_working_queue.sql"),
        (19, "0019_events_out.sql"),
        (20, "0020_key_fence.sql"),
        (21, "0021_listening.sql"),
        (22, "0022_batch_triggers.sql"),
        (23, "0023_early_removals.sql"),
        (24, "0024_contact_wrote_since_check.sql"),
    ]
);

/// (version, file name, SQL) for PostgreSQL.
pub(crate) const POSTGRES: &[(i64, &str, &str)] = migration_set!(
    "postgres",
    [
        (1, "0001_accounts.sql"),
        (2, "0002_messages.sql"),
        (3, "0003_queues.sql"),
        (4, "0004_moderation.sql"),
        (5, "0005_web.sql"),
        (6, "0006_admin.sql"),
        (7, "0007_reports.sql"),
        (8, "0008_metric_changes.sql"),
        (9, "0009_conversation_kind.sql"),
        (10, "0010_unparsed.sql"),
        (11, "0011_profiles.sql"),
        (12, "0012_early_statuses.sql"),
        (13, "0013_status_references.sql"),
        (14, "0014_live_changes.sql"),
        (15, "0015_service_hours.sql"),
        (16, "0016_alerts.sql"),
        (17, "0017_incidents.sql"),
        (18, "0018_working_queue.sql"),
        (19, "0019_events_out.sql"),
        (20, "0020_key_fence.sql"),
        (21, "0021_listening.sql"),
        (22, "0022_batch_triggers.sql"),
        (23, "0023_early_removals.sql"),
        (24, "0024_contact_wrote_since_check.sql"),
    ]
);

pub(crate) async fn run(engine: Engine, pool: &AnyPool) -> Result<(), StoreError> {
    let set = match engine {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
    };
    let migrations: Vec<Migration> = set
        .iter()
        .map(|(version, name, sql)| {
            let description = name.trim_end_matches(".sql").to_owned();
            Migration::new(
                *version,
                Cow::Owned(description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    let migrator = Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    migrator.run(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_have_the_same_migrations_in_the_same_order() {
        let names = |set: &[(i64, &str, &str)]| -> Vec<(i64, String)> {
            set.iter().map(|(v, n, _)| (*v, n.to_string())).collect()
        };
        assert_eq!(names(SQLITE), names(POSTGRES));
        let on_disk = |engine: &str| -> Vec<String> {
            let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/");
            let mut files: Vec<String> = std::fs::read_dir(format!("{folder}{engine}"))
                .expect("migrations folder exists")
                .map(|entry| {
                    entry
                        .expect("readable entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            files.sort();
            files
        };
        let embedded: Vec<String> = SQLITE.iter().map(|(_, n, _)| n.to_string()).collect();
        assert_eq!(
            on_disk("sqlite"),
            embedded,
            "every sqlite migration file is embedded"
        );
        assert_eq!(
            on_disk("postgres"),
            embedded,
            "every postgres migration file is embedded"
        );
    }
}
