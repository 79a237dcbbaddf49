//! A synthetic recommendation model for `bench/recommend.mjs`: a shop of `--products`
//! products in ~100 categories, with names in English and Arabic, each product's
//! top-K neighbours, popular lists and a trending list, written in the model file's
//! format (`Model::encode`). Beside it, a shopper's profile (`Profile::encode`, fed
//! through `Profile::observe`) and the queries the bench asks.
//!
//! ```sh
//! cargo run --release -p souk-recommend --example synthetic_model -- \
//!     --products 50000 --out target/bench/model-50000.bin [--k 20] [--seed 1]
//! ```
//!
//! writes `FILE` (the model), `FILE.profile.txt` (the profile's stored form) and
//! `FILE.queries.json` (`{products, now_ms, similar: [id], carts: [[id, id, id]]}`).
//! The same arguments always give the same bytes: the randomness is a seeded
//! xorshift, and the created-at time is fixed.
//!
//! The shape, so that sizes and scoring costs are like a real shop's:
//!
//! - Popularity is a power law: product `i` of the popularity order (a seeded
//!   shuffle of the catalogue) weighs `1 / (i + 1)`. Categories differ in size
//!   (weight `1 / (c + 1)^0.7`).
//! - The number of neighbours falls from K for the most popular products towards 1
//!   in the long tail (`K × (1 − q)^0.5` at popularity quantile `q`): rarely bought
//!   products co-occur with few others.
//! - A neighbour is drawn with a bias towards popular products: 75 % from the same
//!   category, 15 % from the same department, 10 % from anywhere; similarities fall
//!   along the list (`s0 / (j + 1)^0.6`, `s0` in [0.15, 0.75]).
//! - Popular lists: each category's 50 most popular; trending: 50 drawn from the
//!   300 most popular (`server/src/model.rs` keeps 50 of each).
//! - 4 % of products are out of stock.

use std::fmt::Write as _;
use std::path::PathBuf;

use souk::core::event::{Properties, Value};
use souk::core::model::{Model, Neighbour, Parts, Product};
use souk::core::profile::Profile;

/// The bench's "now": 2026-05-01 12:00 UTC. Fixed, so the output is deterministic.
const NOW_MS: u64 = 1_777_636_800_000;
const DAY_MS: u64 = 86_400_000;
const POPULAR_LEN: usize = 50;
const TRENDING_LEN: usize = 50;

/// Departments, each with ten product types: (English, Arabic).
const DEPARTMENTS: [(&str, [(&str, &str); 10]); 10] = [
    (
        "kitchen",
        [
            ("Coffee Mug", "كوب قهوة"),
            ("Teapot", "إبريق شاي"),
            ("Frying Pan", "مقلاة"),
            ("Cooking Pot", "قدر طبخ"),
            ("Knife Set", "طقم سكاكين"),
            ("Cutting Board", "لوح تقطيع"),
            ("Water Bottle", "زجاجة ماء"),
            ("Serving Plate", "طبق تقديم"),
            ("Coffee Grinder", "مطحنة قهوة"),
            ("Dallah", "دلة"),
        ],
    ),
    (
        "home",
        [
            ("Cushion", "وسادة"),
            ("Rug", "سجادة"),
            ("Table Lamp", "مصباح طاولة"),
            ("Wall Clock", "ساعة حائط"),
            ("Vase", "مزهرية"),
            ("Curtain", "ستارة"),
            ("Bed Sheet Set", "طقم شراشف"),
            ("Towel", "منشفة"),
            ("Incense Burner", "مبخرة"),
            ("Mirror", "مرآة"),
        ],
    ),
    (
        "fashion",
        [
            ("Abaya", "عباية"),
            ("Kandura", "كندورة"),
            ("Scarf", "وشاح"),
            ("Handbag", "حقيبة يد"),
            ("Sandals", "صندل"),
            ("Sneakers", "حذاء رياضي"),
            ("Shirt", "قميص"),
            ("Dress", "فستان"),
            ("Wallet", "محفظة"),
            ("Watch", "ساعة يد"),
        ],
    ),
    (
        "beauty",
        [
            ("Perfume", "عطر"),
            ("Oud Oil", "دهن عود"),
            ("Face Cream", "كريم للوجه"),
            ("Shampoo", "شامبو"),
            ("Lipstick", "أحمر شفاه"),
            ("Hair Oil", "زيت شعر"),
            ("Soap", "صابون"),
            ("Body Lotion", "لوشن للجسم"),
            ("Kohl", "كحل"),
            ("Sunscreen", "واقي شمس"),
        ],
    ),
    (
        "electronics",
        [
            ("Headphones", "سماعات رأس"),
            ("Phone Case", "غطاء هاتف"),
            ("Charger", "شاحن"),
            ("Power Bank", "شاحن متنقل"),
            ("Speaker", "مكبر صوت"),
            ("Smart Watch", "ساعة ذكية"),
            ("Keyboard", "لوحة مفاتيح"),
            ("Mouse", "فأرة"),
            ("USB Cable", "كابل يو إس بي"),
            ("Tablet Stand", "حامل جهاز لوحي"),
        ],
    ),
    (
        "sports",
        [
            ("Yoga Mat", "سجادة يوغا"),
            ("Dumbbell", "دمبل"),
            ("Football", "كرة قدم"),
            ("Running Shorts", "شورت جري"),
            ("Sports Bottle", "زجاجة رياضية"),
            ("Jump Rope", "حبل قفز"),
            ("Tennis Racket", "مضرب تنس"),
            ("Gym Bag", "حقيبة رياضة"),
            ("Cycling Helmet", "خوذة دراجة"),
            ("Swim Goggles", "نظارة سباحة"),
        ],
    ),
    (
        "kids",
        [
            ("Building Blocks", "مكعبات بناء"),
            ("Plush Toy", "دمية محشوة"),
            ("Puzzle", "أحجية"),
            ("School Bag", "حقيبة مدرسية"),
            ("Colouring Book", "كتاب تلوين"),
            ("Toy Car", "سيارة لعبة"),
            ("Baby Blanket", "بطانية أطفال"),
            ("Lunch Box", "علبة غداء"),
            ("Board Game", "لعبة لوحية"),
            ("Kids Pyjamas", "بيجامة أطفال"),
        ],
    ),
    (
        "grocery",
        [
            ("Arabic Coffee", "قهوة عربية"),
            ("Dates", "تمر"),
            ("Saffron", "زعفران"),
            ("Green Tea", "شاي أخضر"),
            ("Honey", "عسل"),
            ("Olive Oil", "زيت زيتون"),
            ("Basmati Rice", "أرز بسمتي"),
            ("Spice Mix", "خلطة بهارات"),
            ("Mixed Nuts", "مكسرات"),
            ("Chocolate", "شوكولاتة"),
        ],
    ),
    (
        "garden",
        [
            ("Plant Pot", "أصيص نبات"),
            ("Garden Hose", "خرطوم حديقة"),
            ("Outdoor Chair", "كرسي خارجي"),
            ("Lantern", "فانوس"),
            ("Seeds", "بذور"),
            ("Watering Can", "مرشة ماء"),
            ("Garden Gloves", "قفازات حديقة"),
            ("Barbecue Grill", "شواية"),
            ("Parasol", "مظلة"),
            ("Solar Light", "ضوء شمسي"),
        ],
    ),
    (
        "office",
        [
            ("Notebook", "دفتر"),
            ("Pen Set", "طقم أقلام"),
            ("Desk Organizer", "منظم مكتب"),
            ("Backpack", "حقيبة ظهر"),
            ("Desk Lamp", "مصباح مكتب"),
            ("Stapler", "دباسة"),
            ("Calendar", "تقويم"),
            ("Laptop Sleeve", "حافظة حاسوب"),
            ("File Folder", "ملف"),
            ("Whiteboard", "سبورة بيضاء"),
        ],
    ),
];

const BRANDS: [(&str, &str); 12] = [
    ("Dana", "دانة"),
    ("Rimal", "رمال"),
    ("Noor", "نور"),
    ("Marjan", "مرجان"),
    ("Sadu", "سدو"),
    ("Qamar", "قمر"),
    ("Wadi", "وادي"),
    ("Jumana", "جمانة"),
    ("Tala", "تالا"),
    ("Bayt", "بيت"),
    ("Falak", "فلك"),
    ("Zaha", "زها"),
];
const STYLES: [(&str, &str); 8] = [
    ("Classic", "كلاسيكي"),
    ("Deluxe", "فاخر"),
    ("Essential", "أساسي"),
    ("Travel", "للسفر"),
    ("Family", "عائلي"),
    ("Mini", "ميني"),
    ("Pro", "برو"),
    ("Heritage", "تراثي"),
];
const COLOURS: [(&str, &str); 10] = [
    ("Black", "أسود"),
    ("White", "أبيض"),
    ("Blue", "أزرق"),
    ("Red", "أحمر"),
    ("Green", "أخضر"),
    ("Beige", "بيج"),
    ("Gold", "ذهبي"),
    ("Grey", "رمادي"),
    ("Brown", "بني"),
    ("Pink", "وردي"),
];

/// xorshift64*: small, seeded, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
    /// An index into a list ordered most popular first, biased towards its head:
    /// `P(index < x · n) = x^(1/3)`.
    fn skewed(&mut self, n: usize) -> usize {
        ((n as f64 * self.unit().powi(3)) as usize).min(n.saturating_sub(1))
    }
    /// An index drawn with probability proportional to `weights` (cumulative).
    fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let x = self.unit() * total;
        cumulative
            .partition_point(|&c| c <= x)
            .min(cumulative.len() - 1)
    }
}

struct Args {
    products: usize,
    k: u16,
    seed: u64,
    out: PathBuf,
}

fn args() -> Args {
    let mut args = Args {
        products: 10_000,
        k: 20,
        seed: 1,
        out: PathBuf::from("target/bench/model.bin"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--products" => {
                args.products = value
                    .parse()
                    .unwrap_or_else(|_| usage("--products: a number"))
            }
            "--k" => args.k = value.parse().unwrap_or_else(|_| usage("--k: a number")),
            "--seed" => args.seed = value.parse().unwrap_or_else(|_| usage("--seed: a number")),
            "--out" => args.out = PathBuf::from(value),
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    if args.products == 0 {
        usage("--products must be at least 1");
    }
    args
}

fn usage(problem: &str) -> ! {
    eprintln!("synthetic_model: {problem}\nusage: synthetic_model --products N --out FILE [--k 20] [--seed 1]");
    std::process::exit(2);
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

fn main() {
    let args = args();
    let n = args.products;
    let k = usize::from(args.k);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ args.seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);

    // Categories: department × type, named like a shop's slugs.
    let mut categories: Vec<String> = Vec::new();
    let mut types: Vec<(usize, &str, &str)> = Vec::new(); // department, en, ar
    for (d, (department, list)) in DEPARTMENTS.iter().enumerate() {
        for &(en, ar) in list {
            categories.push(format!("{department}/{}", slug(en)));
            types.push((d, en, ar));
        }
    }
    let c_count = categories.len();
    let mut cumulative = Vec::with_capacity(c_count);
    let mut sum = 0.0;
    for c in 0..c_count {
        sum += 1.0 / ((c + 1) as f64).powf(0.7);
        cumulative.push(sum);
    }
    // Category sizes differ, but which categories are big is shuffled.
    let mut category_order: Vec<usize> = (0..c_count).collect();
    for i in (1..c_count).rev() {
        category_order.swap(i, rng.below(i + 1));
    }

    // The catalogue, in id order.
    let mut ids = Vec::with_capacity(n);
    let mut names_en = Vec::with_capacity(n);
    let mut names_ar = Vec::with_capacity(n);
    let mut urls = Vec::with_capacity(n);
    let mut images = Vec::with_capacity(n);
    let mut category_of = Vec::with_capacity(n);
    let mut prices = Vec::with_capacity(n);
    let mut in_stock = Vec::with_capacity(n);
    for i in 0..n {
        let category = category_order[rng.weighted(&cumulative)];
        let (department, type_en, type_ar) = types[category];
        let (brand_en, brand_ar) = BRANDS[rng.below(BRANDS.len())];
        let (style_en, style_ar) = STYLES[rng.below(STYLES.len())];
        let (colour_en, colour_ar) = COLOURS[rng.below(COLOURS.len())];
        let model_no = 100 + rng.below(900);
        let id = format!("SK{:06}", 100_000 + i * 7);
        let name_en = format!("{brand_en} {style_en} {type_en} {model_no}, {colour_en}");
        let name_ar = format!("{type_ar} {style_ar} {colour_ar} {model_no} من {brand_ar}");
        urls.push(format!(
            "https://shop.example.ae/products/{}-{}",
            slug(&name_en),
            id.to_ascii_lowercase()
        ));
        images.push(format!(
            "https://cdn.shop.example.ae/img/{}/{}.webp",
            DEPARTMENTS[department].0,
            id.to_ascii_lowercase()
        ));
        // Prices: a department's base, times a log-uniform spread, in fils.
        let base = [
            3_500.0, 9_000.0, 15_000.0, 8_000.0, 12_000.0, 7_000.0, 6_000.0, 2_500.0, 8_000.0,
            2_000.0,
        ][department];
        let price = (base * (4.0f64).powf(rng.unit() * 2.0 - 1.0) / 100.0)
            .round()
            .max(1.0) as u64
            * 100
            - 1;
        ids.push(id);
        names_en.push(name_en);
        names_ar.push(name_ar);
        category_of.push(category as u32);
        prices.push(price);
        in_stock.push(rng.unit() >= 0.04);
    }

    // Popularity: a shuffle of the catalogue, most popular first.
    let mut by_popularity: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        by_popularity.swap(i, rng.below(i + 1));
    }
    let mut rank = vec![0usize; n];
    for (r, &p) in by_popularity.iter().enumerate() {
        rank[p as usize] = r;
    }
    // Each category's and department's products, most popular first.
    let mut in_category: Vec<Vec<u32>> = vec![Vec::new(); c_count];
    let mut in_department: Vec<Vec<u32>> = vec![Vec::new(); DEPARTMENTS.len()];
    for &p in &by_popularity {
        let c = category_of[p as usize] as usize;
        in_category[c].push(p);
        in_department[types[c].0].push(p);
    }

    // Neighbours: fewer in the long tail, drawn towards popular products.
    let mut neighbours: Vec<Vec<Neighbour>> = Vec::with_capacity(n);
    for p in 0..n {
        let q = rank[p] as f64 / n as f64;
        let m = ((k as f64 * (1.0 - q).sqrt()).round() as usize)
            .clamp(1, k)
            .min(n - 1);
        let c = category_of[p] as usize;
        let s0 = 0.15 + 0.6 * rng.unit();
        let mut list: Vec<u32> = Vec::with_capacity(m);
        let mut tries = 0;
        while list.len() < m && tries < 20 * m {
            tries += 1;
            let roll = rng.unit();
            let pool: &[u32] = if roll < 0.75 {
                &in_category[c]
            } else if roll < 0.90 {
                &in_department[types[c].0]
            } else {
                &by_popularity
            };
            let candidate = pool[rng.skewed(pool.len())];
            if candidate as usize != p && !list.contains(&candidate) {
                list.push(candidate);
            }
        }
        neighbours.push(
            list.iter()
                .enumerate()
                .map(|(j, &nb)| Neighbour::new(nb, (s0 / ((j + 1) as f64).powf(0.6)) as f32))
                .collect(),
        );
    }

    let popular: Vec<Vec<u32>> = in_category
        .iter()
        .map(|list| list.iter().take(POPULAR_LEN).copied().collect())
        .collect();
    let head = &by_popularity[..n.min(300)];
    let mut trending: Vec<u32> = Vec::with_capacity(TRENDING_LEN);
    let mut tries = 0;
    while trending.len() < TRENDING_LEN.min(head.len()) && tries < 10_000 {
        tries += 1;
        let p = head[rng.skewed(head.len())];
        if !trending.contains(&p) {
            trending.push(p);
        }
    }

    let parts = Parts {
        created_at_ms: NOW_MS,
        k: args.k,
        categories: categories.iter().map(String::as_str).collect(),
        products: (0..n)
            .map(|i| Product {
                id: &ids[i],
                name_en: &names_en[i],
                name_ar: &names_ar[i],
                price_minor: prices[i],
                currency: "AED",
                url: &urls[i],
                image_url: &images[i],
                category: category_of[i],
                in_stock: in_stock[i],
            })
            .collect(),
        neighbours,
        popular,
        trending,
    };
    let model = Model::new(&parts).unwrap_or_else(|err| {
        eprintln!("synthetic_model: {err}");
        std::process::exit(1);
    });
    let bytes = model.encode();

    // A full profile: two weeks of a shopper who browses a few categories most.
    let mut profile = Profile::new();
    let favourites: Vec<usize> = (0..6).map(|_| rng.below(c_count)).collect();
    let pick = |rng: &mut Rng| -> u32 {
        let c = if rng.unit() < 0.8 {
            favourites[rng.below(favourites.len())]
        } else {
            rng.below(c_count)
        };
        let list = if in_category[c].is_empty() {
            &by_popularity
        } else {
            &in_category[c]
        };
        list[rng.skewed(list.len())]
    };
    let item = |p: u32| -> Properties {
        Properties::from([
            ("product_id", Value::Text(ids[p as usize].clone())),
            (
                "category",
                Value::Text(categories[category_of[p as usize] as usize].clone()),
            ),
            ("price", Value::Number(prices[p as usize] as f64 / 100.0)),
        ])
    };
    let start = NOW_MS - 14 * DAY_MS;
    let events = 160;
    for e in 0..events {
        let at = start + (14 * DAY_MS) * e / events;
        let p = pick(&mut rng);
        let roll = rng.unit();
        if roll < 0.75 {
            profile.observe("Product Viewed", &item(p), at);
        } else if roll < 0.92 {
            profile.observe("Product Added", &item(p), at);
        } else {
            let basket: Vec<Value> = (0..3)
                .map(|_| Value::Object(item(pick(&mut rng))))
                .collect();
            profile.observe(
                "Order Completed",
                &Properties::from([("products", Value::List(basket))]),
                at,
            );
        }
    }
    let profile_text = profile.encode();

    // The queries: product pages drawn as shoppers visit them (popular ones more),
    // and carts of three.
    let visit = |rng: &mut Rng| ids[by_popularity[rng.skewed(n)] as usize].clone();
    let similar: Vec<String> = (0..500).map(|_| visit(&mut rng)).collect();
    let carts: Vec<Vec<String>> = (0..500)
        .map(|_| (0..3).map(|_| visit(&mut rng)).collect())
        .collect();
    let quote = |s: &str| format!("\"{s}\"");
    let mut queries = String::new();
    let _ = writeln!(
        queries,
        "{{\"products\":{n},\"k\":{k},\"categories\":{c_count},\"now_ms\":{NOW_MS},\"neighbours\":{},\"similar\":[{}],\"carts\":[{}]}}",
        model.parts().neighbours.iter().map(Vec::len).sum::<usize>(),
        similar.iter().map(|s| quote(s)).collect::<Vec<_>>().join(","),
        carts
            .iter()
            .map(|c| format!("[{}]", c.iter().map(|s| quote(s)).collect::<Vec<_>>().join(",")))
            .collect::<Vec<_>>()
            .join(","),
    );

    let write = |path: PathBuf, data: &[u8]| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&path, data).unwrap_or_else(|err| {
            eprintln!("synthetic_model: writing {}: {err}", path.display());
            std::process::exit(1);
        });
    };
    let sidecar = |suffix: &str| {
        let mut name = args.out.clone().into_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    write(args.out.clone(), &bytes);
    write(sidecar(".profile.txt"), profile_text.as_bytes());
    write(sidecar(".queries.json"), queries.as_bytes());
    eprintln!(
        "synthetic_model: {n} products, {c_count} categories, K={k}: {} bytes → {}; profile {} bytes ({} viewed, {} carted, {} bought, {} affinities)",
        bytes.len(),
        args.out.display(),
        profile_text.len(),
        profile.viewed().len(),
        profile.carted().len(),
        profile.bought().len(),
        profile.affinities().len(),
    );
}
