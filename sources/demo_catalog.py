"""Static reference data for the demo landing generator (sources/demo.py).

Brands with their service intervals, models, cities, people's names, insurers
and the price lists the repair orders are built from. Plain data: no
randomness and no I/O here, so the generator stays deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

# ISO 3779 characters (no I, O, Q) and the check-digit tables of ISO 3779 /
# GB 16735 (the same as the North American 9th-position check digit).
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
VIN_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_TRANSLIT = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Model-year code (10th character), 2010 = A ... 2030 = Y, then it repeats.
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY"


def vin_check_digit(vin17: str) -> str:
    total = sum(_TRANSLIT[c] * w for c, w in zip(vin17, _WEIGHTS))
    r = total % 11
    return "X" if r == 10 else str(r)


def model_year_code(year: int) -> str:
    return _YEAR_CODES[(year - 2010) % len(_YEAR_CODES)]


def make_vin(wmi: str, vds: str, model_year: int, serial_index: int) -> str:
    """A valid 17-character VIN; unique for distinct serial_index < 33 million."""
    plant = VIN_CHARS[(serial_index // 1_000_000) % len(VIN_CHARS)]
    serial = (serial_index * 7919 + 104_729) % 1_000_000  # a bijection on 0..999999
    body = f"{wmi}{vds}0{model_year_code(model_year)}{plant}{serial:06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


@dataclass(frozen=True)
class Model:
    name: str
    vds: str  # 4 characters; the 5th VDS character is a trim code
    value_k: int  # new-car price, thousand CNY (drives part prices and premiums)
    seats: int
    weight: float  # share of the brand's sales
    oil_liters: float


@dataclass(frozen=True)
class Brand:
    key: str
    name: str  # as written in stores.csv / vehicles.csv
    short: str
    wmi: str
    part_prefix: str
    interval_km: int
    interval_months: int
    labor_rate: int  # CNY per labour hour, before the store's own adjustment
    free_first_maintenance: bool
    models: tuple[Model, ...]


BRANDS: dict[str, Brand] = {
    "toyota": Brand(
        key="toyota",
        name="一汽丰田",
        short="丰田",
        wmi="LFM",
        part_prefix="TY",
        interval_km=5000,
        interval_months=6,
        labor_rate=260,
        free_first_maintenance=True,
        models=(
            Model("卡罗拉", "BA3E", 120, 5, 0.38, 4.2),
            Model("亚洲龙", "AXH7", 200, 5, 0.18, 4.5),
            Model("RAV4荣放", "JA4B", 190, 5, 0.24, 4.5),
            Model("威驰", "NC1V", 80, 5, 0.14, 3.7),
            Model("皇冠陆放", "HR8C", 280, 5, 0.06, 5.0),
        ),
    ),
    "vw": Brand(
        key="vw",
        name="上汽大众",
        short="大众",
        wmi="LSV",
        part_prefix="VW",
        interval_km=7500,
        interval_months=6,
        labor_rate=240,
        free_first_maintenance=False,
        models=(
            Model("朗逸", "AB6C", 110, 5, 0.40, 4.0),
            Model("帕萨特", "CH3C", 200, 5, 0.20, 5.0),
            Model("途观L", "YA5N", 230, 5, 0.20, 5.0),
            Model("途昂", "YB7N", 300, 7, 0.08, 5.5),
            Model("Polo", "AA2R", 80, 5, 0.12, 3.6),
        ),
    ),
    "honda": Brand(
        key="honda",
        name="广汽本田",
        short="本田",
        wmi="LHG",
        part_prefix="HD",
        interval_km=10000,
        interval_months=12,
        labor_rate=250,
        free_first_maintenance=True,
        models=(
            Model("雅阁", "CV3A", 180, 5, 0.34, 4.4),
            Model("飞度", "GR9B", 85, 5, 0.18, 3.6),
            Model("缤智", "RU5C", 125, 5, 0.20, 3.8),
            Model("皓影", "RW2D", 190, 5, 0.20, 4.2),
            Model("奥德赛", "RC4E", 260, 7, 0.08, 4.6),
        ),
    ),
}

# Brand of the i-th store, cycling: small groups still have siblings
# (stores 1 and 3 share a brand), five stores span three brands.
STORE_BRAND_CYCLE = ("toyota", "vw", "toyota", "honda", "vw", "honda")


@dataclass(frozen=True)
class City:
    name: str
    province: str
    region: str
    plate: str  # province abbreviation + city letter
    districts: tuple[str, ...]


CITIES: tuple[City, ...] = (
    City("广州", "广东", "华南", "粤A", ("天河区", "白云区", "海珠区", "越秀区", "番禺区", "黄埔区", "荔湾区", "花都区")),
    City("上海", "上海", "华东", "沪B", ("闵行区", "浦东新区", "徐汇区", "宝山区", "嘉定区", "松江区", "静安区", "杨浦区")),
    City("佛山", "广东", "华南", "粤E", ("南海区", "禅城区", "顺德区", "三水区", "高明区")),
    City("杭州", "浙江", "华东", "浙A", ("西湖区", "拱墅区", "上城区", "滨江区", "萧山区", "余杭区", "临平区")),
    City("深圳", "广东", "华南", "粤B", ("南山区", "福田区", "罗湖区", "宝安区", "龙岗区", "龙华区")),
    City("苏州", "江苏", "华东", "苏E", ("姑苏区", "吴中区", "相城区", "虎丘区", "吴江区", "苏州工业园区")),
    City("东莞", "广东", "华南", "粤S", ("南城街道", "东城街道", "莞城街道", "虎门镇", "长安镇", "松山湖")),
    City("南京", "江苏", "华东", "苏A", ("玄武区", "秦淮区", "鼓楼区", "建邺区", "江宁区", "浦口区")),
    City("武汉", "湖北", "华中", "鄂A", ("江汉区", "武昌区", "洪山区", "江岸区", "汉阳区", "东西湖区")),
    City("成都", "四川", "西南", "川A", ("锦江区", "青羊区", "武侯区", "成华区", "金牛区", "双流区")),
    City("长沙", "湖南", "华中", "湘A", ("岳麓区", "芙蓉区", "天心区", "开福区", "雨花区")),
    City("重庆", "重庆", "西南", "渝A", ("渝中区", "江北区", "南岸区", "九龙坡区", "沙坪坝区", "渝北区")),
    City("宁波", "浙江", "华东", "浙B", ("海曙区", "江北区", "鄞州区", "镇海区", "北仑区")),
    City("珠海", "广东", "华南", "粤C", ("香洲区", "斗门区", "金湾区")),
)

DEALER_NAMES = (
    "骏达", "恒信", "华通", "宏远", "永达", "中升", "冠德", "瑞华", "鸿粤", "信诚",
    "东昌", "嘉和", "裕丰", "长隆", "润通", "安捷", "万事达", "金源", "广物", "正通",
)

SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 5.0), ("杨", 3.1), ("黄", 2.6),
    ("赵", 2.3), ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.5), ("马", 1.3), ("朱", 1.3),
    ("胡", 1.3), ("郭", 1.2), ("何", 1.2), ("高", 1.1), ("林", 1.1), ("罗", 0.9), ("郑", 0.9),
    ("梁", 0.9), ("谢", 0.8), ("宋", 0.7), ("唐", 0.7), ("许", 0.7), ("韩", 0.7), ("冯", 0.6),
    ("邓", 0.6), ("曹", 0.6), ("彭", 0.6), ("曾", 0.6), ("肖", 0.6), ("田", 0.5), ("董", 0.5),
    ("袁", 0.5), ("潘", 0.5), ("蔡", 0.5), ("蒋", 0.5), ("余", 0.5), ("叶", 0.4), ("杜", 0.4),
    ("苏", 0.4), ("魏", 0.4), ("程", 0.4), ("吕", 0.4), ("丁", 0.4), ("沈", 0.4), ("任", 0.4),
    ("姚", 0.3), ("卢", 0.3), ("钟", 0.3), ("姜", 0.3), ("崔", 0.3), ("谭", 0.3), ("陆", 0.3),
    ("范", 0.3), ("汪", 0.3), ("廖", 0.3), ("石", 0.3), ("金", 0.3), ("韦", 0.3), ("欧阳", 0.1),
)
GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林峰建国志文斌晨阳"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪琳颖慧倩洁晶瑶佳欣怡梦璐莉丹萍红月蓉岚"
GIVEN_ANY = "子晓小家明思雨嘉俊梓一文天佳海新永春"

OCCUPATIONS = (
    ("企业职员", 22), ("私营业主", 12), ("个体经营", 10), ("公务员", 6), ("教师", 6), ("医生", 4),
    ("工程师", 7), ("销售", 6), ("自由职业", 5), ("退休", 4), ("司机", 4), ("金融从业", 3),
    ("学生", 1), ("其他", 5), ("", 18),
)

COMPANY_WORDS = ("恒达", "鑫源", "华兴", "盛世", "宏图", "金桥", "联创", "新航", "同辉", "德润", "远景", "东方")
COMPANY_KINDS = ("贸易有限公司", "科技有限公司", "建设工程有限公司", "实业有限公司", "电子有限公司", "餐饮管理有限公司")
FLEET_KINDS = ("物流有限公司", "汽车租赁有限公司", "出租汽车有限公司", "网约车服务有限公司")

# name, policy/claim number prefix, market share
INSURERS = (
    ("中国人保财险", "RB", 0.34),
    ("平安产险", "PA", 0.26),
    ("太平洋产险", "TP", 0.14),
    ("国寿财险", "GS", 0.08),
    ("大地保险", "DD", 0.07),
    ("阳光保险", "YG", 0.06),
    ("中华联合", "ZH", 0.05),
)

# Repair shops outside the group an insurer may send a car to.
OUTSIDE_SHOPS = tuple(f"X9{n:02d}" for n in range(1, 13))

# ---------------------------------------------------------------- price lists
# A part: (code, description, quantity choices, min price, max price, line_type)
# Prices are CNY per unit for a 150k-CNY car; the model's value scales them.

MAINT_LABOR = ("WH1001", "常规保养工时", 8, 12)  # hours in tenths
MAINT_BIG_LABOR = ("WH1002", "大保养工时", 15, 20)
MAINT_OIL = ("P1001", "全合成机油0W-20(升)", 70, 98)
MAINT_FILTER = ("P1002", "机油滤清器", 1, 45, 90, "part")
MAINT_WASHER = ("P1003", "放油螺塞垫片", 1, 6, 15, "part")
MAINT_AIR = ("P1004", "空气滤清器", 1, 90, 180, "part")
MAINT_CABIN = ("P1005", "空调滤清器", 1, 110, 240, "part")
MAINT_PLUGS = ("P1006", "火花塞", 4, 80, 160, "part")
MAINT_BRAKE_FLUID = ("P1007", "制动液DOT4", 1, 120, 220, "part")
MAINT_BRAKE_FLUID_LABOR = ("WH1003", "更换制动液", 5, 6)
MAINT_ATF = ("P1008", "自动变速箱油(升)", 4, 90, 150, "part")
MAINT_ATF_LABOR = ("WH1004", "更换变速箱油", 10, 12)
MAINT_MATERIALS = (
    (("M1001", "发动机内部清洗剂", 1, 40, 90, "material"), 0.4),
    (("M1002", "玻璃水", 1, 15, 30, "material"), 0.5),
    (("M1003", "节气门清洗剂", 1, 60, 120, "material"), 0.15),
)

# A repair job: (labor code, description, min hours*10, max hours*10, parts, weight)
REPAIR_JOBS = (
    ("WH2001", "更换前刹车片", 10, 15, (("P2001", "前刹车片(套)", 1, 380, 820, "part"),), 10),
    ("WH2002", "更换后刹车片", 10, 15, (("P2002", "后刹车片(套)", 1, 320, 700, "part"),), 6),
    ("WH2003", "更换蓄电池", 3, 5, (("P2003", "蓄电池", 1, 580, 1200, "part"),), 9),
    ("WH2004", "四轮定位", 10, 10, (), 8),
    ("WH2005", "更换轮胎", 4, 8, (("P2005", "轮胎", (2, 4), 520, 1300, "part"),), 8),
    ("WH2006", "空调系统检修加注冷媒", 10, 15, (("M2006", "冷媒R134a", 1, 160, 320, "material"),), 6),
    ("WH2007", "更换雨刮片", 2, 2, (("P2007", "雨刮片", 2, 60, 160, "part"),), 7),
    ("WH2008", "更换前减震器", 20, 30, (("P2008", "前减震器", 2, 780, 1600, "part"),), 3),
    ("WH2009", "更换水泵", 25, 35, (("P2009", "水泵总成", 1, 650, 1300, "part"), ("M2009", "防冻液(升)", 4, 30, 55, "material")), 2),
    ("WH2010", "更换发电机", 20, 30, (("P2010", "发电机总成", 1, 1800, 3800, "part"),), 1.5),
    ("WH2011", "故障诊断", 5, 10, (), 7),
    ("WH2012", "更换点火线圈", 5, 10, (("P2012", "点火线圈", (1, 2), 320, 650, "part"),), 3),
    ("WH2013", "更换前刹车盘", 15, 20, (("P2013", "前刹车盘", 2, 450, 900, "part"),), 3),
    ("WH2014", "更换灯泡", 3, 3, (("P2014", "大灯灯泡", 1, 80, 260, "part"),), 4),
    ("WH2015", "清洗节气门", 8, 8, (("M2015", "节气门清洗剂", 1, 60, 120, "material"),), 4),
    ("WH2016", "更换正时皮带套件", 30, 40, (("P2016", "正时皮带套件", 1, 900, 1800, "part"),), 1),
    ("WH2017", "更换空调压缩机皮带", 8, 12, (("P2017", "多楔带", 1, 150, 380, "part"),), 2),
)

BODY_PANELS = (
    "前保险杠", "后保险杠", "左前叶子板", "右前叶子板", "左前门", "右前门",
    "左后门", "右后门", "发动机盖", "后备箱盖", "左后叶子板", "右后叶子板",
)
BODY_PARTS = (
    ("P3001", "前保险杠皮", 1, 900, 2600, "part"),
    ("P3002", "大灯总成", 1, 1800, 6500, "part"),
    ("P3003", "雾灯总成", 1, 300, 900, "part"),
    ("P3004", "中网", 1, 500, 1600, "part"),
    ("P3005", "后视镜总成", 1, 700, 2200, "part"),
    ("P3006", "前翼子板", 1, 600, 1500, "part"),
    ("P3007", "前挡风玻璃", 1, 1500, 4000, "part"),
    ("P3008", "后尾灯总成", 1, 500, 1600, "part"),
)

WARRANTY_JOBS = (
    ("WH4001", "更换车窗升降器(索赔)", 10, 10, (("P4001", "车窗升降器", 1, 600, 1300, "part"),), 5),
    ("WH4002", "更换节气门体(索赔)", 10, 12, (("P4002", "节气门体", 1, 900, 1800, "part"),), 3),
    ("WH4003", "更换空调压缩机(索赔)", 30, 30, (("P4003", "空调压缩机", 1, 3000, 5500, "part"), ("M4003", "冷媒R134a", 1, 160, 320, "material")), 1.5),
    ("WH4004", "更换曲轴后油封(索赔)", 25, 30, (("P4004", "曲轴后油封", 1, 80, 200, "part"),), 3),
    ("WH4005", "更换倒车影像摄像头(索赔)", 8, 8, (("P4005", "倒车摄像头", 1, 600, 1400, "part"),), 3),
    ("WH4006", "更换多媒体主机(索赔)", 10, 10, (("P4006", "多媒体主机", 1, 2500, 6000, "part"),), 2),
    ("WH4007", "更换门锁电机(索赔)", 10, 10, (("P4007", "门锁总成", 1, 500, 1100, "part"),), 4),
    ("WH4008", "异响检修(索赔)", 10, 20, (), 4),
)

RECALL_JOBS = (
    ("WH5001", "召回-更换燃油泵", 10, 10, (("P5001", "燃油泵总成", 1, 700, 1500, "part"),)),
    ("WH5002", "召回-升级发动机控制软件", 5, 5, ()),
    ("WH5003", "召回-更换安全气囊气体发生器", 12, 12, (("P5003", "气囊气体发生器", 1, 900, 1800, "part"),)),
    ("WH5004", "召回-更换后悬架拖曳臂", 20, 20, (("P5004", "后拖曳臂", 1, 400, 800, "part"),)),
)

ACCESSORIES = (
    ((("P6001", "全包围脚垫", 1, 480, 980, "part"),), None, 10),
    ((("P6002", "行车记录仪", 1, 780, 1580, "part"),), ("WH6002", "行车记录仪安装", 5, 5), 8),
    ((("P6003", "汽车太阳膜(整车)", 1, 1800, 4800, "part"),), ("WH6003", "贴膜工时", 20, 20), 6),
    ((("P6004", "后备箱垫", 1, 180, 420, "part"),), None, 6),
    ((("P6005", "座椅套", 1, 800, 1800, "part"),), None, 3),
    ((("P6006", "挡泥板", 4, 30, 60, "part"),), ("WH6006", "挡泥板安装", 3, 3), 4),
    ((("P6007", "隐形车衣", 1, 6000, 12000, "part"),), ("WH6007", "车衣施工", 40, 40), 1),
    ((("P6008", "儿童安全座椅", 1, 1500, 3000, "part"),), None, 2),
)

PDI_LABOR = ("WH7001", "新车PDI检查", 10, 15)
REWORK_LABOR = ("WH7002", "返修(内部)", 5, 20)

# ------------------------------------------------------------- survey wording
UNREACHED_COMMENTS = ("无人接听", "无人接听", "空号", "关机", "拒接", "号码停机", "")
COMMENTS = {
    "not_due": ("车开得少，还没到保养里程", "按里程保养，近期回厂", "最近出差，回来再约", "还没到时间，到了会来"),
    "price": ("外面保养便宜一半", "觉得4S店配件太贵, 外面便宜", "工时费偏高，换了修理厂", "价格太高, 小病大修"),
    "service_attitude": ("上次接待态度不好", "顾问换了，不熟悉", "对服务不满意，不想再来"),
    "repair_quality": ("上次修完问题没解决", "返修两次还是有异响"),
    "distance": ("搬家后离店太远", "离公司远，不方便", "附近有同品牌店, 就近保养"),
    "waiting_time": ("排队等太久", "上次等了一整天"),
    "insurer_assigned": ("出险后保险公司安排去合作修理厂", "保险公司指定维修点，之后就在那边保养"),
    "moved": ("已搬到外地", "工作调动去外地了"),
    "vehicle_sold": ("车已经卖了", "车辆已转让给朋友", "已置换新车"),
    "other": ("暂时不用车", "客户未说明原因", "车放在老家，很少开"),
    "group": ("已在集团{sibling}保养", "现在去{sibling}，离家近"),
}

# Win-back campaigns (sources/demo_campaigns.py): the kinds of measure a
# store takes against each loss reason, their names and offers, and the
# roles that own them (a role, never a person's name).
CAMPAIGN_KINDS_BY_REASON = {
    "price": ("discount", "membership"),
    "service_attitude": ("service_improvement", "invitation"),
    "distance": ("pickup_service",),
    "waiting_time": ("service_improvement", "pickup_service"),
    "repair_quality": ("service_improvement", "invitation"),
}
CAMPAIGN_TITLES = {
    "discount": ("老客户保养套餐八折", "回厂保养工时五折", "流失客户回厂礼券"),
    "membership": ("会员积分翻倍", "免费升级金卡会员"),
    "pickup_service": ("免费上门取送车", "预约保养上门取送"),
    "invitation": ("老客户回厂关怀日", "免费安全检测邀约"),
    "service_improvement": ("服务整改回访致歉", "快修通道一小时交车"),
    "other": ("客户回厂关怀",),
}
CAMPAIGN_OFFERS = {
    "discount": "保养工时八折",
    "membership": "赠送会员积分",
    "pickup_service": "免费取送车",
    "invitation": "免费检测一次",
    "service_improvement": "赠送洗车一次",
    "other": "回厂礼品",
}
PRICE_CUT_TITLE = "全店保养限时直降"  # the campaign with no contact file
CAMPAIGN_OWNERS = ("售后经理", "客服经理", "服务经理", "市场专员", "客户关系经理")
