"""Small pools of realistic texts, product and page data (Chinese, GBK-encodable)."""

from __future__ import annotations

import numpy as np

MEMBER_TEXTS = np.array([
    "有三人位的吗", "多少钱", "什么时候发货", "这个颜色好看", "已下单", "可以上门量房吗", "👍", "收到",
    "还有优惠吗", "周末门店有活动吗", "求链接", "好的谢谢", "床垫有试睡吗", "能分期吗", "尺寸能定制吗",
    "我家客厅3米8放得下吗", "拼团还差几个人", "已邀请朋友进群", "发错了", "哈哈哈",
], dtype=object)
GROUP_WELCOME = "欢迎加入!本群每周二、五上新,群内专享价~"
BOT_TEXT = "【群公告】请勿发布广告,违者移出群聊"
CONTACT_WELCOME = "您好,我是您的专属家居顾问,有任何问题随时找我~"
CONTACT_REPLIES = np.array(["好的", "谢谢", "想了解一下沙发", "在吗", "收到"], dtype=object)
CONSULT_TEXTS = np.array(["想问下全屋定制怎么收费", "可以的,您方便留个电话吗?设计师联系您", "好的", "已为您预约,稍后联系"], dtype=object)

# sku, title, price (yuan), big-ticket?
PRODUCTS = (
    ("SF-3P-GRY", "三人位布艺沙发", 5999.0, True),
    ("SF-L-LTH", "L型真皮沙发", 12800.0, True),
    ("BD-18-OAK", "1.8米橡木床", 4999.0, True),
    ("MT-LTX-18", "乳胶床垫1.8米", 6999.0, True),
    ("WD-CUSTOM", "全屋定制衣柜(定金)", 2000.0, True),
    ("DT-6-WAL", "胡桃木餐桌六人", 3999.0, True),
    ("CUSH-01", "抱枕", 199.0, False),
    ("LAMP-FL", "落地灯", 399.0, False),
    ("RUG-160", "客厅地毯160x230", 899.0, False),
    ("VASE-CER", "陶瓷花瓶", 129.0, False),
    ("TBL-SIDE", "边几", 459.0, False),
)
LINK_TITLES = np.array(["三人位沙发 限时", "床垫试睡30晚", "全屋定制免费量房", "餐桌椅套装直降", "会员日 满5000减500"], dtype=object)
WEAPP_PAGES = np.array(["pages/product/detail?id=88", "pages/booking/measure", "pages/coupon/center", "pages/live/index"], dtype=object)
SURNAMES = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"), dtype=object)
TAGS = (("意向", "客厅沙发"), ("意向", "卧室床垫"), ("意向", "全屋定制"), ("阶段", "已量房"), ("来源", "门店"), ("来源", "线上"))
