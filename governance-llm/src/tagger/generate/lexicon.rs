//! Word lists the generator draws entity values from, in English and Chinese.
//!
//! The lists are the project's own and deliberately plain: common given names and surnames,
//! generic street and organisation words, and well-known places. Held-out evaluation draws
//! from a disjoint fifth of each list (see [`super::Split`]).

#[rustfmt::skip]
pub(super) const GIVEN_NAMES: &[&str] = &[
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty",
    "Mark", "Margaret", "Donald", "Sandra", "Steven", "Ashley", "Paul", "Kimberly", "Andrew",
    "Emily", "Joshua", "Donna", "Kenneth", "Michelle", "Kevin", "Carol", "Brian", "Amanda",
    "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Edward", "Rebecca",
    "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob", "Kathleen", "Gary",
    "Amy", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Anna", "Stephen", "Brenda",
    "Larry", "Pamela", "Justin", "Emma", "Scott", "Nicole", "Brandon", "Helen", "Benjamin",
    "Samantha", "Samuel", "Katherine", "Gregory", "Christine", "Alexander", "Debra", "Frank",
    "Rachel", "Patrick", "Carolyn", "Raymond", "Janet", "Jack", "Maria", "Dennis", "Olivia",
    "Jerry", "Heather", "Tyler", "Diane", "Aaron", "Julie", "Jose", "Joyce", "Adam",
    "Victoria", "Nathan", "Ruth", "Henry", "Virginia", "Zachary", "Lauren", "Douglas",
    "Kelly", "Peter", "Christina", "Kyle", "Joan", "Noah", "Evelyn", "Ethan", "Judith",
    "Jeremy", "Andrea", "Walter", "Hannah", "Christian", "Megan", "Keith", "Cheryl", "Roger",
    "Jacqueline", "Terry", "Martha", "Austin", "Madison", "Sean", "Teresa", "Gerald",
    "Gloria", "Carl", "Sara", "Harold", "Janice", "Dylan", "Ann", "Arthur", "Kathryn",
    "Lawrence", "Abigail", "Jordan", "Sophia", "Jesse", "Frances", "Bryan", "Jean", "Billy",
    "Alice", "Bruce", "Judy", "Gabriel", "Isabella", "Joe", "Julia", "Logan", "Grace",
    "Alan", "Amber", "Juan", "Denise", "Albert", "Danielle", "Willie", "Marilyn", "Elijah",
    "Beverly", "Wayne", "Charlotte", "Randy", "Natalie", "Vincent", "Theresa", "Mason",
    "Diana", "Roy", "Brittany", "Ralph", "Doris", "Bobby", "Kayla", "Russell", "Alexis",
    "Bradley", "Lori", "Philip", "Marie", "Eugene", "Priya", "Ahmed", "Fatima", "Hiroshi",
    "Yuki", "Carlos", "Sofia", "Mohammed", "Aisha", "Ivan", "Olga", "Pierre", "Chloe",
    "Lars", "Ingrid", "Mateo", "Lucia", "Arjun", "Deepa", "Kwame", "Amara", "Sven", "Freya",
    "Omar", "Layla", "Diego", "Valentina", "Rahul", "Ananya", "Tomasz", "Zofia", "Luca",
    "Giulia", "Jamal", "Keisha", "Dmitri", "Nadia",
];

#[rustfmt::skip]
pub(super) const SURNAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins",
    "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez",
    "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos",
    "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James",
    "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins",
    "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander",
    "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole",
    "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens",
    "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald",
    "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb",
    "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
    "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt",
    "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone",
    "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels",
    "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne",
    "Grant", "Dunn", "Kowalski", "Novak", "Rossi", "Bianchi", "Dubois", "Lefebvre",
    "Muller", "Schneider", "Yamamoto", "Tanaka", "Suzuki", "Singh", "Kumar", "Sharma",
    "Okafor", "Mensah", "Ivanova", "Petrov", "Andersson", "Johansson", "O'Brien",
    "O'Connor", "MacLeod", "Fitzgerald", "Van Dijk", "de Vries", "Haddad", "Khoury",
];

#[rustfmt::skip]
pub(super) const PINYIN_SURNAMES: &[&str] = &[
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
    "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Zheng", "Liang", "Xie",
    "Song", "Tang", "Han", "Feng", "Deng", "Cao", "Peng",
];

#[rustfmt::skip]
pub(super) const PINYIN_GIVEN: &[&str] = &[
    "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yang", "Jun", "Yong", "Yan", "Jie",
    "Tao", "Ming", "Chao", "Xiu", "Hua", "Ping", "Gang", "Hui", "Xiaoming", "Lihua",
    "Jianguo", "Haiyan", "Zhiqiang", "Yufei", "Xinyi", "Zihan", "Haoran", "Yuxuan",
];

#[rustfmt::skip]
pub(super) const TITLES: &[&str] = &[
    "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Mr", "Ms", "Dr", "Miss", "Officer", "Judge",
    "Captain", "Sir", "Madam",
];

#[rustfmt::skip]
pub(super) const STREET_NAMES: &[&str] = &[
    "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park",
    "Church", "High", "Mill", "River", "Spring", "Sunset", "Highland", "Jackson", "Lincoln",
    "Franklin", "Chestnut", "Walnut", "Willow", "Meadow", "Forest", "Ridge", "Valley",
    "Bridge", "Station", "Market", "King", "Queen", "Victoria", "Albert", "Harbor",
    "Broad", "Center", "Union", "Liberty", "Madison", "Jefferson", "Adams", "Cherry",
    "Birch", "Poplar", "Aspen", "Magnolia", "Dogwood", "Orchard", "Garden", "Meadowbrook",
    "Fairview", "Greenwood", "Riverside", "Lakeview", "Hillcrest", "Woodland", "Prospect",
    "Grove", "Summit", "Canal", "Mission", "Pleasant", "Rosewood", "Kingsley", "Ashford",
    "Bayview", "Cliffside", "Elmwood", "Foxglove", "Glenwood", "Hawthorne", "Ivy",
    "Juniper", "Larkspur", "Millbrook", "Northgate", "Old Farm", "Quarry", "Redwood",
    "Silver Lake", "Stonebridge", "Thornton", "Upper", "Westfield", "Yorkshire", "Carver",
    "Beacon", "Cottage", "Dover", "Emerson", "Fulton", "Granite", "Hudson", "Irving",
    "Kensington", "Lafayette", "Monroe", "Nassau", "Oxford", "Pembroke", "Regent",
    "Salem", "Tremont", "Vine", "Wexford", "Second", "Third", "Fifth", "First", "Tenth",
    "12th", "23rd", "41st",
];

#[rustfmt::skip]
pub(super) const STREET_SUFFIXES: &[&str] = &[
    "Street", "St.", "St", "Avenue", "Ave.", "Ave", "Road", "Rd.", "Rd", "Boulevard",
    "Blvd.", "Lane", "Ln.", "Drive", "Dr.", "Court", "Ct.", "Way", "Place", "Pl.",
    "Terrace", "Parkway", "Pkwy", "Circle", "Highway", "Square", "Crescent", "Close",
    "Trail", "Row",
];

#[rustfmt::skip]
pub(super) const UNIT_FORMS: &[&str] = &[
    "Apt. {n}", "Apt {n}", "Apartment {n}", "Suite {n}", "Ste. {n}", "Unit {n}", "#{n}",
    "Flat {n}", "Room {n}", "Floor {n}", "Bldg {n}", "Apt. {n}{c}", "Unit {n}{c}",
];

#[rustfmt::skip]
pub(super) const CITIES: &[&str] = &[
    "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia",
    "San Antonio", "San Diego", "Dallas", "Austin", "Seattle", "Denver", "Boston",
    "Portland", "Atlanta", "Miami", "Detroit", "Nashville", "Baltimore", "Milwaukee",
    "Albuquerque", "Tucson", "Fresno", "Sacramento", "Kansas City", "Omaha", "Raleigh",
    "Cleveland", "Tampa", "Pittsburgh", "Cincinnati", "Orlando", "Buffalo", "Madison",
    "Springfield", "Riverside", "Greenville", "Fairfield", "Salem", "Franklin",
    "London", "Manchester", "Birmingham", "Glasgow", "Edinburgh", "Dublin", "Paris",
    "Lyon", "Berlin", "Munich", "Hamburg", "Madrid", "Barcelona", "Lisbon", "Rome",
    "Milan", "Vienna", "Zurich", "Geneva", "Amsterdam", "Brussels", "Copenhagen",
    "Stockholm", "Oslo", "Helsinki", "Warsaw", "Prague", "Budapest", "Athens", "Istanbul",
    "Cairo", "Nairobi", "Lagos", "Johannesburg", "Cape Town", "Mumbai", "Delhi",
    "Bangalore", "Karachi", "Dhaka", "Bangkok", "Singapore", "Jakarta", "Manila",
    "Hanoi", "Seoul", "Tokyo", "Osaka", "Beijing", "Shanghai", "Shenzhen", "Guangzhou",
    "Chengdu", "Hangzhou", "Wuhan", "Hong Kong", "Taipei", "Sydney", "Melbourne",
    "Auckland", "Toronto", "Vancouver", "Montreal", "Mexico City", "Bogota", "Lima",
    "Santiago", "Buenos Aires", "Sao Paulo", "Rio de Janeiro", "Dubai", "Riyadh",
    "Tehran", "Baghdad", "Kyiv", "Moscow", "Reykjavik", "Marseille", "Rotterdam",
    "Bristol", "Leeds", "Cork", "Porto", "Seville", "Naples", "Krakow", "Gdansk",
];

#[rustfmt::skip]
pub(super) const COUNTRIES: &[&str] = &[
    "United States", "USA", "Canada", "Mexico", "Brazil", "Argentina", "Chile", "Peru",
    "Colombia", "United Kingdom", "UK", "Ireland", "France", "Germany", "Spain",
    "Portugal", "Italy", "Netherlands", "Belgium", "Switzerland", "Austria", "Poland",
    "Sweden", "Norway", "Denmark", "Finland", "Greece", "Turkey", "Egypt", "Kenya",
    "Nigeria", "South Africa", "India", "Pakistan", "Bangladesh", "China", "Japan",
    "South Korea", "Vietnam", "Thailand", "Indonesia", "Philippines", "Malaysia",
    "Australia", "New Zealand", "Russia", "Ukraine", "Saudi Arabia", "Iran", "Israel",
    "Morocco", "Ghana", "Ethiopia", "Iceland", "Czech Republic", "Hungary", "Romania",
];

#[rustfmt::skip]
pub(super) const REGIONS: &[(&str, &str)] = &[
    ("California", "CA"), ("Texas", "TX"), ("Florida", "FL"), ("New York", "NY"),
    ("Illinois", "IL"), ("Pennsylvania", "PA"), ("Ohio", "OH"), ("Georgia", "GA"),
    ("Michigan", "MI"), ("Washington", "WA"), ("Arizona", "AZ"), ("Massachusetts", "MA"),
    ("Tennessee", "TN"), ("Indiana", "IN"), ("Missouri", "MO"), ("Maryland", "MD"),
    ("Wisconsin", "WI"), ("Colorado", "CO"), ("Minnesota", "MN"), ("Oregon", "OR"),
    ("Nevada", "NV"), ("Utah", "UT"), ("Iowa", "IA"), ("Kansas", "KS"), ("Kentucky", "KY"),
    ("Virginia", "VA"), ("Alabama", "AL"), ("Louisiana", "LA"), ("Ontario", "ON"),
    ("Quebec", "QC"), ("Bavaria", "BY"), ("Queensland", "QLD"), ("Vermont", "VT"),
    ("Maine", "ME"), ("Oklahoma", "OK"), ("New Jersey", "NJ"), ("Connecticut", "CT"),
];

#[rustfmt::skip]
pub(super) const ORG_NAME_WORDS: &[&str] = &[
    "Acme", "Northwind", "Bluestone", "Summit", "Pioneer", "Evergreen", "Keystone",
    "Horizon", "Redline", "Silverleaf", "Ironwood", "Brightpath", "Cobalt", "Granite",
    "Lighthouse", "Meridian", "Nimbus", "Oakridge", "Pinnacle", "Quantum", "Riverbend",
    "Sterling", "Tidewater", "Unity", "Vanguard", "Westbrook", "Apex", "Beacon",
    "Cascade", "Delta", "Everest", "Falcon", "Gateway", "Harbor", "Insight", "Juniper",
    "Kestrel", "Liberty", "Monarch", "Nova", "Orion", "Prairie", "Crescent", "Sapphire",
    "Titan", "Vertex", "Willow", "Zenith", "Blackrock", "Greenfield", "Redwood",
    "Clearwater", "Stonegate", "Highpoint", "Northstar", "Sunrise", "Trinity", "Atlas",
];

#[rustfmt::skip]
pub(super) const ORG_INDUSTRIES: &[&str] = &[
    "Logistics", "Freight", "Software", "Systems", "Analytics", "Energy", "Solar",
    "Construction", "Builders", "Foods", "Bakery", "Pharmaceuticals", "Biotech", "Health",
    "Dental", "Insurance", "Capital", "Partners", "Consulting", "Media", "Publishing",
    "Motors", "Airlines", "Shipping", "Telecom", "Networks", "Security", "Realty",
    "Properties", "Hotels", "Textiles", "Chemicals", "Mining", "Robotics", "Labs",
    "Engineering", "Design", "Marketing", "Financial", "Credit Union", "Water", "Waste",
    "Solutions", "Technologies", "Transit", "Markets", "Bioscience", "Magazines", "Studios",
    "Ventures", "Services", "Digital", "Data", "Outfitters", "Brewing", "Apparel",
];

#[rustfmt::skip]
pub(super) const ORG_SUFFIXES: &[&str] = &[
    "Inc.", "Inc", "LLC", "Ltd.", "Ltd", "Corp.", "Corporation", "Co.", "Company", "Group",
    "GmbH", "plc", "LLP", "Holdings", "& Co.", "International", "S.A.", "AG",
];

#[rustfmt::skip]
pub(super) const PUBLIC_BODIES: &[&str] = &[
    "Department of Transportation", "Department of Health", "Police Department",
    "Fire Department", "Water Authority", "Housing Authority", "Transit Authority",
    "Public Library", "City Council", "Board of Education", "Parks Department",
    "Environmental Agency", "Tax Office", "Planning Commission", "Port Authority",
    "Sanitation Department", "Election Commission", "Municipal Court",
];

#[rustfmt::skip]
pub(super) const INSTITUTION_FORMS: &[&str] = &[
    "{c} General Hospital", "{c} Medical Center", "St. {g}'s Hospital",
    "University of {c}", "{c} State University", "{c} Community College",
    "{c} Children's Hospital", "{s} Memorial Clinic", "{c} High School",
    "{c} Museum of Art", "{c} Public Schools", "{s} Elementary School",
    "{c} Chamber of Commerce", "{c} Red Cross", "Bank of {c}", "{c} Savings Bank",
];

#[rustfmt::skip]
pub(super) const CN_SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
    "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
    "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹",
    "欧阳", "司马", "诸葛", "上官", "东方",
];

#[rustfmt::skip]
pub(super) const CN_GIVEN_CHARS: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀", "英", "华", "慧", "建", "国", "平", "刚", "桂", "玉", "萍", "红", "鹏",
    "辉", "霞", "斌", "宇", "浩", "凯", "晨", "雪", "琳", "欣", "怡", "梓", "涵", "子", "轩",
    "睿", "博", "文", "婷", "佳", "思", "雨", "昊", "然", "嘉", "志", "海", "燕", "亮", "兰",
    "春", "晓", "东", "新", "宏", "立", "峰", "波", "成", "龙", "云", "飞", "琪", "瑶", "颖",
];

#[rustfmt::skip]
pub(super) const CN_PROVINCES: &[&str] = &[
    "广东省", "江苏省", "浙江省", "山东省", "河南省", "四川省", "湖北省", "湖南省", "河北省",
    "福建省", "安徽省", "陕西省", "辽宁省", "江西省", "云南省", "山西省", "贵州省", "吉林省",
    "黑龙江省", "甘肃省", "海南省", "青海省", "广西壮族自治区", "内蒙古自治区",
];

#[rustfmt::skip]
pub(super) const CN_CITIES: &[&str] = &[
    "北京", "上海", "广州", "深圳", "天津", "重庆", "成都", "杭州", "武汉", "南京", "西安",
    "苏州", "郑州", "长沙", "沈阳", "青岛", "宁波", "东莞", "无锡", "厦门", "福州", "济南",
    "大连", "合肥", "昆明", "哈尔滨", "长春", "石家庄", "南宁", "贵阳", "南昌", "太原",
    "兰州", "海口", "乌鲁木齐", "呼和浩特", "珠海", "佛山", "温州", "绍兴", "嘉兴", "徐州",
    "烟台", "洛阳", "宜昌", "桂林", "三亚", "拉萨", "银川", "西宁",
];

#[rustfmt::skip]
pub(super) const CN_DISTRICTS: &[&str] = &[
    "朝阳区", "海淀区", "东城区", "西城区", "浦东新区", "徐汇区", "黄浦区", "静安区",
    "天河区", "越秀区", "福田区", "南山区", "罗湖区", "武侯区", "锦江区", "西湖区",
    "滨江区", "江汉区", "鼓楼区", "玄武区", "雁塔区", "碑林区", "高新区", "经开区",
    "城关区", "新城区", "开发区", "江北区", "历下区", "市南区", "思明区", "和平区",
];

#[rustfmt::skip]
pub(super) const CN_ROAD_NAMES: &[&str] = &[
    "人民", "解放", "中山", "建设", "和平", "新华", "胜利", "长江", "黄河", "文化", "光明",
    "友谊", "幸福", "青年", "朝阳", "滨江", "南京", "北京", "延安", "复兴", "学院", "科技",
    "创业", "东风", "西湖", "花园", "金融", "世纪", "望京", "龙华", "天府", "丰收",
];

#[rustfmt::skip]
pub(super) const CN_ROAD_SUFFIXES: &[&str] = &[
    "路", "大道", "街", "大街", "东路", "西路", "南路", "北路", "中路", "巷", "胡同",
];

#[rustfmt::skip]
pub(super) const CN_COUNTRIES: &[&str] = &[
    "中国", "美国", "日本", "韩国", "英国", "法国", "德国", "俄罗斯", "加拿大", "澳大利亚",
    "新加坡", "意大利", "西班牙", "印度", "巴西", "泰国", "越南", "马来西亚", "新西兰",
];

#[rustfmt::skip]
pub(super) const CN_BRAND_WORDS: &[&str] = &[
    "华信", "恒通", "金鹏", "瑞丰", "宏达", "新世纪", "天成", "中兴", "博远", "鼎盛", "永安",
    "安泰", "嘉禾", "联创", "启明", "远航", "正大", "长城", "东方", "蓝海", "汇丰", "锦程",
    "万家", "盛世", "明德", "同心", "银河", "泰和", "卓越", "星辰",
];

#[rustfmt::skip]
pub(super) const CN_INDUSTRIES: &[&str] = &[
    "科技", "电子", "物流", "建设", "建筑", "贸易", "食品", "医药", "生物", "能源", "信息",
    "软件", "网络", "传媒", "文化", "教育", "环保", "置业", "地产", "汽车", "机械", "化工",
    "餐饮", "投资", "咨询", "保险", "物业", "纺织", "通信", "安防",
];

#[rustfmt::skip]
pub(super) const CN_COMPANY_SUFFIXES: &[&str] = &[
    "有限公司", "股份有限公司", "有限责任公司", "集团", "集团有限公司", "公司", "工作室",
    "事务所", "研究院", "合作社",
];

#[rustfmt::skip]
pub(super) const CN_PUBLIC_BODIES: &[&str] = &[
    "公安局", "交通运输局", "生态环境局", "卫生健康委员会", "教育局", "民政局",
    "住房和城乡建设局", "水务局", "市场监督管理局", "税务局", "自然资源局", "应急管理局",
    "人力资源和社会保障局", "城市管理局", "统计局", "财政局", "消防救援支队", "人民法院",
    "人民检察院", "疾病预防控制中心",
];

#[rustfmt::skip]
pub(super) const CN_INSTITUTION_FORMS: &[&str] = &[
    "{c}市第{k}人民医院", "{c}市人民医院", "{c}市中医院", "{c}大学", "{c}大学附属医院",
    "{c}市第{k}中学", "{c}市实验小学", "{c}理工大学", "{c}师范大学", "{c}市图书馆",
    "{c}银行", "{c}市妇幼保健院", "{c}职业技术学院", "{c}市博物馆",
];

#[rustfmt::skip]
pub(super) const CN_NUMERALS: &[&str] = &["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// Common English words that are not entities, mixed into sentences so that the model meets
/// many more non-entity words than the templates hold and does not take every unseen word
/// for a name.
#[rustfmt::skip]
pub(super) const COMMON_WORDS: &[&str] = &[
    "the", "a", "an", "and", "or", "but", "if", "then", "because", "so", "while", "after",
    "before", "during", "about", "above", "across", "against", "along", "among", "around",
    "behind", "below", "beside", "between", "beyond", "into", "near", "over", "through",
    "under", "until", "upon", "within", "without", "this", "that", "these", "those", "each",
    "every", "some", "any", "many", "much", "more", "most", "few", "several", "all", "both",
    "other", "another", "such", "no", "not", "only", "also", "very", "just", "still", "again",
    "already", "soon", "later", "today", "tonight", "tomorrow", "yesterday", "now", "here",
    "there", "where", "when", "why", "how", "what", "which", "who", "whose", "we", "you",
    "they", "he", "she", "it", "our", "your", "their", "his", "her", "its", "us", "them",
    "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "do", "does",
    "did", "will", "would", "can", "could", "should", "may", "might", "must", "shall",
    "make", "made", "take", "took", "give", "gave", "get", "got", "go", "went", "come",
    "came", "see", "saw", "know", "knew", "think", "thought", "tell", "told", "ask",
    "asked", "need", "needed", "want", "wanted", "use", "used", "find", "found", "keep",
    "kept", "leave", "left", "start", "started", "stop", "stopped", "open", "opened",
    "close", "closed", "check", "checked", "fix", "fixed", "repair", "repaired", "replace",
    "replaced", "review", "reviewed", "report", "reported", "request", "requested", "send",
    "sent", "receive", "received", "confirm", "confirmed", "cancel", "cancelled", "delay",
    "delayed", "schedule", "scheduled", "update", "updated", "approve", "approved", "reject",
    "rejected", "inspect", "inspected", "clean", "cleaned", "collect", "collected", "measure",
    "measured", "record", "recorded", "notice", "noticed", "handle", "handled", "assign",
    "assigned", "escalate", "escalated", "resolve", "resolved", "water", "road", "street",
    "light", "noise", "traffic", "bus", "train", "car", "bike", "parking", "permit", "fee",
    "fine", "bill", "payment", "account", "form", "letter", "email", "call", "message",
    "meeting", "office", "building", "house", "flat", "room", "door", "window", "roof",
    "wall", "floor", "garden", "tree", "park", "school", "hospital", "clinic", "store",
    "shop", "market", "restaurant", "bridge", "tunnel", "station", "airport", "port",
    "sidewalk", "crossing", "signal", "sign", "bin", "waste", "trash", "recycling", "sewer",
    "drain", "pipe", "leak", "flood", "fire", "smoke", "smell", "dust", "air", "power",
    "outage", "heat", "cold", "snow", "rain", "storm", "wind", "damage", "problem", "issue",
    "case", "ticket", "complaint", "request", "question", "answer", "reply", "response",
    "team", "crew", "staff", "manager", "officer", "driver", "tenant", "owner", "resident",
    "neighbour", "neighbor", "customer", "visitor", "citizen", "applicant", "witness",
    "caller", "inspector", "engineer", "nurse", "doctor", "student", "teacher", "worker",
    "week", "month", "year", "day", "night", "morning", "evening", "hour", "minute", "time",
    "date", "deadline", "number", "amount", "total", "cost", "price", "budget", "plan",
    "project", "program", "service", "system", "data", "file", "record", "copy", "list",
    "note", "notes", "summary", "status", "priority", "urgent", "new", "old", "good", "bad",
    "big", "small", "large", "long", "short", "high", "low", "early", "late", "first",
    "last", "next", "final", "main", "public", "private", "local", "central", "broken",
    "missing", "damaged", "loud", "dirty", "unsafe", "blocked", "full", "empty", "free",
    "available", "ready", "possible", "necessary", "important", "please", "thanks",
    "thank", "sorry", "okay", "yes", "hello", "regards", "sincerely", "best", "kind",
    "again", "agenda", "attached", "below", "following", "regarding", "concerning", "per",
    "via", "handover", "followup", "reminder", "invoice", "receipt", "refund", "delivery",
    "pickup", "shipment", "order", "package", "parcel", "appointment", "inspection",
    "maintenance", "construction", "renovation", "closure", "detour", "accident", "incident",
];

/// Common Chinese characters that are not entities on their own, mixed into sentences for
/// the same reason as [`COMMON_WORDS`].
#[rustfmt::skip]
pub(super) const COMMON_CHARACTERS: &str = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感见明问力理尔点文几定本公特做外孩相西果走将月十实向声车全信重三机工物气每并别真打太新比才便夫再书部水像眼等体却加电主界门利海受听表德少克代员许先口由死安写性马光白或住难望教命花结乐色更拉东神记处让母父应直字场平报友关放至张认接告入笑内英军候民岁往何度山觉路带万男边风解叫任金快原吃妈变通师立象数四失满战远格士音轻目条呢病始达深完今提求清王化空业思切怎非找片罗钱紧吗语元喜曾离飞科言干流欢约各即指合反题必该论交终林请医晚制球决传画保读运及则房早院量苦火布品近坐产答星精视五连司巴奇管类未朋且婚台夜青北队久乎越观落尽形影红爸百令周吧识步希亚术留市半热送兴造谈容极随演收首根讲整式取照办强石古华拿计您装似足双妻尼转诉米称丽客南领节衣站黑刻统断福城故历惊脸选包紧争另建维绝树系伤示愿持千史谁准联妇纪基买志静阿诗独复痛消社算义竟确酒需单治卡幸兰念举仅钟怕共毛句息功官待究跟穿室易游程号居考突皮哪费倒价图具刚脑永歌响商礼细专黄块脚味灵改据般破引食仍存众注笔甚某沉血备习校默务土微娘须试怀料调广苏显赛查密议底列富梦错座参八除跑亮假印设线温虽掉京初养香停际致阳纸李纳验助激够严证帝饭忘趣支春集丈木研班普导顿睡展跳获艺六波察群皇段急庭创区奥器谢弟店否害草排背止组州朝封睛板角况曲馆育忙质河续哥呼若推境遇雨标姐充围案伦护冷警贝著雪索剧啊船险烟依斗值帮汉慢佛肯闻唱沙局伯族低玩资屋击速顾泪洲团圣旁堂兵七露园牛哭旅街劳型烈姑陈莫鱼异抱宝权鲁简态级票怪寻杀律胜份汽右洋范床舞秘午登楼贵吸责例追较职属渐左录丝牙党继托赶章智冲叶胡吉卖坚喝肉遗救修松临藏担戏善卫药悲敢靠伊村戴词森耳差短祖云规窗散迷油旧适乡架恩投弹铁博雷府压超负勒杂醒洗采毫嘴毕九冰既状乱景席珍童顶派素脱农疑练野按犯拍征坏骨余承置彩灯巨琴免环姆暗换技翻束增忍餐洛塞缺忆判欧层付阵玛批岛项狗休懂武革良恶恋委拥娜妙探呀营退摇弄桌熟诺宣银势奖宫忽套康供优课鸟喊降夏困刘罪亡鞋健模败伴守挥鲜财孤枪禁恐伙杰迹妹遍盖副坦牌江顺秋萨菜划授归浪听凡预奶雄升编典袋莱含盛济蒙棋端腿招释介烧误";
