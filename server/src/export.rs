//! `souk-server events`: the stored events in the order received (then by
//! `messageId`), as JSON Lines or CSV, read from a read-only connection so that a
//! running `serve` is not disturbed.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use rusqlite::Connection;

use crate::cli::{EventsArgs, Format};
use crate::{store, Error};

/// The CSV header, which is also the columns read for CSV.
const CSV_COLUMNS: [&str; 7] = [
    "message_id",
    "type",
    "event",
    "anonymous_id",
    "user_id",
    "timestamp",
    "received_at",
];

/// Writes the export that `args` asks for.
pub fn run(args: &EventsArgs) -> Result<(), Error> {
    let conn = store::open_read_only(&args.db)?;
    match &args.out {
        Some(path) => {
            let to = path.display().to_string();
            let file = File::create(path).map_err(|source| Error::Output {
                to: to.clone(),
                source,
            })?;
            write(&conn, args.format, BufWriter::new(file), &to)
        }
        None => match write(
            &conn,
            args.format,
            BufWriter::new(io::stdout().lock()),
            "standard output",
        ) {
            // A reader such as `head` that stops early is not an error.
            Err(Error::Output { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => {
                Ok(())
            }
            result => result,
        },
    }
}

/// Writes every stored event to `out` (named `to` in errors) in `format`.
fn write(conn: &Connection, format: Format, out: impl Write, to: &str) -> Result<(), Error> {
    let read = |e| Error::Store(store::Error::Sqlite(e));
    let output = |source| Error::Output {
        to: to.to_owned(),
        source,
    };
    let columns = match format {
        Format::Jsonl => "body".to_owned(),
        Format::Csv => CSV_COLUMNS.join(", "),
    };
    let mut statement = conn
        .prepare(&format!(
            "SELECT {columns} FROM events ORDER BY received_at, message_id"
        ))
        .map_err(read)?;
    let mut rows = statement.query([]).map_err(read)?;
    match format {
        Format::Jsonl => {
            let mut out = out;
            while let Some(row) = rows.next().map_err(read)? {
                // Stored compact, so one message never spans lines.
                let body: String = row.get(0).map_err(read)?;
                writeln!(out, "{body}").map_err(output)?;
            }
            out.flush().map_err(output)
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            let io = |e: csv::Error| output(e.into());
            csv.write_record(CSV_COLUMNS).map_err(io)?;
            while let Some(row) = rows.next().map_err(read)? {
                let fields = (0..CSV_COLUMNS.len())
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(read)?;
                csv.write_record(fields.iter().map(|f| f.as_deref().unwrap_or("")))
                    .map_err(io)?;
            }
            csv.flush().map_err(output)
        }
    }
}
