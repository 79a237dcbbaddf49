//! Feeds arbitrary bytes to the recommendation model's reader, which must answer
//! every input with a model or a typed error, never a panic, a hang or a huge
//! allocation.
//!
//! The checksum turns away almost every mutated file at the door, so an input that
//! does not start with the magic is taken as a payload and sealed first: put behind
//! a header with the right length and checksum, it reaches the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use souk::core::model::{checksum, Model, MAGIC, VERSION};

fuzz_target!(|data: &[u8]| {
    let sealed;
    let file = if data.starts_with(&MAGIC) {
        data
    } else {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&checksum(data).to_le_bytes());
        bytes.extend_from_slice(data);
        sealed = bytes;
        &sealed
    };
    if let Ok(model) = Model::decode(file) {
        // What it accepts it can write again, no longer, and read back the same.
        let again = model.encode();
        assert!(again.len() <= file.len());
        assert_eq!(Model::decode(&again).as_ref(), Ok(&model));
        // And every lookup answers without panicking.
        for (i, product) in model.products().enumerate() {
            assert_eq!(model.find(product.id), Some(i as u32));
            let _ = model.category(product.category);
            for neighbour in model.neighbours(i as u32) {
                assert!(model.product(neighbour.product).is_some());
            }
        }
        for c in 0..model.categories().len() as u32 {
            assert!(model.popular(c).iter().all(|&i| model.product(i).is_some()));
        }
    }
});
