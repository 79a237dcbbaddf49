//! The words souk shows shoppers, in English and Arabic.

/// A language souk ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English, left to right.
    En,
    /// Arabic, right to left.
    Ar,
}

impl Lang {
    /// The shipped language for a BCP 47 tag such as `ar-AE`; English otherwise.
    pub fn from_tag(tag: &str) -> Lang {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ar") {
            Lang::Ar
        } else {
            Lang::En
        }
    }

    /// The language's tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
        }
    }

    /// The writing direction, for the `dir` attribute.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::En => "ltr",
            Lang::Ar => "rtl",
        }
    }
}

/// The consent banner's words in one language.
#[derive(Debug)]
pub struct BannerText {
    /// The name of the banner's region, for screen readers.
    pub region: &'static str,
    /// The heading.
    pub title: &'static str,
    /// What the shopper is asked, in a sentence or two.
    pub body: &'static str,
    /// Grants every category.
    pub accept_all: &'static str,
    /// Grants none beyond `necessary`.
    pub reject_all: &'static str,
    /// Opens the per-category choices.
    pub choose: &'static str,
    /// The heading of the per-category choices.
    pub choices_title: &'static str,
    /// Grants exactly the categories switched on.
    pub save: &'static str,
    /// Shown on `necessary`, which cannot be switched off.
    pub always_on: &'static str,
    /// Shown when Global Privacy Control was honoured.
    pub gpc_honoured: &'static str,
    /// Label and description of each category, in [`super::consent::Category::ALL`] order.
    pub categories: [(&'static str, &'static str); 5],
}

/// The banner's words in `lang`.
pub fn banner(lang: Lang) -> &'static BannerText {
    match lang {
        Lang::En => &BANNER_EN,
        Lang::Ar => &BANNER_AR,
    }
}

static BANNER_EN: BannerText = BannerText {
    region: "Privacy choices",
    title: "Your privacy, your choice",
    body: "This shop keeps your cart and this choice on your device. With your permission it also runs the chat and loyalty features, learns how the shop is used, personalises what you see, and measures ads. You can change your mind at any time.",
    accept_all: "Accept all",
    reject_all: "Reject all",
    choose: "Choose",
    choices_title: "Choose what you allow",
    save: "Save my choices",
    always_on: "Always on",
    gpc_honoured: "Your browser sends Global Privacy Control, so marketing stays off unless you switch it on here.",
    categories: [
        ("Strictly necessary", "Your cart, your session and this choice. The shop cannot work without them."),
        ("Functional", "The chat and your loyalty points."),
        ("Analytics", "Sends what you browse and buy to the shop, so it can see how it is used."),
        ("Personalisation", "Keeps a profile on this device to recommend products for you. It never leaves your device."),
        ("Marketing", "Lets advertising tools measure and personalise ads."),
    ],
};

static BANNER_AR: BannerText = BannerText {
    region: "خيارات الخصوصية",
    title: "خصوصيتك، قرارك",
    body: "يحتفظ هذا المتجر بسلة التسوق وبهذا الاختيار على جهازك. وبإذنك يشغّل أيضًا الدردشة وبرنامج الولاء، ويتعرّف على طريقة استخدام المتجر، ويخصّص ما تراه، ويقيس الإعلانات. يمكنك تغيير رأيك في أي وقت.",
    accept_all: "قبول الكل",
    reject_all: "رفض الكل",
    choose: "اختيار",
    choices_title: "اختر ما تسمح به",
    save: "حفظ اختياراتي",
    always_on: "مفعّل دائمًا",
    gpc_honoured: "يرسل متصفحك إشارة التحكم العالمي بالخصوصية (GPC)، لذا يبقى التسويق متوقفًا ما لم تفعّله هنا.",
    categories: [
        ("ضروري للغاية", "سلة التسوق وجلستك وهذا الاختيار. لا يعمل المتجر بدونها."),
        ("وظيفي", "الدردشة ونقاط الولاء الخاصة بك."),
        ("التحليلات", "إرسال ما تتصفحه وتشتريه إلى المتجر ليعرف كيف يُستخدم."),
        ("التخصيص", "الاحتفاظ بملف على هذا الجهاز لاقتراح منتجات تناسبك، ولا يغادر جهازك أبدًا."),
        ("التسويق", "السماح لأدوات الإعلان بقياس الإعلانات وتخصيصها."),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_pick_the_shipped_language() {
        assert_eq!(Lang::from_tag("ar-AE"), Lang::Ar);
        assert_eq!(Lang::from_tag("AR"), Lang::Ar);
        assert_eq!(Lang::from_tag("en-GB"), Lang::En);
        assert_eq!(Lang::from_tag("fr"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
        assert_eq!((Lang::Ar.tag(), Lang::Ar.dir()), ("ar", "rtl"));
    }

    /// Each button's label must say what the button does. One public Arabic banner
    /// configuration swapped "accept all" and "reject all"; this catches that.
    #[test]
    fn every_button_label_means_what_it_does() {
        // (language, words that mean accept, words that mean reject, a word for "all")
        let meanings = [
            (Lang::En, "Accept", "Reject", "all"),
            (Lang::Ar, "قبول", "رفض", "الكل"),
        ];
        for (lang, accept, reject, all) in meanings {
            let text = banner(lang);
            assert!(
                text.accept_all.contains(accept) && text.accept_all.contains(all),
                "{lang:?} accept"
            );
            assert!(
                !text.accept_all.contains(reject),
                "{lang:?} accept label says reject"
            );
            assert!(
                text.reject_all.contains(reject) && text.reject_all.contains(all),
                "{lang:?} reject"
            );
            assert!(
                !text.reject_all.contains(accept),
                "{lang:?} reject label says accept"
            );
            for label in [text.choose, text.save] {
                assert!(
                    !label.contains(accept) && !label.contains(reject),
                    "{lang:?} {label}"
                );
            }
        }
    }

    #[test]
    fn arabic_text_is_arabic() {
        let text = banner(Lang::Ar);
        let arabic = |s: &str| s.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c));
        let all = [
            text.region,
            text.title,
            text.body,
            text.accept_all,
            text.reject_all,
            text.choose,
            text.save,
        ];
        assert!(all
            .into_iter()
            .chain(text.categories.iter().flat_map(|(l, d)| [*l, *d]))
            .all(arabic));
    }
}
