"""Scoring tables of the 2021 handbook, kept as plain data.

Every table here is meant to be read side by side with
``shared/handbook/points-handbook-2021.txt``:

* ``EDUCATION``   — 第三篇 三、教育背景指标, 赋分规则表
* ``INNOVATION``  — 附件1 创新创业指标积分标准 (codes as in SCORING.md)
* ``EQUITY_FINANCING`` — 附件1 (三) 在国家高新技术企业或科技型中小企业持股
* ``HONOURS``     — 附件2 荣誉表彰指标积分标准
* ``DISTRICTS``   — 北京市 16 区 + 北京经济技术开发区 + 市本级, with the 城六区 flag
  (第三篇 四、职住区域指标: "在市本级社会保险经办机构缴纳社会保险费的, 视为就业地在城六区")

Nothing in this module computes anything; ``backoffice.scoring`` reads it.
"""

# --------------------------------------------------------------------------
# Insurance types, in the contract's tie-break order (SCORING.md rule 1).
# --------------------------------------------------------------------------
INSURANCE_TYPES = (
    ("pension", "养老保险"),
    ("medical", "医疗保险"),
    ("unemployment", "失业保险"),
    ("injury", "工伤保险"),
    ("maternity", "生育保险"),
)

# --------------------------------------------------------------------------
# Districts. value: (in 城六区?, name as printed)
# "城六区" = 东城区, 西城区, 朝阳区, 海淀区, 丰台区, 石景山区.
# 市本级 counts as 城六区 (handbook 职住区域 "视为就业地在城六区").
# 北京经济技术开发区 is outside (SCORING.md conventions).
# --------------------------------------------------------------------------
DISTRICTS = {
    "东城区": True,
    "西城区": True,
    "朝阳区": True,
    "海淀区": True,
    "丰台区": True,
    "石景山区": True,
    "门头沟区": False,
    "房山区": False,
    "通州区": False,
    "顺义区": False,
    "昌平区": False,
    "大兴区": False,
    "怀柔区": False,
    "平谷区": False,
    "密云区": False,
    "延庆区": False,
    "北京经济技术开发区": False,
    "市本级": True,
}

RESIDENCE_TYPES = {
    "own": "自有住所",
    "rental": "合法租赁住所",
    "dorm": "单位宿舍",
}

# --------------------------------------------------------------------------
# Education (教育背景). key: (level, degree); None = "——" in the handbook.
# value: (points, deduction window in years before the graduation month, label)
#
#   学历            学位   积分   按照赋分规则扣除社保实际缴纳及相应居住年限
#   大学专科(含高职) ——     10.5  自毕业时间起前3年
#   大学本科        ——     10.5  自毕业时间起前3年
#   ——              学士   10.5  自毕业时间起前3年
#   大学本科        学士   15    自毕业时间起前4年
#   硕士研究生      ——     15    自毕业时间起前4年
#   ——              硕士   15    自毕业时间起前4年
#   硕士研究生      硕士   26    自毕业时间起前3年
#   博士研究生      ——     26    自毕业时间起前3年
#   ——              博士   26    自毕业时间起前3年
#   博士研究生      博士   37    自毕业时间起前3年
#
# Pairings not in the table (e.g. junior_college/bachelor) score as the better
# of (level, None) and (None, degree) — SCORING.md rule 3.
# --------------------------------------------------------------------------
EDUCATION_LEVELS = {
    "junior_college": "大学专科(含高职)",
    "bachelor": "大学本科",
    "master": "硕士研究生",
    "doctor": "博士研究生",
}
EDUCATION_DEGREES = {
    "bachelor": "学士",
    "master": "硕士",
    "doctor": "博士",
}
EDUCATION = {
    ("junior_college", None): (10.5, 3),
    ("bachelor", None): (10.5, 3),
    (None, "bachelor"): (10.5, 3),
    ("bachelor", "bachelor"): (15, 4),
    ("master", None): (15, 4),
    (None, "master"): (15, 4),
    ("master", "master"): (26, 3),
    ("doctor", None): (26, 3),
    (None, "doctor"): (26, 3),
    ("doctor", "doctor"): (37, 3),
}

# --------------------------------------------------------------------------
# Innovation (创新创业), 附件1.
#
# INNOVATION[code] = (奖项名称, {grade: bands})
#   grade is None for awards without grades (e.g. worldskills, skills contests).
#   bands is a tuple of (rank_from, rank_to, points, 可以积分人员);
#   rank_from None means "every rank" (no rank needed).
# A rank outside every band scores 0 (SCORING.md).
# --------------------------------------------------------------------------
ALL = None  # rank_from/rank_to for "所有完成人 / 获奖人员"

INNOVATION = {
    # (一) 科技领域
    "national_natural_science": ("国家自然科学奖", {
        "first": ((ALL, ALL, 12, "一等奖 所有完成人"),),
        "second": ((1, 3, 12, "二等奖 核心完成人(第1-3完成人)"),
                   (4, 5, 10, "二等奖 重要完成人(第4-5完成人)")),
    }),
    "national_tech_invention": ("国家技术发明奖", {
        "first": ((ALL, ALL, 12, "一等奖 所有完成人"),),
        "second": ((1, 3, 12, "二等奖 核心完成人(第1-3完成人)"),
                   (4, 6, 10, "二等奖 重要完成人(第4-6完成人)")),
    }),
    "national_sci_tech_progress": ("国家科学技术进步奖", {
        "special": ((1, 15, 12, "特等奖 核心完成人(第1-15完成人)"),
                    (16, 30, 11, "特等奖 重要完成人(第16-30完成人)"),
                    (31, 50, 10, "特等奖 其他完成人(第31-50完成人)")),
        "first": ((1, 5, 12, "一等奖 核心完成人(第1-5完成人)"),
                  (6, 10, 11, "一等奖 重要完成人(第6-10完成人)"),
                  (11, 15, 10, "一等奖 其他完成人(第11-15完成人)")),
        "second": ((1, 3, 10, "二等奖 核心完成人(第1-3完成人)"),
                   (4, 6, 9, "二等奖 重要完成人(第4-6完成人)"),
                   (7, 10, 8, "二等奖 其他完成人(第7-10完成人)")),
    }),
    "beijing_sci_tech": ("北京市科学技术奖", {
        "zgc_contribution": ((ALL, ALL, 6, "突出贡献中关村奖 获奖者"),),
        "zgc_young": ((ALL, ALL, 6, "杰出青年中关村奖 获奖者"),),
        "major": ((1, 6, 6, "重大创新奖 核心完成人(第1-6完成人)"),
                  (7, 20, 5, "重大创新奖 重要完成人(第7-20完成人)")),
        "special": ((1, 12, 6, "特等奖 核心完成人(第1-12完成人)"),
                    (13, 30, 5, "特等奖 重要完成人(第13-30完成人)")),
        "first": ((1, 6, 6, "一等奖 核心完成人(第1-6完成人)"),
                  (7, 15, 5, "一等奖 重要完成人(第7-15完成人)")),
        "second": ((1, 4, 6, "二等奖 核心完成人(第1-4完成人)"),
                   (5, 10, 5, "二等奖 重要完成人(第5-10完成人)")),
        "third": ((1, 3, 5, "三等奖 核心完成人(第1-3完成人)"),
                  (4, 6, 4, "三等奖 重要完成人(第4-6完成人)")),
    }),
    # (一) 文化领域
    "five_one_project": ("精神文明建设“五个一工程”奖", {
        None: ((ALL, ALL, 12, "主创人员"),),
    }),
    # 中国新闻奖: the handbook row reads "特别奖、一等奖 ... 12分"; the 二等奖/三等奖
    # rows carry no score, and SCORING.md lists only special and first.
    "china_journalism": ("中国新闻奖", {
        "special": ((ALL, ALL, 12, "特别奖 获奖人员"),),
        "first": ((ALL, ALL, 12, "一等奖 获奖人员"),),
    }),
    "changjiang_taofen": ("长江韬奋奖", {
        None: ((ALL, ALL, 12, "获奖人员"),),
    }),
    "beijing_social_science": ("北京市哲学社会科学优秀成果奖", {
        "special": ((ALL, ALL, 6, "特等奖 获奖人员"),),
        "first": ((ALL, ALL, 6, "一等奖 获奖人员"),),
        "second": ((ALL, ALL, 4, "二等奖 获奖人员"),),
    }),
    "beijing_literature_art": ("北京市文学艺术奖", {
        None: ((ALL, ALL, 6, "主创人员"),),
    }),
    "capital_civilization": ("首都精神文明建设奖", {
        None: ((ALL, ALL, 6, "获奖人员"),),
    }),
    "beijing_journalism": ("北京新闻奖", {
        "first": ((ALL, ALL, 6, "一等奖 获奖人员"),),
        "second": ((ALL, ALL, 4, "二等奖 获奖人员"),),
        "third": ((ALL, ALL, 2, "三等奖 获奖人员"),),
    }),
    # (二) 创新创业大赛
    "china_innovation_contest": ("中国创新创业大赛行业总决赛", {
        "first": ((ALL, ALL, 12, "一等奖"),),
        "second": ((ALL, ALL, 9, "二等奖"),),
        "third": ((ALL, ALL, 6, "三等奖"),),
    }),
    "beijing_innovation_contest": ("中国创新创业大赛北京地区总决赛暨中国·北京创新创业大赛", {
        "first": ((ALL, ALL, 6, "一等奖"),),
        "second": ((ALL, ALL, 4, "二等奖"),),
        "third": ((ALL, ALL, 2, "三等奖"),),
    }),
    "worldskills": ("世界技能大赛", {
        None: ((ALL, ALL, 12, "获得优胜奖及以上奖牌的选手"),),
    }),
    "national_skills_contest": ("国家级一类职业技能竞赛", {
        None: ((1, 1, 12, "第1名"),
               (2, 3, 10, "第2-3名"),
               (4, 5, 8, "第4-5名"),
               (6, 7, 6, "第6-7名"),
               (8, 10, 4, "第8-10名")),
    }),
    "beijing_skills_contest": ("全市性市级一类职业技能竞赛", {
        None: ((1, 1, 6, "第1名"),
               (2, 3, 4, "第2-3名"),
               (4, 5, 3, "第4-5名"),
               (6, 7, 2, "第6-7名"),
               (8, 10, 1, "第8-10名")),
    }),
    "beijing_cultural_creativity": ("北京文化创意大赛", {
        "first": ((ALL, ALL, 6, "一等奖"),),
        "second": ((ALL, ALL, 4, "二等奖"),),
        "third": ((ALL, ALL, 3, "三等奖"),),
        "single": ((ALL, ALL, 2, "单项奖"),),
    }),
    "china_chuangyi": ("“中国创翼”创业创新大赛全国决赛", {
        "first": ((ALL, ALL, 12, "一等奖"),),
        "second": ((ALL, ALL, 9, "二等奖"),),
        "third": ((ALL, ALL, 6, "三等奖"),),
    }),
    "chuangye_beijing": ("“创业北京”创业创新大赛", {
        "first": ((ALL, ALL, 6, "一等奖"),),
        "second": ((ALL, ALL, 4, "二等奖"),),
        "third": ((ALL, ALL, 2, "三等奖"),),
    }),
}



def grade_label(award: str, grade: str) -> str:
    """附件1's words for one grade of one award: the first word of its rows' labels
    (一等奖, 重大创新奖, 突出贡献中关村奖, 特别奖…)."""
    _name, bands = INNOVATION[award]
    return bands[grade][0][3].split(" ")[0]


def grade_labels() -> dict[str, str]:
    """Every grade code with the words 附件1 uses for it; where awards word one grade
    differently (特等奖 / 特别奖) both are given."""
    labels: dict[str, list[str]] = {}
    for award, (_name, bands) in INNOVATION.items():
        for grade in bands:
            if grade is not None:
                words = labels.setdefault(grade, [])
                if grade_label(award, grade) not in words:
                    words.append(grade_label(award, grade))
    return {grade: "／".join(words) for grade, words in labels.items()}


# (三) 在国家高新技术企业或科技型中小企业持股: 企业近3年累计获得股权类现金融资.
# (minimum amount in yuan, points, label), highest first; below the last row: 0.
EQUITY_FINANCING_CODE = "equity_financing"
EQUITY_FINANCING_NAME = "在国家高新技术企业或科技型中小企业持股"
EQUITY_FINANCING = (
    (40_000_000, 6, "近3年累计获得4000万元(含)以上股权类现金融资"),
    (20_000_000, 4, "近3年累计获得2000万元(含)以上股权类现金融资"),
    (5_000_000, 2, "近3年累计获得500万元(含)~2000万元股权类现金融资"),
)

# --------------------------------------------------------------------------
# Honours (荣誉表彰), 附件2. Every title is worth 20; titles do not add up.
# --------------------------------------------------------------------------
HONOUR_POINTS = 20
HONOURS = {
    "national_model_worker": "省部级以上劳动模范: 全国劳动模范",
    "beijing_model_worker": "省部级以上劳动模范: 北京市劳动模范",
    "equivalent_model_worker": "省部级以上劳动模范: 享受同级劳模待遇的先进典型",
    "national_moral_model": "全国道德模范",
    "capital_moral_model": "首都道德模范",
    "national_heroic_model": "全国见义勇为英雄模范",
    "capital_heroic_citizen": "首都见义勇为好市民",
}
