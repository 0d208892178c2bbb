//! A store on a database of its own for each test (see `buzon_tests::db`).

use buzon_store::{Cipher, DatabaseUrl, Store};
use buzon_tests::db::TestDatabase;

#[derive(Clone)]
pub struct TestDb {
    pub store: Store,
    database: TestDatabase,
}

fn test_cipher() -> Cipher {
    Cipher::from_key_text(&"42".repeat(32)).expect("valid test key")
}

impl TestDb {
    async fn open(database: TestDatabase) -> TestDb {
        let store = Store::connect(&DatabaseUrl::parse(&database.url).unwrap(), test_cipher())
            .await
            .expect("the test database opens");
        store.migrate().await.expect("the test database migrates");
        TestDb { store, database }
    }

    pub async fn sqlite() -> TestDb {
        TestDb::open(TestDatabase::sqlite()).await
    }

    pub async fn postgres() -> Option<TestDb> {
        Some(TestDb::open(TestDatabase::postgres().await?).await)
    }

    pub async fn raw_execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        self.database.raw_execute(sql).await
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.database
            .scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .await
    }

    pub async fn raw_dump_contains(&self, needle: &str) -> Vec<String> {
        self.database.raw_dump_contains(needle).await
    }

    pub async fn finish(self) {
        self.store.close().await;
        self.database.finish().await;
    }
}
