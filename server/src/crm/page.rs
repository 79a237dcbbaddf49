//! The merchant dashboard's page at `/dashboard` (`server/dashboard/`), served as
//! [`crate::pages`] serves souk-server's own pages. It reads `/v1/crm` with the
//! `souk_agent` session cookie of a staff account with role `merchant`.

use crate::http::AppState;
use crate::pages::{self, Asset};

static INDEX: Asset = Asset::new(
    include_str!("../../dashboard/index.html"),
    "text/html; charset=utf-8",
);
static SCRIPT: Asset = Asset::new(
    include_str!("../../dashboard/dashboard.js"),
    "text/javascript; charset=utf-8",
);
static STYLE: Asset = Asset::new(
    concat!(
        include_str!("../../pages/staff.css"),
        include_str!("../../dashboard/dashboard.css")
    ),
    "text/css; charset=utf-8",
);

/// `GET /dashboard` (and `/dashboard/`), `/dashboard/dashboard.js`, `/dashboard/dashboard.css`
/// and `/dashboard/staff.js`.
pub(super) fn routes() -> axum::Router<AppState> {
    pages::routes(
        "/dashboard",
        &INDEX,
        ("dashboard.js", &SCRIPT),
        ("dashboard.css", &STYLE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_needs_nothing_the_policy_forbids() {
        pages::assert_self_contained(
            &INDEX,
            &SCRIPT,
            "/dashboard/dashboard.js",
            "/dashboard/dashboard.css",
        );
    }
}
