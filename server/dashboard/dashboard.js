// The merchant dashboard: sign in, the overview (sales, funnel, segments, consent),
// customer search and the customer 360 (with the export and the erasure of a
// customer's data), the segments and their customers, the loyalty programme, and the
// triggers with their delivery log. Plain DOM,
// no framework, no chart library, no build: the charts are small inline SVGs drawn
// here, each with a table or a summary for screen readers.
//
// Everything the server sends (names, emails, ids, product names) goes into the page
// as text nodes only, never as HTML. Signing in, the API client, the text and the DOM
// helpers are the staff pages' own module, ./staff.js.

import { $, announce, api, append, applyText, el, fill, fmtNumber, lang, plural, resume, setLang, showPage, staffSession, t, useText } from "./staff.js";

const LANG_KEY = "souk.dashboard.lang";
const SVG = "http://www.w3.org/2000/svg";
const DAY_MS = 86_400_000;
const SEGMENTS = ["champions", "loyal", "potential-loyalists", "new", "at-risk", "cant-lose", "hibernating", "lost"];
const CONSENT = ["necessary", "functional", "analytics", "personalization", "marketing"];
const FUNNEL = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"];
/** The tabs, in order: each is a link `#tab-{name}` and a view `#view-{name}`. */
const TABS = ["overview", "customers", "segments", "loyalty", "triggers"];
const PAGE_SIZES = [10, 25, 50, 100];
/** A custom segment's name, as the server takes it. */
const SEGMENT_NAME = /^[a-z0-9-]{1,40}$/;
const PREVIEW_DELAY_MS = 300;
const PREVIEW_SHOWN = 5;
/** A moment, to the second, with its time zone (UTC, as everything here). */
const MOMENT = { dateStyle: "medium", timeStyle: "long" };
/** A moment in a column whose heading says UTC. */
const LOG_TIME = { dateStyle: "medium", timeStyle: "medium" };

/**
 * The fields of the segment builder's conditions, in the filter language of
 * server/src/crm/filter.rs: the tests each takes, and what its value is (`number`,
 * `money`, free `text`, or `choices` of a list; VIP has none).
 */
const COMPARE = ["=", "!=", "<", "<=", ">", ">="];
const FIELDS = {
  segment: { ops: ["=", "!="], choices: () => SEGMENTS.map((name) => [name, segmentLabel(name)]) },
  vip: { ops: ["=", "!="] },
  orders: { ops: COMPARE, value: "number" },
  online_orders: { ops: COMPARE, value: "number" },
  store_orders: { ops: COMPARE, value: "number" },
  spent: { ops: COMPARE, value: "money" },
  aov: { ops: COMPARE, value: "money" },
  ltv: { ops: COMPARE, value: "money" },
  last_order_days: { ops: COMPARE, value: "number" },
  first_order_days: { ops: COMPARE, value: "number" },
  tier: { ops: COMPARE, choices: () => (state.loyalty?.rules?.tiers ?? []).map((tier) => [tier.id, localName(tier)]) },
  category: { ops: ["=", "!="], value: "text" },
  product: { ops: ["=", "!="], value: "text" },
  consent: { ops: ["=", "!="], choices: () => CONSENT.slice(1).map((name) => [name, t(name)]) },
};
/** Other spellings the filter language takes. */
const FIELD_ALIASES = { monetary: "spent", recency: "last_order_days" };
const OP_ALIASES = { "==": "=", "<>": "!=", "≠": "!=", "≤": "<=", "≥": ">=" };

const TEXT = {
  en: {
    title: "Shop dashboard",
    brand: "Shop dashboard",
    skip: "Skip to the content",
    sections: "Sections",
    overview: "Overview",
    customers: "Customers",
    segments: "Segments",
    loginTitle: "Sign in to the shop dashboard",
    loginIntro: "Know your customers: sales, segments and profiles.",
    notMerchant: "This account is not a merchant account. The dashboard is for staff with the merchant role; ask the shop owner to add you with `souk-server agent add --role merchant`.",
    loading: "Loading…",
    loadError: "Could not load: {error}",
    period: "Period",
    period365: "Last 12 months",
    period90: "Last 90 days",
    period30: "Last 30 days",
    periodText: "{from} – {to}, up to the scoring date",
    revenue: "Revenue",
    orders: "Orders",
    aov: "Average order",
    customersKpi: "Scored customers",
    ordersSplit: "{online} online · {store} in store",
    vips: plural({ one: "{n} VIP", other: "{n} VIPs" }),
    salesChart: "Revenue and orders",
    salesSummary: "Revenue and orders by {bucket}, {from} to {to}: {revenue} in {orders} orders; best {best} with {bestRevenue}.",
    day: "day",
    month: "month",
    when: "Period",
    noSales: "No orders in this period.",
    funnel: "Funnel",
    step: "Step",
    profiles: "Customers",
    dropOff: "Drop-off",
    conversion: "Of the first step",
    dropText: "−{pct} from the step before",
    funnelSummary: "Funnel: {steps}.",
    noFunnel: "No shopping events in this period.",
    stepProductViewed: "Viewed a product",
    stepProductAdded: "Added to cart",
    stepCheckoutStarted: "Started checkout",
    stepOrderCompleted: "Ordered",
    abandoned: "Abandoned carts: {n} worth {value}, {recovered} recovered later.",
    segmentSizes: "Segment sizes",
    segmentSummary: "Customers per segment: {list}.",
    segment: "Segment",
    share: "Share",
    noRun: "The segments have not been computed yet: run `souk-server crm refresh`.",
    consentRates: "Consent rates",
    consentSummary: "Of {n} consent decisions in this period: {list}.",
    noConsent: "No consent decisions in this period.",
    category: "Category",
    allowed: "Allowed",
    necessary: "Necessary",
    functional: "Functional",
    analytics: "Analytics",
    personalization: "Personalisation",
    marketing: "Marketing",
    searchLabel: "Search customers",
    searchField: "Name, email, phone or id",
    search: "Search",
    results: plural({ zero: "No customers found.", one: "{n} customer", other: "{n} customers" }),
    topSpenders: "Best spenders first.",
    noResults: "No customer matches “{q}”.",
    customerN: "Customer {id}",
    noSegment: "Not scored",
    vip: "VIP",
    backToCustomers: "Back to customers",
    backToSegments: "Back to segments",
    notFound: "No customer has this id.",
    totalSpent: "Total spent",
    ltv: "Lifetime value",
    visits: "Visits",
    firstLast: "First seen {first}, last seen {last}",
    identities: "Identities",
    whyLinked: "Why they are one customer",
    noLinks: "One id only: nothing to link.",
    linkReason: "{from} ↔ {to}: {reason}",
    kind_user_id: "User id",
    kind_anonymous_id: "Device",
    kind_email: "Email",
    kind_phone: "Phone",
    kind_pos_customer: "Store card",
    reason_same_message: "sent in the same message",
    reason_traits_email: "same email in the profile",
    reason_traits_phone: "same phone in the profile",
    reason_identify: "identified as this customer",
    latestOrders: "Latest orders",
    date: "Date",
    channel: "Channel",
    value: "Value",
    online: "Online",
    store: "In store",
    noOrders: "No orders.",
    products: "Products bought",
    product: "Product",
    times: "Orders",
    quantity: "Quantity",
    noProducts: "No products recorded online.",
    loyalty: "Loyalty",
    tier: "Tier",
    points: "Points",
    nextTier: "Next tier",
    nextTierText: "{tier}, {needed} to go",
    noLoyalty: "No loyalty account.",
    chat: "Chat",
    conversations: "Conversations",
    openChats: "Open",
    lastChat: "Last",
    consent: "Consent",
    consentNow: "Now",
    consentHistory: "History",
    noConsentProfile: "No consent decision recorded.",
    yes: "Yes",
    no: "No",
    rfm: "RFM segment",
    scores: "R {r} · F {f} · M {m}",
    recency: "Days since the last order",
    scoredAsOf: "Scored as of {date}",
    segmentsRun: "{customers} customers and {orders} orders, scored as of {asOf}. VIPs: {rule}.",
    monetary: "Spent",
    avgLtv: "Average lifetime value",
    segVip: "VIPs",
    segAll: "Everyone",
    downloadCsv: "Download CSV",
    segmentCount: plural({ one: "{n} customer.", other: "{n} customers, best spenders first; the CSV has every row." }),
    lastOrder: "Last order",
    customer: "Customer",
    seg_champions: "Champions",
    seg_loyal: "Loyal",
    "seg_potential-loyalists": "Potential loyalists",
    seg_new: "New",
    "seg_at-risk": "At risk",
    "seg_cant-lose": "Can't lose",
    seg_hibernating: "Hibernating",
    seg_lost: "Lost",
    seg_vip: "VIPs",
    seg_all: "Everyone",
    loyaltyProgramme: "Loyalty programme",
    loyaltyIntro: "The programme as the server runs it, and how many points your customers hold.",
    history: "Segment sizes over time",
    historyTable: "Customers per segment at each refresh",
    refreshed: "Refreshed",
    total: "Total",
    chatSince: "Conversations started since {date}.",
    closedChats: "Closed",
    chatTotal: "Conversations",
    csat: "Satisfaction (CSAT)",
    csatValue: "{average} out of 5",
    ratings: plural({ one: "from {n} rating", other: "from {n} ratings" }),
    noRatings: "No ratings yet",
    firstResponseMedian: "First reply, median",
    firstResponseAverage: "First reply, average",
    noReplies: "No replies yet",
    chatUnavailable: "The chat figures could not be loaded: {error}",
    rfmSegments: "RFM segments",
    customSegments: "Your segments",
    newSegment: "New segment",
    noCustom: "No segments of your own yet: build one below.",
    customersN: plural({ one: "{n} customer", other: "{n} customers" }),
    ordersN: plural({ one: "{n} order", other: "{n} orders" }),
    editSegment: "Edit “{label}”",
    edit: "Edit",
    delete: "Delete",
    cancel: "Cancel",
    deleteSegment: "Delete “{label}”",
    confirmDelete: "Delete the segment “{label}”? Its customers stay; only the segment goes.",
    deleteYes: "Delete it",
    deleted: "Deleted “{label}”.",
    deleteFailed: "Could not delete it: {error}",
    filterBroken: "This filter no longer reads:",
    segmentName: "Name",
    segmentNameHelp: "Lower-case letters, digits and -: the segment's address. For example:",
    segmentLabel: "Label",
    conditions: "Conditions",
    matchWho: "Customers who match",
    joinAll: "all of these",
    joinAny: "any of these",
    builderOutOfSync: "The conditions cannot show this filter, so edit it in the text box below; changing a condition here replaces it.",
    addCondition: "Add a condition",
    advancedFilter: "Advanced: filter",
    filterHelp: "Tests joined by and, or and not, grouped with parentheses. For example:",
    saveSegment: "Save segment",
    saving: "Saving…",
    preview: "Preview",
    fieldOf: "Field of condition {n}",
    opOf: "Test of condition {n}",
    valueOf: "Value of condition {n}",
    remove: "Remove",
    removeOf: "Remove condition {n}",
    field_segment: "RFM segment",
    field_vip: "VIP status",
    field_orders: "Orders",
    field_online_orders: "Online orders",
    field_store_orders: "Store orders",
    field_spent: "Spent",
    field_aov: "Average order",
    field_ltv: "Lifetime value",
    field_last_order_days: "Days since the last order",
    field_first_order_days: "Days since the first order",
    field_tier: "Loyalty tier",
    field_category: "Bought in category",
    field_product: "Bought product (id)",
    field_consent: "Consents to",
    "op_=": "is",
    "op_!=": "is not",
    "op_<": "less than",
    "op_<=": "at most",
    "op_>": "more than",
    "op_>=": "at least",
    "vip_=": "is a VIP",
    "vip_!=": "is not a VIP",
    previewCount: plural({ one: "{n} customer matches", other: "{n} customers match" }),
    previewEmpty: "Add a condition or write a filter to see who matches.",
    previewBroken: "Correct the filter to see who matches.",
    previewWorking: "Counting…",
    filterWrong: "The server cannot read this filter:",
    filterEmpty: "Write a filter, or add a condition.",
    nameWrong: "Use 1 to 40 lower-case letters, digits and -.",
    nameTaken: "You already have a segment named {name}: choose another name, or edit that one.",
    saved: "Saved “{label}”.",
    openSegment: "Open the segment",
    segmentFilter: "Filter:",
    noSuchCustom: "You have no segment named “{name}”.",
    previous: "Previous",
    next: "Next",
    range: "{from}–{to} of {total}",
    perPage: "Rows per page",
    pages_segment: "Pages of the segment's customers",
    pages_results: "Pages of the search results",
    pages_log: "Pages of the delivery log",
    members: "Members",
    pointsOwed: "Points owed",
    pointsOwedNote: "Held by customers, not yet spent or lapsed",
    pointsEarned: "Points earned",
    pointsSpent: "Points spent",
    pointsLapsed: "Points lapsed",
    reversedNote: "{n} taken back by refunds",
    adjustedNote: "{n} adjusted by hand",
    earning: "Earning",
    earnRate: "Earn rate",
    earnRateText: "{points} for every {amount} spent",
    pointsN: plural({ one: "{n} point", other: "{n} points" }),
    bonus_signup: "Bonus for signing up",
    bonus_birthday: "Birthday bonus",
    bonus_review: "Bonus for a review",
    bonus_referral: "Bonus for a referral",
    expiry: "Points lapse",
    expiryText: plural({ one: "after {n} month without activity", other: "after {n} months without activity" }),
    expiryNever: "Never",
    tiers: "Tiers",
    tierThreshold: "Qualifies at",
    multiplier: "Points multiplier",
    multiplierText: "×{x}",
    tierNote: "Spend counts over the last {window} days; a tier is kept for {grace} days after spend falls below it.",
    rewards: "Rewards",
    reward: "Reward",
    cost: "Cost",
    gives: "Gives",
    give_fixed_discount: "{amount} off",
    give_percent_discount: "{percent} off",
    give_percent_cap: "{percent} off, up to {cap}",
    give_free_shipping: "Free shipping",
    noRewards: "No rewards.",
    rulesFile: "Rules file",
    rulesNote: "These rules come from the JSON file given to {command} (souk's default programme when there is none). They are read-only here: to change them, edit that file and restart the server.",
    copyJson: "Copy the JSON",
    copied: "Copied.",
    copyFailed: "Could not copy: the text is selected, so copy it with the keyboard.",
    rulesJson: "The loyalty rules as JSON",
    copy: "Copy",
    refreshNow: "Refresh now",
    refreshing: "Refreshing…",
    lastRefresh: "Last refreshed {at}, in {duration}.",
    refreshDone: "Refreshed in {duration}.",
    refreshFailed: "Could not refresh: {error}",
    privacy: "Their data",
    privacyIntro: "A customer may ask for a copy of everything you hold about them, or for it to be erased (GDPR).",
    downloadData: "Download data",
    eraseCustomer: "Erase customer",
    confirmErase: "Erase {name}?",
    eraseWhat: "Their events, identities, scores and webhooks are deleted. Their loyalty points, coupons and chats stay in your books and statistics without naming them, and their consent records stay as proof under a pseudonym; this cannot be undone.",
    eraseType: "To confirm, type their id or email",
    customerId: "Id",
    eraseYes: "Erase for good",
    erasing: "Erasing…",
    eraseFailed: "Could not erase: {error}",
    erasedTitle: "Erased {name}",
    erasedAt: "Erased on {date}. What was done:",
    eraseTable: "What the erasure did",
    whatData: "Data",
    action: "Done",
    rows: "Rows",
    action_deleted: "Deleted",
    action_anonymised: "Anonymised",
    action_pseudonymised: "Pseudonymised",
    table_crm_customers: "Scores and segments",
    table_trigger_attempts: "Webhook attempts",
    table_trigger_deliveries: "Webhooks",
    table_trigger_tiers: "Tier seen by the tier trigger",
    table_events: "Events",
    table_consents: "Consent records",
    table_chat_reads: "Chat read marks",
    table_chat_messages: "Chat messages",
    table_chat_conversations: "Conversations",
    table_loyalty_coupons: "Coupons",
    table_loyalty_ledger: "Loyalty points",
    table_profile_merges: "Profile merges",
    table_identity_links: "Identity links",
    table_identities: "Identities",
    proofKey: "Consent proof key",
    proofKeyNote: "Keep this key safe, apart from your customer data: with it and an id the customer gives you, you can still show their consent. It is stored nowhere and will not be shown again.",
    noProofKey: "They had no consent records, so there is no proof key.",
    notScrubbed: "The database was too busy to be cleaned of the deleted bytes: run VACUUM on it when it is quiet.",
    triggers: "Triggers",
    triggersIntro: "A trigger sends a signed webhook to your own server when a customer's moment comes, so that your server sends the email, the text message or the coupon. Each moment fires once, only for customers who gave the consent it needs, and never for what happened before you switched the trigger on.",
    trigger_abandoned_cart: "Abandoned cart",
    trigger_first_purchase: "First purchase",
    trigger_tier_change: "Loyalty tier change",
    trigger_win_back: "Win-back",
    trigger_birthday: "Birthday",
    when_abandoned_cart: "When items stay in a customer's cart, and neither the cart changes nor an order comes, for the minutes you set.",
    when_first_purchase: "When a customer places their very first order: online, through your backend or in store.",
    when_tier_change: "When a customer's loyalty tier goes up or down.",
    when_win_back: "When the days you set have passed since a customer's last order.",
    when_birthday: "On a customer's birthday, or the days you set before it, once a year. It needs the birthday your sign-up form sends.",
    param_abandoned_cart: "Minutes without activity",
    param_win_back: "Days since the last order",
    param_birthday: "Days before the birthday",
    paramRange: "A whole number from {min} to {max}.",
    enabled: "Send webhooks",
    on: "On",
    off: "Off",
    webhookUrl: "Webhook URL",
    webhookUrlHelp: "The address of your receiver, starting with https:// or http://.",
    consentNeeded: "Consent needed",
    consentFixed: "Sent only to customers who allow {category}. This trigger is marketing, so this cannot be changed.",
    consentChoose: "Sent only to customers who allow this category: Marketing for an offer, Functional for a service message about what they signed up for.",
    signingSecret: "Signing secret",
    secretNone: "Made when you first save this trigger.",
    rotateSecret: "Rotate secret",
    confirmRotate: "Make a new signing secret for {trigger}? Every webhook is signed with it from now on, retries too, so your receiver must switch to it at once.",
    rotateYes: "Make a new secret",
    rotateFailed: "Could not make a new secret: {error}",
    newSecret: "Your signing secret",
    secretNote: "Copy it to your receiver now: it will not be shown again.",
    save: "Save",
    triggerSaved: "Saved.",
    notSaved: "Not saved:",
    verifyTitle: "Verify a webhook",
    verifyHeader: "Each webhook is signed in this header:",
    verifyHow: "v1 is the HMAC-SHA256 of t, a full stop and the body exactly as received, keyed with the whole secret. Check it, and that t is less than five minutes old, before you trust a webhook. Retries send the same Idempotency-Key, so skip one you have already handled.",
    verifyCode: "Verifying a webhook in Node.js",
    deliveryLog: "Delivery log",
    trigger: "Trigger",
    deliveryState: "State",
    allTriggers: "All triggers",
    allStates: "Any state",
    state_pending: "Pending",
    state_delivered: "Delivered",
    state_failed: "Failed",
    reload: "Reload",
    deliveriesN: plural({ one: "{n} webhook, newest first.", other: "{n} webhooks, newest first." }),
    noDeliveries: "No webhooks yet: they show here as the triggers fire.",
    noDeliveriesMatch: "No webhooks match these filters.",
    timeUtc: "Time (UTC)",
    attempts: "Attempts",
    lastAnswer: "Last answer",
    nextTryUtc: "Next try (UTC)",
    details: "Details",
    detailsOf: "of webhook {id}",
    attempt: "Attempt",
    answer: "Answer",
    duration: "Duration",
    attemptsOf: "Attempts of webhook {id}",
    body: "Body",
    bodyOf: "Body of webhook {id}",
  },
  ar: {
    title: "لوحة المتجر",
    brand: "لوحة المتجر",
    skip: "انتقل إلى المحتوى",
    sections: "الأقسام",
    overview: "نظرة عامة",
    customers: "العملاء",
    segments: "الشرائح",
    loginTitle: "تسجيل الدخول إلى لوحة المتجر",
    loginIntro: "اعرف عملاءك: المبيعات والشرائح والملفات.",
    notMerchant: "هذا الحساب ليس حساب تاجر. اللوحة مخصّصة للموظفين بدور التاجر؛ اطلب من صاحب المتجر إضافتك بالأمر ‎`souk-server agent add --role merchant`‎.",
    loading: "جارٍ التحميل…",
    loadError: "تعذّر التحميل: {error}",
    period: "الفترة",
    period365: "آخر 12 شهرًا",
    period90: "آخر 90 يومًا",
    period30: "آخر 30 يومًا",
    periodText: "{from} – {to}، حتى تاريخ التقييم",
    revenue: "الإيرادات",
    orders: "الطلبات",
    aov: "متوسط الطلب",
    customersKpi: "العملاء المقيَّمون",
    ordersSplit: "{online} عبر الإنترنت · {store} في المتجر",
    vips: plural({ zero: "لا عملاء مميزون", one: "عميل مميز واحد", two: "عميلان مميزان", few: "{n} عملاء مميزين", many: "{n} عميلًا مميزًا", other: "{n} عميل مميز" }),
    salesChart: "الإيرادات والطلبات",
    salesSummary: "الإيرادات والطلبات حسب {bucket}، من {from} إلى {to}: {revenue} في {orders} طلب؛ الأفضل {best} بمبلغ {bestRevenue}.",
    day: "اليوم",
    month: "الشهر",
    when: "الفترة",
    noSales: "لا طلبات في هذه الفترة.",
    funnel: "مسار الشراء",
    step: "الخطوة",
    profiles: "العملاء",
    dropOff: "التسرّب",
    conversion: "من الخطوة الأولى",
    dropText: "−{pct} عن الخطوة السابقة",
    funnelSummary: "مسار الشراء: {steps}.",
    noFunnel: "لا أحداث تسوّق في هذه الفترة.",
    stepProductViewed: "شاهد منتجًا",
    stepProductAdded: "أضاف إلى السلة",
    stepCheckoutStarted: "بدأ الدفع",
    stepOrderCompleted: "طلب",
    abandoned: "سلال متروكة: {n} بقيمة {value}، استُعيد منها {recovered} لاحقًا.",
    segmentSizes: "أحجام الشرائح",
    segmentSummary: "العملاء في كل شريحة: {list}.",
    segment: "الشريحة",
    share: "النسبة",
    noRun: "لم تُحسب الشرائح بعد: شغّل ‎`souk-server crm refresh`‎.",
    consentRates: "نسب الموافقة",
    consentSummary: "من {n} قرار موافقة في هذه الفترة: {list}.",
    noConsent: "لا قرارات موافقة في هذه الفترة.",
    category: "الفئة",
    allowed: "مسموح",
    necessary: "ضرورية",
    functional: "وظيفية",
    analytics: "تحليلية",
    personalization: "تخصيص",
    marketing: "تسويق",
    searchLabel: "البحث عن العملاء",
    searchField: "الاسم أو البريد أو الهاتف أو المعرّف",
    search: "بحث",
    results: plural({ zero: "لم يُعثر على عملاء.", one: "عميل واحد", two: "عميلان", few: "{n} عملاء", many: "{n} عميلًا", other: "{n} عميل" }),
    topSpenders: "الأكثر إنفاقًا أولًا.",
    noResults: "لا عميل يطابق «{q}».",
    customerN: "العميل {id}",
    noSegment: "غير مقيَّم",
    vip: "مميز",
    backToCustomers: "العودة إلى العملاء",
    backToSegments: "العودة إلى الشرائح",
    notFound: "لا عميل بهذا المعرّف.",
    totalSpent: "إجمالي الإنفاق",
    ltv: "القيمة الدائمة",
    visits: "الزيارات",
    firstLast: "أول ظهور {first}، آخر ظهور {last}",
    identities: "المعرّفات",
    whyLinked: "لماذا هي عميل واحد",
    noLinks: "معرّف واحد فقط: لا شيء للربط.",
    linkReason: "{from} ↔ {to}: {reason}",
    kind_user_id: "معرّف المستخدم",
    kind_anonymous_id: "جهاز",
    kind_email: "البريد",
    kind_phone: "الهاتف",
    kind_pos_customer: "بطاقة المتجر",
    reason_same_message: "أُرسلا في الرسالة نفسها",
    reason_traits_email: "البريد نفسه في الملف",
    reason_traits_phone: "الهاتف نفسه في الملف",
    reason_identify: "عُرّف بأنه هذا العميل",
    latestOrders: "أحدث الطلبات",
    date: "التاريخ",
    channel: "القناة",
    value: "القيمة",
    online: "عبر الإنترنت",
    store: "في المتجر",
    noOrders: "لا طلبات.",
    products: "المنتجات المشتراة",
    product: "المنتج",
    times: "الطلبات",
    quantity: "الكمية",
    noProducts: "لا منتجات مسجّلة عبر الإنترنت.",
    loyalty: "الولاء",
    tier: "المستوى",
    points: "النقاط",
    nextTier: "المستوى التالي",
    nextTierText: "{tier}، يتبقى {needed}",
    noLoyalty: "لا حساب ولاء.",
    chat: "المحادثات",
    conversations: "المحادثات",
    openChats: "المفتوحة",
    lastChat: "الأخيرة",
    consent: "الموافقة",
    consentNow: "الآن",
    consentHistory: "السجل",
    noConsentProfile: "لا قرار موافقة مسجّل.",
    yes: "نعم",
    no: "لا",
    rfm: "شريحة RFM",
    scores: "R {r} · F {f} · M {m}",
    recency: "أيام منذ آخر طلب",
    scoredAsOf: "مقيَّم حتى {date}",
    segmentsRun: "{customers} عميل و{orders} طلب، مقيَّمون حتى {asOf}. العملاء المميزون: {rule}.",
    monetary: "الإنفاق",
    avgLtv: "متوسط القيمة الدائمة",
    segVip: "المميزون",
    segAll: "الجميع",
    downloadCsv: "تنزيل CSV",
    segmentCount: plural({ zero: "لا عملاء.", one: "عميل واحد.", two: "عميلان، الأكثر إنفاقًا أولًا.", few: "{n} عملاء، الأكثر إنفاقًا أولًا؛ وفي ملف CSV كل الصفوف.", many: "{n} عميلًا، الأكثر إنفاقًا أولًا؛ وفي ملف CSV كل الصفوف.", other: "{n} عميل، الأكثر إنفاقًا أولًا؛ وفي ملف CSV كل الصفوف." }),
    lastOrder: "آخر طلب",
    customer: "العميل",
    seg_champions: "الأبطال",
    seg_loyal: "الأوفياء",
    "seg_potential-loyalists": "أوفياء محتملون",
    seg_new: "جدد",
    "seg_at-risk": "معرّضون للفقد",
    "seg_cant-lose": "لا يمكن خسارتهم",
    seg_hibernating: "خاملون",
    seg_lost: "مفقودون",
    seg_vip: "المميزون",
    seg_all: "الجميع",
    loyaltyProgramme: "برنامج الولاء",
    loyaltyIntro: "البرنامج كما يعمل على الخادم، وعدد النقاط التي يملكها عملاؤك.",
    history: "أحجام الشرائح عبر الزمن",
    historyTable: "العملاء في كل شريحة عند كل تحديث",
    refreshed: "وقت التحديث",
    total: "المجموع",
    chatSince: "المحادثات التي بدأت منذ {date}.",
    closedChats: "المغلقة",
    chatTotal: "عدد المحادثات",
    csat: "رضا العملاء (CSAT)",
    csatValue: "{average} من 5",
    ratings: plural({ zero: "بلا تقييمات", one: "من تقييم واحد", two: "من تقييمين", few: "من {n} تقييمات", many: "من {n} تقييمًا", other: "من {n} تقييم" }),
    noRatings: "لا تقييمات بعد",
    firstResponseMedian: "أول رد، الوسيط",
    firstResponseAverage: "أول رد، المتوسط",
    noReplies: "لا ردود بعد",
    chatUnavailable: "تعذّر تحميل أرقام المحادثات: {error}",
    rfmSegments: "شرائح RFM",
    customSegments: "شرائحك",
    newSegment: "شريحة جديدة",
    noCustom: "لا شرائح خاصة بك بعد: أنشئ واحدة أدناه.",
    customersN: plural({ zero: "لا عملاء", one: "عميل واحد", two: "عميلان", few: "{n} عملاء", many: "{n} عميلًا", other: "{n} عميل" }),
    ordersN: plural({ zero: "لا طلبات", one: "طلب واحد", two: "طلبان", few: "{n} طلبات", many: "{n} طلبًا", other: "{n} طلب" }),
    editSegment: "تعديل «{label}»",
    edit: "تعديل",
    delete: "حذف",
    cancel: "إلغاء",
    deleteSegment: "حذف «{label}»",
    confirmDelete: "أتحذف الشريحة «{label}»؟ يبقى عملاؤها، وتُحذف الشريحة وحدها.",
    deleteYes: "نعم، احذفها",
    deleted: "حُذفت «{label}».",
    deleteFailed: "تعذّر حذفها: {error}",
    filterBroken: "لم يعد هذا المرشّح مقروءًا:",
    segmentName: "الاسم",
    segmentNameHelp: "أحرف إنجليزية صغيرة وأرقام والشرطة (-)، وهو عنوان الشريحة. مثال:",
    segmentLabel: "العنوان المعروض",
    conditions: "الشروط",
    matchWho: "العملاء الذين يستوفون",
    joinAll: "كل هذه الشروط",
    joinAny: "أيًّا من هذه الشروط",
    builderOutOfSync: "لا تستطيع الشروط عرض هذا المرشّح، فعدّله في مربع النص أدناه؛ وتغيير أي شرط هنا يستبدله.",
    addCondition: "إضافة شرط",
    advancedFilter: "متقدم: المرشّح",
    filterHelp: "اختبارات تربطها and أو or أو not، وتُجمَّع بالأقواس. مثال:",
    saveSegment: "حفظ الشريحة",
    saving: "جارٍ الحفظ…",
    preview: "معاينة",
    fieldOf: "حقل الشرط {n}",
    opOf: "اختبار الشرط {n}",
    valueOf: "قيمة الشرط {n}",
    remove: "إزالة",
    removeOf: "إزالة الشرط {n}",
    field_segment: "شريحة RFM",
    field_vip: "حالة التميّز",
    field_orders: "الطلبات",
    field_online_orders: "الطلبات عبر الإنترنت",
    field_store_orders: "الطلبات في المتجر",
    field_spent: "الإنفاق",
    field_aov: "متوسط الطلب",
    field_ltv: "القيمة الدائمة",
    field_last_order_days: "الأيام منذ آخر طلب",
    field_first_order_days: "الأيام منذ أول طلب",
    field_tier: "مستوى الولاء",
    field_category: "اشترى من فئة",
    field_product: "اشترى منتجًا (المعرّف)",
    field_consent: "يوافق على",
    "op_=": "يساوي",
    "op_!=": "لا يساوي",
    "op_<": "أقل من",
    "op_<=": "على الأكثر",
    "op_>": "أكثر من",
    "op_>=": "على الأقل",
    "vip_=": "عميل مميز",
    "vip_!=": "ليس عميلًا مميزًا",
    previewCount: plural({ zero: "لا يطابق أي عميل", one: "يطابق عميل واحد", two: "يطابق عميلان", few: "يطابق {n} عملاء", many: "يطابق {n} عميلًا", other: "يطابق {n} عميل" }),
    previewEmpty: "أضف شرطًا أو اكتب مرشّحًا لترى من يطابقه.",
    previewBroken: "صحّح المرشّح لترى من يطابقه.",
    previewWorking: "جارٍ العدّ…",
    filterWrong: "لا يستطيع الخادم قراءة هذا المرشّح:",
    filterEmpty: "اكتب مرشّحًا أو أضف شرطًا.",
    nameWrong: "استخدم من 1 إلى 40 حرفًا إنجليزيًا صغيرًا أو رقمًا أو -.",
    nameTaken: "لديك شريحة باسم {name}: اختر اسمًا آخر أو عدّل تلك الشريحة.",
    saved: "حُفظت «{label}».",
    openSegment: "افتح الشريحة",
    segmentFilter: "المرشّح:",
    noSuchCustom: "ليست لديك شريحة باسم «{name}».",
    previous: "السابق",
    next: "التالي",
    range: "{from}–{to} من {total}",
    perPage: "صفوف في الصفحة",
    pages_segment: "صفحات عملاء الشريحة",
    pages_results: "صفحات نتائج البحث",
    pages_log: "صفحات سجل الإرسال",
    members: "الأعضاء",
    pointsOwed: "النقاط المستحقة",
    pointsOwedNote: "يملكها العملاء ولم تُصرف أو تنتهِ بعد",
    pointsEarned: "النقاط المكتسبة",
    pointsSpent: "النقاط المصروفة",
    pointsLapsed: "النقاط المنتهية",
    reversedNote: "استُرد منها {n} بسبب المرتجعات",
    adjustedNote: "عُدّل منها {n} يدويًا",
    earning: "الكسب",
    earnRate: "معدل الكسب",
    earnRateText: "{points} عن كل {amount} يُنفق",
    pointsN: plural({ zero: "لا نقاط", one: "نقطة واحدة", two: "نقطتان", few: "{n} نقاط", many: "{n} نقطة", other: "{n} نقطة" }),
    bonus_signup: "مكافأة التسجيل",
    bonus_birthday: "مكافأة عيد الميلاد",
    bonus_review: "مكافأة كتابة مراجعة",
    bonus_referral: "مكافأة دعوة صديق",
    expiry: "انتهاء النقاط",
    expiryText: plural({ one: "بعد شهر واحد بلا نشاط", two: "بعد شهرين بلا نشاط", few: "بعد {n} أشهر بلا نشاط", many: "بعد {n} شهرًا بلا نشاط", other: "بعد {n} شهر بلا نشاط" }),
    expiryNever: "لا تنتهي",
    tiers: "المستويات",
    tierThreshold: "حدّ الاستحقاق",
    multiplier: "مضاعف النقاط",
    multiplierText: "×{x}",
    tierNote: "يُحسب الإنفاق على آخر {window} يومًا؛ ويبقى المستوى {grace} يومًا بعد أن ينخفض الإنفاق عن حدّه.",
    rewards: "المكافآت",
    reward: "المكافأة",
    cost: "التكلفة",
    gives: "تمنح",
    give_fixed_discount: "خصم {amount}",
    give_percent_discount: "خصم {percent}",
    give_percent_cap: "خصم {percent} حتى {cap}",
    give_free_shipping: "شحن مجاني",
    noRewards: "لا مكافآت.",
    rulesFile: "ملف القواعد",
    rulesNote: "تأتي هذه القواعد من ملف JSON المُمرَّر إلى {command} (أو برنامج souk الافتراضي إن لم يوجد). وهي للقراءة فقط هنا: لتغييرها عدّل ذلك الملف ثم أعد تشغيل الخادم.",
    copyJson: "نسخ JSON",
    copied: "نُسخ.",
    copyFailed: "تعذّر النسخ: النص محدّد، فانسخه بلوحة المفاتيح.",
    rulesJson: "قواعد الولاء بصيغة JSON",
    copy: "نسخ",
    refreshNow: "حدّث الآن",
    refreshing: "جارٍ التحديث…",
    lastRefresh: "آخر تحديث {at}، واستغرق {duration}.",
    refreshDone: "اكتمل التحديث في {duration}.",
    refreshFailed: "تعذّر التحديث: {error}",
    privacy: "بياناته",
    privacyIntro: "يحق للعميل أن يطلب نسخة من كل ما تحتفظ به عنه، أو أن يُمحى (اللائحة العامة لحماية البيانات).",
    downloadData: "تنزيل البيانات",
    eraseCustomer: "محو العميل",
    confirmErase: "أتمحو {name}؟",
    eraseWhat: "تُحذف أحداثه ومعرّفاته ودرجاته ورسائل الويب هوك عنه. وتبقى نقاط ولائه وقسائمه ومحادثاته في حساباتك وإحصاءاتك دون أن تدلّ عليه، وتبقى سجلات موافقته دليلًا باسم مستعار؛ ولا يمكن التراجع عن ذلك.",
    eraseType: "للتأكيد، اكتب معرّفه أو بريده الإلكتروني",
    customerId: "المعرّف",
    eraseYes: "امحه نهائيًا",
    erasing: "جارٍ المحو…",
    eraseFailed: "تعذّر المحو: {error}",
    erasedTitle: "تم محو {name}",
    erasedAt: "تم المحو في {date}. وهذا ما جرى:",
    eraseTable: "ما فعله المحو",
    whatData: "البيانات",
    action: "الإجراء",
    rows: "الصفوف",
    action_deleted: "حُذفت",
    action_anonymised: "أُزيلت منها هويته",
    action_pseudonymised: "باسم مستعار",
    table_crm_customers: "الدرجات والشرائح",
    table_trigger_attempts: "محاولات إرسال الويب هوك",
    table_trigger_deliveries: "رسائل الويب هوك",
    table_trigger_tiers: "آخر مستوى رآه محفّز المستويات",
    table_events: "الأحداث",
    table_consents: "سجلات الموافقة",
    table_chat_reads: "علامات قراءة المحادثات",
    table_chat_messages: "رسائل المحادثات",
    table_chat_conversations: "المحادثات",
    table_loyalty_coupons: "القسائم",
    table_loyalty_ledger: "نقاط الولاء",
    table_profile_merges: "دمج الملفات",
    table_identity_links: "روابط المعرّفات",
    table_identities: "المعرّفات",
    proofKey: "مفتاح إثبات الموافقة",
    proofKeyNote: "احفظ هذا المفتاح في مكان آمن بعيدًا عن بيانات عملائك: به وبمعرّف يعطيك إياه العميل تستطيع أن تُثبت موافقته. لا يُخزَّن في أي مكان، ولن يُعرض مرة أخرى.",
    noProofKey: "لم تكن له سجلات موافقة، فلا مفتاح إثبات.",
    notScrubbed: "كانت قاعدة البيانات مشغولة فلم تُنظَّف من البيانات المحذوفة: شغّل عليها VACUUM حين تهدأ.",
    triggers: "المحفّزات",
    triggersIntro: "يرسل المحفّز رسالة ويب هوك موقّعة إلى خادمك حين تحين لحظة العميل، ليرسل خادمك البريد أو الرسالة النصية أو القسيمة. تُرسَل كل لحظة مرة واحدة، وللعملاء الذين منحوا الموافقة المطلوبة فقط، ولا يُرسَل شيء عمّا حدث قبل تشغيل المحفّز.",
    trigger_abandoned_cart: "سلة متروكة",
    trigger_first_purchase: "أول عملية شراء",
    trigger_tier_change: "تغيّر مستوى الولاء",
    trigger_win_back: "استعادة العميل",
    trigger_birthday: "عيد الميلاد",
    when_abandoned_cart: "حين تبقى منتجات في سلة العميل، دون أن تتغير السلة أو يصل طلب، طوال الدقائق التي تحددها.",
    when_first_purchase: "حين يقدّم العميل أول طلب له على الإطلاق: عبر الإنترنت أو من نظامك الخلفي أو في المتجر.",
    when_tier_change: "حين يرتفع مستوى ولاء العميل أو ينخفض.",
    when_win_back: "حين تمضي الأيام التي تحددها منذ آخر طلب للعميل.",
    when_birthday: "في يوم ميلاد العميل، أو قبله بالأيام التي تحددها، مرة كل عام. يحتاج إلى تاريخ الميلاد الذي يرسله نموذج التسجيل لديك.",
    param_abandoned_cart: "دقائق بلا نشاط",
    param_win_back: "أيام منذ آخر طلب",
    param_birthday: "أيام قبل عيد الميلاد",
    paramRange: "عدد صحيح من {min} إلى {max}.",
    enabled: "إرسال الويب هوك",
    on: "يعمل",
    off: "متوقف",
    webhookUrl: "رابط الويب هوك",
    webhookUrlHelp: "عنوان خادم الاستقبال لديك، ويبدأ بـ ‎https://‎ أو ‎http://‎.",
    consentNeeded: "الموافقة المطلوبة",
    consentFixed: "يُرسَل فقط للعملاء الذين يسمحون بفئة «{category}». هذا المحفّز تسويقي، فلا يمكن تغيير ذلك.",
    consentChoose: "يُرسَل فقط للعملاء الذين يسمحون بهذه الفئة: «تسويق» للعروض، و«وظيفية» لرسالة خدمية عمّا اشتركوا فيه.",
    signingSecret: "مفتاح التوقيع",
    secretNone: "يُنشأ عند أول حفظ لهذا المحفّز.",
    rotateSecret: "تغيير المفتاح",
    confirmRotate: "أتنشئ مفتاح توقيع جديدًا لمحفّز «{trigger}»؟ ستُوقَّع به كل رسالة ويب هوك من الآن، وإعادة المحاولات أيضًا، فيجب أن ينتقل إليه خادم الاستقبال فورًا.",
    rotateYes: "أنشئ مفتاحًا جديدًا",
    rotateFailed: "تعذّر إنشاء مفتاح جديد: {error}",
    newSecret: "مفتاح التوقيع",
    secretNote: "انسخه إلى خادم الاستقبال الآن: لن يُعرض مرة أخرى.",
    save: "حفظ",
    triggerSaved: "حُفظ.",
    notSaved: "لم يُحفظ:",
    verifyTitle: "التحقق من الويب هوك",
    verifyHeader: "كل رسالة ويب هوك موقّعة في هذه الترويسة:",
    verifyHow: "قيمة v1 هي HMAC-SHA256 لقيمة t ثم نقطة ثم النص كما وصل تمامًا، بمفتاح التوقيع كاملًا. تحقّق منها، ومن أن t لم يمضِ عليها أكثر من خمس دقائق، قبل أن تثق برسالة الويب هوك. وتحمل إعادة المحاولة ترويسة Idempotency-Key نفسها، فتجاهل ما عالجته من قبل.",
    verifyCode: "التحقق من الويب هوك في Node.js",
    deliveryLog: "سجل الإرسال",
    trigger: "المحفّز",
    deliveryState: "الحالة",
    allTriggers: "كل المحفّزات",
    allStates: "كل الحالات",
    state_pending: "قيد الانتظار",
    state_delivered: "وصل",
    state_failed: "فشل",
    reload: "تحديث",
    deliveriesN: plural({ zero: "لا رسائل ويب هوك.", one: "رسالة ويب هوك واحدة.", two: "رسالتا ويب هوك، الأحدث أولًا.", few: "{n} رسائل ويب هوك، الأحدث أولًا.", many: "{n} رسالة ويب هوك، الأحدث أولًا.", other: "{n} رسالة ويب هوك، الأحدث أولًا." }),
    noDeliveries: "لا رسائل ويب هوك بعد: تظهر هنا حين تعمل المحفّزات.",
    noDeliveriesMatch: "لا رسائل ويب هوك تطابق هذه المرشّحات.",
    timeUtc: "الوقت (UTC)",
    attempts: "المحاولات",
    lastAnswer: "آخر رد",
    nextTryUtc: "المحاولة التالية (UTC)",
    details: "التفاصيل",
    detailsOf: "لرسالة الويب هوك رقم {id}",
    attempt: "المحاولة",
    answer: "الرد",
    duration: "المدة",
    attemptsOf: "محاولات رسالة الويب هوك رقم {id}",
    body: "النص",
    bodyOf: "نص رسالة الويب هوك رقم {id}",
  },
};
useText(TEXT, LANG_KEY);

// ---------------------------------------------------------------------------------
// Language and formatting

const segmentLabel = (name) => t(`seg_${name}`);

function fmtPct(share) {
  return typeof share === "number" && Number.isFinite(share) ? new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(share) : "—";
}

/** The digits after the point in `currency` (2 for GBP, 0 for JPY, 3 for KWD). */
function minorDigits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** `minor` units of `currency` as money; `compact` for chart axes and big cards. */
function fmtMoney(minor, currency, { compact = false, whole = false } = {}) {
  if (typeof minor !== "number" || !Number.isFinite(minor)) return "—";
  const amount = minor / 10 ** minorDigits(currency || "XXX");
  const options = compact ? { notation: "compact", maximumFractionDigits: 1 } : whole ? { maximumFractionDigits: 0 } : {};
  if (typeof currency === "string" && /^[A-Za-z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: currency.toUpperCase(), ...options }).format(amount);
    } catch {
      // An unknown code: a plain number below.
    }
  }
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 2, ...options }).format(amount);
}

function fmtDate(iso, options = { dateStyle: "medium" }) {
  const at = typeof iso === "number" ? iso : Date.parse(iso);
  return Number.isNaN(at) || iso == null ? "—" : new Intl.DateTimeFormat(lang, { timeZone: "UTC", ...options }).format(at);
}

/** A chart bucket (`2011-03` or `2011-03-05`) as a short label. */
function fmtBucket(bucket, long = false) {
  if (/^\d{4}-\d{2}$/.test(bucket)) return fmtDate(`${bucket}-01T00:00:00Z`, long ? { month: "long", year: "numeric" } : { month: "short", year: "2-digit" });
  return fmtDate(`${bucket}T00:00:00Z`, long ? { dateStyle: "medium" } : { day: "numeric", month: "short" });
}

function timeEl(iso, options) {
  const node = el("time", {}, fmtDate(iso, options));
  if (iso) node.dateTime = iso;
  return node;
}

// ---------------------------------------------------------------------------------
// DOM: text only

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  append(node, children);
  return node;
}

/**
 * A table: `head` cells and `rows` of cells (text or nodes); `caption` names it. A
 * `hidden` one is for screen readers only, in a visually hidden box that clips it
 * (a table itself cannot be narrowed, and would widen the page).
 */
function table(caption, head, rows, { hidden = false, numeric = [] } = {}) {
  const node = el(
    "table",
    { className: hidden ? "" : "data" },
    el("caption", { className: hidden ? "" : "vh" }, caption),
    el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { scope: "col", className: numeric.includes(i) ? "num" : "" }, h)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell, i) => (i === 0 ? el("th", { scope: "row" }, cell) : el("td", { className: numeric.includes(i) ? "num" : "" }, cell)))))),
  );
  return hidden ? el("div", { className: "vh" }, node) : node;
}

const empty = (text) => el("p", { className: "muted empty" }, text);

/** `content` (a table) in a box that scrolls sideways where it is too wide: named `label`, and focusable, to scroll with the keyboard. */
const scrollRegion = (label, content, id = null) => el("div", { className: "table-scroll", tabIndex: 0, attrs: { id, role: "region", "aria-label": label } }, content);

/** The text `key` with its `{name}` placeholders filled with `nodes[name]` (a name in a <bdi>, a command in a <code>). */
function tParts(key, nodes) {
  return t(key)
    .split(/\{(\w+)\}/)
    .map((part, i) => (i % 2 ? nodes[part] ?? `{${part}}` : part));
}

/** A labelled field: `control` as `id`, the error under it (`{id}-error`) and, if given, `help` (`{id}-help`), both describing it. */
function field(id, label, control, help = null) {
  control.id = id;
  control.setAttribute("aria-describedby", help ? `${id}-error ${id}-help` : `${id}-error`);
  return el("div", { className: "field" }, el("label", { htmlFor: id }, label), control, el("p", { className: "form-error", id: `${id}-error` }), help ? el("p", { className: "muted small", id: `${id}-help` }, help) : null);
}

/**
 * The step before something that cannot be undone: `question`, `details`, then `yes`
 * and "Cancel" (Escape too). `onYes(problem, button)` does it, saying in `problem`
 * why it could not; `onCancel` steps back.
 */
function confirmStep({ id, question, details = [], yes, onYes, onCancel }) {
  const yesButton = el("button", { type: "button", className: "button small danger", dataset: { confirm: "yes" } }, yes);
  const no = el("button", { type: "button", className: "button small", dataset: { confirm: "no" } }, t("cancel"));
  const problem = el("p", { className: "form-error", attrs: { role: "alert" } });
  yesButton.addEventListener("click", () => onYes(problem, yesButton));
  no.addEventListener("click", onCancel);
  const group = el("div", { className: "confirm", attrs: { role: "group", "aria-labelledby": id } }, el("p", { id, className: "confirm-question" }, question), details, el("p", { className: "actions" }, yesButton, no), problem);
  group.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      onCancel();
    }
  });
  return group;
}

/**
 * A value the server answers once (a signing secret, a consent proof key): read-only
 * in field `id`, with a Copy button, and `note` saying it will not be shown again.
 */
function onceField(id, label, value, note) {
  const input = el("textarea", { id, value, readOnly: true, rows: 2, dir: "ltr", className: "mono", spellcheck: false, attrs: { autocomplete: "off", "aria-describedby": `${id}-note` } });
  const status = el("span", { className: "muted small", attrs: { role: "status" } });
  const copy = el("button", { type: "button", className: "button small", dataset: { copy: id } }, t("copy"));
  copy.addEventListener("click", () => copyText(value, input, status));
  return el("div", { className: "once" }, el("label", { htmlFor: id }, label), el("div", { className: "once-row" }, input, copy), el("p", { className: "small", id: `${id}-note` }, note), status);
}

/** The field a 400 names (`name: what is wrong`), if one of `fields`, and what is wrong; else null. */
function namedField(e, fields) {
  const [, name, message] = /^(\w+): (.*)$/s.exec(e.message) ?? [];
  return e.status === 400 && fields.includes(name) ? [name, message] : null;
}

const q = (params) => new URLSearchParams(params).toString();

// ---------------------------------------------------------------------------------
// State, entering and leaving

const state = {
  me: null,
  settings: null,
  segments: null,
  overview: null,
  chat: null,
  customer: null,
  results: null,
  segment: null,
  /** The merchant's own segments, as `GET /v1/crm/custom-segments` lists them. */
  custom: null,
  loyalty: null,
  /** The segment form: `{editing: name or null, join, rows: [{field, op, value}], synced}`. */
  builder: null,
  preview: null,
  /** The custom segment whose deletion waits for a yes. */
  confirming: null,
  /** The customer 360's erasure waiting for a yes: `{typed}`, what the merchant typed to confirm. */
  erasing: null,
  /** The erasure just done: `{name, answer}`, shown once above the search. */
  erased: null,
  /**
   * The triggers tab: `list` as `GET /v1/crm/triggers` answers it, and per kind the
   * form's `drafts`, the `errors` of the last save (`[field, message]`), whether it
   * was `saved`, and a secret `revealed` once; `confirming`, the kind whose secret
   * rotation waits for a yes.
   */
  triggers: null,
  /** A page of the delivery log, and the ids of the deliveries shown `expanded`. */
  log: null,
  pageSize: 25,
  route: "overview",
  token: 0,
};

/** Opens the dashboard for `agent`, signed in: the CRM answers 403 to a plain agent. */
async function enter(agent) {
  state.settings = await api("/v1/crm/settings");
  state.me = agent;
  showPage();
  $("who").textContent = agent.name || agent.email || "";
  await route();
}

/** Forgets what the dashboard showed, once signed out. */
function leave() {
  for (const key of ["me", "settings", "segments", "overview", "chat", "customer", "results", "segment", "custom", "loyalty", "builder", "preview", "confirming", "erasing", "erased", "triggers", "log"]) state[key] = null;
  for (const view of document.querySelectorAll(".view")) view.hidden = true;
  $("erased").hidden = true;
  $("load-error").hidden = true;
}

// ---------------------------------------------------------------------------------
// Routing: #overview, #customers, #customer/{id}, #segments[/{custom segment to edit}],
// #segment/{name}, #loyalty, #triggers

function parseHash() {
  const hash = decodeURIComponent(location.hash.slice(1));
  const [name, ...rest] = hash.split("/");
  const arg = rest.join("/");
  if ((name === "customer" || name === "segment") && arg) return { view: name, arg };
  if (name === "segments") return { view: name, arg };
  if (TABS.includes(name)) return { view: name, arg: "" };
  return { view: "overview", arg: "" };
}

async function route({ focus = true } = {}) {
  if (!state.me) return;
  const { view, arg } = parseHash();
  const token = ++state.token;
  const tab = view === "customer" ? "customers" : view === "segment" ? "segments" : view;
  for (const name of TABS) {
    const link = $(`tab-${name}`);
    if (name === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const node of document.querySelectorAll(".view")) node.hidden = node.id !== `view-${view}`;
  $("load-error").hidden = true;
  state.route = view;
  // An erasure's receipt shows once, on the search it goes back to.
  if (view !== "customers") state.erased = null;
  renderErased();
  try {
    if (view === "overview") await loadOverview(token);
    if (view === "customers") await loadResults(token, $("search-q").value.trim(), 0);
    if (view === "customer") await loadCustomer(token, arg);
    if (view === "segments") await loadSegments(token, arg);
    if (view === "segment") await loadSegment(token, arg);
    if (view === "loyalty") await loadLoyalty(token);
    if (view === "triggers") await loadTriggers(token);
  } catch (e) {
    if (token !== state.token || e.status === 401) return;
    $("load-error").hidden = false;
    $("load-error").textContent = e.status === 404 && view === "customer" ? t("notFound") : t("loadError", { error: e.message });
  }
  if (focus && token === state.token) {
    const heading = view === "segments" && arg ? $("builder-title") : state.erased ? $("erased-title") : $(`view-${view}`).querySelector("h1");
    heading?.focus();
  }
}

function render() {
  if (!state.me) return;
  if (state.route === "overview" && state.overview) renderOverview();
  if (state.route === "customers") renderErased();
  if (state.route === "customers" && state.results) renderResults();
  if (state.route === "customer" && state.customer) renderCustomer();
  if (state.route === "segments" && state.builder) renderSegments();
  if (state.route === "segment" && state.segment) renderSegment();
  if (state.route === "loyalty" && state.loyalty) renderLoyalty();
  if (state.route === "triggers" && state.triggers) renderTriggers();
}

// ---------------------------------------------------------------------------------
// Overview

/** The window the overview shows: `days` up to the scoring date (or now). */
function windowOf(days) {
  const asOf = Date.parse(state.settings?.asOf ?? "") || Date.now();
  const to = Math.ceil(asOf / DAY_MS) * DAY_MS;
  return { from: new Date(to - days * DAY_MS).toISOString(), to: new Date(to).toISOString() };
}

async function loadOverview(token) {
  const window = windowOf(Number($("period").value) || 365);
  // The chat figures come from the agents' API; without them the rest still shows.
  const chat = api(`/v1/agent/stats?${q({ since: window.from })}`).catch((e) => ({ error: e.message }));
  const [overview, segments, stats] = await Promise.all([api(`/v1/crm/overview?${q(window)}`), api("/v1/crm/segments"), chat]);
  if (token !== state.token) return;
  state.overview = overview;
  state.segments = segments;
  state.chat = stats;
  renderOverview();
}

/** The currency with the most revenue in the window (or the RFM one). */
function mainCurrency(sales) {
  const sorted = [...(sales?.byCurrency ?? [])].sort((a, b) => b.revenue - a.revenue);
  return sorted[0] ?? { currency: state.segments?.currency ?? "GBP", orders: 0, online: 0, store: 0, revenue: 0, aov: null };
}

function kpi(label, value, note, id) {
  return el("div", { className: "kpi", attrs: { id } }, el("p", { className: "kpi-label" }, label), el("p", { className: "kpi-value" }, value), note ? el("p", { className: "kpi-note muted small" }, note) : null);
}

function renderOverview() {
  const o = state.overview;
  const main = mainCurrency(o.sales);
  const toDay = new Date(Date.parse(o.to) - 1).toISOString();
  $("period-text").textContent = t("periodText", { from: fmtDate(o.from), to: fmtDate(toDay) });
  const run = state.segments?.run;
  fill(
    $("kpis"),
    kpi(t("revenue"), fmtMoney(main.revenue, main.currency, { whole: true }), null, "kpi-revenue"),
    kpi(t("orders"), fmtNumber(main.orders), t("ordersSplit", { online: fmtNumber(main.online), store: fmtNumber(main.store) }), "kpi-orders"),
    kpi(t("aov"), fmtMoney(main.aov, main.currency), null, "kpi-aov"),
    kpi(t("customersKpi"), fmtNumber(run?.customers ?? 0), run ? t("vips", { n: run.vip?.customers ?? 0 }) : null, "kpi-customers"),
  );
  fill($("sales-chart"), salesChart(o.sales, main.currency));
  fill($("funnel-chart"), funnelChart(o.funnel));
  fill($("segment-chart"), segmentChart(state.segments));
  fill($("consent-chart"), consentChart(o.consent));
  fill($("history-chart"), historyChart(o.history));
  fill($("chat-stats"), chatStats(state.chat, o.from));
}

/** Revenue as columns and orders as a line, over the buckets of the window. */
function salesChart(sales, currency) {
  const series = (sales?.series ?? []).filter((p) => p.currency === currency);
  if (!series.length) return empty(t("noSales"));
  // Arabic money labels ("‏2.4 ألف UK£") are longer: their side needs more room.
  const W = 720, H = 260, pad = { top: 16, bottom: 34, side: lang === "ar" ? 100 : 68 };
  const plotW = W - 2 * pad.side, plotH = H - pad.top - pad.bottom;
  const maxRevenue = Math.max(...series.map((p) => p.revenue), 1);
  const maxOrders = Math.max(...series.map((p) => p.orders), 1);
  const rtl = lang === "ar";
  const step = plotW / series.length;
  const x = (i) => (rtl ? W - pad.side - (i + 0.5) * step : pad.side + (i + 0.5) * step);
  const yRev = (v) => pad.top + plotH - (v / maxRevenue) * plotH;
  const yOrd = (v) => pad.top + plotH - (v / maxOrders) * plotH;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", "aria-hidden": "true", focusable: "false" });
  const revenueEdge = rtl ? W - pad.side + 8 : pad.side - 8;
  const ordersEdge = rtl ? pad.side - 8 : W - pad.side + 8;
  for (const f of [0, 0.5, 1]) {
    const y = pad.top + plotH - f * plotH;
    chart.append(svg("line", { x1: pad.side, x2: W - pad.side, y1: y, y2: y, class: "grid-line" }));
    chart.append(svg("text", { x: revenueEdge, y: y + 4, class: "axis revenue-axis", "text-anchor": "end", direction: rtl ? "rtl" : "ltr" }, fmtMoney(maxRevenue * f, currency, { compact: true })));
    chart.append(svg("text", { x: ordersEdge, y: y + 4, class: "axis orders-axis", "text-anchor": rtl ? "end" : "start" }, fmtNumber(Math.round(maxOrders * f))));
  }
  const barW = Math.max(2, Math.min(36, step * 0.62));
  const labelEvery = Math.ceil(series.length / 12);
  series.forEach((p, i) => {
    chart.append(svg("rect", { x: x(i) - barW / 2, y: yRev(p.revenue), width: barW, height: Math.max(0, pad.top + plotH - yRev(p.revenue)), rx: 3, class: "bar revenue" }));
    if (i % labelEvery === 0) chart.append(svg("text", { x: x(i), y: H - 12, class: "axis", "text-anchor": "middle" }, fmtBucket(p.at)));
  });
  const points = series.map((p, i) => `${x(i).toFixed(1)},${yOrd(p.orders).toFixed(1)}`).join(" ");
  chart.append(svg("polyline", { points, class: "line orders" }));
  series.forEach((p, i) => chart.append(svg("circle", { cx: x(i), cy: yOrd(p.orders), r: 3.5, class: "dot orders" })));
  const total = series.reduce((sum, p) => sum + p.revenue, 0);
  const count = series.reduce((sum, p) => sum + p.orders, 0);
  const best = series.reduce((a, b) => (b.revenue > a.revenue ? b : a));
  const summary = t("salesSummary", {
    bucket: t(sales.bucket === "day" ? "day" : "month"),
    from: fmtBucket(series[0].at, true),
    to: fmtBucket(series.at(-1).at, true),
    revenue: fmtMoney(total, currency, { whole: true }),
    orders: fmtNumber(count),
    best: fmtBucket(best.at, true),
    bestRevenue: fmtMoney(best.revenue, currency, { whole: true }),
  });
  return el(
    "figure",
    { className: "figure" },
    chart,
    el("figcaption", { className: "legend" }, el("span", { className: "key revenue" }, t("revenue")), el("span", { className: "key orders" }, t("orders")), el("span", { className: "vh" }, summary)),
    table(t("salesChart"), [t("when"), t("revenue"), t("orders"), t("aov")], series.map((p) => [fmtBucket(p.at, true), fmtMoney(p.revenue, currency), fmtNumber(p.orders), fmtMoney(p.aov, currency)]), { hidden: true }),
  );
}

/** A row of a horizontal bar chart: label, an SVG bar of `share` (0 to 1), and the value text. */
function barRow(label, share, value, note, kind = "") {
  const width = Math.max(0, Math.min(1, share || 0)) * 100;
  const bar = svg("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none", class: "hbar", "aria-hidden": "true", focusable: "false" }, svg("rect", { x: 0, y: 0, width: 100, height: 10, rx: 2, class: "track" }), width > 0 ? svg("rect", { x: 0, y: 0, width, height: 10, rx: 2, class: `fill ${kind}` }) : null);
  return el("li", { className: "bar-row" }, el("span", { className: "bar-label" }, label), bar, el("span", { className: "bar-value" }, value), note ? el("span", { className: "bar-note muted small" }, note) : null);
}

function stepLabel(event) {
  return t(`step${event.replace(/\s+/g, "")}`) || event;
}

function funnelChart(funnel) {
  const steps = funnel?.steps ?? [];
  if (!steps.length || !steps[0].profiles) return empty(t("noFunnel"));
  const first = steps[0].profiles || 1;
  const list = el(
    "ol",
    { className: "bars funnel", attrs: { "aria-hidden": "true" } },
    steps.map((s) => barRow(stepLabel(s.event), s.profiles / first, fmtNumber(s.profiles), !s.dropOff ? null : t("dropText", { pct: fmtPct(s.dropOff) }), "funnel")),
  );
  const summary = t("funnelSummary", { steps: steps.map((s) => `${stepLabel(s.event)} ${fmtNumber(s.profiles)}${s.dropOff == null ? "" : ` (${t("dropOff")} ${fmtPct(s.dropOff)})`}`).join(lang === "ar" ? "، " : ", ") });
  const carts = funnel.abandonedCarts;
  const value = carts?.value?.[0];
  return el(
    "div",
    {},
    list,
    table(t("funnel"), [t("step"), t("profiles"), t("conversion"), t("dropOff")], steps.map((s) => [stepLabel(s.event), fmtNumber(s.profiles), fmtPct(s.conversion), fmtPct(s.dropOff)]), { hidden: true }),
    el("p", { className: "vh" }, summary),
    carts?.count ? el("p", { className: "muted small note" }, t("abandoned", { n: fmtNumber(carts.count), value: fmtMoney(value?.total, value?.currency, { whole: true }), recovered: fmtNumber(carts.recovered) })) : null,
  );
}

function segmentChart(segments) {
  const rows = segments?.segments ?? [];
  if (!segments?.run) return empty(t("noRun"));
  const max = Math.max(...rows.map((s) => s.customers), 1);
  const list = el("ul", { className: "bars", attrs: { "aria-hidden": "true" } }, rows.map((s) => barRow(segmentLabel(s.name), s.customers / max, fmtNumber(s.customers), fmtPct(s.share), `seg-${s.name}`)));
  list.id = "segment-bars";
  return el(
    "div",
    {},
    list,
    table(t("segmentSizes"), [t("segment"), t("customers"), t("share")], rows.map((s) => [segmentLabel(s.name), fmtNumber(s.customers), fmtPct(s.share)]), { hidden: true }),
  );
}

/** A column per refresh, stacked by segment, with a legend and a table for screen readers. */
function historyChart(history) {
  if (!history?.length) return empty(t("noRun"));
  const W = 720, H = 240, top = 12, bottom = 30, axis = 44, edge = 12;
  const rtl = lang === "ar";
  const [left, right] = rtl ? [edge, W - axis] : [axis, W - edge];
  const plotH = H - top - bottom;
  const totals = history.map((run) => SEGMENTS.reduce((sum, name) => sum + (run.segments[name] ?? 0), 0));
  const max = Math.max(...totals, 1);
  const step = (right - left) / history.length;
  const x = (i) => (rtl ? right - (i + 0.5) * step : left + (i + 0.5) * step);
  const y = (v) => top + plotH - (v / max) * plotH;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", "aria-hidden": "true", focusable: "false" });
  for (const f of [0, 0.5, 1]) {
    chart.append(svg("line", { x1: left, x2: right, y1: y(max * f), y2: y(max * f), class: "grid-line" }));
    chart.append(svg("text", { x: rtl ? right + 8 : left - 8, y: y(max * f) + 4, class: "axis", "text-anchor": rtl ? "start" : "end" }, fmtNumber(Math.round(max * f))));
  }
  const barW = Math.max(3, Math.min(40, step * 0.6));
  const labelEvery = Math.ceil(history.length / 8);
  // Refreshes within a day or two are told apart by the time, others by the date.
  const span = Date.parse(history.at(-1).at) - Date.parse(history[0].at);
  const label = span < 2 * DAY_MS ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short" };
  history.forEach((run, i) => {
    let below = 0;
    for (const name of SEGMENTS) {
      const size = run.segments[name] ?? 0;
      if (size) chart.append(svg("rect", { x: x(i) - barW / 2, y: y(below + size), width: barW, height: y(below) - y(below + size), class: `stack seg-${name}` }));
      below += size;
    }
    if (i % labelEvery === 0) chart.append(svg("text", { x: x(i), y: H - 10, class: "axis", "text-anchor": "middle" }, fmtDate(run.at, label)));
  });
  const when = { dateStyle: "medium", timeStyle: "short" };
  return el(
    "figure",
    { className: "figure" },
    chart,
    el("figcaption", { className: "legend wrap", attrs: { "aria-hidden": "true" } }, SEGMENTS.map((name) => el("span", { className: `key seg-${name}` }, segmentLabel(name)))),
    table(t("historyTable"), [t("refreshed"), ...SEGMENTS.map(segmentLabel), t("total")], history.map((run, i) => [fmtDate(run.at, when), ...SEGMENTS.map((name) => fmtNumber(run.segments[name] ?? 0)), fmtNumber(totals[i])]), { hidden: true }),
  );
}

/** Seconds as "85 milliseconds", "42 seconds", "3.5 minutes" or "2 hours" (or "85 ms", …, when `unitDisplay` is "short"). */
function fmtDuration(seconds, unitDisplay = "long") {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "—";
  if (seconds > 0 && seconds < 1) return new Intl.NumberFormat(lang, { style: "unit", unit: "millisecond", unitDisplay, maximumFractionDigits: 0 }).format(seconds * 1000);
  const [value, unit] = seconds < 60 ? [seconds, "second"] : seconds < 3600 ? [seconds / 60, "minute"] : [seconds / 3600, "hour"];
  return new Intl.NumberFormat(lang, { style: "unit", unit, unitDisplay, maximumFractionDigits: value < 10 ? 1 : 0 }).format(value);
}

/** The chat card: conversations, satisfaction and first replies since the period began. */
function chatStats(stats, since) {
  if (stats?.error) return empty(t("chatUnavailable", { error: stats.error }));
  const { conversations, csat, firstResponse } = stats;
  const average = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(csat.average ?? 0);
  return [
    facts([
      [t("chatTotal"), fmtNumber(conversations.total), "chat-total"],
      [t("openChats"), fmtNumber(conversations.open), "chat-open"],
      [t("closedChats"), fmtNumber(conversations.closed), "chat-closed"],
      [t("csat"), csat.count ? `${t("csatValue", { average })} (${t("ratings", { n: csat.count })})` : t("noRatings"), "chat-csat"],
      [t("firstResponseMedian"), firstResponse.count ? fmtDuration(firstResponse.medianSeconds) : t("noReplies"), "chat-median"],
      [t("firstResponseAverage"), firstResponse.count ? fmtDuration(firstResponse.averageSeconds) : t("noReplies"), "chat-average"],
    ]),
    el("p", { className: "muted small" }, t("chatSince", { date: fmtDate(since) })),
  ];
}

function consentChart(consent) {
  if (!consent?.records) return empty(t("noConsent"));
  const rows = CONSENT.map((name) => [name, consent.rates?.[name]]);
  return el(
    "div",
    {},
    el("ul", { className: "bars", attrs: { "aria-hidden": "true" } }, rows.map(([name, rate]) => barRow(t(name), rate, fmtPct(rate), null, "consent"))),
    table(t("consentSummary", { n: fmtNumber(consent.records), list: rows.map(([name, rate]) => `${t(name)} ${fmtPct(rate)}`).join(", ") }), [t("category"), t("allowed")], rows.map(([name, rate]) => [t(name), fmtPct(rate)]), { hidden: true }),
  );
}

// ---------------------------------------------------------------------------------
// Customers

async function loadResults(token, query, offset) {
  const found = await api(`/v1/crm/customers?${q({ q: query, limit: state.pageSize, offset })}`);
  if (token !== state.token) return;
  state.results = found;
  renderResults();
}

const customerKey = (c) => c.userId || String(c.profileId);
const customerName = (c) => c.name || t("customerN", { id: c.userId || c.profileId });

function segmentChip(segment, vip) {
  return [segment ? el("span", { className: `chip seg-${segment}` }, segmentLabel(segment)) : el("span", { className: "chip" }, t("noSegment")), vip ? el("span", { className: "chip vip" }, t("vip")) : null];
}

function renderResults() {
  const r = state.results;
  $("search-count").textContent = r.q && !r.total ? t("noResults", { q: r.q }) : `${t("results", { n: r.total })}${r.q ? "" : ` ${t("topSpenders")}`}`;
  fill(
    $("results"),
    r.customers.map((c) =>
      el(
        "li",
        { className: "result" },
        el("a", { href: `#customer/${encodeURIComponent(customerKey(c))}`, className: "result-name", dir: "auto" }, customerName(c)),
        el("span", { className: "result-meta muted small" }, [c.email, c.phone, c.userId ? `#${c.userId}` : null].filter(Boolean).map((text, i) => [i ? " · " : "", el("bdi", {}, text)])),
        el("span", { className: "result-chips" }, segmentChip(c.rfm?.segment, c.rfm?.vip)),
        el("span", { className: "result-money" }, c.rfm ? `${t("ordersN", { n: c.rfm.orders })} · ${fmtMoney(c.rfm.monetary, state.settings?.currency || "GBP")}` : ""),
      ),
    ),
  );
  fill($("results-pager"), pager("results", r, (offset) => loadResults(state.token, r.q, offset)));
}

// ---------------------------------------------------------------------------------
// Pages of a list

/**
 * Previous and next buttons, "21–40 of 137" and the page size, for `page` (an answer
 * with `total`, `limit` and `offset`) of list `name` (`results`, `segment`, `log`);
 * `load(offset)` shows another page. Focus stays on the control used, or moves to
 * the other button when that one is at the end.
 */
function pager(name, page, load) {
  if (page.total <= PAGE_SIZES[0]) return null;
  const move = async (offset, control) => {
    try {
      await load(offset);
    } catch (e) {
      $("load-error").hidden = false;
      $("load-error").textContent = t("loadError", { error: e.message });
      return;
    }
    const nav = $(`${name}-pages`);
    const target = nav?.querySelector(`[data-control="${control}"]`);
    const other = nav?.querySelector(`[data-control="${control === "next" ? "previous" : "next"}"]`);
    (target && !target.disabled ? target : other)?.focus();
    announce(nav?.querySelector(".pager-range").textContent ?? "");
  };
  const button = (control, offset, disabled) => {
    const node = el("button", { type: "button", className: "button small", disabled, dataset: { control } }, t(control));
    node.addEventListener("click", () => move(offset, control));
    return node;
  };
  const size = el("select", { dataset: { control: "size" } }, PAGE_SIZES.map((n) => el("option", { value: String(n), selected: n === state.pageSize }, fmtNumber(n))));
  size.addEventListener("change", () => {
    state.pageSize = Number(size.value);
    move(0, "size");
  });
  const last = Math.min(page.total, page.offset + page.limit);
  return el(
    "nav",
    { className: "pager", id: `${name}-pages`, attrs: { "aria-label": t(`pages_${name}`) } },
    button("previous", Math.max(0, page.offset - page.limit), page.offset <= 0),
    el("p", { className: "pager-range" }, t("range", { from: fmtNumber(page.offset + 1), to: fmtNumber(last), total: fmtNumber(page.total) })),
    button("next", page.offset + page.limit, last >= page.total),
    el("label", { className: "field inline compact" }, el("span", {}, t("perPage")), size),
  );
}

async function loadCustomer(token, key) {
  fill($("customer-title"), t("loading"));
  fill($("customer-kpis"));
  fill($("customer-body"));
  fill($("customer-chips"));
  const customer = await api(`/v1/crm/customers/${encodeURIComponent(key)}`);
  if (token !== state.token) return;
  state.customer = customer;
  state.erasing = null;
  renderCustomer();
}

const cardOf = (className, title, ...body) => el("section", { className }, el("h2", {}, title), ...body);
const card = (title, ...body) => cardOf("card", title, ...body);
/** A tier's or a reward's name in the page's language. */
const localName = (thing) => thing?.name?.[lang] || thing?.name?.en || thing?.id || "—";

/** A list of `[term, value, id of the value]`. */
function facts(pairs) {
  return el("dl", { className: "facts" }, pairs.filter(Boolean).map(([term, value, id]) => el("div", {}, el("dt", {}, term), el("dd", { attrs: { id } }, value))));
}

const kindLabel = (kind) => TEXT[lang][`kind_${kind}`] ?? kind;
const reasonLabel = (reason) => TEXT[lang][`reason_${String(reason).replace(/[^a-z]+/gi, "_")}`] ?? reason;

function renderCustomer() {
  const c = state.customer;
  fill($("customer-title"), el("bdi", {}, customerName(c)));
  fill($("customer-chips"), segmentChip(c.rfm?.segment, c.rfm?.vip));
  const money = c.orders?.byCurrency?.[0];
  // The customer's own currency: what they ordered in, else what they are scored in.
  const currency = money?.currency || c.rfm?.currency || state.settings?.currency || "GBP";
  fill(
    $("customer-kpis"),
    kpi(t("orders"), fmtNumber(c.orders?.total ?? 0), t("ordersSplit", { online: fmtNumber(c.orders?.online ?? 0), store: fmtNumber(c.orders?.store ?? 0) }), "c-orders"),
    kpi(t("totalSpent"), fmtMoney(money?.total ?? 0, money?.currency), money ? `${t("aov")} ${fmtMoney(money.average, money.currency)}` : null, "c-total"),
    kpi(t("ltv"), c.rfm ? fmtMoney(c.rfm.ltv, c.rfm.currency) : "—", null, "c-ltv"),
    kpi(t("visits"), fmtNumber(c.visits?.count ?? 0), t("firstLast", { first: fmtDate(c.firstSeen), last: fmtDate(c.lastSeen) }), "c-visits"),
  );
  const identities = card(
    t("identities"),
    el("ul", { className: "ids" }, (c.identities ?? []).map((id) => el("li", {}, el("span", { className: "chip" }, kindLabel(id.kind)), " ", el("bdi", { className: "mono" }, id.value), " ", el("span", { className: "muted small" }, timeEl(id.firstSeen))))),
    el("h3", {}, t("whyLinked")),
    c.links?.length
      ? el("ul", { className: "links" }, c.links.map((l) => el("li", {}, el("bdi", { className: "mono" }, l.from?.value ?? ""), " ↔ ", el("bdi", { className: "mono" }, l.to?.value ?? ""), el("span", { className: "muted small block" }, `${reasonLabel(l.reason)} · `, timeEl(l.at)))))
      : empty(t("noLinks")),
  );
  const orders = card(
    t("latestOrders"),
    c.orders?.latest?.length
      ? table(t("latestOrders"), [t("date"), t("channel"), t("value")], c.orders.latest.map((o) => [timeEl(o.at), t(o.channel === "store" ? "store" : "online"), fmtMoney(o.value, o.currency)]), { numeric: [2] })
      : empty(t("noOrders")),
  );
  const products = card(
    t("products"),
    c.products?.length
      ? table(t("products"), [t("product"), t("times"), t("quantity")], c.products.map((p) => [el("bdi", {}, p.name || p.productId), fmtNumber(p.orders), fmtNumber(p.quantity)]), { numeric: [1, 2] })
      : empty(t("noProducts")),
  );
  const loyalty = card(
    t("loyalty"),
    c.loyalty
      ? facts([
          [t("tier"), localName(c.loyalty.tier)],
          [t("points"), fmtNumber(c.loyalty.balance)],
          c.loyalty.next ? [t("nextTier"), t("nextTierText", { tier: localName(c.loyalty.next.tier), needed: fmtMoney(c.loyalty.next.needed, currency) }), "c-next-tier"] : null,
        ])
      : empty(t("noLoyalty")),
  );
  const chat = card(t("chat"), facts([[t("conversations"), fmtNumber(c.chat?.conversations ?? 0)], [t("openChats"), fmtNumber(c.chat?.open ?? 0)], c.chat?.last ? [t("lastChat"), timeEl(c.chat.last.at || c.chat.last.updatedAt || c.chat.last.startedAt)] : null]));
  const yesNo = (v) => t(v ? "yes" : "no");
  const current = c.consent?.current;
  // The history has a column per category: the card spans two columns, and scrolls
  // inside itself where even that is too narrow.
  const consent = cardOf(
    current ? "card span-2" : "card",
    t("consent"),
    current
      ? [
          facts(CONSENT.map((name) => [t(name), yesNo(current.categories?.[name])])),
          el("h3", {}, t("consentHistory")),
          scrollRegion(
            t("consentHistory"),
            table(t("consentHistory"), [t("date"), ...CONSENT.slice(1).map((n) => t(n))], c.consent.history.map((h) => [timeEl(h.updatedAt), ...CONSENT.slice(1).map((n) => yesNo(h.categories?.[n]))])),
            "consent-history",
          ),
        ]
      : empty(t("noConsentProfile")),
  );
  const rfm = card(
    t("rfm"),
    c.rfm
      ? [
          el("p", { className: "rfm-segment" }, segmentChip(c.rfm.segment, c.rfm.vip)),
          facts([
            [t("segment"), segmentLabel(c.rfm.segment)],
            ["RFM", el("bdi", {}, t("scores", { r: c.rfm.r, f: c.rfm.f, m: c.rfm.m }))],
            [t("recency"), fmtNumber(c.rfm.recencyDays)],
            [t("monetary"), fmtMoney(c.rfm.monetary, c.rfm.currency)],
          ]),
          el("p", { className: "muted small" }, t("scoredAsOf", { date: fmtDate(c.rfm.asOf) })),
        ]
      : empty(t("noSegment")),
  );
  fill($("customer-body"), rfm, identities, orders, products, loyalty, chat, consent, privacyCard(c));
}

// A customer's data: the export as a file, and the erasure, confirmed by typing who

/** The export's file name: the customer's key, made safe for a file system, and today. */
const exportName = (key) => `customer-${key.replace(/[^\w.@-]+/g, "_")}-${new Date().toISOString().slice(0, 10)}.json`;

function privacyCard(c) {
  const key = customerKey(c);
  const download = el("a", { className: "button", id: "export-customer", href: `/v1/crm/customers/${encodeURIComponent(key)}/export`, download: exportName(key) }, t("downloadData"));
  const erase = el("button", { type: "button", className: "button danger", id: "erase-customer" }, t("eraseCustomer"));
  erase.addEventListener("click", () => {
    state.erasing = { typed: "" };
    renderPrivacy();
    $("erase-typed").focus();
  });
  return el(
    "section",
    { className: "card privacy", id: "privacy-card", attrs: { "aria-labelledby": "privacy-title" } },
    el("h2", { id: "privacy-title" }, t("privacy")),
    el("p", { className: "muted small" }, t("privacyIntro")),
    state.erasing ? eraseConfirm(c) : el("p", { className: "actions" }, download, erase),
  );
}

const renderPrivacy = () => $("privacy-card").replaceWith(privacyCard(state.customer));

/** The step before erasing: what happens, and the customer's id or email to type before "Erase for good" works. */
function eraseConfirm(c) {
  const id = c.userId || String(c.profileId);
  const accepted = [c.userId, String(c.profileId), c.email].filter(Boolean).map((v) => v.toLowerCase());
  const input = el("input", { type: "text", value: state.erasing.typed, dir: "ltr", spellcheck: false, attrs: { autocomplete: "off" } });
  const who = [[t("customerId"), id], c.email ? [t("email"), c.email] : null].filter(Boolean);
  const help = who.map(([label, value], i) => [i ? " · " : "", `${label}: `, el("bdi", { className: "mono" }, value)]);
  const cancel = () => {
    state.erasing = null;
    renderPrivacy();
    $("erase-customer").focus();
  };
  const group = confirmStep({
    id: "erase-question",
    question: tParts("confirmErase", { name: el("bdi", {}, customerName(c)) }),
    details: [el("p", {}, t("eraseWhat")), field("erase-typed", t("eraseType"), input, help)],
    yes: t("eraseYes"),
    onYes: (problem, button) => eraseCustomer(c, problem, button),
    onCancel: cancel,
  });
  const yes = group.querySelector('[data-confirm="yes"]');
  const check = () => (yes.disabled = !accepted.includes(input.value.trim().toLowerCase()));
  input.addEventListener("input", () => {
    state.erasing.typed = input.value;
    check();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !yes.disabled) yes.click();
  });
  check();
  return group;
}

/** Erases customer `c`, then goes back to the search, which shows what was done; `problem` says why it could not. */
async function eraseCustomer(c, problem, button) {
  button.disabled = true;
  button.textContent = t("erasing");
  problem.textContent = "";
  try {
    const answer = await api(`/v1/crm/customers/${encodeURIComponent(customerKey(c))}`, { method: "DELETE" });
    // Even if the merchant went elsewhere meanwhile: the proof key is answered only now.
    state.erased = { name: customerName(c), answer };
    state.erasing = null;
    location.hash = "#customers";
  } catch (e) {
    problem.textContent = t("eraseFailed", { error: e.message });
    button.disabled = false;
    button.textContent = t("eraseYes");
  }
}

/** The receipt of the erasure just done: what each table had, and the consent proof key to keep. */
function renderErased() {
  const erased = state.erased;
  $("erased").hidden = !erased;
  if (!erased) return;
  const { answer } = erased;
  const rows = answer.tables.filter((x) => x.rows > 0).map((x) => [TEXT[lang][`table_${x.table}`] ?? x.table, t(`action_${x.action}`), fmtNumber(x.rows)]);
  fill($("erased-title"), tParts("erasedTitle", { name: el("bdi", {}, erased.name) }));
  fill(
    $("erased-body"),
    el("p", {}, t("erasedAt", { date: fmtDate(answer.erasedAt, MOMENT) })),
    scrollRegion(t("eraseTable"), table(t("eraseTable"), [t("whatData"), t("action"), t("rows")], rows, { numeric: [2] })),
    answer.consentProofKey ? onceField("proof-key", t("proofKey"), answer.consentProofKey, t("proofKeyNote")) : el("p", { className: "muted small" }, t("noProofKey")),
    answer.scrubbed ? null : el("p", { className: "muted small" }, t("notScrubbed")),
  );
}

// ---------------------------------------------------------------------------------
// Segments: the RFM table, the merchant's own segments, and the form that builds one

const BUILT_IN = [...SEGMENTS, "vip", "all"];

async function loadSegments(token, editing) {
  const [segments, custom, loyalty] = await Promise.all([api("/v1/crm/segments"), api("/v1/crm/custom-segments"), api("/v1/crm/loyalty")]);
  if (token !== state.token) return;
  Object.assign(state, { segments, custom: custom.segments, loyalty, confirming: null });
  const found = custom.segments.find((s) => s.name === editing);
  if (editing && !found) {
    $("load-error").hidden = false;
    $("load-error").textContent = t("noSuchCustom", { name: editing });
  }
  startBuilder(found);
  renderSegments();
}

function renderSegments() {
  const s = state.segments;
  const run = s.run;
  $("segments-run").textContent = run ? t("segmentsRun", { customers: fmtNumber(run.customers), orders: fmtNumber(run.orders?.total), asOf: fmtDate(run.asOf), rule: s.vip?.rule ?? "" }) : t("noRun");
  $("refresh-text").textContent = run ? t("lastRefresh", { at: fmtDate(run.finishedAt, MOMENT), duration: fmtDuration(runSeconds(run)) }) : "";
  const link = (name) => el("a", { href: `#segment/${name}` }, segmentLabel(name));
  const rows = s.segments.map((x) => [link(x.name), fmtNumber(x.customers), fmtPct(x.share), fmtMoney(x.monetary, s.currency, { whole: true }), fmtMoney(x.averageLtv, s.currency)]);
  if (run) {
    rows.push([link("vip"), fmtNumber(s.vip?.customers), fmtPct(run.customers ? s.vip.customers / run.customers : null), "", ""]);
    rows.push([link("all"), fmtNumber(run.customers), fmtPct(1), "", ""]);
  }
  fill($("segments-table"), table(t("segments"), [t("segment"), t("customers"), t("share"), t("monetary"), t("avgLtv")], rows, { numeric: [1, 2, 3, 4] }));
  renderCustomList();
  renderBuilder();
}

/** How long refresh `run` took, reading, scoring and writing. */
const runSeconds = (run) => Object.values(run.ms ?? {}).reduce((sum, ms) => sum + ms, 0) / 1000;

/** Recomputes the segments now; the view shows the new run, sizes and counts, and the form stays as it is. */
async function refreshNow() {
  const button = $("refresh-now");
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  button.textContent = t("refreshing");
  $("refresh-error").textContent = "";
  announce(t("refreshing"));
  const token = state.token;
  try {
    const segments = await api("/v1/crm/refresh", { method: "POST" });
    const custom = await api("/v1/crm/custom-segments");
    if (token !== state.token) return;
    Object.assign(state, { segments, custom: custom.segments });
    renderSegments();
    schedulePreview(0);
    announce(t("refreshDone", { duration: fmtDuration(runSeconds(segments.run)) }));
  } catch (e) {
    $("refresh-error").textContent = t("refreshFailed", { error: e.message });
  } finally {
    button.removeAttribute("aria-disabled");
    button.textContent = t("refreshNow");
  }
}

/** Text as the server wrote it (in English), marked so for screen readers and kept left to right. */
const serverText = (text) => el("span", { lang: "en", dir: "ltr" }, text);

function renderCustomList() {
  const list = state.custom ?? [];
  fill($("custom-list"), list.length ? el("ul", { className: "custom-list" }, list.map(customItem)) : empty(t("noCustom")));
}

function customItem(s) {
  return el(
    "li",
    { className: "custom" },
    el("p", { className: "custom-head" }, el("a", { href: `#segment/${encodeURIComponent(s.name)}`, className: "custom-name", dir: "auto" }, s.label), el("span", { className: "custom-count" }, s.customers == null ? "—" : t("customersN", { n: s.customers }))),
    el("code", { className: "mono custom-filter", dir: "ltr" }, s.filter),
    s.problem ? el("p", { className: "form-error" }, t("filterBroken"), " ", serverText(s.problem)) : null,
    state.confirming === s.name ? deleteConfirm(s) : el("p", { className: "actions" }, el("a", { href: `#segments/${encodeURIComponent(s.name)}`, className: "button small", attrs: { "aria-label": t("editSegment", { label: s.label }) } }, t("edit")), deleteButton(s)),
  );
}

function deleteButton(s) {
  const button = el("button", { type: "button", className: "button small danger", dataset: { delete: s.name }, attrs: { "aria-label": t("deleteSegment", { label: s.label }) } }, t("delete"));
  button.addEventListener("click", () => {
    state.confirming = s.name;
    renderCustomList();
    $("custom-list").querySelector('[data-confirm="no"]').focus();
  });
  return button;
}

/** The step before deleting: a question, "Delete it" and "Cancel" (Escape too), focus on "Cancel". */
function deleteConfirm(s) {
  const cancel = () => {
    state.confirming = null;
    renderCustomList();
    $("custom-list").querySelector(`[data-delete="${s.name}"]`).focus();
  };
  return confirmStep({ id: `confirm-${s.name}`, question: t("confirmDelete", { label: s.label }), yes: t("deleteYes"), onYes: (problem) => deleteSegment(s, problem), onCancel: cancel });
}

/** Deletes custom segment `s`; `problem` says why it could not. */
async function deleteSegment(s, problem) {
  try {
    await api(`/v1/crm/custom-segments/${encodeURIComponent(s.name)}`, { method: "DELETE" });
  } catch (e) {
    problem.textContent = t("deleteFailed", { error: e.message });
    return;
  }
  state.custom = state.custom.filter((x) => x.name !== s.name);
  state.confirming = null;
  if (state.builder.editing === s.name) newSegment();
  renderCustomList();
  $("custom-title").focus();
  announce(t("deleted", { label: s.label }));
}

// The form: a condition is a row of field, test and value; the rows write the filter
// text, and filter text the rows can show rewrites the rows.

/** A condition on `field`, keeping the test `op` when the field takes it. */
function rowFor(field, op) {
  const spec = FIELDS[field];
  return { field, op: spec.ops.includes(op) ? op : spec.ops[0], value: spec.choices?.()[0]?.[0] ?? "" };
}

/** Sets the form to `segment` (a custom segment to edit), or to a new one. */
function startBuilder(segment) {
  const parsed = conditionsOf(segment?.filter ?? "");
  state.builder = { editing: segment?.name ?? null, join: parsed?.join ?? "and", rows: segment ? parsed?.rows ?? [] : [rowFor("segment")], synced: Boolean(parsed) };
  $("seg-name").value = segment?.name ?? "";
  $("seg-name").readOnly = Boolean(segment);
  $("seg-label").value = segment?.label ?? "";
  $("seg-filter").value = segment ? segment.filter : builderText();
  for (const id of ["seg-name", "seg-label", "seg-filter"]) fieldError(id);
  fill($("seg-status"));
  $("seg-save-error").textContent = "";
  state.preview = null;
  schedulePreview(0);
}

function newSegment() {
  startBuilder();
  history.replaceState(null, "", "#segments");
  renderBuilder();
}

function renderBuilder() {
  const b = state.builder;
  const label = state.custom?.find((s) => s.name === b.editing)?.label;
  $("builder-title").textContent = b.editing ? t("editSegment", { label }) : t("newSegment");
  $("seg-join").value = b.join;
  renderRows();
  renderPreview();
}

function renderRows() {
  fill($("seg-rows"), state.builder.rows.map(conditionRow));
  $("seg-sync").hidden = state.builder.synced;
}

function focusRow(i, part) {
  $("seg-rows").querySelector(`[data-row="${i}"] [data-part="${part}"]`)?.focus();
}

function choice(options, value, label, part) {
  return el("select", { dataset: { part }, attrs: { "aria-label": label } }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)));
}

function valueInput(row, label) {
  const spec = FIELDS[row.field];
  if (row.field === "vip") return null;
  if (spec.choices) return choice(spec.choices(), row.value, label, "value");
  const text = spec.value === "text";
  const money = spec.value === "money";
  return el("input", {
    type: text ? "text" : "number",
    value: row.value,
    dir: text ? "auto" : "ltr",
    dataset: { part: "value" },
    attrs: { "aria-label": label, min: text ? null : "0", step: money ? "0.01" : text ? null : "1", inputmode: money ? "decimal" : text ? null : "numeric", autocomplete: "off" },
  });
}

function conditionRow(row, i) {
  const n = i + 1;
  const rows = state.builder.rows;
  const field = choice(Object.keys(FIELDS).map((name) => [name, t(`field_${name}`)]), row.field, t("fieldOf", { n }), "field");
  const op = choice(FIELDS[row.field].ops.map((o) => [o, t(row.field === "vip" ? `vip_${o}` : `op_${o}`)]), row.op, t("opOf", { n }), "op");
  const value = valueInput(row, t("valueOf", { n }));
  const remove = el("button", { type: "button", className: "button small quiet", attrs: { "aria-label": t("removeOf", { n }) } }, t("remove"));
  field.addEventListener("change", () => {
    rows[i] = rowFor(field.value, row.op);
    builderChanged({ rows: true });
    focusRow(i, "field");
  });
  op.addEventListener("change", () => {
    row.op = op.value;
    builderChanged();
  });
  value?.addEventListener(value.tagName === "SELECT" ? "change" : "input", () => {
    row.value = value.value;
    builderChanged();
  });
  remove.addEventListener("click", () => {
    rows.splice(i, 1);
    builderChanged({ rows: true });
    if (rows.length) focusRow(Math.min(i, rows.length - 1), "field");
    else $("seg-add").focus();
  });
  return el("li", { className: "condition", dataset: { row: String(i) } }, field, op, value, remove);
}

/** The conditions changed: they write the filter (re-drawn when `rows` changed). */
function builderChanged({ rows = false } = {}) {
  state.builder.synced = true;
  $("seg-filter").value = builderText();
  if (rows) renderRows();
  $("seg-sync").hidden = true;
  schedulePreview();
}

/** The filter was typed: the rows follow when they can show it. */
function filterEdited() {
  const b = state.builder;
  const parsed = conditionsOf($("seg-filter").value);
  b.synced = Boolean(parsed);
  if (parsed) {
    b.join = parsed.join;
    b.rows = parsed.rows;
    $("seg-join").value = b.join;
  }
  renderRows();
  schedulePreview();
}

function conditionText({ field, op, value }) {
  if (field === "vip") return op === "=" ? "vip" : "not vip";
  const v = String(value).trim();
  if (!v) return null;
  return `${field} ${op} ${FIELDS[field].value === "text" ? `"${v}"` : v}`;
}

const builderText = () => state.builder.rows.map(conditionText).filter(Boolean).join(` ${state.builder.join} `);

/** `text` as tokens: `{word}`, `{text}` (quoted) or `{op}`; null when something else is in it. */
function tokensOf(text) {
  const pattern = /\s*(?:"([^"]*)"|(<=|>=|!=|<>|==|[=<>≠≤≥])|([\p{L}\p{N}_.'-]+))/uy;
  const rest = text.trim();
  const tokens = [];
  while (pattern.lastIndex < rest.length) {
    const m = pattern.exec(rest);
    if (!m) return null;
    tokens.push(m[1] != null ? { text: m[1] } : m[2] ? { op: OP_ALIASES[m[2]] ?? m[2] } : { word: m[3] });
  }
  return tokens;
}

/** The condition at `tokens[i]` and where the next token is, if the rows can show it. */
function conditionAt(tokens, i) {
  const word = (k) => tokens[k]?.word?.toLowerCase();
  if (word(i) === "vip") return [{ field: "vip", op: "=", value: "" }, i + 1];
  if (word(i) === "not" && word(i + 1) === "vip") return [{ field: "vip", op: "!=", value: "" }, i + 2];
  const field = FIELD_ALIASES[word(i)] ?? word(i);
  const op = tokens[i + 1]?.op;
  const raw = tokens[i + 2]?.word ?? tokens[i + 2]?.text;
  if (!Object.hasOwn(FIELDS, field) || field === "vip" || !FIELDS[field].ops.includes(op) || raw == null) return null;
  const choices = FIELDS[field].choices?.();
  const value = choices ? choices.find(([v]) => v.toLowerCase() === raw.toLowerCase())?.[0] : raw;
  return value == null ? null : [{ field, op, value }, i + 3];
}

/** The rows and join of filter `text` when it is conditions all joined by `and` or all by `or`; else null. */
function conditionsOf(text) {
  const tokens = tokensOf(text);
  if (!tokens) return null;
  const rows = [];
  let join = null;
  let i = 0;
  while (i < tokens.length) {
    if (rows.length) {
      const word = tokens[i].word?.toLowerCase();
      if ((word !== "and" && word !== "or") || (join && word !== join)) return null;
      join = word;
      i += 1;
    }
    const found = conditionAt(tokens, i);
    if (!found) return null;
    rows.push(found[0]);
    i = found[1];
  }
  return { join: join ?? "and", rows };
}

/** Fills the error under field `id` (empty: none), and marks the field invalid while there is one. */
function fieldError(id, ...message) {
  const error = $(`${id}-error`);
  fill(error, ...message);
  if (error.textContent) $(id).setAttribute("aria-invalid", "true");
  else $(id).removeAttribute("aria-invalid");
}

const filterError = (message) => fieldError("seg-filter", t("filterWrong"), " ", serverText(message.replace(/^filter: /, "")));

let previewTimer = 0;
let previewToken = 0;
function schedulePreview(delay = PREVIEW_DELAY_MS) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(runPreview, delay);
}

/** Asks the server who the filter picks, unsaved; its 400 says what is wrong and where. */
async function runPreview() {
  const filter = $("seg-filter").value;
  const token = ++previewToken;
  if (!filter.trim()) {
    fieldError("seg-filter");
    state.preview = { status: "empty" };
    renderPreview();
    return;
  }
  try {
    const answer = await api("/v1/crm/custom-segments/preview", { method: "POST", body: { filter } });
    if (token !== previewToken) return;
    fieldError("seg-filter");
    state.preview = { status: "ok", answer };
  } catch (e) {
    if (token !== previewToken) return;
    if (e.status === 400) filterError(e.message);
    state.preview = { status: e.status === 400 ? "broken" : "failed", error: e.message };
  }
  renderPreview();
}

function renderPreview() {
  const p = state.preview;
  const text = { ok: () => t("previewCount", { n: p.answer.customers }), broken: () => t("previewBroken"), failed: () => t("loadError", { error: p.error }), empty: () => t("previewEmpty") };
  $("seg-preview-count").textContent = p ? text[p.status]() : t("previewWorking");
  const sample = p?.status === "ok" ? p.answer.sample.slice(0, PREVIEW_SHOWN) : [];
  fill($("seg-preview-list"), sample.map((c) => el("li", {}, el("bdi", { className: "preview-name" }, customerName(c)), el("span", { className: "muted small" }, `${t("ordersN", { n: c.orders })} · ${fmtMoney(c.monetary, c.currency)}`))));
}

async function saveSegment(event) {
  event.preventDefault();
  const b = state.builder;
  const name = $("seg-name").value.trim();
  const label = $("seg-label").value.trim();
  const filter = $("seg-filter").value;
  for (const id of ["seg-name", "seg-label", "seg-filter"]) fieldError(id);
  fill($("seg-status"));
  $("seg-save-error").textContent = "";
  const taken = !b.editing && state.custom.some((s) => s.name === name);
  const wrong = !SEGMENT_NAME.test(name) ? ["seg-name", t("nameWrong")] : taken ? ["seg-name", t("nameTaken", { name })] : !filter.trim() ? ["seg-filter", t("filterEmpty")] : null;
  if (wrong) {
    fieldError(...wrong);
    $(wrong[0]).focus();
    return;
  }
  const button = $("seg-save");
  button.disabled = true;
  button.textContent = t("saving");
  try {
    const saved = await api(`/v1/crm/custom-segments/${encodeURIComponent(name)}`, { method: "PUT", body: { label: label || undefined, filter } });
    state.custom = (await api("/v1/crm/custom-segments")).segments;
    b.editing = saved.name;
    $("seg-name").readOnly = true;
    history.replaceState(null, "", `#segments/${encodeURIComponent(saved.name)}`);
    renderCustomList();
    renderBuilder();
    fill($("seg-status"), t("saved", { label: saved.label }), " ", el("a", { href: `#segment/${encodeURIComponent(saved.name)}` }, t("openSegment")));
  } catch (e) {
    saveFailed(e);
  } finally {
    button.disabled = false;
    button.textContent = t("saveSegment");
  }
}

/** Shows why saving failed: next to the field the server names, else under the form. */
function saveFailed(e) {
  const named = namedField(e, ["name", "label", "filter"]);
  if (!named) {
    $("seg-save-error").textContent = e.message;
    return;
  }
  const [field, message] = named;
  if (field === "filter") filterError(message);
  else fieldError(`seg-${field}`, serverText(message));
  $(`seg-${field}`).focus();
}

// A segment's customers, a page at a time

const segmentPage = (name, offset) => api(`/v1/crm/segments/${encodeURIComponent(name)}/customers?${q({ limit: state.pageSize, offset })}`);

async function loadSegment(token, name) {
  fill($("segment-title"), BUILT_IN.includes(name) ? segmentLabel(name) : name);
  fill($("segment-table"));
  fill($("segment-pager"));
  $("segment-filter").hidden = true;
  $("segment-count").textContent = t("loading");
  $("segment-csv").href = `/v1/crm/segments/${encodeURIComponent(name)}.csv`;
  const custom = BUILT_IN.includes(name) ? null : api("/v1/crm/custom-segments").then((answer) => answer.segments.find((s) => s.name === name) ?? null);
  const [page, segment] = await Promise.all([segmentPage(name, 0), custom]);
  if (token !== state.token) return;
  state.segment = { ...page, custom: segment };
  renderSegment();
}

async function moveSegment(offset) {
  const { segment, custom } = state.segment;
  const token = state.token;
  const page = await segmentPage(segment, offset);
  if (token !== state.token) return;
  state.segment = { ...page, custom };
  renderSegment();
}

function renderSegment() {
  const s = state.segment;
  const title = s.custom?.label ?? segmentLabel(s.segment);
  fill($("segment-title"), el("bdi", {}, title));
  $("segment-filter").hidden = !s.custom;
  if (s.custom) fill($("segment-filter"), t("segmentFilter"), " ", el("code", { className: "mono", dir: "ltr" }, s.custom.filter), " ", el("a", { href: `#segments/${encodeURIComponent(s.segment)}` }, t("edit")));
  $("segment-count").textContent = t("segmentCount", { n: s.total });
  const rows = s.customers.map((c) => [
    el("a", { href: `#customer/${encodeURIComponent(customerKey(c))}`, dir: "auto" }, customerName(c)),
    fmtNumber(c.orders),
    fmtMoney(c.monetary, c.currency),
    fmtMoney(c.ltv, c.currency),
    timeEl(c.lastOrderAt),
    el("bdi", {}, `${c.r}·${c.f}·${c.m}`),
  ]);
  fill($("segment-table"), table(title, [t("customer"), t("orders"), t("monetary"), t("ltv"), t("lastOrder"), "RFM"], rows, { numeric: [1, 2, 3] }));
  fill($("segment-pager"), pager("segment", s, moveSegment));
}

// ---------------------------------------------------------------------------------
// Loyalty: the programme as configured, read-only

async function loadLoyalty(token) {
  const loyalty = await api("/v1/crm/loyalty");
  if (token !== state.token) return;
  state.loyalty = loyalty;
  renderLoyalty();
}

function renderLoyalty() {
  const { rules, members, points } = state.loyalty;
  const currency = state.settings?.currency || "GBP";
  const earnedNote = [points.reversed ? t("reversedNote", { n: fmtNumber(points.reversed) }) : null, points.adjusted ? t("adjustedNote", { n: fmtNumber(points.adjusted) }) : null].filter(Boolean).join(" · ");
  fill(
    $("loyalty-kpis"),
    kpi(t("members"), fmtNumber(members.total), null, "l-members"),
    kpi(t("pointsOwed"), fmtNumber(points.owed), t("pointsOwedNote"), "l-owed"),
    kpi(t("pointsEarned"), fmtNumber(points.earned), earnedNote || null, "l-earned"),
    kpi(t("pointsSpent"), fmtNumber(points.spent), null, "l-spent"),
    kpi(t("pointsLapsed"), fmtNumber(points.lapsed), null, "l-lapsed"),
  );
  fill($("loyalty-body"), tiersCard(rules, members.tiers, currency), earningCard(rules, currency), rewardsCard(rules.rewards, currency), rulesCard(rules));
}

function tiersCard(rules, tiers, currency) {
  const max = Math.max(...tiers.map((tier) => tier.customers), 1);
  const bars = el("ul", { className: "bars", id: "tier-bars", attrs: { "aria-hidden": "true" } }, tiers.map((tier) => barRow(localName(tier), tier.customers / max, fmtNumber(tier.customers), null, "tier")));
  const rows = tiers.map((tier) => [localName(tier), fmtMoney(tier.threshold, currency), t("multiplierText", { x: fmtNumber(tier.multiplierPermille / 1000) }), fmtNumber(tier.customers)]);
  return cardOf(
    "card span-2",
    t("tiers"),
    bars,
    el("div", { className: "table-scroll" }, table(t("tiers"), [t("tier"), t("tierThreshold"), t("multiplier"), t("members")], rows, { numeric: [1, 2, 3] })),
    el("p", { className: "muted small note" }, t("tierNote", { window: fmtNumber(rules.tier_window_days), grace: fmtNumber(rules.tier_grace_days) })),
  );
}

function earningCard(rules, currency) {
  return card(
    t("earning"),
    facts([
      [t("earnRate"), t("earnRateText", { points: t("pointsN", { n: rules.earn.points }), amount: fmtMoney(rules.earn.per, currency) }), "l-earn"],
      ...Object.entries(rules.bonuses).map(([name, n]) => [t(`bonus_${name}`), t("pointsN", { n })]),
      [t("expiry"), rules.expiry_months == null ? t("expiryNever") : t("expiryText", { n: rules.expiry_months }), "l-expiry"],
    ]),
  );
}

function rewardGives(reward, currency) {
  if (reward.type === "fixed_discount") return t("give_fixed_discount", { amount: fmtMoney(reward.amount, currency) });
  if (reward.type !== "percent_discount") return t(`give_${reward.type}`);
  const percent = fmtPct(reward.percent / 100);
  return reward.cap == null ? t("give_percent_discount", { percent }) : t("give_percent_cap", { percent, cap: fmtMoney(reward.cap, currency) });
}

function rewardsCard(rewards, currency) {
  const rows = rewards.map((reward) => [localName(reward), t("pointsN", { n: reward.cost }), rewardGives(reward, currency)]);
  return card(t("rewards"), rows.length ? el("div", { className: "table-scroll" }, table(t("rewards"), [t("reward"), t("cost"), t("gives")], rows, { numeric: [1] })) : empty(t("noRewards")));
}

/** The rules as the file spells them, to copy; the file is where they change. */
function rulesCard(rules) {
  const json = JSON.stringify(rules, null, 2);
  const code = el("pre", { className: "rules-json", dir: "ltr", tabIndex: 0, attrs: { "aria-label": t("rulesJson") } }, el("code", {}, json));
  const status = el("p", { className: "muted small", attrs: { role: "status" } });
  const copy = el("button", { type: "button", className: "button small", id: "copy-rules" }, t("copyJson"));
  copy.addEventListener("click", () => copyText(json, code, status));
  const command = el("code", { className: "mono", dir: "ltr" }, "souk-server serve --loyalty-rules");
  return cardOf("card span-2", t("rulesFile"), el("p", { className: "muted small" }, tParts("rulesNote", { command })), el("div", { className: "tools" }, copy, status), code);
}

/** Copies `text`; if the browser refuses, selects it in `node` (a field or an element) for the keyboard. `status` says which. */
async function copyText(text, node, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = t("copied");
  } catch {
    if (node.select) node.select();
    else getSelection().selectAllChildren(node);
    status.textContent = t("copyFailed");
  }
}

// ---------------------------------------------------------------------------------
// Triggers: a card per kind to configure its webhook, its signing secret, and the log
// of what was delivered

const triggerName = (kind) => t(`trigger_${kind}`);
/** A secret as the API lists it: `whsec_…` and its last four characters. */
const masked = (secret) => `whsec_…${secret.slice(-4)}`;
/** What a trigger's form holds, from the trigger as the server answered it. */
const draftOf = (trigger) => ({ enabled: trigger.enabled, param: String(trigger[trigger.parameter?.name] ?? ""), url: trigger.url ?? "", consent: trigger.consent });
/** What the merchant may set on a trigger, as the server says: its parameter's name and range, and whether its consent is fixed. */
const specOf = (trigger) => ({ param: trigger.parameter, fixed: trigger.consentFixed });

async function loadTriggers(token) {
  const [{ triggers }, log] = await Promise.all([api("/v1/crm/triggers"), logPage(0)]);
  if (token !== state.token) return;
  state.triggers = { list: triggers, drafts: Object.fromEntries(triggers.map((x) => [x.kind, draftOf(x)])), errors: {}, saved: {}, revealed: {}, confirming: null };
  state.log = { ...log, expanded: new Set() };
  renderTriggers();
}

function renderTriggers() {
  fill($("trigger-cards"), state.triggers.list.map(triggerCard));
  for (const { kind } of state.triggers.list) showTriggerError(kind);
  renderLog();
}

/** Draws trigger `kind`'s card again, then focuses its part `focus` (an id), if given. */
function redrawTrigger(kind, focus) {
  const trigger = state.triggers.list.find((x) => x.kind === kind);
  $(`trig-${kind}-card`).replaceWith(triggerCard(trigger));
  showTriggerError(kind);
  if (focus) $(focus)?.focus();
}

function triggerCard(trigger) {
  const { kind } = trigger;
  const spec = specOf(trigger);
  const draft = state.triggers.drafts[kind];
  const id = (part) => `trig-${kind}-${part}`;
  const enabled = el("input", { type: "checkbox", id: id("enabled"), checked: draft.enabled, attrs: { role: "switch", "aria-describedby": id("enabled-error") } });
  enabled.addEventListener("change", () => (draft.enabled = enabled.checked));
  const url = el("input", { type: "url", value: draft.url, dir: "ltr", spellcheck: false, attrs: { autocomplete: "off", placeholder: "https://" } });
  url.addEventListener("input", () => (draft.url = url.value));
  const save = el("button", { type: "submit", className: "button primary", id: id("save") }, t("save"), el("span", { className: "vh" }, ` ${triggerName(kind)}`));
  const form = el(
    "form",
    { noValidate: true, className: "trigger-form" },
    el("div", { className: "field" }, el("label", { className: "switch" }, enabled, el("span", {}, t("enabled"))), el("p", { className: "form-error", id: id("enabled-error") })),
    spec.param ? paramField(kind, spec.param, draft, id(spec.param.name)) : null,
    field(id("url"), t("webhookUrl"), url, t("webhookUrlHelp")),
    consentPart(kind, spec, draft, id("consent")),
    secretPart(trigger),
    el("p", { className: "form-error", id: id("save-error"), attrs: { role: "alert" } }),
    el("p", { className: "actions" }, save, state.triggers.saved[kind] ? el("span", { className: "saved-note" }, t("triggerSaved")) : null),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    saveTrigger(kind);
  });
  return el(
    "section",
    { className: "card trigger", id: id("card"), attrs: { "aria-labelledby": id("title") } },
    el("div", { className: "card-head" }, el("h2", { id: id("title") }, triggerName(kind)), el("span", { className: trigger.enabled ? "chip accent" : "chip" }, t(trigger.enabled ? "on" : "off"))),
    el("p", { className: "muted small" }, t(`when_${kind}`)),
    form,
  );
}

function paramField(kind, param, draft, id) {
  const input = el("input", { type: "number", value: draft.param, dir: "ltr", min: String(param.min), max: String(param.max), step: "1", attrs: { inputmode: "numeric", autocomplete: "off" } });
  input.addEventListener("input", () => (draft.param = input.value));
  return field(id, t(`param_${kind}`), input, t("paramRange", { min: fmtNumber(param.min), max: fmtNumber(param.max) }));
}

/** The consent category a trigger needs: a choice, or a sentence when it is marketing whatever the merchant says. */
function consentPart(kind, spec, draft, id) {
  if (spec.fixed) return el("div", { className: "field" }, el("p", { className: "field-label" }, t("consentNeeded")), el("p", { className: "muted small" }, t("consentFixed", { category: t("marketing") })));
  const select = el("select", {}, CONSENT.slice(1).map((name) => el("option", { value: name, selected: name === draft.consent }, t(name))));
  select.addEventListener("change", () => (draft.consent = select.value));
  return field(id, t("consentNeeded"), select, t("consentChoose"));
}

/** The signing secret: whole when just made (this once), else masked; and "Rotate secret", which asks first. */
function secretPart(trigger) {
  const { kind, secret } = trigger;
  const s = state.triggers;
  const id = `trig-${kind}-secret`;
  const shown = s.revealed[kind]
    ? onceField(id, t("newSecret"), s.revealed[kind], t("secretNote"))
    : el("p", { className: "secret" }, el("span", { className: "field-label" }, t("signingSecret")), secret ? el("code", { className: "mono", dir: "ltr" }, secret) : el("span", { className: "muted small" }, t("secretNone")));
  if (!secret) return shown;
  if (s.confirming === kind) return [shown, rotateConfirm(kind)];
  const rotate = el("button", { type: "button", className: "button small", id: `${id}-rotate` }, t("rotateSecret"), el("span", { className: "vh" }, ` ${triggerName(kind)}`));
  rotate.addEventListener("click", () => {
    s.confirming = kind;
    redrawTrigger(kind);
    $(`trig-${kind}-card`).querySelector('[data-confirm="no"]').focus();
  });
  return el("div", { className: "secret-row" }, shown, rotate);
}

function rotateConfirm(kind) {
  const cancel = () => {
    state.triggers.confirming = null;
    redrawTrigger(kind, `trig-${kind}-secret-rotate`);
  };
  return confirmStep({ id: `trig-${kind}-rotate-question`, question: t("confirmRotate", { trigger: triggerName(kind) }), yes: t("rotateYes"), onYes: (problem) => rotateSecret(kind, problem), onCancel: cancel });
}

/** Makes trigger `kind` a new secret, shown once; `problem` says why it could not. */
async function rotateSecret(kind, problem) {
  let answer;
  try {
    answer = await api(`/v1/crm/triggers/${kind}/secret`, { method: "POST" });
  } catch (e) {
    problem.textContent = t("rotateFailed", { error: e.message });
    return;
  }
  const s = state.triggers;
  if (!s) return; // signed out meanwhile
  s.list.find((x) => x.kind === kind).secret = masked(answer.secret);
  s.revealed[kind] = answer.secret;
  s.confirming = null;
  redrawTrigger(kind, `trig-${kind}-secret`);
}

/** Saves trigger `kind` as its form says; the server's 400 shows next to the field it names. */
async function saveTrigger(kind) {
  const s = state.triggers;
  const draft = s.drafts[kind];
  const before = s.list.find((x) => x.kind === kind);
  const spec = specOf(before);
  const body = { enabled: draft.enabled, url: draft.url.trim() || null };
  if (spec.param) body[spec.param.name] = draft.param.trim() === "" ? null : Number(draft.param);
  if (!spec.fixed) body.consent = draft.consent;
  const button = $(`trig-${kind}-save`);
  button.disabled = true;
  button.firstChild.textContent = t("saving");
  s.errors[kind] = null;
  s.saved[kind] = false;
  let focus = `trig-${kind}-save`;
  try {
    const saved = await api(`/v1/crm/triggers/${kind}`, { method: "PUT", body });
    // The first save makes the secret, and answers it whole this once.
    if (!before.secret && saved.secret) {
      s.revealed[kind] = saved.secret;
      saved.secret = masked(saved.secret);
      focus = `trig-${kind}-secret`;
    }
    s.list = s.list.map((x) => (x.kind === kind ? saved : x));
    s.drafts[kind] = draftOf(saved);
    s.saved[kind] = true;
    announce(`${triggerName(kind)}: ${t("triggerSaved")}`);
  } catch (e) {
    const named = namedField(e, ["enabled", "url", spec.param?.name, spec.fixed ? null : "consent"].filter(Boolean));
    s.errors[kind] = named ?? ["save", e.message];
    if (named) focus = `trig-${kind}-${named[0]}`;
  }
  if (state.triggers === s) redrawTrigger(kind, focus); // else signed out, or the tab opened again, meanwhile
}

/** Shows the last save's error of trigger `kind` next to the field it names, or under the form. */
function showTriggerError(kind) {
  const error = state.triggers.errors[kind];
  if (!error) return;
  const [name, message] = error;
  if (name === "save") $(`trig-${kind}-save-error`).textContent = message;
  else fieldError(`trig-${kind}-${name}`, t("notSaved"), " ", serverText(message));
}

// The delivery log, a page at a time, filtered by kind and state

/** A page of the log from `offset`, as the filters say. */
function logPage(offset) {
  const params = { limit: state.pageSize, offset };
  if ($("log-kind").value) params.kind = $("log-kind").value;
  if ($("log-state").value) params.state = $("log-state").value;
  return api(`/v1/crm/triggers/log?${q(params)}`);
}

/** Shows the log's page from `offset` (saying how many match, if `announced`). */
async function moveLog(offset, { announced = false } = {}) {
  const token = state.token;
  let page;
  try {
    page = await logPage(offset);
  } catch (e) {
    $("log-count").textContent = t("loadError", { error: e.message });
    return;
  }
  if (token !== state.token) return;
  state.log = { ...page, expanded: state.log?.expanded ?? new Set() };
  renderLog();
  if (announced) announce($("log-count").textContent);
}

function renderLog() {
  const log = state.log;
  const filtered = $("log-kind").value || $("log-state").value;
  $("log-count").textContent = log.total ? t("deliveriesN", { n: log.total }) : t(filtered ? "noDeliveriesMatch" : "noDeliveries");
  const head = [t("details"), t("timeUtc"), t("trigger"), t("customer"), t("deliveryState"), t("attempts"), t("lastAnswer"), t("nextTryUtc")];
  fill(
    $("log-table"),
    log.deliveries.length
      ? el("table", { className: "data log" }, el("caption", { className: "vh" }, t("deliveryLog")), el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { scope: "col", className: i === 5 ? "num" : "" }, h)))), log.deliveries.map((d) => deliveryRows(d, head.length)))
      : null,
  );
  fill($("log-pager"), pager("log", log, moveLog));
}

/** Who a delivery is about, as its body names them, linked to their 360. */
function deliveryCustomer(d) {
  const c = d.body?.customer ?? {};
  const key = c.userId || String(d.profileId);
  return el("a", { href: `#customer/${encodeURIComponent(key)}`, dir: "auto" }, c.name || c.email || c.userId || t("customerN", { id: d.profileId }));
}

const httpStatus = (status) => el("bdi", { className: "nowrap" }, `HTTP ${status}`);

/** What the receiver last answered: the error, else the last attempt's status. */
function lastAnswer(d) {
  const status = d.attempts.at(-1)?.status;
  if (d.lastError) return serverText(d.lastError);
  return status == null ? "—" : httpStatus(status);
}

/** A delivery: its row, and the row under it (`columns` wide) that its disclosure button shows: each attempt, and the body. */
function deliveryRows(d, columns) {
  const detailsId = `delivery-${d.id}`;
  const open = state.log.expanded.has(d.id);
  const toggle = el("button", { type: "button", className: "button small disclosure", dataset: { delivery: String(d.id) }, attrs: { "aria-expanded": String(open), "aria-controls": detailsId } }, t("details"), el("span", { className: "vh" }, ` ${t("detailsOf", { id: fmtNumber(d.id) })}`));
  toggle.addEventListener("click", () => {
    const shown = !state.log.expanded.has(d.id);
    if (shown) state.log.expanded.add(d.id);
    else state.log.expanded.delete(d.id);
    toggle.setAttribute("aria-expanded", String(shown));
    $(detailsId).hidden = !shown;
  });
  const main = el(
    "tr",
    {},
    el("td", {}, toggle),
    el("th", { scope: "row" }, timeEl(d.createdAt, LOG_TIME)),
    el("td", {}, triggerName(d.kind)),
    el("td", {}, deliveryCustomer(d)),
    el("td", {}, el("span", { className: `chip state-${d.state}` }, t(`state_${d.state}`))),
    el("td", { className: "num" }, fmtNumber(d.attempts.length)),
    el("td", { className: "last-answer" }, lastAnswer(d)),
    el("td", {}, d.state === "pending" ? timeEl(d.nextAttemptAt, LOG_TIME) : "—"),
  );
  const attempts = d.attempts.map((a) => [fmtNumber(a.attempt), timeEl(a.at, LOG_TIME), a.status == null ? serverText(a.error ?? "—") : httpStatus(a.status), fmtDuration(a.durationMs / 1000, "short"), a.nextRetryAt ? timeEl(a.nextRetryAt, LOG_TIME) : "—"]);
  const details = el(
    "tr",
    { className: "delivery-details", id: detailsId, hidden: !open },
    el(
      "td",
      { colSpan: columns },
      // As wide as the log's window, where the table scrolls sideways, and kept in it.
      el(
        "div",
        { className: "delivery-box" },
        el("h3", {}, t("attempts")),
        attempts.length ? scrollRegion(t("attemptsOf", { id: fmtNumber(d.id) }), table(t("attemptsOf", { id: fmtNumber(d.id) }), [t("attempt"), t("timeUtc"), t("answer"), t("duration"), t("nextTryUtc")], attempts, { numeric: [3] })) : empty("—"),
        el("h3", {}, t("body")),
        el("pre", { className: "code body-json", dir: "ltr", tabIndex: 0, attrs: { role: "region", "aria-label": t("bodyOf", { id: fmtNumber(d.id) }) } }, el("code", {}, JSON.stringify(d.body, null, 2))),
      ),
    ),
  );
  return el("tbody", {}, main, details);
}

// ---------------------------------------------------------------------------------
// Language switching and start

function applyLang() {
  applyText();
  render();
}

function wire() {
  $("lang").addEventListener("change", (e) => {
    setLang(e.target.value);
    applyLang();
  });
  staffSession({ appClass: "is-app", parts: ["tabs", "who", "logout"], enter, leave, refused: (e) => (e.status === 403 ? t("notMerchant") : null) });
  $("period").addEventListener("change", () => route({ focus: false }));
  $("builder").addEventListener("submit", saveSegment);
  $("seg-filter").addEventListener("input", filterEdited);
  $("seg-join").addEventListener("change", (e) => {
    state.builder.join = e.target.value;
    builderChanged();
  });
  $("seg-add").addEventListener("click", () => {
    state.builder.rows.push(rowFor("segment"));
    builderChanged({ rows: true });
    focusRow(state.builder.rows.length - 1, "field");
  });
  $("refresh-now").addEventListener("click", refreshNow);
  $("log-kind").addEventListener("change", () => moveLog(0, { announced: true }));
  $("log-state").addEventListener("change", () => moveLog(0, { announced: true }));
  $("log-reload").addEventListener("click", () => moveLog(state.log?.offset ?? 0, { announced: true }));
  $("custom-new").addEventListener("click", () => {
    newSegment();
    $("seg-name").focus();
  });
  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = ++state.token;
    try {
      await loadResults(token, $("search-q").value.trim(), 0);
      announce($("search-count").textContent);
    } catch (e) {
      $("search-count").textContent = t("loadError", { error: e.message });
    }
  });
  window.addEventListener("hashchange", () => route());
}

wire();
applyLang();
resume();
