//! The merchant's own segments: a small filter language over each scored customer.
//!
//! ```text
//! category = "Kitchen" and last_order_days > 60 and tier >= silver
//! segment in (at-risk, cant-lose) or (vip and not consent = marketing)
//! ```
//!
//! A filter is tests joined by `and`, `or` and `not`, with parentheses; `and` binds
//! tighter than `or`. Keywords and names are case-insensitive. A test is `vip`, or
//! a field, an operator and a value (a word, a number or a "quoted" text), or a
//! field, `in` and a list of values in parentheses. The fields:
//!
//! | field | what | operators |
//! |---|---|---|
//! | `segment` | the RFM segment (`champions`, `at-risk`, …) | `=` `!=` `in` |
//! | `orders`, `online_orders`, `store_orders` | orders placed | comparisons |
//! | `spent`, `aov`, `ltv` | money in the RFM currency, major units (`250.50`) | comparisons |
//! | `last_order_days`, `first_order_days` | days since the last and the first order | comparisons |
//! | `tier` | the loyalty tier, ordered as the rules list them (`tier >= silver`) | comparisons, `in` |
//! | `category`, `product` | bought one in that category, bought that product | `=` `!=` `in` |
//! | `consent` | the customer's latest choice grants that category | `=` `!=` `in` |
//!
//! Comparisons are `=`, `!=`, `<`, `<=`, `>`, `>=` (`≠`, `≤`, `≥` too). `!=` and a
//! negated `in` are true when nothing matches: `category != Toys` is "never bought
//! toys". A filter is parsed once into a [`Filter`] that checks [`Facts`]; a mistake
//! is a [`FilterError`] that says where and what was expected.

use std::collections::HashSet;
use std::fmt;

use super::rfm::Segment;

/// The longest filter accepted, in characters.
pub const MAX_LEN: usize = 2000;

/// The deepest nesting of parentheses and `not` accepted.
pub const MAX_DEPTH: usize = 32;

/// What a filter can ask about one customer.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The RFM segment's name.
    pub segment: String,
    /// Whether the VIP rule picks them.
    pub vip: bool,
    /// Orders, all channels.
    pub orders: i64,
    /// Orders online.
    pub online_orders: i64,
    /// Orders in store.
    pub store_orders: i64,
    /// Money spent, minor units of the RFM currency.
    pub spent: i64,
    /// Average order value, minor units.
    pub aov: i64,
    /// Estimated lifetime value, minor units.
    pub ltv: i64,
    /// Days since the last order.
    pub last_order_days: i64,
    /// Days since the first order.
    pub first_order_days: i64,
    /// The loyalty tier's index in the rules, if they have an account.
    pub tier: Option<usize>,
    /// The categories they bought in, lower-cased.
    pub categories: HashSet<String>,
    /// The products they bought, as given.
    pub products: HashSet<String>,
    /// The consent categories their latest choice grants.
    pub consent: HashSet<String>,
}

/// A filter that does not read: where (a character offset) and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The offset, in characters, of the text at fault.
    pub at: usize,
    /// What was wrong, or expected there.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.at + 1, self.message)
    }
}

impl std::error::Error for FilterError {}

/// What compiling a filter needs to know about the shop.
#[derive(Debug, Clone, Copy)]
pub struct Shop<'a> {
    /// The loyalty tiers' ids, lowest first.
    pub tiers: &'a [&'a str],
    /// The digits after the point of the RFM currency.
    pub minor_digits: u32,
}

/// A numeric field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    Orders,
    OnlineOrders,
    StoreOrders,
    Spent,
    Aov,
    Ltv,
    LastOrderDays,
    FirstOrderDays,
}

impl Number {
    fn of(self, facts: &Facts) -> i64 {
        match self {
            Number::Orders => facts.orders,
            Number::OnlineOrders => facts.online_orders,
            Number::StoreOrders => facts.store_orders,
            Number::Spent => facts.spent,
            Number::Aov => facts.aov,
            Number::Ltv => facts.ltv,
            Number::LastOrderDays => facts.last_order_days,
            Number::FirstOrderDays => facts.first_order_days,
        }
    }

    fn is_money(self) -> bool {
        matches!(self, Number::Spent | Number::Aov | Number::Ltv)
    }
}

/// A field whose value is one of a set of names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Category,
    Product,
    Consent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Compare {
    fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Compare::Eq => left == right,
            Compare::Ne => left != right,
            Compare::Lt => left < right,
            Compare::Le => left <= right,
            Compare::Gt => left > right,
            Compare::Ge => left >= right,
        }
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Vip,
    Segment(Vec<Segment>),
    /// A number compared with a value (money in minor units).
    Number(Number, Compare, i64),
    /// The tier's index compared with a value; no account is below every tier.
    Tier(Compare, usize),
    TierIn(Vec<usize>),
    /// The set holds one of these (lower-cased for categories and consent).
    Has(Set, Vec<String>),
}

impl Filter {
    /// Parses `text` for `shop`.
    pub fn parse(text: &str, shop: Shop<'_>) -> Result<Filter, FilterError> {
        if text.chars().count() > MAX_LEN {
            return Err(FilterError {
                at: MAX_LEN,
                message: format!("a filter is at most {MAX_LEN} characters"),
            });
        }
        let tokens = lex(text)?;
        let mut parser = Parser {
            tokens,
            next: 0,
            shop,
            end: text.chars().count(),
            depth: 0,
        };
        if parser.tokens.is_empty() {
            return Err(FilterError {
                at: 0,
                message: "the filter is empty; try `segment = champions` or `orders >= 2`"
                    .to_owned(),
            });
        }
        let root = parser.or()?;
        match parser.peek() {
            None => Ok(Filter { root }),
            Some(token) => Err(FilterError {
                at: token.at,
                message: format!(
                    "expected `and`, `or` or the end, found {}",
                    token.kind.describe()
                ),
            }),
        }
    }

    /// Whether `facts` pass.
    pub fn matches(&self, facts: &Facts) -> bool {
        self.root.matches(facts)
    }

    /// Whether any test reads the tier, the products and categories, or the consent:
    /// the facts that cost a read beyond the scores.
    pub fn needs(&self) -> Needs {
        let mut needs = Needs::default();
        self.root.visit(&mut needs);
        needs
    }
}

impl Node {
    fn matches(&self, facts: &Facts) -> bool {
        match self {
            Node::And(a, b) => a.matches(facts) && b.matches(facts),
            Node::Or(a, b) => a.matches(facts) || b.matches(facts),
            Node::Not(a) => !a.matches(facts),
            Node::Vip => facts.vip,
            Node::Segment(any) => any.iter().any(|s| s.name() == facts.segment),
            Node::Number(number, compare, value) => compare.holds(number.of(facts), *value),
            Node::Tier(compare, index) => facts
                .tier
                .is_some_and(|tier| compare.holds(tier as i64, *index as i64)),
            Node::TierIn(any) => facts.tier.is_some_and(|tier| any.contains(&tier)),
            Node::Has(set, any) => {
                let held = match set {
                    Set::Category => &facts.categories,
                    Set::Product => &facts.products,
                    Set::Consent => &facts.consent,
                };
                any.iter().any(|value| held.contains(value))
            }
        }
    }

    fn visit(&self, needs: &mut Needs) {
        match self {
            Node::And(a, b) | Node::Or(a, b) => {
                a.visit(needs);
                b.visit(needs);
            }
            Node::Not(a) => a.visit(needs),
            Node::Tier(..) | Node::TierIn(_) => needs.tier = true,
            Node::Has(Set::Consent, _) => needs.consent = true,
            Node::Has(_, _) => needs.products = true,
            Node::Vip | Node::Segment(_) | Node::Number(..) => {}
        }
    }
}

/// The costly facts a filter reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// The loyalty tier.
    pub tier: bool,
    /// Products and categories bought.
    pub products: bool,
    /// The consent.
    pub consent: bool,
}

impl Needs {
    /// What either needs.
    pub fn or(self, other: Needs) -> Needs {
        Needs {
            tier: self.tier || other.tier,
            products: self.products || other.products,
            consent: self.consent || other.consent,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Word(String),
    Text(String),
    Op(Compare),
    Open,
    Close,
    Comma,
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::Word(w) => format!("`{w}`"),
            Kind::Text(t) => format!("\"{t}\""),
            Kind::Op(_) => "an operator".to_owned(),
            Kind::Open => "`(`".to_owned(),
            Kind::Close => "`)`".to_owned(),
            Kind::Comma => "`,`".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Kind,
    at: usize,
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i;
        let two = chars.get(i + 1).copied();
        let (kind, width) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Kind::Open, 1),
            ')' => (Kind::Close, 1),
            ',' => (Kind::Comma, 1),
            '=' if two == Some('=') => (Kind::Op(Compare::Eq), 2),
            '=' => (Kind::Op(Compare::Eq), 1),
            '!' if two == Some('=') => (Kind::Op(Compare::Ne), 2),
            '<' if two == Some('=') => (Kind::Op(Compare::Le), 2),
            '<' if two == Some('>') => (Kind::Op(Compare::Ne), 2),
            '<' => (Kind::Op(Compare::Lt), 1),
            '>' if two == Some('=') => (Kind::Op(Compare::Ge), 2),
            '>' => (Kind::Op(Compare::Gt), 1),
            '≠' => (Kind::Op(Compare::Ne), 1),
            '≤' => (Kind::Op(Compare::Le), 1),
            '≥' => (Kind::Op(Compare::Ge), 1),
            '"' => {
                let Some(close) = chars[i + 1..].iter().position(|&c| c == '"') else {
                    return Err(FilterError {
                        at,
                        message: "this quoted text has no closing \"".to_owned(),
                    });
                };
                let inner: String = chars[i + 1..i + 1 + close].iter().collect();
                (Kind::Text(inner), close + 2)
            }
            c if word_char(c) => {
                let len = chars[i..].iter().take_while(|&&c| word_char(c)).count();
                (Kind::Word(chars[i..i + len].iter().collect()), len)
            }
            other => {
                return Err(FilterError {
                    at,
                    message: format!(
                        "unexpected {other:?}; put names with spaces or symbols in \"quotes\""
                    ),
                })
            }
        };
        tokens.push(Token { kind, at });
        i += width;
    }
    Ok(tokens)
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\'')
}

struct Parser<'a> {
    tokens: Vec<Token>,
    next: usize,
    shop: Shop<'a>,
    end: usize,
    depth: usize,
}

const FIELDS: &str = "segment, orders, online_orders, store_orders, spent, aov, ltv, last_order_days, first_order_days, tier, category, product, consent or vip";

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case(word));
        if found {
            self.next += 1;
        }
        found
    }

    fn error(&self, expected: &str) -> FilterError {
        match self.peek() {
            Some(token) => FilterError {
                at: token.at,
                message: format!("expected {expected}, found {}", token.kind.describe()),
            },
            None => FilterError {
                at: self.end,
                message: format!("expected {expected}, but the filter ends"),
            },
        }
    }

    fn or(&mut self) -> Result<Node, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Node::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Node::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError {
                at: self.peek().map_or(self.end, |t| t.at),
                message: format!("parentheses and `not` nest at most {MAX_DEPTH} deep"),
            });
        }
        let filter = if self.keyword("not") {
            Node::Not(Box::new(self.unary()?))
        } else if matches!(
            self.peek(),
            Some(Token {
                kind: Kind::Open,
                ..
            })
        ) {
            self.next += 1;
            let inner = self.or()?;
            if !matches!(
                self.peek(),
                Some(Token {
                    kind: Kind::Close,
                    ..
                })
            ) {
                return Err(self.error("`)`"));
            }
            self.next += 1;
            inner
        } else {
            self.test()?
        };
        self.depth -= 1;
        Ok(filter)
    }

    fn test(&mut self) -> Result<Node, FilterError> {
        let Some(Token {
            kind: Kind::Word(field),
            at,
        }) = self.peek().cloned()
        else {
            return Err(self.error(&format!("a field ({FIELDS})")));
        };
        self.next += 1;
        let field = field.to_ascii_lowercase();
        if field == "vip" {
            return Ok(Node::Vip);
        }
        let number = match field.as_str() {
            "orders" => Some(Number::Orders),
            "online_orders" => Some(Number::OnlineOrders),
            "store_orders" => Some(Number::StoreOrders),
            "spent" | "monetary" => Some(Number::Spent),
            "aov" => Some(Number::Aov),
            "ltv" => Some(Number::Ltv),
            "last_order_days" | "recency" => Some(Number::LastOrderDays),
            "first_order_days" => Some(Number::FirstOrderDays),
            _ => None,
        };
        if let Some(number) = number {
            let compare = self.compare(&field)?;
            let (text, at) = self.value()?;
            return Ok(Node::Number(
                number,
                compare,
                self.amount(&field, &text, at, number.is_money())?,
            ));
        }
        let set = match field.as_str() {
            "segment" => None,
            "tier" => None,
            "category" => Some(Set::Category),
            "product" => Some(Set::Product),
            "consent" => Some(Set::Consent),
            _ => {
                return Err(FilterError {
                    at,
                    message: format!("unknown field `{field}`; the fields are {FIELDS}"),
                })
            }
        };
        let (negated, compare, values) = self.choice(&field)?;
        let filter = match (field.as_str(), set) {
            ("segment", _) => {
                let segments = values
                    .iter()
                    .map(|(v, at)| segment(v, *at))
                    .collect::<Result<_, _>>()?;
                Node::Segment(segments)
            }
            ("tier", _) => {
                let tiers = values
                    .iter()
                    .map(|(v, at)| self.tier(v, *at))
                    .collect::<Result<Vec<_>, _>>()?;
                match compare {
                    Some(compare) => Node::Tier(compare, tiers[0]),
                    None => Node::TierIn(tiers),
                }
            }
            (_, Some(set)) => {
                let values = values
                    .into_iter()
                    .map(|(v, at)| match set {
                        Set::Product => Ok(v),
                        Set::Category => Ok(v.to_lowercase()),
                        Set::Consent => consent(&v, at),
                    })
                    .collect::<Result<_, _>>()?;
                Node::Has(set, values)
            }
            (_, None) => unreachable!("every other field has a set"),
        };
        Ok(if negated {
            Node::Not(Box::new(filter))
        } else {
            filter
        })
    }

    /// `= v`, `!= v`, `in (v, …)`, `not in (v, …)`, or (tier only) `< v` etc.:
    /// whether negated, the comparison for tier, and the values with their offsets.
    #[allow(clippy::type_complexity)]
    fn choice(
        &mut self,
        field: &str,
    ) -> Result<(bool, Option<Compare>, Vec<(String, usize)>), FilterError> {
        let negated_in = self.keyword("not");
        if negated_in || self.keyword("in") {
            if negated_in && !self.keyword("in") {
                return Err(self.error("`in` after `not`"));
            }
            if !matches!(
                self.peek(),
                Some(Token {
                    kind: Kind::Open,
                    ..
                })
            ) {
                return Err(self.error("`(` and a list of values"));
            }
            self.next += 1;
            let mut values = vec![self.value()?];
            while matches!(
                self.peek(),
                Some(Token {
                    kind: Kind::Comma,
                    ..
                })
            ) {
                self.next += 1;
                values.push(self.value()?);
            }
            if !matches!(
                self.peek(),
                Some(Token {
                    kind: Kind::Close,
                    ..
                })
            ) {
                return Err(self.error("`,` or `)`"));
            }
            self.next += 1;
            return Ok((negated_in, None, values));
        }
        let at = self.peek().map_or(self.end, |t| t.at);
        let compare = self.compare(field)?;
        let value = self.value()?;
        match compare {
            Compare::Eq => Ok((false, None, vec![value])),
            Compare::Ne => Ok((true, None, vec![value])),
            ordered if field == "tier" => Ok((false, Some(ordered), vec![value])),
            _ => Err(FilterError {
                at,
                message: format!("`{field}` takes =, != or in, not an ordering"),
            }),
        }
    }

    fn compare(&mut self, field: &str) -> Result<Compare, FilterError> {
        match self.peek() {
            Some(Token {
                kind: Kind::Op(compare),
                ..
            }) => {
                let compare = *compare;
                self.next += 1;
                Ok(compare)
            }
            _ => Err(self.error(&format!(
                "an operator after `{field}` (=, !=, <, <=, >, >=)"
            ))),
        }
    }

    fn value(&mut self) -> Result<(String, usize), FilterError> {
        match self.peek().cloned() {
            Some(Token {
                kind: Kind::Word(v) | Kind::Text(v),
                at,
            }) => {
                self.next += 1;
                Ok((v, at))
            }
            _ => Err(self.error("a value")),
        }
    }

    /// A whole number, or money in major units with at most the currency's digits.
    fn amount(&self, field: &str, text: &str, at: usize, money: bool) -> Result<i64, FilterError> {
        let digits = if money { self.shop.minor_digits } else { 0 };
        let wrong = || FilterError {
            at,
            message: if money {
                format!("`{field}` takes an amount such as 250 or 99.50, found `{text}`")
            } else {
                format!("`{field}` takes a whole number, found `{text}`")
            },
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
            || fraction.len() > digits as usize
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(wrong());
        }
        let scale = 10_i64.pow(digits);
        let whole: i64 = whole.parse().map_err(|_| wrong())?;
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            format!("{fraction:0<width$}", width = digits as usize)
                .parse()
                .map_err(|_| wrong())?
        };
        whole
            .checked_mul(scale)
            .and_then(|n| n.checked_add(fraction))
            .ok_or_else(wrong)
    }

    fn tier(&self, name: &str, at: usize) -> Result<usize, FilterError> {
        self.shop
            .tiers
            .iter()
            .position(|t| t.eq_ignore_ascii_case(name))
            .ok_or_else(|| FilterError {
                at,
                message: format!(
                    "no tier `{name}`; the tiers are {}",
                    self.shop.tiers.join(", ")
                ),
            })
    }
}

fn segment(name: &str, at: usize) -> Result<Segment, FilterError> {
    let wanted = name.to_ascii_lowercase().replace('_', "-");
    Segment::parse(&wanted).ok_or_else(|| FilterError {
        at,
        message: format!(
            "no segment `{name}`; the segments are {}",
            Segment::ALL
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

fn consent(name: &str, at: usize) -> Result<String, FilterError> {
    let lower = name.to_ascii_lowercase();
    if crate::consent::choices().contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(FilterError {
            at,
            message: format!(
                "no consent category `{name}`; they are {}",
                crate::consent::choices().join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: Shop<'static> = Shop {
        tiers: &["bronze", "silver", "gold"],
        minor_digits: 2,
    };

    fn parse(text: &str) -> Filter {
        Filter::parse(text, SHOP).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn error(text: &str) -> String {
        Filter::parse(text, SHOP).unwrap_err().to_string()
    }

    fn kitchen_regular() -> Facts {
        Facts {
            segment: "at-risk".to_owned(),
            orders: 4,
            online_orders: 3,
            store_orders: 1,
            spent: 52_050,
            last_order_days: 75,
            first_order_days: 300,
            tier: Some(1),
            categories: ["kitchen".to_owned()].into(),
            products: ["SKU-1".to_owned()].into(),
            consent: ["marketing".to_owned()].into(),
            ..Facts::default()
        }
    }

    #[test]
    fn the_issues_example_picks_a_lapsed_silver_kitchen_buyer() {
        let filter = parse(r#"category = "Kitchen" and last_order_days > 60 and tier >= silver"#);
        let mut facts = kitchen_regular();
        assert!(filter.matches(&facts));
        facts.last_order_days = 10;
        assert!(!filter.matches(&facts), "ordered recently");
        facts.last_order_days = 75;
        facts.tier = Some(0);
        assert!(!filter.matches(&facts), "bronze is below silver");
        facts.tier = None;
        assert!(!filter.matches(&facts), "no account is below every tier");
        assert_eq!(
            filter.needs(),
            Needs {
                tier: true,
                products: true,
                consent: false
            }
        );
    }

    #[test]
    fn money_is_in_major_units_of_the_currency() {
        let facts = kitchen_regular();
        assert!(parse("spent >= 520.50").matches(&facts));
        assert!(!parse("spent > 520.50").matches(&facts));
        assert!(parse("spent < 521").matches(&facts));
        assert_eq!(
            parse("aov = 1.5").root,
            Node::Number(Number::Aov, Compare::Eq, 150)
        );
        assert!(error("spent > 1.234").contains("takes an amount"));
        assert!(error("orders > 1.5").contains("takes a whole number"));
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_negates() {
        let facts = kitchen_regular();
        assert!(parse("vip or orders > 3 and store_orders >= 1").matches(&facts));
        assert!(!parse("(vip or orders > 3) and store_orders >= 2").matches(&facts));
        assert!(parse("not vip").matches(&facts));
        assert!(
            parse("NOT (segment = champions) AND Segment IN (At_Risk, cant-lose)").matches(&facts)
        );
    }

    #[test]
    fn not_equal_and_not_in_mean_none_of_them() {
        let facts = kitchen_regular();
        assert!(parse("category != toys").matches(&facts));
        assert!(!parse("category != KITCHEN").matches(&facts));
        assert!(parse("product not in (SKU-2, SKU-3)").matches(&facts));
        assert!(!parse("product not in (SKU-1)").matches(&facts));
        assert!(parse("consent = marketing").matches(&facts));
        assert!(!parse("consent in (analytics)").matches(&facts));
        assert!(parse("tier in (silver, gold)").matches(&facts));
        assert!(parse("tier ≥ silver and tier ≠ gold").matches(&facts));
    }

    #[test]
    fn mistakes_say_where_and_what_was_expected() {
        assert_eq!(
            error(""),
            "at character 1: the filter is empty; try `segment = champions` or `orders >= 2`"
        );
        assert_eq!(
            error("orders >"),
            "at character 9: expected a value, but the filter ends"
        );
        assert!(error("colour = red").starts_with("at character 1: unknown field `colour`"));
        assert!(
            error("segment = whales").contains("no segment `whales`; the segments are champions")
        );
        assert!(error("tier >= platinum").contains("the tiers are bronze, silver, gold"));
        assert!(error("category > toys").contains("takes =, != or in"));
        assert!(error("consent = cookies").contains("no consent category"));
        assert_eq!(
            error("vip vip"),
            "at character 5: expected `and`, `or` or the end, found `vip`"
        );
        assert!(error("(vip").contains("expected `)`"));
        assert!(error("category = \"Home").contains("no closing"));
        assert!(error("orders >= 2; drop").contains("unexpected ';'"));
        assert!(error(&"vip or ".repeat(400)).contains("at most 2000 characters"));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}vip{}", "(".repeat(900), ")".repeat(900));
        assert!(error(&deep).contains("nest at most 32 deep"));
        assert!(error(&"not ".repeat(400)).contains("nest at most 32 deep"));
        let fine = format!("{}vip{}", "(".repeat(20), ")".repeat(20));
        assert!(parse(&fine).matches(&Facts {
            vip: true,
            ..Facts::default()
        }));
    }
}
