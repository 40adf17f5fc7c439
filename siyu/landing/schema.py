"""DDL of the raw layer: one table per landing source, plus the quarantine.

Raw tables keep each record as the export shaped it (top-level API fields as typed
columns, nested objects as JSON), plus lineage columns: the partition day `_dt`, the
`_file` and 1-based `_line` it came from and `_loaded_at`. PII (phones, names, message
text) lives here and nowhere downstream.
"""

from __future__ import annotations

LINEAGE_COLUMNS = """
    _dt date not null,
    _file varchar not null,
    _line bigint not null,
    _loaded_at timestamp not null"""

RAW_TABLES: dict[str, str] = {
    "tracking": f"""
        {LINEAGE_COLUMNS},
        event_id varchar not null,
        event varchar not null,
        time bigint not null,
        distinct_id varchar,
        identities json,
        properties json""",
    "wecom_contacts": f"""
        {LINEAGE_COLUMNS},
        external_userid varchar not null,
        external_contact json not null,
        follow_user json""",
    "wecom_groups": f"""
        {LINEAGE_COLUMNS},
        chat_id varchar not null,
        owner varchar,
        create_time bigint not null,
        group_chat json not null""",
    "wecom_messages": f"""
        {LINEAGE_COLUMNS},
        msgid varchar not null,
        action varchar not null,
        "from" varchar not null,
        tolist json,
        roomid varchar,
        msgtime bigint not null,
        msgtype varchar,
        message json not null""",
    "oa_followers": f"""
        {LINEAGE_COLUMNS},
        openid varchar not null,
        appid varchar,
        unionid varchar,
        subscribe integer not null,
        subscribe_time bigint not null,
        subscribe_scene varchar,
        qr_scene_str varchar,
        tagid_list json""",
    "orders": f"""
        {LINEAGE_COLUMNS},
        order_no varchar not null,
        status varchar not null,
        created_at timestamp not null,
        paid_at timestamp,
        updated_at timestamp not null,
        buyer_phone varchar,
        buyer_openid varchar,
        buyer_appid varchar,
        buyer_unionid varchar,
        platform varchar not null,
        store_id varchar,
        guide_userid varchar,
        group_id varchar,
        campaign_id varchar,
        total_amount decimal(18,2),
        discount_amount decimal(18,2),
        paid_amount decimal(18,2) not null,
        refund_amount decimal(18,2) not null,
        items json""",
    "campaign_costs": f"""
        {LINEAGE_COLUMNS},
        dt date not null,
        campaign_id varchar not null,
        channel varchar not null,
        cost decimal(18,2) not null""",
}

QUARANTINE_DDL = """
    source varchar not null,
    file varchar not null,
    line bigint,
    reason varchar not null,
    raw_text varchar,
    loaded_at timestamp not null,
    _dt date"""

# Lists of the contract's enumerations (contracts §3 and §5), shared by loader and suites.
TRACKING_EVENTS = (
    "content_impression", "push_delivered", "moments_impression", "live_view",
    "push_opened", "article_read", "link_click", "miniprogram_visit", "product_view", "share",
    "coupon_claim", "form_submit", "appointment_booked", "consultation",
)
CHANNELS = (
    "oa_subscription", "oa_service", "mini_program", "wecom_1v1", "wecom_moments",
    "wecom_group", "video_channel", "douyin_kol", "xiaohongshu_kol", "ads", "live", "store", "sms",
)
ORDER_STATUSES = (
    "WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS", "TRADE_SUCCESS", "TRADE_CLOSED",
)
ORDER_PLATFORMS = ("mini_program", "tmall", "jd", "store", "youzan")
MESSAGE_ACTIONS = ("send", "recall")
# Sane range for any record timestamp: not before 2010, not more than a year after its partition day.
MIN_TIMESTAMP = "2010-01-01"
MAX_DAYS_AFTER_PARTITION = 365

SOURCES = tuple(RAW_TABLES)
