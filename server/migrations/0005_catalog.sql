-- The shop's catalogue, as last imported (src/catalog.rs): `souk-server import-catalog`
-- or `serve --catalog` replace every row in one transaction. build-model reads it for
-- the model file's product table. Prices are in minor units of `currency` (fils,
-- halalas, cents); `category` is the shop's category id (a slug), '' for none.
CREATE TABLE catalog_products (
    id             TEXT PRIMARY KEY,
    name_en        TEXT NOT NULL,
    name_ar        TEXT NOT NULL DEFAULT '',
    description_en TEXT,
    description_ar TEXT,
    price_minor    INTEGER NOT NULL CHECK (price_minor >= 0),
    currency       TEXT NOT NULL CHECK (length(currency) = 3),
    category       TEXT NOT NULL DEFAULT '',
    url            TEXT NOT NULL DEFAULT '',
    image_url      TEXT NOT NULL DEFAULT '',
    in_stock       INTEGER NOT NULL CHECK (in_stock IN (0, 1)),
    brand          TEXT,
    sku            TEXT,
    -- When the import that wrote the row ran (UTC, RFC 3339).
    imported_at    TEXT NOT NULL
);

CREATE INDEX catalog_products_category ON catalog_products (category);
