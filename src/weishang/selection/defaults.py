"""The source's criteria for a micro-business product (二、项目选品): what a new brand starts with. The
brand changes the weights or adds its own in the console (选品标准)."""

# code, name, what to look for, weight, rule
DEFAULTS = [
    ("price", "价格 300 元以内", "微商代理与顾客收入普遍不高：零售价最好在 300 元以内", "3", "price"),
    ("audience", "目标人群", "女性、30 岁以下、三四线城市、月收入 5000 元以下的人群是否喜欢", "2", ""),
    ("effect", "效果立竿见影", "用了就能看到效果（如排毒、酵素、减肥类）", "3", ""),
    ("storage", "易于存储", "保质期长、不怕压、无需冷藏", "1", ""),
    ("shipping", "易于运输", "体积小、重量轻、不易破损，代理自己能发货", "1", ""),
    ("packaging", "包装好看易发圈", "包装设计好看，拍照发朋友圈有吸引力", "2", ""),
    ("margin", "毛利空间", "零售价与出厂价之间留给各级代理的空间", "2", "margin"),
    ("repeat", "复购率", "用完会再买（耗材、日用）", "2", ""),
]
