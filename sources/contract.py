"""The landing contract of SPEC section 3, as data.

One place names every landing file, its columns (English and Chinese
headers), the type each column is parsed to, and the enumerations with their
Chinese labels. The reader, the demo generator and the tests all read it, so a
change to the contract is made here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column kinds the reader knows how to parse (see sources/parsing.py).
TEXT = "text"
DATE = "date"
TIMESTAMP = "timestamp"
AMOUNT = "amount"  # decimal CNY, two places
NUMBER = "number"  # decimal quantity or hours
INTEGER = "integer"
FLAG = "flag"
ENUM = "enum"
ENUM_LIST = "enum_list"  # ';'-separated enumeration values

# Flag spellings (SPEC section 3): Y/N, 是/否, 1/0, true/false.
FLAG_TRUE = ("Y", "是", "1", "TRUE")
FLAG_FALSE = ("N", "否", "0", "FALSE")

# Enumerations: English code -> Chinese label.
ENUMERATIONS: dict[str, dict[str, str]] = {
    "gender": {"M": "男", "F": "女"},
    "customer_type": {"individual": "个人", "corporate": "单位", "fleet": "车队"},
    "service_type": {
        "maintenance": "保养",
        "repair": "机修",
        "bodywork": "钣喷",
        "warranty": "索赔",
        "recall": "召回",
        "accessory": "精品",
        "internal": "内部",
    },
    "payer": {"customer": "自费", "warranty": "厂家", "insurance": "保险", "internal": "内部"},
    "ro_status": {"open": "在修", "closed": "已结算", "cancelled": "作废"},
    "line_type": {"labor": "工时", "part": "配件", "material": "辅料"},
    "policy_type": {"compulsory": "交强险", "commercial": "商业险"},
    "claim_status": {"open": "处理中", "settled": "已结案", "rejected": "拒赔"},
    "survey_method": {"phone": "电话", "visit": "上门", "event": "活动", "email": "邮件", "wechat": "微信"},
    "maintains_regularly": {"regular": "定期", "irregular": "不定期", "never": "不保养"},
    "serviced_at": {
        "other_same_brand_4s": "其他同品牌4S店",
        "other_brand_4s": "其他品牌4S店",
        "independent_shop": "修理厂",
        "chain_shop": "连锁店",
        "none": "未维修",
        "other": "其他",
    },
    "reason": {
        "service_attitude": "服务态度",
        "repair_quality": "维修质量",
        "price": "价格高",
        "distance": "距离远",
        "waiting_time": "等待时间长",
        "insurer_assigned": "保险指定",
        "moved": "搬迁",
        "vehicle_sold": "车辆转让",
        "other": "其他",
    },
    "campaign_kind": {
        "discount": "优惠活动",
        "membership": "会员",
        "pickup_service": "上门取送车",
        "invitation": "邀约活动",
        "service_improvement": "服务整改",
        "other": "其他",
    },
    "contact_channel": {"phone": "电话", "sms": "短信", "wechat": "微信", "visit": "上门", "mail": "邮寄"},
}


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    kind: str = TEXT
    required: bool = False  # the file is rejected when the header lacks it
    enum: str | None = None  # key into ENUMERATIONS for ENUM / ENUM_LIST
    # Event dates that cannot lie after the drop's business date (SPEC section 4:
    # "date in the future of the drop"). Policy start/end dates legitimately can.
    not_after_drop: bool = False


@dataclass(frozen=True)
class LandingTable:
    """One landing file type and the raw table its rows land in."""

    name: str  # raw table name, e.g. dms_repair_orders
    source: str  # landing folder: reference, dms, insurance, survey, crm
    file_name: str  # e.g. repair_orders.csv
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    partitioned: bool = True  # False: a single reference file, no store/date folders
    description: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name, zh, kind=TEXT, required=False, enum=None, not_after_drop=None) -> Column:
    # Every event timestamp and the listed dates default to "not after the drop".
    if not_after_drop is None:
        not_after_drop = kind == TIMESTAMP
    return Column(name, zh, kind, required, enum, not_after_drop)


STORES = LandingTable(
    name="reference_stores",
    source="reference",
    file_name="stores.csv",
    key=("store_code",),
    partitioned=False,
    description="The group's stores (门店).",
    columns=(
        _c("store_code", "门店代码", required=True),
        _c("store_name", "门店名称", required=True),
        _c("brand", "品牌", required=True),
        _c("city", "城市"),
        _c("province", "省份"),
        _c("region", "大区"),
        _c("opened_on", "开业日期", DATE),
    ),
)

CUSTOMERS = LandingTable(
    name="dms_customers",
    source="dms",
    file_name="customers.csv",
    key=("store_code", "customer_id"),
    description="Customer master (客户档案).",
    columns=(
        _c("customer_id", "客户编号", required=True),
        _c("store_code", "门店代码", required=True),
        _c("name", "客户姓名"),
        _c("phone", "手机号码"),
        _c("gender", "性别", ENUM, enum="gender"),
        _c("birth_date", "出生日期", DATE, not_after_drop=True),
        _c("occupation", "职业"),
        _c("customer_type", "客户类型", ENUM, enum="customer_type"),
        _c("district", "所在区域"),
        _c("city", "城市"),
        _c("created_at", "建档时间", TIMESTAMP),
        _c("updated_at", "更新时间", TIMESTAMP, required=True),
    ),
)

VEHICLES = LandingTable(
    name="dms_vehicles",
    source="dms",
    file_name="vehicles.csv",
    key=("store_code", "vin"),
    description="Vehicle master (车辆档案).",
    columns=(
        _c("vin", "车架号", required=True),
        _c("store_code", "门店代码", required=True),
        _c("customer_id", "客户编号"),
        _c("plate_no", "车牌号"),
        _c("brand", "品牌"),
        _c("model", "车型"),
        _c("model_year", "年款", INTEGER),
        _c("purchase_date", "购车日期", DATE, not_after_drop=True),
        _c("sold_by_store", "本店销售", FLAG),
        _c("updated_at", "更新时间", TIMESTAMP, required=True),
    ),
)

REPAIR_ORDERS = LandingTable(
    name="dms_repair_orders",
    source="dms",
    file_name="repair_orders.csv",
    key=("store_code", "ro_number"),
    description="Repair orders (维修工单).",
    columns=(
        _c("ro_number", "工单号", required=True),
        _c("store_code", "门店代码", required=True),
        _c("customer_id", "客户编号"),
        _c("vin", "车架号", required=True),
        _c("opened_at", "进厂时间", TIMESTAMP, required=True),
        _c("closed_at", "结算时间", TIMESTAMP),
        _c("mileage_km", "进厂里程", INTEGER),
        _c("service_type", "维修类型", ENUM, required=True, enum="service_type"),
        _c("payer", "付费方式", ENUM, required=True, enum="payer"),
        _c("labor_amount", "工时费", AMOUNT, required=True),
        _c("parts_amount", "材料费", AMOUNT, required=True),
        _c("other_amount", "其他费用", AMOUNT),
        _c("discount_amount", "优惠金额", AMOUNT),
        _c("total_amount", "结算金额", AMOUNT, required=True),
        _c("parts_cost", "材料成本", AMOUNT),
        _c("advisor_code", "服务顾问"),
        _c("status", "工单状态", ENUM, required=True, enum="ro_status"),
        _c("claim_no", "理赔单号"),
        _c("updated_at", "更新时间", TIMESTAMP, required=True),
    ),
)

REPAIR_ORDER_LINES = LandingTable(
    name="dms_repair_order_lines",
    source="dms",
    file_name="repair_order_lines.csv",
    key=("store_code", "ro_number", "line_no"),
    description="Repair order lines (工单明细).",
    columns=(
        _c("ro_number", "工单号", required=True),
        _c("store_code", "门店代码", required=True),
        _c("line_no", "行号", INTEGER, required=True),
        _c("line_type", "类型", ENUM, required=True, enum="line_type"),
        _c("item_code", "项目代码"),
        _c("description", "项目名称"),
        _c("quantity", "数量", NUMBER),
        _c("labor_hours", "工时", NUMBER),
        _c("unit_price", "单价", AMOUNT),
        _c("amount", "金额", AMOUNT, required=True),
        _c("cost", "成本", AMOUNT),
        _c("updated_at", "更新时间", TIMESTAMP, required=True),
    ),
)

POLICIES = LandingTable(
    name="insurance_policies",
    source="insurance",
    file_name="policies.csv",
    key=("policy_no",),
    description="Insurance policies (保单).",
    columns=(
        _c("policy_no", "保单号", required=True),
        _c("store_code", "门店代码", required=True),
        _c("vin", "车架号", required=True),
        _c("insurer", "保险公司"),
        _c("policy_type", "险种", ENUM, required=True, enum="policy_type"),
        _c("start_date", "起保日期", DATE, required=True),
        _c("end_date", "终保日期", DATE, required=True),
        _c("premium", "保费", AMOUNT),
        _c("sold_by_store", "本店出单", FLAG),
        _c("is_renewal", "续保", FLAG),
        _c("updated_at", "更新时间", TIMESTAMP, required=True),
    ),
)

CLAIMS = LandingTable(
    name="insurance_claims",
    source="insurance",
    file_name="claims.csv",
    key=("claim_no",),
    description="Insurance claims (理赔).",
    columns=(
        _c("claim_no", "理赔单号", required=True),
        _c("policy_no", "保单号"),
        _c("vin", "车架号", required=True),
        _c("insurer", "保险公司"),
        _c("accident_date", "出险日期", DATE, not_after_drop=True),
        _c("assigned_store_code", "指定维修门店"),
        _c("claim_amount", "理赔金额", AMOUNT),
        _c("status", "状态", ENUM, enum="claim_status"),
        _c("updated_at", "更新时间", TIMESTAMP, required=True),
    ),
)

SURVEY_RESPONSES = LandingTable(
    name="survey_responses",
    source="survey",
    file_name="responses.csv",
    key=("store_code", "response_id"),
    description="Lost-customer survey responses (流失客户回访).",
    columns=(
        _c("response_id", "回访编号", required=True),
        _c("store_code", "门店代码", required=True),
        _c("customer_id", "客户编号"),
        _c("vin", "车架号", required=True),
        _c("surveyed_at", "回访时间", TIMESTAMP, required=True),
        _c("method", "方式", ENUM, enum="survey_method"),
        _c("reached", "接通", FLAG, required=True),
        _c("current_mileage_km", "当前里程", INTEGER),
        _c("maintains_regularly", "定期保养", ENUM, enum="maintains_regularly"),
        _c("serviced_at", "维修去向", ENUM, enum="serviced_at"),
        _c("reasons", "原因", ENUM_LIST, enum="reason"),
        _c("comment", "备注"),
        _c("win_back_booked", "预约回厂", FLAG),
        _c("updated_at", "更新时间", TIMESTAMP, required=True),
    ),
)

CRM_CAMPAIGNS = LandingTable(
    name="crm_campaigns",
    source="crm",
    file_name="campaigns.csv",
    key=("store_code", "campaign_id"),
    description="Win-back campaigns and measures against loss reasons (招揽活动 / 整改措施).",
    columns=(
        _c("campaign_id", "活动编号", required=True),
        _c("store_code", "门店代码", required=True),
        _c("name", "活动名称"),
        _c("kind", "类型", ENUM, required=True, enum="campaign_kind"),
        _c("target_reason", "针对原因", ENUM, enum="reason"),
        _c("owner", "责任人"),
        # A campaign is planned ahead: its dates may lie after the drop.
        _c("start_date", "开始日期", DATE, required=True),
        _c("end_date", "结束日期", DATE, required=True),
        _c("cost", "费用", AMOUNT),
        _c("expected_returns", "预估回厂台数", INTEGER),
        _c("updated_at", "更新时间", TIMESTAMP, required=True),
    ),
)

CRM_CAMPAIGN_CONTACTS = LandingTable(
    name="crm_campaign_contacts",
    source="crm",
    file_name="campaign_contacts.csv",
    key=("store_code", "campaign_id", "vin"),
    description="Customers a campaign contacted (活动触达).",
    columns=(
        _c("campaign_id", "活动编号", required=True),
        _c("store_code", "门店代码", required=True),
        _c("vin", "车架号", required=True),
        _c("customer_id", "客户编号"),
        _c("contacted_at", "触达时间", TIMESTAMP, required=True),
        _c("channel", "渠道", ENUM, enum="contact_channel"),
        _c("reached", "接通", FLAG),
        _c("offer", "优惠内容"),
        _c("updated_at", "更新时间", TIMESTAMP, required=True),
    ),
)

LANDING_TABLES: tuple[LandingTable, ...] = (
    STORES,
    CUSTOMERS,
    VEHICLES,
    REPAIR_ORDERS,
    REPAIR_ORDER_LINES,
    POLICIES,
    CLAIMS,
    SURVEY_RESPONSES,
    CRM_CAMPAIGNS,
    CRM_CAMPAIGN_CONTACTS,
)

DROP_TABLES: tuple[LandingTable, ...] = tuple(t for t in LANDING_TABLES if t.partitioned)

TABLES_BY_NAME = {t.name: t for t in LANDING_TABLES}

# Load metadata carried by every raw row (SPEC section 3 / issue 2).
LOAD_METADATA_COLUMNS = (
    "_source_file",  # path relative to the landing root
    "_line_number",  # 1-based line in the file (the header is line 1)
    "_drop_date",  # business date of the drop folder (NULL for reference files)
    "_file_hash",  # sha256 of the file's bytes as delivered
    "_loaded_at",  # when this load ran (UTC)
)
