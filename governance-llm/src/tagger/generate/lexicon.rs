//! Word lists the generator draws entity values from, in English and Chinese.
//!
//! The lists are the project's own and deliberately plain: common given names and surnames,
//! generic street and organisation words, and well-known places. Held-out evaluation draws
//! from a disjoint fifth of each list (see [`super::Split`]).

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

pub(super) const PINYIN_SURNAMES: &[&str] = &[
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
    "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Zheng", "Liang", "Xie",
    "Song", "Tang", "Han", "Feng", "Deng", "Cao", "Peng",
];

pub(super) const PINYIN_GIVEN: &[&str] = &[
    "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yang", "Jun", "Yong", "Yan", "Jie",
    "Tao", "Ming", "Chao", "Xiu", "Hua", "Ping", "Gang", "Hui", "Xiaoming", "Lihua",
    "Jianguo", "Haiyan", "Zhiqiang", "Yufei", "Xinyi", "Zihan", "Haoran", "Yuxuan",
];

pub(super) const TITLES: &[&str] = &[
    "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Mr", "Ms", "Dr", "Miss", "Officer", "Judge",
    "Captain", "Sir", "Madam",
];

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

pub(super) const STREET_SUFFIXES: &[&str] = &[
    "Street", "St.", "St", "Avenue", "Ave.", "Ave", "Road", "Rd.", "Rd", "Boulevard",
    "Blvd.", "Lane", "Ln.", "Drive", "Dr.", "Court", "Ct.", "Way", "Place", "Pl.",
    "Terrace", "Parkway", "Pkwy", "Circle", "Highway", "Square", "Crescent", "Close",
    "Trail", "Row",
];

pub(super) const UNIT_FORMS: &[&str] = &[
    "Apt. {n}", "Apt {n}", "Apartment {n}", "Suite {n}", "Ste. {n}", "Unit {n}", "#{n}",
    "Flat {n}", "Room {n}", "Floor {n}", "Bldg {n}", "Apt. {n}{c}", "Unit {n}{c}",
];

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

pub(super) const ORG_INDUSTRIES: &[&str] = &[
    "Logistics", "Freight", "Software", "Systems", "Analytics", "Energy", "Solar",
    "Construction", "Builders", "Foods", "Bakery", "Pharmaceuticals", "Biotech", "Health",
    "Dental", "Insurance", "Capital", "Partners", "Consulting", "Media", "Publishing",
    "Motors", "Airlines", "Shipping", "Telecom", "Networks", "Security", "Realty",
    "Properties", "Hotels", "Textiles", "Chemicals", "Mining", "Robotics", "Labs",
    "Engineering", "Design", "Marketing", "Financial", "Credit Union", "Water", "Waste",
];

pub(super) const ORG_SUFFIXES: &[&str] = &[
    "Inc.", "Inc", "LLC", "Ltd.", "Ltd", "Corp.", "Corporation", "Co.", "Company", "Group",
    "GmbH", "plc", "LLP", "Holdings", "& Co.", "International", "S.A.", "AG",
];

pub(super) const PUBLIC_BODIES: &[&str] = &[
    "Department of Transportation", "Department of Health", "Police Department",
    "Fire Department", "Water Authority", "Housing Authority", "Transit Authority",
    "Public Library", "City Council", "Board of Education", "Parks Department",
    "Environmental Agency", "Tax Office", "Planning Commission", "Port Authority",
    "Sanitation Department", "Election Commission", "Municipal Court",
];

pub(super) const INSTITUTION_FORMS: &[&str] = &[
    "{c} General Hospital", "{c} Medical Center", "St. {g}'s Hospital",
    "University of {c}", "{c} State University", "{c} Community College",
    "{c} Children's Hospital", "{s} Memorial Clinic", "{c} High School",
    "{c} Museum of Art", "{c} Public Schools", "{s} Elementary School",
    "{c} Chamber of Commerce", "{c} Red Cross", "Bank of {c}", "{c} Savings Bank",
];

pub(super) const CN_SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
    "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
    "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹",
    "欧阳", "司马", "诸葛", "上官", "东方",
];

pub(super) const CN_GIVEN_CHARS: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀", "英", "华", "慧", "建", "国", "平", "刚", "桂", "玉", "萍", "红", "鹏",
    "辉", "霞", "斌", "宇", "浩", "凯", "晨", "雪", "琳", "欣", "怡", "梓", "涵", "子", "轩",
    "睿", "博", "文", "婷", "佳", "思", "雨", "昊", "然", "嘉", "志", "海", "燕", "亮", "兰",
    "春", "晓", "东", "新", "宏", "立", "峰", "波", "成", "龙", "云", "飞", "琪", "瑶", "颖",
];

pub(super) const CN_PROVINCES: &[&str] = &[
    "广东省", "江苏省", "浙江省", "山东省", "河南省", "四川省", "湖北省", "湖南省", "河北省",
    "福建省", "安徽省", "陕西省", "辽宁省", "江西省", "云南省", "山西省", "贵州省", "吉林省",
    "黑龙江省", "甘肃省", "海南省", "青海省", "广西壮族自治区", "内蒙古自治区",
];

pub(super) const CN_CITIES: &[&str] = &[
    "北京", "上海", "广州", "深圳", "天津", "重庆", "成都", "杭州", "武汉", "南京", "西安",
    "苏州", "郑州", "长沙", "沈阳", "青岛", "宁波", "东莞", "无锡", "厦门", "福州", "济南",
    "大连", "合肥", "昆明", "哈尔滨", "长春", "石家庄", "南宁", "贵阳", "南昌", "太原",
    "兰州", "海口", "乌鲁木齐", "呼和浩特", "珠海", "佛山", "温州", "绍兴", "嘉兴", "徐州",
    "烟台", "洛阳", "宜昌", "桂林", "三亚", "拉萨", "银川", "西宁",
];

pub(super) const CN_DISTRICTS: &[&str] = &[
    "朝阳区", "海淀区", "东城区", "西城区", "浦东新区", "徐汇区", "黄浦区", "静安区",
    "天河区", "越秀区", "福田区", "南山区", "罗湖区", "武侯区", "锦江区", "西湖区",
    "滨江区", "江汉区", "鼓楼区", "玄武区", "雁塔区", "碑林区", "高新区", "经开区",
    "城关区", "新城区", "开发区", "江北区", "历下区", "市南区", "思明区", "和平区",
];

pub(super) const CN_ROAD_NAMES: &[&str] = &[
    "人民", "解放", "中山", "建设", "和平", "新华", "胜利", "长江", "黄河", "文化", "光明",
    "友谊", "幸福", "青年", "朝阳", "滨江", "南京", "北京", "延安", "复兴", "学院", "科技",
    "创业", "东风", "西湖", "花园", "金融", "世纪", "望京", "龙华", "天府", "丰收",
];

pub(super) const CN_ROAD_SUFFIXES: &[&str] = &[
    "路", "大道", "街", "大街", "东路", "西路", "南路", "北路", "中路", "巷", "胡同",
];

pub(super) const CN_COUNTRIES: &[&str] = &[
    "中国", "美国", "日本", "韩国", "英国", "法国", "德国", "俄罗斯", "加拿大", "澳大利亚",
    "新加坡", "意大利", "西班牙", "印度", "巴西", "泰国", "越南", "马来西亚", "新西兰",
];

pub(super) const CN_BRAND_WORDS: &[&str] = &[
    "华信", "恒通", "金鹏", "瑞丰", "宏达", "新世纪", "天成", "中兴", "博远", "鼎盛", "永安",
    "安泰", "嘉禾", "联创", "启明", "远航", "正大", "长城", "东方", "蓝海", "汇丰", "锦程",
    "万家", "盛世", "明德", "同心", "银河", "泰和", "卓越", "星辰",
];

pub(super) const CN_INDUSTRIES: &[&str] = &[
    "科技", "电子", "物流", "建设", "建筑", "贸易", "食品", "医药", "生物", "能源", "信息",
    "软件", "网络", "传媒", "文化", "教育", "环保", "置业", "地产", "汽车", "机械", "化工",
    "餐饮", "投资", "咨询", "保险", "物业", "纺织", "通信", "安防",
];

pub(super) const CN_COMPANY_SUFFIXES: &[&str] = &[
    "有限公司", "股份有限公司", "有限责任公司", "集团", "集团有限公司", "公司", "工作室",
    "事务所", "研究院", "合作社",
];

pub(super) const CN_PUBLIC_BODIES: &[&str] = &[
    "公安局", "交通运输局", "生态环境局", "卫生健康委员会", "教育局", "民政局",
    "住房和城乡建设局", "水务局", "市场监督管理局", "税务局", "自然资源局", "应急管理局",
    "人力资源和社会保障局", "城市管理局", "统计局", "财政局", "消防救援支队", "人民法院",
    "人民检察院", "疾病预防控制中心",
];

pub(super) const CN_INSTITUTION_FORMS: &[&str] = &[
    "{c}市第{k}人民医院", "{c}市人民医院", "{c}市中医院", "{c}大学", "{c}大学附属医院",
    "{c}市第{k}中学", "{c}市实验小学", "{c}理工大学", "{c}师范大学", "{c}市图书馆",
    "{c}银行", "{c}市妇幼保健院", "{c}职业技术学院", "{c}市博物馆",
];

pub(super) const CN_NUMERALS: &[&str] = &["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
