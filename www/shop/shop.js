/*
 * Dar Noor demo shop: the shop's own behaviour (the shared site header and footer,
 * catalogue rendering, cart, checkout, account, English/Arabic). Plain ES5-style
 * browser JavaScript, no dependencies.
 *
 * Loaded as a classic script at the end of <body>, after /shop/catalog.js (which
 * defines window.SHOP_CATALOG), so everything here runs synchronously while the page
 * parses: the header and footer are in place before first paint, and product pages
 * get their schema.org JSON-LD in <head> before DOMContentLoaded.
 *
 * The shop never depends on the souk plugin and never throws: every entry point is
 * guarded, storage failures are ignored, and nothing is logged as an error.
 *
 * souk's auto-capture markup (documented in www/README.md): product lists
 * [data-souk-list] with [data-souk-product] cards, and [data-souk-add-to-cart]
 * buttons; the product page also carries schema.org microdata.
 * The shop's own hooks (it uses them itself, and so may a tracker):
 *   product ids     [data-souk-product-id] on card links and buttons
 *   buttons         [data-souk-action="add-to-cart"|"remove-from-cart"|"checkout"|"place-order"]
 *   events          "shop:add-to-cart", "shop:remove-from-cart", "shop:purchase",
 *                   "shop:login", "shop:logout", "shop:lang" (CustomEvent on document)
 */
(function () {
  "use strict";

  var KEYS = { lang: "shop.lang", cart: "shop.cart", user: "shop.user", orders: "shop.orders" };
  var MAX_QTY = 10;
  var FREE_DELIVERY_FROM = 200;
  var STANDARD_DELIVERY = 20;
  var EXPRESS_DELIVERY = 35;
  var FEATURED = ["p017", "p012", "p025", "p001", "p057", "p033", "p041", "p050"];

  // ---------------------------------------------------------------- strings
  var STRINGS = {
    en: {
      shopName: "Dar Noor",
      shopTagline: "Home & gifts",
      skip: "Skip to content",
      breadcrumb: "Breadcrumb",
      navCategories: "Categories",
      navAll: "All products",
      home: "Home",
      account: "Account",
      cart: "Cart",
      cartLabel: ", {count}",
      heroEyebrow: "New season · Made by hand",
      heroTitle: "Handmade things for a home full of light",
      heroLead: "Ceramics, lamps, textiles and small gifts from independent makers across the region, delivered anywhere in the UAE.",
      heroCta: "Shop lighting",
      heroCta2: "Browse everything",
      perksLabel: "Why shop with us",
      perkDelivery: "Free delivery on orders over {amount}",
      perkWrap: "Gift wrapping on request",
      perkReturns: "Easy 14-day returns",
      featuredTitle: "Featured this week",
      viewAll: "View all",
      categoriesTitle: "Shop by category",
      storyTitle: "A small shop with a big heart",
      storyText: "Dar Noor began as a market stall in Sharjah. We still choose every piece ourselves, visit the workshops that make them and pack each order by hand.",
      storyCta: "Meet the collection",
      catIntro: {
        all: "Everything we love, from the kitchen to the garden.",
        kitchen: "Honest tools for cooking, baking and brewing, made to be used every day.",
        tableware: "Plates, glasses and trays for long lunches and late-night tea.",
        lighting: "Lamps, lanterns and candles for a warm glow after sunset.",
        textiles: "Soft cushions, throws and linens woven by hand.",
        stationery: "Paper, pens and little luxuries for writing things down.",
        garden: "Pots, tools and seeds for balconies, courtyards and windowsills.",
        toys: "Wooden and cuddly toys, made to be played with and passed on.",
        fragrance: "Oud, bakhoor, candles and soaps to make a house smell like home."
      },
      productsCount: { one: "{n} product", other: "{n} products" },
      itemsCount: { one: "{n} item", other: "{n} items" },
      sortLabel: "Sort by",
      sortFeatured: "Featured",
      sortPriceAsc: "Price: low to high",
      sortPriceDesc: "Price: high to low",
      sortNameAsc: "Name: A to Z",
      sortNameDesc: "Name: Z to A",
      categoryNotFound: "We couldn't find that category.",
      productNotFound: "We couldn't find that product.",
      notFoundTitle: "Not found",
      backToShop: "Back to the shop",
      addToCart: "Add to cart",
      addNamed: "Add to cart: {name}",
      soldOut: "Sold out",
      inStock: "In stock",
      outOfStock: "Out of stock",
      outOfStockNote: "This piece is sold out for now. It usually comes back within a few weeks.",
      quantity: "Quantity",
      decrease: "Decrease quantity",
      increase: "Increase quantity",
      qtyFor: "Quantity of {name}",
      brand: "Brand",
      sku: "SKU",
      category: "Category",
      details: "Details",
      deliveryNote: "Delivery in 2–4 working days anywhere in the UAE.",
      returnsNote: "Free returns within 14 days.",
      addedToCart: "{name} was added to your cart.",
      viewCart: "View cart",
      close: "Close",
      cartTitle: "Your cart",
      cartEmpty: "Your cart is empty.",
      cartEmptyHint: "Have a look around — we think you'll find something you love.",
      continueShopping: "Continue shopping",
      remove: "Remove",
      removeNamed: "Remove {name} from cart",
      removed: "{name} was removed from your cart.",
      each: "{price} each",
      subtotal: "Subtotal",
      delivery: "Delivery",
      free: "Free",
      total: "Total",
      checkout: "Checkout",
      summaryTitle: "Order summary",
      freeDeliveryHint: "Add {amount} more for free delivery.",
      freeDeliveryOk: "Your order qualifies for free delivery.",
      checkoutTitle: "Checkout",
      contact: "Contact details",
      email: "Email",
      phone: "Mobile number",
      shippingAddress: "Delivery address",
      fullName: "Full name",
      address: "Street address",
      city: "City or area",
      emirate: "Emirate",
      emirateAbuDhabi: "Abu Dhabi",
      emirateDubai: "Dubai",
      emirateSharjah: "Sharjah",
      emirateAjman: "Ajman",
      emirateUAQ: "Umm Al Quwain",
      emirateRAK: "Ras Al Khaimah",
      emirateFujairah: "Fujairah",
      deliveryMethod: "Delivery method",
      standardDelivery: "Standard (2–4 working days)",
      expressDelivery: "Express (next working day)",
      notes: "Delivery notes (optional)",
      payment: "Payment",
      paymentNote: "Pay by card or cash when your order arrives. This is a demo shop: no payment is taken.",
      placeOrder: "Place order",
      errRequired: "Please fill in this field.",
      errEmail: "Please enter a valid email address, like name@example.com.",
      errPhone: "Please enter a valid phone number, like 050 123 4567.",
      errPassword: "Please use at least 8 characters.",
      formErrors: "Please correct the highlighted fields.",
      orderThanks: "Thank you, {name}!",
      orderPlaced: "Your order has been placed.",
      orderNumber: "Order number",
      orderEmailNote: "We would normally email a confirmation to {email}. This is a demo, so nothing has been sent and no payment was taken.",
      rewardCode: "Reward code (optional)",
      rewardCodeHint: "Spend your points on a reward on your account page, then enter its code here.",
      rewardLine: "Reward {code}",
      errCouponUnknown: "This code does not exist. Check it on your account page.",
      errCouponUsed: "This code has already been used.",
      errCouponOwner: "This code belongs to another account. Sign in to the account that redeemed it.",
      errCheckout: "Your order could not be placed. Please try again.",
      placingOrder: "Placing your order…",
      pointsEarned: "You earned {points} points with this order. Your balance is now {balance} points.",
      pointsSeeRewards: "See your rewards",
      pointsSignIn: "Sign in before you order to earn loyalty points.",
      checkoutEmpty: "Your cart is empty, so there is nothing to check out yet.",
      accountTitle: "Your account",
      signIn: "Sign in",
      signInIntro: "Welcome back. Sign in to see your orders.",
      password: "Password",
      passwordHint: "At least 8 characters.",
      register: "Create an account",
      registerIntro: "New here? Create an account to check out faster.",
      createAccount: "Create account",
      demoNote: "Demo: any email and password will do. Nothing leaves your browser.",
      hello: "Hello, {name}",
      accountIntro: "You are signed in to Dar Noor.",
      yourDetails: "Your details",
      name: "Name",
      customerId: "Customer ID",
      ordersTitle: "Your orders",
      noOrders: "You haven't placed any orders yet.",
      orderPlacedOn: "Placed on {date}",
      signOut: "Sign out",
      signedIn: "You are now signed in.",
      signedOut: "You have signed out.",
      footerAboutTitle: "About Dar Noor",
      footerAbout: "An independent homeware and gift shop. We work directly with makers and pack every order by hand.",
      footerShop: "Shop",
      footerHelp: "Customer care",
      privacyChoices: "Privacy choices",
      footerVisit: "Visit us",
      footerAddress: "Warehouse 12, Al Quoz 1, Dubai",
      footerHours: "Open daily, 10:00–20:00",
      footerDemo: "A demo shop for the souk plugin: no real orders or payments.",
      rights: "© {year} Dar Noor",
      titleHome: "Dar Noor — Home & gifts",
      titleSuffix: "{page} | Dar Noor"
    },
    ar: {
      shopName: "دار نور",
      shopTagline: "للبيت والهدايا",
      skip: "انتقل إلى المحتوى",
      breadcrumb: "مسار التنقل",
      navCategories: "الأقسام",
      navAll: "كل المنتجات",
      home: "الرئيسية",
      account: "حسابي",
      cart: "السلة",
      cartLabel: "، {count}",
      heroEyebrow: "موسم جديد · صُنع باليد",
      heroTitle: "قطع مصنوعة باليد لبيت مليء بالنور",
      heroLead: "خزفيات ومصابيح ومنسوجات وهدايا صغيرة من حرفيين مستقلين في المنطقة، مع التوصيل إلى أي مكان في الإمارات.",
      heroCta: "تسوّق الإضاءة",
      heroCta2: "تصفّح كل المنتجات",
      perksLabel: "لماذا تتسوّق معنا",
      perkDelivery: "توصيل مجاني للطلبات التي تزيد على {amount}",
      perkWrap: "تغليف الهدايا عند الطلب",
      perkReturns: "إرجاع سهل خلال 14 يوماً",
      featuredTitle: "مختارات هذا الأسبوع",
      viewAll: "عرض الكل",
      categoriesTitle: "تسوّق حسب القسم",
      storyTitle: "متجر صغير بقلب كبير",
      storyText: "بدأت دار نور كبسطة في أحد أسواق الشارقة. وما زلنا نختار كل قطعة بأنفسنا، ونزور الورش التي تصنعها، ونغلّف كل طلب بأيدينا.",
      storyCta: "تعرّف على المجموعة",
      catIntro: {
        all: "كل ما نحبه، من المطبخ إلى الحديقة.",
        kitchen: "أدوات صادقة للطبخ والخَبز وتحضير القهوة، صُنعت للاستعمال اليومي.",
        tableware: "أطباق وكاسات وصوانٍ لغداء طويل وشاي في آخر السهرة.",
        lighting: "مصابيح وفوانيس وشموع لتوهّج دافئ بعد الغروب.",
        textiles: "وسائد ناعمة وبطانيات ومفارش منسوجة يدوياً.",
        stationery: "ورق وأقلام وكماليات صغيرة لتدوين ما يهمّك.",
        garden: "أصص وأدوات وبذور للشرفات والأفنية وحواف النوافذ.",
        toys: "ألعاب خشبية وأخرى محشوّة، صُنعت ليُلعب بها وتنتقل من جيل إلى جيل.",
        fragrance: "عود وبخور وشموع وصابون لتفوح في بيتك رائحة الدفء."
      },
      productsCount: { zero: "لا توجد منتجات", one: "منتج واحد", two: "منتجان", few: "{n} منتجات", many: "{n} منتجاً", other: "{n} منتج" },
      itemsCount: { zero: "لا توجد قطع", one: "قطعة واحدة", two: "قطعتان", few: "{n} قطع", many: "{n} قطعة", other: "{n} قطعة" },
      sortLabel: "ترتيب حسب",
      sortFeatured: "المختارات",
      sortPriceAsc: "السعر: من الأقل إلى الأعلى",
      sortPriceDesc: "السعر: من الأعلى إلى الأقل",
      sortNameAsc: "الاسم: من أ إلى ي",
      sortNameDesc: "الاسم: من ي إلى أ",
      categoryNotFound: "لم نعثر على هذا القسم.",
      productNotFound: "لم نعثر على هذا المنتج.",
      notFoundTitle: "غير موجود",
      backToShop: "العودة إلى المتجر",
      addToCart: "أضف إلى السلة",
      addNamed: "أضف إلى السلة: {name}",
      soldOut: "نفدت الكمية",
      inStock: "متوفر",
      outOfStock: "غير متوفر",
      outOfStockNote: "نفدت كمية هذه القطعة حالياً، وعادةً ما تعود خلال أسابيع قليلة.",
      quantity: "الكمية",
      decrease: "إنقاص الكمية",
      increase: "زيادة الكمية",
      qtyFor: "كمية {name}",
      brand: "العلامة التجارية",
      sku: "رمز المنتج",
      category: "القسم",
      details: "التفاصيل",
      deliveryNote: "التوصيل خلال مدة تتراوح بين يومين وأربعة أيام عمل إلى أي مكان في الإمارات.",
      returnsNote: "إرجاع مجاني خلال 14 يوماً.",
      addedToCart: "تمت إضافة {name} إلى سلتك.",
      viewCart: "عرض السلة",
      close: "إغلاق",
      cartTitle: "سلة التسوّق",
      cartEmpty: "سلتك فارغة.",
      cartEmptyHint: "ألقِ نظرة على المتجر، فنحن واثقون أنك ستجد ما يعجبك.",
      continueShopping: "متابعة التسوّق",
      remove: "إزالة",
      removeNamed: "إزالة {name} من السلة",
      removed: "تمت إزالة {name} من سلتك.",
      each: "{price} للقطعة",
      subtotal: "المجموع الفرعي",
      delivery: "التوصيل",
      free: "مجاني",
      total: "الإجمالي",
      checkout: "إتمام الشراء",
      summaryTitle: "ملخّص الطلب",
      freeDeliveryHint: "أضف ما قيمته {amount} لتحصل على توصيل مجاني.",
      freeDeliveryOk: "طلبك مؤهّل للتوصيل المجاني.",
      checkoutTitle: "إتمام الشراء",
      contact: "بيانات التواصل",
      email: "البريد الإلكتروني",
      phone: "رقم الجوال",
      shippingAddress: "عنوان التوصيل",
      fullName: "الاسم الكامل",
      address: "عنوان الشارع",
      city: "المدينة أو المنطقة",
      emirate: "الإمارة",
      emirateAbuDhabi: "أبوظبي",
      emirateDubai: "دبي",
      emirateSharjah: "الشارقة",
      emirateAjman: "عجمان",
      emirateUAQ: "أم القيوين",
      emirateRAK: "رأس الخيمة",
      emirateFujairah: "الفجيرة",
      deliveryMethod: "طريقة التوصيل",
      standardDelivery: "عادي (من يومين إلى أربعة أيام عمل)",
      expressDelivery: "سريع (يوم العمل التالي)",
      notes: "ملاحظات التوصيل (اختياري)",
      payment: "الدفع",
      paymentNote: "ادفع بالبطاقة أو نقداً عند استلام طلبك. هذا متجر تجريبي، فلن يُحصَّل أي مبلغ.",
      placeOrder: "تأكيد الطلب",
      errRequired: "يرجى تعبئة هذا الحقل.",
      errEmail: "يرجى إدخال بريد إلكتروني صحيح، مثل name@example.com.",
      errPhone: "يرجى إدخال رقم هاتف صحيح، مثل 050 123 4567.",
      errPassword: "يرجى استخدام 8 أحرف على الأقل.",
      formErrors: "يرجى تصحيح الحقول المشار إليها.",
      orderThanks: "شكراً لك يا {name}!",
      orderPlaced: "تم تسجيل طلبك بنجاح.",
      orderNumber: "رقم الطلب",
      orderEmailNote: "في العادة نرسل تأكيداً إلى {email}. هذا متجر تجريبي، لذلك لم يُرسَل أي بريد ولم يُحصَّل أي مبلغ.",
      rewardCode: "رمز المكافأة (اختياري)",
      rewardCodeHint: "استبدل نقاطك بمكافأة من صفحة حسابك، ثم أدخل رمزها هنا.",
      rewardLine: "المكافأة {code}",
      errCouponUnknown: "هذا الرمز غير موجود. تحقّق منه في صفحة حسابك.",
      errCouponUsed: "سبق استخدام هذا الرمز.",
      errCouponOwner: "هذا الرمز تابع لحساب آخر. سجّل الدخول إلى الحساب الذي استبدله.",
      errCheckout: "تعذّر إتمام طلبك. يرجى المحاولة مرة أخرى.",
      placingOrder: "جارٍ إتمام طلبك…",
      pointsEarned: "ربحت {points} نقطة من هذا الطلب. رصيدك الآن {balance} نقطة.",
      pointsSeeRewards: "اعرض مكافآتك",
      pointsSignIn: "سجّل الدخول قبل الطلب لتربح نقاط الولاء.",
      checkoutEmpty: "سلتك فارغة، فلا يوجد ما يمكن إتمام شرائه بعد.",
      accountTitle: "حسابي",
      signIn: "تسجيل الدخول",
      signInIntro: "أهلاً بعودتك. سجّل الدخول لمشاهدة طلباتك.",
      password: "كلمة المرور",
      passwordHint: "8 أحرف على الأقل.",
      register: "إنشاء حساب",
      registerIntro: "جديد هنا؟ أنشئ حساباً لإتمام الشراء بسرعة أكبر.",
      createAccount: "إنشاء الحساب",
      demoNote: "تجريبي: يمكنك استخدام أي بريد إلكتروني وكلمة مرور، ولا تغادر بياناتك متصفحك.",
      hello: "مرحباً، {name}",
      accountIntro: "أنت مسجّل الدخول في دار نور.",
      yourDetails: "بياناتك",
      name: "الاسم",
      customerId: "رقم العميل",
      ordersTitle: "طلباتك",
      noOrders: "لم تقدّم أي طلب بعد.",
      orderPlacedOn: "بتاريخ {date}",
      signOut: "تسجيل الخروج",
      signedIn: "تم تسجيل دخولك.",
      signedOut: "تم تسجيل خروجك.",
      footerAboutTitle: "عن دار نور",
      footerAbout: "متجر مستقل للأدوات المنزلية والهدايا. نتعامل مباشرة مع الحرفيين ونغلّف كل طلب بأيدينا.",
      footerShop: "تسوّق",
      footerHelp: "خدمة العملاء",
      privacyChoices: "خيارات الخصوصية",
      footerVisit: "زورونا",
      footerAddress: "مستودع 12، القوز 1، دبي",
      footerHours: "مفتوح يومياً من 10:00 حتى 20:00",
      footerDemo: "متجر تجريبي لإضافة souk: لا طلبات ولا مدفوعات حقيقية.",
      rights: "© {year} دار نور",
      titleHome: "دار نور — للبيت والهدايا",
      titleSuffix: "{page} | دار نور"
    }
  };

  // ---------------------------------------------------------------- utilities
  function storeGet(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function storeSet(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* storage unavailable */ }
  }
  function storeRemove(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* storage unavailable */ }
  }
  function readJSON(key, fallback) {
    var raw = storeGet(key);
    if (!raw) return fallback;
    try { var v = JSON.parse(raw); return v == null ? fallback : v; } catch (e) { return fallback; }
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function params() {
    try { return new URLSearchParams(window.location.search); } catch (e) { return { get: function () { return null; } }; }
  }
  function emit(name, detail) {
    try { document.dispatchEvent(new CustomEvent(name, { detail: detail })); } catch (e) { /* old browser */ }
  }
  function absUrl(path) {
    try { return new URL(path, window.location.href).href; } catch (e) { return path; }
  }
  function clampQty(n) {
    n = parseInt(n, 10);
    if (!isFinite(n) || n < 1) return 1;
    return Math.min(n, MAX_QTY);
  }
  function round2(n) { return Math.round(n * 100) / 100; }

  // ---------------------------------------------------------------- language
  var lang = "en";
  (function initLang() {
    var q = params().get("lang");
    if (q === "en" || q === "ar") {
      lang = q;
      storeSet(KEYS.lang, q);
    } else {
      var stored = storeGet(KEYS.lang);
      if (stored === "en" || stored === "ar") lang = stored;
    }
  })();

  function locale() { return lang === "ar" ? "ar-AE" : "en-AE"; }

  var pluralRules = {};
  function pluralCategory(n) {
    try {
      if (!pluralRules[lang]) pluralRules[lang] = new Intl.PluralRules(locale());
      return pluralRules[lang].select(n);
    } catch (e) { return n === 1 ? "one" : "other"; }
  }

  function t(key, vars) {
    var table = STRINGS[lang] || STRINGS.en;
    var parts = key.split(".");
    var v = table, fallback = STRINGS.en;
    for (var i = 0; i < parts.length; i++) {
      v = v == null ? undefined : v[parts[i]];
      fallback = fallback == null ? undefined : fallback[parts[i]];
    }
    if (v == null) v = fallback;
    if (v == null) return key;
    if (typeof v === "object") {
      var n = vars && typeof vars.n === "number" ? vars.n : 0;
      v = v[pluralCategory(n)] || v.other || "";
      vars = vars || {};
      if (vars.nText == null) vars.nText = formatNumber(n);
    }
    return String(v).replace(/\{(\w+)\}/g, function (m, name) {
      if (name === "n" && vars && vars.nText != null) return vars.nText;
      return vars && vars[name] != null ? vars[name] : m;
    });
  }

  var formatters = {};
  function formatPrice(amount) {
    var k = "price-" + lang;
    try {
      if (!formatters[k]) formatters[k] = new Intl.NumberFormat(locale(), { style: "currency", currency: "AED" });
      return formatters[k].format(amount);
    } catch (e) {
      return "AED " + Number(amount).toFixed(2);
    }
  }
  // Whole amounts without decimals ("AED 200"), for marketing copy.
  function formatPriceShort(amount) {
    var k = "price-short-" + lang;
    try {
      if (!formatters[k]) formatters[k] = new Intl.NumberFormat(locale(), { style: "currency", currency: "AED", minimumFractionDigits: 0, maximumFractionDigits: 0 });
      return formatters[k].format(amount);
    } catch (e) {
      return "AED " + Math.round(amount);
    }
  }
  function formatNumber(n) {
    var k = "num-" + lang;
    try {
      if (!formatters[k]) formatters[k] = new Intl.NumberFormat(locale());
      return formatters[k].format(n);
    } catch (e) { return String(n); }
  }
  function formatDate(iso) {
    try {
      return new Intl.DateTimeFormat(locale(), { year: "numeric", month: "long", day: "numeric" }).format(new Date(iso));
    } catch (e) { return String(iso).slice(0, 10); }
  }

  // ---------------------------------------------------------------- catalogue
  var catalog = { categories: [], products: [] };
  var byId = {};
  var bySlug = {};
  function setCatalog(data) {
    if (!data || !data.products) return;
    catalog = data;
    byId = {};
    bySlug = {};
    catalog.products.forEach(function (p) { byId[p.id] = p; });
    (catalog.categories || []).forEach(function (c) { bySlug[c.slug] = c; });
  }
  function pName(p) { return (p.name && (p.name[lang] || p.name.en)) || p.id; }
  function pDesc(p) { return (p.description && (p.description[lang] || p.description.en)) || ""; }
  function cName(slug) {
    var c = bySlug[slug];
    return c ? (c.name[lang] || c.name.en) : slug;
  }
  function inStock(p) { return p.availability === "in_stock"; }

  // ---------------------------------------------------------------- cart
  function readCart() {
    var raw = readJSON(KEYS.cart, []);
    if (!Array.isArray(raw)) return [];
    var seen = {};
    var lines = [];
    raw.forEach(function (l) {
      if (!l || typeof l.id !== "string" || seen[l.id]) return;
      seen[l.id] = true;
      lines.push({ id: l.id, qty: clampQty(l.qty) });
    });
    return lines;
  }
  function writeCart(lines) { storeSet(KEYS.cart, JSON.stringify(lines)); }
  function cartLines() {
    // Lines whose product is still in the catalogue.
    return readCart().filter(function (l) { return !!byId[l.id]; });
  }
  function cartCount() {
    return cartLines().reduce(function (s, l) { return s + l.qty; }, 0);
  }
  function cartSubtotal(lines) {
    return round2((lines || cartLines()).reduce(function (s, l) { return s + byId[l.id].price * l.qty; }, 0));
  }
  function addToCart(id, qty) {
    var p = byId[id];
    if (!p || !inStock(p)) return 0;
    var lines = readCart();
    var line = null;
    lines.forEach(function (l) { if (l.id === id) line = l; });
    var before = line ? line.qty : 0;
    if (line) line.qty = clampQty(line.qty + qty);
    else lines.push({ id: id, qty: clampQty(qty) });
    writeCart(lines);
    var added = (line ? line.qty : clampQty(qty)) - before;
    emit("shop:add-to-cart", { productId: id, sku: p.sku, quantity: added, price: p.price, currency: p.currency });
    return added;
  }
  function setQty(id, qty) {
    var lines = readCart();
    lines.forEach(function (l) { if (l.id === id) l.qty = clampQty(qty); });
    writeCart(lines);
  }
  function removeFromCart(id) {
    var p = byId[id];
    var lines = readCart();
    var removed = 0;
    lines = lines.filter(function (l) { if (l.id === id) { removed = l.qty; return false; } return true; });
    writeCart(lines);
    if (p) emit("shop:remove-from-cart", { productId: id, sku: p.sku, quantity: removed, price: p.price, currency: p.currency });
  }
  function deliveryCost(subtotal, method) {
    if (method === "express") return EXPRESS_DELIVERY;
    return subtotal >= FREE_DELIVERY_FROM ? 0 : STANDARD_DELIVERY;
  }

  // ---------------------------------------------------------------- toast
  var toastTimer = null;
  function toast(message, link) {
    var box = $("#toast");
    if (!box) return;
    box.innerHTML = '<p class="toast-text">' + esc(message) + "</p>" +
      (link ? '<a class="toast-link" href="' + esc(link.href) + '">' + esc(link.text) + "</a>" : "");
    box.classList.add("is-visible");
    if (toastTimer) clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.classList.remove("is-visible"); }, 4500);
  }

  // ---------------------------------------------------------------- snippets
  var ICON_BAG = '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6 8h12l-1 12H7z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/><path d="M9 8V7a3 3 0 0 1 6 0v1" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>';
  var ICON_ARROW = '<svg class="icon icon-flip" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M5 12h13M13 6l6 6-6 6" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>';
  var ICON_TRASH = '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M5 7h14M10 7V5h4v2M7 7l1 12h8l1-12" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';
  var ICON_USER = '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="8" r="4" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M4 20c1.5-4 4.5-6 8-6s6.5 2 8 6" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>';
  var BRAND_MARK = '<svg class="brand-mark" viewBox="0 0 32 32" width="40" height="40" aria-hidden="true" focusable="false"><rect width="32" height="32" rx="8" fill="#1e5b57"/><path d="M9 27V15a7 7 0 0 1 14 0v12z" fill="#f6efe3"/><path d="M16 11l1.4 3.2 3.2 1.4-3.2 1.4-1.4 3.2-1.4-3.2-3.2-1.4 3.2-1.4z" fill="#c0572e"/></svg>';

  // The site header and footer, one copy for every page. A page carries only the
  // empty landmarks <header class="site-header" data-site-header></header> and
  // <footer class="site-footer" data-site-footer></footer>; renderChrome() fills them
  // while the page parses. Static markup only: the words come from STRINGS through
  // [data-i18n] / [data-i18n-attr] (applyLangToDocument), the category links from the
  // catalogue (renderCategoryNav), the cart count from renderCartBadge.
  var HEADER_HTML = [
    "",
    '  <div class="container header-bar">',
    '    <a class="brand" href="/index.html">',
    "      " + BRAND_MARK,
    '      <span class="brand-text"><span class="brand-name" data-i18n="shopName"></span><span class="brand-tag" data-i18n="shopTagline"></span></span>',
    "    </a>",
    '    <div class="header-actions">',
    '      <a class="header-link" href="/account.html">' + ICON_USER + '<span class="header-link-text" data-i18n="account"></span></a>',
    '      <a class="header-link cart-link" href="/cart.html" data-cart-link>' + ICON_BAG + '<span class="header-link-text" data-i18n="cart"></span>' +
      '<span class="cart-badge is-empty" data-cart-count aria-hidden="true"></span><span class="visually-hidden" data-cart-count-label></span></a>',
    '      <button type="button" class="lang-switch" data-lang-switch data-lang-target="ar" lang="ar"></button>',
    "    </div>",
    "  </div>",
    '  <nav class="cat-nav" aria-label="Categories" data-i18n-attr="aria-label:navCategories">',
    '    <div class="container">',
    '      <ul class="cat-nav-list" data-cat-nav></ul>',
    "    </div>",
    "  </nav>",
    ""
  ].join("\n");

  var FOOTER_HTML = [
    "",
    '  <div class="container footer-grid">',
    '    <section class="footer-about" aria-labelledby="footer-about-title">',
    '      <h2 id="footer-about-title" class="footer-title" data-i18n="footerAboutTitle"></h2>',
    '      <p data-i18n="footerAbout"></p>',
    "    </section>",
    '    <nav aria-labelledby="footer-shop-title">',
    '      <h2 id="footer-shop-title" class="footer-title" data-i18n="footerShop"></h2>',
    '      <ul class="footer-links" data-footer-cats></ul>',
    "    </nav>",
    '    <nav aria-labelledby="footer-help-title">',
    '      <h2 id="footer-help-title" class="footer-title" data-i18n="footerHelp"></h2>',
    '      <ul class="footer-links">',
    '        <li><a href="/account.html" data-i18n="account"></a></li>',
    '        <li><a href="/cart.html" data-i18n="cart"></a></li>',
    '        <li><a href="/checkout.html" data-i18n="checkout"></a></li>',
    '        <li><button type="button" class="footer-link-button" data-privacy-choices data-i18n="privacyChoices"></button></li>',
    "      </ul>",
    "    </nav>",
    '    <section aria-labelledby="footer-visit-title">',
    '      <h2 id="footer-visit-title" class="footer-title" data-i18n="footerVisit"></h2>',
    "      <address>",
    '        <span data-i18n="footerAddress"></span><br>',
    '        <span data-i18n="footerHours"></span><br>',
    '        <bdi dir="ltr">hello@darnoor.example</bdi>',
    "      </address>",
    "    </section>",
    "  </div>",
    '  <div class="container footer-bottom">',
    "    <p data-year></p>",
    '    <p data-i18n="footerDemo"></p>',
    "  </div>",
    ""
  ].join("\n");

  function stockBadge(p) {
    return inStock(p)
      ? '<span class="stock stock-in">' + esc(t("inStock")) + "</span>"
      : '<span class="stock stock-out">' + esc(t("outOfStock")) + "</span>";
  }

  function qtyStepper(id, value, label, extraAttrs) {
    return '<div class="qty">' +
      '<button type="button" class="qty-btn" data-qty-step="-1" aria-label="' + esc(t("decrease")) + '"' + (value <= 1 ? " disabled" : "") + ">−</button>" +
      '<input class="qty-input" type="number" inputmode="numeric" min="1" max="' + MAX_QTY + '" value="' + value + '" id="' + esc(id) + '"' +
      (label ? ' aria-label="' + esc(label) + '"' : "") + (extraAttrs || "") + ">" +
      '<button type="button" class="qty-btn" data-qty-step="1" aria-label="' + esc(t("increase")) + '"' + (value >= MAX_QTY ? " disabled" : "") + ">+</button>" +
      "</div>";
  }

  // souk's product attributes (see www/README.md): what a list view, a click or an
  // add to cart reports about the product.
  function soukProduct(p) {
    return ' data-souk-product="' + esc(p.id) + '" data-souk-sku="' + esc(p.sku) + '" data-souk-name="' + esc(pName(p)) +
      '" data-souk-brand="' + esc(p.brand) + '" data-souk-category="' + esc(p.category) +
      '" data-souk-price="' + esc(String(p.price)) + '" data-souk-currency="' + esc(p.currency || "AED") + '"';
  }

  // One product card, a [data-souk-product] in its grid's [data-souk-list]; its
  // quick-add button is a [data-souk-add-to-cart].
  function productCard(p, position, headingLevel) {
    var h = "h" + (headingLevel || 3);
    var name = pName(p);
    var button = inStock(p)
      ? '<button type="button" class="btn btn-small btn-primary" data-souk-action="add-to-cart" data-souk-add-to-cart data-souk-product-id="' + esc(p.id) + '" data-souk-quantity="1" aria-label="' + esc(t("addNamed", { name: name })) + '">' + ICON_BAG + "<span>" + esc(t("addToCart")) + "</span></button>"
      : '<button type="button" class="btn btn-small btn-muted" disabled data-souk-action="add-to-cart" data-souk-product-id="' + esc(p.id) + '">' + esc(t("soldOut")) + "</button>";
    return '<li class="grid-item"><article class="product-card' + (inStock(p) ? "" : " is-sold-out") + '"' + soukProduct(p) +
      ' data-souk-position="' + position + '">' +
      '<a class="card-link" href="' + esc(p.url) + '" data-souk-product-id="' + esc(p.id) + '">' +
      '<span class="card-media"><img src="' + esc(p.image) + '" alt="" width="400" height="400" loading="lazy" decoding="async">' +
      (inStock(p) ? "" : '<span class="card-flag">' + esc(t("soldOut")) + "</span>") + "</span>" +
      "<" + h + ' class="card-title">' + esc(name) + "</" + h + ">" +
      "</a>" +
      '<p class="card-brand"><bdi>' + esc(p.brand) + "</bdi></p>" +
      '<div class="card-foot"><p class="price">' + esc(formatPrice(p.price)) + "</p>" + button + "</div>" +
      "</article></li>";
  }

  // A product grid is a souk list: `listId` names it, `category` (a slug) is optional.
  function renderGrid(el, products, listId, headingLevel, category) {
    if (!el) return;
    el.setAttribute("data-souk-list", listId);
    if (category) el.setAttribute("data-souk-category", category);
    else el.removeAttribute("data-souk-category");
    el.innerHTML = products.map(function (p, i) { return productCard(p, i + 1, headingLevel); }).join("");
  }

  function breadcrumb(items) {
    return '<nav class="breadcrumb" aria-label="' + esc(t("breadcrumb")) + '"><ol>' + items.map(function (it, i) {
      var last = i === items.length - 1;
      return "<li>" + (last ? '<span aria-current="page">' + esc(it.text) + "</span>" : '<a href="' + esc(it.href) + '">' + esc(it.text) + "</a>") + "</li>";
    }).join("") + "</ol></nav>";
  }

  // ---------------------------------------------------------------- chrome
  // Fills the empty header and footer landmarks (once; the words and lists follow).
  function renderChrome() {
    var header = $("[data-site-header]");
    if (header && !header.firstElementChild) header.innerHTML = HEADER_HTML;
    var footer = $("[data-site-footer]");
    if (footer && !footer.firstElementChild) footer.innerHTML = FOOTER_HTML;
  }

  function applyLangToDocument() {
    var html = document.documentElement;
    html.setAttribute("lang", lang);
    html.setAttribute("dir", lang === "ar" ? "rtl" : "ltr");
    $all("[data-i18n]").forEach(function (el) { el.textContent = t(el.getAttribute("data-i18n")); });
    $all("[data-i18n-attr]").forEach(function (el) {
      el.getAttribute("data-i18n-attr").split(";").forEach(function (pair) {
        var bits = pair.split(":");
        if (bits.length === 2) el.setAttribute(bits[0].trim(), t(bits[1].trim()));
      });
    });
    $all("[data-lang-switch]").forEach(function (btn) {
      var other = lang === "ar" ? "en" : "ar";
      btn.textContent = other === "ar" ? "العربية" : "English";
      btn.setAttribute("lang", other);
      btn.setAttribute("data-lang-target", other);
    });
    $all("[data-year]").forEach(function (el) { el.textContent = t("rights", { year: formatNumber(new Date().getFullYear()).replace(/[,٬]/g, "") }); });
    $all("[data-perk-delivery]").forEach(function (el) { el.textContent = t("perkDelivery", { amount: formatPriceShort(FREE_DELIVERY_FROM) }); });
  }

  function setTitle(page) {
    document.title = page ? t("titleSuffix", { page: page }) : t("titleHome");
  }

  // <li><a href aria-current?>name</a></li>, the name as text.
  function navItem(href, text, current) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.setAttribute("href", href);
    if (current) a.setAttribute("aria-current", "page");
    a.textContent = text;
    li.appendChild(a);
    return li;
  }
  function fillList(ul, items) {
    ul.textContent = "";
    items.forEach(function (li) { ul.appendChild(li); });
  }

  // The category links of the header nav (with "All products" first) and of the
  // footer. In the header, the link of activeSlug is the current page ("" for all
  // products, null for none).
  function renderCategoryNav(activeSlug) {
    var cats = catalog.categories || [];
    var href = function (c) { return c.url || "/category.html?c=" + c.slug; };
    $all("[data-cat-nav]").forEach(function (ul) {
      fillList(ul, [navItem("/category.html", t("navAll"), activeSlug === "")].concat(cats.map(function (c) {
        return navItem(href(c), cName(c.slug), c.slug === activeSlug);
      })));
    });
    $all("[data-footer-cats]").forEach(function (ul) {
      fillList(ul, cats.map(function (c) { return navItem(href(c), cName(c.slug), false); }));
    });
  }

  // The nav's current category: on the category page, its slug ("" for all
  // products, null when the slug is unknown); null on every other page.
  function activeCategory() {
    if (page !== "category") return null;
    var slug = params().get("c") || "";
    return !slug || bySlug[slug] ? slug : null;
  }

  function markCurrentHeaderLinks() {
    var path = window.location.pathname;
    $all(".header-actions a").forEach(function (a) {
      var here = a.getAttribute("href") === path;
      if (here) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
  }

  function renderCartBadge() {
    var n = cartCount();
    $all("[data-cart-count]").forEach(function (el) {
      el.textContent = formatNumber(n);
      el.classList.toggle("is-empty", n === 0);
    });
    $all("[data-cart-count-label]").forEach(function (el) {
      el.textContent = t("cartLabel", { count: t("itemsCount", { n: n }) });
    });
  }

  // ---------------------------------------------------------------- pages
  var page = (document.body && document.body.getAttribute("data-page")) || "";

  function renderHome() {
    setTitle("");
    var featured = FEATURED.map(function (id) { return byId[id]; }).filter(Boolean);
    renderGrid($("[data-featured]"), featured, "home-featured", 3);
    var grid = $("[data-category-grid]");
    if (grid) {
      grid.innerHTML = (catalog.categories || []).map(function (c) {
        var count = catalog.products.filter(function (p) { return p.category === c.slug; }).length;
        return '<li><a class="category-tile" href="' + esc(c.url) + '">' +
          '<img src="' + esc(c.image) + '" alt="" width="400" height="400" loading="lazy" decoding="async">' +
          '<span class="category-tile-text"><span class="category-tile-name">' + esc(cName(c.slug)) + "</span>" +
          '<span class="category-tile-count">' + esc(t("productsCount", { n: count })) + "</span></span></a></li>";
      }).join("");
    }
  }

  var SORTS = ["featured", "price-asc", "price-desc", "name-asc", "name-desc"];
  function currentSort() {
    var sel = $("[data-sort]");
    var v = sel ? sel.value : params().get("sort");
    return SORTS.indexOf(v) >= 0 ? v : "featured";
  }

  function renderCategory() {
    var q = params();
    var slug = q.get("c") || "";
    var root = $("[data-category-root]");
    if (!root) return;
    var cat = slug ? bySlug[slug] : null;
    var sel = $("[data-sort]");
    if (sel && !sel.getAttribute("data-init")) {
      var s = q.get("sort");
      if (SORTS.indexOf(s) >= 0) sel.value = s;
      sel.setAttribute("data-init", "1");
    }
    var head = $("[data-listing-head]");
    if (slug && !cat) {
      setTitle(t("notFoundTitle"));
      if (head) head.hidden = true;
      $("[data-category-breadcrumb]").innerHTML = "";
      root.innerHTML = '<div class="notice"><h1>' + esc(t("categoryNotFound")) + '</h1><p><a class="btn btn-primary" href="/category.html">' + esc(t("backToShop")) + "</a></p></div>";
      return;
    }
    if (head) head.hidden = false;
    var title = cat ? cName(slug) : t("navAll");
    setTitle(title);
    var crumbs = [{ text: t("home"), href: "/index.html" }];
    if (cat) crumbs.push({ text: t("navAll"), href: "/category.html" });
    crumbs.push({ text: title });
    $("[data-category-breadcrumb]").innerHTML = breadcrumb(crumbs);
    $("[data-category-title]").textContent = title;
    $("[data-category-intro]").textContent = t("catIntro." + (cat ? slug : "all"));
    var products = catalog.products.filter(function (p) { return !cat || p.category === slug; });
    var sort = currentSort();
    var collator = null;
    try { collator = new Intl.Collator(locale()); } catch (e) { collator = null; }
    var byName = function (a, b) {
      return collator ? collator.compare(pName(a), pName(b)) : (pName(a) < pName(b) ? -1 : 1);
    };
    products = products.slice();
    if (sort === "price-asc") products.sort(function (a, b) { return a.price - b.price || byName(a, b); });
    else if (sort === "price-desc") products.sort(function (a, b) { return b.price - a.price || byName(a, b); });
    else if (sort === "name-asc") products.sort(byName);
    else if (sort === "name-desc") products.sort(function (a, b) { return byName(b, a); });
    $("[data-category-count]").textContent = t("productsCount", { n: products.length });
    var grid = root.querySelector("[data-product-grid]");
    if (!grid) {
      root.innerHTML = '<ul class="product-grid" data-product-grid></ul>';
      grid = root.querySelector("[data-product-grid]");
    }
    renderGrid(grid, products, "category-" + (cat ? slug : "all"), 2, cat ? slug : "");
  }

  function productJsonLd(p) {
    var data = {
      "@context": "https://schema.org",
      "@type": "Product",
      productID: p.id,
      sku: p.sku,
      name: pName(p),
      description: pDesc(p),
      image: absUrl(p.image),
      brand: { "@type": "Brand", name: p.brand },
      category: p.category,
      url: absUrl(p.url),
      offers: {
        "@type": "Offer",
        price: p.price,
        priceCurrency: p.currency || "AED",
        availability: inStock(p) ? "https://schema.org/InStock" : "https://schema.org/OutOfStock",
        url: absUrl(p.url)
      }
    };
    return JSON.stringify(data, null, 2).replace(/</g, "\\u003c");
  }

  function upsertJsonLd(p) {
    var el = document.getElementById("shop-product-jsonld");
    if (!el) {
      el = document.createElement("script");
      el.type = "application/ld+json";
      el.id = "shop-product-jsonld";
      document.head.appendChild(el);
    }
    el.textContent = productJsonLd(p);
  }

  function renderProduct() {
    var id = params().get("id") || "";
    var p = byId[id];
    var root = $("[data-product-root]");
    if (!root) return;
    if (!p) {
      setTitle(t("notFoundTitle"));
      root.innerHTML = '<div class="notice"><h1>' + esc(t("productNotFound")) + '</h1><p><a class="btn btn-primary" href="/category.html">' + esc(t("backToShop")) + "</a></p></div>";
      return;
    }
    upsertJsonLd(p);
    var name = pName(p);
    setTitle(name);
    var prevQty = $("#qty", root);
    var qty = prevQty ? clampQty(prevQty.value) : 1;
    var buy = inStock(p)
      ? '<form class="buy-form" data-buy-form>' +
        '<div class="field field-qty"><label for="qty">' + esc(t("quantity")) + "</label>" + qtyStepper("qty", qty, "", "") + "</div>" +
        '<button type="submit" class="btn btn-primary btn-large" data-souk-action="add-to-cart" data-souk-add-to-cart data-souk-product-id="' + esc(p.id) + '" data-souk-quantity="' + qty + '">' + ICON_BAG + "<span>" + esc(t("addToCart")) + "</span></button>" +
        "</form>"
      : '<p class="sold-out-note">' + esc(t("outOfStockNote")) + "</p>" +
        '<button type="button" class="btn btn-muted btn-large" disabled data-souk-action="add-to-cart" data-souk-product-id="' + esc(p.id) + '">' + esc(t("soldOut")) + "</button>";
    root.innerHTML =
      breadcrumb([{ text: t("home"), href: "/index.html" }, { text: cName(p.category), href: "/category.html?c=" + p.category }, { text: name }]) +
      // schema.org microdata as well as the JSON-LD in <head>, as many shops have
      // both; souk counts one product view (JSON-LD wins).
      '<article class="product-detail" data-product-detail="' + esc(p.id) + '"' + soukProduct(p) + ' itemscope itemtype="https://schema.org/Product">' +
      '<meta itemprop="productID" content="' + esc(p.id) + '"><meta itemprop="category" content="' + esc(p.category) + '">' +
      '<link itemprop="url" href="' + esc(absUrl(p.url)) + '">' +
      '<div class="product-media"><img itemprop="image" src="' + esc(p.image) + '" alt="' + esc(name) + '" width="400" height="400"></div>' +
      '<div class="product-info">' +
      '<p class="eyebrow"><bdi itemprop="brand">' + esc(p.brand) + "</bdi></p>" +
      '<h1 class="product-title" itemprop="name">' + esc(name) + "</h1>" +
      '<div class="product-price-row" itemprop="offers" itemscope itemtype="https://schema.org/Offer">' +
      '<meta itemprop="price" content="' + esc(String(p.price)) + '"><meta itemprop="priceCurrency" content="' + esc(p.currency || "AED") + '">' +
      '<link itemprop="availability" href="https://schema.org/' + (inStock(p) ? "InStock" : "OutOfStock") + '">' +
      '<p class="price price-large">' + esc(formatPrice(p.price)) + "</p>" + stockBadge(p) + "</div>" +
      '<p class="product-description" itemprop="description">' + esc(pDesc(p)) + "</p>" +
      buy +
      '<ul class="product-notes"><li>' + esc(t("deliveryNote")) + "</li><li>" + esc(t("returnsNote")) + "</li></ul>" +
      '<h2 class="visually-hidden">' + esc(t("details")) + "</h2>" +
      '<dl class="product-specs">' +
      "<div><dt>" + esc(t("brand")) + "</dt><dd><bdi>" + esc(p.brand) + "</bdi></dd></div>" +
      "<div><dt>" + esc(t("category")) + '</dt><dd><a href="/category.html?c=' + esc(p.category) + '">' + esc(cName(p.category)) + "</a></dd></div>" +
      "<div><dt>" + esc(t("sku")) + '</dt><dd><bdi dir="ltr" itemprop="sku">' + esc(p.sku) + "</bdi></dd></div>" +
      "</dl></div></article>" +
      // "You may also like" comes from souk: scored on the shopper's device from the
      // model souk-server builds out of what shoppers view, add and buy.
      '<div class="section"><souk-recommendations surface="similar" product="' + esc(p.id) + '" limit="4"></souk-recommendations></div>';
  }

  function cartSummary(lines, method, withLines) {
    var subtotal = cartSubtotal(lines);
    var ship = deliveryCost(subtotal, method);
    var html = "";
    if (withLines) {
      html += '<ul class="summary-lines">' + lines.map(function (l) {
        var p = byId[l.id];
        return '<li><img src="' + esc(p.image) + '" alt="" width="48" height="48"><span class="summary-name">' + esc(pName(p)) +
          '<span class="summary-qty muted">× ' + esc(formatNumber(l.qty)) + '</span></span><span class="summary-amount">' + esc(formatPrice(p.price * l.qty)) + "</span></li>";
      }).join("") + "</ul>";
    }
    html += '<dl class="totals">' +
      "<div><dt>" + esc(t("subtotal")) + "</dt><dd>" + esc(formatPrice(subtotal)) + "</dd></div>" +
      "<div><dt>" + esc(t("delivery")) + "</dt><dd>" + esc(ship === 0 ? t("free") : formatPrice(ship)) + "</dd></div>" +
      '<div class="totals-grand"><dt>' + esc(t("total")) + "</dt><dd>" + esc(formatPrice(subtotal + ship)) + "</dd></div></dl>";
    if (method !== "express") {
      html += '<p class="summary-hint">' + esc(subtotal >= FREE_DELIVERY_FROM ? t("freeDeliveryOk") : t("freeDeliveryHint", { amount: formatPrice(FREE_DELIVERY_FROM - subtotal) })) + "</p>";
    }
    return html;
  }

  function renderCart() {
    setTitle(t("cartTitle"));
    var root = $("[data-cart-root]");
    if (!root) return;
    var lines = cartLines();
    // souk's "Frequently bought together" scores what is in this cart.
    var recs = $("souk-recommendations[surface=cart]");
    if (recs) recs.setAttribute("cart", lines.map(function (l) { return l.id; }).join(","));
    if (!lines.length) {
      root.innerHTML = '<div class="notice"><p class="notice-title">' + esc(t("cartEmpty")) + "</p><p>" + esc(t("cartEmptyHint")) +
        '</p><p><a class="btn btn-primary" href="/category.html">' + esc(t("continueShopping")) + "</a></p></div>";
      return;
    }
    var focusId = document.activeElement && document.activeElement.id;
    root.innerHTML = '<div class="cart-layout">' +
      '<ul class="cart-lines">' + lines.map(function (l) {
        var p = byId[l.id];
        var name = pName(p);
        return '<li class="cart-line" data-souk-product-id="' + esc(p.id) + '" data-line-id="' + esc(p.id) + '">' +
          '<a class="cart-line-media" href="' + esc(p.url) + '" tabindex="-1" aria-hidden="true"><img src="' + esc(p.image) + '" alt="" width="96" height="96"></a>' +
          '<div class="cart-line-info"><h2 class="cart-line-title"><a href="' + esc(p.url) + '">' + esc(name) + "</a></h2>" +
          '<p class="muted">' + esc(t("each", { price: formatPrice(p.price) })) + "</p>" +
          (inStock(p) ? "" : stockBadge(p)) +
          '<button type="button" class="link-button" data-souk-action="remove-from-cart" data-souk-product-id="' + esc(p.id) + '" aria-label="' + esc(t("removeNamed", { name: name })) + '">' + ICON_TRASH + "<span>" + esc(t("remove")) + "</span></button></div>" +
          '<div class="cart-line-qty">' + qtyStepper("qty-" + p.id, l.qty, t("qtyFor", { name: name }), ' data-cart-qty="' + esc(p.id) + '"') + "</div>" +
          '<p class="cart-line-total price">' + esc(formatPrice(p.price * l.qty)) + "</p>" +
          "</li>";
      }).join("") + "</ul>" +
      '<aside class="summary" aria-labelledby="cart-summary-title"><h2 id="cart-summary-title" class="summary-title">' + esc(t("summaryTitle")) + "</h2>" +
      '<p class="muted">' + esc(t("itemsCount", { n: cartCount() })) + "</p>" +
      cartSummary(lines, "standard", false) +
      '<form action="/checkout.html" method="get" class="summary-action"><button type="submit" class="btn btn-primary btn-block btn-large" data-souk-action="checkout">' + esc(t("checkout")) + ICON_ARROW + "</button></form>" +
      '<p class="summary-continue"><a href="/category.html">' + esc(t("continueShopping")) + "</a></p>" +
      "</aside></div>";
    if (focusId) {
      var f = document.getElementById(focusId);
      if (f) f.focus();
    }
  }

  // ----- checkout
  var lastOrder = null;
  function deliveryMethod() {
    var r = $('input[name="delivery"]:checked');
    return r ? r.value : "standard";
  }

  function renderCheckout() {
    setTitle(t("checkoutTitle"));
    var main = $("[data-checkout-main]");
    var empty = $("[data-checkout-empty]");
    var confirm = $("[data-order-confirmation]");
    if (!main || !empty || !confirm) return;
    if (lastOrder) {
      main.hidden = true;
      empty.hidden = true;
      confirm.hidden = false;
      renderConfirmation(confirm, lastOrder);
      return;
    }
    confirm.hidden = true;
    var lines = cartLines();
    // souk's "Frequently bought together" scores what is in this cart.
    var recs = $("souk-recommendations[surface=cart]");
    if (recs) recs.setAttribute("cart", lines.map(function (l) { return l.id; }).join(","));
    if (!lines.length) {
      main.hidden = true;
      empty.hidden = false;
      empty.innerHTML = '<p class="notice-title">' + esc(t("checkoutEmpty")) + '</p><p><a class="btn btn-primary" href="/category.html">' + esc(t("continueShopping")) + "</a></p>";
      return;
    }
    empty.hidden = true;
    main.hidden = false;
    $("[data-checkout-summary]").innerHTML = cartSummary(lines, deliveryMethod(), true);
    $all("[data-delivery-price]").forEach(function (el) {
      var m = el.getAttribute("data-delivery-price");
      var cost = deliveryCost(cartSubtotal(lines), m);
      el.textContent = cost === 0 ? t("free") : formatPrice(cost);
    });
    // Re-translate any visible validation messages.
    $all(".field-error[data-error-key]").forEach(function (el) {
      el.textContent = t(el.getAttribute("data-error-key"));
    });
    var user = currentUser();
    if (user) {
      var email = $("#co-email"), fname = $("#co-name");
      if (email && !email.value) email.value = user.email || "";
      if (fname && !fname.value && user.name) fname.value = user.name;
    }
  }

  function renderConfirmation(box, order) {
    box.setAttribute("data-souk-order-id", order.id);
    box.setAttribute("data-souk-order-total", order.total.toFixed(2));
    box.setAttribute("data-souk-currency", order.currency);
    box.innerHTML = '<div class="confirmation-card">' +
      '<svg class="confirmation-icon" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><circle cx="24" cy="24" r="22" fill="#1e5b57"/><path d="M14 25l7 7 13-15" fill="none" stroke="#fff" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/></svg>' +
      '<h2 class="confirmation-title" tabindex="-1" data-confirmation-heading>' + esc(t("orderThanks", { name: order.firstName })) + "</h2>" +
      "<p>" + esc(t("orderPlaced")) + "</p>" +
      '<p class="order-id"><span>' + esc(t("orderNumber")) + '</span> <strong><bdi dir="ltr" data-order-id>' + esc(order.id) + "</bdi></strong></p>" +
      '<ul class="summary-lines">' + order.lines.map(function (l) {
        var p = byId[l.id];
        var name = p ? pName(p) : l.id;
        return '<li>' + (p ? '<img src="' + esc(p.image) + '" alt="" width="48" height="48">' : "") + '<span class="summary-name">' + esc(name) +
          '<span class="summary-qty muted">× ' + esc(formatNumber(l.qty)) + '</span></span><span class="summary-amount">' + esc(formatPrice(l.price * l.qty)) + "</span></li>";
      }).join("") + "</ul>" +
      '<dl class="totals"><div><dt>' + esc(t("subtotal")) + "</dt><dd>" + esc(formatPrice(order.subtotal)) + "</dd></div>" +
      (order.discount ? '<div data-order-discount><dt>' + esc(t("rewardLine", { code: order.coupon })) + "</dt><dd>" + esc(formatPrice(-order.discount)) + "</dd></div>" : "") +
      "<div><dt>" + esc(t("delivery")) + "</dt><dd>" + esc(order.delivery === 0 ? t("free") : formatPrice(order.delivery)) + "</dd></div>" +
      '<div class="totals-grand"><dt>' + esc(t("total")) + "</dt><dd>" + esc(formatPrice(order.total)) + "</dd></div></dl>" +
      (order.points
        ? '<p class="order-points" data-order-points>' + esc(t("pointsEarned", { points: formatNumber(order.points.earned), balance: formatNumber(order.points.balance) })) +
          ' <a href="/account.html">' + esc(t("pointsSeeRewards")) + "</a></p>"
        : '<p class="muted">' + esc(t("pointsSignIn")) + "</p>") +
      '<p class="muted">' + esc(t("orderEmailNote", { email: order.email })) + "</p>" +
      '<p><a class="btn btn-primary" href="/category.html">' + esc(t("continueShopping")) + "</a></p></div>";
  }

  function makeOrderId() {
    var d = new Date();
    var ymd = String(d.getFullYear()).slice(2) + ("0" + (d.getMonth() + 1)).slice(-2) + ("0" + d.getDate()).slice(-2);
    var alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    var out = "";
    var bytes = null;
    try { bytes = window.crypto.getRandomValues(new Uint8Array(5)); } catch (e) { bytes = null; }
    for (var i = 0; i < 5; i++) {
      var b = bytes ? bytes[i] : Math.floor(Math.random() * 256);
      out += alphabet.charAt(b % alphabet.length);
    }
    return "DN-" + ymd + "-" + out;
  }

  // ----- form validation (messages in the page language, no native bubbles)
  var EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  var PHONE_RE = /^\+?[0-9][0-9\s\-()]{6,18}$/;
  function validateField(input) {
    var v = (input.value || "").trim();
    var key = "";
    if (input.required && !v) key = "errRequired";
    else if (v && input.type === "email" && !EMAIL_RE.test(v)) key = "errEmail";
    else if (v && input.type === "tel" && !PHONE_RE.test(v)) key = "errPhone";
    else if (v && input.type === "password" && input.getAttribute("minlength") && v.length < parseInt(input.getAttribute("minlength"), 10)) key = "errPassword";
    var err = document.getElementById(input.id + "-error");
    if (key) {
      input.setAttribute("aria-invalid", "true");
      if (err) { err.textContent = t(key); err.setAttribute("data-error-key", key); err.hidden = false; }
    } else {
      input.removeAttribute("aria-invalid");
      if (err) { err.textContent = ""; err.removeAttribute("data-error-key"); err.hidden = true; }
    }
    return !key;
  }
  function validateForm(form) {
    var first = null;
    $all("input, select, textarea", form).forEach(function (el) {
      if (!el.id || el.type === "radio" || el.type === "hidden") return;
      if (!validateField(el) && !first) first = el;
    });
    if (first) first.focus();
    return !first;
  }

  // The demo's "session": the signed-in shopper and the userHash their shop's server
  // would compute (HMAC-SHA256 of the id with the shop's identity secret). A real shop
  // signs on its server and never ships the secret; Dar Noor has no server, so the
  // demo signs here with a demo secret that scripts/demo.sh gives souk-server too.
  var DEMO_IDENTITY_SECRET = "souk_demo_identity_secret";
  function session() {
    var user = currentUser();
    if (!user) return Promise.resolve(null);
    var who = { userId: user.id, email: user.email, name: user.name };
    if (!window.crypto || !crypto.subtle) return Promise.resolve(who);
    var bytes = function (text) { return new TextEncoder().encode(text); };
    var key = { name: "HMAC", hash: "SHA-256" };
    return crypto.subtle.importKey("raw", bytes(DEMO_IDENTITY_SECRET), key, false, ["sign"])
      .then(function (k) { return crypto.subtle.sign("HMAC", k, bytes(user.id)); })
      .then(function (mac) {
        var hex = Array.from(new Uint8Array(mac), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
        return Object.assign(who, { userHash: hex });
      });
  }

  // What the shop's backend says about an order: souk-server's demo checkout
  // (`serve --demo-shop`) prices it from the catalogue, takes a loyalty reward code
  // off and earns the shopper's points. Without that backend the order stays local.
  function checkoutOnServer(order, coupon) {
    return session().then(function (shopper) {
      var body = {
        orderId: order.id,
        deliveryMethod: order.deliveryMethod,
        lines: order.lines.map(function (l) { return { productId: l.id, quantity: l.qty }; })
      };
      if (shopper) { body.userId = shopper.userId; body.userHash = shopper.userHash; }
      if (coupon) body.coupon = coupon;
      return window.fetch("/demo/checkout", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    }).then(function (response) {
      if (response.status === 404 || response.status === 405) return null;
      return response.json().then(function (answer) {
        if (!response.ok) throw { status: response.status, coupon: /^(coupon|code):/.test(answer.error || "") };
        return answer;
      });
    }, function () { return null; });
  }

  function checkoutFailed(form, failure) {
    var key = "errCheckout";
    if (failure && failure.coupon) key = { 404: "errCouponUnknown", 409: "errCouponUsed", 403: "errCouponOwner" }[failure.status] || "errCouponUnknown";
    var target = key === "errCheckout" ? $("[data-checkout-error]") : document.getElementById("co-coupon-error");
    var input = key === "errCheckout" ? null : $("#co-coupon");
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    if (target) { target.textContent = t(key); target.setAttribute("data-error-key", key); target.hidden = false; }
  }

  var placing = false;
  function placeOrder(form) {
    if (placing || !validateForm(form)) return;
    var lines = cartLines();
    if (!lines.length) { renderCheckout(); return; }
    var method = deliveryMethod();
    var subtotal = cartSubtotal(lines);
    var delivery = deliveryCost(subtotal, method);
    var fullName = ($("#co-name").value || "").trim();
    var coupon = ($("#co-coupon") ? $("#co-coupon").value : "").trim().toUpperCase();
    var order = {
      id: makeOrderId(),
      date: new Date().toISOString(),
      lines: lines.map(function (l) { return { id: l.id, sku: byId[l.id].sku, qty: l.qty, price: byId[l.id].price }; }),
      subtotal: subtotal,
      discount: 0,
      delivery: delivery,
      deliveryMethod: method,
      total: round2(subtotal + delivery),
      currency: "AED"
    };
    var button = form.querySelector('[type="submit"]');
    var error = $("[data-checkout-error]");
    if (error) error.hidden = true;
    placing = true;
    if (button) { button.setAttribute("aria-disabled", "true"); button.setAttribute("data-label", button.textContent); button.textContent = t("placingOrder"); }
    var done = function () {
      placing = false;
      if (button) { button.removeAttribute("aria-disabled"); button.textContent = button.getAttribute("data-label"); }
    };
    var serverCall = window.fetch ? checkoutOnServer(order, coupon) : Promise.resolve(null);
    serverCall.then(guard(function (answer) {
      done();
      if (answer) {
        order.subtotal = answer.subtotal / 100;
        order.discount = answer.discount / 100;
        order.delivery = answer.shipping / 100;
        order.total = answer.total / 100;
        order.coupon = answer.coupon || null;
        order.points = answer.points || null;
      }
      orderPlaced(form, order, fullName);
    }), guard(function (failure) {
      done();
      checkoutFailed(form, failure);
    }));
  }

  function orderPlaced(form, order, fullName) {
    var orders = readJSON(KEYS.orders, []);
    if (!Array.isArray(orders)) orders = [];
    orders.unshift(order);
    storeSet(KEYS.orders, JSON.stringify(orders.slice(0, 20)));
    writeCart([]);
    // Personal details stay in memory only, for the confirmation.
    lastOrder = JSON.parse(JSON.stringify(order));
    lastOrder.firstName = fullName.split(/\s+/)[0] || fullName;
    lastOrder.email = ($("#co-email").value || "").trim();
    form.reset();
    renderCartBadge();
    renderCheckout();
    emit("shop:purchase", {
      orderId: order.id, total: order.total, subtotal: order.subtotal, delivery: order.delivery, currency: order.currency,
      items: order.lines.map(function (l) { return { productId: l.id, sku: l.sku, quantity: l.qty, price: l.price }; })
    });
    var h = $("[data-confirmation-heading]");
    if (h) h.focus();
    try { window.scrollTo(0, 0); } catch (e) { /* ignore */ }
  }

  // ----- account
  function currentUser() {
    var u = readJSON(KEYS.user, null);
    return u && typeof u.id === "string" ? u : null;
  }
  function userIdFor(email) {
    // FNV-1a: the same email always gives the same demo customer id.
    var h = 0x811c9dc5;
    var s = email.trim().toLowerCase();
    for (var i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = (h + ((h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24))) >>> 0;
    }
    return "u_" + ("0000000" + h.toString(16)).slice(-8);
  }
  function signIn(email, name) {
    var user = { id: userIdFor(email), email: email.trim(), name: name || email.split("@")[0] };
    storeSet(KEYS.user, JSON.stringify(user));
    emit("shop:login", { userId: user.id });
    return user;
  }

  function renderAccount() {
    setTitle(t("accountTitle"));
    var guest = $("[data-account-guest]");
    var view = $("[data-account-user]");
    if (!guest || !view) return;
    var user = currentUser();
    $all(".field-error[data-error-key]").forEach(function (el) { el.textContent = t(el.getAttribute("data-error-key")); });
    if (!user) {
      guest.hidden = false;
      view.hidden = true;
      view.innerHTML = "";
      return;
    }
    guest.hidden = true;
    view.hidden = false;
    var orders = readJSON(KEYS.orders, []);
    if (!Array.isArray(orders)) orders = [];
    view.innerHTML = '<div class="account-grid">' +
      '<section class="panel" aria-labelledby="acct-hello"><h2 id="acct-hello" tabindex="-1" data-account-heading>' + esc(t("hello", { name: user.name })) + "</h2>" +
      '<p class="muted">' + esc(t("accountIntro")) + "</p>" +
      '<h3 class="panel-subtitle">' + esc(t("yourDetails")) + "</h3>" +
      '<dl class="details"><div><dt>' + esc(t("name")) + "</dt><dd>" + esc(user.name) + "</dd></div>" +
      "<div><dt>" + esc(t("email")) + '</dt><dd><bdi dir="ltr">' + esc(user.email) + "</bdi></dd></div>" +
      "<div><dt>" + esc(t("customerId")) + '</dt><dd><bdi dir="ltr" data-customer-id>' + esc(user.id) + "</bdi></dd></div></dl>" +
      '<button type="button" class="btn btn-secondary" data-sign-out>' + esc(t("signOut")) + "</button></section>" +
      '<section class="panel" aria-labelledby="acct-orders"><h2 id="acct-orders">' + esc(t("ordersTitle")) + "</h2>" +
      (orders.length
        ? '<ul class="order-list">' + orders.map(function (o) {
          var n = (o.lines || []).reduce(function (s, l) { return s + (l.qty || 0); }, 0);
          return '<li><p class="order-list-id"><bdi dir="ltr">' + esc(o.id) + '</bdi></p><p class="muted">' + esc(t("orderPlacedOn", { date: formatDate(o.date) })) +
            " · " + esc(t("itemsCount", { n: n })) + '</p><p class="price">' + esc(formatPrice(o.total || 0)) + "</p></li>";
        }).join("") + "</ul>"
        : '<p class="muted">' + esc(t("noOrders")) + '</p><p><a class="btn btn-primary" href="/category.html">' + esc(t("continueShopping")) + "</a></p>") +
      "</section></div>";
  }

  // ---------------------------------------------------------------- render all
  function renderPage() {
    switch (page) {
      case "home": renderHome(); break;
      case "category": renderCategory(); break;
      case "product": renderProduct(); break;
      case "cart": renderCart(); break;
      case "checkout": renderCheckout(); break;
      case "account": renderAccount(); break;
      default: setTitle("");
    }
  }
  function renderAll() {
    applyLangToDocument();
    markCurrentHeaderLinks();
    renderCategoryNav(activeCategory());
    renderPage();
    renderCartBadge();
  }

  function setLang(next) {
    if (next !== "en" && next !== "ar") return;
    lang = next;
    storeSet(KEYS.lang, next);
    renderAll();
    emit("shop:lang", { lang: lang });
  }

  // ---------------------------------------------------------------- events
  function onClick(e) {
    var target = e.target && e.target.closest ? e.target : null;
    if (!target) return;
    var langBtn = target.closest("[data-lang-switch]");
    if (langBtn) {
      setLang(langBtn.getAttribute("data-lang-target") || (lang === "ar" ? "en" : "ar"));
      return;
    }
    var step = target.closest("[data-qty-step]");
    if (step) {
      var wrap = step.closest(".qty");
      var input = wrap && wrap.querySelector("input");
      if (input) {
        input.value = clampQty(clampQty(input.value) + parseInt(step.getAttribute("data-qty-step"), 10));
        onQtyChange(input);
      }
      return;
    }
    var add = target.closest('[data-souk-action="add-to-cart"]');
    if (add && add.type !== "submit") {
      var id = add.getAttribute("data-souk-product-id");
      if (byId[id] && inStock(byId[id])) {
        addToCart(id, 1);
        renderCartBadge();
        toast(t("addedToCart", { name: pName(byId[id]) }), { href: "/cart.html", text: t("viewCart") });
      }
      return;
    }
    var rm = target.closest('[data-souk-action="remove-from-cart"]');
    if (rm) {
      var rid = rm.getAttribute("data-souk-product-id");
      var rp = byId[rid];
      removeFromCart(rid);
      renderCart();
      renderCartBadge();
      var heading = $("#main h1");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      if (rp) toast(t("removed", { name: pName(rp) }));
      return;
    }
    if (target.closest("[data-sign-out]")) {
      var u = currentUser();
      storeRemove(KEYS.user);
      if (u) emit("shop:logout", { userId: u.id });
      renderAccount();
      toast(t("signedOut"));
      var lh = $("#login-title");
      if (lh) { lh.setAttribute("tabindex", "-1"); lh.focus(); }
    }
  }

  function onQtyChange(input) {
    var q = clampQty(input.value);
    var wrap = input.closest(".qty");
    if (wrap) {
      var btns = wrap.querySelectorAll("[data-qty-step]");
      if (btns[0]) btns[0].disabled = q <= 1;
      if (btns[1]) btns[1].disabled = q >= MAX_QTY;
    }
    var cartId = input.getAttribute("data-cart-qty");
    if (cartId) {
      input.value = q;
      setQty(cartId, q);
      renderCart();
      renderCartBadge();
      return;
    }
    var form = input.closest("[data-buy-form]");
    if (form) {
      var btn = form.querySelector('[data-souk-action="add-to-cart"]');
      if (btn) btn.setAttribute("data-souk-quantity", String(q));
    }
  }

  function onChange(e) {
    var el = e.target;
    if (!el) return;
    if (el.matches && el.matches(".qty-input")) { onQtyChange(el); return; }
    if (el.matches && el.matches("[data-sort]")) {
      try {
        var q = new URLSearchParams(window.location.search);
        if (el.value === "featured") q.delete("sort"); else q.set("sort", el.value);
        var s = q.toString();
        window.history.replaceState(null, "", window.location.pathname + (s ? "?" + s : ""));
      } catch (err) { /* ignore */ }
      renderCategory();
      return;
    }
    if (el.name === "delivery" && page === "checkout") { renderCheckout(); return; }
    if (el.getAttribute && el.getAttribute("aria-invalid") === "true") validateField(el);
  }

  function onSubmit(e) {
    var form = e.target;
    if (!form || !form.matches) return;
    if (form.matches("[data-buy-form]")) {
      e.preventDefault();
      var btn = form.querySelector('[data-souk-action="add-to-cart"]');
      var input = form.querySelector(".qty-input");
      var id = btn && btn.getAttribute("data-souk-product-id");
      if (!id || !byId[id]) return;
      addToCart(id, clampQty(input ? input.value : 1));
      renderCartBadge();
      toast(t("addedToCart", { name: pName(byId[id]) }), { href: "/cart.html", text: t("viewCart") });
      return;
    }
    if (form.id === "checkout-form") {
      e.preventDefault();
      placeOrder(form);
      return;
    }
    if (form.id === "login-form" || form.id === "register-form") {
      e.preventDefault();
      if (!validateForm(form)) return;
      var email = form.querySelector('input[type="email"]').value;
      var nameInput = form.querySelector('input[autocomplete="name"]');
      signIn(email, nameInput ? nameInput.value.trim() : "");
      $all("#login-form, #register-form").forEach(function (f) {
        f.reset();
        $all("[aria-invalid]", f).forEach(function (el) { el.removeAttribute("aria-invalid"); });
        $all(".field-error", f).forEach(function (el) { el.textContent = ""; el.removeAttribute("data-error-key"); el.hidden = true; });
      });
      renderAccount();
      toast(t("signedIn"));
      var h = $("[data-account-heading]");
      if (h) h.focus();
    }
  }

  // Re-check a field already marked invalid, while typing and on blur.
  function onFocusOut(e) {
    var el = e.target;
    if (el && el.matches && el.matches("input, select, textarea") && el.getAttribute("aria-invalid") === "true") validateField(el);
  }

  function onStorage(e) {
    if (!e || (e.key !== KEYS.cart && e.key !== KEYS.lang && e.key !== KEYS.user && e.key !== null)) return;
    if (e.key === KEYS.lang) {
      var l = storeGet(KEYS.lang);
      if ((l === "en" || l === "ar") && l !== lang) { lang = l; renderAll(); }
      return;
    }
    renderCartBadge();
    if (page === "cart" || (page === "checkout" && !lastOrder) || page === "account") renderPage();
  }

  // ---------------------------------------------------------------- start
  function guard(fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { /* the shop must never throw */ }
    };
  }

  function start() {
    renderChrome();
    document.addEventListener("click", guard(onClick));
    document.addEventListener("change", guard(onChange));
    document.addEventListener("submit", guard(onSubmit));
    document.addEventListener("focusout", guard(onFocusOut));
    document.addEventListener("input", guard(onFocusOut));
    window.addEventListener("storage", guard(onStorage));
    if (window.SHOP_CATALOG && window.SHOP_CATALOG.products) {
      setCatalog(window.SHOP_CATALOG);
      renderAll();
      return;
    }
    // Fallback if catalog.js is missing: render the chrome now, the rest once the
    // feed has loaded (product JSON-LD is then late, but the shop still works).
    applyLangToDocument();
    renderCartBadge();
    if (window.fetch) {
      window.fetch("/shop/catalog.json").then(function (r) { return r.ok ? r.json() : null; }).then(guard(function (data) {
        if (data) { setCatalog(data); renderAll(); }
      }), function () { /* offline */ });
    }
  }

  guard(start)();

  // A small read-only API for the console and for tests.
  try {
    window.shop = {
      get lang() { return lang; },
      setLang: guard(setLang),
      cart: guard(function () { return cartLines(); }),
      product: function (id) { return byId[id] || null; },
      session: session
    };
  } catch (e) { /* ignore */ }
})();
