//! The benchmark's 100 sentences: English and Chinese city-service texts of varied length,
//! written for this benchmark. [`long_sentences`] adds texts longer than the encoder's
//! 256-token limit, so truncation is exercised.

/// English sentences, short to medium.
const ENGLISH: [&str; 45] = [
    "Pothole on Elm Street.",
    "Streetlight out near the school crossing.",
    "The bus was twenty minutes late again this morning.",
    "Overflowing recycling bins behind the library.",
    "Graffiti on the north wall of the train station.",
    "A fallen tree is blocking both lanes of River Road.",
    "Noise from construction starts before six every day.",
    "Water is leaking from a hydrant on 5th Avenue.",
    "The traffic signal at Oak and Pine stays red for all directions.",
    "Air quality sensor 12 reports PM2.5 above 150 for three hours.",
    "Please repaint the faded zebra crossing outside the hospital.",
    "Residents ask for more benches in Central Park.",
    "An abandoned car has been parked on Lake Drive for a month.",
    "The elevator at the metro exit is out of service.",
    "Sewage smell near the market since the heavy rain.",
    "Broken glass on the playground slide.",
    "Request for a speed bump on a residential street.",
    "Snow has not been cleared from the sidewalk on Hill Street.",
    "Stray dogs near the bus depot at night.",
    "The public toilet in the square is locked during opening hours.",
    "Temperature",
    "Relative humidity",
    "wind speed",
    "station id",
    "PM10 concentration in micrograms per cubic metre",
    "A man is playing a guitar.",
    "Someone is strumming an acoustic instrument.",
    "The council approved the budget for road repairs.",
    "Citizens reported flooding in the underpass after the storm.",
    "The underpass filled with water during the storm, residents said.",
    "Bicycle lanes on the bridge are blocked by delivery vans.",
    "How many service requests were closed last week?",
    "The sensor stopped sending data at 03:00 and resumed at 07:15.",
    "Duplicate record: the same complaint was filed twice by phone and by app.",
    "Open data portal update: new datasets on parking occupancy.",
    "Tram line 3 is replaced by buses this weekend.",
    "Children cross a busy road to reach the school gate.",
    "The heating in the community centre does not work.",
    "Illegal dumping of furniture next to the river path.",
    "Request to trim hedges that block the view at a junction.",
    "Weekly report: 412 tickets opened, 398 closed, median time to close 2.4 days.",
    "Low water pressure on the upper floors of building 7.",
    "Mosquitoes breed in standing water at the construction site.",
    "Ask the city to add a pedestrian phase to the signal at Market Street.",
    "Dust from the demolition site covers parked cars every afternoon.",
];

/// Chinese sentences, short to medium.
const CHINESE: [&str; 45] = [
    "路灯不亮。",
    "东三环辅路有一个大坑。",
    "公交车今天早上又晚点了二十分钟。",
    "图书馆后面的垃圾桶已经满了。",
    "火车站北墙上有涂鸦。",
    "一棵倒下的树挡住了滨河路的两条车道。",
    "工地每天早上六点前就开始施工，噪音很大。",
    "五大道上的消防栓在漏水。",
    "橡树路和松树路路口的信号灯一直是红灯。",
    "十二号空气质量监测站连续三小时报告PM2.5超过150。",
    "请重新粉刷医院门口褪色的斑马线。",
    "居民希望中央公园增加长椅。",
    "湖滨路上有一辆废弃汽车停了一个月。",
    "地铁出口的电梯停止运行。",
    "大雨之后市场附近有污水臭味。",
    "游乐场滑梯上有碎玻璃。",
    "申请在居民区街道设置减速带。",
    "山街人行道上的积雪没有清理。",
    "晚上公交车场附近有流浪狗。",
    "广场上的公共厕所在开放时间内锁着门。",
    "温度",
    "相对湿度",
    "风速",
    "监测站编号",
    "可吸入颗粒物浓度",
    "暴雨过后地下通道积水严重。",
    "桥上的自行车道被送货车占用。",
    "上周关闭了多少工单？",
    "传感器凌晨三点停止发送数据，七点十五分恢复。",
    "重复记录：同一投诉通过电话和应用各提交了一次。",
    "开放数据平台更新：新增停车位占用数据集。",
    "本周末三号有轨电车线路由公交车替代。",
    "社区中心的暖气不工作。",
    "河边小路旁有人非法倾倒家具。",
    "请修剪路口遮挡视线的树篱。",
    "每周报告：新建工单412件，关闭398件，平均处理时间2.4天。",
    "七号楼高层水压低。",
    "建筑工地积水处滋生蚊子。",
    "拆迁工地的灰尘每天下午落满停放的汽车。",
    "北京市朝阳区建国路88号",
    "市民反映小区门口的共享单车乱停乱放，影响通行。",
    "环保部门将对超标排放的企业进行处罚。",
    "今天空气质量良好，适合户外活动。",
    "地铁四号线早高峰非常拥挤。",
    "请问如何申请居住证？",
];

/// Sentences mixing both languages.
const MIXED: [&str; 4] = [
    "Station 朝阳农展馆 reports NO2 of 85 µg/m³.",
    "工单 #4521: streetlight repaired on 2024-03-02.",
    "PM2.5 指数 is rising near the ring road.",
    "The 海淀 district opened three new bike lanes.",
];

/// Builds six texts of several hundred tokens each, longer than the encoder's limit.
pub fn long_sentences() -> Vec<String> {
    let english = "The city received many reports about flooding in the underpass, broken \
                   streetlights along the river path, delayed buses on the ring road and \
                   overflowing bins behind the market, and the service desk asked each \
                   department to reply within two working days. ";
    let chinese = "市民热线收到大量关于地下通道积水、河边小路路灯损坏、环路公交车晚点以及市场后面垃圾桶满溢的反映，\
                   服务中心要求各部门在两个工作日内答复。";
    vec![
        english.repeat(8),
        chinese.repeat(6),
        format!("{}{}", english.repeat(4), chinese.repeat(4)),
        "sensor reading ".repeat(300),
        "数据治理".repeat(200),
        english.repeat(20),
    ]
}

/// Returns the 100 benchmark sentences.
pub fn sentences() -> Vec<String> {
    let mut all: Vec<String> = ENGLISH
        .iter()
        .chain(CHINESE.iter())
        .chain(MIXED.iter())
        .map(|text| (*text).to_string())
        .collect();
    all.extend(long_sentences());
    all
}
