//! One definition on both sides of the wire: what the plugin's core sends (the
//! consent proof and an event batch, built by `souk::core`) is what the server
//! accepts and stores.

mod common;

use common::*;
use souk::core::consent::{Grants, Source};
use souk::core::event::{Properties, Value};
use souk::core::ports::{ManualClock, MemoryStorage, MemoryTransport, SeededRng};
use souk::core::{Config, Souk};

#[test]
fn the_core_s_proof_and_batch_are_accepted_and_stored() {
    let site = Site::new();
    let server = site.start();
    let config = Config::new(Some(DEMO_KEY), None).unwrap();
    let clock = ManualClock {
        now_ms: 1_764_067_097_123,
    };
    let mut souk = Souk::new(
        config,
        clock,
        SeededRng::new(9),
        MemoryStorage::default(),
        false,
    );
    souk.decide(Grants::ALL, Source::Banner, "ar");
    let props = Properties(vec![
        ("product_id".into(), Value::Text("p001".into())),
        ("price".into(), Value::Number(89.5)),
        ("name".into(), Value::Text("إبريق \"قهوة\"".into())),
    ]);
    souk.track("Product Added", props).unwrap();
    souk.page(Some("Product"), Properties::default()).unwrap();
    souk.identify(
        "u-42",
        Properties(vec![("email".into(), Value::Text("a@b.example".into()))]),
    )
    .unwrap();
    souk.alias("u-43", None).unwrap();

    let mut transport = MemoryTransport::default();
    souk.flush(&mut transport);
    let plain = [("content-type", "text/plain")];
    let mut paths = Vec::new();
    for request in &transport.sent {
        let reply = server.post(&request.path, &plain, &request.body);
        assert_eq!(
            reply.status,
            200,
            "{} answered {}",
            request.path,
            String::from_utf8_lossy(&reply.body)
        );
        paths.push(request.path.as_str());
    }
    assert_eq!(paths, ["/v1/consent", "/v1/batch"]);
    assert_eq!(site.consents(), 1);
    assert_eq!(site.events(), 4);
    let rows = |sql: &str| site.rows(sql);
    let identified =
        rows("SELECT type, user_id FROM events WHERE user_id IS NOT NULL ORDER BY type");
    assert_eq!(identified.len(), 2);
    assert_eq!(identified[0]["type"], "alias");
    assert_eq!(identified[0]["user_id"], "u-43");
    assert_eq!(identified[1]["type"], "identify");
    assert_eq!(identified[1]["user_id"], "u-42");
    let track = rows("SELECT anonymous_id FROM events WHERE event = 'Product Added'");
    assert_eq!(track[0]["anonymous_id"], souk.anonymous_id());
}
