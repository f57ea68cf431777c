//! A general English vocabulary of words that are never entities on their own: everyday
//! nouns, verbs, adjectives and adverbs from many walks of life, contractions, and
//! capitalised words that are not names (weekdays, months, acronyms, sentence openers).
//!
//! The city-service words of [`super::lexicon::COMMON_WORDS`] alone left the model taking
//! any unfamiliar word of ordinary text (`breakfast`, `mandolin`) for an entity.

/// Everyday lower-case words, grouped loosely by topic.
#[rustfmt::skip]
pub(super) const EVERYDAY_WORDS: &[&str] = &[
    // Food and home.
    "breakfast", "lunch", "dinner", "supper", "coffee", "tea", "bread", "butter", "cheese",
    "soup", "salad", "rice", "noodles", "pasta", "pizza", "cake", "cookies", "sugar", "salt",
    "pepper", "apple", "banana", "orange", "grapes", "lemon", "potato", "tomato", "onion",
    "garlic", "chicken", "beef", "fish", "eggs", "milk", "juice", "wine", "beer", "water",
    "kitchen", "sofa", "chair", "table", "bed", "blanket", "pillow", "lamp", "mirror",
    "carpet", "curtains", "shelf", "drawer", "cupboard", "fridge", "oven", "stove", "sink",
    "towel", "soap", "laundry", "dishes", "groceries", "recipe", "meal", "snack", "dessert",
    // People and feelings.
    "friend", "friends", "family", "families", "parents", "mother", "father", "sister",
    "brother", "children", "kids", "baby", "husband", "wife", "partner", "cousin", "uncle",
    "aunt", "grandma", "grandpa", "colleague", "boss", "guest", "stranger", "everyone",
    "someone", "anyone", "nobody", "everybody", "people", "person", "folks", "crowd",
    "love", "hate", "fear", "hope", "joy", "anger", "pride", "shame", "trust", "doubt",
    "happy", "sad", "angry", "tired", "bored", "excited", "nervous", "calm", "proud",
    "jealous", "lonely", "grateful", "sympathetic", "kind", "rude", "honest", "brave",
    "shy", "funny", "clever", "silly", "lazy", "busy", "gentle", "cruel", "evil", "wise",
    "glad", "sorry", "sure", "afraid", "curious", "hungry", "thirsty", "sick", "healthy",
    // Arts, leisure and media.
    "song", "songs", "music", "album", "band", "concert", "guitar", "piano", "violin",
    "mandolin", "drums", "singer", "songwriters", "lyrics", "melody", "rhythm", "dance",
    "movie", "film", "show", "series", "episode", "radio", "podcast", "book", "novel",
    "poem", "story", "chapter", "painting", "drawing", "photo", "picture", "camera",
    "game", "games", "match", "team", "football", "soccer", "tennis", "golf", "chess",
    "cards", "card", "puzzle", "hobby", "holiday", "vacation", "trip", "journey", "beach",
    "mountain", "lake", "river", "forest", "field", "farm", "crop", "harvest", "garden",
    "flowers", "grass", "sky", "sun", "moon", "stars", "ocean", "island", "desert", "soul",
    // Work, money and technology.
    "job", "jobs", "career", "careers", "salary", "wage", "salarymen", "company", "business",
    "market", "money", "cash", "bank", "loan", "debt", "tax", "taxes", "profit", "loss",
    "growth", "rapid", "economy", "industry", "agency", "design", "product", "brand",
    "customer", "client", "contract", "deal", "offer", "sale", "discount", "wire",
    "transfer", "balance", "credit", "debit", "deposit", "withdrawal", "phone", "laptop",
    "computer", "screen", "keyboard", "internet", "website", "app", "software", "password",
    "login", "network", "server", "cloud", "device", "battery", "charger", "cable",
    "printer", "video", "audio", "signal", "code", "bug", "feature", "version", "upgrade",
    // Abstract nouns.
    "idea", "ideas", "reason", "result", "choice", "chance", "luck", "guess", "truth",
    "lie", "secret", "memory", "dream", "mistake", "lesson", "advice", "opinion", "fact",
    "piece", "part", "half", "rest", "turn", "way", "thing", "things", "stuff", "kind",
    "sort", "type", "side", "end", "start", "middle", "top", "bottom", "edge", "corner",
    "loyalty", "care", "health", "safety", "peace", "war", "freedom", "justice", "power",
    "state", "nation", "world", "history", "future", "past", "present", "life", "death",
    "nature", "science", "art", "culture", "religion", "politics", "language", "education",
    // Verbs.
    "love", "like", "enjoy", "prefer", "hope", "wish", "believe", "feel", "seem", "look",
    "sound", "taste", "smell", "hear", "listen", "watch", "read", "write", "sing", "play",
    "dance", "cook", "eat", "drink", "sleep", "wake", "walk", "run", "swim", "drive",
    "ride", "fly", "travel", "visit", "stay", "live", "move", "work", "study", "learn",
    "teach", "help", "try", "fail", "win", "lose", "buy", "sell", "pay", "spend", "save",
    "borrow", "lend", "owe", "earn", "grow", "change", "turn", "break", "build", "remember",
    "forget", "understand", "explain", "agree", "argue", "laugh", "cry", "smile", "worry",
    "wonder", "imagine", "guess", "decide", "choose", "miss", "meet", "join", "share",
    "taking", "making", "having", "getting", "going", "doing", "saying", "trying",
    "loved", "liked", "enjoyed", "felt", "heard", "watched", "played", "moved", "lived",
    "worked", "learned", "bought", "sold", "paid", "spent", "grew", "broke", "built",
    // Adjectives and adverbs.
    "beautiful", "brilliant", "great", "nice", "lovely", "wonderful", "amazing", "awful",
    "terrible", "horrible", "perfect", "strange", "weird", "normal", "simple", "easy",
    "hard", "difficult", "cheap", "expensive", "rich", "poor", "young", "modern", "ancient",
    "quiet", "busy", "warm", "cool", "hot", "fresh", "sweet", "bitter", "bright", "dark",
    "real", "fake", "true", "false", "whole", "entire", "certain", "original", "usual",
    "really", "actually", "probably", "maybe", "perhaps", "definitely", "certainly",
    "originally", "finally", "suddenly", "quickly", "slowly", "usually", "always", "never",
    "sometimes", "often", "rarely", "almost", "quite", "rather", "pretty", "too", "enough",
    "even", "ever", "anyway", "unfortunately", "luckily", "honestly", "basically",
    "together", "alone", "abroad", "away", "back", "home", "outside", "inside", "upstairs",
];

/// Contractions and spoken forms, written as people type them.
#[rustfmt::skip]
pub(super) const SPOKEN_FORMS: &[&str] = &[
    "I'm", "I'll", "I've", "I'd", "you're", "you'll", "we're", "we've", "they're", "it's",
    "that's", "there's", "what's", "don't", "doesn't", "didn't", "can't", "couldn't",
    "won't", "wouldn't", "isn't", "aren't", "wasn't", "haven't", "shouldn't", "let's",
    "c'mon", "gonna", "wanna", "yeah", "yep", "nope", "oh", "wow", "hey", "hi", "ok",
    "lol", "hmm", "ugh", "well", "so", "like", "um", "uh",
];

/// Capitalised words and acronyms that are not entities.
#[rustfmt::skip]
pub(super) const CAPITALISED_WORDS: &[&str] = &[
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December", "Christmas", "Easter", "New Year", "Halloween",
    "I", "OK", "TV", "ATM", "PIN", "ID", "PDF", "USB", "GPS", "SMS", "FAQ", "ASAP", "FYI",
    "PS", "NB", "AM", "PM", "ZIP", "VAT", "IBAN", "URL", "Wi-Fi", "DIY", "RSVP", "N/A",
    "What", "Why", "How", "When", "Where", "Who", "Which", "Yes", "No", "Well", "So",
    "Unfortunately", "Luckily", "Honestly", "Actually", "Anyway", "Meanwhile", "Also",
    "However", "Therefore", "Besides", "Finally", "First", "Then", "Next", "Later",
    "Hello", "Hi", "Hey", "Thanks", "Cheers", "Sorry", "Please", "Dear", "Note",
    "Subject", "Re", "Fwd", "Attention", "Important", "Urgent", "Reminder", "Update",
    "Customer", "Account", "Card", "Payment", "Order", "Total", "Balance", "Statement",
    // Prepositions, conjunctions and adverbs that open a sentence.
    "Despite", "Although", "Because", "Since", "While", "After", "Before", "During",
    "Without", "Unless", "Whether", "Instead", "Otherwise", "Like", "Given",
    "Regarding", "Following", "Overall", "Generally", "Apparently", "Obviously", "Sadly",
    "Once", "Until", "Though", "Even", "Still", "Yet", "Nevertheless", "Besides",
    // Plural nouns and groups that open notices.
    "Drivers", "Cyclists", "Residents", "Visitors", "Passengers", "Tenants", "Customers", "Students", "Parents", "Staff", "Employees", "Guests", "Volunteers",
];

/// Sentence openers that are not entities, written before a clause of common words so
/// that a capitalised first word is not taken for a name or place.
#[rustfmt::skip]
pub(super) const SENTENCE_OPENERS: &[&str] = &[
    "Despite", "Although", "Because", "Since", "While", "After", "Before", "During",
    "Without", "Unless", "Instead", "Otherwise", "Apparently", "Obviously", "Drivers", "Cyclists", "Residents", "Visitors", "Passengers", "Tenants",
    "Everyone", "Nobody", "Someone", "This", "That", "These", "Those", "Our", "Their",
    "My", "Your", "His", "Her", "Its", "Each", "Every", "Some", "Many", "Most", "All",
];

/// Word stems of made-up compound brand names (`Sparkpath`, `Bluewave`): two of them are
/// written as one capitalised word.
#[rustfmt::skip]
pub(super) const BRAND_STEMS: &[&str] = &[
    "spark", "path", "blue", "wave", "cloud", "bright", "smart", "quick", "green", "true",
    "sun", "star", "peak", "snap", "pay", "shop", "home", "trip", "ride", "park", "map",
    "book", "link", "mind", "leaf", "bolt", "fox", "bee", "nest", "hive", "box", "lab",
    "desk", "deck", "grid", "loop", "pulse", "swift", "wise", "fair", "gold", "iron",
    "moon", "sky", "sea", "rain", "snow", "fire", "stone", "wood", "field", "farm", "town",
    "street", "track", "trace", "view", "watch", "scope", "sight", "sense", "logic",
    "count", "list", "match", "fund", "lend", "coin", "bank", "rate", "quote", "deal",
    "cart", "bid", "sure", "able", "zen", "nova", "pixel", "byte", "bit", "code", "stack",
];

/// Job titles, in lower case, that the generator writes where no entity is labelled.
#[rustfmt::skip]
pub(super) const JOB_TITLES: &[&str] = &[
    "nurse", "teacher", "accountant", "civil engineer", "software developer",
    "bus driver", "electrician", "plumber", "pharmacist", "social worker", "paramedic",
    "project manager", "sales assistant", "graphic designer", "data analyst", "architect",
    "translator", "chef", "waiter", "security guard", "receptionist", "librarian",
    "police officer", "firefighter", "mechanic", "carpenter", "welder", "surveyor",
    "lab technician", "office manager", "marketing director", "web designer", "dentist",
    "veterinarian", "photographer", "radiographer", "physiotherapist", "journalist",
    "warehouse clerk", "store manager", "financial adviser", "court reporter", "cashier",
    "quality inspector", "machine operator", "research scientist", "tax consultant",
];

/// Syllables that made-up street and town names are built from, drawn from the sound of
/// many European languages.
#[rustfmt::skip]
pub(super) const NAME_SYLLABLES: &[&str] = &[
    "an", "ber", "bro", "dal", "den", "dor", "el", "fal", "gar", "gen", "hal", "hof", "holm",
    "in", "kar", "kir", "la", "lin", "lund", "mar", "mol", "nor", "os", "pol", "ra", "ros",
    "san", "sel", "sko", "ste", "tor", "ul", "va", "ven", "vik", "wal", "zel", "bar", "cas",
    "del", "fon", "gra", "jo", "ko", "lo", "mi", "ne", "pe", "ri", "so", "ta", "vi", "za",
];

/// Endings of one-word street names in several languages (`Lindenweg`, `Storgatan`).
#[rustfmt::skip]
pub(super) const STREET_ENDINGS: &[&str] = &[
    "strasse", "straße", "weg", "gasse", "platz", "gatan", "vägen", "vej", "gade", "veien",
    "gata", "laan", "straat", "gracht", "katu", "tie", "utca", "ulica",
];

/// Words written before a street name in several languages (`Rue`, `Via`, `Calle`).
#[rustfmt::skip]
pub(super) const STREET_PREFIXES: &[&str] = &[
    "Rue", "Rue de la", "Avenue de", "Via", "Viale", "Piazza", "Calle", "Avenida", "Plaza",
    "Rua", "Travessa", "ul.", "Al.", "Boulevard", "Chemin de", "Place", "Carrer de",
];

/// Endings that turn a made-up stem into a plausible given name.
#[rustfmt::skip]
pub(super) const GIVEN_NAME_ENDINGS: &[&str] = &[
    "", "", "a", "o", "e", "ia", "ina", "an", "el", "us", "ik", "ette", "iel", "ur", "ín",
];

/// Family-name endings of many languages (`-son`, `-dóttir`, `-ova`, `-ski`, `-ez`).
#[rustfmt::skip]
pub(super) const SURNAME_ENDINGS: &[&str] = &[
    "", "son", "sen", "sson", "dóttir", "ova", "ov", "ev", "ski", "ska", "wicz", "ez", "es",
    "ini", "elli", "escu", "ian", "yan", "oglu", "er", "mann", "berg", "ström", "ic", "ović",
    "aki", "oto", "ez", "ino", "ard", "eau", "ley", "ton", "field", "ford",
];

/// Forms of multi-word place names around a made-up word `{x}`.
#[rustfmt::skip]
pub(super) const PLACE_FORMS: &[&str] = &[
    "{x} Beach", "{x} Springs", "{x} Falls", "{x} Heights", "{x} Valley", "Port {x}",
    "Saint {x}", "San {x}", "Santa {x}", "{x} City", "{x} Island", "North {x}", "Upper {x}",
    "{x} am See", "{x} nad Labem", "{x} de la Sierra", "{x}-sur-Mer", "Nova {x}", "{x}by",
    "{x}ville", "{x}burg", "{x}stad", "{x}holm",
];

/// Endings of one-word company names built on a made-up stem.
#[rustfmt::skip]
pub(super) const BRAND_ENDINGS: &[&str] = &[
    "", "ify", "ly", "io", "ia", "gen", "tech", "soft", "net", "ware", "works", "hub",
    "ix", "ex", "ora", "stats", "metrics", "point", "cycle", "ous",
];
