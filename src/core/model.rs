//! The recommendation model: the one file `souk-server build-model` writes and the
//! plugin reads, so both sides share this definition.
//!
//! It carries everything the recommendations widget needs, so the device asks the
//! server for nothing else: a compact catalogue (id, en/ar names, price, currency,
//! link, image, category, stock), each product's top-K neighbours, the most popular
//! products of each category, and what is trending.
//!
//! [`Model::encode`] writes the file and [`Model::decode`] reads it back. Decoding
//! refuses anything malformed with a [`ModelError`] and never panics. It believes no
//! count before the bytes behind it are there, so a 27-byte file that claims four
//! billion products fails at once, without allocating for them.
//!
//! # The file, version 1
//!
//! Little-endian throughout. A *varint* is unsigned LEB128: 7 bits a byte, lowest
//! first, with the high bit set on every byte but the last. A *string* is a varint
//! index into the string table, and a *product* is a varint index into the product
//! table.
//!
//! | part | layout |
//! |---|---|
//! | header, 18 bytes | magic `SKRM`; version `u16` (every version starts with these 6 bytes); payload length `u32`; checksum `u64`, FNV-1a 64 of the payload |
//! | summary | created-at (Unix ms) varint; K varint |
//! | strings | count; then per string: `shared` varint, `len` varint, `len` bytes. A string is the first `shared` bytes of the string before it followed by its own bytes (front coding: sorted URLs share long prefixes) |
//! | categories | count; a name (string) per category |
//! | products | count *n*; then 8 columns of *n* varints each: id, name in English, name in Arabic, currency, url, image url (strings), price in minor units, category × 2 + in-stock |
//! | neighbours | per product: count *m* ≤ K, then *m* × (product, weight `u8`) |
//! | popular | per category: count, then that many products, most popular first |
//! | trending | count, then that many products, most popular first |
//!
//! Product ids are unique and in ascending byte order, so a lookup by id is a binary
//! search. A currency is three capital ASCII letters (ISO 4217). Every index points
//! into its table, and the payload ends right after the trending list.
//!
//! A neighbour's weight is a byte on a square-root scale:
//! `similarity = (weight / 255)²`, with similarity in [0, 1] (see [`Neighbour::new`]
//! and [`Neighbour::similarity`]). Weak ties keep their detail: 0.010 and 0.012 are
//! weights 26 and 28, where a linear byte would make both 3. A step is 0.8 % of the
//! similarity near 1 and 8 % near 0.01. A byte instead of a `u16` saves a fifth of
//! the neighbour lists, the file's largest part.
//!
//! The checksum is FNV-1a 64: one xor and one 64-bit multiply a byte, no table, a
//! few dozen bytes of wasm. Any single changed byte of the payload changes it.

use std::fmt;

use super::i18n::Lang;

/// The first four bytes of every model file.
pub const MAGIC: [u8; 4] = *b"SKRM";

/// The format version this build writes and reads.
pub const VERSION: u16 = 1;

/// The bytes before the payload: magic, version, payload length and checksum.
pub const HEADER_LEN: usize = 18;

/// The most text the string table may hold once expanded: 16 MiB, some 100,000
/// products' worth at 170 bytes of names and links each. Front coding lets a few
/// bytes stand for a long string, so without a cap a small file could expand to
/// gigabytes.
pub const MAX_TEXT: usize = 16 << 20;

/// The product table's columns, in file order.
const COLUMNS: usize = 8;

/// A part of the file, as errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Magic, version, payload length and checksum.
    Header,
    /// Everything after the header, as a whole.
    Payload,
    /// The created-at time and K.
    Summary,
    /// The string table.
    Strings,
    /// The category names.
    Categories,
    /// The product table.
    Products,
    /// Each product's neighbour list.
    Neighbours,
    /// Each category's popular list.
    Popular,
    /// The trending list.
    Trending,
}

impl Section {
    /// The section's name in English, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Section::Header => "header",
            Section::Payload => "payload",
            Section::Summary => "summary (created-at and K)",
            Section::Strings => "string table",
            Section::Categories => "category table",
            Section::Products => "product table",
            Section::Neighbours => "neighbour lists",
            Section::Popular => "popular lists",
            Section::Trending => "trending list",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a model file was refused, or a model could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The file does not start with [`MAGIC`]: it is something else, such as an
    /// HTML error page.
    #[error("recommendation model: not a souk model file (it does not start with `SKRM`); check that the model URL serves what `souk-server build-model` wrote")]
    WrongMagic,
    /// The file is in a format version this build does not read.
    #[error("recommendation model: format version {found} is not supported; this souk reads version {reads}, so rebuild the model with a souk-server of the same release")]
    UnsupportedVersion {
        /// The version the file says it is.
        found: u16,
        /// The version this build reads.
        reads: u16,
    },
    /// The file ends inside a section: it is incomplete, or the writer got a count
    /// wrong.
    #[error("recommendation model: the file ends inside its {0}; it is incomplete")]
    Truncated(Section),
    /// Bytes follow the end of the model.
    #[error("recommendation model: the file goes on after the model ends; it is not one whole model file")]
    TrailingBytes,
    /// The payload's checksum differs from the header's.
    #[error("recommendation model: the checksum does not match, so the file was damaged on the way; fetch it again")]
    ChecksumMismatch,
    /// An index points past the end of its table.
    #[error("recommendation model: an index in the {0} points past the end of its table")]
    OutOfRange(Section),
    /// The string table holds text that is not UTF-8.
    #[error("recommendation model: the string table holds text that is not valid UTF-8")]
    BadUtf8,
    /// A number or a list is larger than the format allows.
    #[error("recommendation model: the {0} is larger than the format allows")]
    TooLarge(Section),
    /// A product's id does not come after the one before it.
    #[error("recommendation model: product {product}'s id does not come after the one before it; ids must be unique and in ascending byte order")]
    OutOfOrder {
        /// The product's index.
        product: u32,
    },
    /// A product's currency is not three capital letters.
    #[error("recommendation model: product {product}'s currency is not a three-letter ISO 4217 code such as AED")]
    BadCurrency {
        /// The product's index.
        product: u32,
    },
}

/// One product as the widget shows it. [`Model`] hands these out, borrowed from its
/// own memory; the server builds a model from them through [`Parts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product<'a> {
    /// The shop's product id (`product_id` in events).
    pub id: &'a str,
    /// The name in English.
    pub name_en: &'a str,
    /// The name in Arabic; empty when the shop has none.
    pub name_ar: &'a str,
    /// The price in minor units: fils, halalas, cents.
    pub price_minor: u64,
    /// The ISO 4217 currency code, such as `AED`.
    pub currency: &'a str,
    /// The product page.
    pub url: &'a str,
    /// The product's image.
    pub image_url: &'a str,
    /// The index of its category in the model's category table.
    pub category: u32,
    /// Whether it can be bought now.
    pub in_stock: bool,
}

impl<'a> Product<'a> {
    /// The name in `lang`; the English name when the Arabic one is missing.
    pub fn name(&self, lang: Lang) -> &'a str {
        match lang {
            Lang::Ar if !self.name_ar.is_empty() => self.name_ar,
            _ => self.name_en,
        }
    }
}

/// A product that shoppers who like one product also like, and how strongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    /// The neighbour's index in the product table.
    pub product: u32,
    /// Its similarity in [0, 1] on a square-root scale: `(weight / 255)²`.
    pub weight: u8,
}

impl Neighbour {
    /// `product` with `similarity` in [0, 1] quantised to the nearest weight.
    /// Values outside the range are clamped; NaN counts as 0.
    pub fn new(product: u32, similarity: f32) -> Neighbour {
        let scaled = similarity.clamp(0.0, 1.0).sqrt() * 255.0 + 0.5;
        Neighbour {
            product,
            // `as` saturates, and turns NaN into 0.
            weight: scaled as u8,
        }
    }

    /// The similarity in [0, 1] that the weight stands for.
    pub fn similarity(self) -> f32 {
        let root = f32::from(self.weight) / 255.0;
        root * root
    }
}

/// Everything a model holds, as the server gathers it: [`Model::new`] checks it and
/// lays it out, and [`Model::parts`] gives it back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts<'a> {
    /// When the model was built, in ms since the Unix epoch.
    pub created_at_ms: u64,
    /// The most neighbours a product may have.
    pub k: u16,
    /// The category names; products and popular lists refer to them by index.
    pub categories: Vec<&'a str>,
    /// The catalogue, with ids unique and in ascending byte order (SQLite's
    /// `ORDER BY id` in its default `BINARY` collation is that order).
    pub products: Vec<Product<'a>>,
    /// Each product's neighbours, by index, strongest first. A product past the end
    /// of this list has none.
    pub neighbours: Vec<Vec<Neighbour>>,
    /// Each category's most popular products, by index, most popular first. A
    /// category past the end of this list has none.
    pub popular: Vec<Vec<u32>>,
    /// What is popular over the recent window, most popular first.
    pub trending: Vec<u32>,
}

/// The recommendation model in memory: a handful of flat tables, whatever the
/// catalogue's size, so that decoding allocates a few times and lookups are slices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    created_at_ms: u64,
    k: u16,
    /// Every string of the table, one after another.
    text: String,
    /// Where each string ends in `text`; each starts where the one before ends.
    ends: Vec<u32>,
    /// Each category's name, as a string index.
    categories: Vec<u32>,
    rows: Vec<Row>,
    /// Where each product's list ends in `neighbours`.
    neighbour_ends: Vec<u32>,
    neighbours: Vec<Neighbour>,
    /// Where each category's list ends in `popular`.
    popular_ends: Vec<u32>,
    popular: Vec<u32>,
    trending: Vec<u32>,
}

/// One product, with its strings as indices into the string table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Row {
    id: u32,
    name_en: u32,
    name_ar: u32,
    currency: u32,
    url: u32,
    image_url: u32,
    price_minor: u64,
    category: u32,
    in_stock: bool,
}

impl Row {
    /// The value of `column`, as the file stores it.
    fn column(&self, column: usize) -> u64 {
        match column {
            0 => self.id.into(),
            1 => self.name_en.into(),
            2 => self.name_ar.into(),
            3 => self.currency.into(),
            4 => self.url.into(),
            5 => self.image_url.into(),
            6 => self.price_minor,
            _ => (u64::from(self.category) << 1) | u64::from(self.in_stock),
        }
    }

    /// Sets `column` from the file's `value`; `None` when it does not fit.
    fn set_column(&mut self, column: usize, value: u64) -> Option<()> {
        let small = u32::try_from(if column == 7 { value >> 1 } else { value }).ok();
        match column {
            0 => self.id = small?,
            1 => self.name_en = small?,
            2 => self.name_ar = small?,
            3 => self.currency = small?,
            4 => self.url = small?,
            5 => self.image_url = small?,
            6 => self.price_minor = value,
            _ => {
                self.category = small?;
                self.in_stock = value & 1 == 1;
            }
        }
        Some(())
    }

    fn strings(&self) -> [u32; 6] {
        [
            self.id,
            self.name_en,
            self.name_ar,
            self.currency,
            self.url,
            self.image_url,
        ]
    }
}

impl Model {
    /// Lays out `parts` as a model, after checking everything [`Model::decode`]
    /// checks: ids unique and sorted, currencies, indices, lists no longer than K.
    /// Repeated strings are stored once.
    pub fn new(parts: &Parts<'_>) -> Result<Model, ModelError> {
        let mut table: Vec<&str> = parts.categories.clone();
        for product in &parts.products {
            table.extend([
                product.id,
                product.name_en,
                product.name_ar,
                product.currency,
                product.url,
                product.image_url,
            ]);
        }
        table.sort_unstable();
        table.dedup();
        let text_len: usize = table.iter().map(|s| s.len()).sum();
        if text_len > MAX_TEXT {
            return Err(ModelError::TooLarge(Section::Strings));
        }
        // Every string was put in the table above, so the search always finds it.
        let at = |s: &str| table.binary_search(&s).unwrap_or_else(|slot| slot) as u32;

        let mut model = Model {
            created_at_ms: parts.created_at_ms,
            k: parts.k,
            text: String::with_capacity(text_len),
            categories: parts.categories.iter().map(|name| at(name)).collect(),
            ..Model::default()
        };
        for s in &table {
            model.text.push_str(s);
            model.ends.push(model.text.len() as u32);
        }
        model.rows = parts
            .products
            .iter()
            .map(|p| Row {
                id: at(p.id),
                name_en: at(p.name_en),
                name_ar: at(p.name_ar),
                currency: at(p.currency),
                url: at(p.url),
                image_url: at(p.image_url),
                price_minor: p.price_minor,
                category: p.category,
                in_stock: p.in_stock,
            })
            .collect();

        let products = parts.products.len();
        if u32::try_from(products).is_err() {
            return Err(ModelError::TooLarge(Section::Products));
        }
        if u32::try_from(parts.categories.len()).is_err() {
            return Err(ModelError::TooLarge(Section::Categories));
        }
        if parts.neighbours.len() > products {
            return Err(ModelError::OutOfRange(Section::Neighbours));
        }
        for i in 0..products {
            let list = parts.neighbours.get(i).map_or(&[][..], Vec::as_slice);
            model.neighbours.extend_from_slice(list);
            model
                .neighbour_ends
                .push(end(&model.neighbours, Section::Neighbours)?);
        }
        if parts.popular.len() > parts.categories.len() {
            return Err(ModelError::OutOfRange(Section::Popular));
        }
        for i in 0..parts.categories.len() {
            let list = parts.popular.get(i).map_or(&[][..], Vec::as_slice);
            model.popular.extend_from_slice(list);
            model
                .popular_ends
                .push(end(&model.popular, Section::Popular)?);
        }
        model.trending.clone_from(&parts.trending);
        model.check()?;
        if model.encoded_len_bound() > u64::from(u32::MAX) {
            return Err(ModelError::TooLarge(Section::Payload));
        }
        Ok(model)
    }

    /// The model as [`Parts`], borrowing its strings.
    pub fn parts(&self) -> Parts<'_> {
        Parts {
            created_at_ms: self.created_at_ms,
            k: self.k,
            categories: self.categories.iter().map(|&i| self.string(i)).collect(),
            products: self.products().collect(),
            neighbours: (0..self.rows.len() as u32)
                .map(|i| self.neighbours(i).to_vec())
                .collect(),
            popular: (0..self.categories.len() as u32)
                .map(|i| self.popular(i).to_vec())
                .collect(),
            trending: self.trending.clone(),
        }
    }

    /// When the model was built, in ms since the Unix epoch.
    pub fn created_at_ms(&self) -> u64 {
        self.created_at_ms
    }

    /// The most neighbours a product has.
    pub fn k(&self) -> u16 {
        self.k
    }

    /// How many products the catalogue holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The product at `index`, if there is one.
    pub fn product(&self, index: u32) -> Option<Product<'_>> {
        self.rows.get(index as usize).map(|row| self.view(row))
    }

    /// The category index and stock of the product at `index`, without looking up
    /// its strings: what the scorer checks for every candidate.
    pub fn category_and_stock(&self, index: u32) -> Option<(u32, bool)> {
        self.rows
            .get(index as usize)
            .map(|row| (row.category, row.in_stock))
    }

    /// Every product, in id order.
    pub fn products(&self) -> impl ExactSizeIterator<Item = Product<'_>> + '_ {
        self.rows.iter().map(|row| self.view(row))
    }

    /// The index of the product whose id is `id`, by binary search.
    pub fn find(&self, id: &str) -> Option<u32> {
        self.rows
            .binary_search_by(|row| self.string(row.id).cmp(id))
            .ok()
            .map(|i| i as u32)
    }

    /// The neighbours of the product at `index`, in the writer's order (strongest
    /// first); none for an index past the catalogue.
    pub fn neighbours(&self, index: u32) -> &[Neighbour] {
        list(&self.neighbours, &self.neighbour_ends, index)
    }

    /// Every category's name, by index.
    pub fn categories(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.categories.iter().map(|&i| self.string(i))
    }

    /// The name of the category at `index`, if there is one.
    pub fn category(&self, index: u32) -> Option<&str> {
        self.categories.get(index as usize).map(|&i| self.string(i))
    }

    /// The index of the category called `name`.
    pub fn find_category(&self, name: &str) -> Option<u32> {
        self.categories()
            .position(|category| category == name)
            .map(|i| i as u32)
    }

    /// The most popular products of the category at `category`, most popular first;
    /// none for an index past the category table.
    pub fn popular(&self, category: u32) -> &[u32] {
        list(&self.popular, &self.popular_ends, category)
    }

    /// What is popular over the recent window, most popular first.
    pub fn trending(&self) -> &[u32] {
        &self.trending
    }

    fn view(&self, row: &Row) -> Product<'_> {
        Product {
            id: self.string(row.id),
            name_en: self.string(row.name_en),
            name_ar: self.string(row.name_ar),
            price_minor: row.price_minor,
            currency: self.string(row.currency),
            url: self.string(row.url),
            image_url: self.string(row.image_url),
            category: row.category,
            in_stock: row.in_stock,
        }
    }

    /// The string at `index` in the table; empty past its end.
    fn string(&self, index: u32) -> &str {
        span(&self.ends, index)
            .and_then(|(start, end)| self.text.get(start..end))
            .unwrap_or_default()
    }

    /// Checks what the tables mean, for a model built or decoded: every index in
    /// range, ids unique and sorted, currencies, lists no longer than K.
    fn check(&self) -> Result<(), ModelError> {
        let strings = self.ends.len();
        let products = self.rows.len();
        let within = |index: u32, len: usize| (index as usize) < len;
        if !self.categories.iter().all(|&i| within(i, strings)) {
            return Err(ModelError::OutOfRange(Section::Categories));
        }
        let mut previous: Option<&str> = None;
        for (i, row) in self.rows.iter().enumerate() {
            if !row.strings().iter().all(|&s| within(s, strings))
                || !within(row.category, self.categories.len())
            {
                return Err(ModelError::OutOfRange(Section::Products));
            }
            let product = i as u32;
            let id = self.string(row.id);
            if previous.is_some_and(|previous| previous >= id) {
                return Err(ModelError::OutOfOrder { product });
            }
            previous = Some(id);
            let currency = self.string(row.currency);
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(ModelError::BadCurrency { product });
            }
            if self.neighbours(product).len() > usize::from(self.k) {
                return Err(ModelError::TooLarge(Section::Neighbours));
            }
        }
        let all_within = |list: &[u32]| list.iter().all(|&i| within(i, products));
        if !self.neighbours.iter().all(|n| within(n.product, products)) {
            return Err(ModelError::OutOfRange(Section::Neighbours));
        }
        if !all_within(&self.popular) {
            return Err(ModelError::OutOfRange(Section::Popular));
        }
        if !all_within(&self.trending) {
            return Err(ModelError::OutOfRange(Section::Trending));
        }
        Ok(())
    }

    /// More than the encoded payload can take, so [`Model::new`] can refuse a model
    /// whose length would not fit the header's `u32`.
    fn encoded_len_bound(&self) -> u64 {
        let count = |n: usize| n as u64;
        count(self.text.len())
            + 20 * count(self.ends.len())
            + 5 * count(self.categories.len())
            + 50 * count(self.rows.len())
            + 5 * count(self.rows.len())
            + 7 * count(self.neighbours.len())
            + 5 * count(self.categories.len())
            + 5 * count(self.popular.len())
            + 5 * count(self.trending.len())
            + 64
    }

    /// The model file: header, then the payload laid out as the module's docs say.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            HEADER_LEN + self.text.len() + 7 * self.neighbours.len() + 16 * self.rows.len() + 64,
        );
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&[0; HEADER_LEN - 6]);

        varint(&mut out, self.created_at_ms);
        varint(&mut out, self.k.into());

        varint(&mut out, self.ends.len() as u64);
        let mut previous = "";
        for i in 0..self.ends.len() as u32 {
            let s = self.string(i);
            let shared = previous
                .bytes()
                .zip(s.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            let own = s.as_bytes().get(shared..).unwrap_or_default();
            varint(&mut out, shared as u64);
            varint(&mut out, own.len() as u64);
            out.extend_from_slice(own);
            previous = s;
        }

        varint(&mut out, self.categories.len() as u64);
        for &name in &self.categories {
            varint(&mut out, name.into());
        }

        varint(&mut out, self.rows.len() as u64);
        for column in 0..COLUMNS {
            for row in &self.rows {
                varint(&mut out, row.column(column));
            }
        }

        for i in 0..self.rows.len() as u32 {
            let list = self.neighbours(i);
            varint(&mut out, list.len() as u64);
            for neighbour in list {
                varint(&mut out, neighbour.product.into());
                out.push(neighbour.weight);
            }
        }

        for i in 0..self.categories.len() as u32 {
            indices(&mut out, self.popular(i));
        }
        indices(&mut out, &self.trending);

        let payload = out.get(HEADER_LEN..).unwrap_or_default();
        let length = (payload.len() as u32).to_le_bytes();
        let sum = checksum(payload).to_le_bytes();
        if let Some(header) = out.get_mut(6..HEADER_LEN) {
            let (length_field, sum_field) = header.split_at_mut(4);
            length_field.copy_from_slice(&length);
            sum_field.copy_from_slice(&sum);
        }
        out
    }

    /// Reads a model file. Refuses anything that is not one whole, undamaged file of
    /// [`VERSION`] whose tables agree with each other.
    pub fn decode(bytes: &[u8]) -> Result<Model, ModelError> {
        let head = bytes.get(..MAGIC.len()).unwrap_or(bytes);
        if !MAGIC.starts_with(head) {
            return Err(ModelError::WrongMagic);
        }
        let mut header = Reader {
            bytes,
            section: Section::Header,
        };
        header.array::<4>()?;
        let version = u16::from_le_bytes(header.array()?);
        if version != VERSION {
            return Err(ModelError::UnsupportedVersion {
                found: version,
                reads: VERSION,
            });
        }
        let length = u32::from_le_bytes(header.array()?) as usize;
        let sum = u64::from_le_bytes(header.array()?);
        let payload = header.bytes;
        if payload.len() < length {
            return Err(ModelError::Truncated(Section::Payload));
        }
        if payload.len() > length {
            return Err(ModelError::TrailingBytes);
        }
        if checksum(payload) != sum {
            return Err(ModelError::ChecksumMismatch);
        }
        let model = Model::parse(payload)?;
        model.check()?;
        Ok(model)
    }

    /// Reads the payload's tables; [`Model::check`] then checks what they mean.
    fn parse(payload: &[u8]) -> Result<Model, ModelError> {
        let mut r = Reader {
            bytes: payload,
            section: Section::Summary,
        };
        let mut model = Model {
            created_at_ms: r.varint()?,
            k: u16::try_from(r.varint()?).map_err(|_| ModelError::TooLarge(Section::Summary))?,
            ..Model::default()
        };

        r.section = Section::Strings;
        let count = r.count(2)?;
        model.ends.reserve_exact(count);
        let mut text: Vec<u8> = Vec::new();
        let mut start = 0;
        for _ in 0..count {
            let shared = r.length()?;
            let own = r.length()?;
            if shared > text.len() - start {
                return Err(ModelError::OutOfRange(Section::Strings));
            }
            let own = r.take(own)?;
            if text.len().saturating_add(shared).saturating_add(own.len()) > MAX_TEXT {
                return Err(ModelError::TooLarge(Section::Strings));
            }
            let next = text.len();
            // In range: `start` is a length `text` had, and `shared` was checked above.
            text.extend_from_within(start..start + shared);
            text.extend_from_slice(own);
            start = next;
            model.ends.push(text.len() as u32);
        }
        model.text = String::from_utf8(text).map_err(|_| ModelError::BadUtf8)?;
        // Each string must be whole characters too, not just the text as a whole.
        if !model
            .ends
            .iter()
            .all(|&end| model.text.is_char_boundary(end as usize))
        {
            return Err(ModelError::BadUtf8);
        }

        r.section = Section::Categories;
        let count = r.count(1)?;
        model.categories.reserve_exact(count);
        for _ in 0..count {
            model.categories.push(r.small()?);
        }

        r.section = Section::Products;
        let count = r.count(COLUMNS)?;
        model.rows = vec![Row::default(); count];
        for column in 0..COLUMNS {
            for row in &mut model.rows {
                let value = r.varint()?;
                row.set_column(column, value)
                    .ok_or(ModelError::TooLarge(Section::Products))?;
            }
        }

        r.section = Section::Neighbours;
        model.neighbour_ends.reserve_exact(count);
        for _ in 0..count {
            // Each neighbour takes at least a byte of index and one of weight.
            let len = r.count(2)?;
            model.neighbours.reserve(len);
            for _ in 0..len {
                let product = r.small()?;
                let [weight] = r.array()?;
                model.neighbours.push(Neighbour { product, weight });
            }
            model
                .neighbour_ends
                .push(end(&model.neighbours, Section::Neighbours)?);
        }

        r.section = Section::Popular;
        model.popular_ends.reserve_exact(model.categories.len());
        for _ in 0..model.categories.len() {
            r.indices(&mut model.popular)?;
            model
                .popular_ends
                .push(end(&model.popular, Section::Popular)?);
        }

        r.section = Section::Trending;
        r.indices(&mut model.trending)?;

        if !r.bytes.is_empty() {
            return Err(ModelError::TrailingBytes);
        }
        Ok(model)
    }
}

/// FNV-1a 64 of `bytes`: the file's checksum. The server can use it as the model's
/// `ETag`.
pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The file's bytes still to read, and the section they belong to, for errors.
struct Reader<'a> {
    bytes: &'a [u8],
    section: Section,
}

impl<'a> Reader<'a> {
    fn truncated(&self) -> ModelError {
        ModelError::Truncated(self.section)
    }

    fn too_large(&self) -> ModelError {
        ModelError::TooLarge(self.section)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let (head, rest) = self.bytes.split_at_checked(n).ok_or(self.truncated())?;
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let (head, rest) = self
            .bytes
            .split_first_chunk::<N>()
            .ok_or(self.truncated())?;
        self.bytes = rest;
        Ok(*head)
    }

    fn varint(&mut self) -> Result<u64, ModelError> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let [byte] = self.array()?;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may only carry the 64th bit.
            if shift > 63 || (shift == 63 && bits > 1) {
                return Err(self.too_large());
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    /// A varint that must fit a `u32`: an index or a count.
    fn small(&mut self) -> Result<u32, ModelError> {
        u32::try_from(self.varint()?).map_err(|_| self.too_large())
    }

    /// A length in bytes.
    fn length(&mut self) -> Result<usize, ModelError> {
        Ok(self.small()? as usize)
    }

    /// A count of items that take at least `min_bytes` each, checked against the
    /// bytes left before anyone allocates for it.
    fn count(&mut self, min_bytes: usize) -> Result<usize, ModelError> {
        let count = self.length()?;
        if count > self.bytes.len() / min_bytes {
            return Err(self.truncated());
        }
        Ok(count)
    }

    /// A counted list of product indices, appended to `out`.
    fn indices(&mut self, out: &mut Vec<u32>) -> Result<(), ModelError> {
        let count = self.count(1)?;
        out.reserve(count);
        for _ in 0..count {
            out.push(self.small()?);
        }
        Ok(())
    }
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn indices(out: &mut Vec<u8>, list: &[u32]) {
    varint(out, list.len() as u64);
    for &i in list {
        varint(out, i.into());
    }
}

/// The length of a flat table so far, as the end of the list just added.
fn end<T>(items: &[T], section: Section) -> Result<u32, ModelError> {
    u32::try_from(items.len()).map_err(|_| ModelError::TooLarge(section))
}

/// Where item `index` starts and ends, given where each item ends.
fn span(ends: &[u32], index: u32) -> Option<(usize, usize)> {
    let index = index as usize;
    let start = match index.checked_sub(1) {
        Some(before) => *ends.get(before)?,
        None => 0,
    };
    Some((start as usize, *ends.get(index)? as usize))
}

/// List `index` of a flat table; empty past its end.
fn list<'a, T>(items: &'a [T], ends: &[u32], index: u32) -> &'a [T] {
    span(ends, index)
        .and_then(|(start, end)| items.get(start..end))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shop's catalogue as the server holds it, owned, for building [`Parts`].
    #[derive(Debug, Clone, Default)]
    struct Shop {
        created_at_ms: u64,
        k: u16,
        categories: Vec<String>,
        products: Vec<Item>,
        neighbours: Vec<Vec<Neighbour>>,
        popular: Vec<Vec<u32>>,
        trending: Vec<u32>,
    }

    #[derive(Debug, Clone)]
    struct Item {
        id: String,
        name_en: String,
        name_ar: String,
        price_minor: u64,
        currency: String,
        url: String,
        image_url: String,
        category: u32,
        in_stock: bool,
    }

    impl Shop {
        fn parts(&self) -> Parts<'_> {
            Parts {
                created_at_ms: self.created_at_ms,
                k: self.k,
                categories: self.categories.iter().map(String::as_str).collect(),
                products: self
                    .products
                    .iter()
                    .map(|item| Product {
                        id: &item.id,
                        name_en: &item.name_en,
                        name_ar: &item.name_ar,
                        price_minor: item.price_minor,
                        currency: &item.currency,
                        url: &item.url,
                        image_url: &item.image_url,
                        category: item.category,
                        in_stock: item.in_stock,
                    })
                    .collect(),
                neighbours: self.neighbours.clone(),
                popular: self.popular.clone(),
                trending: self.trending.clone(),
            }
        }

        fn model(&self) -> Model {
            Model::new(&self.parts()).expect("a valid shop")
        }
    }

    /// A small deterministic random source (xorshift64*), so the shop is the same
    /// on every run.
    struct Dice(u64);

    impl Dice {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
        }
    }

    const CATEGORIES: [(&str, &str); 12] = [
        ("Coffee", "قهوة"),
        ("Tea", "شاي"),
        ("Mugs", "أكواب"),
        ("Teapots", "أباريق"),
        ("Dates", "تمور"),
        ("Spices", "بهارات"),
        ("Incense", "بخور"),
        ("Lanterns", "فوانيس"),
        ("Rugs", "سجاد"),
        ("Cushions", "وسائد"),
        ("Perfume", "عطور"),
        ("Sweets", "حلويات"),
    ];
    const STYLES: [(&str, &str); 6] = [
        ("Royal", "ملكي"),
        ("Classic", "كلاسيكي"),
        ("Desert", "صحراوي"),
        ("Golden", "ذهبي"),
        ("Handmade", "مصنوع يدويًا"),
        ("Organic", "عضوي"),
    ];

    /// A realistic shop: `n` products in 12 categories, priced in AED and SAR,
    /// every tenth without an Arabic name, each with `k` neighbours mostly from its
    /// own category, a top-50 per category and a top-30 trending.
    fn shop(n: usize, k: u16) -> Shop {
        let mut dice = Dice(0x5eed_50c4_2026);
        let mut products: Vec<Item> = (0..n)
            .map(|i| {
                let category = dice.below(CATEGORIES.len());
                let (style_en, style_ar) = STYLES[dice.below(STYLES.len())];
                let (kind_en, kind_ar) = CATEGORIES[category];
                let slug = format!("{}-{}-{i}", style_en, kind_en).to_lowercase();
                Item {
                    id: format!("SKU-{:05}", dice.below(90_000) * 10 + i % 10),
                    name_en: format!("{style_en} {kind_en} No. {i}"),
                    name_ar: if i % 10 == 9 {
                        String::new()
                    } else {
                        format!("{kind_ar} {style_ar} رقم {i}")
                    },
                    price_minor: 500 + 250 * dice.below(200) as u64,
                    currency: if i % 7 == 0 { "SAR" } else { "AED" }.to_owned(),
                    url: format!("https://souk.example/products/{slug}"),
                    image_url: format!("https://cdn.souk.example/images/{slug}-800.jpg"),
                    category: category as u32,
                    in_stock: dice.below(8) != 0,
                }
            })
            .collect();
        products.sort_by(|a, b| a.id.cmp(&b.id));
        products.dedup_by(|a, b| a.id == b.id);
        let n = products.len();

        let neighbours = (0..n)
            .map(|i| {
                let mut list: Vec<Neighbour> = Vec::new();
                let mut tries = 0;
                while list.len() < usize::from(k).min(n - 1) && tries < 10 * n {
                    tries += 1;
                    let other = dice.below(n);
                    let same = products[other].category == products[i].category;
                    if other == i
                        || list.iter().any(|n| n.product as usize == other)
                        || (!same && dice.below(5) != 0)
                    {
                        continue;
                    }
                    let similarity = 0.9 - 0.04 * list.len() as f32;
                    list.push(Neighbour::new(other as u32, similarity));
                }
                list
            })
            .collect();
        let popular = (0..CATEGORIES.len() as u32)
            .map(|c| {
                let mut members: Vec<u32> = (0..n as u32)
                    .filter(|&i| products[i as usize].category == c)
                    .collect();
                members.sort_by_key(|&i| (i * 7919) % 101);
                members.truncate(50);
                members
            })
            .collect();
        let trending = (0..30.min(n)).map(|_| dice.below(n) as u32).collect();
        Shop {
            created_at_ms: 1_780_000_000_000,
            k,
            categories: CATEGORIES.iter().map(|(en, _)| en.to_string()).collect(),
            products,
            neighbours,
            popular,
            trending,
        }
    }

    #[test]
    fn a_realistic_shop_round_trips_with_its_arabic_names() {
        let shop = shop(300, 20);
        let model = shop.model();
        let bytes = model.encode();
        let decoded = Model::decode(&bytes).unwrap();
        assert_eq!(decoded, model);
        assert_eq!(
            decoded.parts(),
            shop.parts(),
            "the device reads what the server wrote"
        );
        assert_eq!(decoded.len(), shop.products.len());
        assert_eq!(decoded.k(), 20);
        assert_eq!(decoded.created_at_ms(), 1_780_000_000_000);

        let item = &shop.products[42];
        let index = decoded.find(&item.id).unwrap();
        assert_eq!(index, 42);
        let product = decoded.product(index).unwrap();
        assert_eq!(product.name(Lang::Ar), item.name_ar);
        assert!(product.name_ar.contains("رقم"));
        assert_eq!(product.name(Lang::En), item.name_en);
        assert_eq!(product.price_minor, item.price_minor);
        assert_eq!(product.currency, item.currency);
        assert_eq!(product.image_url, item.image_url);
        assert_eq!(
            decoded.category(product.category),
            Some(shop.categories[item.category as usize].as_str())
        );
        assert_eq!(decoded.neighbours(index), &shop.neighbours[42][..]);
        assert_eq!(decoded.neighbours(index).len(), 20);
        assert_eq!(decoded.popular(1), &shop.popular[1][..]);
        assert_eq!(decoded.trending(), &shop.trending[..]);
        assert_eq!(decoded.find_category("Tea"), Some(1));
    }

    #[test]
    fn lookups_answer_nothing_for_what_is_not_there() {
        let model = shop(40, 5).model();
        assert_eq!(model.find("SKU-missing"), None);
        assert_eq!(model.find(""), None);
        assert_eq!(model.product(40), None);
        assert!(model.neighbours(40).is_empty());
        assert!(model.neighbours(u32::MAX).is_empty());
        assert!(model.popular(12).is_empty());
        assert_eq!(model.category(12), None);
        assert_eq!(model.find_category("Shoes"), None);

        let empty = Model::default();
        assert!(empty.is_empty());
        assert_eq!(Model::decode(&empty.encode()), Ok(empty));
    }

    #[test]
    fn every_product_is_found_by_its_id() {
        let model = shop(300, 3).model();
        for (i, product) in model.products().enumerate() {
            assert_eq!(model.find(product.id), Some(i as u32), "{}", product.id);
        }
    }

    #[test]
    fn a_missing_arabic_name_falls_back_to_english() {
        let shop = shop(20, 0);
        let item = &shop.products.iter().find(|p| p.name_ar.is_empty()).unwrap();
        let model = shop.model();
        let product = model.product(model.find(&item.id).unwrap()).unwrap();
        assert_eq!(product.name(Lang::Ar), item.name_en);
    }

    #[test]
    fn weights_keep_weak_similarities_apart() {
        assert_eq!(Neighbour::new(0, 1.0).weight, 255);
        assert_eq!(Neighbour::new(0, 0.0).weight, 0);
        assert_eq!(Neighbour::new(0, 0.25).weight, 128);
        assert_eq!(Neighbour::new(0, 0.010).weight, 26);
        assert_eq!(Neighbour::new(0, 0.012).weight, 28);
        assert_eq!(Neighbour::new(0, 2.0).weight, 255, "clamped");
        assert_eq!(Neighbour::new(0, -1.0).weight, 0, "clamped");
        assert_eq!(Neighbour::new(0, f32::NAN).weight, 0);
        for similarity in [0.001, 0.0123, 0.1, 0.25, 0.5, 0.9999] {
            let back = Neighbour::new(7, similarity).similarity();
            // Half a step on the square-root scale, carried back to similarity.
            let half_step = 0.5 / 255.0;
            let bound = half_step * (2.0 * similarity.sqrt() + half_step);
            assert!((back - similarity).abs() <= bound + 1e-6, "{similarity}");
        }
        let weights: Vec<u8> = (0..=100)
            .map(|i| Neighbour::new(0, i as f32 / 100.0).weight)
            .collect();
        assert!(weights.windows(2).all(|w| w[0] < w[1]), "{weights:?}");
    }

    #[test]
    fn a_string_shared_by_many_products_costs_its_length_once() {
        let mut short = shop(200, 2);
        let mut long = short.clone();
        for item in &mut short.products {
            item.image_url = "x".into();
        }
        let placeholder = format!("https://cdn.souk.example/{}.png", "p".repeat(200));
        for item in &mut long.products {
            item.image_url.clone_from(&placeholder);
        }
        let grown = long.model().encode().len() - short.model().encode().len();
        assert!(grown < placeholder.len() + 16, "grew by {grown}");
    }

    #[test]
    fn a_64_product_shop_fits_in_10_kb() {
        // 7.7 KB when this was written: 4.2 KB of strings, 2.6 KB of neighbours.
        let bytes = shop(64, 20).model().encode();
        assert!(bytes.len() < 10 * 1024, "{} bytes", bytes.len());
    }

    #[test]
    fn new_refuses_what_decode_would_refuse() {
        let base = shop(10, 3);
        let refused = |change: &dyn Fn(&mut Shop)| {
            let mut shop = base.clone();
            change(&mut shop);
            Model::new(&shop.parts()).unwrap_err()
        };
        assert_eq!(
            refused(&|s| s.products.swap(3, 4)),
            ModelError::OutOfOrder { product: 4 }
        );
        assert_eq!(
            refused(&|s| s.products[5].id = s.products[4].id.clone()),
            ModelError::OutOfOrder { product: 5 }
        );
        for currency in ["aed", "AE", "DIRHAM", "", "A1D"] {
            assert_eq!(
                refused(&|s| s.products[2].currency = currency.into()),
                ModelError::BadCurrency { product: 2 },
                "{currency}"
            );
        }
        assert_eq!(
            refused(&|s| s.products[0].category = 12),
            ModelError::OutOfRange(Section::Products)
        );
        assert_eq!(
            refused(&|s| s.neighbours[1][0].product = 10),
            ModelError::OutOfRange(Section::Neighbours)
        );
        assert_eq!(
            refused(&|s| s.neighbours.push(Vec::new())),
            ModelError::OutOfRange(Section::Neighbours)
        );
        assert_eq!(
            refused(&|s| s.k = 2),
            ModelError::TooLarge(Section::Neighbours)
        );
        assert_eq!(
            refused(&|s| s.popular[0].push(10)),
            ModelError::OutOfRange(Section::Popular)
        );
        assert_eq!(
            refused(&|s| s.popular.push(Vec::new())),
            ModelError::OutOfRange(Section::Popular)
        );
        assert_eq!(
            refused(&|s| s.trending.push(99)),
            ModelError::OutOfRange(Section::Trending)
        );
        // Fewer lists than products or categories is fine: the rest have none.
        let mut sparse = base.clone();
        sparse.neighbours.truncate(2);
        sparse.popular.clear();
        let model = sparse.model();
        assert!(model.neighbours(5).is_empty() && model.popular(0).is_empty());
    }

    /// A model file written by hand, field by field, so a test can break one thing.
    /// Strings are written as (shared prefix, own bytes).
    #[derive(Clone)]
    struct Spec {
        created_at_ms: u64,
        k: u64,
        strings: Vec<(u64, Vec<u8>)>,
        categories: Vec<u64>,
        products: Vec<[u64; COLUMNS]>,
        neighbours: Vec<Vec<(u64, u8)>>,
        popular: Vec<Vec<u64>>,
        trending: Vec<u64>,
        tail: Vec<u8>,
    }

    impl Spec {
        /// Two teas in one category, each the other's neighbour.
        fn teas() -> Spec {
            let strings = [
                "AED",
                "Tea",
                "mint-tea",
                "Mint tea",
                "شاي بالنعناع",
                "/p/mint-tea",
                "/i/mint-tea.jpg",
                "sage-tea",
                "Sage tea",
                "شاي بالمريمية",
                "/p/sage-tea",
                "/i/sage-tea.jpg",
            ];
            Spec {
                created_at_ms: 1_780_000_000_000,
                k: 20,
                // Each image url shares its leading "/" with the page url before it.
                strings: strings
                    .iter()
                    .map(|s| match s.strip_prefix("/i") {
                        Some(rest) => (1, format!("i{rest}").into_bytes()),
                        None => (0, s.as_bytes().to_vec()),
                    })
                    .collect(),
                categories: vec![1],
                products: vec![[2, 3, 4, 0, 5, 6, 1200, 1], [7, 8, 9, 0, 10, 11, 1500, 0]],
                neighbours: vec![vec![(1, 200)], vec![(0, 200)]],
                popular: vec![vec![1, 0]],
                trending: vec![0],
                tail: Vec::new(),
            }
        }

        fn payload(&self) -> Vec<u8> {
            let mut out = Vec::new();
            varint(&mut out, self.created_at_ms);
            varint(&mut out, self.k);
            varint(&mut out, self.strings.len() as u64);
            for (shared, own) in &self.strings {
                varint(&mut out, *shared);
                varint(&mut out, own.len() as u64);
                out.extend_from_slice(own);
            }
            varint(&mut out, self.categories.len() as u64);
            self.categories.iter().for_each(|&c| varint(&mut out, c));
            varint(&mut out, self.products.len() as u64);
            for column in 0..COLUMNS {
                self.products
                    .iter()
                    .for_each(|p| varint(&mut out, p[column]));
            }
            for list in &self.neighbours {
                varint(&mut out, list.len() as u64);
                for &(product, weight) in list {
                    varint(&mut out, product);
                    out.push(weight);
                }
            }
            for list in self.popular.iter().chain([&self.trending]) {
                varint(&mut out, list.len() as u64);
                list.iter().for_each(|&i| varint(&mut out, i));
            }
            out.extend_from_slice(&self.tail);
            out
        }

        fn file(&self) -> Vec<u8> {
            seal(&self.payload())
        }

        fn decode(&self) -> Result<Model, ModelError> {
            Model::decode(&self.file())
        }
    }

    /// `payload` behind a header with the right length and checksum.
    fn seal(payload: &[u8]) -> Vec<u8> {
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&VERSION.to_le_bytes());
        file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        file.extend_from_slice(&checksum(payload).to_le_bytes());
        file.extend_from_slice(payload);
        file
    }

    fn broken(change: impl FnOnce(&mut Spec)) -> ModelError {
        let mut spec = Spec::teas();
        change(&mut spec);
        spec.decode().unwrap_err()
    }

    #[test]
    fn a_hand_written_file_reads_as_written() {
        let model = Spec::teas().decode().unwrap();
        let mint = model.product(model.find("mint-tea").unwrap()).unwrap();
        assert_eq!(mint.name(Lang::Ar), "شاي بالنعناع");
        assert_eq!((mint.price_minor, mint.currency), (1200, "AED"));
        assert_eq!(mint.url, "/p/mint-tea");
        assert_eq!(mint.image_url, "/i/mint-tea.jpg");
        assert!(mint.in_stock);
        assert!(!model.product(1).unwrap().in_stock);
        assert_eq!(
            model.neighbours(0),
            &[Neighbour {
                product: 1,
                weight: 200
            }]
        );
        assert_eq!(model.popular(0), &[1, 0]);
        assert_eq!(model.trending(), &[0]);
        assert_eq!(model.encode(), Spec::teas().file(), "one layout, both ways");
    }

    #[test]
    fn something_else_is_refused_by_its_magic() {
        for bytes in [
            &b"<!doctype html><html><body>Not found</body></html>"[..],
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01",
            b"{\"products\":[]}",
            b"SKRX\x01\0",
            b"X",
        ] {
            assert_eq!(Model::decode(bytes), Err(ModelError::WrongMagic));
        }
    }

    #[test]
    fn another_version_is_refused_by_number() {
        let mut file = Spec::teas().file();
        file[4] = 2;
        let error = Model::decode(&file).unwrap_err();
        assert_eq!(error, ModelError::UnsupportedVersion { found: 2, reads: 1 });
        let message = error.to_string();
        assert!(message.contains("version 2") && message.contains("reads version 1"));
        // A later version may change everything after its version number.
        assert!(matches!(
            Model::decode(b"SKRM\x07\x00"),
            Err(ModelError::UnsupportedVersion { found: 7, .. })
        ));
    }

    #[test]
    fn a_cut_or_padded_file_is_refused() {
        let file = Spec::teas().file();
        assert_eq!(
            Model::decode(&[]),
            Err(ModelError::Truncated(Section::Header))
        );
        assert_eq!(
            Model::decode(&file[..HEADER_LEN - 1]),
            Err(ModelError::Truncated(Section::Header))
        );
        let error = Model::decode(&file[..file.len() - 1]).unwrap_err();
        assert_eq!(error, ModelError::Truncated(Section::Payload));
        assert!(error.to_string().contains("ends inside its payload"));
        let mut padded = file.clone();
        padded.push(0);
        assert_eq!(Model::decode(&padded), Err(ModelError::TrailingBytes));
        assert_eq!(
            broken(|s| s.tail.push(0)),
            ModelError::TrailingBytes,
            "bytes after the trending list, under a valid checksum"
        );
    }

    #[test]
    fn a_damaged_file_fails_its_checksum() {
        let mut file = Spec::teas().file();
        let last = file.len() - 1;
        file[last] ^= 0x01;
        let error = Model::decode(&file).unwrap_err();
        assert_eq!(error, ModelError::ChecksumMismatch);
        assert!(error.to_string().contains("fetch it again"));
    }

    #[test]
    fn a_tiny_file_claiming_billions_of_products_fails_without_allocating_them() {
        // 18 header bytes and 9 payload bytes. Allocating for the claim would take
        // 160 GB and abort the test run.
        let payload = [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f];
        let file = seal(&payload);
        assert_eq!(file.len(), 27);
        assert_eq!(
            Model::decode(&file),
            Err(ModelError::Truncated(Section::Products))
        );
        let strings = [0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f];
        assert_eq!(
            Model::decode(&seal(&strings)),
            Err(ModelError::Truncated(Section::Strings))
        );
    }

    #[test]
    fn a_file_that_ends_inside_a_section_says_which() {
        let mut spec = Spec::teas();
        let payload = spec.payload();
        let cut_at = |len: usize| Model::decode(&seal(&payload[..len])).unwrap_err();
        assert_eq!(cut_at(0), ModelError::Truncated(Section::Summary));
        assert_eq!(cut_at(12), ModelError::Truncated(Section::Strings));
        assert_eq!(
            cut_at(payload.len() - 1),
            ModelError::Truncated(Section::Trending)
        );
        spec.trending.clear();
        spec.popular[0].clear();
        let payload = spec.payload();
        // Cut inside the neighbour lists: the last list loses its weight.
        let neighbours_end = payload.len() - 2;
        assert_eq!(
            Model::decode(&seal(&payload[..neighbours_end - 1])).unwrap_err(),
            ModelError::Truncated(Section::Neighbours)
        );
    }

    #[test]
    fn an_index_past_its_table_is_refused_by_section() {
        let out_of_range = |section| ModelError::OutOfRange(section);
        assert_eq!(
            broken(|s| s.strings[0].0 = 1),
            out_of_range(Section::Strings),
            "the first string has nothing before it to share"
        );
        assert_eq!(
            broken(|s| s.categories[0] = 12),
            out_of_range(Section::Categories)
        );
        assert_eq!(
            broken(|s| s.products[1][4] = 12),
            out_of_range(Section::Products)
        );
        assert_eq!(
            broken(|s| s.products[1][7] = 2),
            out_of_range(Section::Products)
        );
        assert_eq!(
            broken(|s| s.neighbours[0][0].0 = 2),
            out_of_range(Section::Neighbours)
        );
        assert_eq!(
            broken(|s| s.popular[0][1] = 2),
            out_of_range(Section::Popular)
        );
        assert_eq!(
            broken(|s| s.trending[0] = 2),
            out_of_range(Section::Trending)
        );
    }

    #[test]
    fn text_that_is_not_utf8_is_refused() {
        assert_eq!(
            broken(|s| s.strings[4].1 = vec![0xd8, 0x20]),
            ModelError::BadUtf8
        );
        // "ع" split across two strings: the whole text is valid, each half is not.
        assert_eq!(
            broken(|s| {
                s.strings[3].1 = vec![0xd8];
                s.strings[4].1 = vec![0xb9];
            }),
            ModelError::BadUtf8
        );
    }

    #[test]
    fn numbers_past_the_formats_limits_are_refused() {
        assert_eq!(
            broken(|s| s.k = 70_000),
            ModelError::TooLarge(Section::Summary)
        );
        let mut eleven_bytes = vec![0xff; 10];
        eleven_bytes.push(0x01);
        assert_eq!(
            Model::decode(&seal(&eleven_bytes)),
            Err(ModelError::TooLarge(Section::Summary))
        );
        assert_eq!(
            broken(|s| s.products[0][3] = 1 << 32),
            ModelError::TooLarge(Section::Products)
        );
        assert_eq!(
            broken(|s| s.products[0][7] = 1 << 33),
            ModelError::TooLarge(Section::Products)
        );
        assert_eq!(
            broken(|s| s.k = 0),
            ModelError::TooLarge(Section::Neighbours),
            "a neighbour list longer than K"
        );
    }

    #[test]
    fn a_string_table_that_expands_past_its_cap_is_refused_quickly() {
        // 4 KiB, then 5,000 strings that each repeat it for 3 bytes: a 19 KB file
        // that would expand to 20 MB.
        let mut bomb = Spec::teas();
        bomb.strings = vec![(0, vec![b'a'; 4096])];
        bomb.strings.extend((0..5000).map(|_| (4096, Vec::new())));
        assert!(bomb.file().len() < 20_000);
        assert_eq!(bomb.decode(), Err(ModelError::TooLarge(Section::Strings)));
    }

    #[test]
    fn ids_out_of_order_and_bad_currencies_are_refused_by_product() {
        assert_eq!(
            broken(|s| s.products.swap(0, 1)),
            ModelError::OutOfOrder { product: 1 }
        );
        assert_eq!(
            broken(|s| s.products[1][0] = 2),
            ModelError::OutOfOrder { product: 1 },
            "the same id twice"
        );
        let error = broken(|s| s.products[1][3] = 1);
        assert_eq!(error, ModelError::BadCurrency { product: 1 });
        assert!(error.to_string().contains("ISO 4217"));
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::collection::{btree_set, vec};
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof!["\\PC{0,12}", "[a-z/:.-]{0,24}", "[ء-ي ]{0,10}"]
        }

        /// Any valid shop: a few categories, up to 24 products with arbitrary text,
        /// prices and lists.
        fn any_shop() -> impl Strategy<Value = Shop> {
            let sizes = (vec(text(), 1..5), btree_set(text(), 0..24), 0u16..6);
            (sizes, any::<u64>()).prop_flat_map(|((categories, ids, k), created_at_ms)| {
                let n = ids.len();
                let most = |len: usize| if n == 0 { 0 } else { len };
                let index = 0..n.max(1) as u32;
                let product = (
                    text(),
                    text(),
                    any::<u64>(),
                    "[A-Z]{3}",
                    text(),
                    text(),
                    0..categories.len() as u32,
                    any::<bool>(),
                );
                let neighbour = (index.clone(), any::<u8>())
                    .prop_map(|(product, weight)| Neighbour { product, weight });
                (
                    vec(product, n),
                    vec(vec(neighbour, 0..=most(k.into())), n),
                    vec(vec(index.clone(), 0..=most(8)), categories.len()),
                    vec(index, 0..=most(8)),
                )
                    .prop_map(move |(products, neighbours, popular, trending)| {
                        Shop {
                            created_at_ms,
                            k,
                            categories: categories.clone(),
                            products: ids
                                .iter()
                                .zip(products)
                                .map(|(id, p)| Item {
                                    id: id.clone(),
                                    name_en: p.0,
                                    name_ar: p.1,
                                    price_minor: p.2,
                                    currency: p.3,
                                    url: p.4,
                                    image_url: p.5,
                                    category: p.6,
                                    in_stock: p.7,
                                })
                                .collect(),
                            neighbours,
                            popular,
                            trending,
                        }
                    })
            })
        }

        /// Whatever decoding gives, it is a typed answer; a model it accepts
        /// survives being written again.
        fn decodes_soundly(bytes: &[u8]) -> Result<(), TestCaseError> {
            if let Ok(model) = Model::decode(bytes) {
                let again = model.encode();
                prop_assert!(again.len() <= bytes.len());
                prop_assert_eq!(Model::decode(&again), Ok(model));
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]

            #[test]
            fn any_model_round_trips(shop in any_shop()) {
                let model = Model::new(&shop.parts()).unwrap();
                let decoded = Model::decode(&model.encode()).unwrap();
                prop_assert_eq!(decoded.parts(), shop.parts());
                prop_assert_eq!(decoded, model);
            }

            #[test]
            fn a_cut_file_is_always_refused(shop in any_shop(), cut in any::<prop::sample::Index>()) {
                let file = Model::new(&shop.parts()).unwrap().encode();
                let len = cut.index(file.len());
                let expected = if len < HEADER_LEN { Section::Header } else { Section::Payload };
                prop_assert_eq!(Model::decode(&file[..len]), Err(ModelError::Truncated(expected)));
            }

            #[test]
            fn a_flipped_bit_is_always_caught(shop in any_shop(), at in any::<prop::sample::Index>(), bit in 0..8u8) {
                let mut file = Model::new(&shop.parts()).unwrap().encode();
                let at = at.index(file.len());
                file[at] ^= 1 << bit;
                prop_assert!(Model::decode(&file).is_err());
            }

            #[test]
            fn a_damaged_payload_under_a_good_checksum_never_panics(
                shop in any_shop(),
                flips in vec((any::<prop::sample::Index>(), 0..8u8), 1..4),
                cut in any::<prop::sample::Index>(),
            ) {
                let file = Model::new(&shop.parts()).unwrap().encode();
                let mut payload = file[HEADER_LEN..].to_vec();
                for (at, bit) in flips {
                    let at = at.index(payload.len());
                    payload[at] ^= 1 << bit;
                }
                decodes_soundly(&seal(&payload))?;
                let len = cut.index(payload.len() + 1);
                decodes_soundly(&seal(&payload[..len]))?;
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
                decodes_soundly(&bytes)?;
            }

            #[test]
            fn an_arbitrary_payload_under_a_good_checksum_never_panics(
                payload in vec(any::<u8>(), 0..256),
            ) {
                decodes_soundly(&seal(&payload))?;
            }

            #[test]
            fn arbitrary_small_numbers_under_a_good_checksum_never_panic(
                numbers in vec(0u64..6, 0..64),
            ) {
                // Mostly tiny varints, so counts and indices often agree and the
                // parser gets deep into the file.
                let mut payload = Vec::new();
                numbers.iter().for_each(|&n| varint(&mut payload, n));
                decodes_soundly(&seal(&payload))?;
            }
        }
    }
}
