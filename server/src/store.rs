//! The SQLite store: one writer thread that group-commits, and a small pool of
//! read-only connections.
//!
//! Every write goes through [`Store::write`]. The writer thread takes all the jobs that
//! are waiting (up to a few hundred), runs each in its own savepoint inside one
//! transaction, commits once, and only then answers each caller. A job that fails rolls
//! back its own savepoint and leaves the rest of its group alone.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use rusqlite_migration::{HookResult, Migrations, M};
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::identity;

/// The numbered schema migrations, oldest first. Migration `n` brings the schema to
/// version `n`; SQLite's `user_version` records which ones have run. The pending ones
/// run in one transaction, Rust hooks included.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/0001_events.sql")),
        M::up(include_str!("../migrations/0002_consents.sql")),
        // The identity graph, built from the events already stored.
        M::up_with_hook(
            include_str!("../migrations/0003_identities.sql"),
            |tx: &Transaction<'_>| -> HookResult {
                identity::backfill(tx)?;
                Ok(())
            },
        ),
        // The loyalty ledger and the coupons its redemptions issue.
        M::up(include_str!("../migrations/0004_loyalty.sql")),
        // The imported catalogue, which build-model reads.
        M::up(include_str!("../migrations/0005_catalog.sql")),
        // Live chat: agents, their sessions, conversations and messages.
        M::up(include_str!("../migrations/0006_chat.sql")),
        // The CRM: staff roles, commerce indexes and the materialised scores.
        M::up(include_str!("../migrations/0007_crm.sql")),
        // Right-time triggers: their settings, the webhooks they fired and each
        // attempt to deliver them.
        M::up(include_str!("../migrations/0008_triggers.sql")),
        // The erasures log, and append-only tables that an erasure may pseudonymise.
        M::up(include_str!("../migrations/0009_erasure.sql")),
        // The merchant's own segments (migrations 0008 and 0009 go before this one).
        M::up(include_str!("../migrations/0010_custom_segments.sql")),
    ])
}

/// The schema version this build of souk-server brings a database to: the number of
/// [`migrations`].
pub const SCHEMA_VERSION: u32 = 10;

/// How many read-only connections serve [`Store::read`].
const READERS: usize = 4;

/// How many writes may wait for the writer before [`Store::write`] waits for room.
const QUEUE: usize = 1024;

/// The most writes committed in one transaction.
const MAX_GROUP: usize = 256;

/// How long a connection waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database file could not be opened or set up.
    #[error("cannot open the database {path}: {source} (check that the directory exists and is writable, and that the file is a SQLite database)")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// SQLite refused write-ahead logging, which the store relies on.
    #[error("the database {path} cannot use WAL journaling (SQLite chose `{mode}`); use a file on a local disk")]
    NoWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// The database file to read does not exist.
    #[error("the database {path} does not exist (check --db)")]
    Missing {
        /// The database file.
        path: PathBuf,
    },
    /// The file is a SQLite database that souk-server never set up.
    #[error("{path} is not a souk-server database (its schema version is 0); point --db at the file `souk-server serve` uses")]
    NotSouk {
        /// The database file.
        path: PathBuf,
    },
    /// The file was written by a newer souk-server.
    #[error("the database {path} has schema version {found}, newer than the {SCHEMA_VERSION} this souk-server knows; upgrade souk-server or point --db at another file")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: u32,
    },
    /// A migration failed; the file is left at its previous version.
    #[error("cannot bring the database {path} to schema version {SCHEMA_VERSION}: {source}")]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// What the migration said.
        source: rusqlite_migration::Error,
    },
    /// A statement failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The group transaction holding this write could not start or commit, so nothing
    /// of it was saved.
    #[error("the write was not saved because the database could not commit it: {0}")]
    Commit(String),
    /// Stored data broke an invariant the code relies on; the job was rolled back.
    #[error("a database job was rolled back because stored data broke an invariant (this is a souk-server bug; please report it): {0}")]
    Invariant(String),
    /// The code running against the database panicked; its changes were rolled back.
    #[error(
        "a database job panicked and was rolled back (this is a souk-server bug; please report it)"
    )]
    Panicked,
    /// The operating system would not start the writer thread.
    #[error("cannot start the database writer thread: {0}")]
    Spawn(std::io::Error),
    /// The store is closed: souk-server is shutting down, or its writer stopped.
    #[error(
        "the database is closed (souk-server is shutting down, or its writer stopped: restart it)"
    )]
    Closed,
}

/// Shorthand for results of store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The SQLite database behind souk-server: one writer, a pool of readers.
pub struct Store {
    jobs: mpsc::Sender<Box<dyn Job>>,
    writer: thread::JoinHandle<()>,
    readers: Arc<Readers>,
    commits: Arc<AtomicU64>,
}

impl Store {
    /// Creates or opens the database at `path`, switches it to WAL, runs the pending
    /// migrations and starts the writer thread.
    pub fn open(path: &Path) -> Result<Store> {
        let open_error = |source| Error::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::NoWal {
                path: path.to_owned(),
                mode,
            });
        }
        // FULL: a request is answered only once its rows survive a power loss too;
        // group commit keeps the extra fsync cheap.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;

        let found = schema_version(&conn).map_err(open_error)?;
        if found > SCHEMA_VERSION {
            return Err(Error::TooNew {
                path: path.to_owned(),
                found,
            });
        }
        migrations()
            .to_latest(&mut conn)
            .map_err(|source| Error::Migrate {
                path: path.to_owned(),
                source,
            })?;

        let readers = (0..READERS)
            .map(|_| open_reader(path).map_err(open_error))
            .collect::<Result<Vec<_>>>()?;

        let (jobs, queue) = mpsc::channel(QUEUE);
        let commits = Arc::new(AtomicU64::new(0));
        let writer = thread::Builder::new()
            .name("souk-writer".into())
            .spawn({
                let commits = Arc::clone(&commits);
                move || run_writer(conn, queue, &commits)
            })
            .map_err(Error::Spawn)?;

        Ok(Store {
            jobs,
            writer,
            readers: Arc::new(Readers {
                idle: Mutex::new(readers),
                permits: Arc::new(Semaphore::new(READERS)),
            }),
            commits,
        })
    }

    /// Runs `work` on the writer connection, inside a transaction shared with the other
    /// writes waiting at the same time. Resolves once that transaction has committed.
    ///
    /// If `work` returns an error, only its own changes are rolled back.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(Write { work, reply }))
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// Runs `work` on one of the read-only connections, on a blocking thread.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.readers.permits)
            .acquire_owned()
            .await
            .map_err(|_| Error::Closed)?;
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let conn = readers.take();
            let result =
                catch_unwind(AssertUnwindSafe(|| work(&conn))).unwrap_or(Err(Error::Panicked));
            readers.give_back(conn);
            drop(permit);
            result
        })
        .await
        .map_err(|_| Error::Closed)?
    }

    /// How many group transactions the writer has committed since the store was opened.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Stops taking writes, waits until the writer has committed every queued one, and
    /// closes the database.
    pub async fn close(self) {
        let Store {
            jobs,
            writer,
            readers,
            commits,
        } = self;
        // Readers first: the last connection to close checkpoints the WAL into the
        // database file, and only the writer can.
        drop(readers);
        drop(jobs);
        match tokio::task::spawn_blocking(move || writer.join()).await {
            Ok(Ok(())) => {
                tracing::info!(commits = commits.load(Ordering::Relaxed), "database closed")
            }
            _ => tracing::error!("the database writer thread panicked; queued writes were lost"),
        }
    }
}

/// Opens an existing souk-server database read-only, for reading beside a running
/// `serve` (WAL lets both work at once).
pub fn open_read_only(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(Error::Missing {
            path: path.to_owned(),
        });
    }
    let open_error = |source| Error::Open {
        path: path.to_owned(),
        source,
    };
    let conn = open_reader(path).map_err(open_error)?;
    match schema_version(&conn).map_err(open_error)? {
        0 => Err(Error::NotSouk {
            path: path.to_owned(),
        }),
        found if found > SCHEMA_VERSION => Err(Error::TooNew {
            path: path.to_owned(),
            found,
        }),
        _ => Ok(conn),
    }
}

/// The schema version recorded in the database file.
pub fn schema_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// The idle read-only connections; a permit stands for each one.
struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    /// Takes an idle connection; the caller holds a permit, so there is one.
    fn take(&self) -> Connection {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.pop()
            .expect("a read permit guarantees an idle connection")
    }

    fn give_back(&self, conn: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
    }
}

/// A queued write, with its result type erased so that one queue carries them all.
trait Job: Send {
    /// Runs the work in its own savepoint of `tx` and returns what answers the caller
    /// once the group's commit outcome is known.
    fn run(self: Box<Self>, tx: &mut Transaction<'_>) -> Answer;
    /// Answers the caller with `error` without running the work.
    fn fail(self: Box<Self>, error: Error);
}

/// Delivers a job's result, given whether its group committed.
type Answer = Box<dyn FnOnce(Result<(), Error>)>;

struct Write<F, T> {
    work: F,
    reply: oneshot::Sender<Result<T>>,
}

impl<F, T> Job for Write<F, T>
where
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Box<Self>, tx: &mut Transaction<'_>) -> Answer {
        let Write { work, reply } = *self;
        let result = in_savepoint(tx, work);
        Box::new(move |commit| {
            // The caller may have gone away; its write stands all the same.
            let _ = reply.send(commit.and(result));
        })
    }

    fn fail(self: Box<Self>, error: Error) {
        let _ = self.reply.send(Err(error));
    }
}

/// Runs `work` in a savepoint that is released if it succeeds and rolled back if it
/// fails or panics.
fn in_savepoint<T>(
    tx: &mut Transaction<'_>,
    work: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    let savepoint = tx.savepoint()?;
    let value =
        catch_unwind(AssertUnwindSafe(|| work(&savepoint))).unwrap_or(Err(Error::Panicked))?;
    savepoint.commit()?;
    Ok(value)
}

/// The writer thread: group-commits jobs until every sender is gone and the queue is
/// empty.
fn run_writer(mut conn: Connection, mut queue: mpsc::Receiver<Box<dyn Job>>, commits: &AtomicU64) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.blocking_recv_many(&mut group, MAX_GROUP) > 0 {
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(error = %e, jobs = group.len(), "cannot begin a write transaction");
                for job in group.drain(..) {
                    job.fail(Error::Commit(e.to_string()));
                }
                continue;
            }
        };
        let answers: Vec<Answer> = group.drain(..).map(|job| job.run(&mut tx)).collect();
        let outcome = tx.commit().map_err(|e| e.to_string());
        match &outcome {
            Ok(()) => {
                commits.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = answers.len(), "cannot commit a write transaction")
            }
        }
        for answer in answers {
            answer(outcome.clone().map_err(Error::Commit));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::sync::mpsc as std_mpsc;
    use std::time::Instant;
    use tokio::task::JoinHandle;

    /// Fails a test that has not finished in this time.
    const LIMIT: Duration = Duration::from_secs(30);

    async fn within<T>(test: impl Future<Output = T>) -> T {
        tokio::time::timeout(LIMIT, test)
            .await
            .expect("the test took too long")
    }

    fn open_temp() -> (tempfile::TempDir, Arc<Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("test.db")).unwrap();
        (dir, Arc::new(store))
    }

    fn insert(conn: &Connection, id: &str) -> Result<()> {
        conn.execute(
            "INSERT INTO events (message_id, type, timestamp, received_at, body)
             VALUES (?1, 'track', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', '{}')",
            [id],
        )?;
        Ok(())
    }

    async fn ids(store: &Store) -> Vec<String> {
        store
            .read(|conn| {
                let mut stmt = conn.prepare("SELECT message_id FROM events ORDER BY message_id")?;
                let ids = stmt
                    .query_map([], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(ids)
            })
            .await
            .unwrap()
    }

    fn spawn_write<T, F>(store: &Arc<Store>, work: F) -> JoinHandle<Result<T>>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(store);
        tokio::spawn(async move { store.write(work).await })
    }

    /// Starts a write (of row "held") that keeps the writer busy until the returned
    /// sender is used, and waits until the writer is inside it, so that the writes
    /// after it pile up in the queue.
    async fn hold_writer(store: &Arc<Store>) -> (std_mpsc::Sender<()>, JoinHandle<Result<()>>) {
        let (started_tx, started_rx) = oneshot::channel();
        let (release_tx, release_rx) = std_mpsc::channel::<()>();
        let held = spawn_write(store, move |conn| {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            insert(conn, "held")
        });
        started_rx.await.unwrap();
        (release_tx, held)
    }

    /// Waits until `n` writes are queued for the writer.
    async fn wait_queued(store: &Store, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while store.jobs.max_capacity() - store.jobs.capacity() < n {
            assert!(
                Instant::now() < deadline,
                "the writes never reached the queue"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[test]
    fn migrations_are_valid_and_counted() {
        migrations().validate().unwrap();
        let fresh = Connection::open_in_memory().unwrap();
        let pending = migrations().pending_migrations(&fresh).unwrap();
        assert_eq!(pending, SCHEMA_VERSION as i32);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_land_in_few_commits() {
        within(async {
            let (_dir, store) = open_temp();
            let (release, held) = hold_writer(&store).await;
            let writes: Vec<_> = (0..199)
                .map(|i| spawn_write(&store, move |conn| insert(conn, &format!("{i:03}"))))
                .collect();
            wait_queued(&store, 199).await;
            release.send(()).unwrap();

            held.await.unwrap().unwrap();
            for write in writes {
                write.await.unwrap().unwrap();
            }
            assert_eq!(ids(&store).await.len(), 200);
            // The held write committed alone; the 199 queued behind it shared one commit.
            assert_eq!(store.commits(), 2);
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_or_panicking_job_rolls_back_alone() {
        within(async {
            let (_dir, store) = open_temp();
            let (release, held) = hold_writer(&store).await;
            let first = spawn_write(&store, |conn| insert(conn, "a"));
            wait_queued(&store, 1).await;
            let failing = spawn_write(&store, |conn| {
                insert(conn, "b")?;
                conn.execute("INSERT INTO no_such_table VALUES (1)", [])?;
                Ok(())
            });
            wait_queued(&store, 2).await;
            let panicking = spawn_write(&store, |conn| -> Result<()> {
                insert(conn, "c")?;
                panic!("a bug in a write job");
            });
            wait_queued(&store, 3).await;
            let last = spawn_write(&store, |conn| insert(conn, "d"));
            wait_queued(&store, 4).await;
            release.send(()).unwrap();

            held.await.unwrap().unwrap();
            first.await.unwrap().unwrap();
            assert!(matches!(failing.await.unwrap(), Err(Error::Sqlite(_))));
            assert!(matches!(panicking.await.unwrap(), Err(Error::Panicked)));
            last.await.unwrap().unwrap();
            assert_eq!(ids(&store).await, ["a", "d", "held"]);
            assert_eq!(
                store.commits(),
                2,
                "the four queued jobs should share one commit"
            );

            // The writer goes on after the panic.
            store.write(|conn| insert(conn, "e")).await.unwrap();
            assert_eq!(ids(&store).await, ["a", "d", "e", "held"]);
        })
        .await;
    }

    #[tokio::test]
    async fn reads_cannot_write() {
        within(async {
            let (_dir, store) = open_temp();
            let err = store.read(|conn| insert(conn, "x")).await.unwrap_err();
            assert!(
                matches!(&err, Error::Sqlite(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly)),
                "expected a read-only error, got {err}"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn closing_checkpoints_and_reopening_keeps_rows() {
        within(async {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("test.db");
            let store = Store::open(&path).unwrap();
            store.write(|conn| insert(conn, "kept")).await.unwrap();
            assert_eq!(ids(&store).await, ["kept"]);
            store.close().await;
            // The writer closed last, so it folded the WAL back into the database file.
            assert!(
                !dir.path().join("test.db-wal").exists(),
                "the WAL was left behind"
            );

            let store = Store::open(&path).unwrap();
            assert_eq!(ids(&store).await, ["kept"]);
            let version = store.read(|conn| Ok(schema_version(conn)?)).await.unwrap();
            assert_eq!(version, SCHEMA_VERSION);
        })
        .await;
    }

    #[test]
    fn a_database_from_a_newer_server_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("future.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        match Store::open(&path) {
            Err(err @ Error::TooNew { found: 99, .. }) => {
                assert!(err.to_string().contains("upgrade souk-server"))
            }
            Err(other) => panic!("expected TooNew, got {other}"),
            Ok(_) => panic!("a database at schema version 99 was opened"),
        }
    }
}
