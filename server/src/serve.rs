//! `souk-server serve`: open the database, listen, and serve until SIGINT or SIGTERM.

use std::future::{Future, IntoFuture};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracing::{info, warn};

use crate::auth::Keys;
use crate::cli::{ServeArgs, DEMO_WRITE_KEY};
use crate::cors::AllowedOrigins;
use crate::store::{Store, SCHEMA_VERSION};
use crate::{http, Error};

/// How long requests still running at shutdown get to finish.
const GRACE: Duration = Duration::from_secs(10);

/// Serves until a shutdown signal, then lets running requests finish and commits the
/// queued writes before returning.
pub async fn run(args: ServeArgs) -> Result<(), Error> {
    if args.write_key.is_none() {
        warn!(
            "using the demo write key `{DEMO_WRITE_KEY}`; a real shop must set its own with --write-key or SOUK_WRITE_KEY"
        );
    }
    if args.allow_origins.is_empty() {
        info!("no --allow-origin set: pages of any origin may call the browser endpoints (fine for the demo and localhost; a shop should list its own)");
    } else {
        let origins: Vec<_> = args
            .allow_origins
            .iter()
            .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned())
            .collect();
        info!(origins = %origins.join(", "), "only these origins may call the browser endpoints");
    }
    if args.server_key.is_none() {
        info!("no server key set; the merchant endpoints answer 403 until --server-key or SOUK_SERVER_KEY is given");
    }
    for (flag, dir) in [("--www", &args.www), ("--dist", &args.dist)] {
        if !dir.is_dir() {
            warn!(
                "{flag} directory {} does not exist; its files will answer 404",
                dir.display()
            );
        }
    }

    let rules = match &args.loyalty_rules {
        Some(path) => {
            let rules = crate::rules::load(path)?;
            info!(file = %path.display(), tiers = rules.tiers.len(), rewards = rules.rewards.len(), "loyalty rules loaded");
            rules
        }
        None => souk::core::loyalty::Rules::default(),
    };
    if args.demo_shop {
        warn!("--demo-shop: POST /demo/checkout lets pages place orders that earn loyalty points; never use it for a real shop");
    }
    if args.identity_secret.is_none() {
        info!("no identity secret set; the shopper loyalty endpoints answer 403 until --identity-secret or SOUK_IDENTITY_SECRET is given");
    }

    let shutdown = shutdown_signal().map_err(Error::Signals)?;
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|source| listen_error(args.addr, source))?;
    let addr = listener
        .local_addr()
        .map_err(|source| listen_error(args.addr, source))?;
    let store = Arc::new(Store::open(&args.db)?);
    info!(db = %args.db.display(), schema_version = SCHEMA_VERSION, "database ready");
    if let Some(file) = &args.catalog {
        let stored = crate::catalog::import(&store, crate::catalog::load(file)?).await?;
        info!(file = %file.display(), products = stored, "catalogue imported");
    }
    let model = crate::model::Latest::default();
    crate::model::schedule(args.db.clone(), model.clone(), args.model_every);
    crate::crm::refresh::schedule(Arc::downgrade(&store), args.crm_every, args.crm_watch);
    let keys = Keys::new(
        args.write_key.unwrap_or_else(|| DEMO_WRITE_KEY.to_owned()),
        args.server_key,
    )
    .with_identity_secret(args.identity_secret);
    let origins = AllowedOrigins::new(args.allow_origins);
    let mut chat = crate::chat::Chat::new(args.chat_hours.clone());
    if let Some(file) = &args.faq {
        let faq = crate::chat::load_faq(file)?;
        info!(file = %file.display(), entries = faq.len(), "FAQ loaded: clear questions are answered at once");
        chat = chat.with_answerer(Arc::new(faq));
    }
    if let Some(hours) = &args.chat_hours {
        info!(%hours, "chat business hours set");
    }
    let state = http::AppState {
        store: Arc::clone(&store),
        keys: Arc::new(keys),
        rules: Arc::new(rules),
        model,
        chat: chat.clone(),
    };
    crate::triggers::schedule(
        Arc::downgrade(&store),
        Arc::clone(&state.rules),
        args.triggers_every,
        args.triggers_retry_base,
    );
    let app = http::router(state, origins, args.demo_shop, &args.www, &args.dist);

    {
        // Scripts read this line for the port; a closed stdout must not stop the server.
        let mut stdout = io::stdout().lock();
        let _ = writeln!(stdout, "listening on http://{addr}").and_then(|()| stdout.flush());
    }
    // Open chat streams never end by themselves: end them once the signal comes.
    let shutdown = async move {
        shutdown.await;
        chat.close();
    };
    serve_until(listener, app, shutdown).await?;

    // Connection tasks drop their handles on the store a moment after serving ends;
    // wait for them (briefly), so the writer closes the database last and folds the
    // WAL back into the file.
    let settle = Instant::now();
    while Arc::strong_count(&store) > 1 && settle.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    match Arc::into_inner(store) {
        Some(store) => store.close().await,
        None => warn!("requests were still running at exit; their writes were not waited for"),
    }
    Ok(())
}

fn listen_error(addr: SocketAddr, source: io::Error) -> Error {
    if source.kind() == io::ErrorKind::AddrInUse {
        Error::AddrInUse { addr }
    } else {
        Error::Listen { addr, source }
    }
}

/// Serves `app` until `shutdown` resolves, then waits up to [`GRACE`] for the open
/// requests to finish.
async fn serve_until(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let (stopping, stopped) = oneshot::channel();
    // The peer address feeds the chat's per-address rate limit.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping.send(());
    });
    let grace_over = async move {
        match stopped.await {
            Ok(()) => tokio::time::sleep(GRACE).await,
            // The server ended on its own.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = server.into_future() => result.map_err(Error::Serve),
        () = grace_over => {
            warn!("requests still running {}s after the shutdown signal were cut off", GRACE.as_secs());
            Ok(())
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed before this
/// returns, so a signal that arrives early is not lost.
#[cfg(unix)]
fn shutdown_signal() -> io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        info!("{name} received; finishing open requests and shutting down");
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        info!("Ctrl-C received; finishing open requests and shutting down");
    })
}
