//! The agent console's page at `/agent` (`server/console/`), served as
//! [`crate::pages`] serves souk-server's own pages.

use crate::http::AppState;
use crate::pages::{self, Asset};

static INDEX: Asset = Asset::new(
    include_str!("../../console/index.html"),
    "text/html; charset=utf-8",
);
static SCRIPT: Asset = Asset::new(
    include_str!("../../console/console.js"),
    "text/javascript; charset=utf-8",
);
static STYLE: Asset = Asset::new(
    concat!(
        include_str!("../../pages/staff.css"),
        include_str!("../../console/console.css")
    ),
    "text/css; charset=utf-8",
);

/// `GET /agent` (and `/agent/`), `/agent/console.js`, `/agent/console.css` and
/// `/agent/staff.js`.
pub(super) fn routes() -> axum::Router<AppState> {
    pages::routes(
        "/agent",
        &INDEX,
        ("console.js", &SCRIPT),
        ("console.css", &STYLE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_needs_nothing_the_policy_forbids() {
        pages::assert_self_contained(&INDEX, &SCRIPT, "/agent/console.js", "/agent/console.css");
    }
}
