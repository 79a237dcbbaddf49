//! Automatic answers from the shop's FAQ: souk-server runs [`Faq::best`] on each
//! shopper message, sends the answer at once (as a `bot` message) when one entry
//! matches confidently, and otherwise leaves the message to a person. A wrong
//! automatic answer costs more than a short wait for an agent, so it is tuned for
//! precision.
//!
//! # Matching
//!
//! 1. [`normalize`] folds the spellings a shopper may type: case, Arabic diacritics
//!    and tatweel, alef, ta marbuta, alef maqsura and hamza forms, Arabic-Indic
//!    digits, punctuation.
//! 2. [`stem`] drops stop words (politeness and "I want" included), strips common
//!    affixes (English plurals, `-ing`, `-ed`; Arabic `ال` with its attached
//!    prepositions, one pronoun and one ending), and folds shop synonyms into one
//!    word (`voucher` → `coupon`, `سعر` → `تكلفة`, `محل` → `فرع`). Question words
//!    (`where`, `متى`) are kept: "where is my order" and "when will my order
//!    arrive" are different entries.
//! 3. A message word the FAQ lacks may still be found: an Arabic word without a
//!    one-letter prefix (`بلون` → `لون`) or a present-tense one (`ادفع` → `دفع`),
//!    or, from five letters, the only FAQ word one typo away (`delivary`).
//! 4. Each entry holds the words of its questions in both languages (weight 0.8
//!    in one question, 1 in two or more) and of its answers ([`ANSWER_WEIGHT`]).
//!    A message's words weigh their IDF over the entries, so a word every entry
//!    has (`order`, `طلب`) counts little, and a word the FAQ never uses counts as
//!    much as the rarest. An entry's score is the share of the message's weight it
//!    holds, from 0 to 1 ([`Faq::ranked`]).
//! 5. The best entry answers if its score reaches [`THRESHOLD`] and beats the
//!    runner-up by [`MARGIN`]; otherwise a person does.
//!
//! The answer is in the message's language ([`detect`]), whichever language's
//! words matched.
//!
//! # Quality
//!
//! On the demo shop's FAQ (`www/shop/faq.json`) and the shopper messages in
//! `tests/data/faq` (test `faq_quality`): precision 1.00 and recall 0.74 on the 160
//! messages the constants were tuned on, and precision 0.98 and recall 0.73 on 84
//! messages written afterwards and never tuned on.

//! # The file
//!
//! ```json
//! {"entries": [{"id": "shipping-time",
//!   "questions": {"en": ["How long does delivery take?"], "ar": ["كم تستغرق مدة التوصيل؟"]},
//!   "answer": {"en": "…", "ar": "…"}}]}
//! ```
//!
//! Every entry needs a unique `id`, at least one question, and an answer in both
//! languages.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::i18n::Lang;
use super::json::{self, Json, JsonError};

/// Lowest score that answers automatically: the share of the message's weight the
/// entry holds. A word in one of its questions beside an unknown word scores 0.4,
/// so it does not answer alone.
pub const THRESHOLD: f32 = 0.45;
/// How far the best entry's score must be above the runner-up's.
pub const MARGIN: f32 = 0.15;
/// How much a word found only in an entry's answer counts, against 1 for a word of
/// its questions.
pub const ANSWER_WEIGHT: f32 = 0.4;
/// How much a word of an entry's questions counts: in one question, in two or more.
pub const QUESTION_WEIGHTS: [f32; 2] = [0.8, 1.0];
/// How much a word counts when found through a typo or a stripped prefix.
pub const FUZZY_WEIGHT: f32 = 0.8;

/// Why a FAQ file was refused. The message names the entry and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaqError {
    /// Not JSON.
    #[error("FAQ: {0}")]
    Json(#[from] JsonError),
    /// Not an object with an `entries` list.
    #[error("FAQ: expected an object with an `entries` list")]
    NoEntries,
    /// A field of an entry is missing or wrong.
    #[error("FAQ entry {entry}: `{field}` {problem}")]
    Field {
        /// The entry's id in quotes, or `#n` (from 1) when it has none.
        entry: String,
        /// The field, such as `questions.ar`.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Two entries share an id.
    #[error("FAQ: two entries have the id \"{0}\"; ids must be unique")]
    DuplicateId(String),
}

/// An entry that matched a message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match<'a> {
    /// The entry's id.
    pub id: &'a str,
    /// The message's language ([`detect`]), and so the answer's.
    pub lang: Lang,
    /// The entry's answer in that language.
    pub answer: &'a str,
    /// How well it matched, from 0 to 1.
    pub score: f32,
}

/// The shop's FAQ, ready to match messages.
#[derive(Debug, Clone)]
pub struct Faq {
    entries: Vec<Entry>,
    /// Stem → (term index, whether it is only an alias): each term's stem, and the
    /// stems of its word without an Arabic prefix (`بمقاس` → `مقاس`).
    terms: HashMap<String, (usize, bool)>,
    /// Each term's inverse document frequency over the entries.
    idf: Vec<f32>,
}

#[derive(Debug, Clone)]
struct Entry {
    id: String,
    answer_en: String,
    answer_ar: String,
    /// The entry's terms, by index: 1 for a word of its questions,
    /// [`ANSWER_WEIGHT`] for a word only its answer has.
    terms: Vec<(usize, f32)>,
}

/// One entry as read, before its words become terms.
struct Raw {
    id: String,
    answer_en: String,
    answer_ar: String,
    /// The words of each question.
    questions: Vec<Vec<Word>>,
    /// The words of its answers.
    answers: Vec<Word>,
}

impl Faq {
    /// Reads a FAQ file (see the module's docs for the format).
    pub fn from_json(text: &str) -> Result<Faq, FaqError> {
        let root = json::parse(text)?;
        let Some(Json::List(items)) = root.get("entries") else {
            return Err(FaqError::NoEntries);
        };
        let mut raw: Vec<Raw> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let id = item.get("id").and_then(Json::as_str).unwrap_or_default();
            let entry = if id.is_empty() {
                format!("#{}", i + 1)
            } else {
                format!("\"{id}\"")
            };
            let fail = |field, problem| FaqError::Field {
                entry: entry.clone(),
                field,
                problem,
            };
            if id.is_empty() {
                return Err(fail("id", "must be a non-empty string"));
            }
            if raw.iter().any(|known| known.id == id) {
                return Err(FaqError::DuplicateId(id.to_owned()));
            }
            let Some(questions @ Json::Object(_)) = item.get("questions") else {
                return Err(fail(
                    "questions",
                    "must be an object with `en` and `ar` lists",
                ));
            };
            let mut found: Vec<Vec<Word>> = Vec::new();
            for (lang, field) in [("en", "questions.en"), ("ar", "questions.ar")] {
                let list = match questions.get(lang) {
                    None => continue,
                    Some(Json::List(list)) => list,
                    Some(_) => return Err(fail(field, "must be a list of strings")),
                };
                for question in list {
                    let text = question
                        .as_str()
                        .ok_or_else(|| fail(field, "must be a list of strings"))?;
                    let words = words(text);
                    if words.is_empty() {
                        return Err(fail(
                            field,
                            "has a question with no words to match (only stop words or punctuation)",
                        ));
                    }
                    found.push(words);
                }
            }
            if found.is_empty() {
                return Err(fail(
                    "questions",
                    "must hold at least one question, in `en` or `ar`",
                ));
            }
            let answer = |lang, field| match item.get("answer").and_then(|a| a.get(lang)) {
                Some(Json::Text(text)) if !text.trim().is_empty() => Ok(text.clone()),
                _ => Err(fail(field, "must be a non-empty string")),
            };
            let (answer_en, answer_ar) = (answer("en", "answer.en")?, answer("ar", "answer.ar")?);
            let mut answers = words(&answer_en);
            answers.extend(words(&answer_ar));
            raw.push(Raw {
                id: id.to_owned(),
                answer_en,
                answer_ar,
                questions: found,
                answers,
            });
        }
        Ok(Faq::build(raw))
    }

    fn build(raw: Vec<Raw>) -> Faq {
        let mut terms: HashMap<String, (usize, bool)> = HashMap::new();
        let mut df: Vec<usize> = Vec::new();
        let mut entries = Vec::with_capacity(raw.len());
        let mut aliases = Vec::new();
        for entry in raw {
            // (term, weight): questions add QUESTION_WEIGHTS step by step, once
            // each; the answer gives ANSWER_WEIGHT to a term no question has.
            let mut held: Vec<(usize, f32)> = Vec::new();
            let questions = entry.questions.into_iter().enumerate();
            let all = questions.flat_map(|(i, q)| q.into_iter().map(move |w| (Some(i), w)));
            let mut seen: Vec<(usize, usize)> = Vec::new();
            for (question, word) in all.chain(entry.answers.into_iter().map(|w| (None, w))) {
                let next = terms.len();
                let (term, _) = *terms
                    .entry(word.stem)
                    .and_modify(|(_, alias)| *alias = false)
                    .or_insert((next, false));
                if term == df.len() {
                    df.push(0);
                }
                let at = match held.iter().position(|(t, _)| *t == term) {
                    Some(at) => at,
                    None => {
                        df[term] += 1;
                        held.push((term, 0.0));
                        held.len() - 1
                    }
                };
                let weight = &mut held[at].1;
                match question {
                    Some(q) if !seen.contains(&(q, term)) => {
                        seen.push((q, term));
                        let step = QUESTION_WEIGHTS.iter().find(|&&w| w > *weight);
                        *weight = weight.max(*step.unwrap_or(&1.0));
                    }
                    Some(_) => {}
                    None => *weight = weight.max(ANSWER_WEIGHT),
                }
                aliases.extend(word.aliases.into_iter().map(|alias| (alias, term)));
            }
            held.sort_unstable_by_key(|(t, _)| *t);
            entries.push(Entry {
                id: entry.id,
                answer_en: entry.answer_en,
                answer_ar: entry.answer_ar,
                terms: held,
            });
        }
        for (alias, term) in aliases {
            terms.entry(alias).or_insert((term, true));
        }
        let n = entries.len() as f32;
        let idf = df.iter().map(|&d| (1.0 + n / d as f32).ln()).collect();
        Faq {
            entries,
            terms,
            idf,
        }
    }

    /// How many entries it has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has no entries (and so never answers).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry that shares a word with `message`, best first (ties in the
    /// file's order), for an agent's suggestions.
    ///
    /// The score is the share of the message's words, each weighted by its IDF,
    /// that the entry has (a word only its answer has counts [`ANSWER_WEIGHT`]).
    /// A word the FAQ never uses weighs as much as the rarest, so a message mostly
    /// about something else scores low; a question word (`where`, `متى`) the FAQ
    /// never uses is left out.
    pub fn ranked(&self, message: &str) -> Vec<Match<'_>> {
        let lang = detect(message);
        let unknown = (1.0 + self.entries.len() as f32).ln();
        let mut query: Vec<(Option<usize>, f32)> = Vec::new();
        for word in words(message) {
            match self.term(&word) {
                Some((term, _)) if query.iter().any(|(t, _)| *t == Some(term)) => {}
                Some((term, weight)) => query.push((Some(term), self.idf[term] * weight)),
                None if word.weak => {}
                None => query.push((None, unknown)),
            }
        }
        let total: f32 = query.iter().map(|(_, w)| w).sum();
        let mut matches: Vec<Match<'_>> = self
            .entries
            .iter()
            .filter_map(|entry| {
                let covered: f32 = query
                    .iter()
                    .filter_map(|&(term, weight)| {
                        let at = entry.terms.binary_search_by_key(&term?, |(t, _)| *t).ok()?;
                        Some(weight * entry.terms[at].1)
                    })
                    .sum();
                (covered > 0.0).then(|| Match {
                    id: &entry.id,
                    lang,
                    answer: match lang {
                        Lang::En => &entry.answer_en,
                        Lang::Ar => &entry.answer_ar,
                    },
                    score: covered / total,
                })
            })
            .collect();
        matches.sort_by(|a, b| b.score.total_cmp(&a.score));
        matches
    }

    /// The entry that answers `message`, if one matches confidently: its score
    /// reaches [`THRESHOLD`] and beats the runner-up's by [`MARGIN`].
    pub fn best(&self, message: &str) -> Option<Match<'_>> {
        let ranked = self.ranked(message);
        let best = *ranked.first()?;
        let runner_up = ranked.get(1).map_or(0.0, |m| m.score);
        (best.score >= THRESHOLD && best.score - runner_up >= MARGIN).then_some(best)
    }

    /// The FAQ's term for `word`, and how much it counts: its stem (1); else,
    /// counting [`FUZZY_WEIGHT`], a FAQ word without a prefix, the word without
    /// one, or the only term one typo away (for stems of 5 letters or more).
    fn term(&self, word: &Word) -> Option<(usize, f32)> {
        match self.terms.get(&word.stem) {
            Some(&(term, false)) => return Some((term, 1.0)),
            Some(&(term, true)) => return Some((term, FUZZY_WEIGHT)),
            None => {}
        }
        if let Some(&(term, _)) = word.aliases.iter().find_map(|a| self.terms.get(a)) {
            return Some((term, FUZZY_WEIGHT));
        }
        if word.stem.chars().count() < 5 {
            return None;
        }
        let mut found = None;
        for (known, &(term, _)) in &self.terms {
            if one_typo(&word.stem, known) {
                if found.is_some_and(|other| other != term) {
                    return None;
                }
                found = Some(term);
            }
        }
        found.map(|term| (term, FUZZY_WEIGHT))
    }
}

/// Whether `a` and `b` differ by exactly one edit: a letter changed, added,
/// removed, or two neighbours swapped.
fn one_typo(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 || a == b {
        return false;
    }
    let start = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    if short.len() == long.len() {
        let rest = |skip: usize| short[start + skip..] == long[start + skip..];
        rest(1)
            || (start + 1 < short.len()
                && short[start] == long[start + 1]
                && short[start + 1] == long[start]
                && rest(2))
    } else {
        short[start..] == long[start + 1..]
    }
}

/// The message's language, from its script: Arabic if it has more Arabic letters
/// than Latin ones, English otherwise.
pub fn detect(text: &str) -> Lang {
    let (mut arabic, mut latin) = (0usize, 0usize);
    for c in text.chars() {
        if is_arabic(c) {
            arabic += 1;
        } else if c.is_alphabetic() {
            latin += 1;
        }
    }
    if arabic > latin {
        Lang::Ar
    } else {
        Lang::En
    }
}

fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

/// Folds the ways one word may be typed into one spelling:
///
/// - letters lowercased;
/// - Arabic diacritics (harakat and tanween U+064B–U+065F, superscript alef U+0670,
///   Quranic marks) and tatweel (U+0640) removed;
/// - alef forms أ إ آ ٱ → ا; ta marbuta ة → ه; alef maqsura ى → ي; hamza on a
///   seat ؤ → و, ئ → ي; Persian keheh and yeh ک ی → ك ي;
/// - Arabic-Indic (٠–٩) and Eastern Arabic-Indic (۰–۹) digits → 0–9;
/// - apostrophes and invisible formatting marks removed (`what's` → `whats`);
/// - anything else that is not a letter or digit (punctuation, including ، ؛ ؟,
///   and symbols) → a space; runs of spaces → one, none at the ends.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{0610}'..='\u{061A}'
            | '\u{06D6}'..='\u{06ED}'
            | '\u{0640}'
            | '\''
            | '’'
            | '‘'
            | '`'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}' => continue,
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ة' => 'ه',
            'ى' | 'ئ' | 'ی' => 'ي',
            'ؤ' => 'و',
            'ک' => 'ك',
            '٠'..='٩' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '۰'..='۹' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            c if c.is_alphanumeric() => c,
            _ => {
                space = !out.is_empty();
                continue;
            }
        };
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// One word of a text, as matching sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    /// Its stem ([`stem`]).
    stem: String,
    /// For an Arabic word, the stems it has without a one-letter preposition or
    /// conjunction (و ف ب ل ك) and without a present-tense prefix (ا ي ت ن), tried
    /// when the stem is not in the FAQ (`بيوصل` → `يوصل`, `وصل`).
    aliases: Vec<String>,
    /// A question word (`where`, `متى`): it tells entries apart when the FAQ uses
    /// it, and is ignored when it does not.
    weak: bool,
}

/// The words of `text` that matter for matching.
fn words(text: &str) -> Vec<Word> {
    normalize(text)
        .split(' ')
        .filter_map(|raw| {
            let stem = stem(raw).filter(|s| s.chars().count() > 1)?;
            let weak = WEAK.iter().any(|(_, w)| *w == stem);
            let mut aliases: Vec<String> = Vec::new();
            if !weak && raw.chars().any(is_arabic) {
                let long = |rest: &&str| rest.chars().count() >= 3;
                let unprefixed = PREPOSITIONS.iter().find_map(|p| raw.strip_prefix(p));
                for form in [Some(raw), unprefixed].into_iter().flatten() {
                    let unverbed = VERB_PREFIXES.iter().find_map(|p| form.strip_prefix(p));
                    for rest in [Some(form), unverbed].into_iter().flatten().filter(long) {
                        let alias = same(stem_arabic(rest));
                        if alias != stem && !aliases.contains(&alias) {
                            aliases.push(alias);
                        }
                    }
                }
            }
            Some(Word {
                stem,
                aliases,
                weak,
            })
        })
        .collect()
}

/// Arabic one-letter prefixes: and, so, with, for, as.
const PREPOSITIONS: [&str; 5] = ["و", "ف", "ب", "ل", "ك"];
/// Arabic present-tense prefixes: I, he, you or she, we.
const VERB_PREFIXES: [&str; 4] = ["ا", "ي", "ت", "ن"];

/// The stems of `text` that matter for matching: [`normalize`]d, split at spaces,
/// each through [`stem`], stop words and single letters dropped.
pub fn tokens(text: &str) -> Vec<String> {
    words(text).into_iter().map(|word| word.stem).collect()
}

/// The stem of one [`normalize`]d word, or `None` for a stop word.
///
/// Question words keep one spelling (`وين` → `اين`, `wheres` → `where`).
///
/// English: `-ies` → `-y`; `-es` after s, x, z, ch, sh, and a lone `-s` go; then
/// `-ied` → `-y`, or `-ing`/`-ed` go when two letters stay (with their `e` back:
/// `using` → `use`) or three (`e` back after consonant-vowel-consonant: `timing`
/// → `time`; a doubled last consonant undoubled: `shipping` → `ship`); then a
/// final `e` goes when four letters stay (`charge`, `charged` → `charg`) and a
/// final `y` after a consonant when five stay (`delivery`, `delivered` →
/// `deliver`).
///
/// Arabic: `ال`, with an attached `و ف ب ك` (`لل` for `ل`), goes when three letters
/// stay; `و` or `ف` before a stop word makes the whole word one; then one pronoun
/// (`ها هم كم هن نا ه ي ك`, with a ta marbuta written `ت` before it) and one
/// ending (`ات ون ين ان يه ا`) go, each when three letters stay. A lone `و`, `ف`,
/// `ب`, `ل` or `ك` stays (many words begin with one); matching tries the word
/// without it when the word is not in the FAQ.
pub fn stem(word: &str) -> Option<String> {
    plain_stem(word).map(same)
}

/// The first word of `stem`'s group in [`SAME`], or `stem` itself.
fn same(stem: String) -> String {
    synonyms().get(&stem).cloned().unwrap_or(stem)
}

/// Words shoppers use for the same thing, in English and Arabic (Gulf and MSA),
/// each group matched as its first word. Only words that mean the same in a shop's
/// chat: `شحن` and `توصيل` (delivery) are one, `رجع` (came back, or returned) is in
/// no group.
const SAME: &[&[&str]] = &[
    &["cost", "price", "fee", "charge", "rate"],
    &["delivery", "shipping", "ship"],
    &["shipment", "parcel"],
    &["coupon", "voucher", "promo", "promocode", "discount"],
    &["return", "exchange"],
    &["cancel", "cancellation"],
    &["change", "modify", "edit", "update", "amend", "alter"],
    &["store", "shop", "branch", "showroom", "outlet"],
    &["gift", "present"],
    &["stock", "restock"],
    &["available", "availability"],
    &["loyalty", "reward"],
    &["pay", "payment"],
    &["cash", "cod"],
    &["instalment", "installment", "tabby"],
    &["track", "trace"],
    &["address", "location"],
    &["colour", "color"],
    &["aed", "dirham"],
    &["تكلفة", "سعر", "اسعار", "رسوم", "كلفة", "قيمة"],
    &["توصيل", "شحن"],
    &["كود", "رمز", "كوبون", "قسيمة", "برومو", "بروموكود"],
    &["ارجاع", "استرجاع", "ترجيع"],
    &["مبلغ", "فلوس", "اموال", "مال"],
    &["فرع", "فروع", "محل", "محلات", "معرض", "معارض", "شوروم"],
    &["مواعيد", "اوقات", "ساعات", "دوام", "توقيت"],
    &["هدية", "هدايا", "اهداء"],
    &["متوفر", "موجود", "يتوفر", "توفر"],
    &["مخزون", "ستوك"],
    &["مقاس", "حجم", "قياس", "سايز"],
    &["لون", "الوان"],
    &["نقاط", "نقطة", "بوينتس"],
    &["ولاء", "مكافات", "مكافآت"],
    &["الغاء", "الغي", "الغيه", "الغيت", "كنسل", "كنسلة"],
    &["تعديل", "تغيير", "اعدل", "اغير", "عدل"],
    &["عنوان", "لوكيشن"],
    &["تتبع", "اتتبع", "تعقب", "اتابع", "متابعة", "تراك"],
    &["دفع", "ادفع", "سداد"],
    &["كاش", "نقد", "نقدا", "نقدي"],
    &["تقسيط", "اقساط", "تابي"],
    &["بطاقة", "كارت", "كرت"],
    &["مجاني", "ببلاش", "بلاش"],
    &["درهم", "دراهم"],
];

/// [`SAME`] by stem: each word's plain stem → its group's first word's.
fn synonyms() -> &'static HashMap<String, String> {
    static SYNONYMS: OnceLock<HashMap<String, String>> = OnceLock::new();
    SYNONYMS.get_or_init(|| {
        let mut map = HashMap::new();
        for group in SAME {
            let stems: Vec<String> = group
                .iter()
                .filter_map(|word| plain_stem(&normalize(word)))
                .collect();
            for stem in &stems[1..] {
                map.entry(stem.clone()).or_insert_with(|| stems[0].clone());
            }
        }
        map
    })
}

/// [`stem`] without [`SAME`].
fn plain_stem(word: &str) -> Option<String> {
    if word.is_empty() {
        return None;
    }
    if let Some((_, canonical)) = WEAK.iter().find(|(spelling, _)| *spelling == word) {
        return Some((*canonical).to_owned());
    }
    if word.chars().any(is_arabic) {
        if STOP_AR.contains(&word) {
            return None;
        }
        if let Some(rest) = ["و", "ف"].iter().find_map(|p| word.strip_prefix(p)) {
            if STOP_AR.contains(&rest) || WEAK.iter().any(|(spelling, _)| *spelling == rest) {
                return None;
            }
        }
        Some(stem_arabic(word))
    } else {
        if STOP_EN.contains(&word) {
            return None;
        }
        let stem = stem_english(word);
        (!STOP_EN.contains(&stem.as_str())).then_some(stem)
    }
}

fn stem_english(word: &str) -> String {
    let mut w = word.to_owned();
    if w.len() <= 3 || !w.is_ascii() {
        return w;
    }
    if let Some(base) = w.strip_suffix("ies").filter(|b| b.len() >= 2) {
        w = format!("{base}y");
    } else if let Some(base) = w.strip_suffix("es").filter(|b| {
        ["s", "x", "z", "ch", "sh"]
            .iter()
            .any(|end| b.ends_with(end))
    }) {
        w.truncate(base.len());
    } else if w.ends_with('s') && !["ss", "us", "is"].iter().any(|end| w.ends_with(end)) {
        w.pop();
    }
    if let Some(base) = w.strip_suffix("ied").filter(|b| b.len() >= 2) {
        w = format!("{base}y");
    } else if let Some(base) = w.strip_suffix("ing").or_else(|| w.strip_suffix("ed")) {
        let b = base.as_bytes();
        let vowel = |i: usize| b"aeiouy".contains(&b[i]);
        if b.len() == 2 || (b.len() == 3 && !vowel(0) && vowel(1) && !vowel(2)) {
            w = format!("{base}e");
        } else if b.len() > 3 {
            let last = b[b.len() - 1];
            let doubled = last == b[b.len() - 2] && !b"aeioulsz".contains(&last);
            w.truncate(b.len() - usize::from(doubled));
        }
    }
    let b = w.as_bytes();
    let last = b[b.len() - 1];
    let final_e = b.len() > 4 && last == b'e';
    let final_y = b.len() > 5 && last == b'y' && !b"aeiou".contains(&b[b.len() - 2]);
    if final_e || final_y {
        w.pop();
    }
    w
}

fn stem_arabic(word: &str) -> String {
    let len = |w: &str| w.chars().count();
    let mut w = word;
    for prefix in ["وال", "فال", "بال", "كال", "لل", "ال"] {
        if let Some(rest) = w.strip_prefix(prefix).filter(|r| len(r) >= 3) {
            w = rest;
            break;
        }
    }
    // An attached pronoun; before one, ta marbuta is written ت (شحنتي → شحن).
    if let Some(rest) = PRONOUNS
        .iter()
        .find_map(|s| w.strip_suffix(s).filter(|r| len(r) >= 3))
    {
        w = rest
            .strip_suffix('ت')
            .filter(|r| len(r) >= 3)
            .unwrap_or(rest);
    }
    if let Some(rest) = ENDINGS
        .iter()
        .find_map(|s| w.strip_suffix(s).filter(|r| len(r) >= 3))
    {
        w = rest;
    }
    w.to_owned()
}

/// Attached pronouns (her, their, your, their, our, his, my, your), longest first.
const PRONOUNS: [&str; 8] = ["ها", "هم", "كم", "هن", "نا", "ه", "ي", "ك"];
/// Plural, dual, nisba and adverbial endings.
const ENDINGS: [&str; 6] = ["ات", "ون", "ين", "ان", "يه", "ا"];

/// Question words, normalized, with the one spelling each is kept as.
const WEAK: &[(&str, &str)] = &[
    ("how", "how"),
    ("hows", "how"),
    ("what", "what"),
    ("whats", "what"),
    ("when", "when"),
    ("whens", "when"),
    ("where", "where"),
    ("wheres", "where"),
    ("which", "which"),
    ("why", "why"),
    ("who", "who"),
    ("much", "much"),
    ("اين", "اين"),
    ("وين", "اين"),
    ("متي", "متي"),
    ("امتي", "متي"),
    ("كم", "كم"),
    ("كيف", "كيف"),
    ("شلون", "كيف"),
    ("ماذا", "ماذا"),
    ("شو", "ماذا"),
    ("ايش", "ماذا"),
    ("وش", "ماذا"),
    ("لماذا", "لماذا"),
    ("ليش", "لماذا"),
];

/// English words too common to tell entries apart, normalized (no apostrophes).
const STOP_EN: &[&str] = &[
    "a",
    "about",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "been",
    "but",
    "by",
    "can",
    "cant",
    "could",
    "did",
    "didnt",
    "do",
    "does",
    "doesnt",
    "dont",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "hello",
    "hey",
    "hi",
    "i",
    "id",
    "if",
    "im",
    "in",
    "is",
    "it",
    "its",
    "ive",
    "just",
    "know",
    "let",
    "like",
    "many",
    "me",
    "my",
    "need",
    "no",
    "not",
    "of",
    "ok",
    "okay",
    "on",
    "or",
    "our",
    "please",
    "pls",
    "plz",
    "really",
    "so",
    "some",
    "something",
    "still",
    "stuff",
    "tell",
    "thank",
    "thanks",
    "that",
    "the",
    "there",
    "these",
    "thing",
    "this",
    "those",
    "thx",
    "to",
    "u",
    "us",
    "usually",
    "very",
    "want",
    "was",
    "we",
    "were",
    "will",
    "with",
    "would",
    "yes",
    "you",
    "your",
];

/// Arabic words too common to tell entries apart, normalized (so `إلى` is `الي`),
/// including Gulf forms (`ابي`, `عشان`).
const STOP_AR: &[&str] = &[
    "ابغا",
    "ابغي",
    "ابي",
    "اذا",
    "اريد",
    "استطيع",
    "اقدر",
    "السلام",
    "الله",
    "الي",
    "الذي",
    "التي",
    "اللي",
    "ام",
    "ان",
    "انا",
    "انت",
    "انتم",
    "انه",
    "او",
    "اهلا",
    "اي",
    "بس",
    "بعض",
    "تقدر",
    "ثم",
    "ذلك",
    "رجاء",
    "سمحت",
    "شكرا",
    "شي",
    "طيب",
    "عشان",
    "علي",
    "عليكم",
    "عن",
    "عند",
    "عندك",
    "عندكم",
    "عندي",
    "فضلك",
    "في",
    "فيه",
    "قد",
    "كان",
    "كل",
    "لا",
    "لان",
    "لدي",
    "لديكم",
    "لم",
    "لن",
    "لو",
    "ما",
    "مرحبا",
    "مع",
    "ممكن",
    "من",
    "نحن",
    "هذا",
    "هذه",
    "هذي",
    "هل",
    "هناك",
    "هو",
    "هي",
    "ودي",
    "يا",
    "يمكن",
    "يمكنك",
    "يمكنني",
    "تلك",
];

#[cfg(test)]
mod tests {
    use super::*;

    const FAQ: &str = include_str!("../../www/shop/faq.json");
    /// Paraphrases the matcher was tuned on.
    const PARAPHRASES: &str = include_str!("../../tests/data/faq/paraphrases.json");
    /// Messages written after tuning, and never tuned on.
    const HOLDOUT: &str = include_str!("../../tests/data/faq/holdout.json");

    /// (language, message, expected entry id) of each case in a test set.
    fn cases(file: &str) -> Vec<(String, String, Option<String>)> {
        let Some(Json::List(cases)) = json::parse(file).unwrap().get("cases").cloned() else {
            panic!("a test set is {{\"cases\": [...]}}");
        };
        cases
            .iter()
            .map(|case| {
                let text = |k| case.get(k).and_then(Json::as_str).map(str::to_owned);
                (text("lang").unwrap(), text("text").unwrap(), text("expect"))
            })
            .collect()
    }

    /// Precision and recall for en, ar and both, printed as a table with the
    /// wrong answers under it.
    fn measure(name: &str, file: &str) -> [(f64, f64); 3] {
        let faq = Faq::from_json(FAQ).unwrap();
        // (answered, answered correctly, should be answered) for en, ar, both.
        let mut tally = [[0usize; 3]; 3];
        let mut wrong = String::new();
        for (lang, text, expect) in cases(file) {
            let got = faq.best(&text).map(|m| m.id);
            for row in [usize::from(lang == "ar"), 2] {
                tally[row][0] += usize::from(got.is_some());
                tally[row][1] += usize::from(got.is_some() && got == expect.as_deref());
                tally[row][2] += usize::from(expect.is_some());
            }
            if got.is_some() && got != expect.as_deref() {
                wrong += &format!("  wrong: {text:?} got {got:?}, expected {expect:?}\n");
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        println!("{name}\nlang  answered  correct  expected  precision  recall");
        let mut out = [(0.0, 0.0); 3];
        for (i, lang) in ["en", "ar", "all"].into_iter().enumerate() {
            let [answered, correct, expected] = tally[i];
            out[i] = (ratio(correct, answered), ratio(correct, expected));
            println!(
                "{lang:<4}  {answered:>8}  {correct:>7}  {expected:>8}  {:>9.3}  {:>6.3}",
                out[i].0, out[i].1
            );
        }
        println!("{wrong}");
        out
    }

    /// The matcher's quality on the Dar Noor FAQ; see it with
    /// `cargo test -p souk --lib faq_quality -- --nocapture`. The floors are the
    /// measured numbers rounded down. A wrong automatic answer costs more than a
    /// handover, so precision's floors are the high ones.
    #[test]
    fn faq_quality() {
        let tuned = measure("paraphrases.json (tuned on)", PARAPHRASES);
        let held_out = measure("holdout.json (never tuned on)", HOLDOUT);
        for (lang, (precision, recall)) in ["en", "ar", "all"].iter().zip(tuned) {
            assert!(precision >= 0.95, "{lang}: precision {precision:.3}");
            assert!(recall >= 0.6, "{lang}: recall {recall:.3}");
        }
        let [.., (precision, recall)] = tuned;
        assert!(
            precision >= 0.99 && recall >= 0.7,
            "tuned: {precision:.3} {recall:.3}"
        );
        let [.., (precision, recall)] = held_out;
        assert!(
            precision >= 0.95 && recall >= 0.7,
            "held out: {precision:.3} {recall:.3}"
        );
    }

    #[test]
    fn the_test_sets_do_not_repeat_the_faq() {
        let Some(Json::List(entries)) = json::parse(FAQ).unwrap().get("entries").cloned() else {
            panic!("no entries");
        };
        let questions: Vec<String> = entries
            .iter()
            .filter_map(|entry| entry.get("questions"))
            .flat_map(|q| [q.get("en"), q.get("ar")])
            .flat_map(|list| match list {
                Some(Json::List(list)) => list.clone(),
                _ => Vec::new(),
            })
            .map(|question| normalize(question.as_str().unwrap()))
            .collect();
        for (_, text, _) in cases(PARAPHRASES).into_iter().chain(cases(HOLDOUT)) {
            assert!(
                !questions.contains(&normalize(&text)),
                "{text} is a FAQ question"
            );
        }
    }

    #[test]
    fn normalize_folds_each_arabic_spelling() {
        let cases = [
            ("كَمْ تَسْتَغْرِقُ", "كم تستغرق"),                        // harakat
            ("شكراً", "شكرا"),                                  // tanween
            ("مُدَّة", "مده"),                                    // shadda, and ta marbuta
            ("هٰذا", "هذا"),                                    // superscript alef
            ("مــــدة", "مده"),                                // tatweel
            ("أإآٱا", "ااااا"),                                // alef forms
            ("هدية", "هديه"),                                  // ta marbuta
            ("على متى", "علي متي"),                            // alef maqsura
            ("مسؤول", "مسوول"),                                // hamza on waw
            ("جزئي", "جزيي"),                                  // hamza on ya
            ("کیف", "كيف"),                                    // Persian keheh and yeh
            ("٢٠٠ ۱۵", "200 15"),                              // Arabic-Indic and Eastern digits
            ("مرحبا، كيف؟ تمام؛ «نعم»", "مرحبا كيف تمام نعم"), // Arabic punctuation
        ];
        for (typed, folded) in cases {
            assert_eq!(normalize(typed), folded, "{typed}");
        }
    }

    #[test]
    fn normalize_lowercases_drops_apostrophes_and_collapses_space() {
        assert_eq!(normalize("  What's   the\tPRICE?!  "), "whats the price");
        assert_eq!(normalize("don’t\u{200f}stop"), "dontstop");
        assert_eq!(normalize("15 AED/day — ok"), "15 aed day ok");
        assert_eq!(normalize("?!،"), "");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn english_stems_are_conservative() {
        let stems = [
            ("deliveries", "deliver"),
            ("delivered", "deliver"),
            ("shipping", "deliver"), // by SAME
            ("charges", "cost"),     // by SAME
            ("boxes", "box"),
            ("dishes", "dish"),
            ("glass", "glass"),
            ("using", "use"),
            ("timings", "time"),
            ("tracked", "track"),
            ("wrapping", "wrap"),
            ("applied", "apply"),
            ("bus", "bus"),
            ("wheres", "where"),
        ];
        for (word, stem) in stems {
            assert_eq!(super::stem(word).as_deref(), Some(stem), "{word}");
        }
        for stop in ["the", "please", "gets", "doesnt", "want"] {
            assert_eq!(super::stem(stop), None, "{stop}");
        }
    }

    #[test]
    fn arabic_stems_strip_the_article_and_one_suffix() {
        let stems = [
            ("الطلب", "طلب"),
            ("والطلب", "طلب"),
            ("بالتقسيط", "تقسيط"),
            ("للشحنه", "توصيل"), // ل + ال, then SAME: شحن is توصيل
            ("طلبي", "طلب"),
            ("شحنتي", "توصيل"), // ta marbuta before a pronoun
            ("منتجاتها", "منتج"),
            ("المنتجات", "منتج"),
            ("فروعكم", "فرع"),
            ("وصل", "وصل"), // a lone و stays
            ("الي", "الي"), // stop word, so matching never sees it
            ("وين", "اين"), // Gulf question word
        ];
        for (word, stem) in stems {
            let got = super::stem(word);
            if word == "الي" {
                assert_eq!(got, None);
            } else {
                assert_eq!(got.as_deref(), Some(stem), "{word}");
            }
        }
        assert_eq!(super::stem("ومتي"), None, "و before a question word");
        assert_eq!(super::stem("ولا"), None, "و before a stop word");
    }

    #[test]
    fn tokens_drop_stop_words_and_keep_question_words() {
        assert_eq!(
            tokens("Hi! How long does delivery take, please?"),
            ["how", "long", "deliver", "take"]
        );
        assert_eq!(tokens("مَتى يَصِلُ طلبي؟"), ["متي", "يصل", "طلب"]);
        assert_eq!(tokens("ممكن لو سمحت"), Vec::<String>::new());
        let word = &words("بيوصل")[0];
        assert_eq!(word.aliases, ["يوصل", "وصل"]);
    }

    #[test]
    fn single_typos_are_recognised() {
        assert!(one_typo("delivary", "delivery"));
        assert!(one_typo("shiping", "shipping"));
        assert!(one_typo("recieve", "receive"));
        assert!(one_typo("colour", "color"));
        assert!(!one_typo("refund", "refund"));
        assert!(!one_typo("refund", "return"));
        assert!(!one_typo("ab", "abcd"));
    }

    #[test]
    fn the_language_follows_the_script() {
        assert_eq!(detect("Where is my order?"), Lang::En);
        assert_eq!(detect("وين طلبي؟"), Lang::Ar);
        assert_eq!(detect("هل تقبلون Apple Pay؟"), Lang::Ar);
        assert_eq!(detect("is طلب ok"), Lang::En);
        assert_eq!(detect("123"), Lang::En);
    }

    #[test]
    fn answers_come_in_the_messages_language() {
        let faq = Faq::from_json(FAQ).unwrap();
        assert_eq!(faq.len(), 12);
        let en = faq.best("how much is shipping?").unwrap();
        assert_eq!((en.id, en.lang), ("shipping-cost", Lang::En));
        assert!(en.answer.starts_with("Delivery costs 15 AED"));
        let ar = faq.best("كم رسوم الشحن؟").unwrap();
        assert_eq!((ar.id, ar.lang), ("shipping-cost", Lang::Ar));
        assert!(ar.answer.starts_with("رسوم التوصيل"));
        assert!(ar.score >= THRESHOLD && ar.score <= 1.0);
        assert_eq!(faq.best(""), None);
        assert_eq!(faq.best("the kettle I bought is broken"), None);
        let ranked = faq.ranked("order");
        assert!(ranked.len() > 3 && faq.best("order").is_none(), "too vague");
        assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn bad_files_are_refused_naming_the_entry_and_field() {
        let entry = |body: &str| format!(r#"{{"entries":[{body}]}}"#);
        let good = r#"{"id":"a","questions":{"en":["Delivery time?"]},"answer":{"en":"Soon.","ar":"قريبا."}}"#;
        assert_eq!(Faq::from_json(&entry(good)).unwrap().len(), 1);
        assert!(Faq::from_json(r#"{"entries":[]}"#).unwrap().is_empty());
        let error = |json: &str| Faq::from_json(json).unwrap_err().to_string();
        assert!(error("{").starts_with("FAQ: not valid JSON at byte 1"));
        assert_eq!(
            error("[]"),
            "FAQ: expected an object with an `entries` list"
        );
        assert_eq!(
            error(&entry(&good.replace(r#""id":"a""#, r#""id":"""#))),
            "FAQ entry #1: `id` must be a non-empty string"
        );
        assert_eq!(
            error(&entry(&format!("{good},{good}"))),
            "FAQ: two entries have the id \"a\"; ids must be unique"
        );
        assert_eq!(
            error(&entry(&good.replace(r#"{"en":["Delivery time?"]}"#, "[]"))),
            "FAQ entry \"a\": `questions` must be an object with `en` and `ar` lists"
        );
        assert_eq!(
            error(&entry(&good.replace(r#"{"en":["Delivery time?"]}"#, "{}"))),
            "FAQ entry \"a\": `questions` must hold at least one question, in `en` or `ar`"
        );
        assert_eq!(
            error(&entry(&good.replace(
                r#""en":["Delivery time?"]"#,
                r#""en":["Price?"],"ar":"نعم""#
            ))),
            "FAQ entry \"a\": `questions.ar` must be a list of strings"
        );
        assert_eq!(
            error(&entry(
                &good.replace(r#"["Delivery time?"]"#, r#"["Delivery time?", 3]"#)
            )),
            "FAQ entry \"a\": `questions.en` must be a list of strings"
        );
        assert_eq!(
            error(&entry(&good.replace("Delivery time?", "Is it ok?"))),
            "FAQ entry \"a\": `questions.en` has a question with no words to match (only stop words or punctuation)"
        );
        assert_eq!(
            error(&entry(&good.replace(r#""ar":"قريبا.""#, r#""ar":" ""#))),
            "FAQ entry \"a\": `answer.ar` must be a non-empty string"
        );
        assert_eq!(
            error(&entry(
                &good.replace(r#","answer":{"en":"Soon.","ar":"قريبا."}"#, "")
            )),
            "FAQ entry \"a\": `answer.en` must be a non-empty string"
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any message, in any script, is scored without panic, from 0 to 1.
        #[test]
        fn any_message_is_scored_without_panic(
            message in proptest::prop_oneof!["\\PC{0,60}", "[ ءاأإآةىئؤـًٌٍَُِّْa-zA-Z0-9?'’ ]{0,60}"],
        ) {
            let faq = Faq::from_json(FAQ).unwrap();
            for found in faq.ranked(&message) {
                proptest::prop_assert!(found.score > 0.0 && found.score <= 1.0 + 1e-5);
            }
            let _ = Faq::from_json(&message);
        }
    }

    #[test]
    fn each_synonym_belongs_to_one_group() {
        let mut seen: Vec<(String, String)> = Vec::new();
        for group in SAME {
            let first = plain_stem(&normalize(group[0])).unwrap();
            for word in *group {
                let stem =
                    plain_stem(&normalize(word)).unwrap_or_else(|| panic!("{word} is a stop word"));
                if let Some((_, other)) = seen.iter().find(|(s, _)| *s == stem) {
                    assert_eq!(*other, first, "{word} is in two groups");
                }
                seen.push((stem, first.clone()));
            }
        }
        for words in [STOP_EN, STOP_AR] {
            assert!(
                words.iter().all(|w| normalize(w) == *w),
                "stop words are normalized"
            );
        }
    }
}
