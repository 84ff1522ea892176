//! The API contract (SPEC 1-6), one module per feature, every test run on the embedded table and
//! on DynamoDB's wire protocol (moto).

/// Runs each named test of the calling module on both stores.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(answerpal_testkit::TestApi::memory().await).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(answerpal_testkit::TestApi::dynamodb().await).await;
                }
            )*
        }
    };
}

mod account;
mod anonymize;
mod assign;
mod attributes;
mod bulk;
mod by_uid;
mod change_events;
mod channels;
mod concurrency;
mod conditional;
mod consent;
mod contact_sync;
mod create;
mod crm_sync;
mod cursor_paging;
mod delete;
mod duplicate_events;
mod duplicates;
mod idempotency;
mod inbound_races;
mod kinds;
mod list;
mod merge;
mod merge_races;
mod models;
mod my_secrets;
mod paging;
mod protocol;
mod read;
mod retention;
mod support;
mod suppression;
mod tickets;
mod timeline;
mod update;
mod upsert;
mod webhooks;
