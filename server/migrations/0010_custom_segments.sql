-- The merchant's own segments (src/crm/custom.rs): a name, a label and a filter in
-- the language of src/crm/filter.rs, checked when saved and evaluated against the
-- latest refresh's scores when read.
CREATE TABLE crm_custom_segments (
    name       TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    filter     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
